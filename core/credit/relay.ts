/**
 * Credit relays: anyone may run one (`growr relay`). A relay indexes the public credit graph,
 * which trustlines exist, between whom, in which asset, with what limits and cap per payment,
 * as BOTH parties announced it, and answers route requests over it (core/credit/routing.ts).
 * It never sees a balance or a history: the announcement has no field for them, and the relay
 * keeps only the fields below, rebuilt one by one from what it checked.
 *
 * Announcement, version 1 (JSON; amounts are decimal strings of integer minor units), with the
 * names of the trustline state (books/trustline/types.ts):
 *   { v: 1, trustline, a, b (a < b), asset, limitAtoB, limitBtoA, cap, seq, issuedAt, expiresAt,
 *     signatures: [sigA, sigB] }
 *   limitAtoB = the most A may owe B (the credit B extends to A); limitBtoA the other way
 *   cap       = the most one payment may move over the line, either way, or null
 *   seq       = grows with each announcement of the line (a relay keeps the highest)
 *   signatures = Ed25519 (hex) by a, then by b, over
 *                "growr/credit/announce/v1" 0x00 || JCS (RFC 8785) of the body (all but signatures)
 * Lifetime at most MAX_ANNOUNCEMENT_TTL_MS; the parties announce again before it ends.
 *
 * Wire (core/network/peer-rpc.ts, authenticated by DID):
 *   credit/relay/announce { announcement }           -> { stored, reason? }
 *   credit/relay/routes   { from, to, asset, amount, maxHops?, k? }
 *                         -> { routes: [{ hops: [{ trustline, from, to }] }], announcements: [...] }
 *   credit/relay/lines    { after?, limit? }         -> { announcements, next }
 * Relays meet on the swarm topic RELAY_TOPIC (and are listed in the ads as service 'relay'),
 * gossip announcements on the pubsub topic 'credit/graph', and pull each other's pages when
 * they meet. A route answer carries the announcements of its hops, so the payer checks every
 * hop was signed by both of its parties: a hostile relay can withhold routes but not invent them.
 *
 * A trustline id is not tied to its parties here: it hashes the trustline's terms, which hold
 * its opening balance, and a relay never sees a balance. So anyone with two DIDs can sign an
 * announcement naming someone else's id. That is harmless because nothing is keyed by the id
 * alone: a relay holds one record per (id, a, b, asset) (core/credit/relay-store.ts), a payer
 * finds a hop's announcement by (id, from, to, asset), and a payment over a hop goes to the
 * hop's two parties, who know their own lines. Another pair's record under the same id never
 * blocks, replaces or stands in for the real one.
 *
 * Rate limits (token buckets per minute): announcements per sender DID on the wire
 * (maxAnnouncePerMinute) and per gossip publisher (maxGossipPerMinute); and, for announcements
 * that would change what the relay holds, per signing party (maxPerSignerPerMinute), charged only
 * once both signatures hold, so junk naming a party cannot spend that party's budget.
 */
import '../runtime/text-encoding.ts'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import Hyperbee from 'hyperbee'
import type Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import type { PeerDiscovery } from 'hyperswarm'
import { canonicalBytes } from '../../books/ops/envelope.ts'
import { sign, verify } from '../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'
import type { PeerRpc } from '../network/peer-rpc.ts'
import type { PubSub, PubSubMessage } from '../network/pubsub.ts'
import { RelayStore, lineKey } from './relay-store.ts'
import { DEFAULT_MAX_HOPS, DEFAULT_ROUTES, MAX_HOPS_LIMIT, MAX_ROUTES, type Route } from './routing.ts'

/** The only announcement version. */
export const ANNOUNCEMENT_VERSION = 1
/** Longest lifetime of an announcement (expiresAt - issuedAt), ms: 7 days. */
export const MAX_ANNOUNCEMENT_TTL_MS = 7 * 24 * 3600_000
/** How far ahead of the relay's clock `issuedAt` may be, ms. */
export const MAX_SKEW_MS = 60_000
/** Pubsub topic of announcements. */
export const GRAPH_TOPIC = 'credit/graph'
export const ANNOUNCE_METHOD = 'credit/relay/announce'
export const ROUTES_METHOD = 'credit/relay/routes'
export const LINES_METHOD = 'credit/relay/lines'
/** Most announcements per `credit/relay/lines` page. */
export const MAX_PAGE = 500
/** Swarm topic on which relays meet: BLAKE2b-256 of 'growr/credit/relays/v1'. */
export const RELAY_TOPIC: Uint8Array = (() => {
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, b4a.from('growr/credit/relays/v1'))
  return out
})()

