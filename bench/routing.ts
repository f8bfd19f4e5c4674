/**
 * Benchmark: route search on the public credit graph a relay holds (core/credit/routing.ts).
 *
 * The graph: `lines` trustlines among lines/5 parties (average degree 10), built from a fixed
 * seed: each party links mostly within its neighbourhood of 200 (a town's circles) and one line
 * in ten goes anywhere (the friend in another town), limits 0..2 000.00, one line in five with a
 * cap per payment. Queries: random payer and payee, amount 10.00..200.00, also from the seed.
 *
 * Timed per query, p50 and p95 over `queries`, alternating which runs first:
 * - Growr: CreditGraph.findRoutes, k = 3 loopless routes within 5 hops (Yen over bidirectional
 *   BFS, hops whose limits or cap cannot carry the amount left out);
 * - baseline: a plain Dijkstra (binary heap, unit weights) on the same graph, same filter, one
 *   route, no hop cap, stopping when the payee is settled.
 * The ratio is on p50.
 *
 * benchCommit, the 5-hop commit on a loopback HyperDHT testnet: seven whole GrowrNodes with their
 * Services, as test/credit-multihop.test.ts builds them: six parties in a chain 0 -> 1 -> ... -> 5
 * (each line opened by one party and countersigned by the other, limit 10 000.00 CAD), node 6 runs
 * the relay, every line announced to it signed by both parties. Routes come from the relay before
 * the clock (route search is the figure above). Timed per payment, alternating which runs first:
 * - Growr: CreditPayments.pay from 0 to 5 over 5 hops (payer signs the plan; each hop adds its
 *   htlc, countersigned by the next; the payee settles with the preimage; each hop settles its
 *   incoming htlc, countersigned, before it answers), until the payer holds the preimage and its
 *   own htlc is settled: the payment has committed on every hop;
 * - baseline: the same call from 4 to 5 over their one direct line: what one hop costs.
 * After the run every line is checked: no htlc left, both parties hold the same signed chain, and
 * each party owes the next exactly what was paid over it.
 */
import createTestnet from 'hyperdht/testnet.js'
import { CreditGraph } from '../core/credit/routing.ts'
import { GrowrNode } from '../core/node.ts'
import { Services } from '../core/services/services.ts'
import { createIdentity } from '../core/identity/keyfile.ts'
import { routesFrom, type CheckedRoute } from '../core/credit/relay.ts'
import type { CreditPayments } from '../core/credit/payment.ts'
import type { TrustlineSync } from '../core/credit/sync.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import { sideOf } from '../books/trustline/machine.ts'
import { now, result, type BenchResult, type Scratch } from './lib/util.ts'
import { rng } from '../test/helpers/rng.ts'

function percentile (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}

/** Builds the benchmark graph; exported for tests that want the same shape. */
export function benchGraph (lines: number, seed = 13): { graph: CreditGraph; parties: number } {
  const parties = Math.max(10, Math.floor(lines / 5))
  const r = rng(seed)
  const g = new CreditGraph()
  const name = (i: number) => `did:key:zBench${i}`
  for (let i = 0; i < lines; i++) {
    const x = Math.floor(r() * parties)
    let y = r() < 0.9 ? (x + 1 + Math.floor(r() * 200)) % parties : Math.floor(r() * parties)
    if (y === x) y = (x + 1) % parties
    const cap = r() < 0.2 ? BigInt(5_000 + Math.floor(r() * 50_000)) : null
    g.upsert({ trustline: `bench-line-${i}`, parties: [name(x), name(y)], asset: 'CAD', limits: [BigInt(Math.floor(r() * 200_000)), BigInt(Math.floor(r() * 200_000))], cap })
  }
  return { graph: g, parties }
}

/**
 * Runs the routing benchmark.
 * @param lines trustlines in the graph (100 000 in the full run)
 * @param queries route requests timed (each by both searches)
 */
