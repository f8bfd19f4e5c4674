/**
 * Route search over the public credit graph: which chains of trustlines could carry a payment
 * of `amount` from one DID to another. Pure: no I/O, no clock, no randomness; the same graph and
 * query give the same routes on every platform.
 *
 * What a relay knows of a trustline is what both parties announced (core/credit/relay.ts): its
 * asset, the limit each side extends and an optional cap per payment. It never sees the balance,
 * so a hop's capacity can only be bounded, never known. For a payment X -> Y over the line:
 *   X may fall into debt to Y up to the limit Y extends to X, and may first use up what Y owes
 *   X, which is at most the limit X extends to Y (FOAF BalanceMath: capacity = creditline
 *   received + balance). So
 *     bound(X -> Y)   = min(cap, limit(Y -> X) + limit(X -> Y))   the most it could ever carry
 *     nominal(X -> Y) = min(cap, limit(Y -> X))                   what it carries at zero balance
 * A hop whose bound is below the amount can never carry it and is left out; the others are only
 * proposals, which each hop re-checks against its real balance (core/credit/payment.ts).
 *
 * Algorithm: Yen's k shortest loopless paths (J. Y. Yen, "Finding the k shortest loopless paths
 * in a network", Management Science 17(11), 1971) on hop count, over the sub-graph of hops whose
 * bound covers the amount, capped at `maxHops` (default 5). Each shortest-path call is a
 * bidirectional breadth-first search (unit weights, so BFS is exact; growing the smaller
 * frontier meets in the middle and touches about 2·d^(h/2) nodes instead of d^h). Among routes of
 * equal length the one with the larger width (the smallest nominal over its hops) comes first,
 * since it is the likelier to fit the hops' real balances; then the route's trustline ids, so
 * the order is total and deterministic. Fewer hops first because every hop is a party that must
 * be online, sign twice and lock credit until expiry.
 *
 * {@link dijkstra} is the textbook single-source search on the same graph, kept as the
 * benchmark's baseline and as the tests' cross-check of the shortest length.
 */
import { GrowrError } from '../errors.ts'

/** Default most hops in a route (issue 13). */
export const DEFAULT_MAX_HOPS = 5
/** Largest `maxHops` a query may ask for. */
export const MAX_HOPS_LIMIT = 10
/** Default number of route proposals. */
export const DEFAULT_ROUTES = 3
/** Largest number of route proposals a query may ask for. */
export const MAX_ROUTES = 10

/** A trustline as the routing graph needs it: the announced, public fields. Amounts: minor units. */
export interface GraphLine {
  /** the trustline's id (as the parties' state names it) */
  trustline: string
  /** the two parties; limits[i] is the credit parties[i] extends to the other */
  parties: readonly [string, string]
  asset: string
  limits: readonly [bigint, bigint]
  /** most one payment may carry over this line, either way; null for none */
  cap: bigint | null
}

/** One hop of a proposed route, in the payment's direction. */
export interface RouteHop {
  trustline: string
  from: string
  to: string
  /** the most this hop could carry (limits and cap), minor units */
  bound: bigint
  /** what it carries at zero balance (the limit `to` extends to `from`, capped), minor units */
  nominal: bigint
  /** the line's announced cap per payment, or null */
  cap: bigint | null
}

/** A proposed route: hops from payer to payee, each hop's `to` the next hop's `from`. */
export interface Route {
  hops: RouteHop[]
  /** smallest nominal over the hops */
  width: bigint
}

/** A route request. */
export interface RouteQuery {
  from: string
  to: string
  asset: string
  /** minor units, > 0 */
  amount: bigint
  /** most hops per route, 1..MAX_HOPS_LIMIT (default 5) */
  maxHops?: number
  /** most routes returned, 1..MAX_ROUTES (default 3) */
  k?: number
}

export type RouteResult = { ok: true; routes: Route[] } | { ok: false; reason: string }

/**
 * The public credit graph, indexed for route search: directed edges both ways for every line,
 * adjacency both ways (the backward half of the search walks incoming edges). Mutable (a relay
 * updates it as announcements arrive) but free of I/O; updates cost O(degree).
 */
