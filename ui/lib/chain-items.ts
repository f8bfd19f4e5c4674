/**
 * Pure helpers for the Bitcoin rail's screens (no React, no socket: tests import them under Node):
 * checking the watcher events the node pushes, merging what is known of the transactions paying
 * one record into lines for the screen, and exact BTC/sats text.
 *
 * Events come over the node's authenticated socket, but their `book`/`ref` fields come from
 * records other members wrote: each is checked field by field before use. Whether a transaction
 * is proven is asked of the book (a confirmed payment whose proof carries the txid), never taken
 * from an event: the book is what every peer agreed on.
 */
import type { SessionEvents } from '../../app/session.ts'
import type { Payment, Project } from '../../books/entities.ts'
import type { PaymentKind } from '../../books/ops/types.ts'
import { addressToScript } from '../../books/proofs/bitcoin-spv.ts'
import { btcToSats, satsToBtc, MAX_MONEY_SATS } from '../../core/wallet/bip21.ts'

export type WatcherEvent = SessionEvents['bitcoin.payment']
type BitcoinNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest'

const KINDS: readonly string[] = ['funding', 'disbursement', 'repayment', 'distribution']
const HEX64 = /^[0-9a-f]{64}$/
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < 1e7
const isText = (v: unknown, max = 200): v is string => typeof v === 'string' && v.length > 0 && v.length <= max

/**
 * A watcher event as this page may use it, or null when a field is missing or of another shape.
 * @param v the event's `data` as it came over the socket
 */
export function readWatcherEvent (v: unknown): WatcherEvent | null {
  if (!isObj(v) || !isText(v.book, 128) || !isText(v.txid, 64) || !HEX64.test(v.txid)) return null
  if (v.type === 'payment-reorged') return isText(v.paymentId, 64) && isText(v.forkHash, 64) ? v as unknown as WatcherEvent : null
  if (!KINDS.includes(v.kind as string) || !isText(v.ref, 64)) return null
  if (v.type === 'payment-seen') return isCount(v.confirmations) && isCount(v.required) ? v as unknown as WatcherEvent : null
  if (v.type === 'payment-proven') return isCount(v.confirmations) && isText(v.paymentId, 64) && isCount(v.amount) ? v as unknown as WatcherEvent : null
  if (v.type === 'payment-refused') return isText(v.reason, 2000) ? v as unknown as WatcherEvent : null
  return null
}

/** Where one transaction paying a record stands, as one line of the screen. */
export interface ChainItem {
  txid: string
  /** who knows of it here: the payee's watcher, or this node's wallet as payer */
  source: 'watcher' | 'wallet'
  /** proving: the watcher sent its proof, the book has not shown it here yet */
  state: 'proven' | 'proving' | 'mempool' | 'confirming' | 'refused' | 'replaced' | 'dropped' | 'unbroadcast'
  /** blocks on top of and including its block; null when not known */
  confirmations: number | null
  /** what the project's rail asks of a proof */
  required: number | null
  /** a refusal or a problem, in words */
  reason?: string
}

/** The scriptPubKey of an address as hex, or null when it is not one of `network` (either regtest prefix). */
export function scriptHex (address: string, network: BitcoinNetwork): string | null {
  const r = addressToScript(address, network)
  return r.ok ? Array.from(r.script, (b) => b.toString(16).padStart(2, '0')).join('') : null
}

/**
 * Every transaction known here that pays one record (a funding, a loan's disbursement or
 * repayments, an investor's distributions), newest knowledge first per txid:
 * proven when the book holds a payment of that record whose proof carries the txid; else the
 * watcher's latest event (payee), else the rail's pending list (payee, events before this page
 * listened), else this wallet's own transaction to the posted address (payer).
 * @param project the record's project: nothing unless it is on the Bitcoin rail
 * @param payments the book's payments (payment.list)
 * @param tracked this node's wallet transactions (payment.tracked)
 * @param pending the rail's status pending list
 * @param postedAddress the payee's posted address for this record, if any: a tracked transaction
 *   counts when one of its outputs pays that address's script
 */
