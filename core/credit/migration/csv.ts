/**
 * CSV as the two databases behind the central service write it, read strictly.
 *
 * No CSV library is installed in this project (no csv-parse, no papaparse), so this is a small
 * strict reader for exactly two dialects, refusing anything else rather than guessing:
 *
 * - `mysql`: `SELECT ... INTO OUTFILE` with `FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"'
 *   ESCAPED BY '\\' LINES TERMINATED BY '\n'` (MySQL 8.0 reference manual, "LOAD DATA" / "SELECT
 *   ... INTO"). Strings are enclosed in `"`, numbers are not; inside a field `\` escapes the next
 *   character: `\0` NUL, `\b` backspace, `\n` newline, `\r` carriage return, `\t` tab, `\Z` ctrl-Z,
 *   `\` + anything else is that character (so `\\`, `\"`, `\,` and `\` + a raw newline). A field
 *   that is exactly `\N` is SQL NULL. A doubled `""` inside an enclosed field is a literal quote
 *   (LOAD DATA reads it so).
 * - `postgres`: `\copy ... TO ... CSV HEADER` (PostgreSQL "COPY", CSV format, RFC 4180 quoting):
 *   `"` encloses, `""` inside is a quote, newlines inside quotes are data, backslash means nothing.
 *   NULL is an unquoted empty field (PostgreSQL's CSV default) or an unquoted `\N` (`NULL '\N'`,
 *   as the export uses); a quoted `""` or `"\N"` is a string.
 *
 * In both, an unquoted empty field is NULL (MySQL never writes one: it encloses every string,
 * empty ones as `""`), and a record ends at `\n` or `\r\n` outside quotes.
 */
import { GrowrError } from '../../errors.ts'

/** The two export dialects. */
export type CsvDialect = 'mysql' | 'postgres'

/** One field: its text, or null for SQL NULL. */
export type CsvField = string | null

/** A parsed file: the header's column names, and each record with the line it starts on. */
export interface CsvTable {
  columns: string[]
  rows: Array<{ line: number, fields: CsvField[] }>
}

