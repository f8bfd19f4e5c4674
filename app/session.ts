/**
 * One user's session with the core, whatever drives it (desktop bridge, headless host): before
 * an identity exists only onboarding answers (create one, or restore from a backup); after, the
 * node and its credential services run and every contract method answers. The session pushes
 * events when something the UI shows changes, so the UI never polls.
 *
 * Messages, identical on every transport (JSON, one per frame):
 *   request  { id, method, params }      response { id, result } | { id, error: { code, message } }
 *   event    { event, data }
 * Runs under Bare and Node: no `node:` imports.
 */
import { runningRelease } from './release.ts'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import { GrowrNode } from '../core/node.ts'
import { Services } from '../core/services/services.ts'
import { GrowrError } from '../core/errors.ts'
import { createIdentity, hasIdentity } from '../core/identity/keyfile.ts'
import { restoreFromBackup, type WalletSeedOutcome } from '../core/sscr/backup.ts'
import type { BootstrapNode } from '../core/network/swarm.ts'
import type DHT from 'hyperdht'
import type { Book } from '../books/book.ts'
import type { BackendStatus, BitcoinBackendConfig, BitcoinRail } from '../core/rails/bitcoin/rail.ts'
import type { WatcherEvent } from '../core/rails/bitcoin/watcher.ts'
import type { RootstockBackendConfig, RootstockBackendStatus, RootstockRail } from '../core/rails/rootstock/rail.ts'
import type { RootstockWatcherEvent } from '../core/rails/rootstock/watcher.ts'
import { createHandlers, type Contract, type Handlers } from './contract.ts'

/** Methods the session answers itself, before and after an identity exists. */
export interface SessionMethods {
  'session.status': { args: Record<string, never>; result: { did: string | null; storage: string; runtime: 'bare' | 'node'; encrypted: boolean; storageNotes: string[] } }
  /** `passphrase` encrypts the identity file at rest (else the host's GROWR_PASSPHRASE, if set) */
  'identity.create': { args: { passphrase?: string }; result: { did: string } }
  /**
   * `passphrase` opens the backup; `identityPassphrase` encrypts the restored identity file at rest
   * (else the host's GROWR_PASSPHRASE, if set), as `growr backup restore` does with GROWR_PASSPHRASE.
   * `walletSeed`: 'restored' (the backup's mnemonic: same addresses as before) or 'generated' (an
   * old backup without one: a fresh seed, new addresses; tell the user)
   */
  'identity.restore': { args: { backup: string; passphrase: string; identityPassphrase?: string }; result: { did: string; walletSeed: WalletSeedOutcome } }
}

/** Every request the core answers: the contract plus the session's own. */
export type Api = Contract & SessionMethods

/** What the core pushes. */
export interface SessionEvents {
  /** a followed book's view changed (replication or a local op): re-read what shows it */
  'book.changed': { book: string }
  /** the number of open peer connections changed */
  'peers': { count: number }
  /** credentials were added to or removed from the SSCR */
  'wallet.changed': Record<string, never>
  /** the node's directory of the network's ads gained, replaced or dropped an ad: re-read market.* */
  'market.changed': Record<string, never>
  /** a consent given, received or revoked, or a credit-exposure query answered (core/exposure/) */
  'exposure.changed': Record<string, never>
  /** a trustline's signed state or its pending proposals changed (core/credit/sync.ts) */
  'trustline.changed': { id: string }
  /** Nostr publishing changed: a relay's state or an event's delivery (outbox), or listings read from relays (core/nostr/publisher.ts); re-read nostr.status / nostr.listings */
  'nostr.changed': Record<string, never>
  /** an identity now exists (created or restored) and the node runs */
  'identity': { did: string }
  /**
   * the payee's watcher on this node's Bitcoin rail saw, proved, was refused or reorganised out a
   * payment (core/rails/bitcoin/watcher.ts WatcherEvent): `payment-seen` carries N of M confirmations
   */
  'bitcoin.payment': WatcherEvent
  /** the Bitcoin backend became reachable or unreachable (url without credentials, height, error in words) */
  'bitcoin.backend': BackendStatus
  /**
   * the wallet's view of the chain moved: a new tip or a new balance (sats as decimal strings);
   * re-read balances and tracked transactions. Not sent for passes that changed nothing.
   */
  'bitcoin.sync': { height: number; tip: number; confirmed: string; unconfirmed: string; immature: string }
  /** the payee's watcher on this node's Rootstock rail saw, proved or confirmed a payment, or was refused (core/rails/rootstock/watcher.ts) */
  'rootstock.payment': RootstockWatcherEvent
  /** the Rootstock backend became reachable or unreachable, or answers for another chain */
  'rootstock.backend': RootstockBackendStatus
  /** the Rootstock backend has a new tip */
  'rootstock.sync': { height: number }
}

