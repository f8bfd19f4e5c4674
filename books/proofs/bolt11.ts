/**
 * BOLT 11 invoices (lightning/bolts `11-payment-encoding.md`): decode, validate, and establish
 * which Lightning node signed the invoice.
 *
 * Decoding is done by light-bolt11-decoder; this module adds what that library leaves out and a
 * proof needs: the reader requirements of BOLT 11 (field lengths, exactly one `p`, `s`, and `d`
 * or `h`, minimal encodings, unknown even feature bits), the network from the prefix, and the
 * signature: verified against the `n` field when present (low-S required), otherwise the payee's
 * key is recovered from it (high-S accepted), as BOLT 11 says.
 *
 * Pure: no clock, no I/O, no randomness, so apply can call it. Never throws: every failure comes
 * back as `{ ok: false, reason }` in plain words.
 *
 * Stricter than BOLT 11 in one way, because a proof must be unambiguous: a single-valued field
 * (`p`, `s`, `d`, `h`, `n`, `x`, `c`, `9`, `m`) that appears twice is refused; only `f` and `r`
 * may repeat.
 */
import '../../core/runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import type { BitcoinNetwork } from './bitcoin-header.ts'
import { bech32 } from '@scure/base'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { decode as libraryDecode } from 'light-bolt11-decoder'

/** The Bitcoin networks a Lightning invoice can name. */
/** The chain an invoice is for, from its prefix: the same networks as the Bitcoin rail's. */
export type Bolt11Network = BitcoinNetwork

/** BOLT 11 currency prefixes after `ln`, longest first so `bcrt` wins over `bc` and `tbs` over `tb`. */
const PREFIXES: ReadonlyArray<readonly [string, Bolt11Network]> = [
  ['bcrt', 'regtest'],
  ['bc', 'mainnet'],
  ['tbs', 'signet'],
  ['tb', 'testnet']
]

/** Default `x` (expiry) when the field is absent, seconds (BOLT 11). */
export const DEFAULT_EXPIRY_SECONDS = 3600
/** Default `c` (min_final_cltv_expiry_delta) when the field is absent, blocks (BOLT 11). */
export const DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA = 18
/** Longest invoice accepted, characters. BOLT 11 sets no limit; this bounds the work apply does. */
export const MAX_INVOICE_LENGTH = 8192
/** Total bitcoin supply in millisatoshis: no invoice may ask more. */
const MAX_MSAT = 2_100_000_000_000_000_000n
/** Millisatoshis per bitcoin. */
const MSAT_PER_BTC = 100_000_000_000n
/** Bitcoin's amount multipliers as a divisor of one bitcoin. */
const DIVISORS: Record<string, bigint> = { m: 1_000n, u: 1_000_000n, n: 1_000_000_000n, p: 1_000_000_000_000n }
/** Words (5 bits each) in the timestamp and in the signature. */
const TIMESTAMP_WORDS = 7
const SIGNATURE_WORDS = 104
/** Variable-length integer fields longer than this many words (50 bits) are refused: beyond any sane value. */
const MAX_INT_WORDS = 10
/** Fixed data_length of each fixed-size tagged field, in 5-bit words (BOLT 11 reader requirement). */
const FIXED_LENGTHS: Record<string, number> = { p: 52, h: 52, s: 52, n: 53 }
/** Tagged fields that may appear at most once here (`f` and `r` may repeat). */
const SINGLE_FIELDS = new Set(['p', 's', 'd', 'h', 'n', 'x', 'c', '9', 'm'])
/** Tagged fields whose data is bytes: their words must end on a byte with zero padding bits. */
const BYTE_FIELDS = new Set(['p', 's', 'd', 'h', 'n', 'm', 'r'])
/**
 * Feature bits BOLT 9 defines for invoices (context `9`, and the ASSUMED var_onion_optin and
 * payment_secret): var_onion_optin 8/9, payment_secret 14/15, basic_mpp 16/17,
 * option_route_blinding 24/25, option_attribution_data 36/37, option_payment_metadata 48/49.
 * Any other even bit set means the payee requires something this reader does not know.
 */
