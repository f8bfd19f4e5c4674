/**
 * Portable payment receipts: what a holder keeps to show, later and offline, that a payment was
 * recorded in a book and confirmed, checkable with nothing but the book's key.
 *
 * A receipt carries signed ops exactly as their signers appended them, each with a Merkle
 * inclusion proof in the writer's Hypercore against that core's signed tree head, plus the ops
 * that tie each writer core to the book:
 *
 *   book key ──(is the key of)── the originator's bootstrap core
 *     └ book/create             signed by the originator's DID: who the originator is
 *     └ member/add | device/add signed by the originator: writer core W belongs to DID D (role R)
 *         └ payment/record (or payment/prove) in W, signed by D: the payer's statement
 *         └ payment/confirm in W', signed by the payee: "received" (or the rail proof itself)
 *
 * Binary format (compact-encoding), version 1; a receipt is encoded in exactly one way and any
 * other byte form is refused:
 *
 *   uint     version          1; another version is refused, never guessed at
 *   fixed32  bookKey          the book's Autobase key (= the originator's bootstrap core key)
 *   array    cores            each writer core the entries live in, with its signed tree head:
 *     fixed32  publicKey        the core's Ed25519 signer; the core key is the hash of its default
 *                               Hypercore manifest (version 1, one signer, default namespace)
 *     uint     fork, length     the signed head (length >= 1)
 *     array    roots            the tree's full roots at `length`: {uint size, fixed32 hash}; their
 *                               indices follow from length (flat-tree fullRoots)
 *     fixed64  signature        Ed25519 over hypercore's treeSignable(coreKey, tree(roots), length, fork)
 *   array    entries          the blocks:
 *     uint     core             position in `cores`
 *     uint     index            block index in that core
 *     buffer   block            the raw block: an Autobase oplog message whose value is the op envelope
 *     array    path             the sibling nodes from the block up to its root, {uint size, fixed32 hash}
 *
 * What a valid receipt establishes: the payer's DID signed the payment op for this book; the
 * payee's DID signed its confirmation (or, on the Bitcoin and Lightning rails, a chain proof was
 * submitted, which every peer's apply checked; the receipt does not re-run that check); each op
 * sits at a fixed position of a writer log whose head its device signed (append-only: that device
 * cannot later show a log without it without signing a fork, which peers detect); and each writer
 * was added to the book by the originator, whose identity the book key itself fixes.
 * What it does not establish: how the book's apply ordered the ops (a confirmation that apply
 * refused, say because the payer cancelled first, is still a signed statement of the payee) and
 * whether a member was later removed. That is the view's business: ask the book's peers
 * (`receipt.validate`, core/receipts/validation.ts), who check the receipt against their replica.
 */