export async function benchRouting (lines: number, queries: number): Promise<BenchResult[]> {
  const t0 = now()
  const { graph, parties } = benchGraph(lines)
  const buildMs = now() - t0
  const r = rng(99)
  const name = (i: number) => `did:key:zBench${i}`
  const ours: number[] = []
  const base: number[] = []
  let found = 0
  let baseFound = 0
  let agree = 0
  for (let q = 0; q < queries; q++) {
    const from = name(Math.floor(r() * parties))
    let to = name(Math.floor(r() * parties))
    if (to === from) to = name((Number(from.slice(14)) + 1) % parties)
    const amount = BigInt(1_000 + Math.floor(r() * 19_000))
    const runOurs = () => {
      const t = now()
      const res = graph.findRoutes({ from, to, asset: 'CAD', amount, maxHops: 5, k: 3 })
      ours.push(now() - t)
      return res.ok ? res.routes : []
    }
    const runBase = () => {
      const t = now()
      const res = graph.dijkstra(from, to, 'CAD', amount)
      base.push(now() - t)
      return res
    }
    let a, b
    if (q % 2 === 0) { a = runOurs(); b = runBase() } else { b = runBase(); a = runOurs() }
    if (a.length > 0) found++
    if (b) baseFound++
    if (b && b.length <= 5 && a.length > 0 && a[0].hops.length === b.length) agree++
  }
  const note = (what: string) => `${what}; graph of ${lines.toLocaleString('en-US')} trustlines among ${parties.toLocaleString('en-US')} parties (built in ${Math.round(buildMs)} ms), ${queries} random queries: Growr found routes for ${found}, Dijkstra for ${baseFound} (some only beyond 5 hops); first route as short as Dijkstra's in ${agree} of those within 5 hops`
  return [
    result(`route search p50, ${lines.toLocaleString('en-US')} trustlines`, lines, percentile(ours, 0.5), 'ms', percentile(base, 0.5), note('k = 3 loopless routes within 5 hops (Yen over bidirectional BFS) vs a plain Dijkstra, one route, no hop cap')),
    result(`route search p95, ${lines.toLocaleString('en-US')} trustlines`, lines, percentile(ours, 0.95), 'ms', percentile(base, 0.95), note('p95 of the same runs'))
  ]
}

