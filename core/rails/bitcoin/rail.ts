/**
 * The Bitcoin rail of a running node: one backend (a Bitcoin Core-compatible JSON-RPC endpoint,
 * bitcoind or bcoin), the wallet's chain view ({@link ChainScanner}), its payer ({@link Payer})
 * and the payee's prover ({@link PaymentWatcher}), with one lifecycle.
 *
 * What it watches: receive indexes 0..`fundingIndexes - 1` (to fund the wallet), the change
 * addresses the payer used, and the receiving address of every record this node posted as payee
 * in a book on this network (`payment/address`, derived at receiveIndexFor(ref): only addresses
 * this wallet derives are watched). A script watched late is looked for again in the last
 * {@link RESCAN_DEPTH} blocks.
 *
 * The loop: every `pollMs`, sync the scanner to the tip (blocks checked by the scanner), store
 * the state, then let the watcher prove what is deep enough. A backend that does not answer
 * leaves everything as it was: the loop goes on and {@link BitcoinRail.status} says
 * `reachable: false` with the error; nothing is lost, the next pass catches up.
 *
 * State: `<storage>/bitcoin/<network>.json` (scanner, payer and watcher state, the birthday),
 * written atomically with mode 0600 in a 0700 directory. The birthday is the backend's tip at
 * first start unless configured, so a fresh wallet does not scan from genesis.
 *
 * Keys: the signer derives the seed from the node's wallet (core/wallet/wallet.ts) for each
 * signature and wipes it after; the seed never leaves core and is never kept here.
 * No `node:` imports: loads under Bare (pass a `fetch`, e.g. bare-fetch, there).
 */
import '../../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import fs from '#fs'
import path from '#path'
import b4a from 'b4a'
import { sha256 } from '@noble/hashes/sha2.js'
import { Address, OutScript } from '@scure/btc-signer'
import { hex } from '@scure/base'
import { GrowrError } from '../../errors.ts'
import { writeFileAtomic } from '../../secure-file.ts'
import { securePrivateDir } from '../../storage-dir.ts'
import { bitcoinNetwork, btcSignerNetwork, type Bip84Account, type BitcoinNetworkName } from '../../wallet/bip84.ts'
import { receiveIndexFor } from '../../wallet/receive-index.ts'
import type { Wallet } from '../../wallet/wallet.ts'
import { BitcoinRpc, type FetchLike } from './rpc.ts'
import { ChainScanner, type WalletLabel } from './scanner.ts'
import { Payer, type PayerSigner, type PayerTxStatus, type PayOutput, type PayResult } from './payer.ts'
import { signPsbt } from './psbt.ts'
import { PaymentWatcher, scriptOf, type WatcherEvent, type WatcherStatus } from './watcher.ts'
import type { Book } from '../../../books/book.ts'

/** Version of the state file. */
export const RAIL_STATE_VERSION = 1
/** Default poll interval of the sync loop, ms. */
export const DEFAULT_POLL_MS = 10_000
/** Default count of plain receive indexes watched (for funding the wallet). */
export const DEFAULT_FUNDING_INDEXES = 5
/** Blocks read again when a script starts being watched (it may have been paid a little before). */
export const RESCAN_DEPTH = 100
/** Change indexes watched beyond the payer's next one. */
const CHANGE_LOOKAHEAD = 3

/** How the node reaches its Bitcoin backend (`growr start --bitcoin-rpc URL --bitcoin-network NAME`). */
export interface BitcoinBackendConfig {
  /** JSON-RPC endpoint, http(s)://host:port/ */
  url: string
  network: BitcoinNetworkName
  /** regtest only: the backend's bech32 prefix ('rb' for bcoin); addresses of either prefix are accepted */
  bech32?: string
  /** bitcoind rpcuser (bcoin: any, e.g. 'x') */
  username?: string
  /** bitcoind rpcpassword or bcoin api key: from the environment (GROWR_BITCOIN_RPC_PASSWORD), never the command line */
  password?: string
  /** first height to scan on a fresh wallet (default: the backend's tip at first start) */
  birthday?: number
  /** sync loop interval, ms (default {@link DEFAULT_POLL_MS}) */
  pollMs?: number
  /** receive indexes 0..n-1 watched for funding the wallet (default {@link DEFAULT_FUNDING_INDEXES}) */
  fundingIndexes?: number
  /** per-call timeout, ms (default 10,000) */
  timeoutMs?: number
  /** the fetch to use (required under Bare) */
  fetch?: FetchLike
}

/** What the rail needs of the node: its storage, DID and the books it follows (a GrowrNode fits). */
export interface RailHost {
  readonly storage: string
  readonly did: string
  list (): Book[]
  /** set once the host is closing (a ReadyResource's): no op is appended to its books after that */
  readonly closing?: unknown
}

