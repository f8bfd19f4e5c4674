/**
 * Revocation for the credentials this node issues (W3C Bitstring Status List v1.0).
 *
 * The issuer publishes its signed BitstringStatusListCredential in a Hyperbee it alone writes,
 * announced on the swarm by the bee's discovery key; a verifier opens that bee read-only by the
 * key in the list's URL (`hyper://<z32 key>/revocation`), replicates it and reads the bit.
 * The public bee holds the list credential and nothing else: which index belongs to which
 * credential and subject stays in the issuer's private records.
 *
 * Freshness. Anyone who once replicated the bee (the holder of a revoked credential, say) can
 * serve an old prefix of it, and every block of that prefix verifies. So a verifier does not take
 * the length whichever peer offers: it asks the issuer itself (`status/head` over the peer RPC, a
 * fresh nonce) for a signed head { list, length, tree hash, nonce }, and reads the list only once
 * its replica has reached that length with that tree hash. A head the issuer signed within
 * `maxAgeMs` may stand in when the issuer cannot be reached; otherwise the answer is STATUS_STALE.
 * The head names no index, so asking it tells the issuer nothing about which credential is checked.
 */
import ReadyResource from 'ready-resource'
import Hyperbee from 'hyperbee'
import type Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import safetyCatch from 'safety-catch'
import id from 'hypercore-id-encoding'
import type { PeerDiscovery } from 'hyperswarm'
import { GrowrError } from '../errors.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../identity/did-key.ts'
import { sign, verify } from '../identity/keys.ts'
import { jcs } from '../credentials/eddsa-jcs-2022.ts'
import { checkStatusAgainst, encodeStatusList, MIN_STATUS_LIST_BITS, statusEntry, statusListCredential, type BitstringStatusListEntry } from '../credentials/bitstring-status-list.ts'
import type { StatusCheck, VerifiableCredential } from '../credentials/vc.ts'

const LIST_KEY = 'revocation'
const URL_PREFIX = 'hyper://'

interface PrivateState { used: number[]; revoked: number[] }

const HEAD_DOMAIN = b4a.from('growr/status-head/v1\0')
const HEX32 = /^[0-9a-f]{64}$/

/** Default of how old an issuer's confirmation of its list may be when the issuer cannot be asked: 5 minutes, ms. */
export const DEFAULT_STATUS_MAX_AGE_MS = 5 * 60 * 1000
/** Default of how many issuers' lists a verifier keeps open (and their topics joined). */
export const DEFAULT_MAX_OPEN_LISTS = 32

/**
 * The issuer's signed statement of its list's current state, answering one verifier's nonce.
 * `length` is the list core's length (hypercore blocks), `treeHash` its Merkle tree hash at that
 * length (64 lowercase hex), `signature` Ed25519 by `issuer` (128 hex) over
 * "growr/status-head/v1" 0x00 || JCS of the other fields.
 */
export interface StatusHead { list: string; issuer: DidKey; length: number; treeHash: string; nonce: string; signature: string }

function headMessage (h: Omit<StatusHead, 'signature'>): Uint8Array {
  return b4a.concat([HEAD_DOMAIN, jcs({ list: h.list, issuer: h.issuer, length: h.length, treeHash: h.treeHash, nonce: h.nonce })])
}

/**
 * Checks a status head a peer sent against what the verifier asked.
 * @param head the untrusted answer
 * @param expect the list URL and the issuer (the credential's) the verifier asked about, and its nonce
 * @returns null when it holds, else a plain-words reason. Never throws.
 */
