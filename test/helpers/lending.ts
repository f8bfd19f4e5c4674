/**
 * A lending book on a local testnet with its originator and invited members, each a separate
 * GrowrNode with its own store: the setting of the trust tests (hostile members among honest ones).
 */
import type { Assertion } from 'brittle'
import { createNet, type Net } from './net.ts'
import { terms } from './fixtures.ts'
import { accepted } from './book.ts'
import type { Book } from '../../books/book.ts'
import type { ProjectTerms } from '../../books/ops/types.ts'
import type { Identity } from '../../core/identity/keyfile.ts'

export interface LendingBook {
  net: Net
  /** the originator's book, then one per member in the order of `roles` */
  books: Book[]
  identities: Identity[]
  projectId: string
  now: number
}

/**
 * Starts a testnet with an originator and one node per role, creates a book with one active
 * project (terms from fixtures, `over` applied), invites every member and waits until each can
 * write and sees the project.
 */
export async function lendingBook (t: Assertion, roles: Array<'borrower' | 'investor'>, over: Partial<ProjectTerms> = {}): Promise<LendingBook> {
  const net = await createNet(t, roles.length + 1)
  const [orig, ...members] = net.nodes
  const book = await orig.createBook('Trust circle')
  const now = Date.now()
  const projectId = book.newId()
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(now, over) }, { type: 'project/activate', projectId }])
  const joined = await Promise.all(members.map(async (m, i) => await m.acceptInvite((await orig.createInvite(book.topic, roles[i])).code)))
  await Promise.all(joined.map((b) => b.until(async () => b.writable && (await b.view.get('projects', projectId))?.status === 'active', 20_000, 'member ready')))
  return { net, books: [book, ...joined], identities: net.nodes.map((n) => n.identity as Identity), projectId, now }
}

/** Waits until `book` holds record `id` of `sub` (optionally with `status`). */
export async function seen (book: Book, sub: 'projects' | 'loans' | 'fundings' | 'payments', id: string, status?: string): Promise<void> {
  await book.until(async () => {
    const r = await book.view.get(sub, id) as { status?: string } | null
    return r !== null && (status === undefined || r.status === status)
  }, 20_000, `${sub} ${id} ${status ?? ''} replicated`)
}

/**
 * The investor commits `amount` (EUR minor units) to the project and pays it; the originator
 * confirms. @returns the funding id
 */
export async function confirmedFunding (t: Assertion, orig: Book, investor: Book, projectId: string, amount: number): Promise<string> {
  const fundingId = investor.newId()
  const paymentId = investor.newId()
  await accepted(t, investor, [
    { type: 'funding/commit', fundingId, projectId, amount, currency: 'EUR' },
    { type: 'payment/record', paymentId, kind: 'funding', ref: fundingId, amount, currency: 'EUR', rail: 'manual', reference: 'SEPA' }
  ])
  await seen(orig, 'payments', paymentId)
  await accepted(t, orig, [{ type: 'payment/confirm', paymentId }])
  return fundingId
}
