/**
 * Settled payments of one book: what each was for, who paid whom, and what it rests on (a proof
 * checked by every peer, or the payee's confirmation). With `me`, only this identity's own.
 */
import type { Payment } from '../../../books/entities.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { send } from '../../lib/contract-client.ts'
import { useQuery } from '../../lib/hooks.ts'
import { when } from '../../lib/dates.ts'
import { Alert, Card, Mono, Table } from '../../components/index.ts'
import { PaymentProof } from './rails.tsx'

export function PaymentsSettled ({ book, me, title = 'Settled payments', testid = 'payments-settled' }: { book: string; me?: string; title?: string; testid?: string }) {
  const q = useQuery(() => send('payment.list', { book }), [book], ['book.changed'])
  const rows = (q.data ?? [])
    .filter((p) => (p.status === 'confirmed' || p.status === 'reorged') && (!me || p.payer === me || p.payee === me))
    .sort((a, b) => (b.confirmedAt ?? b.recordedAt) - (a.confirmedAt ?? a.recordedAt))
  if (rows.length === 0 && !q.error) return null
  return (
    <Card title={title} subtitle='Proven payments were checked by every peer against the chain; manual ones rest on the payee’s confirmation.' testid={testid}>
      <Alert error={q.error} />
      <Table<Payment>
        rows={rows}
        rowKey={(p) => p.paymentId}
        rowTestid={(p) => 'settled-' + p.paymentId}
        empty=''
        columns={[
          { header: 'What', cell: (p) => <span data-testid='settled-kind'>{p.kind}</span> },
          { header: 'Amount', align: 'right', cell: (p) => formatMinor(p.amount, p.currency) },
          { header: 'From', cell: (p) => <Mono value={p.payer} keep={8} /> },
          { header: 'To', cell: (p) => <Mono value={p.payee} keep={8} /> },
          { header: 'Settled', cell: (p) => when(p.confirmedAt ?? p.recordedAt) },
          { header: 'Rests on', cell: (p) => <PaymentProof payment={p} /> }
        ]}
      />
    </Card>
  )
}