const KNOWN_FEATURE_BITS = new Set([8, 9, 14, 15, 16, 17, 24, 25, 36, 37, 48, 49])
const BECH32_ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'

/** A BOLT 11 invoice that decoded, met BOLT 11's reader requirements, and whose signature holds. */
export interface Bolt11Invoice {
  /** The invoice, lower-cased. */
  paymentRequest: string
  network: Bolt11Network
  /** Amount asked, millisatoshis; null for an invoice that leaves the amount to the payer. */
  amountMsat: bigint | null
  /** Creation time, seconds since 1970. */
  timestamp: number
  /** Seconds after `timestamp` the invoice stays payable (3600 when the `x` field is absent). */
  expiry: number
  /** 32-byte SHA-256 payment hash, hex. */
  paymentHash: string
  /** 32-byte payment secret, hex. */
  paymentSecret: string
  /** The `d` field, or null when the invoice carries `h` instead. */
  description: string | null
  /** The `h` field (SHA-256 of a long description), hex, or null when it carries `d`. */
  descriptionHash: string | null
  /** The `m` field, hex, or null. */
  metadata: string | null
  /** Blocks (18 when the `c` field is absent). */
  minFinalCltvExpiryDelta: number
  /** Feature bits set in the `9` field, ascending. */
  features: number[]
  /** 33-byte compressed secp256k1 public key of the payee node that signed the invoice, hex. */
  payeeNodeKey: string
  /** Where `payeeNodeKey` came from: the `n` field (signature verified against it) or recovery. */
  payeeKeySource: 'n-field' | 'recovered'
}

/** Outcome of {@link decodeBolt11}. */
export type Bolt11Result = { ok: true, invoice: Bolt11Invoice } | { ok: false, reason: string }

/** One tagged field: its letter, and its data as 5-bit words. */
interface RawField { tag: string, words: number[] }

/**
 * Decodes and checks a BOLT 11 invoice.
 *
 * Refuses (each with its own reason): a string that is not Bech32 (bad checksum, no separator,
 * mixed case, too long), a prefix that is not `lnbc`/`lntb`/`lntbs`/`lnbcrt`, an amount with a
 * non-digit or an unknown multiplier, sub-millisatoshi precision or more than 21 million BTC,
 * a data part too short for timestamp and signature, a tagged field cut short, a fixed-size field
 * (`p`, `h`, `s`, `n`) of the wrong length, a missing `p` or `s`, neither or both of `d` and `h`,
 * a repeated single-valued field, a non-minimal `x`, `c` or `9`, an unknown even feature bit, a
 * recovery id outside 0-3, a signature that does not verify against `n` or is high-S with `n`, or
 * one from which no key can be recovered.
 *
 * @param paymentRequest the invoice as text (upper or lower case, without a `lightning:` prefix)
 * @returns `{ ok: true, invoice }` (amounts in msat as bigint, times in seconds), or
 *   `{ ok: false, reason }`. Never throws.
 * @see BOLT 11, lightning/bolts `11-payment-encoding.md`
 */
export function decodeBolt11 (paymentRequest: unknown): Bolt11Result {
  try {
    return decodeChecked(paymentRequest)
  } catch (err) {
    // Every input this module refuses is refused explicitly above; this is a last guard so a
    // library surprise can never escape into apply as an exception.
    return fail(`invoice does not decode: ${(err as Error)?.message ?? String(err)}`)
  }
}

