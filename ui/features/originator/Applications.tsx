/**
 * The application queue: each applied loan with the verifier's signed decision that came with
 * it (eligible or not, the failed criteria in words, who verified), what approving it will do,
 * and approve or reject. Whether approval would be accepted is the core's answer
 * (`loan.applications`, the same transition apply runs): the screen only shows it.
 * An applicant who consented can be checked for what she owes other lenders on the network
 * (Exposure.tsx); the log of the checks others made of this node sits beside the queue.
 */
import { useState } from 'react'
import type { Project } from '../../../books/entities.ts'
import type { Application } from '../../../app/contract.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { when } from '../../lib/dates.ts'
import { Alert, Badge, Button, Card, Input, Mono, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { ExposureCell, ExposureLogCard, ExposureResult, CHECK_DEADLINE_MS } from './Exposure.tsx'
import { heldConsent } from './exposure.ts'

/**
 * The verifier's decision as approval will judge it: eligible and from a verifier the book trusts
 * ("eligible, verified by X"); from a verifier it does not trust (approval will be refused,
 * whatever the attestation says); or not eligible, with the verifier's reasons.
 */
export function Verification ({ loan }: { loan: Application }) {
  const e = loan.eligibility
  if (!e) {
    return loan.approvable
      ? <span className='muted small'>no criteria to check</span>
      : <span className='small' data-testid='loan-approval-blocker'>{loan.approvalBlocker}</span>
  }
  if (e.eligible && loan.approvable) {
    return (
      <div className='stack' style={{ gap: 2 }} data-testid='loan-eligibility'>
        <span><Badge>eligible</Badge></span>
        <span className='small muted'>verified by <Mono value={e.verifier} keep={8} /></span>
      </div>
    )
  }
  if (e.eligible) {
    return (
      <div className='stack' style={{ gap: 2 }} data-testid='loan-eligibility'>
        <span><Badge tone='bad'>untrusted verifier</Badge></span>
        <span className='small' data-testid='loan-approval-blocker'>{loan.approvalBlocker}</span>
      </div>
    )
  }
  return (
    <div className='stack' style={{ gap: 2 }} data-testid='loan-eligibility'>
      <span><Badge>not eligible</Badge></span>
      {e.reasons.length > 0 && <ul className='small' style={{ margin: 0, paddingLeft: 18 }}>{e.reasons.map((r, i) => <li key={i}>{r}</li>)}</ul>}
      <span className='small muted'>verified by <Mono value={e.verifier} keep={8} /></span>
    </div>
  )
}

export function ApplicationsCard ({ book, applications, projects }: { book: string; applications: Application[]; projects: Map<string, Project> }) {
  const rows = applications
  // a consent is delivered before the application it goes with, so the application's book change re-reads it
  const consents = useQuery(() => send('consent.list', {}), [], ['book.changed', 'exposure.changed'])
  const [target, setTarget] = useState<Application | null>(null)
  const check = useAction(async (loan: Application) => ({ loanId: loan.loanId, check: await send('exposure.check', { subject: loan.borrower, deadlineMs: CHECK_DEADLINE_MS }) }))
  const shown = target && check.result?.loanId === target.loanId && !check.error ? check.result.check : undefined
  return (
    <>
    <Card title='Applications' subtitle='Approving fixes the repayment schedule, first instalment one month from today.' testid='applications'>
      <Table<Application>
        rows={rows}
        rowKey={(l) => l.loanId}
        rowTestid={(l) => 'application-' + l.loanId}
        empty='No applications waiting.'
        columns={[
          { header: 'Applicant', cell: (l) => <Mono value={l.borrower} keep={8} /> },
          { header: 'Project', cell: (l) => projects.get(l.projectId)?.terms.name ?? l.projectId },
          { header: 'Loan', cell: (l) => <>{formatMinor(l.amount, l.currency)} over {l.months} months<div className='small muted'>{l.purpose}</div></> },
          { header: 'Applied', cell: (l) => when(l.appliedAt) },
          { header: 'Verification', cell: (l) => <Verification loan={l} /> },
          { header: 'Other lenders', cell: (l) => <ExposureCell held={heldConsent(consents.data?.received, l.borrower)} refused={!check.running && check.error?.code === 'NOT_FOUND' && target?.borrower === l.borrower} busy={check.running && target?.loanId === l.loanId} onCheck={() => { setTarget(l); check.run(l) }} /> },
          { header: '', cell: (l) => <Decide book={book} loan={l} /> }
        ]}
      />
      <Alert error={consents.error} />
      {target && (
        <div className='stack' style={{ marginTop: 12 }} data-testid='exposure-panel' data-loan={target.loanId}>
          <strong>Credit exposure: {projects.get(target.projectId)?.terms.name ?? target.projectId}, {formatMinor(target.amount, target.currency)}</strong>
          {check.running ? <span className='muted small'>Asking the network's certified originators…</span> : <ExposureResult borrower={target.borrower} check={shown} error={check.error} />}
        </div>
      )}
    </Card>
    <ExposureLogCard />
    </>
  )
}

function Decide ({ book, loan }: { book: string; loan: Application }) {
  const toast = useToast()
  const [reason, setReason] = useState('')
  const [rejecting, setRejecting] = useState(false)
  const decide = useAction(async (action: 'approve' | 'reject') => {
    await send('loan.decide', { book, loan: loan.loanId, action, reason: action === 'reject' ? reason : undefined })
    toast(action === 'approve' ? 'Loan approved' : 'Application rejected')
  })
  return (
    <div className='stack' style={{ gap: 4, minWidth: 160 }}>
      <div className='row'>
        <Button small variant='primary' busy={decide.running} disabled={!loan.approvable} title={loan.approvalBlocker ?? undefined} testid='loan-approve' onClick={() => { decide.run('approve') }}>Approve</Button>
        {!rejecting && <Button small variant='danger' testid='loan-reject' onClick={() => setRejecting(true)}>Reject…</Button>}
      </div>
      {rejecting && (
        <div className='row'>
          <Input value={reason} onChange={(e) => setReason(e.target.value)} placeholder='reason' testid='loan-reject-reason' />
          <Button small variant='danger' busy={decide.running} testid='loan-reject-confirm' onClick={() => { decide.run('reject') }}>Reject</Button>
        </div>
      )}
      <Alert error={decide.error} testid='loan-decide-error' />
    </div>
  )
}
