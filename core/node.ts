/**
 * GrowrNode: one participant's full node. It owns a Corestore at a storage directory, a
 * Hyperswarm, the user's identity and the books it follows, and nothing else: credentials,
 * rules and UI state live elsewhere. Lifecycle: ready() opens, in order, the store, the
 * node-local database, the swarm and every followed book; close() tears down in reverse.
 */
import ReadyResource from 'ready-resource'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import Autobase from 'autobase'
import BlindPairing from 'blind-pairing'
import type Hyperswarm from 'hyperswarm'
import type DHT from 'hyperdht'
import b4a from 'b4a'
import safetyCatch from 'safety-catch'
import fs from '#fs'
import path from '#path'
import { hasIdentity, identityFilePath, loadIdentity, type Identity } from './identity/keyfile.ts'
import { securePrivateDir, securePrivateFile, tightenTree } from './storage-dir.ts'
import { createDht, createSwarm, type BootstrapNode } from './network/swarm.ts'
import { codeToInvite, inviteToCode, makeClaim, openClaim } from './network/pairing.ts'
import { GrowrError } from './errors.ts'
import { ClockWitness, type ClockWitnessOptions } from './clock-witness.ts'
import type { DidKey } from './identity/did-key.ts'
import { Book, newId, parseTopic } from '../books/book.ts'
import type { Role } from '../books/ops/types.ts'

export interface NodeOptions {
  /** storage directory (identity file + corestore) */
  storage: string
  /** private HyperDHT bootstrap nodes; absent means the public DHT */
  bootstrap?: BootstrapNode[]
  /** a DHT node to use instead (tests); the node does not destroy it */
  dht?: DHT
  /** false keeps the node offline: no swarm, books open from disk only */
  network?: boolean
  passphrase?: string
  /** clock for op timestamps, ms (tests act at chosen dates) */
  now?: () => number
  /** ms between background acks of books where this node is an indexer */
  ackInterval?: number
  /** when this node vouches for the date in books where it is a borrower or investor (core/clock-witness.ts); false: never */
  witness?: ClockWitnessOptions | false
}

interface BookRecord { key: string; ns: string; name: string; createdAt: number; creator: boolean }
/**
 * `usedBy` is the writer key (hex) the invite was claimed for: once set, only that writer key is
 * ever confirmed. Records written before it existed have `used` alone and admit only a writer the
 * book already binds.
 */
interface InviteRecord { id: string; book: string; role: Exclude<Role, 'originator'>; publicKey: string; discoveryKey: string; expires: number; used: boolean; usedBy?: string }

/** An invite claimed in this process for `writerKey`; `failed` once `admitted` has rejected. */
interface Redemption { writerKey: string; failed: boolean; admitted: Promise<boolean> }

type PairingRequest = { inviteId: Uint8Array; open (pk: Uint8Array): Uint8Array; confirm (r: { key: Uint8Array }): void; deny (): void }

export interface InviteInfo { code: string; role: string; book: string; expires: number }

const INVITE_TTL_MS = 7 * 24 * 3600 * 1000

export class GrowrNode extends ReadyResource {
  readonly storage: string
  /** What opening had to tighten in the storage directory (modes loosened by hand or by an older version); shown to the user. */
  storageNotes: string[] = []
  identity: Identity | null = null
  store: Corestore | null = null
  local: Hyperbee | null = null
  swarm: Hyperswarm | null = null
  pairing: BlindPairing | null = null
  private dht: DHT | null = null
  private readonly ownsDht: boolean
  private readonly books = new Map<string, Book>()
  private readonly members = new Map<string, { close (): Promise<void> }>()
  /**
   * Invite id -> the redemption under way or done in this process. Set with no await between the
   * check and the set, so two concurrent requests for one invite cannot both pass.
   */
  private readonly redemptions = new Map<string, Redemption>()
  private readonly opts: NodeOptions
  private witness: ClockWitness | null = null

  constructor (opts: NodeOptions) {
    super()
    this.opts = opts
    this.storage = opts.storage
    this.ownsDht = !opts.dht
  }

