/**
 * Which credential issuers the book trusts for each credential type (and which verifiers): the
 * verification service accepts a credential only from an issuer trusted for its type, either
 * named here or certified through a governance DID named here for that type (its certificate
 * chain is checked each time a credential is presented).
 */
import { useState } from 'react'
import { CREDENTIAL_TYPES } from '../../../core/credentials/catalogue.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { Alert, Button, Card, Field, Input, Mono, Select, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'

interface TrustRow { kind: 'issuer' | 'verifier' | 'governance'; types: string[]; did: string }

export function TrustCard ({ book }: { book: string }) {
  const toast = useToast()
  const q = useQuery(() => send('trust.list', { book }), [book], ['book.changed'])
  const [type, setType] = useState<string>('KycCredential')
  const [did, setDid] = useState('')
  const [kind, setKind] = useState<'issuer' | 'governance'>('issuer')
  // one trust op per credential type: trusting or removing an issuer for several types is several ops
  const set = useAction(async (row: TrustRow, trusted: boolean) => {
    if (row.kind === 'verifier') await send('trust.set', { book, kind: 'verifier', did: row.did, trusted })
    for (const t of row.types) await send('trust.set', { book, kind: row.kind === 'governance' ? 'governance' : 'issuer', did: row.did, type: t, trusted })
    toast(trusted ? 'Trusted' : 'No longer trusted')
    return true
  })
  const byIssuer = new Map<string, string[]>()
  for (const [t, dids] of Object.entries(q.data?.issuers ?? {})) for (const d of dids) byIssuer.set(d, [...(byIssuer.get(d) ?? []), t])
  const byGovernance = new Map<string, string[]>()
  for (const [t, dids] of Object.entries(q.data?.governance ?? {})) for (const d of dids) byGovernance.set(d, [...(byGovernance.get(d) ?? []), t])
  const rows: TrustRow[] = [
    ...[...byIssuer].map(([did, types]) => ({ kind: 'issuer' as const, types: types.sort(), did })),
    ...[...byGovernance].map(([did, types]) => ({ kind: 'governance' as const, types: types.sort(), did })),
    ...(q.data?.verifiers ?? []).map((d) => ({ kind: 'verifier' as const, types: [], did: d }))
  ]
  const typeList = type === 'all' ? CREDENTIAL_TYPES.filter((t) => t !== 'RepaymentHistoryCredential') : [type]
  return (
    <Card title='Trusted issuers' subtitle='Credentials count only when their issuer is trusted here for their type.' testid='trust'>
      <div className='form'>
        <Field label='Credential type'>
          {(id) => (
            <Select id={id} value={type} onChange={(e) => setType(e.target.value)} testid='trust-type'>
              <option value='all'>All types except repayment history</option>
              {CREDENTIAL_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
            </Select>
          )}
        </Field>
        <Field label='Trust'>
          {(id) => (
            <Select id={id} value={kind} onChange={(e) => setKind(e.target.value as 'issuer' | 'governance')} testid='trust-kind'>
              <option value='issuer'>this issuer</option>
              <option value='governance'>issuers certified by this governance DID</option>
            </Select>
          )}
        </Field>
        <Field label={kind === 'governance' ? 'Governance DID' : "Issuer's DID"} wide>{(id) => <Input id={id} value={did} onChange={(e) => setDid(e.target.value)} placeholder='did:key:z6Mk…' className='mono' testid='trust-did' />}</Field>
      </div>
      <div className='row'>
        <Button
          variant='primary' busy={set.running} disabled={!did.trim()} testid='trust-add'
          onClick={async () => { if (await set.run({ kind, types: typeList, did: did.trim() }, true)) setDid('') }}
        >{kind === 'governance' ? 'Trust certified issuers' : 'Trust issuer'}
        </Button>
      </div>
      <Alert error={set.error || q.error} testid='trust-error' />
      <Table<TrustRow>
        rows={rows}
        rowKey={(r) => r.kind + r.did}
        rowTestid={(r) => 'trust-' + r.kind + '-' + r.did}
        empty='No trusted issuers or governance DIDs yet: credentials from anyone will be refused.'
        columns={[
          { header: 'DID', cell: (r) => <Mono value={r.did} /> },
          {
            header: 'Trusted as',
            cell: (r) => r.kind === 'verifier'
              ? 'verifier of eligibility'
              : r.kind === 'governance'
                ? <span className='small' data-testid='trust-types'>governance: issuers of {r.types.map((t) => t.replace(/Credential$/, '')).join(', ')} it certified</span>
                : <span className='small' data-testid='trust-types'>issuer of {r.types.map((t) => t.replace(/Credential$/, '')).join(', ')}</span>
          },
          { header: '', cell: (r) => <Button small variant='danger' onClick={() => { set.run(r, false) }}>Remove</Button> }
        ]}
      />
    </Card>
  )
}
