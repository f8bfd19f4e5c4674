/**
 * Fetches a Rootstock payment proof from the node's EVM backend once the payment's block is deep
 * enough: what the payer records with the proof op, and what books/proofs/rootstock-receipt.ts
 * (`verifyRootstockPayment`) checks inside apply.
 *
 * For the block holding the transaction it gets the block with its full transactions
 * (`eth_getBlockByHash`) and every receipt (`eth_getBlockReceipts`, or `eth_getTransactionReceipt`
 * per transaction on nodes without it), rebuilds the header's RLP, the raw transactions and the
 * receipts as the tries hold them (yellow paper 4.3.1: `rlp([status, cumulativeGasUsed,
 * logsBloom, logs])`, typed ones prefixed by their type byte), builds both tries with
 * @ethereumjs/mpt and requires their roots, and the header's hash, to equal what the node
 * reports: a node that lies about any of them is caught here, before a proof is recorded.
 * Then it takes the two Merkle proofs at `rlp(transactionIndex)`.
 *
 * It waits by polling (every `pollMs`, until `timeoutMs`, GrowrError TIMEOUT saying how far it
 * got), and starts over when the chain reorganised meanwhile (the block is no longer the one at
 * its height). Time is injected (`now`, `sleep`) as in core/rails/bitcoin/proof-fetcher.ts.
 *
 * Only for EVM nodes with Ethereum's hexary tries (anvil, geth-like): rskj computes its roots with
 * its own trie (see books/proofs/rootstock-receipt.ts), and the roots check here then fails with
 * BACKEND_ERROR rather than producing a proof apply would refuse.
 * No `node:` imports: loads under Bare (with a fetch given to the {@link EvmRpc}).
 */
import '../../runtime/text-encoding.ts' // before @noble/@ethereumjs: Bare has no TextEncoder global
import { RLP } from '@ethereumjs/rlp'
import { createMPT, createMerkleProof } from '@ethereumjs/mpt'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { GrowrError } from '../../errors.ts'
import { bytesToHexPlain, evmHexToBytes, equalBytes, rlpIndexKey } from '../../../books/proofs/evm-tx.ts'
import type { RootstockPaymentProof } from '../../../books/proofs/rootstock-receipt.ts'
import { type EvmRpc, type EvmBlockInfo, type EvmReceiptInfo, type EvmTransactionInfo, EvmRpcError, isMethodNotFound } from './rpc.ts'

/** The calls {@link fetchRootstockProof} makes: an {@link EvmRpc}, or anything with the same methods. */
export type RootstockProofRpc = Pick<EvmRpc, 'getTransactionReceipt' | 'getTransactionByHash' | 'blockNumber' | 'getBlockByHash' | 'getBlockByNumber' | 'getBlockReceipts' | 'call'>

/** How far a payment has got, reported on each poll. */
export type RootstockProofProgress =
  | { state: 'unseen', txHash: string }
  | { state: 'pending', txHash: string }
  | { state: 'confirming', txHash: string, blockHash: string, height: number, confirmations: number, required: number }
  | { state: 'reorganised', txHash: string, blockHash: string, height: number }

/** Options of {@link fetchRootstockProof}. */
export interface FetchRootstockProofOptions {
  /** the transaction's block counts as 1 (default 1) */
  confirmations?: number
  /** how long to wait in all, in milliseconds of `now` */
  timeoutMs: number
  /** how long to sleep between polls, in milliseconds */
  pollMs: number
  /** the clock, in milliseconds; Date.now by default */
  now?: () => number
  /** waits `ms` milliseconds; a timer by default. A rejection ends the wait with that error. */
  sleep?: (ms: number) => Promise<void>
  /** called after each poll that did not finish */
  onProgress?: (progress: RootstockProofProgress) => void
}

/** A proof {@link fetchRootstockProof} gathered, plus where it was found. */
export interface FetchedRootstockProof extends RootstockPaymentProof {
  /** keccak-256 of the header, 0x + 64 lowercase hex */
  blockHash: string
  blockNumber: number
  /** the receipt's status as the node reported it: 1 success, 0 reverted (the proof still holds the truth; apply refuses 0) */
  status: 0 | 1
}

type Attempt = { done: true, proof: FetchedRootstockProof } | { done: false, progress: RootstockProofProgress }

