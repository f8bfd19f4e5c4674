/**
 * The worker channel's framing: newline-delimited JSON (NDJSON, one UTF-8 JSON text per line,
 * terminated by "\n"). JSON.stringify never emits a raw newline, so a line is always one whole
 * message. Lines are cut on the 0x0A byte, which never occurs inside a multi-byte UTF-8
 * sequence, so a chunk boundary inside a character is harmless.
 * Runs under Bare and Node: no `node:` imports.
 */
import b4a from 'b4a'

/** Largest line accepted (bytes): a backup restore carries a base64 file, nothing is bigger. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024

const NEWLINE = 0x0a

/**
 * A decoder fed with raw chunks that calls `online` once per complete line (without its "\n",
 * decoded as UTF-8). A line longer than `maxBytes` is dropped whole and reported to `onoversize`
 * (the peer is misbehaving; the channel stays usable from the next newline on).
 */
export function createLineDecoder (online: (line: string) => void, opts: { maxBytes?: number; onoversize?: (bytes: number) => void } = {}): (chunk: Uint8Array | string) => void {
  const maxBytes = opts.maxBytes ?? MAX_LINE_BYTES
  let parts: Uint8Array[] = []
  let size = 0
  let skipping = false
  return (chunk) => {
    let buf = typeof chunk === 'string' ? b4a.from(chunk, 'utf8') : chunk
    let nl: number
    while ((nl = buf.indexOf(NEWLINE)) !== -1) {
      const head = buf.subarray(0, nl)
      buf = buf.subarray(nl + 1)
      if (skipping || size + head.byteLength > maxBytes) {
        if (!skipping) opts.onoversize?.(size + head.byteLength)
        skipping = false
      } else {
        parts.push(head)
        const line = b4a.toString(parts.length === 1 ? parts[0] : b4a.concat(parts), 'utf8')
        if (line.trim()) online(line)
      }
      parts = []
      size = 0
    }
    if (buf.byteLength === 0 || skipping) return
    if (size + buf.byteLength > maxBytes) {
      opts.onoversize?.(size + buf.byteLength)
      parts = []
      size = 0
      skipping = true
      return
    }
    parts.push(b4a.from(buf)) // copy: the stream may reuse its buffer
    size += buf.byteLength
  }
}

/** One message as a line ready to write. */
export function encodeLine (message: unknown): string {
  return JSON.stringify(message) + '\n'
}
