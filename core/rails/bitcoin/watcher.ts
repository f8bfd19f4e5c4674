/**
 * The payee's prover: after each chain sync, finds the payments this node is owed on the Bitcoin
 * rail that the chain shows deep enough, and proves them in their book itself (`payment/prove`),
 * so a payee never waits for the payer to prove, and a payer cannot hold a payment back by
 * staying silent. It also watches this node's proven payments: when the backend's best chain no
 * longer holds a proven payment's block, it builds the heavier branch (with the old chain's
 * ancestors when the fork is deeper) and appends `payment/reorg`.
 *
 * What it proves: only outputs to receiving addresses this node posted as payee AND that its own
 * wallet derives (the rail watches exactly those); an address a hostile member posts is not ours
 * and is never looked at. Amounts follow books/payment/handlers.ts reservePayment: a funding and a
 * disbursement exactly what the book expects (an underpayment is reported, not proven); a
 * repayment or a distribution what the outputs paid, capped at what is still owed.
 *
 * Each (book, kind, ref, txid) is proven once: before proving, the book is asked whether the
 * outputs already prove a counted payment (so a payment reorganised out is proven again when its
 * transaction is mined again), and refused attempts are remembered (retried only when the chain
 * moved). Passes never overlap, so nothing is in flight twice. Everything the backend answers
 * goes into a proof every peer checks again in apply; a wrong answer costs a refused op, nothing
 * more. No `node:` imports: loads under Bare.
 */
import '../../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { hex } from '@scure/base'
import { GrowrError } from '../../errors.ts'
import { fetchProof } from './proof-fetcher.ts'
import { isNotFound, type BitcoinRpc } from './rpc.ts'
import type { ChainScanner, WalletLabel } from './scanner.ts'
import { addressToScript, checkReorganisation } from '../../../books/proofs/bitcoin-spv.ts'
import { owedFor } from '../owed.ts'
import type { Book } from '../../../books/book.ts'
import type { BitcoinPaymentRecord, Funding, Loan, Payment, Project, ReceivingAddress } from '../../../books/entities.ts'
import type { BitcoinNetwork as NetworkName, PaymentKind } from '../../../books/ops/types.ts'

/** How many headers below a proven block the watcher keeps, to reorganise a payment out when the chain forks below its block. */
export const ANCESTORS_KEPT = 12
/** The longest branch the watcher sends in one payment/reorg. */
export const MAX_BRANCH = 2016

/** The backend calls the watcher makes. */
export type WatcherRpc = Pick<BitcoinRpc, 'getRawTransaction' | 'getBlockHeader' | 'getBlockCount' | 'getBlockHash' | 'getTxOutProof'>

/** What the watcher reports, e.g. to the contract's `status` and the UI. */
export type WatcherEvent =
  | { type: 'payment-seen', book: string, kind: PaymentKind, ref: string, txid: string, confirmations: number, required: number }
  | { type: 'payment-proven', book: string, kind: PaymentKind, ref: string, txid: string, paymentId: string, amount: number, confirmations: number }
  | { type: 'payment-refused', book: string, kind: PaymentKind, ref: string, txid: string, reason: string }
  | { type: 'payment-reorged', book: string, paymentId: string, txid: string, forkHash: string }

/** One line of the watcher's status. */
export interface WatcherItem { book: string, kind: PaymentKind, ref: string, txid: string, state: string }

/** The watcher's status: payments on their way, and what it could not do, in plain words. */
export interface WatcherStatus {
  /** payments seen, not yet deep enough or being proven */
  pending: Array<WatcherItem & { confirmations: number, required: number }>
  /** payments proven by this watcher since the node started */
  proven: number
  /** refusals and payments it cannot handle (an underpayment, a fork deeper than the headers kept) */
  problems: WatcherItem[]
}

/** The state kept across restarts: the ancestors of blocks this watcher proved payments in. */
export interface WatcherStateJson {
  version: 1
  /** paymentId -> raw headers below its block, parent first (display: chain order reversed) */
  ancestors: Record<string, Array<{ hash: string, height: number, header: string }>>
}

/** Options of {@link PaymentWatcher}. */
export interface PaymentWatcherOptions {
  rpc: WatcherRpc
  /** this node's DID: the payee it proves for */
  did: string
  /** the chain the node's backend follows; books on another network are ignored */
  network: NetworkName
  /** the scanner (synced before each {@link PaymentWatcher.run}) */
  scanner: () => ChainScanner<WalletLabel> | null
  /** where events go */
  emit?: (event: WatcherEvent) => void
  /** a state saved earlier ({@link PaymentWatcher.toJSON}) */
  state?: unknown
}

type Target = { kind: PaymentKind, ref: string, address: ReceivingAddress, project: Project, owner: Funding | Loan }

