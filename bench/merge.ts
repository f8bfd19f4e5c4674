/**
 * Benchmark 3, multi-writer merge: `writers` writers of one book (the originator, borrowers and
 * investors, each its own GrowrNode) append `per` ops each at the same time, in arrays of
 * `batch`, over in-process replication (every pair linked). The figure is the time from the
 * first append until all views hold every op and their view hashes are equal. Baseline: the
 * same with a bare Autobase (one bootstrap writer adding the others, `per` puts each).
 */
import Corestore from 'corestore'
import type Hyperbee from 'hyperbee'
import type Autobase from 'autobase'
import { GrowrNode } from '../core/node.ts'
import { createIdentity } from '../core/identity/keyfile.ts'
import { newId, type Book } from '../books/book.ts'
import { BookView } from '../books/view.ts'
import type { OpInput } from '../books/ops/types.ts'
import { benchTerms } from './lib/lending.ts'
import { bareBase, bareEntries } from './lib/bare.ts'
import { link, now, result, type BenchResult, type Scratch } from './lib/util.ts'

interface Peer { base: Autobase<Hyperbee>; complete: () => Promise<boolean>; hash: () => Promise<string> }

/** Resolves when any base emits 'update', or after `ms`. */
function anyUpdate (bases: Array<Autobase<Hyperbee>>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); for (const b of bases) b.off('update', done); resolve() }
    const timer = setTimeout(done, ms)
    for (const b of bases) b.on('update', done)
  })
}

/** Waits until every peer is complete and all view hashes are equal. */
async function allEqual (peers: Peer[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    await Promise.all(peers.map((p) => p.base.update()))
    if ((await Promise.all(peers.map((p) => p.complete()))).every(Boolean)) {
      const hashes = await Promise.all(peers.map((p) => p.hash()))
      if (hashes.every((h) => h === hashes[0])) return
    }
    if (Date.now() > deadline) throw new Error('merge: views did not converge in time')
    await anyUpdate(peers.map((p) => p.base), 200)
  }
}

function mesh (stores: Corestore[]): Array<() => void> {
  const out: Array<() => void> = []
  for (let i = 0; i < stores.length; i++) for (let j = i + 1; j < stores.length; j++) out.push(link(stores[i], stores[j]))
  return out
}

/** Appends each writer's inputs concurrently, in arrays of `batch`. */
async function appendConcurrently<T> (lists: T[][], batch: number, append: (i: number, chunk: T[]) => Promise<unknown>): Promise<void> {
  await Promise.all(lists.map(async (list, i) => {
    for (let k = 0; k < list.length; k += batch) await append(i, list.slice(k, k + batch))
  }))
}