export function chainItems (args: {
  book: string; kind: PaymentKind; refId: string; project: Project | undefined
  payments: Payment[]; tracked: Array<{ txid: string; outputs: Array<{ address: string }>; status: { state: string; confirmations?: number } }>
  pending: Array<{ book: string; kind: string; ref: string; txid: string; confirmations: number; required: number; state: string }>
  postedAddress?: string
  /** the watcher events this page received for this record (checked with {@link readWatcherEvent}) */
  events?: Iterable<WatcherEvent>
}): ChainItem[] {
  const rail = args.project?.rail
  if (rail?.rail !== 'bitcoin') return []
  const required = rail.confirmations
  const proven = new Map<string, Payment>()
  for (const p of args.payments) {
    if (p.kind !== args.kind || p.ref !== args.refId || p.status !== 'confirmed' || !p.proof || !('txid' in p.proof)) continue
    proven.set(p.proof.txid, p)
  }
  const out = new Map<string, ChainItem>()
  for (const e of args.events ?? []) {
    if (e.type === 'payment-reorged' || e.book !== args.book || e.kind !== args.kind || e.ref !== args.refId) continue
    if (e.type === 'payment-seen') out.set(e.txid, { txid: e.txid, source: 'watcher', state: e.confirmations === 0 ? 'mempool' : 'confirming', confirmations: e.confirmations, required: e.required })
    else if (e.type === 'payment-proven') out.set(e.txid, { txid: e.txid, source: 'watcher', state: 'proving', confirmations: e.confirmations, required })
    else if (e.type === 'payment-refused') out.set(e.txid, { txid: e.txid, source: 'watcher', state: 'refused', confirmations: null, required, reason: e.reason })
  }
  for (const p of args.pending) {
    if (p.book !== args.book || p.kind !== args.kind || p.ref !== args.refId || out.has(p.txid)) continue
    out.set(p.txid, { txid: p.txid, source: 'watcher', state: p.confirmations === 0 ? 'mempool' : 'confirming', confirmations: p.confirmations, required: p.required, reason: p.state.startsWith('waiting') ? p.state : undefined })
  }
  const target = args.postedAddress ? scriptHex(args.postedAddress, rail.network) : null
  if (target !== null) {
    for (const t of args.tracked) {
      if (out.has(t.txid) || !t.outputs.some((o) => scriptHex(o.address, rail.network) === target)) continue
      const s = t.status
      const state = s.state === 'confirmed' ? 'confirming' : s.state === 'abandoned' ? 'dropped' : s.state as ChainItem['state']
      out.set(t.txid, { txid: t.txid, source: 'wallet', state, confirmations: s.state === 'confirmed' ? s.confirmations ?? null : s.state === 'mempool' ? 0 : null, required })
    }
  }
  // the book has the last word: a proof every peer checked
  for (const [txid, p] of proven) {
    const had = out.get(txid)
    if (had) out.set(txid, { ...had, state: 'proven', confirmations: (p.proof as { confirmations: number }).confirmations, reason: undefined })
  }
  return [...out.values()]
}

/**
 * Sats as the core sends them (a decimal string) in BTC, exactly ("150000000" -> "1.5"); text
 * that is not a whole number of sats is shown as it came, never turned into a wrong amount.
 */
export function btcText (sats: string): string {
  return /^\d{1,17}$/.test(sats) ? satsToBtc(BigInt(sats)) : sats
}

/**
 * An amount typed to send: BTC with at most 8 decimals, or whole sats; exact (no float), at
 * least 1 sat and at most 21 million BTC.
 * @returns `{ ok: true, sats }` or `{ ok: false, reason }` in words; never throws
 */
export function parseSendAmount (text: string, unit: 'btc' | 'sats'): { ok: true, sats: bigint } | { ok: false, reason: string } {
  const t = text.trim()
  if (unit === 'sats') {
    if (!/^\d{1,16}$/.test(t)) return { ok: false, reason: `"${t.slice(0, 40)}" is not a whole number of sats` }
    const sats = BigInt(t)
    if (sats < 1n) return { ok: false, reason: 'send at least 1 sat' }
    if (sats > MAX_MONEY_SATS) return { ok: false, reason: 'more than 21 million BTC' }
    return { ok: true, sats }
  }
  const r = btcToSats(t)
  if (!r.ok) return r
  if (r.sats < 1n) return { ok: false, reason: 'send at least 1 sat (0.00000001 BTC)' }
  return r
}
