/**
 * A button for an act that needs a reason the other party will read (dispute, cancel): the first
 * click opens a short text field, the second sends. No window.prompt, so it works in every shell.
 */
import { useState } from 'react'
import { Button } from './Button.tsx'
import { Input } from './Field.tsx'

export function ReasonButton ({ label, placeholder, busy, variant = 'danger', testid, onSubmit }: {
  label: string
  placeholder: string
  busy?: boolean
  variant?: 'danger' | 'primary'
  testid: string
  onSubmit: (reason: string) => void
}) {
  const [open, setOpen] = useState(false)
  const [reason, setReason] = useState('')
  if (!open) return <Button small variant={variant} testid={testid} onClick={() => setOpen(true)}>{label}</Button>
  return (
    <form className='row' style={{ gap: 4 }} onSubmit={(e) => { e.preventDefault(); onSubmit(reason.trim()); setOpen(false); setReason('') }}>
      <Input aria-label={`${label}: reason`} placeholder={placeholder} value={reason} onChange={(e) => setReason(e.target.value)} style={{ width: 200 }} testid={testid + '-reason'} />
      <Button small type='submit' variant={variant} busy={busy} disabled={!reason.trim()} testid={testid + '-send'}>{label}</Button>
      <Button small onClick={() => { setOpen(false); setReason('') }}>Keep</Button>
    </form>
  )
}