export function checkStatusHead (head: unknown, expect: { list: string; issuer: string; nonce: string }): string | null {
  try {
    const h = head as StatusHead
    if (!h || typeof h !== 'object') return 'the issuer sent no status head'
    if (h.list !== expect.list) return 'the issuer\'s status head names another list'
    if (h.issuer !== expect.issuer || !isDidKey(h.issuer)) return 'the status head is not from the credential\'s issuer'
    if (h.nonce !== expect.nonce) return 'the status head answers another request (stale or replayed)'
    if (!Number.isSafeInteger(h.length) || h.length < 1) return 'the status head has no valid length'
    if (typeof h.treeHash !== 'string' || !HEX32.test(h.treeHash)) return 'the status head has no valid tree hash'
    if (typeof h.signature !== 'string' || !/^[0-9a-f]{128}$/.test(h.signature)) return 'the status head is not signed'
    if (!verify(headMessage(h), b4a.from(h.signature, 'hex'), didToPublicKey(h.issuer))) return 'the status head\'s signature does not hold'
    return null
  } catch (err) {
    return `the status head cannot be checked: ${(err as Error)?.message ?? String(err)}`
  }
}

/** Parses `hyper://<z32 key>/revocation`. @throws BAD_ARGUMENT */
export function parseListUrl (url: string): Uint8Array {
  const m = /^hyper:\/\/([a-z0-9]{52}|[0-9a-f]{64})\/revocation$/.exec(url)
  if (!m) throw GrowrError.BAD_ARGUMENT(`not a Growr status list URL: ${url.slice(0, 100)}`)
  return id.decode(m[1])
}

/**
 * The issuer side: allocates status indices, revokes, and republishes the signed list.
 * Private state (indices in use, revoked indices) lives in the node's local bee under `status/`.
 */
export class StatusRegistry extends ReadyResource {
  readonly bee: Hyperbee
  private readonly local: Hyperbee
  private readonly issuer: { did: DidKey; secretKey: Uint8Array }
  private readonly now: () => number
  private state: PrivateState = { used: [], revoked: [] }

  /**
   * @param opts.store the node's Corestore (the list bee is its named core `growr-status-list`)
   * @param opts.local the node's private bee
   */
  constructor (opts: { store: Corestore; local: Hyperbee; issuer: { did: DidKey; secretKey: Uint8Array }; now?: () => number }) {
    super()
    this.bee = new Hyperbee(opts.store.get({ name: 'growr-status-list' }), { keyEncoding: 'utf-8', valueEncoding: 'json' })
    this.local = opts.local
    this.issuer = opts.issuer
    this.now = opts.now ?? Date.now
  }

  protected async _open (): Promise<void> {
    await this.bee.ready()
    const node = await this.local.get<PrivateState>('status/state')
    if (node) this.state = node.value
    if (!(await this.bee.get(LIST_KEY))) await this.publish()
  }

  protected async _close (): Promise<void> {
    await this.bee.close()
  }

  /** The id (URL) of this issuer's revocation list credential. */
  get listId (): string { return URL_PREFIX + id.encode(this.bee.core.key) + '/' + LIST_KEY }
  get discoveryKey (): Uint8Array { return this.bee.core.discoveryKey }

  /**
   * A fresh status entry for a credential about to be issued. Indices are drawn at random, so
   * neighbouring bits do not reveal issuance order (the spec's herd-privacy advice).
   */
  async allocate (): Promise<BitstringStatusListEntry> {
    await this.ready()
    if (this.state.used.length >= MIN_STATUS_LIST_BITS) throw GrowrError.BAD_ARGUMENT('the status list is full')
    const used = new Set(this.state.used)
    const buf = b4a.alloc(4)
    let index: number
    do {
      sodium.randombytes_buf(buf)
      index = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0) % MIN_STATUS_LIST_BITS
    } while (used.has(index))
    this.state = { ...this.state, used: [...this.state.used, index] }
    await this.local.put('status/state', this.state)
    return statusEntry(this.listId, index)
  }

  /**
   * Revokes the credential holding `index` and republishes the list.
   * @throws BAD_ARGUMENT for an index this registry never allocated
   */
  async revoke (index: number): Promise<void> {
    await this.ready()
    if (!this.state.used.includes(index)) throw GrowrError.BAD_ARGUMENT(`status index ${index} was never allocated by this issuer`)
    if (this.state.revoked.includes(index)) return
    this.state = { ...this.state, revoked: [...this.state.revoked, index] }
    await this.local.put('status/state', this.state)
    await this.publish()
  }

  /**
   * Signs this list's current head for a verifier (the `status/head` request).
   * @param req `{ list, nonce }`: the list URL asked about and the verifier's 64-hex nonce
   * @returns the signed {@link StatusHead}
   * @throws NOT_FOUND when `list` is not this issuer's list; BAD_ARGUMENT for a malformed nonce
   */
  async head (req: unknown): Promise<StatusHead> {
    await this.ready()
    const { list, nonce } = (req ?? {}) as { list?: unknown; nonce?: unknown }
    if (list !== this.listId) throw GrowrError.NOT_FOUND('this issuer publishes no such status list')
    if (typeof nonce !== 'string' || !HEX32.test(nonce)) throw GrowrError.BAD_ARGUMENT('a status head request needs a 64-hex nonce')
    const core = this.bee.core
    const length = core.length
    const body = { list: this.listId, issuer: this.issuer.did, length, treeHash: b4a.toString(await core.treeHash(length), 'hex'), nonce }
    return { ...body, signature: b4a.toString(sign(headMessage(body), this.issuer.secretKey), 'hex') }
  }

  private async publish (): Promise<void> {
    const encodedList = await encodeStatusList(this.state.revoked)
    const vc = statusListCredential({ issuer: this.issuer, id: this.listId, encodedList, now: this.now() })
    await this.bee.put(LIST_KEY, vc)
  }
}

