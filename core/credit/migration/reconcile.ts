/**
 * Replays one legacy trustline's transactions with the central service's own arithmetic
 * (rheos/growoperative-api: Trustline#process_payment!, #settle_payment!,
 * TrustlineTransaction#reverse!) and judges every recorded balance_after and the final
 * current_balance. Pure: no I/O, no clock; it reports, it never fixes.
 */
import { formatCents } from './decimal.ts'
import type { Discrepancy, ImportedHistoryRow, ImportNote, LegacyEffect, LegacyTransactionType } from './types.ts'

/** A transaction row as read from the export, before judging. */
export interface LegacyRow {
  legacyId: string
  /** Numeric id, for ordering ties on created_at. */
  id: bigint
  type: LegacyTransactionType
  amount: bigint
  balanceAfter: bigint | null
  initiatedBy: string
  direction: 'sent' | 'received' | null
  reversed: boolean
  description: string | null
  orderId: string | null
  pathInfo: string | null
  createdAt: string
  /** created_at in microseconds since the epoch, for ordering. */
  at: bigint
}

/** The outcome of replaying one trustline. */
export interface Replay {
  history: ImportedHistoryRow[]
  discrepancies: Discrepancy[]
  notes: ImportNote[]
  /** The balance the service's arithmetic ends on (cents). */
  finalBalance: bigint
  inferred: number
}

/**
 * Order rows as the service wrote them: created_at, then id.
 *
 * @param rows - one trustline's rows, any order
 * @returns a new sorted array
 * @throws nothing
 */
export function serviceOrder (rows: LegacyRow[]): LegacyRow[] {
  return [...rows].sort((x, y) => x.at < y.at ? -1 : x.at > y.at ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0)
}

/**
 * Replay a trustline's rows from a zero opening balance (the service creates every trustline
 * with current_balance 0 and changes it only with a transaction row).
 *
 * Per row, with `b` the balance before it and `s` +1 when user A initiated, -1 when user B did:
 * - direction 'sent' (process_payment!): b + s x amount
 * - direction 'received' (settle_payment!): b - s x amount
 * - payment/adjustment with NULL direction (older rows): either of the two; balance_after decides
 *   (counted as inferred)
 * - settlement with NULL direction: 'received' (a settlement lowers the initiator's debt)
 * - reversal: 2 x b - the original's balance_after, the original being the latest earlier row
 *   marked is_reversed, not yet matched, with the same amount, initiator and order_id, whose
 *   balance_after makes the arithmetic hold (reverse! copies amount, initiator and order and
 *   writes no link column)
 * A row whose recorded balance_after differs is a discrepancy; the replay goes on from the
 * arithmetic's value, so one wrong row is one discrepancy. When the arithmetic has no single value
 * (an undecidable direction that fits neither way, an unknown type or initiator, a reversal with
 * no original) the replay goes on from the recorded value and says so.
 *
 * @param trustlineId - legacy trustline id, for the report
 * @param userA - legacy id of user_a_id
 * @param userB - legacy id of user_b_id
 * @param rows - the trustline's rows (any order; sorted here)
 * @param currentBalance - trustlines.current_balance in cents
 * @returns history (every row kept), discrepancies, notes and the arithmetic's final balance
 * @throws nothing
 */
