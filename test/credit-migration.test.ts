// Migration from the central service: its CSV export (MySQL or PostgreSQL) into imported
// trustlines, judged by the service's own arithmetic, with every discrepancy reported exactly.
import test from 'brittle'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import path from 'node:path'
import { generateExport, writeExport, dec, type ExportModel, type Rec } from './helpers/foaf-export.ts'
import { parseCsv, parseExport } from '../core/credit/migration/csv.ts'
import { parseDecimal2, formatCents } from '../core/credit/migration/decimal.ts'
import { importExport, importJson, parseTimestamp } from '../core/credit/migration/importer.ts'
import { replayTrustline, type LegacyRow } from '../core/credit/migration/reconcile.ts'
import { openingTerms } from '../core/credit/migration/opening.ts'
import { genesis } from '../books/trustline/machine.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { seed, tmpDir } from './helpers/net.ts'

const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))

function growr (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

const SECRETS = /SECRET-|\$2a\$12\$|@example\.org|10\.0\.\d+\.\d+/

// one generated export for the whole file: the simulation is deterministic (seeded)
const { model, truth } = generateExport(13)
const num = (v: unknown): string => (v as { num: string }).num

test('credit migration - csv: MySQL escapes and PostgreSQL quoting read exactly', (t) => {
  const my = parseCsv('"id","name","note"\r\n1,"a\\"b\\\\c\\,d\\\ne\\tf\\0","\\N"\n2,\\N,""\n', 'mysql', 'x.csv')
  t.alike(my.columns, ['id', 'name', 'note'])
  t.alike(my.rows[0].fields, ['1', 'a"b\\c,d\ne\tf\u0000', 'N'], 'escapes: \\" \\\\ \\, backslash-newline \\t \\0; a quoted \\N is the escape of N')
  t.alike(my.rows[1].fields, ['2', null, ''], '\\N is NULL, "" is an empty string')
  t.is(my.rows[1].line, 4, 'a record after an escaped newline starts on the right line')

  const pg = parseCsv('id,name,note\n1,"a ""b"" C:\\temp\nx",\\N\n2,,""\n3,"\\N",\n', 'postgres', 'x.csv')
  t.alike(pg.rows[0].fields, ['1', 'a "b" C:\\temp\nx', null], 'doubled quotes, a literal backslash, a newline inside quotes; unquoted \\N is NULL')
  t.alike(pg.rows[1].fields, ['2', null, ''], 'an unquoted empty field is NULL (PostgreSQL\'s default), a quoted one is empty text')
  t.alike(pg.rows[2].fields, ['3', '\\N', null], 'a quoted "\\N" is the text \\N')

  for (const [text, dialect, why] of [
    ['a,b\n1,"open\n', 'postgres', /never closed/],
    ['a,b\n1,"x"y\n', 'postgres', /text follows a closing quote/],
    ['a,b\n1,x"y\n', 'mysql', /quote inside an unquoted field/],
    ['a,b\n1\n', 'mysql', /1 fields, the header 2/],
    ['a,a\n1,2\n', 'postgres', /appears twice/],
    ['', 'mysql', /empty/],
    ['a,b\n1,x\\', 'mysql', /inside an escape/]
  ] as const) {
    try {
      parseCsv(text, dialect, 'bad.csv')
      t.fail('accepted: ' + JSON.stringify(text))
    } catch (err) {
      t.is((err as { code: string }).code, 'BAD_ARGUMENT')
      t.ok(why.test((err as Error).message) && /bad\.csv line \d/.test((err as Error).message), (err as Error).message)
    }
  }

  // detection: a MySQL-escaped quote cannot be PostgreSQL; a doubled quote with a \t reads two ways
  t.is(parseExport({ 'f.csv': 'a\n"x\\"y"\n' }, 'auto').dialect, 'mysql')
  t.is(parseExport({ 'f.csv': 'a\nplain\n' }, 'auto').dialect, 'postgres', 'both read it alike: either is right')
  t.exception(() => parseExport({ 'f.csv': 'a\n"C:\\temp"\n' }, 'auto'), /pass the dialect/, 'read two ways and nothing to tell them apart: refused, not guessed')
  t.is(parseExport({ 'trustlines.csv': 'is_active,n\nt,"C:\\temp"\n' }, 'auto', { file: 'trustlines.csv', column: 'is_active' }).dialect, 'postgres', 'booleans t/f tell PostgreSQL')
})

test('credit migration - decimal(10,2) parsed exactly into cents, malformed refused', (t) => {
  const ok: Array<[string, bigint, string]> = [['0', 0n, '0.00'], ['12', 1200n, '12.00'], ['12.5', 1250n, '12.50'], ['12.05', 1205n, '12.05'], ['-0.01', -1n, '-0.01'], ['99999999.99', 9_999_999_999n, '99999999.99'], ['0.10', 10n, '0.10']]
  for (const [text, cents, back] of ok) {
    const r = parseDecimal2(text)
    t.ok(r.ok && r.cents === cents, `${text} -> ${cents}`)
    t.is(formatCents(cents), back, 'and back')
  }
  t.is(formatCents(-5n), '-0.05')
  for (const bad of ['12.345', '1e3', '0x10', '+1', '.5', '5.', '', ' 1', '1 ', '123456789.00', '1,5', 'NaN']) {
    const r = parseDecimal2(bad)
    t.ok(!r.ok && r.reason.length > 0, `${JSON.stringify(bad)}: ${r.ok ? 'accepted' : r.reason}`)
  }
  t.ok(/more than 2 decimals/.test((parseDecimal2('0.001') as { reason: string }).reason))

  t.is(parseTimestamp('2024-02-29 23:59:59')?.iso, '2024-02-29T23:59:59.000000Z')
  t.is(parseTimestamp('2024-03-01 01:00:00.5+02')?.iso, '2024-02-29T23:00:00.500000Z', 'an offset is applied')
  t.is(parseTimestamp('2023-02-29 00:00:00'), null, 'no such day')
  t.is(parseTimestamp('yesterday'), null)
})

test('credit migration - the service\'s arithmetic: directions, the reversal quirk, no guessing', (t) => {
  const row = (id: number, type: LegacyRow['type'], amount: bigint, after: bigint | null, by: string, direction: LegacyRow['direction'] = null, reversed = false): LegacyRow => ({
    legacyId: String(id), id: BigInt(id), type, amount, balanceAfter: after, initiatedBy: by, direction, reversed, description: null, orderId: null, pathInfo: null, createdAt: '', at: BigInt(id)
  })
  // A=1 pays 100 (balance 100), B=2 pays 30 (70), then 1000 reverses with the quirk:
  // 2 x 70 - 100 = 40, not the idealised 70 - 100 = -30
  const rows = [row(1, 'payment', 100n, 100n, '1', 'sent', true), row(2, 'payment', 30n, 70n, '2', null), row(3, 'reversal', 100n, 40n, '1'), row(4, 'settlement', 15n, 25n, '1')]
  const r = replayTrustline('9', '1', '2', rows.reverse(), 25n)
  t.alike(r.discrepancies, [], 'judged by the service\'s own arithmetic, the history reconciles')
  t.is(r.history.map((h) => h.legacyId).join(','), '1,2,3,4', 'replayed in created_at then id order')
  t.is(r.history[2].reversalOf, '1')
  t.is(r.history[0].reversedBy, '3')
  t.ok(r.history[1].inferred && r.history[1].effect === 'sent', 'a NULL direction is read from balance_after')

  const idealised = replayTrustline('9', '1', '2', [row(1, 'payment', 100n, 100n, '1', 'sent', true), row(2, 'payment', 30n, 70n, '2', null), row(3, 'reversal', 100n, -30n, '1')], -30n)
  t.alike(idealised.discrepancies.map((d) => [d.rowId, d.field, d.expected, d.found]), [['3', 'balance_after', '0.40', '-0.30'], [null, 'current_balance', '0.40', '-0.30']], 'an idealised reversal is not what the service wrote: reported')

  const neither = replayTrustline('9', '1', '2', [row(1, 'payment', 100n, 55n, '1')], 55n)
  t.alike(neither.discrepancies.map((d) => [d.rowId, d.expected, d.found]), [['1', '1.00 or -1.00', '0.55']], 'no direction fits: both candidates are named, nothing is picked')

  const orphan = replayTrustline('9', '1', '2', [row(1, 'payment', 100n, 100n, '1', 'sent', true)], 100n)
  t.alike(orphan.discrepancies.map((d) => d.field), ['is_reversed'], 'a row marked reversed with no reversal row is reported')
  const stranger = replayTrustline('9', '1', '2', [row(1, 'payment', 100n, 100n, '7', 'sent')], 100n)
  t.alike(stranger.discrepancies.map((d) => d.field), ['initiated_by_id'], 'an initiator who is neither party is reported')
})

test('credit migration - 200 users, 600 trustlines, 20 000 transactions reconcile in both dialects', { timeout: 60_000 }, async (t) => {
  const root = tmpDir(t, 'growr-migration-')
  const results = []
  for (const [name, dialect, opts] of [['mysql', 'mysql', {}], ['pg', 'postgres', {}], ['pg-empty-null', 'postgres', { nullMode: 'empty', crlf: true }]] as const) {
    const dir = path.join(root, name)
    writeExport(dir, model, dialect, opts)
    const r = importExport(dir)
    t.is(r.report.dialect, dialect, `${name}: dialect detected`)
    t.alike(r.report.discrepancies, [], `${name}: no discrepancy`)
    t.is(r.report.reconciled, 600)
    results.push(r)
  }
  const { trustlines, report } = results[0]
  const c = report.counts
  t.alike([c.users, c.trustlines, c.transactions, c.pendingPayments], [200, 600, 20_000, 400], 'every row read')
  t.ok(c.byType.reversal > 1000 && c.byType.settlement > 0 && c.byType.adjustment > 0 && c.byType.payment > 0, JSON.stringify(c.byType))
  t.is(c.reversedRows, c.byType.reversal, 'every reversal paired with one reversed row')
  t.is(c.inferredDirection, truth.legacyUndirected, 'older rows without foaf_direction: direction read from balance_after')
  t.ok(Object.values(c.pendingByStatus).every((n) => n > 0) && Object.values(c.pendingByKind).every((n) => n > 0), 'pending payments of every status and kind')

  let balances = 0
  let links = 0
  let rows = 0
  for (const line of trustlines) {
    if (line.balance === truth.balances.get(line.legacyId)) balances++
    for (const h of line.history) {
      rows++
      if (h.type === 'reversal' && h.reversalOf === truth.reversalOf.get(h.legacyId)) links++
    }
    t.is(line.status, 'imported-unconfirmed')
  }
  t.is(balances, 600, 'every balance is the simulated service\'s')
  t.is(rows, 20_000, 'every row kept as history, reversed ones and reversals alike')
  t.is(links, truth.reversalOf.size, 'every reversal matched to the row it reverses, with no link column')

  const flagged = (kind: 'deleted' | 'disabled'): string[] => [...new Set(trustlines.flatMap((l) => [l.userA, l.userB]).filter((u) => u[kind]).map((u) => u.legacyId))].sort()
  const parties = new Set(trustlines.flatMap((l) => [l.userA.legacyId, l.userB.legacyId]))
  t.alike(flagged('deleted'), truth.deletedUsers.filter((u) => parties.has(u)).sort(), 'deleted users kept and flagged')
  t.alike(flagged('disabled'), truth.disabledUsers.filter((u) => parties.has(u)).sort(), 'disabled users kept and flagged')
  t.is(report.counts.deletedUsers, truth.deletedUsers.length)
  t.alike(report.notes.filter((n) => n.kind === 'outside-limit').map((n) => n.trustlineId).sort(), [...truth.outsideLimit].sort(), 'balances outside the limits are notes, not discrepancies')

  // the dialects differ only in timestamp precision (MySQL DATETIME keeps seconds)
  const shape = (x: unknown): string => importJson(x, 0).replace(/"(createdAt|deletedAt|disabledAt|establishedAt|lastActivityAt|resolvedAt)":"[^"]*"/g, '"$1":""')
  t.is(shape(results[1].trustlines), shape(trustlines), 'MySQL and PostgreSQL exports import to the same trustlines')
  t.is(shape(results[2].trustlines), shape(trustlines), 'PostgreSQL with empty NULLs and CRLF too')
  t.alike(results[1].report.notes, report.notes)

  // the opening state of the bilateral machine (books/trustline), once both parties bound a DID
  const line = trustlines.find((l) => l.balance > 0n && l.limitAtoB !== l.limitBtoA)!
  const x = publicKeyToDid(generateKeyPair(seed(1)).publicKey)
  const y = publicKeyToDid(generateKeyPair(seed(2)).publicKey)
  const [low, high] = x < y ? [x, y] : [y, x]
  const straight = genesis(openingTerms(line, { userA: low, userB: high }, 1_700_000_000_000))
  t.alike([straight.a, straight.balance, straight.limitAtoB, straight.limitBtoA, straight.status], [low, line.balance, line.limitAtoB, line.limitBtoA, 'unconfirmed'])
  const swapped = genesis(openingTerms(line, { userA: high, userB: low }, 1_700_000_000_000))
  t.alike([swapped.a, swapped.balance, swapped.limitAtoB, swapped.limitBtoA, swapped.status], [low, -line.balance, line.limitBtoA, line.limitAtoB, 'unconfirmed'], 'legacy A bound to the DID that sorts second: sides swap, who owes whom is unchanged')
})

test('credit migration - corrupted rows are reported exactly and nothing else', { timeout: 60_000 }, async (t) => {
  const copy: ExportModel = structuredClone(model)
  const tx = copy.transactions
  const reversedIds = new Set(tx.filter((r) => r.is_reversed === true).map((r) => num(r.id)))
  // a directed payment nobody reversed; a reversal row; a trustline's current_balance
  const payment = tx.find((r) => r.transaction_type === 'payment' && r.foaf_direction !== null && !reversedIds.has(num(r.id)))!
  const reversal = tx.find((r) => r.transaction_type === 'reversal' && num(r.trustline_id) !== num(payment.trustline_id))!
  const line = copy.trustlines.find((l) => num(l.id) !== num(payment.trustline_id) && num(l.id) !== num(reversal.trustline_id))!
  const shift = (rec: Rec, col: string, by: bigint): [string, string] => {
    const before = num(rec[col])
    const [w, f] = before.replace('-', '').split('.')
    const cents = (BigInt(w) * 100n + BigInt(f)) * (before.startsWith('-') ? -1n : 1n)
    rec[col] = dec(cents + by)
    return [before, num(rec[col])]
  }
  const [pExpected, pFound] = shift(payment, 'balance_after', 100n)
  const [rExpected, rFound] = shift(reversal, 'balance_after', -1n)
  const [lExpected, lFound] = shift(line, 'current_balance', 5n)

  const dir = tmpDir(t, 'growr-migration-bad-')
  writeExport(dir, copy, 'postgres')
  const { report } = importExport(dir)
  const got = report.discrepancies.map((d) => [d.trustlineId, d.rowId, d.field, d.expected, d.found]).sort()
  const want = [
    [num(payment.trustline_id), num(payment.id), 'balance_after', pExpected, pFound],
    [num(reversal.trustline_id), num(reversal.id), 'balance_after', rExpected, rFound],
    [num(line.id), null, 'current_balance', lExpected, lFound]
  ].sort()
  t.alike(got, want, 'each corruption once, with the expected and found values, and nothing else')
  t.is(report.reconciled, 597)
  t.is(report.unreconciled, 3)
})

test('credit migration - growr trustline import DIR --json end to end; no secret printed or stored', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t, 'growr-migration-cli-')
  const exportDir = path.join(dir, 'export')
  writeExport(exportDir, model, 'mysql')
  t.ok(SECRETS.test(fs.readFileSync(path.join(exportDir, 'users.csv'), 'utf8')), 'the export does hold secrets (password hashes, tokens, private keys, seed phrases)')

  const out = path.join(dir, 'imported.json')
  const json = await growr(['--json', 'trustline', 'import', exportDir, '--out', out])
  t.is(json.code, 0, json.stderr)
  const report = JSON.parse(json.stdout)
  t.is(report.dialect, 'mysql')
  t.is(report.reconciled, 600)
  t.alike(report.discrepancies, [])
  t.is(report.counts.transactions, 20_000)
  const stored = fs.readFileSync(out, 'utf8')
  t.is(JSON.parse(stored).length, 600, 'every imported trustline written')
  t.is(fs.statSync(out).mode & 0o777, 0o600)

  const human = await growr(['trustline', 'import', exportDir, '--dialect', 'mysql', '--asset', 'CAD'])
  t.is(human.code, 0, human.stderr)
  t.ok(/reconciled 600 of 600 trustlines; 0 discrepancies/.test(human.stdout), human.stdout)

  for (const [what, text] of [['--json output', json.stdout + json.stderr], ['stored trustlines', stored], ['human output', human.stdout + human.stderr]]) {
    t.absent(SECRETS.exec(text), `no secret in the ${what}`)
  }

  // an export with a wrong current_balance: listed, exit 1
  const bad = structuredClone(model)
  bad.trustlines[3].current_balance = dec(123n)
  const badDir = path.join(dir, 'bad')
  writeExport(badDir, bad, 'postgres')
  const r = await growr(['--json', 'trustline', 'import', badDir])
  t.is(r.code, 1, 'a discrepancy makes the exit status 1')
  t.alike(JSON.parse(r.stdout).discrepancies.map((d: { trustlineId: string, field: string, found: string }) => [d.trustlineId, d.field, d.found]), [[num(bad.trustlines[3].id), 'current_balance', '1.23']])
})

