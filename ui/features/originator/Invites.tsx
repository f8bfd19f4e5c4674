/** Inviting a borrower or investor to write to the book: a single-use code to pass on. */
import { useState } from 'react'
import { send } from '../../lib/contract-client.ts'
import { useAction } from '../../lib/hooks.ts'
import { when } from '../../lib/dates.ts'
import { Alert, Button, Card, CopyButton, Field, Select } from '../../components/index.ts'

export function InviteCard ({ book }: { book: string }) {
  const [role, setRole] = useState<'borrower' | 'investor'>('borrower')
  const create = useAction(async () => await send('invite.create', { book, role }))
  return (
    <Card title='Invite a participant' subtitle='Each code admits one person, once; keep this node online until they accept.' testid='invite'>
      <div className='row' style={{ alignItems: 'end' }}>
        <Field label='Role'>
          {(id) => (
            <Select id={id} value={role} onChange={(e) => { setRole(e.target.value as typeof role); create.clear() }} testid='invite-role'>
              <option value='borrower'>Borrower</option>
              <option value='investor'>Investor</option>
            </Select>
          )}
        </Field>
        <Button variant='primary' busy={create.running} testid='invite-create' onClick={() => { create.run() }}>Create invite</Button>
      </div>
      <Alert error={create.error} />
      {create.result && (
        <div className='stack' style={{ gap: 6 }}>
          <div className='code-box' data-testid='invite-code'>{create.result.code}</div>
          <div className='row'>
            <CopyButton text={create.result.code} label='Copy code' testid='invite-copy' />
            <span className='small muted'>For a {create.result.role}; valid until {when(create.result.expires)}</span>
          </div>
        </div>
      )}
    </Card>
  )
}
