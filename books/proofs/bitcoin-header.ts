/**
 * Bitcoin block headers: the 80-byte serialization, the compact target (`nBits`), proof of work
 * and chain work, following Bitcoin Core (primitives/block.h, arith_uint256.cpp SetCompact,
 * pow.cpp CheckProofOfWork, chain.cpp GetBlockProof).
 *
 * Pure: no clock, no I/O, no randomness. Apply calls it through bitcoin-spv.ts. Checks return
 * `{ ok: true, ... } | { ok: false, reason }` and never throw.
 */
import { sha256 } from '@noble/hashes/sha2.js'

/** The Bitcoin networks a proof can come from. */
export type BitcoinNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest'

/** Every network name, for input checks. */
export const BITCOIN_NETWORKS: readonly BitcoinNetwork[] = ['mainnet', 'testnet', 'signet', 'regtest']

/**
 * Each network's proof-of-work limit: the easiest target a header may claim (Bitcoin Core
 * chainparams.cpp `consensus.powLimit`, as 256-bit integers). In compact form they are
 * mainnet/testnet 0x1d00ffff, signet 0x1e0377ae, regtest 0x207fffff.
 */
export const POW_LIMIT: Readonly<Record<BitcoinNetwork, bigint>> = {
  mainnet: 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
  testnet: 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffn,
  signet: 0x00000377ae000000000000000000000000000000000000000000000000000000n,
  regtest: 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffn
}

/** Length of a serialized block header, in bytes. */
export const HEADER_BYTES = 80

/** A parsed block header; hashes are in internal byte order (as serialized), not display order. */
export interface BlockHeader {
  version: number
  prevHash: Uint8Array
  merkleRoot: Uint8Array
  time: number
  bits: number
  nonce: number
  /** sha256d of the 80 bytes, internal byte order */
  hash: Uint8Array
}

/** @returns sha256(sha256(bytes)), 32 bytes */
export function sha256d (bytes: Uint8Array): Uint8Array {
  return sha256(sha256(bytes))
}

/** @returns the hex of `hash` reversed: Bitcoin's display order for txids and block hashes */
export function toDisplayHex (hash: Uint8Array): string {
  let out = ''
  for (let i = hash.length - 1; i >= 0; i--) out += hash[i].toString(16).padStart(2, '0')
  return out
}

/** @returns the 256-bit unsigned integer whose little-endian bytes are `bytes` (how Core compares a hash with a target) */
export function uint256LE (bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i])
  return n
}

function u32LE (b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
}

/**
 * Parses an 80-byte header.
 * @param bytes exactly 80 bytes
 * @returns the header with its hash, or a reason when the length is wrong
 */
export function parseHeader (bytes: Uint8Array): { ok: true, header: BlockHeader } | { ok: false, reason: string } {
  if (!(bytes instanceof Uint8Array) || bytes.length !== HEADER_BYTES) {
    return { ok: false, reason: `a block header is ${HEADER_BYTES} bytes, got ${bytes instanceof Uint8Array ? bytes.length : 'none'}` }
  }
  return {
    ok: true,
    header: {
      version: u32LE(bytes, 0) | 0,
      prevHash: bytes.slice(4, 36),
      merkleRoot: bytes.slice(36, 68),
      time: u32LE(bytes, 68),
      bits: u32LE(bytes, 72),
      nonce: u32LE(bytes, 76),
      hash: sha256d(bytes)
    }
  }
}

/**
 * Expands a compact target (`nBits`) the way Bitcoin Core's `arith_uint256::SetCompact` does.
 * @param bits the header's nBits, an unsigned 32-bit integer
 * @returns `{ target, negative, overflow }`: a target is usable only when neither flag is set and it is not zero
 */
export function decodeCompact (bits: number): { target: bigint, negative: boolean, overflow: boolean } {
  const size = bits >>> 24
  let word = bits & 0x007fffff
  let target: bigint
  if (size <= 3) {
    word >>>= 8 * (3 - size)
    target = BigInt(word)
  } else {
    target = BigInt(word) << BigInt(8 * (size - 3))
  }
  const negative = word !== 0 && (bits & 0x00800000) !== 0
  const overflow = word !== 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32))
  return { target: target & ((1n << 256n) - 1n), negative, overflow }
}

/**
 * The expected number of hashes to find a header at `target`: 2^256 / (target + 1)
 * (Bitcoin Core chain.cpp `GetBlockProof`). Summed over headers it is the chain work that decides
 * between competing chains.
 * @param target a positive target
 * @returns the work, a bigint
 */
export function workForTarget (target: bigint): bigint {
  return (1n << 256n) / (target + 1n)
}

/**
 * Checks a header's proof of work against its own nBits and the network's limit
 * (Bitcoin Core pow.cpp `CheckProofOfWork`). Does not check the difficulty schedule, which needs
 * the chain before the header.
 * @param header a parsed header
 * @param network whose powLimit bounds the target
 * @returns the target and the header's work, or the reason it fails
 */
export function checkProofOfWork (header: BlockHeader, network: BitcoinNetwork):
  { ok: true, target: bigint, work: bigint } | { ok: false, reason: string } {
  const { target, negative, overflow } = decodeCompact(header.bits)
  const bitsHex = '0x' + header.bits.toString(16).padStart(8, '0')
  if (negative) return { ok: false, reason: `header ${toDisplayHex(header.hash)} has a negative target (nBits ${bitsHex})` }
  if (overflow) return { ok: false, reason: `header ${toDisplayHex(header.hash)} has a target that overflows 256 bits (nBits ${bitsHex})` }
  if (target === 0n) return { ok: false, reason: `header ${toDisplayHex(header.hash)} has a zero target (nBits ${bitsHex})` }
  if (target > POW_LIMIT[network]) {
    return { ok: false, reason: `header ${toDisplayHex(header.hash)} claims a target easier than ${network} allows (nBits ${bitsHex})` }
  }
  if (uint256LE(header.hash) > target) {
    return { ok: false, reason: `header ${toDisplayHex(header.hash)} does not meet its own target: not enough proof of work (nBits ${bitsHex})` }
  }
  return { ok: true, target, work: workForTarget(target) }
}
