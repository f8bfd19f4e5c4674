/**
 * Anchoring trustline state to Bitcoin: a tamper-evident, dated commitment that a trustline was
 * in a given signed state, checkable by anyone offline from the anchor proof alone.
 *
 *   leaf(line, seq, state)  = SHA-256( 0x00 || "growr/anchor/leaf/v1" 0x00 || JCS({ line, seq, state }) )
 *   node(l, r)              = SHA-256( 0x01 || l || r )
 *   root                    = RFC 9162 (Certificate Transparency v2) section 2.1.1 Merkle Tree Hash
 *                             over the leaves sorted by (line, seq); one trustline: root = its leaf
 *   on chain                = an output `OP_RETURN <47 bytes: "growr-anchor/v1" || root>` of a
 *                             transaction that pays the rest back to the anchoring wallet
 *
 * `state` is the trustline state hash (books/trustline/encoding.ts stateHash) of the head of the
 * chain both parties signed. The leaf and node prefixes (0x00 / 0x01, as RFC 9162) keep an inner
 * node from posing as a leaf. No Merkle library is installed in this project, so the tree is
 * here (about 60 lines), written to RFC 9162's definitions of MTH, PATH and the audit-path check.
 *
 * An anchor proof (version 2) carries the trustline's terms (their hash is the trustline id, and
 * they name both parties), the state JSON, the state before it and the head entry that made it,
 * the inclusion path, and the transaction with its SPV proof (`gettxoutproof` + following headers,
 * as books/proofs/bitcoin-spv.ts). `verifyAnchor` replays the head entry on the previous state with
 * the trustline machine (books/trustline/machine.ts apply: both signatures, by the parties the
 * terms name, and the transition), so the anchored state is exactly the one both parties signed,
 * of exactly the trustline the id names. It checks all of it offline, never throws, and says in
 * plain words why a proof is refused. Refused: a genesis state (nobody signed it: its terms are
 * anyone's to write), and by default a head only its proposer signed (a creditor lowering its own
 * limit), which proves one party's claim only; `allowUnilateral` takes it, marked
 * `countersigned: false`. Version 1 proofs (no terms, no previous state) are refused.
 *
 * What an anchor does not say: that the state is the trustline's latest (a later state may exist;
 * an anchor dates a state, it does not freeze the line), nor that the block is on the heaviest
 * chain beyond the work its headers carry (pass `minWork` on mainnet, as for payment proofs).
 *
 * Posting: {@link buildBitcoinAnchorTx} spends the wallet's BIP-84 coins to the OP_RETURN output
 * and change, with the wallet's own coin selection and BIP-84 keys (core/rails/bitcoin/, core/wallet/).
 * Loads under Bare: no `node:` imports.
 */
