/**
 * The importer of the central service's database export: four CSV files (users, trustlines,
 * trustline_transactions, pending_payments), MySQL or PostgreSQL dialect, into one
 * ImportedTrustline per legacy trustline and a reconciliation report. See docs/migration.md.
 *
 * Only named columns are read; every other column (password hashes, tokens, private keys, seed
 * phrases, e-mail, IPs...) is dropped as the row is read and never reaches a result, a report or
 * an error message.
 */
import fs from '#fs'
import path from '#path'
import b4a from 'b4a'
import { GrowrError } from '../../errors.ts'
import { isCurrency } from '../../../books/money.ts'
import { parseExport, type CsvDialect, type CsvField, type CsvTable } from './csv.ts'
import { formatCents, parseDecimal2 } from './decimal.ts'
import { replayTrustline, type LegacyRow } from './reconcile.ts'
import type { ImportedPendingPayment, ImportedTrustline, ImportedUser, ImportNote, ImportReport, LegacyPendingKind, LegacyPendingStatus, LegacyTransactionType } from './types.ts'

/** The export's files, by table. */
export const EXPORT_FILES = {
  users: 'users.csv',
  trustlines: 'trustlines.csv',
  transactions: 'trustline_transactions.csv',
  pending: 'pending_payments.csv'
} as const

const REQUIRED = {
  users: ['id', 'user_name', 'deleted_at', 'disabled_at'],
  trustlines: ['id', 'user_a_id', 'user_b_id', 'credit_limit_a_to_b', 'credit_limit_b_to_a', 'current_balance', 'is_active'],
  transactions: ['id', 'trustline_id', 'amount', 'transaction_type', 'initiated_by_id', 'balance_after', 'is_reversed', 'created_at'],
  pending: ['id', 'from_user_id', 'to_user_id', 'trustline_id', 'amount', 'status', 'created_at']
} as const
// Columns that came later in the service's schema: absent means NULL (or the column's default).
const OPTIONAL = {
  users: ['display_name', 'foaf_id', 'foaf_public_key'],
  trustlines: ['established_date', 'last_activity'],
  transactions: ['description', 'path_info', 'order_id', 'foaf_direction'],
  pending: ['kind', 'rejected_reason', 'resolved_at']
} as const

const TX_TYPES: readonly LegacyTransactionType[] = ['payment', 'settlement', 'adjustment', 'reversal']
const PENDING_STATUS: readonly LegacyPendingStatus[] = ['pending', 'confirmed', 'rejected', 'cancelled', 'paid_pending_confirmation']
const PENDING_KIND: readonly LegacyPendingKind[] = ['payment', 'request']

/** Options of importExport / importTables. */
export interface ImportOptions {
  /** Asset code of the amounts (default 'CAD': the service's SiteConfig default currency). */
  asset?: string
  /** 'mysql', 'postgres', or 'auto' (default): see csv.ts parseExport. */
  dialect?: CsvDialect | 'auto'
}

/** What an import gives. */
export interface ImportResult {
  trustlines: ImportedTrustline[]
  report: ImportReport
}

/**
 * Read an export directory and import it.
 *
 * @param dir - a directory holding users.csv, trustlines.csv, trustline_transactions.csv and
 *   pending_payments.csv (UTF-8, header row first)
 * @param opts - asset code (default 'CAD') and dialect (default 'auto')
 * @returns every trustline and the reconciliation report (see importTables)
 * @throws GrowrError NOT_FOUND naming a missing file; BAD_ARGUMENT for a malformed file, a
 *   missing required column, a malformed value or a broken reference, naming file, line and column
 */
export function importExport (dir: string, opts: ImportOptions = {}): ImportResult {
  const files: Record<string, string> = {}
  for (const name of Object.values(EXPORT_FILES)) {
    const file = path.join(dir, name)
    let bytes: Uint8Array
    try {
      bytes = fs.readFileSync(file)
    } catch {
      throw GrowrError.NOT_FOUND(`the export has no ${name} in ${dir} (one CSV file per table: ${Object.values(EXPORT_FILES).join(', ')})`)
    }
    files[name] = b4a.toString(bytes as Buffer, 'utf8')
  }
  return importTables(files, opts)
}

