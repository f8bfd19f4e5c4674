/**
 * Benchmark 2, convergence: fresh peers join a book over a HyperDHT testnet on loopback; the
 * figure is the time from opening the peer's storage until its view hash equals the writer's
 * (one peer, then `many` at once: the time until the last one matches). Baseline: the same
 * for a bare Autobase whose Hyperbee view holds as many entries as the book has ops.
 */
import Corestore from 'corestore'
import type Hyperbee from 'hyperbee'
import type Autobase from 'autobase'
import b4a from 'b4a'
import { Book, newId } from '../books/book.ts'
import { BookView } from '../books/view.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { buildLendingBook, measuredForBook } from './lib/lending.ts'
import { bareBase, bareEntries } from './lib/bare.ts'
import { LocalNet } from './lib/net.ts'
import { now, result, type BenchResult, type Scratch } from './lib/util.ts'

/** Resolves at the base's next 'update' event, or after `ms` (a bound, not a poll). */
function nextUpdate (base: Autobase<Hyperbee>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); base.off('update', done); resolve() }
    const timer = setTimeout(done, ms)
    base.on('update', done)
  })
}

/**
 * Waits until `complete()` holds: the peer's view reports every op (with Autobase's fast-forward
 * it learns the indexed state before it holds the blocks). Then, with `full`, until the view
 * hash, which reads every block, is `want`; without, checks once that the view core's Merkle
 * tree hash equals the writer's (equal tree hashes at equal length mean identical blocks).
 * @returns ms from `t0` to each step (`equal` is null without `full`)
 */
async function converged (p: Peer, w: Writer, t0: number, full: boolean, timeoutMs: number): Promise<{ indexed: number; equal: number | null }> {
  const deadline = Date.now() + timeoutMs
  let indexed = -1
  while (true) {
    await p.base.update()
    if (indexed < 0 && await p.complete()) {
      indexed = now() - t0
      if (!full) {
        const core = p.base.view.core
        if (core.length !== w.viewLength || b4a.toString(await core.treeHash(w.viewLength), 'hex') !== w.treeHash) throw new Error('convergence: a peer\'s view differs from the writer\'s')
        return { indexed, equal: null }
      }
    }
    if (indexed >= 0 && await p.hash() === w.hash) return { indexed, equal: now() - t0 }
    if (Date.now() > deadline) throw new Error('convergence: a peer did not converge in time')
    await nextUpdate(p.base, 200)
  }
}

interface Writer { key: Uint8Array; discoveryKey: Uint8Array; entries: number; hash: string; viewLength: number; treeHash: string }
interface Peer { base: Autobase<Hyperbee>; complete: () => Promise<boolean>; hash: () => Promise<string> }

async function writerOf (base: Autobase<Hyperbee>, entries: number, hash: string): Promise<Writer> {
  const core = base.view.core
  return { key: base.key, discoveryKey: base.discoveryKey, entries, hash, viewLength: core.length, treeHash: b4a.toString(await core.treeHash(core.length), 'hex') }
}

/** Opens `peers` fresh readers at once; @returns ms until the last one was indexed, and (with `full`) until the last one's hash was equal */
async function joinAll (scratch: Scratch, net: LocalNet, w: Writer, peers: number, kind: 'growr' | 'bare', full: boolean): Promise<{ indexed: number; equal: number | null }> {
  const t0 = now()
  const times = await Promise.all(Array.from({ length: peers }, async (_, i) => {
    const store = new Corestore(scratch.dir(`conv-${kind}-${peers}-${i}`))
    let peer: Peer
    let close: () => Promise<void>
    if (kind === 'growr') {
      const kp = generateKeyPair()
      const book = new Book(store, { key: w.key, signer: { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey } })
      await book.ready()
      peer = { base: book.base, complete: async () => (await book.view.auditLength()) >= w.entries, hash: () => book.view.hash() }
      close = () => book.close()
    } else {
      const bare = bareBase(store, w.key)
      await bare.ready()
      peer = { base: bare, complete: async () => bareEntries(bare) >= w.entries, hash: () => new BookView(bare.view).hash() }
      close = () => bare.close()
    }
    const swarm = await net.join(store, w.discoveryKey)
    try {
      return await converged(peer, w, t0, full, 120_000)
    } finally {
      await net.drop(swarm)
      await close()
      await store.close()
    }
  }))
  return { indexed: Math.max(...times.map((x) => x.indexed)), equal: full ? Math.max(...times.map((x) => x.equal as number)) : null }
}

