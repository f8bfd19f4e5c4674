/**
 * NostrService: the node's publishing on Nostr, beside its books and never inside them.
 *
 * - Settings (local bee, never replicated): `nostr/settings/profile` ({@link NostrProfile}),
 *   `nostr/settings/relays` (URLs), `nostr/settings/location` (listings' location).
 * - Watches every book this node originates while relays are configured: each public project that
 *   was activated gets a NIP-99 listing (core/nostr/events.ts), replaced whenever what it says
 *   changes (new `created_at`, larger than the last one for that address), turned into a 30403
 *   when the project is deactivated or closed (with a NIP-09 deletion of the 30402), and kind 1
 *   notes on milestones, each at most once (`nostr/milestone/<book hex>/<project>/<milestone>`).
 *   Before its first listing in a book, the organization's key is bound in that book (op
 *   `nostr/key`, core/nostr/binding.ts), so readers can check that the listing is the book's.
 * - Every signed event goes to the persistent outbox (core/nostr/outbox.ts); the relay pool
 *   (core/nostr/relays.ts) delivers it to each relay with retries and back-off, also after a
 *   restart. Failures are recorded (relay state, `lastError`) and never thrown into book work.
 * - Reads listings back (core/nostr/listings.ts), judged against the books this node follows.
 *
 * Lifecycle (ReadyResource): open loads the outbox and settings and starts the relays, the reader
 * and the book watch; close stops them in reverse and waits for the scan in progress.
 */
import '../runtime/text-encoding.ts' // before nostr-tools (@noble): Bare has no TextEncoder global
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import type Hyperbee from 'hyperbee'
import * as nip19 from 'nostr-tools/nip19'
import type { EventTemplate, Event as NostrEvent } from 'nostr-tools/pure'
import DefaultWebSocket from '#websocket'
import { GrowrError } from '../errors.ts'
import type { Book } from '../../books/book.ts'
import type { Project } from '../../books/entities.ts'
import type { NostrSigner } from './keys.ts'
import { bindingOp } from './binding.ts'
import {
  checkProfile, checkRelayUrls, coordinate, deletionTemplate, KIND_LISTING, listingD, listingState, listingTemplate, MILESTONES,
  milestonesReached, milestoneTemplate, profileTemplate, relayListTemplate, type Milestone, type NostrProfile
} from './events.ts'
import { Outbox, type Delivery, type OutboxEntry } from './outbox.ts'
import { RelayPool, type BackoffOptions, type RelayState, type Timers, type WebSocketImpl } from './relays.ts'
import { ListingsReader, type NostrListing } from './listings.ts'

const SETTINGS = { profile: 'nostr/settings/profile', relays: 'nostr/settings/relays', location: 'nostr/settings/location' }
const LISTING = 'nostr/listing/'
const MILESTONE = 'nostr/milestone/'

/** What NostrService needs of the node (GrowrNode has it all). */
export interface NostrHost {
  readonly local: Hyperbee | null
  readonly did: string
  list (): Book[]
  findBook (keyHex: string): Book | null
  on (event: 'book', fn: (book: Book) => void): unknown
  off (event: 'book', fn: (book: Book) => void): unknown
}

export interface NostrServiceOptions {
  /** the WebSocket client (default `#websocket`: the `ws` package under Node; none under Bare) */
  WebSocket?: WebSocketImpl
  /** local clock, ms: events' created_at and delivery times */
  now?: () => number
  /** retry timers and randomness for the back-off (tests inject them) */
  timers?: Timers
  random?: () => number
  backoff?: BackoffOptions
  /** connect and publish timeout per relay, ms (default 10 000) */
  timeoutMs?: number
  /** how many listings read from relays are kept (default 500) */
  maxListings?: number
}

/** One published (or waiting) event as `nostr.status` and `nostr.publish` show it. */
export interface PublishedEvent {
  what: OutboxEntry['what']
  kind: number
  id: string
  /** NIP-19: nevent of this very event (with its author and up to three relays) */
  nevent: string
  /** NIP-19 naddr of an addressable event (listings): stable across versions */
  naddr: string | null
  book: string | null
  project: string | null
  milestone: string | null
  /** seconds */
  createdAt: number
  /** relay URL -> pending | sent | refused (with the relay's reason) */
  relays: Record<string, Delivery>
}

/** What the node publishes and where: `nostr.status`. */
export interface NostrStatus {
  /** the organization's public key, hex and npub */
  pubkey: string
  npub: string
  profile: NostrProfile | null
  location: string | null
  relays: RelayState[]
  events: PublishedEvent[]
  /** the last failure of the book watch (signing, binding the key), null when none */
  lastError: string | null
}

interface ListingRecord { hash: string; kind: number; id: string; createdAt: number; publishedAt: number }

