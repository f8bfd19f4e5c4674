/**
 * The ad service of a node: its directory, the gossip on every swarm connection, the network's
 * well-known topic, and this node's own ad, built from the books it originates and re-announced
 * before it expires and soon after its content changes (a project activated or closed).
 *
 * Lifecycle: ready() builds and stores the node's ad, attaches the gossip to every connection
 * (present and future) and joins the network topic; close() leaves the topic, stops the timers
 * and closes the channels. The node and its swarm belong to the caller.
 */
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import canonicalize from 'canonicalize'
import type { PeerDiscovery } from 'hyperswarm'
import type { GrowrNode } from '../../node.ts'
import type { Identity } from '../../identity/keyfile.ts'
import type { Book } from '../../../books/book.ts'
import { GrowrError } from '../../errors.ts'
import { MAX_AD_TTL_MS, networkTopic, signAd, type AdBook, type AdBody, type AdService as Offer } from './advertisement.ts'
import { AdDirectory, type Certify } from './directory.ts'
import { AdGossip } from './gossip.ts'
import { RPC_PROTOCOL } from '../peer-rpc.ts'
import { ADS_PROTOCOL } from './gossip.ts'

/** The network nodes join unless told otherwise. */
export const DEFAULT_NETWORK = 'growr-main'
const UNKNOWN_RELEASE = '0'.repeat(64)

export interface AdServiceOptions {
  /** the network's name (default DEFAULT_NETWORK); its topic comes from networkTopic */
  network?: string
  /** the network's topic, 32 bytes, overriding `network` (e.g. governance's networkTopic(def)) */
  topic?: Uint8Array
  /** the name this node advertises (default: the name its own certificate gives it, else none) */
  organization?: string
  /** this node's certificate chain (opaque VCs), or where to read it at each publish (it may be set while the node runs) */
  chain?: Array<Record<string, unknown>> | (() => Promise<Array<Record<string, unknown>>>)
  /** services offered besides originating (which comes from the books this node originates) */
  offers?: () => Promise<Offer[]>
  /** content hash of the release (advertisement.ts releaseHash; release.ts appRelease) */
  release?: string
  certify?: Certify
  requireCertified?: boolean
  /** lifetime of our ad, ms (default 1 h, at most 2 h); re-announced at half of it */
  ttlMs?: number
  /** wait after a change in our books before re-announcing, ms (default 1000) */
  debounceMs?: number
  /** clock for ads and expiry, ms (default Date.now) */
  now?: () => number
  maxAds?: number
  maxPerMinute?: number
  minUpdateMs?: number
  maxSkewMs?: number
  /** where to announce a project that newly appears in our ad: topic 'projects', { book, projectId, name, originator } */
  pubsub?: { publish (topic: string, data: unknown): Promise<unknown> }
}

/** The pubsub topic on which originators announce projects that newly open. */
export const PROJECTS_TOPIC = 'projects'

export class AdsService extends ReadyResource {
  readonly node: GrowrNode
  readonly directory: AdDirectory
  readonly gossip: AdGossip
  readonly topic: Uint8Array
  private readonly opts: AdServiceOptions
  private readonly now: () => number
  private readonly ttlMs: number
  private discovery: PeerDiscovery | null = null
  private refreshTimer: ReturnType<typeof setInterval> | null = null
  private changeTimer: ReturnType<typeof setTimeout> | null = null
  private lastContent = ''
  private lastIssuedAt = 0
  /** `${book} ${projectId}` of the projects in our last ad; null before the first (which announces nothing) */
  private lastProjects: Set<string> | null = null
  private publishing: Promise<void> = Promise.resolve()
  private readonly watched = new WeakSet<Book>()
  private readonly onconnection = (conn: unknown) => this.gossip.attach(conn as never)
  private readonly onchange = () => this.changed()
  private readonly onbook = (book: Book) => this.watch(book)

