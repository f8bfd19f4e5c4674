/**
 * What the originator's screens make of a credit-exposure check and of the query log, as pure
 * functions (no React, no I/O) so tests call them with hostile answers directly.
 *
 * Money: every amount arrives as a decimal string of whole minor units with its currency
 * (app/exposure/handlers.ts); it is shown in major units through formatMinorText, which works on
 * the digits with bigint and is exact at any size. Nothing here goes through a float. Text that is
 * not a plain integer shows as unreadable, never as a guess. Totals are per currency, never across.
 */
import type { CurrencyExposureJson, ExposureCheck, OriginatorExposure, QueryLogEntry, ReceivedConsent } from '../../../app/exposure/handlers.ts'
import { formatMinorText } from '../../lib/money.ts'

const UNREADABLE = 'unreadable amount'

/** One currency's figures in words. */
export interface ExposureFigures {
  currency: string
  /** loans whose money is out */
  loans: number
  /** "1,234.56 EUR" */
  outstanding: string
  arrearsInstalments: number
  /** "123.45 EUR" */
  arrearsAmount: string
  /** "none" or "2 instalments, 123.45 EUR" */
  arrears: string
  defaultedLoans: number
  /** the exact minor units, for whoever needs the digits (data-value) */
  raw: { outstandingPrincipal: string; arrearsAmount: string }
}

/**
 * @param e one currency's exposure as the core returns it (already checked by the core, but
 *   shown defensively: a count that is not a whole number reads as 0 and is flagged by the text)
 */
export function figures (e: CurrencyExposureJson): ExposureFigures {
  const currency = typeof e.currency === 'string' ? e.currency : '?'
  const money = (v: unknown) => (typeof v === 'string' ? formatMinorText(v, currency) : null) ?? UNREADABLE
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0 ? v as number : 0
  const n = count(e.arrearsInstalments)
  const arrearsAmount = money(e.arrearsAmount)
  return {
    currency,
    loans: count(e.loans),
    outstanding: money(e.outstandingPrincipal),
    arrearsInstalments: n,
    arrearsAmount,
    arrears: n === 0 && e.arrearsAmount === '0' ? 'none' : `${n} instalment${n === 1 ? '' : 's'}, ${arrearsAmount}`,
    defaultedLoans: count(e.defaultedLoans),
    raw: { outstandingPrincipal: String(e.outstandingPrincipal), arrearsAmount: String(e.arrearsAmount) }
  }
}

/** "1 loan in EUR, 1 defaulted; 2 loans in BTC", or "none" for no figures. */
export function loansText (list: readonly ExposureFigures[]): string {
  if (list.length === 0) return 'none'
  return list.map((f) => `${f.loans} loan${f.loans === 1 ? '' : 's'} in ${f.currency}${f.defaultedLoans ? `, ${f.defaultedLoans} defaulted` : ''}`).join('; ')
}

/** An answer's status in words, and the badge tone. */
export const STATUS_WORDS: Record<OriginatorExposure['status'] | 'own', { label: string; tone: 'good' | 'warn' | 'bad' | 'info' | 'plain' }> = {
  own: { label: 'your books', tone: 'info' },
  exposure: { label: 'answered', tone: 'good' },
  'no-consent': { label: 'no consent', tone: 'warn' },
  failed: { label: 'failed', tone: 'bad' },
  pending: { label: 'no answer', tone: 'warn' }
}

/** One row of the check's table: an originator asked, or this node's own books. */
export interface ExposureRow {
  key: string
  did: string
  /** the organization as the directory names it (its certificate's name when certified) */
  organization: string
  /** null for this node's own row */
  certified: boolean | null
  status: OriginatorExposure['status'] | 'own'
  /** per currency; null when the answer carries no figures (no consent, failed, no answer) */
  figures: ExposureFigures[] | null
  /** why there are no figures, in words (null when there are) */
  note: string | null
  /** the date arrears were judged at */
  asOf: string | null
}