/**
 * Waits until `txHash` has `confirmations` blocks on the backend's best chain (its own included),
 * then returns its proof, consistent with one chain.
 * @param rpc the backend ({@link EvmRpc})
 * @param txHash 0x + 64 hex
 * @param options confirmations, timeout, poll interval, injected time ({@link FetchRootstockProofOptions})
 * @returns the proof: raw tx, receipt, header, index and the two trie proofs (all 0x hex), its block hash and number
 * @throws GrowrError TIMEOUT when `timeoutMs` passes first; BAD_ARGUMENT for bad options; BACKEND_ERROR when the node's
 *   block, transactions or receipts do not hash to the roots and hash it reports; BACKEND_UNREACHABLE; whatever `sleep` rejects with
 */
export async function fetchRootstockProof (rpc: RootstockProofRpc, txHash: string, options: FetchRootstockProofOptions): Promise<FetchedRootstockProof> {
  const { timeoutMs, pollMs, onProgress } = options
  const confirmations = options.confirmations ?? 1
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? defaultSleep
  if (typeof txHash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(txHash)) throw GrowrError.BAD_ARGUMENT('txHash must be 0x and 64 hex digits')
  const hash = txHash.toLowerCase()
  if (!Number.isSafeInteger(confirmations) || confirmations < 1 || confirmations > 100_000) throw GrowrError.BAD_ARGUMENT('confirmations must be an integer from 1 to 100000')
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0) throw GrowrError.BAD_ARGUMENT('timeoutMs must be a non-negative integer of milliseconds')
  if (!Number.isSafeInteger(pollMs) || pollMs <= 0) throw GrowrError.BAD_ARGUMENT('pollMs must be a positive integer of milliseconds')

  const deadline = now() + timeoutMs
  for (;;) {
    const step = await attempt(rpc, hash, confirmations)
    if (step.done) return step.proof
    onProgress?.(step.progress)
    const left = deadline - now()
    if (left <= 0) throw GrowrError.TIMEOUT(`no proof of ${hash} with ${confirmations} confirmations within ${timeoutMs} ms: ${describe(step.progress)}`)
    await sleep(Math.min(pollMs, left))
  }
}

async function attempt (rpc: RootstockProofRpc, txHash: string, required: number): Promise<Attempt> {
  const receipt = await rpc.getTransactionReceipt(txHash)
  if (receipt === null) {
    const tx = await rpc.getTransactionByHash(txHash)
    return { done: false, progress: { state: tx === null ? 'unseen' : 'pending', txHash } }
  }
  const blockHash = receipt.blockHash.toLowerCase()
  const height = quantityNumber(receipt.blockNumber, 'eth_getTransactionReceipt', 'blockNumber')
  const reorganised: Attempt = { done: false, progress: { state: 'reorganised', txHash, blockHash, height } }
  const tip = await rpc.blockNumber()
  const have = tip - height + 1
  if (have < required) return { done: false, progress: { state: 'confirming', txHash, blockHash, height, confirmations: Math.max(have, 0), required } }

  const block = await rpc.getBlockByHash(blockHash)
  if (block === null) return reorganised
  const header = encodeHeader(block)
  const txs = await Promise.all(block.transactions.map(async (tx) => await rawTransaction(rpc, tx)))
  const index = block.transactions.findIndex((tx) => tx.hash.toLowerCase() === txHash)
  if (index < 0) return reorganised // the receipt named a block that does not hold the transaction: it moved
  const receipts = await blockReceipts(rpc, block)
  const encoded = receipts.map(encodeReceipt)

  const txTrie = await buildTrie(txs)
  const receiptTrie = await buildTrie(encoded)
  if (!equalBytes(txTrie.root(), hex(block.transactionsRoot, 'transactionsRoot'))) throw bad('eth_getBlockByHash', `transactions that do not hash to the block's transactionsRoot ${block.transactionsRoot}`)
  if (!equalBytes(receiptTrie.root(), hex(block.receiptsRoot, 'receiptsRoot'))) throw bad('eth_getBlockReceipts', `receipts that do not hash to the block's receiptsRoot ${block.receiptsRoot}`)
  const key = rlpIndexKey(index)
  const txProof = (await createMerkleProof(txTrie, key)).map(to0x)
  const receiptProof = (await createMerkleProof(receiptTrie, key)).map(to0x)

  // the chain may have moved while we read: the block must still be the one at its height
  const canonical = await rpc.getBlockByNumber(height)
  if (canonical === null || canonical.hash.toLowerCase() !== blockHash) return reorganised
  const status = receipts[index].status
  return {
    done: true,
    proof: {
      rawTx: to0x(txs[index]),
      receipt: to0x(encoded[index]),
      header: to0x(header),
      txIndex: index,
      txProof,
      receiptProof,
      blockHash,
      blockNumber: height,
      status: status === '0x1' || status === '0x01' ? 1 : 0
    }
  }
}

