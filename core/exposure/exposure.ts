/**
 * A borrower's credit exposure at one originator: per book it originates and per currency, what
 * she owes there. Pure functions over loan records (books/entities.ts); money is bigint minor
 * units in code and decimal strings on the wire (JSON has no bigint), summed per currency and
 * never across currencies.
 *
 * What counts:
 * - loans: her loans whose money is out, `disbursed` or `defaulted` (an approved loan not yet
 *   disbursed owes nothing yet; a repaid one owes nothing more);
 * - outstandingPrincipal: the principal of those loans not yet repaid;
 * - arrears: their instalments with something unpaid whose due date is before `day` (the
 *   answering node's date, UTC): how many, and the amount still unpaid on them (principal and
 *   interest). The project's grace period is not subtracted: arrears are what is late, not what
 *   may already be defaulted;
 * - defaultedLoans: how many of them the originator has defaulted.
 */
import { isCurrency } from '../../books/money.ts'
import type { Loan } from '../../books/entities.ts'
import type { DidKey } from '../identity/did-key.ts'

/** One currency's exposure, exact. */
export interface CurrencyExposure {
  currency: string
  loans: number
  outstandingPrincipal: bigint
  arrearsInstalments: number
  arrearsAmount: bigint
  defaultedLoans: number
}

/** The same on the wire: amounts as decimal strings of whole minor units. */
export interface CurrencyExposureJson {
  currency: string
  loans: number
  outstandingPrincipal: string
  arrearsInstalments: number
  arrearsAmount: string
  defaultedLoans: number
}

/** One book's exposure as an originator reports it. */
export interface BookExposureJson { book: string; name: string; exposure: CurrencyExposureJson[] }

/** What an originator reveals to an asker holding consent (sealed to the asker). Version 1. */
export interface ExposureReport {
  v: 1
  /** the borrower */
  subject: DidKey
  /** the consent's id the answer was given under */
  grant: string
  /** the date arrears were judged at, YYYY-MM-DD (the answering node's clock, UTC) */
  asOf: string
  books: BookExposureJson[]
}

/** Most books one report may list, and currencies per book: what a decoder accepts. */
export const MAX_REPORT_BOOKS = 64
export const MAX_REPORT_CURRENCIES = 16
const DECIMAL = /^(0|[1-9][0-9]{0,30})$/
const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * The borrower's exposure in one set of loans (one book), per currency, sorted by currency.
 * @param loans the book's loan records (any borrower's: others are skipped)
 * @param borrower her DID
 * @param day the date arrears are judged at, 'YYYY-MM-DD'
 * @returns one entry per currency she owes in; [] when she owes nothing there
 */
export function exposureOf (loans: readonly Loan[], borrower: string, day: string): CurrencyExposure[] {
  const by = new Map<string, CurrencyExposure>()
  for (const loan of loans) {
    if (loan.borrower !== borrower || (loan.status !== 'disbursed' && loan.status !== 'defaulted')) continue
    const e = by.get(loan.currency) ?? { currency: loan.currency, loans: 0, outstandingPrincipal: 0n, arrearsInstalments: 0, arrearsAmount: 0n, defaultedLoans: 0 }
    e.loans++
    if (loan.status === 'defaulted') e.defaultedLoans++
    for (const i of loan.schedule) {
      e.outstandingPrincipal += BigInt(i.principal) - BigInt(i.principalPaid)
      const unpaid = BigInt(i.principal) - BigInt(i.principalPaid) + BigInt(i.interest) - BigInt(i.interestPaid)
      if (unpaid > 0n && i.dueDate < day) {
        e.arrearsInstalments++
        e.arrearsAmount += unpaid
      }
    }
    by.set(loan.currency, e)
  }
  return [...by.values()].sort((a, b) => a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0)
}

/**
 * Sums exposures per currency (never across currencies).
 * @returns one entry per currency, sorted by currency
 */
export function combine (parts: Iterable<readonly CurrencyExposure[]>): CurrencyExposure[] {
  const by = new Map<string, CurrencyExposure>()
  for (const list of parts) {
    for (const e of list) {
      const t = by.get(e.currency) ?? { currency: e.currency, loans: 0, outstandingPrincipal: 0n, arrearsInstalments: 0, arrearsAmount: 0n, defaultedLoans: 0 }
      t.loans += e.loans
      t.outstandingPrincipal += e.outstandingPrincipal
      t.arrearsInstalments += e.arrearsInstalments
      t.arrearsAmount += e.arrearsAmount
      t.defaultedLoans += e.defaultedLoans
      by.set(e.currency, t)
    }
  }
  return [...by.values()].sort((a, b) => a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0)
}