/**
 * The check's rows: this node's own books first, then the originators that answered with their
 * exposure, then the others. A "no consent" row never carries figures, whatever the answer held.
 */
export function exposureRows (check: ExposureCheck): ExposureRow[] {
  const rows: ExposureRow[] = [{
    key: 'own',
    did: check.own.did,
    organization: 'this node',
    certified: null,
    status: 'own',
    figures: check.own.totals.map(figures),
    note: null,
    asOf: check.own.asOf
  }]
  const order = { exposure: 0, 'no-consent': 1, failed: 2, pending: 3 } as const
  const others = [...check.originators].sort((a, b) => (order[a.status] ?? 4) - (order[b.status] ?? 4) || organizationName(a.organization).localeCompare(organizationName(b.organization)))
  for (const o of others) {
    const answered = o.status === 'exposure'
    rows.push({
      key: o.did,
      did: o.did,
      organization: organizationName(o.organization),
      certified: o.certified === true,
      status: o.status,
      figures: answered ? o.totals.map(figures) : null,
      note: answered ? null : noteFor(o),
      asOf: answered ? o.asOf : null
    })
  }
  return rows
}

function noteFor (o: OriginatorExposure): string {
  if (o.status === 'no-consent') return 'No consent: it holds no valid consent from her for you (revoked, expired or never given to it), and said nothing else.'
  if (o.status === 'pending') return 'No answer before the deadline.'
  return o.reason ? `Failed: ${o.reason}` : 'Failed, no reason given.'
}

/** A blank organization is said in words. */
export function organizationName (organization: unknown): string {
  const name = typeof organization === 'string' ? organization.replace(/\s+/g, ' ').trim() : ''
  return name || 'no organization name given'
}

/** The check's header in words: who answered, and whether the quorum was met. */
export function checkSummary (check: ExposureCheck): string {
  const q = check.quorum.needed > 0 ? `; ${check.quorum.met ? 'quorum met' : 'quorum NOT met'} (${check.quorum.needed} needed)` : ''
  if (check.asked === 0) return 'No other certified originator is known on the network: only your own books were counted.'
  return `${check.answered} of ${check.asked} certified originator${check.asked === 1 ? '' : 's'} answered with figures${q}.`
}

/**
 * Whether this node holds a consent from `borrower` it may ask with now: one she gave it whose
 * dates hold. A revocation is not known here (`consent.list` does not say): the check itself
 * refuses a revoked consent, and the screen says so.
 */
export function heldConsent (received: readonly ReceivedConsent[] | undefined, borrower: string, now = Date.now()): ReceivedConsent | null {
  let best: ReceivedConsent | null = null
  for (const r of received ?? []) {
    if (r.from !== borrower) continue
    const from = Date.parse(r.validFrom)
    const until = Date.parse(r.validUntil)
    if (!Number.isFinite(until) || until <= now || (Number.isFinite(from) && from > now + 60_000)) continue
    if (!best || until > Date.parse(best.validUntil)) best = r
  }
  return best
}

/** One log entry in words. */
export interface LogRow {
  key: string
  at: number
  asker: string
  subject: string | null
  purpose: string
  outcome: QueryLogEntry['outcome']
  /** "answered" | "no consent" | "refused" */
  outcomeLabel: string
  tone: 'good' | 'warn' | 'bad'
  reason: string
}

/** The query log's entries, as the card lists them (newest first, as the core returns them). */
export function logRows (entries: readonly QueryLogEntry[]): LogRow[] {
  return entries.map((e, i) => ({
    key: `${e.at}-${i}`,
    at: e.at,
    asker: e.asker,
    subject: e.subject,
    purpose: e.purpose ?? 'no purpose given',
    outcome: e.outcome,
    outcomeLabel: e.outcome === 'no-consent' ? 'no consent' : e.outcome,
    tone: e.outcome === 'answered' ? 'good' : e.outcome === 'no-consent' ? 'warn' : 'bad',
    reason: e.reason ?? (e.outcome === 'answered' ? 'her consent held: the exposure was sent, sealed to the asker' : '')
  }))
}