import '../runtime/text-encoding.ts'
import c from 'compact-encoding'
import b4a from 'b4a'
import * as hcrypto from 'hypercore-crypto'
import * as flat from 'flat-tree'
import Verifier from 'hypercore/lib/verifier.js'
import * as caps from 'hypercore/lib/caps.js'
import * as multisig from 'hypercore/lib/multisig.js'
// a default import: the module's exports object is built from calls, which named ESM imports of CommonJS cannot see
import messages from 'autobase/lib/messages.js'
import { decodeOp } from '../../books/ops/envelope.ts'
import { OpValidator } from '../../books/ops/schemas.ts'
import { isScopedTo } from '../../books/ids.ts'
import type { Op, PaymentKind, Role } from '../../books/ops/types.ts'
import type { DidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'

export const RECEIPT_VERSION = 1
/** Largest receipt accepted, bytes: a handful of ops (each at most 64 KiB) and their proofs. */
export const MAX_RECEIPT_BYTES = 512 * 1024
const MAX_CORES = 8
const MAX_ENTRIES = 16
/** a Merkle path or root list is at most 64 nodes: 2^64 blocks */
const MAX_NODES = 64

interface TreeNode { size: number; hash: Uint8Array }
interface IndexedNode extends TreeNode { index: number }
export interface ReceiptCore { publicKey: Uint8Array; fork: number; length: number; roots: TreeNode[]; signature: Uint8Array }
export interface ReceiptEntry { core: number; index: number; block: Uint8Array; path: TreeNode[] }
export interface ReceiptData { version: number; bookKey: Uint8Array; cores: ReceiptCore[]; entries: ReceiptEntry[] }

/** Bounded array codec: a hostile receipt cannot make the decoder allocate without end. */
function bounded<T> (item: { preencode (s: c.State, m: T): void; encode (s: c.State, m: T): void; decode (s: c.State): T }, max: number, what: string) {
  return {
    preencode (state: c.State, list: T[]) {
      c.uint.preencode(state, list.length)
      for (const x of list) item.preencode(state, x)
    },
    encode (state: c.State, list: T[]) {
      c.uint.encode(state, list.length)
      for (const x of list) item.encode(state, x)
    },
    decode (state: c.State): T[] {
      const n = c.uint.decode(state)
      if (n > max) throw GrowrError.BAD_ARGUMENT(`receipt has more than ${max} ${what}`)
      const out: T[] = []
      for (let i = 0; i < n; i++) out.push(item.decode(state))
      return out
    }
  }
}

const treeNode = {
  preencode (state: c.State, m: TreeNode) { c.uint.preencode(state, m.size); c.fixed32.preencode(state, m.hash) },
  encode (state: c.State, m: TreeNode) { c.uint.encode(state, m.size); c.fixed32.encode(state, m.hash) },
  decode (state: c.State): TreeNode { return { size: c.uint.decode(state), hash: c.fixed32.decode(state) } }
}
const nodes = bounded(treeNode, MAX_NODES, 'tree nodes in a list')

const coreEncoding = {
  preencode (state: c.State, m: ReceiptCore) {
    c.fixed32.preencode(state, m.publicKey); c.uint.preencode(state, m.fork); c.uint.preencode(state, m.length)
    nodes.preencode(state, m.roots); c.fixed64.preencode(state, m.signature)
  },
  encode (state: c.State, m: ReceiptCore) {
    c.fixed32.encode(state, m.publicKey); c.uint.encode(state, m.fork); c.uint.encode(state, m.length)
    nodes.encode(state, m.roots); c.fixed64.encode(state, m.signature)
  },
  decode (state: c.State): ReceiptCore {
    return { publicKey: c.fixed32.decode(state), fork: c.uint.decode(state), length: c.uint.decode(state), roots: nodes.decode(state), signature: c.fixed64.decode(state) }
  }
}

const entryEncoding = {
  preencode (state: c.State, m: ReceiptEntry) {
    c.uint.preencode(state, m.core); c.uint.preencode(state, m.index); c.buffer.preencode(state, m.block); nodes.preencode(state, m.path)
  },
  encode (state: c.State, m: ReceiptEntry) {
    c.uint.encode(state, m.core); c.uint.encode(state, m.index); c.buffer.encode(state, m.block); nodes.encode(state, m.path)
  },
  decode (state: c.State): ReceiptEntry {
    const core = c.uint.decode(state)
    const index = c.uint.decode(state)
    const block = c.buffer.decode(state)
    if (block === null) throw GrowrError.BAD_ARGUMENT('receipt entry has no block')
    return { core, index, block, path: nodes.decode(state) }
  }
}

const receiptEncoding = {
  preencode (state: c.State, m: ReceiptData) {
    c.uint.preencode(state, m.version); c.fixed32.preencode(state, m.bookKey)
    bounded(coreEncoding, MAX_CORES, 'cores').preencode(state, m.cores)
    bounded(entryEncoding, MAX_ENTRIES, 'entries').preencode(state, m.entries)
  },
  encode (state: c.State, m: ReceiptData) {
    c.uint.encode(state, m.version); c.fixed32.encode(state, m.bookKey)
    bounded(coreEncoding, MAX_CORES, 'cores').encode(state, m.cores)
    bounded(entryEncoding, MAX_ENTRIES, 'entries').encode(state, m.entries)
  },
  decode (state: c.State): ReceiptData {
    const version = c.uint.decode(state)
    if (version !== RECEIPT_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`unknown receipt version ${version}`)
    return {
      version,
      bookKey: c.fixed32.decode(state),
      cores: bounded(coreEncoding, MAX_CORES, 'cores').decode(state),
      entries: bounded(entryEncoding, MAX_ENTRIES, 'entries').decode(state)
    }
  }
}

/** Encodes receipt data (version 1). @returns the receipt bytes */
export function encodeReceipt (data: ReceiptData): Uint8Array {
  return c.encode(receiptEncoding, data)
}

/** @returns BLAKE2b-256 of the receipt bytes, hex: the name peers' answers use for a receipt */
export function receiptHash (bytes: Uint8Array): string {
  return b4a.toString(hcrypto.hash(bytes), 'hex')
}

const hc = hcrypto as unknown as {
  data (block: Uint8Array): Uint8Array
  parent (a: IndexedNode, b: IndexedNode): Uint8Array
  tree (roots: IndexedNode[]): Uint8Array
  verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean
}

/** @returns the key of a Hypercore whose manifest is the default one for `publicKey` */
export function coreKeyOf (publicKey: Uint8Array): Uint8Array {
  return Verifier.manifestHash(Verifier.defaultSignerManifest(publicKey))
}

/** The roots at `length` with their indices. @returns null when the count does not match */
function indexedRoots (length: number, roots: TreeNode[]): IndexedNode[] | null {
  const indices = flat.fullRoots(2 * length)
  if (indices.length !== roots.length) return null
  return roots.map((r, i) => ({ index: indices[i], size: r.size, hash: r.hash }))
}

/** Walks a block up its Merkle path. @returns the node reached */
function climb (index: number, block: Uint8Array, path: TreeNode[]): IndexedNode {
  let cur: IndexedNode = { index: 2 * index, size: block.byteLength, hash: hc.data(block) }
  for (const sib of path) {
    const other: IndexedNode = { index: flat.sibling(cur.index), size: sib.size, hash: sib.hash }
    cur = { index: flat.parent(cur.index), size: cur.size + other.size, hash: hc.parent(cur, other) }
  }
  return cur
}

/** A payment as the receipt shows it; amounts in integer minor units of `currency`. */
export interface ReceiptPayment {
  paymentId: string
  kind: PaymentKind
  ref: string
  amount: number
  currency: string
  rail: string
  reference: string | null
  /** the payer's DID; null only for a proof the payee submitted of a payment by a member the receipt does not name */
  payer: DidKey | null
  /** the payee's DID; null only for a payer's chain proof of a payment to a member the receipt does not name */
  payee: DidKey | null
  /** the op that recorded (or proved) it */
  op: 'payment/record' | 'payment/prove'
  opId: string
  /** the payer's own timestamp on its op, ms */
  recordedAt: number
}

export type ReceiptVerification =
  | {
    ok: true
    /** BLAKE2b-256 of the receipt bytes, hex */
    receiptHash: string
    /** the book key, hex */
    book: string
    bookName: string
    originator: DidKey
    payment: ReceiptPayment
    /** who confirmed: the payee's DID, or the rail proof ('proof') the book's apply checked */
    confirmedBy: DidKey | 'proof'
    /** the confirming op's own timestamp, ms */
    confirmedAt: number
    /** each writer core the receipt relies on: key (hex), bound DID and role, signed length and tree hash (hex) */
    writers: Array<{ key: string; did: DidKey; role: Role; length: number; treeHash: string }>
  }
  | { ok: false; reason: string }

interface Located { entry: number; core: number; coreKey: string; op: Op }

let validator: OpValidator | null = null

/**
 * Verifies a receipt offline against a book key. Pure; never throws.
 *
 * @param bytes the receipt as exported (untrusted)
 * @param bookKey the book's 32-byte key, obtained independently of the receipt (its topic)
 * @returns what the receipt proves (see the module comment), or `{ ok: false, reason }` in plain words
 */
export function verifyReceipt (bytes: Uint8Array, bookKey: Uint8Array): ReceiptVerification {
  try {
    return verifyUnsafe(bytes, bookKey)
  } catch (err) {
    // every check below returns its own reason; this is a last guard so that a verifier never throws
    return { ok: false, reason: `receipt could not be checked: ${String((err as Error)?.message ?? err).slice(0, 200)}` }
  }
}

function verifyUnsafe (bytes: Uint8Array, bookKey: Uint8Array): ReceiptVerification {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'a receipt is bytes' }
  if (!(bookKey instanceof Uint8Array) || bookKey.byteLength !== 32) return { ok: false, reason: 'the book key must be 32 bytes' }
  if (bytes.byteLength > MAX_RECEIPT_BYTES) return { ok: false, reason: `receipt of ${bytes.byteLength} bytes exceeds ${MAX_RECEIPT_BYTES}` }
  let data: ReceiptData
  try {
    data = c.decode(receiptEncoding, bytes)
  } catch (err) {
    if (err instanceof GrowrError && err.code === 'UNSUPPORTED_VERSION') return { ok: false, reason: err.message.replace(/^[A-Z_]+: /, '') }
    return { ok: false, reason: 'receipt does not decode' }
  }
  // one byte form per receipt: a second encoding of the same content is not this receipt
  if (!b4a.equals(encodeReceipt(data), bytes)) return { ok: false, reason: 'receipt is not in its canonical encoding' }
  if (!b4a.equals(data.bookKey, bookKey)) return { ok: false, reason: 'receipt is for another book' }

  // 1. each core's signed head
  const coreKeys: string[] = []
  const roots: IndexedNode[][] = []
  for (const [i, core] of data.cores.entries()) {
    const key = coreKeyOf(core.publicKey)
    const hex = b4a.toString(key, 'hex')
    if (coreKeys.includes(hex)) return { ok: false, reason: `writer core ${i} appears twice` }
    if (core.length < 1) return { ok: false, reason: `writer core ${i} has no blocks` }
    const r = indexedRoots(core.length, core.roots)
    if (r === null) return { ok: false, reason: `writer core ${i}: a tree of ${core.length} blocks has ${flat.fullRoots(2 * core.length).length} roots, not ${core.roots.length}` }
    const byteLength = r.reduce((s, n) => s + n.size, 0)
    if (!Number.isSafeInteger(byteLength)) return { ok: false, reason: `writer core ${i}: tree sizes overflow` }
    const signable = caps.treeSignable(key, hc.tree(r), core.length, core.fork)
    if (!hc.verify(signable, core.signature, core.publicKey)) return { ok: false, reason: `writer core ${i}: the tree head is not signed by its writer key` }
    coreKeys.push(hex)
    roots.push(r)
  }

  // 2. each block's inclusion, then its op
  validator ??= new OpValidator()
  const located: Located[] = []
  const used = new Set<number>()
  for (const [i, e] of data.entries.entries()) {
    const core = data.cores[e.core]
    if (!core) return { ok: false, reason: `entry ${i} names no core of the receipt` }
    if (e.index >= core.length) return { ok: false, reason: `entry ${i}: block ${e.index} is beyond the signed length ${core.length}` }
    if (e.path.length > MAX_NODES) return { ok: false, reason: `entry ${i}: Merkle path too long` }
    const top = climb(e.index, e.block, e.path)
    const root = roots[e.core].find((r) => r.index === top.index)
    if (!root || root.size !== top.size || !b4a.equals(root.hash, top.hash)) return { ok: false, reason: `entry ${i}: block ${e.index} is not in the signed tree of its writer core (Merkle proof does not hold)` }
    let value: Uint8Array | null
    try {
      value = c.decode(messages.OplogMessage, e.block).node.value
    } catch {
      return { ok: false, reason: `entry ${i}: block is not an Autobase oplog message` }
    }
    const decoded = decodeOp(value, bookKey)
    if (!decoded.ok) return { ok: false, reason: `entry ${i}: ${decoded.reason}` }
    const invalid = validator.check(decoded.op)
    if (invalid) return { ok: false, reason: `entry ${i}: ${invalid}` }
    if (located.some((l) => l.coreKey === coreKeys[e.core] && data.entries[l.entry].index === e.index)) return { ok: false, reason: `entry ${i} repeats a block` }
    located.push({ entry: i, core: e.core, coreKey: coreKeys[e.core], op: decoded.op as Op })
    used.add(e.core)
  }
  if (used.size !== data.cores.length) return { ok: false, reason: 'receipt carries a writer core no entry uses' }

  // 3. the chain from the book key to each writer
  const bookHex = b4a.toString(bookKey, 'hex')
  const creates = located.filter((l) => l.op.type === 'book/create')
  if (creates.length !== 1 || creates[0].coreKey !== bookHex) return { ok: false, reason: 'receipt needs the book/create op from the book\'s own core (whose key is the book key)' }
  const create = creates[0].op as Extract<Op, { type: 'book/create' }>
  const originator = create.signer
  const bound = new Map<string, { did: DidKey; role: Role; by: number }>([[bookHex, { did: originator, role: 'originator', by: creates[0].entry }]])
  const neededEntries = new Set<number>([creates[0].entry])
  let grew = true
  while (grew) {
    grew = false
    for (const l of located) {
      if (l.op.type !== 'member/add' && l.op.type !== 'device/add') continue
      const by = bound.get(l.coreKey)
      if (!by || by.did !== originator || l.op.signer !== originator) continue
      const key = l.op.writerKey.toLowerCase()
      const did = l.op.type === 'member/add' ? l.op.member : originator
      const role: Role = l.op.type === 'member/add' ? l.op.role : 'originator'
      const known = bound.get(key)
      if (known && (known.did !== did || known.role !== role)) return { ok: false, reason: `writer ${key.slice(0, 16)} is bound to two identities` }
      if (!known) { bound.set(key, { did, role, by: l.entry }); grew = true }
    }
  }
  const chainOf = (coreKey: string): boolean => {
    let key: string | null = coreKey
    while (key !== null) {
      const b = bound.get(key)
      if (!b) return false
      neededEntries.add(b.by)
      key = key === bookHex ? null : located[b.by].coreKey
    }
    return true
  }

  // 4. the payment and its confirmation
  const pays = located.filter((l) => l.op.type === 'payment/record' || l.op.type === 'payment/prove')
  if (pays.length !== 1) return { ok: false, reason: 'receipt must carry exactly one payment op (payment/record or payment/prove)' }
  const pay = pays[0]
  const pop = pay.op as Extract<Op, { type: 'payment/record' | 'payment/prove' }>
  if (!chainOf(pay.coreKey)) return { ok: false, reason: 'the payment op\'s writer is not tied to the book by the originator\'s ops' }
  const payWriter = bound.get(pay.coreKey) as { did: DidKey; role: Role }
  if (payWriter.did !== pop.signer) return { ok: false, reason: 'the payment op is not signed by the identity bound to its writer' }
  // who pays and who is paid follows from the kind and the record id alone: funding and loan
  // ids are scoped to the investor and the borrower who created them (books/ids.ts)
  const originatorPays = pop.kind === 'disbursement' || pop.kind === 'distribution'
  const isPayer = (did: DidKey) => originatorPays ? did === originator : isScopedTo(pop.ref, did)
  const isPayee = (did: DidKey) => originatorPays ? isScopedTo(pop.ref, did) && did !== originator : did === originator
  if (pop.type === 'payment/record') {
    if (!isPayer(pop.signer)) return { ok: false, reason: `the ${pop.kind} is recorded by ${pop.signer}, who does not pay it` }
    if (!isScopedTo(pop.paymentId, pop.signer)) return { ok: false, reason: 'the payment id is not scoped to its recorder' }
    const payerRole: Role = pop.kind === 'funding' ? 'investor' : pop.kind === 'repayment' ? 'borrower' : 'originator'
    if (payWriter.role !== payerRole) return { ok: false, reason: `a ${payWriter.role} does not pay a ${pop.kind}` }
  } else if (!isPayer(pop.signer) && !isPayee(pop.signer)) {
    return { ok: false, reason: `the ${pop.kind} is proven by neither its payer nor its payee` }
  }
  neededEntries.add(pay.entry)

  const confirms = located.filter((l) => l.op.type === 'payment/confirm')
  let confirmedBy: DidKey | 'proof'
  let confirmedAt: number
  let payee: DidKey | null
  if (confirms.length > 1) return { ok: false, reason: 'receipt carries more than one confirmation' }
  if (confirms.length === 1) {
    const conf = confirms[0]
    const cop = conf.op as Extract<Op, { type: 'payment/confirm' }>
    if (cop.paymentId !== pop.paymentId) return { ok: false, reason: 'the confirmation is for another payment' }
    if (!chainOf(conf.coreKey)) return { ok: false, reason: 'the confirmation\'s writer is not tied to the book by the originator\'s ops' }
    if ((bound.get(conf.coreKey) as { did: DidKey }).did !== cop.signer) return { ok: false, reason: 'the confirmation is not signed by the identity bound to its writer' }
    if (!isPayee(cop.signer)) return { ok: false, reason: `the confirmation is signed by ${cop.signer}, not the payee of this ${pop.kind}` }
    if (cop.ts < pop.ts) return { ok: false, reason: 'the confirmation is dated before the payment' }
    confirmedBy = cop.signer
    confirmedAt = cop.ts
    payee = cop.signer
    neededEntries.add(conf.entry)
  } else {
    if (pop.type !== 'payment/prove') return { ok: false, reason: 'a recorded payment needs the payee\'s confirmation in the receipt' }
    // Bitcoin and Lightning proofs confirm by themselves; on Rootstock only the payee's own proof does
    if (pop.rail === 'rootstock' && !isPayee(pop.signer)) return { ok: false, reason: 'a Rootstock payment proven by its payer needs the payee\'s confirmation in the receipt' }
    confirmedBy = 'proof'
    confirmedAt = pop.ts
    payee = isPayee(pop.signer) ? pop.signer : originatorPays ? null : originator
  }
  const payer: DidKey | null = isPayer(pop.signer) ? pop.signer : originatorPays ? originator : null
  if (neededEntries.size !== data.entries.length) return { ok: false, reason: 'receipt carries ops that prove nothing about the payment' }

  const writers = data.cores.map((core, i) => {
    const b = bound.get(coreKeys[i]) as { did: DidKey; role: Role }
    return { key: coreKeys[i], did: b.did, role: b.role, length: core.length, treeHash: b4a.toString(hc.tree(roots[i]), 'hex') }
  })
  return {
    ok: true,
    receiptHash: receiptHash(bytes),
    book: bookHex,
    bookName: create.name,
    originator,
    payment: {
      paymentId: pop.paymentId,
      kind: pop.kind,
      ref: pop.ref,
      amount: pop.amount,
      currency: pop.currency,
      rail: pop.rail,
      reference: pop.type === 'payment/record' ? pop.reference : null,
      payer,
      payee,
      op: pop.type,
      opId: pop.opId,
      recordedAt: pop.ts
    },
    confirmedBy,
    confirmedAt,
    writers
  }
}

