import type { ButtonHTMLAttributes } from 'react'
import { Spinner } from './Spinner.tsx'

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost'
  /** shows a spinner and disables the button while an action runs */
  busy?: boolean
  testid?: string
  small?: boolean
}

/** The one button: variants by intent, a spinner and no second click while `busy`. */
export function Button ({ variant = 'secondary', busy = false, testid, small, className, children, disabled, type = 'button', ...rest }: ButtonProps) {
  return (
    <button
      {...rest}
      type={type}
      data-testid={testid}
      aria-busy={busy || undefined}
      disabled={disabled || busy}
      className={['btn', 'btn-' + variant, small ? 'btn-small' : '', className ?? ''].join(' ').trim()}
    >
      {busy && <Spinner />}
      <span>{children}</span>
    </button>
  )
}
