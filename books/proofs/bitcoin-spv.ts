/**
 * Bitcoin SPV payment proofs: that a transaction paying an address at least an amount sits in a
 * block, under enough proof of work, with enough headers on top. Checked offline and
 * deterministically, so apply can call it on every peer and get the same answer.
 *
 * A proof is what a Bitcoin Core-compatible node hands out: the raw transaction
 * (`getrawtransaction`), its inclusion proof (`gettxoutproof`, a BIP-37 partial Merkle tree under
 * the block header) and the raw 80-byte headers of the blocks that follow
 * (`getblockheader <hash> false`).
 *
 * What it does not check (it needs the chain before the block): the difficulty schedule. A header
 * only has to meet its own target and the network's powLimit, so on mainnet a caller that wants
 * more than "someone spent the work of N minimum-difficulty headers" passes `expect.minWork`
 * (or compares against a known chain with `compareChains`).
 *
 * Pure: no clock, no I/O, no randomness. Never throws: every failure is `{ ok: false, reason }`
 * with a reason in plain words.
 */
// first: under Bare 1.31 there is no global TextEncoder, which @scure/btc-signer's curves need at load
import '../../core/runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { Transaction, Address, OutScript, NETWORK, TEST_NETWORK } from '@scure/btc-signer'
import {
  type BitcoinNetwork, type BlockHeader, BITCOIN_NETWORKS, HEADER_BYTES,
  parseHeader, checkProofOfWork, sha256d, toDisplayHex
} from './bitcoin-header.ts'
import { decodeMerkleBlock, extractMatches } from './bip37-partial-merkle-tree.ts'

export type { BitcoinNetwork } from './bitcoin-header.ts'

/** What the payee expects the payment to be. */
export interface BitcoinPaymentExpectation {
  /** the receiving address: bech32/bech32m (P2WPKH, P2WSH, P2TR) or base58 (P2PKH, P2SH) of the proof's network */
  address: string
  /** the least the outputs to `address` must sum to, in sats */
  minAmountSats: bigint
  /** the block holding the transaction counts as 1; each following header adds 1 */
  minConfirmations: number
  /** optional: the least total work (sum of 2^256/(target+1) over the block and its following headers) */
  minWork?: bigint
}

/** A Bitcoin payment proof, all hex. */
export interface BitcoinPaymentProof {
  network: BitcoinNetwork
  /** the raw transaction, with or without witness data */
  rawTx: string
  /** Bitcoin Core `gettxoutproof` output: header + BIP-37 partial Merkle tree */
  txoutproof: string
  /** raw 80-byte headers of the blocks after the proof's block, in chain order */
  headers: string[]
}

/** Input to {@link verifyBitcoinPayment}. */
export interface BitcoinSpvInput extends BitcoinPaymentProof {
  expect: BitcoinPaymentExpectation
}

/** A proof that holds. */
export interface BitcoinSpvAccepted {
  ok: true
  /** txid, display order (as explorers and RPCs print it) */
  txid: string
  /** indexes of the outputs that pay the expected address */
  vouts: number[]
  /** the sum of those outputs, in sats */
  amountSats: bigint
  /** the hash of the block holding the transaction, display order */
  blockHash: string
  /** 1 + number of following headers */
  confirmations: number
  /** the block's work plus the following headers' work (chainwork-style 2^256/(target+1) each) */
  work: bigint
  /** hashes of the proof's block and every following header, in chain order, display order */
  headerHashes: string[]
  /** the hash of the block before the proof's block, display order: where a conflicting branch would fork */
  prevHash: string
}

/** The result of a proof check. */
export type BitcoinSpvResult = BitcoinSpvAccepted | { ok: false, reason: string }

/** The most following headers a proof may carry (one difficulty period); bounds apply's work. */
export const MAX_PROOF_HEADERS = 2016
/** The largest raw transaction accepted, in bytes (a block's weight limit). */
export const MAX_RAW_TX_BYTES = 4_000_000
/** The largest `gettxoutproof` payload accepted, in bytes (a full tree of the most transactions fits). */
export const MAX_TXOUTPROOF_BYTES = 1_000_000

