/**
 * Decoding of the EVM objects a Rootstock payment proof carries: a legacy (type 0) transaction
 * signed under EIP-155, its receipt as the receipt trie stores it, a block header, and ERC-20
 * `Transfer` logs. Ethereum yellow paper (ethereum/yellowpaper, "Paper.tex": 4.2 transactions,
 * 4.3 block header, 4.3.1 receipts), EIP-155 (replay-protected signatures), EIP-2 (low s),
 * EIP-658 (receipt status byte), EIP-20 (`Transfer(address,address,uint256)`).
 *
 * RLP comes from @ethereumjs/rlp, keccak-256 from @noble/hashes, public key recovery from
 * @noble/curves. Every decoder is strict (canonical RLP: re-encoding gives the same bytes;
 * integers without leading zeros; addresses 20 bytes) and never throws: a hostile peer's bytes
 * give `{ ok: false, reason }` with a reason in plain words.
 *
 * Pure: no I/O, no clock, no randomness. Loads under Bare.
 */
import '../../core/runtime/text-encoding.ts' // before @noble/@ethereumjs: Bare has no TextEncoder global
import { RLP } from '@ethereumjs/rlp'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'

type Fail = { ok: false, reason: string }
const fail = (reason: string): Fail => ({ ok: false, reason })

/** RLP's decoded shape: a byte string or a list of them, nested. */
export type RlpItem = Uint8Array | RlpItem[]

/** secp256k1 group order n; EIP-2 requires s <= n/2. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
/** keccak256("Transfer(address,address,uint256)"), the ERC-20 Transfer event's topic 0. */
export const ERC20_TRANSFER_TOPIC = 'ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef'

/**
 * Strict hex to bytes: optional `0x`, an even number of hex digits in either case.
 * @param hex the text
 * @param maxBytes the most bytes accepted (bounds the work a hostile input can cause)
 * @returns the bytes, or null when it is not hex or longer than `maxBytes`
 */
