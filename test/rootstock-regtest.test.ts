/**
 * The Rootstock rail's backend pieces on a real anvil chain (chain id 33, Berlin): the EVM
 * JSON-RPC client and its coded failures, the EIP-155 signer paying RBTC and ERC-20 tokens from a
 * BIP-44 key of a test seed, and the proof fetcher (confirmations, nodes without
 * eth_getBlockReceipts, a backend that lies).
 */
import test from 'brittle'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { EvmRpc, EvmRpcError } from '../core/rails/rootstock/rpc.ts'
import { sendValue, sendToken, encodeErc20Transfer } from '../core/rails/rootstock/tx.ts'
import { fetchRootstockProof, type RootstockProofProgress, type RootstockProofRpc } from '../core/rails/rootstock/proof-fetcher.ts'
import { verifyRootstockPayment } from '../books/proofs/rootstock-receipt.ts'
import { decodeLegacyTransaction, evmHexToBytes } from '../books/proofs/evm-tx.ts'
import { RootstockAccount, toChecksumAddress } from '../core/wallet/bip44-rootstock.ts'
import { startAnvil, TEST_SEED, type Anvil } from './helpers/anvil.ts'
import { freePort } from './helpers/bcoin.ts'
import { rejectsCode } from './helpers/assert.ts'

interface Setup { anvil: Anvil, rpc: EvmRpc, payer: string, payee: string }

async function setup (t: { teardown (fn: () => unknown): void }): Promise<Setup> {
  const anvil = await startAnvil(t)
  const rpc = new EvmRpc({ url: anvil.url, timeoutMs: 10_000 })
  const account = RootstockAccount.fromSeed(TEST_SEED, 33)
  const payer = account.address(0).address.toLowerCase()
  const payee = account.address(1).address.toLowerCase()
  await anvil.fund(payer, 10n ** 20n)
  return { anvil, rpc, payer, payee }
}

/** The backend with some answers replaced (EvmRpc's private fields rule out Object.create). */
function wrap (rpc: EvmRpc, overrides: Partial<RootstockProofRpc>): RootstockProofRpc {
  return {
    getTransactionReceipt: rpc.getTransactionReceipt.bind(rpc),
    getTransactionByHash: rpc.getTransactionByHash.bind(rpc),
    blockNumber: rpc.blockNumber.bind(rpc),
    getBlockByHash: rpc.getBlockByHash.bind(rpc),
    getBlockByNumber: rpc.getBlockByNumber.bind(rpc),
    getBlockReceipts: rpc.getBlockReceipts.bind(rpc),
    call: rpc.call.bind(rpc),
    ...overrides
  }
}

const opts = (s: Setup, index = 0) => ({ chainId: 33, signer: { seed: TEST_SEED, index }, to: s.payee })

test('rootstock rail - sendValue pays exactly, legacy EIP-155, and its proof verifies', { timeout: 60_000 }, async (t) => {
  const s = await setup(t)
  const before = await s.rpc.getBalance(s.payee)
  const wei = 12_345_678_901_234_567_891n
  const sent = await sendValue(s.rpc, opts(s), wei)
  const proof = await fetchRootstockProof(s.rpc, sent.hash, { timeoutMs: 10_000, pollMs: 20 })
  t.is(await s.rpc.getBalance(s.payee) - before, wei, 'the payee received exactly that many wei')
  const tx = await s.rpc.getTransactionByHash(sent.hash)
  t.is(tx?.type, '0x0', 'a legacy (type 0) transaction')
  t.is(tx?.from.toLowerCase(), s.payer, 'sent from the seed\'s m/44\'/137\'/0\'/0/0')
  const decoded = decodeLegacyTransaction(evmHexToBytes(sent.raw, 1 << 20) as Uint8Array)
  t.ok(decoded.ok && decoded.tx.chainId === 33n, 'signed for chain 33 (EIP-155)')
  t.is(await s.rpc.getTransactionCount(s.payer, 'latest'), 1n, 'the nonce came from the node')
  const r = await verifyRootstockPayment({ ...proof, expect: { chainId: 33, to: s.payee, minAmount: wei, blockHash: proof.blockHash } })
  t.ok(r.ok && r.amount === wei && r.from === toChecksumAddress(s.payer, null), r.ok ? 'the fetched proof verifies' : r.reason)
})