/**
 * Import an export given as file texts (file name -> UTF-8 text).
 *
 * @param files - the four files' texts, keyed by EXPORT_FILES names
 * @param opts - asset code (default 'CAD') and dialect (default 'auto')
 * @returns one ImportedTrustline per trustlines row (ordered by legacy id), each with its two
 *   users, limits and balance in cents, every transaction row judged by the service's arithmetic
 *   and its pending payments; and the report: counts, reconciled trustlines, every discrepancy
 *   (trustline, row, expected, found) and notes (balances outside limits, deleted or disabled
 *   users, ambiguous reversal pairs)
 * @throws GrowrError BAD_ARGUMENT as importExport
 */
export function importTables (files: Record<string, string>, opts: ImportOptions = {}): ImportResult {
  const asset = opts.asset ?? 'CAD'
  if (!isCurrency(asset)) throw GrowrError.BAD_ARGUMENT(`asset ${JSON.stringify(asset)} is not an asset code (like CAD or USD)`)
  for (const name of Object.values(EXPORT_FILES)) {
    if (typeof files[name] !== 'string') throw GrowrError.NOT_FOUND(`the export has no ${name}`)
  }
  const { dialect, tables } = parseExport(files, opts.dialect ?? 'auto', { file: EXPORT_FILES.trustlines, column: 'is_active' })
  const notes: ImportNote[] = []

  // users
  const users = new Map<string, ImportedUser>()
  for (const r of reader(tables, 'users', notes)) {
    const id = r.id('id')
    if (users.has(id)) r.fail('id', `user ${id} appears twice`)
    const deletedAt = r.time('deleted_at', true)
    const disabledAt = r.time('disabled_at', true)
    users.set(id, {
      legacyId: id,
      userName: r.text('user_name'),
      displayName: r.opt('display_name'),
      foafId: r.opt('foaf_id'),
      foafPublicKey: r.opt('foaf_public_key'),
      deleted: deletedAt !== null,
      deletedAt: deletedAt?.iso ?? null,
      disabled: disabledAt !== null,
      disabledAt: disabledAt?.iso ?? null
    })
  }

  // trustlines
  interface Line { id: string, a: string, b: string, limitAtoB: bigint, limitBtoA: bigint, balance: bigint, active: boolean, established: string | null, last: string | null, rows: LegacyRow[], pending: ImportedPendingPayment[] }
  const lines = new Map<string, Line>()
  const pairs = new Set<string>()
  for (const r of reader(tables, 'trustlines', notes)) {
    const id = r.id('id')
    if (lines.has(id)) r.fail('id', `trustline ${id} appears twice`)
    const a = r.ref('user_a_id', users, 'users')
    const b = r.ref('user_b_id', users, 'users')
    if (!(BigInt(a) < BigInt(b))) r.fail('user_b_id', `user_a_id ${a} is not below user_b_id ${b} (the service keeps user_a_id < user_b_id, which the balance's sign relies on)`)
    if (pairs.has(`${a}/${b}`)) r.fail('user_b_id', `a second trustline between users ${a} and ${b}`)
    pairs.add(`${a}/${b}`)
    const limitAtoB = r.amount('credit_limit_a_to_b')
    const limitBtoA = r.amount('credit_limit_b_to_a')
    if (limitAtoB < 0n) r.fail('credit_limit_a_to_b', 'a credit limit is negative')
    if (limitBtoA < 0n) r.fail('credit_limit_b_to_a', 'a credit limit is negative')
    lines.set(id, {
      id, a, b, limitAtoB, limitBtoA,
      balance: r.amount('current_balance'),
      active: r.bool('is_active'),
      established: r.has('established_date') ? r.time('established_date', true)?.iso ?? null : null,
      last: r.has('last_activity') ? r.time('last_activity', true)?.iso ?? null : null,
      rows: [],
      pending: []
    })
  }

  // trustline_transactions
  const txIds = new Set<string>()
  for (const r of reader(tables, 'transactions', notes)) {
    const id = r.id('id')
    if (txIds.has(id)) r.fail('id', `transaction ${id} appears twice`)
    txIds.add(id)
    const line = lines.get(r.ref('trustline_id', lines, 'trustlines'))!
    const type = r.text('transaction_type')
    if (!TX_TYPES.includes(type as LegacyTransactionType)) r.fail('transaction_type', `${JSON.stringify(type)} is not one of ${TX_TYPES.join(', ')}`)
    const amount = r.amount('amount')
    if (amount <= 0n) r.fail('amount', 'an amount must be above zero (the service refuses others)')
    const dir = r.opt('foaf_direction')
    if (dir !== null && dir !== 'sent' && dir !== 'received') r.fail('foaf_direction', `${JSON.stringify(dir)} is not sent, received or NULL`)
    const created = r.time('created_at', false)!
    line.rows.push({
      legacyId: id,
      id: BigInt(id),
      type: type as LegacyTransactionType,
      amount,
      balanceAfter: r.isNull('balance_after') ? null : r.amount('balance_after'),
      initiatedBy: r.ref('initiated_by_id', users, 'users'),
      direction: dir as 'sent' | 'received' | null,
      reversed: r.bool('is_reversed', false),
      description: r.opt('description'),
      orderId: r.has('order_id') && !r.isNull('order_id') ? r.id('order_id') : null,
      pathInfo: r.opt('path_info'),
      createdAt: created.iso,
      at: created.micros
    })
  }

  // pending_payments
  const pendingIds = new Set<string>()
  for (const r of reader(tables, 'pending', notes)) {
    const id = r.id('id')
    if (pendingIds.has(id)) r.fail('id', `pending payment ${id} appears twice`)
    pendingIds.add(id)
    const line = lines.get(r.ref('trustline_id', lines, 'trustlines'))!
    const from = r.ref('from_user_id', users, 'users')
    const to = r.ref('to_user_id', users, 'users')
    const status = r.int('status', 0, PENDING_STATUS.length - 1)
    const kind = r.has('kind') && !r.isNull('kind') ? r.int('kind', 0, PENDING_KIND.length - 1) : 0
    const amount = r.amount('amount')
    if (amount <= 0n) r.fail('amount', 'an amount must be above zero (the service refuses others)')
    if (!((from === line.a && to === line.b) || (from === line.b && to === line.a))) {
      notes.push({ kind: 'pending-parties', trustlineId: line.id, rowId: id, message: `pending payment ${id} is between users ${from} and ${to}, not the trustline's parties ${line.a} and ${line.b}` })
    }
    const st = PENDING_STATUS[status]
    line.pending.push({
      legacyId: id,
      fromUser: from,
      toUser: to,
      amount,
      status: st,
      kind: PENDING_KIND[kind],
      open: st === 'pending' || st === 'paid_pending_confirmation',
      rejectedReason: r.opt('rejected_reason'),
      createdAt: r.time('created_at', false)!.iso,
      resolvedAt: r.has('resolved_at') ? r.time('resolved_at', true)?.iso ?? null : null
    })
  }

  // replay and assemble
  const report: ImportReport = {
    dialect,
    asset,
    counts: {
      users: users.size,
      deletedUsers: 0,
      disabledUsers: 0,
      trustlines: lines.size,
      activeTrustlines: 0,
      transactions: txIds.size,
      byType: { payment: 0, settlement: 0, adjustment: 0, reversal: 0 },
      reversedRows: 0,
      inferredDirection: 0,
      pendingPayments: pendingIds.size,
      pendingByStatus: { pending: 0, confirmed: 0, rejected: 0, cancelled: 0, paid_pending_confirmation: 0 },
      pendingByKind: { payment: 0, request: 0 }
    },
    reconciled: 0,
    unreconciled: 0,
    discrepancies: [],
    notes
  }
  const partyOf = new Map<string, number>()
  const trustlines: ImportedTrustline[] = []
  for (const line of [...lines.values()].sort((x, y) => cmpId(x.id, y.id))) {
    const replay = replayTrustline(line.id, line.a, line.b, line.rows, line.balance)
    report.discrepancies.push(...replay.discrepancies)
    notes.push(...replay.notes)
    report.counts.inferredDirection += replay.inferred
    for (const h of replay.history) {
      report.counts.byType[h.type]++
      if (h.reversed) report.counts.reversedRows++
    }
    for (const p of line.pending) { report.counts.pendingByStatus[p.status]++; report.counts.pendingByKind[p.kind]++ }
    if (line.active) report.counts.activeTrustlines++
    const reconciled = replay.discrepancies.length === 0
    if (reconciled) report.reconciled++
    else report.unreconciled++
    if (line.balance > line.limitAtoB) {
      notes.push({ kind: 'outside-limit', trustlineId: line.id, message: `user ${line.a} owes ${formatCents(line.balance)} ${asset}, above the limit of ${formatCents(line.limitAtoB)} (a forced debt or a later limit cut: kept as it is)` })
    } else if (-line.balance > line.limitBtoA) {
      notes.push({ kind: 'outside-limit', trustlineId: line.id, message: `user ${line.b} owes ${formatCents(-line.balance)} ${asset}, above the limit of ${formatCents(line.limitBtoA)} (a forced debt or a later limit cut: kept as it is)` })
    }
    if (!line.active && line.balance !== 0n) {
      notes.push({ kind: 'inactive-with-balance', trustlineId: line.id, message: `trustline ${line.id} is inactive with a balance of ${formatCents(line.balance)} ${asset}: it cannot close until that is settled` })
    }
    for (const u of [line.a, line.b]) partyOf.set(u, (partyOf.get(u) ?? 0) + 1)
    line.pending.sort((x, y) => cmpId(x.legacyId, y.legacyId))
    trustlines.push({
      version: 1,
      source: 'growoperative',
      legacyId: line.id,
      asset,
      scale: 2,
      userA: users.get(line.a)!,
      userB: users.get(line.b)!,
      limitAtoB: line.limitAtoB,
      limitBtoA: line.limitBtoA,
      balance: line.balance,
      active: line.active,
      establishedAt: line.established,
      lastActivityAt: line.last,
      history: replay.history,
      pending: line.pending,
      reconciled,
      status: 'imported-unconfirmed'
    })
  }
  for (const u of [...users.values()].sort((x, y) => cmpId(x.legacyId, y.legacyId))) {
    if (u.deleted) report.counts.deletedUsers++
    if (u.disabled) report.counts.disabledUsers++
    const n = partyOf.get(u.legacyId) ?? 0
    if (u.deleted) notes.push({ kind: 'deleted-user', userId: u.legacyId, message: `user ${u.legacyId} (${u.userName}) was deleted at ${u.deletedAt}; kept with ${n} trustline(s), their history intact` })
    if (u.disabled) notes.push({ kind: 'disabled-user', userId: u.legacyId, message: `user ${u.legacyId} (${u.userName}) was disabled at ${u.disabledAt}; kept with ${n} trustline(s), their history intact` })
  }
  return { trustlines, report }
}

