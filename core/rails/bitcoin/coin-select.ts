/**
 * Coin selection for the Bitcoin payer: which of the wallet's P2WPKH coins (BIP-84, BIP-141) pay a
 * set of outputs, what fee that costs at a fee rate in sat/vB (BIP-141 virtual size), and whether
 * the rest comes back as change or, when it would be dust, goes to the fee.
 *
 * Two algorithms, in order, as Bitcoin Core's wallet does:
 * 1. branch and bound (Murch, "An Evaluation of Coin Selection Strategies", 2016; Core's
 *    `SelectCoinsBnB`): a set of coins whose effective values (amount minus the fee of spending it)
 *    cover the outputs and the fee with an excess no larger than the cost of making and later
 *    spending a change output; the transaction then has no change, and the excess goes to the fee.
 * 2. largest first: the biggest coins until the outputs and the fee are covered; change when the
 *    rest is at least the change script's dust threshold, else the rest goes to the fee.
 *
 * Pure: no I/O, no clock, no randomness; the same arguments give the same result, whatever order
 * the coins come in. Amounts are bigint sats. Sizes are upper bounds (a 72-byte DER signature per
 * input), so the fee paid is never below the rate asked.
 */
import { GrowrError } from '../../errors.ts'

/** A coin the wallet can spend: a P2WPKH output (scriptPubKey `OP_0 <20 bytes>`). */
export interface CoinSelectUtxo {
  /** Transaction id, 64 hex characters in display (RPC) order. */
  txid: string
  /** Output index in that transaction. */
  vout: number
  /** Value in sats, > 0. */
  amount: bigint
  /** Its scriptPubKey: 22 bytes `0x00 0x14 <HASH160(pubkey)>`. */
  script: Uint8Array
}

/** One output to pay. */
export interface CoinSelectOutput {
  /** scriptPubKey it pays (any standard script; its length sets the output's size). */
  script: Uint8Array
  /** Value in sats, at least the script's dust threshold. */
  amount: bigint
}

/** What {@link selectCoins} takes. */
export interface CoinSelectRequest<U extends CoinSelectUtxo> {
  /** The coins available, in any order; each outpoint at most once. */
  utxos: readonly U[]
  /** The outputs to pay, in order (one or more: a distribution pays several in one transaction). */
  outputs: readonly CoinSelectOutput[]
  /** Fee rate in sat/vB: a bigint or a safe integer, at least `minFeeRate`. */
  feeRate: bigint | number
  /** The floor under the fee rate, sat/vB; default {@link MIN_FEE_RATE} (Bitcoin Core's minimum relay fee). */
  minFeeRate?: bigint | number
  /** scriptPubKey of the change output, if one is made (a fresh internal address of the wallet). */
  changeScript: Uint8Array
}

/** The change output a selection makes. */
export interface CoinSelectChange {
  script: Uint8Array
  /** sats, at least the change script's dust threshold. */
  amount: bigint
}

/** The result of {@link selectCoins}. */
export interface CoinSelection<U extends CoinSelectUtxo> {
  /** The coins to spend, in transaction input order. */
  inputs: U[]
  /** The outputs paid, in the order asked. */
  outputs: CoinSelectOutput[]
  /** The change output (placed after the outputs), or null when the rest went to the fee. */
  change: CoinSelectChange | null
  /** sats: sum(inputs) - sum(outputs) - change. */
  fee: bigint
  /** Estimated virtual size in vbytes (an upper bound: 72-byte signatures). */
  vsize: number
  /** The fee rate asked, sat/vB; `fee >= vsize * feeRate`. */
  feeRate: bigint
  /** Which algorithm found it. */
  algorithm: 'branch-and-bound' | 'largest-first'
}