/**
 * The payee's prover and the reorganisation watcher for one node and one Bitcoin network.
 * Call {@link run} after each scanner sync; calls must not overlap (the rail runs them in its loop).
 */
export class PaymentWatcher {
  #rpc: WatcherRpc
  #did: string
  #network: NetworkName
  #scanner: () => ChainScanner<WalletLabel> | null
  #emit: (event: WatcherEvent) => void
  /** same key -> reason and the scanned height it was refused at */
  #refused = new Map<string, { reason: string, height: number }>()
  /** key -> confirmations last reported, so events are sent on change only */
  #seen = new Map<string, number>()
  #pending = new Map<string, WatcherItem & { confirmations: number, required: number }>()
  #problems = new Map<string, WatcherItem>()
  #proven = 0
  #ancestors: WatcherStateJson['ancestors']

  /**
   * @param options backend, DID, network, scanner, events, saved state ({@link PaymentWatcherOptions})
   * @throws GrowrError BAD_ARGUMENT for a damaged saved state
   */
  constructor (options: PaymentWatcherOptions) {
    this.#rpc = options.rpc
    this.#did = options.did
    this.#network = options.network
    this.#scanner = options.scanner
    this.#emit = options.emit ?? (() => {})
    this.#ancestors = readState(options.state)
  }

