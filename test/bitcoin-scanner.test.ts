// The wallet's chain scanner (core/rails/bitcoin/scanner.ts) over a real bcoin regtest chain
// (test/helpers/bcoin.ts): coins mined and paid to watched scripts (receive addresses derived
// from record ids, not sequential) are found, others ignored; confirmations grow with blocks;
// mempool payments show as unconfirmed; a reorganisation (invalidateblock + a longer branch)
// takes a payment away and brings it back; a restart from the exported state reads only the new
// blocks; a hostile or unreachable backend leaves the state as it was.
import test from 'brittle'
import { hex } from '@scure/base'
import { BitcoinRpc } from '../core/rails/bitcoin/rpc.ts'
import { ChainScanner, parseBlock, type ScannerRpc, type WalletLabel } from '../core/rails/bitcoin/scanner.ts'
import { GrowrError } from '../core/errors.ts'
import { mnemonicToSeed } from '../core/wallet/bip39.ts'
import { Bip84Account, bitcoinNetwork, BCOIN_REGTEST_BECH32 } from '../core/wallet/bip84.ts'
import { receiveIndexFor } from '../core/wallet/receive-index.ts'
import { startBcoin, bcoinInstalled, testKey, signSpend, broadcast, coinbaseOf, freePort, untilInMempool, type Bcoin } from './helpers/bcoin.ts'

