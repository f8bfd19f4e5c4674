import test, { type Assertion } from 'brittle'
import fs from 'node:fs'
import { createHash } from 'node:crypto'
import { createNet, type Net } from './helpers/net.ts'
import { Services } from '../core/services/services.ts'
import { GrowrError } from '../core/errors.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import type { TrustlineSync, TrustlineSyncOptions } from '../core/credit/sync.ts'
import { TrustlineStore } from '../core/credit/store.ts'
import type Hyperbee from 'hyperbee'
import * as m from '../books/trustline/machine.ts'
import { domainSign, stateHash } from '../books/trustline/encoding.ts'
import type { Change, Entry, Proposal } from '../books/trustline/types.ts'
import { until as waitUntil } from './helpers/until.ts'

/** A testnet of n nodes, each with Services (DID announced, no ads) and a clock it can skew. */
async function cluster (t: Assertion, n: number, policy?: Array<TrustlineSyncOptions['policy']>, payments = true): Promise<{ net: Net; services: Services[]; skew: number[]; start (i: number): Promise<Services>; stop (i: number): Promise<void>; tl (i: number): TrustlineSync; did (i: number): DidKey }> {
  const net = await createNet(t, n)
  const services: Services[] = []
  const skew = new Array(n).fill(0)
  const open = async (i: number): Promise<Services> => {
    const s = new Services(net.nodes[i], { announce: true, ads: false, nostr: false, statusTimeoutMs: 5000, now: () => Date.now() + skew[i], trustlines: { connectTimeoutMs: 3000, policy: policy?.[i] }, ...(payments ? {} : { payments: false as const }) })
    await s.ready()
    services[i] = s
    return s
  }
  for (let i = 0; i < n; i++) await open(i)
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  return {
    net,
    services,
    skew,
    async start (i) { await net.restart(i); return await open(i) },
    async stop (i) { await services[i].close(); await net.stop(i) },
    tl: (i) => services[i].trustlines as TrustlineSync,
    did: (i) => net.nodes[i].did as DidKey
  }
}

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> => await waitUntil(what, check, ms, 100)

async function rejects (t: Assertion, p: Promise<unknown>, code: string, words: RegExp, msg: string): Promise<void> {
  try {
    await p
    t.fail(`${msg}: it went through`)
  } catch (err) {
    t.is((err as GrowrError).code, code, `${msg} (${code})`)
    t.ok(words.test((err as Error).message), `${msg}: "${(err as Error).message}"`)
  }
}

/** Both copies: same length, same head, same signed entries. */
async function converged (t: Assertion, x: TrustlineSync, y: TrustlineSync, id: string, msg: string): Promise<void> {
  const vx = await x.show(id, { history: true })
  const vy = await y.show(id, { history: true })
  t.is(vx.head, vy.head, `${msg}: same head`)
  t.alike(vx.history, vy.history, `${msg}: identical signed chains (${vx.history?.length} updates)`)
  t.ok(m.replay(vx.terms, vx.history ?? []).ok, `${msg}: the chain replays`)
}

