import test from 'brittle'
import { CreditGraph, type GraphLine, type Route } from '../core/credit/routing.ts'
import { rng } from './helpers/rng.ts'


const line = (id: string, x: string, y: string, lx: bigint, ly: bigint, cap: bigint | null = null, asset = 'CAD'): GraphLine =>
  ({ trustline: id, parties: [x, y], asset, limits: [lx, ly], cap })

function randomGraph (seed: number, parties: number, lines: number): CreditGraph {
  const r = rng(seed)
  const g = new CreditGraph()
  for (let i = 0; i < lines; i++) {
    const x = Math.floor(r() * parties)
    let y = Math.floor(r() * parties)
    if (y === x) y = (y + 1) % parties
    const cap = r() < 0.2 ? BigInt(1 + Math.floor(r() * 5000)) : null
    g.upsert(line(`line${i}`, `p${x}`, `p${y}`, BigInt(Math.floor(r() * 10_000)), BigInt(Math.floor(r() * 10_000)), cap))
  }
  return g
}

function checkRoute (t: { ok (x: unknown, m?: string): void; fail (m?: string): void }, r: Route, from: string, to: string, amount: bigint, maxHops: number): boolean {
  let at = from
  const seen = new Set([from])
  for (const h of r.hops) {
    if (h.from !== at || seen.has(h.to) || h.bound < amount) return false
    seen.add(h.to)
    at = h.to
  }
  return at === to && r.hops.length <= maxHops
}

test('routing - the first route is as short as a plain Dijkstra finds, within the hop cap, on random graphs', async (t) => {
  let compared = 0
  let found = 0
  let beyond = 0
  for (let seed = 1; seed <= 6; seed++) {
    const g = randomGraph(seed, 300, 900)
    const r = rng(seed * 7919)
    for (let q = 0; q < 60; q++) {
      const from = `p${Math.floor(r() * 300)}`
      const to = `p${Math.floor(r() * 300)}`
      if (from === to) continue
      const amount = BigInt(1 + Math.floor(r() * 12_000))
      const ours = g.findRoutes({ from, to, asset: 'CAD', amount, maxHops: 5, k: 3 })
      const base = g.dijkstra(from, to, 'CAD', amount)
      if (!ours.ok) { t.fail(ours.reason); return }
      compared++
      if (base === null) {
        if (ours.routes.length !== 0) { t.fail(`a route where Dijkstra finds none (${from} -> ${to})`); return }
        continue
      }
      if (base.length > 5) {
        beyond++
        if (ours.routes.length !== 0) { t.fail('a route beyond the hop cap'); return }
        continue
      }
      found++
      if (ours.routes.length === 0 || ours.routes[0].hops.length !== base.length) { t.fail(`shortest ${base.length} hops by Dijkstra, ours ${ours.routes[0]?.hops.length ?? 'none'} (${from} -> ${to}, ${amount})`); return }
      for (const route of ours.routes) if (!checkRoute(t, route, from, to, amount, 5)) { t.fail('a route that is not a loopless chain from payer to payee, each hop able to carry the amount'); return }
      for (let i = 1; i < ours.routes.length; i++) if (ours.routes[i].hops.length < ours.routes[i - 1].hops.length) { t.fail('routes not shortest first'); return }
      const keys = ours.routes.map((x) => x.hops.map((h) => h.trustline + h.from).join())
      if (new Set(keys).size !== keys.length) { t.fail('the same route twice'); return }
    }
  }
  t.ok(found > 100, `${found} queries with a route within 5 hops agree with Dijkstra on its length (${compared} compared, ${beyond} only beyond 5 hops)`)
})

test('routing - hops whose limits or cap cannot carry the amount are left out; direction matters', async (t) => {
  const g = new CreditGraph()
  // x -> y: x may owe y what y extends (200) plus what y may owe x (50): at most 250; capped at 100 on line 'xy-capped'
  g.upsert(line('line-xy-1', 'x', 'y', 50n, 200n))
  g.upsert(line('line-yz-1', 'y', 'z', 0n, 1000n))
  let r = g.findRoutes({ from: 'x', to: 'z', asset: 'CAD', amount: 250n })
  t.ok(r.ok && r.routes.length === 1 && r.routes[0].hops.length === 2, '250 fits by the limits')
  t.is(r.ok && r.routes[0].width, 200n, 'the width is what the hops carry at zero balance (200 from y)')
  r = g.findRoutes({ from: 'x', to: 'z', asset: 'CAD', amount: 251n })
  t.alike(r, { ok: true, routes: [] }, '251 cannot fit whatever the balances')
  g.upsert(line('line-xy-1', 'x', 'y', 50n, 200n, 100n))
  r = g.findRoutes({ from: 'x', to: 'z', asset: 'CAD', amount: 101n })
  t.alike(r, { ok: true, routes: [] }, 'a re-announced cap of 100 leaves out 101')
  r = g.findRoutes({ from: 'x', to: 'z', asset: 'CAD', amount: 100n })
  t.is(r.ok && r.routes[0].hops[0].cap, 100n, 'and carries 100, the hop naming its cap')
  // z -> y: z may owe y what y extends to z (0) plus what y may owe z (1000)
  r = g.findRoutes({ from: 'z', to: 'x', asset: 'CAD', amount: 100n })
  t.ok(r.ok && r.routes.length === 1, 'the other way round by the sum of limits too')
  r = g.findRoutes({ from: 'x', to: 'z', asset: 'EUR', amount: 1n })
  t.alike(r, { ok: true, routes: [] }, 'no route in another asset')
  g.remove('line-yz-1')
  r = g.findRoutes({ from: 'x', to: 'z', asset: 'CAD', amount: 1n })
  t.alike(r, { ok: true, routes: [] }, 'a removed line carries nothing')
  t.is(g.size, 1)
})