// ---------------------------------------------------------------------------------------------
// Building a receipt from a node's replica (I/O: reads writer cores through the book's store)

/** The part of a Hypercore session the builder reads. */
interface CoreSession {
  key: Uint8Array
  length: number
  fork: number
  manifest: { version: number; signers: Array<{ publicKey: Uint8Array; namespace: Uint8Array }> } | null
  ready (): Promise<void>
  close (): Promise<void>
  get (index: number, opts?: { wait?: boolean }): Promise<Uint8Array | null>
  proof (opts: { block: { index: number; nodes: number }; upgrade: { start: number; length: number } }): Promise<{
    fork: number
    block: { index: number; value: Uint8Array; nodes: IndexedNode[] }
    upgrade: { start: number; length: number; nodes: IndexedNode[]; additionalNodes: IndexedNode[]; signature: Uint8Array }
  }>
}

/** What the builder needs of a Book: its key, its view, and its Autobase's store. */
export interface ReceiptSource {
  key: Uint8Array
  base: { update (): Promise<void> }
  view: {
    get (sub: 'payments', key: string): Promise<{ paymentId: string; status: string; payer: string; payee: string; rail: string } | null>
    auditOf (signer: string, opId: string): Promise<{ status: string } | null>
    bee: { sub (name: string): { createReadStream (): AsyncIterable<{ key: string; value: unknown }> } }
  }
}

