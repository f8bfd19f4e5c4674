/**
 * Benchmark 7, payment proofs: Bitcoin SPV proofs checked per second as apply checks them
 * (books/proofs/bitcoin-spv.ts: parse the transaction, the gettxoutproof's partial Merkle tree,
 * the block header and 5 following headers, proof of work, links, the output to the address).
 * The proof is real: a payment on a bcoin regtest chain started here. Baseline: the SHA-256d
 * hashing such a proof needs and nothing else (the txid, the Merkle path, 6 header hashes),
 * with @noble/hashes, the library the check uses.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { hexToBytes } from '@noble/hashes/utils.js'
import { verifyBitcoinPayment, type BitcoinSpvInput } from '../books/proofs/bitcoin-spv.ts'
import { broadcast, startBcoin, signSpend, testKey } from '../test/helpers/bcoin.ts'
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
    return [result('bitcoin payment proof (6 headers)', n, growr, 'proofs/s', raw,
      'a real regtest payment proof: tx, gettxoutproof and 5 following headers, checked as apply checks it; baseline the SHA-256d hashing it needs (txid, Merkle node, 6 headers) alone', 'hash sets/s')]
  } finally {
    for (const close of closers.reverse()) await close()
  }
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