/** The header fields in RLP order: Berlin's 15 (yellow paper 4.3), then those later forks append when the node reports them. */
const HEADER_FIELDS: ReadonlyArray<[string, 'hash' | 'address' | 'bytes' | 'quantity']> = [
  ['parentHash', 'hash'], ['sha3Uncles', 'hash'], ['miner', 'address'], ['stateRoot', 'hash'], ['transactionsRoot', 'hash'],
  ['receiptsRoot', 'hash'], ['logsBloom', 'bytes'], ['difficulty', 'quantity'], ['number', 'quantity'], ['gasLimit', 'quantity'],
  ['gasUsed', 'quantity'], ['timestamp', 'quantity'], ['extraData', 'bytes'], ['mixHash', 'hash'], ['nonce', 'bytes']
]
const LATER_FIELDS: ReadonlyArray<[string, 'hash' | 'quantity']> = [
  ['baseFeePerGas', 'quantity'], // London (EIP-1559)
  ['withdrawalsRoot', 'hash'], // Shanghai (EIP-4895)
  ['blobGasUsed', 'quantity'], ['excessBlobGas', 'quantity'], ['parentBeaconBlockRoot', 'hash'], // Cancun (EIP-4844, EIP-4788)
  ['requestsHash', 'hash'] // Prague (EIP-7685)
]

/**
 * The RLP header of a block as the node reported it. Each later fork appends its fields in a
 * fixed order and a header has a prefix of them; so the longest prefix the node reported is
 * tried first, then shorter ones (anvil reports Cancun's blob fields for a Berlin genesis), and
 * the one that hashes to the block's hash is the header.
 * @throws GrowrError BACKEND_ERROR when no encoding hashes to the block hash the node reports
 */
export function encodeHeader (block: EvmBlockInfo): Uint8Array {
  const base = HEADER_FIELDS.map(([name, kind]) => field(block, name, kind))
  let present = 0
  while (present < LATER_FIELDS.length && block[LATER_FIELDS[present][0]] !== undefined && block[LATER_FIELDS[present][0]] !== null) present++
  const want = hex(block.hash, 'hash')
  for (let n = present; n >= 0; n--) {
    const extra = LATER_FIELDS.slice(0, n).map(([name, kind]) => field(block, name, kind))
    const encoded = RLP.encode([...base, ...extra])
    if (equalBytes(keccak_256(encoded), want)) return encoded
  }
  throw bad('eth_getBlockByHash', `a header whose fields do not hash to its block hash ${block.hash}`)
}

/**
 * The raw bytes of a transaction: rebuilt from its fields for a legacy one, asked for
 * (`eth_getRawTransactionByHash`) for a typed one; either way they must hash to its hash.
 */
async function rawTransaction (rpc: RootstockProofRpc, tx: EvmTransactionInfo): Promise<Uint8Array> {
  const type = tx.type === undefined ? 0 : Number(BigInt(tx.type))
  let raw: Uint8Array
  if (type === 0) {
    raw = RLP.encode([
      quantityBytes(tx.nonce, 'nonce'), quantityBytes(tx.gasPrice ?? '', 'gasPrice'), quantityBytes(tx.gas, 'gas'),
      tx.to === null ? new Uint8Array(0) : hex(tx.to, 'to'), quantityBytes(tx.value, 'value'), hex(tx.input, 'input'),
      quantityBytes(tx.v, 'v'), quantityBytes(tx.r, 'r'), quantityBytes(tx.s, 's')
    ])
  } else {
    const r = await rpc.call<unknown>('eth_getRawTransactionByHash', [tx.hash])
    const bytes = evmHexToBytes(r, 1 << 20)
    if (bytes === null) throw bad('eth_getRawTransactionByHash', 'something that is not a raw transaction')
    raw = bytes
  }
  if (!equalBytes(keccak_256(raw), hex(tx.hash, 'hash'))) throw bad('eth_getBlockByHash', `transaction fields that do not hash to ${tx.hash}`)
  return raw
}

