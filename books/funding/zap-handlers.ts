/**
 * NIP-57 zaps as funding (issue 12). The originator names, per project, where its NIP-99 listing
 * is zapped (`project/zap`); its node watches the relays for zap receipts and hands each one in
 * (`funding/zap`). Apply checks the receipt offline (core/nostr/zap.ts) and makes one funding
 * commitment for the zapper, with its payment:
 *
 * - with the invoice's preimage, the payment is confirmed by the op, and the funding counts at
 *   once (the preimage is the payee side's, so it counts because the payee signs the op);
 * - without one, the payment is the LNURL server's attestation: recorded, waiting for the
 *   originator's `payment/confirm` (or its `payment/cancel` when the money never arrived).
 *
 * The zapper is no member and has no DID: the funding's `investor` is null and `zap.zapper` names
 * its Nostr pubkey. The payment's payer and payee are both the originator, who received the zap
 * and answers for it in the book. Ids are derived from the receipt (scoped to the originator,
 * books/ids.ts), and a receipt and an invoice count once each (`outpoints/zap:<receipt id>`,
 * `outpoints/ln:<payment hash>`, the same key a Lightning payment proof spends).
 *
 * Amounts: zaps are millisatoshis, a BTC project counts sats; the funding counts the whole sats
 * of the invoice (floor) and keeps the exact msat in `zap.amountMsat`; a zap under one sat is
 * refused. Only a BTC project on the Lightning rail takes zaps.
 */
import type { ApplyContext, Handler } from '../apply.ts'
import type { BookMeta, Funding, Payment, Project, ZapPaymentRecord } from '../entities.ts'
import { commitFunding } from './machine.ts'
import { settle } from '../payment/handlers.ts'
import { notBefore } from '../clock.ts'
import { idScope } from '../ids.ts'
import { checkZapReceipt, isListingAddress, isLud16, zapListing } from '../../core/nostr/zap.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

/** View keys of the zap records (sub `addresses`: listing -> project; sub `outpoints`: what a receipt made). */
export const zapKey = {
  listing: (address: string) => `zap/${address}`,
  receipt: (receiptId: string) => `zap:${receiptId}`,
  invoice: (paymentHash: string) => `ln:${paymentHash}`
}

/**
 * The funding and payment ids a zap receipt gets: the originator's scope (books/ids.ts) and the
 * receipt id's first and second 8 bytes, so the op needs no ids and one receipt gets one funding.
 * @param originator the book's originator DID
 * @param receiptId the receipt's event id, 64 hex
 * @returns `{ fundingId, paymentId }`, 32 hex each
 */
export function zapIds (originator: string, receiptId: string): { fundingId: string; paymentId: string } {
  const scope = idScope(originator)
  return { fundingId: scope + receiptId.slice(0, 16), paymentId: scope + receiptId.slice(16, 32) }
}

/** The originator names where the project's listing is zapped; a listing funds one project only. */
export const projectZap: Handler = async (ctx) => {
  const op = ctx.op as Of<'project/zap'>
  const p = await ctx.get('projects', op.projectId)
  if (!p) return `no project ${op.projectId}`
  if (p.status === 'closed') return 'project is closed: it takes no zaps'
  const early = notBefore(op.ts, p.statusAt, 'the project\'s last status change')
  if (early) return early
  const unfit = zapUnfit(p)
  if (unfit) return unfit
  if (!isLud16(op.lud16)) return `${op.lud16} is not a Lightning address (LUD-16: name@domain)`
  if (!isListingAddress(op.listing)) return `${op.listing} is not the address of a NIP-99 listing (30402:<pubkey>:<d>)`
  const bound = await ctx.get('addresses', zapKey.listing(op.listing))
  if (bound !== null && bound !== p.projectId) return `listing ${op.listing} already funds project ${String(bound)}`
  ctx.put('addresses', zapKey.listing(op.listing), p.projectId)
  ctx.put('projects', p.projectId, { ...p, zap: { lud16: op.lud16.toLowerCase(), serverPubkey: op.serverPubkey, listing: op.listing, recipient: op.recipient, at: op.ts }, updatedAt: op.ts })
  return null
}

