/**
 * The Rootstock rail of a running node: one EVM JSON-RPC backend (rskj, a public Rootstock node,
 * or anvil in tests), the wallet's payer and the payee's prover ({@link RootstockWatcher}), with
 * one lifecycle.
 *
 * Keys: BIP-44 `m/44'/137'/0'/0/i` of the node's seed. Index 0 is the spending address: what
 * the node pays from. Payees receive at the record's own index (receiveIndexFor(ref), as
 * `payment.address` posts it), so the node also owns every receiving address it posted; each
 * pass sweeps the RBTC that arrived there into the spending address (a plain transfer of all but
 * the gas), so what was received can be paid on. Tokens are not swept (moving them would need
 * RBTC for gas at each address first): a token payment is paid from the first owned address
 * holding the tokens and the gas, and {@link RootstockRail.balance} lists each address.
 * The seed is taken from the wallet for one signature (Wallet.withSeed) and wiped after; the
 * private key derived from it is zeroed as soon as the transaction is signed.
 *
 * Never twice: every transaction is signed, then stored (atomically, 0600) with the payment's
 * reference, then broadcast; paying the same reference again returns the stored transaction
 * (broadcast again if the backend lost it: the same signed bytes can be mined only once). Each
 * transaction's state (unbroadcast, pending, mined N, confirmed N, reverted, dropped) is
 * refreshed on every pass. State: `<storage>/rootstock/<chainId>.json`.
 *
 * The backend must say it is on the configured chain (`eth_chainId`): otherwise nothing is read,
 * signed or sent, and status says why. A backend that does not answer leaves everything as it
 * was: status shows `reachable: false`, the next pass catches up.
 * No `node:` imports: loads under Bare (pass a `fetch`, e.g. bare-fetch, there).
 */
import '../../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import fs from '#fs'
import path from '#path'
import b4a from 'b4a'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { GrowrError } from '../../errors.ts'
import { writeFileAtomic } from '../../secure-file.ts'
import { securePrivateDir } from '../../storage-dir.ts'
import { receiveIndexFor } from '../../wallet/receive-index.ts'
import { deriveRootstockPrivateKey, publicKeyToAddress, checkChecksumAddress, toChecksumAddress, type RootstockAccount } from '../../wallet/bip44-rootstock.ts'
import type { Wallet } from '../../wallet/wallet.ts'
import { EvmRpc, type FetchLike } from './rpc.ts'
import { encodeErc20Transfer, signLegacyTransaction } from './tx.ts'
import { RootstockWatcher, type RootstockWatcherEvent, type RootstockWatcherStatus } from './watcher.ts'
import { checksumChainId } from '../../../books/proofs/rootstock-receipt.ts'
import type { Book } from '../../../books/book.ts'

/** Version of the state file. */
export const ROOTSTOCK_STATE_VERSION = 1
/** Default poll interval of the loop, ms. */
export const DEFAULT_POLL_MS = 10_000
/** Gas of a plain value transfer to an account without code (yellow paper G_transaction). */
const TRANSFER_GAS = 21_000n
/** A receiving address is swept only when it holds more than this many times the sweep's own gas cost. */
const SWEEP_FACTOR = 10n

/** How the node reaches its Rootstock backend (`growr start --rootstock-rpc URL --rootstock-chain-id N`). */
export interface RootstockBackendConfig {
  /** JSON-RPC endpoint, http(s)://host:port/ (credentials in it go into basic auth, never shown) */
  url: string
  /** EIP-155 chain id the backend must report: 30 mainnet, 31 testnet, 33 regtest/anvil */
  chainId: number
  /** loop interval, ms (default {@link DEFAULT_POLL_MS}) */
  pollMs?: number
  /** per-call timeout, ms (default 10,000) */
  timeoutMs?: number
  /** sweep the RBTC received at posted addresses into the spending address (default true) */
  sweep?: boolean
  /** the fetch to use (required under Bare) */
  fetch?: FetchLike
}