const DOMAIN = b4a.from('growr/credit/announce/v1\0')
const AMOUNT_RE = /^(0|[1-9][0-9]{0,29})$/
const ID_RE = /^[A-Za-z0-9_-]{8,128}$/
const ASSET_RE = /^[A-Z0-9]{3,12}$/
const HEX_SIG_RE = /^[0-9a-f]{128}$/
const BODY_KEYS = ['v', 'trustline', 'a', 'b', 'asset', 'limitAtoB', 'limitBtoA', 'cap', 'seq', 'issuedAt', 'expiresAt']

/** The signed fields of an announcement. */
export interface AnnouncementBody {
  v: 1
  /** the trustline's id, as its parties' state names it */
  trustline: string
  /** the parties, a < b (JS string order), as the trustline's terms name them */
  a: DidKey
  b: DidKey
  /** asset code, 3..12 of A-Z 0-9, e.g. CAD */
  asset: string
  /** the most a may owe b (the credit b extends to a), decimal string of minor units */
  limitAtoB: string
  /** the most b may owe a (the credit a extends to b), decimal string of minor units */
  limitBtoA: string
  /** most one payment may move over the line, decimal string of minor units; null for none */
  cap: string | null
  seq: number
  /** ms */
  issuedAt: number
  /** ms */
  expiresAt: number
}

/** An announcement signed by both parties: signatures[0] by a, [1] by b, hex. */
export interface Announcement extends AnnouncementBody { signatures: [string, string] }

export type AnnouncementCheck = { ok: true; announcement: Announcement } | { ok: false; reason: string }

/** The bytes each party signs. @throws BAD_ARGUMENT for a body with no JSON form */
export function announcementMessage (body: AnnouncementBody): Uint8Array {
  const only: Record<string, unknown> = {}
  for (const k of BODY_KEYS) only[k] = (body as unknown as Record<string, unknown>)[k]
  return b4a.concat([DOMAIN, canonicalBytes(only)])
}

/**
 * One party's signature of an announcement body. Pure.
 * @param body the body (parties ascending)
 * @param identity the signing party's DID and 64-byte secret key
 * @returns the signature, hex
 * @throws BAD_ARGUMENT when the identity is not one of the body's parties
 */
export function signAnnouncement (body: AnnouncementBody, identity: { did: DidKey; secretKey: Uint8Array }): string {
  if (body.a !== identity.did && body.b !== identity.did) throw GrowrError.BAD_ARGUMENT('only a party of the trustline signs its announcement')
  return b4a.toString(sign(announcementMessage(body), identity.secretKey), 'hex')
}

/**
 * Builds an announcement body. Pure.
 * @param line the trustline's id, parties (a < b), asset and limits as its state holds them
 *   (minor units), the cap per payment the parties agreed (or null), and the announcement's seq
 *   and lifetime (ms)
 * @throws BAD_ARGUMENT for parties out of order, negative amounts or a lifetime out of bounds
 */
export function announcementBody (line: { trustline: string; a: DidKey; b: DidKey; asset: string; limitAtoB: bigint; limitBtoA: bigint; cap: bigint | null; seq: number; issuedAt: number; expiresAt: number }): AnnouncementBody {
  const amount = (x: bigint) => {
    if (typeof x !== 'bigint' || x < 0n) throw GrowrError.BAD_ARGUMENT('limits and cap are whole numbers of minor units, not negative')
    return x.toString()
  }
  const body: AnnouncementBody = {
    v: 1,
    trustline: line.trustline,
    a: line.a,
    b: line.b,
    asset: line.asset,
    limitAtoB: amount(line.limitAtoB),
    limitBtoA: amount(line.limitBtoA),
    cap: line.cap === null ? null : amount(line.cap),
    seq: line.seq,
    issuedAt: line.issuedAt,
    expiresAt: line.expiresAt
  }
  const bad = bodyProblem(body as unknown as Record<string, unknown>)
  if (bad) throw GrowrError.BAD_ARGUMENT(bad)
  return body
}

