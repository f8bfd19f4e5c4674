/**
 * The node's directory of advertisements: a bounded store of the freshest ad per DID, and the
 * queries the marketplace asks of it ("who offers service S", "which projects are open").
 *
 * Limits, so that hostile peers get nowhere:
 * - every ad is checked (checkAd: size, schema, network, signature, skew, expiry) before it
 *   touches anything; a forged one changes nothing;
 * - one ad per DID, the newest by issuedAt; a newer one replaces it only `minUpdateMs` after
 *   the one kept, so a DID cannot churn the directory (nor the gossip that forwards updates);
 * - at most `maxAds` ads; when full, expired ads go first, then a certified newcomer may push
 *   out the uncertified ad closest to expiry; otherwise the newcomer is refused;
 * - with `requireCertified`, an ad whose chain does not certify is refused.
 * Time comes from an injected clock, so expiry is tested without waiting.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { checkAd, DEFAULT_MAX_SKEW_MS, type AdProject, type Advertisement, type ServiceName } from './advertisement.ts'
import type { DidKey } from '../../identity/did-key.ts'

/** What a certification check says about an ad's chain. */
export interface Certification { certified: boolean; by?: string; reason?: string; roles?: string[]; /** the organization's name as its certificate states it */ name?: string }
/** Checks an ad's certificate chain (core/governance verifyChain); must not throw, but a throw counts as uncertified. */
export type Certify = (ad: Advertisement) => Promise<Certification>

export interface DirectoryOptions {
  /** the network's topic (hex) ads must name */
  network: string
  /** clock, ms since the epoch (default Date.now) */
  now?: () => number
  certify?: Certify
  /** refuse ads that do not certify (default false: keep them, marked uncertified) */
  requireCertified?: boolean
  /** most ads kept (default 10 000) */
  maxAds?: number
  /** least time between two accepted ads of one DID, by their issuedAt, ms (default 1000) */
  minUpdateMs?: number
  /** how far in the future issuedAt may be, ms (default 60 000) */
  maxSkewMs?: number
}

/** One ad as the directory keeps it. */
export interface DirectoryEntry {
  ad: Advertisement
  /** the ad's canonical bytes, forwarded as received */
  bytes: Uint8Array
  certified: boolean
  certifiedBy: string | null
  certificationNote: string | null
  roles: string[]
  /** the name shown: the certificate's for a certified ad (an ad's own name is only a claim), else the ad's */
  organization: string
  /** our clock when it arrived, ms */
  receivedAt: number
}

export type AddResult =
  | { ok: true; status: 'new' | 'updated'; entry: DirectoryEntry }
  | { ok: false; status: 'refused' | 'stale'; reason: string }

/** A node as a query answers it. */
export interface NodeListing {
  did: DidKey
  organization: string
  services: Advertisement['services']
  protocols: string[]
  release: string
  certified: boolean
  certifiedBy: string | null
  certificationNote: string | null
  roles: string[]
  books: Array<{ topic: string; name: string; openProjects: number }>
  issuedAt: number
  expiresAt: number
}

/** An open project somewhere on the network, with who originates it and where to join. */
export interface ProjectListing extends AdProject {
  /** the book's topic key (z-base-32): `market.join` takes it */
  book: string
  bookName: string
  originator: DidKey
  organization: string
  certified: boolean
  certifiedBy: string | null
}

type Listener = (...args: unknown[]) => void

// A few listeners, no EventEmitter: 'events' is not a module under Bare without an import map.
export class AdDirectory {
  readonly network: string
  private readonly entries = new Map<DidKey, DirectoryEntry>()
  /** BLAKE2b of each stored ad's bytes -> its DID: gossip brings the same ad from every peer, and a copy we hold needs no second signature check */
  private readonly held = new Map<string, DidKey>()
  private readonly now: () => number
  private readonly certify: Certify
  private readonly requireCertified: boolean
  private readonly maxAds: number
  private readonly minUpdateMs: number
  private readonly maxSkewMs: number
  /** adds under way per DID: one at a time, so two copies of an ad cannot both pass the newer-than check */
  private readonly pending = new Map<DidKey, Promise<unknown>>()
  private readonly listeners = { ad: new Set<Listener>(), expired: new Set<Listener>() }

  /**
   * Events: 'ad' (entry, status 'new' | 'updated') when an ad is stored, 'expired' (did) when one is dropped.
   * @param opts see DirectoryOptions
   */
  constructor (opts: DirectoryOptions) {
    this.network = opts.network
    this.now = opts.now ?? Date.now
    this.certify = opts.certify ?? (async () => ({ certified: false, reason: 'no governance configured: certification is not checked' }))
    this.requireCertified = opts.requireCertified === true
    this.maxAds = opts.maxAds ?? 10_000
    this.minUpdateMs = opts.minUpdateMs ?? 1000
    this.maxSkewMs = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS
  }

