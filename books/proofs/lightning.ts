/**
 * Lightning payment proof, bring-your-own-wallet (issue 10): the payee registered its Lightning
 * node key in the book and posted a BOLT 11 invoice for what is due; the payer paid it from any
 * wallet and recorded the preimage. Whoever holds the preimage of the invoice's payment hash was
 * paid through Lightning (the payee's node releases it only when the HTLC settles), and the
 * invoice's signature binds that hash to the payee's node and to the amount.
 *
 * Pure (apply calls it): no clock (the time judged is `paidAt`, the op's time as apply sees it),
 * no I/O, no randomness. Never throws.
 */
import '../../core/runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { MAX_SKEW_MS } from '../clock.ts'
import { decodeBolt11, type Bolt11Network } from './bolt11.ts'

/** What the book says this payment must be. */
export interface LightningExpectation {
  /** The payee's Lightning node public key as registered in the book: 33-byte compressed secp256k1, hex. */
  payeeNodeKey: string
  /** Amount due, millisatoshis (> 0). */
  amountMsat: bigint
  /** The network the book's asset lives on. */
  network: Bolt11Network
  /** When the payment was recorded, ms since 1970, as apply judges the op's time. */
  paidAt: number
}

/** Inputs to {@link checkLightningPayment}. */
export interface LightningPaymentProof {
  /** The BOLT 11 invoice the payee posted. */
  invoice: string
  /** The 32-byte payment preimage the payer's wallet returned, hex. */
  preimage: string
  expect: LightningExpectation
}

/** Outcome of {@link checkLightningPayment}. */
export type LightningCheck =
  | { ok: true, paymentHash: string, amountMsat: bigint, payeeNodeKey: string }
  | { ok: false, reason: string }

const HEX_32 = /^[0-9a-fA-F]{64}$/
const HEX_33 = /^[0-9a-fA-F]{66}$/

/**
 * Checks that a Lightning payment was made to the registered payee, for the amount due, on the
 * book's network, before the invoice expired.
 *
 * Holds when: the invoice decodes under BOLT 11 ({@link decodeBolt11}: checksum, fields,
 * signature); its network is `expect.network`; its signature names exactly `expect.payeeNodeKey`
 * (verified against its `n` field or recovered); it states an amount and that amount equals
 * `expect.amountMsat`; sha256(preimage) equals its payment hash; and
 * `timestamp - MAX_SKEW_MS <= paidAt <= timestamp + expiry` (BOLT 11: a payee SHOULD NOT accept
 * a payment after timestamp + expiry; MAX_SKEW_MS is the book's clock-skew allowance).
 *
 * @param proof `{ invoice, preimage (hex, 32 bytes), expect }`, see {@link LightningPaymentProof}
 * @returns `{ ok: true, paymentHash (hex), amountMsat (msat), payeeNodeKey (hex) }`, or
 *   `{ ok: false, reason }` with a distinct plain-words reason for each failed check. Never throws.
 * @see BOLT 11 (lightning/bolts `11-payment-encoding.md`)
 */
export function checkLightningPayment (proof: LightningPaymentProof): LightningCheck {
  try {
    return check(proof)
  } catch (err) {
    return { ok: false, reason: `lightning proof could not be checked: ${(err as Error)?.message ?? String(err)}` }
  }
}

function check (proof: LightningPaymentProof): LightningCheck {
  if (proof === null || typeof proof !== 'object') return fail('lightning proof is missing')
  const { invoice, preimage, expect } = proof
  if (expect === null || typeof expect !== 'object') return fail('lightning proof has no expectation to check against')

  const registered = typeof expect.payeeNodeKey === 'string' ? expect.payeeNodeKey.toLowerCase() : ''
  if (!HEX_33.test(registered) || !secp256k1.utils.isValidPublicKey(hexToBytes(registered), true)) {
    return fail('the payee\'s registered Lightning node key is not a 33-byte compressed secp256k1 public key')
  }
  if (typeof expect.amountMsat !== 'bigint' || expect.amountMsat <= 0n) return fail('the amount due must be a positive number of millisatoshis (bigint)')
  if (!Number.isSafeInteger(expect.paidAt) || expect.paidAt < 0) return fail('the payment time must be a whole number of milliseconds since 1970')

  const decoded = decodeBolt11(invoice)
  if (!decoded.ok) return fail(`invoice refused: ${decoded.reason}`)
  const inv = decoded.invoice

  if (inv.network !== expect.network) return fail(`invoice is for ${inv.network}, but the book pays on ${expect.network}`)
  if (inv.payeeNodeKey !== registered) {
    return fail(`invoice is signed by node ${inv.payeeNodeKey}, not by the payee's registered node ${registered}`)
  }
  if (inv.amountMsat === null) return fail('invoice states no amount: an amountless invoice cannot show what was due')
  if (inv.amountMsat !== expect.amountMsat) {
    return fail(`invoice asks ${inv.amountMsat} msat, but ${expect.amountMsat} msat are due`)
  }

  if (typeof preimage !== 'string' || !HEX_32.test(preimage)) return fail('preimage must be 32 bytes written as 64 hex characters')
  if (bytesToHex(sha256(hexToBytes(preimage.toLowerCase()))) !== inv.paymentHash) {
    return fail('preimage does not hash to the invoice\'s payment hash: no proof the invoice was paid')
  }

  const paidAt = BigInt(expect.paidAt)
  const createdMs = BigInt(inv.timestamp) * 1000n
  const expiresMs = (BigInt(inv.timestamp) + BigInt(inv.expiry)) * 1000n
  if (paidAt > expiresMs) {
    return fail(`payment recorded at ${iso(paidAt)}, after the invoice expired at ${iso(expiresMs)}`)
  }
  if (paidAt < createdMs - BigInt(MAX_SKEW_MS)) {
    return fail(`payment recorded at ${iso(paidAt)}, before the invoice was created at ${iso(createdMs)}`)
  }

  return { ok: true, paymentHash: inv.paymentHash, amountMsat: inv.amountMsat, payeeNodeKey: inv.payeeNodeKey }
}

function fail (reason: string): { ok: false, reason: string } { return { ok: false, reason } }

/** A time in ms as ISO 8601, or the raw number when it is beyond what Date can show. */
function iso (ms: bigint): string {
  const d = new Date(Number(ms))
  return Number.isNaN(d.getTime()) ? `${ms} ms` : d.toISOString()
}
