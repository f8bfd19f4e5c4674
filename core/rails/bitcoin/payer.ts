/**
 * Sends bitcoin from the node's BIP-84 wallet: one payment or several in one transaction (a
 * distribution to every investor), with coins the {@link ChainScanner} sees, a fee rate from the
 * backend (`estimatesmartfee`) between a floor and a cap, change to a fresh internal (chain 1)
 * address, replace-by-fee signalled (BIP-125), signed by a signer that keeps the keys in core.
 *
 * Never pays twice: every transaction is recorded (and handed to `onState` to be stored) once it
 * is signed and before it is broadcast. A retry (the same `ref`, or the same outputs while the
 * earlier one is not in the backend's mempool) broadcasts the same signed transaction again
 * instead of building a new one; coins of transactions not yet seen by the backend stay reserved.
 * A fee bump spends every input of the original again, so only one of them can ever confirm.
 *
 * A broadcast counts once the node's mempool (or a block) holds the transaction: bcoin 1.0.2's
 * `sendrawtransaction` answers the txid even when its mempool refuses it, so the payer polls
 * `getrawmempool`/`getrawtransaction` for a bounded time.
 *
 * Status ({@link Payer.status}) comes from the scanner's view, so sync the scanner first.
 * No `node:` imports: loads under Bare.
 */
import '../../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { hex } from '@scure/base'
import { GrowrError } from '../../errors.ts'
import { Bip84Account, addressFor, type Bip84Address, type Bip84Chain } from '../../wallet/bip84.ts'
import { buildPsbt, checkPsbt, outputScript, parsePsbt, psbtFromSelection, selectedUtxo, signPsbt, type SelectedUtxo, type SignedTransaction, type WalletUtxo } from './psbt.ts'
import { dustThreshold, estimateVsize, P2WPKH_INPUT_VBYTES, type CoinSelection, type CoinSelectOutput } from './coin-select.ts'
import { parseTransaction, type ChainScanner, type WalletLabel } from './scanner.ts'
import { isNotFound, type BitcoinRpc } from './rpc.ts'

/** Version of the exported state ({@link PayerStateJson}). */
export const PAYER_STATE_VERSION = 1
/** Default fee-rate floor, sat/vB (Bitcoin Core's minimum relay fee). */
export const DEFAULT_MIN_FEE_RATE = 1n
/** Default fee-rate cap, sat/vB: above it the payer refuses rather than burn the wallet on a bad estimate. */
export const DEFAULT_MAX_FEE_RATE = 500n
/** BIP-125 rule 4: a replacement pays at least this much more per vbyte of its own size (Core's incrementalrelayfee). */
export const INCREMENTAL_RELAY_FEE = 1n

/** The backend calls the payer makes: a {@link BitcoinRpc}, or anything with the same methods. */
export type PayerRpc = Pick<BitcoinRpc, 'estimateSmartFee' | 'sendRawTransaction' | 'getRawMempool' | 'getRawTransaction'>

/**
 * Signs a PSBT the payer built, after checking it ({@link signPsbt} does both).
 * @returns the signed transaction
 */
export type PayerSigner = (psbt: string, selection: CoinSelection<SelectedUtxo>) => SignedTransaction | Promise<SignedTransaction>

/**
 * A signer over the wallet's seed: keys are derived per input and wiped after use (see
 * {@link signPsbt}). The closure holds the seed: keep it inside core.
 * @param seed the BIP-39 seed of `account`
 * @param account the paying account
 */
export function seedSigner (seed: Uint8Array, account: Bip84Account): PayerSigner {
  return (psbt, selection) => signPsbt(psbt, { seed, account, selection })
}

/** One payment asked for. */
export interface PayOutput {
  address: string
  /** sats, at least the address's dust threshold */
  amount: bigint
}

/** A transaction the payer made. */
export interface PayerTx {
  txid: string
  /** the signed raw transaction, hex */
  hex: string
  /** the caller's reference (e.g. the book's payment id): a second pay() with it returns this one */
  ref: string | null
  outputs: PayOutput[]
  inputs: Array<{ txid: string, vout: number, amount: bigint, chain: Bip84Chain, index: number }>
  change: { index: number, amount: bigint } | null
  /** sats */
  fee: bigint
  /** vbytes, actual */
  vsize: number
  /** sat/vB asked */
  feeRate: bigint
  /** the backend's mempool or chain held it at least once */
  broadcast: boolean
  /** the txid this one replaces (a fee bump), or null */
  replaces: string | null
  /** given up by the caller: its coins are free again */
  abandoned: boolean
}

