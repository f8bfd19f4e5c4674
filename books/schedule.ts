/**
 * Repayment schedules for a loan: one row per monthly instalment.
 *
 * All amounts are integer minor units (safe-integer numbers); rates are annual
 * basis points (1 bps = 0.01 %, so 1200 bps = 12 %/yr). Internally everything
 * runs on BigInt so no intermediate product can lose precision.
 */
import { GrowrError } from '../core/errors.ts'
import { roundDiv, toSafeNumber } from './money.ts'
import { accept, reject, type Result } from './result.ts'

export type InterestMethod = 'flat' | 'declining-balance'

export interface Instalment {
  /** 1-based instalment number */
  n: number
  /** 'YYYY-MM-DD', = addMonths(startDate, n) */
  dueDate: string
  /** principal repaid by this instalment, minor units */
  principal: number
  /** interest paid by this instalment, minor units */
  interest: number
  /** principal + interest, minor units */
  total: number
}

export interface ScheduleInput {
  /** amount lent, minor units (positive safe integer) */
  principal: number
  /** nominal annual rate in basis points, integer 0..100000 */
  annualRateBps: number
  /** number of monthly instalments, integer 1..600 */
  months: number
  method: InterestMethod
  /** disbursement date 'YYYY-MM-DD'; the first instalment is due one month later */
  startDate: string
}

const METHODS: readonly string[] = ['flat', 'declining-balance']
const MAX_BPS = 100000
const MAX_MONTHS = 600
/** 12 months x 10000 bps: monthly rate r = bps / 120000 */
const MONTHLY_DEN = 120000n

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/

function isLeapYear (y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
}

function daysInMonth (y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
}

