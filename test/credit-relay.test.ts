import test from 'brittle'
import b4a from 'b4a'
import { createNet } from './helpers/net.ts'
import { rejectsCode } from './helpers/assert.ts'
import { Services } from '../core/services/services.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import {
  announcementBody, signAnnouncement, checkAnnouncement, openRoutes, announceTo, routesFrom,
  CreditRelay, LINES_METHOD, ROUTES_METHOD, MAX_ANNOUNCEMENT_TTL_MS, type Announcement, type AnnouncementBody
} from '../core/credit/relay.ts'
import { genesis, newTerms, propose, accept } from '../books/trustline/machine.ts'
import type { Change, Side, TrustlineState } from '../books/trustline/types.ts'
import type { PubSub, PubSubMessage } from '../core/network/pubsub.ts'
import Corestore from 'corestore'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

type Who = { did: DidKey; secretKey: Uint8Array }
const ANN_KEYS = ['a', 'asset', 'b', 'cap', 'expiresAt', 'issuedAt', 'limitAtoB', 'limitBtoA', 'seq', 'signatures', 'trustline', 'v']

function sybil (n: number): Who {
  const s = new Uint8Array(32)
  new DataView(s.buffer).setUint32(0, n)
  s[31] = 0x5b
  const kp = generateKeyPair(s)
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
}

function signBoth (body: AnnouncementBody, x: Who, y: Who): Announcement {
  const [a, b] = x.did === body.a ? [x, y] : [y, x]
  return { ...body, signatures: [signAnnouncement(body, a), signAnnouncement(body, b)] }
}

/** One two-party update on a real trustline state (books/trustline): proposed by `side`, countersigned by the other. */
function step (s: TrustlineState, change: Change, side: Side, who: Record<Side, Who>, at: number): TrustlineState {
  const p = propose(s, { change, proposer: side, at, expires: at + 60_000 }, who[side].secretKey)
  if (!p.ok) throw new Error(p.reason)
  const c = accept(s, p.entry, at, who[side === 'A' ? 'B' : 'A'].secretKey)
  if (!c.ok) throw new Error(c.reason)
  return c.state
}

const lineBody = (x: Who, y: Who, n: number, now: number, over: Partial<AnnouncementBody> = {}): AnnouncementBody => {
  const [a, b] = x.did < y.did ? [x.did, y.did] : [y.did, x.did]
  return { ...announcementBody({ trustline: `sybil-line-${String(n).padStart(6, '0')}`, a, b, asset: 'CAD', limitAtoB: 1000n, limitBtoA: 1000n, cap: null, seq: 1, issuedAt: now, expiresAt: now + 3600_000 }), ...over }
}