/** Where a transaction stands, from the scanner's view. */
export type PayerTxStatus =
  | { state: 'unbroadcast' }
  | { state: 'mempool' }
  | { state: 'confirmed', confirmations: number }
  | { state: 'replaced', by: string, confirmed: boolean }
  | { state: 'dropped' }
  | { state: 'abandoned' }

/** What {@link Payer.pay} and {@link Payer.bumpFee} return. */
export interface PayResult {
  txid: string
  /** sats */
  fee: bigint
  vsize: number
  /** sat/vB */
  feeRate: bigint
  change: { address: string, index: number, amount: bigint } | null
  /** an earlier transaction for the same payment was returned (and broadcast again if needed) */
  reused: boolean
  status: PayerTxStatus
}

/** The exported state (bigints as decimal strings). */
export interface PayerStateJson {
  version: number
  nextChangeIndex: number
  txs: Array<Record<string, unknown>>
}

/** Options of {@link Payer}. */
export interface PayerOptions {
  rpc: PayerRpc
  scanner: ChainScanner<WalletLabel>
  /** the paying account; its network is the payments' */
  account: Bip84Account
  signer: PayerSigner
  /** a state exported earlier ({@link Payer.toJSON}) */
  state?: unknown
  /** called with the new state after every change, awaited before a broadcast: store it */
  onState?: (state: PayerStateJson) => void | Promise<void>
  /** sat/vB floor (default {@link DEFAULT_MIN_FEE_RATE}) */
  minFeeRate?: bigint
  /** sat/vB cap (default {@link DEFAULT_MAX_FEE_RATE}) */
  maxFeeRate?: bigint
  /** estimatesmartfee target, blocks (default 6) */
  confTarget?: number
  /** confirmations a coin needs to be spent (default 1; 0 spends unconfirmed coins too) */
  minConfirmations?: number
  /** how long to wait for the mempool to hold a broadcast transaction, ms (default 10,000) */
  mempoolWaitMs?: number
  /** poll interval of that wait, ms (default 50) */
  pollMs?: number
  /** the clock (default Date.now) */
  now?: () => number
  /** waits ms (default a timer) */
  sleep?: (ms: number) => Promise<void>
}

/**
 * The wallet's payer. Calls to {@link pay} and {@link bumpFee} are queued, so two payments never
 * pick the same coins.
 */
export class Payer {
  readonly account: Bip84Account
  #rpc: PayerRpc
  #scanner: ChainScanner<WalletLabel>
  #signer: PayerSigner
  #onState: PayerOptions['onState']
  #min: bigint
  #max: bigint
  #confTarget: number
  #minConf: number
  #waitMs: number
  #pollMs: number
  #now: () => number
  #sleep: (ms: number) => Promise<void>
  #nextChange: number
  #txs: PayerTx[]
  #queue: Promise<unknown> = Promise.resolve()

  /**
   * @param options backend, scanner, account, signer, saved state and limits ({@link PayerOptions})
   * @throws GrowrError BAD_ARGUMENT for bad options or a damaged state; UNSUPPORTED_VERSION for a state of an unknown version
   */
  constructor (options: PayerOptions) {
    if (!(options?.account instanceof Bip84Account)) throw GrowrError.BAD_ARGUMENT('account must be a Bip84Account')
    if (typeof options.signer !== 'function') throw GrowrError.BAD_ARGUMENT('signer must be a function (e.g. seedSigner(seed, account))')
    this.account = options.account
    this.#rpc = options.rpc
    this.#scanner = options.scanner
    this.#signer = options.signer
    this.#onState = options.onState
    this.#min = options.minFeeRate ?? DEFAULT_MIN_FEE_RATE
    this.#max = options.maxFeeRate ?? DEFAULT_MAX_FEE_RATE
    if (typeof this.#min !== 'bigint' || typeof this.#max !== 'bigint' || this.#min < 1n || this.#max < this.#min) {
      throw GrowrError.BAD_ARGUMENT('minFeeRate and maxFeeRate are bigint sat/vB with 1 <= min <= max')
    }
    this.#confTarget = options.confTarget ?? 6
    this.#minConf = options.minConfirmations ?? 1
    this.#waitMs = options.mempoolWaitMs ?? 10_000
    this.#pollMs = options.pollMs ?? 50
    this.#now = options.now ?? Date.now
    this.#sleep = options.sleep ?? (async (ms) => { await new Promise((resolve) => setTimeout(resolve, ms)) })
    const state = options.state === undefined ? { nextChangeIndex: 0, txs: [] } : importPayerState(options.state)
    this.#nextChange = state.nextChangeIndex
    this.#txs = state.txs
  }