test('rootstock rail - sendToken transfers ERC-20 units; a transfer beyond the balance is refused before signing', { timeout: 60_000 }, async (t) => {
  const s = await setup(t)
  const token = await s.anvil.deployToken(s.payer, 10n ** 24n)
  const units = 10n ** 22n + 1n
  const sent = await sendToken(s.rpc, opts(s), token, units)
  const proof = await fetchRootstockProof(s.rpc, sent.hash, { timeoutMs: 10_000, pollMs: 20 })
  const balance = BigInt(await s.rpc.ethCall({ to: token, data: '0x70a08231' + s.payee.slice(2).padStart(64, '0') }))
  t.is(balance, units, 'balanceOf(payee) is exactly the units sent')
  const r = await verifyRootstockPayment({ ...proof, expect: { chainId: 33, to: s.payee, minAmount: units, token } })
  t.ok(r.ok && r.amount === units, r.ok ? 'the token proof verifies' : r.reason)
  const nonce = await s.rpc.getTransactionCount(s.payer)
  await rejectsCode(t, sendToken(s.rpc, opts(s), token, 10n ** 25n), 'BACKEND_ERROR', 'more tokens than held: eth_estimateGas reverts')
  t.is(await s.rpc.getTransactionCount(s.payer), nonce, 'nothing was broadcast')
  t.is(encodeErc20Transfer(s.payee, 1n), '0xa9059cbb' + s.payee.slice(2).padStart(64, '0') + '1'.padStart(64, '0'), 'transfer(address,uint256) call data')
})

test('rootstock rail - the signer refuses another chain, a mistyped checksum, an unfunded key', { timeout: 60_000 }, async (t) => {
  const s = await setup(t)
  await rejectsCode(t, sendValue(s.rpc, { ...opts(s), chainId: 31 }, 1n), 'BAD_ARGUMENT', 'a payment for chain 31 sent to a chain-33 node')
  const good = toChecksumAddress(s.payee, null)
  const at = good.slice(2).search(/[a-fA-F]/) + 2 // the first letter: flipping its case breaks the checksum
  const typo = good.slice(0, at) + (good[at] === good[at].toUpperCase() ? good[at].toLowerCase() : good[at].toUpperCase()) + good.slice(at + 1)
  await rejectsCode(t, sendValue(s.rpc, { ...opts(s), to: typo }, 1n), 'BAD_ARGUMENT', `a payee whose checksum does not hold (${typo})`)
  await rejectsCode(t, sendValue(s.rpc, opts(s), 0n), 'BAD_ARGUMENT', 'a zero payment')
  await rejectsCode(t, sendValue(s.rpc, opts(s, 9), 1n), 'BACKEND_ERROR', 'an address with no RBTC: the node refuses')
  t.is(await s.rpc.getTransactionCount(s.payer), 0n, 'nothing was sent from the payer')
  const ok = await sendValue(s.rpc, { ...opts(s), to: good }, 5n)
  t.ok(/^0x[0-9a-f]{64}$/.test(ok.hash), 'a correctly checksummed payee is paid')
})

test('rootstock rail - the fetcher waits for confirmations and reports progress', { timeout: 60_000 }, async (t) => {
  const s = await setup(t)
  const sent = await sendValue(s.rpc, opts(s), 1000n)
  const seen: RootstockProofProgress[] = []
  const proof = await fetchRootstockProof(s.rpc, sent.hash, {
    confirmations: 3,
    timeoutMs: 20_000,
    pollMs: 10,
    onProgress: (p) => seen.push(p),
    sleep: async () => { await s.anvil.mine(1) } // each poll that falls short mines one block
  })
  const confirming = seen.filter((p) => p.state === 'confirming')
  t.alike(confirming.map((p) => p.state === 'confirming' && p.confirmations), [1, 2], 'reported 1, then 2 of 3 confirmations')
  t.ok(await s.rpc.blockNumber() - proof.blockNumber + 1 >= 3, 'returned once the block had 3 confirmations')
  t.ok((await verifyRootstockPayment({ ...proof, expect: { chainId: 33, to: s.payee, minAmount: 1000n } })).ok)

  let clock = 0
  await rejectsCode(t, fetchRootstockProof(s.rpc, '0x' + 'ab'.repeat(32), { timeoutMs: 50, pollMs: 10, now: () => clock, sleep: async (ms) => { clock += ms } }), 'TIMEOUT', 'an unknown transaction: TIMEOUT')
  await rejectsCode(t, fetchRootstockProof(s.rpc, 'nothex', { timeoutMs: 50, pollMs: 10 }), 'BAD_ARGUMENT', 'a malformed hash')
})

