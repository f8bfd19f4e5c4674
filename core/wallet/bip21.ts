/**
 * BIP-21 payment URIs (bitcoin/bips bip-0021.mediawiki): `bitcoin:<address>?amount=<BTC>&label=..&message=..`,
 * built and read with the `bip21` package, plus the `lightning:<invoice>` URI wallets open for a
 * BOLT 11 invoice (BOLT 11 "lightning:" prefix; also BIP-21's `lightning=` parameter).
 *
 * Amounts are sats as bigint. BIP-21 writes them in BTC as a decimal number, and `bip21`'s types
 * take a JS number: a float would turn 0.1 + 0.2 BTC into 0.30000000000000004 BTC. So the BTC
 * text is made here with bigint arithmetic and handed to `bip21.encode` as that string (its
 * `isFinite` check and query-string accept a numeric string unchanged); reading, the raw text of
 * `amount` is taken from the query (query-string, the parser `bip21` itself uses) and turned into
 * sats with string arithmetic, never through `Number`.
 *
 * Pure: no I/O, no clock. Builders throw GrowrError BAD_ARGUMENT (the caller gave something no URI
 * should carry); the parser never throws and answers `{ ok: false, reason }`.
 */
import '../runtime/text-encoding.ts' // before @noble/@scure (the address check): Bare has no TextEncoder global
import * as bip21 from 'bip21'
import queryString from 'query-string'
import { GrowrError } from '../errors.ts'
import { addressToScript } from '../../books/proofs/bitcoin-spv.ts'
import { decodeBolt11 } from '../../books/proofs/bolt11.ts'
import type { BitcoinNetwork } from '../../books/proofs/bitcoin-header.ts'

/** Sats in one BTC. */
export const SATS_PER_BTC = 100_000_000n
/** Bitcoin's MAX_MONEY (21 million BTC) in sats: no amount above it is a payment. */
export const MAX_MONEY_SATS = 21_000_000n * SATS_PER_BTC
/** Longest URI parsed: far above any address with label and message, short enough to refuse floods. */
export const MAX_URI_LENGTH = 4096

/** What a BIP-21 URI asks for. `amountSats` in sats; label and message are plain text. */
export interface Bip21Request {
  address: string
  amountSats?: bigint
  label?: string
  message?: string
  /** a BOLT 11 invoice for the same payment (BIP-21 `lightning=`, unified QR) */
  lightning?: string
}

export type Bip21Parsed = { ok: true } & Bip21Request
export type Bip21Result = Bip21Parsed | { ok: false, reason: string }

/**
 * Sats as the BTC decimal text BIP-21 writes: at most 8 decimals, trailing zeros and a bare point
 * dropped (150000000n -> "1.5", 1n -> "0.00000001", 100000000n -> "1").
 * @param sats a non-negative bigint
 * @throws GrowrError BAD_ARGUMENT when `sats` is not a bigint or is negative
 */
export function satsToBtc (sats: bigint): string {
  if (typeof sats !== 'bigint' || sats < 0n) throw GrowrError.BAD_ARGUMENT(`an amount in sats must be a non-negative bigint, got ${String(sats)}`)
  const whole = sats / SATS_PER_BTC
  const frac = (sats % SATS_PER_BTC).toString().padStart(8, '0').replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : whole.toString()
}

/**
 * BTC decimal text (as BIP-21 writes it) to sats, exactly. Accepts digits with at most one point
 * and at most 8 decimals ("1", "1.", ".5", "0.00000001"); refuses signs, exponents, spaces,
 * commas, more than 8 decimals (a fraction of a sat) and more than 21 million BTC.
 * @returns `{ ok: true, sats }` or `{ ok: false, reason }`; never throws
 */
export function btcToSats (text: unknown): { ok: true, sats: bigint } | { ok: false, reason: string } {
  if (typeof text !== 'string') return { ok: false, reason: 'the amount is not text' }
  const m = /^(\d{0,16})(?:\.(\d*))?$/.exec(text)
  if (!m || (m[1] === '' && !m[2])) return { ok: false, reason: `the amount ${JSON.stringify(text.slice(0, 40))} is not a decimal number of BTC` }
  const frac = m[2] ?? ''
  if (frac.length > 8) return { ok: false, reason: `the amount ${text} has more than 8 decimals: less than a sat` }
  const sats = BigInt(m[1] || '0') * SATS_PER_BTC + BigInt(frac.padEnd(8, '0') || '0')
  if (sats > MAX_MONEY_SATS) return { ok: false, reason: `the amount ${text} BTC is more than 21 million BTC` }
  return { ok: true, sats }
}

/**
 * Builds a BIP-21 URI.
 * @param req.address the receiving address; with `opts.network`, checked to be an address of that
 *   network (so a mainnet wallet is never shown a regtest payee, and no `?`/`&` can slip into the URI)
 * @param req.amountSats sats, 1 to 21 million BTC; written in BTC exactly ({@link satsToBtc})
 * @param req.label the payee's name, req.message what the payment is for: percent-encoded
 * @param req.lightning a BOLT 11 invoice for the same payment (checked to decode)
 * @param opts.network 'mainnet' | 'testnet' | 'signet' | 'regtest'
 * @returns `bitcoin:<address>[?amount=..&label=..&lightning=..&message=..]`
 * @throws GrowrError BAD_ARGUMENT for an address that is not one (of that network), an amount out of
 *   range, a label or message that is not text, an invoice that does not decode
 */
