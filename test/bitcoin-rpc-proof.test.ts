/**
 * fetchProof (core/rails/bitcoin/proof-fetcher.ts) over a real bcoin regtest chain: it returns
 * exactly what verifyBitcoinPayment (the check apply runs) accepts; it waits while the payment is
 * unseen, in the mempool or short of confirmations, and times out with TIMEOUT saying how far it
 * got; it resolves once blocks are mined while it waits; and when the chain reorganises between its
 * calls, or the backend's answers do not form one chain, it starts over instead of returning a
 * proof of a block no longer on the best chain.
 */
import test from 'brittle'
import { BitcoinRpc } from '../core/rails/bitcoin/rpc.ts'
import { fetchProof, type ProofRpc, type ProofProgress, type FetchProofOptions } from '../core/rails/bitcoin/proof-fetcher.ts'
import { verifyBitcoinPayment } from '../books/proofs/bitcoin-spv.ts'
import { GrowrError } from '../core/errors.ts'
import { broadcast, startBcoin, testKey, signSpend, freePort, type Bcoin } from './helpers/bcoin.ts'

const miner = testKey(0)
const payee = testKey(1)
const AMOUNT = 250_000n

interface Chain { node: Bcoin, rpc: BitcoinRpc }

async function chain (t: Parameters<typeof startBcoin>[0]): Promise<Chain> {
  const node = await startBcoin(t)
  await node.rpc('generatetoaddress', [450, miner.address]) // SegWit active, coinbases mature
  return { node, rpc: new BitcoinRpc({ url: node.url, apiKey: 'growr-test-' + process.pid, timeoutMs: 5_000 }) }
}

/** Pays AMOUNT to the payee from the coinbase of block `n`; returns the txid and raw tx, unmined. */
async function pay ({ node }: Chain, n: number): Promise<{ txid: string, rawTx: string }> {
  const block = await node.rpc<{ tx: Array<{ txid: string }> }>('getblock', [await node.rpc<string>('getblockhash', [n]), true, true])
  const rawTx = signSpend(miner, { txid: block.tx[0].txid, vout: 0, amount: 5_000_000_000n }, [{ address: payee.address, amount: AMOUNT }, { address: miner.address, amount: 5_000_000_000n - AMOUNT - 10_000n }])
  return { txid: await broadcast(node, rawTx), rawTx }
}

async function mine ({ node }: Chain, n: number, to = miner.address): Promise<string[]> {
  return await node.rpc<string[]>('generatetoaddress', [n, to])
}

function verify (proof: { rawTx: string, txoutproof: string, headers: string[] }, minConfirmations = 6) {
  return verifyBitcoinPayment({ network: 'regtest', ...proof, expect: { address: payee.address, minAmountSats: AMOUNT, minConfirmations } })
}

/** A clock that only moves when fetchProof sleeps: no real waiting. */
function fakeTime (): Pick<FetchProofOptions, 'now' | 'sleep'> & { slept: number[] } {
  let t = 1_000_000
  const slept: number[] = []
  return { slept, now: () => t, sleep: async (ms: number) => { slept.push(ms); t += ms } }
}

/** `rpc` with some of its methods replaced. */
function wrap (rpc: BitcoinRpc, over: Partial<Record<keyof ProofRpc, (...args: any[]) => Promise<unknown>>>): ProofRpc {
  return {
    getRawTransaction: (over.getRawTransaction ?? rpc.getRawTransaction.bind(rpc)) as ProofRpc['getRawTransaction'],
    getBlockHeader: (over.getBlockHeader ?? rpc.getBlockHeader.bind(rpc)) as ProofRpc['getBlockHeader'],
    getBlockCount: (over.getBlockCount ?? rpc.getBlockCount.bind(rpc)) as ProofRpc['getBlockCount'],
    getBlockHash: (over.getBlockHash ?? rpc.getBlockHash.bind(rpc)) as ProofRpc['getBlockHash'],
    getTxOutProof: (over.getTxOutProof ?? rpc.getTxOutProof.bind(rpc)) as ProofRpc['getTxOutProof']
  }
}

async function throwsCoded (fn: () => Promise<unknown>): Promise<GrowrError> {
  try { await fn() } catch (err) { if (err instanceof GrowrError) return err; throw err }
  throw new Error('did not throw')
}