test('rootstock rail - the fetcher works without eth_getBlockReceipts and catches a backend that lies', { timeout: 60_000 }, async (t) => {
  const s = await setup(t)
  const first = await sendValue(s.rpc, opts(s), 77n)
  const proof = await fetchRootstockProof(s.rpc, first.hash, { timeoutMs: 10_000, pollMs: 20 })
  const noBlockReceipts = wrap(s.rpc, {
    getBlockReceipts: async () => { throw new EvmRpcError('eth_getBlockReceipts', 'the method eth_getBlockReceipts does not exist/is not available', -32601, 200, 'the method eth_getBlockReceipts does not exist/is not available') }
  })
  const again = await fetchRootstockProof(noBlockReceipts, first.hash, { timeoutMs: 10_000, pollMs: 20 })
  t.alike(again, proof, 'the same proof from eth_getTransactionReceipt per transaction')

  const lyingReceipts = wrap(s.rpc, {
    getBlockReceipts: async (h: string) => (await s.rpc.getBlockReceipts(h))?.map((r) => ({ ...r, cumulativeGasUsed: '0x5209' })) ?? null
  })
  await rejectsCode(t, fetchRootstockProof(lyingReceipts, first.hash, { timeoutMs: 10_000, pollMs: 20 }), 'BACKEND_ERROR', 'receipts that do not hash to the receiptsRoot')
  const lyingBlock = wrap(s.rpc, {
    getBlockByHash: async (h: string) => { const b = await s.rpc.getBlockByHash(h); return b && { ...b, transactions: b.transactions.map((tx) => ({ ...tx, value: '0xffff' })) } }
  })
  await rejectsCode(t, fetchRootstockProof(lyingBlock, first.hash, { timeoutMs: 10_000, pollMs: 20 }), 'BACKEND_ERROR', 'a transaction whose fields do not hash to its hash')
  const lyingHeader = wrap(s.rpc, {
    getBlockByHash: async (h: string) => { const b = await s.rpc.getBlockByHash(h); return b && { ...b, timestamp: '0x1' } }
  })
  await rejectsCode(t, fetchRootstockProof(lyingHeader, first.hash, { timeoutMs: 10_000, pollMs: 20 }), 'BACKEND_ERROR', 'header fields that do not hash to the block hash')
})

test('rootstock rpc - unreachable, node errors, non-JSON-RPC answers and credentials: coded, never leaked', { timeout: 60_000 }, async (t) => {
  const closed = new EvmRpc({ url: `http://127.0.0.1:${await freePort()}/`, timeoutMs: 2_000 })
  await rejectsCode(t, closed.blockNumber(), 'BACKEND_UNREACHABLE', 'nothing listening')

  const s = await setup(t)
  try {
    await s.rpc.call('eth_noSuchMethod')
    t.fail('an unknown method answered')
  } catch (err) {
    t.ok(err instanceof EvmRpcError && err.code === 'BACKEND_ERROR' && err.rpcCode === -32601, `unknown method: BACKEND_ERROR -32601 (${(err as Error).message})`)
  }
  await rejectsCode(t, s.rpc.sendRawTransaction('0x' + 'c0'), 'BACKEND_ERROR', 'a raw transaction the node cannot decode')
  t.is(await s.rpc.chainId(), 33)

  const secret = 'hunter2-secret-key'
  const bodies: string[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => { body += d })
    req.on('end', () => {
      bodies.push(`${req.headers.authorization} ${body}`)
      const { id, method } = JSON.parse(body)
      if (method === 'hang') return // never answers
      if (method === 'html') { res.writeHead(502); res.end('<html>bad gateway</html>'); return }
      if (method === 'echo') { res.end(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message: `bad key ${secret}` } })); return }
      if (method === 'eth_blockNumber') { res.end(JSON.stringify({ jsonrpc: '2.0', id, result: 12 })); return }
      res.end(JSON.stringify({ jsonrpc: '2.0', id: id + 1, result: '0x1' }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve) }))
  const port = (server.address() as AddressInfo).port
  const rpc = new EvmRpc({ url: `http://user:${secret}@127.0.0.1:${port}/`, timeoutMs: 300 })
  t.absent(rpc.url.includes(secret), 'the URL kept for messages has no credentials')
  await rejectsCode(t, rpc.call('hang'), 'BACKEND_UNREACHABLE', 'no answer within the timeout')
  await rejectsCode(t, rpc.call('html'), 'BACKEND_ERROR', 'an HTML error page')
  await rejectsCode(t, rpc.blockNumber(), 'BACKEND_ERROR', 'a height that is not a hex quantity')
  await rejectsCode(t, rpc.call('other'), 'BACKEND_ERROR', 'an answer to another request id')
  try {
    await rpc.call('echo')
  } catch (err) {
    t.absent((err as Error).message.includes(secret), `a node echoing the key: scrubbed (${(err as Error).message})`)
  }
  t.ok(bodies[0].startsWith('Basic ') && Buffer.from(bodies[0].split(' ')[1], 'base64').toString() === `user:${secret}`, 'credentials sent as basic auth')
  t.exception(() => new EvmRpc({ url: 'ftp://x', timeoutMs: 1 }), /BAD_ARGUMENT/)
})
