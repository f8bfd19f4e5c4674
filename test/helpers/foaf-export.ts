/**
 * A realistic export of the central FOAF/GrowOperative service's database, made by simulating the
 * service's own code (rheos/growoperative-api: Trustline#process_payment!, #settle_payment!,
 * TrustlineTransaction#reverse!, the record_debt / record_receipt adjustments, PendingPayment)
 * with a seeded PRNG, then writing it as MySQL `SELECT ... INTO OUTFILE` or PostgreSQL
 * `\copy ... CSV HEADER` files. Secret columns hold recognisable `SECRET-` values, so a test can
 * grep everything the importer prints or stores for them.
 */
import fs from 'node:fs'
import path from 'node:path'

/** A column value: text (a string column), a number written bare, a boolean, a timestamp, or NULL. */
export type Value = string | { num: string } | boolean | { time: bigint } | null
export type Rec = Record<string, Value>

export interface ExportModel {
  users: Rec[]
  trustlines: Rec[]
  transactions: Rec[]
  pending: Rec[]
}

/** What the generator knows to be true, for the test to compare against. */
export interface ExportTruth {
  /** trustline id -> final balance in cents. */
  balances: Map<string, bigint>
  /** reversal row id -> the row it reverses. */
  reversalOf: Map<string, string>
  deletedUsers: string[]
  disabledUsers: string[]
  /** trustline ids whose final balance sits outside a limit. */
  outsideLimit: string[]
  /** rows with NULL foaf_direction that are payment or adjustment rows (direction inferred). */
  legacyUndirected: number
}

/** sfc32, seeded: the same export every run. */
export function prng (seed: number): () => number {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    const t = (a + b) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    d = (d + 1) | 0
    const r = (t + d) | 0
    c = (c + r) | 0
    return (r >>> 0) / 4294967296
  }
  for (let i = 0; i < 20; i++) next()
  return next
}

export const dec = (cents: bigint): { num: string } => {
  const neg = cents < 0n
  const abs = neg ? -cents : cents
  return { num: `${neg ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}` }
}

const TRICKY_NAMES = [
  'O\'Brien, "Bo"', 'Zoë 🌱 Garden', 'back\\slash\\N', '\\N', '', 'two\nlines', 'tab\there', 'comma, inc.', '"quoted"', 'trailing\\'
]

/**
 * Simulate the service and return its tables plus the truth.
 *
 * @param seed - PRNG seed
 * @param size - users, trustlines, transactions, pending payments (defaults 200, 600, 20 000, 400)
 */
