/**
 * Originator: for one book this identity originates, its projects (create, edit, lifecycle),
 * invites, trusted issuers, the application queue, the loan portfolio and the payments that wait
 * for the originator's confirmation.
 */
import { useMemo } from 'react'
import type { Project } from '../../../books/entities.ts'
import { send } from '../../lib/contract-client.ts'
import { useQuery } from '../../lib/hooks.ts'
import { useNode } from '../../app/node-context.tsx'
import { Alert, Card } from '../../components/index.ts'
import { BookPicker, useBookChoice } from '../shared/BookPicker.tsx'
import { PaymentsToConfirm } from '../shared/PaymentsToConfirm.tsx'
import { PaymentsRecorded } from '../shared/PaymentsRecorded.tsx'
import { ProjectsCard } from './Projects.tsx'
import { InviteCard } from './Invites.tsx'
import { TrustCard } from './Trust.tsx'
import { ApplicationsCard } from './Applications.tsx'
import { DistributeCard, PortfolioCard } from './Portfolio.tsx'
import { PaymentsSettled } from '../shared/PaymentsSettled.tsx'
import { FundingAddressesCard } from './FundingAddresses.tsx'

export function OriginatorScreen () {
  const node = useNode()
  const books = (node.data?.books ?? []).filter((b) => b.role === 'originator')
  const [book, setBook] = useBookChoice('originator', books)
  return (
    <div className='stack' data-testid='screen-originator'>
      <div className='page-head'>
        <h1>Originator</h1>
        <BookPicker books={books} value={book} onChange={setBook} testid='originator-book' />
      </div>
      {book && node.data
        ? <OriginatorBook key={book} book={book} bookName={books.find((b) => b.topic === book)?.name ?? ''} me={node.data.did} />
        : <Card><p className='muted'>You originate no book yet. Create one on the Network screen.</p></Card>}
    </div>
  )
}

function OriginatorBook ({ book, bookName, me }: { book: string; bookName: string; me: string }) {
  const projects = useQuery(() => send('project.list', { book }), [book], ['book.changed'])
  const loans = useQuery(() => send('loan.list', { book }), [book], ['book.changed'])
  const applications = useQuery(() => send('loan.applications', { book }), [book], ['book.changed'])
  const fundings = useQuery(() => send('funding.list', { book }), [book], ['book.changed'])
  const byId = useMemo(() => new Map<string, Project>((projects.data ?? []).map((p) => [p.projectId, p])), [projects.data])
  return (
    <>
      <ProjectsCard book={book} projects={projects} />
      <Alert error={loans.error || fundings.error || applications.error} />
      <ApplicationsCard book={book} applications={applications.data ?? []} projects={byId} />
      <PortfolioCard book={book} bookName={bookName} loans={loans.data ?? []} projects={byId} />
      <FundingAddressesCard book={book} bookName={bookName} fundings={fundings.data ?? []} projects={byId} />
      <PaymentsToConfirm book={book} me={me} kinds={['funding', 'repayment']} title='Payments received to confirm' />
      <PaymentsRecorded book={book} me={me} />
      <DistributeCard book={book} bookName={bookName} fundings={fundings.data ?? []} projects={byId} />
      <PaymentsSettled book={book} title='Settled payments in this book' />
      <div className='grid-2'>
        <InviteCard book={book} />
        <TrustCard book={book} />
      </div>
    </>
  )
}
