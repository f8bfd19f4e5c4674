/**
 * Receipt validation by the book's peers: a holder sends a receipt to the book's members it is
 * connected to (peer-rpc method `receipt/confirm`); each checks it offline (verifyReceipt) and
 * then against its own replica, and answers signed. The asker collects the answers that arrive
 * before its deadline and checks each signature.
 *
 * A peer's replica check, beyond the offline one: it follows the book; each writer core of the
 * receipt is, in its copy, at least as long as the receipt's signed head and has the same tree
 * hash at that length (no fork: the writer did not show the holder another log); each writer is
 * bound to the same DID in its view; and its view holds the payment confirmed, with the same
 * kind, record, amount, currency, payer and payee.
 *
 * Answer, version 1: the JSON body
 *   { v: 1, receiptHash, book, holds, reason, length, peer, at }
 * (`length`: the peer's Autobase length when it checked; `at`: its clock, ms) and `signature`,
 * Ed25519 by the peer's DID over "growr/receipt-answer/v1" 0x00 || JCS(body), hex.
 */
import '../runtime/text-encoding.ts'
import b4a from 'b4a'
import { canonicalBytes } from '../../books/ops/envelope.ts'
import type { Book } from '../../books/book.ts'
import { sign, verify } from '../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'
import { MAX_RECEIPT_BYTES, receiptHash, verifyReceipt } from './receipt.ts'
import { broadcast, type BroadcastRpc, type Quorum } from '../network/broadcast.ts'

/** The peer-rpc method peers answer. */
export const RECEIPT_METHOD = 'receipt/confirm'
const ANSWER_DOMAIN = b4a.from('growr/receipt-answer/v1\0')

export interface ReceiptAnswerBody {
  v: 1
  receiptHash: string
  /** book key, hex, as the receipt names it */
  book: string
  holds: boolean
  /** why it does not hold, in plain words; null when it holds */
  reason: string | null
  /** the peer's Autobase length of the book when it checked (0 when it does not follow it) */
  length: number
  peer: DidKey
  at: number
}
export interface ReceiptAnswer extends ReceiptAnswerBody { signature: string }

function answerMessage (body: ReceiptAnswerBody): Uint8Array {
  return b4a.concat([ANSWER_DOMAIN, canonicalBytes(body)])
}

/** Signs an answer body with the peer's identity. @returns the signed answer */
export function signAnswer (body: ReceiptAnswerBody, secretKey: Uint8Array): ReceiptAnswer {
  return { ...body, signature: b4a.toString(sign(answerMessage(body), secretKey), 'hex') }
}

/**
 * Checks a peer's answer. Pure; never throws.
 * @param answer the answer as received (untrusted)
 * @param expect the DID that was asked and the hash of the receipt sent
 * @returns the answer's body when its signature by `expect.peer` holds for this receipt, else a reason
 */
export function openAnswer (answer: unknown, expect: { peer: DidKey; receiptHash: string }): { ok: true; body: ReceiptAnswerBody } | { ok: false; reason: string } {
  try {
    const a = answer as Partial<ReceiptAnswer> | null
    if (a === null || typeof a !== 'object') return { ok: false, reason: 'the answer is not an object' }
    if (a.v !== 1) return { ok: false, reason: 'unknown answer version' }
    if (a.peer !== expect.peer || !isDidKey(a.peer)) return { ok: false, reason: 'the answer names another peer' }
    if (a.receiptHash !== expect.receiptHash) return { ok: false, reason: 'the answer is about another receipt' }
    if (typeof a.holds !== 'boolean' || typeof a.book !== 'string' || !(a.reason === null || typeof a.reason === 'string') ||
      !Number.isSafeInteger(a.length) || !Number.isSafeInteger(a.at) || typeof a.signature !== 'string' || !/^[0-9a-f]{128}$/.test(a.signature)) {
      return { ok: false, reason: 'the answer is malformed' }
    }
    const body: ReceiptAnswerBody = { v: 1, receiptHash: a.receiptHash, book: a.book, holds: a.holds, reason: a.reason ?? null, length: a.length as number, peer: a.peer, at: a.at as number }
    if (!verify(answerMessage(body), b4a.from(a.signature, 'hex'), didToPublicKey(a.peer))) return { ok: false, reason: 'the answer\'s signature does not hold' }
    return { ok: true, body }
  } catch {
    return { ok: false, reason: 'the answer could not be checked' }
  }
}

/** The part of a Hypercore session the replica check reads. */
interface TreeSession { length: number; ready (): Promise<void>; close (): Promise<void>; treeHash (length: number): Promise<Uint8Array> }

/**
 * Checks a receipt against a replica of its book. Never throws: every failure is a reason.
 * @param book the peer's open Book, whose key the receipt must name
 * @param bytes the receipt
 * @returns null when it holds, else why not
 */
