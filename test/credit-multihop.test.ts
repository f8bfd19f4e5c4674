import test, { type Assertion } from 'brittle'
import b4a from 'b4a'
import { randomBytes, createHash } from 'node:crypto'
import { createNet } from './helpers/net.ts'
import { Services } from '../core/services/services.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import type { TrustlineSync } from '../core/credit/sync.ts'
import type { CreditRelay } from '../core/credit/relay.ts'
import type { PeerRpc } from '../core/network/peer-rpc.ts'
import { routesFrom, type CheckedRoute } from '../core/credit/relay.ts'
import { CreditPayments, REFUSED, FORWARD_METHOD, buildPlan, checkPlan, htlcIdOf, planId, checkInvoice, type Attempt } from '../core/credit/payment.ts'
import { available, replay, sideOf } from '../books/trustline/machine.ts'
import type { TrustlineState } from '../books/trustline/types.ts'
import { until as waitUntil } from './helpers/until.ts'

// Six parties in a chain 0 -> 1 -> 2 -> 3 -> 4 -> 5 (each extends credit to the one before it),
// node 6 runs the relay. Short expiries and hold times so that a test sees them pass.
const HOLD = 400
const PAY = { holdMs: HOLD, minDeltaMs: 1000, minFinalMs: 1000, hopDeltaMs: 1500, finalMs: 2500, signTimeoutMs: 3000 }
const LIMITS = [1_000_000n, 50_000n, 30_000n, 40_000n, 60_000n]
const CAP = 45_000n // node 1's cap per payment: lines 0-1 and 1-2 announce it

interface Chain {
  services: Services[]
  did: (i: number) => DidKey
  tl: (i: number) => TrustlineSync
  pay: (i: number) => CreditPayments
  rpc: (i: number) => PeerRpc
  lines: string[]
  relay: DidKey
  stop: (i: number) => Promise<void>
}

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> => await waitUntil(what, check, ms, 50)

async function chain (t: Assertion): Promise<Chain> {
  const net = await createNet(t, 7)
  const services: Services[] = []
  for (let i = 0; i < 7; i++) {
    const s = new Services(net.nodes[i], { announce: true, ads: false, nostr: false, relay: i === 6, trustlines: { connectTimeoutMs: 3000 }, payments: { ...PAY, cap: i === 1 ? CAP : null } })
    await s.ready()
    services.push(s)
  }
  const stopped = new Set<number>()
  t.teardown(async () => { for (let i = 6; i >= 0; i--) if (!stopped.has(i)) await services[i].close() }, { order: -Infinity + 1 })
  const did = (i: number) => net.nodes[i].did as DidKey
  const tl = (i: number) => services[i].trustlines as TrustlineSync
  const lines: string[] = []
  for (let i = 0; i < 5; i++) {
    // i + 1 extends credit to i: i may owe i + 1 up to the limit, so payments flow 0 -> 5
    const o = await tl(i + 1).open(did(i), 'CAD', LIMITS[i])
    await until(`party ${i} holds the offer`, async () => (await tl(i).store.proposal(o.id, o.proposal as string)) !== null)
    await tl(i).accept(o.id, o.proposal as string)
    await until(`line ${i} countersigned on both sides`, async () => (await tl(i + 1).show(o.id)).head === (await tl(i).show(o.id)).head)
    lines.push(o.id)
  }
  for (let i = 0; i < 5; i++) {
    const r = await (services[i].payments as CreditPayments).announce(lines[i], { relay: did(6) })
    t.ok(r.stored, `line ${i}-${i + 1} announced to the relay, signed by both${r.announcement.cap === null ? '' : `, cap ${r.announcement.cap}`}`)
  }
  return {
    services,
    did,
    tl,
    pay: (i) => services[i].payments as CreditPayments,
    rpc: (i) => services[i].rpc as PeerRpc,
    lines,
    relay: did(6),
    async stop (i) { stopped.add(i); await services[i].close(); await net.stop(i) }
  }
}