function bodyProblem (m: Record<string, unknown>): string | null {
  if (m.v !== ANNOUNCEMENT_VERSION) return `unknown announcement version ${String(m.v).slice(0, 20)}`
  if (typeof m.trustline !== 'string' || !ID_RE.test(m.trustline)) return 'the trustline id is 8..128 letters, digits, _ or -'
  if (!isDidKey(m.a) || !isDidKey(m.b)) return 'a and b are did:key DIDs'
  if (!(m.a < m.b)) return 'a and b are two different DIDs, a sorting first'
  if (typeof m.asset !== 'string' || !ASSET_RE.test(m.asset)) return 'the asset is a code of 3..12 capital letters and digits'
  for (const k of ['limitAtoB', 'limitBtoA']) {
    const x = m[k]
    if (typeof x !== 'string' || !AMOUNT_RE.test(x)) return `${k} is a decimal string of minor units`
  }
  if (m.cap !== null && (typeof m.cap !== 'string' || !AMOUNT_RE.test(m.cap))) return 'the cap is a decimal string of minor units, or null'
  for (const k of ['seq', 'issuedAt', 'expiresAt']) {
    const x = m[k]
    if (!Number.isSafeInteger(x) || (x as number) < 0) return `${k} is a whole number`
  }
  const ttl = (m.expiresAt as number) - (m.issuedAt as number)
  if (ttl <= 0 || ttl > MAX_ANNOUNCEMENT_TTL_MS) return `an announcement lives more than 0 and at most ${MAX_ANNOUNCEMENT_TTL_MS} ms`
  return null
}

/**
 * Checks an announcement as received: shape (exactly the fields above), bounds, clock, and BOTH
 * parties' signatures. Pure; never throws.
 * @param value the announcement (untrusted JSON)
 * @param opts.now the checker's clock, ms
 * @returns a fresh copy holding only the announced fields, or why it is refused in plain words
 */
export function checkAnnouncement (value: unknown, opts: { now: number }): AnnouncementCheck {
  try {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'an announcement is an object' }
    const m = value as Record<string, unknown>
    const extra = Object.keys(m).filter((k) => k !== 'signatures' && !BODY_KEYS.includes(k))
    if (extra.length > 0) return { ok: false, reason: `an announcement has no field ${extra[0].slice(0, 40)}` }
    const bad = bodyProblem(m)
    if (bad) return { ok: false, reason: bad }
    if ((m.issuedAt as number) > opts.now + MAX_SKEW_MS) return { ok: false, reason: 'issued in the future' }
    if ((m.expiresAt as number) <= opts.now) return { ok: false, reason: 'expired' }
    const sigs = m.signatures
    if (!Array.isArray(sigs) || sigs.length !== 2) return { ok: false, reason: 'an announcement carries the signatures of both parties' }
    const parties = [m.a, m.b] as [DidKey, DidKey]
    const body: AnnouncementBody = {
      v: 1,
      trustline: m.trustline as string,
      a: parties[0],
      b: parties[1],
      asset: m.asset as string,
      limitAtoB: m.limitAtoB as string,
      limitBtoA: m.limitBtoA as string,
      cap: m.cap as string | null,
      seq: m.seq as number,
      issuedAt: m.issuedAt as number,
      expiresAt: m.expiresAt as number
    }
    const message = announcementMessage(body)
    for (let i = 0; i < 2; i++) {
      const s = sigs[i]
      if (typeof s !== 'string' || s.length === 0) return { ok: false, reason: `signed by one party only: ${parties[i]} has not signed` }
      if (!HEX_SIG_RE.test(s) || !verify(message, b4a.from(s, 'hex'), didToPublicKey(parties[i]))) return { ok: false, reason: `the signature of ${parties[i]} does not hold for this announcement` }
    }
    return { ok: true, announcement: { ...body, signatures: [sigs[0] as string, sigs[1] as string] } }
  } catch {
    return { ok: false, reason: 'the announcement cannot be read' }
  }
}

/** A route as it travels: hops only; the payer reads limits and cap from the announcements. */
export interface WireRoute { hops: Array<{ trustline: string; from: DidKey; to: DidKey }> }

/** A route the payer checked against its hops' announcements. */
export interface CheckedRoute {
  hops: Array<{ trustline: string; from: DidKey; to: DidKey; asset: string; cap: bigint | null; announcement: Announcement }>
}

