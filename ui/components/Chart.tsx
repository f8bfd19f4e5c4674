/**
 * Bar charts in plain SVG: one stacked bar per category (series stacked bottom to top), with an
 * optional line over them (e.g. a running total, on its own scale). Values are numbers in one
 * unit; `format` renders them for the axis and tooltips.
 */
export interface Series { name: string; color: string; values: number[] }

export function BarChart ({ labels, series, line, format = String, height = 220, testid, title }: {
  labels: string[]
  series: Series[]
  line?: { name: string; color: string; values: number[] }
  format?: (n: number) => string
  height?: number
  testid?: string
  title: string
}) {
  const width = 640
  const pad = { left: 78, right: line ? 78 : 16, top: 12, bottom: 34 }
  const plotW = width - pad.left - pad.right
  const plotH = height - pad.top - pad.bottom
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] ?? 0), 0))
  const max = Math.max(1, ...totals)
  const lineMax = line ? Math.max(1, ...line.values) : 1
  const slot = plotW / Math.max(1, labels.length)
  const barW = Math.max(2, Math.min(48, slot * 0.7))
  const y = (v: number) => pad.top + plotH - (v / max) * plotH
  const ticks = [0, 0.5, 1].map((f) => Math.round(max * f))
  const every = Math.ceil(labels.length / 12)

  return (
    <figure className='chart' data-testid={testid}>
      <svg viewBox={`0 0 ${width} ${height}`} role='img' aria-label={title} preserveAspectRatio='xMidYMid meet'>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.left} x2={width - pad.right} y1={y(t)} y2={y(t)} className='chart-grid' />
            <text x={pad.left - 6} y={y(t) + 4} textAnchor='end' className='chart-axis'>{format(t)}</text>
          </g>
        ))}
        {labels.map((label, i) => {
          let base = 0
          const x = pad.left + slot * i + (slot - barW) / 2
          return (
            <g key={i}>
              {series.map((s) => {
                const v = s.values[i] ?? 0
                const top = y(base + v)
                const h = y(base) - top
                base += v
                return v > 0 ? <rect key={s.name} x={x} y={top} width={barW} height={h} fill={s.color}><title>{`${label} ${s.name}: ${format(v)}`}</title></rect> : null
              })}
              {i % every === 0 && <text x={x + barW / 2} y={height - pad.bottom + 16} textAnchor='middle' className='chart-axis'>{label}</text>}
            </g>
          )
        })}
        {line && line.values.length > 0 && (
          <g>
            <polyline
              fill='none' stroke={line.color} strokeWidth={2}
              points={line.values.map((v, i) => `${pad.left + slot * i + slot / 2},${pad.top + plotH - (v / lineMax) * plotH}`).join(' ')}
            />
            {line.values.map((v, i) => <circle key={i} cx={pad.left + slot * i + slot / 2} cy={pad.top + plotH - (v / lineMax) * plotH} r={3} fill={line.color}><title>{`${labels[i]} ${line.name}: ${format(v)}`}</title></circle>)}
            <text x={width - pad.right + 6} y={pad.top + 4} className='chart-axis'>{format(lineMax)}</text>
          </g>
        )}
      </svg>
      <figcaption className='chart-legend'>
        {[...series, ...(line ? [line] : [])].map((s) => <span key={s.name}><i style={{ background: s.color }} />{s.name}</span>)}
      </figcaption>
    </figure>
  )
}
