/**
 * Rootstock payment proofs: that a signed legacy transaction paying an address at least an amount
 * (native RBTC in wei, or ERC-20 token units through the token's `transfer`) sits at a position in
 * a block and succeeded there. Checked offline and deterministically, so apply can call it on
 * every peer and get the same answer.
 *
 * A proof is the raw signed transaction, its receipt (the RLP the receipt trie holds:
 * `rlp([status, cumulativeGasUsed, logsBloom, logs])`), the block header (RLP), the transaction's
 * index, and two Merkle Patricia proofs at the key `rlp(index)`: one of the transactions trie
 * (against header field 4, transactionsRoot) and one of the receipts trie (against field 5,
 * receiptsRoot). The same key in both tries ties the receipt to this very transaction. Proofs
 * are checked with @ethereumjs/mpt's `verifyMerkleProof` (Ethereum yellow paper appendix D).
 *
 * What the proof does NOT establish:
 * - **Finality.** Rootstock blocks are merge-mined with Bitcoin: their proof of work lives in a
 *   Bitcoin header and coinbase carried by the Rootstock header, which cannot be checked cheaply
 *   or without the chain's difficulty. So a valid proof says "a block with this hash holds this
 *   successful payment", not "that block is on the heaviest chain": anyone can build a header
 *   around a transaction they signed. A book on this rail must also require the payee's
 *   confirmation (or another source of finality); this check only rules out every claim that is
 *   false on its face.
 * - **Tries of a real Rootstock node.** rskj computes its transactions and receipts roots with its
 *   own binary trie (co.rsk.trie.Trie, RSKIP-126 "Unitrie") and encodes receipts with 6 fields;
 *   this module checks the Ethereum hexary tries and 4-field receipts that EVM nodes such as
 *   anvil (the tests' chain, `--hardfork berlin`, chain id 33) produce. A proof from rskj needs
 *   a Unitrie verifier in its place; the header fields 4 and 5, the transaction format and the
 *   signature rules are the same.
 *
 * - **Honest tokens.** An ERC-20 payment is read from the Transfer logs the named token contract
 *   emitted; the contract is the book's choice and is trusted to log only real transfers (EIP-20).
 *   Logs of any other contract in the same transaction are ignored.
 *
 * Async only because @ethereumjs/mpt's proof API is; it does no I/O. Pure: no clock, no
 * randomness. Never throws: every failure is `{ ok: false, reason }` in plain words.
 */
import '../../core/runtime/text-encoding.ts' // before @noble/@ethereumjs: Bare has no TextEncoder global
import { verifyMerkleProof } from '@ethereumjs/mpt'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { toChecksumAddress, type RootstockAddress } from '../../core/wallet/bip44-rootstock.ts'
import {
  decodeHeader, decodeLegacyTransaction, decodeReceipt, evmHexToBytes, equalBytes,
  bytesToHexPlain, parseErc20Transfer, rlpIndexKey
} from './evm-tx.ts'

/** What a payer hands in to prove a Rootstock payment; all byte fields hex (with or without 0x). */
export interface RootstockPaymentProof {
  /** the raw signed legacy transaction (EIP-155) */
  rawTx: string
  /** the transaction's receipt as the receipt trie holds it (RLP) */
  receipt: string
  /** the block header (RLP); its keccak-256 is the block hash */
  header: string
  /** the transaction's position in the block (0-based) */
  txIndex: number
  /** the transactions-trie nodes from the root to the leaf at `rlp(txIndex)` (RLP each) */
  txProof: string[]
  /** the receipts-trie nodes from the root to the leaf at `rlp(txIndex)` (RLP each) */
  receiptProof: string[]
}