interface Found { coreKey: string; index: number; op: Op }

/**
 * Builds the receipt of a confirmed payment from this node's replica of the book.
 *
 * @param book an open Book (any member's or follower's replica that holds the writers' logs)
 * @param paymentId the payment's id (32 hex)
 * @returns the receipt bytes (verify them with {@link verifyReceipt})
 * @throws NOT_FOUND when the payment or one of its ops is not here; BAD_ARGUMENT when the
 *   payment is not confirmed; INTERNAL when the receipt built does not verify (a writer core
 *   with a manifest other than the default one, or a replica missing tree nodes)
 */
export async function buildReceipt (book: ReceiptSource, paymentId: string): Promise<Uint8Array> {
  if (typeof paymentId !== 'string' || !/^[0-9a-f]{32}$/.test(paymentId)) throw GrowrError.BAD_ARGUMENT('payment id must be 32 hex characters')
  await book.base.update()
  const payment = await book.view.get('payments', paymentId)
  if (!payment) throw GrowrError.NOT_FOUND(`no payment ${paymentId} in this book here`)
  if (payment.status !== 'confirmed') throw GrowrError.BAD_ARGUMENT(`payment ${paymentId} is ${payment.status}: only a confirmed payment has a receipt`)
  const cores = coreSessions(book)
  const open = cores.open
  try {
    const writers: Array<{ key: string; did: string }> = []
    for await (const { key, value } of book.view.bee.sub('writers').createReadStream()) writers.push({ key, did: String(value) })
    const accepted = async (op: Op) => (await book.view.auditOf(op.signer, op.opId))?.status === 'accepted'
    // scans a writer's log from its end for the first op that matches and apply accepted
    const find = async (keys: string[], match: (op: Op) => boolean, fromStart = false): Promise<Found | null> => {
      for (const hex of keys) {
        const core = await open(hex)
        for (let n = 0; n < core.length; n++) {
          const index = fromStart ? n : core.length - 1 - n
          const block = await core.get(index, { wait: false })
          if (block === null) continue
          let value: Uint8Array | null
          try { value = c.decode(messages.OplogMessage, block).node.value } catch { continue }
          const d = decodeOp(value, book.key)
          if (!d.ok) continue
          const op = d.op as Op
          if (match(op) && await accepted(op)) return { coreKey: hex, index, op }
        }
      }
      return null
    }
    const writersOf = (did: string) => writers.filter((w) => w.did === did).map((w) => w.key)
    const bookHex = b4a.toString(book.key, 'hex')

    const pay = await find(writersOf(payment.payer).concat(writersOf(payment.payee)), (op) =>
      (op.type === 'payment/record' || op.type === 'payment/prove') && op.paymentId === paymentId)
    if (!pay) throw GrowrError.NOT_FOUND(`the op that recorded payment ${paymentId} is not in this replica`)
    const selfConfirmed = pay.op.type === 'payment/prove' && (pay.op.rail !== 'rootstock' || pay.op.signer === payment.payee)
    const conf = selfConfirmed
      ? null
      : await find(writersOf(payment.payee), (op) => op.type === 'payment/confirm' && op.paymentId === paymentId && op.signer === payment.payee)
    if (!selfConfirmed && !conf) throw GrowrError.NOT_FOUND(`the payee's confirmation of ${paymentId} is not in this replica`)

    const create = await find([bookHex], (op) => op.type === 'book/create', true)
    if (!create) throw GrowrError.NOT_FOUND('the book/create op is not in this replica')
    const originator = create.op.signer
    const found: Found[] = [create]
    // the originator's ops that added each writer, back to the book's own core
    const bindingOf = async (hex: string): Promise<void> => {
      if (hex === bookHex || found.some((f) => (f.op.type === 'member/add' || f.op.type === 'device/add') && f.op.writerKey.toLowerCase() === hex)) return
      const add = await find(writersOf(originator), (op) => (op.type === 'member/add' || op.type === 'device/add') && op.writerKey.toLowerCase() === hex && op.signer === originator, true)
      if (!add) throw GrowrError.NOT_FOUND(`the op that added writer ${hex.slice(0, 16)} is not in this replica`)
      found.push(add)
      await bindingOf(add.coreKey)
    }
    await bindingOf(pay.coreKey)
    if (conf) await bindingOf(conf.coreKey)
    found.push(pay)
    if (conf) found.push(conf)

    const bytes = await assemble(book.key, open, found)
    const check = verifyReceipt(bytes, book.key)
    if (!check.ok) throw GrowrError.INTERNAL(`the receipt built does not verify: ${check.reason}`)
    return bytes
  } finally {
    await cores.close()
  }
}

