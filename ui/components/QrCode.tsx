import { useMemo } from 'react'
import { encodeQR } from '@paulmillr/qr'

/** The quiet zone ISO/IEC 18004 asks around a QR code, in modules. */
export const QR_QUIET_ZONE = 4

/** One horizontal run of dark modules: row `y`, columns `x` to `x + w - 1`. */
export interface QrRun { x: number; y: number; w: number }

/**
 * The dark modules of the QR code of `text` (@paulmillr/qr, byte mode, error correction
 * 'medium'), merged into horizontal runs so a 57 x 57 code needs a few hundred shapes, not a few
 * thousand.
 * @returns `{ size, runs }` (size in modules, without the quiet zone), or null when `text` is too
 *   long for any QR version
 */
export function qrRuns (text: string): { size: number; runs: QrRun[] } | null {
  let matrix: boolean[][]
  try {
    matrix = encodeQR(text, 'raw', { ecc: 'medium', border: 0 })
  } catch {
    return null
  }
  const runs: QrRun[] = []
  matrix.forEach((row, y) => {
    let start = -1
    for (let x = 0; x <= row.length; x++) {
      const dark = x < row.length && row[x] === true
      if (dark && start < 0) start = x
      if (!dark && start >= 0) { runs.push({ x: start, y, w: x - start }); start = -1 }
    }
  })
  return { size: matrix.length, runs }
}

/**
 * A QR code drawn as plain SVG rectangles from the module matrix, computed here from `text`: no
 * canvas, no network, no markup string inserted into the page (nothing to sanitize). Each dark
 * run is a `<rect>` in module units, so the picture stays sharp at any size.
 * `label` is read by screen readers; `text` is kept in `data-text` for tests and copying.
 */
export function QrCode ({ text, label, size = 184, testid }: { text: string; label: string; size?: number; testid?: string }) {
  const qr = useMemo(() => qrRuns(text), [text])
  if (!qr) return <span className='small muted' data-testid={testid}>too long for a QR code: copy the text instead</span>
  const side = qr.size + 2 * QR_QUIET_ZONE
  return (
    <svg
      className='qr' role='img' aria-label={label} width={size} height={size}
      viewBox={`0 0 ${side} ${side}`} shapeRendering='crispEdges'
      data-testid={testid} data-text={text} data-modules={qr.size}
    >
      <rect width={side} height={side} fill='#fff' />
      <g fill='#000' transform={`translate(${QR_QUIET_ZONE} ${QR_QUIET_ZONE})`}>
        {qr.runs.map((r) => <rect key={r.y * side + r.x} x={r.x} y={r.y} width={r.w} height={1} />)}
      </g>
    </svg>
  )
}