  /**
   * @param node an opened or opening GrowrNode (its identity signs the ads)
   * @param opts see AdServiceOptions
   * @throws BAD_ARGUMENT for a ttl over 2 h or a topic that is not 32 bytes
   */
  constructor (node: GrowrNode, opts: AdServiceOptions = {}) {
    super()
    this.node = node
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.ttlMs = opts.ttlMs ?? 3600_000
    if (!(this.ttlMs > 0 && this.ttlMs <= MAX_AD_TTL_MS)) throw GrowrError.BAD_ARGUMENT(`an ad lives at most ${MAX_AD_TTL_MS} ms`)
    this.topic = opts.topic ?? networkTopic(opts.network ?? DEFAULT_NETWORK)
    if (!(this.topic instanceof Uint8Array) || this.topic.byteLength !== 32) throw GrowrError.BAD_ARGUMENT('a network topic is 32 bytes')
    this.directory = new AdDirectory({
      network: b4a.toString(this.topic, 'hex'),
      now: this.now,
      certify: opts.certify,
      requireCertified: opts.requireCertified,
      maxAds: opts.maxAds,
      minUpdateMs: opts.minUpdateMs,
      maxSkewMs: opts.maxSkewMs
    })
    this.gossip = new AdGossip({ directory: this.directory, network: this.topic, maxPerMinute: opts.maxPerMinute, now: this.now })
  }

  protected async _open (): Promise<void> {
    await this.node.ready()
    await this.gossip.ready()
    await this.publish()
    if (this.closing) return
    for (const book of this.node.list()) this.watch(book)
    this.node.on('book', this.onbook)
    this.refreshTimer = setInterval(() => {
      this.directory.prune()
      if (this.now() - this.lastIssuedAt >= this.ttlMs / 2) this.publish().catch(safetyCatch)
    }, Math.min(60_000, Math.max(1000, this.ttlMs / 4)))
    const swarm = this.node.swarm
    if (!swarm) return
    swarm.on('connection', this.onconnection)
    for (const conn of swarm.connections) this.gossip.attach(conn as never)
    this.discovery = swarm.join(this.topic, { server: true, client: true })
  }

  protected async _close (): Promise<void> {
    this.node.off('book', this.onbook)
    for (const book of this.node.list()) book.base.off('update', this.onchange)
    if (this.refreshTimer) clearInterval(this.refreshTimer)
    if (this.changeTimer) clearTimeout(this.changeTimer)
    const swarm = this.node.swarm
    if (swarm) swarm.off('connection', this.onconnection)
    if (this.discovery) await this.discovery.destroy().catch(safetyCatch)
    await this.gossip.close()
  }

  /** Resolves once the network topic is announced on the DHT (tests, benchmarks). */
  async flushed (): Promise<void> {
    await this.ready()
    if (this.discovery) await this.discovery.flushed()
  }

  /**
   * Builds, signs and gossips this node's ad now, unless its content is unchanged and it is
   * far from expiry. Serialised: two calls never sign two ads at once.
   */
  async publish (opts: { force?: boolean } = {}): Promise<void> {
    const run = this.publishing.then(async () => await this.publishNow(opts.force === true))
    this.publishing = run.catch(safetyCatch)
    await run
  }

  /** This node's own ad, as stored in its directory, or null before the first publish. */
  own (): AdBody | null { return this.directory.get(this.node.did)?.ad ?? null }

  private async publishNow (force: boolean): Promise<void> {
    if (this.closing && this.opened) return
    const identity = this.node.identity as Identity
    const content = await this.content()
    const key = canonicalize(content) ?? ''
    const now = this.now()
    if (!force && key === this.lastContent && now - this.lastIssuedAt < this.ttlMs / 2) return
    // directories take a DID's update at most once per minUpdateMs: a faster one would be dropped
    const issuedAt = Math.max(now, this.lastIssuedAt + (this.opts.minUpdateMs ?? 1000))
    const body: AdBody = { ...content, issuedAt, expiresAt: issuedAt + this.ttlMs }
    const { bytes } = signAd(body, identity.secretKey)
    const res = await this.gossip.publish(bytes)
    if (!res.ok) throw GrowrError.INTERNAL(`our own ad was not stored: ${res.reason}`)
    this.lastContent = key
    this.lastIssuedAt = issuedAt
    this.announceNewProjects(content.books)
  }

