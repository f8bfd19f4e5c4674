/**
 * What the importer makes of the central service's export (GrowOperative, rheos/growoperative-api):
 * one ImportedTrustline per legacy trustline, with its two users, its limits and balance in
 * integer cents, its whole history and its pending payments, and one ImportReport.
 *
 * Amounts are bigint minor units of `asset` (cents: the service stores decimal(10,2)). Sign
 * convention is the service's: a positive balance means user A (the lower id) owes user B.
 * Nothing secret from the export (password hashes, tokens, private keys, seed phrases, e-mail)
 * is ever carried here.
 */

/** A legacy account, reduced to what the parties need to recognise each other and bind a DID. */
export interface ImportedUser {
  /** users.id, as decimal text. */
  legacyId: string
  userName: string
  displayName: string | null
  /** users.foaf_id (a UUID in the service), null when the export has none. */
  foafId: string | null
  /** users.foaf_public_key as exported (text), null when absent. */
  foafPublicKey: string | null
  /** deleted_at was set: the account is gone from the service, its trustlines' history is kept. */
  deleted: boolean
  deletedAt: string | null
  /** disabled_at was set. */
  disabled: boolean
  disabledAt: string | null
}

/** transaction_type values the service writes (TrustlineTransaction validation). */
export type LegacyTransactionType = 'payment' | 'settlement' | 'adjustment' | 'reversal'

/**
 * How a row moved the balance, by the service's own arithmetic:
 * - 'sent': Trustline#process_payment! (the initiator pays: A -> balance + amount, B -> balance - amount)
 * - 'received': Trustline#settle_payment! (the initiator's debt falls: A -> balance - amount, B -> balance + amount)
 * - 'reversal': TrustlineTransaction#reverse! (balance_after = 2 x balance before - the original's balance_after)
 * - null: it could not be judged (see the report's discrepancies)
 */
export type LegacyEffect = 'sent' | 'received' | 'reversal' | null

/** One trustline_transactions row, kept as history (reversed rows and reversals alike). */
export interface ImportedHistoryRow {
  legacyId: string
  type: LegacyTransactionType
  /** Positive cents (the service refuses amount <= 0). */
  amount: bigint
  /** The recorded balance_after in cents (null when the export has NULL). */
  balanceAfter: bigint | null
  /** The balance_after the service's arithmetic gives from the replay (null when it cannot be judged). */
  expectedBalanceAfter: bigint | null
  /** users.id of initiated_by_id. */
  initiatedBy: string
  /** foaf_direction as exported: 'sent', 'received' or null (older rows). */
  direction: 'sent' | 'received' | null
  /** How the replay read the row; `inferred` when foaf_direction was NULL and balance_after decided. */
  effect: LegacyEffect
  inferred: boolean
  /** is_reversed on this row. */
  reversed: boolean
  /** For a reversal row: the legacy id of the row it reverses, matched by the service's arithmetic. */
  reversalOf: string | null
  /** For a reversed row: the legacy id of the reversal row matched to it. */
  reversedBy: string | null
  description: string | null
  orderId: string | null
  /** path_info (JSON text) as exported, not interpreted. */
  pathInfo: string | null
  /** created_at, normalised to ISO 8601 UTC with microseconds. */
  createdAt: string
  /** Whether this row's recorded balance_after equals the service's arithmetic. */
  reconciled: boolean
}

/** pending_payments.status (enum [:pending, :confirmed, :rejected, :cancelled, :paid_pending_confirmation]). */
export type LegacyPendingStatus = 'pending' | 'confirmed' | 'rejected' | 'cancelled' | 'paid_pending_confirmation'
/** pending_payments.kind (enum [:payment, :request]). */
export type LegacyPendingKind = 'payment' | 'request'

/**
 * One pending_payments row. For kind 'payment', from_user pays to_user; for kind 'request',
 * from_user is the creditor asking to_user (the debtor) to settle in cash. Open rows (pending,
 * paid_pending_confirmation) have not touched the balance; confirmed ones did, through a
 * transaction row.
 */
export interface ImportedPendingPayment {
  legacyId: string
  fromUser: string
  toUser: string
  amount: bigint
  status: LegacyPendingStatus
  kind: LegacyPendingKind
  /** Still waiting on someone: pending or paid_pending_confirmation. */
  open: boolean
  rejectedReason: string | null
  createdAt: string
  resolvedAt: string | null
}

/** A legacy trustline ready to become the opening state of a bilateral trustline. */
export interface ImportedTrustline {
  /** Format version of this record; an unknown version must be refused by readers. */
  version: 1
  source: 'growoperative'
  legacyId: string
  /** Asset code of every amount here (the service's SiteConfig currency, 'CAD' by default). */
  asset: string
  /** Amounts are hundredths of `asset`. */
  scale: 2
  /** The lower user id (user_a_id): a positive balance means this user owes userB. */
  userA: ImportedUser
  userB: ImportedUser
  /** credit_limit_a_to_b: how far A may owe B (the service lets A pay while balance <= this). */
  limitAtoB: bigint
  /** credit_limit_b_to_a: how far B may owe A (balance >= -this). */
  limitBtoA: bigint
  /** current_balance as exported, in cents. */
  balance: bigint
  active: boolean
  establishedAt: string | null
  lastActivityAt: string | null
  /** Every transaction row, in the service's order (created_at, then id). */
  history: ImportedHistoryRow[]
  pending: ImportedPendingPayment[]
  /** True when every row and the final current_balance agree with the service's arithmetic. */
  reconciled: boolean
  /** Imported state is not yet signed by anyone: each party binds its DID and countersigns. */
  status: 'imported-unconfirmed'
}

/** A disagreement between the export and the service's own arithmetic. Never fixed, only reported. */
export interface Discrepancy {
  trustlineId: string
  /** The trustline_transactions id, or null when the trustline's current_balance is at fault. */
  rowId: string | null
  field: 'balance_after' | 'current_balance' | 'reversal' | 'is_reversed' | 'initiated_by_id' | 'transaction_type' | 'foaf_direction'
  /** What the service's arithmetic gives (decimal text, e.g. "-12.50"), or a description. */
  expected: string
  /** What the export holds. */
  found: string
  reason: string
}

/** Something worth knowing that is not a discrepancy. */
export interface ImportNote {
  kind: 'outside-limit' | 'deleted-user' | 'disabled-user' | 'reversal-ambiguous' | 'pending-parties' | 'column-absent' | 'inactive-with-balance'
  trustlineId?: string
  rowId?: string
  userId?: string
  message: string
}

/** The reconciliation report `growr trustline import` prints. */
export interface ImportReport {
  dialect: 'mysql' | 'postgres'
  asset: string
  counts: {
    users: number
    deletedUsers: number
    disabledUsers: number
    trustlines: number
    activeTrustlines: number
    transactions: number
    byType: Record<LegacyTransactionType, number>
    reversedRows: number
    /** Rows with NULL foaf_direction whose direction balance_after decided. */
    inferredDirection: number
    pendingPayments: number
    pendingByStatus: Record<LegacyPendingStatus, number>
    pendingByKind: Record<LegacyPendingKind, number>
  }
  /** Trustlines whose every row and current_balance agree with the service's arithmetic. */
  reconciled: number
  /** Trustlines with at least one discrepancy. */
  unreconciled: number
  discrepancies: Discrepancy[]
  notes: ImportNote[]
}
