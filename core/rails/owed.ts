/**
 * What an on-chain payment to a payee's posted address counts for in a book, by the book's own
 * rules: the part both rails' watchers share (core/rails/bitcoin/watcher.ts,
 * core/rails/rootstock/watcher.ts) before they prove a payment.
 */
import { outstanding } from '../../books/loan/machine.ts'
import type { Book } from '../../books/book.ts'
import type { Funding, Loan, Project } from '../../books/entities.ts'
import type { PaymentKind } from '../../books/ops/types.ts'

/** The record a payment is for, and its project. */
export interface OwedTarget { kind: PaymentKind; ref: string; project: Project }

/**
 * What a payment of `paid` base units proves for `target`, in minor units (`unit` base units
 * each), by the book's rules (books/payment/handlers.ts reservePayment), or why it proves nothing
 * now, in plain words: a funding or disbursement exactly what is due (an underpayment proves
 * nothing), a repayment or distribution what was paid up to what is owed.
 * @param unitName how messages name the base unit ('sats', 'base units')
 */
export async function owedFor (book: Book, target: OwedTarget, paid: bigint, unit: bigint, unitName = 'base units'): Promise<number | string> {
  const minor = paid / unit
  const cap = (owed: number): number | string => {
    if (minor === 0n) return `the transaction pays ${paid} ${unitName}, less than one minor unit (${unit} ${unitName}): not proven`
    return Number(minor < BigInt(owed) ? minor : BigInt(owed))
  }
  switch (target.kind) {
    case 'funding': {
      const f = await book.view.get('fundings', target.ref) as Funding
      if (f.status !== 'committed' || f.paymentId !== null) return 'the funding is already paid: a second payment to its address is not counted'
      if (paid < BigInt(f.amount) * unit) return `the transaction pays ${paid} ${unitName}, less than the ${BigInt(f.amount) * unit} (${f.amount} ${f.currency} minor units) committed: reported, not proven`
      return f.amount
    }
    case 'disbursement': {
      const loan = await book.view.get('loans', target.ref) as Loan
      const net = loan.amount - target.project.terms.disbursementFee
      if (loan.status !== 'approved' || loan.disbursementPaymentId !== null) return `the loan is ${loan.status}${loan.disbursementPaymentId !== null ? ' and its disbursement recorded' : ''}: a disbursement is not counted now`
      if (paid < BigInt(net) * unit) return `the transaction pays ${paid} ${unitName}, less than the ${BigInt(net) * unit} (${net} minor units) due: reported, not proven`
      return net
    }
    case 'repayment': {
      const loan = await book.view.get('loans', target.ref) as Loan
      if (loan.status !== 'disbursed') return `the loan is ${loan.status}: nothing is owed on it`
      const owed = outstanding(loan) - loan.pendingRepayment
      if (owed <= 0) return 'nothing is owed on this loan now'
      return cap(owed)
    }
    case 'distribution': {
      const f = await book.view.get('fundings', target.ref) as Funding
      const owed = f.entitled - f.distributed
      if (owed <= 0) return 'nothing is owed to this investor now'
      return cap(owed)
    }
  }
}