function cmpId (x: string, y: string): number {
  const a = BigInt(x)
  const b = BigInt(y)
  return a < b ? -1 : a > b ? 1 : 0
}

/** A row accessor that names the file, line and column in every refusal. */
interface Row {
  has: (col: string) => boolean
  isNull: (col: string) => boolean
  text: (col: string) => string
  opt: (col: string) => string | null
  id: (col: string) => string
  ref: (col: string, within: Map<string, unknown>, table: string) => string
  amount: (col: string) => bigint
  bool: (col: string, nullAs?: boolean) => boolean
  int: (col: string, min: number, max: number) => number
  time: (col: string, nullable: boolean) => { iso: string, micros: bigint } | null
  fail: (col: string, why: string) => never
}

function * reader (tables: Record<string, CsvTable>, table: keyof typeof REQUIRED, notes: ImportNote[]): Generator<Row> {
  const file = EXPORT_FILES[table]
  const t = tables[file]
  const index = new Map<string, number>()
  for (const col of [...REQUIRED[table], ...OPTIONAL[table]]) {
    const at = t.columns.indexOf(col)
    if (at >= 0) index.set(col, at)
    else if ((REQUIRED[table] as readonly string[]).includes(col)) throw GrowrError.BAD_ARGUMENT(`${file}: the required column ${col} is missing from the header`)
    else notes.push({ kind: 'column-absent', message: `${file} has no ${col} column: read as NULL (or its default)` })
  }
  for (const { line, fields } of t.rows) {
    const fail = (col: string, why: string): never => { throw GrowrError.BAD_ARGUMENT(`${file} line ${line}, column ${col}: ${why}`) }
    const get = (col: string): CsvField => { const at = index.get(col); return at === undefined ? null : fields[at] }
    const must = (col: string): string => { const v = get(col); if (v === null) fail(col, 'is NULL'); return v! }
    const row: Row = {
      has: (col) => index.has(col),
      isNull: (col) => get(col) === null,
      text: must,
      opt: get,
      fail,
      id: (col) => {
        const v = must(col)
        if (!/^[1-9]\d{0,18}$/.test(v)) fail(col, `${JSON.stringify(v)} is not a row id`)
        return v
      },
      ref: (col, within, target) => {
        const v = row.id(col)
        if (!within.has(v)) fail(col, `${v} is not an id in ${target}.csv`)
        return v
      },
      amount: (col) => {
        const r = parseDecimal2(must(col))
        if (!r.ok) fail(col, r.reason)
        return (r as { cents: bigint }).cents
      },
      bool: (col, nullAs) => {
        const v = get(col)
        if (v === null && nullAs !== undefined) return nullAs
        if (v === '1' || v === 't' || v === 'true') return true
        if (v === '0' || v === 'f' || v === 'false') return false
        return fail(col, `${JSON.stringify(v)} is not a boolean (1/0, t/f)`)
      },
      int: (col, min, max) => {
        const v = must(col)
        if (!/^\d{1,3}$/.test(v) || Number(v) < min || Number(v) > max) fail(col, `${JSON.stringify(v)} is not a whole number from ${min} to ${max}`)
        return Number(v)
      },
      time: (col, nullable) => {
        const v = get(col)
        if (v === null) { if (nullable) return null; fail(col, 'is NULL') }
        const t = parseTimestamp(v!)
        if (!t) fail(col, `${JSON.stringify(v)} is not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]])`)
        return t
      }
    }
    yield row
  }
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:\s?(Z|UTC|[+-]\d{2}(?::?\d{2})?))?$/