test('trustline sync - proposals, acceptances, rejections and expiries converge with one party offline in between', { timeout: 90_000 }, async (t) => {
  const c = await cluster(t, 2)
  const alice = c.tl(0)
  let bob = c.tl(1)

  // Alice opens a line and offers Bob 100.00 of credit: a raise, so Bob must countersign
  const opened = await alice.open(c.did(1), 'CAD', '10000')
  const id = opened.id
  t.ok(opened.proposal, 'the opening limit is a proposal')
  await until('bob receives the proposal', async () => (await bob.list()).some((v) => v.id === id && v.proposals.some((p) => p.status === 'pending')))
  await bob.accept(id, opened.proposal as string)
  await converged(t, alice, bob, id, 'after the first acceptance')
  t.is((await bob.show(id)).myAvailable, '10000', 'bob may now owe alice 100.00')

  // Bob pays Alice 30.00; Alice accepts. Bob asks for 500.00: Alice's machine refuses locally
  const pay = await bob.propose(id, { type: 'payment', from: (await bob.show(id)).me, amount: '3000', memo: 'firewood' })
  t.is(pay.sent, true, 'sent at once while both are online')
  await alice.accept(id, pay.proposal)
  await rejects(t, bob.propose(id, { type: 'payment', from: (await bob.show(id)).me, amount: '50000' }), 'OP_REJECTED', /available credit/, 'a payment beyond the limit is refused before it leaves')

  // a proposal Alice rejects is recorded, signed, on both sides
  const more = await bob.propose(id, { type: 'payment', from: (await bob.show(id)).me, amount: '500' })
  await alice.reject(id, more.proposal, 'not this week')
  const bobSees = (await bob.show(id)).proposals.find((p) => p.hash === more.proposal)
  t.is(bobSees?.status, 'rejected', 'bob holds the rejection')
  t.is(bobSees?.rejection?.reason, 'not this week')
  await rejects(t, alice.accept(id, more.proposal), 'OP_REJECTED', /rejected/, 'a rejected proposal cannot be accepted afterwards')
  await converged(t, alice, bob, id, 'after a payment and a rejection')

  // Bob goes offline; Alice cuts the credit she extends (unilateral, immediate) and proposes two
  // changes: one that expires in 1.5 s, one that lasts an hour
  await c.stop(1)
  const me = (await alice.show(id)).me
  const cut = await alice.propose(id, { type: 'limit', side: me === 'A' ? 'BtoA' : 'AtoB', amount: '8000' })
  t.is(cut.status, 'applied', 'lowering the credit you extend needs nobody')
  const short = await alice.propose(id, { type: 'payment', from: me === 'A' ? 'B' : 'A', amount: '1000', memo: 'pay me soon' }, { expiresInMs: 1500 })
  const long = await alice.propose(id, { type: 'payment', from: me === 'A' ? 'B' : 'A', amount: '1000', memo: 'pay me' }, { expiresInMs: 10 * 3600_000 })
  t.is(short.sent, false, 'bob is offline: the proposal waits')
  t.is(long.sent, false)

  // Bob comes back: he catches up on the cut and receives the proposals still alive
  await c.start(1)
  bob = c.tl(1)
  await until('bob catches up on the cut', async () => (await bob.show(id)).head === (await alice.show(id)).head)
  await until('bob receives the live proposal', async () => (await bob.show(id)).proposals.some((p) => p.hash === long.proposal))
  // the short one: alice sends only live proposals, and past its expiry by bob's clock it is void
  c.skew[1] = 2000
  try {
    await bob.accept(id, short.proposal)
    t.fail('the short proposal was countersigned after its expiry')
  } catch (err) {
    t.ok(['NOT_FOUND', 'OP_REJECTED'].includes((err as GrowrError).code), `the expired proposal cannot be countersigned: ${(err as Error).message}`)
  }
  c.skew[1] = 0
  await bob.accept(id, long.proposal)
  await converged(t, alice, bob, id, 'after bob returned and accepted')
  t.is((await alice.show(id)).myBalance, '-4000', 'bob owes alice 40.00')

  // a proposal Bob sits on past its expiry is void for ever: his own node refuses to countersign
  const late = await alice.propose(id, { type: 'payment', from: me === 'A' ? 'B' : 'A', amount: '100' }, { expiresInMs: 1000 })
  await until('bob receives it', async () => (await bob.show(id)).proposals.some((p) => p.hash === late.proposal))
  c.skew[1] = 5000
  await rejects(t, bob.accept(id, late.proposal), 'OP_REJECTED', /expired/, 'countersigning after expiry')
  c.skew[1] = 0
  c.skew[0] = 5000
  t.is((await alice.show(id)).proposals.find((p) => p.hash === late.proposal)?.expired, true, 'alice shows it expired')
  c.skew[0] = 0
  await converged(t, alice, bob, id, 'the expired proposal changed nothing')
})

