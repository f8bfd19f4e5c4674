/**
 * Fundings the originator receives on Bitcoin rail projects: each commitment gets the originator's
 * own receiving address (one per funding, from this node's wallet), posted in the book so the
 * investor's screen shows it as a BIP-21 URI and QR code, and so a proof can be checked against it.
 * With a Bitcoin backend this node's watcher sees each payment arrive ("N of M confirmations")
 * and proves it; a funding this page saw arrive stays listed until the page closes, "proven
 * on-chain" once its proof is in the book.
 */
import type { Funding, Project } from '../../../books/entities.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { sawWatcherEvents, useWatcherVersion } from '../../lib/chain.ts'
import { Card, Mono } from '../../components/index.ts'
import { ChainProgress, PostAddress, usePosted } from '../shared/rails.tsx'

export function FundingAddressesCard ({ book, bookName, fundings, projects }: { book: string; bookName: string; fundings: Funding[]; projects: Map<string, Project> }) {
  const posted = usePosted(book)
  useWatcherVersion()
  const rows = fundings.filter((f) => projects.get(f.projectId)?.rail?.rail === 'bitcoin' &&
    (f.status === 'committed' || (f.status === 'confirmed' && sawWatcherEvents(book, 'funding', f.fundingId))))
  if (rows.length === 0) return null
  return (
    <Card title='Fundings to receive on Bitcoin' subtitle='Post an address for each commitment: the investor pays to it, and your node proves the payment in the book.' testid='funding-addresses'>
      {rows.map((f) => (
        <div key={f.fundingId} className='stack' style={{ gap: 6 }} data-testid={'funding-address-' + f.fundingId}>
          <span className='small'><strong>{projects.get(f.projectId)?.terms.name}</strong>: {formatMinor(f.amount, f.currency)} from {f.investor !== null ? <Mono value={f.investor} keep={8} /> : <>a zap by <Mono value={f.zap?.zapper ?? ''} keep={8} /></>}</span>
          {f.status === 'committed' && <PostAddress book={book} project={projects.get(f.projectId)} posted={posted.data} kind='funding' refId={f.fundingId} amount={f.amount} label={bookName} message={`funding of ${projects.get(f.projectId)?.terms.name ?? ''}`} testid='post-funding-address' />}
          <ChainProgress book={book} project={projects.get(f.projectId)} posted={posted.data} kind='funding' refId={f.fundingId} testid='chain-funding' />
        </div>
      ))}
    </Card>
  )
}