  /** The state as JSON data: every transaction made, and the next change index. */
  toJSON (): PayerStateJson {
    return exportPayerState({ nextChangeIndex: this.#nextChange, txs: this.#txs })
  }

  /** Every transaction made, oldest first (copies). */
  transactions (): PayerTx[] {
    return this.#txs.map((t) => ({ ...t, outputs: [...t.outputs], inputs: [...t.inputs] }))
  }

  /**
   * The fee rate to pay: the backend's estimate for `confTarget` blocks, rounded up to whole
   * sat/vB, kept between the floor and the cap; the floor when the backend has no estimate.
   * @returns sat/vB
   * @throws GrowrError BACKEND_UNREACHABLE when the backend does not answer
   */
  async feeRate (): Promise<bigint> {
    const est = await this.#rpc.estimateSmartFee(this.#confTarget)
    const rate = est === null ? this.#min : (est.satPerKvB + 999n) / 1000n
    return rate < this.#min ? this.#min : rate > this.#max ? this.#max : rate
  }

  /**
   * Pays `outputs` in one transaction, or returns the transaction already made for this payment.
   * @param outputs one or more `{ address, amount }` (sats), in the order they appear in the transaction
   * @param opts.ref the caller's id of this payment: while a transaction for it lives, pay() returns that one
   * @param opts.feeRate sat/vB instead of the backend's estimate (between the floor and the cap)
   * @returns txid, fee, vsize, rate, change and status ({@link PayResult})
   * @throws GrowrError BAD_ARGUMENT: no outputs, an address of another network or malformed, an
   *   amount not a bigint or below dust, a fee rate outside the floor and cap.
   *   INSUFFICIENT_FUNDS: the spendable coins do not cover it (the error carries `available`,
   *   `needed` and `missing`, bigint sats). BACKEND_UNREACHABLE: the backend does not answer; a
   *   transaction already signed is kept, and a retry broadcasts the same one. BACKEND_ERROR: the
   *   node refused it, or its mempool did not take it in time (kept too: retry, or {@link abandon}).
   */
  async pay (outputs: PayOutput[], opts: { ref?: string, feeRate?: bigint } = {}): Promise<PayResult> {
    return await this.#serial(async () => await this.#pay(outputs, opts))
  }

  async #serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn)
    this.#queue = run.catch(() => {})
    return await run
  }

  #checkOutputs (outputs: PayOutput[]): CoinSelectOutput[] {
    if (!Array.isArray(outputs) || outputs.length === 0) throw GrowrError.BAD_ARGUMENT('at least one output to pay is needed')
    return outputs.map((o, i) => {
      if (o === null || typeof o !== 'object') throw GrowrError.BAD_ARGUMENT(`output ${i} must be { address, amount }`)
      const script = outputScript(o.address, this.account.network)
      if (typeof o.amount !== 'bigint') throw GrowrError.BAD_ARGUMENT(`output ${i} amount must be a bigint number of sats`)
      const dust = dustThreshold(script)
      if (o.amount < dust || o.amount <= 0n) throw GrowrError.BAD_ARGUMENT(`output ${i} pays ${o.amount} sats to ${o.address}, below the dust threshold of ${dust} sats: nodes would not relay it`)
      return { script, amount: o.amount }
    })
  }