type Fail = { ok: false, reason: string }
const fail = (reason: string): Fail => ({ ok: false, reason })

interface AddressNetwork { bech32: string, pubKeyHash: number, scriptHash: number, wif: number }
const REGTEST: AddressNetwork = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }
/** bcoin's regtest uses `rb` as its bech32 prefix where Bitcoin Core uses `bcrt`; both are accepted. */
const REGTEST_BCOIN: AddressNetwork = { ...REGTEST, bech32: 'rb' }

/** Address encodings each network accepts. Testnet and signet share theirs, so do legacy regtest ones. */
const ADDRESS_NETWORKS: Record<BitcoinNetwork, AddressNetwork[]> = {
  mainnet: [NETWORK],
  testnet: [TEST_NETWORK],
  signet: [TEST_NETWORK],
  regtest: [REGTEST, REGTEST_BCOIN]
}

/**
 * The output script an address stands for on a network.
 * @param address the address text
 * @param network the network it must belong to
 * @returns the scriptPubKey, or a reason: not an address at all, or an address of another network
 */
export function addressToScript (address: string, network: BitcoinNetwork): { ok: true, script: Uint8Array } | Fail {
  if (typeof address !== 'string' || address.length === 0 || address.length > 128) return fail('the expected address is not an address')
  for (const net of ADDRESS_NETWORKS[network]) {
    const script = tryAddress(address, net)
    if (script !== null) return { ok: true, script }
  }
  for (const other of BITCOIN_NETWORKS) {
    if (other === network) continue
    for (const net of ADDRESS_NETWORKS[other]) {
      if (tryAddress(address, net) !== null) return fail(`the expected address ${address} is a ${other} address, the proof is checked as ${network}`)
    }
  }
  return fail(`the expected address ${address} is not a valid Bitcoin address`)
}

function tryAddress (address: string, net: AddressNetwork): Uint8Array | null {
  try {
    return OutScript.encode(Address(net).decode(address))
  } catch {
    return null
  }
}

/**
 * Decodes strict hex (even length, 0-9a-f in either case).
 * @returns the bytes, or null when `hex` is not hex or longer than `maxBytes`
 */
export function hexToBytesStrict (hex: unknown, maxBytes: number): Uint8Array | null {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || hex.length > maxBytes * 2) return null
  if (!/^[0-9a-fA-F]*$/.test(hex)) return null
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A header list that passed {@link checkHeaderChain}. */
export interface CheckedHeaderChain {
  headers: BlockHeader[]
  /** sum of every header's work */
  work: bigint
}

/**
 * Checks a list of raw headers: each is 80 bytes, meets its own target within the network's
 * powLimit, and names the one before it as its previous block.
 * @param network the network whose powLimit applies
 * @param headers raw headers, hex, in chain order
 * @param after optional hash (internal order) that the first header must name as its previous block
 * @param label how the reasons name this list (e.g. "following header")
 * @returns the parsed headers and their total work, or the first reason one fails
 */
export function checkHeaderChain (network: BitcoinNetwork, headers: readonly unknown[], after: Uint8Array | null, label = 'header'):
  { ok: true, chain: CheckedHeaderChain } | Fail {
  if (!BITCOIN_NETWORKS.includes(network)) return fail('unknown Bitcoin network')
  if (!Array.isArray(headers)) return fail('headers must be a list of hex strings')
  if (headers.length > MAX_PROOF_HEADERS) return fail(`too many headers: at most ${MAX_PROOF_HEADERS}`)
  const parsed: BlockHeader[] = []
  let work = 0n
  let prev = after
  for (let i = 0; i < headers.length; i++) {
    const bytes = hexToBytesStrict(headers[i], HEADER_BYTES)
    if (bytes === null || bytes.length !== HEADER_BYTES) return fail(`${label} ${i + 1} is not 80 bytes of hex`)
    const h = parseHeader(bytes)
    if (!h.ok) return fail(`${label} ${i + 1}: ${h.reason}`)
    const pow = checkProofOfWork(h.header, network)
    if (!pow.ok) return fail(`${label} ${i + 1}: ${pow.reason}`)
    if (prev !== null && !equalBytes(h.header.prevHash, prev)) {
      return fail(`${label} ${i + 1} does not link: it follows ${toDisplayHex(h.header.prevHash)}, not ${toDisplayHex(prev)}`)
    }
    prev = h.header.hash
    work += pow.work
    parsed.push(h.header)
  }
  return { ok: true, chain: { headers: parsed, work } }
}

