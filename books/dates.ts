/**
 * Calendar dates as ISO 8601 `YYYY-MM-DD` strings in UTC, which compare correctly as strings.
 * Pure integer arithmetic through Date.UTC: no local time zone, no clock.
 */

const DAY_MS = 86_400_000
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/

/** @returns true when `s` is a real calendar date in `YYYY-MM-DD` form (no 2026-02-30) */
export function isValidDate (s: string): boolean {
  const m = DATE_RE.exec(s)
  if (!m) return false
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]))
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3]
}

/** @param ts ms since epoch @returns its UTC calendar date */
export function dateOf (ts: number): string {
  return new Date(ts).toISOString().slice(0, 10)
}

/** @param date `YYYY-MM-DD` @param days whole days, may be negative @returns the date `days` later */
export function addDays (date: string, days: number): string {
  return dateOf(Date.parse(date + 'T00:00:00Z') + days * DAY_MS)
}
