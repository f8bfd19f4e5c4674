/**
 * Credentials, the issuer's side: record what was checked about a subject (enroll) so the
 * subject can request the credential; list enrolments (a revoked one stays revoked until the
 * subject is enrolled again) and unenroll; list what was issued, revoke; and back up this
 * identity with its credentials to a file.
 */
import { useState } from 'react'
import { CREDENTIAL_TYPES, FACTS, SUBJECT_SCHEMAS, type CredentialType } from '../../../core/credentials/catalogue.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { parseMajor } from '../../lib/money.ts'
import { when } from '../../lib/dates.ts'
import { Alert, Badge, Button, Card, Field, Input, Mono, Select, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import type { Api } from '../../../app/session.ts'

type Issued = Api['vc.issued']['result'][number]
type Enrolment = Api['vc.enrolled']['result'][number]
interface Prop { type?: string; enum?: string[]; pattern?: string }

const ENROLLABLE = CREDENTIAL_TYPES.filter((t) => t !== 'RepaymentHistoryCredential')

/** The claim fields of a type, from its subject schema (the subject's id aside). */
function claimFields (type: CredentialType): Array<[string, Prop]> {
  const props = (SUBJECT_SCHEMAS[type] as { properties: Record<string, Prop> }).properties
  return Object.entries(props).filter(([k]) => k !== 'id')
}

/**
 * The form's text values as claims: money facts from major units of the claim's `currency`,
 * integers as numbers, the rest as text.
 * @throws Error naming the field that does not parse
 */
function toClaims (type: CredentialType, values: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, p] of claimFields(type)) {
    const v = (values[k] ?? '').trim()
    if (FACTS[k]?.kind === 'money') {
      const m = parseMajor(v, values.currency ?? '')
      if (!m.ok) throw new Error(`${FACTS[k].label}: ${m.error}`)
      out[k] = m.value
    } else if (p.type === 'integer') {
      if (!/^\d+$/.test(v)) throw new Error(`${k} must be a whole number`)
      out[k] = Number(v)
    } else {
      out[k] = v
    }
  }
  return out
}

export function CredentialsScreen () {
  // the issuer's records change on this screen's own actions (no core event covers them): each
  // action bumps `version` and every list re-reads
  const [version, setVersion] = useState(0)
  const changed = () => setVersion((v) => v + 1)
  return (
    <div className='stack' data-testid='screen-credentials'>
      <div className='page-head'><h1>Credentials</h1><p className='muted'>Issue credentials to people you have checked.</p></div>
      <div className='grid-2'>
        <EnrollCard onDone={changed} />
        <BackupCard />
      </div>
      <EnrolledCard version={version} onChange={changed} />
      <IssuedCard version={version} onChange={changed} />
    </div>
  )
}

function EnrollCard ({ onDone }: { onDone: () => void }) {
  const toast = useToast()
  const [subject, setSubject] = useState('')
  const [type, setType] = useState<CredentialType>('KycCredential')
  const [values, setValues] = useState<Record<string, string>>({ kycStatus: 'verified' })
  const [validUntil, setValidUntil] = useState('')
  const enroll = useAction(async () => {
    const r = await send('vc.enroll', { subject: subject.trim(), type, claims: toClaims(type, values), validUntil: validUntil ? new Date(validUntil + 'T23:59:59Z').toISOString() : undefined })
    toast(`Enrolled: the subject can now request a ${type}`)
    onDone()
    return r
  })
  const pick = (t: CredentialType) => {
    setType(t)
    setValues(Object.fromEntries(claimFields(t).map(([k, p]) => [k, p.enum?.[0] ?? (k === 'currency' ? 'EUR' : '')])))
    enroll.clear()
  }
  return (
    <Card title='Enroll a subject' subtitle='Record what you checked. The subject then requests the signed credential from their own node.' testid='enroll'>
      <div className='form'>
        <Field label="Subject's DID" wide>{(id) => <Input id={id} value={subject} onChange={(e) => setSubject(e.target.value)} className='mono' placeholder='did:key:z6Mk…' testid='enroll-subject' />}</Field>
        <Field label='Credential type'>
          {(id) => (
            <Select id={id} value={type} onChange={(e) => pick(e.target.value as CredentialType)} testid='enroll-type'>
              {ENROLLABLE.map((t) => <option key={t} value={t}>{t}</option>)}
            </Select>
          )}
        </Field>
        {claimFields(type).map(([k, p]) => (
          <Field key={k} label={FACTS[k]?.kind === 'money' ? `${FACTS[k].label} (${values.currency || 'currency'})` : FACTS[k]?.label ?? k}>
            {(id) => p.enum
              ? <Select id={id} value={values[k] ?? ''} onChange={(e) => setValues({ ...values, [k]: e.target.value })} testid={'enroll-claim-' + k}>{p.enum.map((v) => <option key={v} value={v}>{v}</option>)}</Select>
              : <Input id={id} value={values[k] ?? ''} onChange={(e) => setValues({ ...values, [k]: e.target.value })} testid={'enroll-claim-' + k} />}
          </Field>
        ))}
        <Field label='Valid until (optional)'>{(id) => <Input id={id} type='date' value={validUntil} onChange={(e) => setValidUntil(e.target.value)} testid='enroll-valid-until' />}</Field>
      </div>
      <div className='row'><Button variant='primary' busy={enroll.running} disabled={!subject.trim()} testid='enroll-submit' onClick={() => { enroll.run() }}>Enroll</Button></div>
      <Alert error={enroll.error} testid='enroll-error' />
      {enroll.result && <Alert tone='good' testid='enroll-done'>Enrolled {enroll.result.type} for <Mono value={enroll.result.subject} /></Alert>}
    </Card>
  )
}