function decodeChecked (paymentRequest: unknown): Bolt11Result {
  if (typeof paymentRequest !== 'string') return fail('invoice is not a string')
  if (paymentRequest.length > MAX_INVOICE_LENGTH) return fail(`invoice is longer than ${MAX_INVOICE_LENGTH} characters`)
  if (paymentRequest !== paymentRequest.toLowerCase() && paymentRequest !== paymentRequest.toUpperCase()) {
    return fail('invoice mixes upper and lower case, which Bech32 forbids')
  }
  const text = paymentRequest.toLowerCase()
  const sep = text.lastIndexOf('1')
  if (sep < 1) return fail('invoice has no Bech32 separator "1" after its prefix')
  const badChar = [...text.slice(sep + 1)].find((c) => !BECH32_ALPHABET.includes(c))
  if (badChar !== undefined) return fail(`invoice has "${badChar}" after its separator, outside the Bech32 alphabet`)
  if (!/^[\x21-\x7e]+$/.test(text.slice(0, sep))) return fail('invoice prefix has characters Bech32 does not allow')
  const bech = bech32.decodeUnsafe(text, false)
  if (!bech) return fail('Bech32 checksum is wrong: the invoice was mistyped or altered')

  // Human-readable part: ln + currency + optional amount.
  const hrp = bech.prefix
  if (!hrp.startsWith('ln')) return fail(`prefix "${hrp}" does not start with "ln": not a Lightning invoice`)
  const afterLn = hrp.slice(2)
  const match = PREFIXES.find(([cur]) => afterLn.startsWith(cur) && /^(?:$|\d)/.test(afterLn.slice(cur.length)))
  if (!match) return fail(`prefix "${hrp}" names no known network (lnbc, lntb, lntbs, lnbcrt)`)
  const [currency, network] = match
  const amount = parseAmount(afterLn.slice(currency.length))
  if (!amount.ok) return amount

  // Data part: timestamp, tagged fields, signature.
  const words = Array.from(bech.words)
  if (words.length < TIMESTAMP_WORDS + SIGNATURE_WORDS) {
    return fail('invoice is too short to hold a timestamp and a signature')
  }
  const dataWords = words.slice(0, words.length - SIGNATURE_WORDS)
  const sigBytes = wordsToBytes(words.slice(words.length - SIGNATURE_WORDS))
  const fields = splitFields(dataWords.slice(TIMESTAMP_WORDS))
  if (!fields.ok) return fields

  const shapes = checkFieldShapes(fields.value)
  if (!shapes.ok) return shapes

  // Signature over sha256(hrp bytes || data words padded with zero bits to a byte boundary),
  // checked before the remaining field rules so a forged invoice is reported as forged.
  const digest = sha256(concat(utf8ToBytes(hrp), wordsToBytes(dataWords)))
  const payee = payeeKey(sigBytes, digest, fields.value.find((f) => f.tag === 'n'))
  if (!payee.ok) return payee

  const counts = checkFieldCounts(fields.value)
  if (!counts.ok) return counts

  const features = featureBits(fields.value.find((f) => f.tag === '9'))
  if (!features.ok) return features

  // Values as light-bolt11-decoder reads them (it checked nothing above; it only splits fields).
  const lib = libraryDecode(text)
  const value = (name: string): unknown => (lib.sections as Array<{ name: string, value?: unknown }>).find((s) => s.name === name)?.value
  const libAmount = value('amount')
  const description = value('description')
  const expiry = value('expiry')
  const cltv = value('min_final_cltv_expiry')
  const metadata = value('metadata')
  const descriptionHash = value('description_hash')
  return {
    ok: true,
    invoice: {
      paymentRequest: text,
      network,
      amountMsat: typeof libAmount === 'string' ? BigInt(libAmount) : null,
      timestamp: value('timestamp') as number,
      expiry: typeof expiry === 'number' ? expiry : DEFAULT_EXPIRY_SECONDS,
      paymentHash: value('payment_hash') as string,
      paymentSecret: value('payment_secret') as string,
      description: typeof description === 'string' ? description : null,
      descriptionHash: typeof descriptionHash === 'string' ? descriptionHash : null,
      metadata: typeof metadata === 'string' ? metadata : null,
      minFinalCltvExpiryDelta: typeof cltv === 'number' ? cltv : DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA,
      features: features.value,
      payeeNodeKey: payee.value.key,
      payeeKeySource: payee.value.source
    }
  }
}

type Step<T> = { ok: true, value: T } | { ok: false, reason: string }

function fail (reason: string): { ok: false, reason: string } { return { ok: false, reason } }