const NET = bitcoinNetwork('regtest', { bech32: BCOIN_REGTEST_BECH32 })
const account = Bip84Account.fromSeed(mnemonicToSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'), NET)
const miner = testKey(0)
const stranger = testKey(9)
const LOAN = '0123456789abcdef0123456789abcdef'
const FUNDING = 'fedcba9876543210fedcba9876543210'
const loanIndex = receiveIndexFor(LOAN)
const fundingIndex = receiveIndexFor(FUNDING)
const loanAddr = account.receive(loanIndex)
const fundingAddr = account.receive(fundingIndex)
const COINBASE = 5_000_000_000n
const skip = !bcoinInstalled()
/** The regtest block subsidy at height h: 50 BTC halved every 150 blocks. */
const subsidy = (h: number): bigint => COINBASE >> BigInt(Math.floor(h / 150))

interface Chain { node: Bcoin, rpc: BitcoinRpc }

/** A regtest chain: blocks 1..3 pay the loan address, 4..450 the miner (SegWit active, coins mature). */
async function chain (t: Parameters<typeof startBcoin>[0]): Promise<Chain> {
  const node = await startBcoin(t)
  await node.rpc('generatetoaddress', [3, loanAddr.address])
  await node.rpc('generatetoaddress', [447, miner.address])
  return { node, rpc: new BitcoinRpc({ url: node.url, apiKey: 'growr-test-' + process.pid, timeoutMs: 5_000 }) }
}

function scanner (rpc: ScannerRpc, opts: { state?: unknown, blocksPerSync?: number } = {}): ChainScanner<WalletLabel> {
  const s = new ChainScanner<WalletLabel>({ rpc, network: 'regtest', birthday: 0, ...opts })
  if (opts.state === undefined) {
    s.watch(loanAddr.script, { chain: 'receive', index: loanIndex, ref: LOAN })
    s.watch(fundingAddr.script, { chain: 'receive', index: fundingIndex, ref: FUNDING })
  }
  return s
}

async function catchUp (s: ChainScanner<WalletLabel>): Promise<number> {
  let rounds = 0
  for (;;) {
    rounds++
    if ((await s.sync()).caughtUp) return rounds
  }
}

/** The miner pays `amount` to `to` (and something to a stranger) from block `h`'s coinbase; returns the tx, in the mempool. */
async function pay (node: Bcoin, h: number, to: string, amount: bigint): Promise<{ txid: string, raw: string }> {
  const cb = await coinbaseOf(node, h)
  const raw = signSpend(miner, cb, [{ address: to, amount }, { address: stranger.address, amount: 7_000_000n }, { address: miner.address, amount: cb.amount - amount - 7_000_000n - 5_000n }])
  return { txid: await broadcast(node, raw), raw }
}

async function mine (node: Bcoin, n: number, to = miner.address): Promise<string[]> {
  return await node.rpc<string[]>('generatetoaddress', [n, to])
}

async function rejects (fn: () => Promise<unknown>): Promise<GrowrError> {
  try { await fn() } catch (err) { if (err instanceof GrowrError) return err; throw err }
  throw new Error('did not throw')
}

test('bitcoin scanner - finds coins to watched non-sequential addresses, ignores others, counts confirmations, sees the mempool', { skip, timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const s = scanner(c.rpc, { blocksPerSync: 200 })
  const first = await s.sync()
  t.is(first.blocks, 200, 'one sync reads at most blocksPerSync blocks')
  t.absent(first.caughtUp, 'and says it has not caught up')
  await catchUp(s)
  t.is(s.height, 450, 'caught up with the tip')
  t.ok(loanIndex > 1000, `the loan address sits at index ${loanIndex}, far past any gap limit`)

  const coins = s.utxos()
  t.is(coins.length, 3, 'three coins: the coinbases of blocks 1..3 (the miner\'s 447 are ignored)')
  t.ok(coins.every((u) => u.script === hex.encode(loanAddr.script) && u.label.ref === LOAN && u.coinbase), 'each pays the loan address, labelled with its record')
  t.is(s.balance().confirmed, 3n * COINBASE, 'confirmed balance: 3 x 50 BTC, in sats')
  t.alike(coins.map((u) => u.confirmations).sort((a, b) => a - b), [448, 449, 450], 'confirmations from their heights')

  const { txid } = await pay(c.node, 10, fundingAddr.address, 123_456_789n)
  await s.sync()
  t.is(s.balance().unconfirmed, 123_456_789n, 'a mempool payment is unconfirmed balance')
  t.is(s.confirmations(txid), 0, 'with 0 confirmations')
  const pending = s.paymentsTo(fundingAddr.script)
  t.is(pending.length, 1, 'one payment to the funding address')
  t.is(pending[0].height, null, 'not in a block yet')
  t.is(pending[0].label.ref, FUNDING, 'labelled')

  await mine(c.node, 1)
  await s.sync()
  t.is(s.confirmations(txid), 1, 'mined: 1 confirmation')
  t.is(s.balance().unconfirmed, 0n, 'nothing unconfirmed')
  t.is(s.balance().confirmed, 3n * COINBASE + 123_456_789n, 'confirmed balance includes it')
  await mine(c.node, 2)
  await s.sync()
  t.is(s.confirmations(txid), 3, 'two blocks later: 3 confirmations')
  t.is(s.paymentsTo(fundingAddr.script)[0].confirmations, 3, 'the payment too')
  t.is(s.utxos().length, 4, 'the stranger\'s and the miner\'s change outputs are not the wallet\'s')

  await mine(c.node, 1, fundingAddr.address)
  await s.sync()
  t.is(s.balance().immature, subsidy(454), 'a fresh coinbase to a watched address is immature (6.25 BTC: regtest halves every 150 blocks)')
  t.is(s.utxos().length, 4, 'and not spendable')
})

test('bitcoin scanner - a reorganisation takes a payment away, a new branch brings it back', { skip, timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const s = scanner(c.rpc, { blocksPerSync: 500 })
  await catchUp(s)
  const { txid, raw } = await pay(c.node, 20, fundingAddr.address, 50_000_000n)
  const [block] = await mine(c.node, 1)
  await s.sync()
  t.is(s.confirmations(txid), 1, 'the payment is confirmed in block 451')
  t.is(s.balance().confirmed, 3n * COINBASE + 50_000_000n, 'and in the balance')

  await c.node.rpc('invalidateblock', [block])
  await mine(c.node, 2)
  const r = await s.sync()
  t.alike(r.reorganised, { from: 451, to: 450 }, 'the scanner saw block 451 replaced and rolled back to 450')
  t.is(s.height, 452, 'then read the new branch')
  t.is(s.confirmations(txid), null, 'the payment is gone (bcoin does not return it to its mempool)')
  t.is(s.paymentsTo(fundingAddr.script).length, 0, 'no payment to the funding address')
  t.is(s.balance().confirmed, 3n * COINBASE, 'balance as before it')

  await c.node.rpc('sendrawtransaction', [raw])
  t.ok(await untilInMempool(c.node, txid), 'broadcast again')
  await s.sync()
  t.is(s.confirmations(txid), 0, 'it is back, unconfirmed')
  await mine(c.node, 1)
  await s.sync()
  t.is(s.confirmations(txid), 1, 'and confirmed on the new branch')
  t.is(s.paymentsTo(fundingAddr.script)[0].height, 453, 'at height 453')
  t.is(s.balance().confirmed, 3n * COINBASE + 50_000_000n, 'balance right again')
})

test('bitcoin scanner - resumes from its exported state and reads only new blocks; damaged or foreign states refused', { skip, timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  const s = scanner(c.rpc, { blocksPerSync: 500 })
  await catchUp(s)
  const saved = JSON.parse(JSON.stringify(s.toJSON()))
  t.is(saved.version, 1, 'versioned')
  t.is(typeof saved.utxos[0].value, 'string', 'amounts as decimal strings')

  await mine(c.node, 3, loanAddr.address)
  const again = scanner(c.rpc, { state: saved })
  t.is(again.height, 450, 'restarts at the height it had')
  const r = await again.sync()
  t.is(r.blocks, 3, 'reads only the three new blocks')
  t.is(again.balance().confirmed, 3n * COINBASE, 'the three old coins, kept in the state')
  t.is(again.balance().immature, 3n * subsidy(451), 'and the three new coinbases, immature')

  t.is((await rejects(async () => scanner(c.rpc, { state: { ...saved, version: 2 } }))).code, 'UNSUPPORTED_VERSION', 'an unknown version: UNSUPPORTED_VERSION')
  t.is((await rejects(async () => new ChainScanner({ rpc: c.rpc, network: 'mainnet', state: saved }))).code, 'BAD_ARGUMENT', 'another network\'s state: refused')
  const bad = JSON.parse(JSON.stringify(saved))
  bad.utxos[0].value = '1.5'
  t.is((await rejects(async () => scanner(c.rpc, { state: bad }))).code, 'BAD_ARGUMENT', 'a non-integer amount: refused')
  const foreign = JSON.parse(JSON.stringify(saved))
  foreign.utxos[0].script = hex.encode(stranger.script)
  t.is((await rejects(async () => scanner(c.rpc, { state: foreign }))).code, 'BAD_ARGUMENT', 'a coin of a script not watched: refused')
})

test('bitcoin scanner - hostile backend: wrong, malformed or mutated blocks and transactions refused, state untouched', { skip, timeout: 60_000 }, async (t) => {
  const c = await chain(t)
  await pay(c.node, 30, fundingAddr.address, 10_000_000n)
  await pay(c.node, 31, fundingAddr.address, 20_000_000n)
  const [withTxs] = await mine(c.node, 1) // block 451: coinbase + 2 payments
  const s = scanner(c.rpc, { blocksPerSync: 451 }) // heights 0..450: block 451 is next
  await s.sync()
  t.is(s.height, 450, 'the scanner stands before block 451')
  const before = JSON.stringify(s.toJSON())
  const good = await c.rpc.getBlock(withTxs)
  const other = await c.rpc.getBlock(await c.rpc.getBlockHash(5))

  // CVE-2012-2459: with three transactions, repeating the last gives the same Merkle root
  const bytes = hex.decode(good)
  t.is(bytes[80], 3, 'block 451 holds three transactions')
  const lastTx = await c.rpc.getRawTransaction((await c.node.rpc<{ tx: Array<{ txid: string }> }>('getblock', [withTxs, true, true])).tx[2].txid)
  const mutated = hex.encode(bytes.slice(0, 80)) + '04' + good.slice(162) + lastTx
  t.ok(/appears twice/.test((parseBlock(hex.decode(mutated), withTxs, 'regtest') as { reason: string }).reason ?? ''), 'a duplicated last transaction (same Merkle root) is refused by parseBlock')

  // an output script changed: the txid, so the Merkle root, no longer match
  const at = good.indexOf(hex.encode(fundingAddr.script)) + 10
  t.ok(at > 10, 'block 451 pays the funding script')
  const flipped = good.slice(0, at) + (good[at] === '0' ? '1' : '0') + good.slice(at + 1)
  const cases: Array<[string, (hash: string) => Promise<string>]> = [
    ['another block', async () => other],
    ['a truncated block', async () => good.slice(0, good.length - 10)],
    ['a byte changed in a transaction', async () => flipped],
    ['bytes after the last transaction', async () => good + '00'],
    ['a duplicated transaction (CVE-2012-2459)', async () => mutated]
  ]
  for (const [what, getBlock] of cases) {
    const hostile: ScannerRpc = {
      getBlockCount: c.rpc.getBlockCount.bind(c.rpc),
      getBlockHash: c.rpc.getBlockHash.bind(c.rpc),
      getRawMempool: c.rpc.getRawMempool.bind(c.rpc),
      getRawTransaction: c.rpc.getRawTransaction.bind(c.rpc) as ScannerRpc['getRawTransaction'],
      getBlock: async (hash: string) => hash === withTxs ? await getBlock(hash) : await c.rpc.getBlock(hash)
    }
    const h = scanner(hostile, { state: JSON.parse(before) })
    const err = await rejects(() => h.sync())
    t.is(err.code, 'BACKEND_ERROR', `${what}: BACKEND_ERROR (${err.message})`)
    t.is(JSON.stringify(h.toJSON()), before, `${what}: the state is as it was`)
  }

  await pay(c.node, 32, fundingAddr.address, 30_000_000n)
  const lying: ScannerRpc = {
    getBlockCount: c.rpc.getBlockCount.bind(c.rpc),
    getBlockHash: c.rpc.getBlockHash.bind(c.rpc),
    getBlock: c.rpc.getBlock.bind(c.rpc),
    getRawMempool: c.rpc.getRawMempool.bind(c.rpc),
    getRawTransaction: (async () => lastTx) as unknown as ScannerRpc['getRawTransaction']
  }
  const l = scanner(lying, { state: JSON.parse(before) })
  const err = await rejects(() => l.sync())
  t.is(err.code, 'BACKEND_ERROR', `a mempool transaction answered for another txid: BACKEND_ERROR (${err.message})`)
  t.is(l.balance().unconfirmed, 0n, 'nothing unconfirmed taken from it')

  const dead = new BitcoinRpc({ url: `http://127.0.0.1:${await freePort()}/`, timeoutMs: 2_000 })
  const d = scanner(dead, { state: JSON.parse(before) })
  t.is((await rejects(() => d.sync())).code, 'BACKEND_UNREACHABLE', 'a backend that is down: BACKEND_UNREACHABLE')
  t.is(JSON.stringify(d.toJSON()), before, 'state untouched')

  const honest = scanner(c.rpc, { state: JSON.parse(before) })
  await catchUp(honest)
  t.is(honest.balance().confirmed, 3n * COINBASE + 10_000_000n + 20_000_000n, 'the honest backend: block 451\'s two payments counted')
  t.is(honest.balance().unconfirmed, 30_000_000n, 'and the mempool one')
})