export class NostrService extends ReadyResource {
  readonly host: NostrHost
  readonly signer: NostrSigner
  readonly outbox: Outbox
  readonly pool: RelayPool
  readonly reader: ListingsReader
  private readonly opts: NostrServiceOptions
  private relayUrls: string[] = []
  private pubkey = ''
  private lastError: string | null = null
  private readonly watched = new Map<Book, () => void>()
  private readonly queued = new Set<Book>()
  private running: Promise<unknown> = Promise.resolve()
  private readonly onbook = (book: Book) => { if (this.relayUrls.length > 0) this.watch(book) }

  /**
   * @param opts.host the node (its local bee, DID and books)
   * @param opts.signer signs as the organization (NIP-06 keys from the wallet seed)
   */
  constructor (opts: NostrServiceOptions & { host: NostrHost; signer: NostrSigner }) {
    super()
    this.host = opts.host
    this.signer = opts.signer
    this.opts = opts
    this.outbox = new Outbox({ local: opts.host.local as Hyperbee, now: opts.now })
    this.pool = new RelayPool({
      WebSocket: opts.WebSocket ?? (DefaultWebSocket as unknown as WebSocketImpl),
      source: this.outbox,
      backoff: opts.backoff,
      timers: opts.timers,
      random: opts.random,
      now: opts.now,
      timeoutMs: opts.timeoutMs,
      onstate: (s) => this.emit('relay', s)
    })
    this.reader = new ListingsReader({
      pool: this.pool,
      max: opts.maxListings,
      now: opts.now,
      keysOf: async (hex) => {
        const book = this.host.findBook(hex)
        return book ? await book.view.nostrKeys() : null
      }
    })
    this.reader.onchange = () => this.emit('listings')
  }

  protected async _open (): Promise<void> {
    await this.outbox.open()
    this.relayUrls = (await this.setting<string[]>(SETTINGS.relays)) ?? []
    if (this.closing) return
    await this.outbox.setRelays(this.relayUrls)
    this.pool.setRelays(this.relayUrls)
    this.reader.start()
    this.host.on('book', this.onbook)
    if (this.relayUrls.length > 0) this.watchAll()
  }

  protected async _close (): Promise<void> {
    this.host.off('book', this.onbook)
    for (const [book, fn] of this.watched) book.base.off('update', fn)
    this.watched.clear()
    this.reader.stop()
    this.pool.close()
    await this.running.catch(safetyCatch)
  }

  /** The organization's Nostr public key (hex). */
  async publicKey (): Promise<string> {
    if (!this.pubkey) this.pubkey = await this.signer.publicKey({ kind: 'organization' })
    return this.pubkey
  }

  /** @returns the profile setting, or null */
  async profile (): Promise<NostrProfile | null> { await this.ready(); return await this.setting<NostrProfile>(SETTINGS.profile) }

  /**
   * Saves the profile (and `location` for listings, '' to clear) and queues a new kind 0.
   * @throws BAD_ARGUMENT for a profile {@link checkProfile} refuses
   */
  async setProfile (profile: Partial<NostrProfile>, location?: string): Promise<NostrProfile> {
    await this.ready()
    const checked = checkProfile(profile)
    const local = this.local()
    await local.put(SETTINGS.profile, checked)
    if (location !== undefined) {
      if (typeof location !== 'string' || location.length > 200) throw GrowrError.BAD_ARGUMENT('a location is a string of at most 200 characters')
      if (location.trim()) await local.put(SETTINGS.location, location.trim())
      else await local.del(SETTINGS.location)
    }
    await this.queueProfile(checked)
    if (location !== undefined) this.watchAll()
    this.pool.kick()
    return checked
  }

  /** @returns the configured relay URLs */
  relays (): string[] { return [...this.relayUrls] }

  /**
   * Uses `urls` from now on: saves the setting, gives every queued event to new relays, queues a
   * new relay list (kind 10002) and starts watching the books when the list was empty.
   * @throws BAD_ARGUMENT for a URL that is not ws:// or wss://
   */
  async setRelays (urls: unknown): Promise<string[]> {
    await this.ready()
    const checked = checkRelayUrls(urls)
    await this.local().put(SETTINGS.relays, checked)
    this.relayUrls = checked
    await this.outbox.setRelays(checked)
    this.pool.setRelays(checked)
    if (checked.length > 0) {
      await this.queue(relayListTemplate(checked, 0), { what: 'relays' })
      this.watchAll()
    }
    this.pool.kick()
    return checked
  }