/**
 * Encodes a receipt of the given blocks as they stand in this replica, without judging them:
 * how tests build receipts a verifier must refuse (an op the book's apply rejected, a member's
 * forged binding). Real receipts come from {@link buildReceipt}.
 *
 * @param book an open Book
 * @param blocks writer core key (hex) and block index of each entry, in order
 * @returns receipt bytes
 * @throws INTERNAL for a writer core without the default manifest
 */
export async function assembleReceipt (book: ReceiptSource, blocks: Array<{ coreKey: string; index: number }>): Promise<Uint8Array> {
  const cores = coreSessions(book)
  try {
    return await assemble(book.key, cores.open, blocks)
  } finally {
    await cores.close()
  }
}

/** Sessions on the book's writer cores, opened on demand, closed together. */
function coreSessions (book: ReceiptSource): { open (hex: string): Promise<CoreSession>; close (): Promise<void> } {
  const store = (book.base as unknown as { store: { get (opts: { key: Uint8Array; active: boolean }): CoreSession } }).store
  const sessions = new Map<string, CoreSession>()
  return {
    async open (hex: string): Promise<CoreSession> {
      let s = sessions.get(hex)
      if (!s) {
        s = store.get({ key: b4a.from(hex, 'hex'), active: false })
        sessions.set(hex, s)
        await s.ready()
      }
      return s
    },
    async close () {
      for (const s of sessions.values()) await s.close().catch(() => {})
    }
  }
}

