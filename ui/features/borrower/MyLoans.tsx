/**
 * The borrower's loans in every book: status, the schedule as a chart, the next instalment,
 * repaying it, and confirming that a disbursement arrived (which starts the loan).
 */
import type { Loan, Payment } from '../../../books/entities.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction } from '../../lib/hooks.ts'
import { standing } from '../../lib/dates.ts'
import type { BookInfo } from '../../app/node-context.tsx'
import { Alert, Badge, Button, Card, ReasonButton } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { usePerBook } from '../shared/per-book.ts'
import { owed } from '../originator/Portfolio.tsx'
import { ScheduleChart } from './ScheduleChart.tsx'
import type { Project } from '../../../books/entities.ts'
import { ChainProgress, PayTo, PostAddress, usePosted } from '../shared/rails.tsx'

export function MyLoansCard ({ books, me }: { books: BookInfo[]; me: string }) {
  const loans = usePerBook('loan.list', books)
  const payments = usePerBook('payment.list', books)
  const projects = usePerBook('project.list', books)
  const projectOf = new Map((projects.data ?? []).flatMap(({ items }) => items).map((p) => [p.projectId, p]))
  const mine = (loans.data ?? []).flatMap(({ book, items }) => items.filter((l) => l.borrower === me).map((loan) => ({ book, loan })))
  const pays = (payments.data ?? []).flatMap(({ items }) => items)
  return (
    <Card title='My loans' testid='my-loans'>
      <Alert error={loans.error} />
      {mine.length === 0 && <p className='muted'>No loans yet.</p>}
      {mine.map(({ book, loan }) => <MyLoan key={loan.loanId} book={book} loan={loan} project={projectOf.get(loan.projectId)} payments={pays.filter((p) => p.ref === loan.loanId)} />)}
    </Card>
  )
}

function MyLoan ({ book, loan, project, payments }: { book: BookInfo; loan: Loan; project?: Project; payments: Payment[] }) {
  const toast = useToast()
  const posted = usePosted(book.topic)
  const s = standing(loan, 0)
  const disbursement = payments.find((p) => p.kind === 'disbursement' && (p.status === 'recorded' || p.status === 'disputed'))
  const pending = payments.filter((p) => p.kind === 'repayment' && p.status === 'recorded')
  const confirm = useAction(async (p: Payment) => {
    await send('payment.confirm', { book: book.topic, payment: p.paymentId })
    toast('Disbursement confirmed: your loan has started')
  })
  const dispute = useAction(async (p: Payment, reason: string) => {
    await send('payment.dispute', { book: book.topic, payment: p.paymentId, reason })
    toast('Disputed: the originator sees your reason')
  })
  const repay = useAction(async () => {
    const r = await send('loan.repay', { book: book.topic, loan: loan.loanId })
    toast(`Repayment of ${formatMinor(r.amount, loan.currency)} for instalment ${r.instalment} recorded; the originator confirms receipt`)
  })
  return (
    <div className='card' style={{ padding: 12 }} data-testid={'my-loan-' + loan.loanId}>
      <div className='row'>
        <strong>{formatMinor(loan.amount, loan.currency)} over {loan.months} months</strong>
        <Badge testid='my-loan-status'>{loan.status}</Badge>
        <span className='muted small'>in {book.name}</span>
        <span className='spacer' />
        {['disbursed', 'repaid', 'defaulted'].includes(loan.status) && <span className='small' data-testid='my-loan-outstanding'>Outstanding {formatMinor(owed(loan), loan.currency)}</span>}
      </div>
      {loan.reason && <p className='small muted'>Reason: {loan.reason}</p>}
      {disbursement && (
        <div className='row' style={{ marginTop: 8 }}>
          {disbursement.status === 'disputed'
            ? <Alert tone='info' testid='disbursement-disputed'>You disputed the disbursement of {formatMinor(disbursement.amount, disbursement.currency)}: {disbursement.reason}. Confirm it if it arrives after all; the originator may cancel it.</Alert>
            : <Alert tone='info'>The originator recorded a disbursement of {formatMinor(disbursement.amount, disbursement.currency)} ({disbursement.reference || 'no reference'}). Confirm once it has arrived.</Alert>}
          <Button variant='primary' busy={confirm.running} testid='confirm-disbursement' onClick={() => { confirm.run(disbursement) }}>Confirm received</Button>
          {disbursement.status === 'recorded' && <ReasonButton label='Not received' placeholder='what you see on your account' busy={dispute.running} testid='dispute-disbursement' onSubmit={(r) => { dispute.run(disbursement, r) }} />}
        </div>
      )}
      {loan.status === 'approved' && project?.rail && (
        <PostAddress book={book.topic} project={project} posted={posted.data} kind='disbursement' refId={loan.loanId} amount={loan.amount - project.terms.disbursementFee} label='borrower' message={`disbursement of loan ${loan.loanId.slice(0, 8)}`} testid='post-disbursement-address' />
      )}
      <ChainProgress book={book.topic} project={project} posted={posted.data} kind='disbursement' refId={loan.loanId} testid='chain-disbursement' />
      {loan.schedule.length > 0 && <ScheduleChart loan={loan} />}
      {loan.status === 'disbursed' && s.next && (
        <div className='row'>
          <span data-testid='next-instalment'>Next: instalment {s.next.n}, {formatMinor(s.nextDue, loan.currency)} due {s.next.dueDate}</span>
          {!project?.rail && <Button variant='primary' busy={repay.running} disabled={pending.length > 0} testid='loan-repay' onClick={() => { repay.run() }}>Repay instalment</Button>}
          {pending.length > 0 && <span className='small muted' data-testid='repayment-pending'>{formatMinor(pending.reduce((a, p) => a + p.amount, 0), loan.currency)} waiting for the originator's confirmation</span>}
        </div>
      )}
      {loan.status === 'disbursed' && s.next && (
        <PayTo book={book.topic} project={project} posted={posted.data} kind='repayment' refId={loan.loanId} amount={Math.min(s.nextDue, owed(loan) - loan.pendingRepayment)} label={book.name} message={`instalment ${s.next.n} of loan ${loan.loanId.slice(0, 8)}`} testid='pay-repayment' />
      )}
      <ChainProgress book={book.topic} project={project} posted={posted.data} kind='repayment' refId={loan.loanId} testid='chain-repayment' />
      <Alert error={confirm.error || repay.error || dispute.error} testid='my-loan-error' />
    </div>
  )
}
