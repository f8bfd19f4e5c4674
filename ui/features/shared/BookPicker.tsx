/**
 * Choosing which followed book a screen works on. Remembers the choice per screen in
 * localStorage and falls back to the first book when the remembered one is gone.
 */
import { useEffect, useState } from 'react'
import type { BookInfo } from '../../app/node-context.tsx'
import { Select } from '../../components/index.ts'

/** The selected topic among `books` for `screen`, and a setter. */
export function useBookChoice (screen: string, books: BookInfo[]): [string | null, (topic: string) => void] {
  const key = 'growr.book.' + screen
  const [chosen, setChosen] = useState<string | null>(() => localStorage.getItem(key))
  const valid = books.some((b) => b.topic === chosen) ? chosen : books[0]?.topic ?? null
  useEffect(() => { if (valid) localStorage.setItem(key, valid) }, [key, valid])
  return [valid, setChosen]
}

export function BookPicker ({ books, value, onChange, testid }: { books: BookInfo[]; value: string | null; onChange: (topic: string) => void; testid?: string }) {
  if (books.length <= 1) return books[0] ? <strong data-testid={testid}>{books[0].name}</strong> : null
  return (
    <Select value={value ?? ''} onChange={(e) => onChange(e.target.value)} testid={testid} style={{ width: 'auto' }} aria-label='Book'>
      {books.map((b) => <option key={b.topic} value={b.topic}>{b.name}</option>)}
    </Select>
  )
}
