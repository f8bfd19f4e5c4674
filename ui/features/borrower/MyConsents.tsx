/**
 * The consents she gave to credit-exposure checks: to whom (the DID the consent names, and the
 * name the network's directory gives it), why, until when, and where each stands; revoking one
 * sets its bit on her status list and announces it, after which every originator refuses it.
 * Revoked ones stay listed: she can see that and when she withdrew them.
 */
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { when } from '../../lib/dates.ts'
import { Alert, Badge, Button, Card, Mono, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import type { GivenConsent } from '../../../app/exposure/handlers.ts'
import { askerWords, consentState, sortConsents } from './consent.ts'

const TONE = { 'in force': 'good', revoked: 'bad', expired: 'plain', 'not yet valid': 'warn' } as const

export function MyConsentsCard () {
  // a consent is given on applying, and the application changes the book: re-read then
  const q = useQuery(async () => {
    const [list, listings] = await Promise.all([send('consent.list', {}), send('market.query', {}).catch(() => [])])
    return { given: list.given, listings }
  }, [], ['book.changed', 'market.changed', 'exposure.changed'])
  const rows = sortConsents(q.data?.given ?? [])
  return (
    <Card title='My consents' subtitle='Organizations you let check what you owe other lenders on the network. Each answering originator logs every check.' testid='my-consents'>
      <Alert error={q.error} />
      <Table<GivenConsent>
        rows={rows}
        rowKey={(c) => c.id}
        rowTestid={(c) => 'consent-' + c.id}
        empty='You have given no consent to credit checks.'
        columns={[
          {
            header: 'To',
            cell: (c) => {
              const w = askerWords(c.to, q.data?.listings.find((l) => l.did === c.to))
              return <div className='stack' style={{ gap: 2 }}><span data-testid='consent-to-name'>{w.name}{w.selfDeclared ? ' (self-declared)' : ''}</span><Mono value={c.to} keep={8} testid='consent-to' /></div>
            }
          },
          { header: 'Purpose', cell: (c) => <span data-testid='consent-purpose'>{c.purpose}</span> },
          { header: 'Valid', cell: (c) => <span className='small'>{c.validFrom.slice(0, 10)} → {c.validUntil.slice(0, 10)}</span> },
          {
            header: 'Status',
            cell: (c) => {
              const state = consentState(c)
              return <div className='stack' style={{ gap: 2 }}><span><Badge tone={TONE[state]} testid='consent-status'>{state}</Badge></span>{c.revokedAt ? <span className='small muted'>revoked {when(c.revokedAt)}</span> : null}</div>
            }
          },
          { header: '', cell: (c) => consentState(c) === 'revoked' ? null : <Revoke id={c.id} onDone={q.reload} /> }
        ]}
      />
    </Card>
  )
}

function Revoke ({ id, onDone }: { id: string; onDone: () => void }) {
  const toast = useToast()
  const revoke = useAction(async () => {
    const r = await send('consent.revoke', { id })
    toast(r.announced ? 'Consent revoked and announced to the network' : 'Consent revoked (originators see it when they next read your status list)')
    onDone()
    return r
  })
  return (
    <div className='stack' style={{ gap: 2 }}>
      <Button small variant='danger' busy={revoke.running} testid='consent-revoke' onClick={() => { revoke.run() }}>Revoke</Button>
      <Alert error={revoke.error} testid='consent-revoke-error' />
    </div>
  )
}