/** Default fee-rate floor, sat/vB (Bitcoin Core's default minrelaytxfee, 1000 sat/kvB). */
export const MIN_FEE_RATE = 1n
/** Weight of a P2WPKH input: 41 bytes outside the witness (x4) + witness 1 + (1+72) + (1+33). */
export const P2WPKH_INPUT_WEIGHT = 41 * 4 + 108
/** Virtual size of a P2WPKH input, vbytes (68). */
export const P2WPKH_INPUT_VBYTES = P2WPKH_INPUT_WEIGHT / 4
/** Virtual size of a P2WPKH output, vbytes: 8 (amount) + 1 (script length) + 22. */
export const P2WPKH_OUTPUT_VBYTES = 31
/** Dust threshold of a P2WPKH output, sats, at Bitcoin Core's dust relay fee of 3 sat/vB. */
export const P2WPKH_DUST = 294n
/** Bitcoin Core's DUST_RELAY_TX_FEE, sat/kvB. */
const DUST_RELAY_FEE_PER_KVB = 3000n
/** Branch-and-bound gives up after this many steps (Core's TOTAL_TRIES) and largest-first takes over. */
const BNB_MAX_TRIES = 100_000

function varintSize (n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9
}

function outputVbytes (script: Uint8Array): number {
  return 8 + varintSize(script.byteLength) + script.byteLength
}

/** A witness program (BIP-141): version opcode OP_0 or OP_1..OP_16, then one push of 2 to 40 bytes. */
function isWitnessProgram (script: Uint8Array): boolean {
  if (script.byteLength < 4 || script.byteLength > 42) return false
  const v = script[0]
  if (v !== 0x00 && (v < 0x51 || v > 0x60)) return false
  return script[1] + 2 === script.byteLength
}

/**
 * The smallest value an output to `script` may carry and still be relayed: Bitcoin Core's
 * `GetDustThreshold` at the default dust relay fee (3000 sat/kvB): the output's size plus the size
 * of the input that would spend it (67 vbytes for a witness program, 148 bytes otherwise), times 3.
 * 294 for P2WPKH, 330 for P2WSH and P2TR, 546 for P2PKH, 540 for P2SH; 0 for OP_RETURN.
 *
 * @param script a scriptPubKey.
 * @returns the threshold in sats; an output below it is dust.
 */
export function dustThreshold (script: Uint8Array): bigint {
  if (script.byteLength > 0 && script[0] === 0x6a) return 0n // OP_RETURN: unspendable, never dust
  const spend = isWitnessProgram(script) ? 32 + 4 + 1 + Math.floor(107 / 4) + 4 : 32 + 4 + 1 + 107 + 4
  return BigInt(outputVbytes(script) + spend) * DUST_RELAY_FEE_PER_KVB / 1000n
}

/**
 * The virtual size of a transaction spending `inputs` P2WPKH coins to outputs with these scripts
 * (BIP-141: weight / 4, rounded up), counting 72-byte signatures (an upper bound).
 *
 * @param inputs number of P2WPKH inputs, >= 0.
 * @param outputScripts the outputs' scriptPubKeys.
 * @returns vbytes.
 */
export function estimateVsize (inputs: number, outputScripts: readonly Uint8Array[]): number {
  const base = 4 + 4 + varintSize(inputs) + varintSize(outputScripts.length) +
    outputScripts.reduce((n, s) => n + outputVbytes(s), 0)
  const weight = base * 4 + 2 /* segwit marker and flag */ + inputs * P2WPKH_INPUT_WEIGHT
  return Math.ceil(weight / 4)
}

function toSatPerVb (value: bigint | number, what: string): bigint {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value)
  throw GrowrError.BAD_ARGUMENT(`${what} must be an integer number of sat/vB (a bigint or a safe integer), not ${String(value)}`)
}

function isP2wpkh (script: unknown): script is Uint8Array {
  return script instanceof Uint8Array && script.byteLength === 22 && script[0] === 0x00 && script[1] === 0x14
}

/** Sort key: larger amount first, then txid, then vout: an order that does not depend on the caller's. */
function byAmountDesc (a: CoinSelectUtxo, b: CoinSelectUtxo): number {
  if (a.amount !== b.amount) return a.amount > b.amount ? -1 : 1
  if (a.txid !== b.txid) return a.txid < b.txid ? -1 : 1
  return a.vout - b.vout
}

function sum (xs: readonly { amount: bigint }[]): bigint {
  return xs.reduce((n, x) => n + x.amount, 0n)
}