test('trustline sync - a party restored from an old backup catches up and loses nothing its partner has', { timeout: 90_000 }, async (t) => {
  const c = await cluster(t, 2)
  const alice = c.tl(0)
  const opened = await alice.open(c.did(1), 'CAD', '20000')
  const id = opened.id
  await until('bob receives', async () => (await c.tl(1).list()).some((v) => v.id === id && v.proposals.length > 0))
  await c.tl(1).accept(id, opened.proposal as string)

  // the backup: a copy of Bob's whole storage now
  await c.stop(1)
  const backup = c.net.dirs[1] + '-backup'
  fs.cpSync(c.net.dirs[1], backup, { recursive: true })
  t.teardown(() => fs.rmSync(backup, { recursive: true, force: true }))
  await c.start(1)

  // more history after the backup
  const bobMe = (await c.tl(1).show(id)).me
  for (const amount of ['1000', '2000', '3000']) {
    const p = await c.tl(1).propose(id, { type: 'payment', from: bobMe, amount })
    await alice.accept(id, p.proposal)
  }
  const full = await alice.show(id, { history: true })
  t.is(full.history?.length, 4, 'four updates after opening')

  // Bob loses his disk and restores the old copy
  await c.stop(1)
  fs.rmSync(c.net.dirs[1], { recursive: true, force: true })
  fs.cpSync(backup, c.net.dirs[1], { recursive: true })
  // Corestore pins its storage to the file's inode and xattr (device-file): a plain file copy is
  // refused as "moved unsafely". A restore drops that pin, as an operator restoring a disk would.
  fs.rmSync(`${c.net.dirs[1]}/corestore/CORESTORE`, { force: true })
  // the copy is old: opened alone (no network), it holds only the opening update
  const offline = await c.net.restart(1)
  const old = await new TrustlineStore(offline.local as Hyperbee).load(id)
  t.is(old?.entries.length, 1, 'the restored copy has 1 update, its partner 4')
  await c.start(1)
  const restored = c.tl(1)
  await until('the restored party catches up', async () => (await restored.show(id)).head === full.head)
  await converged(t, alice, restored, id, 'after restore')
  t.is((await restored.show(id)).myBalance, '6000', 'bob sees the 60.00 he paid after his backup')
})

