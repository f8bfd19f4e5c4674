/**
 * Benchmark 1, book ingest: the originator appends `n` signed lending ops (see lib/lending.ts for
 * the mix) in arrays of `batch`, and the clock stops when its view has applied the last one.
 * Baseline: the same number of raw Hyperbee puts (the same op bodies, unsigned, keyed by op id)
 * through a bare Autobase with the same batch size.
 */
import Corestore from 'corestore'
import { buildLendingBook, type LendingBook } from './lib/lending.ts'
import { bareBase, bareEntries } from './lib/bare.ts'
import { newId } from '../books/book.ts'
import { now, result, type BenchResult, type Scratch } from './lib/util.ts'

/** Where an ingest left its stores, closed, for the node-start benchmark to reopen. */
export interface IngestStores {
  /** GrowrNode storage of the originator, holding the book */
  growrDir: string
  /** ops in that book */
  growrOps: number
  /** Corestore directory of the bare baseline base and its key */
  bareDir: string
  bareKey: Uint8Array
  /** entries in the bare base */
  bareEntries: number
}

/** Times the bare baseline: `bodies` appended as puts in arrays of `batch`. @returns ms and where the base is */
async function bareIngest (scratch: Scratch, bodies: Array<Record<string, unknown>>, batch: number): Promise<{ ms: number; dir: string; key: Uint8Array }> {
  const dir = scratch.dir('bare-ingest-' + bodies.length)
  const store = new Corestore(dir)
  const base = bareBase(store, null)
  await base.ready()
  try {
    const entries = bodies.map((value) => ({ key: String(value.opId), value }))
    const t0 = now()
    for (let i = 0; i < entries.length; i += batch) await base.append(entries.slice(i, i + batch) as never)
    while (bareEntries(base) < entries.length) await base.update()
    return { ms: now() - t0, dir, key: base.key }
  } finally {
    await base.close()
    await store.close()
  }
}

/** Times the Growr ingest of the book's measured ops. @returns ms */
async function growrIngest (lb: LendingBook, batch: number): Promise<number> {
  const { book, measured } = lb
  const target = (await book.view.auditLength()) + measured.length
  const t0 = now()
  for (let i = 0; i < measured.length; i += batch) await book.append(measured.slice(i, i + batch))
  await book.until(async () => (await book.view.auditLength()) >= target, 600_000, 'measured ops applied')
  const ms = now() - t0
  const summary = await book.view.summary()
  if (summary.rejected !== 0) throw new Error(`ingest: ${summary.rejected} ops rejected; the measured mix must be all accepted`)
  return ms
}

/**
 * Runs the ingest benchmark at size `n` (a multiple of 10).
 * @returns the figure, and where the (closed) stores are: they stay in `scratch`
 */
export async function benchIngest (scratch: Scratch, n: number, batch: number): Promise<{ results: BenchResult[]; stores: IngestStores }> {
  const lb = await buildLendingBook(scratch, n, { batch, name: `ingest-${n}` })
  try {
    await lb.closeMembers()
    const signer = lb.orig.did
    const bodies = lb.measured.map((input) => ({ ...input, opId: newId(), ts: Date.now(), signer }) as Record<string, unknown>)
    const bare = await bareIngest(scratch, bodies, batch)
    const growrMs = await growrIngest(lb, batch)
    const res = result(`book ingest, ${n.toLocaleString('en-US')} ops (book of ${(lb.setupOps + n).toLocaleString('en-US')})`, n, n / growrMs * 1000, 'ops/s', n / bare.ms * 1000,
      `originator appends signed approvals, rejections, disbursements, repayment and funding confirmations onto a book of ${lb.setupOps.toLocaleString('en-US')} ops, batch ${batch}; baseline bare Autobase + Hyperbee puts, same batch`)
    return { results: [res], stores: { growrDir: lb.dir, growrOps: lb.setupOps + n, bareDir: bare.dir, bareKey: bare.key, bareEntries: n } }
  } finally {
    await lb.close()
  }
}
