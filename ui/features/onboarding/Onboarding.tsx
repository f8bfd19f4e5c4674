/**
 * First run: create an identity (optionally encrypted with a passphrase) or restore one from a
 * backup file, then pick the role to start in. The role is only the screen shown first: the same
 * identity can originate, borrow and invest.
 */
import { useState } from 'react'
import { send } from '../../lib/contract-client.ts'
import { useAction } from '../../lib/hooks.ts'
import { Alert, Button, Card, CopyButton, Field, Input } from '../../components/index.ts'

type StartRole = 'originator' | 'borrower' | 'investor' | 'credentials'

const ROLES: Array<{ id: StartRole; label: string; text: string }> = [
  { id: 'originator', label: 'Originator', text: 'Run lending projects: create a book, set terms and criteria, approve loans.' },
  { id: 'borrower', label: 'Borrower', text: 'Hold your credentials, find projects you qualify for, apply and repay.' },
  { id: 'investor', label: 'Investor', text: 'Fund projects and follow the repayments you receive.' },
  { id: 'credentials', label: 'Credential issuer', text: 'Issue and revoke credentials for the people you have checked.' }
]

/** Reads a file as base64 (without the data: URL prefix). */
function readBase64 (file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader()
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''))
    r.onerror = () => reject(new Error(`could not read ${file.name}`))
    r.readAsDataURL(file)
  })
}

export function Onboarding ({ onDone }: { onDone: (role: StartRole) => void }) {
  const [did, setDid] = useState<string | null>(null)
  const [passphrase, setPassphrase] = useState('')
  const [file, setFile] = useState<File | null>(null)
  const [backupPass, setBackupPass] = useState('')
  const [restorePass, setRestorePass] = useState('')
  const [newSeed, setNewSeed] = useState(false)
  const create = useAction(async () => (await send('identity.create', passphrase ? { passphrase } : {})).did)
  const restore = useAction(async () => {
    if (!file) throw new Error('choose the backup file first')
    const r = await send('identity.restore', { backup: await readBase64(file), passphrase: backupPass, ...(restorePass ? { identityPassphrase: restorePass } : {}) })
    // an old backup carries no wallet seed: the addresses are new, and the user must know
    setNewSeed(r.walletSeed === 'generated')
    return r.did
  })

  return (
    <div className='onboarding' data-testid='onboarding'>
      <h1>Welcome to Growr</h1>
      <p className='muted'>Growr runs a full peer-to-peer node on this device. Your identity is a key pair that stays here; others know you by its DID.</p>
      {did === null
        ? (
          <>
            <Card title='Create a new identity'>
              <Field label='Passphrase (optional)' hint='Encrypts the identity file on this device. Without it the file is protected only by the file system.'>
                {(id) => <Input id={id} type='password' value={passphrase} onChange={(e) => setPassphrase(e.target.value)} testid='onboard-passphrase' autoComplete='new-password' />}
              </Field>
              <div className='row'>
                <Button variant='primary' busy={create.running} testid='onboard-create' onClick={async () => { const d = await create.run(); if (d) setDid(d) }}>Create identity</Button>
              </div>
              <Alert error={create.error} testid='onboard-error' />
            </Card>
            <Card title='Or restore from a backup'>
              <div className='form'>
                <Field label='Backup file'>
                  {(id) => <Input id={id} type='file' testid='restore-file' onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
                </Field>
                <Field label='Backup passphrase'>
                  {(id) => <Input id={id} type='password' value={backupPass} onChange={(e) => setBackupPass(e.target.value)} testid='restore-passphrase' autoComplete='current-password' />}
                </Field>
                <Field label='New identity passphrase (optional)' hint='Encrypts the restored identity file on this device, as on the create form. Without it the file is protected only by the file system.'>
                  {(id) => <Input id={id} type='password' value={restorePass} onChange={(e) => setRestorePass(e.target.value)} testid='restore-identity-passphrase' autoComplete='new-password' />}
                </Field>
              </div>
              <div className='row'>
                <Button busy={restore.running} disabled={!file || !backupPass} testid='restore-submit' onClick={async () => { const d = await restore.run(); if (d) setDid(d) }}>Restore</Button>
              </div>
              <Alert error={restore.error} testid='restore-error' />
            </Card>
          </>
          )
        : (
          <>
            <Card title='Your identity is ready'>
              <div className='code-box' data-testid='onboard-did'>{did}</div>
              {newSeed && <Alert tone='info' testid='restore-new-seed'>This backup predates wallets: a new wallet seed was made, so your Bitcoin and Rootstock addresses are new.</Alert>}
              <div className='row'><CopyButton text={did} label='Copy DID' /></div>
            </Card>
            <Card title='Where do you want to start?' subtitle='You can switch at any time from the menu.'>
              <div className='grid-2'>
                {ROLES.map((r) => (
                  <div key={r.id} className='stack' style={{ gap: 6 }}>
                    <Button variant='primary' testid={'start-' + r.id} onClick={() => onDone(r.id)}>{r.label}</Button>
                    <span className='small muted'>{r.text}</span>
                  </div>
                ))}
              </div>
            </Card>
          </>
          )}
    </div>
  )
}