test('trustline sync - hostile peers: forged, replayed, out-of-order and expired countersignatures refused; a third party cannot propose', { timeout: 90_000 }, async (t) => {
  const c = await cluster(t, 3)
  const alice = c.tl(0)
  const bob = c.tl(1)
  const opened = await alice.open(c.did(1), 'CAD', '10000')
  const id = opened.id
  await until('bob receives', async () => (await bob.list()).some((v) => v.id === id && v.proposals.length > 0))
  await bob.accept(id, opened.proposal as string)
  const view = await alice.show(id, { history: true })
  const terms = view.terms
  const aliceSide = view.me
  const bobSide = aliceSide === 'A' ? 'B' : 'A'
  const bobKey = c.net.nodes[1].identity!.secretKey
  const eveKey = c.net.nodes[2].identity!.secretKey
  const bobRpc = c.services[1].rpc!
  const eveRpc = c.services[2].rpc!
  const state0 = (await alice.store.load(id))!.state

  // Alice proposes a payment request that expires in 2 s; Bob (hostile) will answer by hand
  const req = await alice.propose(id, { type: 'payment', from: bobSide, amount: '700' }, { expiresInMs: 2000 })
  const rec = (await alice.store.proposal(id, req.proposal))!
  const p: Proposal = rec.entry.proposal
  const countersign = (at: number, key: Uint8Array, proposal: Proposal = p, sig = rec.entry.sig): Entry => {
    const acceptance = { v: 1 as const, line: id, seq: proposal.seq, proposal: m.proposalHash(proposal), state: proposal.state, at }
    return { proposal, sig, accept: { acceptance, sig: domainSign('accept', acceptance, key) } }
  }
  const sign = async (entry: unknown, rpc = bobRpc, did = c.did(0)): Promise<unknown> => await rpc.request(did, 'trustline/sign', { line: id, entry }, { timeoutMs: 10_000 })

  const hostile: Array<[string, Entry, RegExp]> = [
    ['a forged countersignature (random bytes)', { ...countersign(p.at + 10, bobKey), accept: { acceptance: countersign(p.at + 10, bobKey).accept!.acceptance, sig: 'ab'.repeat(64) } }, /does not hold/],
    ['a countersignature signed by a third party\'s key', countersign(p.at + 10, eveKey), /does not hold/],
    ['a countersignature dated after the expiry', countersign(p.expires + 1, bobKey), /expired/],
    ['a countersignature dated before the proposal', countersign(p.at - 1, bobKey), /before the proposal/],
    ['a proposal altered to skip a seq', countersign(p.at + 10, bobKey, { ...p, seq: p.seq + 1 }), /signature/]
  ]
  for (const [name, entry, words] of hostile) {
    t.absent(m.apply(state0, entry).ok, `the pure machine refuses ${name}`)
    await rejects(t, sign(entry), 'OP_REJECTED', words, `over rpc: ${name}`)
  }
  t.is((await alice.show(id)).head, stateHash(state0), 'nothing hostile changed alice\'s state')

  // a countersignature of another proposal replayed onto this one
  const other = m.propose(state0, { change: { type: 'payment', from: bobSide, amount: '1' }, proposer: aliceSide, at: p.at, expires: p.expires }, c.net.nodes[0].identity!.secretKey)
  t.ok(other.ok)
  const otherSigned = countersign(p.at + 10, bobKey, (other as { entry: Entry }).entry.proposal)
  const spliced = { ...countersign(p.at + 10, bobKey), accept: otherSigned.accept }
  t.absent(m.apply(state0, spliced).ok, 'the pure machine refuses a spliced countersignature')
  await rejects(t, sign(spliced), 'OP_REJECTED', /replayed|another/, 'over rpc: a countersignature replayed from another proposal')

  // the honest countersignature applies; the same message again is a replay
  const honest = countersign(p.at + 10, bobKey)
  await sign(honest)
  t.is((await alice.show(id)).state.seq, 2, 'the honest countersignature applied')
  await rejects(t, sign(honest), 'OP_REJECTED', /replayed/, 'over rpc: the same countersignature again')
  t.is((await alice.show(id)).state.seq, 2, 'still seq 2')
  // an alice proposal for seq 2 that lost: countersigned now, it is out of order
  const stale = countersign(p.at + 20, bobKey, (other as { entry: Entry }).entry.proposal, (other as { entry: Entry }).entry.sig)
  t.ok(m.apply(state0, stale).ok, 'it would have applied on the old state')
  t.absent(m.apply((await alice.store.load(id))!.state, stale).ok, 'the pure machine refuses it on the current state')
  await rejects(t, sign(stale), 'OP_REJECTED', /out of order/, 'over rpc: an out-of-order countersignature')
  // bob's own proposals that skip a seq
  const cur = (await alice.store.load(id))!.state
  const skipped = { v: 1 as const, line: id, seq: cur.seq + 2, prev: stateHash(cur), change: { type: 'payment' as const, from: bobSide, amount: '1' }, proposer: bobSide, at: Date.now(), expires: Date.now() + 60_000, state: '0'.repeat(64) }
  await rejects(t, bobRpc.request(c.did(0), 'trustline/propose', { terms, entry: { proposal: skipped, sig: domainSign('proposal', skipped, bobKey) } }, { timeoutMs: 10_000 }), 'OP_REJECTED', /out of order/, 'over rpc: a proposal that skips a seq')

  // Eve, a third party, proposes on Alice and Bob's trustline, countersigns, and asks for its copy
  const eveProposal = m.propose((await alice.store.load(id))!.state, { change: { type: 'payment', from: aliceSide, amount: '1' }, proposer: bobSide, at: Date.now(), expires: Date.now() + 60_000 }, eveKey)
  t.ok(eveProposal.ok, 'eve can build a proposal in bob\'s name')
  t.absent(m.apply((await alice.store.load(id))!.state, (eveProposal as { entry: Entry }).entry).ok, 'the pure machine refuses it: not signed by bob')
  await eveRpc.connect(c.did(0), { timeoutMs: 10_000 })
  await rejects(t, eveRpc.request(c.did(0), 'trustline/propose', { terms, entry: (eveProposal as { entry: Entry }).entry }, { timeoutMs: 10_000 }), 'OP_REJECTED', /only the two parties/, 'eve proposes on the trustline')
  await rejects(t, sign(honest, eveRpc), 'OP_REJECTED', /only the partner/, 'eve countersigns')
  await rejects(t, eveRpc.request(c.did(0), 'trustline/sync', { line: id, from: 0 }, { timeoutMs: 10_000 }), 'NOT_FOUND', /no such trustline/, 'eve asks for the chain')
  // Bob signing a proposal in his own name but sent as if from alice's side: the named proposer must be the caller
  const forgedSide = { ...p, proposer: aliceSide }
  await rejects(t, bobRpc.request(c.did(0), 'trustline/propose', { terms, entry: { proposal: forgedSide, sig: domainSign('proposal', forgedSide, bobKey) } }, { timeoutMs: 10_000 }), 'OP_REJECTED', /proposer|signature|out of order/, 'bob proposes in alice\'s name')
  // the countersignature was made with Bob's key outside his node: his node learns it by pulling
  const pulled = await bob.pull(id)
  t.ok(pulled.changed, 'bob\'s node takes the entry from alice\'s signed copy')
  await converged(t, alice, bob, id, 'after the hostile exchange')
})