export class CreditGraph {
  private readonly ids = new Map<string, number>()
  private readonly names: string[] = []
  private readonly assets = new Map<string, number>()
  private readonly out: number[][] = []
  private readonly inn: number[][] = []
  private readonly eFrom: number[] = []
  private readonly eTo: number[] = []
  private readonly eAsset: number[] = []
  private readonly eBound: bigint[] = []
  private readonly eNominal: bigint[] = []
  private readonly eCap: Array<bigint | null> = []
  private readonly eLine: string[] = []
  private readonly free: number[] = []
  /** trustline id -> its two directed edges (parties[0] -> parties[1], then back) */
  private readonly lines = new Map<string, [number, number]>()
  // search scratch, reused across searches; a generation stamp clears them in O(1)
  private stampF = new Int32Array(0)
  private stampB = new Int32Array(0)
  private stampX = new Int32Array(0)
  private parentF = new Int32Array(0)
  private parentB = new Int32Array(0)
  private depthF = new Int32Array(0)
  private depthB = new Int32Array(0)
  private gen = 0

  /** Live trustlines. */
  get size (): number { return this.lines.size }

  /** Parties that appear in at least one line ever added. */
  get parties (): number { return this.names.length }

  /**
   * Adds a line, or replaces the one held under the same trustline id.
   * @throws BAD_ARGUMENT for a line whose parties are equal, or a negative limit or cap
   */
  upsert (line: GraphLine): void {
    const [a, b] = line.parties
    if (a === b) throw GrowrError.BAD_ARGUMENT('a trustline joins two different parties')
    if (line.limits[0] < 0n || line.limits[1] < 0n || (line.cap !== null && line.cap < 0n)) throw GrowrError.BAD_ARGUMENT('limits and cap are not negative')
    this.remove(line.trustline)
    const ia = this.intern(a)
    const ib = this.intern(b)
    const asset = this.assetId(line.asset)
    const sum = line.limits[0] + line.limits[1]
    const capped = (x: bigint) => line.cap !== null && line.cap < x ? line.cap : x
    // a -> b: a may owe b up to what b extends (limits[1]), plus what b owes a
    const ab = this.edge(ia, ib, asset, capped(sum), capped(line.limits[1]), line.cap, line.trustline)
    const ba = this.edge(ib, ia, asset, capped(sum), capped(line.limits[0]), line.cap, line.trustline)
    this.lines.set(line.trustline, [ab, ba])
  }

  /** Removes a line; nothing happens when it is not held. */
  remove (trustline: string): void {
    const held = this.lines.get(trustline)
    if (!held) return
    for (const e of held) {
      const o = this.out[this.eFrom[e]]
      o.splice(o.indexOf(e), 1)
      const i = this.inn[this.eTo[e]]
      i.splice(i.indexOf(e), 1)
      this.eLine[e] = ''
      this.free.push(e)
    }
    this.lines.delete(trustline)
  }

  /** Whether a trustline id is held. */
  has (trustline: string): boolean { return this.lines.has(trustline) }

  /**
   * Route proposals for a payment, by the algorithm in the module comment.
   * @returns up to `k` routes, shortest first; `{ ok: true, routes: [] }` when none fits;
   *   `{ ok: false, reason }` for a malformed query. Never throws.
   */
  findRoutes (q: RouteQuery): RouteResult {
    const bad = checkQuery(q)
    if (bad) return { ok: false, reason: bad }
    const maxHops = q.maxHops ?? DEFAULT_MAX_HOPS
    const k = q.k ?? DEFAULT_ROUTES
    const s = this.ids.get(q.from)
    const t = this.ids.get(q.to)
    const asset = this.assets.get(q.asset)
    if (s === undefined || t === undefined || asset === undefined) return { ok: true, routes: [] }
    const first = this.shortest(s, t, [], new Set(), maxHops, q.amount, asset)
    if (!first) return { ok: true, routes: [] }
    const chosen: number[][] = [first]
    const seen = new Set<string>([first.join(',')])
    const candidates: number[][] = []
    while (chosen.length < k) {
      const prev = chosen[chosen.length - 1]
      for (let i = 0; i < prev.length; i++) {
        const root = prev.slice(0, i)
        const spur = i === 0 ? s : this.eTo[prev[i - 1]]
        const blockedEdges = new Set<number>()
        for (const p of chosen) if (p.length > i && sameStart(p, root)) blockedEdges.add(p[i])
        // the root's nodes may not be visited again: routes stay loopless
        const blockedNodes = [s, ...root.map((e) => this.eTo[e])].filter((n) => n !== spur)
        const tail = this.shortest(spur, t, blockedNodes, blockedEdges, maxHops - i, q.amount, asset)
        if (!tail) continue
        const path = [...root, ...tail]
        const key = path.join(',')
        if (seen.has(key)) continue
        seen.add(key)
        candidates.push(path)
      }
      if (candidates.length === 0) break
      candidates.sort((x, y) => this.compare(x, y))
      chosen.push(candidates.shift() as number[])
    }
    chosen.sort((x, y) => this.compare(x, y))
    return { ok: true, routes: chosen.map((p) => this.route(p)) }
  }

