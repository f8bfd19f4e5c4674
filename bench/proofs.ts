/**
 * Benchmark 7, payment proofs: Bitcoin SPV proofs checked per second as apply checks them
 * (books/proofs/bitcoin-spv.ts: parse the transaction, the gettxoutproof's partial Merkle tree,
 * the block header and 5 following headers, proof of work, links, the output to the address).
 * The proof is real: a payment on a bcoin regtest chain started here. Baseline: the SHA-256d
 * hashing such a proof needs and nothing else (the txid, the Merkle path, 6 header hashes),
 * with @noble/hashes, the library the check uses.
 *
 * And Rootstock receipt proofs (books/proofs/rootstock-receipt.ts: header RLP and hash, the
 * transactions-trie and receipts-trie proofs through @ethereumjs/mpt, the transaction's RLP and
 * EIP-155 signature recovery, the receipt's status and ERC-20 Transfer log): a real ERC-20
 * payment on an anvil chain (chain id 33, Berlin) started here, paid and proven by the rail's own
 * code. Baseline: keccak-256 over the same bytes alone (the header, the raw transaction, every
 * node of both proofs), with @noble/hashes, the library the check uses.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { hexToBytes } from '@noble/hashes/utils.js'
import { verifyBitcoinPayment, type BitcoinSpvInput } from '../books/proofs/bitcoin-spv.ts'
import { verifyRootstockPayment, type RootstockPaymentInput } from '../books/proofs/rootstock-receipt.ts'
import { broadcast, startBcoin, signSpend, testKey } from '../test/helpers/bcoin.ts'
import { rootstockScenario } from '../test/helpers/anvil.ts'
import { now, result, type BenchResult } from './lib/util.ts'

/** Runs the proof benchmark with `n` checks of each kind. */
export async function benchProofs (n: number): Promise<BenchResult[]> {
  const closers: Array<() => unknown> = []
  try {
    const input = await realProof({ teardown: (fn) => { closers.push(fn) } })
    const check = verifyBitcoinPayment(input)
    if (!check.ok) throw new Error(`proofs: the benchmark's own proof does not hold: ${check.reason}`)
    const growr = rate(n, () => { if (!verifyBitcoinPayment(input).ok) throw new Error('proof failed') })
    // exactly the hashing: txid, the Merkle nodes of a 2-transaction block, 6 header hashes
    const tx = hexToBytes(input.rawTx)
    const headers = [hexToBytes(input.txoutproof).subarray(0, 80), ...input.headers.map((h) => hexToBytes(h))]
    const pair = new Uint8Array(64)
    const raw = rate(n, () => {
      sha256(sha256(tx))
      sha256(sha256(pair))
      for (const h of headers) sha256(sha256(h))
    })
    const bitcoin = result('bitcoin payment proof (6 headers)', n, growr, 'proofs/s', raw,
      'a real regtest payment proof: tx, gettxoutproof and 5 following headers, checked as apply checks it; baseline the SHA-256d hashing it needs (txid, Merkle node, 6 headers) alone', 'hash sets/s')
    return [bitcoin, await benchRootstock(n, (fn) => { closers.push(fn) })]
  } finally {
    for (const close of closers.reverse()) await close()
  }
}

/** Rootstock ERC-20 receipt proofs per second against keccak-256 of the same bytes. */
async function benchRootstock (n: number, teardown: (fn: () => unknown) => void): Promise<BenchResult> {
  const s = await rootstockScenario({ teardown })
  const p = s.erc20
  const input: RootstockPaymentInput = {
    rawTx: p.rawTx, receipt: p.receipt, header: p.header, txIndex: p.txIndex, txProof: p.txProof, receiptProof: p.receiptProof,
    expect: { chainId: s.anvil.chainId, to: s.payee, minAmount: s.tokenUnits, token: s.token, blockHash: p.blockHash }
  }
  const check = await verifyRootstockPayment(input)
  if (!check.ok) throw new Error(`proofs: the benchmark's own Rootstock proof does not hold: ${check.reason}`)
  for (let i = 0; i < Math.ceil(n / 10); i++) await verifyRootstockPayment(input)
  const t0 = now()
  for (let i = 0; i < n; i++) if (!(await verifyRootstockPayment(input)).ok) throw new Error('proof failed')
  const growr = n / (now() - t0) * 1000
  const blobs = [p.header, p.rawTx, ...p.txProof, ...p.receiptProof].map((h) => hexToBytes(h.slice(2)))
  const raw = rate(n, () => { for (const b of blobs) keccak_256(b) })
  const size = blobs.reduce((sum, b) => sum + b.length, 0)
  return result('rootstock ERC-20 receipt proof', n, growr, 'proofs/s', raw,
    `a real anvil ERC-20 payment proof: header, tx and receipt with their trie proofs (${blobs.length} blobs, ${size} bytes), checked as apply checks it; baseline keccak-256 of those bytes alone`, 'hash sets/s')
}

function rate (n: number, fn: () => void): number {
  for (let i = 0; i < Math.ceil(n / 10); i++) fn()
  const t0 = now()
  for (let i = 0; i < n; i++) fn()
  return n / (now() - t0) * 1000
}

/** A payment on a fresh regtest chain, buried under 5 blocks, as a proof input. */
async function realProof (t: { teardown (fn: () => unknown): void }): Promise<BitcoinSpvInput> {
  const node = await startBcoin(t)
  const miner = testKey(0)
  const payee = testKey(1)
  await node.rpc('generatetoaddress', [450, miner.address])
  const block1 = await node.rpc<{ tx: Array<{ txid: string }> }>('getblock', [await node.rpc<string>('getblockhash', [1]), true, true])
  const rawTx = signSpend(miner, { txid: block1.tx[0].txid, vout: 0, amount: 5_000_000_000n }, [{ address: payee.address, amount: 100_000_000n }, { address: miner.address, amount: 4_899_990_000n }])
  const txid = await broadcast(node, rawTx)
  const [blockHash] = await node.rpc<string[]>('generatetoaddress', [1, miner.address])
  const headers: string[] = []
  for (const h of await node.rpc<string[]>('generatetoaddress', [5, miner.address])) headers.push(await node.rpc<string>('getblockheader', [h, false]))
  const txoutproof = await node.rpc<string>('gettxoutproof', [[txid], blockHash])
  return { network: 'regtest', rawTx, txoutproof, headers, expect: { address: payee.address, minAmountSats: 100_000_000n, minConfirmations: 6 } }
}
