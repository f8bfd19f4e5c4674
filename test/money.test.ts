// @ts-ignore -- brittle ships no type declarations; typed locally below
import brittle from 'brittle'
import fc from 'fast-check'
import { isCurrency, assertMinor, allocate, roundDiv, toSafeNumber } from '../books/money.ts'

/** The slice of brittle's assertion API these tests use. */
interface Assert {
  is (actual: unknown, expected: unknown, message?: string): void
  alike (actual: unknown, expected: unknown, message?: string): void
  ok (value: unknown, message?: string): void
  pass (message?: string): void
  exception (fn: () => unknown, expected?: unknown, message?: string): Promise<void>
}
const test = brittle as (name: string, fn: (t: Assert) => void | Promise<void>) => void

const BAD = { code: 'BAD_ARGUMENT' }

test('isCurrency accepts ISO 4217 and asset codes', (t) => {
  for (const code of ['EUR', 'USD', 'BTC', 'USDT', 'XAU', 'USDC', 'AB123']) t.ok(isCurrency(code), code)
  for (const code of ['eur', 'EU', 'EURO12', '1BTC', 'EU R', '', 'Usd', 'US-D']) t.ok(!isCurrency(code), JSON.stringify(code))
  t.ok(!isCurrency(42 as unknown as string), 'non-string')
})

test('assertMinor accepts non-negative safe integers only', (t) => {
  assertMinor(0, 'amount')
  assertMinor(12345, 'amount')
  assertMinor(Number.MAX_SAFE_INTEGER, 'amount')
  t.pass('valid amounts accepted')
  for (const bad of [-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, '100', 10n, null, undefined]) {
    t.exception(() => assertMinor(bad, 'fee'), BAD, `rejects ${String(bad)}`)
  }
  t.exception(() => assertMinor(-5, 'fee'), /fee/, 'message names the value')
})

test('toSafeNumber refuses values beyond 2^53 - 1', (t) => {
  t.is(toSafeNumber(9007199254740991n, 'x'), Number.MAX_SAFE_INTEGER)
  t.is(toSafeNumber(-12n, 'x'), -12)
  t.exception(() => toSafeNumber(9007199254740992n, 'x'), BAD)
})

test('allocate: worked cases', (t) => {
  t.alike(allocate(100, [1, 1, 1]), [34, 33, 33])
  t.alike(allocate(1001, [70, 30]), [701, 300])
  t.alike(allocate(5, [70, 30]), [4, 1]) // 3.5 / 1.5 -> 3 / 1, remainder 1 to the larger weight
  t.alike(allocate(5, [30, 70]), [1, 4]) // largest weight first, not index order
  t.alike(allocate(10, [1, 2, 2]), [2, 4, 4]) // exact, nothing to hand out
  t.alike(allocate(11, [1, 2, 2]), [2, 5, 4]) // 2.2 / 4.4 / 4.4: tie on weight -> lower index
  t.alike(allocate(7, [0, 1, 1]), [0, 4, 3]) // zero weight gets nothing
  t.alike(allocate(3, [4, 1, 1]), [2, 1, 0]) // 2 / 0.5 / 0.5: exact share is not bumped
  t.alike(allocate(0, [3, 4]), [0, 0])
  t.alike(allocate(100, [5]), [100])
  t.alike(allocate(Number.MAX_SAFE_INTEGER, [1, 1]), [4503599627370496, 4503599627370495]) // BigInt intermediates
})

test('allocate: bad input', (t) => {
  t.exception(() => allocate(100, []), BAD, 'empty weights')
  t.exception(() => allocate(100, [0, 0]), BAD, 'zero total weight')
  t.exception(() => allocate(100, [1, -1, 2]), BAD, 'negative weight')
  t.exception(() => allocate(100, [1.5, 1]), BAD, 'fractional weight')
  t.exception(() => allocate(-1, [1, 1]), BAD, 'negative total')
  t.exception(() => allocate(10.5, [1, 1]), BAD, 'fractional total')
})

test('allocate: property - sums to total, non-negative, within one unit of exact share', (t) => {
  fc.assert(fc.property(
    fc.maxSafeNat(),
    fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 20 }).filter((ws) => ws.some((w) => w > 0)),
    (total, weights) => {
      const shares = allocate(total, weights)
      if (shares.length !== weights.length) return false
      let sum = 0n
      const W = weights.reduce((a, b) => a + BigInt(b), 0n)
      for (let i = 0; i < shares.length; i++) {
        const s = shares[i]
        if (!Number.isSafeInteger(s) || s < 0) return false
        sum += BigInt(s)
        // |s - total * w / W| < 1  <=>  |s * W - total * w| < W  (exact, in BigInt)
        const diff = BigInt(s) * W - BigInt(total) * BigInt(weights[i])
        if (diff >= W || -diff >= W) return false
        if (weights[i] === 0 && s !== 0) return false
      }
      return sum === BigInt(total)
    }
  ), { numRuns: 2000 })
  t.pass('property held')
})

test('roundDiv rounds half up', (t) => {
  t.is(roundDiv(0n, 7n), 0n)
  t.is(roundDiv(10n, 4n), 3n) // 2.5 -> 3
  t.is(roundDiv(9n, 4n), 2n) // 2.25 -> 2
  t.is(roundDiv(11n, 4n), 3n) // 2.75 -> 3
  t.is(roundDiv(1n, 2n), 1n) // 0.5 -> 1
  t.is(roundDiv(1n, 3n), 0n)
  t.is(roundDiv(92115n * 1200n, 120000n), 921n) // 921.15
  t.is(roundDiv(2n ** 80n + 1n, 2n), 2n ** 79n + 1n) // beyond 2^53
  t.exception(() => roundDiv(-1n, 2n), BAD)
  t.exception(() => roundDiv(1n, 0n), BAD)
  t.exception(() => roundDiv(1n, -3n), BAD)
})