import '../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { sha256 } from '@noble/hashes/sha2.js'
import { SigHash, Transaction } from '@scure/btc-signer'
import b4a from 'b4a'
import { canonicalBytes } from '../../books/ops/envelope.ts'
import { domainHash, stateHash as hashOfState, termsId } from '../../books/trustline/encoding.ts'
import { apply as applyEntry, checkTerms, didOf, genesis } from '../../books/trustline/machine.ts'
import type { Entry, Htlc, TrustlineState, TrustlineStatus, TrustlineTerms } from '../../books/trustline/types.ts'
import { isDidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'
import { checkHeaderChain, hexToBytesStrict, MAX_RAW_TX_BYTES, MAX_TXOUTPROOF_BYTES, type BitcoinNetwork } from '../../books/proofs/bitcoin-spv.ts'
import { BITCOIN_NETWORKS, checkProofOfWork, parseHeader, sha256d, toDisplayHex } from '../../books/proofs/bitcoin-header.ts'
import { decodeMerkleBlock, extractMatches } from '../../books/proofs/bip37-partial-merkle-tree.ts'
import { selectCoins } from '../rails/bitcoin/coin-select.ts'
import { RBF_SEQUENCE, selectedUtxo, type SignedTransaction, type WalletUtxo } from '../rails/bitcoin/psbt.ts'
import { derivePrivateKey, type Bip84Account } from '../wallet/bip84.ts'

/** The tag before the root in the OP_RETURN payload (ASCII, 15 bytes). */
export const ANCHOR_TAG = 'growr-anchor/v1'
/** Most leaves in one anchor (bounds the proof's path to 20 hashes). */
export const MAX_ANCHOR_LEAVES = 1 << 20

const HEX64 = /^[0-9a-f]{64}$/
const LEAF_DOMAIN = b4a.from('growr/anchor/leaf/v1\0')

type Fail = { ok: false, reason: string }
const fail = (reason: string): Fail => ({ ok: false, reason })

/** What one leaf commits to: a trustline, the seq of its head and that head's state hash. */
export interface AnchorLeaf { line: string, seq: number, state: string }

/** An RFC 9162 inclusion path: the leaf's index, the tree size and the sibling hashes (hex), leaf upwards. */
export interface InclusionPath { index: number, size: number, path: string[] }

function h (...parts: Uint8Array[]): Uint8Array {
  return sha256(b4a.concat(parts))
}

const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
const bytes = (x: string): Uint8Array => b4a.from(x, 'hex')

/**
 * The leaf hash of one trustline head.
 * @param leaf trustline id (64 hex), seq (integer >= 0), state hash (64 hex)
 * @returns 64 hex
 * @throws GrowrError BAD_ARGUMENT for a malformed leaf
 */
export function leafHash (leaf: AnchorLeaf): string {
  if (!isLeaf(leaf)) throw GrowrError.BAD_ARGUMENT('an anchor leaf is { line: 64 hex, seq: integer >= 0, state: 64 hex }')
  return hex(h(b4a.from([0]), LEAF_DOMAIN, canonicalBytes({ line: leaf.line, seq: leaf.seq, state: leaf.state })))
}

function isLeaf (l: unknown): l is AnchorLeaf {
  const o = l as AnchorLeaf
  return typeof o === 'object' && o !== null && typeof o.line === 'string' && HEX64.test(o.line) && Number.isSafeInteger(o.seq) && o.seq >= 0 && typeof o.state === 'string' && HEX64.test(o.state)
}

function largestPowerOfTwoBelow (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** RFC 9162 MTH over leaf hashes (bytes). */
function mth (leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]
  const k = largestPowerOfTwoBelow(leaves.length)
  return h(b4a.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)))
}

/** RFC 9162 PATH(m, D[n]). */
function auditPath (m: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return []
  const k = largestPowerOfTwoBelow(leaves.length)
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), mth(leaves.slice(0, k))]
}

/**
 * Checks an RFC 9162 (section 2.1.3.2) inclusion path. Never throws.
 * @param leaf the leaf hash, 64 hex
 * @param proof index, size and the sibling hashes
 * @param root the expected root, 64 hex
 * @returns true only when the path leads from the leaf at `index` of a tree of `size` to `root`
 */
export function verifyInclusion (leaf: string, proof: InclusionPath, root: string): boolean {
  try {
    const { index, size, path } = proof
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || size < 1 || index >= size || size > MAX_ANCHOR_LEAVES) return false
    if (!Array.isArray(path) || path.length > 64 || !path.every((p) => typeof p === 'string' && HEX64.test(p))) return false
    if (!HEX64.test(leaf) || !HEX64.test(root)) return false
    let fn = index
    let sn = size - 1
    let r = bytes(leaf)
    for (const p of path) {
      if (sn === 0) return false
      if ((fn & 1) === 1 || fn === sn) {
        r = h(b4a.from([1]), bytes(p), r)
        while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1 }
      } else {
        r = h(b4a.from([1]), r, bytes(p))
      }
      fn >>= 1
      sn >>= 1
    }
    return sn === 0 && hex(r) === root
  } catch {
    return false
  }
}

/** A set of trustline heads committed under one root. */
export interface AnchorBatch {
  v: 1
  /** the Merkle root, 64 hex */
  root: string
  /** the leaves in tree order (sorted by line, then seq) */
  leaves: AnchorLeaf[]
}

/**
 * The Merkle tree over some trustline heads.
 * @param leaves one or more heads; the same (line, seq) twice is refused
 * @returns the batch: root and the leaves in tree order
 * @throws GrowrError BAD_ARGUMENT for no leaves, too many, a malformed or duplicated one
 */