  #checkRate (rate: unknown): bigint {
    if (typeof rate !== 'bigint') throw GrowrError.BAD_ARGUMENT('feeRate must be a bigint number of sat/vB')
    if (rate < this.#min) throw GrowrError.BAD_ARGUMENT(`fee rate ${rate} sat/vB is below the floor of ${this.#min} sat/vB`)
    if (rate > this.#max) throw GrowrError.BAD_ARGUMENT(`fee rate ${rate} sat/vB is above the cap of ${this.#max} sat/vB`)
    return rate
  }

  async #pay (outputs: PayOutput[], opts: { ref?: string, feeRate?: bigint }): Promise<PayResult> {
    const wanted = this.#checkOutputs(outputs)
    if (opts.ref !== undefined && (typeof opts.ref !== 'string' || opts.ref.length === 0 || opts.ref.length > 200)) throw GrowrError.BAD_ARGUMENT('ref must be a string of 1 to 200 characters')
    const ref = opts.ref ?? null
    const existing = this.#existing(outputs, ref)
    if (existing !== null) {
      const st = this.status(existing.txid)
      if (st.state === 'unbroadcast' || st.state === 'dropped') await this.#broadcast(existing)
      return this.#result(existing, true)
    }
    const feeRate = this.#checkRate(opts.feeRate ?? await this.feeRate())

    const spendable = this.#spendable()
    const changeAddress = this.account.change(this.#freshChangeIndex())
    let built: ReturnType<typeof buildPsbt>
    try {
      built = buildPsbt({ account: this.account, utxos: spendable, outputs: outputs.map((o) => ({ address: o.address, amount: o.amount })), feeRate, minFeeRate: this.#min, changeAddress })
    } catch (err) {
      throw this.#insufficient(err, spendable, feeRate)
    }
    const expected = built.selection.change === null ? wanted : [...wanted, { script: changeAddress.script, amount: built.selection.change.amount }]
    const verdict = checkPsbt(parsePsbt(built.psbt), { inputs: built.selection.inputs, outputs: expected })
    if (!verdict.ok) throw GrowrError.INTERNAL(`the payer built a transaction it would not sign: ${verdict.reason}`)
    const rec = await this.#sign(built.psbt, built.selection, expected, {
      ref, outputs: outputs.map((o) => ({ address: o.address, amount: o.amount })), feeRate, replaces: null, changeAddress: built.selection.change === null ? null : changeAddress
    })
    await this.#broadcast(rec)
    return this.#result(rec, false)
  }

  /** Signs, checks what came back, records it with its change address watched, and stores the state: all before any broadcast. */
  async #sign (psbt: string, selection: CoinSelection<SelectedUtxo>, expected: CoinSelectOutput[],
    meta: { ref: string | null, outputs: PayOutput[], feeRate: bigint, replaces: string | null, changeAddress: Bip84Address | null }): Promise<PayerTx> {
    const signed = await this.#signer(psbt, selection)
    const parsed = parseTransaction(hex.decode(signed.hex))
    if (!parsed.ok) throw GrowrError.INTERNAL(`the signer returned something that is not a transaction: ${parsed.reason}`)
    const tx = parsed.tx
    const spends = selection.inputs.map((u) => `${u.txid}:${u.vout}`)
    if (tx.txid !== signed.txid || tx.inputs.length !== spends.length || tx.inputs.some((op, i) => op !== spends[i]) ||
      tx.outputs.length !== expected.length || tx.outputs.some((o, i) => o.script !== hex.encode(expected[i].script) || o.amount !== expected[i].amount)) {
      throw GrowrError.INTERNAL('the signer returned a transaction other than the one built: refused')
    }
    const change = meta.changeAddress === null || selection.change === null ? null : { index: meta.changeAddress.index, amount: selection.change.amount }
    const rec: PayerTx = {
      txid: tx.txid,
      hex: signed.hex,
      ref: meta.ref,
      outputs: meta.outputs,
      inputs: selection.inputs.map((u) => ({ txid: u.txid, vout: u.vout, amount: u.amount, chain: u.chain, index: u.index })),
      change,
      fee: signed.fee,
      vsize: signed.vsize,
      feeRate: meta.feeRate,
      broadcast: false,
      replaces: meta.replaces,
      abandoned: false
    }
    if (meta.changeAddress !== null && change !== null) {
      if (!this.#scanner.isWatched(meta.changeAddress.script)) this.#scanner.watch(meta.changeAddress.script, { chain: 'change', index: change.index })
      if (change.index >= this.#nextChange) this.#nextChange = change.index + 1
    }
    this.#txs.push(rec)
    await this.#save()
    return rec
  }

  async #save (): Promise<void> {
    if (this.#onState !== undefined) await this.#onState(this.toJSON())
  }

  /** An INSUFFICIENT_FUNDS from coin selection, with what is available and needed. */
  #insufficient (err: unknown, spendable: WalletUtxo[], feeRate: bigint): unknown {
    if (!(err instanceof GrowrError) || err.code !== 'INSUFFICIENT_FUNDS') return err
    const missing = (err as GrowrError & { missing?: bigint }).missing ?? 0n
    const inputFee = BigInt(P2WPKH_INPUT_VBYTES) * feeRate
    const available = spendable.reduce((n, u) => n + (u.amount > inputFee ? u.amount : 0n), 0n)
    const needed = available + missing
    const held = this.#scanner.balance()
    const pending = held.unconfirmed + held.immature
    const e = GrowrError.INSUFFICIENT_FUNDS(`${available} sats spendable, ${needed} sats needed for the outputs and the fee at ${feeRate} sat/vB: ${missing} sats missing` +
      (pending > 0n ? ` (${pending} sats more are unconfirmed or immature)` : ''))
    return Object.assign(e, { available, needed, missing })
  }

  /** The live transaction for this payment: by ref, else one with the same outputs the backend has not taken. */
  #existing (outputs: PayOutput[], ref: string | null): PayerTx | null {
    for (let i = this.#txs.length - 1; i >= 0; i--) {
      const rec = this.#txs[i]
      if (!this.#live(rec)) continue
      if (ref !== null) {
        if (rec.ref === ref) return rec
        continue
      }
      const st = this.status(rec.txid).state
      if ((st === 'unbroadcast' || st === 'dropped') && rec.ref === null && sameOutputs(rec.outputs, outputs)) return rec
    }
    return null
  }

  /** Could still confirm: not abandoned, not replaced by one of ours, not conflicted by a confirmed spend. */
  #live (rec: PayerTx): boolean {
    const st = this.status(rec.txid)
    if (st.state === 'abandoned') return false
    if (st.state === 'replaced') return !st.confirmed && !this.#txs.some((t) => t.txid === st.by)
    return true
  }