/** What the payee expects the payment to be. */
export interface RootstockPaymentExpectation {
  /** the EIP-155 chain id the transaction must be signed for (30 Rootstock mainnet, 31 testnet, 33 regtest/anvil) */
  chainId: number
  /** the payee's address (0x + 40 hex, any case: compared case-insensitively) */
  to: string
  /** the least amount: wei for native RBTC, token units for ERC-20 */
  minAmount: bigint
  /** the ERC-20 token contract, or absent/null for native RBTC */
  token?: string | null
  /** optional: the block hash the payee knows (0x + 64 hex); the header must hash to it */
  blockHash?: string
}

/** Input to {@link verifyRootstockPayment}. */
export interface RootstockPaymentInput extends RootstockPaymentProof {
  expect: RootstockPaymentExpectation
}

/** A proof that holds. */
export interface RootstockPaymentAccepted {
  ok: true
  /** keccak-256 of the raw transaction, 0x + 64 lowercase hex */
  txHash: string
  /** keccak-256 of the header, 0x + 64 lowercase hex */
  blockHash: string
  blockNumber: number
  /** the header's timestamp, seconds since 1970 (the block producer's claim) */
  blockTimestamp: number
  txIndex: number
  chainId: number
  /** the signer, recovered from the signature, checksummed ({@link checksumChainId}) */
  from: RootstockAddress
  /** the payee, checksummed */
  to: RootstockAddress
  /** what reached the payee: wei (native) or token units (ERC-20, summed over the transaction's Transfer logs to the payee) */
  amount: bigint
  /** the token contract, checksummed, or null for native RBTC */
  token: RootstockAddress | null
  /** positions in the receipt of the Transfer logs counted (empty for native) */
  logIndexes: number[]
}

/** The result of a proof check. */
export type RootstockPaymentResult = RootstockPaymentAccepted | { ok: false, reason: string }

/** The largest raw transaction accepted, in bytes (geth's and rskj's pool limit is 128 KiB). */
export const MAX_RAW_TX_BYTES = 128 * 1024
/** The largest receipt accepted, in bytes. */
export const MAX_RECEIPT_BYTES = 1024 * 1024
/** The largest header accepted, in bytes (a Rootstock header with its merge-mining fields is under 1 KiB). */
export const MAX_HEADER_BYTES = 16 * 1024
/** The most nodes a trie proof may carry: a key rlp(index) of at most 5 bytes is at most 10 nibbles deep. */
export const MAX_PROOF_NODES = 16

type Fail = { ok: false, reason: string }
const fail = (reason: string): Fail => ({ ok: false, reason })
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const HASH = /^(0x)?[0-9a-fA-F]{64}$/

/**
 * The chain id used in the checksum of addresses shown for a chain: RSKIP-60 includes the chain
 * id for Rootstock mainnet (30) and testnet (31); other chains (anvil and other EVM dev chains)
 * use plain EIP-55, as their tools do.
 * @returns 30, 31, or null for EIP-55
 */
export function checksumChainId (chainId: number): number | null {
  return chainId === 30 || chainId === 31 ? chainId : null
}

/**
 * Verifies a Rootstock payment proof (see the module comment for what it does not establish).
 * Checks, in order: the inputs' shapes and sizes; the header's RLP and hash (equal to
 * `expect.blockHash` when given); the transactions-trie proof against the header's
 * transactionsRoot giving exactly `rawTx` at `rlp(txIndex)`; the receipts-trie proof against its
 * receiptsRoot giving exactly `receipt` at the same key; the transaction (legacy, EIP-155 signed
 * for `expect.chainId`, low s, signer recovered); the receipt's status is 1; then the payment:
 * native (`to` is the payee, `value` >= minAmount) or ERC-20 (`to` is the token contract and the
 * receipt holds Transfer logs emitted by it to the payee summing to >= minAmount).
 * @param input the proof and the expectation ({@link RootstockPaymentInput})
 * @returns `{ ok: true, txHash, blockHash, blockNumber, from, to, amount, token, ... }` or `{ ok: false, reason }`; never rejects
 */