async function until (what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Runs the 5-hop commit benchmark (see the header) on a testnet it starts and tears down.
 * @param scratch where the seven nodes' storage goes
 * @param payments payments timed of each kind (5-hop and 1-hop), after one untimed warm-up each
 * @returns p50 and p95 rows, ms per committed payment, with the 1-hop figures as baseline
 * @throws Error when a payment does not settle or a line does not end as the payments say
 */
export async function benchCommit (scratch: Scratch, payments: number): Promise<BenchResult[]> {
  const setupStart = now()
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const nodes: GrowrNode[] = []
  const services: Services[] = []
  const dhts: Array<{ destroy (): Promise<void> }> = []
  try {
    for (let i = 0; i < 7; i++) {
      const dir = scratch.dir(`commit-${i}`)
      const seed = new Uint8Array(32)
      seed[0] = 0xc0
      seed[1] = i
      createIdentity(dir, { seed })
      const dht = testnet.createNode({ host: '127.0.0.1' })
      dhts.push(dht)
      const node = new GrowrNode({ storage: dir, dht, ackInterval: 200 })
      await node.ready()
      nodes.push(node)
      const s = new Services(node, { announce: true, ads: false, nostr: false, relay: i === 6, trustlines: { connectTimeoutMs: 3000 } })
      await s.ready()
      services.push(s)
    }
    const did = (i: number) => nodes[i].did as DidKey
    const tl = (i: number) => services[i].trustlines as TrustlineSync
    const pay = (i: number) => services[i].payments as CreditPayments
    const relay = did(6)
    const lines: string[] = []
    for (let i = 0; i < 5; i++) {
      // i + 1 extends credit to i, so payments flow 0 -> 5
      const o = await tl(i + 1).open(did(i), 'CAD', 1_000_000n)
      await until(`party ${i} holds the offer`, async () => (await tl(i).store.proposal(o.id, o.proposal as string)) !== null)
      await tl(i).accept(o.id, o.proposal as string)
      await until(`line ${i} is countersigned on both sides`, async () => (await tl(i + 1).show(o.id)).head === (await tl(i).show(o.id)).head)
      lines.push(o.id)
    }
    for (let i = 0; i < 5; i++) {
      const r = await pay(i).announce(lines[i], { relay })
      if (!r.stored) throw new Error(`bench: the relay did not store line ${i}`)
    }
    const AMOUNT = 10_000n
    const routeOf = async (from: number, to: number, hops: number): Promise<CheckedRoute[]> => {
      const rs = await routesFrom(services[from].rpc!, relay, { from: did(from), to: did(to), asset: 'CAD', amount: AMOUNT, now: Date.now(), timeoutMs: 10_000 })
      if (rs.length === 0 || rs[0].hops.length !== hops) throw new Error(`bench: the relay gave no ${hops}-hop route from ${from} to ${to}`)
      return [rs[0]]
    }
    const long = await routeOf(0, 5, 5)
    const short = await routeOf(4, 5, 1)
    const once = async (from: number, routes: CheckedRoute[]): Promise<number> => {
      const invoice = await pay(5).invoice({ amount: AMOUNT, asset: 'CAD' })
      const t = now()
      const r = await pay(from).pay({ invoice, routes })
      const ms = now() - t
      if (r.status !== 'settled') throw new Error(`bench: a payment from ${from} was ${r.status}: ${JSON.stringify(r.attempts.map((a) => a.reason ?? a.answer))}`)
      return ms
    }
    await once(0, long)
    await once(4, short)
    const setupMs = now() - setupStart
    const five: number[] = []
    const one: number[] = []
    for (let k = 0; k < payments; k++) {
      if (k % 2 === 0) { five.push(await once(0, long)); one.push(await once(4, short)) } else { one.push(await once(4, short)); five.push(await once(0, long)) }
    }
    // what each party owes the next: every 5-hop payment crossed every line, 1-hop ones only 4-5
    const n = BigInt(payments + 1)
    for (let i = 0; i < 5; i++) {
      await until(`line ${i} agrees on both sides`, async () => (await tl(i).show(lines[i])).head === (await tl(i + 1).show(lines[i])).head)
      const x = await tl(i).store.load(lines[i])
      const y = await tl(i + 1).store.load(lines[i])
      if (!x || !y || JSON.stringify(x.entries) !== JSON.stringify(y.entries)) throw new Error(`bench: line ${i} differs between its parties`)
      if (x.state.htlcs.length !== 0) throw new Error(`bench: line ${i} still holds an htlc`)
      const owed = sideOf(x.state, did(i)) === 'A' ? x.state.balance : -x.state.balance
      const expected = AMOUNT * (i === 4 ? 2n * n : n)
      if (owed !== expected) throw new Error(`bench: on line ${i} party ${i} owes ${owed}, expected ${expected}`)
    }
    const note = (what: string) => `${what}; 7 GrowrNodes on a loopback HyperDHT testnet (6 parties in a chain, 1 relay; set up in ${(setupMs / 1000).toFixed(1)} s), ${payments} payments of 100.00 CAD each way after one warm-up each, routes asked of the relay beforehand; ends checked: no htlc left, identical signed chains on both sides, every balance as paid`
    return [
      result('5-hop commit p50, 7-node testnet', payments, percentile(five, 0.5), 'ms', percentile(one, 0.5), note('a payment over 5 hops until it has committed on every hop (10 htlc updates signed by both parties of each line) vs a 1-hop payment between two directly connected parties (2 updates)')),
      result('5-hop commit p95, 7-node testnet', payments, percentile(five, 0.95), 'ms', percentile(one, 0.95), note('p95 of the same runs'))
    ]
  } finally {
    for (let i = services.length - 1; i >= 0; i--) await services[i].close().catch(() => {})
    for (const node of nodes) await node.close().catch(() => {})
    for (const d of dhts) await d.destroy().catch(() => {})
    await testnet.destroy()
  }
}