export function generateExport (seed = 13, size = { users: 200, trustlines: 600, transactions: 20_000, pending: 400 }): { model: ExportModel, truth: ExportTruth } {
  const rnd = prng(seed)
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1))
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]
  const t0 = 1_672_531_200_000_000n // 2023-01-01T00:00:00Z in microseconds
  const second = 1_000_000n

  // users
  const users: Rec[] = []
  const userIds: string[] = []
  let uid = 0
  const deleted: string[] = []
  const disabled: string[] = []
  for (let i = 0; i < size.users; i++) {
    uid += int(1, 3)
    const id = String(uid)
    userIds.push(id)
    const del = i % 25 === 7
    const dis = i % 25 === 11 || i === 57
    if (del) deleted.push(id)
    if (dis) disabled.push(id)
    users.push({
      id: { num: id },
      email: `user${id}@example.org`,
      encrypted_password: `$2a$12$SECRET-PWHASH-${id}xxxxxxxxxxxxxxxxxxxxxxxxxxxx`,
      reset_password_token: i % 3 === 0 ? `SECRET-RESETTOKEN-${id}` : null,
      tokens: `{"SECRET-TOKENS-${id}":{"token":"SECRET-AUTH-${id}"}}`,
      current_sign_in_ip: `10.0.${i % 250}.${(i * 7) % 250}`,
      user_name: `user_${id}`,
      display_name: i < TRICKY_NAMES.length ? TRICKY_NAMES[i] : i % 9 === 0 ? null : `Member ${id}`,
      foaf_address: `0x${id.padStart(40, '0')}`,
      foaf_public_key: `04${id.padStart(8, '0')}${'ab'.repeat(28)}`,
      foaf_private_key: `SECRET-PRIVKEY-${id}`,
      foaf_seed_phrase: `SECRET-SEED-${id} abandon abandon ability`,
      foaf_id: `00000000-0000-4000-8000-${id.padStart(12, '0')}`,
      created_at: { time: t0 - 86_400n * second + BigInt(i) * second },
      deleted_at: del ? { time: t0 + 300n * 86_400n * second + BigInt(i) * second } : null,
      disabled_at: dis ? { time: t0 + 200n * 86_400n * second + BigInt(i) * second } : null
    })
  }

  // trustlines
  interface Line { id: string, a: string, b: string, limAB: bigint, limBA: bigint, bal: bigint, active: boolean, rows: Rec[], last: bigint | null }
  const lines: Line[] = []
  const pairs = new Set<string>()
  let tid = 100
  while (lines.length < size.trustlines) {
    const x = pick(userIds)
    const y = pick(userIds)
    if (x === y) continue
    const [a, b] = BigInt(x) < BigInt(y) ? [x, y] : [y, x]
    if (pairs.has(a + '/' + b)) continue
    pairs.add(a + '/' + b)
    tid += int(1, 2)
    lines.push({ id: String(tid), a, b, limAB: BigInt(int(0, 200_000)), limBA: BigInt(int(0, 200_000)), bal: 0n, active: rnd() < 0.9, rows: [], last: null })
  }

  // transactions, in global time order, ids in creation order (as the database assigns them)
  const transactions: Rec[] = []
  const reversalOf = new Map<string, string>()
  let txid = 1000
  let now = t0
  const cutover = t0 + 30n * 86_400n * second // foaf_direction was added here: older rows have NULL
  let legacyUndirected = 0
  const orderIds = ['501', '502', '503', '777', '9001']
  for (let n = 0; n < size.transactions; n++) {
    now += BigInt(int(0, 600)) * second + BigInt(int(0, 999_999))
    const line = pick(lines)
    const legacy = now < cutover
    const r = rnd()
    txid += int(1, 2)
    const id = String(txid)
    const byA = rnd() < 0.5
    const initiator = byA ? line.a : line.b
    const s = byA ? 1n : -1n
    let amount = BigInt(int(1, 30_000))
    let type = 'payment'
    let direction: 'sent' | 'received' | null = null
    let after: bigint
    let orderId: string | null = rnd() < 0.15 ? pick(orderIds) : null
    let description: string | null = pick(['Payment for eggs', 'Settlement, "cash"', 'firewood\nsplit', 'C:\\path\\N', 'tab\tdesc', null])
    let reversedTarget: Rec | null = null

    const available = byA ? line.limAB - (line.bal > 0n ? line.bal : 0n) : line.limBA - (line.bal < 0n ? -line.bal : 0n)
    if (r < 0.08 && line.rows.some((x) => x.is_reversed === false && x.transaction_type !== 'reversal')) {
      // reverse!: balance_after = current - (original.balance_after - current)
      const candidates = line.rows.filter((x) => x.is_reversed === false && x.transaction_type !== 'reversal')
      const orig = pick(candidates)
      type = 'reversal'
      amount = cents((orig.amount as { num: string }).num)
      const origAfter = cents((orig.balance_after as { num: string }).num)
      after = line.bal - (origAfter - line.bal)
      orderId = (orig.order_id as { num: string } | null)?.num ?? null
      description = 'Reversal: Transaction reversed'
      reversedTarget = orig
      reversalOf.set(id, (orig.id as { num: string }).num)
      const initiatedBy = (orig.initiated_by_id as { num: string }).num
      line.bal = after
      push(initiatedBy)
      continue
    } else if (r < 0.50) {
      // process_payment! within capacity, else a settlement the other way
      if (line.active && available >= amount) { direction = 'sent'; after = line.bal + s * amount } else {
        const room = byA ? line.bal + line.limBA : line.limAB - line.bal
        if (room > 0n && amount > room) amount = room
        direction = 'received'; after = line.bal - s * amount
      }
    } else if (r < 0.75) {
      // settle_payment! takes no limit into account; people settle about what they owe
      const room = byA ? line.bal + line.limBA : line.limAB - line.bal
      if (room > 0n && amount > room) amount = room
      direction = 'received'; after = line.bal - s * amount
    } else if (r < 0.85) {
      // record_debt (forced past the limit) or record_receipt, retyped as adjustment
      type = 'adjustment'
      if (rnd() < 0.6) { direction = 'sent'; amount = amount * 3n; after = line.bal + s * amount } else { direction = 'received'; after = line.bal - s * amount }
    } else {
      // an external 'settlement' row: lowers the initiator's debt
      type = 'settlement'
      const room = byA ? line.bal + line.limBA : line.limAB - line.bal
      if (room > 0n && amount > room) amount = room
      direction = rnd() < 0.5 ? 'received' : null
      after = line.bal - s * amount
    }
    if (legacy) {
      if (type !== 'settlement' && direction !== null) legacyUndirected++
      direction = null
    }
    line.bal = after
    push(initiator)

    function push (initiatedBy: string): void {
      const rec: Rec = {
        id: { num: id },
        trustline_id: { num: line.id },
        amount: dec(amount),
        description,
        originating_request_id: null,
        order_id: orderId === null ? null : { num: orderId },
        path_info: rnd() < 0.05 ? `{"path":[${line.a},${line.b}],"note":"a \\"quoted\\" hop, and a comma"}` : null,
        transaction_type: type,
        initiated_by_id: { num: initiatedBy },
        balance_after: dec(line.bal),
        is_reversed: false,
        created_at: { time: now },
        updated_at: { time: now },
        foaf_operation_id: direction && rnd() < 0.5 ? { num: String(int(1, 99999)) } : null,
        foaf_posted_at: legacy ? { time: now } : null,
        foaf_direction: type === 'reversal' ? null : direction
      }
      if (reversedTarget) reversedTarget.is_reversed = true
      line.rows.push(rec)
      line.last = now
      transactions.push(rec)
    }
  }

  // later limit cuts: some limits end below the balance they already carry
  const outside = new Set<string>()
  for (const line of lines) {
    if (rnd() < 0.03 && line.bal > 0n) line.limAB = line.bal / 2n
    if (line.bal > line.limAB || -line.bal > line.limBA) outside.add(line.id)
  }

  const trustlines: Rec[] = lines.map((l) => ({
    id: { num: l.id },
    user_a_id: { num: l.a },
    user_b_id: { num: l.b },
    credit_limit_a_to_b: dec(l.limAB),
    credit_limit_b_to_a: dec(l.limBA),
    current_balance: dec(l.bal),
    is_active: l.active,
    established_date: { time: t0 },
    last_activity: l.last === null ? null : { time: l.last },
    notes: rnd() < 0.1 ? 'terms: "pay by Friday", no interest' : null,
    created_at: { time: t0 },
    updated_at: { time: l.last ?? t0 }
  }))

  // pending payments: every status and kind
  const pending: Rec[] = []
  let pid = 50
  for (let i = 0; i < size.pending; i++) {
    const line = pick(lines)
    pid += 1
    const kind = i % 2
    const status = kind === 1 ? i % 5 : (i >> 1) % 4 // paid_pending_confirmation (4) exists for requests only
    const aFirst = rnd() < 0.5
    const created = t0 + BigInt(int(0, 400)) * 86_400n * second
    pending.push({
      id: { num: String(pid) },
      from_user_id: { num: aFirst ? line.a : line.b },
      to_user_id: { num: aFirst ? line.b : line.a },
      trustline_id: { num: line.id },
      amount: dec(BigInt(int(1, 50_000))),
      description: pick(['cash for eggs', null, 'split, "fair"']),
      status: { num: String(status) },
      rejected_reason: status === 2 ? 'not received,\nsorry' : null,
      confirmed_at: status === 1 ? { time: created + second * 60n } : null,
      resolved_at: status === 1 || status === 2 || status === 3 ? { time: created + second * 120n } : null,
      created_at: { time: created },
      updated_at: { time: created },
      kind: { num: String(kind) },
      paid_at: status === 4 ? { time: created + second } : null
    })
  }

  // the database hands rows back in no particular order
  for (let i = transactions.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [transactions[i], transactions[j]] = [transactions[j], transactions[i]]
  }

  const balances = new Map(lines.map((l) => [l.id, l.bal]))
  return {
    model: { users, trustlines, transactions, pending },
    truth: { balances, reversalOf, deletedUsers: deleted, disabledUsers: disabled, outsideLimit: [...outside], legacyUndirected }
  }
}

