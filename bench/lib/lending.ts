/**
 * A lending book with a realistic history, built by real participants in one process:
 * an originator, an investor and a borrower, each a GrowrNode (network off) on its own
 * storage, their Corestores replicated in-process. The plan is laid out in blocks of ten ops
 * the originator appends (the measured writer), each block prepared by the others' ops:
 *
 *   borrower (setup)   loan/apply x7, payment/confirm (disbursement), payment/record (repayment)
 *   investor (setup)   funding/commit + payment/record (funding), one block in ten
 *   originator (setup) projects, their first funding confirmed, one loan approved and disbursed per block
 *   originator (measured, per block)
 *     loan/approve x4, loan/reject, payment/record disbursement x3, payment/confirm repayment
 *     (shared pro rata among the project's fundings), and payment/confirm funding one block in
 *     ten, else a fifth loan/approve
 *
 * One project per 1 000 measured ops, so a project has at most 11 confirmed fundings, a
 * realistic investor count that bounds the pro-rata split of each repayment.
 */
import path from 'node:path'
import { GrowrNode } from '../../core/node.ts'
import { createIdentity } from '../../core/identity/keyfile.ts'
import type { Book } from '../../books/book.ts'
import { scopedId } from '../../books/ids.ts'
import type { Op, OpInput, ProjectTerms } from '../../books/ops/types.ts'
import { waitForSigned } from '../../test/helpers/book.ts'
import { terms } from '../../test/helpers/fixtures.ts'
import { link, type Scratch } from './util.ts'

export const BLOCK = 10
const BLOCKS_PER_PROJECT = 100
const FEE = terms(0).disbursementFee

/**
 * The number of measured ops whose plan makes a book of about `total` ops: per block of ten
 * measured ops the setup holds 11.2 more, plus a few per project (see lendingPlan).
 */
export function measuredForBook (total: number): number {
  return Math.max(BLOCK, Math.round(total / 21.2) * BLOCK)
}

/** Project terms for the bench: the test fixture's, with a ceiling no bench book reaches. */
export function benchTerms (now: number, name: string): ProjectTerms {
  return terms(now, { name, description: 'Working capital for smallholder growers in the bench book', amount: 10_000_000_000_000 })
}

type Actor = 'orig' | 'investor' | 'borrower'
/**
 * One setup phase: one actor's ops, appended once every earlier phase is applied in its view
 * (so they are causally after them). One writer at a time: concurrent members' ops would be
 * reordered and re-applied when the originator indexes them, which only slows the setup.
 */
interface Phase { actor: Actor; ops: OpInput[] }

export interface LendingPlan { phases: Phase[]; measured: OpInput[] }

/**
 * The op plan for `n` measured originator ops (n a multiple of 10).
 * @param dids the DID of each actor: a record's id is scoped to the DID that creates it (books/ids.ts)
 */
