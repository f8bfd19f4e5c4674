/**
 * What a relay keeps: the checked trustline announcements it holds (core/credit/relay.ts), one
 * per trustline id, in a Hyperbee of its own, and the routing graph built from them
 * (core/credit/routing.ts). Nothing else is ever written: every value is an announcement as
 * checkAnnouncement rebuilt it, field by field, so a sender cannot slip in a balance or any
 * other field.
 *
 * Layout (UTF-8 keys, JSON values): `lines/<trustline id>` -> Announcement.
 *
 * Bounds, so that flooding costs the flooder and not the relay: at most `maxLines` held in all
 * and `maxPerParty` per DID (a relay that is full refuses new lines and keeps the ones it has);
 * an announcement replaces the held one only with a higher `seq` and a later `issuedAt`. A
 * line is served and routed over until it expires, and its record is kept (not served) until
 * `issuedAt + MAX_ANNOUNCEMENT_TTL_MS`, after which any older copy of it would have expired too:
 * a replayed old announcement can never come back.
 */
import type Hyperbee from 'hyperbee'
import { CreditGraph } from './routing.ts'
import { MAX_ANNOUNCEMENT_TTL_MS, checkAnnouncement, type Announcement } from './relay.ts'

/** Default most lines a relay holds. */
export const DEFAULT_MAX_LINES = 250_000
/** Default most lines held per party. */
export const DEFAULT_MAX_PER_PARTY = 512

const PREFIX = 'lines/'

export type PutResult =
  | { ok: true; stored: true }
  | { ok: true; stored: false; reason: string }
  | { ok: false; reason: string }

export interface RelayStoreOptions {
  /** the relay's own Hyperbee (UTF-8 keys, JSON values); nothing else writes to it */
  bee: Hyperbee
  maxLines?: number
  maxPerParty?: number
}

/**
 * The relay's announcements and its routing graph. Not a ReadyResource: the bee belongs to the
 * caller, who calls load() once before anything else.
 */
export class RelayStore {
  /** the routing graph over the live (unexpired) lines */
  readonly graph = new CreditGraph()
  private readonly bee: Hyperbee
  private readonly maxLines: number
  private readonly maxPerParty: number
  private readonly held = new Map<string, Announcement>()
  private readonly perParty = new Map<string, number>()
  private writing: Promise<void> = Promise.resolve()

  constructor (opts: RelayStoreOptions) {
    this.bee = opts.bee
    this.maxLines = opts.maxLines ?? DEFAULT_MAX_LINES
    this.maxPerParty = opts.maxPerParty ?? DEFAULT_MAX_PER_PARTY
  }

  /** Lines held (expired ones awaiting removal included). */
  get size (): number { return this.held.size }

  /**
   * Reads every held announcement back, re-checked (a record that no longer checks, e.g. one
   * written by another version, is dropped), and builds the graph from the live ones.
   * @param now ms
   */
  async load (now: number): Promise<void> {
    const drop: string[] = []
    for await (const { key, value } of this.bee.createReadStream({ gte: PREFIX, lt: PREFIX + '\xff' })) {
      // kept records may have expired: check them at their own issuing time, then judge expiry here
      const r = checkAnnouncement(value, { now: (value as { issuedAt?: number })?.issuedAt ?? 0 })
      if (!r.ok || key !== PREFIX + r.announcement.trustline || this.held.size >= this.maxLines) { drop.push(key); continue }
      this.hold(r.announcement, now)
    }
    for (const key of drop) await this.bee.del(key)
  }