  /** Outpoints of transactions that may still confirm but the scanner does not see spent. */
  #reserved (): Set<string> {
    const out = new Set<string>()
    for (const rec of this.#txs) {
      if (!this.#live(rec)) continue
      const st = this.status(rec.txid).state
      if (st === 'confirmed') continue
      for (const i of rec.inputs) out.add(`${i.txid}:${i.vout}`)
    }
    return out
  }

  /** Coins the payer may spend: deep enough, not reserved, and whose label really derives their script. */
  #spendable (exclude: Set<string> = new Set()): WalletUtxo[] {
    const reserved = this.#reserved()
    const out: WalletUtxo[] = []
    for (const u of this.#scanner.utxos({ minConfirmations: this.#minConf })) {
      const op = `${u.txid}:${u.vout}`
      if (reserved.has(op) || exclude.has(op)) continue
      const l = u.label
      if (l === null || typeof l !== 'object' || (l.chain !== 'receive' && l.chain !== 'change') || !Number.isSafeInteger(l.index)) continue
      let derived: Bip84Address
      try { derived = addressFor(this.account, l.index, l.chain) } catch { continue }
      if (hex.encode(derived.script) !== u.script) continue // a mislabelled script: the seed cannot sign it
      out.push({ txid: u.txid, vout: u.vout, amount: u.value, chain: l.chain, index: l.index })
    }
    return out
  }

  /** The next change index nobody has been paid at. */
  #freshChangeIndex (): number {
    let i = this.#nextChange
    while (this.#scanner.paymentsTo(this.account.change(i).script).length > 0) i++
    return i
  }

  /** Sends the transaction and waits until the node's mempool (or chain) holds it. */
  async #broadcast (rec: PayerTx): Promise<void> {
    try {
      await this.#rpc.sendRawTransaction(rec.hex)
    } catch (err) {
      // bitcoind refuses a transaction it already has: that is a success
      if (!(err instanceof GrowrError) || err.code !== 'BACKEND_ERROR' || !(await this.#known(rec.txid))) throw err
    }
    const deadline = this.#now() + this.#waitMs
    for (;;) {
      if ((await this.#rpc.getRawMempool()).includes(rec.txid) || await this.#known(rec.txid)) break
      const left = deadline - this.#now()
      if (left <= 0) {
        throw GrowrError.BACKEND_ERROR(`the Bitcoin backend took ${rec.txid} but its mempool did not hold it within ${this.#waitMs} ms: ` +
          'it refused it (a coin already spent, a fee too low, or SegWit not active); the signed transaction is kept')
      }
      await this.#sleep(Math.min(this.#pollMs, left))
    }
    if (!rec.broadcast) {
      rec.broadcast = true
      await this.#save()
    }
    this.#scanner.noteTransaction(rec.hex)
  }

  async #known (txid: string): Promise<boolean> {
    try {
      await this.#rpc.getRawTransaction(txid, true)
      return true
    } catch (err) {
      if (isNotFound(err)) return false
      throw err
    }
  }

  /**
   * Where a transaction the payer made stands, from the scanner's view (sync it first).
   * @param txid display order hex
   * @returns 'confirmed' with its confirmations; 'replaced' when another transaction spends one of
   *   its coins (`by`, and whether that one is confirmed); 'mempool'; 'unbroadcast' (signed, the
   *   backend has not held it yet); 'dropped' (held once, now neither in the mempool nor the chain);
   *   'abandoned'
   * @throws GrowrError NOT_FOUND when the payer did not make it
   */
  status (txid: string): PayerTxStatus {
    const rec = this.#txs.find((t) => t.txid === txid)
    if (rec === undefined) throw GrowrError.NOT_FOUND(`the payer made no transaction ${txid}`)
    const conf = this.#scanner.confirmations(txid)
    if (conf !== null && conf >= 1) return { state: 'confirmed', confirmations: conf }
    for (const i of rec.inputs) {
      const s = this.#scanner.spender(`${i.txid}:${i.vout}`)
      if (s !== null && s.txid !== txid) return { state: 'replaced', by: s.txid, confirmed: s.height !== null }
    }
    if (rec.abandoned) return { state: 'abandoned' }
    if (conf === 0) return { state: 'mempool' }
    return rec.broadcast ? { state: 'dropped' } : { state: 'unbroadcast' }
  }

  /**
   * Broadcasts a kept transaction again (after BACKEND_UNREACHABLE, or when it was dropped).
   * @throws GrowrError NOT_FOUND; BAD_ARGUMENT when it is confirmed, replaced or abandoned; backend errors as {@link pay}
   */
  async rebroadcast (txid: string): Promise<PayResult> {
    return await this.#serial(async () => {
      const rec = this.#record(txid)
      const st = this.status(txid)
      if (st.state === 'confirmed' || st.state === 'replaced' || st.state === 'abandoned') throw GrowrError.BAD_ARGUMENT(`transaction ${txid} is ${st.state}: nothing to broadcast`)
      await this.#broadcast(rec)
      return this.#result(rec, true)
    })
  }

  /**
   * Gives up a transaction the backend never held or dropped, freeing its coins. Only when it
   * cannot confirm any more (e.g. the node refused it): a dropped transaction someone else still
   * relays could confirm next to a new payment. To replace a stuck one safely, use {@link bumpFee}.
   * @throws GrowrError NOT_FOUND; BAD_ARGUMENT when it is in the mempool, confirmed or replaced
   */
  async abandon (txid: string): Promise<void> {
    await this.#serial(async () => {
      const rec = this.#record(txid)
      const st = this.status(txid).state
      if (st !== 'unbroadcast' && st !== 'dropped') throw GrowrError.BAD_ARGUMENT(`transaction ${txid} is ${st}: only one the backend does not hold can be abandoned`)
      rec.abandoned = true
      await this.#save()
    })
  }

  #record (txid: string): PayerTx {
    const rec = this.#txs.find((t) => t.txid === txid)
    if (rec === undefined) throw GrowrError.NOT_FOUND(`the payer made no transaction ${txid}`)
    return rec
  }

  /**
   * Replaces a stuck transaction with one paying the same outputs at a higher fee rate (BIP-125):
   * it spends every coin of the original (so only one of the two can confirm), adds confirmed
   * coins when the change cannot carry the extra fee, and pays at least the original fee plus
   * {@link INCREMENTAL_RELAY_FEE} per vbyte of its own size.
   * @param txid the transaction to replace (in the mempool, unbroadcast or dropped)
   * @param newRate sat/vB, above the original's and at most the cap
   * @returns the replacement ({@link PayResult})
   * @throws GrowrError BAD_ARGUMENT (not replaceable, rate not higher or above the cap), NOT_FOUND,
   *   INSUFFICIENT_FUNDS, backend errors as {@link pay} (the replacement is kept signed either way)
   */
  async bumpFee (txid: string, newRate: bigint): Promise<PayResult> {
    return await this.#serial(async () => await this.#bump(txid, newRate))
  }

  async #bump (txid: string, newRate: bigint): Promise<PayResult> {
    const rec = this.#record(txid)
    const st = this.status(txid)
    if (st.state !== 'mempool' && st.state !== 'unbroadcast' && st.state !== 'dropped') throw GrowrError.BAD_ARGUMENT(`transaction ${txid} is ${st.state}: it cannot be replaced`)
    const rate = this.#checkRate(newRate)
    if (rate <= rec.feeRate) throw GrowrError.BAD_ARGUMENT(`a replacement must pay more than the original's ${rec.feeRate} sat/vB, not ${rate}`)
    const outputs = this.#checkOutputs(rec.outputs)
    const paid = outputs.reduce((n, o) => n + o.amount, 0n)
    const changeAddress = this.account.change(rec.change?.index ?? this.#freshChangeIndex())
    const forced = rec.inputs.map((i) => selectedUtxo(this.account, i))
    const forcedOps = new Set(forced.map((u) => `${u.txid}:${u.vout}`))
    const extras = this.#spendable(forcedOps).filter((u) => !forcedOps.has(`${u.txid}:${u.vout}`)).map((u) => selectedUtxo(this.account, u))
    const outScripts = outputs.map((o) => o.script)
    const feeFor = (vsize: number): bigint => {
      const byRate = BigInt(vsize) * rate
      const byRule = rec.fee + BigInt(vsize) * INCREMENTAL_RELAY_FEE
      return byRate > byRule ? byRate : byRule
    }
    const inputs = [...forced]
    let total = inputs.reduce((n, u) => n + u.amount, 0n)
    let selection: CoinSelection<SelectedUtxo> | null = null
    for (let k = 0; selection === null; k++) {
      const withChange = estimateVsize(inputs.length, [...outScripts, changeAddress.script])
      const changeAmount = total - paid - feeFor(withChange)
      if (changeAmount >= dustThreshold(changeAddress.script)) {
        selection = { inputs: [...inputs], outputs, change: { script: changeAddress.script, amount: changeAmount }, fee: total - paid - changeAmount, vsize: withChange, feeRate: rate, algorithm: 'largest-first' }
        break
      }
      const noChange = estimateVsize(inputs.length, outScripts)
      if (total - paid >= feeFor(noChange)) {
        selection = { inputs: [...inputs], outputs, change: null, fee: total - paid, vsize: noChange, feeRate: rate, algorithm: 'largest-first' }
        break
      }
      if (k >= extras.length) {
        const missing = paid + feeFor(noChange) - total
        const e = GrowrError.INSUFFICIENT_FUNDS(`replacing ${txid} at ${rate} sat/vB needs ${paid + feeFor(noChange)} sats; its coins and the spendable ones hold ${total} sats: ${missing} sats missing`)
        throw Object.assign(e, { available: total, needed: paid + feeFor(noChange), missing })
      }
      inputs.push(extras[k])
      total += extras[k].amount
    }
    const expected = selection.change === null ? outputs : [...outputs, selection.change]
    const { psbt } = psbtFromSelection(this.account, selection, changeAddress)
    const verdict = checkPsbt(parsePsbt(psbt), { inputs: selection.inputs, outputs: expected })
    if (!verdict.ok) throw GrowrError.INTERNAL(`the payer built a replacement it would not sign: ${verdict.reason}`)
    const next = await this.#sign(psbt, selection, expected, {
      ref: rec.ref, outputs: rec.outputs, feeRate: rate, replaces: rec.txid, changeAddress: selection.change === null ? null : changeAddress
    })
    await this.#broadcast(next)
    return this.#result(next, false)
  }

  #result (rec: PayerTx, reused: boolean): PayResult {
    const change = rec.change === null ? null : { address: this.account.change(rec.change.index).address, index: rec.change.index, amount: rec.change.amount }
    return { txid: rec.txid, fee: rec.fee, vsize: rec.vsize, feeRate: rec.feeRate, change, reused, status: this.status(rec.txid) }
  }
}

