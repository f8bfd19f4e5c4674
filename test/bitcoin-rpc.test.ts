/**
 * The Bitcoin backend client (core/rails/bitcoin/rpc.ts) against a real bcoin regtest node and
 * against hostile or broken endpoints: every named call gives the node's answer; a closed port or
 * a silent server is BACKEND_UNREACHABLE naming the URL; an error the node answers with, refused
 * credentials, or an answer that is not JSON-RPC is BACKEND_ERROR; no message ever carries the
 * password or api key.
 */
import test from 'brittle'
import http from 'node:http'
import type net from 'node:net'
import { BitcoinRpc, BitcoinRpcError, isNotFound, type FetchLike } from '../core/rails/bitcoin/rpc.ts'
import { GrowrError } from '../core/errors.ts'
import { startBcoin, testKey, signSpend, freePort, untilInMempool } from './helpers/bcoin.ts'

const SECRET = 'hunter2-very-secret'

/** Runs `fn`, expecting it to throw a GrowrError; returns it. */
async function throwsCoded (t: { fail: (m: string) => void }, fn: () => Promise<unknown>): Promise<GrowrError> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof GrowrError) return err
    t.fail(`threw something that is not a GrowrError: ${String(err)}`)
    throw err
  }
  t.fail('did not throw')
  throw new Error('did not throw')
}

/** A fetch that answers every request with `status` and `body`, and records what it was asked. */
function fakeFetch (status: number, body: string | ((req: { id: number }) => string)): { fetch: FetchLike, seen: Array<{ url: string, headers: Record<string, string>, body: string }> } {
  const seen: Array<{ url: string, headers: Record<string, string>, body: string }> = []
  const fetch: FetchLike = async (url, init) => {
    seen.push({ url, headers: init.headers, body: init.body })
    const req = JSON.parse(init.body) as { id: number }
    return { status, text: async () => typeof body === 'string' ? body : body(req) }
  }
  return { fetch, seen }
}

test('bitcoin rpc - every named call answers from a bcoin regtest node', { timeout: 60_000 }, async (t) => {
  const chain = await startBcoin(t)
  const miner = testKey(0)
  await chain.rpc('generatetoaddress', [450, miner.address])
  const apiKey = 'growr-test-' + process.pid // what startBcoin configured
  const rpc = new BitcoinRpc({ url: chain.url, apiKey, timeoutMs: 5_000 })

  t.is(await rpc.getBlockCount(), 450, 'getblockcount: the tip height')
  const h1 = await rpc.getBlockHash(1)
  t.ok(/^[0-9a-f]{64}$/.test(h1), 'getblockhash: a block hash')
  const raw = await rpc.getBlockHeader(h1)
  t.is(raw.length, 160, 'getblockheader false: the raw 80-byte header')
  const info = await rpc.getBlockHeader(h1, true)
  t.is(info.height, 1, 'getblockheader true: its height')

  const cb = await chain.rpc<{ tx: Array<{ txid: string }> }>('getblock', [h1, true, true])
  const rawTx = signSpend(miner, { txid: cb.tx[0].txid, vout: 0, amount: 5_000_000_000n }, [{ address: testKey(1).address, amount: 50_000n }, { address: miner.address, amount: 5_000_000_000n - 60_000n }])
  const txid = await rpc.sendRawTransaction(rawTx)
  t.ok(/^[0-9a-f]{64}$/.test(txid), 'sendrawtransaction: the txid')
  t.ok(await untilInMempool(chain, txid), 'the node takes it into its mempool')
  const pending = await rpc.getRawTransaction(txid, true)
  t.ok(pending.blockhash === null || pending.blockhash === undefined, 'getrawtransaction true: in the mempool, no block yet')
  const [blockHash] = await chain.rpc<string[]>('generatetoaddress', [1, miner.address])
  const mined = await rpc.getRawTransaction(txid, true)
  t.is(mined.blockhash, blockHash, 'getrawtransaction true: the block holding it once mined')
  t.is(mined.confirmations, 1, 'and its confirmations')
  t.is(await rpc.getRawTransaction(txid), rawTx, 'getrawtransaction false: the raw transaction, with witness')
  const proof = await rpc.getTxOutProof([txid], blockHash)
  t.is(proof.slice(0, 160), await rpc.getBlockHeader(blockHash), 'gettxoutproof: starts with that block\'s header')
  t.is(await rpc.estimateSmartFee(6), null, 'estimatesmartfee on regtest has no data: null (the payer uses its floor)')

  const notFound = await throwsCoded(t, () => rpc.getRawTransaction('00'.repeat(32), true))
  t.is(notFound.code, 'BACKEND_ERROR', 'an unknown txid is the node\'s error')
  t.ok(isNotFound(notFound), 'and reads as "not found" (bcoin says so with code -1)')
  const bad = await throwsCoded(t, () => rpc.getBlockHash(99_999))
  t.is(bad.code, 'BACKEND_ERROR', 'a height past the tip is the node\'s error')
  t.absent(isNotFound(bad), 'which is not "not found"')
  const rejected = await throwsCoded(t, () => rpc.sendRawTransaction('deadbeef'))
  t.is(rejected.code, 'BACKEND_ERROR', 'bytes the node cannot decode as a transaction: BACKEND_ERROR with its reason')
  t.comment(rejected.message)
})