  /** Adds a listener of 'ad' (entry, status) or 'expired' (did). */
  on (event: 'ad' | 'expired', fn: Listener): this { this.listeners[event].add(fn); return this }
  /** Removes a listener added with on(). */
  off (event: 'ad' | 'expired', fn: Listener): this { this.listeners[event].delete(fn); return this }

  private emit (event: 'ad' | 'expired', ...args: unknown[]): void {
    // a listener's failure is its own: the directory's state is already consistent
    for (const fn of [...this.listeners[event]]) {
      try { fn(...args) } catch {}
    }
  }

  /** Ads held, fresh or not yet pruned. */
  get size (): number { return this.entries.size }

  /**
   * Offers an ad. Never throws: every refusal is a result with a reason in plain words.
   *
   * @param bytes the encoded ad (untrusted)
   * @param opts.own this node's own ad: stored (marked as certify says) even where certification is required
   * @returns `new` or `updated` with the stored entry; `stale` when we hold this DID's ad
   *   already or a newer one (or one too recent to replace); `refused` when the ad does not
   *   check, does not certify where certification is required, or the directory is full
   */
  async add (bytes: unknown, opts: { own?: boolean } = {}): Promise<AddResult> {
    const now = this.now()
    if (bytes instanceof Uint8Array) {
      const did = this.held.get(digest(bytes))
      const e = did === undefined ? undefined : this.entries.get(did)
      if (e && e.ad.expiresAt > now && b4a.equals(e.bytes, bytes)) return { ok: false, status: 'stale', reason: 'we hold this ad already' }
    }
    const checked = checkAd(bytes, { now, network: this.network, maxSkewMs: this.maxSkewMs })
    if (!checked.ok) return { ok: false, status: 'refused', reason: checked.reason }
    const did = checked.ad.did
    const before = this.pending.get(did) ?? Promise.resolve()
    const own = opts.own === true
    const go = async () => await this.store(checked.ad, checked.bytes, own)
    const run = before.then(go, go)
    this.pending.set(did, run)
    try {
      return await run
    } finally {
      if (this.pending.get(did) === run) this.pending.delete(did)
    }
  }

  private async store (ad: Advertisement, bytes: Uint8Array, own: boolean): Promise<AddResult> {
    const stale = this.staleness(ad)
    if (stale) return { ok: false, status: 'stale', reason: stale }
    let cert: Certification
    try {
      cert = await this.certify(ad)
      if (typeof cert !== 'object' || cert === null) cert = { certified: false, reason: 'certification check answered nothing' }
    } catch (err) {
      cert = { certified: false, reason: `certification check failed: ${(err as Error)?.message ?? String(err)}` }
    }
    if (this.requireCertified && !own && cert.certified !== true) return { ok: false, status: 'refused', reason: `not certified: ${cert.reason ?? 'no reason given'}` }
    // the clock and the directory may have moved while certify ran
    const again = this.staleness(ad)
    if (again) return { ok: false, status: 'stale', reason: again }
    const now = this.now()
    if (ad.expiresAt <= now) return { ok: false, status: 'refused', reason: 'ad has expired' }
    const entry: DirectoryEntry = {
      ad,
      bytes,
      certified: cert.certified === true,
      certifiedBy: cert.certified === true && typeof cert.by === 'string' ? cert.by : null,
      certificationNote: typeof cert.reason === 'string' ? cert.reason.slice(0, 500) : null,
      roles: cert.certified === true && Array.isArray(cert.roles) ? cert.roles.filter((r) => typeof r === 'string') : [],
      organization: cert.certified === true && typeof cert.name === 'string' && cert.name.length > 0 ? cert.name.slice(0, 200) : ad.organization,
      receivedAt: now
    }
    const updated = this.entries.has(ad.did)
    if (!updated && !this.makeRoom(entry)) return { ok: false, status: 'refused', reason: `directory full (${this.maxAds} ads)` }
    this.forget(ad.did)
    this.entries.set(ad.did, entry)
    this.held.set(digest(bytes), ad.did)
    const status = updated ? 'updated' : 'new'
    this.emit('ad', entry, status)
    return { ok: true, status, entry }
  }

  /** Drops a DID's entry and its digest. */
  private forget (did: DidKey): void {
    const e = this.entries.get(did)
    if (!e) return
    this.held.delete(digest(e.bytes))
    this.entries.delete(did)
  }