test('fetchProof - six confirmations: a proof verifyBitcoinPayment accepts', { timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const { txid, rawTx } = await pay(c, 1)
  const [blockHash] = await mine(c, 6)
  const proof = await fetchProof(c.rpc, txid, { confirmations: 6, timeoutMs: 10_000, pollMs: 50 })
  t.is(proof.blockHash, blockHash, 'found in the block that mined it')
  t.is(proof.height, 451, 'at its height')
  t.is(proof.rawTx, rawTx, 'the raw transaction as broadcast (with witness)')
  t.is(proof.headers.length, 5, 'confirmations - 1 headers after the block')
  const r = verify(proof)
  t.ok(r.ok, `verifyBitcoinPayment accepts it: ${r.ok ? '' : r.reason}`)
  if (r.ok) {
    t.is(r.txid, txid, 'for this txid')
    t.is(r.confirmations, 6, 'with six confirmations')
    t.is(r.blockHash, blockHash, 'in that block')
    t.is(r.amountSats, AMOUNT, 'paying the amount')
  }
  const seven = verify(proof, 7)
  t.absent(seven.ok, 'and no more than that: a book wanting seven refuses it')

  await mine(c, 4)
  const deeper = await fetchProof(c.rpc, txid, { confirmations: 6, timeoutMs: 10_000, pollMs: 50 })
  t.is(deeper.headers.length, 5, 'a deeper transaction still gets exactly confirmations - 1 headers')
  t.ok(verify(deeper).ok, 'which verify')
  const one = await fetchProof(c.rpc, txid, { confirmations: 1, timeoutMs: 10_000, pollMs: 50 })
  t.alike(one.headers, [], 'one confirmation: the block alone, no headers')
  t.ok(verify(one, 1).ok, 'accepted with one confirmation required')
})

test('fetchProof - short of confirmations it keeps waiting, then TIMEOUT says how far it got', { timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const { txid } = await pay(c, 1)

  const clock = fakeTime()
  const seen: ProofProgress[] = []
  const mempool = await throwsCoded(() => fetchProof(c.rpc, txid, { confirmations: 6, timeoutMs: 1_000, pollMs: 100, ...clock, onProgress: (p) => seen.push(p) }))
  t.is(mempool.code, 'TIMEOUT', 'in the mempool: TIMEOUT')
  t.ok(/in the mempool/.test(mempool.message), mempool.message)
  t.is(clock.slept.length, 10, 'after polling every pollMs until timeoutMs')
  t.is(seen.length, 11, 'at 0, 100, ... 1000 ms: a last poll at the deadline')
  // bcoin answers sendrawtransaction before the transaction is in its mempool: the first poll may find it unknown
  const states = seen.map((p) => p.state).join(' ')
  t.ok(/^(unseen )*mempool( mempool)*$/.test(states), `each poll reported "unseen" until bcoin took it in, then "mempool": ${states}`)

  await mine(c, 2)
  const short: ProofProgress[] = []
  const err = await throwsCoded(() => fetchProof(c.rpc, txid, { confirmations: 6, timeoutMs: 1_000, pollMs: 300, ...fakeTime(), onProgress: (p) => short.push(p) }))
  t.is(err.code, 'TIMEOUT', 'two of six confirmations and no new block: TIMEOUT')
  t.ok(/2 of 6 confirmations/.test(err.message), err.message)
  t.is(short.length, 5, 'polled at 0, 300, 600, 900 ms and at the deadline, 1000, then gave up')
  t.ok(short.every((p) => p.state === 'confirming' && p.confirmations === 2), 'each poll saw 2 confirmations')

  const unseen = await throwsCoded(() => fetchProof(c.rpc, 'ab'.repeat(32), { confirmations: 1, timeoutMs: 500, pollMs: 100, ...fakeTime() }))
  t.is(unseen.code, 'TIMEOUT', 'a txid the node does not know: keeps waiting, then TIMEOUT')
  t.ok(/does not know the transaction/.test(unseen.message), unseen.message)
})

test('fetchProof - resolves once blocks are mined while it waits', { timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const { txid } = await pay(c, 1)
  await mine(c, 1)
  const progress: ProofProgress[] = []
  const waiting = fetchProof(c.rpc, txid, { confirmations: 6, timeoutMs: 30_000, pollMs: 20, onProgress: (p) => progress.push(p) })
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 60))
    await mine(c, 1)
  }
  const proof = await waiting
  const r = verify(proof)
  t.ok(r.ok, `the proof it returns verifies: ${r.ok ? '' : r.reason}`)
  const counts = progress.map((p) => p.state === 'confirming' ? p.confirmations : -1)
  t.ok(counts.length > 0 && counts.every((n) => n >= 1 && n < 6), `it reported confirmations as they arrived: ${[...new Set(counts)].join(', ')}`)
  t.ok(counts.every((n, i) => i === 0 || n >= counts[i - 1]), 'never going backwards')
})