test('credit relay announcement - one party only, forged, stale, expired, future, extra fields: refused with a reason', async (t) => {
  const now = Date.now()
  const x = sybil(1)
  const y = sybil(2)
  const z = sybil(3)
  const body = lineBody(x, y, 1, now)
  const good = signBoth(body, x, y)
  t.ok(checkAnnouncement(good, { now }).ok, 'signed by both: accepted')
  const one = { ...body, signatures: [good.signatures[0], ''] }
  const r1 = checkAnnouncement(one, { now })
  t.ok(!r1.ok && /one party only/.test(r1.reason), `one signature: ${!r1.ok && r1.reason}`)
  const swapped = { ...good, signatures: [good.signatures[1], good.signatures[0]] }
  t.ok(!checkAnnouncement(swapped, { now }).ok, 'signatures in the wrong order')
  const forged = { ...good, limitAtoB: '999999' }
  const r2 = checkAnnouncement(forged, { now })
  t.ok(!r2.ok && /does not hold/.test(r2.reason), `a limit raised after signing: ${!r2.ok && r2.reason}`)
  const third = { ...body, signatures: [good.signatures[0], signAnnouncement({ ...body, b: z.did } as AnnouncementBody, z)] }
  t.ok(!checkAnnouncement(third, { now }).ok, 'signed by a third party in place of b')
  t.exception(() => signAnnouncement(body, z), /BAD_ARGUMENT/, 'a third party cannot sign at all')
  const withBalance = { ...good, balance: '-12345' }
  const r3 = checkAnnouncement(withBalance, { now })
  t.ok(!r3.ok && /no field balance/.test(r3.reason), `a balance field: ${!r3.ok && r3.reason}`)
  t.ok(!checkAnnouncement({ ...good, history: [] }, { now }).ok, 'a history field')
  const expired = signBoth(lineBody(x, y, 1, now - 7200_000), x, y)
  const r4 = checkAnnouncement(expired, { now })
  t.ok(!r4.ok && r4.reason === 'expired', 'expired')
  const future = signBoth(lineBody(x, y, 1, now + 3600_000), x, y)
  t.ok(!checkAnnouncement(future, { now }).ok, 'issued an hour ahead')
  t.exception(() => announcementBody({ trustline: 'line-too-long', a: x.did < y.did ? x.did : y.did, b: x.did < y.did ? y.did : x.did, asset: 'CAD', limitAtoB: 1n, limitBtoA: 1n, cap: null, seq: 1, issuedAt: now, expiresAt: now + MAX_ANNOUNCEMENT_TTL_MS + 1 }), /BAD_ARGUMENT/, 'a lifetime beyond 7 days')
  const reversed = signBoth({ ...body, a: body.b, b: body.a }, x, y)
  t.ok(!checkAnnouncement(reversed, { now }).ok, 'parties out of order')
  for (const junk of [null, 'x', 42, [], { v: 2 }, { ...good, limitAtoB: 12 }, { ...good, limitAtoB: '-1' }, { ...good, cap: '1.5' }, { ...good, asset: 'c$d' }, { ...good, signatures: 'no' }]) {
    const r = checkAnnouncement(junk, { now })
    t.ok(!r.ok && r.reason.length > 0, `junk refused: ${!r.ok && r.reason}`)
  }
})