  /**
   * Takes an announcement that checkAnnouncement accepted.
   * @param a the checked announcement
   * @param now ms
   * @returns stored; or not stored with why (a copy of the held one); or refused with why, in
   *   plain words (stale, conflicting, full)
   */
  async put (a: Announcement, now: number): Promise<PutResult> {
    const old = this.held.get(a.trustline)
    if (old) {
      if (old.seq === a.seq && old.issuedAt === a.issuedAt && sameContent(old, a)) return { ok: true, stored: false, reason: 'the relay holds this announcement already' }
      if (old.a !== a.a || old.b !== a.b || old.asset !== a.asset) return { ok: false, reason: 'another announcement holds this trustline id for other parties or another asset' }
      if (a.seq <= old.seq || a.issuedAt <= old.issuedAt) return { ok: false, reason: `stale: the relay holds seq ${old.seq} issued at ${old.issuedAt} for this trustline` }
    } else {
      if (this.held.size >= this.maxLines) return { ok: false, reason: `the relay is full (${this.maxLines} trustlines)` }
      for (const p of [a.a, a.b]) {
        if ((this.perParty.get(p) ?? 0) >= this.maxPerParty) return { ok: false, reason: `${p} already has ${this.maxPerParty} trustlines at this relay` }
      }
    }
    this.hold(a, now)
    await this.serialize(async () => await this.bee.put(PREFIX + a.trustline, a))
    return { ok: true, stored: true }
  }

  /** The held announcement of a line while it is live, else null. */
  get (trustline: string, now: number): Announcement | null {
    const a = this.held.get(trustline)
    return a && a.expiresAt > now ? a : null
  }

  /**
   * Live announcements in trustline-id order, for relays catching up and for inspection.
   * @param after only ids after this one ('' for the start)
   * @param limit most returned
   * @returns the page and the id to ask after next (null at the end)
   */
  page (after: string, limit: number, now: number): { announcements: Announcement[]; next: string | null } {
    const ids = [...this.held.keys()].filter((id) => id > after).sort()
    const out: Announcement[] = []
    let last: string | null = null
    for (const id of ids) {
      if (out.length >= limit) return { announcements: out, next: last }
      const a = this.held.get(id) as Announcement
      last = id
      if (a.expiresAt > now) out.push(a)
    }
    return { announcements: out, next: null }
  }

  /**
   * Takes expired lines out of the graph, and forgets (deletes) records old enough that no
   * copy of them could still be live.
   * @returns how many records were deleted
   */
  async prune (now: number): Promise<number> {
    const gone: string[] = []
    for (const [id, a] of this.held) {
      if (a.expiresAt <= now) this.graph.remove(id)
      if (a.issuedAt + MAX_ANNOUNCEMENT_TTL_MS <= now) gone.push(id)
    }
    for (const id of gone) {
      const a = this.held.get(id) as Announcement
      this.held.delete(id)
      for (const p of [a.a, a.b]) this.count(p, -1)
    }
    if (gone.length > 0) {
      await this.serialize(async () => {
        const batch = this.bee.batch()
        for (const id of gone) await batch.del(PREFIX + id)
        await batch.flush()
      })
    }
    return gone.length
  }

  /** Resolves once every write queued so far is in the bee. */
  async flushed (): Promise<void> { await this.writing }

  private hold (a: Announcement, now: number): void {
    const old = this.held.get(a.trustline)
    if (!old) for (const p of [a.a, a.b]) this.count(p, 1)
    this.held.set(a.trustline, a)
    if (a.expiresAt > now) {
      // limits[i] of the graph is what parties[i] extends: a extends limitBtoA, b extends limitAtoB
      this.graph.upsert({ trustline: a.trustline, parties: [a.a, a.b], asset: a.asset, limits: [BigInt(a.limitBtoA), BigInt(a.limitAtoB)], cap: a.cap === null ? null : BigInt(a.cap) })
    } else {
      this.graph.remove(a.trustline)
    }
  }

  private count (party: string, by: number): void {
    const n = (this.perParty.get(party) ?? 0) + by
    if (n <= 0) this.perParty.delete(party)
    else this.perParty.set(party, n)
  }

  private async serialize (fn: () => Promise<void>): Promise<void> {
    const run = this.writing.then(fn)
    this.writing = run.catch(() => {})
    await run
  }
}

function sameContent (x: Announcement, y: Announcement): boolean {
  return x.limitAtoB === y.limitAtoB && x.limitBtoA === y.limitBtoA && x.cap === y.cap && x.expiresAt === y.expiresAt
}