  private staleness (ad: Advertisement): string | null {
    const held = this.entries.get(ad.did)
    if (!held || held.ad.expiresAt <= this.now()) return null
    if (ad.issuedAt <= held.ad.issuedAt) return 'we hold this DID\'s ad already, or a newer one'
    if (ad.issuedAt - held.ad.issuedAt < this.minUpdateMs) return `a DID's ad is replaced at most once per ${this.minUpdateMs} ms`
    return null
  }

  private makeRoom (entry: DirectoryEntry): boolean {
    if (this.entries.size < this.maxAds) return true
    this.prune()
    if (this.entries.size < this.maxAds) return true
    if (!entry.certified) return false
    let victim: DirectoryEntry | null = null
    for (const e of this.entries.values()) {
      if (!e.certified && (!victim || e.ad.expiresAt < victim.ad.expiresAt)) victim = e
    }
    if (!victim) return false
    this.forget(victim.ad.did)
    return true
  }

  /** Drops expired ads. @returns how many were dropped */
  prune (): number {
    const now = this.now()
    let n = 0
    for (const [did, e] of this.entries) {
      if (e.ad.expiresAt > now) continue
      this.forget(did)
      this.emit('expired', did)
      n++
    }
    return n
  }

  /** The DID's fresh ad, or null. */
  get (did: string): DirectoryEntry | null {
    const e = this.entries.get(did as DidKey)
    return e && e.ad.expiresAt > this.now() ? e : null
  }

  /** Every fresh ad, oldest first by arrival (expired ones are pruned first). */
  fresh (): DirectoryEntry[] {
    this.prune()
    return [...this.entries.values()]
  }

  /**
   * Nodes offering a service and/or certified for a role.
   *
   * @param q.service one of originating, issuing, verification, relay
   * @param q.role a role the certification granted (originator, issuer, ...); uncertified ads have none
   * @param q.credentialType with service issuing: only issuers of this credential type
   * @returns fresh listings, certified ones first, then by organization name
   */
  query (q: { service?: ServiceName; role?: string; credentialType?: string } = {}): NodeListing[] {
    return this.fresh()
      .filter((e) => q.service === undefined || e.ad.services.some((s) => s.type === q.service &&
        (q.credentialType === undefined || (s.type === 'issuing' && s.credentialTypes.includes(q.credentialType)))))
      .filter((e) => q.role === undefined || e.roles.includes(q.role))
      .sort((a, b) => Number(b.certified) - Number(a.certified) || a.organization.localeCompare(b.organization))
      .map((e) => ({
        did: e.ad.did,
        organization: e.organization,
        services: e.ad.services,
        protocols: e.ad.protocols,
        release: e.ad.release,
        certified: e.certified,
        certifiedBy: e.certifiedBy,
        certificationNote: e.certificationNote,
        roles: e.roles,
        books: e.ad.books.map((b) => ({ topic: b.topic, name: b.name, openProjects: b.projects.length })),
        issuedAt: e.ad.issuedAt,
        expiresAt: e.ad.expiresAt
      }))
  }

  /**
   * Open projects across the network, from the fresh ads of nodes offering originating, one
   * listing per book and project (see the comment inside on squatted listings).
   * @returns certified originators' projects first, then by project name
   */
  projects (): ProjectListing[] {
    // anyone can list any book's topic in its own ad (the book's originator is known only once
    // it replicates): one listing per book and project, a certified ad's over an uncertified
    // one's, else the one heard first
    const byKey = new Map<string, { listing: ProjectListing; rank: number; at: number }>()
    for (const e of this.fresh()) {
      if (!e.ad.services.some((s) => s.type === 'originating')) continue
      for (const b of e.ad.books) {
        for (const p of b.projects) {
          const key = b.topic + '/' + p.projectId
          const held = byKey.get(key)
          const rank = e.certified ? 1 : 0
          if (held && (held.rank > rank || (held.rank === rank && held.at <= e.receivedAt))) continue
          byKey.set(key, { rank, at: e.receivedAt, listing: { ...p, book: b.topic, bookName: b.name, originator: e.ad.did, organization: e.organization, certified: e.certified, certifiedBy: e.certifiedBy } })
        }
      }
    }
    const out = [...byKey.values()].map((v) => v.listing)
    return out.sort((a, b) => Number(b.certified) - Number(a.certified) || a.name.localeCompare(b.name))
  }
}

/** BLAKE2b-256 of `bytes`, hex. */
function digest (bytes: Uint8Array): string {
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, bytes)
  return b4a.toString(out, 'hex')
}