  /**
   * Publishes on PROJECTS_TOPIC each project of `books` not in our previous ad. The first ad of a
   * run announces nothing: a restart is not news, and the ad itself carries every open project.
   */
  private announceNewProjects (books: AdBook[]): void {
    const now = new Set<string>()
    for (const b of books) for (const p of b.projects) now.add(`${b.topic} ${p.projectId}`)
    const before = this.lastProjects
    this.lastProjects = now
    const pubsub = this.opts.pubsub
    if (!before || !pubsub) return
    for (const b of books) {
      for (const p of b.projects) {
        if (before.has(`${b.topic} ${p.projectId}`)) continue
        pubsub.publish(PROJECTS_TOPIC, { book: b.topic, projectId: p.projectId, name: p.name, originator: this.node.did }).catch(safetyCatch)
      }
    }
  }

  private async content (): Promise<Omit<AdBody, 'issuedAt' | 'expiresAt'>> {
    const books = await this.hostedBooks()
    const offers: Offer[] = books.length > 0 ? [{ type: 'originating' }] : []
    const extra = this.opts.offers ? await this.opts.offers() : []
    for (const o of extra) if (o.type !== 'originating' && !offers.some((x) => x.type === o.type)) offers.push(o)
    const chain = typeof this.opts.chain === 'function' ? await this.opts.chain() : this.opts.chain ?? []
    return {
      v: 1,
      network: b4a.toString(this.topic, 'hex'),
      did: this.node.did as AdBody['did'],
      organization: (this.opts.organization ?? certifiedName(chain, this.node.did) ?? '').slice(0, 200),
      chain,
      services: offers,
      protocols: [RPC_PROTOCOL, ADS_PROTOCOL],
      books,
      release: this.opts.release ?? UNKNOWN_RELEASE,
    }
  }

  /** Books this node originates, with their active public projects; the schema's bounds applied. */
  private async hostedBooks (): Promise<AdBook[]> {
    const out: AdBook[] = []
    for (const book of this.node.list()) {
      if (out.length >= 32) break
      const meta = await book.view.meta()
      if (!meta || meta.originator !== this.node.did) continue
      const projects = (await book.view.list('projects'))
        .filter((p) => p.status === 'active' && p.terms.isPublic && !p.terms.isInviteOnly)
        .slice(0, 32)
        .map((p) => ({
          projectId: p.projectId,
          name: p.terms.name.slice(0, 200),
          currency: p.terms.currency,
          amount: String(p.terms.amount),
          loanMin: String(p.terms.loanMinAmount),
          loanMax: String(p.terms.loanMaxAmount),
          minMonths: p.terms.loanMinDuration,
          maxMonths: p.terms.loanMaxDuration,
          rateBps: p.terms.annualRateBps,
          interestMethod: p.terms.interestMethod
        }))
      out.push({ topic: book.topic, name: meta.name.slice(0, 200), projects })
    }
    return out
  }

  private watch (book: Book): void {
    if (this.watched.has(book)) return
    this.watched.add(book)
    book.base.on('update', this.onchange)
    this.changed()
  }

  /** A followed book changed: re-announce once things settle (content unchanged: nothing sent). */
  private changed (): void {
    if (this.closing || this.changeTimer) return
    this.changeTimer = setTimeout(() => {
      this.changeTimer = null
      this.publish().catch(safetyCatch)
    }, this.opts.debounceMs ?? 1000)
  }
}

/** The name this node's own certificate (the chain's last) gives it, if the chain ends at `did`. */
function certifiedName (chain: Array<Record<string, unknown>>, did: string): string | null {
  const subject = (chain[chain.length - 1]?.credentialSubject ?? null) as { id?: unknown; name?: unknown } | null
  return subject !== null && subject.id === did && typeof subject.name === 'string' ? subject.name : null
}