export function evmHexToBytes (hex: unknown, maxBytes: number): Uint8Array | null {
  if (typeof hex !== 'string') return null
  const body = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex
  if (body.length % 2 !== 0 || body.length > maxBytes * 2 || !/^[0-9a-fA-F]*$/.test(body)) return null
  const out = new Uint8Array(body.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(body.slice(i * 2, i * 2 + 2), 16)
  return out
}

/** Bytes to lowercase hex without `0x`. */
export function bytesToHexPlain (bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}

/** Bytes equality (not constant time: nothing compared here is secret). */
export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Decodes one RLP item that must be the whole input and canonical (the encoding of what it
 * decodes to is the input again, so one value has one encoding and one hash).
 * @returns the decoded item, or a reason naming `what`
 */
export function decodeRlpStrict (bytes: Uint8Array, what: string): { ok: true, item: RlpItem } | Fail {
  let item: RlpItem
  try {
    item = RLP.decode(bytes) as RlpItem
  } catch (err) {
    return fail(`the ${what} is not valid RLP (${(err as Error).message})`)
  }
  let again: Uint8Array
  try {
    again = RLP.encode(item as never)
  } catch {
    return fail(`the ${what} is not valid RLP`)
  }
  if (!equalBytes(again, bytes)) return fail(`the ${what} is not canonical RLP`)
  return { ok: true, item }
}

/**
 * An RLP scalar (big-endian, no leading zero byte; empty is 0) as a bigint.
 * @returns the value, or null when the item is a list, has a leading zero or is longer than `maxBytes`
 */
export function rlpUint (item: RlpItem | undefined, maxBytes = 32): bigint | null {
  if (!(item instanceof Uint8Array) || item.length > maxBytes) return null
  if (item.length > 0 && item[0] === 0) return null
  let v = 0n
  for (const b of item) v = (v << 8n) | BigInt(b)
  return v
}

function isBytes (item: RlpItem | undefined, length?: number): item is Uint8Array {
  return item instanceof Uint8Array && (length === undefined || item.length === length)
}

/** A decoded, signature-checked legacy EIP-155 transaction. */
export interface LegacyTransaction {
  /** keccak256 of the raw signed transaction, lowercase hex without 0x */
  hash: string
  nonce: bigint
  /** wei per gas */
  gasPrice: bigint
  gasLimit: bigint
  /** the recipient (lowercase hex, 0x-prefixed), or null for a contract creation */
  to: string | null
  /** wei */
  value: bigint
  data: Uint8Array
  /** the EIP-155 chain id its signature commits to */
  chainId: bigint
  /** the signer's address, recovered from the signature, lowercase hex with 0x */
  from: string
}

/**
 * Decodes a raw legacy transaction `rlp([nonce, gasPrice, gasLimit, to, value, data, v, r, s])`
 * and recovers its signer. Only EIP-155 signatures are accepted (v = chainId * 2 + 35 + parity):
 * a pre-EIP-155 signature (v 27/28) names no chain and could be replayed on any; typed
 * (EIP-2718) transactions are refused, Rootstock has none.
 * @param raw the signed transaction bytes
 * @returns the transaction, or a reason
 */
export function decodeLegacyTransaction (raw: Uint8Array): { ok: true, tx: LegacyTransaction } | Fail {
  if (raw.length === 0) return fail('the transaction is empty')
  if (raw[0] < 0xc0) return fail('the transaction is not a legacy (type 0) transaction: typed transactions do not exist on Rootstock')
  const d = decodeRlpStrict(raw, 'transaction')
  if (!d.ok) return d
  const f = d.item
  if (!Array.isArray(f) || f.length !== 9) return fail('the transaction is not a list of 9 fields (nonce, gasPrice, gas, to, value, data, v, r, s)')
  const nonce = rlpUint(f[0], 8)
  const gasPrice = rlpUint(f[1])
  const gasLimit = rlpUint(f[2], 8)
  const value = rlpUint(f[4])
  const v = rlpUint(f[6], 8)
  const r = rlpUint(f[7])
  const s = rlpUint(f[8])
  if (nonce === null || gasPrice === null || gasLimit === null || value === null || v === null || r === null || s === null) {
    return fail('a numeric field of the transaction is not a canonical integer')
  }
  if (!isBytes(f[3]) || (f[3].length !== 0 && f[3].length !== 20)) return fail('the transaction\'s recipient is not a 20-byte address')
  if (!isBytes(f[5])) return fail('the transaction\'s data is not a byte string')
  if (v < 35n) return fail('the transaction is not signed under EIP-155 (no chain id in v): it could be replayed on any chain')
  const chainId = (v - 35n) / 2n
  const parity = Number((v - 35n) % 2n)
  if (r === 0n || r >= SECP256K1_N || s === 0n || s >= SECP256K1_N) return fail('the transaction\'s signature is out of range')
  if (s > SECP256K1_N / 2n) return fail('the transaction\'s signature has a high s (EIP-2 forbids it: the same payment would have two hashes)')
  const unsigned = RLP.encode([f[0], f[1], f[2], f[3], f[4], f[5], bigintBytes(chainId), new Uint8Array(0), new Uint8Array(0)] as never)
  const digest = keccak_256(unsigned)
  let from: string
  try {
    const sig = secp256k1.Signature.fromBytes(concat(to32(r), to32(s)), 'compact').addRecoveryBit(parity)
    const pub = sig.recoverPublicKey(digest).toBytes(false)
    from = '0x' + bytesToHexPlain(keccak_256(pub.subarray(1)).subarray(12))
  } catch {
    return fail('the transaction\'s signature does not recover a public key')
  }
  return {
    ok: true,
    tx: {
      hash: bytesToHexPlain(keccak_256(raw)),
      nonce, gasPrice, gasLimit,
      to: f[3].length === 0 ? null : '0x' + bytesToHexPlain(f[3]),
      value, data: f[5], chainId, from
    }
  }
}

/** One log of a receipt. */
export interface EvmLog {
  /** the emitting contract, lowercase hex with 0x */
  address: string
  /** 32-byte topics, lowercase hex without 0x */
  topics: string[]
  data: Uint8Array
}

/** A decoded receipt of a legacy transaction. */
export interface EvmReceipt {
  /** 1 success, 0 reverted (EIP-658) */
  status: 0 | 1
  cumulativeGasUsed: bigint
  logs: EvmLog[]
}

/**
 * Decodes a receipt as the receipt trie stores it for a legacy transaction:
 * `rlp([status, cumulativeGasUsed, logsBloom, logs])`, logs `[address, [topics], data]`.
 * A pre-Byzantium receipt (a 32-byte state root where the status is) is refused: it does not say
 * whether the transaction succeeded.
 * @returns the receipt, or a reason
 */
export function decodeReceipt (bytes: Uint8Array): { ok: true, receipt: EvmReceipt } | Fail {
  if (bytes.length > 0 && bytes[0] < 0xc0) return fail('the receipt is a typed receipt: Rootstock has only legacy transactions')
  const d = decodeRlpStrict(bytes, 'receipt')
  if (!d.ok) return d
  const f = d.item
  if (!Array.isArray(f) || f.length !== 4) return fail('the receipt is not a list of 4 fields (status, cumulativeGasUsed, logsBloom, logs)')
  if (!isBytes(f[0]) || f[0].length > 1) return fail('the receipt carries no status byte (a pre-Byzantium state root?): it does not say whether the transaction succeeded')
  const status = f[0].length === 0 ? 0 : f[0][0]
  if (status !== 0 && status !== 1) return fail(`the receipt's status is ${status}, neither 0 nor 1`)
  const cumulativeGasUsed = rlpUint(f[1], 8)
  if (cumulativeGasUsed === null) return fail('the receipt\'s cumulative gas is not a canonical integer')
  if (!isBytes(f[2], 256)) return fail('the receipt\'s logs bloom is not 256 bytes')
  if (!Array.isArray(f[3])) return fail('the receipt\'s logs are not a list')
  const logs: EvmLog[] = []
  for (const [i, log] of f[3].entries()) {
    if (!Array.isArray(log) || log.length !== 3 || !isBytes(log[0], 20) || !Array.isArray(log[1]) || !isBytes(log[2])) return fail(`log ${i} of the receipt is not [address, topics, data]`)
    const topics: string[] = []
    for (const topic of log[1]) {
      if (!isBytes(topic, 32)) return fail(`log ${i} of the receipt has a topic that is not 32 bytes`)
      topics.push(bytesToHexPlain(topic))
    }
    logs.push({ address: '0x' + bytesToHexPlain(log[0]), topics, data: log[2] })
  }
  return { ok: true, receipt: { status, cumulativeGasUsed, logs } }
}

/** The fields of a block header a payment proof reads. */
export interface EvmHeader {
  /** keccak256 of the header's RLP: the block hash, lowercase hex without 0x */
  hash: string
  parentHash: string
  transactionsRoot: Uint8Array
  receiptsRoot: Uint8Array
  number: number
  /** seconds since 1970 as the header states it */
  timestamp: number
}

/**
 * Decodes a block header: an RLP list whose fields 0 (parent hash), 4 (transactions root),
 * 5 (receipts root), 8 (number) and 11 (timestamp) sit where both the Ethereum header (15 fields
 * at Berlin, more after London) and the Rootstock header put them; the other fields are covered
 * by the hash only.
 * @returns the header, or a reason
 */
export function decodeHeader (bytes: Uint8Array): { ok: true, header: EvmHeader } | Fail {
  const d = decodeRlpStrict(bytes, 'block header')
  if (!d.ok) return d
  const f = d.item
  if (!Array.isArray(f) || f.length < 15) return fail('the block header is not a list of at least 15 fields')
  if (!isBytes(f[0], 32) || !isBytes(f[4], 32) || !isBytes(f[5], 32)) return fail('the block header\'s parent hash or trie roots are not 32 bytes')
  const number = rlpUint(f[8], 8)
  const timestamp = rlpUint(f[11], 8)
  if (number === null || number > BigInt(Number.MAX_SAFE_INTEGER)) return fail('the block header\'s number is not a canonical integer')
  if (timestamp === null || timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return fail('the block header\'s timestamp is not a canonical integer')
  return {
    ok: true,
    header: { hash: bytesToHexPlain(keccak_256(bytes)), parentHash: bytesToHexPlain(f[0]), transactionsRoot: f[4], receiptsRoot: f[5], number: Number(number), timestamp: Number(timestamp) }
  }
}

/** An ERC-20 `Transfer` event read from a log. */
export interface Erc20Transfer {
  /** the token contract, lowercase hex with 0x */
  token: string
  from: string
  to: string
  /** token units */
  value: bigint
}

/**
 * Reads an ERC-20 `Transfer(address indexed from, address indexed to, uint256 value)` log (EIP-20,
 * as OpenZeppelin emits it: 3 topics, the value as 32 bytes of data).
 * @returns the transfer, or null when the log is not one
 */
export function parseErc20Transfer (log: EvmLog): Erc20Transfer | null {
  if (log.topics.length !== 3 || log.topics[0] !== ERC20_TRANSFER_TOPIC || log.data.length !== 32) return null
  const [, from, to] = log.topics
  if (!from.startsWith('0'.repeat(24)) || !to.startsWith('0'.repeat(24))) return null // an address topic is 12 zero bytes then 20
  let value = 0n
  for (const b of log.data) value = (value << 8n) | BigInt(b)
  return { token: log.address, from: '0x' + from.slice(24), to: '0x' + to.slice(24), value }
}

/** The RLP of an integer, for a trie key `rlp(transactionIndex)`. */
export function rlpIndexKey (index: number): Uint8Array {
  return RLP.encode(index)
}

function bigintBytes (v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0)
  let hex = v.toString(16)
  if (hex.length % 2) hex = '0' + hex
  return evmHexToBytes(hex, 64) as Uint8Array
}

function to32 (v: bigint): Uint8Array {
  return evmHexToBytes(v.toString(16).padStart(64, '0'), 32) as Uint8Array
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}