export function replayTrustline (trustlineId: string, userA: string, userB: string, rows: LegacyRow[], currentBalance: bigint): Replay {
  const ordered = serviceOrder(rows)
  const history: ImportedHistoryRow[] = []
  const discrepancies: Discrepancy[] = []
  const notes: ImportNote[] = []
  let inferred = 0
  let b = 0n
  const matched = new Set<number>() // indexes of reversed rows already paired with a reversal

  const report = (row: LegacyRow, field: Discrepancy['field'], expected: string, found: string, reason: string): void => {
    discrepancies.push({ trustlineId, rowId: row.legacyId, field, expected, found, reason })
  }

  for (let k = 0; k < ordered.length; k++) {
    const row = ordered[k]
    const found = row.balanceAfter
    const h: ImportedHistoryRow = {
      legacyId: row.legacyId,
      type: row.type,
      amount: row.amount,
      balanceAfter: found,
      expectedBalanceAfter: null,
      initiatedBy: row.initiatedBy,
      direction: row.direction,
      effect: null,
      inferred: false,
      reversed: row.reversed,
      reversalOf: null,
      reversedBy: null,
      description: row.description,
      orderId: row.orderId,
      pathInfo: row.pathInfo,
      createdAt: row.createdAt,
      reconciled: false
    }
    history.push(h)
    const foundText = found === null ? 'NULL' : formatCents(found)
    const s = row.initiatedBy === userA ? 1n : row.initiatedBy === userB ? -1n : 0n

    // the balance this row leads to by the service's arithmetic, or null when it has none
    let expected: bigint | null = null
    let effect: LegacyEffect = null

    if (row.type === 'reversal') {
      const candidates: number[] = []
      for (let j = k - 1; j >= 0; j--) {
        const o = ordered[j]
        if (o.reversed && !matched.has(j) && o.amount === row.amount && o.initiatedBy === row.initiatedBy && o.orderId === row.orderId) candidates.push(j)
      }
      const origAfter = (j: number): bigint | null => history[j].expectedBalanceAfter ?? history[j].balanceAfter
      const fitting = candidates.filter((j) => { const a = origAfter(j); return a !== null && found !== null && 2n * b - a === found })
      const pick = fitting.length > 0 ? fitting[0] : candidates.length > 0 ? candidates[0] : -1
      if (pick < 0) {
        report(row, 'reversal', 'an earlier is_reversed row with the same amount, initiator and order', 'none', 'no earlier row marked is_reversed matches this reversal; the replay goes on from the recorded value')
      } else {
        matched.add(pick)
        h.reversalOf = ordered[pick].legacyId
        history[pick].reversedBy = row.legacyId
        const a = origAfter(pick)
        if (a === null) report(row, 'reversal', `a balance_after on the reversed row ${ordered[pick].legacyId}`, 'NULL', 'the reversed row has no balance_after, so the reversal cannot be judged; the replay goes on from the recorded value')
        else { expected = 2n * b - a; effect = 'reversal' }
        if (fitting.length > 1) {
          notes.push({ kind: 'reversal-ambiguous', trustlineId, rowId: row.legacyId, message: `reversal ${row.legacyId} fits rows ${fitting.map((j) => ordered[j].legacyId).join(', ')} alike; matched to the latest, ${ordered[pick].legacyId} (the balances are the same either way)` })
        } else if (fitting.length === 0 && candidates.length > 1) {
          notes.push({ kind: 'reversal-ambiguous', trustlineId, rowId: row.legacyId, message: `reversal ${row.legacyId} fits none of rows ${candidates.map((j) => ordered[j].legacyId).join(', ')}; judged against the latest, ${ordered[pick].legacyId}` })
        }
      }
    } else if (s === 0n) {
      report(row, 'initiated_by_id', `${userA} or ${userB}`, row.initiatedBy, 'the initiator is neither party, so the direction cannot be judged; the replay goes on from the recorded value')
    } else {
      const sent = b + s * row.amount
      const received = b - s * row.amount
      if (row.direction === 'sent') { expected = sent; effect = 'sent' } else if (row.direction === 'received') { expected = received; effect = 'received' } else if (row.type === 'settlement') { expected = received; effect = 'received' } else {
        // older rows carry no direction: the service's own record of the outcome is the only witness
        if (found === sent) { expected = sent; effect = 'sent' } else if (found === received) { expected = received; effect = 'received' }
        if (expected !== null) { h.inferred = true; inferred++ } else {
          report(row, 'balance_after', `${formatCents(sent)} or ${formatCents(received)}`, foundText, `foaf_direction is NULL and balance_after fits neither direction (${formatCents(sent)} if the initiator paid, ${formatCents(received)} if the initiator settled); the replay goes on from the recorded value`)
        }
      }
    }

    h.effect = effect
    h.expectedBalanceAfter = expected
    if (expected !== null) {
      if (found !== expected) {
        report(row, 'balance_after', formatCents(expected), foundText, found === null ? 'balance_after is NULL' : `balance_after differs from the service's arithmetic (${effect})`)
      } else h.reconciled = true
      b = expected
    } else if (found !== null) {
      b = found
    }
  }

  for (let j = 0; j < ordered.length; j++) {
    const o = ordered[j]
    if (o.reversed && !matched.has(j)) {
      discrepancies.push({ trustlineId, rowId: o.legacyId, field: 'is_reversed', expected: 'a later reversal row with the same amount, initiator and order', found: 'none', reason: 'the row is marked is_reversed but no reversal row matches it (reverse! writes both in one transaction)' })
    }
  }
  if (b !== currentBalance) {
    discrepancies.push({ trustlineId, rowId: null, field: 'current_balance', expected: formatCents(b), found: formatCents(currentBalance), reason: ordered.length === 0 ? 'no transactions, yet the balance is not zero' : 'current_balance differs from the replay of its transactions' })
  }
  return { history, discrepancies, notes, finalBalance: b, inferred }
}
