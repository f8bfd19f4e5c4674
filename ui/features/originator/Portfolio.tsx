/**
 * The loan portfolio: every approved, disbursed or closed loan with what is outstanding, the next
 * instalment and how late it is. Disbursements are recorded here; a loan overdue beyond the
 * project's grace period can be marked defaulted.
 */
import type { Funding, Loan, Project } from '../../../books/entities.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction } from '../../lib/hooks.ts'
import { standing } from '../../lib/dates.ts'
import { Alert, Badge, Button, Card, Mono, ReasonButton, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { ChainProgress, PayAllInvestors, PayTo, PostAddress, usePosted, type Posted } from '../shared/rails.tsx'

/** Principal and interest still owed on a loan, minor units. */
export function owed (loan: Loan): number {
  return loan.schedule.reduce((s, i) => s + i.total - i.principalPaid - i.interestPaid, 0)
}

export function PortfolioCard ({ book, bookName, loans, projects }: { book: string; bookName: string; loans: Loan[]; projects: Map<string, Project> }) {
  const posted = usePosted(book)
  const rows = loans.filter((l) => ['approved', 'disbursed', 'repaid', 'defaulted', 'cancelled'].includes(l.status))
  return (
    <Card title='Loan portfolio' testid='portfolio'>
      <Table<Loan>
        rows={rows}
        rowKey={(l) => l.loanId}
        rowTestid={(l) => 'portfolio-' + l.loanId}
        empty='No approved loans yet.'
        columns={[
          { header: 'Borrower', cell: (l) => <Mono value={l.borrower} keep={8} /> },
          { header: 'Project', cell: (l) => projects.get(l.projectId)?.terms.name ?? '' },
          { header: 'Principal', align: 'right', cell: (l) => formatMinor(l.amount, l.currency) },
          { header: 'Status', cell: (l) => <LoanStatus loan={l} grace={projects.get(l.projectId)?.terms.gracePeriod ?? 0} /> },
          { header: 'Outstanding', align: 'right', cell: (l) => <span data-testid='loan-outstanding'>{formatMinor(owed(l), l.currency)}</span> },
          { header: 'Next instalment', cell: (l) => { const s = standing(l, 0); return s.next && l.status === 'disbursed' ? `${formatMinor(s.nextDue, l.currency)} on ${s.next.dueDate}` : '' } },
          { header: '', cell: (l) => <LoanActions book={book} loan={l} project={projects.get(l.projectId)} /> }
        ]}
      />
      {rows.filter((l) => projects.get(l.projectId)?.rail && (l.status === 'approved' || l.status === 'disbursed')).map((l) => (
        <LoanRail key={l.loanId} book={book} bookName={bookName} loan={l} project={projects.get(l.projectId)} posted={posted.data} />
      ))}
    </Card>
  )
}

function LoanStatus ({ loan, grace }: { loan: Loan; grace: number }) {
  const s = standing(loan, grace)
  return (
    <div className='stack' style={{ gap: 2 }}>
      <span><Badge testid='loan-status'>{loan.status}</Badge></span>
      {loan.status === 'approved' && loan.disbursementPaymentId && <span className='small muted'>disbursement recorded, waiting for the borrower's confirmation</span>}
      {s.daysOverdue > 0 && <span><Badge tone={s.defaultable ? 'bad' : 'warn'} testid='loan-overdue'>{`${s.daysOverdue} days overdue`}</Badge></span>}
    </div>
  )
}

/**
 * A rail loan's payments as the originator sees them: the disbursement to pay to the borrower's
 * posted address (from this node's wallet with a Bitcoin backend), and once disbursed, the
 * originator's own repayment address to post; on Bitcoin, each transaction as it confirms.
 */
function LoanRail ({ book, bookName, loan, project, posted }: { book: string; bookName: string; loan: Loan; project?: Project; posted?: Posted }) {
  const fee = project?.terms.disbursementFee ?? 0
  return (
    <div className='stack' style={{ gap: 6 }} data-testid={'loan-rail-' + loan.loanId}>
      <strong className='small'>{project?.terms.name}: loan of {formatMinor(loan.amount, loan.currency)} to <Mono value={loan.borrower} keep={8} /></strong>
      {loan.status === 'approved' && !loan.disbursementPaymentId && (
        <PayTo book={book} project={project} posted={posted} kind='disbursement' refId={loan.loanId} amount={loan.amount - fee} label='borrower' message={`disbursement of loan ${loan.loanId.slice(0, 8)} (${bookName})`} testid='pay-disbursement' />
      )}
      <ChainProgress book={book} project={project} posted={posted} kind='disbursement' refId={loan.loanId} testid='chain-disbursement' />
      {loan.status === 'disbursed' && (
        <PostAddress book={book} project={project} posted={posted} kind='repayment' refId={loan.loanId} label={bookName} message={`repayment of loan ${loan.loanId.slice(0, 8)}`} testid='post-repayment-address' />
      )}
      {loan.status === 'disbursed' && <ChainProgress book={book} project={project} posted={posted} kind='repayment' refId={loan.loanId} testid='chain-repayment' />}
    </div>
  )
}

function LoanActions ({ book, loan, project }: { book: string; loan: Loan; project?: Project }) {
  const toast = useToast()
  const disburse = useAction(async () => {
    const r = await send('payment.record', { book, kind: 'disbursement', ref: loan.loanId, reference: 'disbursement' })
    toast(`Disbursement of ${formatMinor(r.amount, loan.currency)} recorded; the borrower confirms receipt`)
  })
  const mark = useAction(async () => {
    await send('loan.decide', { book, loan: loan.loanId, action: 'default' })
    toast('Loan marked defaulted')
  })
  const cancel = useAction(async (reason: string) => {
    await send('loan.decide', { book, loan: loan.loanId, action: 'cancel', reason })
    toast('Loan cancelled: it was never disbursed')
  })
  const s = standing(loan, project?.terms.gracePeriod ?? 0)
  const fee = project?.terms.disbursementFee ?? 0
  return (
    <div className='stack' style={{ gap: 4 }}>
      {loan.status === 'approved' && !loan.disbursementPaymentId && !project?.rail && (
        <Button small variant='primary' busy={disburse.running} testid='loan-disburse' title={`Pays ${formatMinor(loan.amount - fee, loan.currency)} (principal less the fee)`} onClick={() => { disburse.run() }}>
          Record disbursement
        </Button>
      )}
      {loan.status === 'approved' && !loan.disbursementPaymentId && <ReasonButton label='Cancel loan' placeholder='why (the borrower reads it)' busy={cancel.running} testid='loan-cancel' onSubmit={(r) => { cancel.run(r) }} />}
      {loan.status === 'disbursed' && s.defaultable && <Button small variant='danger' busy={mark.running} testid='loan-default' onClick={() => { mark.run() }}>Mark defaulted</Button>}
      <Alert error={disburse.error || mark.error || cancel.error} testid='loan-action-error' />
    </div>
  )
}

/**
 * What the book owes investors from confirmed repayments, and paying it out: recorded by hand
 * (`distribute`), or on Bitcoin from this node's wallet, every investor in one transaction.
 */
export function DistributeCard ({ book, bookName, fundings, projects }: { book: string; bookName: string; fundings: Funding[]; projects: Map<string, Project> }) {
  const toast = useToast()
  const posted = usePosted(book)
  const rows = fundings.filter((f) => f.entitled > f.distributed)
  const pay = useAction(async () => {
    const r = await send('distribute', { book })
    toast(`Recorded ${r.length} distribution payment${r.length === 1 ? '' : 's'}`)
  })
  return (
    <Card title='Owed to investors' subtitle='Each confirmed repayment is shared among the confirmed fundings pro rata.' testid='distribute'
      actions={rows.length > 0 && <Button variant='primary' busy={pay.running} testid='distribute-pay' onClick={() => { pay.run() }}>Record payouts</Button>}
    >
      <Alert error={pay.error} />
      <Table<Funding>
        rows={rows}
        rowKey={(f) => f.fundingId}
        empty='Nothing owed right now.'
        columns={[
          { header: 'Investor', cell: (f) => f.investor !== null ? <Mono value={f.investor} keep={8} /> : <span className='small'>zap from <Mono value={f.zap?.zapper ?? ''} keep={8} /></span> },
          { header: 'Funded', align: 'right', cell: (f) => formatMinor(f.amount, f.currency) },
          { header: 'Owed', align: 'right', cell: (f) => formatMinor(f.entitled - f.distributed, f.currency) }
        ]}
      />
      {rows.some((f) => projects.get(f.projectId)?.rail?.rail === 'bitcoin') && <PayAllInvestors book={book} />}
      {rows.filter((f) => projects.get(f.projectId)?.rail).map((f) => (
        <div key={f.fundingId} className='stack' style={{ gap: 4 }}>
          <PayTo book={book} project={projects.get(f.projectId)} posted={posted.data} kind='distribution' refId={f.fundingId} amount={f.entitled - f.distributed}
            label='investor' message={`distribution for funding ${f.fundingId.slice(0, 8)} (${bookName})`} testid={'pay-distribution-' + f.fundingId} />
          <ChainProgress book={book} project={projects.get(f.projectId)} posted={posted.data} kind='distribution' refId={f.fundingId} testid={'chain-distribution-' + f.fundingId} />
        </div>
      ))}
    </Card>
  )
}