export function anchorBatch (leaves: AnchorLeaf[]): AnchorBatch {
  if (!Array.isArray(leaves) || leaves.length === 0) throw GrowrError.BAD_ARGUMENT('an anchor commits to at least one trustline head')
  if (leaves.length > MAX_ANCHOR_LEAVES) throw GrowrError.BAD_ARGUMENT(`an anchor commits to at most ${MAX_ANCHOR_LEAVES} heads`)
  const sorted = leaves.map((l) => ({ line: l.line, seq: l.seq, state: l.state })).sort((x, y) => x.line < y.line ? -1 : x.line > y.line ? 1 : x.seq - y.seq)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].line === sorted[i - 1].line && sorted[i].seq === sorted[i - 1].seq) throw GrowrError.BAD_ARGUMENT(`trustline ${sorted[i].line} at seq ${sorted[i].seq} is given twice`)
  }
  const hashes = sorted.map((l) => bytes(leafHash(l)))
  return { v: 1, root: hex(mth(hashes)), leaves: sorted }
}

/**
 * The inclusion path of one head in a batch.
 * @throws GrowrError NOT_FOUND when the batch has no such (line, seq)
 */
export function inclusionPath (batch: AnchorBatch, line: string, seq: number): InclusionPath {
  const index = batch.leaves.findIndex((l) => l.line === line && l.seq === seq)
  if (index < 0) throw GrowrError.NOT_FOUND(`the anchor has no head of trustline ${line} at seq ${seq}`)
  const hashes = batch.leaves.map((l) => bytes(leafHash(l)))
  return { index, size: hashes.length, path: auditPath(index, hashes).map(hex) }
}

/**
 * The OP_RETURN output script that anchors a root: `OP_RETURN PUSH47 "growr-anchor/v1" || root`.
 * @param root 64 hex
 * @throws GrowrError BAD_ARGUMENT for a malformed root
 */
export function anchorScript (root: string): Uint8Array {
  if (typeof root !== 'string' || !HEX64.test(root)) throw GrowrError.BAD_ARGUMENT('an anchor root is 64 lowercase hex')
  const payload = b4a.concat([b4a.from(ANCHOR_TAG), bytes(root)])
  // a direct push (opcode = length) for payloads up to 75 bytes: the standard, minimal form
  return b4a.concat([b4a.from([0x6a, payload.length]), payload])
}

/** What a wallet hands {@link buildBitcoinAnchorTx}. */
export interface BitcoinAnchorFunding {
  /** the paying BIP-84 account (its network is the transaction's) */
  account: Bip84Account
  /** the account's spendable coins */
  coins: readonly WalletUtxo[]
  /** an unused index on the account's change chain: the rest of the coins come back there */
  changeIndex: number
  /** sat/vB (bigint), at least 1 */
  feeRate: bigint
}

/**
 * Builds and signs the transaction that anchors `root`: the wallet's coins to one OP_RETURN
 * output (0 sats) and the change back to the wallet (it pays itself; only the fee leaves).
 * @param funding account, coins, change index, fee rate
 * @param root 64 hex (an {@link AnchorBatch} root)
 * @param seed the wallet's BIP-39 seed (64 bytes), only to sign; the caller wipes it
 * @returns the signed transaction (hex, txid, fee in sats, vsize; `psbt` is empty: none is kept)
 * @throws GrowrError BAD_ARGUMENT (malformed root, coins, rate), INSUFFICIENT_FUNDS (the coins
 *   do not cover the fee)
 */
export function buildBitcoinAnchorTx (funding: BitcoinAnchorFunding, root: string, seed: Uint8Array): SignedTransaction {
  const script = anchorScript(root)
  const { account } = funding
  const change = account.change(funding.changeIndex)
  const utxos = funding.coins.map((c) => selectedUtxo(account, c))
  let selection
  try {
    selection = selectCoins({ utxos, outputs: [{ script, amount: 0n }], feeRate: funding.feeRate, changeScript: change.script })
  } catch (err) {
    if (err instanceof GrowrError && err.code === 'BAD_ARGUMENT' && !/insufficient|cover|enough/i.test(err.message)) throw err
    throw GrowrError.INSUFFICIENT_FUNDS(`the wallet's coins do not pay the anchor's fee: ${(err as Error).message}`)
  }
  // built here rather than with psbt.ts psbtFromSelection: @scure/btc-signer refuses an OP_RETURN
  // output unless told to allow "unknown" scripts, and the wallet's PSBT path does not say so
  const tx = new Transaction({ version: 2, lockTime: 0, allowUnknownOutputs: true })
  for (const c of selection.inputs) tx.addInput({ txid: c.txid, index: c.vout, sequence: RBF_SEQUENCE, witnessUtxo: { script: c.script, amount: c.amount } })
  for (const o of selection.outputs) tx.addOutput({ script: o.script, amount: o.amount })
  if (selection.change !== null) tx.addOutput({ script: selection.change.script, amount: selection.change.amount })
  for (let i = 0; i < selection.inputs.length; i++) {
    const c = selection.inputs[i]
    const { privateKey } = derivePrivateKey(seed, account.network, c.chain, c.index, account.account)
    try {
      if (!tx.signIdx(privateKey, i, [SigHash.ALL])) throw GrowrError.BAD_ARGUMENT(`the seed does not hold the key of input ${i} (${c.path})`)
    } finally {
      privateKey.fill(0)
    }
  }
  tx.finalize()
  return { hex: b4a.toString(tx.extract(), 'hex'), txid: tx.id, psbt: '', fee: selection.fee, vsize: tx.vsize }
}

