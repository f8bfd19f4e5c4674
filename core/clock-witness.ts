/**
 * A borrower's or investor's node vouching for the date in the books it is a member of.
 *
 * The originator's acts against members (a default after grace, expiring an unpaid funding) are
 * judged no later than the latest time a borrower or investor has signed in the book
 * (books/clock.ts). A book whose members are all quiet would otherwise never reach the day a
 * default becomes due, so a member's node appends a `clock/witness` op when the members' clock has
 * fallen more than `maxAgeMs` behind its own clock. The first member to notice does it; the others
 * then see a fresh clock and stay quiet. The originator's node never witnesses: its time is the
 * one being checked.
 *
 * Lifecycle: start() sets a timer, close() clears it and waits for a witness in flight.
 */
import safetyCatch from 'safety-catch'
import type { Book } from '../books/book.ts'

export interface ClockWitnessOptions {
  /** how often the books are looked at, ms (default one hour) */
  intervalMs?: number
  /** how far behind this node's clock the members' clock may fall before it vouches, ms (default one day) */
  maxAgeMs?: number
  /** this node's clock, ms */
  now?: () => number
}

/** Watches a node's books and vouches for the date where the members' clock went stale. */
export class ClockWitness {
  private readonly books: () => Book[]
  private readonly did: string
  private readonly intervalMs: number
  private readonly maxAgeMs: number
  private readonly now: () => number
  private timer: ReturnType<typeof setInterval> | null = null
  private running: Promise<void> = Promise.resolve()
  private closed = false

  /** @param books the books this node follows, read at every look @param did this node's DID */
  constructor (books: () => Book[], did: string, opts: ClockWitnessOptions = {}) {
    this.books = books
    this.did = did
    this.intervalMs = opts.intervalMs ?? 3_600_000
    this.maxAgeMs = opts.maxAgeMs ?? 86_400_000
    this.now = opts.now ?? Date.now
  }

  /** Looks at the books every intervalMs from now on (the timer does not keep the process alive). */
  start (): void {
    if (this.timer || this.closed) return
    this.timer = setInterval(() => { this.running = this.running.then(async () => { await this.look() }).catch(safetyCatch) }, this.intervalMs)
    // a node with nothing else to do should still be able to exit
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  /** Stops looking; resolves once a look in progress has finished. */
  async close (): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /**
   * Vouches for the date in every book where this node is a borrower or investor, can write, and
   * the members' clock is more than maxAgeMs behind.
   * @returns how many books it vouched in
   */
  async look (): Promise<number> {
    let n = 0
    for (const book of this.books()) {
      if (this.closed) break
      if (!book.writable) continue
      const me = await book.view.get('members', this.did)
      if (!me || me.removed || me.role === 'originator') continue
      if ((await book.view.clock()).members >= this.now() - this.maxAgeMs) continue
      await book.append([{ type: 'clock/witness' }])
      n++
    }
    return n
  }
}