/** What the rail needs of the node: its storage, DID and the books it follows (a GrowrNode fits). */
export interface RootstockRailHost {
  readonly storage: string
  readonly did: string
  list (): Book[]
  readonly closing?: unknown
}

/** The backend as status shows it. */
export interface RootstockBackendStatus {
  /** the endpoint without credentials */
  url: string
  reachable: boolean
  /** the backend's best block at the last answer, null before any */
  height: number | null
  /** why the last pass failed, in plain words */
  error?: string
}

/** The `rootstock` block of the node's status. */
export interface RootstockRailStatus {
  chainId: number
  backend: RootstockBackendStatus
  /** the spending address (index 0), checksummed for the chain */
  address: string
  /** ms timestamp of the last completed pass */
  lastSync: number | null
  watcher: RootstockWatcherStatus
  /** the wallet's transactions not yet confirmed (or dropped / reverted) */
  unsettled: number
}

/** The Rootstock wallet's balance (decimal strings of base units). */
export interface RootstockBalance {
  chainId: number
  /** the spending address */
  address: string
  /** RBTC in wei: all the wallet's addresses together, and at the spending address */
  rbtc: { total: string, spendable: string }
  /** each token used by a followed book's Rootstock project on this chain, in token units */
  tokens: Array<{ token: string, total: string, spendable: string }>
  /** every address with something on it: index, address, wei, token units */
  addresses: Array<{ index: number, address: string, wei: string, tokens: Record<string, string> }>
  backend: RootstockBackendStatus
  /** ms timestamp of these figures (the last pass's when the backend is down now) */
  at: number | null
}

/** Where one of the wallet's transactions stands. */
export type RootstockTxStatus =
  | { state: 'unbroadcast' }
  | { state: 'pending' }
  | { state: 'mined', confirmations: number, required: number }
  | { state: 'confirmed', confirmations: number }
  | { state: 'reverted', confirmations: number }
  | { state: 'dropped' }

/** A transaction the wallet made, as `payment.tracked` lists it (amounts as decimal strings). */
export interface RootstockTrackedTx {
  rail: 'rootstock'
  txid: string
  ref: string | null
  /** 'payment', or 'sweep' (a receiving address emptied into the spending address) */
  purpose: 'payment' | 'sweep'
  from: string
  outputs: Array<{ address: string, amount: string }>
  token: string | null
  /** the most the gas can cost, wei (gas limit x gas price) */
  fee: string
  nonce: string
  status: RootstockTxStatus
}

/** What {@link RootstockRail.pay} returns. */
export interface RootstockPaid {
  txHash: string
  from: string
  /** base units */
  amount: bigint
  token: string | null
  /** the most the gas can cost, wei */
  fee: bigint
  /** an earlier transaction for the same reference was returned: nothing was paid twice */
  reused: boolean
}

interface TxRecord {
  hash: string
  raw: string
  ref: string | null
  purpose: 'payment' | 'sweep'
  from: string
  fromIndex: number
  to: string
  token: string | null
  amount: string
  nonce: string
  gasPrice: string
  gasLimit: string
  required: number
  createdAt: number
  state: RootstockTxStatus['state']
  blockNumber: number | null
  confirmations: number
}

/** Events: 'watcher' ({@link RootstockWatcherEvent}), 'sync' ({ height }), 'backend' ({@link RootstockBackendStatus}). */
export class RootstockRail extends ReadyResource {
  readonly chainId: number
  readonly rpc: EvmRpc
  readonly file: string
  #host: RootstockRailHost
  #keys: Wallet
  #config: RootstockBackendConfig
  #pollMs: number
  #account: RootstockAccount | null = null
  #watcher: RootstockWatcher | null = null
  #txs: TxRecord[] = []
  #savedWatcher: unknown = undefined
  #backend: RootstockBackendStatus
  #lastSync: number | null = null
  #lastBalance: RootstockBalance | null = null
  #timer: ReturnType<typeof setTimeout> | null = null
  #running: Promise<void> | null = null
  #lock: Promise<unknown> = Promise.resolve()

