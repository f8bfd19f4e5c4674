/** A small rotating ring for work in progress; `label` is read by screen readers. */
export function Spinner ({ label = 'working' }: { label?: string }) {
  return <span className='spinner' role='status' aria-label={label} />
}