/**
 * The amount after the currency prefix: digits and an optional multiplier (m, u, n, p).
 * @returns msat, or null when the part is empty (the payer chooses the amount)
 */
function parseAmount (part: string): Step<bigint | null> {
  if (part === '') return { ok: true, value: null }
  const m = /^(\d+)([a-z]?)$/.exec(part)
  if (!m) return fail(`amount "${part}" is not a decimal number followed by at most one multiplier`)
  const [, digits, multiplier] = m
  if (multiplier !== '' && !(multiplier in DIVISORS)) {
    return fail(`amount multiplier "${multiplier}" is not one of m, u, n, p`)
  }
  if (multiplier === 'p' && !digits.endsWith('0')) {
    return fail(`amount "${part}" is not a whole number of millisatoshis (a p amount must end in 0)`)
  }
  const msat = multiplier === '' ? BigInt(digits) * MSAT_PER_BTC : BigInt(digits) * MSAT_PER_BTC / DIVISORS[multiplier]
  if (msat > MAX_MSAT) return fail(`amount "${part}" is more than 21 million bitcoin`)
  return { ok: true, value: msat }
}

/** Splits the tagged fields: type (5 bits), data_length (10 bits), data. */
function splitFields (words: number[]): Step<RawField[]> {
  const fields: RawField[] = []
  let pos = 0
  while (pos < words.length) {
    const tag = BECH32_ALPHABET[words[pos]]
    if (pos + 3 > words.length) return fail(`tagged field "${tag}" is cut short: no room for its length`)
    const length = words[pos + 1] * 32 + words[pos + 2]
    if (pos + 3 + length > words.length) {
      return fail(`tagged field "${tag}" claims ${length} words but only ${words.length - pos - 3} remain before the signature`)
    }
    fields.push({ tag, words: words.slice(pos + 3, pos + 3 + length) })
    pos += 3 + length
  }
  return { ok: true, value: fields }
}

/** Each field's shape: fixed lengths, whole bytes with zero padding, minimal integers. */
function checkFieldShapes (fields: RawField[]): Step<null> {
  for (const f of fields) {
    const len = f.words.length
    const fixed = FIXED_LENGTHS[f.tag]
    if (fixed !== undefined && len !== fixed) {
      return fail(`"${f.tag}" field has data_length ${len}; BOLT 11 requires ${fixed}`)
    }
    if (BYTE_FIELDS.has(f.tag)) {
      const pad = (len * 5) % 8
      if (pad >= 5) return fail(`"${f.tag}" field's ${len} words do not hold a whole number of bytes`)
      if (pad > 0 && (f.words[len - 1] & ((1 << pad) - 1)) !== 0) {
        return fail(`"${f.tag}" field has non-zero padding bits`)
      }
    }
    if ((f.tag === 'x' || f.tag === 'c' || f.tag === '9') && len > 0 && f.words[0] === 0) {
      return fail(`"${f.tag}" field is not minimally encoded (it begins with a zero word)`)
    }
    if ((f.tag === 'x' || f.tag === 'c') && len > MAX_INT_WORDS) {
      return fail(`"${f.tag}" field is longer than ${MAX_INT_WORDS * 5} bits`)
    }
  }
  return { ok: true, value: null }
}

/** Which fields are present: exactly one `p` and `s`, one of `d` or `h`, no repeated single-valued field. */
function checkFieldCounts (fields: RawField[]): Step<null> {
  const seen = new Set<string>()
  for (const f of fields) {
    if (!SINGLE_FIELDS.has(f.tag)) continue
    if (seen.has(f.tag)) return fail(`"${f.tag}" field appears more than once: the invoice is ambiguous`)
    seen.add(f.tag)
  }
  if (!seen.has('p')) return fail('invoice has no payment hash ("p" field)')
  if (!seen.has('s')) return fail('invoice has no payment secret ("s" field), which BOLT 11 requires')
  if (seen.has('d') && seen.has('h')) return fail('invoice has both a description ("d") and a description hash ("h"); BOLT 11 allows one')
  if (!seen.has('d') && !seen.has('h')) return fail('invoice has neither a description ("d") nor a description hash ("h")')
  return { ok: true, value: null }
}

