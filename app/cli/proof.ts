/**
 * `growr proof verify`: checks a payment proof given as the standard inputs a wallet or node
 * prints (raw tx hex, Bitcoin Core `gettxoutproof` hex, raw headers; a BOLT 11 invoice and its
 * preimage; for Rootstock the raw transaction, its receipt and block header RLP and the two
 * trie proofs core/rails/rootstock/proof-fetcher.ts gathers), with the very functions apply uses
 * (books/proofs/). Offline: no chain access.
 */
import { verifyBitcoinPayment, type BitcoinSpvResult } from '../../books/proofs/bitcoin-spv.ts'
import { checkLightningPayment, type LightningCheck } from '../../books/proofs/lightning.ts'
import { verifyRootstockPayment, type RootstockPaymentResult } from '../../books/proofs/rootstock-receipt.ts'
import { GrowrError } from '../../core/errors.ts'

export interface ProofOptions {
  rail: string
  /** bitcoin and lightning: mainnet, testnet, signet or regtest (rootstock names its chain with chainId) */
  network?: string
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
  // rootstock (tx, address and amount as above: the raw signed transaction, the payee, wei or token units)
  chainId?: string
  receipt?: string
  header?: string
  txIndex?: string
  txProof?: string
  receiptProof?: string
  token?: string
  blockHash?: string
}

/** What any rail's check returns. */
export type ProofResult = BitcoinSpvResult | LightningCheck | RootstockPaymentResult

/**
 * Runs the rail's proof check on CLI options, every rail (the Rootstock check is async: its
 * trie proofs are checked with @ethereumjs/mpt, whose API is).
 * @param o as {@link verifyProof}; for `--rail rootstock`: o.chainId (EIP-155 chain id: 30, 31, 33),
 *   o.tx the raw signed transaction, o.receipt and o.header RLP hex, o.txIndex, o.txProof and
 *   o.receiptProof comma-separated node hex, o.address the payee, o.amount wei (or token units
 *   with o.token, the ERC-20 contract), o.blockHash optional
 * @returns the check's result: `{ ok: true, ... }` or `{ ok: false, reason }`
 * @throws GrowrError BAD_ARGUMENT for a missing option, an unknown rail or a malformed number
 */
export async function checkProof (o: ProofOptions): Promise<ProofResult> {
  if (o.rail !== 'rootstock') return verifyProof(o)
  const list = (v: string | undefined, flag: string): string[] => need(v, flag).split(',').map((h) => h.trim()).filter(Boolean)
  return await verifyRootstockPayment({
    rawTx: need(o.tx, '--tx'),
    receipt: need(o.receipt, '--receipt'),
    header: need(o.header, '--header'),
    txIndex: Number(integer(need(o.txIndex, '--tx-index'), '--tx-index')),
    txProof: list(o.txProof, '--tx-proof'),
    receiptProof: list(o.receiptProof, '--receipt-proof'),
    expect: {
      chainId: Number(integer(need(o.chainId, '--chain-id'), '--chain-id')),
      to: need(o.address, '--address'),
      minAmount: integer(need(o.amount, '--amount'), '--amount'),
      token: o.token ?? null,
      ...(o.blockHash !== undefined ? { blockHash: o.blockHash } : {})
    }
  })
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
      network: need(o.network, '--network') as never,
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
      expect: { payeeNodeKey: need(o.payee, '--payee'), amountMsat: integer(need(o.amountMsat, '--amount-msat'), '--amount-msat'), network: need(o.network, '--network') as never, paidAt }
    })
  }
  if (o.rail === 'rootstock') throw GrowrError.BAD_ARGUMENT('a rootstock proof is checked asynchronously: use checkProof')
  throw GrowrError.BAD_ARGUMENT(`--rail must be bitcoin, lightning or rootstock, not ${o.rail}`)
}

function need (v: string | undefined, flag: string): string {
  if (typeof v !== 'string' || !v) throw GrowrError.BAD_ARGUMENT(`${flag} is required for this rail`)
  return v
}

function integer (v: string, flag: string): bigint {
  if (!/^\d+$/.test(v)) throw GrowrError.BAD_ARGUMENT(`${flag} must be a whole number, got ${v}`)
  return BigInt(v)
}
