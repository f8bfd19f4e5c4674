/**
 * The answering node's log of credit-exposure queries: every query, answered or not, in the
 * node's private local bee under `exposure/log/<at, 15 digits>/<random>`, so that the
 * organization can show who asked about whom, why, under which consent, and what it answered.
 */
import type Hyperbee from 'hyperbee'
import b4a from 'b4a'
import sodium from 'sodium-universal'

/** What the node did with a query. */
export type QueryOutcome = 'answered' | 'no-consent' | 'refused'

/** One logged query. */
export interface QueryLogEntry {
  /** this node's clock when it answered, ms */
  at: number
  /** the authenticated DID that asked */
  asker: string
  /** the borrower the consent is from; null when the request carried no readable consent */
  subject: string | null
  purpose: string | null
  /** the consent's id; null when none could be read */
  grant: string | null
  /** answered: the exposure, sealed to the asker; no-consent: the constant answer; refused: no answer (an uncertified asker, a malformed or too frequent request) */
  outcome: QueryOutcome
  /** why, in plain words (null when answered) */
  reason: string | null
}

const PREFIX = 'exposure/log/'
/** Most entries kept: past it the oldest are deleted (entries from any DID arrive at 30 a minute each). */
export const MAX_LOG_ENTRIES = 100_000

/** The log of the queries this node answered, newest MAX_LOG_ENTRIES kept. */
export class QueryLog {
  private readonly local: Hyperbee
  private count: number | null = null

  /** @param local the node's private local bee (utf-8 keys, JSON values) */
  constructor (local: Hyperbee) {
    this.local = local
  }

  /** Records one query; strings are cut to their limits (a hostile asker chooses them). */
  async record (e: QueryLogEntry): Promise<void> {
    const r = b4a.alloc(8)
    sodium.randombytes_buf(r)
    const cut = (s: string | null, n: number) => s === null ? null : s.slice(0, n)
    const entry: QueryLogEntry = { at: e.at, asker: e.asker.slice(0, 200), subject: cut(e.subject, 200), purpose: cut(e.purpose, 200), grant: cut(e.grant, 200), outcome: e.outcome, reason: cut(e.reason, 500) }
    await this.local.put(PREFIX + String(Math.max(0, Math.floor(e.at))).padStart(15, '0') + '/' + b4a.toString(r, 'hex'), entry)
    if (this.count === null) {
      this.count = 0
      for await (const _ of this.local.createReadStream({ gte: PREFIX, lt: PREFIX + '\xff', keys: true, values: false } as never)) this.count++
    } else {
      this.count++
    }
    if (this.count > MAX_LOG_ENTRIES) await this.trim()
  }

  /** Deletes the oldest entries down to 90 % of MAX_LOG_ENTRIES (one batch, not one per query). */
  private async trim (): Promise<void> {
    const excess = (this.count ?? 0) - Math.floor(MAX_LOG_ENTRIES * 0.9)
    const batch = this.local.batch()
    let n = 0
    for await (const { key } of this.local.createReadStream({ gte: PREFIX, lt: PREFIX + '\xff', limit: excess } as never) as AsyncIterable<{ key: string }>) {
      await batch.del(key)
      n++
    }
    await batch.flush()
    this.count = (this.count ?? 0) - n
  }

  /**
   * The latest queries, newest first.
   * @param opts.limit most entries returned (default 100, at most 10 000)
   * @param opts.subject only queries about this borrower
   */
  async list (opts: { limit?: number; subject?: string } = {}): Promise<QueryLogEntry[]> {
    const asked = Number(opts.limit ?? 100)
    const limit = Math.max(1, Math.min(10_000, Number.isSafeInteger(asked) ? asked : 100))
    const out: QueryLogEntry[] = []
    for await (const { value } of this.local.createReadStream<QueryLogEntry>({ gte: PREFIX, lt: PREFIX + '\xff', reverse: true })) {
      if (opts.subject !== undefined && value.subject !== opts.subject) continue
      out.push(value)
      if (out.length >= limit) break
    }
    return out
  }
}