/**
 * Checks a relay's answer to a route request, as the payer must: the relay may be hostile.
 * Each route starts at `from`, ends at `to`, is contiguous and loopless, has at most `maxHops`
 * hops, and every hop is a live trustline in `asset`, announced and signed by both its parties,
 * whose cap (if any) admits `amount`. Pure; never throws.
 * @returns the checked routes, or why the answer is refused (one bad route spoils the answer:
 *   a relay that lies once is not believed)
 */
export function openRoutes (answer: unknown, q: { from: DidKey; to: DidKey; asset: string; amount: bigint; maxHops?: number; now: number }): { ok: true; routes: CheckedRoute[] } | { ok: false; reason: string } {
  try {
    const a = answer as { routes?: unknown; announcements?: unknown } | null
    if (!a || !Array.isArray(a.routes) || !Array.isArray(a.announcements)) return { ok: false, reason: 'the relay answered without routes and announcements' }
    if (a.routes.length > MAX_ROUTES || a.announcements.length > MAX_ROUTES * MAX_HOPS_LIMIT) return { ok: false, reason: 'the relay answered with too many routes' }
    // by line key, not by id: another pair may have signed an announcement under a hop's id
    const byKey = new Map<string, Announcement>()
    for (const x of a.announcements) {
      const c = checkAnnouncement(x, { now: q.now })
      if (!c.ok) return { ok: false, reason: `the relay sent an announcement that does not hold: ${c.reason}` }
      byKey.set(lineKey(c.announcement), c.announcement)
    }
    const maxHops = q.maxHops ?? DEFAULT_MAX_HOPS
    const routes: CheckedRoute[] = []
    for (const r of a.routes as WireRoute[]) {
      if (!r || !Array.isArray(r.hops) || r.hops.length < 1 || r.hops.length > maxHops) return { ok: false, reason: `a route has 1..${maxHops} hops` }
      const visited = new Set<string>([q.from])
      let at: string = q.from
      const hops: CheckedRoute['hops'] = []
      for (const h of r.hops) {
        if (!h || typeof h.trustline !== 'string' || typeof h.from !== 'string' || typeof h.to !== 'string') return { ok: false, reason: 'a hop names no trustline, payer and payee' }
        if (h.from !== at || h.from === h.to) return { ok: false, reason: 'a route is not a chain of announced trustlines from the payer' }
        const [pa, pb] = h.from < h.to ? [h.from, h.to] : [h.to, h.from]
        const ann = byKey.get(lineKey({ trustline: h.trustline, a: pa, b: pb, asset: q.asset }))
        if (!ann) {
          const elsewhere = [...byKey.values()].some((x) => x.trustline === h.trustline && x.a === pa && x.b === pb)
          return { ok: false, reason: elsewhere ? 'a hop is in another asset' : 'a hop has no announcement signed by its two parties' }
        }
        if (visited.has(h.to)) return { ok: false, reason: 'a route visits a party twice' }
        if (ann.asset !== q.asset) return { ok: false, reason: 'a hop is in another asset' }
        const cap = ann.cap === null ? null : BigInt(ann.cap)
        if (cap !== null && cap < q.amount) return { ok: false, reason: 'a hop\'s cap is below the amount' }
        visited.add(h.to)
        at = h.to
        hops.push({ trustline: ann.trustline, from: h.from, to: h.to, asset: ann.asset, cap, announcement: ann })
      }
      if (at !== q.to) return { ok: false, reason: 'a route does not end at the payee' }
      routes.push({ hops })
    }
    return { ok: true, routes }
  } catch {
    return { ok: false, reason: 'the relay\'s answer cannot be read' }
  }
}

/** The part of a PeerRpc a relay client needs. */
export interface RelayRpc {
  request (did: DidKey, method: string, value: unknown, opts?: { timeoutMs?: number }): Promise<unknown>
  connect? (did: DidKey, opts?: { timeoutMs?: number }): Promise<void>
  peers? (): DidKey[]
}

/**
 * Gives an announcement to a relay.
 * @returns whether the relay stored it (false: it already held it), with its reason
 * @throws BAD_ARGUMENT with the relay's reason when it refuses; the rpc's errors otherwise
 */
export async function announceTo (rpc: RelayRpc, relay: DidKey, announcement: Announcement, opts: { timeoutMs?: number } = {}): Promise<{ stored: boolean; reason?: string }> {
  if (rpc.connect && rpc.peers && !rpc.peers().includes(relay)) await rpc.connect(relay, opts)
  const r = await rpc.request(relay, ANNOUNCE_METHOD, { announcement }, opts) as { stored?: unknown; reason?: unknown } | null
  return { stored: r?.stored === true, ...(typeof r?.reason === 'string' ? { reason: r.reason.slice(0, 200) } : {}) }
}

