/**
 * The payee's prover on the Rootstock rail: finds the payments made to the receiving addresses
 * this node posted as payee (`payment/address`, derived at receiveIndexFor(ref) from its own
 * wallet) in books whose project is on Rootstock with this chain id, and once a payment has the
 * rail's confirmations, proves it in its book itself (`payment/prove`, signed by the payee, so it
 * confirms at once). When the payer already proved it (a `recorded` payment carrying that
 * transaction), it appends `payment/confirm` instead: the payee's signature is what counts on
 * Rootstock, since the book does not check merge-mined work.
 *
 * How it finds payments (Ethereum execution API only; no indexer):
 * - native RBTC: every new block with full transactions (`eth_getBlockByNumber(n, true)`), a
 *   transaction whose `to` is a watched address and whose value is not zero;
 * - ERC-20: `eth_getLogs` for the token's Transfer topic with the watched addresses as the `to`
 *   topic, over block ranges of at most {@link MAX_RANGE} blocks.
 * Blocks are read from a cursor kept across restarts (`toJSON`); a newly watched address is looked
 * for again in the last {@link RESCAN_DEPTH} blocks; when the block at the cursor is no longer
 * the backend's, the cursor steps back {@link REORG_DEPTH} blocks and what was seen above is
 * forgotten (the chain is read again).
 *
 * Amounts follow books/payment/handlers.ts reservePayment, in minor units = base units /
 * 10^unitExponent: a funding and a disbursement exactly what the book expects (an underpayment
 * is reported, never proven), a repayment or distribution what was paid, capped at what is owed.
 * Each transaction proves one payment (the book's outpoints `rsk:<txHash>[:<logIndex>]`); before
 * proving, the book is asked whether it already does. Everything the backend answers goes into a
 * proof every peer checks again in apply: a lying backend costs a refused op, nothing more.
 * No `node:` imports: loads under Bare.
 */
import '../../runtime/text-encoding.ts' // before @noble/@ethereumjs: Bare has no TextEncoder global
import { GrowrError } from '../../errors.ts'
import { fetchRootstockProof, type RootstockProofRpc } from './proof-fetcher.ts'
import type { EvmRpc, EvmLogInfo } from './rpc.ts'
import { owedFor } from '../owed.ts'
import type { Book } from '../../../books/book.ts'
import type { Funding, Loan, Payment, Project, ReceivingAddress, RootstockRail as BookRootstockRail } from '../../../books/entities.ts'
import type { PaymentKind } from '../../../books/ops/types.ts'

/** keccak256("Transfer(address,address,uint256)"): the ERC-20 Transfer event's topic 0. */
export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'
/** Blocks read per eth_getLogs call and per step of the cursor. */
export const MAX_RANGE = 500
/** Blocks read again when an address starts being watched. */
export const RESCAN_DEPTH = 100
/** How far the cursor steps back when the block it stood on left the backend's best chain. */
export const REORG_DEPTH = 50
/** Addresses per eth_getLogs call (the `to` topic is an OR list). */
const TOPICS_PER_CALL = 50

/** The backend calls the watcher makes. */
export type RootstockWatcherRpc = RootstockProofRpc & Pick<EvmRpc, 'blockNumber' | 'getBlockByNumber' | 'call'>

/** What the watcher reports (the rail re-emits them as 'watcher' events). */
export type RootstockWatcherEvent =
  | { type: 'payment-seen', book: string, kind: PaymentKind, ref: string, txHash: string, confirmations: number, required: number }
  | { type: 'payment-proven', book: string, kind: PaymentKind, ref: string, txHash: string, paymentId: string, amount: number, confirmations: number }
  | { type: 'payment-confirmed', book: string, kind: PaymentKind, ref: string, txHash: string, paymentId: string }
  | { type: 'payment-refused', book: string, kind: PaymentKind, ref: string, txHash: string, reason: string }
  | { type: 'payment-problem', book: string, kind: PaymentKind, ref: string, txHash: string, reason: string }