/** The backend as status shows it. */
export interface BackendStatus {
  /** the endpoint without credentials */
  url: string
  reachable: boolean
  /** the backend's tip at the last answer, null before any */
  height: number | null
  /** why the last pass failed, in plain words */
  error?: string
}

/** The `bitcoin` block of the node's status. */
export interface BitcoinRailStatus {
  network: BitcoinNetworkName
  backend: BackendStatus
  /** the last height the wallet scanned; null before the first scan */
  scanned: number | null
  birthday: number | null
  /** ms timestamp of the last completed pass */
  lastSync: number | null
  watching: number
  watcher: WatcherStatus
}

/** A wallet balance, sats as decimal strings. */
export interface RailBalance {
  network: BitcoinNetworkName
  confirmed: string
  unconfirmed: string
  immature: string
  backend: BackendStatus
}

/** A transaction the payer made, as `payment.tracked` lists it. */
export interface TrackedTx {
  txid: string
  ref: string | null
  outputs: Array<{ address: string, amount: string }>
  fee: string
  vsize: number
  replaces: string | null
  status: PayerTxStatus
}

/** Events: 'watcher' ({@link WatcherEvent}), 'sync' ({ height, tip }), 'backend' ({@link BackendStatus}). */
export class BitcoinRail extends ReadyResource {
  readonly network: BitcoinNetworkName
  readonly rpc: BitcoinRpc
  readonly file: string
  #host: RailHost
  #keys: Wallet
  #config: BitcoinBackendConfig
  #pollMs: number
  #account: Bip84Account | null = null
  #scanner: ChainScanner<WalletLabel> | null = null
  #payer: Payer | null = null
  #watcher: PaymentWatcher | null = null
  #saved: { birthday?: number, scanner?: unknown, payer?: unknown, watcher?: unknown } = {}
  #backend: BackendStatus
  #lastSync: number | null = null
  #timer: ReturnType<typeof setTimeout> | null = null
  #running: Promise<void> | null = null
  #lock: Promise<unknown> = Promise.resolve()

  /**
   * @param opts.host the node (storage, DID, books)
   * @param opts.keys the node's open wallet keys
   * @param opts.config the backend ({@link BitcoinBackendConfig})
   * @throws GrowrError BAD_ARGUMENT for a bad URL, network, prefix or option
   */
  constructor (opts: { host: RailHost, keys: Wallet, config: BitcoinBackendConfig }) {
    super()
    const c = opts.config
    bitcoinNetwork(c.network, { bech32: c.bech32 }) // checks name and prefix now, not at first use
    this.network = c.network
    this.#host = opts.host
    this.#keys = opts.keys
    this.#config = c
    this.#pollMs = c.pollMs ?? DEFAULT_POLL_MS
    if (!Number.isSafeInteger(this.#pollMs) || this.#pollMs < 10) throw GrowrError.BAD_ARGUMENT('the Bitcoin poll interval is a whole number of ms, at least 10')
    if (c.birthday !== undefined && (!Number.isSafeInteger(c.birthday) || c.birthday < 0)) throw GrowrError.BAD_ARGUMENT('the wallet birthday is a block height')
    this.rpc = new BitcoinRpc({ url: c.url, username: c.username, password: c.password, timeoutMs: c.timeoutMs ?? 10_000, fetch: c.fetch })
    this.file = path.join(opts.host.storage, 'bitcoin', `${c.network}.json`)
    this.#backend = { url: this.rpc.url, reachable: false, height: null, error: 'not asked yet' }
  }

  protected async _open (): Promise<void> {
    securePrivateDir(path.dirname(this.file))
    if (fs.existsSync(this.file)) {
      const json = JSON.parse(b4a.toString(fs.readFileSync(this.file)))
      if (json?.version !== RAIL_STATE_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`Bitcoin rail state version ${String(json?.version)}: this node reads version ${RAIL_STATE_VERSION}`)
      this.#saved = json
    }
    await this.#keys.ready()
    this.#account = this.#keys.bitcoin(bitcoinNetwork(this.network, { bech32: this.#config.bech32 }))
    this.#watcher = new PaymentWatcher({
      rpc: this.rpc,
      did: this.#host.did,
      network: this.network,
      scanner: () => this.#scanner,
      emit: (e: WatcherEvent) => this.emit('watcher', e),
      state: this.#saved.watcher
    })
    if (this.#saved.scanner !== undefined) this.#build(this.#saved.scanner)
    this.#running = this.#pass().catch(safetyCatch)
  }

  protected async _close (): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    await this.#running
    await this.#exclusive(async () => this.#save())
  }

