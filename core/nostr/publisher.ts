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
 * - Per-project keys: when the originator chooses (`nostr/settings/project/<book hex>/<project>`,
 *   {@link NostrService.setProjectKey}), a project's listing and notes are signed with its own
 *   NIP-06 key (core/nostr/keys.ts projectAccount), bound in the book first (op `nostr/key` with
 *   the project's scope), and the key gets its own kind 0 profile (the project's name, summary and
 *   Lightning address). Switching keys deletes (NIP-09) the listing the other key signed.
 * - Zaps (NIP-57): a project whose zap settings the book records (op `project/zap`) gets a `zap`
 *   tag naming the recipient key and a `lud16` tag on its listing; the service subscribes to zap
 *   receipts (kind 9735) tagged with those listings' `a` coordinates and hands each new one in as
 *   `funding/zap`. A receipt is checked here first (core/nostr/zap.ts, the check apply runs), so
 *   hostile receipts a relay passes on never reach the book; each receipt is handed in once
 *   (`nostr/zap/<receipt id>` in the local bee, and the book refuses a second count anyway). The
 *   receipt's own `preimage` tag, if any, is not handed in as a proof of payment: it comes from
 *   the same LNURL server as the receipt, so the funding waits for the originator's confirmation.
 *
 * Lifecycle (ReadyResource): open loads the outbox and settings and starts the relays, the reader
 * and the book watch; close stops them in reverse and waits for the scan in progress.
 */
import '../runtime/text-encoding.ts' // before nostr-tools (@noble): Bare has no TextEncoder global
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import { parseTopic } from '../../books/book.ts'
import sodium from 'sodium-universal'
import type Hyperbee from 'hyperbee'
import * as nip19 from 'nostr-tools/nip19'
import type { EventTemplate, Event as NostrEvent } from 'nostr-tools/pure'
import DefaultWebSocket from '#websocket'
import { GrowrError } from '../errors.ts'
import type { Book } from '../../books/book.ts'
import type { Project } from '../../books/entities.ts'
import type { NostrScope, NostrSigner } from './keys.ts'
import { bindingOp } from './binding.ts'
import { checkZapReceipt, zapListing, zapOp, ZAP_RECEIPT_KIND } from './zap.ts'
import {
  checkProfile, checkRelayUrls, coordinate, deletionTemplate, KIND_LISTING, listingD, listingState, listingTemplate, MILESTONES,
  milestonesReached, milestoneTemplate, profileTemplate, relayListTemplate, type Milestone, type NostrProfile
} from './events.ts'
import { Outbox, type Delivery, type OutboxEntry } from './outbox.ts'
import { RelayPool, type BackoffOptions, type RelayState, type Timers, type WebSocketImpl } from './relays.ts'
import { ListingsReader, type NostrListing } from './listings.ts'

const SETTINGS = { profile: 'nostr/settings/profile', relays: 'nostr/settings/relays', location: 'nostr/settings/location', project: 'nostr/settings/project/' }
const LISTING = 'nostr/listing/'
const MILESTONE = 'nostr/milestone/'
const ZAP = 'nostr/zap/'
/** How many zap outcomes `nostr.status` shows, newest first. */
const ZAPS_SHOWN = 50
/** How many receipt ids are remembered in memory to ignore a relay's repeats (the local bee has the rest). */
const ZAPS_REMEMBERED = 10_000

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
  /** the WebSocket client (default `#websocket`: the `ws` package under Node, core/nostr/bare-websocket.ts under Bare) */
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

/** What became of a zap receipt seen on a relay for one of this node's listings. */
export interface ZapOutcome {
  /** the receipt's event id, hex */
  receipt: string
  /** the book (topic) and project the listing funds */
  book: string
  project: string
  /** accepted / rejected: what apply made of `funding/zap`; refused: checked here and never handed in */
  status: 'accepted' | 'rejected' | 'refused'
  reason: string | null
  /** ms, local clock */
  at: number
}

/** A project's choice of key (`nostr.project`). */
export interface ProjectKeySetting {
  /** true: the listing and notes are signed by the project's own NIP-06 key; false: by the organization's */
  ownKey: boolean
  /** the key that signs its listing now, hex and npub */
  pubkey: string
  npub: string
  /**
   * the address of its listing under that key, `30402:<pubkey>:<d>`: what its zap settings must
   * name (`nostr.zap.settings` listing), so after a change of key they are recorded again
   */
  listing: string
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
  /** zap receipts seen on the relays for this node's listings and what became of them, newest first */
  zaps: ZapOutcome[]
}