export type Request = { id: number; method: keyof Api; params?: unknown }
export type Response = { id: number; result: unknown } | { id: number; error: { code: string; message: string } }
export type EventMessage = { [K in keyof SessionEvents]: { event: K; data: SessionEvents[K] } }[keyof SessionEvents]

export interface SessionOptions {
  storage: string
  bootstrap?: BootstrapNode[]
  /** a DHT node to use (tests); the session does not destroy it */
  dht?: DHT
  /** announce this node's DID for its issuing/verification services */
  announce?: boolean
  passphrase?: string
  /** a Bitcoin backend: the node runs its Bitcoin rail (app/worker/config.ts reads it from --bitcoin-rpc etc.) */
  bitcoin?: BitcoinBackendConfig
  /** a Rootstock backend: the node runs its Rootstock rail (--rootstock-rpc, --rootstock-chain-id) */
  rootstock?: RootstockBackendConfig
}

const RUNTIME: 'bare' | 'node' = typeof (globalThis as { Bare?: unknown }).Bare === 'object' ? 'bare' : 'node'

export class Session extends ReadyResource {
  readonly storage: string
  node: GrowrNode | null = null
  services: Services | null = null
  private handlers: Handlers | null = null
  private readonly opts: SessionOptions
  private readonly unsubscribe: Array<() => void> = []
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>()

  constructor (opts: SessionOptions) {
    super()
    this.opts = opts
    this.storage = opts.storage
  }

  protected async _open (): Promise<void> {
    if (hasIdentity(this.storage)) await this.start()
  }