function pad (n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** Parse a strict 'YYYY-MM-DD' calendar date; null when malformed or not a real day. */
function parseDate (iso: unknown): { y: number, m: number, d: number } | null {
  if (typeof iso !== 'string') return null
  const match = DATE_RE.exec(iso)
  if (match === null) return null
  const y = Number(match[1])
  const m = Number(match[2])
  const d = Number(match[3])
  if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return null
  return { y, m, d }
}

/**
 * Add calendar months to a date, end-of-month clamped: when the day does not
 * exist in the target month it becomes that month's last day
 * (2026-01-31 + 1 = 2026-02-28, 2028-01-31 + 1 = 2028-02-29). Pure integer
 * arithmetic on the proleptic Gregorian calendar (UTC, no Date objects, no
 * time zones), same rule as java.time LocalDate.plusMonths / date-fns addMonths.
 *
 * @param isoDate - 'YYYY-MM-DD', a real calendar day, year 0000..9999
 * @param months - integer number of months, may be negative or zero
 * @returns the shifted date as 'YYYY-MM-DD'
 * @throws GrowrError BAD_ARGUMENT when the date is malformed or not a real day,
 *   `months` is not a safe integer, or the result leaves years 0000..9999
 */
export function addMonths (isoDate: string, months: number): string {
  const date = parseDate(isoDate)
  if (date === null) throw GrowrError.BAD_ARGUMENT(`date must be a valid 'YYYY-MM-DD' calendar date, got ${String(isoDate)}`)
  if (typeof months !== 'number' || !Number.isSafeInteger(months)) {
    throw GrowrError.BAD_ARGUMENT(`months must be an integer, got ${String(months)}`)
  }
  const index = date.y * 12 + (date.m - 1) + months // months since 0000-01
  const y = Math.floor(index / 12)
  const m = index - y * 12 + 1
  if (y < 0 || y > 9999) throw GrowrError.BAD_ARGUMENT(`date ${isoDate} + ${months} months is outside years 0000..9999`)
  const d = Math.min(date.d, daysInMonth(y, m))
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`
}

function validate (input: ScheduleInput): void {
  if (input === null || typeof input !== 'object') throw GrowrError.BAD_ARGUMENT('schedule input must be an object')
  const { principal, annualRateBps, months, method, startDate } = input
  if (typeof principal !== 'number' || !Number.isSafeInteger(principal) || principal <= 0) {
    throw GrowrError.BAD_ARGUMENT(`principal must be a positive safe integer amount of minor units, got ${String(principal)}`)
  }
  if (typeof annualRateBps !== 'number' || !Number.isInteger(annualRateBps) || annualRateBps < 0 || annualRateBps > MAX_BPS) {
    throw GrowrError.BAD_ARGUMENT(`annualRateBps must be an integer between 0 and ${MAX_BPS}, got ${String(annualRateBps)}`)
  }
  if (typeof months !== 'number' || !Number.isInteger(months) || months < 1 || months > MAX_MONTHS) {
    throw GrowrError.BAD_ARGUMENT(`months must be an integer between 1 and ${MAX_MONTHS}, got ${String(months)}`)
  }
  if (typeof method !== 'string' || !METHODS.includes(method)) {
    throw GrowrError.BAD_ARGUMENT(`method must be one of ${METHODS.join(', ')}, got ${String(method)}`)
  }
  if (parseDate(startDate) === null) {
    throw GrowrError.BAD_ARGUMENT(`startDate must be a valid 'YYYY-MM-DD' calendar date, got ${String(startDate)}`)
  }
}

/**
 * Fixed payment of an annuity (standard amortisation formula, as in a
 * spreadsheet's PMT): A = P·r / (1 − (1+r)^−n) with r = bps / 120000.
 * Computed exactly as the rational P·bps·q^n / (d·(q^n − d^n)) with
 * q = 120000 + bps, d = 120000, then rounded half up. Requires bps > 0.
 */
function annuityPayment (principal: bigint, bps: bigint, months: number): bigint {
  const n = BigInt(months)
  const qn = (MONTHLY_DEN + bps) ** n
  const dn = MONTHLY_DEN ** n
  return roundDiv(principal * bps * qn, MONTHLY_DEN * (qn - dn))
}

/**
 * Build the monthly repayment schedule of a loan.
 *
 * Instalment n (1-based) is due on addMonths(startDate, n).
 *
 * - 'flat' (add-on interest, common in microfinance): total interest =
 *   P × bps × months / 120000 rounded half up to a minor unit; every row pays
 *   floor(totalInterest / months) interest and floor(P / months) principal,
 *   the LAST row absorbs both remainders.
 * - 'declining-balance' (equal instalments / standard annuity): payment A as
 *   in annuityPayment above; each month interest = round half up(balance × bps
 *   / 120000), principal = A − interest (capped at the outstanding balance, which
 *   only matters for tiny loans where rounding A up would otherwise overpay),
 *   balance −= principal; the LAST row's principal is the whole remaining
 *   balance (absorbing rounding) and its interest is computed as usual. At 0 %
 *   the principal is split equally, the last row absorbing the remainder.
 *
 * Rounding is always half up. The principal column sums exactly to P.
 *
 * @param input - { principal: minor units, positive safe integer;
 *   annualRateBps: integer 0..100000; months: integer 1..600;
 *   method: 'flat' | 'declining-balance'; startDate: 'YYYY-MM-DD' }
 * @returns `months` rows { n, dueDate, principal, interest, total } with
 *   amounts in minor units and total = principal + interest
 * @throws GrowrError BAD_ARGUMENT on any invalid input field, or when an
 *   amount of the schedule, or the total owed, would exceed the safe integer range
 */
export function computeSchedule (input: ScheduleInput): Instalment[] {
  validate(input)
  const { months, method, startDate } = input
  const P = BigInt(input.principal)
  const bps = BigInt(input.annualRateBps)
  const n = BigInt(months)
  const rows: Array<{ principal: bigint, interest: bigint }> = []

  if (method === 'flat') {
    const totalInterest = roundDiv(P * bps * n, MONTHLY_DEN)
    const principalEach = P / n
    const interestEach = totalInterest / n
    for (let i = 1; i <= months; i++) {
      if (i < months) rows.push({ principal: principalEach, interest: interestEach })
      else rows.push({ principal: P - principalEach * (n - 1n), interest: totalInterest - interestEach * (n - 1n) })
    }
  } else if (bps === 0n) {
    const principalEach = P / n
    for (let i = 1; i <= months; i++) {
      rows.push({ principal: i < months ? principalEach : P - principalEach * (n - 1n), interest: 0n })
    }
  } else {
    const payment = annuityPayment(P, bps, months)
    let balance = P
    for (let i = 1; i <= months; i++) {
      const interest = roundDiv(balance * bps, MONTHLY_DEN)
      let principal: bigint
      if (i === months) {
        principal = balance
      } else {
        principal = payment - interest // >= 0: rounding is monotone and A > balance × r
        if (principal > balance) principal = balance
      }
      balance -= principal
      rows.push({ principal, interest })
    }
  }

  let owed = 0n
  for (const row of rows) owed += row.principal + row.interest
  if (owed > BigInt(Number.MAX_SAFE_INTEGER)) throw GrowrError.BAD_ARGUMENT(`the loan would owe ${owed} minor units in all, past the largest exact amount`)

  return rows.map((row, i) => ({
    n: i + 1,
    dueDate: addMonths(startDate, i + 1),
    principal: toSafeNumber(row.principal, 'instalment principal'),
    interest: toSafeNumber(row.interest, 'instalment interest'),
    total: toSafeNumber(row.principal + row.interest, 'instalment total')
  }))
}

/**
 * {@link computeSchedule} for apply, which must never throw: the schedule, or the reason there is
 * none (an input out of range, an amount or the total owed past Number.MAX_SAFE_INTEGER, a due
 * date past year 9999).
 */
export function exactSchedule (input: ScheduleInput): Result<Instalment[]> {
  try {
    return accept(computeSchedule(input))
  } catch (err) {
    return reject((err as Error).message)
  }
}