function cents (text: string): bigint {
  const neg = text.startsWith('-')
  const [w, f = ''] = (neg ? text.slice(1) : text).split('.')
  const v = BigInt(w) * 100n + BigInt(f.padEnd(2, '0'))
  return neg ? -v : v
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

function stamp (micros: bigint, withFraction: boolean): string {
  const d = new Date(Number(micros / 1000n))
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  if (!withFraction) return base
  const frac = (micros % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '')
  return frac ? `${base}.${frac}` : base // PostgreSQL prints no trailing zeros
}

/** MySQL DATETIME keeps whole seconds: what the export holds, in microseconds. */
export function mysqlSeconds (micros: bigint): bigint { return micros - (micros % 1_000_000n) }

function mysqlField (v: Value): string {
  if (v === null) return '\\N'
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (typeof v === 'string') {
    // ESCAPED BY '\\' prefixes the escape, the enclosure, the first character of each terminator, NUL
    return '"' + v.replace(/[\\",\n\u0000]/g, (c) => c === '\u0000' ? '\\0' : '\\' + c) + '"'
  }
  if ('num' in v) return v.num
  return stamp(v.time, false)
}

function pgField (v: Value, nullMode: 'N' | 'empty'): string {
  if (v === null) return nullMode === 'N' ? '\\N' : ''
  if (typeof v === 'boolean') return v ? 't' : 'f'
  if (typeof v === 'string') {
    const needs = v === '' || v === '\\N' || /[",\n\r]/.test(v) || /^\s|\s$/.test(v)
    return needs ? '"' + v.replace(/"/g, '""') + '"' : v
  }
  if ('num' in v) return v.num
  return stamp(v.time, true)
}

/**
 * Write the model as the export directory the importer reads.
 *
 * @param dir - target directory (created)
 * @param model - the tables
 * @param dialect - 'mysql' (INTO OUTFILE, header as a UNION'd row of quoted names) or 'postgres'
 * @param opts.nullMode - PostgreSQL only: NULL as `\N` (the export) or as an empty field
 *   (PostgreSQL's CSV default)
 */
export function writeExport (dir: string, model: ExportModel, dialect: 'mysql' | 'postgres', opts: { nullMode?: 'N' | 'empty', crlf?: boolean } = {}): void {
  fs.mkdirSync(dir, { recursive: true })
  const eol = opts.crlf ? '\r\n' : '\n'
  const files: Array<[string, Rec[]]> = [['users.csv', model.users], ['trustlines.csv', model.trustlines], ['trustline_transactions.csv', model.transactions], ['pending_payments.csv', model.pending]]
  for (const [name, rows] of files) {
    const cols = Object.keys(rows[0])
    const out: string[] = []
    out.push(cols.map((c) => dialect === 'mysql' ? mysqlField(c) : pgField(c, 'N')).join(','))
    for (const r of rows) out.push(cols.map((c) => dialect === 'mysql' ? mysqlField(r[c]) : pgField(r[c], opts.nullMode ?? 'N')).join(','))
    fs.writeFileSync(path.join(dir, name), out.join(eol) + eol)
  }
}
