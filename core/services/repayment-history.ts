/**
 * Repayment history follows the borrower: when a loan in a book this node originates ends
 * (repaid or defaulted), the node issues a RepaymentHistoryCredential to the borrower and queues
 * it for her to collect. She can then show a good record to other originators.
 *
 * Which loans were already credentialed is kept in the node's local bee
 * (`history/<book key>/<loanId>`), so a restart never issues a record twice.
 */
import b4a from 'b4a'
import safetyCatch from 'safety-catch'
import type Hyperbee from 'hyperbee'
import type { Book } from '../../books/book.ts'
import type { Loan } from '../../books/entities.ts'
import { dateOf } from '../../books/dates.ts'
import type { DidKey } from '../identity/did-key.ts'
import type { IssuingService } from './issuing.ts'

export class RepaymentHistory {
  private readonly local: Hyperbee
  private readonly issuing: IssuingService
  private readonly did: DidKey
  private readonly watched = new Map<Book, () => void>()
  private readonly queued = new Set<Book>()
  private running: Promise<void> = Promise.resolve()

  constructor (opts: { local: Hyperbee; issuing: IssuingService; did: DidKey }) {
    this.local = opts.local
    this.issuing = opts.issuing
    this.did = opts.did
  }

  /** Starts watching `book`; only books this node's identity originates produce credentials. */
  watch (book: Book): void {
    if (this.watched.has(book)) return
    // a burst of updates needs one scan after it, not one per update
    const onupdate = () => {
      if (this.queued.has(book)) return
      this.queued.add(book)
      this.running = this.running.then(async () => { this.queued.delete(book); await this.scan(book) }).catch(safetyCatch)
    }
    this.watched.set(book, onupdate)
    book.base.on('update', onupdate)
    onupdate()
  }

  /** Waits for the scans started so far (tests and shutdown). */
  async flushed (): Promise<void> { await this.running }

  close (): void {
    for (const [book, onupdate] of this.watched) book.base.off('update', onupdate)
    this.watched.clear()
  }

  /**
   * Issues a credential for every ended loan of `book` not yet credentialed.
   * @returns the number issued
   */
  async scan (book: Book): Promise<number> {
    const meta = await book.view.meta()
    if (!meta || meta.originator !== this.did) return 0
    const bookHex = b4a.toString(book.key, 'hex')
    let issued = 0
    for (const loan of await book.view.list('loans')) {
      if (loan.status !== 'repaid' && loan.status !== 'defaulted') continue
      const key = `history/${bookHex}/${loan.loanId}`
      if (await this.local.get(key)) continue
      const vc = await this.issuing.issue({ type: 'RepaymentHistoryCredential', subject: loan.borrower, claims: claimsOf(loan, bookHex) })
      await this.issuing.queue(vc)
      await this.local.put(key, { id: vc.id, at: Date.now() })
      issued++
    }
    return issued
  }
}

function claimsOf (loan: Loan, bookHex: string): Record<string, unknown> {
  return {
    outcome: loan.status,
    principal: loan.amount,
    currency: loan.currency,
    months: loan.months,
    closedOn: dateOf(loan.updatedAt),
    book: bookHex,
    loanId: loan.loanId
  }
}