export async function verifyRootstockPayment (input: RootstockPaymentInput): Promise<RootstockPaymentResult> {
  try {
    return await verify(input)
  } catch (err) {
    // a safety net: every path above returns its own reason; a library throwing here is a bug, not a pass
    return fail(`the proof could not be checked (${err instanceof Error ? err.message : String(err)})`)
  }
}

async function verify (input: RootstockPaymentInput): Promise<RootstockPaymentResult> {
  if (input === null || typeof input !== 'object') return fail('the proof is not an object')
  const expect = input.expect
  if (expect === null || typeof expect !== 'object') return fail('the expectation is missing')
  const { chainId, minAmount } = expect
  if (!Number.isSafeInteger(chainId) || chainId <= 0) return fail('the expected chain id is not a positive integer')
  if (typeof minAmount !== 'bigint' || minAmount < 0n) return fail('the expected amount is not a non-negative integer (bigint)')
  if (typeof expect.to !== 'string' || !ADDRESS.test(expect.to)) return fail('the expected payee is not an address (0x and 40 hex digits)')
  const token = expect.token ?? null
  if (token !== null && (typeof token !== 'string' || !ADDRESS.test(token))) return fail('the expected token contract is not an address (0x and 40 hex digits)')
  if (expect.blockHash !== undefined && (typeof expect.blockHash !== 'string' || !HASH.test(expect.blockHash))) return fail('the expected block hash is not 32 bytes of hex')
  const txIndex = input.txIndex
  if (!Number.isSafeInteger(txIndex) || txIndex < 0 || txIndex > 0xffffffff) return fail('the transaction index is not an integer from 0 to 2^32 - 1')

  const rawTx = evmHexToBytes(input.rawTx, MAX_RAW_TX_BYTES)
  if (rawTx === null || rawTx.length === 0) return fail(`the transaction is not hex of at most ${MAX_RAW_TX_BYTES} bytes`)
  const receiptBytes = evmHexToBytes(input.receipt, MAX_RECEIPT_BYTES)
  if (receiptBytes === null || receiptBytes.length === 0) return fail(`the receipt is not hex of at most ${MAX_RECEIPT_BYTES} bytes`)
  const headerBytes = evmHexToBytes(input.header, MAX_HEADER_BYTES)
  if (headerBytes === null || headerBytes.length === 0) return fail(`the block header is not hex of at most ${MAX_HEADER_BYTES} bytes`)
  const txProof = proofNodes(input.txProof, 'transaction')
  if (!txProof.ok) return txProof
  const receiptProof = proofNodes(input.receiptProof, 'receipt')
  if (!receiptProof.ok) return receiptProof

  const h = decodeHeader(headerBytes)
  if (!h.ok) return h
  const header = h.header
  const blockHash = '0x' + header.hash
  if (expect.blockHash !== undefined && expect.blockHash.toLowerCase().replace(/^0x/, '') !== header.hash) {
    return fail(`the header hashes to ${blockHash}, not to the expected block ${expect.blockHash}`)
  }

  const key = rlpIndexKey(txIndex)
  const inTxTrie = await provenValue(key, txProof.nodes, header.transactionsRoot, 'transaction', txIndex)
  if (!inTxTrie.ok) return inTxTrie
  if (!equalBytes(inTxTrie.value, rawTx)) return fail(`the transaction at index ${txIndex} of block ${blockHash} is another one: the given transaction is not in the block at that position`)
  const inReceiptTrie = await provenValue(key, receiptProof.nodes, header.receiptsRoot, 'receipt', txIndex)
  if (!inReceiptTrie.ok) return inReceiptTrie
  if (!equalBytes(inReceiptTrie.value, receiptBytes)) return fail(`the receipt at index ${txIndex} of block ${blockHash} is another one: the given receipt is not this transaction's`)

  const t = decodeLegacyTransaction(rawTx)
  if (!t.ok) return t
  const tx = t.tx
  if (tx.chainId !== BigInt(chainId)) return fail(`the transaction is signed for chain id ${tx.chainId}, not ${chainId}`)
  const r = decodeReceipt(receiptBytes)
  if (!r.ok) return r
  if (r.receipt.status !== 1) return fail('the transaction failed (receipt status 0, reverted): it moved nothing')

  const cs = checksumChainId(chainId)
  const payee = expect.to.toLowerCase()
  const base = {
    ok: true as const,
    txHash: '0x' + tx.hash,
    blockHash,
    blockNumber: header.number,
    blockTimestamp: header.timestamp,
    txIndex,
    chainId,
    from: toChecksumAddress(tx.from, cs),
    to: toChecksumAddress(payee, cs)
  }
  if (tx.to === null) return fail('the transaction creates a contract: it pays no one')

  if (token === null) {
    if (tx.to !== payee) return fail(`the transaction pays ${toChecksumAddress(tx.to, cs)}, not the payee ${base.to}`)
    if (tx.value < minAmount) return fail(`the transaction pays ${tx.value} wei, less than the ${minAmount} wei expected`)
    return { ...base, amount: tx.value, token: null, logIndexes: [] }
  }

  const tokenLower = token.toLowerCase()
  if (tx.to !== tokenLower) return fail(`the transaction calls ${toChecksumAddress(tx.to, cs)}, not the token contract ${toChecksumAddress(tokenLower, cs)}`)
  let amount = 0n
  const logIndexes: number[] = []
  for (const [i, log] of r.receipt.logs.entries()) {
    const transfer = parseErc20Transfer(log)
    if (transfer === null || transfer.token !== tokenLower || transfer.to !== payee) continue
    amount += transfer.value
    logIndexes.push(i)
  }
  if (logIndexes.length === 0) return fail(`the receipt holds no Transfer of the token ${toChecksumAddress(tokenLower, cs)} to the payee ${base.to}`)
  if (amount < minAmount) return fail(`the transaction transfers ${amount} token units to the payee, less than the ${minAmount} expected`)
  return { ...base, amount, token: toChecksumAddress(tokenLower, cs), logIndexes }
}