const STATE_WORDS: Record<Enrolment['state'], string> = { enrolled: 'enrolled', issued: 'valid', revoked: 'revoked' }

function EnrolledCard ({ version, onChange }: { version: number; onChange: () => void }) {
  const q = useQuery(() => send('vc.enrolled', {}), [version], ['wallet.changed'])
  return (
    <Card title='Enrolments' subtitle='What you vouch for. A revoked enrolment issues nothing until you enroll the subject again.' testid='enrolled' actions={<Button small onClick={q.reload} busy={q.loading} testid='enrolled-reload'>Refresh</Button>}>
      <Alert error={q.error} />
      <Table<Enrolment>
        rows={q.data ?? []}
        rowKey={(r) => r.subject + '/' + r.type}
        rowTestid={(r) => 'enrolled-' + r.type}
        empty='Nobody enrolled yet.'
        columns={[
          { header: 'Type', cell: (r) => r.type },
          { header: 'Subject', cell: (r) => <Mono value={r.subject} keep={8} /> },
          { header: 'Enrolled', cell: (r) => when(r.at) },
          {
            header: 'State',
            cell: (r) => (
              <div className='stack' style={{ gap: 2 }}>
                <span><Badge testid='enrolled-state'>{STATE_WORDS[r.state]}</Badge></span>
                {r.state === 'enrolled' && <span className='small muted'>not requested yet</span>}
                {r.state === 'revoked' && <span className='small muted'>enroll again to vouch again</span>}
              </div>
            )
          },
          { header: '', cell: (r) => <Unenroll subject={r.subject} type={r.type} standing={r.state === 'issued'} onDone={onChange} /> }
        ]}
      />
    </Card>
  )
}

function Unenroll ({ subject, type, standing, onDone }: { subject: string; type: string; standing: boolean; onDone: () => void }) {
  const toast = useToast()
  const unenroll = useAction(async () => {
    const r = await send('vc.unenroll', { subject, type })
    toast(r.revoked ? 'Unenrolled, and the credential issued from it is revoked' : 'Unenrolled')
    onDone()
  })
  return (
    <div className='stack' style={{ gap: 2 }}>
      <Button small variant='danger' busy={unenroll.running} testid='enrolled-unenroll' title={standing ? 'also revokes the credential issued from it' : undefined} onClick={() => { unenroll.run() }}>Unenroll</Button>
      <Alert error={unenroll.error} />
    </div>
  )
}

function IssuedCard ({ version, onChange }: { version: number; onChange: () => void }) {
  const q = useQuery(() => send('vc.issued', {}), [version], ['wallet.changed'])
  return (
    <Card title='Issued credentials' testid='issued' actions={<Button small onClick={q.reload} busy={q.loading} testid='issued-reload'>Refresh</Button>}>
      <Alert error={q.error} />
      <Table<Issued>
        rows={q.data ?? []}
        rowKey={(r) => r.id}
        rowTestid={(r) => 'issued-' + r.type}
        empty='Nothing issued yet.'
        columns={[
          { header: 'Type', cell: (r) => r.type },
          { header: 'Subject', cell: (r) => <Mono value={r.subject} keep={8} /> },
          { header: 'Issued', cell: (r) => when(r.issuedAt) },
          { header: 'Status', cell: (r) => <Badge testid='issued-status'>{r.revoked ? 'revoked' : 'valid'}</Badge> },
          { header: '', cell: (r) => !r.revoked && r.statusIndex !== null && <Revoke id={r.id} onDone={onChange} /> }
        ]}
      />
    </Card>
  )
}

function Revoke ({ id, onDone }: { id: string; onDone: () => void }) {
  const toast = useToast()
  const revoke = useAction(async () => {
    await send('vc.revoke', { id })
    toast('Revoked: verifiers will refuse it from their next status check, and the subject gets no new one until you enroll them again')
    onDone()
  })
  return (
    <div className='stack' style={{ gap: 2 }}>
      <Button small variant='danger' busy={revoke.running} testid='issued-revoke' onClick={() => { revoke.run() }}>Revoke</Button>
      <Alert error={revoke.error} />
    </div>
  )
}

function BackupCard () {
  const [pass, setPass] = useState('')
  const backup = useAction(async () => {
    const r = await send('backup.create', { passphrase: pass })
    const bytes = Uint8Array.from(atob(r.backup), (c) => c.charCodeAt(0))
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }))
    const a = document.createElement('a')
    a.href = url
    a.download = `growr-backup-${new Date().toISOString().slice(0, 10)}.bin`
    a.click()
    setTimeout(() => URL.revokeObjectURL(url), 10_000)
    setPass('')
    return r
  })
  return (
    <Card title='Back up this identity' subtitle='One file with your identity, credentials and wallet seed, encrypted with the passphrase (Argon2id). Restore it on the welcome screen of a new device.' testid='backup'>
      <Field label='Passphrase (at least 8 characters)'>{(id) => <Input id={id} type='password' value={pass} onChange={(e) => setPass(e.target.value)} autoComplete='new-password' testid='backup-passphrase' />}</Field>
      <div className='row'><Button variant='primary' busy={backup.running} disabled={pass.length === 0} testid='backup-create' onClick={() => { backup.run() }}>Download backup</Button></div>
      <Alert error={backup.error} testid='backup-error' />
      {backup.result && <Alert tone='good' testid='backup-done'>Backup downloaded with {backup.result.credentials} credential{backup.result.credentials === 1 ? '' : 's'}.</Alert>}
    </Card>
  )
}