/** The transaction part of an anchor proof (as books/proofs/bitcoin-spv.ts BitcoinPaymentProof). */
export interface AnchorTxProof { rawTx: string, txoutproof: string, headers: string[] }

/** The anchor proof version {@link anchorProof} writes and {@link verifyAnchor} takes. */
export const ANCHOR_PROOF_VERSION = 2

/**
 * An anchor proof: one trustline state, what shows both parties signed it (the terms naming
 * them, the previous state and the head entry, replayed by the verifier), its path to the
 * anchored root, and the Bitcoin transaction carrying the root with its SPV proof.
 */
export interface TrustlineAnchorProof {
  v: 2
  chain: 'bitcoin'
  network: BitcoinNetwork
  /** the trustline's terms: termsId(terms) is the trustline id, terms.a/b its parties */
  terms: TrustlineTerms
  /** the anchored state's JSON form (books/trustline/encoding.ts stateJson), seq >= 1 */
  state: Record<string, unknown>
  /** the state before it (seq - 1), JSON form: the head entry applies to it */
  prev: Record<string, unknown>
  /** the chain entry that made the state: the proposal, its signature and the countersignature */
  head: Entry
  root: string
  inclusion: InclusionPath
  tx: AnchorTxProof
}

/**
 * Puts an anchor proof together, and checks it would replay.
 * @param batch the anchored batch
 * @param signed the trustline's terms, its state (seq >= 1), the head entry that made it, and
 *   the state before (optional at seq 1: the genesis of the terms)
 * @param network the Bitcoin network of the transaction
 * @param tx the transaction and its SPV proof (core/rails/bitcoin/proof-fetcher.ts fetchProof)
 * @throws GrowrError NOT_FOUND when the batch does not hold this state; BAD_ARGUMENT for a
 *   genesis state (nobody signed it), a missing terms, head or previous state, or a head that
 *   does not make this state from the previous one under these terms
 */
export function anchorProof (batch: AnchorBatch, signed: { state: TrustlineState, head?: Entry, terms?: TrustlineTerms, prev?: TrustlineState }, network: BitcoinNetwork, tx: AnchorTxProof): TrustlineAnchorProof {
  const s = signed.state
  const leaf = batch.leaves.find((l) => l.line === s.id && l.seq === s.seq)
  if (!leaf || leaf.state !== hashOfState(s)) throw GrowrError.NOT_FOUND(`the anchor does not hold trustline ${s.id} at seq ${s.seq} in this state`)
  if (s.seq === 0) throw GrowrError.BAD_ARGUMENT('a genesis state is signed by nobody: anchor a state after an update both parties signed')
  if (!signed.terms || !checkTerms(signed.terms).ok || termsId(signed.terms) !== s.id) throw GrowrError.BAD_ARGUMENT('an anchor proof carries the terms of its trustline')
  if (!signed.head) throw GrowrError.BAD_ARGUMENT('a state after genesis is proven signed by its head entry')
  const prev = signed.prev ?? (s.seq === 1 ? genesis(signed.terms) : null)
  if (prev === null) throw GrowrError.BAD_ARGUMENT('an anchor proof carries the state before the anchored one')
  const r = applyEntry(prev, signed.head)
  if (!r.ok || r.hash !== hashOfState(s)) throw GrowrError.BAD_ARGUMENT(`the head entry does not make this state from the previous one${r.ok ? '' : `: ${r.reason}`}`)
  return {
    v: 2,
    chain: 'bitcoin',
    network,
    terms: signed.terms,
    state: stateJsonOf(s),
    prev: stateJsonOf(prev),
    head: signed.head,
    root: batch.root,
    inclusion: inclusionPath(batch, s.id, s.seq),
    tx: { rawTx: tx.rawTx, txoutproof: tx.txoutproof, headers: [...tx.headers] }
  }
}

