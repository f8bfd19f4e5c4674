/**
 * Money entry for forms: people type major units ("1,250.50"), the core wants integer minor
 * units. The exponent of each currency comes from formatMinor in core/services/criteria.ts (ISO
 * 4217, BTC-like assets 8, SAT 0), so the UI and the core can never disagree about it.
 */
import { formatMinor } from '../../core/services/criteria.ts'

/** Digits after the decimal point for `currency`: EUR 2, JPY 0, KWD 3, BTC 8. */
export function exponent (currency: string): number {
  const shown = formatMinor(1, currency.trim().toUpperCase() || 'EUR')
  const m = /\.(\d+) /.exec(shown)
  return m ? m[1].length : 0
}

/**
 * Parses an amount in major units into integer minor units, without floats:
 * ("500", "EUR") -> 50000, ("1,250.5", "EUR") -> 125050, ("1500", "JPY") -> 1500.
 * @returns the amount, or an error sentence saying what is wrong with the text
 */
export function parseMajor (text: string, currency: string): { ok: true; value: number } | { ok: false; error: string } {
  const exp = exponent(currency)
  const s = text.trim().replace(/[,\s_]/g, '')
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s)
  if (!m) return { ok: false, error: `"${text}" is not an amount (use digits and at most one decimal point)` }
  const frac = m[2] ?? ''
  if (frac.length > exp) return { ok: false, error: `${currency} has ${exp} decimal place${exp === 1 ? '' : 's'}: "${text}" has ${frac.length}` }
  const value = Number(BigInt(m[1]) * 10n ** BigInt(exp) + BigInt((frac + '0'.repeat(exp)).slice(0, exp) || '0'))
  if (!Number.isSafeInteger(value)) return { ok: false, error: `"${text}" is too large` }
  return { ok: true, value }
}

/** Minor units as the plain major-unit text a form field shows: (125050, "EUR") -> "1250.50". */
export function toMajorText (minor: number, currency: string): string {
  const exp = exponent(currency)
  const digits = String(Math.abs(minor)).padStart(exp + 1, '0')
  const whole = digits.slice(0, digits.length - exp)
  return (minor < 0 ? '-' : '') + whole + (exp > 0 ? '.' + digits.slice(digits.length - exp) : '')
}

/** Percent text to basis points: "12" -> 1200, "12.5" -> 1250. @returns null when not a number with at most 2 decimals */
export function percentToBps (text: string): number | null {
  const m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(text.trim())
  if (!m) return null
  return Number(m[1]) * 100 + Number(((m[2] ?? '') + '00').slice(0, 2))
}

/** Basis points as percent text for a form field: 1250 -> "12.5". */
export function bpsToPercent (bps: number): string {
  const s = (bps / 100).toFixed(2)
  return s.replace(/\.?0+$/, '')
}

/**
 * Minor units given as a decimal string (capability ads carry amounts as text so they stay exact
 * past 2^53), shown in major units with the currency code and thousands separators, using the
 * same exponent as formatMinor: ("123456789012345678901", "EUR") -> "1,234,567,890,123,456,789.01 EUR".
 * Never throws: text that is not a plain non-negative integer (an ad is untrusted) gives `null`,
 * so the caller can say the amount is unreadable instead of showing a guess.
 */
export function formatMinorText (minor: string, currency: string): string | null {
  if (typeof minor !== 'string' || !/^\d{1,40}$/.test(minor)) return null
  const exp = exponent(currency)
  const digits = BigInt(minor).toString().padStart(exp + 1, '0')
  const whole = digits.slice(0, digits.length - exp).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return whole + (exp > 0 ? '.' + digits.slice(digits.length - exp) : '') + ' ' + currency
}