/**
 * Choose the coins that pay `outputs` at `feeRate`, the fee, and the change.
 *
 * @param req coins, outputs, fee rate (sat/vB) and its floor, and the change script; see
 *   {@link CoinSelectRequest}.
 * @returns a {@link CoinSelection}: inputs (a subset of `req.utxos`, the same objects), the
 *   outputs, the change or null, the fee in sats (at least `vsize * feeRate`), the estimated vsize.
 * @throws GrowrError BAD_ARGUMENT, in plain words: a fee rate that is not an integer or is below
 *   the floor; no outputs; an output amount that is not a bigint, or below its script's dust
 *   threshold; a coin that is malformed, not P2WPKH, or listed twice.
 * @throws GrowrError INSUFFICIENT_FUNDS when the coins do not cover the outputs and the fee; the
 *   message names the sats missing, and the error carries them as `missing` (bigint): what the
 *   coins lack for the outputs plus the fee of spending every coin that is worth spending.
 */
export function selectCoins<U extends CoinSelectUtxo> (req: CoinSelectRequest<U>): CoinSelection<U> {
  if (typeof req !== 'object' || req === null) throw GrowrError.BAD_ARGUMENT('selectCoins takes { utxos, outputs, feeRate, changeScript }')
  const floor = toSatPerVb(req.minFeeRate ?? MIN_FEE_RATE, 'minFeeRate')
  if (floor < 1n) throw GrowrError.BAD_ARGUMENT(`minFeeRate must be at least 1 sat/vB, not ${floor}`)
  const feeRate = toSatPerVb(req.feeRate, 'feeRate')
  if (feeRate < floor) throw GrowrError.BAD_ARGUMENT(`fee rate ${feeRate} sat/vB is below the floor of ${floor} sat/vB: the transaction would not be relayed`)

  if (!Array.isArray(req.outputs) || req.outputs.length === 0) throw GrowrError.BAD_ARGUMENT('at least one output to pay is needed')
  const outputs: CoinSelectOutput[] = req.outputs.map((o, i) => {
    if (typeof o !== 'object' || o === null || !(o.script instanceof Uint8Array) || o.script.byteLength === 0) {
      throw GrowrError.BAD_ARGUMENT(`output ${i} needs a script (Uint8Array)`)
    }
    if (typeof o.amount !== 'bigint') throw GrowrError.BAD_ARGUMENT(`output ${i} amount must be a bigint number of sats`)
    const dust = dustThreshold(o.script)
    if (o.amount < dust || o.amount < 0n) throw GrowrError.BAD_ARGUMENT(`output ${i} pays ${o.amount} sats, below the dust threshold of ${dust} sats for its script: nodes would not relay it`)
    return { script: o.script, amount: o.amount }
  })
  if (!(req.changeScript instanceof Uint8Array) || req.changeScript.byteLength === 0) throw GrowrError.BAD_ARGUMENT('changeScript must be a scriptPubKey (Uint8Array)')
  const changeScript = req.changeScript

  if (!Array.isArray(req.utxos)) throw GrowrError.BAD_ARGUMENT('utxos must be an array')
  const seen = new Set<string>()
  for (const [i, u] of req.utxos.entries()) {
    if (typeof u !== 'object' || u === null || typeof u.txid !== 'string' || !/^[0-9a-f]{64}$/.test(u.txid)) {
      throw GrowrError.BAD_ARGUMENT(`utxo ${i}: txid must be 64 lower-case hex characters`)
    }
    if (!Number.isSafeInteger(u.vout) || u.vout < 0 || u.vout > 0xffffffff) throw GrowrError.BAD_ARGUMENT(`utxo ${i}: vout must be an integer from 0 to 2^32-1`)
    if (typeof u.amount !== 'bigint' || u.amount <= 0n) throw GrowrError.BAD_ARGUMENT(`utxo ${i}: amount must be a positive bigint number of sats`)
    if (!isP2wpkh(u.script)) throw GrowrError.BAD_ARGUMENT(`utxo ${i} (${u.txid}:${u.vout}) is not a P2WPKH output: this wallet spends BIP-84 coins only`)
    const key = `${u.txid}:${u.vout}`
    if (seen.has(key)) throw GrowrError.BAD_ARGUMENT(`utxo ${key} is listed twice`)
    seen.add(key)
  }

  const outScripts = outputs.map((o) => o.script)
  const withChange = [...outScripts, changeScript]
  const paid = sum(outputs)
  const inputFee = BigInt(P2WPKH_INPUT_VBYTES) * feeRate
  // Coins worth spending: they add more than the fee of spending them.
  const pool = req.utxos.filter((u) => u.amount > inputFee).sort(byAmountDesc)

  const bnb = branchAndBound(pool, {
    target: paid + BigInt(estimateVsize(0, outScripts)) * feeRate, // estimateVsize(k) = estimateVsize(0) + 68k
    costOfChange: BigInt(outputVbytes(changeScript) + P2WPKH_INPUT_VBYTES) * feeRate,
    inputFee
  })
  if (bnb !== null) {
    const inputs = bnb.sort(byAmountDesc)
    const vsize = estimateVsize(inputs.length, outScripts)
    const fee = sum(inputs) - paid
    if (fee >= BigInt(vsize) * feeRate) return { inputs, outputs, change: null, fee, vsize, feeRate, algorithm: 'branch-and-bound' }
    // (only when the input count's varint grows past 252: fall through to largest-first)
  }

  const chosen: U[] = []
  let total = 0n
  for (const u of pool) {
    chosen.push(u)
    total += u.amount
    const vsizeNoChange = estimateVsize(chosen.length, outScripts)
    if (total < paid + BigInt(vsizeNoChange) * feeRate) continue
    const vsizeChange = estimateVsize(chosen.length, withChange)
    const changeAmount = total - paid - BigInt(vsizeChange) * feeRate
    if (changeAmount >= dustThreshold(changeScript)) {
      return { inputs: chosen, outputs, change: { script: changeScript, amount: changeAmount }, fee: total - paid - changeAmount, vsize: vsizeChange, feeRate, algorithm: 'largest-first' }
    }
    return { inputs: chosen, outputs, change: null, fee: total - paid, vsize: vsizeNoChange, feeRate, algorithm: 'largest-first' }
  }
  const need = paid + BigInt(estimateVsize(Math.max(chosen.length, 1), outScripts)) * feeRate
  const missing = need - total
  const err = GrowrError.INSUFFICIENT_FUNDS(`missing ${missing} sats: the outputs (${paid} sats) and the fee at ${feeRate} sat/vB need ${need} sats, and the spendable coins hold ${total} sats` +
    (pool.length < req.utxos.length ? ` (${req.utxos.length - pool.length} coin(s) worth less than the fee of spending them left out)` : ''))
  throw Object.assign(err, { missing })
}