  /**
   * Baseline: textbook Dijkstra (binary heap, unit weight per hop) from `from` until `to` is
   * settled, over edges whose bound covers the amount, with no hop cap and one path.
   * @returns the hops of one shortest route, or null when none exists
   */
  dijkstra (from: string, to: string, asset: string, amount: bigint): RouteHop[] | null {
    const s = this.ids.get(from)
    const t = this.ids.get(to)
    const a = this.assets.get(asset)
    if (s === undefined || t === undefined || a === undefined || s === t) return null
    const n = this.names.length
    const dist = new Float64Array(n).fill(Infinity)
    const parent = new Int32Array(n).fill(-1)
    const done = new Uint8Array(n)
    const heap = new MinHeap()
    dist[s] = 0
    heap.push(0, s)
    while (heap.size > 0) {
      const [d, u] = heap.pop()
      if (done[u]) continue
      done[u] = 1
      if (u === t) break
      for (const e of this.out[u]) {
        if (this.eAsset[e] !== a || this.eBound[e] < amount) continue
        const v = this.eTo[e]
        const nd = d + 1
        if (nd < dist[v]) {
          dist[v] = nd
          parent[v] = e
          heap.push(nd, v)
        }
      }
    }
    if (!done[t]) return null
    const edges: number[] = []
    for (let v = t; v !== s; v = this.eFrom[parent[v]]) edges.push(parent[v])
    return this.route(edges.reverse()).hops
  }

  private intern (did: string): number {
    let i = this.ids.get(did)
    if (i !== undefined) return i
    i = this.names.length
    this.ids.set(did, i)
    this.names.push(did)
    this.out.push([])
    this.inn.push([])
    return i
  }

  private assetId (asset: string): number {
    let i = this.assets.get(asset)
    if (i === undefined) this.assets.set(asset, i = this.assets.size)
    return i
  }

  private edge (from: number, to: number, asset: number, bound: bigint, nominal: bigint, cap: bigint | null, line: string): number {
    const e = this.free.length > 0 ? (this.free.pop() as number) : this.eFrom.length
    this.eFrom[e] = from
    this.eTo[e] = to
    this.eAsset[e] = asset
    this.eBound[e] = bound
    this.eNominal[e] = nominal
    this.eCap[e] = cap
    this.eLine[e] = line
    this.out[from].push(e)
    this.inn[to].push(e)
    return e
  }

  private route (edges: number[]): Route {
    const hops = edges.map((e) => ({ trustline: this.eLine[e], from: this.names[this.eFrom[e]], to: this.names[this.eTo[e]], bound: this.eBound[e], nominal: this.eNominal[e], cap: this.eCap[e] }))
    let width = hops[0].nominal
    for (const h of hops) if (h.nominal < width) width = h.nominal
    return { hops, width }
  }

  private width (edges: number[]): bigint {
    let w = this.eNominal[edges[0]]
    for (const e of edges) if (this.eNominal[e] < w) w = this.eNominal[e]
    return w
  }

  /** Fewer hops, then wider, then by trustline ids: a total order. */
  private compare (x: number[], y: number[]): number {
    if (x.length !== y.length) return x.length - y.length
    const wx = this.width(x)
    const wy = this.width(y)
    if (wx !== wy) return wx > wy ? -1 : 1
    for (let i = 0; i < x.length; i++) {
      const lx = this.eLine[x[i]]
      const ly = this.eLine[y[i]]
      if (lx !== ly) return lx < ly ? -1 : 1
      if (x[i] !== y[i]) return this.eFrom[x[i]] - this.eFrom[y[i]]
    }
    return 0
  }

  private scratch (): void {
    const n = this.names.length
    if (this.stampF.length < n) {
      const size = Math.max(n, this.stampF.length * 2, 64)
      this.stampF = new Int32Array(size)
      this.stampB = new Int32Array(size)
      this.stampX = new Int32Array(size)
      this.parentF = new Int32Array(size)
      this.parentB = new Int32Array(size)
      this.depthF = new Int32Array(size)
      this.depthB = new Int32Array(size)
      this.gen = 0
    }
    if (++this.gen === 0x7fffffff) {
      this.stampF.fill(0)
      this.stampB.fill(0)
      this.stampX.fill(0)
      this.gen = 1
    }
  }