async function blockReceipts (rpc: RootstockProofRpc, block: EvmBlockInfo): Promise<EvmReceiptInfo[]> {
  let receipts: EvmReceiptInfo[] | null = null
  try {
    receipts = await rpc.getBlockReceipts(block.hash)
  } catch (err) {
    if (!isMethodNotFound(err)) throw err
  }
  if (receipts === null) {
    receipts = []
    for (const tx of block.transactions) {
      const r = await rpc.getTransactionReceipt(tx.hash)
      if (r === null) throw bad('eth_getTransactionReceipt', `no receipt for ${tx.hash} of block ${block.hash}`)
      receipts.push(r)
    }
  }
  if (receipts.length !== block.transactions.length) throw bad('eth_getBlockReceipts', `${receipts.length} receipts for a block of ${block.transactions.length} transactions`)
  for (const [i, r] of receipts.entries()) {
    if (r.transactionHash.toLowerCase() !== block.transactions[i].hash.toLowerCase() || r.blockHash.toLowerCase() !== block.hash.toLowerCase()) {
      throw bad('eth_getBlockReceipts', `receipt ${i} that is not for transaction ${i} of block ${block.hash}`)
    }
  }
  return receipts
}

/**
 * A receipt as the receipt trie holds it: `rlp([status, cumulativeGasUsed, logsBloom, logs])`
 * (EIP-658 status: empty for 0, 0x01 for 1), prefixed by its type byte for a typed transaction
 * (EIP-2718).
 * @throws GrowrError BACKEND_ERROR for fields that are not what a receipt holds
 */
export function encodeReceipt (r: EvmReceiptInfo): Uint8Array {
  const status = BigInt(r.status === '0x' ? '0x0' : r.status)
  if (status !== 0n && status !== 1n) throw bad('eth_getTransactionReceipt', `a receipt status ${r.status}`)
  const body = RLP.encode([
    status === 1n ? Uint8Array.of(1) : new Uint8Array(0),
    quantityBytes(r.cumulativeGasUsed, 'cumulativeGasUsed'),
    hex(r.logsBloom, 'logsBloom'),
    r.logs.map((log) => [hex(log.address, 'log address'), log.topics.map((t) => hex(t, 'log topic')), hex(log.data, 'log data')])
  ])
  const type = r.type === undefined ? 0 : Number(BigInt(r.type))
  if (type === 0) return body
  if (type > 0x7f) throw bad('eth_getTransactionReceipt', `a receipt of type ${r.type}`)
  const out = new Uint8Array(body.length + 1)
  out[0] = type
  out.set(body, 1)
  return out
}

async function buildTrie (values: Uint8Array[]): Promise<Awaited<ReturnType<typeof createMPT>>> {
  const trie = await createMPT()
  for (const [i, v] of values.entries()) await trie.put(rlpIndexKey(i), v)
  return trie
}

function field (block: EvmBlockInfo, name: string, kind: 'hash' | 'address' | 'bytes' | 'quantity'): Uint8Array {
  const v = block[name]
  if (typeof v !== 'string') throw bad('eth_getBlockByHash', `a block without ${name}`)
  if (kind === 'quantity') return quantityBytes(v, name)
  const bytes = hex(v, name)
  if ((kind === 'hash' && bytes.length !== 32) || (kind === 'address' && bytes.length !== 20)) throw bad('eth_getBlockByHash', `a ${name} of ${bytes.length} bytes`)
  return bytes
}

function hex (v: unknown, what: string): Uint8Array {
  const bytes = typeof v === 'string' && v.startsWith('0x') ? evmHexToBytes(v, 1 << 20) : null
  if (bytes === null) throw bad('eth_getBlockByHash', `a ${what} that is not 0x hex`)
  return bytes
}

function quantityBytes (v: string, what: string): Uint8Array {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) throw bad('eth_getBlockByHash', `a ${what} that is not a hex quantity`)
  const n = BigInt(v)
  if (n === 0n) return new Uint8Array(0)
  let h = n.toString(16)
  if (h.length % 2) h = '0' + h
  return evmHexToBytes(h, 64) as Uint8Array
}

function quantityNumber (v: string, method: string, what: string): number {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,14}$/.test(v)) throw bad(method, `a ${what} that is not a hex quantity`)
  const n = Number(BigInt(v))
  if (!Number.isSafeInteger(n)) throw bad(method, `a ${what} beyond 2^53`)
  return n
}

function to0x (b: Uint8Array): string {
  return '0x' + bytesToHexPlain(b)
}

function bad (method: string, what: string): EvmRpcError {
  return new EvmRpcError(method, `the Rootstock backend answered ${method} with ${what}`, null, 200)
}

function describe (p: RootstockProofProgress): string {
  switch (p.state) {
    case 'unseen': return 'the backend does not know the transaction'
    case 'pending': return 'the transaction is still waiting in the backend\'s pool'
    case 'confirming': return `block ${p.blockHash} (height ${p.height}) has ${p.confirmations} of ${p.required} confirmations`
    case 'reorganised': return `block ${p.blockHash} (height ${p.height}) left the best chain`
  }
}

function defaultSleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