/** Both parties' copies of a line: identical signed chains that replay, returned as the state. */
async function agreed (t: Assertion, c: Chain, i: number, msg: string): Promise<TrustlineState> {
  const x = await c.tl(i).store.load(c.lines[i])
  const y = await c.tl(i + 1).store.load(c.lines[i])
  if (!x || !y) throw new Error('line missing')
  t.alike(y.entries, x.entries, `${msg}: line ${i}-${i + 1} holds the same signed chain on both sides (${x.entries.length} updates)`)
  t.ok(replay(x.terms, x.entries).ok, `${msg}: line ${i}-${i + 1} replays`)
  return x.state
}

/** What `i` owes `i + 1` on line i, from the state. */
function owed (c: Chain, s: TrustlineState, i: number): bigint {
  return sideOf(s, c.did(i)) === 'A' ? s.balance : -s.balance
}

test('credit multihop - a 5-hop payment commits on every hop; hostile hops, probes, a refusing hop and an offline hop move nothing', { timeout: 120_000 }, async (t) => {
  const c = await chain(t)
  const route = async (amount: bigint): Promise<CheckedRoute> => {
    const rs = await routesFrom(c.rpc(0), c.relay, { from: c.did(0), to: c.did(5), asset: 'CAD', amount, now: Date.now(), timeoutMs: 10_000 })
    if (rs.length !== 1) throw new Error(`expected one route, got ${rs.length}`)
    return rs[0]
  }

  // ---- a 5-hop payment commits on every hop ----
  const invoice = await c.pay(5).invoice({ amount: 12_345n, asset: 'CAD' })
  t.ok(checkInvoice(invoice, { now: Date.now() }).ok, 'the payee signed its invoice')
  const t0 = Date.now()
  const paid = await c.pay(0).pay({ invoice, relay: c.relay })
  t.comment(`5-hop commit took ${Date.now() - t0} ms`)
  t.is(paid.status, 'settled', '5-hop payment settled')
  t.is(paid.attempts[0].plan.hops.length, 5, 'over 5 hops')
  t.is(createHash('sha256').update(b4a.from(paid.preimage as string, 'hex')).digest('hex'), invoice.hash, 'the payer holds the preimage: proof of payment')
  t.is((await c.pay(5).invoiceStatus(invoice.hash))?.status, 'paid', 'the payee marked the invoice paid')
  for (let i = 0; i < 5; i++) {
    await until(`line ${i} settled on both sides`, async () => (await c.tl(i).show(c.lines[i])).head === (await c.tl(i + 1).show(c.lines[i])).head && (await c.tl(i).store.load(c.lines[i]))?.state.htlcs.length === 0)
    const s = await agreed(t, c, i, 'after the payment')
    t.is(owed(c, s, i), 12_345n, `line ${i}-${i + 1}: ${i} owes ${i + 1} the 123.45 settled, no htlc left`)
  }
  const before = await snapshot(c)

  // ---- a hostile hop (2) forwarding a lower amount or a later expiry is refused by the next hop (3) ----
  const inv2 = await c.pay(5).invoice({ amount: 5_000n, asset: 'CAD' })
  const r5 = await route(5_000n)
  for (const [what, amount, later] of [['a lower amount', 4_999n, 0], ['a later expiry', 5_000n, 700], ['the exact htlc (control)', 5_000n, 0]] as const) {
    const plan = buildPlan(inv2, r5, c.services[0].node.identity as Identity, { now: Date.now(), hopDeltaMs: PAY.hopDeltaMs, finalMs: PAY.finalMs, nonce: randomBytes(16).toString('hex') })
    const id = planId(plan)
    t.ok(checkPlan(plan).ok, 'the payer signed the plan')
    const line23 = c.lines[2]
    const side2 = sideOf((await c.tl(2).store.load(line23))!.terms, c.did(2))!
    const added = await c.tl(2).propose(line23, { type: 'htlc/add', id: htlcIdOf(id, 2), hash: plan.hash, amount: amount.toString(), from: side2, expires: plan.hops[2].expires + later }, { expiresInMs: 3000 })
    await until('node 3 countersigned the hostile htlc', async () => (await c.tl(2).store.proposal(line23, added.proposal))?.status === 'accepted')
    const answer = await c.rpc(2).request(c.did(3), FORWARD_METHOD, { plan, index: 2 }, { timeoutMs: 20_000 })
    const forwarded = (await c.tl(3).store.load(c.lines[3]))!.entries.some((e) => e.proposal.change.type === 'htlc/add' && e.proposal.change.id === htlcIdOf(id, 3))
    if (what.startsWith('the exact')) {
      t.ok((answer as { ok?: boolean }).ok === true, 'control: the exact htlc is forwarded and settled by the payee')
      t.ok(forwarded, 'control: node 3 added its outgoing htlc')
    } else {
      t.alike(answer, REFUSED, `${what}: node 3 refuses with the constant answer`)
      t.absent(forwarded, `${what}: node 3 added no outgoing htlc`)
      await until(`${what}: node 3 fails the htlc`, async () => !(await c.tl(2).store.load(line23))!.state.htlcs.some((h) => h.id === htlcIdOf(id, 2)))
      t.pass(`${what}: node 3 failed the hostile htlc at once`)
    }
  }
  const afterHostile = await snapshot(c)
  t.is(afterHostile[2] - before[2], 5_000n, 'only the control moved: node 2 paid the 50.00 it sent itself')
  t.alike([afterHostile[0], afterHostile[1], afterHostile[3], afterHostile[4]], [before[0], before[1], before[3] + 5_000n, before[4] + 5_000n], 'and nodes 3, 4 carried it to the payee; nothing else moved')

  // ---- 100 probes by one payer: random amounts up to and beyond capacity, random hashes ----
  const probeRoute = await route(1n)
  const answers: Attempt[] = []
  const rnd = (n: bigint) => BigInt('0x' + randomBytes(8).toString('hex')) % n
  const released = async (): Promise<boolean> => {
    for (let i = 0; i < 5; i++) if ((await c.tl(i).store.load(c.lines[i]))!.state.htlcs.length > 0) return false
    return true
  }
  for (let batch = 0; batch < 10; batch++) {
    // one payer probing 10 at a time; each batch starts once the last one's htlcs are released
    await until('the previous probes released', released, 20_000)
    const probes = Array.from({ length: 10 }, (_, k) => {
      const over = (batch * 10 + k) % 10 === 9
      const amount = over ? CAP + 1n + rnd(10_000n) : 1n + rnd(CAP)
      return c.pay(0).attempt({ payee: c.did(5), asset: 'CAD', amount: amount.toString(), hash: randomBytes(32).toString('hex') }, probeRoute)
    })
    answers.push(...await Promise.all(probes))
  }
  const below = answers.filter((a) => BigInt(a.plan.amount) <= CAP)
  const above = answers.filter((a) => BigInt(a.plan.amount) > CAP)
  t.is(answers.filter((a) => a.outcome === 'settled').length, 0, 'no probe settled (random hashes)')
  t.is(answers.filter((a) => a.outcome === 'failed').length, 0, 'every probe left the payer')
  const wire = new Set(below.map((a) => JSON.stringify(a.answer)))
  t.alike([...wire], [JSON.stringify(REFUSED)], `${below.length} probes up to the cap: every refusal is byte-identical, whether a hop lacked credit or the payee did not know the hash`)
  t.alike([...new Set(above.map((a) => JSON.stringify(a.answer)))], [JSON.stringify({ ok: false, reason: 'the amount is above the cap per payment of a hop', cap: CAP.toString() })], `${above.length} probes above the public cap learn that cap, nothing else`)
  const hold = HOLD * 5
  const times = below.map((a) => a.elapsedMs)
  const lo = Math.min(...times)
  const hi = Math.max(...times)
  t.comment(`sorted: ${[...times].sort((a, b) => a - b).join(' ')}`)
  t.comment(`probe refusals came after ${lo}..${hi} ms (hold ${hold} ms); capacity-refused and payee-refused medians ${median(below.filter((a) => BigInt(a.plan.amount) > 12_655n).map((a) => a.elapsedMs))} / ${median(below.filter((a) => BigInt(a.plan.amount) <= 12_655n).map((a) => a.elapsedMs))} ms`)
  t.ok(lo >= hold - 5, `no refusal comes before the hold time (${lo} ms >= ${hold} ms)`)
  t.ok(hi - lo < HOLD / 2, `refusal times lie within half a hop's hold of each other (${hi - lo} ms < ${HOLD / 2} ms)`)
  await until('every probe htlc released', async () => {
    for (let i = 0; i < 5; i++) if ((await c.tl(i).store.load(c.lines[i]))!.state.htlcs.length > 0) return false
    return true
  }, 30_000)
  t.alike(await snapshot(c), afterHostile, 'after 100 probes no balance moved on any line')

  // ---- a hop that refuses (node 2 lacks available credit on 2-3) leaves every hop unchanged ----
  const inv3 = await c.pay(5).invoice({ amount: 20_000n, asset: 'CAD' })
  const refused = await c.pay(0).pay({ invoice: inv3, relay: c.relay })
  t.is(refused.status, 'refused', 'a payment above what hop 2-3 has left is refused')
  t.alike(refused.attempts[0].answer, REFUSED, 'with the constant answer')
  await until('every htlc of the refused payment failed', async () => {
    for (let i = 0; i < 5; i++) if ((await c.tl(i).store.load(c.lines[i]))!.state.htlcs.length > 0) return false
    return true
  }, 20_000)
  t.alike(await snapshot(c), afterHostile, 'a refusing hop: no balance moved on any line')
  t.is((await c.pay(5).invoiceStatus(inv3.hash))?.status, 'open', 'the invoice stays open')

  // ---- a hop that goes offline mid-payment (node 4, once its incoming htlc is signed) ----
  const inv4 = await c.pay(5).invoice({ amount: 1_000n, asset: 'CAD' })
  let stopping: Promise<void> | null = null
  const onupdate = (id: string) => {
    if (id !== c.lines[3] || stopping) return
    c.tl(4).store.load(id).then((l) => { if (l && l.state.htlcs.length > 0 && !stopping) stopping = c.stop(4) }).catch(() => {})
  }
  c.tl(4).on('update', onupdate)
  const startedAt = Date.now()
  const gone = await c.pay(0).pay({ invoice: inv4, relay: c.relay })
  t.is(gone.status, 'refused', 'the payment does not go through with hop 4 offline')
  t.ok(stopping !== null, 'node 4 went offline after countersigning its incoming htlc')
  await stopping
  const last = gone.attempts[0].plan.hops[0].expires
  await until('the first hop\'s htlc expired and every online hop released', async () => {
    if (Date.now() <= last) return false
    for (let i = 0; i < 3; i++) if ((await c.tl(i).store.load(c.lines[i]))!.state.htlcs.length > 0) return false
    return true
  }, 30_000)
  t.comment(`released ${Date.now() - startedAt} ms after the payment started`)
  const s34 = (await c.tl(3).store.load(c.lines[3]))!.state
  t.ok(s34.htlcs.every((h) => h.expires < Date.now()), 'line 3-4: the htlc to the offline hop is expired (node 4 cannot countersign its fail)')
  t.is(available(s34, sideOf(s34, c.did(3))!, Date.now()).toString(), (LIMITS[3] - before[3] - 5_000n).toString(), 'line 3-4: node 3\'s available credit is back in full')
  const end = await snapshot(c, [0, 1, 2, 3])
  t.alike(end, afterHostile.slice(0, 4), 'an offline hop: no balance moved on any line')
  for (let i = 0; i < 3; i++) await agreed(t, c, i, 'at the end')

  // ---- the relay stores and serves no balance after all this ----
  const relay = c.services[6].relay as CreditRelay
  const stored: string[] = []
  for await (const { key, value } of relay.bee.createReadStream()) stored.push(String(key) + JSON.stringify(value))
  const served = JSON.stringify(await c.rpc(0).request(c.relay, 'credit/relay/lines', {}, { timeoutMs: 10_000 }))
  const all = stored.join('\n') + served
  t.ok(stored.length >= 5, `read all ${stored.length} records the relay stores`)
  t.absent(/balance|htlc|preimage|memo/i.test(all), 'no balance, htlc, preimage or memo field in what the relay stores or serves')
  for (const amount of ['12345', '17345', '5000']) t.absent(all.includes(`"${amount}"`), `no balance value ${amount} in the relay's data`)
})

/** What each party owes the next, per line, read from the payer side (both sides agree: checked by agreed()). */
async function snapshot (c: Chain, which = [0, 1, 2, 3, 4]): Promise<bigint[]> {
  const out: bigint[] = []
  for (const i of which) {
    const l = await c.tl(i).store.load(c.lines[i])
    out.push(owed(c, l!.state, i))
  }
  return out
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]
}