test('credit relay - over a testnet: both-signed announcements spread between relays; hostile ones, stale ones and floods are refused or bounded; routes carry their proof; nothing but announced fields is stored or served', { timeout: 60_000 }, async (t) => {
  const net = await createNet(t, 4)
  const ads = { network: 'credit-relay-it', debounceMs: 200, minUpdateMs: 100 }
  const services = [
    new Services(net.nodes[0], { ads, announce: true, relay: true }),
    new Services(net.nodes[1], { ads, announce: true, relay: { maxLines: 40, maxPerParty: 4 } }),
    new Services(net.nodes[2], { ads }),
    new Services(net.nodes[3], { ads })
  ]
  for (const s of services) await s.ready()
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  const relayA = services[0].relay as CreditRelay
  const relayB = services[1].relay as CreditRelay
  t.ok(relayA instanceof CreditRelay && relayB instanceof CreditRelay, 'Services runs a relay when asked')
  t.is(services[2].relay, null, 'and none otherwise')
  const ids = net.nodes.map((n) => n.identity as Identity as Who)
  const [ra, rb, x, y] = ids
  const rpcX = services[2].rpc as NonNullable<Services['rpc']>

  // a real trustline between x and y (books/trustline), with a balance and a memo the relays must never see
  const now = Date.now()
  let s = genesis(newTerms(x.did, y.did, 'CAD', now - 10_000))
  const who: Record<Side, Who> = s.a === x.did ? { A: x, B: y } : { A: y, B: x }
  s = step(s, { type: 'limit', side: 'AtoB', amount: '9000000' }, 'B', who, now - 9000)
  s = step(s, { type: 'limit', side: 'BtoA', amount: '8000000' }, 'A', who, now - 8000)
  s = step(s, { type: 'payment', from: 'A', amount: '7654321', memo: 'rent for the greenhouse, secret' }, 'A', who, now - 7000)
  t.is(s.balance, 7654321n, 'the line has a balance')
  const body = announcementBody({ trustline: s.id, a: s.a, b: s.b, asset: s.asset, limitAtoB: s.limitAtoB, limitBtoA: s.limitBtoA, cap: 500000n, seq: 1, issuedAt: now, expiresAt: now + 3600_000 })
  const ann = signBoth(body, x, y)
  t.alike(await announceTo(rpcX, ra.did, ann, { timeoutMs: 20_000 }), { stored: true }, 'relay A stores the announcement a party gives it')
  t.alike(await announceTo(rpcX, ra.did, ann), { stored: false, reason: 'the relay holds this announcement already' }, 'a second copy is not stored again')

  // relay B hears it through the gossip between relays (they meet on the relay topic)
  await until(() => relayB.lines.find(s.id, Date.now()).length > 0, 20_000, 'relay B holds the announcement through the gossip')
  t.pass('relay B got the announcement from relay A through the gossip')

  // hostile announcements over the wire
  await rejectsCode(t, announceTo(rpcX, ra.did, { ...ann, signatures: [ann.signatures[0], ''] }), 'BAD_ARGUMENT', 'signed by one party only')
  await rejectsCode(t, announceTo(rpcX, ra.did, { ...ann, limitBtoA: '99999999' }), 'BAD_ARGUMENT', 'forged: a limit changed after signing')
  await rejectsCode(t, announceTo(rpcX, ra.did, { ...ann, balance: s.balance.toString() } as unknown as Announcement), 'BAD_ARGUMENT', 'an announcement carrying a balance')
  const newer = signBoth({ ...body, limitAtoB: '6000000', seq: 2, issuedAt: now + 1 }, x, y)
  t.alike(await announceTo(rpcX, ra.did, newer), { stored: true }, 'a newer announcement (seq 2) replaces it')
  const replay = signBoth({ ...body, limitAtoB: '1', seq: 1, issuedAt: now + 2 }, x, y)
  try {
    await announceTo(rpcX, ra.did, replay)
    t.fail('a stale announcement was taken')
  } catch (err) {
    t.ok(/stale/.test((err as Error).message), `stale (seq 1 after seq 2) refused: ${(err as Error).message}`)
  }
  t.is(relayA.lines.find(s.id, Date.now())[0]?.limitAtoB, '6000000', 'relay A keeps seq 2')

  // routes: y -> x over the line (y pays x), with the announcements that prove each hop
  const routes = await routesFrom(services[3].rpc as NonNullable<Services['rpc']>, ra.did, { from: y.did, to: x.did, asset: 'CAD', amount: 1000n, now: Date.now(), timeoutMs: 20_000 })
  t.is(routes.length, 1, 'one route')
  t.is(routes[0].hops[0].trustline, s.id, 'over the announced line')
  t.is(routes[0].hops[0].cap, 500000n, 'with its cap')
  const over = await routesFrom(services[3].rpc as NonNullable<Services['rpc']>, ra.did, { from: y.did, to: x.did, asset: 'CAD', amount: 500001n, now: Date.now() })
  t.is(over.length, 0, 'no route above the cap')

  // flooding: 150 sybil lines from one peer; at most the per-minute budget is taken
  let refused = 0
  let stored = 0
  for (let i = 0; i < 150; i++) {
    const p = sybil(1000 + 2 * i)
    const q = sybil(1001 + 2 * i)
    try {
      const r = await announceTo(rpcX, ra.did, signBoth(lineBody(p, q, i, Date.now()), p, q))
      if (r.stored) stored++
    } catch (err) {
      if ((err as { code?: string }).code === 'OP_REJECTED') refused++
      else throw err
    }
  }
  t.ok(stored <= 121 && refused >= 28, `flood from one peer: ${stored} stored, ${refused} refused by the rate limit`)
  // relay B (40 lines at most, 4 per party) hears the flood through the gossip and stays bounded
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.ok(relayB.lines.size <= 40, `relay B holds ${relayB.lines.size} <= 40 lines`)
  const hub = sybil(7)
  const perParty: Array<Promise<unknown>> = []
  for (let i = 0; i < 6; i++) { const p = sybil(5000 + i); perParty.push(relayB.submit(signBoth(lineBody(hub, p, 9000 + i, Date.now()), hub, p))) }
  const res = await Promise.all(perParty) as Array<{ ok: boolean; reason?: string }>
  const hubRefused = res.filter((r) => !r.ok)
  t.ok(hubRefused.length >= 2 && hubRefused.every((r) => /trustlines at this relay|full/.test(r.reason ?? '')), `one party cannot hold more than 4 lines at relay B (${hubRefused.length} refused)`)

  // a relay that comes later catches up by pulling pages
  const extra = sybil(1)
  const extra2 = sybil(2)
  await relayA.submit(signBoth(lineBody(extra, extra2, 424242, Date.now()), extra, extra2))
  const pulled = await relayB.syncFrom(ra.did, { force: true })
  t.ok(pulled >= 0 && relayB.lines.size <= 40, `relay B pulled ${pulled} lines and stays within its bound`)

  // everything each relay stores: only announcement fields, no balance, no history, no memo
  for (const [name, relay] of [['A', relayA], ['B', relayB]] as const) {
    const all: Array<{ key: string; value: unknown }> = []
    for await (const e of relay.bee.createReadStream()) all.push({ key: e.key, value: e.value })
    t.ok(all.length > 0, `relay ${name} stores ${all.length} records`)
    const bad = all.filter((e) => !e.key.startsWith('lines/') || JSON.stringify(Object.keys(e.value as object).sort()) !== JSON.stringify(ANN_KEYS) || !checkAnnouncement(e.value, { now: Date.now() }).ok)
    t.is(bad.length, 0, `every record of relay ${name} is a checked announcement and nothing else`)
    const text = JSON.stringify(all)
    t.absent(/balance|history|memo|greenhouse|7654321/i.test(text), `relay ${name} stores no balance, history or memo`)
  }
  // everything it serves: pages of lines and route answers
  const served: unknown[] = []
  let after = ''
  for (;;) {
    const page = await rpcX.request(ra.did, LINES_METHOD, { after, limit: 50 }) as { announcements: unknown[]; next: string | null }
    served.push(...page.announcements)
    if (!page.next) break
    after = page.next
  }
  served.push(await (services[3].rpc as NonNullable<Services['rpc']>).request(ra.did, ROUTES_METHOD, { from: y.did, to: x.did, asset: 'CAD', amount: '1000' }))
  const text = JSON.stringify(served)
  t.absent(/balance|history|memo|greenhouse|7654321/i.test(text), 'nothing served holds a balance, a history or a memo')
  t.ok(served.slice(0, -1).every((a) => JSON.stringify(Object.keys(a as object).sort()) === JSON.stringify(ANN_KEYS)), `the ${served.length - 1} served lines have the announced fields only`)
  t.ok(services[2].ads?.directory.query({ service: 'relay' }).some((l) => l.did === ra.did), 'parties find relays in the ads')
  void rb
})