export function buildBip21 (req: Bip21Request, opts: { network?: BitcoinNetwork } = {}): string {
  const { address } = req
  if (typeof address !== 'string' || !/^[A-Za-z0-9]{14,90}$/.test(address)) {
    throw GrowrError.BAD_ARGUMENT(`not a Bitcoin address: ${JSON.stringify(String(address).slice(0, 100))}`)
  }
  if (opts.network !== undefined) {
    const valid = addressToScript(address, opts.network)
    if (!valid.ok) throw GrowrError.BAD_ARGUMENT(valid.reason)
  }
  const options: Record<string, string> = {}
  if (req.amountSats !== undefined) {
    if (typeof req.amountSats !== 'bigint' || req.amountSats <= 0n || req.amountSats > MAX_MONEY_SATS) {
      throw GrowrError.BAD_ARGUMENT(`a BIP-21 amount is 1 sat to 21 million BTC, got ${String(req.amountSats)} sats`)
    }
    options.amount = satsToBtc(req.amountSats)
  }
  for (const key of ['label', 'message'] as const) {
    const v = req[key]
    if (v === undefined || v === '') continue
    if (typeof v !== 'string') throw GrowrError.BAD_ARGUMENT(`the ${key} must be text`)
    // a lone UTF-16 surrogate has no percent-encoding: encodeURIComponent would throw a URIError
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(v)) throw GrowrError.BAD_ARGUMENT(`the ${key} is not well-formed Unicode text`)
    options[key] = v
  }
  if (req.lightning !== undefined) options.lightning = checkedInvoice(req.lightning)
  // `bip21` types the amount as a number; a numeric string passes its checks and is written as given
  return bip21.encode(address, options as unknown as bip21.Bip21Options)
}

/**
 * The `lightning:` URI of a BOLT 11 invoice, lower case.
 * @param invoice a BOLT 11 payment request (without prefix)
 * @throws GrowrError BAD_ARGUMENT when it does not decode as BOLT 11 (the reason says why)
 */
export function lightningUri (invoice: string): string {
  return 'lightning:' + checkedInvoice(invoice)
}

function checkedInvoice (invoice: unknown): string {
  const decoded = decodeBolt11(invoice)
  if (!decoded.ok) throw GrowrError.BAD_ARGUMENT(`not a Lightning invoice: ${decoded.reason}`)
  return (invoice as string).toLowerCase()
}

/** Parameters this parser understands; any other `req-` one makes the URI unusable (BIP-21). */
const KNOWN = new Set(['amount', 'label', 'message', 'lightning'])

/**
 * Reads a BIP-21 URI. The scheme is case-insensitive (a QR may carry `BITCOIN:`); a parameter
 * named `req-*` that this parser does not know refuses the URI, as BIP-21 requires; other unknown
 * parameters are ignored. A parameter given twice refuses it (which one would the wallet pay?).
 * @param uri the URI text
 * @param opts.network when given, the address must belong to it
 * @returns `{ ok: true, address, amountSats?, label?, message?, lightning? }` or
 *   `{ ok: false, reason }` in plain words; never throws
 */
export function parseBip21 (uri: unknown, opts: { network?: BitcoinNetwork } = {}): Bip21Result {
  if (typeof uri !== 'string') return { ok: false, reason: 'a payment URI is text' }
  if (uri.length > MAX_URI_LENGTH) return { ok: false, reason: `the URI is longer than ${MAX_URI_LENGTH} characters` }
  const q = uri.indexOf('?')
  let params: Record<string, unknown>
  try {
    // the raw strings: no number parsing, so the amount keeps its exact digits
    params = q === -1 ? {} : queryString.parse(uri.slice(q + 1), { parseNumbers: false, parseBooleans: false })
  } catch {
    return { ok: false, reason: 'the URI\'s parameters are not percent-encoded correctly' }
  }
  // before bip21.decode, which would read a repeated or odd amount only as "Invalid amount"
  for (const [key, value] of Object.entries(params)) {
    if (!KNOWN.has(key)) {
      if (key.startsWith('req-')) return { ok: false, reason: `the URI requires ${key.slice(4)}, which this wallet does not understand` }
      continue
    }
    if (typeof value !== 'string') return { ok: false, reason: `the URI gives ${key} ${Array.isArray(value) ? 'more than once' : 'without a value'}` }
  }
  let address: string
  try {
    address = bip21.decode(uri).address
  } catch (err) {
    return { ok: false, reason: /Invalid amount/.test(String((err as Error)?.message)) ? `the amount ${JSON.stringify(String(params.amount).slice(0, 40))} is not a number of BTC` : 'not a bitcoin: URI' }
  }
  if (!/^[A-Za-z0-9]{14,90}$/.test(address)) return { ok: false, reason: `not a Bitcoin address: ${JSON.stringify(address.slice(0, 100))}` }
  if (opts.network !== undefined) {
    const valid = addressToScript(address, opts.network)
    if (!valid.ok) return { ok: false, reason: valid.reason }
  }
  const out: Bip21Parsed = { ok: true, address }
  for (const [key, value] of Object.entries(params)) {
    if (!KNOWN.has(key) || typeof value !== 'string') continue
    if (key === 'amount') {
      const sats = btcToSats(value)
      if (!sats.ok) return sats
      if (sats.sats === 0n) return { ok: false, reason: 'the amount is zero' }
      out.amountSats = sats.sats
    } else if (key === 'lightning') {
      const decoded = decodeBolt11(value)
      if (!decoded.ok) return { ok: false, reason: `the lightning invoice does not decode: ${decoded.reason}` }
      out.lightning = value.toLowerCase()
    } else {
      out[key as 'label' | 'message'] = value
    }
  }
  return out
}