  /** The state to keep across restarts. */
  toJSON (): WatcherStateJson {
    return { version: 1, ancestors: this.#ancestors }
  }

  /** What is on its way and what went wrong ({@link WatcherStatus}). */
  status (): WatcherStatus {
    return { pending: [...this.#pending.values()], proven: this.#proven, problems: [...this.#problems.values()] }
  }

  /**
   * One pass over `books`: proves what is deep enough, reports what is not, reorganises out
   * proven payments whose block left the best chain. Never throws for one book's trouble: it is
   * reported in {@link status}; a backend that stops answering ends the pass (BACKEND_UNREACHABLE).
   * @param books the books the node follows
   * @throws GrowrError BACKEND_UNREACHABLE when the backend does not answer
   */
  async run (books: Book[]): Promise<void> {
    this.#pending.clear()
    for (const book of books) {
      try {
        await this.#proveIn(book)
        await this.#reorgsIn(book)
      } catch (err) {
        if (err instanceof GrowrError && err.code === 'BACKEND_UNREACHABLE') throw err
        this.#problems.set(`book/${book.topic}`, { book: book.topic, kind: 'funding', ref: '', txid: '', state: `this book could not be watched: ${(err as Error).message}` })
      }
    }
  }

  /** The payments this node is owed in `book`, on this network, at addresses its wallet watches. */
  async #targets (book: Book): Promise<Target[]> {
    const out: Target[] = []
    for (const rec of await book.view.list('addresses')) {
      if (rec === null || typeof rec !== 'object' || !('address' in rec) || rec.payee !== this.#did) continue
      const owner = rec.kind === 'funding' || rec.kind === 'distribution' ? await book.view.get('fundings', rec.ref) : await book.view.get('loans', rec.ref)
      if (!owner) continue
      const project = await book.view.get('projects', owner.projectId)
      if (project?.rail?.rail !== 'bitcoin' || project.rail.network !== this.#network) continue
      out.push({ kind: rec.kind, ref: rec.ref, address: rec, project, owner })
    }
    return out
  }

  async #proveIn (book: Book): Promise<void> {
    const scanner = this.#scanner()
    if (scanner === null) return
    for (const target of await this.#targets(book)) {
      const script = addressToScript(target.address.address, this.#network)
      if (!script.ok || !scanner.isWatched(script.script)) continue // not an address this wallet derives: never ours to prove
      const required = (target.project.rail as { confirmations: number }).confirmations
      const byTx = new Map<string, { amount: bigint, confirmations: number, vouts: number[] }>()
      for (const p of scanner.paymentsTo(script.script)) {
        const had = byTx.get(p.txid)
        byTx.set(p.txid, { amount: (had?.amount ?? 0n) + p.amount, confirmations: p.confirmations, vouts: [...(had?.vouts ?? []), p.vout] })
      }
      for (const [txid, paid] of byTx) await this.#consider(book, target, txid, paid, required, scanner.height)
    }
  }

  async #consider (book: Book, target: Target, txid: string, paid: { amount: bigint, confirmations: number, vouts: number[] }, required: number, height: number): Promise<void> {
    const key = `${book.topic}/${target.kind}/${target.ref}/${txid}`
    const item = { book: book.topic, kind: target.kind, ref: target.ref, txid }
    // asked of the book each time, not remembered: a payment reorganised out must be proven again
    if (await this.#counted(book, txid, paid.vouts)) { this.#problems.delete(key); return }
    const refused = this.#refused.get(key)
    if (refused !== undefined && refused.height === height) return
    if (paid.confirmations < required) {
      this.#pending.set(key, { ...item, state: paid.confirmations === 0 ? 'in the mempool' : 'confirming', confirmations: paid.confirmations, required })
      if (this.#seen.get(key) !== paid.confirmations) {
        this.#seen.set(key, paid.confirmations)
        this.#emit({ type: 'payment-seen', ...item, confirmations: paid.confirmations, required })
      }
      return
    }
    const amount = await owedFor(book, target, paid.amount, 1n, 'sats')
    if (typeof amount === 'string') {
      this.#problems.set(key, { ...item, state: amount })
      this.#refused.set(key, { reason: amount, height })
      return
    }
    this.#pending.set(key, { ...item, state: 'proving', confirmations: paid.confirmations, required })
    let proof
    try {
      proof = await fetchProof(this.#rpc, txid, { confirmations: required, timeoutMs: 0, pollMs: 1 })
    } catch (err) {
      if (err instanceof GrowrError && (err.code === 'TIMEOUT' || err.code === 'BACKEND_ERROR')) {
        // the backend is behind the scanner, or the chain moved: the next pass asks again
        this.#pending.set(key, { ...item, state: `waiting for the backend: ${err.message}`, confirmations: paid.confirmations, required })
        return
      }
      throw err
    }
    const ancestors = await this.#ancestorsOf(proof.height)
    const paymentId = book.newId()
    const [{ audit }] = await book.act([{
      type: 'payment/prove', paymentId, kind: target.kind, ref: target.ref, amount, currency: target.owner.currency, rail: 'bitcoin',
      proof: { rawTx: proof.rawTx, txoutproof: proof.txoutproof, headers: proof.headers }
    }])
    this.#pending.delete(key)
    if (audit.status === 'accepted') {
      this.#problems.delete(key)
      this.#refused.delete(key)
      this.#proven++
      if (ancestors.length > 0) this.#ancestors[paymentId] = ancestors
      this.#emit({ type: 'payment-proven', ...item, paymentId, amount, confirmations: proof.headers.length + 1 })
    } else {
      const reason = audit.reason ?? 'refused'
      this.#problems.set(key, { ...item, state: `proof refused: ${reason}` })
      this.#refused.set(key, { reason, height })
      this.#emit({ type: 'payment-refused', ...item, reason })
    }
  }

  /**
   * Whether one of these outputs (those paying our address: a distribution's other outputs pay
   * other records) already proves a counted payment in `book`.
   */
  async #counted (book: Book, txid: string, vouts: number[]): Promise<boolean> {
    for (const vout of vouts) {
      const paymentId = await book.view.get('outpoints', `${txid}:${vout}`)
      if (paymentId === null) continue
      const p = await book.view.get('payments', paymentId)
      if (p !== null && p.status !== 'reorged') return true
    }
    return false
  }

  /** The raw headers below height `height`, parent first, while the backend has them (best effort). */
  async #ancestorsOf (height: number): Promise<Array<{ hash: string, height: number, header: string }>> {
    const out: Array<{ hash: string, height: number, header: string }> = []
    try {
      for (let h = height - 1; h >= 0 && h >= height - ANCESTORS_KEPT; h--) {
        const hash = await this.#rpc.getBlockHash(h)
        out.push({ hash, height: h, header: await this.#rpc.getBlockHeader(hash) })
      }
    } catch (err) {
      if (err instanceof GrowrError && err.code === 'BACKEND_UNREACHABLE') throw err
    }
    return out
  }

  /** Whether the backend's best chain holds block `hash`; a block the backend forgot (bcoin) is off it. */
  async #onBestChain (hash: string): Promise<{ height: number } | null> {
    let info
    try {
      info = await this.#rpc.getBlockHeader(hash, true)
    } catch (err) {
      if (isNotFound(err)) return null
      throw err
    }
    if (info.confirmations < 1) return null
    try {
      return await this.#rpc.getBlockHash(info.height) === hash ? { height: info.height } : null
    } catch (err) {
      if (err instanceof GrowrError && err.code === 'BACKEND_ERROR') return null
      throw err
    }
  }

  async #reorgsIn (book: Book): Promise<void> {
    const payments = (await book.view.list('payments')) as Payment[]
    for (const p of payments) {
      if (p.status !== 'confirmed' || p.rail !== 'bitcoin' || !p.proof || !('txid' in p.proof)) continue
      if (p.payer !== this.#did && p.payee !== this.#did) continue
      const project = await projectOf(book, p)
      if (project?.rail?.rail !== 'bitcoin' || project.rail.network !== this.#network) continue
      const proof = p.proof
      const key = `reorg/${book.topic}/${p.paymentId}`
      const item = { book: book.topic, kind: p.kind, ref: p.ref, txid: proof.txid }
      if (await this.#onBestChain(proof.blockHash) !== null) { this.#problems.delete(key); continue }
      const built = await this.#branchFor(p.paymentId, proof)
      if (typeof built === 'string') { this.#problems.set(key, { ...item, state: built }); continue }
      const checked = checkReorganisation({ network: this.#network, proven: { blockHash: proof.blockHash, prevHash: proof.prevHash, work: BigInt(proof.work) }, ancestors: built.ancestors, branch: built.branch })
      if (!checked.ok) { this.#problems.set(key, { ...item, state: `block ${proof.blockHash} left the best chain; not reorganised out yet: ${checked.reason}` }); continue }
      const [{ audit }] = await book.act([{ type: 'payment/reorg', paymentId: p.paymentId, ancestors: built.ancestors, branch: built.branch }])
      if (audit.status === 'accepted') {
        this.#problems.delete(key)
        delete this.#ancestors[p.paymentId]
        this.#emit({ type: 'payment-reorged', book: book.topic, paymentId: p.paymentId, txid: proof.txid, forkHash: checked.forkHash })
      } else if ((await book.view.get('payments', p.paymentId))?.status === 'reorged') {
        // the payer's or payee's other watcher got there first: the book holds what we wanted
        this.#problems.delete(key)
        delete this.#ancestors[p.paymentId]
      } else {
        this.#problems.set(key, { ...item, state: `payment/reorg refused: ${audit.reason ?? ''}` })
      }
    }
  }

  /** The old chain's ancestors above the fork and the best chain's branch from it, or why not. */
  async #branchFor (paymentId: string, proof: BitcoinPaymentRecord): Promise<{ ancestors: string[], branch: string[] } | string> {
    let fork = await this.#onBestChain(proof.prevHash)
    const ancestors: string[] = []
    if (fork === null) {
      const kept = this.#ancestors[paymentId] ?? []
      if (kept.length === 0 || kept[0].hash !== proof.prevHash) {
        return `block ${proof.blockHash} left the best chain, and so did its parent; the old chain's headers are not kept here, so the fork cannot be shown (a node that kept them can)`
      }
      const above: string[] = []
      for (const a of kept) {
        const at = await this.#onBestChain(a.hash)
        if (at !== null) { fork = at; break }
        above.push(a.header)
      }
      if (fork === null) return `block ${proof.blockHash} left the best chain, and the fork is deeper than the ${kept.length} headers kept below it`
      ancestors.push(...above.reverse())
    }
    const tip = await this.#rpc.getBlockCount()
    const branch: string[] = []
    for (let h = fork.height + 1; h <= tip && branch.length < MAX_BRANCH; h++) branch.push(await this.#rpc.getBlockHeader(await this.#rpc.getBlockHash(h)))
    if (branch.length === 0) return `block ${proof.blockHash} left the best chain, which has no block above the fork yet`
    return { ancestors, branch }
  }
}

async function projectOf (book: Book, p: { kind: PaymentKind, ref: string }): Promise<Project | null> {
  const owner = p.kind === 'funding' || p.kind === 'distribution' ? await book.view.get('fundings', p.ref) : await book.view.get('loans', p.ref)
  return owner ? await book.view.get('projects', owner.projectId) : null
}


function readState (json: unknown): WatcherStateJson['ancestors'] {
  if (json === undefined) return {}
  const j = json as Partial<WatcherStateJson> | null
  if (j === null || typeof j !== 'object' || j.version !== 1 || j.ancestors === null || typeof j.ancestors !== 'object') throw GrowrError.BAD_ARGUMENT('watcher state: not a version 1 state')
  const out: WatcherStateJson['ancestors'] = {}
  for (const [id, list] of Object.entries(j.ancestors)) {
    if (!/^[0-9a-f]{32}$/.test(id) || !Array.isArray(list)) throw GrowrError.BAD_ARGUMENT('watcher state: ancestors')
    out[id] = list.map((a) => {
      if (a === null || typeof a !== 'object' || !/^[0-9a-f]{64}$/.test(a.hash) || !Number.isSafeInteger(a.height) || !/^[0-9a-f]{160}$/.test(a.header)) throw GrowrError.BAD_ARGUMENT('watcher state: an ancestor header')
      return { hash: a.hash, height: a.height, header: a.header }
    })
  }
  return out
}

/** @returns the scriptPubKey hex of `address` on `network` (regtest: `bcrt` and bcoin's `rb` alike), or null */
export function scriptOf (address: string, network: NetworkName): string | null {
  const r = addressToScript(address, network)
  return r.ok ? hex.encode(r.script) : null
}