const MYSQL_ESCAPES: Record<string, string> = { 0: '\u0000', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\u001a' }

/**
 * Parse one CSV file in one dialect.
 *
 * @param text - the whole file, decoded as UTF-8
 * @param dialect - 'mysql' or 'postgres' (see the module comment for each one's rules)
 * @param file - the file's name, used only in error messages
 * @returns the header row as `columns` (NULL or duplicate names refused) and every following
 *   record, each exactly as wide as the header, with the 1-based line it starts on
 * @throws GrowrError BAD_ARGUMENT naming the file and line: unterminated quote, a quote in the
 *   middle of an unquoted field, text after a closing quote, a dangling escape, a record of the
 *   wrong width, an empty file. Messages never quote field contents (a file may hold secrets).
 */
export function parseCsv (text: string, dialect: CsvDialect, file: string): CsvTable {
  if (dialect !== 'mysql' && dialect !== 'postgres') throw GrowrError.BAD_ARGUMENT(`unknown CSV dialect ${String(dialect)}`)
  const records: Array<{ line: number, fields: CsvField[] }> = []
  const n = text.length
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0 // a byte-order mark is not data
  let line = 1
  const fail = (at: number, why: string): never => { throw GrowrError.BAD_ARGUMENT(`${file} line ${at}: ${why} (read as ${dialect} CSV)`) }

  while (i < n) {
    const start = line
    const fields: CsvField[] = []
    for (;;) {
      // one field
      let value = ''
      let quoted = false
      let raw = '' // what an unquoted field held before unescaping: `\N` must be told from `\\N`
      if (text[i] === '"') {
        quoted = true
        i++
        for (;;) {
          if (i >= n) fail(start, 'a quoted field is never closed')
          const c = text[i]
          if (c === '"') {
            if (text[i + 1] === '"') { value += '"'; i += 2; continue }
            i++
            break
          }
          if (c === '\\' && dialect === 'mysql') {
            if (i + 1 >= n) fail(line, 'the file ends inside an escape')
            const e = text[i + 1]
            if (e === '\n') line++
            value += MYSQL_ESCAPES[e] ?? e
            i += 2
            continue
          }
          if (c === '\n') line++
          value += c
          i++
        }
        if (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) fail(line, 'text follows a closing quote')
      } else {
        while (i < n) {
          const c = text[i]
          if (c === ',' || c === '\n' || (c === '\r' && text[i + 1] === '\n')) break
          if (c === '"') fail(line, 'a quote inside an unquoted field')
          if (c === '\\' && dialect === 'mysql') {
            if (i + 1 >= n) fail(line, 'the file ends inside an escape')
            const e = text[i + 1]
            if (e === '\n') line++
            raw += c + e
            value += MYSQL_ESCAPES[e] ?? e
            i += 2
            continue
          }
          raw += c
          value += c
          i++
        }
      }
      if (quoted) fields.push(value)
      else if (raw === '' || raw === '\\N') fields.push(null)
      else fields.push(value)
      if (i >= n) break
      if (text[i] === ',') { i++; continue }
      // end of record
      i += text[i] === '\r' ? 2 : 1
      line++
      break
    }
    records.push({ line: start, fields })
  }

  if (records.length === 0) fail(1, 'the file is empty: a header row is required')
  const header = records.shift()!
  const columns: string[] = []
  for (const name of header.fields) {
    if (name === null || name === '') fail(header.line, 'a header column has no name')
    if (columns.includes(name!)) fail(header.line, `column ${name!} appears twice in the header`)
    columns.push(name!)
  }
  for (const r of records) {
    if (r.fields.length !== columns.length) fail(r.line, `a record has ${r.fields.length} fields, the header ${columns.length}`)
  }
  return { columns, rows: records }
}

/**
 * Read a whole export's files in the dialect they were written in.
 *
 * With `dialect: 'auto'`, each file is read in both dialects: a dialect that cannot read a file
 * is ruled out for the whole export; if both read every file the same way the choice does not
 * matter; if both read some file differently (backslashes or `""` in the data), the booleans
 * decide (MySQL writes tinyint 1/0, PostgreSQL t/f, in `booleanHint`'s column); else it is refused.
 *
 * @param files - file name -> its text
 * @param dialect - 'mysql', 'postgres' or 'auto'
 * @param booleanHint - optional { file, column } whose values tell the dialect apart when needed
 * @returns the dialect used and each file's table
 * @throws GrowrError BAD_ARGUMENT when no dialect reads every file, or the dialect cannot be told
 *   (the message says to pass the dialect explicitly), or a file is malformed in the given dialect
 */
export function parseExport (files: Record<string, string>, dialect: CsvDialect | 'auto', booleanHint?: { file: string, column: string }): { dialect: CsvDialect, tables: Record<string, CsvTable> } {
  if (dialect !== 'auto') {
    const tables: Record<string, CsvTable> = {}
    for (const [name, text] of Object.entries(files)) tables[name] = parseCsv(text, dialect, name)
    return { dialect, tables }
  }
  const attempts: Record<CsvDialect, { tables: Record<string, CsvTable>, error?: GrowrError }> = { mysql: { tables: {} }, postgres: { tables: {} } }
  for (const d of ['mysql', 'postgres'] as const) {
    for (const [name, text] of Object.entries(files)) {
      try {
        attempts[d].tables[name] = parseCsv(text, d, name)
      } catch (err) {
        attempts[d].error = err as GrowrError
        break
      }
    }
  }
  const ok = (['mysql', 'postgres'] as const).filter((d) => !attempts[d].error)
  if (ok.length === 0) {
    throw GrowrError.BAD_ARGUMENT(`the export is neither MySQL nor PostgreSQL CSV: as MySQL, ${attempts.mysql.error!.message}; as PostgreSQL, ${attempts.postgres.error!.message}`)
  }
  if (ok.length === 1) return { dialect: ok[0], tables: attempts[ok[0]].tables }
  if (sameTables(attempts.mysql.tables, attempts.postgres.tables)) return { dialect: 'postgres', tables: attempts.postgres.tables }
  const hinted = booleanHint ? booleanDialect(attempts.postgres.tables[booleanHint.file], booleanHint.column) : null
  if (hinted) return { dialect: hinted, tables: attempts[hinted].tables }
  throw GrowrError.BAD_ARGUMENT('cannot tell whether the export is MySQL or PostgreSQL CSV (both read it, differently): pass the dialect (--dialect mysql or --dialect postgres)')
}

function sameTables (a: Record<string, CsvTable>, b: Record<string, CsvTable>): boolean {
  for (const name of Object.keys(a)) {
    const x = a[name]
    const y = b[name]
    if (x.columns.join('\u0000') !== y.columns.join('\u0000') || x.rows.length !== y.rows.length) return false
    for (let r = 0; r < x.rows.length; r++) {
      const f = x.rows[r].fields
      const g = y.rows[r].fields
      for (let c = 0; c < f.length; c++) if (f[c] !== g[c]) return false
    }
  }
  return true
}

function booleanDialect (table: CsvTable | undefined, column: string): CsvDialect | null {
  if (!table) return null
  const at = table.columns.indexOf(column)
  if (at < 0) return null
  let mysql = 0
  let pg = 0
  for (const r of table.rows) {
    const v = r.fields[at]
    if (v === '0' || v === '1') mysql++
    else if (v === 't' || v === 'f') pg++
  }
  if (mysql > 0 && pg === 0) return 'mysql'
  if (pg > 0 && mysql === 0) return 'postgres'
  return null
}
