import type { ReactNode } from 'react'

export interface Column<T> { header: string; cell: (row: T) => ReactNode; align?: 'right'; className?: string }

/**
 * A plain data table. Each row gets `data-testid={rowTestid(row)}` so tests can find a record by
 * its id; `empty` shows when there are no rows.
 */
export function Table<T> ({ columns, rows, rowKey, rowTestid, empty = 'Nothing yet.', testid }: {
  columns: Array<Column<T>>
  rows: T[]
  rowKey: (row: T) => string
  rowTestid?: (row: T) => string
  empty?: ReactNode
  testid?: string
}) {
  if (rows.length === 0) return <p className='muted empty' data-testid={testid ? testid + '-empty' : undefined}>{empty}</p>
  return (
    <div className='table-wrap'>
      <table className='table' data-testid={testid}>
        <thead>
          <tr>{columns.map((c) => <th key={c.header} className={c.align === 'right' ? 'right' : undefined}>{c.header}</th>)}</tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} data-testid={rowTestid?.(row)}>
              {columns.map((c) => <td key={c.header} className={[c.align === 'right' ? 'right' : '', c.className ?? ''].join(' ').trim() || undefined}>{c.cell(row)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