/**
 * Read a SQL timestamp as MySQL (DATETIME, no zone: Rails writes UTC) or PostgreSQL (timestamp,
 * optional fraction and offset) writes it.
 *
 * @param text - e.g. "2024-05-01 12:30:00", "2024-05-01 12:30:00.123456+02"
 * @returns the instant as ISO 8601 UTC with microseconds, and microseconds since the epoch, or
 *   null when the text is not such a timestamp or names an impossible date
 * @throws nothing
 */
export function parseTimestamp (text: string): { iso: string, micros: bigint } | null {
  const m = TIMESTAMP.exec(text)
  if (!m) return null
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number)
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null
  const ms = Date.UTC(y, mo - 1, d, h, mi, s)
  const check = new Date(ms)
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null
  let offsetMin = 0
  const z = m[8]
  if (z && z !== 'Z' && z !== 'UTC') {
    const sign = z[0] === '-' ? -1 : 1
    const digits = z.slice(1).replace(':', '')
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'))
  }
  const micros = (BigInt(ms) - BigInt(offsetMin) * 60_000n) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0'))
  if (micros < 0n) return null // before 1970: not a row this service wrote
  const whole = new Date(Number(micros / 1_000_000n) * 1000).toISOString().slice(0, 19)
  return { iso: `${whole}.${(micros % 1_000_000n).toString().padStart(6, '0')}Z`, micros }
}

/**
 * JSON text of an import result or any part of it: bigint amounts become decimal strings of
 * minor units (cents), so nothing is lost to floats.
 *
 * @param value - an ImportResult, ImportReport, ImportedTrustline[]...
 * @param indent - JSON.stringify's indentation
 * @returns the JSON text
 * @throws nothing for the importer's own values
 */
export function importJson (value: unknown, indent = 2): string {
  return JSON.stringify(value, (_k, v) => typeof v === 'bigint' ? v.toString() : v, indent)
}
