/**
 * The payment record: recorded by the payer, confirmed by the payee with a signed op.
 * Rail `manual` only for now: the money moves outside the book and both sides attest to it.
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
  return accept({ ...p, payer, payee, status: 'recorded', recordedAt: ts, confirmedAt: null })
}

/** Only the payee confirms, and only once. */
export function confirmPayment (p: Payment, signer: DidKey, ts: number): Result<Payment> {
  if (signer !== p.payee) return reject('only the payee may confirm a payment')
  if (p.status !== 'recorded') return reject(`payment is already ${p.status}`)
  return accept({ ...p, status: 'confirmed', confirmedAt: ts })
}