function sameOutputs (a: PayOutput[], b: PayOutput[]): boolean {
  return a.length === b.length && a.every((o, i) => o.address === b[i].address && o.amount === b[i].amount)
}

const TXID = /^[0-9a-f]{64}$/
const SATS = /^(0|[1-9][0-9]{0,15})$/

function badState (what: string): GrowrError {
  return GrowrError.BAD_ARGUMENT(`payer state: ${what}`)
}

/**
 * The payer's state as JSON data (bigints as decimal strings).
 * @param state the next change index and the transactions
 * @returns a {@link PayerStateJson} that {@link importPayerState} reads back
 */
export function exportPayerState (state: { nextChangeIndex: number, txs: PayerTx[] }): PayerStateJson {
  return {
    version: PAYER_STATE_VERSION,
    nextChangeIndex: state.nextChangeIndex,
    txs: state.txs.map((t) => ({
      ...t,
      outputs: t.outputs.map((o) => ({ address: o.address, amount: o.amount.toString() })),
      inputs: t.inputs.map((i) => ({ ...i, amount: i.amount.toString() })),
      change: t.change === null ? null : { index: t.change.index, amount: t.change.amount.toString() },
      fee: t.fee.toString(),
      feeRate: t.feeRate.toString()
    }))
  }
}