  /** Makes the scanner and payer, from a saved scanner state or a birthday. */
  #build (state: unknown, birthday?: number): void {
    const account = this.#account as Bip84Account
    this.#scanner = new ChainScanner<WalletLabel>({ rpc: this.rpc, network: this.network, state, birthday })
    this.#payer = new Payer({
      rpc: this.rpc,
      scanner: this.#scanner,
      account,
      signer: this.#signer(),
      state: this.#saved.payer,
      onState: () => this.#save()
    })
    for (let i = 0; i < (this.#config.fundingIndexes ?? DEFAULT_FUNDING_INDEXES); i++) this.#watch(account.receive(i).script, { chain: 'receive', index: i })
  }

  /** Signs with a copy of the seed the wallet wipes after each signature: the rail never holds it. */
  #signer (): PayerSigner {
    return async (psbt, selection) => await this.#keys.withSeed((seed) => signPsbt(psbt, { seed, account: this.#account as Bip84Account, selection }))
  }

  /** @returns whether the script was newly watched */
  #watch (script: Uint8Array, label: WalletLabel): boolean {
    const scanner = this.#scanner as ChainScanner<WalletLabel>
    if (scanner.isWatched(script)) return false
    scanner.watch(script, label)
    return true
  }

  /** Runs `fn` alone: a pass and a payment never interleave (a rescan would hide spent coins). */
  async #exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn)
    this.#lock = run.catch(() => {})
    return await run
  }

  #save (): void {
    if (this.#scanner === null) return
    const state = {
      version: RAIL_STATE_VERSION,
      birthday: this.#scanner.state.birthday,
      scanner: this.#scanner.toJSON(),
      payer: this.#payer?.toJSON(),
      watcher: this.#watcher?.toJSON()
    }
    writeFileAtomic(this.file, b4a.from(JSON.stringify(state)))
  }

  /** One pass, then the next one is scheduled (unless closing). */
  async #pass (): Promise<void> {
    try {
      await this.sync()
    } catch (err) {
      safetyCatch(err)
    }
    if (this.closing) return
    this.#timer = setTimeout(() => { this.#timer = null; this.#running = this.#pass().catch(safetyCatch) }, this.#pollMs)
  }

  /**
   * One pass now: catch up with the backend, store the state, prove what is deep enough.
   * The loop calls it every `pollMs`; tests and the contract may call it to not wait.
   * @returns the status after the pass (errors are reported in it, not thrown)
   */
  async sync (): Promise<BitcoinRailStatus> {
    await this.#exclusive(async () => {
      try {
        if (this.#scanner === null) {
          const birthday = this.#config.birthday ?? await this.rpc.getBlockCount()
          this.#build(undefined, birthday)
          this.#save()
        }
        if (this.#hostClosing()) return
        const scanner = this.#scanner as ChainScanner<WalletLabel>
        const books = this.#host.list()
        const late = await this.#watchBooks(books)
        this.#watchChange()
        if (late && scanner.height >= scanner.state.birthday) scanner.rescan(Math.max(scanner.state.birthday, scanner.height - RESCAN_DEPTH))
        let r = await scanner.sync()
        for (let i = 0; i < 100 && !r.caughtUp && !this.closing; i++) {
          this.#setBackend({ url: this.rpc.url, reachable: true, height: r.tip })
          r = await scanner.sync()
        }
        this.#save()
        this.#setBackend({ url: this.rpc.url, reachable: true, height: r.tip })
        this.emit('sync', { height: r.height, tip: r.tip })
        if (this.#hostClosing()) return
        await (this.#watcher as PaymentWatcher).run(books)
        this.#save()
        this.#lastSync = Date.now()
      } catch (err) {
        const e = err as GrowrError
        // BACKEND_UNREACHABLE: nothing answered; anything else the backend (or a book) said is also shown, and the next pass tries again
        this.#setBackend({ url: this.rpc.url, reachable: e.code !== 'BACKEND_UNREACHABLE', height: this.#backend.height, error: e.message })
      }
    })
    return this.status()
  }

  #hostClosing (): boolean {
    return this.closing !== null || (this.#host.closing !== undefined && this.#host.closing !== null)
  }

  #setBackend (next: BackendStatus): void {
    const changed = next.reachable !== this.#backend.reachable
    this.#backend = next
    if (changed) this.emit('backend', next)
  }

  /** Watches this node's posted receiving addresses in books on this network. @returns whether any is new */
  async #watchBooks (books: Book[]): Promise<boolean> {
    const account = this.#account as Bip84Account
    let late = false
    for (const book of books) {
      let records
      try { records = await book.view.list('addresses') } catch (err) { safetyCatch(err); continue }
      for (const rec of records) {
        if (rec === null || typeof rec !== 'object' || !('address' in rec) || rec.payee !== this.#host.did) continue
        const script = scriptOf(rec.address, this.network)
        if (script === null || !/^[0-9a-f]{32}$/.test(rec.ref)) continue
        const index = receiveIndexFor(rec.ref)
        const own = account.receive(index)
        if (hex.encode(own.script) !== script) continue // posted by hand: not this wallet's, it cannot spend or watch it
        if (this.#watch(own.script, { chain: 'receive', index, ref: rec.ref })) late = true
      }
    }
    return late
  }

  #watchChange (): void {
    const account = this.#account as Bip84Account
    const next = (this.#payer?.toJSON().nextChangeIndex ?? 0) + CHANGE_LOOKAHEAD
    for (let i = 0; i < next; i++) {
      const script = account.change(i).script
      if (!(this.#scanner as ChainScanner<WalletLabel>).isWatched(script)) this.#watch(script, { chain: 'change', index: i })
    }
  }

  /** The rail's status ({@link BitcoinRailStatus}). */
  status (): BitcoinRailStatus {
    const s = this.#scanner
    return {
      network: this.network,
      backend: { ...this.#backend },
      scanned: s === null || s.height < s.state.birthday ? null : s.height,
      birthday: s?.state.birthday ?? null,
      lastSync: this.#lastSync,
      watching: s === null ? 0 : Object.keys(s.state.watched).length,
      watcher: this.#watcher?.status() ?? { pending: [], proven: 0, problems: [] }
    }
  }

  /** @returns the wallet's balance ({@link RailBalance}) from the last scan */
  balance (): RailBalance {
    const b = this.#scanner?.balance() ?? { confirmed: 0n, unconfirmed: 0n, immature: 0n }
    return { network: this.network, confirmed: b.confirmed.toString(), unconfirmed: b.unconfirmed.toString(), immature: b.immature.toString(), backend: { ...this.#backend } }
  }

  /**
   * An address in the form this rail's payer takes: regtest addresses of either prefix (`bcrt`,
   * bcoin's `rb`) are re-encoded with the backend's; other networks' are refused.
   * @throws GrowrError BAD_ARGUMENT for an address that is not one of this network
   */
  normalize (address: string): string {
    const script = scriptOf(address, this.network)
    if (script === null) throw GrowrError.BAD_ARGUMENT(`${String(address).slice(0, 100)} is not a ${this.network} address`)
    const net = btcSignerNetwork((this.#account as Bip84Account).network)
    return Address(net).encode(OutScript.decode(hex.decode(script)))
  }

  /**
   * Pays `outputs` from the wallet in one transaction (see {@link Payer.pay}: never twice for one `ref`).
   * @param outputs addresses (normalized with {@link normalize}) and bigint sats
   * @param opts.ref the payment's id: a retry returns the same transaction
   * @param opts.feeRate sat/vB
   * @returns the payer's result
   * @throws GrowrError NOT_FOUND before the first scan; BAD_ARGUMENT, INSUFFICIENT_FUNDS, BACKEND_UNREACHABLE, BACKEND_ERROR as Payer.pay
   */
  async pay (outputs: PayOutput[], opts: { ref?: string, feeRate?: bigint } = {}): Promise<PayResult> {
    await this.ready()
    const normalized = outputs.map((o) => ({ address: this.normalize(o.address), amount: o.amount }))
    return await this.#exclusive(async () => {
      if (this.#payer === null) throw GrowrError.BACKEND_UNREACHABLE(`the wallet has not scanned the chain yet: the Bitcoin backend at ${this.rpc.url} has not answered (${this.#backend.error ?? 'no answer yet'})`)
      return await this.#payer.pay(normalized, opts)
    })
  }

  /** The payer's transactions, newest last, with where each stands ({@link TrackedTx}). */
  tracked (): TrackedTx[] {
    const payer = this.#payer
    if (payer === null) return []
    return payer.transactions().map((t) => ({
      txid: t.txid,
      ref: t.ref,
      outputs: t.outputs.map((o) => ({ address: o.address, amount: o.amount.toString() })),
      fee: t.fee.toString(),
      vsize: t.vsize,
      replaces: t.replaces,
      status: payer.status(t.txid)
    }))
  }
}

/**
 * A payer reference for a set of payments (a distribution to several investors): the same set
 * gives the same reference, so a retry pays nothing twice.
 * @param parts the payments' identities, e.g. `${fundingId}:${amount}`
 * @returns 64 hex characters
 */
export function refFor (parts: string[]): string {
  return hex.encode(sha256(b4a.from([...parts].sort().join('\n'))))
}
