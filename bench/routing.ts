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
 * The ratio is on p50. The 5-hop commit on a testnet is not measured here yet (see the README).
 */
import { CreditGraph } from '../core/credit/routing.ts'
import { now, result, type BenchResult } from './lib/util.ts'

function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

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
