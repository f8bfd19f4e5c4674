/**
 * The one contract between a node and whatever drives it (CLI, desktop bridge, headless host):
 * request names mapped to argument and result types, and their implementation over a GrowrNode.
 * Amounts are integer minor units; ids are 32 hex characters; `book` is a topic key.
 * Handlers that act on a record first wait (up to `timeoutMs`) for it to replicate here, so a
 * command issued right after a peer's never fails only because the network is a second behind.
 */
import { GrowrError } from '../core/errors.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Book } from '../books/book.ts'
import type { AuditEntry, Loan, Project } from '../books/entities.ts'
import type { BookSummary, Records, Sub } from '../books/view.ts'
import type { OpInput, PaymentKind, ProjectTerms } from '../books/ops/types.ts'
import { outstanding } from '../books/loan/machine.ts'
import { newId } from '../books/book.ts'

type BookArg = { book: string; timeoutMs?: number }
export interface Acted { id: string; opId: string; status: 'accepted' }

export interface Contract {
  'status': { args: Record<string, never>; result: { did: string; storage: string; peers: number; books: Array<{ topic: string; name: string; role: string | null; writable: boolean }> } }
  'book.create': { args: { name: string }; result: { topic: string } }
  'book.join': { args: { book: string }; result: { topic: string } }
  'book.show': { args: BookArg; result: { topic: string; name: string; originator: string; hash: string; summary: BookSummary } }
  'book.audit': { args: BookArg; result: AuditEntry[] }
  'invite.create': { args: { book: string; role: 'borrower' | 'investor' }; result: { code: string; role: string; book: string; expires: number } }
  'invite.accept': { args: { code: string; timeoutMs?: number }; result: { topic: string } }
  'project.create': { args: BookArg & { terms: ProjectTerms }; result: Acted }
  'project.update': { args: BookArg & { project: string; changes: Partial<ProjectTerms> }; result: Acted }
  'project.transition': { args: BookArg & { project: string; action: 'activate' | 'deactivate' | 'close' }; result: Acted }
  'project.list': { args: BookArg; result: Project[] }
  'funding.commit': { args: BookArg & { project: string; amount: number }; result: Acted }
  'loan.apply': { args: BookArg & { project: string; amount: number; months: number; purpose?: string }; result: Acted }
  'loan.decide': { args: BookArg & { loan: string; action: 'approve' | 'reject' | 'withdraw' | 'default'; reason?: string }; result: Acted }
  'loan.show': { args: BookArg & { loan: string }; result: Loan & { outstanding: number } }
  'loan.list': { args: BookArg; result: Loan[] }
  'payment.record': { args: BookArg & { kind: PaymentKind; ref: string; amount?: number; reference?: string }; result: Acted & { amount: number } }
  'payment.confirm': { args: BookArg & { payment: string }; result: Acted }
  'loan.repay': { args: BookArg & { loan: string; reference?: string }; result: Acted & { amount: number; instalment: number } }
  'distribute': { args: BookArg; result: Array<Acted & { funding: string; amount: number }> }
  'wait': { args: BookArg & { sub: Sub; id: string; status?: string }; result: unknown }
}

export type Handlers = { [K in keyof Contract]: (args: Contract[K]['args']) => Promise<Contract[K]['result']> }

const DEFAULT_WAIT_MS = 30_000

