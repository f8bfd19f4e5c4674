/** Assertions over books shared by the network tests. */
import type { Assertion } from 'brittle'
import type { Book } from '../../books/book.ts'
import type { AuditEntry } from '../../books/entities.ts'
import type { Op, OpInput } from '../../books/ops/types.ts'

/** Appends ops, waits until applied here, and asserts each was accepted. @returns the stamped ops */
export async function accepted (t: Assertion, book: Book, inputs: OpInput[]) {
  const results = await book.act(inputs)
  for (const r of results) t.is(r.audit.status, 'accepted', `${r.op.type} accepted${r.audit.reason ? ': ' + r.audit.reason : ''}`)
  return results.map((r) => r.op)
}

/**
 * Waits until each op, whoever signed it, has an audit entry in `book`'s view. An op is known by
 * its signer and its id (Book.waitForOps reports only the book's own signer's ops).
 * @returns the audit entries, in the order of `ops`
 * @throws TIMEOUT after `timeoutMs`
 */
export async function waitForSigned (book: Book, ops: Array<Pick<Op, 'signer' | 'opId'>>, timeoutMs = 30_000): Promise<AuditEntry[]> {
  let out: Array<AuditEntry | null> = []
  await book.until(async () => {
    out = await Promise.all(ops.map((o) => book.view.auditOf(o.signer, o.opId)))
    return out.every((a) => a !== null)
  }, timeoutMs, `${ops.length} ops applied`)
  return out as AuditEntry[]
}

/** Polls until every book's view hash is equal or `timeoutMs` passes. @returns the last hashes */
export async function converge (books: Book[], timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    for (const b of books) await b.base.update()
    const hashes = await Promise.all(books.map((b) => b.view.hash()))
    if (hashes.every((h) => h === hashes[0]) || Date.now() > deadline) return hashes
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
