/**
 * Credit exposure on the originator's screen (core/exposure/): for an applicant who consented,
 * what she owes every certified originator on the network and in total per currency; and, on the
 * answering side, the log of the checks other originators made of this node.
 */
import { send, type ContractError } from '../../lib/contract-client.ts'
import { useQuery } from '../../lib/hooks.ts'
import { when } from '../../lib/dates.ts'
import { Alert, Badge, Button, Card, Mono, Table } from '../../components/index.ts'
import type { ExposureCheck, ReceivedConsent } from '../../../app/exposure/handlers.ts'
import { checkSummary, exposureRows, figures, loansText, logRows, STATUS_WORDS, type ExposureFigures, type ExposureRow, type LogRow } from './exposure.ts'

/** How long a check collects answers, ms: the core's default; the check ends earlier once all answered. */
export const CHECK_DEADLINE_MS = 15_000

/** The Applications row's cell: the button, or why there is none. */
export function ExposureCell ({ held, refused, busy, onCheck }: { held: ReceivedConsent | null; refused: boolean; busy: boolean; onCheck: () => void }) {
  return (
    <div className='stack' style={{ gap: 2, minWidth: 140 }}>
      <Button small busy={busy} disabled={!held} testid='exposure-check' title={held ? `consent "${held.purpose}" until ${held.validUntil.slice(0, 10)}` : undefined} onClick={onCheck}>Check exposure</Button>
      {!held
        ? <span className='small muted' data-testid='exposure-not-consented'>The borrower has not consented to a credit check.</span>
        // the list does not know of revocations: the last check does
        : refused
          ? <span className='small muted' data-testid='exposure-consent-refused'>her consent is no longer in force (the last check found none)</span>
          : <span className='small muted' data-testid='exposure-consent-held'>consent until {held.validUntil.slice(0, 10)}</span>}
    </div>
  )
}

/** Per currency, one line each; the exact minor units in data-value. */
function Amounts ({ list, pick, raw, testid }: { list: ExposureFigures[]; pick: (f: ExposureFigures) => string; raw: (f: ExposureFigures) => string; testid: string }) {
  if (list.length === 0) return <span className='muted small' data-testid={testid + '-none'}>owes nothing here</span>
  return (
    <div className='stack' style={{ gap: 0 }}>
      {list.map((f) => <span key={f.currency} data-testid={testid} data-currency={f.currency} data-value={raw(f)}>{pick(f)}</span>)}
    </div>
  )
}