/**
 * Depth-first search over `pool` (sorted by amount, largest first) for a set whose effective
 * values sum into [target, target + costOfChange]; the one with the least excess, then the fewest
 * coins, then the first found. Stops at an exact match or after BNB_MAX_TRIES steps.
 */
function branchAndBound<U extends CoinSelectUtxo> (pool: readonly U[], p: { target: bigint, costOfChange: bigint, inputFee: bigint }): U[] | null {
  const eff = pool.map((u) => u.amount - p.inputFee)
  const rest: bigint[] = new Array(eff.length + 1).fill(0n)
  for (let i = eff.length - 1; i >= 0; i--) rest[i] = rest[i + 1] + eff[i]
  if (rest[0] < p.target) return null
  const upper = p.target + p.costOfChange
  const found: { best: number[] | null, excess: bigint } = { best: null, excess: 0n }
  let tries = 0
  const picked: number[] = []
  const visit = (i: number, value: bigint): boolean => { // returns true to stop
    if (++tries > BNB_MAX_TRIES) return true
    if (value > upper) return false
    if (value >= p.target) {
      const excess = value - p.target
      if (found.best === null || excess < found.excess || (excess === found.excess && picked.length < found.best.length)) {
        found.best = [...picked]
        found.excess = excess
      }
      return excess === 0n
    }
    if (i >= eff.length || value + rest[i] < p.target) return false
    picked.push(i)
    if (visit(i + 1, value + eff[i])) return true
    picked.pop()
    return visit(i + 1, value)
  }
  visit(0, 0n)
  return found.best === null ? null : found.best.map((i) => pool[i])
}
