import type { ReactNode } from 'react'
import type { ContractError } from '../lib/contract-client.ts'

/**
 * A message box. Given a ContractError it shows the core's message in plain words and keeps the
 * code in `data-code` for tests; `reasons` (e.g. eligibility) are listed under it.
 */
export function Alert ({ tone = 'bad', error, children, reasons, testid }: { tone?: 'bad' | 'good' | 'info' | 'warn'; error?: ContractError | null; children?: ReactNode; reasons?: string[]; testid?: string }) {
  if (!error && !children) return null
  return (
    <div className={'alert alert-' + tone} role={tone === 'bad' ? 'alert' : 'status'} data-testid={testid} data-code={error?.code}>
      <div>{error ? error.message : children}</div>
      {reasons && reasons.length > 0 && <ul>{reasons.map((r, i) => <li key={i}>{r}</li>)}</ul>}
    </div>
  )
}