const TX_OPTS = {
  allowUnknownOutputs: true,
  allowUnknownInputs: true,
  allowUnknownVersion: true,
  disableScriptCheck: true,
  allowLegacyWitnessUtxo: true
}

/**
 * Verifies a Bitcoin payment proof (SPV: BIP-37 partial Merkle tree under a header chain).
 *
 * Checks, each failing with its own reason: the input's shape; the expected address belongs to
 * the network; the transaction parses and is not 64 bytes (a size an
 * inner Merkle node could pose as); the proof decodes; its header meets its own target within the
 * network's powLimit; the partial tree is well formed (every hash and flag byte used, no node with
 * two equal children) and hashes to the header's Merkle root; the transaction's txid is a matched
 * leaf; every following header meets its target and links to the one before; 1 + headers.length
 * reaches `minConfirmations`; the outputs paying exactly the expected address's script sum to at
 * least `minAmountSats`; the total work reaches `minWork` when given.
 *
 * @param input the proof and the expectation; any value is accepted and judged
 * @returns `{ ok: true, txid, vouts, amountSats, blockHash, confirmations, work, headerHashes, prevHash }` or `{ ok: false, reason }`; never throws
 */
export function verifyBitcoinPayment (input: BitcoinSpvInput): BitcoinSpvResult {
  try {
    return verify(input)
  } catch (err) {
    // not reached by any input the tests know of; kept so apply can never be thrown out of
    return fail(`proof could not be checked: ${err instanceof Error ? err.message : 'unknown error'}`)
  }
}

