import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react'

/** A labelled form row: the label, the control, a hint or an error under it. */
export function Field ({ label, hint, error, children, wide }: { label: string; hint?: ReactNode; error?: string | null; children: (id: string) => ReactNode; wide?: boolean }) {
  const id = useId()
  return (
    <div className={'field' + (wide ? ' field-wide' : '')}>
      <label htmlFor={id}>{label}</label>
      {children(id)}
      {error ? <div className='field-error'>{error}</div> : hint ? <div className='field-hint'>{hint}</div> : null}
    </div>
  )
}

type Testid = { testid?: string }

/** A text input with the design system's look. */
export function Input ({ testid, className, ...rest }: InputHTMLAttributes<HTMLInputElement> & Testid) {
  return <input {...rest} data-testid={testid} className={'input ' + (className ?? '')} />
}

/** A select with the design system's look. */
export function Select ({ testid, className, children, ...rest }: SelectHTMLAttributes<HTMLSelectElement> & Testid) {
  return <select {...rest} data-testid={testid} className={'input ' + (className ?? '')}>{children}</select>
}

/** A multi-line text input. */
export function TextArea ({ testid, className, ...rest }: TextareaHTMLAttributes<HTMLTextAreaElement> & Testid) {
  return <textarea {...rest} data-testid={testid} className={'input ' + (className ?? '')} />
}