test('credit migration - malformed exports refused with file, line and column named, never the data', { timeout: 60_000 }, async (t) => {
  const small = generateExport(7, { users: 6, trustlines: 5, transactions: 40, pending: 6 }).model
  const dir = tmpDir(t, 'growr-migration-malformed-')
  const fail = (name: string, edit: (m: ExportModel) => void, pattern: RegExp): void => {
    const m = structuredClone(small)
    edit(m)
    const d = path.join(dir, name)
    writeExport(d, m, 'mysql')
    try {
      importExport(d)
      t.fail(`${name}: accepted`)
    } catch (err) {
      const msg = (err as Error).message
      t.ok(pattern.test(msg) && (err as { code: string }).code === 'BAD_ARGUMENT', `${name}: ${msg}`)
      t.absent(SECRETS.exec(msg), `${name}: the message holds no secret`)
    }
  }
  fail('three decimals', (m) => { m.transactions[2].amount = { num: '10.005' } }, /trustline_transactions\.csv line 4, column amount: 10\.005 has more than 2 decimals/)
  fail('not a number', (m) => { m.trustlines[0].credit_limit_a_to_b = { num: '1e5' } }, /trustlines\.csv line 2, column credit_limit_a_to_b/)
  fail('missing column', (m) => { for (const r of m.transactions) delete r.balance_after }, /trustline_transactions\.csv: the required column balance_after is missing/)
  fail('unknown user', (m) => { m.trustlines[1].user_b_id = { num: '99999' } }, /trustlines\.csv line 3, column user_b_id: 99999 is not an id in users\.csv/)
  fail('unknown type', (m) => { m.transactions[0].transaction_type = 'credit' }, /line 2, column transaction_type/)
  fail('status 5', (m) => { m.pending[0].status = { num: '5' } }, /pending_payments\.csv line 2, column status/)

  const wide = path.join(dir, 'wide')
  writeExport(wide, small, 'mysql')
  fs.appendFileSync(path.join(wide, 'users.csv'), '999,"SECRET-EXTRA-FIELD"\n')
  try {
    importExport(wide)
    t.fail('a short users row: accepted')
  } catch (err) {
    t.ok(/users\.csv line \d+: a record has 2 fields, the header 16/.test((err as Error).message), (err as Error).message)
    t.absent(SECRETS.exec((err as Error).message), 'the message holds no secret')
  }

  const missing = path.join(dir, 'missing')
  writeExport(missing, small, 'postgres')
  fs.rmSync(path.join(missing, 'pending_payments.csv'))
  t.exception(() => importExport(missing), /NOT_FOUND: the export has no pending_payments\.csv/)

  const extra = structuredClone(small)
  for (const r of extra.users) r.favourite_colour = 'green'
  const d = path.join(dir, 'extra')
  writeExport(d, extra, 'postgres')
  t.is(importExport(d).report.reconciled, 5, 'other columns are ignored')
})