test('credit relay - a payer refuses a hostile relay\'s routes: invented hops, broken chains, wrong asset, caps below the amount', async (t) => {
  const now = Date.now()
  const p = [sybil(11), sybil(12), sybil(13), sybil(14)]
  const anns = [
    signBoth(lineBody(p[0], p[1], 1, now, { cap: '100' }), p[0], p[1]),
    signBoth(lineBody(p[1], p[2], 2, now), p[1], p[2])
  ]
  const hop = (i: number, from: Who, to: Who) => ({ trustline: anns[i].trustline, from: from.did, to: to.did })
  const q: { from: DidKey; to: DidKey; asset: string; amount: bigint; now: number; maxHops?: number } = { from: p[0].did, to: p[2].did, asset: 'CAD', amount: 50n, now }
  const good = { routes: [{ hops: [hop(0, p[0], p[1]), hop(1, p[1], p[2])] }], announcements: anns }
  const ok = openRoutes(good, q)
  t.ok(ok.ok && ok.routes.length === 1, 'an honest answer is taken')
  const cases: Array<[string, unknown, Partial<typeof q>?]> = [
    ['a hop whose limits the relay raised (signatures do not hold)', { ...good, announcements: [anns[0], { ...anns[1], limitAtoB: '999999' }] }],
    ['a hop the relay invented, signed by one party', { ...good, announcements: [anns[0], { ...anns[1], signatures: [anns[1].signatures[0], ''] }] }],
    ['a hop without announcement', { ...good, announcements: [anns[0]] }],
    ['a route not starting at the payer', { ...good, routes: [{ hops: [hop(1, p[1], p[2])] }] }],
    ['a route not ending at the payee', { ...good, routes: [{ hops: [hop(0, p[0], p[1])] }] }],
    ['a hop over a line between other parties', { ...good, routes: [{ hops: [hop(0, p[0], p[1]), { ...hop(1, p[1], p[2]), to: p[3].did }] }] }],
    ['a cap below the amount', good, { amount: 101n }],
    ['another asset', good, { asset: 'EUR' }],
    ['too many hops', good, { maxHops: 1 }],
    ['a loop', { ...good, routes: [{ hops: [hop(0, p[0], p[1]), hop(0, p[1], p[0]), hop(0, p[0], p[1]), hop(1, p[1], p[2])] }] }],
    ['junk', { routes: 'all of them' }]
  ]
  for (const [what, answer, over] of cases) {
    const r = openRoutes(answer, { ...q, ...(over ?? {}) })
    t.ok(!r.ok && r.reason.length > 0, `${what}: ${r.ok ? 'taken!' : r.reason}`)
  }
  void b4a
})

