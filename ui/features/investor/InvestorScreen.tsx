/**
 * Investor: projects open for funding with their progress, committing and paying a funding, the
 * investor's positions with the repayment shares they earned (as a chart), and the payouts that
 * wait for the investor's confirmation.
 */
import { useState } from 'react'
import type { Distribution, Funding, Project } from '../../../books/entities.ts'
import { formatMinor } from '../../../core/services/criteria.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction } from '../../lib/hooks.ts'
import { parseMajor } from '../../lib/money.ts'
import { useNode, type BookInfo } from '../../app/node-context.tsx'
import { Alert, Badge, BarChart, Button, Card, Input, Progress, ReasonButton, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { usePerBook } from '../shared/per-book.ts'
import { PaymentsToConfirm } from '../shared/PaymentsToConfirm.tsx'
import { PaymentsRecorded } from '../shared/PaymentsRecorded.tsx'
import { PaymentsSettled } from '../shared/PaymentsSettled.tsx'
import { ChainProgress, PayTo, PostAddress, railWords, usePosted } from '../shared/rails.tsx'

export function InvestorScreen () {
  const node = useNode()
  const books = node.data?.books ?? []
  const me = node.data?.did ?? ''
  const investorBooks = books.filter((b) => b.role === 'investor')
  return (
    <div className='stack' data-testid='screen-investor'>
      <div className='page-head'><h1>Investor</h1></div>
      <OpenProjects books={books} />
      <Positions books={books} me={me} />
      {investorBooks.map((b) => <PaymentsRecorded key={'r' + b.topic} book={b.topic} me={me} title={`Fundings you paid in ${b.name}, not yet confirmed`} />)}
      {investorBooks.map((b) => <PaymentsToConfirm key={b.topic} book={b.topic} me={me} kinds={['distribution']} title={`Payouts to confirm in ${b.name}`} testid={'distributions-to-confirm'} />)}
      {investorBooks.map((b) => <PaymentsSettled key={'s' + b.topic} book={b.topic} me={me} title={`Your settled payments in ${b.name}`} testid='investor-settled' />)}
    </div>
  )
}

function OpenProjects ({ books }: { books: BookInfo[] }) {
  const q = usePerBook('project.list', books)
  const open = (q.data ?? []).flatMap(({ book, items }) => items.filter((p) => p.status === 'active').map((project) => ({ book, project })))
  return (
    <Card title='Projects open for funding' testid='funding-open'>
      <Alert error={q.error} />
      <Table<{ book: BookInfo; project: Project }>
        rows={open}
        rowKey={(r) => r.book.topic + r.project.projectId}
        rowTestid={(r) => 'fund-' + r.project.projectId}
        empty='No active projects in the books you follow.'
        columns={[
          { header: 'Project', cell: ({ book, project }) => <><strong>{project.terms.name}</strong><div className='small muted'>{book.name}{project.rail && <> · paid on {railWords(project)}</>}</div></> },
          { header: 'Confirmed funding', cell: ({ project: p }) => <Progress testid='funding-progress' value={p.confirmedFunding} max={p.terms.amount} label={`${formatMinor(p.confirmedFunding, p.terms.currency)} of ${formatMinor(p.terms.amount, p.terms.currency)}`} /> },
          { header: 'Committed', align: 'right', cell: ({ project: p }) => formatMinor(p.committed, p.terms.currency) },
          { header: '', cell: ({ book, project }) => <FundForm book={book} project={project} /> }
        ]}
      />
    </Card>
  )
}

function FundForm ({ book, project }: { book: BookInfo; project: Project }) {
  const toast = useToast()
  const [amount, setAmount] = useState('')
  const fund = useAction(async () => {
    const p = parseMajor(amount, project.terms.currency)
    if (!p.ok) throw new Error(p.error)
    const { id } = await send('funding.commit', { book: book.topic, project: project.projectId, amount: p.value })
    setAmount('')
    // on a rail the payment is proven to the originator's posted address (My positions shows it), never recorded by hand
    if (project.rail) { toast(`Committed ${formatMinor(p.value, project.terms.currency)}: pay it to the address the originator posts`); return }
    // the commitment counts once its payment is recorded and the originator confirms receipt
    await send('payment.record', { book: book.topic, kind: 'funding', ref: id, reference: 'funding ' + project.terms.name })
    toast(`Committed ${formatMinor(p.value, project.terms.currency)} and recorded the payment`)
  })
  if (book.role !== 'investor' || !book.writable) return <span className='small muted'>Needs an investor invite</span>
  return (
    <div className='stack' style={{ gap: 4 }}>
      <form className='row' onSubmit={(e) => { e.preventDefault(); fund.run() }}>
        <Input aria-label={`Amount in ${project.terms.currency}`} placeholder={project.terms.currency} value={amount} onChange={(e) => setAmount(e.target.value)} style={{ width: 120 }} testid='fund-amount' />
        <Button type='submit' variant='primary' busy={fund.running} disabled={!amount.trim()} testid='fund-submit'>Fund</Button>
      </form>
      <Alert error={fund.error} testid='fund-error' />
    </div>
  )
}

function Positions ({ books, me }: { books: BookInfo[]; me: string }) {
  const fq = usePerBook('funding.list', books)
  const dq = usePerBook('distribution.list', books)
  const pq = usePerBook('project.list', books)
  const fundings = (fq.data ?? []).flatMap(({ items }) => items).filter((f) => f.investor === me)
  const bookOf = new Map((fq.data ?? []).flatMap(({ book, items }) => items.map((f) => [f.fundingId, book.topic] as const)))
  const shares = (dq.data ?? []).flatMap(({ items }) => items).filter((d) => d.investor === me).sort((a, b) => a.at - b.at)
  const projects = new Map((pq.data ?? []).flatMap(({ items }) => items).map((p) => [p.projectId, p]))
  const names = new Map([...projects.values()].map((p) => [p.projectId, p.terms.name]))
  const bookNames = new Map((fq.data ?? []).map(({ book }) => [book.topic, book.name]))
  const railed = fundings.filter((f) => projects.get(f.projectId)?.rail && (f.status === 'committed' || f.status === 'confirmed'))
  const currency = fundings[0]?.currency ?? shares[0]?.currency
  return (
    <Card title='My positions' testid='positions'>
      <Alert error={fq.error || dq.error} />
      <Table<Funding>
        rows={fundings}
        rowKey={(f) => f.fundingId}
        rowTestid={(f) => 'position-' + f.fundingId}
        empty='No fundings yet.'
        columns={[
          { header: 'Project', cell: (f) => names.get(f.projectId) ?? f.projectId },
          { header: 'Funded', align: 'right', cell: (f) => formatMinor(f.amount, f.currency) },
          { header: 'Status', cell: (f) => <Badge testid='position-status'>{f.status}</Badge> },
          { header: 'Earned from repayments', align: 'right', cell: (f) => <span data-testid='position-entitled'>{formatMinor(f.entitled, f.currency)}</span> },
          { header: 'Paid out', align: 'right', cell: (f) => formatMinor(f.distributed, f.currency) },
          { header: '', cell: (f) => f.status === 'committed' && <WithdrawFunding funding={f} topic={bookOf.get(f.fundingId) as string} /> }
        ]}
      />
      {railed.map((f) => <FundingRail key={f.fundingId} funding={f} topic={bookOf.get(f.fundingId) as string} bookName={bookNames.get(bookOf.get(f.fundingId) as string) ?? ''} project={projects.get(f.projectId) as Project} />)}
      {shares.length > 0 && currency && <SharesChart shares={shares} currency={currency} />}
    </Card>
  )
}

/**
 * A funding on a rail project: while committed, where to pay it (the originator's posted address
 * or invoice, with the exact amount, and with a Bitcoin backend a button paying it from this
 * node's wallet); once confirmed, the investor's own address for payouts. On Bitcoin, the
 * funding's and payouts' transactions as they confirm.
 */
function FundingRail ({ funding, topic, bookName, project }: { funding: Funding; topic: string; bookName: string; project: Project }) {
  const posted = usePosted(topic)
  return (
    <div className='stack' style={{ gap: 6 }} data-testid={'funding-rail-' + funding.fundingId}>
      <strong className='small'>{project.terms.name}: your funding of {formatMinor(funding.amount, funding.currency)}</strong>
      {funding.status === 'committed'
        ? <PayTo book={topic} project={project} posted={posted.data} kind='funding' refId={funding.fundingId} amount={funding.amount} label={bookName} message={`funding of ${project.terms.name}`} testid='pay-funding' />
        : <PostAddress book={topic} project={project} posted={posted.data} kind='distribution' refId={funding.fundingId} label='investor' message={`payouts of ${project.terms.name}`} testid='post-distribution-address' />}
      <ChainProgress book={topic} project={project} posted={posted.data} kind='funding' refId={funding.fundingId} testid='chain-funding' />
      {funding.status === 'confirmed' && <ChainProgress book={topic} project={project} posted={posted.data} kind='distribution' refId={funding.fundingId} testid='chain-distribution' />}
    </div>
  )
}

/**
 * Takes back a commitment the originator has not confirmed: cancels its unconfirmed payment
 * record first (if any), then the commitment, which frees its room on the project.
 */
function WithdrawFunding ({ funding, topic }: { funding: Funding; topic: string }) {
  const toast = useToast()
  const withdraw = useAction(async (reason: string) => {
    if (funding.paymentId) {
      const payment = (await send('payment.list', { book: topic })).find((p) => p.paymentId === funding.paymentId)
      if (payment && (payment.status === 'recorded' || payment.status === 'disputed')) await send('payment.cancel', { book: topic, payment: payment.paymentId, reason })
    }
    await send('funding.cancel', { book: topic, funding: funding.fundingId, reason })
    toast(`Withdrew the commitment of ${formatMinor(funding.amount, funding.currency)}`)
  })
  return (
    <div className='stack' style={{ gap: 4 }}>
      <ReasonButton label='Withdraw' placeholder='why (the originator reads it)' busy={withdraw.running} testid='position-withdraw' onSubmit={(r) => { withdraw.run(r) }} />
      <Alert error={withdraw.error} testid='position-withdraw-error' />
    </div>
  )
}

function SharesChart ({ shares, currency }: { shares: Distribution[]; currency: string }) {
  const days = [...new Set(shares.map((d) => new Date(d.at).toISOString().slice(0, 10)))]
  const perDay = days.map((day) => shares.filter((d) => new Date(d.at).toISOString().slice(0, 10) === day).reduce((s, d) => s + d.amount, 0))
  const running = perDay.map((_, i) => perDay.slice(0, i + 1).reduce((a, b) => a + b, 0))
  return (
    <BarChart
      title='Repayment shares received'
      testid='shares-chart'
      labels={days}
      format={(n) => formatMinor(Math.round(n), currency)}
      series={[{ name: 'share of repayments', color: 'var(--chart-1)', values: perDay }]}
      line={{ name: 'total so far', color: 'var(--chart-line)', values: running }}
    />
  )
}