async function growrMerge (scratch: Scratch, writers: number, per: number, batch: number): Promise<number> {
  const roles: Array<'originator' | 'borrower' | 'investor'> = Array.from({ length: writers }, (_, i) => i === 0 ? 'originator' : i % 2 === 1 ? 'borrower' : 'investor')
  const nodes = roles.map((_, i) => {
    const storage = scratch.dir(`merge-growr-${i}`)
    const s = new Uint8Array(32)
    s[0] = 100 + i
    createIdentity(storage, { seed: s })
    return new GrowrNode({ storage, network: false })
  })
  let unlinks: Array<() => void> = []
  try {
    for (const n of nodes) await n.ready()
    const book = await nodes[0].createBook('Merge bench circle')
    const books: Book[] = [book]
    for (let i = 1; i < writers; i++) books.push(await nodes[i].joinBook(book.topic))
    unlinks = mesh(nodes.map((n) => n.store!))
    const projectId = book.newId()
    const setup = await book.act([
      ...books.slice(1).map((b, i): OpInput => ({ type: 'member/add', member: nodes[i + 1].did as `did:key:z${string}`, role: roles[i + 1] as 'borrower' | 'investor', writerKey: b.writerKey })),
      { type: 'project/create', projectId, terms: benchTerms(Date.now(), 'Merge project') },
      { type: 'project/activate', projectId }
    ])
    if (setup.some((r) => r.audit.status !== 'accepted')) throw new Error('merge: setup rejected')
    const ready = setup[setup.length - 1].op.opId
    await Promise.all(books.map((b) => b.until(async () => b.writable && (await b.view.auditOf(book.signerDid, ready)) !== null, 60_000, 'member ready')))
    const target = (await book.view.auditLength()) + writers * per

    // each writer's record ids are scoped to its own DID (books/ids.ts)
    const lists: OpInput[][] = roles.map((role, i) => Array.from({ length: per }, (_, k): OpInput => {
      if (role === 'borrower') return { type: 'loan/apply', loanId: books[i].newId(), projectId, amount: 20_000 + (k % 90) * 2_000, currency: 'EUR', months: 3 + (k % 22), purpose: 'seedlings, drip irrigation and a season of fertiliser' }
      if (role === 'investor') return { type: 'funding/commit', fundingId: books[i].newId(), projectId, amount: 100_000 + k, currency: 'EUR' }
      return k % 2 === 0
        ? { type: 'project/create', projectId: books[i].newId(), terms: benchTerms(Date.now(), `Draft ${k}`) }
        : { type: 'project/update', projectId, changes: { description: `revision ${k}` } }
    }))
    // the originator updates its drafts, not the active project (terms change only in draft)
    for (let k = 1; k < per; k += 2) {
      const draft = lists[0][k - 1] as { projectId: string }
      ;(lists[0][k] as { projectId: string }).projectId = draft.projectId
    }
    const t0 = now()
    await appendConcurrently(lists, batch, (i, chunk) => books[i].append(chunk))
    await allEqual(books.map((b) => ({ base: b.base, complete: async () => (await b.view.auditLength()) >= target, hash: () => b.view.hash() })), 300_000)
    const ms = now() - t0
    const rejected = (await book.view.summary()).rejected
    if (rejected !== 0) throw new Error(`merge: ${rejected} ops rejected`)
    return ms
  } finally {
    for (const u of unlinks) u()
    for (const n of nodes) await n.close()
  }
}

async function bareMerge (scratch: Scratch, writers: number, per: number, batch: number): Promise<number> {
  const stores = Array.from({ length: writers }, (_, i) => new Corestore(scratch.dir(`merge-bare-${i}`)))
  const bases: Array<Autobase<Hyperbee>> = []
  let unlinks: Array<() => void> = []
  try {
    const first = bareBase(stores[0], null)
    await first.ready()
    bases.push(first)
    for (let i = 1; i < writers; i++) {
      const b = bareBase(stores[i], first.key)
      await b.ready()
      bases.push(b)
    }
    unlinks = mesh(stores)
    await first.append(bases.slice(1).map((b) => ({ addWriter: Buffer.from(b.local.key).toString('hex') })) as never)
    await Promise.all(bases.map(async (b) => { while (!b.writable) await anyUpdate([b], 200) }))
    const lists = bases.map(() => Array.from({ length: per }, () => {
      const id = newId()
      return { key: id, value: { type: 'loan/apply', opId: id, loanId: newId(), amount: 20_000, currency: 'EUR', months: 12, purpose: 'seedlings, drip irrigation and a season of fertiliser', ts: Date.now() } }
    }))
    const t0 = now()
    await appendConcurrently(lists, batch, (i, chunk) => bases[i].append(chunk as never))
    await allEqual(bases.map((b) => ({ base: b, complete: async () => bareEntries(b) >= writers * per, hash: () => new BookView(b.view).hash() })), 300_000)
    return now() - t0
  } finally {
    for (const u of unlinks) u()
    for (const b of bases) await b.close()
    for (const s of stores) await s.close()
  }
}

/** Runs the merge benchmark: `writers` writers x `per` ops, appended in arrays of `batch`. */
export async function benchMerge (scratch: Scratch, writers: number, per: number, batch: number): Promise<BenchResult[]> {
  const base = await bareMerge(scratch, writers, per, batch)
  const growr = await growrMerge(scratch, writers, per, batch)
  return [result(`multi-writer merge (${writers} x ${per.toLocaleString('en-US')})`, writers * per, growr, 'ms', base,
    `${writers} writers (originator: draft projects and updates; borrowers: applications; investors: fundings) append at once in arrays of ${batch}, linked in-process; until every view holds all ops with equal hashes; baseline bare Autobase, same writers and puts`)]
}