/** A relay on a Corestore of its own in a fresh directory, torn down with the test. */
async function lonelyRelay (t: { teardown: (fn: () => Promise<void>) => void }, opts: Partial<ConstructorParameters<typeof CreditRelay>[0]> & { dir?: string } = {}): Promise<{ relay: CreditRelay; dir: string; store: Corestore }> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'growr-relay-'))
  const store = new Corestore(dir)
  const relay = new CreditRelay({ ...opts, store })
  await relay.ready()
  let closed = false
  t.teardown(async () => {
    if (closed) return
    closed = true
    await relay.close()
    await store.close()
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true })
  })
  return { relay, dir, store }
}

test('credit relay - another pair announcing a victim\'s trustline id first, with ever higher seqs, blocks nothing and routes nowhere false', { timeout: 30_000 }, async (t) => {
  const now = Date.now()
  const [x, y] = [sybil(21), sybil(22)]
  const [m1, m2] = [sybil(31), sybil(32)]
  let s = genesis(newTerms(x.did, y.did, 'CAD', now - 10_000))
  const who: Record<Side, Who> = s.a === x.did ? { A: x, B: y } : { A: y, B: x }
  s = step(s, { type: 'limit', side: 'AtoB', amount: '5000' }, 'B', who, now - 9000)
  s = step(s, { type: 'limit', side: 'BtoA', amount: '5000' }, 'A', who, now - 8000)
  const real = signBoth(announcementBody({ trustline: s.id, a: s.a, b: s.b, asset: 'CAD', limitAtoB: 5000n, limitBtoA: 5000n, cap: null, seq: 1, issuedAt: now - 10, expiresAt: now + 3600_000 }), x, y)
  const [ma, mb] = m1.did < m2.did ? [m1.did, m2.did] : [m2.did, m1.did]
  const squat = (seq: number, at: number): Announcement => signBoth(announcementBody({ trustline: s.id, a: ma, b: mb, asset: 'CAD', limitAtoB: 10n ** 12n, limitBtoA: 10n ** 12n, cap: null, seq, issuedAt: at, expiresAt: at + 3600_000 }), m1, m2)
  t.ok(checkAnnouncement(squat(1e9, now - 100), { now }).ok, 'the squatters\' announcement is well signed (by their own two keys)')

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'growr-relay-'))
  t.teardown(async () => { fs.rmSync(dir, { recursive: true, force: true }) })
  const first = await lonelyRelay(t, { dir, now: () => now })
  t.alike(await first.relay.submit(squat(1e9, now - 100)), { ok: true, stored: true }, 'the squatters announce the victim\'s id first, at seq 1e9')
  const r = await first.relay.submit(real)
  t.alike(r, { ok: true, stored: true }, `the real parties are stored all the same, at seq 1 (${JSON.stringify(r)})`)
  t.alike(await first.relay.submit(squat(2e9, now - 50)), { ok: true, stored: true }, 'the squatters raise their seq again')
  const held = first.relay.lines.find(s.id, now)
  t.is(held.length, 2, 'two records under the id, one per pair')
  t.ok(held.some((a) => a.a === s.a && a.b === s.b && a.limitAtoB === '5000' && a.seq === 1), 'the real parties\' record is intact')
  const newer = signBoth({ ...real, seq: 2, issuedAt: now - 5, limitAtoB: '4000' }, x, y)
  t.alike(await first.relay.submit(newer), { ok: true, stored: true }, 'the real parties update their own record')

  // routes between the real parties use their record; the squatters' record names only them
  const answer = first.relay.routes({ from: y.did, to: x.did, asset: 'CAD', amount: 100n })
  t.is(answer.routes.length, 1, 'one route from y to x')
  t.is(answer.routes[0].hops[0].trustline, s.id, 'over the real id on the wire')
  const opened = openRoutes(answer, { from: y.did, to: x.did, asset: 'CAD', amount: 100n, now })
  t.ok(opened.ok && opened.routes[0].hops[0].announcement.a === s.a && opened.routes[0].hops[0].announcement.limitAtoB === '4000', 'the payer reads the real parties\' announcement for the hop')
  t.is(first.relay.routes({ from: y.did, to: x.did, asset: 'CAD', amount: 10n ** 9n }).routes.length, 0, 'the squatters\' huge limits lend nothing to the real line')
  // a hostile relay hands the payer the squatters' record for the real parties' hop
  const swapped = { routes: answer.routes, announcements: [squat(2e9, now - 50)] }
  const o2 = openRoutes(swapped, { from: y.did, to: x.did, asset: 'CAD', amount: 100n, now })
  t.ok(!o2.ok && /no announcement signed by its two parties/.test(o2.reason), `the squatters' record does not prove the real parties' hop: ${!o2.ok && o2.reason}`)
  const both = openRoutes({ routes: answer.routes, announcements: [squat(2e9, now - 50), ...answer.announcements] }, { from: y.did, to: x.did, asset: 'CAD', amount: 100n, now })
  t.ok(both.ok && both.routes[0].hops[0].announcement.a === s.a, 'with both records sent, the payer still picks the one of the hop\'s parties')

  // a restart reads both records back, each under its own key
  await first.relay.lines.flushed()
  await first.relay.close()
  await first.store.close()
  const second = await lonelyRelay(t, { dir, now: () => now })
  t.is(second.relay.lines.find(s.id, now).length, 2, 'after a restart: both records')
  t.is(second.relay.routes({ from: y.did, to: x.did, asset: 'CAD', amount: 100n }).announcements[0]?.limitAtoB, '4000', 'and the real line routes at its latest seq')
})