  /**
   * @param opts.host the node (storage, DID, books)
   * @param opts.keys the node's open wallet keys
   * @param opts.config the backend ({@link RootstockBackendConfig})
   * @throws GrowrError BAD_ARGUMENT for a bad URL, chain id or option
   */
  constructor (opts: { host: RootstockRailHost, keys: Wallet, config: RootstockBackendConfig }) {
    super()
    const c = opts.config
    if (!Number.isSafeInteger(c.chainId) || c.chainId <= 0) throw GrowrError.BAD_ARGUMENT('the Rootstock chain id is a positive whole number (30 mainnet, 31 testnet, 33 regtest)')
    this.chainId = c.chainId
    this.#host = opts.host
    this.#keys = opts.keys
    this.#config = c
    this.#pollMs = c.pollMs ?? DEFAULT_POLL_MS
    if (!Number.isSafeInteger(this.#pollMs) || this.#pollMs < 10) throw GrowrError.BAD_ARGUMENT('the Rootstock poll interval is a whole number of ms, at least 10')
    this.rpc = new EvmRpc({ url: c.url, timeoutMs: c.timeoutMs ?? 10_000, fetch: c.fetch })
    this.file = path.join(opts.host.storage, 'rootstock', `${c.chainId}.json`)
    this.#backend = { url: this.rpc.url, reachable: false, height: null, error: 'not asked yet' }
  }

  protected async _open (): Promise<void> {
    securePrivateDir(path.dirname(this.file))
    if (fs.existsSync(this.file)) {
      const json = JSON.parse(b4a.toString(fs.readFileSync(this.file)))
      if (json?.version !== ROOTSTOCK_STATE_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`Rootstock rail state version ${String(json?.version)}: this node reads version ${ROOTSTOCK_STATE_VERSION}`)
      this.#txs = readTxs(json.txs)
      this.#savedWatcher = json.watcher
    }
    await this.#keys.ready()
    this.#account = this.#keys.rootstock(this.chainId)
    const account = this.#account
    this.#watcher = new RootstockWatcher({
      rpc: this.rpc,
      did: this.#host.did,
      chainId: this.chainId,
      isOwn: (address, ref) => account.address(receiveIndexFor(ref)).address.toLowerCase() === address,
      emit: (e: RootstockWatcherEvent) => this.emit('watcher', e),
      state: this.#savedWatcher
    })
    this.#running = this.#pass().catch(safetyCatch)
  }