  /**
   * Publishes now: queues the profile and relay list if they never were, scans `book` (or every
   * book this node originates) for listings and milestones, retries failed relays at once.
   * @param opts.book a book key (hex) to scan only that one
   * @returns what is queued and delivered so far
   */
  async publish (opts: { book?: Book } = {}): Promise<NostrStatus> {
    await this.ready()
    const profile = await this.setting<NostrProfile>(SETTINGS.profile)
    const pub = await this.publicKey()
    if (profile && !this.outbox.get(`0:${pub}:`)) await this.queueProfile(profile)
    if (this.relayUrls.length > 0 && !this.outbox.get(`10002:${pub}:`)) await this.queue(relayListTemplate(this.relayUrls, 0), { what: 'relays' })
    const books = opts.book ? [opts.book] : this.host.list()
    for (const book of books) await this.enqueueScan(book)
    await this.running
    this.pool.retryNow()
    return await this.status()
  }

  /** What is published where, with each relay's state. */
  async status (): Promise<NostrStatus> {
    await this.ready()
    const pubkey = await this.publicKey()
    return {
      pubkey,
      npub: nip19.npubEncode(pubkey),
      profile: await this.setting<NostrProfile>(SETTINGS.profile),
      location: await this.setting<string>(SETTINGS.location),
      relays: this.pool.states(),
      events: this.outbox.list().map((e) => this.shown(e)),
      lastError: this.lastError
    }
  }

  /**
   * Listings read from the relays (see core/nostr/listings.ts).
   * @param opts.all include inactive and closed ones
   */
  async listings (opts: { all?: boolean } = {}): Promise<NostrListing[]> {
    await this.ready()
    return await this.reader.list(opts)
  }