function stateJsonOf (s: TrustlineState): Record<string, unknown> {
  return {
    v: s.v, id: s.id, a: s.a, b: s.b, asset: s.asset, limitAtoB: s.limitAtoB.toString(), limitBtoA: s.limitBtoA.toString(), balance: s.balance.toString(),
    seq: s.seq, prev: s.prev, update: s.update, time: s.time, status: s.status,
    htlcs: s.htlcs.map((x) => ({ id: x.id, hash: x.hash, amount: x.amount.toString(), from: x.from, expires: x.expires }))
  }
}

/** What {@link verifyAnchor} requires. */
export interface AnchorExpectation {
  network: BitcoinNetwork
  /** the block holding the transaction counts as 1 */
  minConfirmations: number
  /** optional least total work of the block and the following headers (mainnet: pass one) */
  minWork?: bigint
  /**
   * take a head only its proposer signed (a creditor lowering its own limit; the result says
   * `countersigned: false`); default false: such a head is refused, as it proves one party's claim
   */
  allowUnilateral?: boolean
}

/** An anchor proof that holds. */
export interface AnchorAccepted {
  ok: true
  line: string
  seq: number
  /** the anchored state's hash */
  state: string
  /** who signed the state: both parties (a, b) for a countersigned head; the proposer alone for a unilateral one */
  signers: string[]
  /** whether both parties signed the head; false only with `allowUnilateral`: the state is then one party's claim */
  countersigned: boolean
  root: string
  /** display order hex */
  txid: string
  blockHash: string
  /** the block header's time, seconds since 1970 (the miner's claim: the anchor is no later than about this) */
  blockTime: number
  confirmations: number
  work: bigint
}

const STATE_KEYS = ['v', 'id', 'a', 'b', 'asset', 'limitAtoB', 'limitBtoA', 'balance', 'seq', 'prev', 'update', 'time', 'status', 'htlcs']
const HTLC_KEYS = ['id', 'hash', 'amount', 'from', 'expires']
const STATUSES: TrustlineStatus[] = ['unconfirmed', 'open', 'closed']
const UINT_RE = /^(0|[1-9][0-9]{0,19})$/
const INT_RE = /^(0|-?[1-9][0-9]{0,19})$/

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const exactKeys = (o: Obj, keys: string[]): boolean => Object.keys(o).length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(o, k))

/**
 * A state's JSON form read back into a state, or null. It must be the exact form the state hashes
 * as: re-encoding it gives the same hash, so no second spelling of one state gets through.
 */
function stateFromJson (x: unknown): TrustlineState | null {
  if (!isObj(x) || !exactKeys(x, STATE_KEYS)) return null
  if (x.v !== 1 || typeof x.id !== 'string' || !HEX64.test(x.id) || !isDidKey(x.a) || !isDidKey(x.b) || typeof x.asset !== 'string') return null
  if (typeof x.limitAtoB !== 'string' || !UINT_RE.test(x.limitAtoB) || typeof x.limitBtoA !== 'string' || !UINT_RE.test(x.limitBtoA) || typeof x.balance !== 'string' || !INT_RE.test(x.balance)) return null
  if (!Number.isSafeInteger(x.seq) || (x.seq as number) < 0 || !Number.isSafeInteger(x.time) || (x.time as number) < 0) return null
  if (typeof x.prev !== 'string' || !HEX64.test(x.prev) || typeof x.update !== 'string' || !HEX64.test(x.update)) return null
  if (!STATUSES.includes(x.status as TrustlineStatus) || !Array.isArray(x.htlcs) || x.htlcs.length > 64) return null
  const htlcs: Htlc[] = []
  for (const h of x.htlcs) {
    if (!isObj(h) || !exactKeys(h, HTLC_KEYS) || typeof h.id !== 'string' || typeof h.hash !== 'string' || !HEX64.test(h.hash)) return null
    if (typeof h.amount !== 'string' || !UINT_RE.test(h.amount) || (h.from !== 'A' && h.from !== 'B') || !Number.isSafeInteger(h.expires)) return null
    htlcs.push({ id: h.id, hash: h.hash, amount: BigInt(h.amount), from: h.from, expires: h.expires as number })
  }
  const s: TrustlineState = {
    v: 1, id: x.id, a: x.a, b: x.b, asset: x.asset, limitAtoB: BigInt(x.limitAtoB), limitBtoA: BigInt(x.limitBtoA), balance: BigInt(x.balance),
    seq: x.seq as number, prev: x.prev, update: x.update, time: x.time as number, status: x.status as TrustlineStatus, htlcs
  }
  return hashOfState(s) === domainHash('state', x) ? s : null
}