/** One line of the watcher's status. */
export interface RootstockWatcherItem { book: string, kind: PaymentKind, ref: string, txHash: string, state: string }

/** The watcher's status. */
export interface RootstockWatcherStatus {
  /** the last block read; null before the first pass */
  scanned: number | null
  /** addresses watched */
  watching: number
  /** payments seen and not yet deep enough, or being proven */
  pending: Array<RootstockWatcherItem & { confirmations: number, required: number }>
  /** payments proven or confirmed by this watcher since the node started */
  proven: number
  /** underpayments, refusals, payments it cannot count, in plain words */
  problems: RootstockWatcherItem[]
}

/** A payment found on chain to one watched address (one transaction; its Transfer logs summed). */
export interface SeenRootstockPayment {
  txHash: string
  blockNumber: number
  blockHash: string
  /** null: native RBTC; else the token contract, lowercase */
  token: string | null
  /** base units (wei or token units) to the address in this transaction */
  amount: bigint
}

/** The state kept across restarts. */
export interface RootstockWatcherStateJson {
  version: 1
  cursor: number | null
  cursorHash: string | null
  /** lowercase address -> the block it was first watched at */
  watched: Record<string, number>
  /** lowercase address -> payments seen to it (amount as a decimal string) */
  seen: Record<string, Array<{ txHash: string, blockNumber: number, blockHash: string, token: string | null, amount: string }>>
}

/** Options of {@link RootstockWatcher}. */
export interface RootstockWatcherOptions {
  rpc: RootstockWatcherRpc
  /** this node's DID: the payee it proves for */
  did: string
  chainId: number
  /** whether `address` (lowercase) is the wallet's own address for record `ref` (receiveIndexFor(ref)): only those are watched */
  isOwn: (address: string, ref: string) => boolean
  emit?: (event: RootstockWatcherEvent) => void
  /** a state saved earlier ({@link RootstockWatcher.toJSON}) */
  state?: unknown
}

/** A payment this node is owed, at one of its own addresses. */
export interface RootstockTarget {
  book: Book
  kind: PaymentKind
  ref: string
  /** lowercase */
  address: string
  project: Project & { rail: BookRootstockRail }
  owner: Funding | Loan
}

/**
 * The payee's prover for one node and one Rootstock chain. Call {@link run} from the rail's loop;
 * calls must not overlap.
 */
export class RootstockWatcher {
  #rpc: RootstockWatcherRpc
  #did: string
  #chainId: number
  #isOwn: (address: string, ref: string) => boolean
  #emit: (event: RootstockWatcherEvent) => void
  #state: RootstockWatcherStateJson
  #pending = new Map<string, RootstockWatcherItem & { confirmations: number, required: number }>()
  #problems = new Map<string, RootstockWatcherItem>()
  /** key -> the tip it was refused at: tried again only once the chain moved */
  #refused = new Map<string, number>()
  #seenEvents = new Map<string, number>()
  #proven = 0

  /**
   * @param options backend, DID, chain, ownership check, events, saved state ({@link RootstockWatcherOptions})
   * @throws GrowrError BAD_ARGUMENT for a damaged saved state
   */
  constructor (options: RootstockWatcherOptions) {
    this.#rpc = options.rpc
    this.#did = options.did
    this.#chainId = options.chainId
    this.#isOwn = options.isOwn
    this.#emit = options.emit ?? (() => {})
    this.#state = readState(options.state)
  }

  /** The state to keep across restarts. */
  toJSON (): RootstockWatcherStateJson {
    return this.#state
  }