/** What a verifier established about a status list's freshness before reading a bit from it. */
export interface StatusFreshness {
  /** the list's URL */
  list: string
  issuer: string
  /** the list core length the issuer signed, which the verifier's replica reached */
  length: number
  /** when the issuer's signed head was received (the verifier's clock, ms since the epoch) */
  confirmedAt: number
  /** the oldest confirmation this verifier accepts when the issuer cannot be asked, ms */
  maxAgeMs: number
  /** `issuer`: asked just now; `cache`: the issuer was unreachable, a confirmation within maxAgeMs stood in; `own`: this node's own list */
  source: 'issuer' | 'cache' | 'own'
}

/** A list the verifier may read, or why not (STATUS_STALE: found, not shown to be current). */
export type CurrentList = { list: unknown; freshness: StatusFreshness } | { error: string; code: 'STATUS_UNAVAILABLE' | 'STATUS_STALE'; maxAgeMs: number }

/** How the resolver asks an issuer for its signed head: `status/head` over the peer RPC. */
export type AskHead = (issuer: DidKey, list: string, nonce: string, timeoutMs: number) => Promise<unknown>

interface OpenList { bee: Hyperbee; session: PeerDiscovery | null; users: number; confirmed: { length: number; treeHash: string; at: number } | null }

/**
 * The verifier side: fetches issuers' status lists over the swarm, establishes with the issuer
 * that the copy is current (see the module comment) and checks entries. At most `maxOpen` lists
 * stay open, least recently used first out: closing a list also leaves its swarm topic.
 */
export class StatusResolver extends ReadyResource {
  /** set by the owner once its peer RPC exists; without it only the node's own list is ever current */
  askHead: AskHead | null
  /** lists opened since start (a count, for tests and diagnostics) */
  listsOpened = 0
  private readonly store: Corestore
  private readonly swarm: Hyperswarm | null
  private readonly timeoutMs: number
  private readonly maxAgeMs: number
  private readonly maxOpen: number
  private readonly now: () => number
  private readonly lists = new Map<string, OpenList>()

  /**
   * @param opts.timeoutMs how long one lookup may take in all (asking the issuer, replicating), ms (default 10 000)
   * @param opts.maxAgeMs how old an issuer's confirmation may be when the issuer cannot be asked, ms (default 5 minutes)
   * @param opts.maxOpen lists kept open at most (default 32)
   * @param opts.askHead how to ask an issuer for its signed head (else set `askHead` later)
   */
  constructor (opts: { store: Corestore; swarm: Hyperswarm | null; timeoutMs?: number; maxAgeMs?: number; maxOpen?: number; askHead?: AskHead; now?: () => number }) {
    super()
    this.store = opts.store
    this.swarm = opts.swarm
    this.timeoutMs = opts.timeoutMs ?? 10_000
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_STATUS_MAX_AGE_MS
    this.maxOpen = Math.max(1, opts.maxOpen ?? DEFAULT_MAX_OPEN_LISTS)
    this.askHead = opts.askHead ?? null
    this.now = opts.now ?? Date.now
  }