export function lendingPlan (n: number, now: number, dids: Record<Actor, string>): LendingPlan {
  if (n % BLOCK !== 0) throw new Error(`n must be a multiple of ${BLOCK}`)
  const newId = (by: Actor) => scopedId(dids[by])
  const blocks = n / BLOCK
  const projects = Math.ceil(blocks / BLOCKS_PER_PROJECT)
  const p0: Phase = { actor: 'orig', ops: [] }
  const p1: Phase = { actor: 'investor', ops: [] }
  const p2: Phase = { actor: 'orig', ops: [] }
  const p3: Phase = { actor: 'borrower', ops: [] }
  const p4: Phase = { actor: 'orig', ops: [] }
  const p5: Phase = { actor: 'borrower', ops: [] }
  const measured: OpInput[] = []
  const projectIds: string[] = []
  for (let p = 0; p < projects; p++) {
    const projectId = newId('orig')
    projectIds.push(projectId)
    p0.ops.push({ type: 'project/create', projectId, terms: benchTerms(now, `Growers ${p + 1}`) }, { type: 'project/activate', projectId })
    const fundingId = newId('investor')
    const paymentId = newId('investor')
    p1.ops.push(
      { type: 'funding/commit', fundingId, projectId, amount: 100_000_000_000, currency: 'EUR' },
      { type: 'payment/record', paymentId, kind: 'funding', ref: fundingId, amount: 100_000_000_000, currency: 'EUR', rail: 'manual', reference: `SEPA seed ${p}` }
    )
    p2.ops.push({ type: 'payment/confirm', paymentId })
  }
  for (let b = 0; b < blocks; b++) {
    const projectId = projectIds[Math.floor(b / BLOCKS_PER_PROJECT)]
    const loans = Array.from({ length: 7 }, (_, i) => ({ loanId: newId('borrower'), amount: 20_000 + ((b * 7 + i) % 90) * 2_000, months: 3 + ((b + i) % 22) }))
    for (const l of loans) p3.ops.push({ type: 'loan/apply', loanId: l.loanId, projectId, amount: l.amount, currency: 'EUR', months: l.months, purpose: 'seedlings, drip irrigation and a season of fertiliser' })
    const [a1, a2, a3, a4, a5, j, r] = loans
    const rd = newId('orig')
    const rr = newId('borrower')
    p4.ops.push(
      { type: 'loan/approve', loanId: r.loanId },
      { type: 'payment/record', paymentId: rd, kind: 'disbursement', ref: r.loanId, amount: r.amount - FEE, currency: 'EUR', rail: 'manual', reference: `SEPA disbursement ${b}` }
    )
    p5.ops.push(
      { type: 'payment/confirm', paymentId: rd },
      { type: 'payment/record', paymentId: rr, kind: 'repayment', ref: r.loanId, amount: 1_000 + (b % 50) * 10, currency: 'EUR', rail: 'manual', reference: `instalment ${b}` }
    )
    measured.push(
      { type: 'loan/approve', loanId: a1.loanId },
      { type: 'loan/approve', loanId: a2.loanId },
      { type: 'loan/approve', loanId: a3.loanId },
      { type: 'loan/approve', loanId: a4.loanId },
      { type: 'loan/reject', loanId: j.loanId, reason: 'repayment capacity below the project threshold' }
    )
    for (const l of [a1, a2, a3]) measured.push({ type: 'payment/record', paymentId: newId('orig'), kind: 'disbursement', ref: l.loanId, amount: l.amount - FEE, currency: 'EUR', rail: 'manual', reference: `SEPA disbursement ${b}` })
    measured.push({ type: 'payment/confirm', paymentId: rr })
    if (b % 10 === 0) {
      const fundingId = newId('investor')
      const paymentId = newId('investor')
      p1.ops.push(
        { type: 'funding/commit', fundingId, projectId, amount: 500_000 + b, currency: 'EUR' },
        { type: 'payment/record', paymentId, kind: 'funding', ref: fundingId, amount: 500_000 + b, currency: 'EUR', rail: 'manual', reference: `SEPA ${b}` }
      )
      measured.push({ type: 'payment/confirm', paymentId })
    } else {
      measured.push({ type: 'loan/approve', loanId: a5.loanId })
    }
  }
  return { phases: [p0, p1, p2, p3, p4, p5], measured }
}

/** A built book: the originator's node and book, the other participants, and teardown. */
export interface LendingBook {
  orig: GrowrNode
  book: Book
  borrower: { node: GrowrNode; book: Book }
  /** the originator's ops still to append (the measured part of the plan) */
  measured: OpInput[]
  /** ops in the view after setup (accepted, as checked) */
  setupOps: number
  /** the originator's storage directory (a GrowrNode storage) */
  dir: string
  /** cuts the in-process links: the originator then writes alone */
  unlink (): void
  /** closes the members' nodes (not the originator's) */
  closeMembers (): Promise<void>
  close (): Promise<void>
}