/** @returns `e` with its amounts as decimal strings */
export function toJson (e: CurrencyExposure): CurrencyExposureJson {
  return { currency: e.currency, loans: e.loans, outstandingPrincipal: e.outstandingPrincipal.toString(), arrearsInstalments: e.arrearsInstalments, arrearsAmount: e.arrearsAmount.toString(), defaultedLoans: e.defaultedLoans }
}

/** The largest count (loans, instalments) an exposure report may state. */
export const MAX_COUNT = 1_000_000

/**
 * Reads one currency's exposure from untrusted JSON. Never throws.
 * @returns the exact exposure, or why it is not one
 */
export function fromJson (v: unknown): { ok: true; value: CurrencyExposure } | { ok: false; reason: string } {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, reason: 'an exposure is an object' }
  const e = v as Record<string, unknown>
  if (typeof e.currency !== 'string' || !isCurrency(e.currency)) return { ok: false, reason: 'an exposure names its currency by code' }
  for (const k of ['loans', 'arrearsInstalments', 'defaultedLoans']) {
    // capped so that sums across any number of answers stay exact (2^53 / MAX_COUNT reports)
    if (!Number.isSafeInteger(e[k]) || (e[k] as number) < 0 || (e[k] as number) > MAX_COUNT) return { ok: false, reason: `an exposure's ${k} is a whole count of at most ${MAX_COUNT}` }
  }
  for (const k of ['outstandingPrincipal', 'arrearsAmount']) {
    if (typeof e[k] !== 'string' || !DECIMAL.test(e[k] as string)) return { ok: false, reason: `an exposure's ${k} is a decimal string of whole minor units` }
  }
  if ((e.defaultedLoans as number) > (e.loans as number)) return { ok: false, reason: 'an exposure cannot count more defaulted loans than loans' }
  return { ok: true, value: { currency: e.currency, loans: e.loans as number, outstandingPrincipal: BigInt(e.outstandingPrincipal as string), arrearsInstalments: e.arrearsInstalments as number, arrearsAmount: BigInt(e.arrearsAmount as string), defaultedLoans: e.defaultedLoans as number } }
}

/**
 * Checks a decrypted report against the query it answers. Never throws.
 * @param v the report as decrypted (untrusted: the answering node wrote it)
 * @param expect the borrower asked about and the consent's id
 * @returns the report with exact amounts per book, or why it does not hold
 */
export function readReport (v: unknown, expect: { subject: string; grant: string }): { ok: true; asOf: string; books: Array<{ book: string; name: string; exposure: CurrencyExposure[] }> } | { ok: false; reason: string } {
  try {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, reason: 'the report is not an object' }
    const r = v as Partial<ExposureReport>
    if (r.v !== 1) return { ok: false, reason: 'unknown report version' }
    if (r.subject !== expect.subject) return { ok: false, reason: 'the report is about another borrower' }
    if (r.grant !== expect.grant) return { ok: false, reason: 'the report answers under another consent' }
    if (typeof r.asOf !== 'string' || !DATE.test(r.asOf)) return { ok: false, reason: 'the report has no date' }
    if (!Array.isArray(r.books) || r.books.length > MAX_REPORT_BOOKS) return { ok: false, reason: `a report lists at most ${MAX_REPORT_BOOKS} books` }
    const books: Array<{ book: string; name: string; exposure: CurrencyExposure[] }> = []
    const seenBooks = new Set<string>()
    for (const b of r.books) {
      if (b === null || typeof b !== 'object' || typeof b.book !== 'string' || b.book.length > 128 || typeof b.name !== 'string' || b.name.length > 200) return { ok: false, reason: 'a book in the report is malformed' }
      if (seenBooks.has(b.book)) return { ok: false, reason: 'the report lists a book twice' }
      seenBooks.add(b.book)
      if (!Array.isArray(b.exposure) || b.exposure.length > MAX_REPORT_CURRENCIES) return { ok: false, reason: `a book lists at most ${MAX_REPORT_CURRENCIES} currencies` }
      const exposure: CurrencyExposure[] = []
      for (const e of b.exposure) {
        const got = fromJson(e)
        if (!got.ok) return { ok: false, reason: got.reason }
        if (exposure.some((x) => x.currency === got.value.currency)) return { ok: false, reason: 'a book lists a currency twice' }
        exposure.push(got.value)
      }
      books.push({ book: b.book, name: b.name, exposure })
    }
    return { ok: true, asOf: r.asOf, books }
  } catch {
    return { ok: false, reason: 'the report could not be read' }
  }
}