function verify (input: BitcoinSpvInput): BitcoinSpvResult {
  if (input === null || typeof input !== 'object') return fail('proof must be an object')
  const { network, rawTx, txoutproof, headers, expect } = input
  if (!BITCOIN_NETWORKS.includes(network)) return fail('unknown Bitcoin network: expected mainnet, testnet, signet or regtest')
  if (!Array.isArray(headers)) return fail('headers must be a list of hex strings')
  if (expect === null || typeof expect !== 'object') return fail('the expectation (address, amount, confirmations) is missing')
  const { address, minAmountSats, minConfirmations, minWork } = expect
  if (typeof minAmountSats !== 'bigint' || minAmountSats < 0n) return fail('the expected amount must be a non-negative bigint of sats')
  if (!Number.isSafeInteger(minConfirmations) || minConfirmations < 1) return fail('the required confirmations must be an integer of at least 1')
  if (minWork !== undefined && (typeof minWork !== 'bigint' || minWork < 0n)) return fail('the required work must be a non-negative bigint')

  // the address first: a proof checked against another network's address is refused before anything else
  const target = addressToScript(address, network)
  if (!target.ok) return target

  // the transaction
  const txBytes = hexToBytesStrict(rawTx, MAX_RAW_TX_BYTES)
  if (txBytes === null || txBytes.length === 0) return fail('the raw transaction is not hex (or is too large)')
  let tx: Transaction
  try {
    tx = Transaction.fromRaw(txBytes, TX_OPTS)
  } catch {
    return fail('the raw transaction does not parse as a Bitcoin transaction')
  }
  // the txid commits to the parsed transaction (its non-witness serialization); what the outputs
  // pay is read from that same parse. @scure/btc-signer refuses trailing bytes, non-minimal
  // lengths and empty-witness segwit markers, so the parse is the one encoding of these bytes.
  let stripped: Uint8Array
  try {
    stripped = tx.toBytes(true, false)
  } catch {
    return fail('the raw transaction does not parse as a Bitcoin transaction')
  }
  if (stripped.length === 64) return fail('the transaction is 64 bytes without witness, a size an inner Merkle node can pose as: refused')
  const txid = sha256d(stripped)

  // the inclusion proof
  const proofBytes = hexToBytesStrict(txoutproof, MAX_TXOUTPROOF_BYTES)
  if (proofBytes === null) return fail('the txoutproof is not hex (or is too large)')
  const mb = decodeMerkleBlock(proofBytes)
  if (!mb.ok) return fail(`the txoutproof is malformed: ${mb.reason}`)
  const blockHeader = parseHeader(mb.block.header)
  if (!blockHeader.ok) return fail(`the txoutproof's header is malformed: ${blockHeader.reason}`)
  const block = blockHeader.header
  const blockPow = checkProofOfWork(block, network)
  if (!blockPow.ok) return fail(`the proof's block ${blockPow.reason.replace(/^header /, '')}`)
  const tree = extractMatches(mb.block.totalTransactions, mb.block.hashes, mb.block.flags)
  if (!tree.ok) return fail(`the txoutproof is malformed: ${tree.reason}`)
  if (!equalBytes(tree.tree.root, block.merkleRoot)) return fail('the txoutproof\'s Merkle tree does not hash to the block header\'s Merkle root')
  if (!tree.tree.matches.some((m) => equalBytes(m, txid))) {
    return fail(`the txoutproof does not prove transaction ${toDisplayHex(txid)}: it proves another transaction`)
  }

  // the headers on top
  const following = checkHeaderChain(network, headers, block.hash, 'following header')
  if (!following.ok) return following
  const confirmations = 1 + following.chain.headers.length
  if (confirmations < minConfirmations) {
    return fail(`too few confirmations: ${confirmations}, at least ${minConfirmations} required`)
  }

  // the payment
  const vouts: number[] = []
  let amountSats = 0n
  for (let i = 0; i < tx.outputsLength; i++) {
    const out = tx.getOutput(i)
    if (out.script !== undefined && out.amount !== undefined && equalBytes(out.script, target.script)) {
      vouts.push(i)
      amountSats += out.amount
    }
  }
  if (vouts.length === 0) return fail(`no output of the transaction pays ${address}`)
  if (amountSats < minAmountSats) {
    return fail(`the outputs to ${address} total ${amountSats} sats, less than the ${minAmountSats} sats expected`)
  }

  const work = blockPow.work + following.chain.work
  if (minWork !== undefined && work < minWork) return fail(`the block and its headers carry ${work} work, less than the ${minWork} required`)

  return {
    ok: true,
    txid: toDisplayHex(txid),
    vouts,
    amountSats,
    blockHash: toDisplayHex(block.hash),
    confirmations,
    work,
    headerHashes: [block.hash, ...following.chain.headers.map((h) => h.hash)].map(toDisplayHex),
    prevHash: toDisplayHex(block.prevHash)
  }
}

/** The result of {@link compareChains}. */
export type CompareChainsResult =
  | { ok: true, heavier: 'a' | 'b' | 'equal', workA: bigint, workB: bigint }
  | { ok: false, reason: string }

/**
 * Which of two header chains carries more work: the rule for a reorganisation (a heavier
 * conflicting chain replaces the one a payment was confirmed on). Each list must be valid on its
 * own (80-byte headers, each meeting its target within the network's powLimit, each linking to the
 * one before); where they fork is the caller's concern.
 * @param network the network both chains belong to
 * @param a raw headers, hex, chain order
 * @param b raw headers, hex, chain order
 * @returns `heavier` ('a', 'b' or 'equal') with both totals, or the reason a chain is invalid; never throws
 */
export function compareChains (network: BitcoinNetwork, a: readonly string[], b: readonly string[]): CompareChainsResult {
  try {
    const ca = checkHeaderChain(network, a, null, 'chain A header')
    if (!ca.ok) return ca
    const cb = checkHeaderChain(network, b, null, 'chain B header')
    if (!cb.ok) return cb
    const workA = ca.chain.work
    const workB = cb.chain.work
    return { ok: true, heavier: workA > workB ? 'a' : workB > workA ? 'b' : 'equal', workA, workB }
  } catch (err) {
    return fail(`chains could not be compared: ${err instanceof Error ? err.message : 'unknown error'}`)
  }
}