export async function checkAgainstReplica (book: Book, bytes: Uint8Array): Promise<string | null> {
  const v = verifyReceipt(bytes, book.key)
  if (!v.ok) return v.reason
  try {
    await book.base.update()
    const store = (book.base as unknown as { store: { get (opts: { key: Uint8Array; active: boolean }): TreeSession } }).store
    for (const w of v.writers) {
      const core = store.get({ key: b4a.from(w.key, 'hex'), active: false })
      try {
        await core.ready()
        if (core.length < w.length) return `this peer's copy of writer ${w.key.slice(0, 16)} has ${core.length} blocks, the receipt's head ${w.length}`
        const hash = b4a.toString(await core.treeHash(w.length), 'hex')
        if (hash !== w.treeHash) return `writer ${w.key.slice(0, 16)} signed another log at length ${w.length} than this peer holds (a fork)`
      } finally {
        await core.close().catch(() => {})
      }
      const bound = await book.view.get('writers', w.key)
      if (bound !== w.did) return `writer ${w.key.slice(0, 16)} is not bound to ${w.did} in this peer's view`
    }
    const p = await book.view.get('payments', v.payment.paymentId)
    if (!p) return `payment ${v.payment.paymentId} is not in this peer's view`
    if (p.status !== 'confirmed') return `payment ${v.payment.paymentId} is ${p.status} in this peer's view`
    const same = p.kind === v.payment.kind && p.ref === v.payment.ref && p.amount === v.payment.amount && p.currency === v.payment.currency &&
      (v.payment.payer === null || p.payer === v.payment.payer) && (v.payment.payee === null || p.payee === v.payment.payee)
    if (!same) return 'the payment in this peer\'s view differs from the receipt\'s'
    return null
  } catch (err) {
    return `this peer could not read its replica: ${String((err as Error)?.message ?? err).slice(0, 120)}`
  }
}

function fromBase64 (s: unknown): Uint8Array | null {
  if (typeof s !== 'string' || s.length > Math.ceil(MAX_RECEIPT_BYTES / 3) * 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null
  return b4a.from(s, 'base64')
}

/**
 * The peer side: a handler for PeerRpc.respond(RECEIPT_METHOD, ...).
 * @param opts.identity this peer's DID and secret key (signs answers)
 * @param opts.findBook the followed book with this key (hex), or null
 * @param opts.now clock, ms
 * @returns the handler; it answers every well-formed request with a signed answer, holds or not
 * @throws (from the handler) BAD_ARGUMENT for a request without a base64 receipt
 */
export function receiptResponder (opts: { identity: { did: DidKey; secretKey: Uint8Array }; findBook: (hex: string) => Book | null; now?: () => number }) {
  const now = opts.now ?? Date.now
  return async (req: unknown): Promise<ReceiptAnswer> => {
    const bytes = fromBase64((req as { receipt?: unknown } | null)?.receipt)
    if (bytes === null) throw GrowrError.BAD_ARGUMENT('receipt/confirm needs { receipt: base64 } of at most 512 KiB')
    // the book key sits after the version varint (1 for version 1); a bad one fails verifyReceipt below
    const bookHex = bytes.byteLength >= 33 ? b4a.toString(bytes.subarray(1, 33), 'hex') : ''
    const book = opts.findBook(bookHex)
    let reason: string | null
    let length = 0
    if (!book) {
      reason = 'this peer does not follow that book'
    } else {
      reason = await checkAgainstReplica(book, bytes)
      length = (book.base as unknown as { length: number }).length ?? 0
    }
    return signAnswer({ v: 1, receiptHash: receiptHash(bytes), book: bookHex, holds: reason === null, reason, length, peer: opts.identity.did, at: now() }, opts.identity.secretKey)
  }
}

export interface ValidationResult {
  receiptHash: string
  /** the DIDs asked */
  asked: DidKey[]
  /** answers whose signature held, by DID */
  answers: ReceiptAnswer[]
  /** peers that did not answer, or whose answer did not hold up, with why */
  failed: Array<{ did: DidKey; reason: string }>
  /** peers with no answer at the deadline */
  pending: DidKey[]
  /** how many signed answers say the receipt holds */
  holds: number
  /** how many the asker's quorum needed, and whether that many said it holds */
  needed: number
  quorum: boolean
}

/**
 * The asker's side: a broadcast (core/network/broadcast.ts) of the receipt to `peers` (by
 * default every connected peer), collecting signed answers until `deadlineMs` from now.
 *
 * @param rpc the node's PeerRpc
 * @param bytes the receipt
 * @param opts.peers the DIDs to ask (the book's members); default: every connected peer
 * @param opts.deadlineMs how long to wait for answers, ms (default 10 000)
 * @param opts.quorum how many must say it holds (default 1; 'majority', 'all')
 * @returns the answers whose signatures hold, who failed and why, and whether the quorum holds
 * @throws BAD_ARGUMENT for a deadline out of range or a quorum the peers cannot meet
 */
export async function validateReceipt (rpc: BroadcastRpc, bytes: Uint8Array, opts: { peers?: DidKey[]; deadlineMs?: number; quorum?: Quorum; self?: DidKey } = {}): Promise<ValidationResult> {
  const hash = receiptHash(bytes)
  const res = await broadcast(rpc, RECEIPT_METHOD, { receipt: b4a.toString(bytes, 'base64') }, {
    peers: opts.peers ?? rpc.peers(),
    deadlineMs: opts.deadlineMs ?? 10_000,
    quorum: opts.quorum,
    self: opts.self,
    open: (did, answer) => {
      const opened = openAnswer(answer, { peer: did, receiptHash: hash })
      return opened.ok ? { ok: true, value: { ...opened.body, signature: (answer as ReceiptAnswer).signature } } : opened
    },
    agrees: (a) => a.holds
  })
  return { receiptHash: hash, asked: res.asked, answers: res.answers.map((a) => a.value), failed: res.failed, pending: res.pending, holds: res.agreeing, needed: res.needed, quorum: res.quorum }
}
