/** Borrower: credentials, projects to apply to, consents to credit checks, and loans to follow and repay. */
import { useNode } from '../../app/node-context.tsx'
import { MyCredentialsCard, RequestCredentialCard } from './MyCredentials.tsx'
import { DiscoverCard } from './Discover.tsx'
import { MyLoansCard } from './MyLoans.tsx'
import { MyConsentsCard } from './MyConsents.tsx'
import { PaymentsRecorded } from '../shared/PaymentsRecorded.tsx'
import { PaymentsSettled } from '../shared/PaymentsSettled.tsx'

export function BorrowerScreen () {
  const node = useNode()
  const books = node.data?.books ?? []
  return (
    <div className='stack' data-testid='screen-borrower'>
      <div className='page-head'><h1>Borrower</h1></div>
      <MyLoansCard books={books} me={node.data?.did ?? ''} />
      {books.filter((b) => b.role === 'borrower').map((b) => <PaymentsRecorded key={b.topic} book={b.topic} me={node.data?.did ?? ''} title={`Repayments you recorded in ${b.name}, not yet confirmed`} />)}
      {books.filter((b) => b.role === 'borrower').map((b) => <PaymentsSettled key={'s' + b.topic} book={b.topic} me={node.data?.did ?? ''} title={`Your settled payments in ${b.name}`} testid='borrower-settled' />)}
      <DiscoverCard books={books} />
      <MyConsentsCard />
      <div className='grid-2'>
        <MyCredentialsCard />
        <RequestCredentialCard />
      </div>
    </div>
  )
}