/** Appends `inputs` in arrays of `batch` ops (one Autobase append each). @returns the last op */
async function appendAll (book: Book, inputs: OpInput[], batch: number): Promise<Op | null> {
  let last: Op | null = null
  for (let i = 0; i < inputs.length; i += batch) {
    const ops = await book.append(inputs.slice(i, i + batch))
    last = ops[ops.length - 1]
  }
  return last
}

function seed (n: number): Uint8Array {
  const s = new Uint8Array(32)
  s[0] = 200 + n
  return s
}

/**
 * Builds the book for `n` measured ops: creates the three participants, adds the members,
 * runs every setup phase and checks that every setup op was accepted. The investor's node is
 * closed once it has done its part; the borrower's stays open until `closeMembers()`.
 * @throws Error when a setup op is rejected (the plan no longer matches the rules)
 */
export async function buildLendingBook (scratch: Scratch, n: number, opts: { batch: number; name?: string }): Promise<LendingBook> {
  const names: Actor[] = ['orig', 'investor', 'borrower']
  const dirs = names.map((a) => scratch.dir(`${opts.name ?? 'lending'}-${a}`))
  dirs.forEach((d, i) => createIdentity(d, { seed: seed(i) }))
  const nodes = dirs.map((storage) => new GrowrNode({ storage, network: false, ackInterval: 100 }))
  const unlinks: Array<() => void> = []
  let closed = false
  const closeMembers = async () => {
    for (const u of unlinks.splice(0)) u()
    for (const node of nodes.slice(1)) await node.close()
  }
  const close = async () => {
    if (closed) return
    closed = true
    await closeMembers()
    await nodes[0].close()
  }
  try {
    for (const node of nodes) await node.ready()
    const [orig, investor, borrower] = nodes
    const book = await orig.createBook('Bench growers circle')
    const books = {} as Record<Actor, Book>
    books.orig = book
    for (const [i, node] of [[1, investor], [2, borrower]] as const) {
      const mb = await node.joinBook(book.topic)
      books[names[i]] = mb
      unlinks.push(link(orig.store!, node.store!))
      await book.act([{ type: 'member/add', member: node.did as `did:key:z${string}`, role: names[i] as 'investor' | 'borrower', writerKey: mb.writerKey }])
      await mb.until(async () => mb.writable, 30_000, 'member became a writer')
    }

    const plan = lendingPlan(n, Date.now(), { orig: orig.did, investor: investor.did, borrower: borrower.did })
    let setupOps = 3
    for (const [i, phase] of plan.phases.entries()) {
      const last = await appendAll(books[phase.actor], phase.ops, opts.batch)
      setupOps += phase.ops.length
      const next = plan.phases[i + 1]?.actor
      const waiters = [book, ...(next && next !== 'orig' && next !== phase.actor ? [books[next]] : [])]
      if (last) await Promise.all(waiters.map((b) => waitForSigned(b, [last], 600_000)))
      if (phase.actor === 'investor') await investor.close() // done: no need to keep applying
    }
    await book.base.update()
    await book.base.ack()
    await book.base.update()
    const summary = await book.view.summary()
    if (summary.rejected !== 0 || summary.ops !== setupOps) {
      const bad = (await book.view.list('audit')).filter((a) => a.status === 'rejected').slice(0, 3)
      throw new Error(`bench setup: ${summary.rejected} of ${summary.ops} ops rejected (want 0 of ${setupOps}): ${JSON.stringify(bad)}`)
    }
    return {
      orig,
      book,
      borrower: { node: borrower, book: books.borrower },
      measured: plan.measured,
      setupOps,
      dir: dirs[0],
      unlink () { for (const u of unlinks.splice(0)) u() },
      closeMembers,
      close
    }
  } catch (err) {
    await close()
    throw err
  }
}

/** The GrowrNode storage layout of the originator's directory (for child processes). */
export function corestoreDir (dir: string): string { return path.join(dir, 'corestore') }
