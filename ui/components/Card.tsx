import type { ReactNode } from 'react'

/** A titled panel; `actions` sit at the right of the title. */
export function Card ({ title, actions, children, testid, subtitle }: { title?: ReactNode; subtitle?: ReactNode; actions?: ReactNode; children: ReactNode; testid?: string }) {
  return (
    <section className='card' data-testid={testid}>
      {(title || actions) && (
        <header className='card-head'>
          <div>
            {title && <h2>{title}</h2>}
            {subtitle && <div className='muted small'>{subtitle}</div>}
          </div>
          {actions && <div className='card-actions'>{actions}</div>}
        </header>
      )}
      <div className='card-body'>{children}</div>
    </section>
  )
}