/** A zap receipt for a project's listing becomes one funding commitment and its payment. */
export const fundingZap: Handler = async (ctx) => {
  const op = ctx.op as Of<'funding/zap'>
  const listing = zapListing(op.receipt)
  if (listing === null) return 'the zap receipt names no single listing (one a tag)'
  const projectId = await ctx.get('addresses', zapKey.listing(listing))
  const project = typeof projectId === 'string' ? await ctx.get('projects', projectId) : null
  if (!project || project.zap?.listing !== listing) return `no project of this book takes zaps for listing ${listing.slice(0, 300)}`
  const unfit = zapUnfit(project)
  if (unfit) return unfit
  const early = notBefore(op.ts, project.statusAt, 'the project\'s last status change')
  if (early) return early
  const counted = await ctx.get('outpoints', zapKey.receipt(op.receipt.id))
  if (counted !== null) return `zap receipt ${op.receipt.id} is already counted (funding ${counted})`

  const settings = project.zap
  const checked = checkZapReceipt(op.receipt, {
    serverPubkey: settings.serverPubkey,
    recipient: settings.recipient,
    listing: settings.listing,
    lud16: settings.lud16,
    network: (project.rail as { network: 'mainnet' | 'testnet' | 'signet' | 'regtest' }).network,
    receivedAt: op.ts,
    ...(op.preimage !== undefined ? { preimage: op.preimage } : {})
  })
  if (!checked.ok) return `zap refused: ${checked.reason}`
  const zap = checked.zap
  const spent = await ctx.get('outpoints', zapKey.invoice(zap.paymentHash))
  if (spent !== null) return `the zap's invoice ${zap.paymentHash} already counts for payment ${spent}`
  const sats = zap.amountMsat / 1000n // floor: a book counts whole sats; the exact msat stay in the record
  if (sats === 0n) return `a zap of ${zap.amountMsat} msat is less than one sat: the book counts whole sats`
  if (sats > BigInt(Number.MAX_SAFE_INTEGER)) return 'the zap is larger than the book can count'

  const originator = (ctx.meta as BookMeta).originator
  const { fundingId, paymentId } = zapIds(originator, zap.receiptId)
  if (await ctx.get('fundings', fundingId) !== null || await ctx.get('payments', paymentId) !== null) return `funding ${fundingId} or payment ${paymentId} already exists`
  const committed = commitFunding(null, project, null, { fundingId, amount: Number(sats), currency: project.terms.currency }, op.ts)
  if (!committed.ok) return committed.reason
  const funding: Funding = {
    ...committed.value.funding,
    paymentId,
    zap: { zapper: zap.zapper, receiptId: zap.receiptId, requestId: zap.requestId, paymentHash: zap.paymentHash, amountMsat: zap.amountMsat.toString(), server: settings.serverPubkey, comment: zap.comment.slice(0, 500) }
  }
  const proof: ZapPaymentRecord = { paymentHash: zap.paymentHash, invoice: zap.invoice, receiptId: zap.receiptId, server: settings.serverPubkey, preimage: zap.proven }
  const payment: Payment = {
    paymentId,
    kind: 'funding',
    ref: fundingId,
    amount: Number(sats),
    currency: project.terms.currency,
    rail: 'lightning',
    reference: `zap ${zap.receiptId}`,
    payer: originator,
    payee: originator,
    status: zap.proven ? 'confirmed' : 'recorded',
    recordedAt: op.ts,
    confirmedAt: zap.proven ? op.ts : null,
    reason: null,
    resolvedAt: null,
    proof
  }
  ctx.put('fundings', fundingId, funding)
  ctx.put('projects', project.projectId, committed.value.project)
  if (zap.proven) {
    const reason = await settle(ctx as ApplyContext, payment, op.ts)
    if (reason) return reason
  }
  ctx.put('payments', paymentId, payment)
  ctx.put('outpoints', zapKey.receipt(zap.receiptId), fundingId)
  ctx.put('outpoints', zapKey.invoice(zap.paymentHash), paymentId)
  return null
}

/** @returns why a project cannot take zaps, or null: zaps are sats, so only a BTC project on Lightning */
function zapUnfit (p: Project): string | null {
  if (p.terms.currency !== 'BTC') return `zaps are paid in sats: project counts in ${p.terms.currency}, not BTC`
  if (p.rail?.rail !== 'lightning') return `zaps are Lightning payments: this project's payments move ${p.rail ? 'on ' + p.rail.rail : 'by hand (manual rail)'}`
  return null
}
