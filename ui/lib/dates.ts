/**
 * Calendar dates as the book keeps them ('YYYY-MM-DD', UTC) and the overdue arithmetic the
 * originator's portfolio shows.
 */
import type { Loan } from '../../books/entities.ts'

/** Today's UTC calendar date, 'YYYY-MM-DD'. */
export function today (now = Date.now()): string {
  return new Date(now).toISOString().slice(0, 10)
}

/** A date `days` after 'YYYY-MM-DD' (negative for before). */
export function addDays (date: string, days: number): string {
  return new Date(Date.parse(date + 'T00:00:00Z') + days * 86_400_000).toISOString().slice(0, 10)
}

/** Whole days from date a to date b ('YYYY-MM-DD'); negative when b is before a. */
export function daysBetween (a: string, b: string): number {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86_400_000)
}

/** A timestamp (ms) as a short local date and time. */
export function when (ms: number | null | undefined): string {
  if (!ms) return ''
  return new Date(ms).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
}

/** Where a disbursed loan stands against its schedule on `on`. */
export interface LoanStanding {
  /** the first instalment not fully paid, or null when all are */
  next: Loan['schedule'][number] | null
  /** what is still owed on `next`, minor units */
  nextDue: number
  /** days `next` is past its due date (0 when not yet due) */
  daysOverdue: number
  /** overdue beyond the project's grace period: the originator may mark a default */
  defaultable: boolean
}

/**
 * The next unpaid instalment of a loan and how late it is, judged like apply judges a default:
 * an instalment overdue for more than `gracePeriod` days.
 * @param gracePeriod the project's grace period in days
 * @param on the date to judge at, 'YYYY-MM-DD' (default today)
 */
export function standing (loan: Loan, gracePeriod: number, on = today()): LoanStanding {
  const next = loan.schedule.find((i) => i.principalPaid + i.interestPaid < i.total) ?? null
  if (!next || loan.status !== 'disbursed') return { next, nextDue: next ? next.total - next.principalPaid - next.interestPaid : 0, daysOverdue: 0, defaultable: false }
  const late = Math.max(0, daysBetween(next.dueDate, on))
  return { next, nextDue: next.total - next.principalPaid - next.interestPaid, daysOverdue: late, defaultable: late > gracePeriod }
}
