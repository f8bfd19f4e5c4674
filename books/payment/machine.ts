/**
 * The payment record: recorded by the payer, confirmed by the payee with a signed op.
 * Rail `manual` only for now: the money moves outside the book and both sides attest to it.
 *
 *   recorded -> confirmed (payee) | disputed (payee: "not received", with a reason) | cancelled (payer)
 *   disputed -> confirmed (payee, the money turned up) | cancelled (payer: the dispute's resolution)
 *
 * So neither side can hold the other's money or obligation hostage: a payer whose payee never
 * answers cancels its record and what it reserved is released; a payee who did not get the money
 * says so in the book.
 */
import { accept, reject, type Result } from '../result.ts'
import type { Payment } from '../entities.ts'
import type { PaymentKind } from '../ops/types.ts'
import type { DidKey } from '../../core/identity/did-key.ts'

export interface PaymentFacts { paymentId: string; kind: PaymentKind; ref: string; amount: number; currency: string; rail: 'manual'; reference: string }

/** A payer's record of money sent to `payee`. */
export function recordPayment (existing: Payment | null, p: PaymentFacts, payer: DidKey, payee: DidKey, ts: number): Result<Payment> {
  if (existing) return reject(`payment ${p.paymentId} already exists`)
  if (payer === payee) return reject('payer and payee are the same identity')
  return accept({ ...p, payer, payee, status: 'recorded', recordedAt: ts, confirmedAt: null, reason: null, resolvedAt: null })
}

/** Only the payee confirms, once, a payment recorded or disputed. */
export function confirmPayment (p: Payment, signer: DidKey, ts: number): Result<Payment> {
  if (signer !== p.payee) return reject('only the payee may confirm a payment')
  if (p.status !== 'recorded' && p.status !== 'disputed') return reject(`payment is already ${p.status}`)
  return accept({ ...p, status: 'confirmed', confirmedAt: ts })
}

/** The payee says the money did not arrive. */
export function disputePayment (p: Payment, signer: DidKey, reason: string, ts: number): Result<Payment> {
  if (signer !== p.payee) return reject('only the payee may dispute a payment')
  if (p.status !== 'recorded') return reject(`cannot dispute a ${p.status} payment`)
  return accept({ ...p, status: 'disputed', reason, resolvedAt: ts })
}

/** The payer withdraws a payment its payee has not confirmed. */
export function cancelPayment (p: Payment, signer: DidKey, reason: string, ts: number): Result<Payment> {
  if (signer !== p.payer) return reject('only the payer may cancel a payment')
  if (p.status !== 'recorded' && p.status !== 'disputed') return reject(`cannot cancel a ${p.status} payment`)
  return accept({ ...p, status: 'cancelled', reason: p.status === 'disputed' ? `${reason} (disputed: ${p.reason ?? ''})` : reason, resolvedAt: ts })
}