function proofNodes (nodes: unknown, what: string): { ok: true, nodes: Uint8Array[] } | Fail {
  if (!Array.isArray(nodes) || nodes.length === 0) return fail(`the ${what} proof is not a non-empty list of trie nodes`)
  if (nodes.length > MAX_PROOF_NODES) return fail(`the ${what} proof has more than ${MAX_PROOF_NODES} nodes`)
  const out: Uint8Array[] = []
  for (const [i, n] of nodes.entries()) {
    const bytes = evmHexToBytes(n, MAX_RECEIPT_BYTES + 1024)
    if (bytes === null || bytes.length === 0) return fail(`node ${i} of the ${what} proof is not hex`)
    out.push(bytes)
  }
  return { ok: true, nodes: out }
}

/** The value a trie proof gives at `key` under `root`, or why there is none. */
async function provenValue (key: Uint8Array, nodes: Uint8Array[], root: Uint8Array, what: 'transaction' | 'receipt', index: number):
  Promise<{ ok: true, value: Uint8Array } | Fail> {
  const field = what === 'transaction' ? 'transactionsRoot' : 'receiptsRoot'
  // checked here rather than left to the library, which reports every failure as "Invalid proof provided"
  if (!equalBytes(keccak_256(nodes[0]), root)) {
    return fail(`the ${what} proof does not start at the header's ${field} 0x${bytesToHexPlain(root)}: it is from another block, or the header was altered`)
  }
  let value: Uint8Array | null
  try {
    value = await verifyMerkleProof(key, nodes, { root })
  } catch {
    return fail(`the ${what} proof is not a valid path of the block's ${what}s trie to index ${index}`)
  }
  if (value === null) return fail(`the block holds no ${what} at index ${index}`)
  return { ok: true, value }
}
