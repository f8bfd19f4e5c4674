/** A horizontal progress bar of `value` out of `max`, with a caption (e.g. "3,000.00 of 10,000.00 EUR"). */
export function Progress ({ value, max, label, testid }: { value: number; max: number; label?: string; testid?: string }) {
  const pct = max > 0 ? Math.min(100, Math.max(0, (value / max) * 100)) : 0
  return (
    <div className='progress' data-testid={testid}>
      <div className='progress-track' role='progressbar' aria-valuemin={0} aria-valuemax={max} aria-valuenow={value}>
        <div className='progress-fill' style={{ width: pct.toFixed(1) + '%' }} />
      </div>
      {label && <div className='progress-label small muted'>{label} ({Math.floor(pct)}%)</div>}
    </div>
  )
}