  protected async _open (): Promise<void> {
    // the storage must be ours and private before anything in it is trusted (see storage-dir.ts)
    if (!fs.existsSync(this.storage)) throw GrowrError.NO_IDENTITY()
    const notes = securePrivateDir(this.storage)
    if (!hasIdentity(this.storage)) throw GrowrError.NO_IDENTITY()
    this.storageNotes = [...notes, ...securePrivateFile(identityFilePath(this.storage), 'identity file')]
    tightenTree(this.storage)
    this.identity = loadIdentity(this.storage, { passphrase: this.opts.passphrase })
    try {
      await this.openResources()
    } catch (err) {
      // ReadyResource does not call _close when _open fails: release what was opened (the
      // corestore's lock first of all), so the same storage can be opened again
      await this._close().catch(safetyCatch)
      throw err
    }
  }

  private async openResources (): Promise<void> {
    this.store = new Corestore(path.join(this.storage, 'corestore'))
    await this.store.ready()
    this.local = new Hyperbee(this.store.get({ name: 'growr-local' }), { keyEncoding: 'utf-8', valueEncoding: 'json' })
    await this.local.ready()
    // RocksDB has just created files with the umask's modes
    tightenTree(this.storage)
    if (this.opts.network !== false) {
      this.dht = this.opts.dht ?? createDht(this.opts.bootstrap)
      const store = this.store
      this.swarm = createSwarm(this.dht, (conn) => store.replicate(conn))
      this.pairing = new BlindPairing(this.swarm, { poll: 5000 })
    }
    for await (const { value } of this.local.createReadStream<BookRecord>({ gte: 'books/', lt: 'books0' })) {
      if (this.closing) return
      await this.openBook(value)
    }
    await this.listenForInvites()
    if (this.opts.witness !== false && this.opts.network !== false && !this.closing) {
      this.witness = new ClockWitness(() => this.list(), this.did, { now: this.opts.now, ...this.opts.witness })
      this.witness.start()
    }
  }

  protected async _close (): Promise<void> {
    if (this.witness) await this.witness.close()
    for (const m of this.members.values()) await m.close().catch(safetyCatch)
    if (this.pairing) await this.pairing.close().catch(safetyCatch)
    if (this.swarm) await this.swarm.destroy().catch(safetyCatch)
    if (this.dht && this.ownsDht) await this.dht.destroy().catch(safetyCatch)
    for (const book of [...this.books.values()].reverse()) await book.close().catch(safetyCatch)
    if (this.local) await this.local.close()
    if (this.store) await this.store.close()
    // files RocksDB made while running sat in a 0700 directory; at rest they are 0600 too
    try { tightenTree(this.storage) } catch (err) { safetyCatch(err) }
  }

  get did (): string { return (this.identity as Identity).did }
  /** Open connections to other peers. */
  get peerCount (): number { return this.swarm ? this.swarm.connections.size : 0 }
  /** Every followed book, in the order opened. */
  list (): Book[] { return [...this.books.values()] }

  /**
   * A followed book by topic key (z-base-32 or hex).
   * @throws NOT_FOUND when this node does not follow it, BAD_ARGUMENT for a malformed key
   */
  book (topic: string): Book {
    const key = b4a.toString(parseTopic(topic), 'hex')
    const book = this.books.get(key)
    if (!book) throw GrowrError.NOT_FOUND(`this node does not follow book ${topic}; join it first`)
    return book
  }

  /** A followed book by its key in hex, or null. */
  findBook (keyHex: string): Book | null { return this.books.get(keyHex) ?? null }

  /** Creates a book this node's identity originates, and publishes it on the swarm. */
  async createBook (name: string): Promise<Book> {
    await this.ready()
    const rec: BookRecord = { key: '', ns: newId(), name, createdAt: Date.now(), creator: true }
    const book = this.makeBook(rec.ns, null)
    await book.ready()
    const [{ audit }] = await book.act([{ type: 'book/create', name }])
    if (audit.status !== 'accepted') throw GrowrError.OP_REJECTED(audit.reason ?? 'book/create rejected')
    rec.key = b4a.toString(book.key, 'hex')
    await this.remember(rec, book)
    return book
  }