/**
 * Verifies a trustline anchor proof offline: the terms (their hash is the trustline id, they
 * name the parties); the state's and the previous state's exact shape, both of that trustline;
 * the head entry replayed on the previous state by the trustline machine (the proposer's and
 * the countersigner's signatures by the terms' parties, the transition, the resulting state hash
 * both signed), which must give exactly this state; no genesis state, and no head without a
 * countersignature unless `allowUnilateral`; its leaf's path to the root; that the transaction has an
 * OP_RETURN output with exactly `"growr-anchor/v1" || root`; that the transaction is in a block
 * (BIP-37 partial Merkle tree under a header meeting its target) with enough headers on top
 * (and work, when asked).
 * @param proof any value (judged)
 * @param expect network, confirmations, optional work
 * @returns {@link AnchorAccepted} or `{ ok: false, reason }`; never throws
 */
export function verifyAnchor (proof: unknown, expect: AnchorExpectation): AnchorAccepted | Fail {
  try {
    return check(proof, expect)
  } catch (err) {
    return fail(`the anchor proof could not be checked: ${err instanceof Error ? err.message : 'unknown error'}`)
  }
}

function check (proof: unknown, expect: AnchorExpectation): AnchorAccepted | Fail {
  if (!isObj(proof)) return fail('an anchor proof must be an object')
  if (!isObj(expect) || !BITCOIN_NETWORKS.includes(expect.network)) return fail('the expected network must be mainnet, testnet, signet or regtest')
  if (!Number.isSafeInteger(expect.minConfirmations) || expect.minConfirmations < 1) return fail('the required confirmations must be an integer of at least 1')
  if (expect.minWork !== undefined && (typeof expect.minWork !== 'bigint' || expect.minWork < 0n)) return fail('the required work must be a non-negative bigint')
  if (proof.v === 1) return fail('anchor proof version 1 carries no terms and no previous state: refused, ask for a version 2 proof')
  if (proof.v !== ANCHOR_PROOF_VERSION) return fail(`unknown anchor proof version ${String(proof.v).slice(0, 20)}`)
  if (expect.allowUnilateral !== undefined && typeof expect.allowUnilateral !== 'boolean') return fail('allowUnilateral must be a boolean')
  if (proof.chain !== 'bitcoin') return fail('only Bitcoin anchors are checked here')
  if (proof.network !== expect.network) return fail(`the anchor is on ${String(proof.network)}, ${expect.network} was expected`)

  // the trustline: its terms name the id and both parties; nothing below trusts the state's own a/b
  const t = checkTerms(proof.terms)
  if (!t.ok) return fail(`the trustline's terms are refused: ${t.reason}`)
  const terms = t.terms
  const line = termsId(terms)

  // the state, and that it belongs to that trustline
  const s = stateFromJson(proof.state)
  if (s === null) return fail('the state is malformed (missing, unknown or badly written fields)')
  if (s.id !== line) return fail('the state is of another trustline than its terms')
  if (s.a !== terms.a || s.b !== terms.b || s.asset !== terms.asset) return fail('the state names other parties or another asset than its trustline\'s terms')
  const seq = s.seq
  if (seq === 0) return fail('a genesis state is signed by nobody (anyone can write terms): an anchor proves a state after an update both parties signed')
  const state = hashOfState(s)

  // replayed: the head entry, signed by the parties the terms name, makes this state from the one before
  const prev = stateFromJson(proof.prev)
  if (prev === null) return fail('the state before the anchored one is missing or malformed')
  if (prev.id !== line || prev.a !== terms.a || prev.b !== terms.b || prev.asset !== terms.asset || prev.seq !== seq - 1) return fail('the previous state is of another trustline or seq')
  if (seq === 1 && hashOfState(prev) !== hashOfState(genesis(terms))) return fail('the state before seq 1 is not the genesis of the terms')
  const e = proof.head
  if (!isObj(e) || !isObj(e.proposal)) return fail('a state after genesis needs its head entry (the signed update that made it)')
  const applied = applyEntry(prev, e)
  if (!applied.ok) return fail(`the head entry does not replay on the previous state: ${applied.reason}`)
  if (applied.hash !== state) return fail('the head entry did not make this state (another trustline, seq or state hash)')
  const countersigned = e.accept !== undefined
  const proposer = didOf(terms, (e.proposal as Obj).proposer === 'A' ? 'A' : 'B')
  if (!countersigned && expect.allowUnilateral !== true) return fail(`the head entry is signed by ${proposer} alone (a creditor lowering its own limit): it proves one party's claim, not a state both signed`)
  const signers: string[] = countersigned ? [terms.a, terms.b] : [proposer]

  // the path to the root
  if (typeof proof.root !== 'string' || !HEX64.test(proof.root)) return fail('the root must be 64 lowercase hex')
  const root = proof.root
  if (!isObj(proof.inclusion)) return fail('the inclusion path is missing')
  if (!verifyInclusion(leafHash({ line, seq, state }), proof.inclusion as unknown as InclusionPath, root)) return fail('the inclusion path does not lead from this state to the anchored root')

  // the transaction carries the root
  const tx = proof.tx
  if (!isObj(tx) || !Array.isArray(tx.headers)) return fail('the transaction proof is missing')
  const raw = hexToBytesStrict(tx.rawTx, MAX_RAW_TX_BYTES)
  if (raw === null || raw.length === 0) return fail('the raw transaction is not hex (or is too large)')
  let parsed: Transaction
  let stripped: Uint8Array
  try {
    parsed = Transaction.fromRaw(raw, { allowUnknownOutputs: true, allowUnknownInputs: true, allowUnknownVersion: true, disableScriptCheck: true, allowLegacyWitnessUtxo: true })
    stripped = parsed.toBytes(true, false)
  } catch {
    return fail('the raw transaction does not parse as a Bitcoin transaction')
  }
  if (stripped.length === 64) return fail('the transaction is 64 bytes without witness, a size an inner Merkle node can pose as: refused')
  const want = hex(anchorScript(root))
  let carries = false
  for (let i = 0; i < parsed.outputsLength; i++) {
    const o = parsed.getOutput(i)
    if (o.script !== undefined && hex(o.script) === want) carries = true
  }
  if (!carries) return fail('no OP_RETURN output of the transaction carries "growr-anchor/v1" and this root')
  const txid = sha256d(stripped)

  // the transaction is in a block under enough work
  const proofBytes = hexToBytesStrict(tx.txoutproof, MAX_TXOUTPROOF_BYTES)
  if (proofBytes === null) return fail('the txoutproof is not hex (or is too large)')
  const mb = decodeMerkleBlock(proofBytes)
  if (!mb.ok) return fail(`the txoutproof is malformed: ${mb.reason}`)
  const header = parseHeader(mb.block.header)
  if (!header.ok) return fail(`the txoutproof's header is malformed: ${header.reason}`)
  const pow = checkProofOfWork(header.header, expect.network)
  if (!pow.ok) return fail(`the proof's block ${pow.reason.replace(/^header /, '')}`)
  const tree = extractMatches(mb.block.totalTransactions, mb.block.hashes, mb.block.flags)
  if (!tree.ok) return fail(`the txoutproof is malformed: ${tree.reason}`)
  if (!b4a.equals(tree.tree.root, header.header.merkleRoot)) return fail('the txoutproof\'s Merkle tree does not hash to the block header\'s Merkle root')
  if (!tree.tree.matches.some((m) => b4a.equals(m, txid))) return fail(`the txoutproof does not prove the anchor transaction ${toDisplayHex(txid)}`)
  const following = checkHeaderChain(expect.network, tx.headers, header.header.hash, 'following header')
  if (!following.ok) return following
  const confirmations = 1 + following.chain.headers.length
  if (confirmations < expect.minConfirmations) return fail(`too few confirmations: ${confirmations}, at least ${expect.minConfirmations} required`)
  const work = pow.work + following.chain.work
  if (expect.minWork !== undefined && work < expect.minWork) return fail(`the block and its headers carry ${work} work, less than the ${expect.minWork} required`)

  return { ok: true, line, seq, state, signers, countersigned, root, txid: toDisplayHex(txid), blockHash: toDisplayHex(header.header.hash), blockTime: header.header.time, confirmations, work }
}