test('fetchProof - a reorganisation between its calls: starts over and proves the block on the best chain', { timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const { txid, rawTx } = await pay(c, 1)
  const [first] = await mine(c, 6)
  let reorged = false
  const rpc = wrap(c.rpc, {
    getTxOutProof: async (txids: string[], blockHash: string) => {
      if (!reorged) {
        reorged = true
        // the block holding the payment is orphaned; the payment is mined again on the new branch
        await c.node.rpc('invalidateblock', [first])
        await broadcast(c.node, rawTx)
        await mine(c, 7, testKey(5).address)
      }
      return await c.rpc.getTxOutProof(txids, blockHash)
    }
  })
  const progress: ProofProgress[] = []
  const proof = await fetchProof(rpc, txid, { confirmations: 6, timeoutMs: 10_000, pollMs: 10, onProgress: (p) => progress.push(p) })
  t.ok(reorged, 'the chain reorganised while it gathered the proof')
  t.ok(progress.some((p) => p.state === 'reorganised'), 'it noticed, and started over')
  t.not(proof.blockHash, first, 'the proof is not of the orphaned block')
  t.is(proof.blockHash, await c.rpc.getBlockHash(proof.height), 'it is of the block on the best chain')
  t.ok(verify(proof).ok, 'and verifies')
})

test('fetchProof - the tip replaced after the headers were read: the stale last header is not returned', { timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const { txid } = await pay(c, 1)
  const hashes = await mine(c, 6)
  const tipHeight = 451 + 5
  let replaced = false
  let calls = 0
  const rpc = wrap(c.rpc, {
    getBlockHash: async (height: number) => {
      // the final check asks for the tip height a second time: replace the tip just before it
      if (height === tipHeight && ++calls === 2 && !replaced) {
        replaced = true
        await c.node.rpc('invalidateblock', [hashes[5]])
        await mine(c, 1, testKey(6).address)
      }
      return await c.rpc.getBlockHash(height)
    }
  })
  const progress: ProofProgress[] = []
  const proof = await fetchProof(rpc, txid, { confirmations: 6, timeoutMs: 10_000, pollMs: 10, onProgress: (p) => progress.push(p) })
  t.ok(replaced, 'the tip was replaced after the headers were read')
  t.ok(progress.some((p) => p.state === 'reorganised'), 'the final check saw it and started over')
  const newTip = await c.rpc.getBlockHeader(await c.rpc.getBlockHash(tipHeight))
  t.is(proof.headers[4], newTip, 'the last header is the best chain\'s, not the orphaned one')
  t.ok(verify(proof).ok, 'and the proof verifies')
})

test('fetchProof - answers that do not form one chain are never returned as a proof', { timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const { txid } = await pay(c, 1)
  const [block] = await mine(c, 6)
  const otherBlock = await c.rpc.getBlockHash(1)
  const otherTx = (await c.node.rpc<{ tx: Array<{ txid: string }> }>('getblock', [otherBlock, true, true])).tx[0].txid

  const cases: Array<[string, Partial<Record<keyof ProofRpc, (...args: any[]) => Promise<unknown>>>]> = []
  let once = 0
  cases.push(['gettxoutproof answers a proof of another block', {
    getTxOutProof: async (txids: string[], hash: string) => once++ === 0 ? await c.rpc.getTxOutProof([otherTx], otherBlock) : await c.rpc.getTxOutProof(txids, hash)
  }])
  let once2 = 0
  cases.push(['getblockheader answers another block\'s header', {
    getBlockHeader: async (hash: string, verbose?: boolean) => verbose === true ? await c.rpc.getBlockHeader(hash, true) : once2++ === 0 ? await c.rpc.getBlockHeader(otherBlock) : await c.rpc.getBlockHeader(hash)
  }])
  let once3 = 0
  cases.push(['getblockhash skips a block (headers that do not link)', {
    getBlockHash: async (height: number) => await c.rpc.getBlockHash(height === 452 && once3++ === 0 ? 453 : height)
  }])
  for (const [what, over] of cases) {
    const progress: ProofProgress[] = []
    const proof = await fetchProof(wrap(c.rpc, over), txid, { confirmations: 6, timeoutMs: 5_000, pollMs: 1, ...fakeTime(), onProgress: (p) => progress.push(p) })
    t.ok(progress.length === 1 && progress[0].state === 'reorganised', `${what}: seen as not one chain, started over`)
    t.is(proof.blockHash, block, `${what}: then the right block`)
    t.ok(verify(proof).ok, `${what}: and a proof that verifies`)
  }

  const lying = wrap(c.rpc, { getTxOutProof: async () => await c.rpc.getTxOutProof([otherTx], otherBlock) })
  const err = await throwsCoded(() => fetchProof(lying, txid, { confirmations: 6, timeoutMs: 300, pollMs: 100, ...fakeTime() }))
  t.is(err.code, 'TIMEOUT', 'a backend that keeps answering a proof of another block: TIMEOUT, no proof')
  t.ok(/did not form one chain/.test(err.message), err.message)
})