  /** Follows a book read-only by its topic key (writing needs an invite). */
  async joinBook (topic: string): Promise<Book> {
    await this.ready()
    const key = parseTopic(topic)
    const hex = b4a.toString(key, 'hex')
    const known = this.books.get(hex)
    if (known) return known
    const rec: BookRecord = { key: hex, ns: newId(), name: '', createdAt: Date.now(), creator: false }
    const book = this.makeBook(rec.ns, key)
    await book.ready()
    await this.remember(rec, book)
    return book
  }

  /**
   * Issues a single-use invite that makes its holder a `role` writer of `topic`.
   * The originator's node must be online when the invitee redeems it.
   */
  async createInvite (topic: string, role: Exclude<Role, 'originator'>, ttlMs = INVITE_TTL_MS): Promise<InviteInfo> {
    await this.ready()
    const book = this.book(topic)
    const meta = await book.view.meta()
    if (!meta || meta.originator !== this.did) throw GrowrError.BAD_ARGUMENT('only the book\'s originator issues invites')
    if (role !== 'borrower' && role !== 'investor') throw GrowrError.BAD_ARGUMENT(`role must be borrower or investor, not ${String(role)}`)
    const inv = BlindPairing.createInvite(book.key)
    const rec: InviteRecord = {
      id: b4a.toString(inv.id, 'hex'),
      book: b4a.toString(book.key, 'hex'),
      role,
      publicKey: b4a.toString(inv.publicKey, 'hex'),
      discoveryKey: b4a.toString(inv.discoveryKey, 'hex'),
      expires: Date.now() + ttlMs,
      used: false
    }
    await (this.local as Hyperbee).put('invites/' + rec.id, rec)
    await this.listenForInvites()
    return { code: inviteToCode(inv.invite), role, book: book.topic, expires: rec.expires }
  }

  /**
   * Redeems an invite: pairs with the originator's node, joins the book, and resolves once the
   * originator's `member/add` has made this node a writer.
   * @throws BAD_INVITE for a malformed code, TIMEOUT when the originator does not answer
   */
  async acceptInvite (code: string, timeoutMs = 60_000): Promise<Book> {
    await this.ready()
    if (!this.pairing) throw GrowrError.BAD_ARGUMENT('accepting an invite needs the network')
    const invite = codeToInvite(code)
    const { discoveryKey } = BlindPairing.decodeInvite(invite)
    // a book already followed by its topic key keeps its store: its own writer key must be the one admitted
    const followed = [...this.books.values()].find((b) => b4a.equals(b.discoveryKey, discoveryKey))
    const ns = newId()
    const writerKey = followed ? followed.base.local.key : await Autobase.getLocalKey((this.store as Corestore).namespace(ns))
    const identity = this.identity as Identity
    let key: Uint8Array | null = null
    const candidate = this.pairing.addCandidate({
      invite,
      userData: makeClaim(identity.did, identity.secretKey, discoveryKey, writerKey),
      onadd: async (res) => { key = res.key }
    })
    const timer = setTimeout(() => { candidate.close().catch(safetyCatch) }, timeoutMs)
    try {
      await candidate.pairing
    } finally {
      clearTimeout(timer)
    }
    if (!key) throw GrowrError.TIMEOUT(`the originator did not answer the invite within ${timeoutMs} ms`)
    const hex = b4a.toString(key, 'hex')
    let book = this.books.get(hex)
    if (!book) {
      const rec: BookRecord = { key: hex, ns, name: '', createdAt: Date.now(), creator: false }
      book = this.makeBook(ns, key)
      await book.ready()
      await this.remember(rec, book)
    }
    await book.until(async () => book.writable, timeoutMs, 'this node was not added as a writer')
    return book
  }

  private makeBook (ns: string, key: Uint8Array | null): Book {
    const identity = this.identity as Identity
    return new Book((this.store as Corestore).namespace(ns), {
      key,
      signer: { did: identity.did, secretKey: identity.secretKey },
      now: this.opts.now,
      ackInterval: this.opts.ackInterval
    })
  }

  private async openBook (rec: BookRecord): Promise<void> {
    const book = this.makeBook(rec.ns, b4a.from(rec.key, 'hex'))
    await book.ready()
    this.books.set(rec.key, book)
    this.announce(book)
    this.emit('book', book)
  }

