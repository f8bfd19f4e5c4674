const TONES: Record<string, 'good' | 'warn' | 'bad' | 'info' | 'plain'> = {
  active: 'good', approved: 'good', confirmed: 'good', repaid: 'good', valid: 'good', eligible: 'good', disbursed: 'info', writer: 'good',
  draft: 'plain', inactive: 'warn', applied: 'info', committed: 'info', recorded: 'warn', pending: 'warn', overdue: 'warn', 'read-only': 'plain',
  closed: 'plain', rejected: 'bad', withdrawn: 'plain', cancelled: 'plain', disputed: 'warn', defaulted: 'bad', expired: 'bad', revoked: 'bad', 'not eligible': 'bad', 'not yet valid': 'warn'
}

/** A status pill; its colour follows the status word (see TONES) unless `tone` says otherwise. */
export function Badge ({ children, tone, testid }: { children: string; tone?: 'good' | 'warn' | 'bad' | 'info' | 'plain'; testid?: string }) {
  return <span className={'badge badge-' + (tone ?? TONES[children] ?? 'plain')} data-testid={testid}>{children}</span>
}
