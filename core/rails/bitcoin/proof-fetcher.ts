/**
 * Fetches a Bitcoin payment proof from the node's backend once the payment is deep enough: what
 * the payee's node records with the confirmation op, and what books/proofs/bitcoin-spv.ts
 * (`verifyBitcoinPayment`) checks inside apply. A proof is the raw transaction
 * (`getrawtransaction`), its inclusion proof (`gettxoutproof` of the block holding it) and the raw
 * 80-byte headers of the `confirmations - 1` blocks after that block (`getblockheader <hash> false`).
 *
 * It waits by polling: the backend is asked again every `pollMs` until the transaction's block
 * has the confirmations, or `timeoutMs` runs out (GrowrError TIMEOUT, saying how far it got).
 * The chain can reorganise between two calls, so what it gathered must still be one chain at the
 * end: the proof's header is the block the index named, each header links to the one before, and
 * the last one is still on the node's best chain at its height. If not, it starts over (the
 * transaction may sit in another block now, or back in the mempool).
 *
 * The backend needs a transaction index (bitcoind `-txindex`, bcoin `--index-tx`). Time is
 * injected (`now`, `sleep`) so tests and a watcher with a lifecycle control it: a watcher that
 * closes makes its `sleep` reject, and the wait ends with that rejection.
 * No `node:` imports: loads under Bare (with a fetch given to the {@link BitcoinRpc}).
 */
import { GrowrError } from '../../errors.ts'
import { type BitcoinRpc, isNotFound } from './rpc.ts'
import { parseHeader, toDisplayHex } from '../../../books/proofs/bitcoin-header.ts'
import { hexToBytesStrict, MAX_PROOF_HEADERS } from '../../../books/proofs/bitcoin-spv.ts'
import type { BitcoinProof } from '../../../books/ops/types.ts'

/** The calls {@link fetchProof} makes: a {@link BitcoinRpc}, or anything with the same methods. */
export type ProofRpc = Pick<BitcoinRpc, 'getRawTransaction' | 'getBlockHeader' | 'getBlockCount' | 'getBlockHash' | 'getTxOutProof'>

/** How far a payment has got, reported on each poll. */
export type ProofProgress =
  | { state: 'unseen', txid: string }
  | { state: 'mempool', txid: string }
  | { state: 'confirming', txid: string, blockHash: string, height: number, confirmations: number, required: number }
  | { state: 'reorganised', txid: string, blockHash: string, height: number }

/** Options of {@link fetchProof}. */
export interface FetchProofOptions {
  /** the book's required confirmations: the transaction's block counts as 1 (1 to 2017) */
  confirmations: number
  /** how long to wait in all, in milliseconds of `now` */
  timeoutMs: number
  /** how long to sleep between polls, in milliseconds */
  pollMs: number
  /** the clock, in milliseconds; Date.now by default */
  now?: () => number
  /** waits `ms` milliseconds; a timer by default. A rejection ends the wait with that error. */
  sleep?: (ms: number) => Promise<void>
  /** called after each poll that did not finish, with how far the payment has got (for "confirmations as they arrive") */
  onProgress?: (progress: ProofProgress) => void
}

/** A proof {@link fetchProof} gathered: the op's {@link BitcoinProof} plus where it was found. */
export interface FetchedBitcoinProof extends BitcoinProof {
  /** the block holding the transaction, display order hex */
  blockHash: string
  /** that block's height */
  height: number
}

type Attempt = { done: true, proof: FetchedBitcoinProof } | { done: false, progress: ProofProgress }

/**
 * Waits until `txid` has `confirmations` confirmations on the backend's best chain, then returns
 * its SPV proof, consistent with one chain (started over when the chain reorganised meanwhile).
 * @param rpc the backend ({@link BitcoinRpc})
 * @param txid the payment's transaction, display order hex
 * @param options confirmations, timeout, poll interval and injected time ({@link FetchProofOptions})
 * @returns `{ rawTx, txoutproof, headers, blockHash, height }`: `headers` are the confirmations - 1 raw headers after the block, in chain order
 * @throws GrowrError TIMEOUT when `timeoutMs` passes first (the message says how far the payment got); BAD_ARGUMENT for bad options;
 *   BACKEND_UNREACHABLE and BACKEND_ERROR from the backend, except "transaction not found" (keeps waiting) and errors caused by a reorganisation (starts over);
 *   whatever `sleep` rejects with
 */