test('routing - k loopless routes, shortest then widest first, none beyond maxHops', async (t) => {
  const g = new CreditGraph()
  // s -> t directly (narrow), through a (wide), through b (wider), and a 6-hop chain
  g.upsert(line('line-st-00', 's', 't', 0n, 10n))
  g.upsert(line('line-sa-00', 's', 'a', 0n, 500n))
  g.upsert(line('line-at-00', 'a', 't', 0n, 500n))
  g.upsert(line('line-sb-00', 's', 'b', 0n, 900n))
  g.upsert(line('line-bt-00', 'b', 't', 0n, 900n))
  const chain = ['s', 'c1', 'c2', 'c3', 'c4', 'c5', 't']
  for (let i = 0; i + 1 < chain.length; i++) g.upsert(line(`line-chain-${i}`, chain[i], chain[i + 1], 0n, 9999n))
  const r = g.findRoutes({ from: 's', to: 't', asset: 'CAD', amount: 5n, k: 10 })
  if (!r.ok) return t.fail(r.reason)
  t.alike(r.routes.map((x) => x.hops.map((h) => h.to).join('>')), ['t', 'b>t', 'a>t'], 'direct first, then the wider two-hop route; the 6-hop chain is beyond 5 hops')
  const r6 = g.findRoutes({ from: 's', to: 't', asset: 'CAD', amount: 5n, k: 10, maxHops: 6 })
  t.is(r6.ok && r6.routes.length, 4, 'with maxHops 6 the chain is a fourth route')
  const r1 = g.findRoutes({ from: 's', to: 't', asset: 'CAD', amount: 11n, k: 10 })
  t.alike(r1.ok && r1.routes.map((x) => x.hops.length), [2, 2], 'the direct line cannot carry 11')
  const again = g.findRoutes({ from: 's', to: 't', asset: 'CAD', amount: 5n, k: 10 })
  t.alike(again, r, 'the same query gives the same routes (deterministic)')
})

test('routing - malformed queries are refused with a reason, never thrown', async (t) => {
  const g = new CreditGraph()
  g.upsert(line('line-xy-1', 'x', 'y', 1n, 1n))
  const bad = [
    { from: 'x', to: 'x', asset: 'CAD', amount: 1n },
    { from: 'x', to: 'y', asset: 'CAD', amount: 0n },
    { from: 'x', to: 'y', asset: 'CAD', amount: -5n },
    { from: 'x', to: 'y', asset: 'CAD', amount: 1 as unknown as bigint },
    { from: 'x', to: 'y', asset: 'CAD', amount: 1n, maxHops: 0 },
    { from: 'x', to: 'y', asset: 'CAD', amount: 1n, maxHops: 11 },
    { from: 'x', to: 'y', asset: 'CAD', amount: 1n, k: 0 },
    { from: 'x', to: 'y', asset: 'CAD', amount: 1n, k: 1.5 },
    { from: '', to: 'y', asset: 'CAD', amount: 1n },
    null
  ]
  for (const q of bad) {
    const r = g.findRoutes(q as never)
    t.ok(!r.ok && r.reason.length > 0, `refused: ${r.ok ? 'accepted!' : r.reason}`)
  }
  t.alike(g.findRoutes({ from: 'x', to: 'nobody', asset: 'CAD', amount: 1n }), { ok: true, routes: [] }, 'an unknown party has no route')
  try {
    g.upsert(line('line-xx-1', 'x', 'x', 1n, 1n))
    t.fail('a line to oneself was taken')
  } catch (err) {
    t.is((err as { code?: string }).code, 'BAD_ARGUMENT', 'a line to oneself is refused')
  }
})
