/**
 * What a relay keeps: the checked trustline announcements it holds (core/credit/relay.ts), one
 * per (trustline id, a, b, asset), in a Hyperbee of its own, and the routing graph built from them
 * (core/credit/routing.ts). Nothing else is ever written: every value is an announcement as
 * checkAnnouncement rebuilt it, field by field, so a sender cannot slip in a balance or any
 * other field.
 *
 * Why the parties and asset are part of the key: a relay cannot tie a trustline id to its parties
 * (the id hashes the terms, which hold the opening balance a relay must never see), so anyone with
 * two DIDs may announce a record under someone else's id. Keyed by id alone, such a record would
 * hold the id and refuse the real parties; keyed by (id, a, b, asset) it only ever competes with
 * records those same two signers made. A payer tells the records apart by a hop's parties.
 *
 * Layout (UTF-8 keys, JSON values): `lines/<line key>` -> Announcement, the line key being
 * `<trustline id>/<a>/<b>/<asset>` ({@link lineKey}).
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

/**
 * The key a relay holds an announcement under, and the id of its edge in the routing graph.
 * @param x the trustline id, its parties (a < b) and asset
 * @returns `<trustline>/<a>/<b>/<asset>` ('/' occurs in none of them: see checkAnnouncement)
 */
export function lineKey (x: { trustline: string; a: string; b: string; asset: string }): string {
  return `${x.trustline}/${x.a}/${x.b}/${x.asset}`
}

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
      if (!r.ok || key !== PREFIX + lineKey(r.announcement) || this.held.size >= this.maxLines) { drop.push(key); continue }
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
    const no = this.judge(a)
    if (no) return no
    this.hold(a, now)
    await this.serialize(async () => await this.bee.put(PREFIX + lineKey(a), a))
    return { ok: true, stored: true }
  }

  /**
   * What {@link put} would answer, without storing: lets the relay charge a rate limit only for
   * announcements that would change something (a copy or a stale one costs nobody anything).
   * @returns null when put would store it; else put's answer
   */
  judge (a: Announcement): PutResult | null {
    const old = this.held.get(lineKey(a))
    if (old) {
      if (old.seq === a.seq && old.issuedAt === a.issuedAt && sameContent(old, a)) return { ok: true, stored: false, reason: 'the relay holds this announcement already' }
      if (a.seq <= old.seq || a.issuedAt <= old.issuedAt) return { ok: false, reason: `stale: the relay holds seq ${old.seq} issued at ${old.issuedAt} for this trustline` }
      return null
    }
    if (this.held.size >= this.maxLines) return { ok: false, reason: `the relay is full (${this.maxLines} trustlines)` }
    for (const p of [a.a, a.b]) {
      if ((this.perParty.get(p) ?? 0) >= this.maxPerParty) return { ok: false, reason: `${p} already has ${this.maxPerParty} trustlines at this relay` }
    }
    return null
  }

  /**
   * The held announcement under a line key ({@link lineKey}) while it is live, else null.
   * @param key a line key, as the routing graph names its edges
   */
  get (key: string, now: number): Announcement | null {
    const a = this.held.get(key)
    return a && a.expiresAt > now ? a : null
  }

  /**
   * Every live announcement naming a trustline id: the real parties' and any other pair's that
   * used the same id (see the module comment), in line-key order.
   */
  find (trustline: string, now: number): Announcement[] {
    const out: Announcement[] = []
    for (const a of this.held.values()) if (a.trustline === trustline && a.expiresAt > now) out.push(a)
    return out.sort((x, y) => lineKey(x) < lineKey(y) ? -1 : 1)
  }

  /**
   * Live announcements in line-key order ({@link lineKey}), for relays catching up and for inspection.
   * @param after only line keys after this one ('' for the start)
   * @param limit most returned
   * @returns the page and the line key to ask after next (null at the end)
   */
  page (after: string, limit: number, now: number): { announcements: Announcement[]; next: string | null } {
    const keys = [...this.held.keys()].filter((k) => k > after).sort()
    const out: Announcement[] = []
    let last: string | null = null
    for (const key of keys) {
      if (out.length >= limit) return { announcements: out, next: last }
      const a = this.held.get(key) as Announcement
      last = key
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
    for (const [key, a] of this.held) {
      if (a.expiresAt <= now) this.graph.remove(key)
      if (a.issuedAt + MAX_ANNOUNCEMENT_TTL_MS <= now) gone.push(key)
    }
    for (const key of gone) {
      const a = this.held.get(key) as Announcement
      this.held.delete(key)
      for (const p of [a.a, a.b]) this.count(p, -1)
    }
    if (gone.length > 0) {
      await this.serialize(async () => {
        const batch = this.bee.batch()
        for (const key of gone) await batch.del(PREFIX + key)
        await batch.flush()
      })
    }
    return gone.length
  }

  /** Resolves once every write queued so far is in the bee. */
  async flushed (): Promise<void> { await this.writing }

  private hold (a: Announcement, now: number): void {
    const key = lineKey(a)
    const old = this.held.get(key)
    if (!old) for (const p of [a.a, a.b]) this.count(p, 1)
    this.held.set(key, a)
    if (a.expiresAt > now) {
      // the graph names edges by line key, so two pairs using one id are two edges, never one
      // limits[i] of the graph is what parties[i] extends: a extends limitBtoA, b extends limitAtoB
      this.graph.upsert({ trustline: key, parties: [a.a, a.b], asset: a.asset, limits: [BigInt(a.limitBtoA), BigInt(a.limitAtoB)], cap: a.cap === null ? null : BigInt(a.cap) })
    } else {
      this.graph.remove(key)
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
