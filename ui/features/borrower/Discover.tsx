/**
 * Projects open for applications in every book the borrower follows, with their terms and
 * criteria in words; she can ask the book's verifier whether she is eligible (nothing is
 * written) and then apply with the verifier's signed decision. Applying may also give the book's
 * originator consent to check what she owes other lenders (ConsentBox.tsx): off until she ticks
 * it, because consent is an act of hers, not a default of ours.
 */
import { useState } from 'react'
import type { Project } from '../../../books/entities.ts'
import { formatBps, formatMinor } from '../../../core/services/criteria.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction } from '../../lib/hooks.ts'
import { parseMajor, toMajorText } from '../../lib/money.ts'
import type { BookInfo } from '../../app/node-context.tsx'
import { Alert, Badge, Button, Card, Field, Input } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { CriteriaText } from '../originator/Projects.tsx'
import { usePerBook } from '../shared/per-book.ts'
import { ConsentBox, ConsentOutcome, useAsker, type GrantOutcome } from './ConsentBox.tsx'
import { consentPurpose, DEFAULT_CONSENT_DAYS } from './consent.ts'

export function DiscoverCard ({ books }: { books: BookInfo[] }) {
  const q = usePerBook('project.list', books)
  const open = (q.data ?? []).flatMap(({ book, items }) => items.filter((p) => p.status === 'active').map((p) => ({ book, project: p })))
  return (
    <Card title='Projects open for applications' subtitle='In the books you follow.' testid='discover'>
      <Alert error={q.error} />
      {open.length === 0 && <p className='muted'>No active projects in your books yet. Follow a book on the Network screen.</p>}
      {open.map(({ book, project }) => <ProjectOffer key={book.topic + project.projectId} book={book} project={project} />)}
    </Card>
  )
}

function ProjectOffer ({ book, project }: { book: BookInfo; project: Project }) {
  const toast = useToast()
  const t = project.terms
  const [amount, setAmount] = useState(toMajorText(t.loanMinAmount, t.currency))
  const [months, setMonths] = useState(String(t.loanMinDuration))
  const [purpose, setPurpose] = useState('')
  const asker = useAsker(book.topic)
  const [consent, setConsent] = useState(false)
  const [days, setDays] = useState(DEFAULT_CONSENT_DAYS)
  const [granted, setGranted] = useState<GrantOutcome | null>(null)
  const check = useAction(async () => await send('eligibility.check', { book: book.topic, project: project.projectId }))
  const apply = useAction(async () => {
    const p = parseMajor(amount, t.currency)
    if (!p.ok) throw new Error(p.error)
    if (!/^\d+$/.test(months.trim())) throw new Error('Months must be a whole number')
    setGranted(null)
    if (consent) {
      if (!asker) throw new Error('This node does not know the book\'s originator yet, so there is no one to give consent to: wait for the book to replicate, or apply without it')
      // consent first, so the originator holds it when the application arrives; kept (and listed
      // under My consents) even if the application below is refused
      setGranted(await send('consent.grant', { to: asker.did, purpose: consentPurpose(t.name), days }))
    }
    const r = await send('loan.apply', { book: book.topic, project: project.projectId, amount: p.value, months: Number(months), purpose })
    toast('Application sent to the originator')
    return r
  })
  const canApply = book.role === 'borrower' && book.writable
  return (
    <div className='card' style={{ padding: 12 }} data-testid={'offer-' + project.projectId}>
      <div className='row'>
        <strong data-testid='offer-name'>{t.name}</strong>
        <span className='muted small'>in {book.name}</span>
      </div>
      {t.description && <p className='small'>{t.description}</p>}
      <dl className='kv small'>
        <dt>Loans</dt><dd>{formatMinor(t.loanMinAmount, t.currency)} to {formatMinor(t.loanMaxAmount, t.currency)}, {t.loanMinDuration} to {t.loanMaxDuration} months</dd>
        <dt>Interest</dt><dd>{formatBps(t.annualRateBps)} a year, {t.interestMethod === 'flat' ? 'flat' : 'declining balance'}; fee {formatMinor(t.disbursementFee, t.currency)}</dd>
        <dt>Applications</dt><dd>{t.startDate} to {t.endDate}</dd>
        <dt>You need</dt><dd><CriteriaText project={project} /></dd>
      </dl>
      <div className='row' style={{ marginTop: 8 }}>
        <Button busy={check.running} testid='eligibility-check' onClick={() => { check.run() }}>Check my eligibility</Button>
        {check.result && <Badge testid='eligibility-result'>{check.result.eligible ? 'eligible' : 'not eligible'}</Badge>}
      </div>
      {check.result && !check.result.eligible && <Alert tone='warn' reasons={check.result.reasons} testid='eligibility-reasons'>Not eligible yet:</Alert>}
      <Alert error={check.error} />
      {canApply
        ? (
          <form className='form' style={{ marginTop: 8 }} onSubmit={(e) => { e.preventDefault(); apply.run() }}>
            <Field label={`Amount (${t.currency})`}>{(id) => <Input id={id} value={amount} onChange={(e) => setAmount(e.target.value)} testid='apply-amount' />}</Field>
            <Field label='Months'>{(id) => <Input id={id} value={months} onChange={(e) => setMonths(e.target.value)} testid='apply-months' />}</Field>
            <Field label='Purpose'>{(id) => <Input id={id} value={purpose} onChange={(e) => setPurpose(e.target.value)} testid='apply-purpose' />}</Field>
            <ConsentBox asker={asker} checked={consent} onChecked={setConsent} days={days} onDays={setDays} />
            <div className='field' style={{ justifyContent: 'end' }}><Button type='submit' variant='primary' busy={apply.running} testid='apply-submit'>Apply</Button></div>
          </form>
          )
        : <p className='small muted'>To apply you need a borrower invite to this book.</p>}
      <ConsentOutcome outcome={granted} who={asker?.words.name ?? 'the originator'} />
      <Alert error={apply.error} testid='apply-error' />
      {apply.result && <Alert tone='good' testid='apply-done'>Applied. The originator will decide; you will see it under My loans.</Alert>}
    </div>
  )
}