  /**
   * Resolves once every queued event is sent to (or refused by) every relay.
   * @throws TIMEOUT after `timeoutMs`, naming the relays still waited for and their last errors
   */
  async delivered (timeoutMs = 30_000): Promise<void> {
    await this.ready()
    await this.running
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const waiting = this.pool.states().filter((s) => this.outbox.list().some((e) => e.relays[s.url]?.status === 'pending'))
      if (waiting.length === 0) return
      if (Date.now() > deadline) throw GrowrError.TIMEOUT(`not delivered yet to ${waiting.map((s) => `${s.url}${s.lastError ? ` (${s.lastError})` : ''}`).join(', ')}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** Waits for the book scans queued so far. */
  async flushed (): Promise<void> { await this.running }

  private local (): Hyperbee { return this.host.local as Hyperbee }

  private async setting<T> (key: string): Promise<T | null> {
    const node = await this.local().get<T>(key)
    return node ? node.value : null
  }

  private nowSec (): number { return Math.floor((this.opts.now ?? Date.now)() / 1000) }

  private async queueProfile (profile: NostrProfile): Promise<void> {
    await this.queue(profileTemplate(profile, 0), { what: 'profile' })
  }

  // replaceable events: created_at after the slot's last, or the relays keep the old one
  private async queue (template: EventTemplate, meta: { what: 'profile' | 'relays' }): Promise<OutboxEntry> {
    const pub = await this.publicKey()
    const held = this.outbox.get(`${template.kind}:${pub}:`)
    const createdAt = Math.max(this.nowSec(), (held?.event.created_at ?? 0) + 1)
    const event = await this.signer.sign({ ...template, created_at: createdAt })
    const entry = await this.outbox.put(event, meta)
    this.pool.kick()
    return entry
  }

  private watchAll (): void {
    for (const book of this.host.list()) this.watch(book)
  }

  private watch (book: Book): void {
    if (this.watched.has(book) || this.closing) return
    // a burst of book updates needs one scan after it, not one per update
    const onupdate = () => { this.enqueueScan(book).catch(safetyCatch) }
    this.watched.set(book, onupdate)
    book.base.on('update', onupdate)
    onupdate()
  }

  private async enqueueScan (book: Book): Promise<void> {
    if (this.queued.has(book)) return await this.running.then(() => {}, () => {})
    this.queued.add(book)
    const run = this.running.then(async () => {
      this.queued.delete(book)
      if (this.closing) return
      try {
        await this.scan(book)
      } catch (err) {
        // publishing runs beside the books: a failure is recorded, never thrown into them
        this.lastError = `${new Date((this.opts.now ?? Date.now)()).toISOString()} book ${book.topic}: ${(err as Error)?.message ?? String(err)}`.slice(0, 500)
        this.emit('error-recorded', this.lastError)
      }
    })
    this.running = run.catch(safetyCatch)
    await this.running
  }

  /** Listings and milestones of one book, if this node originates it. */
  private async scan (book: Book): Promise<void> {
    const meta = await book.view.meta()
    if (!meta || meta.originator !== this.host.did) return
    const pub = await this.publicKey()
    const bookHex = b4a.toString(book.key, 'hex')
    const location = (await this.setting<string>(SETTINGS.location)) ?? undefined
    const projects = await book.view.list('projects')
    let loans: Awaited<ReturnType<typeof book.view.list<'loans'>>> | null = null
    for (const project of projects) {
      if (this.closing) return
      const listed = await this.publishListing(book, bookHex, project, pub, location)
      if (!listed) continue
      loans ??= await book.view.list('loans')
      await this.publishMilestones(book, bookHex, project, loans, pub)
    }
  }

  /** @returns whether the project has a listing (published now or before) */
  private async publishListing (book: Book, bookHex: string, project: Project, pub: string, location: string | undefined): Promise<boolean> {
    const state = listingState(project)
    if (state === null) return false
    const key = `${LISTING}${bookHex}/${project.projectId}`
    const rec = (await this.local().get<ListingRecord>(key))?.value ?? null
    // only a project that was once public and active is ever listed; its later states follow it
    if (!rec && state !== 'active') return false
    const publishedAt = rec?.publishedAt ?? this.nowSec()
    const template = listingTemplate(project, { topic: book.topic, location, publishedAt, createdAt: 0 })
    const hash = digest(JSON.stringify([template.kind, template.tags, template.content]))
    if (rec && rec.hash === hash) return true
    if (!rec) await this.bindKey(book, pub)
    const createdAt = Math.max(this.nowSec(), (rec?.createdAt ?? 0) + 1)
    const event = await this.signer.sign({ ...template, created_at: createdAt })
    const d = listingD(book.topic, project.projectId)
    await this.outbox.put(event, { what: 'listing', book: book.topic, project: project.projectId })
    // 30402 and 30403 are two addresses: the other kind's version must go
    const other = event.kind === KIND_LISTING ? KIND_LISTING + 1 : KIND_LISTING
    if (rec) await this.outbox.put(await this.signer.sign({ ...deletionTemplate(coordinate(other, pub, d), createdAt) }), { what: 'deletion', book: book.topic, project: project.projectId })
    await this.local().put(key, { hash, kind: event.kind, id: event.id, createdAt, publishedAt } satisfies ListingRecord)
    this.pool.kick()
    return true
  }

  private async publishMilestones (book: Book, bookHex: string, project: Project, loans: Array<{ status: string; projectId: string }>, pub: string): Promise<void> {
    const reached = milestonesReached(project, loans as never)
    const fresh: Milestone[] = []
    for (const m of reached) if (!(await this.local().get(`${MILESTONE}${bookHex}/${project.projectId}/${m}`))) fresh.push(m)
    if (fresh.length === 0) return
    const coord = coordinate(KIND_LISTING, pub, listingD(book.topic, project.projectId))
    let createdAt = this.nowSec()
    for (const m of MILESTONES.filter((x) => fresh.includes(x))) {
      const key = `${MILESTONE}${bookHex}/${project.projectId}/${m}`
      // reaching 100 % at once makes "half funded" old news: remembered, not sent
      if (m === 'funded-50' && fresh.includes('funded-100')) { await this.local().put(key, { id: null, skipped: true }); continue }
      const event = await this.signer.sign(milestoneTemplate(m, project, book.topic, coord, createdAt++))
      await this.outbox.put(event, { what: 'note', book: book.topic, project: project.projectId, milestone: m })
      // remembered once queued: the outbox delivers it, a rescan never makes another
      await this.local().put(key, { id: event.id })
    }
    this.pool.kick()
  }

  // readers check a listing against the keys the book records: record ours before the first listing
  private async bindKey (book: Book, pub: string): Promise<void> {
    if ((await book.view.nostrSpeaksFor(pub, null)).ok) return
    if (!book.writable) throw GrowrError.NOT_WRITABLE('cannot record the organization\'s Nostr key in the book from this device (not a writer yet)')
    const [{ audit }] = await book.act([await bindingOp(this.signer, { key: book.key, originator: this.host.did as never }, { kind: 'organization' })])
    if (audit.status !== 'accepted') throw GrowrError.OP_REJECTED(`nostr/key rejected: ${audit.reason}`)
  }

  private shown (e: OutboxEntry): PublishedEvent {
    const relays = Object.keys(e.relays).slice(0, 3)
    const ev: NostrEvent = e.event
    const d = ev.tags.find((t) => t[0] === 'd')?.[1]
    return {
      what: e.what,
      kind: ev.kind,
      id: ev.id,
      nevent: nip19.neventEncode({ id: ev.id, author: ev.pubkey, kind: ev.kind, relays }),
      naddr: ev.kind >= 30000 && ev.kind < 40000 && d !== undefined ? nip19.naddrEncode({ kind: ev.kind, pubkey: ev.pubkey, identifier: d, relays }) : null,
      book: e.book ?? null,
      project: e.project ?? null,
      milestone: e.milestone ?? null,
      createdAt: ev.created_at,
      relays: { ...e.relays }
    }
  }
}

function digest (s: string): string {
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, b4a.from(s))
  return b4a.toString(out, 'hex')
}
