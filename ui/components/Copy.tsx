import { useState } from 'react'
import { Button } from './Button.tsx'

async function copyText (text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
  } catch {
    // the Clipboard API needs a secure context and focus; a selected textarea works elsewhere
    const ta = document.createElement('textarea')
    ta.value = text
    document.body.appendChild(ta)
    ta.select()
    document.execCommand('copy')
    ta.remove()
  }
}

/** A button that copies `text` and says so for a moment. */
export function CopyButton ({ text, label = 'Copy', testid }: { text: string; label?: string; testid?: string }) {
  const [done, setDone] = useState(false)
  return (
    <Button small variant='ghost' testid={testid} title={text} onClick={() => { copyText(text).then(() => { setDone(true); setTimeout(() => setDone(false), 1500) }, () => {}) }}>
      {done ? 'Copied' : label}
    </Button>
  )
}

/** A long key or DID shortened for reading, full value in the tooltip and in `data-value`. */
export function Mono ({ value, keep = 10, testid }: { value: string; keep?: number; testid?: string }) {
  const short = value.length > keep * 2 + 3 ? value.slice(0, keep) + '…' + value.slice(-keep) : value
  return <code className='mono' title={value} data-value={value} data-testid={testid}>{short}</code>
}