/**
 * The payee's key: with an `n` field, the signature must verify against it and be low-S;
 * without one, the key is recovered from the signature (low-S or high-S).
 * @param sig 65 bytes: r (32) || s (32) || recovery id (1)
 * @param digest sha256 of the signed data, 32 bytes
 */
function payeeKey (sig: Uint8Array, digest: Uint8Array, n: RawField | undefined): Step<{ key: string, source: 'n-field' | 'recovered' }> {
  const recovery = sig[64]
  if (recovery > 3) return fail(`signature recovery id is ${recovery}; BOLT 11 requires 0, 1, 2 or 3`)
  const compact = sig.subarray(0, 64)
  let parsed
  try {
    parsed = secp256k1.Signature.fromBytes(compact, 'compact').addRecoveryBit(recovery)
  } catch {
    return fail('signature is malformed: r or s is zero or not below the curve order')
  }
  if (n) {
    const key = wordsToBytes(n.words).subarray(0, 33)
    if (!secp256k1.utils.isValidPublicKey(key, true)) return fail('"n" field is not a valid compressed secp256k1 public key')
    if (parsed.hasHighS()) return fail('signature is high-S; with an "n" field BOLT 11 requires a low-S signature')
    if (!secp256k1.verify(compact, digest, key, { prehash: false, lowS: true })) {
      return fail(`signature does not verify against the "n" field's key ${bytesToHex(key)}`)
    }
    return { ok: true, value: { key: bytesToHex(key), source: 'n-field' } }
  }
  try {
    const point = parsed.recoverPublicKey(digest)
    return { ok: true, value: { key: bytesToHex(point.toBytes(true)), source: 'recovered' } }
  } catch {
    return fail('no public key can be recovered from the signature')
  }
}

/** Feature bits set in the `9` field (big-endian, bit 0 = least significant); refuses unknown even bits. */
function featureBits (field: RawField | undefined): Step<number[]> {
  if (!field) return { ok: true, value: [] }
  const bits: number[] = []
  const w = field.words
  for (let i = 0; i < w.length; i++) {
    const word = w[w.length - 1 - i]
    for (let b = 0; b < 5; b++) if (word & (1 << b)) bits.push(i * 5 + b)
  }
  const unknownEven = bits.find((bit) => bit % 2 === 0 && !KNOWN_FEATURE_BITS.has(bit))
  if (unknownEven !== undefined) return fail(`invoice requires feature bit ${unknownEven}, which this reader does not know`)
  return { ok: true, value: bits }
}

/** 5-bit words to bytes, padding the last byte with zero bits (BOLT 11's signing rule). */
function wordsToBytes (words: number[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(words.length * 5 / 8))
  let acc = 0
  let bits = 0
  let i = 0
  for (const w of words) {
    acc = (acc << 5) | w
    bits += 5
    while (bits >= 8) {
      bits -= 8
      out[i++] = (acc >> bits) & 0xff
    }
    acc &= (1 << bits) - 1
  }
  if (bits > 0) out[i] = (acc << (8 - bits)) & 0xff
  return out
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/**
 * The bytes BOLT 11 signs: the human-readable part as UTF-8, then the data part without the
 * signature, 5-bit words packed into bytes with zero bits appended to a byte boundary.
 * Exposed for tests against the `hex of data for signing` in BOLT 11's examples.
 * @param paymentRequest an invoice whose Bech32 decodes
 * @returns the signed bytes, or null when the string is not Bech32 or too short
 */
export function bolt11SigningData (paymentRequest: string): Uint8Array | null {
  const bech = bech32.decodeUnsafe(paymentRequest.toLowerCase(), false)
  if (!bech || bech.words.length < TIMESTAMP_WORDS + SIGNATURE_WORDS) return null
  return concat(utf8ToBytes(bech.prefix), wordsToBytes(Array.from(bech.words).slice(0, bech.words.length - SIGNATURE_WORDS)))
}
