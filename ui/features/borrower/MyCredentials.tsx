/**
 * The borrower's credentials in her SSCR (type, issuer, validity; a check against the issuer's
 * revocation list on demand), and asking an issuer for a credential it has checked her for.
 */
import { useState } from 'react'
import { CREDENTIAL_TYPES } from '../../../core/credentials/catalogue.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { Alert, Badge, Button, Card, Field, Input, Mono, Select, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import type { Api } from '../../../app/session.ts'

type Summary = Api['vc.list']['result'][number]

/** valid / expired / not yet valid, from the credential's own dates. */
export function validity (c: { validFrom: string; validUntil: string | null }, now = Date.now()): string {
  if (Date.parse(c.validFrom) > now) return 'not yet valid'
  if (c.validUntil && Date.parse(c.validUntil) <= now) return 'expired'
  return 'valid'
}

export function MyCredentialsCard () {
  const q = useQuery(() => send('vc.list', {}), [], ['wallet.changed'])
  return (
    <Card title='My credentials' subtitle='Kept encrypted on this device. A project sees only the ones its criteria need.' testid='my-credentials'>
      <Alert error={q.error} />
      <Table<Summary>
        rows={q.data ?? []}
        rowKey={(c) => c.id}
        rowTestid={(c) => 'credential-' + c.type}
        empty='No credentials yet: ask an issuer for one below.'
        columns={[
          { header: 'Type', cell: (c) => <strong>{c.type.replace(/Credential$/, '')}</strong> },
          { header: 'Issuer', cell: (c) => <Mono value={c.issuer} keep={8} /> },
          { header: 'Valid', cell: (c) => <span className='small'>{c.validFrom.slice(0, 10)} → {c.validUntil ? c.validUntil.slice(0, 10) : 'no expiry'}</span> },
          { header: 'Status', cell: (c) => <Badge testid='credential-status'>{validity(c)}</Badge> },
          { header: '', cell: (c) => <CheckCredential id={c.id} /> }
        ]}
      />
    </Card>
  )
}

function CheckCredential ({ id }: { id: string }) {
  const check = useAction(async () => await send('vc.verify', { credential: await send('vc.show', { id }) }))
  const r = check.result
  return (
    <div className='stack' style={{ gap: 2 }}>
      <Button small busy={check.running} testid='credential-check' onClick={() => { check.run() }}>Check now</Button>
      {r && (r.verified ? <Badge tone='good'>verified</Badge> : <span className='small field-error'>{r.problems.map((p) => p.message).join('; ')}</span>)}
      <Alert error={check.error} />
    </div>
  )
}

export function RequestCredentialCard () {
  const toast = useToast()
  const [issuer, setIssuer] = useState('')
  const [type, setType] = useState<string>('KycCredential')
  const request = useAction(async () => {
    const vc = await send('vc.request', { issuer: issuer.trim(), type })
    toast(`${type} received`)
    return vc
  })
  return (
    <Card title='Request a credential' subtitle='The issuer must have checked you for it already; the request goes to its node over the network.' testid='request-credential'>
      <div className='form'>
        <Field label="Issuer's DID" wide>{(id) => <Input id={id} value={issuer} onChange={(e) => setIssuer(e.target.value)} className='mono' placeholder='did:key:z6Mk…' testid='vc-request-issuer' />}</Field>
        <Field label='Type'>
          {(id) => (
            <Select id={id} value={type} onChange={(e) => setType(e.target.value)} testid='vc-request-type'>
              {CREDENTIAL_TYPES.filter((t) => t !== 'RepaymentHistoryCredential').map((t) => <option key={t} value={t}>{t}</option>)}
            </Select>
          )}
        </Field>
      </div>
      <div className='row'>
        <Button variant='primary' busy={request.running} disabled={!issuer.trim()} testid='vc-request' onClick={() => { request.run() }}>Request</Button>
        {request.running && <span className='small muted'>Finding the issuer's node…</span>}
      </div>
      <Alert error={request.error} testid='vc-request-error' />
    </Card>
  )
}