  protected async _close (): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off()
    for (const timer of this.pending.values()) clearTimeout(timer)
    if (this.services) await this.services.close().catch(safetyCatch)
    if (this.node) await this.node.close().catch(safetyCatch)
  }

  /**
   * Answers one request.
   * @throws GrowrError: NO_IDENTITY before onboarding, BAD_ARGUMENT for an unknown method, and
   *   whatever the contract method throws
   */
  async call (method: string, params: unknown = {}): Promise<unknown> {
    await this.ready()
    const p = (params ?? {}) as Record<string, unknown>
    switch (method) {
      case 'session.status': return this.status()
      case 'identity.create': {
        if (this.node) throw GrowrError.IDENTITY_EXISTS(`this node already has an identity in ${this.storage}`)
        const passphrase = this.identityPassphrase(p.passphrase)
        const id = createIdentity(this.storage, { passphrase })
        await this.start(passphrase)
        return { did: id.did }
      }
      case 'identity.restore': {
        if (this.node) throw GrowrError.IDENTITY_EXISTS(`this node already has an identity in ${this.storage}`)
        if (typeof p.backup !== 'string' || typeof p.passphrase !== 'string') throw GrowrError.BAD_ARGUMENT('a backup file and its passphrase are needed')
        const identityPassphrase = this.identityPassphrase(p.identityPassphrase)
        const { did, walletSeed } = await restoreFromBackup(this.storage, b4a.from(p.backup, 'base64'), p.passphrase, { identityPassphrase })
        await this.start(identityPassphrase)
        return { did, walletSeed }
      }
    }
    if (!this.handlers) throw GrowrError.NO_IDENTITY('create or restore an identity first')
    if (!Object.hasOwn(this.handlers, method)) throw GrowrError.BAD_ARGUMENT(`unknown method ${method.slice(0, 60)}`)
    return await (this.handlers[method as keyof Handlers] as (a: unknown) => Promise<unknown>)(p)
  }

  /** Answers a request message; never throws. */
  async answer (req: Request): Promise<Response> {
    try {
      return { id: req.id, result: await this.call(String(req.method), req.params) }
    } catch (err) {
      const e = err as GrowrError
      return { id: req.id, error: { code: e.code ?? 'INTERNAL', message: e.code ? e.message.replace(/^[A-Z_]+: /, '') : String(e.message ?? e) } }
    }
  }

  /**
   * The passphrase a new identity file is encrypted with: the one the user gave, else the
   * host's (GROWR_PASSPHRASE), else none (the file is then protected by its mode 0600 only).
   * @throws BAD_ARGUMENT when `given` is present but not a string
   */
  private identityPassphrase (given: unknown): string | undefined {
    if (given !== undefined && given !== null && typeof given !== 'string') throw GrowrError.BAD_ARGUMENT('the identity passphrase must be text')
    return (typeof given === 'string' && given) ? given : (this.opts.passphrase || undefined)
  }

  private status (): SessionMethods['session.status']['result'] {
    const did = this.node?.identity?.did ?? null
    // what opening had to tighten in the storage directory: the user should know someone loosened it
    return { did, storage: this.storage, runtime: RUNTIME, encrypted: this.node?.identity?.encrypted ?? false, storageNotes: this.node?.storageNotes ?? [] }
  }

  private async start (passphrase = this.opts.passphrase): Promise<void> {
    const node = new GrowrNode({ storage: this.storage, bootstrap: this.opts.bootstrap, dht: this.opts.dht, passphrase })
    const services = new Services(node, { announce: this.opts.announce, bitcoin: this.opts.bitcoin, rootstock: this.opts.rootstock, ads: { release: runningRelease() } })
    try {
      await services.ready()
    } catch (err) {
      await services.close().catch(safetyCatch)
      await node.close().catch(safetyCatch)
      throw err
    }
    this.node = node
    this.services = services
    this.handlers = createHandlers(node, services)
    this.watch(node, services)
    this.emit('event', { event: 'identity', data: { did: node.did } })
  }

  private watch (node: GrowrNode, services: Services): void {
    const onbook = (book: Book) => {
      const onupdate = () => this.debounce('book:' + book.topic, () => this.emit('event', { event: 'book.changed', data: { book: book.topic } }))
      book.base.on('update', onupdate)
      this.unsubscribe.push(() => book.base.off('update', onupdate))
    }
    for (const book of node.list()) onbook(book)
    node.on('book', onbook)
    this.unsubscribe.push(() => node.off('book', onbook))

    const swarm = node.swarm
    if (swarm) {
      const onpeers = () => this.debounce('peers', () => this.emit('event', { event: 'peers', data: { count: node.peerCount } }))
      const onconnection = (conn: { once (e: string, f: () => void): void }) => { onpeers(); conn.once('close', onpeers) }
      swarm.on('connection', onconnection)
      this.unsubscribe.push(() => swarm.off('connection', onconnection))
      // a peer's hello (its DID and certificate chain) is checked after the connection opens
      const rpc = services.rpc
      if (rpc) {
        rpc.on('peer', onpeers).on('peer-close', onpeers)
        this.unsubscribe.push(() => { rpc.off('peer', onpeers); rpc.off('peer-close', onpeers) })
      }
    }
    const wallet = services.wallet
    if (wallet) {
      const onchange = () => this.emit('event', { event: 'wallet.changed', data: {} })
      wallet.on('change', onchange)
      this.unsubscribe.push(() => wallet.off('change', onchange))
    }
    const onad = () => this.debounce('market', () => this.emit('event', { event: 'market.changed', data: {} }))
    let directory: NonNullable<Services['ads']>['directory'] | null = null
    const follow = () => {
      // after `network.use` the node's ads move to another network, with a new directory
      if (directory) directory.off('ad', onad).off('expired', onad)
      directory = services.ads?.directory ?? null
      if (directory) directory.on('ad', onad).on('expired', onad)
      onad()
    }
    follow()
    services.on('network', follow)
    this.unsubscribe.push(() => { services.off('network', follow); if (directory) directory.off('ad', onad).off('expired', onad) })
    const exposure = services.exposure
    if (exposure) {
      const onexposure = () => this.debounce('exposure', () => this.emit('event', { event: 'exposure.changed', data: {} }))
      exposure.on('changed', onexposure)
      this.unsubscribe.push(() => exposure.off('changed', onexposure))
    }
    const nostr = services.nostr
    if (nostr) {
      // a relay's state moves on each delivery, failure and retry: a burst becomes one event
      const onnostr = () => this.debounce('nostr', () => this.emit('event', { event: 'nostr.changed', data: {} }))
      nostr.on('relay', onnostr).on('listings', onnostr).on('error-recorded', onnostr).on('zap', onnostr)
      this.unsubscribe.push(() => { nostr.off('relay', onnostr).off('listings', onnostr).off('error-recorded', onnostr).off('zap', onnostr) })
    }
    const trustlines = services.trustlines
    if (trustlines) {
      const ontrustline = (id: string) => this.debounce('trustline', () => this.emit('event', { event: 'trustline.changed', data: { id } }))
      trustlines.on('update', ontrustline)
      this.unsubscribe.push(() => trustlines.off('update', ontrustline))
    }
    if (services.bitcoin) this.watchBitcoin(services.bitcoin)
    if (services.rootstock) this.watchRootstock(services.rootstock)
  }

  /** Forwards the Rootstock rail's events: watcher events, backend changes and new tips. */
  private watchRootstock (rail: RootstockRail): void {
    const onwatcher = (e: RootstockWatcherEvent) => this.emit('event', { event: 'rootstock.payment', data: e })
    const onbackend = (b: RootstockBackendStatus) => this.emit('event', { event: 'rootstock.backend', data: b })
    const onsync = (s: { height: number }) => this.emit('event', { event: 'rootstock.sync', data: s })
    rail.on('watcher', onwatcher)
    rail.on('backend', onbackend)
    rail.on('sync', onsync)
    this.unsubscribe.push(() => { rail.off('watcher', onwatcher); rail.off('backend', onbackend); rail.off('sync', onsync) })
  }

  /**
   * Forwards the Bitcoin rail's events: every watcher event as it comes (each is a change: the
   * watcher reports confirmations only when they change), backend reachability changes, and a
   * sync pass only when the tip or the balance moved (a pass runs every poll interval).
   */
  private watchBitcoin (rail: BitcoinRail): void {
    let last = ''
    const onwatcher = (e: WatcherEvent) => this.emit('event', { event: 'bitcoin.payment', data: e })
    const onbackend = (b: BackendStatus) => this.emit('event', { event: 'bitcoin.backend', data: b })
    const onsync = (s: { height: number; tip: number }) => {
      const b = rail.balance()
      const data = { height: s.height, tip: s.tip, confirmed: b.confirmed, unconfirmed: b.unconfirmed, immature: b.immature }
      const key = JSON.stringify(data)
      if (key === last) return
      last = key
      this.emit('event', { event: 'bitcoin.sync', data })
    }
    rail.on('watcher', onwatcher)
    rail.on('backend', onbackend)
    rail.on('sync', onsync)
    this.unsubscribe.push(() => { rail.off('watcher', onwatcher); rail.off('backend', onbackend); rail.off('sync', onsync) })
  }

  // a burst of Autobase updates becomes one event
  private debounce (key: string, fn: () => void): void {
    if (this.pending.has(key)) return
    this.pending.set(key, setTimeout(() => { this.pending.delete(key); fn() }, 50))
  }
}