test('bitcoin rpc - BACKEND_ERROR for a method the node does not have', { timeout: 60_000 }, async (t) => {
  const chain = await startBcoin(t)
  const rpc = new BitcoinRpc({ url: chain.url, apiKey: 'growr-test-' + process.pid, timeoutMs: 5_000 })
  const err = await throwsCoded(t, () => rpc.call('nosuchmethod', []))
  t.is(err.code, 'BACKEND_ERROR', 'coded BACKEND_ERROR')
  t.ok(err instanceof BitcoinRpcError, 'a BitcoinRpcError')
  if (err instanceof BitcoinRpcError) {
    t.is(err.method, 'nosuchmethod', 'naming the method')
    t.is(err.rpcCode, -32601, 'with the node\'s JSON-RPC code (method not found)')
  }
  t.ok(/nosuchmethod failed on the Bitcoin backend: Method not found/.test(err.message), `and the node's message: ${err.message}`)
  t.absent(isNotFound(err), 'a missing method is not a missing transaction')
})

test('bitcoin rpc - a wrong api key is refused, and the key is never in the error', { timeout: 60_000 }, async (t) => {
  const chain = await startBcoin(t)
  const wrong = new BitcoinRpc({ url: chain.url, apiKey: SECRET, timeoutMs: 5_000 })
  const err = await throwsCoded(t, () => wrong.getBlockCount())
  t.is(err.code, 'BACKEND_ERROR', 'coded BACKEND_ERROR (the node answered)')
  t.ok(/refused the credentials \(HTTP 401\)/.test(err.message), `says the credentials were refused: ${err.message}`)
  t.absent(err.message.includes(SECRET), 'the message does not carry the key')
  t.absent(JSON.stringify(err).includes(SECRET) || String(err.stack).includes(SECRET), 'nor does the error serialized or its stack')
  const none = new BitcoinRpc({ url: chain.url, timeoutMs: 5_000 })
  t.is((await throwsCoded(t, () => none.getBlockCount())).code, 'BACKEND_ERROR', 'no credentials at all: refused the same way')
})

test('bitcoin rpc - BACKEND_UNREACHABLE for a closed port, naming the URL and never the password', async (t) => {
  const port = await freePort()
  const rpc = new BitcoinRpc({ url: `http://127.0.0.1:${port}/`, username: 'alice', password: SECRET, timeoutMs: 5_000 })
  const err = await throwsCoded(t, () => rpc.getBlockCount())
  t.is(err.code, 'BACKEND_UNREACHABLE', 'coded BACKEND_UNREACHABLE')
  t.ok(err.message.includes(`http://127.0.0.1:${port}/`), `names the URL: ${err.message}`)
  t.ok(/ECONNREFUSED/.test(err.message), 'and why: connection refused')
  t.absent(err.message.includes(SECRET), 'not the password')

  const inUrl = new BitcoinRpc({ url: `http://alice:${SECRET}@127.0.0.1:${port}/`, timeoutMs: 5_000 })
  t.is(inUrl.url, `http://127.0.0.1:${port}/`, 'credentials written in the URL are taken out of it')
  const err2 = await throwsCoded(t, () => inUrl.getBlockCount())
  t.is(err2.code, 'BACKEND_UNREACHABLE', 'unreachable likewise')
  t.absent(err2.message.includes(SECRET) || err2.message.includes('alice'), 'and the message has neither the user nor the password')
})