  protected async _close (): Promise<void> {
    for (const [hex, entry] of [...this.lists]) await this.drop(hex, entry)
  }

  /** How many lists are open now (each with its swarm topic joined). */
  get openLists (): number { return this.lists.size }

  /** A StatusCheck for verifyCredential: the list must be current (see module comment) and signed by the credential's own issuer. */
  readonly check: StatusCheck = async (entry, vc) => {
    const got = await this.current(entry?.statusListCredential, issuerOf(vc))
    if ('error' in got) return { error: got.error, code: got.code }
    return await checkStatusAgainst(got.list, entry, issuerOf(vc), this.now())
  }

  /**
   * The issuer's current status list credential at `url`, with what was established about its freshness.
   * @param url the list URL a credential's status entry names
   * @param issuer the credential's issuer, who must have signed the list's head
   * @param opts.timeoutMs overall budget of this lookup, ms (default the resolver's)
   * @returns `{ list, freshness }`, or `{ error, code, maxAgeMs }`: STATUS_STALE when the issuer
   *   could not confirm the list's current length (unreachable and no confirmation within maxAgeMs,
   *   or its length could not be replicated in time), STATUS_UNAVAILABLE for a malformed URL, a
   *   replica that contradicts the issuer's head, or a list that cannot be read. Never throws.
   */
  async current (url: unknown, issuer: string, opts: { timeoutMs?: number } = {}): Promise<CurrentList> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs
    const deadline = Date.now() + timeoutMs
    const maxAgeMs = this.maxAgeMs
    const unavailable = (error: string): CurrentList => ({ error, code: 'STATUS_UNAVAILABLE', maxAgeMs })
    const stale = (error: string): CurrentList => ({ error, code: 'STATUS_STALE', maxAgeMs })
    let key: Uint8Array
    try {
      key = parseListUrl(String(url))
    } catch (err) {
      return unavailable((err as Error).message)
    }
    if (this.closing) return unavailable('the status resolver is closed')
    const hex = b4a.toString(key, 'hex')
    const entry = await this.open(hex, key)
    entry.users++
    try {
      const core = entry.bee.core
      let freshness: StatusFreshness
      if (core.writable) {
        // our own list: nothing fresher exists anywhere
        freshness = { list: String(url), issuer, length: core.length, confirmedAt: this.now(), maxAgeMs, source: 'own' }
      } else {
        const asked = await this.ask(String(url), issuer, deadline)
        let head: { length: number; treeHash: string; at: number }
        let source: 'issuer' | 'cache'
        if ('length' in asked) {
          head = asked
          source = 'issuer'
        } else if (entry.confirmed && this.now() - entry.confirmed.at <= maxAgeMs) {
          head = entry.confirmed
          source = 'cache'
        } else {
          const last = entry.confirmed ? `its last confirmation is ${Math.round((this.now() - entry.confirmed.at) / 1000)} s old` : 'it never confirmed this list to this verifier'
          return stale(`the issuer ${issuer} could not confirm its status list is current (${asked.error}), and ${last}; this verifier requires a confirmation at most ${maxAgeMs} ms old`)
        }
        if (!(await this.reach(core, head.length, deadline))) {
          return stale(`the issuer's status list has ${head.length} entries but only ${core.length} could be replicated within ${timeoutMs} ms; a copy older than the issuer's is not judged`)
        }
        if (b4a.toString(await core.treeHash(head.length), 'hex') !== head.treeHash) return unavailable('the replicated status list contradicts the head its issuer signed')
        if (source === 'issuer' && (!entry.confirmed || entry.confirmed.length <= head.length)) entry.confirmed = head
        freshness = { list: String(url), issuer, length: head.length, confirmedAt: head.at, maxAgeMs, source }
      }
      const node = await withDeadline(entry.bee.get(LIST_KEY, { wait: true }), deadline)
      if (node === undefined) return stale(`the status list could not be read within ${timeoutMs} ms`)
      if (!node) return unavailable(`status list ${String(url).slice(0, 100)} holds no revocation list`)
      return { list: node.value, freshness }
    } catch (err) {
      return unavailable((err as Error)?.message ?? String(err))
    } finally {
      entry.users--
      await this.trim()
    }
  }

  /** The issuer's signed head, or why it could not be had before the deadline. */
  private async ask (list: string, issuer: string, deadline: number): Promise<{ length: number; treeHash: string; at: number } | { error: string }> {
    if (!this.askHead) return { error: 'this node has no network to ask it on' }
    if (!isDidKey(issuer)) return { error: 'the issuer is not a did:key' }
    const nonce = b4a.alloc(32)
    sodium.randombytes_buf(nonce)
    const nonceHex = b4a.toString(nonce, 'hex')
    try {
      const left = deadline - Date.now()
      if (left <= 0) return { error: 'no time left to ask it' }
      const head = await withDeadline(this.askHead(issuer, list, nonceHex, left), deadline)
      if (head === undefined) return { error: 'it did not answer in time' }
      const bad = checkStatusHead(head, { list, issuer, nonce: nonceHex })
      if (bad) return { error: bad }
      const h = head as StatusHead
      return { length: h.length, treeHash: h.treeHash, at: this.now() }
    } catch (err) {
      return { error: (err as Error)?.message ?? String(err) }
    }
  }

  /** Waits until `core` holds at least `length` blocks, or the deadline passes. @returns whether it got there */
  private async reach (core: Hyperbee['core'], length: number, deadline: number): Promise<boolean> {
    while (core.length < length) {
      const left = deadline - Date.now()
      if (left <= 0) return false
      await core.update({ wait: true }).catch(safetyCatch)
      if (core.length >= length) return true
      // nobody had it yet: wait for a block or a peer, then ask again
      await new Promise<void>((resolve) => {
        const done = () => { clearTimeout(timer); core.off('append', done); core.off('peer-add', done); resolve() }
        const timer = setTimeout(done, Math.min(250, Math.max(0, deadline - Date.now())))
        core.on('append', done)
        core.on('peer-add', done)
      })
    }
    return true
  }

  private async open (hex: string, key: Uint8Array): Promise<OpenList> {
    let entry = this.lists.get(hex)
    if (entry) {
      // most recently used last: eviction takes the front
      this.lists.delete(hex)
      this.lists.set(hex, entry)
      return entry
    }
    const bee = new Hyperbee(this.store.get({ key }), { keyEncoding: 'utf-8', valueEncoding: 'json' })
    entry = { bee, session: null, users: 0, confirmed: null }
    this.lists.set(hex, entry)
    this.listsOpened++
    await bee.ready()
    // our own list is announced by its registry; a session of our own would not add to that
    if (this.swarm && !bee.core.writable) entry.session = this.swarm.join(bee.core.discoveryKey, { server: false, client: true })
    return entry
  }

  private async trim (): Promise<void> {
    for (const [hex, entry] of this.lists) {
      if (this.lists.size <= this.maxOpen) return
      if (entry.users === 0) await this.drop(hex, entry)
    }
  }

  private async drop (hex: string, entry: OpenList): Promise<void> {
    if (this.lists.get(hex) === entry) this.lists.delete(hex)
    if (entry.session) await entry.session.destroy().catch(safetyCatch)
    await entry.bee.close().catch(safetyCatch)
  }
}

function issuerOf (vc: VerifiableCredential): string {
  return typeof vc.issuer === 'string' ? vc.issuer : String((vc.issuer as { id?: unknown } | undefined)?.id)
}

/** `p`'s value, or undefined when the deadline (ms since the epoch) passes first. */
async function withDeadline<T> (p: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | null = null
  try {
    return await Promise.race([p, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now())) })])
  } finally {
    if (timer) clearTimeout(timer)
    p.catch(() => {}) // an answer after the deadline is dropped, not an unhandled rejection
  }
}