/**
 * Runs the convergence benchmark on a book of about `ops` ops.
 * @param many the number of peers joining at once in the second round
 */
export async function benchConvergence (scratch: Scratch, ops: number, many: number, batch: number): Promise<BenchResult[]> {
  const lb = await buildLendingBook(scratch, measuredForBook(ops), { batch, name: 'conv' })
  const net = new LocalNet()
  let bareStore: Corestore | null = null
  let bare: Autobase<Hyperbee> | null = null
  try {
    await lb.closeMembers()
    const { book } = lb
    for (let i = 0; i < lb.measured.length; i += batch) await book.append(lb.measured.slice(i, i + batch))
    const total = lb.setupOps + lb.measured.length
    await book.until(async () => (await book.view.auditLength()) >= total, 600_000, 'book built')
    await book.base.ack()
    await book.base.update()
    const growr = await writerOf(book.base, total, await book.view.hash())

    bareStore = new Corestore(scratch.dir('conv-bare-writer'))
    bare = bareBase(bareStore, null)
    await bare.ready()
    const entries = Array.from({ length: total }, (_, i) => {
      const id = newId()
      return { key: id, value: { type: 'loan/apply', opId: id, loanId: newId(), projectId: newId(), amount: 20_000 + i, currency: 'EUR', months: 12, purpose: 'seedlings, drip irrigation and a season of fertiliser', ts: Date.now(), signer: lb.orig.did } }
    })
    for (let i = 0; i < entries.length; i += batch) await bare.append(entries.slice(i, i + batch) as never)
    while (bareEntries(bare) < total) await bare.update()
    await bare.ack()
    await bare.update()
    const baseline = await writerOf(bare, total, await new BookView(bare.view).hash())

    await net.start()
    await net.join(lb.orig.store!, growr.discoveryKey)
    await net.join(bareStore, baseline.discoveryKey)
    const out: BenchResult[] = []
    const ops = total.toLocaleString('en-US')
    for (const peers of [1, many]) {
      // one peer also reads its whole view (the content hash); many at once are checked by tree hash
      const full = peers === 1
      const b = await joinAll(scratch, net, baseline, peers, 'bare', full)
      const g = await joinAll(scratch, net, growr, peers, 'growr', full)
      const who = peers > 1 ? `${peers} fresh peers at once` : '1 fresh peer'
      const last = peers > 1 ? ' (the last one; each view then checked equal to the writer\'s by Merkle tree hash)' : ''
      out.push(result(`convergence, ${who}: view indexed`, total, g.indexed, 'ms', b.indexed,
        `from opening storage until the view reports all ${ops} ops (Autobase fast-forward to the indexed state)${last}; loopback HyperDHT testnet; baseline bare Autobase with ${ops} Hyperbee entries`))
      if (full) {
        out.push(result(`convergence, ${who}: hash equal`, total, g.equal as number, 'ms', b.equal,
          `until the view hash (which reads every view block, fetching it from the writer) equals the writer's; view blocks: ${growr.viewLength.toLocaleString('en-US')}, bare ${baseline.viewLength.toLocaleString('en-US')}`))
      }
    }
    return out
  } finally {
    await net.close()
    if (bare) await bare.close()
    if (bareStore) await bareStore.close()
    await lb.close()
  }
}