test('credit relay - gossip: a publisher\'s flood and one signer\'s flood are cut by rate limits; junk naming a party spends nothing of its budget', { timeout: 30_000 }, async (t) => {
  let clock = Date.now()
  let deliver: ((m: PubSubMessage) => void) | null = null
  // the relay's side of pubsub: messages arrive already authenticated by their publisher (core/network/pubsub.ts)
  const pubsub = { subscribe: (_topic: string, fn: (m: PubSubMessage) => void) => { deliver = fn; return () => { deliver = null } }, publish: async () => {} } as unknown as PubSub
  const { relay } = await lonelyRelay(t, { pubsub, now: () => clock, maxGossipPerMinute: 20, maxPerSignerPerMinute: 10, maxPerParty: 1000 })
  let n = 0
  const gossip = async (from: Who, data: unknown): Promise<void> => {
    (deliver as unknown as (m: PubSubMessage) => void)({ v: 1, topic: 'credit/graph', from: from.did, at: clock, seq: ++n, data, id: String(n), signature: '' })
    await relay.lines.flushed()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const fresh = (i: number): [Who, Who] => [sybil(40_000 + 2 * i), sybil(40_001 + 2 * i)]

  // one publisher floods 50 lines of throwaway DIDs
  const loud = sybil(900)
  for (let i = 0; i < 50; i++) { const [p, q] = fresh(i); await gossip(loud, signBoth(lineBody(p, q, i, clock), p, q)) }
  t.is(relay.lines.size, 20, 'a publisher gets 20 lines a minute in, not 50')

  // 50 publishers each gossip one line of the same hub
  const hub = sybil(901)
  const before = relay.lines.size
  for (let i = 0; i < 50; i++) { const q = sybil(50_000 + i); await gossip(sybil(60_000 + i), signBoth(lineBody(hub, q, 1000 + i, clock), hub, q)) }
  t.is(relay.lines.size - before, 10, 'one signing party gets 10 lines a minute in, however many publishers carry them')

  // junk naming a victim (its signature does not hold) from 100 publishers spends nothing of the victim's budget
  const victim = sybil(902)
  for (let i = 0; i < 100; i++) {
    const q = sybil(70_000 + i)
    const body = lineBody(victim, q, 2000 + i, clock)
    const forged = { ...body, signatures: body.a === victim.did ? [signAnnouncement(body, q).replace(/^./, 'f'), signAnnouncement(body, q)] : [signAnnouncement(body, q), signAnnouncement(body, q).replace(/^./, 'e')] }
    await gossip(sybil(80_000 + i), forged)
  }
  t.is(relay.lines.find('sybil-line-002000', clock).length, 0, 'no junk is stored')
  const partner = sybil(904)
  const victimLine = signBoth(lineBody(victim, partner, 3000, clock), victim, partner)
  await gossip(sybil(90_000), victimLine)
  t.is(relay.lines.find('sybil-line-003000', clock).length, 1, 'the victim\'s real line is stored after 100 forged ones naming it')
  // copies of a held line cost its parties nothing either
  for (let i = 0; i < 30; i++) await gossip(sybil(90_001 + i), victimLine)
  let more = 0
  for (let i = 0; i < 9; i++) {
    const q = sybil(95_000 + i)
    const before2 = relay.lines.size
    await gossip(sybil(96_000 + i), signBoth(lineBody(victim, q, 3001 + i, clock), victim, q))
    if (relay.lines.size > before2) more++
  }
  t.is(more, 9, '30 copies of its line spent nothing: the victim still has 9 of its 10 a minute')

  // a rate, not a ban: a minute later the hub and the loud publisher get in again
  clock += 60_000
  const q = sybil(97_000)
  const s0 = relay.lines.size
  await gossip(loud, signBoth(lineBody(hub, q, 4000, clock), hub, q))
  t.is(relay.lines.size, s0 + 1, 'a minute later the same publisher and signer are taken again')
  t.ok(relay.stats.limited >= 30 + 40, `limited: ${relay.stats.limited}`)
})

async function until (check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