test('bitcoin rpc - a server that accepts and never answers is BACKEND_UNREACHABLE after timeoutMs', async (t) => {
  const sockets = new Set<net.Socket>()
  const server = http.createServer(() => { /* never answers */ })
  server.on('connection', (s) => sockets.add(s))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => { for (const s of sockets) s.destroy(); await new Promise((resolve) => server.close(resolve)) })
  const { port } = server.address() as net.AddressInfo
  const rpc = new BitcoinRpc({ url: `http://127.0.0.1:${port}/`, password: SECRET, timeoutMs: 200 })
  const started = Date.now()
  const err = await throwsCoded(t, () => rpc.getBlockCount())
  t.is(err.code, 'BACKEND_UNREACHABLE', 'coded BACKEND_UNREACHABLE')
  t.ok(/did not answer getblockcount within 200 ms/.test(err.message), `says it timed out: ${err.message}`)
  t.ok(Date.now() - started < 2_000, 'and gives up at the timeout')
  t.absent(err.message.includes(SECRET), 'no password in it')
})

test('bitcoin rpc - the timeout holds even with a fetch that ignores abort signals (Bare has no AbortController)', async (t) => {
  const never: FetchLike = async () => await new Promise(() => {})
  const rpc = new BitcoinRpc({ url: 'http://127.0.0.1:1/', timeoutMs: 50, fetch: never })
  const err = await throwsCoded(t, () => rpc.call('getblockcount'))
  t.is(err.code, 'BACKEND_UNREACHABLE', 'times out as unreachable')
})

test('bitcoin rpc - answers that are not JSON-RPC, or for another request, are BACKEND_ERROR', async (t) => {
  const html = new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000, fetch: fakeFetch(200, '<html>proxy login</html>').fetch })
  const e1 = await throwsCoded(t, () => html.getBlockCount())
  t.is(e1.code, 'BACKEND_ERROR', 'an HTML page is BACKEND_ERROR')
  t.ok(/no JSON-RPC reply/.test(e1.message), e1.message)

  const other = new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000, fetch: fakeFetch(200, JSON.stringify({ foo: 1 })).fetch })
  t.ok(/not a JSON-RPC reply/.test((await throwsCoded(t, () => other.getBlockCount())).message), 'JSON without result or error is refused')

  const wrongId = new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000, fetch: fakeFetch(200, (req) => JSON.stringify({ result: 7, error: null, id: req.id + 1 })).fetch })
  t.ok(/for another request/.test((await throwsCoded(t, () => wrongId.getBlockCount())).message), 'an answer to another request id is refused')

  const notHeight = new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000, fetch: fakeFetch(200, (req) => JSON.stringify({ result: 'seven', error: null, id: req.id })).fetch })
  t.ok(/not a height/.test((await throwsCoded(t, () => notHeight.getBlockCount())).message), 'a result of the wrong shape is refused by the named call')

  const http500 = new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000, fetch: fakeFetch(500, (req) => JSON.stringify({ result: null, error: { code: -5, message: 'No such mempool or blockchain transaction' }, id: req.id })).fetch })
  const e5 = await throwsCoded(t, () => http500.getRawTransaction('11'.repeat(32), true))
  t.is(e5.code, 'BACKEND_ERROR', 'bitcoind\'s HTTP 500 with an error body is the node\'s error')
  t.ok(isNotFound(e5), 'and bitcoind\'s code -5 reads as "not found"')
})

test('bitcoin rpc - a secret the node echoes back is scrubbed from the message', async (t) => {
  const echo = fakeFetch(200, (req) => JSON.stringify({ result: null, error: { code: -1, message: `bad auth for ${SECRET}` }, id: req.id }))
  const rpc = new BitcoinRpc({ url: 'http://node.example/', apiKey: SECRET, timeoutMs: 1_000, fetch: echo.fetch })
  const err = await throwsCoded(t, () => rpc.call('getblockcount'))
  t.is(err.code, 'BACKEND_ERROR')
  t.absent(err.message.includes(SECRET), `the key is not in the message: ${err.message}`)
  t.ok(err.message.includes('***'), 'it is replaced by ***')
})