test('fetchProof - a header of an orphaned branch that links is still not the best chain\'s: refused', { timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const { txid } = await pay(c, 1)
  const old = await mine(c, 6)
  const staleNext = await c.rpc.getBlockHeader(old[1]) // links to the payment's block; orphaned next
  // orphan the blocks after the payment's block; a new branch of six takes their place
  await c.node.rpc('invalidateblock', [old[1]])
  await mine(c, 6, testKey(7).address)
  t.not(await c.rpc.getBlockHash(452), old[1], 'the block after the payment\'s was replaced')
  let lied = 0
  const rpc = wrap(c.rpc, {
    getBlockHeader: async (hash: string, verbose?: boolean) => {
      if (verbose === true) return await c.rpc.getBlockHeader(hash, true)
      return hash === await c.rpc.getBlockHash(452) && lied++ === 0 ? staleNext : await c.rpc.getBlockHeader(hash)
    }
  })
  const progress: ProofProgress[] = []
  const proof = await fetchProof(rpc, txid, { confirmations: 6, timeoutMs: 5_000, pollMs: 1, ...fakeTime(), onProgress: (p) => progress.push(p) })
  t.ok(lied >= 2, 'the backend answered the orphaned header once (and the truth when asked again)')
  t.ok(progress.some((p) => p.state === 'reorganised'), 'a header that is not the block asked for: started over')
  t.absent(proof.headers.includes(staleNext), 'the orphaned header is not in the proof')
  t.ok(verify(proof).ok, 'which verifies')

  let once = 0
  const offChain = wrap(c.rpc, {
    getBlockHeader: async (hash: string, verbose?: boolean) => {
      if (verbose !== true) return await c.rpc.getBlockHeader(hash)
      const info = await c.rpc.getBlockHeader(hash, true)
      return once++ === 0 ? { ...info, confirmations: -1 } : info
    }
  })
  const seen: ProofProgress[] = []
  const again = await fetchProof(offChain, txid, { confirmations: 6, timeoutMs: 5_000, pollMs: 1, ...fakeTime(), onProgress: (p) => seen.push(p) })
  t.is(seen[0]?.state, 'reorganised', 'a block the node reports off its best chain (bitcoind: confirmations -1): waits for the index to move')
  t.ok(verify(again).ok, 'then proves the payment on the best chain')
})

test('fetchProof - backend failures surface with their codes; bad options are refused', { timeout: 60_000 }, async (t) => {
  const port = await freePort()
  const down = new BitcoinRpc({ url: `http://127.0.0.1:${port}/`, password: 'not-in-any-message', timeoutMs: 1_000 })
  const err = await throwsCoded(() => fetchProof(down, 'ab'.repeat(32), { confirmations: 6, timeoutMs: 10_000, pollMs: 10, ...fakeTime() }))
  t.is(err.code, 'BACKEND_UNREACHABLE', 'an unreachable backend is BACKEND_UNREACHABLE at once, not a silent wait')
  t.absent(err.message.includes('not-in-any-message'), 'without the password')

  const c = await chain(t)
  const { txid } = await pay(c, 1)
  await mine(c, 6)
  const broken = wrap(c.rpc, { getTxOutProof: async () => await c.rpc.call('nosuchmethod') })
  const e2 = await throwsCoded(() => fetchProof(broken, txid, { confirmations: 6, timeoutMs: 10_000, pollMs: 10, ...fakeTime() }))
  t.is(e2.code, 'BACKEND_ERROR', 'a node error with no reorganisation behind it is the node\'s error, not a retry')

  const opts = { timeoutMs: 1_000, pollMs: 10 }
  t.is((await throwsCoded(() => fetchProof(c.rpc, txid, { ...opts, confirmations: 0 }))).code, 'BAD_ARGUMENT', 'zero confirmations')
  t.is((await throwsCoded(() => fetchProof(c.rpc, txid, { ...opts, confirmations: 2018 }))).code, 'BAD_ARGUMENT', 'more headers than a proof may carry')
  t.is((await throwsCoded(() => fetchProof(c.rpc, 'XYZ', { ...opts, confirmations: 1 }))).code, 'BAD_ARGUMENT', 'a txid that is not hex')
  t.is((await throwsCoded(() => fetchProof(c.rpc, txid, { confirmations: 1, timeoutMs: 1_000, pollMs: 0 }))).code, 'BAD_ARGUMENT', 'no poll interval')
})