/**
 * Reads an exported payer state back, checking every field.
 * @param json what {@link exportPayerState} returned (parsed from JSON)
 * @returns the next change index and the transactions
 * @throws GrowrError UNSUPPORTED_VERSION for an unknown version; BAD_ARGUMENT naming the first malformed field
 */
export function importPayerState (json: unknown): { nextChangeIndex: number, txs: PayerTx[] } {
  if (json === null || typeof json !== 'object') throw badState('not an object')
  const j = json as Partial<PayerStateJson>
  if (j.version !== PAYER_STATE_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`payer state version ${String(j.version)}: this node reads version ${PAYER_STATE_VERSION}`)
  if (!Number.isSafeInteger(j.nextChangeIndex) || (j.nextChangeIndex as number) < 0) throw badState('nextChangeIndex')
  if (!Array.isArray(j.txs)) throw badState('txs')
  const sats = (v: unknown, what: string): bigint => {
    if (typeof v !== 'string' || !SATS.test(v)) throw badState(what)
    return BigInt(v)
  }
  const txs = j.txs.map((t: any, n): PayerTx => {
    if (t === null || typeof t !== 'object' || !TXID.test(t.txid) || typeof t.hex !== 'string' || !/^([0-9a-f]{2})+$/.test(t.hex)) throw badState(`transaction ${n}`)
    const parsed = parseTransaction(hex.decode(t.hex))
    if (!parsed.ok || parsed.tx.txid !== t.txid) throw badState(`transaction ${n}: its hex is not transaction ${String(t.txid)}`)
    if (!Array.isArray(t.outputs) || !Array.isArray(t.inputs)) throw badState(`transaction ${n}: outputs or inputs`)
    const chain = (c: unknown): Bip84Chain => { if (c !== 'receive' && c !== 'change') throw badState(`transaction ${n}: an input's chain`); return c }
    const index = (i: unknown): number => { if (!Number.isSafeInteger(i) || (i as number) < 0) throw badState(`transaction ${n}: an index`); return i as number }
    if (typeof t.broadcast !== 'boolean' || typeof t.abandoned !== 'boolean' || !Number.isSafeInteger(t.vsize)) throw badState(`transaction ${n}: flags`)
    if (t.ref !== null && typeof t.ref !== 'string') throw badState(`transaction ${n}: ref`)
    if (t.replaces !== null && !TXID.test(t.replaces)) throw badState(`transaction ${n}: replaces`)
    return {
      txid: t.txid,
      hex: t.hex,
      ref: t.ref,
      outputs: t.outputs.map((o: any) => {
        if (o === null || typeof o !== 'object' || typeof o.address !== 'string') throw badState(`transaction ${n}: an output`)
        return { address: o.address, amount: sats(o.amount, `transaction ${n}: an output amount`) }
      }),
      inputs: t.inputs.map((i: any) => {
        if (i === null || typeof i !== 'object' || !TXID.test(i.txid) || !Number.isSafeInteger(i.vout)) throw badState(`transaction ${n}: an input`)
        return { txid: i.txid, vout: i.vout, amount: sats(i.amount, `transaction ${n}: an input amount`), chain: chain(i.chain), index: index(i.index) }
      }),
      change: t.change === null ? null : { index: index(t.change?.index), amount: sats(t.change?.amount, `transaction ${n}: change`) },
      fee: sats(t.fee, `transaction ${n}: fee`),
      vsize: t.vsize,
      feeRate: sats(t.feeRate, `transaction ${n}: feeRate`),
      broadcast: t.broadcast,
      replaces: t.replaces,
      abandoned: t.abandoned
    }
  })
  return { nextChangeIndex: j.nextChangeIndex as number, txs }
}