  /** Lowercase addresses watched. */
  watched (): string[] {
    return Object.keys(this.#state.watched)
  }

  /** What is on its way and what went wrong ({@link RootstockWatcherStatus}). */
  status (): RootstockWatcherStatus {
    return { scanned: this.#state.cursor, watching: this.watched().length, pending: [...this.#pending.values()], proven: this.#proven, problems: [...this.#problems.values()] }
  }

  /** @returns the payments seen to `address` (lowercase) */
  seenTo (address: string): SeenRootstockPayment[] {
    return (this.#state.seen[address] ?? []).map((s) => ({ ...s, amount: BigInt(s.amount) }))
  }

  /**
   * The payments this node is owed in `books` on this chain, at addresses its wallet derives.
   * @param books the books the node follows
   */
  async targets (books: Book[]): Promise<RootstockTarget[]> {
    const out: RootstockTarget[] = []
    for (const book of books) {
      for (const rec of await book.view.list('addresses')) {
        if (rec === null || typeof rec !== 'object' || !('address' in rec) || rec.payee !== this.#did) continue
        const posted = rec as ReceivingAddress
        const address = String(posted.address).toLowerCase()
        if (!/^0x[0-9a-f]{40}$/.test(address) || !/^[0-9a-f]{32}$/.test(posted.ref)) continue
        const owner = posted.kind === 'funding' || posted.kind === 'distribution' ? await book.view.get('fundings', posted.ref) : await book.view.get('loans', posted.ref)
        if (!owner) continue
        const project = await book.view.get('projects', owner.projectId)
        if (project?.rail?.rail !== 'rootstock' || project.rail.chainId !== this.#chainId) continue
        // posted by hand, not this wallet's: never ours to prove, and we could not spend it
        if (!this.#isOwn(address, posted.ref)) continue
        out.push({ book, kind: posted.kind, ref: posted.ref, address, project: project as Project & { rail: BookRootstockRail }, owner })
      }
    }
    return out
  }

  /**
   * One pass: read the new blocks for payments to the watched addresses, then prove (or confirm)
   * what is deep enough. One book's trouble is reported in {@link status}, never thrown.
   * @param books the books the node follows
   * @returns the tip the pass read to
   * @throws GrowrError BACKEND_UNREACHABLE / BACKEND_ERROR when the backend fails while reading blocks
   */
  async run (books: Book[]): Promise<number> {
    const targets: RootstockTarget[] = []
    for (const book of books) {
      try {
        targets.push(...await this.targets([book]))
      } catch (err) {
        this.#problems.set(`book/${book.topic}`, { book: book.topic, kind: 'funding', ref: '', txHash: '', state: `this book could not be read: ${(err as Error).message}` })
      }
    }
    const tip = await this.#rpc.blockNumber()
    await this.#scan(targets, tip)
    this.#pending.clear()
    for (const target of targets) {
      try {
        for (const paid of this.seenTo(target.address)) await this.#consider(target, paid, tip)
      } catch (err) {
        if (err instanceof GrowrError && err.code === 'BACKEND_UNREACHABLE') throw err
        this.#problem(target, '', `could not be watched: ${(err as Error).message}`)
      }
    }
    return tip
  }

  /** Moves the cursor to `tip`, recording payments to watched addresses on the way. */
  async #scan (targets: RootstockTarget[], tip: number): Promise<void> {
    const s = this.#state
    if (s.cursor === null || s.cursor > tip) {
      // first pass: start at the tip (a fresh wallet was not paid before); addresses posted before are read again below
      s.cursor = tip
      s.cursorHash = (await this.#rpc.getBlockByNumber(tip))?.hash.toLowerCase() ?? null
    } else if (s.cursorHash !== null) {
      const at = await this.#rpc.getBlockByNumber(s.cursor)
      if (at === null || at.hash.toLowerCase() !== s.cursorHash) this.#rewind(Math.max(0, s.cursor - REORG_DEPTH))
    }
    const natives = new Set<string>()
    const tokens = new Map<string, Set<string>>()
    let from = (s.cursor as number) + 1
    for (const t of targets) {
      if (s.watched[t.address] === undefined) {
        s.watched[t.address] = s.cursor as number
        from = Math.min(from, Math.max(0, (s.cursor as number) - RESCAN_DEPTH))
      }
      if (t.project.rail.token === null) natives.add(t.address)
      else {
        const set = tokens.get(t.project.rail.token) ?? new Set<string>()
        set.add(t.address)
        tokens.set(t.project.rail.token, set)
      }
    }
    while (from <= tip) {
      const to = Math.min(tip, from + MAX_RANGE - 1)
      let lastHash: string | null = null
      if (natives.size > 0) {
        for (let h = from; h <= to; h++) {
          const block = await this.#rpc.getBlockByNumber(h)
          if (block === null) throw GrowrError.BACKEND_ERROR(`the Rootstock backend has no block ${h} below its tip ${tip}`)
          lastHash = block.hash.toLowerCase()
          for (const tx of block.transactions) {
            const dest = typeof tx.to === 'string' ? tx.to.toLowerCase() : null
            if (dest === null || !natives.has(dest) || BigInt(tx.value) === 0n) continue
            this.#record(dest, { txHash: tx.hash.toLowerCase(), blockNumber: h, blockHash: lastHash, token: null, amount: BigInt(tx.value) })
          }
        }
      }
      for (const [token, addresses] of tokens) await this.#logs(token, [...addresses], from, to)
      if (to > (s.cursor as number)) {
        s.cursor = to
        s.cursorHash = lastHash ?? (await this.#rpc.getBlockByNumber(to))?.hash.toLowerCase() ?? null
      }
      from = to + 1
    }
  }

  /** ERC-20 Transfer logs of `token` to `addresses` in blocks from..to. */
  async #logs (token: string, addresses: string[], from: number, to: number): Promise<void> {
    for (let i = 0; i < addresses.length; i += TOPICS_PER_CALL) {
      const topics = addresses.slice(i, i + TOPICS_PER_CALL).map((a) => '0x' + a.slice(2).padStart(64, '0'))
      const logs = await this.#rpc.call<unknown>('eth_getLogs', [{ fromBlock: '0x' + from.toString(16), toBlock: '0x' + to.toString(16), address: token, topics: [TRANSFER_TOPIC, null, topics] }])
      if (!Array.isArray(logs)) throw GrowrError.BACKEND_ERROR('the Rootstock backend answered eth_getLogs with something that is not a list of logs')
      const sums = new Map<string, SeenRootstockPayment & { to: string }>()
      for (const raw of logs) {
        const log = raw as EvmLogInfo & { transactionHash?: unknown, blockNumber?: unknown, blockHash?: unknown, removed?: unknown }
        if (log === null || typeof log !== 'object' || log.removed === true) continue
        if (typeof log.transactionHash !== 'string' || typeof log.blockNumber !== 'string' || typeof log.blockHash !== 'string' || !Array.isArray(log.topics) || typeof log.data !== 'string') continue
        if (String(log.address).toLowerCase() !== token || String(log.topics[0]).toLowerCase() !== TRANSFER_TOPIC || log.topics.length !== 3) continue
        const dest = '0x' + String(log.topics[2]).toLowerCase().slice(-40)
        if (!addresses.includes(dest) || !/^0x[0-9a-fA-F]{1,64}$/.test(log.data)) continue
        const key = `${dest}/${log.transactionHash.toLowerCase()}`
        const had = sums.get(key)
        sums.set(key, { to: dest, txHash: log.transactionHash.toLowerCase(), blockNumber: Number(BigInt(log.blockNumber)), blockHash: log.blockHash.toLowerCase(), token, amount: (had?.amount ?? 0n) + BigInt(log.data) })
      }
      for (const { to: dest, ...paid } of sums.values()) this.#record(dest, paid)
    }
  }

  #record (address: string, paid: SeenRootstockPayment): void {
    const list = this.#state.seen[address] ?? []
    const i = list.findIndex((p) => p.txHash === paid.txHash)
    const json = { txHash: paid.txHash, blockNumber: paid.blockNumber, blockHash: paid.blockHash, token: paid.token, amount: paid.amount.toString() }
    if (i === -1) list.push(json)
    else list[i] = json
    this.#state.seen[address] = list
  }

  /** Forgets what was seen above `height` and reads the chain again from there. */
  #rewind (height: number): void {
    const s = this.#state
    s.cursor = height
    s.cursorHash = null
    for (const [address, list] of Object.entries(s.seen)) s.seen[address] = list.filter((p) => p.blockNumber <= height)
  }

  #problem (target: RootstockTarget, txHash: string, reason: string): void {
    const key = `${target.book.topic}/${target.kind}/${target.ref}/${txHash}`
    const had = this.#problems.get(key)
    this.#problems.set(key, { book: target.book.topic, kind: target.kind, ref: target.ref, txHash, state: reason })
    if (had?.state !== reason) this.#emit({ type: 'payment-problem', book: target.book.topic, kind: target.kind, ref: target.ref, txHash, reason })
  }

  async #consider (target: RootstockTarget, paid: SeenRootstockPayment, tip: number): Promise<void> {
    const { book } = target
    const rail = target.project.rail
    const key = `${book.topic}/${target.kind}/${target.ref}/${paid.txHash}`
    const item = { book: book.topic, kind: target.kind, ref: target.ref, txHash: paid.txHash }
    if (paid.token !== rail.token) {
      this.#problem(target, paid.txHash, paid.token === null ? 'RBTC sent to a token project\'s address: the book counts only the token' : `token ${paid.token} sent to an address of a ${rail.token === null ? 'RBTC' : rail.token} project: not counted`)
      return
    }
    const required = rail.confirmations
    const confirmations = tip - paid.blockNumber + 1
    const counted = await countedBy(book, paid.txHash, rail.token !== null)
    if (counted !== null) {
      if (counted.status === 'confirmed') { this.#problems.delete(key); return }
      if (counted.status === 'cancelled' || counted.status === 'reorged') { this.#problem(target, paid.txHash, `payment ${counted.paymentId} carrying this transaction was ${counted.status}: the transaction cannot prove another`); return }
      if (counted.payee !== this.#did) return
      // the payer proved it; the payee's signature is what counts, once its own backend shows it deep enough
      if (confirmations < required) { this.#pendingItem(item, confirmations, required, key); return }
      if (this.#refused.get(key) === tip) return
      const [{ audit }] = await book.act([{ type: 'payment/confirm', paymentId: counted.paymentId }])
      if (audit.status === 'accepted') {
        this.#proven++
        this.#problems.delete(key)
        this.#emit({ type: 'payment-confirmed', ...item, paymentId: counted.paymentId })
      } else {
        this.#refused.set(key, tip)
        this.#problem(target, paid.txHash, `payment/confirm refused: ${audit.reason ?? ''}`)
        this.#emit({ type: 'payment-refused', ...item, reason: audit.reason ?? 'refused' })
      }
      return
    }
    if (confirmations < required) { this.#pendingItem(item, confirmations, required, key); return }
    if (this.#refused.get(key) === tip) return
    const amount = await owedFor(book, target, paid.amount, 10n ** BigInt(rail.unitExponent))
    if (typeof amount === 'string') {
      this.#refused.set(key, tip)
      this.#problem(target, paid.txHash, amount)
      return
    }
    this.#pending.set(key, { ...item, state: 'proving', confirmations, required })
    let proof
    try {
      proof = await fetchRootstockProof(this.#rpc, paid.txHash, { confirmations: required, timeoutMs: 0, pollMs: 1 })
    } catch (err) {
      if (err instanceof GrowrError && (err.code === 'TIMEOUT' || err.code === 'BACKEND_ERROR')) {
        // the backend is behind what the scan saw, or the chain moved: the next pass asks again
        this.#pending.set(key, { ...item, state: `waiting for the backend: ${err.message}`, confirmations, required })
        return
      }
      throw err
    }
    if (proof.status !== 1) {
      this.#refused.set(key, tip)
      this.#problem(target, paid.txHash, 'the transaction reverted (receipt status 0): it moved nothing')
      return
    }
    const strip = (h: string): string => h.replace(/^0x/, '')
    const paymentId = book.newId()
    const [{ audit }] = await book.act([{
      type: 'payment/prove',
      paymentId,
      kind: target.kind,
      ref: target.ref,
      amount,
      currency: target.owner.currency,
      rail: 'rootstock',
      proof: { rawTx: strip(proof.rawTx), receipt: strip(proof.receipt), header: strip(proof.header), txIndex: proof.txIndex, txProof: proof.txProof.map(strip), receiptProof: proof.receiptProof.map(strip) }
    }])
    this.#pending.delete(key)
    if (audit.status === 'accepted') {
      this.#proven++
      this.#problems.delete(key)
      this.#refused.delete(key)
      this.#emit({ type: 'payment-proven', ...item, paymentId, amount, confirmations })
    } else {
      this.#refused.set(key, tip)
      this.#problem(target, paid.txHash, `proof refused: ${audit.reason ?? 'refused'}`)
      this.#emit({ type: 'payment-refused', ...item, reason: audit.reason ?? 'refused' })
    }
  }

  #pendingItem (item: Omit<RootstockWatcherItem, 'state'>, confirmations: number, required: number, key: string): void {
    this.#pending.set(key, { ...item, state: confirmations <= 0 ? 'pending' : 'confirming', confirmations, required })
    if (this.#seenEvents.get(key) !== confirmations) {
      this.#seenEvents.set(key, confirmations)
      this.#emit({ type: 'payment-seen', ...item, confirmations, required })
    }
  }
}

/** The payment a transaction already backs in `book` (native: the transaction; token: any of its Transfer logs), or null. */
async function countedBy (book: Book, txHash: string, token: boolean): Promise<Payment | null> {
  const ids = token
    ? await book.view.list('outpoints', { gte: `rsk:${txHash}:`, lt: `rsk:${txHash}:~` })
    : [await book.view.get('outpoints', `rsk:${txHash}`)].filter((x): x is string => x !== null)
  for (const id of ids) {
    const p = await book.view.get('payments', id)
    if (p !== null) return p
  }
  return null
}

function readState (json: unknown): RootstockWatcherStateJson {
  const fresh: RootstockWatcherStateJson = { version: 1, cursor: null, cursorHash: null, watched: {}, seen: {} }
  if (json === undefined) return fresh
  const j = json as Partial<RootstockWatcherStateJson> | null
  const bad = (what: string): never => { throw GrowrError.BAD_ARGUMENT(`Rootstock watcher state: ${what}`) }
  if (j === null || typeof j !== 'object' || j.version !== 1) return bad('not a version 1 state')
  if (j.cursor !== null && (!Number.isSafeInteger(j.cursor) || (j.cursor as number) < 0)) bad('cursor')
  if (j.cursorHash !== null && (typeof j.cursorHash !== 'string' || !/^0x[0-9a-f]{64}$/.test(j.cursorHash))) bad('cursor hash')
  if (j.watched === null || typeof j.watched !== 'object' || j.seen === null || typeof j.seen !== 'object') bad('addresses')
  const watched: Record<string, number> = {}
  for (const [a, h] of Object.entries(j.watched as object)) {
    if (!/^0x[0-9a-f]{40}$/.test(a) || !Number.isSafeInteger(h)) bad('a watched address')
    watched[a] = h as number
  }
  const seen: RootstockWatcherStateJson['seen'] = {}
  for (const [a, list] of Object.entries(j.seen as object)) {
    if (!/^0x[0-9a-f]{40}$/.test(a) || !Array.isArray(list)) bad('a seen address')
    seen[a] = (list as unknown[]).map((p) => {
      const x = p as RootstockWatcherStateJson['seen'][string][number]
      if (x === null || typeof x !== 'object' || !/^0x[0-9a-f]{64}$/.test(x.txHash) || !/^0x[0-9a-f]{64}$/.test(x.blockHash) || !Number.isSafeInteger(x.blockNumber) ||
        (x.token !== null && !/^0x[0-9a-f]{40}$/.test(String(x.token))) || !/^[0-9]{1,80}$/.test(x.amount)) bad('a seen payment')
      return { txHash: x.txHash, blockNumber: x.blockNumber, blockHash: x.blockHash, token: x.token, amount: x.amount }
    })
  }
  return { version: 1, cursor: j.cursor as number | null, cursorHash: j.cursorHash as string | null, watched, seen }
}
