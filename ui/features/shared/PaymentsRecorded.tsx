/**
 * Payments this node's identity recorded that the payee has not confirmed: waiting, or disputed
 * with the payee's reason. The payer can cancel one (the transfer failed, the dispute is
 * accepted); what it reserved is released (a funding's slot, a loan's disbursement, a pending
 * repayment, an investor's payout).
 */
import type { Payment } from '../../../books/entities.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { when } from '../../lib/dates.ts'
import { Alert, Badge, Card, Mono, ReasonButton, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'

export function PaymentsRecorded ({ book, me, title = 'Payments you recorded, not yet confirmed' }: { book: string; me: string; title?: string }) {
  const q = useQuery(() => send('payment.list', { book }), [book], ['book.changed'])
  const rows = (q.data ?? []).filter((p) => p.payer === me && (p.status === 'recorded' || p.status === 'disputed'))
  if (rows.length === 0 && !q.error) return null
  return (
    <Card title={title} subtitle='Cancel a record only when the money did not go out, or the payee disputes it and you agree.' testid='payments-recorded'>
      <Alert error={q.error} />
      <Table<Payment>
        rows={rows}
        rowKey={(p) => p.paymentId}
        rowTestid={(p) => 'recorded-' + p.paymentId}
        empty=''
        columns={[
          { header: 'What', cell: (p) => p.kind },
          { header: 'Amount', align: 'right', cell: (p) => formatMinor(p.amount, p.currency) },
          { header: 'To', cell: (p) => <Mono value={p.payee} keep={8} /> },
          { header: 'Recorded', cell: (p) => when(p.recordedAt) },
          { header: 'State', cell: (p) => p.status === 'disputed' ? <span className='stack' style={{ gap: 2 }}><span><Badge tone='warn' testid='recorded-state'>disputed</Badge></span><span className='small muted' data-testid='recorded-dispute-reason'>{p.reason}</span></span> : <Badge testid='recorded-state'>waiting for the payee</Badge> },
          { header: '', cell: (p) => <CancelPayment book={book} payment={p} /> }
        ]}
      />
    </Card>
  )
}

function CancelPayment ({ book, payment }: { book: string; payment: Payment }) {
  const toast = useToast()
  const cancel = useAction(async (reason: string) => {
    await send('payment.cancel', { book, payment: payment.paymentId, reason })
    toast('Payment record cancelled')
  })
  return (
    <div className='stack' style={{ gap: 4 }}>
      <ReasonButton label='Cancel record' placeholder='why (the payee reads it)' busy={cancel.running} testid={'cancel-payment-' + payment.kind} onSubmit={(r) => { cancel.run(r) }} />
      <Alert error={cancel.error} />
    </div>
  )
}
