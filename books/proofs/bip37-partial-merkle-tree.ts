/**
 * BIP-37 partial Merkle trees, and the `gettxoutproof` encoding that carries one (a CMerkleBlock:
 * 80-byte header, uint32 total transactions, CompactSize hash count, 32-byte hashes, CompactSize
 * flag byte count, flag bytes). Verification follows Bitcoin Core merkleblock.cpp
 * (`CPartialMerkleTree::ExtractMatches` and `TraverseAndExtract`), including its refusal of a node
 * whose two children are the same hash (CVE-2012-2459).
 *
 * Pure: no clock, no I/O, no randomness. Never throws: failures are `{ ok: false, reason }`.
 */
import { sha256d } from './bitcoin-header.ts'

/**
 * The most transactions a block can hold: MAX_BLOCK_WEIGHT / MIN_TRANSACTION_WEIGHT
 * (4 000 000 / 240), the bound Bitcoin Core puts on a partial tree's total.
 */
export const MAX_BLOCK_TRANSACTIONS = Math.floor(4_000_000 / 240)

/** A decoded `gettxoutproof` payload; hashes are in internal byte order. */
export interface MerkleBlock {
  header: Uint8Array
  totalTransactions: number
  hashes: Uint8Array[]
  flags: Uint8Array
}

/** The leaves a partial tree proves, and the root it commits to. */
export interface PartialTreeMatches {
  /** the Merkle root the tree hashes to, internal byte order */
  root: Uint8Array
  /** matched txids, internal byte order */
  matches: Uint8Array[]
  /** position of each matched txid in the block */
  indexes: number[]
}

type Fail = { ok: false, reason: string }

/**
 * Reads a Bitcoin CompactSize integer, refusing non-canonical encodings as Bitcoin Core's
 * `ReadCompactSize` does.
 * @returns the value and the offset after it, or a reason
 */
export function readCompactSize (b: Uint8Array, at: number): { ok: true, value: number, next: number } | Fail {
  if (at >= b.length) return { ok: false, reason: 'proof ends inside a length prefix' }
  const first = b[at]
  if (first < 0xfd) return { ok: true, value: first, next: at + 1 }
  const width = first === 0xfd ? 2 : first === 0xfe ? 4 : 8
  if (at + 1 + width > b.length) return { ok: false, reason: 'proof ends inside a length prefix' }
  let value = 0
  for (let i = width - 1; i >= 0; i--) value = value * 256 + b[at + 1 + i]
  const min = first === 0xfd ? 0xfd : first === 0xfe ? 0x10000 : 0x100000000
  if (value < min) return { ok: false, reason: 'proof has a non-canonical length prefix' }
  return { ok: true, value, next: at + 1 + width }
}

/**
 * Decodes a `gettxoutproof` payload (CMerkleBlock serialization).
 * @param bytes the proof
 * @returns its parts, or a reason: truncated, counts larger than the bytes, trailing bytes
 */
export function decodeMerkleBlock (bytes: Uint8Array): { ok: true, block: MerkleBlock } | Fail {
  if (bytes.length < 80 + 4) return { ok: false, reason: 'proof is too short to hold a block header and a transaction count' }
  const header = bytes.slice(0, 80)
  const totalTransactions = (bytes[80] | (bytes[81] << 8) | (bytes[82] << 16) | (bytes[83] << 24)) >>> 0
  const nHashes = readCompactSize(bytes, 84)
  if (!nHashes.ok) return nHashes
  if (nHashes.value * 32 > bytes.length - nHashes.next) return { ok: false, reason: 'proof claims more hashes than it carries' }
  const hashes: Uint8Array[] = []
  let at = nHashes.next
  for (let i = 0; i < nHashes.value; i++, at += 32) hashes.push(bytes.slice(at, at + 32))
  const nFlags = readCompactSize(bytes, at)
  if (!nFlags.ok) return nFlags
  if (nFlags.value > bytes.length - nFlags.next) return { ok: false, reason: 'proof claims more flag bytes than it carries' }
  const flags = bytes.slice(nFlags.next, nFlags.next + nFlags.value)
  if (nFlags.next + nFlags.value !== bytes.length) return { ok: false, reason: 'proof has trailing bytes after its flags' }
  return { ok: true, block: { header, totalTransactions, hashes, flags } }
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Verifies a BIP-37 partial Merkle tree and extracts its matched leaves
 * (Bitcoin Core `CPartialMerkleTree::ExtractMatches`).
 * @param totalTransactions the block's transaction count, 1..MAX_BLOCK_TRANSACTIONS
 * @param hashes the tree's hashes in depth-first order, internal byte order
 * @param flags the flag bits, packed least significant bit first
 * @returns the root the tree hashes to and its matched txids with their positions, or a reason:
 *   empty or oversized tree, more hashes than transactions, too few flag bits, running out of bits
 *   or hashes, a node whose children are equal (CVE-2012-2459), unused hashes or flag bytes
 */
export function extractMatches (totalTransactions: number, hashes: Uint8Array[], flags: Uint8Array): { ok: true, tree: PartialTreeMatches } | Fail {
  if (totalTransactions === 0) return { ok: false, reason: 'partial merkle tree claims a block with no transactions' }
  if (totalTransactions > MAX_BLOCK_TRANSACTIONS) return { ok: false, reason: 'partial merkle tree claims more transactions than a block can hold' }
  if (hashes.length > totalTransactions) return { ok: false, reason: 'partial merkle tree has more hashes than the block has transactions' }
  const nBits = flags.length * 8
  if (nBits < hashes.length) return { ok: false, reason: 'partial merkle tree has fewer flag bits than hashes' }

  const width = (height: number): number => Math.floor((totalTransactions + 2 ** height - 1) / 2 ** height)
  let height = 0
  while (width(height) > 1) height++

  let bitsUsed = 0
  let hashesUsed = 0
  let bad: string | null = null
  const matches: Uint8Array[] = []
  const indexes: number[] = []
  const none = new Uint8Array(32)

  const traverse = (h: number, pos: number): Uint8Array => {
    if (bad !== null) return none
    if (bitsUsed >= nBits) { bad = 'partial merkle tree runs out of flag bits'; return none }
    const parentOfMatch = ((flags[bitsUsed >> 3] >> (bitsUsed & 7)) & 1) === 1
    bitsUsed++
    if (h === 0 || !parentOfMatch) {
      if (hashesUsed >= hashes.length) { bad = 'partial merkle tree runs out of hashes'; return none }
      const hash = hashes[hashesUsed++]
      if (h === 0 && parentOfMatch) { matches.push(hash); indexes.push(pos) }
      return hash
    }
    const left = traverse(h - 1, pos * 2)
    let right = left
    if (pos * 2 + 1 < width(h - 1)) {
      right = traverse(h - 1, pos * 2 + 1)
      if (bad === null && equalBytes(left, right)) {
        bad = 'partial merkle tree has a node whose two children are the same hash (duplicated-leaf forgery, CVE-2012-2459)'
      }
    }
    const both = new Uint8Array(64)
    both.set(left, 0)
    both.set(right, 32)
    return sha256d(both)
  }

  const root = traverse(height, 0)
  if (bad !== null) return { ok: false, reason: bad }
  if (Math.ceil(bitsUsed / 8) !== flags.length) return { ok: false, reason: 'partial merkle tree has flag bytes it does not use' }
  if (hashesUsed !== hashes.length) return { ok: false, reason: 'partial merkle tree has hashes it does not use' }
  return { ok: true, tree: { root, matches, indexes } }
}
