/**
 * Fundings the originator receives on Bitcoin rail projects: each commitment gets the originator's
 * own receiving address (one per funding, from this node's wallet), posted in the book so the
 * investor's screen shows it as a BIP-21 URI and QR code, and so a proof can be checked against it.
 */
import type { Funding, Project } from '../../../books/entities.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { Card, Mono } from '../../components/index.ts'
import { PostAddress, usePosted } from '../shared/rails.tsx'

export function FundingAddressesCard ({ book, bookName, fundings, projects }: { book: string; bookName: string; fundings: Funding[]; projects: Map<string, Project> }) {
  const posted = usePosted(book)
  const rows = fundings.filter((f) => f.status === 'committed' && projects.get(f.projectId)?.rail?.rail === 'bitcoin')
  if (rows.length === 0) return null
  return (
    <Card title='Fundings to receive on Bitcoin' subtitle='Post an address for each commitment: the investor pays to it and proves the payment in the book.' testid='funding-addresses'>
      {rows.map((f) => (
        <div key={f.fundingId} className='stack' style={{ gap: 6 }} data-testid={'funding-address-' + f.fundingId}>
          <span className='small'><strong>{projects.get(f.projectId)?.terms.name}</strong>: {formatMinor(f.amount, f.currency)} from <Mono value={f.investor} keep={8} /></span>
          <PostAddress book={book} project={projects.get(f.projectId)} posted={posted.data} kind='funding' refId={f.fundingId} amount={f.amount} label={bookName} message={`funding of ${projects.get(f.projectId)?.terms.name ?? ''}`} testid='post-funding-address' />
        </div>
      ))}
    </Card>
  )
}