/** The result of one check, or why there is none. */
export function ExposureResult ({ borrower, check, error }: { borrower: string; check: ExposureCheck | undefined; error: ContractError | null }) {
  if (error?.code === 'NOT_FOUND') {
    return (
      <Alert tone='warn' testid='exposure-no-consent'>
        <strong>No consent.</strong> <Mono value={borrower} keep={8} /> has given you no consent in force (never given, expired, or she revoked it), so nothing was asked and nothing is shown. Ask her to tick the consent box when she applies.
      </Alert>
    )
  }
  if (error) return <Alert error={error} testid='exposure-error' />
  if (!check) return null
  const rows = exposureRows(check)
  return (
    <div className='stack' data-testid='exposure-result' data-subject={check.subject}>
      <div className='small'>
        Credit exposure of <Mono value={check.subject} keep={8} /> under her consent “<span data-testid='exposure-purpose'>{check.grant.purpose}</span>” (until {check.grant.validUntil.slice(0, 10)}). <span data-testid='exposure-summary'>{checkSummary(check)}</span>
      </div>
      <Table<ExposureRow>
        rows={rows}
        rowKey={(r) => r.key}
        rowTestid={(r) => 'exposure-row-' + (r.status === 'own' ? 'own' : r.did)}
        columns={[
          { header: 'Originator', cell: (r) => <div className='stack' style={{ gap: 2 }}><strong data-testid='exposure-org'>{r.organization}</strong>{r.status !== 'own' && <Mono value={r.did} keep={8} testid='exposure-did' />}</div> },
          { header: 'Certified', cell: (r) => r.certified === null ? <span className='muted small'>you</span> : <Badge tone={r.certified ? 'good' : 'bad'} testid='exposure-cert'>{r.certified ? 'certified' : 'uncertified'}</Badge> },
          { header: 'Status', cell: (r) => <Badge tone={STATUS_WORDS[r.status].tone} testid='exposure-status'>{STATUS_WORDS[r.status].label}</Badge> },
          { header: 'Outstanding principal', cell: (r) => r.figures ? <Amounts list={r.figures} pick={(f) => f.outstanding} raw={(f) => f.raw.outstandingPrincipal} testid='exposure-outstanding' /> : <span className='small' data-testid='exposure-note'>{r.note}</span> },
          { header: 'In arrears', cell: (r) => r.figures && r.figures.length > 0 ? <Amounts list={r.figures} pick={(f) => f.arrears} raw={(f) => f.raw.arrearsAmount} testid='exposure-arrears' /> : null },
          { header: 'Loans', cell: (r) => r.figures ? <span className='small' data-testid='exposure-loans'>{loansText(r.figures)}</span> : null },
          { header: 'As of', cell: (r) => <span className='small muted'>{r.asOf ?? ''}</span> }
        ]}
      />
      <div data-testid='exposure-combined'>
        <strong>Combined</strong> <span className='small muted'>(your books and every answer with figures, per currency)</span>
        {check.combined.length === 0
          ? <p className='small' data-testid='exposure-combined-none'>She owes nothing to any originator that answered.</p>
          : (
            <dl className='kv small'>
              {check.combined.map(figures).map((f) => (
                <div key={f.currency} style={{ display: 'contents' }} data-testid={'exposure-combined-' + f.currency}>
                  <dt>{f.currency}</dt>
                  <dd>
                    outstanding <span data-testid='exposure-combined-outstanding' data-value={f.raw.outstandingPrincipal}>{f.outstanding}</span>; in arrears <span data-testid='exposure-combined-arrears' data-value={f.raw.arrearsAmount}>{f.arrears}</span>; {loansText([f])}
                  </dd>
                </div>
              ))}
            </dl>
            )}
      </div>
    </div>
  )
}

/**
 * The checks other originators made of this node, newest first. There is no event for a query
 * answered, so the list re-reads on book changes and on "Refresh".
 */
export function ExposureLogCard () {
  const q = useQuery(async () => {
    const [entries, listings] = await Promise.all([send('exposure.log', { limit: 50 }), send('market.query', {}).catch(() => [])])
    return { rows: logRows(entries), names: new Map(listings.map((l) => [l.did as string, l.organization.trim()])) }
  }, [], ['book.changed', 'exposure.changed'])
  return (
    <Card
      title='Exposure queries'
      subtitle='Credit checks other originators asked this node about a borrower: each is answered only under her consent naming the asker.'
      actions={<Button small busy={q.loading} testid='exposure-log-refresh' onClick={() => q.reload()}>Refresh</Button>}
      testid='exposure-log'
    >
      <Alert error={q.error} />
      <Table<LogRow>
        rows={q.data?.rows ?? []}
        rowKey={(r) => r.key}
        rowTestid={() => 'exposure-log-entry'}
        empty='Nobody has asked this node about a borrower yet.'
        columns={[
          { header: 'Time', cell: (r) => <span className='small'>{when(r.at)}</span> },
          { header: 'Asker', cell: (r) => <div className='stack' style={{ gap: 2 }}>{q.data?.names.get(r.asker) ? <span data-testid='exposure-log-asker-name'>{q.data.names.get(r.asker)}</span> : null}<Mono value={r.asker} keep={8} testid='exposure-log-asker' /></div> },
          { header: 'Borrower', cell: (r) => r.subject ? <Mono value={r.subject} keep={8} testid='exposure-log-subject' /> : <span className='muted small'>unreadable</span> },
          { header: 'Purpose', cell: (r) => <span data-testid='exposure-log-purpose'>{r.purpose}</span> },
          { header: 'Outcome', cell: (r) => <Badge tone={r.tone} testid='exposure-log-outcome'>{r.outcomeLabel}</Badge> },
          { header: 'Reason', cell: (r) => <span className='small' data-testid='exposure-log-reason'>{r.reason}</span> }
        ]}
      />
    </Card>
  )
}
