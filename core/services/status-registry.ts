/**
 * Revocation for the credentials this node issues (W3C Bitstring Status List v1.0).
 *
 * The issuer publishes its signed BitstringStatusListCredential in a Hyperbee it alone writes,
 * announced on the swarm by the bee's discovery key; a verifier opens that bee read-only by the
 * key in the list's URL (`hyper://<z32 key>/revocation`), replicates it and reads the bit.
 * The public bee holds the list credential and nothing else: which index belongs to which
 * credential and subject stays in the issuer's private records.
 */
import ReadyResource from 'ready-resource'
import Hyperbee from 'hyperbee'
import type Corestore from 'corestore'
import type Hyperswarm from 'hyperswarm'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import safetyCatch from 'safety-catch'
import id from 'hypercore-id-encoding'
import { GrowrError } from '../errors.ts'
import type { DidKey } from '../identity/did-key.ts'
import { checkStatusAgainst, encodeStatusList, MIN_STATUS_LIST_BITS, statusEntry, statusListCredential, type BitstringStatusListEntry } from '../credentials/bitstring-status-list.ts'
import type { StatusCheck } from '../credentials/vc.ts'

const LIST_KEY = 'revocation'
const URL_PREFIX = 'hyper://'

interface PrivateState { used: number[]; revoked: number[] }

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

  private async publish (): Promise<void> {
    const encodedList = await encodeStatusList(this.state.revoked)
    const vc = statusListCredential({ issuer: this.issuer, id: this.listId, encodedList, now: this.now() })
    await this.bee.put(LIST_KEY, vc)
  }
}

/**
 * The verifier side: fetches issuers' status lists over the swarm and checks entries.
 * Each list bee is opened once and kept (and replicated) while the resolver lives.
 */
export class StatusResolver extends ReadyResource {
  private readonly store: Corestore
  private readonly swarm: Hyperswarm | null
  private readonly timeoutMs: number
  private readonly bees = new Map<string, Hyperbee>()

  /** @param opts.timeoutMs how long to look for the issuer's list on the network before giving up */
  constructor (opts: { store: Corestore; swarm: Hyperswarm | null; timeoutMs?: number }) {
    super()
    this.store = opts.store
    this.swarm = opts.swarm
    this.timeoutMs = opts.timeoutMs ?? 10_000
  }

  protected async _close (): Promise<void> {
    for (const bee of this.bees.values()) await bee.close().catch(safetyCatch)
  }

  /** A StatusCheck for verifyCredential: the list must be signed by the credential's own issuer. */
  readonly check: StatusCheck = async (entry, vc) => {
    try {
      const list = await this.fetch(entry.statusListCredential)
      const issuer = typeof vc.issuer === 'string' ? vc.issuer : String((vc.issuer as { id?: unknown }).id)
      return await checkStatusAgainst(list, entry, issuer, Date.now())
    } catch (err) {
      return { error: (err as Error).message }
    }
  }

  /**
   * The latest status list credential at `url` this node can get.
   * @throws TIMEOUT when the list was never seen and no peer serving it answers in time
   */
  async fetch (url: string): Promise<unknown> {
    const key = parseListUrl(url)
    const hex = b4a.toString(key, 'hex')
    let bee = this.bees.get(hex)
    if (!bee) {
      bee = new Hyperbee(this.store.get({ key }), { keyEncoding: 'utf-8', valueEncoding: 'json' })
      await bee.ready()
      this.bees.set(hex, bee)
      if (this.swarm) this.swarm.join(bee.core.discoveryKey, { server: false, client: true })
    }
    const core = bee.core
    if (core.writable) return (await bee.get(LIST_KEY))?.value // our own list: nothing fresher exists
    // a revocation is only as fresh as the last peer we heard from: wait for one before reading
    if (core.peers.length === 0 && this.swarm) {
      await new Promise<void>((resolve) => {
        const done = () => { clearTimeout(timer); core.off('peer-add', done); resolve() }
        const timer = setTimeout(done, this.timeoutMs)
        core.on('peer-add', done)
      })
    }
    if (core.peers.length > 0) await core.update({ wait: true }).catch(safetyCatch)
    if (core.length === 0) throw GrowrError.TIMEOUT(`status list ${url} is not reachable on the network within ${this.timeoutMs} ms`)
    const node = await bee.get(LIST_KEY, { wait: true })
    if (!node) throw GrowrError.NOT_FOUND(`status list ${url} holds no revocation list`)
    return node.value
  }
}
