/**
 * Payments someone recorded to this node's identity that it has not confirmed yet. The payee's
 * confirmation is what moves a funding, loan or distribution along, so each screen lists the
 * kinds that concern it. A payment that did not arrive is disputed, with a reason the payer reads;
 * a disputed one stays here until it is confirmed after all or the payer cancels it.
 */
import type { Payment } from '../../../books/entities.ts'
import type { PaymentKind } from '../../../books/ops/types.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { when } from '../../lib/dates.ts'
import { Alert, Badge, Button, Card, Mono, ReasonButton, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'

const KIND_WORDS: Record<PaymentKind, string> = {
  funding: 'Funding from investor',
  disbursement: 'Loan disbursed to you',
  repayment: 'Repayment from borrower',
  distribution: 'Distribution to you'
}

export function PaymentsToConfirm ({ book, me, kinds, title = 'Payments to confirm', testid = 'payments-to-confirm' }: { book: string; me: string; kinds: PaymentKind[]; title?: string; testid?: string }) {
  const q = useQuery(() => send('payment.list', { book }), [book], ['book.changed'])
  const rows = (q.data ?? []).filter((p) => p.payee === me && (p.status === 'recorded' || p.status === 'disputed') && kinds.includes(p.kind))
  return (
    <Card title={title} subtitle='Confirm only once the money has arrived: confirmation is final.' testid={testid}>
      <Alert error={q.error} />
      <Table<Payment>
        rows={rows}
        rowKey={(p) => p.paymentId}
        rowTestid={(p) => 'payment-' + p.paymentId}
        empty='Nothing waits for your confirmation.'
        columns={[
          { header: 'What', cell: (p) => KIND_WORDS[p.kind] },
          { header: 'Amount', align: 'right', cell: (p) => formatMinor(p.amount, p.currency) },
          { header: 'From', cell: (p) => <Mono value={p.payer} /> },
          { header: 'Reference', cell: (p) => p.reference || <span className='muted'>none</span> },
          { header: 'Recorded', cell: (p) => when(p.recordedAt) },
          { header: 'State', cell: (p) => p.status === 'disputed' ? <span className='stack' style={{ gap: 2 }}><span><Badge tone='warn' testid='payment-disputed'>disputed</Badge></span><span className='small muted'>{p.reason}</span></span> : <Badge>waiting for you</Badge> },
          { header: '', cell: (p) => <ConfirmButton book={book} payment={p} /> }
        ]}
      />
    </Card>
  )
}

function ConfirmButton ({ book, payment }: { book: string; payment: Payment }) {
  const toast = useToast()
  const confirm = useAction(async () => {
    await send('payment.confirm', { book, payment: payment.paymentId })
    toast(`Confirmed ${formatMinor(payment.amount, payment.currency)} received`)
  })
  const dispute = useAction(async (reason: string) => {
    await send('payment.dispute', { book, payment: payment.paymentId, reason })
    toast('Disputed: the payer sees your reason and can cancel the record')
  })
  return (
    <div className='stack' style={{ gap: 4 }}>
      <Button small variant='primary' busy={confirm.running} testid={'confirm-payment-' + payment.kind} onClick={() => { confirm.run() }}>Confirm received</Button>
      {payment.status === 'recorded' && <ReasonButton label='Not received' placeholder='what you see on your account' busy={dispute.running} testid={'dispute-payment-' + payment.kind} onSubmit={(r) => { dispute.run(r) }} />}
      <Alert error={confirm.error || dispute.error} />
    </div>
  )
}