export async function fetchProof (rpc: ProofRpc, txid: string, options: FetchProofOptions): Promise<FetchedBitcoinProof> {
  const { confirmations, timeoutMs, pollMs, onProgress } = options
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? defaultSleep
  if (typeof txid !== 'string' || !/^[0-9a-f]{64}$/.test(txid)) throw GrowrError.BAD_ARGUMENT('txid must be 64 lowercase hex characters')
  if (!Number.isSafeInteger(confirmations) || confirmations < 1 || confirmations > MAX_PROOF_HEADERS + 1) {
    throw GrowrError.BAD_ARGUMENT(`confirmations must be an integer from 1 to ${MAX_PROOF_HEADERS + 1}`)
  }
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0) throw GrowrError.BAD_ARGUMENT('timeoutMs must be a non-negative integer of milliseconds')
  if (!Number.isSafeInteger(pollMs) || pollMs <= 0) throw GrowrError.BAD_ARGUMENT('pollMs must be a positive integer of milliseconds')

  const deadline = now() + timeoutMs
  for (;;) {
    const step = await attempt(rpc, txid, confirmations)
    if (step.done) return step.proof
    onProgress?.(step.progress)
    const left = deadline - now()
    if (left <= 0) throw GrowrError.TIMEOUT(`no proof of ${txid} with ${confirmations} confirmations within ${timeoutMs} ms: ${describe(step.progress)}`)
    await sleep(Math.min(pollMs, left))
  }
}

async function attempt (rpc: ProofRpc, txid: string, required: number): Promise<Attempt> {
  let info
  try {
    info = await rpc.getRawTransaction(txid, true)
  } catch (err) {
    if (isNotFound(err)) return { done: false, progress: { state: 'unseen', txid } }
    throw err
  }
  const blockHash = info.blockhash
  if (typeof blockHash !== 'string' || blockHash === '') return { done: false, progress: { state: 'mempool', txid } }
  const block = await rpc.getBlockHeader(blockHash, true)
  const height = block.height
  const reorganised: Attempt = { done: false, progress: { state: 'reorganised', txid, blockHash, height } }
  if (block.confirmations < 1) return reorganised // bitcoind: -1 for a block off the best chain
  const tip = await rpc.getBlockCount()
  const have = tip - height + 1
  if (have < required) {
    return { done: false, progress: { state: 'confirming', txid, blockHash, height, confirmations: Math.max(have, 0), required } }
  }

  try {
    const rawTx = await rpc.getRawTransaction(txid)
    const txoutproof = await rpc.getTxOutProof([txid], blockHash)
    const hashes: string[] = []
    const headers: string[] = []
    for (let i = 1; i < required; i++) {
      const hash = await rpc.getBlockHash(height + i)
      hashes.push(hash)
      headers.push(await rpc.getBlockHeader(hash))
    }
    if (!chainHolds(blockHash, txoutproof, hashes, headers)) return reorganised
    // the last block gathered is still on the best chain at its height: then, linked, so is every one before it
    const lastHeight = height + required - 1
    const last = required === 1 ? blockHash : hashes[hashes.length - 1]
    if (await rpc.getBlockHash(lastHeight) !== last) return reorganised
    return { done: true, proof: { rawTx, txoutproof, headers, blockHash, height } }
  } catch (err) {
    // a call failing because the chain moved (a block or height gone) means start over; anything else is the backend's error
    if (!(err instanceof GrowrError) || err.code !== 'BACKEND_ERROR') throw err
    let still: string | null = null
    try { still = await rpc.getBlockHash(height) } catch (again) {
      if (!(again instanceof GrowrError) || again.code !== 'BACKEND_ERROR') throw again
    }
    if (still !== blockHash) return reorganised
    throw err
  }
}

/**
 * Whether what was gathered is one chain: the proof's 80-byte header is the block the index
 * named, each following header is the block asked for and names the one before it.
 */
function chainHolds (blockHash: string, txoutproof: string, hashes: string[], headers: string[]): boolean {
  const proofHeader = hexToBytesStrict(txoutproof.slice(0, 160), 80)
  if (proofHeader === null) return false
  const first = parseHeader(proofHeader)
  if (!first.ok || toDisplayHex(first.header.hash) !== blockHash) return false
  let prev = blockHash
  for (let i = 0; i < headers.length; i++) {
    const bytes = hexToBytesStrict(headers[i], 80)
    if (bytes === null) return false
    const h = parseHeader(bytes)
    if (!h.ok || toDisplayHex(h.header.hash) !== hashes[i] || toDisplayHex(h.header.prevHash) !== prev) return false
    prev = hashes[i]
  }
  return true
}

function describe (p: ProofProgress): string {
  switch (p.state) {
    case 'unseen': return 'the backend does not know the transaction'
    case 'mempool': return 'the transaction is in the mempool, in no block yet'
    case 'confirming': return `the transaction has ${p.confirmations} of ${p.required} confirmations (block ${p.blockHash} at height ${p.height})`
    case 'reorganised': return `the backend's answers around block ${p.blockHash} at height ${p.height} did not form one chain (it reorganised meanwhile)`
  }
}

async function defaultSleep (ms: number): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, ms))
}