  /**
   * Bidirectional BFS from s to t in at most `maxDepth` hops, avoiding `blockedNodes` and
   * `blockedEdges`, over edges of `asset` whose bound covers `amount`.
   * @returns the edges of one shortest path, or null
   */
  private shortest (s: number, t: number, blockedNodes: number[], blockedEdges: Set<number>, maxDepth: number, amount: bigint, asset: number): number[] | null {
    if (s === t || maxDepth < 1) return null
    this.scratch()
    const g = this.gen
    const { stampF, stampB, stampX, parentF, parentB, depthF, depthB } = this
    for (const n of blockedNodes) stampX[n] = g
    stampF[s] = g
    parentF[s] = -1
    depthF[s] = 0
    stampB[t] = g
    parentB[t] = -1
    depthB[t] = 0
    let front = [s]
    let back = [t]
    let df = 0
    let db = 0
    const usable = (e: number) => this.eAsset[e] === asset && this.eBound[e] >= amount && !blockedEdges.has(e)
    while (front.length > 0 && back.length > 0 && df + db < maxDepth) {
      let meet = -1
      let meetLen = Infinity
      if (front.length <= back.length) {
        const next: number[] = []
        for (const u of front) {
          for (const e of this.out[u]) {
            if (!usable(e)) continue
            const v = this.eTo[e]
            if (stampX[v] === g || stampF[v] === g) continue
            stampF[v] = g
            parentF[v] = e
            depthF[v] = df + 1
            if (stampB[v] === g) {
              const len = df + 1 + depthB[v]
              if (len < meetLen) { meetLen = len; meet = v }
            }
            next.push(v)
          }
        }
        front = next
        df++
      } else {
        const next: number[] = []
        for (const u of back) {
          for (const e of this.inn[u]) {
            if (!usable(e)) continue
            const v = this.eFrom[e]
            if (stampX[v] === g || stampB[v] === g) continue
            stampB[v] = g
            parentB[v] = e
            depthB[v] = db + 1
            if (stampF[v] === g) {
              const len = depthF[v] + db + 1
              if (len < meetLen) { meetLen = len; meet = v }
            }
            next.push(v)
          }
        }
        back = next
        db++
      }
      if (meet >= 0) {
        const edges: number[] = []
        for (let v = meet; v !== s; v = this.eFrom[parentF[v]]) edges.push(parentF[v])
        edges.reverse()
        for (let v = meet; v !== t; v = this.eTo[parentB[v]]) edges.push(parentB[v])
        return edges.length <= maxDepth ? edges : null
      }
    }
    return null
  }
}

function sameStart (path: number[], root: number[]): boolean {
  for (let i = 0; i < root.length; i++) if (path[i] !== root[i]) return false
  return true
}

/** @returns why a query is malformed, in plain words, or null */
function checkQuery (q: RouteQuery): string | null {
  if (q === null || typeof q !== 'object') return 'a route query is an object'
  if (typeof q.from !== 'string' || typeof q.to !== 'string' || q.from.length === 0 || q.to.length === 0) return 'from and to name the payer and the payee'
  if (q.from === q.to) return 'the payer and the payee are the same party'
  if (typeof q.asset !== 'string' || q.asset.length === 0) return 'the asset is missing'
  if (typeof q.amount !== 'bigint' || q.amount <= 0n) return 'the amount is a whole number of minor units above zero'
  if (q.maxHops !== undefined && (!Number.isSafeInteger(q.maxHops) || q.maxHops < 1 || q.maxHops > MAX_HOPS_LIMIT)) return `maxHops is a whole number from 1 to ${MAX_HOPS_LIMIT}`
  if (q.k !== undefined && (!Number.isSafeInteger(q.k) || q.k < 1 || q.k > MAX_ROUTES)) return `k is a whole number from 1 to ${MAX_ROUTES}`
  return null
}

/** A binary min-heap of (priority, node) pairs, for the baseline. */
class MinHeap {
  private readonly keys: number[] = []
  private readonly vals: number[] = []
  get size (): number { return this.keys.length }
  push (k: number, v: number): void {
    const keys = this.keys
    const vals = this.vals
    let i = keys.length
    keys.push(k)
    vals.push(v)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (keys[p] <= k) break
      keys[i] = keys[p]
      vals[i] = vals[p]
      i = p
    }
    keys[i] = k
    vals[i] = v
  }

  pop (): [number, number] {
    const keys = this.keys
    const vals = this.vals
    const top: [number, number] = [keys[0], vals[0]]
    const k = keys.pop() as number
    const v = vals.pop() as number
    const n = keys.length
    if (n > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        const c = r < n && keys[r] < keys[l] ? r : l
        if (keys[c] >= k) break
        keys[i] = keys[c]
        vals[i] = vals[c]
        i = c
      }
      keys[i] = k
      vals[i] = v
    }
    return top
  }
}