test('bitcoin rpc - the request: JSON-RPC 1.0 body, basic auth (bcoin x:apiKey, bitcoind user:password)', async (t) => {
  const a = fakeFetch(200, (req) => JSON.stringify({ result: 3, error: null, id: req.id }))
  await new BitcoinRpc({ url: 'http://node.example:48332/', apiKey: 'k3y', timeoutMs: 1_000, fetch: a.fetch }).getBlockCount()
  t.alike(JSON.parse(a.seen[0].body), { jsonrpc: '1.0', id: 1, method: 'getblockcount', params: [] }, 'a JSON-RPC 1.0 body')
  t.is(a.seen[0].headers.authorization, 'Basic ' + Buffer.from('x:k3y').toString('base64'), 'bcoin: user x, the api key as password')
  const b = fakeFetch(200, (req) => JSON.stringify({ result: 3, error: null, id: req.id }))
  await new BitcoinRpc({ url: 'http://bob:p%C3%A4ss@node.example:8332/', timeoutMs: 1_000, fetch: b.fetch }).getBlockCount()
  t.is(b.seen[0].url, 'http://node.example:8332/', 'the request goes to the URL without credentials')
  t.is(b.seen[0].headers.authorization, 'Basic ' + Buffer.from('bob:päss').toString('base64'), 'bitcoind: user and password from the URL, UTF-8')
})

test('bitcoin rpc - estimatesmartfee: bitcoind feerate and bcoin fee in integer sats per kvB; none is null; unreachable throws', async (t) => {
  const answer = (result: unknown) => new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000, fetch: fakeFetch(200, (req) => JSON.stringify({ result, error: null, id: req.id })).fetch })
  t.alike(await answer({ feerate: 0.00001234, blocks: 6 }).estimateSmartFee(6), { satPerKvB: 1234n, blocks: 6 }, 'bitcoind feerate 0.00001234 BTC/kvB = 1234 sats/kvB')
  t.alike(await answer({ fee: 0.0002, blocks: 2 }).estimateSmartFee(2), { satPerKvB: 20_000n, blocks: 2 }, 'bcoin fee 0.0002 = 20000 sats/kvB')
  t.alike(await answer({ feerate: 0.1 + 0.2, blocks: 1 }).estimateSmartFee(1), { satPerKvB: 30_000_000n, blocks: 1 }, 'converted through decimal text, not float products (0.1 + 0.2)')
  t.is(await answer({ fee: -1, blocks: 6 }).estimateSmartFee(6), null, 'bcoin -1 (no data): null')
  t.is(await answer({ errors: ['Insufficient data or no feerate found'], blocks: 6 }).estimateSmartFee(6), null, 'bitcoind errors: null')
  const erroring = new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000, fetch: fakeFetch(200, (req) => JSON.stringify({ result: null, error: { code: -32601, message: 'Method not found' }, id: req.id })).fetch })
  t.is(await erroring.estimateSmartFee(6), null, 'a node without the method: null')
  const port = await freePort()
  const down = new BitcoinRpc({ url: `http://127.0.0.1:${port}/`, timeoutMs: 1_000 })
  t.is((await throwsCoded(t, () => down.estimateSmartFee(6))).code, 'BACKEND_UNREACHABLE', 'an unreachable backend is shown, not hidden as "no estimate"')
  t.is((await throwsCoded(t, () => answer({}).estimateSmartFee(0))).code, 'BAD_ARGUMENT', 'a target of 0 blocks is refused')
})

test('bitcoin rpc - the constructor refuses what cannot work', async (t) => {
  const codeOf = (fn: () => unknown): string | undefined => { try { fn() } catch (err) { return (err as GrowrError).code } }
  t.is(codeOf(() => new BitcoinRpc({ url: 'ftp://node.example/', timeoutMs: 1_000 })), 'BAD_ARGUMENT', 'a URL that is not http(s)')
  t.is(codeOf(() => new BitcoinRpc({ url: 'not a url', timeoutMs: 1_000 })), 'BAD_ARGUMENT', 'not a URL')
  t.is(codeOf(() => new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 0 })), 'BAD_ARGUMENT', 'no timeout')
  const saved = globalThis.fetch
  try {
    // @ts-expect-error: as under Bare, where there is no global fetch
    delete globalThis.fetch
    t.is(codeOf(() => new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000 })), 'BAD_ARGUMENT', 'no fetch in the runtime and none given (Bare)')
    t.is(codeOf(() => new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000, fetch: fakeFetch(200, '').fetch })), undefined, 'a given fetch is enough')
  } finally {
    globalThis.fetch = saved
  }
  t.is((await throwsCoded(t, () => new BitcoinRpc({ url: 'http://node.example/', timeoutMs: 1_000, fetch: fakeFetch(200, '').fetch }).getBlockHeader('zz'))).code, 'BAD_ARGUMENT', 'a block hash that is not hex is refused before any request')
})
