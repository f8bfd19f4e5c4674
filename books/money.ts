/**
 * Money primitives for the lending books.
 *
 * Every amount is an integer count of MINOR units (cents for EUR/USD, sats for
 * BTC, ...) held in a JS number that is a safe integer. Floats never touch
 * money: any intermediate product that could pass 2^53 is done in BigInt and
 * converted back through a safe-integer check.
 */
import { GrowrError } from '../core/errors.ts'

const CURRENCY_RE = /^[A-Z][A-Z0-9]{2,4}$/

/**
 * Whether `code` looks like a currency or asset code: an ISO 4217 alphabetic
 * code (EUR, USD) or a ticker-style asset code (BTC, USDT), i.e. one upper-case
 * letter followed by 2 to 4 upper-case letters or digits (/^[A-Z][A-Z0-9]{2,4}$/).
 *
 * @param code - candidate code; any non-string yields false
 * @returns true when the code has the accepted shape (it is not checked against
 *   the ISO 4217 list, so asset codes are accepted too)
 * @throws nothing
 */
export function isCurrency (code: string): boolean {
  return typeof code === 'string' && CURRENCY_RE.test(code)
}

/**
 * Assert that `n` is an amount in minor units: a non-negative safe integer
 * (0 <= n <= Number.MAX_SAFE_INTEGER, no fraction, not NaN/Infinity).
 *
 * @param n - value to check
 * @param what - name of the value, used in the error message (e.g. 'principal')
 * @returns nothing; narrows `n` to number
 * @throws GrowrError BAD_ARGUMENT naming `what` when `n` is not a non-negative
 *   safe integer
 */
export function assertMinor (n: unknown, what: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw GrowrError.BAD_ARGUMENT(`${what} must be a non-negative safe integer amount of minor units, got ${String(n)}`)
  }
}

/**
 * Convert a BigInt amount back to a JS number, refusing anything outside the
 * safe-integer range (so no precision is ever silently lost).
 *
 * @param n - integer amount in minor units
 * @param what - name of the value, used in the error message
 * @returns the same value as a safe-integer number
 * @throws GrowrError BAD_ARGUMENT when |n| > Number.MAX_SAFE_INTEGER
 */
export function toSafeNumber (n: bigint, what: string): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw GrowrError.BAD_ARGUMENT(`${what} exceeds the safe integer range (${n.toString()})`)
  }
  return Number(n)
}

/**
 * Split an integer `total` pro rata to integer `weights`, losing nothing.
 *
 * Rule (dinero.js `distribute`): every share first gets the integer quotient
 * floor(total * w_i / W) with W = sum of weights; the remainder R = total -
 * sum(floors) is then handed out one minor unit at a time, largest weight
 * first, ties going to the lower index. Only shares whose exact pro-rata value
 * was actually truncated (non-zero fractional part) are eligible for a unit,
 * which guarantees |share_i - total * w_i / W| < 1 for every i (there are
 * always more than R such shares, so one pass suffices) and that zero weights
 * get exactly 0.
 *
 * @param total - amount to split, minor units (non-negative safe integer)
 * @param weights - non-negative safe integers, at least one positive
 * @returns shares in minor units, same length and order as `weights`, summing
 *   exactly to `total`
 * @throws GrowrError BAD_ARGUMENT when `total` or any weight is not a
 *   non-negative safe integer, or the weights sum to zero (or are empty)
 */
export function allocate (total: number, weights: number[]): number[] {
  assertMinor(total, 'total')
  if (!Array.isArray(weights)) throw GrowrError.BAD_ARGUMENT('weights must be an array of non-negative integers')
  let sum = 0n
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]
    if (typeof w !== 'number' || !Number.isSafeInteger(w) || w < 0) {
      throw GrowrError.BAD_ARGUMENT(`weights[${i}] must be a non-negative safe integer, got ${String(w)}`)
    }
    sum += BigInt(w)
  }
  if (sum === 0n) throw GrowrError.BAD_ARGUMENT('weights must sum to more than zero')

  const t = BigInt(total)
  const shares: bigint[] = []
  const truncated: number[] = []
  let remainder = t
  for (let i = 0; i < weights.length; i++) {
    const num = t * BigInt(weights[i])
    const share = num / sum
    shares.push(share)
    remainder -= share
    if (num % sum !== 0n) truncated.push(i)
  }

  // Largest weight first; Array.prototype.sort is stable, so equal weights keep index order.
  truncated.sort((a, b) => weights[b] - weights[a])
  for (let k = 0; remainder > 0n; k++) {
    shares[truncated[k]] += 1n
    remainder -= 1n
  }

  return shares.map((s) => Number(s)) // each share <= total, so already safe
}

/**
 * Integer division rounded half up (commercial rounding: 0.5 goes away from
 * zero) for non-negative operands: floor((2 * num + den) / (2 * den)).
 *
 * @param num - dividend, >= 0
 * @param den - divisor, > 0
 * @returns num / den rounded to the nearest integer, halves rounded up
 * @throws GrowrError BAD_ARGUMENT when num < 0 or den <= 0
 */
export function roundDiv (num: bigint, den: bigint): bigint {
  if (typeof num !== 'bigint' || typeof den !== 'bigint') throw GrowrError.BAD_ARGUMENT('roundDiv takes bigint operands')
  if (num < 0n) throw GrowrError.BAD_ARGUMENT(`roundDiv dividend must be non-negative, got ${num.toString()}`)
  if (den <= 0n) throw GrowrError.BAD_ARGUMENT(`roundDiv divisor must be positive, got ${den.toString()}`)
  return (2n * num + den) / (2n * den)
}
