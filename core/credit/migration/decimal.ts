/**
 * SQL decimal(10,2) text <-> exact integer cents. Floats never touch an amount: the text is read
 * digit by digit into a bigint.
 */

const DECIMAL_10_2 = /^(-?)(\d{1,8})(?:\.(\d{1,2}))?$/

/**
 * Read a decimal(10,2) value as the database writes it ("12", "12.5", "-0.50") into cents.
 *
 * @param text - the field's text
 * @returns { ok: true, cents } (a bigint: "12.5" -> 1250n), or { ok: false, reason } in plain
 *   words when the text is not a decimal(10,2): more than 2 decimals, more than 8 integer digits,
 *   exponents, signs other than a leading '-', spaces, empty
 * @throws nothing
 */
export function parseDecimal2 (text: string): { ok: true, cents: bigint } | { ok: false, reason: string } {
  if (typeof text !== 'string') return { ok: false, reason: 'not text' }
  const m = DECIMAL_10_2.exec(text)
  if (!m) {
    if (/^-?\d+\.\d{3,}$/.test(text)) return { ok: false, reason: `${text} has more than 2 decimals` }
    if (/^-?\d{9,}(\.\d*)?$/.test(text)) return { ok: false, reason: `${text} has more than 8 integer digits (decimal(10,2))` }
    return { ok: false, reason: `${JSON.stringify(text)} is not a decimal(10,2) amount` }
  }
  const cents = BigInt(m[2]) * 100n + BigInt((m[3] ?? '').padEnd(2, '0'))
  return { ok: true, cents: m[1] === '-' ? -cents : cents }
}

/**
 * Write cents as decimal text with exactly two decimals: 1250n -> "12.50", -5n -> "-0.05".
 *
 * @param cents - an integer amount of hundredths
 * @returns the decimal text
 * @throws nothing
 */
export function formatCents (cents: bigint): string {
  const neg = cents < 0n
  const abs = neg ? -cents : cents
  const whole = abs / 100n
  const frac = (abs % 100n).toString().padStart(2, '0')
  return `${neg ? '-' : ''}${whole.toString()}.${frac}`
}