/** What a book kept of a proven payment's chain: enough to judge a later conflicting branch. */
export interface ProvenChain {
  /** the proof's block, display order */
  blockHash: string
  /** the block before it, display order */
  prevHash: string
  /** the work of the proof's block and its following headers */
  work: bigint
}

/** Input to {@link checkReorganisation}. */
export interface ReorganisationInput {
  network: BitcoinNetwork
  proven: ProvenChain
  /**
   * raw headers of the proven chain from the fork point up to the proof's block's parent, hex,
   * chain order (empty when the branch forks right below the proof's block): the part of the old
   * chain the book never saw, which the branch must outweigh too
   */
  ancestors: readonly string[]
  /** raw headers of the conflicting branch, hex, chain order, the first one building on the fork point */
  branch: readonly string[]
}

/**
 * Whether a conflicting header branch reorganises a proven payment out: Bitcoin's rule, the
 * chain with the most work wins (a tie keeps the chain seen first). The branch must fork at or
 * below the proof's block (`ancestors` links the fork point to the block's parent), every header
 * of both lists must meet its own target and link, the branch must not contain the proof's block,
 * and its work must exceed the work of `ancestors` plus the proof's block and following headers.
 *
 * What it cannot know: whether the transaction was mined again on the branch. A reorganised
 * payment is uncounted; if the transaction is in the new chain, it is proven again from there.
 *
 * @param input the network, what the book kept of the proven chain, and the two header lists
 * @returns `{ ok: true, branchWork, provenWork, forkHash }` (provenWork includes the ancestors),
 *   or the reason the branch does not reorganise the payment; never throws
 */
export function checkReorganisation (input: ReorganisationInput): { ok: true, branchWork: bigint, provenWork: bigint, forkHash: string } | Fail {
  try {
    const { network, proven, ancestors, branch } = input
    if (!BITCOIN_NETWORKS.includes(network)) return fail('unknown Bitcoin network')
    if (!Array.isArray(ancestors) || !Array.isArray(branch)) return fail('ancestors and branch must be lists of hex headers')
    if (branch.length === 0) return fail('an empty branch outweighs nothing')
    const old = checkHeaderChain(network, ancestors, null, 'ancestor header')
    if (!old.ok) return old
    const olds = old.chain.headers
    if (olds.length > 0 && toDisplayHex(olds[olds.length - 1].hash) !== proven.prevHash) {
      return fail(`the ancestors do not lead to the proven block: they end at ${toDisplayHex(olds[olds.length - 1].hash)}, the proven block follows ${proven.prevHash}`)
    }
    const forkHash = olds.length > 0 ? toDisplayHex(olds[0].prevHash) : proven.prevHash
    const first = hexToBytesStrict(branch[0], HEADER_BYTES)
    const firstHeader = first !== null && first.length === HEADER_BYTES ? parseHeader(first) : null
    if (firstHeader === null || !firstHeader.ok) return fail('branch header 1 is not an 80-byte header')
    if (toDisplayHex(firstHeader.header.prevHash) !== forkHash) {
      return fail(`the branch does not fork from the proven chain: it builds on ${toDisplayHex(firstHeader.header.prevHash)}, not on ${forkHash}`)
    }
    const b = checkHeaderChain(network, branch, null, 'branch header')
    if (!b.ok) return b
    if (b.chain.headers.some((h) => toDisplayHex(h.hash) === proven.blockHash)) return fail('the branch contains the proven block: it does not conflict with it')
    const provenWork = old.chain.work + proven.work
    if (b.chain.work <= provenWork) return fail(`the branch carries ${b.chain.work} work, not more than the proven chain's ${provenWork}`)
    return { ok: true, branchWork: b.chain.work, provenWork, forkHash }
  } catch (err) {
    return fail(`the branch could not be checked: ${err instanceof Error ? err.message : 'unknown error'}`)
  }
}