  private async remember (rec: BookRecord, book: Book): Promise<void> {
    await (this.local as Hyperbee).put('books/' + rec.key, rec)
    this.books.set(rec.key, book)
    this.announce(book)
    this.emit('book', book)
  }

  private announce (book: Book): void {
    if (this.swarm) this.swarm.join(book.discoveryKey)
  }

  /**
   * Answers pairing requests for every book with unexpired invites. Used invites are answered
   * too: the candidate that claimed one may ask again (its confirm was lost, or this node
   * restarted mid-redemption) and must get in, and anyone else must be told no by the
   * persisted claim rather than by whatever happens to be in memory.
   */
  private async listenForInvites (): Promise<void> {
    if (!this.pairing) return
    const now = Date.now()
    for await (const { value: inv } of (this.local as Hyperbee).createReadStream<InviteRecord>({ gte: 'invites/', lt: 'invites0' })) {
      if (inv.expires < now || this.members.has(inv.discoveryKey)) continue
      const book = this.books.get(inv.book)
      if (!book) continue
      this.members.set(inv.discoveryKey, this.pairing.addMember({
        discoveryKey: b4a.from(inv.discoveryKey, 'hex'),
        onadd: (req) => this.admit(book, req).catch((err) => { req.deny(); safetyCatch(err) })
      }))
    }
  }

  /**
   * One pairing request: check the invite and the candidate's signed claim, claim the invite for
   * the claim's writer key, append member/add, then confirm. A single-use invite admits exactly
   * one writer key, under any concurrency and across restarts: the claim is taken in memory
   * before the first await that follows the invite lookup, and persisted before member/add. The
   * same writer key asking again is confirmed again without a second member/add.
   */
  private async admit (book: Book, req: PairingRequest): Promise<void> {
    const local = this.local as Hyperbee
    const id = b4a.toString(req.inviteId, 'hex')
    const node = await local.get<InviteRecord>('invites/' + id)
    const inv = node?.value
    if (!inv || inv.book !== b4a.toString(book.key, 'hex') || inv.expires < Date.now()) return req.deny()
    const claim = openClaim(req.open(b4a.from(inv.publicKey, 'hex')), book.discoveryKey)
    const writerKey = b4a.toString(claim.writerKey, 'hex')

    // from the lookup above to the set below there is no await: this is the claim
    let redemption = this.redemptions.get(id)
    if (redemption && redemption.writerKey !== writerKey) return req.deny()
    if (!redemption) {
      if (inv.used && inv.usedBy === undefined) return await this.confirmIfBound(book, req, claim.did, writerKey)
      if (inv.usedBy !== undefined && inv.usedBy !== writerKey) return req.deny()
    }
    if (!redemption || redemption.failed) {
      // the claim stays with this writer key even if this attempt fails (disk, append): only it may try again
      const entry: Redemption = { writerKey, failed: false, admitted: this.redeem(book, inv, claim.did, writerKey) }
      entry.admitted.catch(() => { entry.failed = true })
      this.redemptions.set(id, redemption = entry)
    }
    if (!(await redemption.admitted)) return req.deny()
    return await this.confirmIfBound(book, req, claim.did, writerKey)
  }

  /**
   * Persists the claim of `inv` for `writerKey`, then adds the writer unless the book already
   * binds it (a restart between the two, or a retry).
   * @returns whether the writer is now bound to `did` in the book
   */
  private async redeem (book: Book, inv: InviteRecord, did: DidKey, writerKey: string): Promise<boolean> {
    if (inv.usedBy !== writerKey) await (this.local as Hyperbee).put('invites/' + inv.id, { ...inv, used: true, usedBy: writerKey })
    const bound = await book.view.get('writers', writerKey)
    if (bound !== null) return bound === did
    const [{ audit }] = await book.act([{ type: 'member/add', member: did, role: inv.role, writerKey }])
    return audit.status === 'accepted'
  }

  private async confirmIfBound (book: Book, req: PairingRequest, did: string, writerKey: string): Promise<void> {
    if ((await book.view.get('writers', writerKey)) !== did) return req.deny()
    req.confirm({ key: book.key })
  }
}