/** Builds the contract's handlers over `node`. */
export function createHandlers (node: GrowrNode): Handlers {
  const bookOf = (a: BookArg): Book => {
    if (typeof a.book !== 'string' || !a.book) throw GrowrError.BAD_ARGUMENT('--book <topic key> is required')
    return node.book(a.book)
  }

  async function waitFor<S extends Sub> (book: Book, sub: S, id: string, timeoutMs = DEFAULT_WAIT_MS, status?: string): Promise<Records[S]> {
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) throw GrowrError.BAD_ARGUMENT(`${sub} id must be 32 hex characters`)
    let rec: Records[S] | null = null
    await book.until(async () => {
      rec = await book.view.get(sub, id)
      return rec !== null && (status === undefined || (rec as { status?: string }).status === status)
    }, timeoutMs, `${sub.replace(/s$/, '')} ${id}${status ? ' ' + status : ''} not seen here`)
    return rec as unknown as Records[S]
  }

  async function act (book: Book, input: OpInput, id: string): Promise<Acted> {
    const [{ op, audit }] = await book.act([input])
    if (audit.status !== 'accepted') throw GrowrError.OP_REJECTED(`${op.type} rejected: ${audit.reason}`)
    return { id, opId: op.opId, status: 'accepted' }
  }

  function amount (n: unknown, what = 'amount'): number {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw GrowrError.BAD_ARGUMENT(`${what} must be a positive whole number of minor units (cents, sats), got ${String(n)}`)
    return n
  }

  return {
    async status () {
      const books = await Promise.all(node.list().map(async (b) => {
        const meta = await b.view.meta()
        const me = await b.view.get('members', node.did)
        return { topic: b.topic, name: meta?.name ?? '(not replicated yet)', role: me && !me.removed ? me.role : null, writable: b.writable }
      }))
      return { did: node.did, storage: node.storage, peers: node.peerCount, books }
    },
    async 'book.create' ({ name }) {
      if (typeof name !== 'string' || !name.trim()) throw GrowrError.BAD_ARGUMENT('a book needs a --name')
      return { topic: (await node.createBook(name.trim())).topic }
    },
    async 'book.join' ({ book }) {
      return { topic: (await node.joinBook(book)).topic }
    },
    async 'book.show' (a) {
      const book = bookOf(a)
      await book.until(async () => (await book.view.meta()) !== null, a.timeoutMs ?? DEFAULT_WAIT_MS, 'book not replicated yet')
      await book.base.update()
      const meta = await book.view.meta()
      return { topic: book.topic, name: meta!.name, originator: meta!.originator, hash: await book.view.hash(), summary: await book.view.summary() }
    },
    async 'book.audit' (a) { return await bookOf(a).view.list('audit') },
    async 'invite.create' ({ book, role }) { return await node.createInvite(book, role) },
    async 'invite.accept' ({ code, timeoutMs }) {
      if (typeof code !== 'string') throw GrowrError.BAD_ARGUMENT('an invite code is required')
      return { topic: (await node.acceptInvite(code, timeoutMs)).topic }
    },
    async 'project.create' (a) {
      const projectId = newId()
      return await act(bookOf(a), { type: 'project/create', projectId, terms: a.terms }, projectId)
    },
    async 'project.update' (a) {
      const book = bookOf(a)
      await waitFor(book, 'projects', a.project, a.timeoutMs)
      return await act(book, { type: 'project/update', projectId: a.project, changes: a.changes }, a.project)
    },
    async 'project.transition' (a) {
      const book = bookOf(a)
      await waitFor(book, 'projects', a.project, a.timeoutMs)
      if (!['activate', 'deactivate', 'close'].includes(a.action)) throw GrowrError.BAD_ARGUMENT(`unknown project action ${a.action}`)
      return await act(book, { type: `project/${a.action}`, projectId: a.project } as OpInput, a.project)
    },
    async 'project.list' (a) { return await bookOf(a).view.list('projects') },
    async 'funding.commit' (a) {
      const book = bookOf(a)
      const project = await waitFor(book, 'projects', a.project, a.timeoutMs, 'active')
      const fundingId = newId()
      return await act(book, { type: 'funding/commit', fundingId, projectId: a.project, amount: amount(a.amount), currency: project.terms.currency }, fundingId)
    },
    async 'loan.apply' (a) {
      const book = bookOf(a)
      const project = await waitFor(book, 'projects', a.project, a.timeoutMs, 'active')
      const loanId = newId()
      if (!Number.isInteger(a.months)) throw GrowrError.BAD_ARGUMENT('--months must be a whole number of months')
      return await act(book, { type: 'loan/apply', loanId, projectId: a.project, amount: amount(a.amount), currency: project.terms.currency, months: a.months, purpose: a.purpose ?? '' }, loanId)
    },
    async 'loan.decide' (a) {
      const book = bookOf(a)
      await waitFor(book, 'loans', a.loan, a.timeoutMs)
      const input = a.action === 'reject'
        ? { type: 'loan/reject' as const, loanId: a.loan, reason: a.reason ?? '' }
        : { type: `loan/${a.action}`, loanId: a.loan } as OpInput
      if (!['approve', 'reject', 'withdraw', 'default'].includes(a.action)) throw GrowrError.BAD_ARGUMENT(`unknown loan action ${a.action}`)
      return await act(book, input, a.loan)
    },
    async 'loan.show' (a) {
      const loan = await waitFor(bookOf(a), 'loans', a.loan, a.timeoutMs)
      return { ...loan, outstanding: outstanding(loan) }
    },
    async 'loan.list' (a) { return await bookOf(a).view.list('loans') },
    async 'payment.record' (a) {
      const book = bookOf(a)
      const kinds: Record<PaymentKind, Sub> = { funding: 'fundings', disbursement: 'loans', repayment: 'loans', distribution: 'fundings' }
      if (!Object.hasOwn(kinds, a.kind)) throw GrowrError.BAD_ARGUMENT(`--kind must be one of ${Object.keys(kinds).join(', ')}`)
      const target = await waitFor(book, kinds[a.kind], a.ref, a.timeoutMs) as { amount: number; currency: string; projectId: string; entitled?: number; distributed?: number }
      let value = a.amount
      if (value === undefined) {
        // the amount the book expects when the caller does not say: the whole funding, the net disbursement
        if (a.kind === 'funding') value = target.amount
        else if (a.kind === 'disbursement') value = target.amount - ((await book.view.get('projects', target.projectId))?.terms.disbursementFee ?? 0)
        else if (a.kind === 'distribution') value = (target.entitled ?? 0) - (target.distributed ?? 0)
      }
      const paymentId = newId()
      const acted = await act(book, { type: 'payment/record', paymentId, kind: a.kind, ref: a.ref, amount: amount(value), currency: target.currency, rail: 'manual', reference: a.reference ?? '' }, paymentId)
      return { ...acted, amount: value as number }
    },
    async 'payment.confirm' (a) {
      const book = bookOf(a)
      await waitFor(book, 'payments', a.payment, a.timeoutMs)
      return await act(book, { type: 'payment/confirm', paymentId: a.payment }, a.payment)
    },
    async 'loan.repay' (a) {
      const book = bookOf(a)
      const loan = await waitFor(book, 'loans', a.loan, a.timeoutMs, 'disbursed')
      const next = loan.schedule.find((i) => i.principalPaid + i.interestPaid < i.total)
      if (!next) throw GrowrError.BAD_ARGUMENT('nothing is owed on this loan')
      const due = next.total - next.principalPaid - next.interestPaid
      const value = Math.min(due, outstanding(loan) - loan.pendingRepayment)
      const paymentId = newId()
      const acted = await act(book, { type: 'payment/record', paymentId, kind: 'repayment', ref: a.loan, amount: amount(value, 'repayment'), currency: loan.currency, rail: 'manual', reference: a.reference ?? `instalment ${next.n}` }, paymentId)
      return { ...acted, amount: value, instalment: next.n }
    },
    async distribute (a) {
      const book = bookOf(a)
      const owed = (await book.view.list('fundings')).filter((f) => f.entitled > f.distributed)
      if (owed.length === 0) return []
      const inputs: OpInput[] = owed.map((f) => ({ type: 'payment/record', paymentId: newId(), kind: 'distribution', ref: f.fundingId, amount: f.entitled - f.distributed, currency: f.currency, rail: 'manual', reference: 'repayment distribution' }))
      const results = await book.act(inputs)
      return results.map((r, i) => {
        if (r.audit.status !== 'accepted') throw GrowrError.OP_REJECTED(`distribution rejected: ${r.audit.reason}`)
        const op = r.op as Extract<typeof r.op, { type: 'payment/record' }>
        return { id: op.paymentId, opId: op.opId, status: 'accepted' as const, funding: owed[i].fundingId, amount: op.amount }
      })
    },
    async wait (a) { return await waitFor(bookOf(a), a.sub, a.id, a.timeoutMs, a.status) }
  }
}