test('trustline sync - a policy countersigns without a user (as multi-hop payments need) and every change is announced', { timeout: 60_000 }, async (t) => {
  // Bob's node takes every change that only raises what he is owed or offers him credit; it refuses the rest
  const bobPolicy: TrustlineSyncOptions['policy'] = (state, p) => {
    const bobSide = p.proposer === 'A' ? 'B' : 'A'
    if (p.change.type === 'limit' && p.change.side === (bobSide === 'A' ? 'AtoB' : 'BtoA')) return 'accept'
    if (p.change.type === 'payment' && p.change.from !== bobSide) return 'accept'
    return 'reject'
  }
  const c = await cluster(t, 2, [undefined, bobPolicy])
  const alice = c.tl(0)
  const updates: string[] = []
  alice.on('update', (id: string) => updates.push(id))
  const { id } = await alice.open(c.did(1), 'CAD', '5000')
  await until('bob\'s policy accepted the credit', async () => (await alice.show(id)).state.seq === 1)
  const me = (await alice.show(id)).me
  const bobSide = me === 'A' ? 'B' : 'A'
  // Bob offers nothing to Alice, so Alice cannot pay: a request that Bob pays her is refused by his policy
  const ask = await alice.propose(id, { type: 'payment', from: bobSide, amount: '100' })
  await until('bob\'s policy rejected the request', async () => (await alice.show(id)).proposals.find((p) => p.hash === ask.proposal)?.status === 'rejected')
  t.is((await alice.show(id)).proposals.find((p) => p.hash === ask.proposal)?.rejection?.reason, 'refused by policy')
  t.ok(updates.includes(id), 'alice\'s node announced the changes')
  await converged(t, alice, c.tl(1), id, 'policy-driven')
})