/**
 * Asks a relay for routes and checks its answer ({@link openRoutes}).
 * @param q.amount minor units
 * @returns checked routes, shortest first as the relay ranked them (possibly none)
 * @throws OP_REJECTED when the relay's answer does not hold; the rpc's errors otherwise
 */
export async function routesFrom (rpc: RelayRpc, relay: DidKey, q: { from: DidKey; to: DidKey; asset: string; amount: bigint; maxHops?: number; k?: number; now: number; timeoutMs?: number }): Promise<CheckedRoute[]> {
  if (rpc.connect && rpc.peers && !rpc.peers().includes(relay)) await rpc.connect(relay, { timeoutMs: q.timeoutMs })
  const answer = await rpc.request(relay, ROUTES_METHOD, { from: q.from, to: q.to, asset: q.asset, amount: q.amount.toString(), maxHops: q.maxHops, k: q.k }, { timeoutMs: q.timeoutMs })
  const r = openRoutes(answer, q)
  if (!r.ok) throw GrowrError.OP_REJECTED(`relay ${relay}: ${r.reason}`)
  return r.routes
}

export interface CreditRelayOptions {
  /** the node's Corestore: the relay keeps its announcements in a Hyperbee of its own on it */
  store: Corestore
  /** answer requests on it (absent: the relay only indexes what it is given) */
  rpc?: PeerRpc | null
  /** gossip announcements on GRAPH_TOPIC */
  pubsub?: PubSub | null
  /** join RELAY_TOPIC to meet other relays */
  swarm?: Hyperswarm | null
  /** clock, ms */
  now?: () => number
  maxLines?: number
  maxPerParty?: number
  /** announcements accepted per sender DID per minute (default 120) */
  maxAnnouncePerMinute?: number
  /** gossiped announcements taken per publishing DID per minute (default 600, pubsub's own per-peer default) */
  maxGossipPerMinute?: number
  /** new or newer announcements taken per signing party per minute, wire and gossip alike (default 120) */
  maxPerSignerPerMinute?: number
  /** route requests answered per sender DID per minute (default 60) */
  maxRoutesPerMinute?: number
  /** how often expired lines are pruned, ms (default 60 s) */
  pruneIntervalMs?: number
}

/** What a relay did with announcements, for tests and the CLI. */
export interface RelayStats { stored: number; duplicate: number; refused: number; limited: number; routes: number; synced: number }

/**
 * A relay over a node's rpc, pubsub and swarm. ready() loads its store, then answers the wire
 * methods, subscribes to GRAPH_TOPIC and joins RELAY_TOPIC; close() undoes that in reverse.
 * The rpc, pubsub, swarm and Corestore belong to the caller.
 */
export class CreditRelay extends ReadyResource {
  readonly bee: Hyperbee
  readonly lines: RelayStore
  readonly stats: RelayStats = { stored: 0, duplicate: 0, refused: 0, limited: 0, routes: 0, synced: 0 }
  private readonly opts: CreditRelayOptions
  private readonly now: () => number
  private readonly buckets = new Map<string, { at: number; tokens: number }>()
  private readonly syncedAt = new Map<string, number>()
  private unsubscribe: (() => void) | null = null
  private discovery: PeerDiscovery | null = null
  private timer: ReturnType<typeof setInterval> | null = null
  private readonly onpeer = (did: DidKey) => { this.syncFrom(did).catch(safetyCatch) }

  constructor (opts: CreditRelayOptions) {
    super()
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.bee = new Hyperbee(opts.store.get({ name: 'growr-credit-relay' }), { keyEncoding: 'utf-8', valueEncoding: 'json' })
    this.lines = new RelayStore({ bee: this.bee, maxLines: opts.maxLines, maxPerParty: opts.maxPerParty })
  }