/** `pubkey`/`own`: the key that signed the listing (absent in records written before project keys: the organization's). */
interface ListingRecord { hash: string; kind: number; id: string; createdAt: number; publishedAt: number; pubkey?: string; own?: boolean; profileHash?: string }

interface ZapTarget { book: Book; projectId: string }

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
  private readonly zapTargets = new Map<string, ZapTarget>()
  private zapFilterKey = ''
  private unsubscribeZaps: (() => void) | null = null
  private readonly zapsSeen = new Set<string>()
  private readonly zapOutcomes: ZapOutcome[] = []
  private zapChain: Promise<unknown> = Promise.resolve()
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
      },
      follows: (topic) => {
        try { return this.host.findBook(b4a.toString(parseTopic(topic), 'hex')) !== null } catch { return false }
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
    this.unsubscribeZaps?.()
    this.unsubscribeZaps = null
    this.reader.stop()
    this.pool.close()
    await this.running.catch(safetyCatch)
    await this.zapChain.catch(safetyCatch)
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
      lastError: this.lastError,
      zaps: this.zapOutcomes.map((z) => ({ ...z }))
    }
  }

  /**
   * Which key speaks for one project of a book this node originates, and (with `ownKey`) changes
   * it: true signs its listing and notes with the project's own NIP-06 key, bound in the book at
   * once (op `nostr/key`, project scope) and given its own kind 0 profile; false goes back to the
   * organization's key. Either change republishes the listing under the new key and deletes
   * (NIP-09) the one the other key signed.
   * @param book the book (this node must be its originator and a writer of it)
   * @param projectId a project of that book
   * @param ownKey undefined to only read the setting
   * @throws NOT_FOUND for a project the book does not hold; BAD_ARGUMENT when this node is not the
   *   book's originator; NOT_WRITABLE / OP_REJECTED when the key cannot be bound
   */
  async setProjectKey (book: Book, projectId: string, ownKey?: boolean): Promise<ProjectKeySetting> {
    await this.ready()
    const meta = await book.view.meta()
    if (!meta || meta.originator !== this.host.did) throw GrowrError.BAD_ARGUMENT('only the book\'s originator chooses the key a project\'s listing is signed with')
    const project = await book.view.get('projects', projectId)
    if (!project) throw GrowrError.NOT_FOUND(`no project ${String(projectId).slice(0, 80)} in this book`)
    const bookHex = b4a.toString(book.key, 'hex')
    const key = `${SETTINGS.project}${bookHex}/${projectId}`
    if (ownKey !== undefined) {
      if (typeof ownKey !== 'boolean') throw GrowrError.BAD_ARGUMENT('ownKey is true or false')
      if (ownKey) await this.bindKey(book, { kind: 'project', book: bookHex, project: projectId })
      await this.local().put(key, { ownKey })
      if (this.relayUrls.length > 0) await this.enqueueScan(book)
    }
    const own = (await this.setting<{ ownKey: boolean }>(key))?.ownKey === true
    const pubkey = await this.signer.publicKey(this.scopeOf(bookHex, projectId, own))
    return { ownKey: own, pubkey, npub: nip19.npubEncode(pubkey), listing: coordinate(KIND_LISTING, pubkey, listingD(book.topic, projectId)) }
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

  /** Listings, milestones and zap watch of one book, if this node originates it. */
  private async scan (book: Book): Promise<void> {
    const meta = await book.view.meta()
    if (!meta || meta.originator !== this.host.did) return
    const bookHex = b4a.toString(book.key, 'hex')
    const location = (await this.setting<string>(SETTINGS.location)) ?? undefined
    const projects = await book.view.list('projects')
    let loans: Awaited<ReturnType<typeof book.view.list<'loans'>>> | null = null
    for (const project of projects) {
      if (this.closing) return
      const own = (await this.setting<{ ownKey: boolean }>(`${SETTINGS.project}${bookHex}/${project.projectId}`))?.ownKey === true
      const scope = this.scopeOf(bookHex, project.projectId, own)
      const pub = await this.signer.publicKey(scope)
      const listed = await this.publishListing(book, bookHex, project, scope, pub, location)
      if (!listed) continue
      loans ??= await book.view.list('loans')
      await this.publishMilestones(book, bookHex, project, loans, scope, pub)
    }
    this.watchZaps(book, projects)
  }

  private scopeOf (bookHex: string, projectId: string, own: boolean): NostrScope {
    return own ? { kind: 'project', book: bookHex, project: projectId } : { kind: 'organization' }
  }

  /**
   * Zap receipts are read for every listing of this book whose zap settings the book records (a
   * closed project takes none); the subscription is replaced only when that set changes.
   */
  private watchZaps (book: Book, projects: Project[]): void {
    for (const [coord, target] of this.zapTargets) if (target.book === book) this.zapTargets.delete(coord)
    for (const p of projects) if (p.zap && p.status !== 'closed') this.zapTargets.set(p.zap.listing, { book, projectId: p.projectId })
    const coords = [...this.zapTargets.keys()].sort()
    const filterKey = coords.join('\n')
    if (filterKey === this.zapFilterKey || this.closing) return
    this.zapFilterKey = filterKey
    this.unsubscribeZaps?.()
    this.unsubscribeZaps = coords.length === 0 ? null : this.pool.subscribe([{ kinds: [ZAP_RECEIPT_KIND], '#a': coords }], (e) => this.onZapReceipt(e))
  }

  // a relay may send the same receipt again (on each resubscription, from each relay): one hand-in
  private onZapReceipt (event: NostrEvent): void {
    if (this.closing || this.zapsSeen.has(event.id)) return
    const coord = zapListing(event)
    const target = coord === null ? undefined : this.zapTargets.get(coord)
    if (!target || coord === null) return
    this.zapsSeen.add(event.id)
    if (this.zapsSeen.size > ZAPS_REMEMBERED) this.zapsSeen.delete(this.zapsSeen.values().next().value as string)
    this.zapChain = this.zapChain.then(() => this.handInZap(target, coord, event)).catch((err) => {
      // not handed in: the next copy a relay sends is tried again
      this.zapsSeen.delete(event.id)
      this.lastError = `zap receipt ${event.id.slice(0, 12)}: ${(err as Error)?.message ?? String(err)}`.slice(0, 500)
      this.emit('error-recorded', this.lastError)
    })
  }

  private async handInZap (target: ZapTarget, coord: string, event: NostrEvent): Promise<void> {
    if (this.closing) return
    const key = `${ZAP}${event.id}`
    if (await this.local().get(key)) return
    const { book, projectId } = target
    const project = await book.view.get('projects', projectId)
    if (!project?.zap || project.zap.listing !== coord || project.rail?.rail !== 'lightning') return
    const now = (this.opts.now ?? Date.now)()
    // the check apply runs, so a hostile receipt costs the book nothing; apply checks it again
    const checked = checkZapReceipt(event, { ...project.zap, network: project.rail.network, receivedAt: now })
    if (!checked.ok) return this.zapOutcome({ receipt: event.id, book: book.topic, project: projectId, status: 'refused', reason: checked.reason, at: now })
    if (!book.writable) throw GrowrError.NOT_WRITABLE('cannot hand in a zap receipt from this device (not a writer of the book)')
    const [{ audit }] = await book.act([zapOp(event)])
    const outcome: ZapOutcome = { receipt: event.id, book: book.topic, project: projectId, status: audit.status === 'accepted' ? 'accepted' : 'rejected', reason: audit.reason ?? null, at: now }
    await this.local().put(key, outcome)
    this.zapOutcome(outcome)
  }

  private zapOutcome (outcome: ZapOutcome): void {
    this.zapOutcomes.unshift(outcome)
    if (this.zapOutcomes.length > ZAPS_SHOWN) this.zapOutcomes.length = ZAPS_SHOWN
    this.emit('zap', outcome)
  }

  /** @returns whether the project has a listing (published now or before) */
  private async publishListing (book: Book, bookHex: string, project: Project, scope: NostrScope, pub: string, location: string | undefined): Promise<boolean> {
    const state = listingState(project)
    if (state === null) return false
    const key = `${LISTING}${bookHex}/${project.projectId}`
    const rec = (await this.local().get<ListingRecord>(key))?.value ?? null
    // only a project that was once public and active is ever listed; its later states follow it
    if (!rec && state !== 'active') return false
    const own = scope.kind === 'project'
    const publishedAt = rec?.publishedAt ?? this.nowSec()
    const zap = project.zap ? { recipient: project.zap.recipient, lud16: project.zap.lud16, relay: this.relayUrls[0] } : undefined
    const template = listingTemplate(project, { topic: book.topic, location, publishedAt, createdAt: 0, zap })
    const hash = digest(JSON.stringify([pub, template.kind, template.tags, template.content]))
    const profileHash = own ? await this.publishProjectProfile(project, scope, pub, rec?.profileHash) : undefined
    if (rec && rec.hash === hash) {
      if (profileHash !== rec.profileHash) await this.local().put(key, { ...rec, profileHash })
      return true
    }
    const orgPub = await this.publicKey()
    const oldPub = rec ? rec.pubkey ?? orgPub : null
    const switched = oldPub !== null && oldPub !== pub
    if (!rec || switched) await this.bindKey(book, scope)
    const createdAt = Math.max(this.nowSec(), (rec?.createdAt ?? 0) + 1)
    const event = await this.signer.sign({ ...template, created_at: createdAt }, scope)
    const d = listingD(book.topic, project.projectId)
    await this.outbox.put(event, { what: 'listing', book: book.topic, project: project.projectId })
    // 30402 and 30403 are two addresses: the other kind's version must go
    const other = event.kind === KIND_LISTING ? KIND_LISTING + 1 : KIND_LISTING
    if (rec && !switched) await this.outbox.put(await this.signer.sign({ ...deletionTemplate(coordinate(other, pub, d), createdAt) }, scope), { what: 'deletion', book: book.topic, project: project.projectId })
    if (rec && switched) {
      // the other key's listing speaks for the project no more: only that key can delete it (NIP-09)
      const oldScope: NostrScope = rec.own === true ? { kind: 'project', book: bookHex, project: project.projectId } : { kind: 'organization' }
      await this.outbox.put(await this.signer.sign({ ...deletionTemplate(coordinate(rec.kind, oldPub, d), createdAt) }, oldScope), { what: 'deletion', book: book.topic, project: project.projectId })
    }
    await this.local().put(key, { hash, kind: event.kind, id: event.id, createdAt, publishedAt, pubkey: pub, own, profileHash } satisfies ListingRecord)
    this.pool.kick()
    return true
  }

  /**
   * A project key's own kind 0: the project's name and summary, and the Lightning address of its
   * zap settings (NIP-57 clients read the lud16 of the key a zap goes to).
   * @returns the hash of what was queued (unchanged: nothing is queued)
   */
  private async publishProjectProfile (project: Project, scope: NostrScope, pub: string, lastHash: string | undefined): Promise<string> {
    const t = project.terms
    const profile = checkProfile({ name: t.name.slice(0, 100) || 'Growr project', about: `A Growr lending project. ${t.description}`.slice(0, 2000), ...(project.zap ? { lud16: project.zap.lud16 } : {}) })
    const hash = digest(JSON.stringify([pub, profile]))
    if (hash === lastHash && this.outbox.get(`0:${pub}:`)) return hash
    const held = this.outbox.get(`0:${pub}:`)
    const createdAt = Math.max(this.nowSec(), (held?.event.created_at ?? 0) + 1)
    await this.outbox.put(await this.signer.sign(profileTemplate(profile, createdAt), scope), { what: 'profile', project: project.projectId })
    return hash
  }

  private async publishMilestones (book: Book, bookHex: string, project: Project, loans: Array<{ status: string; projectId: string }>, scope: NostrScope, pub: string): Promise<void> {
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
      const event = await this.signer.sign(milestoneTemplate(m, project, book.topic, coord, createdAt++), scope)
      await this.outbox.put(event, { what: 'note', book: book.topic, project: project.projectId, milestone: m })
      // remembered once queued: the outbox delivers it, a rescan never makes another
      await this.local().put(key, { id: event.id })
    }
    this.pool.kick()
  }

  // readers check a listing against the keys the book records: record the signing key before its first listing
  private async bindKey (book: Book, scope: NostrScope): Promise<void> {
    const pub = await this.signer.publicKey(scope)
    const project = scope.kind === 'project' ? scope.project : null
    const speaks = await book.view.nostrSpeaksFor(pub, project)
    // a project key must be recorded for that very project, not merely speak for it through the organization
    if (speaks.ok && (project === null || speaks.record.scope === project)) return
    const who = project === null ? 'the organization\'s' : `project ${project}'s`
    if (!book.writable) throw GrowrError.NOT_WRITABLE(`cannot record ${who} Nostr key in the book from this device (not a writer yet)`)
    const [{ audit }] = await book.act([await bindingOp(this.signer, { key: book.key, originator: this.host.did as never }, scope)])
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
