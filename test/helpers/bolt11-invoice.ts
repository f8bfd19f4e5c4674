/**
 * Builds BOLT 11 invoices for tests, independently of books/proofs/bolt11.ts: Bech32 from
 * @scure/base, signatures from @noble/curves. Lets a test sign with any key, set any field
 * (including malformed ones), and bend the signature (high-S, recovery id, zero r).
 */
import { bech32 } from '@scure/base'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'

const ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const N = secp256k1.Point.CURVE().n

/** A tagged field: its letter and its data as 5-bit words. */
export type Field = [tag: string, words: number[]]

/** @returns a byte-valued field (p, s, h, n, d, m) */
export function bytesField (tag: string, bytes: Uint8Array | string): Field {
  return [tag, Array.from(bech32.toWords(typeof bytes === 'string' ? hexToBytes(bytes) : bytes))]
}

/** @returns a `d` field */
export function textField (text: string): Field { return bytesField('d', utf8ToBytes(text)) }

/** @returns an integer field (x, c) in minimal big-endian words */
export function intField (tag: string, value: number): Field {
  const words: number[] = []
  let v = value
  while (v > 0) { words.unshift(v % 32); v = Math.floor(v / 32) }
  return [tag, words]
}

/** @returns a `9` field with the given feature bits set */
export function featureField (bits: number[]): Field {
  const top = Math.max(...bits)
  const words = new Array(Math.floor(top / 5) + 1).fill(0)
  for (const b of bits) words[words.length - 1 - Math.floor(b / 5)] |= 1 << (b % 5)
  return ['9', words]
}

/** 5-bit words to bytes, zero bits appended to a byte boundary (BOLT 11 signing rule). */
export function packWords (words: number[]): Uint8Array {
  const out: number[] = []
  let acc = 0
  let bits = 0
  for (const w of words) {
    acc = (acc << 5) | w
    bits += 5
    if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 0xff); acc &= (1 << bits) - 1 }
  }
  if (bits > 0) out.push((acc << (8 - bits)) & 0xff)
  return Uint8Array.from(out)
}

export interface BuildOptions {
  /** Human-readable part, e.g. `lnbcrt25u` (default `lnbcrt10u`, 1 000 000 msat on regtest). */
  hrp?: string
  /** Seconds since 1970. */
  timestamp?: number
  fields: Field[]
  /** 32-byte secret key that signs. */
  secretKey: Uint8Array
  /** Replace s by n - s (and flip the recovery id so recovery still finds the key). */
  highS?: boolean
  /** Force the trailing recovery byte. */
  recovery?: number
  /** Set r to zero (a malformed signature). */
  zeroR?: boolean
  /** Raw data words after the timestamp, instead of encoding `fields` (for malformed layouts). */
  rawWords?: number[]
}

/** @returns the fields as words: type, 10-bit length, data */
export function fieldWords (fields: Field[]): number[] {
  const out: number[] = []
  for (const [tag, words] of fields) {
    const type = ALPHABET.indexOf(tag)
    if (type < 0) throw new Error(`unknown tag ${tag}`)
    out.push(type, words.length >> 5, words.length & 31, ...words)
  }
  return out
}

/** Builds and signs an invoice. */
export function buildInvoice (opts: BuildOptions): string {
  const hrp = opts.hrp ?? 'lnbcrt10u'
  const ts = opts.timestamp ?? 1_780_000_000
  const tsWords: number[] = []
  for (let i = 6; i >= 0; i--) tsWords.push(Math.floor(ts / 32 ** i) % 32)
  const data = [...tsWords, ...(opts.rawWords ?? fieldWords(opts.fields))]
  const message = new Uint8Array([...utf8ToBytes(hrp), ...packWords(data)])
  const rec = secp256k1.sign(sha256(message), opts.secretKey, { prehash: false, format: 'recovered' })
  let sig = secp256k1.Signature.fromBytes(rec, 'recovered')
  let recovery = sig.recovery as number
  if (opts.highS) { sig = new secp256k1.Signature(sig.r, N - sig.s); recovery ^= 1 }
  const compact = sig.toBytes('compact')
  if (opts.zeroR) compact.fill(0, 0, 32)
  const sig65 = new Uint8Array([...compact, opts.recovery ?? recovery])
  return bech32.encode(hrp, [...data, ...bech32.toWords(sig65)], false)
}
