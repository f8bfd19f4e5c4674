/**
 * `growr proof verify`: checks a payment proof given as the standard inputs a wallet or node
 * prints (raw tx hex, Bitcoin Core `gettxoutproof` hex, raw headers; a BOLT 11 invoice and its
 * preimage), with the very functions apply uses (books/proofs/). Offline: no chain access.
 */
import { verifyBitcoinPayment, type BitcoinSpvResult } from '../../books/proofs/bitcoin-spv.ts'
import { checkLightningPayment, type LightningCheck } from '../../books/proofs/lightning.ts'
import { GrowrError } from '../../core/errors.ts'

export interface ProofOptions {
  rail: string
  network: string
  // bitcoin
  tx?: string
  txoutproof?: string
  headers?: string
  address?: string
  amount?: string
  confirmations?: string
  // lightning
  invoice?: string
  preimage?: string
  payee?: string
  amountMsat?: string
  paidAt?: string
}

/**
 * Runs the rail's proof check on CLI options.
 * @param o.amount sats and o.amountMsat msat, as decimal integer strings (exact, never floats);
 *   o.headers comma-separated header hex; o.paidAt an ISO 8601 time or ms since 1970
 * @returns the check's result: `{ ok: true, ... }` or `{ ok: false, reason }`
 * @throws GrowrError BAD_ARGUMENT for a missing option, an unknown rail or a malformed number
 */
export function verifyProof (o: ProofOptions): BitcoinSpvResult | LightningCheck {
  if (o.rail === 'bitcoin') {
    return verifyBitcoinPayment({
      network: o.network as never,
      rawTx: need(o.tx, '--tx'),
      txoutproof: need(o.txoutproof, '--txoutproof'),
      headers: o.headers ? o.headers.split(',').map((h) => h.trim()).filter(Boolean) : [],
      expect: { address: need(o.address, '--address'), minAmountSats: integer(need(o.amount, '--amount'), '--amount'), minConfirmations: Number(integer(o.confirmations ?? '1', '--confirmations')) }
    })
  }
  if (o.rail === 'lightning') {
    const at = need(o.paidAt, '--paid-at')
    const paidAt = /^\d+$/.test(at) ? Number(at) : Date.parse(at)
    if (!Number.isSafeInteger(paidAt)) throw GrowrError.BAD_ARGUMENT(`--paid-at must be an ISO 8601 time or ms since 1970, not ${at}`)
    return checkLightningPayment({
      invoice: need(o.invoice, '--invoice'),
      preimage: need(o.preimage, '--preimage'),
      expect: { payeeNodeKey: need(o.payee, '--payee'), amountMsat: integer(need(o.amountMsat, '--amount-msat'), '--amount-msat'), network: o.network as never, paidAt }
    })
  }
  throw GrowrError.BAD_ARGUMENT(`--rail must be bitcoin or lightning (rootstock proofs come with the EVM rail), not ${o.rail}`)
}

function need (v: string | undefined, flag: string): string {
  if (typeof v !== 'string' || !v) throw GrowrError.BAD_ARGUMENT(`${flag} is required for this rail`)
  return v
}

function integer (v: string, flag: string): bigint {
  if (!/^\d+$/.test(v)) throw GrowrError.BAD_ARGUMENT(`${flag} must be a whole number, got ${v}`)
  return BigInt(v)
}