  protected async _close (): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    await this.#running
    await this.#exclusive(async () => this.#save())
  }

  /** The spending address (index 0), checksummed for this chain. */
  get address (): string {
    return this.#display((this.#account as RootstockAccount).address(0).address)
  }

  #display (address: string): string {
    return toChecksumAddress(address, checksumChainId(this.chainId))
  }

  async #exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn)
    this.#lock = run.catch(() => {})
    return await run
  }

  #save (): void {
    if (this.#watcher === null) return
    writeFileAtomic(this.file, b4a.from(JSON.stringify({ version: ROOTSTOCK_STATE_VERSION, txs: this.#txs, watcher: this.#watcher.toJSON() })))
  }

  async #pass (): Promise<void> {
    try {
      await this.sync()
    } catch (err) {
      safetyCatch(err)
    }
    if (this.closing) return
    this.#timer = setTimeout(() => { this.#timer = null; this.#running = this.#pass().catch(safetyCatch) }, this.#pollMs)
  }

  #hostClosing (): boolean {
    return this.closing !== null || (this.#host.closing !== undefined && this.#host.closing !== null)
  }

  #setBackend (next: RootstockBackendStatus): void {
    const changed = next.reachable !== this.#backend.reachable
    this.#backend = next
    if (changed) this.emit('backend', next)
  }

  /** @throws GrowrError BAD_ARGUMENT when the backend is on another chain (nothing is read or signed then) */
  async #checkChain (): Promise<void> {
    const id = await this.rpc.chainId()
    if (id !== this.chainId) throw GrowrError.BAD_ARGUMENT(`the Rootstock backend at ${this.rpc.url} is on chain id ${id}, not the configured ${this.chainId}: nothing is read, signed or sent`)
  }

  /**
   * One pass now: check the chain, let the watcher read the new blocks and prove what is deep
   * enough, refresh the wallet's transactions, sweep, store the state. The loop calls it every
   * `pollMs`; tests and the contract may call it to not wait.
   * @returns the status after the pass (errors are reported in it, not thrown)
   */
  async sync (): Promise<RootstockRailStatus> {
    await this.#exclusive(async () => {
      try {
        await this.#checkChain()
        if (this.#hostClosing()) return
        const tip = await (this.#watcher as RootstockWatcher).run(this.#host.list())
        this.#setBackend({ url: this.rpc.url, reachable: true, height: tip })
        this.#save()
        if (this.#hostClosing()) return
        await this.#refresh(tip)
        if (this.#config.sweep !== false) await this.#sweep()
        this.#save()
        this.emit('sync', { height: tip })
        this.#lastSync = Date.now()
      } catch (err) {
        const e = err as GrowrError
        this.#setBackend({ url: this.rpc.url, reachable: e.code !== 'BACKEND_UNREACHABLE', height: this.#backend.height, error: e.message })
      }
    })
    return this.status()
  }

  /** The rail's status ({@link RootstockRailStatus}). */
  status (): RootstockRailStatus {
    return {
      chainId: this.chainId,
      backend: { ...this.#backend },
      address: this.#account === null ? '' : this.address,
      lastSync: this.#lastSync,
      watcher: this.#watcher?.status() ?? { scanned: null, watching: 0, pending: [], proven: 0, problems: [] },
      unsettled: this.#txs.filter((t) => t.state === 'unbroadcast' || t.state === 'pending' || t.state === 'mined').length
    }
  }

  /** The wallet's addresses: the spending one, then every receiving address this node posted in a followed book. */
  #indexes (): Array<{ index: number, address: string }> {
    const account = this.#account as RootstockAccount
    const out = [{ index: 0, address: account.address(0).address.toLowerCase() }]
    for (const [address, index] of this.#ownIndex) if (index !== 0) out.push({ index, address })
    return out
  }

  /** lowercase address -> index, for the receiving addresses found in books */
  #ownIndex = new Map<string, number>()

  /** Learns the indexes of the receiving addresses this node posted (the watcher gives addresses, the books the refs). */
  async #learn (): Promise<Set<string>> {
    const tokens = new Set<string>()
    for (const t of await (this.#watcher as RootstockWatcher).targets(this.#host.list())) {
      this.#ownIndex.set(t.address, receiveIndexFor(t.ref))
      if (t.project.rail.token !== null) tokens.add(t.project.rail.token)
    }
    // a payer's token projects count too: their tokens are what it pays with
    for (const book of this.#host.list()) {
      for (const p of await book.view.list('projects')) if (p.rail?.rail === 'rootstock' && p.rail.chainId === this.chainId && p.rail.token !== null) tokens.add(p.rail.token)
    }
    return tokens
  }

  /**
   * The wallet's balance, asked of the backend now; when it does not answer, the last figures
   * with `backend.reachable: false`.
   * @returns {@link RootstockBalance}
   * @throws GrowrError BACKEND_UNREACHABLE when the backend never answered; BAD_ARGUMENT when it is on another chain
   */
  async balance (): Promise<RootstockBalance> {
    await this.ready()
    try {
      return await this.#exclusive(async () => {
        await this.#checkChain()
        const tokens = [...await this.#learn()]
        const addresses: RootstockBalance['addresses'] = []
        let total = 0n
        let spendable = 0n
        const tokenTotals = new Map<string, { total: bigint, spendable: bigint }>(tokens.map((t) => [t, { total: 0n, spendable: 0n }]))
        for (const { index, address } of this.#indexes()) {
          const wei = await this.rpc.getBalance(address)
          const held: Record<string, string> = {}
          for (const token of tokens) {
            const units = await this.#tokenBalance(token, address)
            const t = tokenTotals.get(token) as { total: bigint, spendable: bigint }
            t.total += units
            if (index === 0) t.spendable += units
            if (units > 0n) held[token] = units.toString()
          }
          total += wei
          if (index === 0) spendable += wei
          if (index === 0 || wei > 0n || Object.keys(held).length > 0) addresses.push({ index, address: this.#display(address), wei: wei.toString(), tokens: held })
        }
        const out: RootstockBalance = {
          chainId: this.chainId,
          address: this.address,
          rbtc: { total: total.toString(), spendable: spendable.toString() },
          tokens: [...tokenTotals].map(([token, t]) => ({ token, total: t.total.toString(), spendable: t.spendable.toString() })),
          addresses,
          backend: { ...this.#backend, reachable: true },
          at: Date.now()
        }
        this.#lastBalance = out
        return out
      })
    } catch (err) {
      if (err instanceof GrowrError && err.code === 'BACKEND_UNREACHABLE') {
        this.#setBackend({ url: this.rpc.url, reachable: false, height: this.#backend.height, error: err.message })
        if (this.#lastBalance !== null) return { ...this.#lastBalance, backend: { ...this.#backend } }
      }
      throw err
    }
  }

  async #tokenBalance (token: string, address: string): Promise<bigint> {
    const data = await this.rpc.ethCall({ to: token, data: '0x70a08231' + address.slice(2).toLowerCase().padStart(64, '0') })
    if (data.length !== 66) throw GrowrError.BACKEND_ERROR(`token ${token} answered balanceOf with ${data.length > 2 ? (data.length - 2) / 2 : 0} bytes, not 32: is it an ERC-20 contract?`)
    return BigInt(data)
  }

  /**
   * Pays `amount` base units (wei, or token units with `token`) to `to`, from the wallet: the
   * spending address when it holds enough, else the first receiving address that does. Never
   * twice for one `ref`: the stored transaction is returned (and broadcast again if lost).
   * @param args.to the payee, 0x + 40 hex; a mixed-case address must carry a valid checksum (RSKIP-60 for this chain, or EIP-55)
   * @param args.amount base units, > 0 (bigint)
   * @param args.token the ERC-20 contract, or null/undefined for RBTC
   * @param args.ref the payment's reference: a retry returns the same transaction
   * @param args.required confirmations after which the transaction counts as confirmed (default 1)
   * @returns {@link RootstockPaid}
   * @throws GrowrError BAD_ARGUMENT (bad address or amount, backend on another chain); INSUFFICIENT_FUNDS (with the figures);
   *   BACKEND_UNREACHABLE; BACKEND_ERROR when the backend refuses the transaction (the stored one is then forgotten: nothing was sent)
   */
  async pay (args: { to: string, amount: bigint, token?: string | null, ref?: string, required?: number }): Promise<RootstockPaid> {
    await this.ready()
    const token = args.token === undefined || args.token === null ? null : args.token.toLowerCase()
    if (typeof args.to !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(args.to)) throw GrowrError.BAD_ARGUMENT(`${String(args.to).slice(0, 60)} is not a Rootstock address (0x and 40 hex digits)`)
    const body = args.to.slice(2)
    if (body !== body.toLowerCase() && body !== body.toUpperCase()) {
      const c = checkChecksumAddress(args.to, checksumChainId(this.chainId))
      if (!c.ok && !checkChecksumAddress(args.to, null).ok) throw GrowrError.BAD_ARGUMENT(`the payee address ${args.to}: ${c.reason}`)
    }
    if (token !== null && !/^0x[0-9a-f]{40}$/.test(token)) throw GrowrError.BAD_ARGUMENT('the token is a contract address, 0x and 40 hex digits')
    if (typeof args.amount !== 'bigint' || args.amount <= 0n || args.amount >= 1n << 256n) throw GrowrError.BAD_ARGUMENT('an amount is a positive whole number of base units (bigint)')
    const to = args.to.toLowerCase()
    const required = args.required ?? 1
    return await this.#exclusive(async () => {
      if (args.ref !== undefined) {
        const earlier = this.#txs.find((t) => t.ref === args.ref && t.state !== 'dropped')
        if (earlier !== undefined) {
          if (earlier.state === 'unbroadcast') await this.#broadcast(earlier).catch(safetyCatch)
          return { txHash: earlier.hash, from: earlier.from, amount: BigInt(earlier.amount), token: earlier.token, fee: BigInt(earlier.gasLimit) * BigInt(earlier.gasPrice), reused: true }
        }
      }
      await this.#checkChain()
      const gasPrice = await this.rpc.gasPrice()
      const source = await this.#source(to, args.amount, token, gasPrice)
      const rec = await this.#signAndStore({ ...source, to: token ?? to, value: token === null ? args.amount : 0n, data: token === null ? '0x' : encodeErc20Transfer(to, args.amount), gasPrice, ref: args.ref ?? null, purpose: 'payment', token, amount: args.amount, payee: to, required })
      await this.#broadcast(rec)
      return { txHash: rec.hash, from: rec.from, amount: args.amount, token, fee: BigInt(rec.gasLimit) * gasPrice, reused: false }
    })
  }

  /** The owned address to pay from: the spending address first, then receiving addresses by balance. */
  async #source (to: string, amount: bigint, token: string | null, gasPrice: bigint): Promise<{ index: number, from: string, gasLimit: bigint }> {
    await this.#learn()
    const candidates: Array<{ index: number, address: string, wei: bigint, units: bigint }> = []
    for (const { index, address } of this.#indexes()) {
      candidates.push({ index, address, wei: await this.rpc.getBalance(address, 'pending'), units: token === null ? 0n : await this.#tokenBalance(token, address) })
    }
    const [spending, ...rest] = candidates
    const order = [spending, ...rest.sort((a, b) => (token === null ? (b.wei > a.wei ? 1 : -1) : (b.units > a.units ? 1 : -1)))]
    let gasLimit = TRANSFER_GAS
    for (const c of order) {
      if (token === null ? c.wei < amount + TRANSFER_GAS * gasPrice : c.units < amount) continue
      gasLimit = await this.rpc.estimateGas(token === null
        ? { from: c.address, to, value: '0x' + amount.toString(16), gasPrice: '0x' + gasPrice.toString(16) }
        : { from: c.address, to: token, data: encodeErc20Transfer(to, amount), gasPrice: '0x' + gasPrice.toString(16) })
      const needWei = (token === null ? amount : 0n) + gasLimit * gasPrice
      if (c.wei >= needWei) return { index: c.index, from: c.address, gasLimit }
    }
    const totalWei = candidates.reduce((n, c) => n + c.wei, 0n)
    const bestWei = candidates.reduce((n, c) => (c.wei > n ? c.wei : n), 0n)
    if (token === null) {
      const need = amount + TRANSFER_GAS * gasPrice
      throw GrowrError.INSUFFICIENT_FUNDS(`paying ${amount} wei needs ${need} wei with the gas (${TRANSFER_GAS} gas at ${gasPrice} wei); the spending address ${this.address} holds ${spending.wei} wei, the richest of the wallet's ${candidates.length} addresses ${bestWei}, all together ${totalWei}` +
        (totalWei >= need ? ': the received RBTC is swept into the spending address on the next pass, try again then' : `: ${need - totalWei} wei short`))
    }
    const totalUnits = candidates.reduce((n, c) => n + c.units, 0n)
    const holder = order.find((c) => c.units >= amount)
    throw GrowrError.INSUFFICIENT_FUNDS(holder !== undefined
      ? `address ${this.#display(holder.address)} holds the ${amount} token units but only ${holder.wei} wei for the gas (about ${gasLimit * gasPrice} wei needed): send it RBTC for gas`
      : `paying ${amount} units of token ${token} needs them at one address; the wallet holds ${totalUnits} in all, at most ${candidates.reduce((n, c) => (c.units > n ? c.units : n), 0n)} at one address${totalUnits < amount ? `: ${amount - totalUnits} short` : ''}`)
  }

  /** Signs with the key of `index` (the seed is held only for the signature) and stores the transaction before it is sent. */
  async #signAndStore (p: { index: number, from: string, gasLimit: bigint, to: string, value: bigint, data: string, gasPrice: bigint, ref: string | null, purpose: 'payment' | 'sweep', token: string | null, amount: bigint, payee: string, required: number }): Promise<TxRecord> {
    let nonce = await this.rpc.getTransactionCount(p.from, 'pending')
    // a transaction of ours the backend has not taken yet still holds its nonce
    for (const t of this.#txs) if (t.from === p.from && (t.state === 'unbroadcast' || t.state === 'pending') && BigInt(t.nonce) >= nonce) nonce = BigInt(t.nonce) + 1n
    const signed = await this.#keys.withSeed((seed) => {
      const key = deriveRootstockPrivateKey(seed, p.index)
      try {
        const from = publicKeyToAddress(secp256k1.getPublicKey(key, true), null).toLowerCase()
        if (from !== p.from) throw GrowrError.INTERNAL(`index ${p.index} derives ${from}, not ${p.from}: nothing signed`)
        return signLegacyTransaction({ nonce, gasPrice: p.gasPrice, gasLimit: p.gasLimit, to: p.to, value: p.value, data: p.data, chainId: this.chainId }, key)
      } finally {
        key.fill(0)
      }
    })
    const rec: TxRecord = {
      hash: signed.hash, raw: signed.raw, ref: p.ref, purpose: p.purpose, from: p.from, fromIndex: p.index, to: p.payee, token: p.token, amount: p.amount.toString(),
      nonce: nonce.toString(), gasPrice: p.gasPrice.toString(), gasLimit: p.gasLimit.toString(), required: p.required, createdAt: Date.now(), state: 'unbroadcast', blockNumber: null, confirmations: 0
    }
    this.#txs.push(rec)
    this.#save()
    return rec
  }

  /** Sends a stored transaction; the backend refusing it outright forgets it (nothing was sent). */
  async #broadcast (rec: TxRecord): Promise<void> {
    try {
      const reported = await this.rpc.sendRawTransaction(rec.raw)
      if (reported !== rec.hash) throw GrowrError.BACKEND_ERROR(`the backend reported transaction ${reported} for the one signed, ${rec.hash}`)
      rec.state = 'pending'
      this.#save()
    } catch (err) {
      if (err instanceof GrowrError && err.code === 'BACKEND_ERROR') {
        if (/already known|known transaction|already imported|nonce too low/i.test(err.message)) { rec.state = 'pending'; this.#save(); return }
        this.#txs = this.#txs.filter((t) => t !== rec)
        this.#save()
      }
      throw err
    }
  }

  /** Refreshes each unsettled transaction from the backend; a lost one is sent again, one whose nonce went to another is dropped. */
  async #refresh (tip: number): Promise<void> {
    for (const t of this.#txs) {
      if (t.state === 'confirmed' || t.state === 'dropped' || t.state === 'reverted') continue
      const receipt = await this.rpc.getTransactionReceipt(t.hash)
      if (receipt !== null) {
        t.blockNumber = Number(BigInt(receipt.blockNumber))
        t.confirmations = tip - t.blockNumber + 1
        const ok = receipt.status === '0x1' || receipt.status === '0x01'
        t.state = !ok ? 'reverted' : t.confirmations >= t.required ? 'confirmed' : 'mined'
        continue
      }
      t.blockNumber = null
      t.confirmations = 0
      if (await this.rpc.getTransactionByHash(t.hash) !== null) { t.state = 'pending'; continue }
      if (await this.rpc.getTransactionCount(t.from, 'latest') > BigInt(t.nonce)) { t.state = 'dropped'; continue }
      await this.#broadcast(t).catch((err) => { if (!(err instanceof GrowrError && err.code === 'BACKEND_ERROR')) throw err })
    }
  }

  /** Moves the RBTC received at posted addresses into the spending address. */
  async #sweep (): Promise<void> {
    await this.#learn()
    const spending = (this.#account as RootstockAccount).address(0).address.toLowerCase()
    let gasPrice: bigint | null = null
    for (const { index, address } of this.#indexes()) {
      if (index === 0 || address === spending) continue
      if (this.#txs.some((t) => t.from === address && (t.state === 'unbroadcast' || t.state === 'pending'))) continue
      const wei = await this.rpc.getBalance(address, 'pending')
      gasPrice ??= await this.rpc.gasPrice()
      const cost = TRANSFER_GAS * gasPrice
      if (wei <= cost * SWEEP_FACTOR) continue
      const rec = await this.#signAndStore({ index, from: address, gasLimit: TRANSFER_GAS, to: spending, value: wei - cost, data: '0x', gasPrice, ref: null, purpose: 'sweep', token: null, amount: wei - cost, payee: spending, required: 1 })
      await this.#broadcast(rec).catch((err) => { if (!(err instanceof GrowrError && err.code === 'BACKEND_ERROR')) throw err })
    }
  }

  /** The wallet's transactions, oldest first, with where each stands ({@link RootstockTrackedTx}). */
  tracked (): RootstockTrackedTx[] {
    return this.#txs.map((t) => ({
      rail: 'rootstock' as const,
      txid: t.hash,
      ref: t.ref,
      purpose: t.purpose,
      from: this.#display(t.from),
      outputs: [{ address: this.#display(t.to), amount: t.amount }],
      token: t.token,
      fee: (BigInt(t.gasLimit) * BigInt(t.gasPrice)).toString(),
      nonce: t.nonce,
      status: statusOf(t)
    }))
  }
}

function statusOf (t: TxRecord): RootstockTxStatus {
  switch (t.state) {
    case 'mined': return { state: 'mined', confirmations: t.confirmations, required: t.required }
    case 'confirmed': return { state: 'confirmed', confirmations: t.confirmations }
    case 'reverted': return { state: 'reverted', confirmations: t.confirmations }
    default: return { state: t.state }
  }
}

function readTxs (json: unknown): TxRecord[] {
  if (!Array.isArray(json)) throw GrowrError.BAD_ARGUMENT('Rootstock rail state: txs is not a list')
  const states = ['unbroadcast', 'pending', 'mined', 'confirmed', 'reverted', 'dropped']
  return json.map((t) => {
    const x = t as TxRecord
    if (x === null || typeof x !== 'object' || !/^0x[0-9a-f]{64}$/.test(x.hash) || typeof x.raw !== 'string' || !/^0x[0-9a-f]{40}$/.test(x.from) || !/^0x[0-9a-f]{40}$/.test(x.to) ||
      !states.includes(x.state) || !/^[0-9]+$/.test(x.amount) || !/^[0-9]+$/.test(x.nonce) || !/^[0-9]+$/.test(x.gasPrice) || !/^[0-9]+$/.test(x.gasLimit) ||
      !Number.isSafeInteger(x.fromIndex) || !Number.isSafeInteger(x.required)) throw GrowrError.BAD_ARGUMENT('Rootstock rail state: a damaged transaction record')
    return { ...x }
  })
}