/** Proves each block against its core's current signed head and encodes the receipt. */
async function assemble (bookKey: Uint8Array, open: (hex: string) => Promise<CoreSession>, found: Array<{ coreKey: string; index: number }>): Promise<Uint8Array> {
  const coreOrder: string[] = []
  for (const f of found) if (!coreOrder.includes(f.coreKey)) coreOrder.push(f.coreKey)
  const cores: ReceiptCore[] = []
  const lengths: number[] = []
  for (const hex of coreOrder) {
    const core = await open(hex)
    const m = core.manifest
    if (!m || m.version !== 1 || m.signers.length !== 1 || !b4a.equals(coreKeyOf(m.signers[0].publicKey), core.key)) {
      throw GrowrError.INTERNAL(`writer core ${hex.slice(0, 16)} does not have a default single-signer manifest`)
    }
    // one head per core for every entry in it: the length is read once
    lengths.push(core.length)
    cores.push({ publicKey: m.signers[0].publicKey, fork: core.fork, length: core.length, roots: [], signature: b4a.alloc(64) })
  }
  const entries: ReceiptEntry[] = []
  for (const f of found) {
    const ci = coreOrder.indexOf(f.coreKey)
    const core = await open(f.coreKey)
    const p = await core.proof({ block: { index: f.index, nodes: 0 }, upgrade: { start: 0, length: lengths[ci] } })
    const sig = multisig.inflate(p.upgrade.signature)
    if (sig.proofs.length !== 1 || sig.proofs[0].signer !== 0 || sig.proofs[0].patch !== 0 || sig.patch.length !== 0) {
      throw GrowrError.INTERNAL(`writer core ${f.coreKey.slice(0, 16)} has a signature this receipt format cannot carry`)
    }
    const top = climb(f.index, p.block.value, p.block.nodes)
    const all = [...p.upgrade.nodes, top].sort((x, y) => x.index - y.index)
    cores[ci] = { ...cores[ci], fork: p.fork, roots: all.map((n) => ({ size: n.size, hash: n.hash })), signature: sig.proofs[0].signature }
    entries.push({ core: ci, index: f.index, block: p.block.value, path: p.block.nodes.map((n) => ({ size: n.size, hash: n.hash })) })
  }
  return encodeReceipt({ version: RECEIPT_VERSION, bookKey, cores, entries })
}