  protected async _open (): Promise<void> {
    await this.bee.ready()
    await this.lines.load(this.now())
    if (this.closing) return
    const rpc = this.opts.rpc
    if (rpc) {
      rpc.respond(ANNOUNCE_METHOD, async (req, from) => await this.onAnnounce(req, from))
      rpc.respond(ROUTES_METHOD, async (req, from) => this.onRoutes(req, from))
      rpc.respond(LINES_METHOD, async (req) => this.onLines(req))
      rpc.on('peer', this.onpeer)
    }
    if (this.opts.pubsub) {
      this.unsubscribe = this.opts.pubsub.subscribe(GRAPH_TOPIC, (m: PubSubMessage) => { this.onGossip(m).catch(safetyCatch) })
    }
    if (this.opts.swarm) this.discovery = this.opts.swarm.join(RELAY_TOPIC, { server: true, client: true })
    this.timer = setInterval(() => { this.lines.prune(this.now()).catch(safetyCatch) }, this.opts.pruneIntervalMs ?? 60_000)
    this.timer.unref?.()
  }

  protected async _close (): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    if (this.discovery) await this.discovery.destroy().catch(safetyCatch)
    if (this.unsubscribe) this.unsubscribe()
    // PeerRpc has no way to withdraw a handler: they refuse once closing (see each handler)
    this.opts.rpc?.off('peer', this.onpeer)
    await this.lines.flushed()
    await this.bee.close()
  }

  /**
   * Takes an announcement from anywhere (a party, a relay, the gossip).
   * @param opts.limitSigners charge each signing party's rate limit when the announcement would
   *   change what the relay holds (the wire and the gossip do; a pull from a relay does not)
   * @returns stored, or not stored with why (held already), or refused with why, in plain words
   *   (`limited` when a signer's rate limit refused it)
   */
  async submit (value: unknown, opts: { limitSigners?: boolean } = {}): Promise<{ ok: true; stored: boolean; reason?: string } | { ok: false; reason: string; limited?: true }> {
    const c = checkAnnouncement(value, { now: this.now() })
    if (!c.ok) {
      this.stats.refused++
      return c
    }
    const ann = c.announcement
    if (opts.limitSigners && this.lines.judge(ann) === null) {
      // charged only now: both signatures hold, so these parties really asked for it
      const perMinute = this.opts.maxPerSignerPerMinute ?? 120
      for (const p of [ann.a, ann.b]) {
        if (!this.take('s ' + p, perMinute)) {
          this.stats.limited++
          return { ok: false, reason: `too many announcements signed by ${p}: try again in a minute`, limited: true }
        }
      }
    }
    const r = await this.lines.put(ann, this.now())
    if (!r.ok) this.stats.refused++
    else if (r.stored) this.stats.stored++
    else this.stats.duplicate++
    return r
  }

  /**
   * Routes over the relay's graph, with the announcements of their hops.
   * @returns the wire answer of ROUTES_METHOD
   * @throws BAD_ARGUMENT for a malformed query
   */
  routes (q: { from: string; to: string; asset: string; amount: bigint; maxHops?: number; k?: number }): { routes: WireRoute[]; announcements: Announcement[] } {
    const r = this.lines.graph.findRoutes({ ...q, maxHops: q.maxHops ?? DEFAULT_MAX_HOPS, k: q.k ?? DEFAULT_ROUTES })
    if (!r.ok) throw GrowrError.BAD_ARGUMENT(r.reason)
    const now = this.now()
    const anns = new Map<string, Announcement>()
    const routes: WireRoute[] = []
    for (const route of r.routes as Route[]) {
      // the graph names each edge by its line key; the wire names the trustline id
      const held = route.hops.map((h) => this.lines.get(h.trustline, now))
      if (held.some((a) => a === null)) continue
      for (const a of held as Announcement[]) anns.set(lineKey(a), a)
      routes.push({ hops: route.hops.map((h, i) => ({ trustline: (held[i] as Announcement).trustline, from: h.from as DidKey, to: h.to as DidKey })) })
    }
    return { routes, announcements: [...anns.values()] }
  }

  /**
   * Pulls every live announcement another relay holds, page by page, at most once per 10 minutes
   * per relay. A peer that is no relay answers NOT_FOUND at once, which ends it.
   * @returns how many announcements were newly stored
   */
  async syncFrom (did: DidKey, opts: { force?: boolean } = {}): Promise<number> {
    const rpc = this.opts.rpc
    if (!rpc || this.closing) return 0
    const last = this.syncedAt.get(did)
    if (!opts.force && last !== undefined && this.now() - last < 600_000) return 0
    this.syncedAt.set(did, this.now())
    let after = ''
    let stored = 0
    for (let pages = 0; pages < 10_000 && !this.closing; pages++) {
      let page: { announcements?: unknown; next?: unknown } | null
      try {
        page = await rpc.request(did, LINES_METHOD, { after, limit: MAX_PAGE }, { timeoutMs: 15_000 }) as typeof page
      } catch (err) {
        if ((err as GrowrError)?.code === 'NOT_FOUND') return stored
        throw err
      }
      const list = Array.isArray(page?.announcements) ? page.announcements.slice(0, MAX_PAGE) : []
      for (const a of list) {
        const r = await this.submit(a)
        if (r.ok && r.stored) stored++
      }
      const next = page?.next
      if (typeof next !== 'string' || next <= after) break
      after = next
    }
    this.stats.synced += stored
    return stored
  }

  private take (from: string, perMinute: number): boolean {
    const now = this.now()
    let b = this.buckets.get(from)
    if (!b) {
      // never clear them all: a flood of new DIDs would hand every drained bucket a fresh budget
      if (this.buckets.size >= 10_000) this.evictBuckets(now)
      this.buckets.set(from, b = { at: now, tokens: perMinute })
    }
    b.tokens = Math.min(perMinute, b.tokens + (now - b.at) * perMinute / 60_000)
    b.at = now
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  /** Drops buckets idle for a minute (they are full again: forgetting them loses nothing), else the oldest. */
  private evictBuckets (now: number): void {
    for (const [k, b] of this.buckets) if (now - b.at >= 60_000) this.buckets.delete(k)
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < 10_000) break
      this.buckets.delete(k)
    }
  }

  private async onGossip (m: PubSubMessage): Promise<void> {
    if (this.closing) return
    // pubsub authenticated `from` (its signature holds); a publisher that floods is cut here
    if (!this.take('g ' + m.from, this.opts.maxGossipPerMinute ?? 600)) {
      this.stats.limited++
      return
    }
    await this.submit(m.data, { limitSigners: true })
  }

  private async onAnnounce (req: unknown, from: DidKey): Promise<unknown> {
    if (this.closing) throw GrowrError.NOT_FOUND('the relay is closing')
    if (!this.take('a ' + from, this.opts.maxAnnouncePerMinute ?? 120)) {
      this.stats.limited++
      throw GrowrError.OP_REJECTED('too many announcements from you: try again in a minute')
    }
    const r = await this.submit((req as { announcement?: unknown } | null)?.announcement, { limitSigners: true })
    if (!r.ok) throw r.limited ? GrowrError.OP_REJECTED(r.reason) : GrowrError.BAD_ARGUMENT(r.reason)
    // announcements straight from a party go on to the other relays
    if (r.stored && this.opts.pubsub) this.opts.pubsub.publish(GRAPH_TOPIC, (req as { announcement: unknown }).announcement).catch(safetyCatch)
    return r.stored ? { stored: true } : { stored: false, reason: r.reason }
  }

  private onRoutes (req: unknown, from: DidKey): unknown {
    if (this.closing) throw GrowrError.NOT_FOUND('the relay is closing')
    if (!this.take('r ' + from, this.opts.maxRoutesPerMinute ?? 60)) {
      this.stats.limited++
      throw GrowrError.OP_REJECTED('too many route requests from you: try again in a minute')
    }
    const q = (req ?? {}) as { from?: unknown; to?: unknown; asset?: unknown; amount?: unknown; maxHops?: unknown; k?: unknown }
    if (typeof q.amount !== 'string' || !AMOUNT_RE.test(q.amount)) throw GrowrError.BAD_ARGUMENT('amount is a decimal string of minor units')
    if (typeof q.from !== 'string' || typeof q.to !== 'string' || typeof q.asset !== 'string') throw GrowrError.BAD_ARGUMENT('from, to and asset are strings')
    this.stats.routes++
    return this.routes({ from: q.from, to: q.to, asset: q.asset, amount: BigInt(q.amount), maxHops: q.maxHops === undefined || q.maxHops === null ? undefined : q.maxHops as number, k: q.k === undefined || q.k === null ? undefined : q.k as number })
  }

  private onLines (req: unknown): unknown {
    if (this.closing) throw GrowrError.NOT_FOUND('the relay is closing')
    const q = (req ?? {}) as { after?: unknown; limit?: unknown }
    const after = typeof q.after === 'string' ? q.after.slice(0, 400) : ''
    const limit = Number.isSafeInteger(q.limit) ? Math.min(Math.max(q.limit as number, 1), MAX_PAGE) : MAX_PAGE
    return this.lines.page(after, limit, this.now())
  }
}
