/**
 * What payees posted in a book (its `addresses` view: receiving addresses and BOLT 11 invoices),
 * as the UI reads it from the core, checked field by field: the answer comes over a socket and the
 * records from other members, so nothing of another shape reaches a payment URI.
 */
import type { PostedInvoice, ReceivingAddress } from '../../books/entities.ts'
import type { PaymentKind } from '../../books/ops/types.ts'

/** What payees posted in one book. */
export interface Posted { addresses: ReceivingAddress[]; invoices: PostedInvoice[] }

const KINDS: readonly string[] = ['funding', 'disbursement', 'repayment', 'distribution']
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null
const isStr = (v: unknown, max = 200): v is string => typeof v === 'string' && v.length > 0 && v.length <= max

function asAddress (v: unknown): ReceivingAddress | null {
  if (!isObj(v) || !KINDS.includes(v.kind as string) || !isStr(v.ref, 64) || !isStr(v.address, 100) || !isStr(v.payee) || typeof v.at !== 'number') return null
  return { kind: v.kind as PaymentKind, ref: v.ref, address: v.address, payee: v.payee as ReceivingAddress['payee'], at: v.at }
}

function asInvoice (v: unknown): PostedInvoice | null {
  if (!isObj(v) || !KINDS.includes(v.kind as string) || !isStr(v.ref, 64) || !isStr(v.invoice, 8192) || !isStr(v.paymentHash, 64) ||
    typeof v.amountMsat !== 'string' || !/^\d{1,24}$/.test(v.amountMsat) || !isStr(v.payee) || !isStr(v.nodeKey, 66) || typeof v.at !== 'number') return null
  return v as unknown as PostedInvoice
}

/**
 * Checks the core's answer: `{ addresses, invoices }` or one list mixing both kinds of record
 * (the view's `addresses` sub as it is). Records of another shape are dropped.
 */
export function readPosted (answer: unknown): Posted {
  const all = Array.isArray(answer) ? answer : isObj(answer) ? [...(Array.isArray(answer.addresses) ? answer.addresses : []), ...(Array.isArray(answer.invoices) ? answer.invoices : [])] : []
  const addresses: ReceivingAddress[] = []
  const invoices: PostedInvoice[] = []
  for (const r of all) {
    const inv = asInvoice(r)
    if (inv) { invoices.push(inv); continue }
    const addr = asAddress(r)
    if (addr) addresses.push(addr)
  }
  return { addresses, invoices }
}