test('trustline sync - hostile partner: future-dated proposals, late settles, settle starved by adds, sync flood, refused-proposal flood', { timeout: 90_000 }, async (t) => {
  // no payments service: its policy would countersign htlc changes before the test's hand does
  const c = await cluster(t, 2, undefined, false)
  const alice = c.tl(0)
  const bob = c.tl(1)
  const opened = await alice.open(c.did(1), 'CAD', '10000')
  const id = opened.id
  await until('bob receives', async () => (await bob.list()).some((v) => v.id === id && v.proposals.length > 0))
  await bob.accept(id, opened.proposal as string)
  await until('alice holds seq 1', async () => (await alice.show(id)).state.seq === 1)
  const terms = (await alice.show(id)).terms
  const aliceSide = (await alice.show(id)).me
  const bobSide = aliceSide === 'A' ? 'B' : 'A'
  const bobKey = c.net.nodes[1].identity!.secretKey
  const bobRpc = c.services[1].rpc!
  const head = async () => (await alice.store.load(id))!.state
  const send = async (change: Change, at: number): Promise<unknown> => {
    const p = m.propose(await head(), { change, proposer: bobSide, at, expires: at + 60_000 }, bobKey)
    if (!p.ok) throw new Error(p.reason)
    return await bobRpc.request(c.did(0), 'trustline/propose', { terms, entry: p.entry }, { timeoutMs: 10_000 })
  }

  // 1. a proposal dated a minute ahead: refused on receipt
  await rejects(t, send({ type: 'payment', from: bobSide, amount: '1' }, Date.now() + 60_000), 'OP_REJECTED', /ahead of our clock/, 'a proposal dated 60 s ahead')
  // one dated 1.5 s ahead (within the skew) is countersigned only once alice's clock reached it
  const soon = Date.now() + 1500
  await send({ type: 'payment', from: bobSide, amount: '2' }, soon)
  const rec = (await alice.show(id)).proposals.find((p) => p.status === 'pending' && p.dir === 'in')!
  await alice.accept(id, rec.hash)
  const signedAt = Date.now()
  const last = (await alice.store.load(id))!.entries.at(-1)!
  t.ok(last.accept!.acceptance.at >= soon && signedAt >= soon, `countersigned at alice's own time (${last.accept!.acceptance.at} >= ${soon})`)

  // 5. bob settles an htlc alice owes him: alice refuses to countersign once it expired by her clock
  const preimage = '33'.repeat(32)
  const hash = createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex')
  const add = await alice.propose(id, { type: 'htlc/add', id: 'h1', hash, amount: '100', from: bobSide, expires: Date.now() + 600_000 })
  await until('bob holds the add', async () => (await bob.show(id)).proposals.some((p) => p.hash === add.proposal))
  await bob.accept(id, add.proposal)
  await until('alice holds h1', async () => (await head()).htlcs.length === 1)
  // bob pays h1 (from bob): alice is owed it and settles; bob (hostile) answers with an add at the same seq
  const settle = await alice.propose(id, { type: 'htlc/settle', id: 'h1', preimage }, { expiresInMs: 30_000 })
  await send({ type: 'htlc/add', id: 'x1', hash, amount: '1', from: aliceSide, expires: Date.now() + 600_000 }, Date.now())
  const theirs = (await alice.show(id)).proposals.find((p) => p.dir === 'in' && p.status === 'pending')!
  await rejects(t, alice.accept(id, theirs.hash), 'OP_REJECTED', /goes first/, '4. alice does not countersign an add at the seq of her pending settle')
  await until('bob holds the settle', async () => (await bob.show(id)).proposals.some((p) => p.hash === settle.proposal))
  await bob.accept(id, settle.proposal)
  await until('the settle is in alice\'s chain', async () => (await head()).htlcs.length === 0)
  t.pass('the settle took effect; the partner could not starve it')

  // 5. an htlc alice pays, expiring in 1 s: bob proposes its settle in time, alice countersigns too late
  const add2 = await bob.propose(id, { type: 'htlc/add', id: 'h2', hash, amount: '50', from: aliceSide, expires: Date.now() + 1000 })
  await until('alice holds add2', async () => (await alice.show(id)).proposals.some((p) => p.hash === add2.proposal))
  await alice.accept(id, add2.proposal)
  await until('bob holds h2', async () => ((await bob.store.load(id))!.state.htlcs.length === 1))
  const s2 = await bob.propose(id, { type: 'htlc/settle', id: 'h2', preimage }, { expiresInMs: 60_000 })
  await until('alice holds the settle', async () => (await alice.show(id)).proposals.some((p) => p.hash === s2.proposal))
  await new Promise((resolve) => setTimeout(resolve, 1200))
  await rejects(t, alice.accept(id, s2.proposal), 'OP_REJECTED', /expired by our clock/, 'a settle of an htlc alice pays, countersigned after its expiry')

  // 6. bob claims a chain of a billion entries and floods announces: one pull at a time, bounded
  let requests = 0
  const real = (await bob.store.load(id))!.entries
  bobRpc.respond('trustline/sync', async () => {
    requests++
    await new Promise((resolve) => setTimeout(resolve, 50))
    return { terms, length: 1_000_000_000, entries: Array.from({ length: 400 }, (_, i) => real[i % real.length]), rejections: [], pending: [] }
  })
  await Promise.all(Array.from({ length: 20 }, async () => await bobRpc.request(c.did(0), 'trustline/announce', { line: id, seq: 1, head: 'f'.repeat(64) }, { timeoutMs: 10_000 })))
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.ok(requests <= 2, `20 announces made ${requests} sync requests (one pull at a time, one more queued)`)
  t.ok(requests >= 1, 'alice did pull')
  t.ok((await head()).seq >= 1, 'alice\'s chain is intact')

  // 8. refused proposals count: a flood of proposals alice's user rejects stops at the hourly cap
  const store = alice.store
  const base = (await store.proposals(id)).length
  const cap = 500
  for (let i = 0; i < cap; i++) {
    const rec = TrustlineStore.record('in', (m.propose(await head(), { change: { type: 'payment', from: bobSide, amount: String(i + 1) }, proposer: bobSide, at: Date.now(), expires: Date.now() + 60_000 }, bobKey) as { entry: Entry }).entry, Date.now())
    await store.putProposal(id, { ...rec, status: 'rejected' })
  }
  await rejects(t, send({ type: 'payment', from: bobSide, amount: '999' }, Date.now()), 'OP_REJECTED', /too many proposals refused/, 'one more after 500 refused this hour')
  const pruned = await store.prune(id, Date.now() + 1)
  t.ok(pruned >= cap, `rejected and superseded records are pruned by age (${pruned})`)
  t.ok((await store.proposals(id)).length <= base, 'the store is back to its size')
  t.ok(await send({ type: 'payment', from: bobSide, amount: '998' }, Date.now()), 'after pruning the partner may propose again')
})
