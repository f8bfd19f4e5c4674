// The wallet's payer (core/rails/bitcoin/payer.ts) over a real bcoin regtest chain: coins the
// scanner found are spent to one or several outputs (a distribution) with change to a fresh
// internal address, at least the fee rate asked; refusals carry codes and figures; a backend that
// is down at broadcast loses nothing and the retry sends the same transaction (paid once); a fee
// bump replaces a stuck transaction and the original is reported replaced, and a bump the node
// refuses never lets both confirm.
import test from 'brittle'
import { Transaction } from '@scure/btc-signer'
import { hex } from '@scure/base'
import { BitcoinRpc } from '../core/rails/bitcoin/rpc.ts'
import { ChainScanner, type WalletLabel } from '../core/rails/bitcoin/scanner.ts'
import { Payer, seedSigner, type PayerRpc, type PayerStateJson, type PayOutput } from '../core/rails/bitcoin/payer.ts'
import { GrowrError } from '../core/errors.ts'
import { mnemonicToSeed } from '../core/wallet/bip39.ts'
import { Bip84Account, bitcoinNetwork, BCOIN_REGTEST_BECH32 } from '../core/wallet/bip84.ts'
import { receiveIndexFor } from '../core/wallet/receive-index.ts'
import { startBcoin, bcoinInstalled, testKey, freePort, type Bcoin } from './helpers/bcoin.ts'

const NET = bitcoinNetwork('regtest', { bech32: BCOIN_REGTEST_BECH32 })
const SEED = mnemonicToSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about')
const account = Bip84Account.fromSeed(SEED, NET)
const investors = Bip84Account.fromSeed(mnemonicToSeed('legal winner thank year wave sausage worth useful legal winner thank yellow'), NET)
const miner = testKey(0)
const FUNDS = 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbb'
const fundsIndex = receiveIndexFor(FUNDS)
const fundsAddr = account.receive(fundsIndex)
const COINBASE = 5_000_000_000n
const skip = !bcoinInstalled()

interface Wallet { node: Bcoin, rpc: BitcoinRpc, scanner: ChainScanner<WalletLabel>, payer: Payer, saved: () => PayerStateJson | null }

/** A chain whose blocks 1..4 pay the wallet (4 x 50 BTC, mature, SegWit active), a synced scanner and a payer. */
async function wallet (t: Parameters<typeof startBcoin>[0], opts: { rpc?: (live: BitcoinRpc) => PayerRpc, mempoolWaitMs?: number } = {}): Promise<Wallet> {
  const node = await startBcoin(t)
  await node.rpc('generatetoaddress', [4, fundsAddr.address])
  await node.rpc('generatetoaddress', [446, miner.address])
  const rpc = new BitcoinRpc({ url: node.url, apiKey: 'growr-test-' + process.pid, timeoutMs: 5_000 })
  const scanner = new ChainScanner<WalletLabel>({ rpc, network: 'regtest', birthday: 0, blocksPerSync: 1000 })
  scanner.watch(fundsAddr.script, { chain: 'receive', index: fundsIndex, ref: FUNDS })
  await sync(scanner)
  let saved: PayerStateJson | null = null
  const payer = new Payer({ rpc: opts.rpc?.(rpc) ?? rpc, scanner, account, signer: seedSigner(SEED, account), onState: (s) => { saved = JSON.parse(JSON.stringify(s)) }, mempoolWaitMs: opts.mempoolWaitMs ?? 5_000 })
  return { node, rpc, scanner, payer, saved: () => saved }
}

async function sync (s: ChainScanner<WalletLabel>): Promise<void> {
  while (!(await s.sync()).caughtUp);
}

async function mine (w: Wallet, n = 1): Promise<string[]> {
  const hashes = await w.node.rpc<string[]>('generatetoaddress', [n, miner.address])
  await sync(w.scanner)
  return hashes
}

async function onChain (w: Wallet, txid: string): Promise<Transaction> {
  return Transaction.fromRaw(hex.decode(await w.rpc.getRawTransaction(txid)), { allowUnknownOutputs: true })
}

async function rejects (fn: () => Promise<unknown>): Promise<GrowrError & Record<string, any>> {
  try { await fn() } catch (err) { if (err instanceof GrowrError) return err as GrowrError & Record<string, any>; throw err }
  throw new Error('did not throw')
}

function to (i: number, amount: bigint): PayOutput {
  return { address: investors.receive(i).address, amount }
}

test('bitcoin payer - one output, then a three-investor distribution: exact outputs, change to fresh change addresses, fee rate respected', { skip, timeout: 60_000 }, async (t) => {
  const w = await wallet(t)
  t.is(w.scanner.balance().confirmed, 4n * COINBASE, 'the wallet holds 4 x 50 BTC')
  t.is(await w.payer.feeRate(), 1n, 'bcoin regtest has no estimate: the floor, 1 sat/vB')

  const one = await w.payer.pay([to(0, 1_000_000n)], { ref: 'loan-1' })
  t.is(one.status.state, 'mempool', 'the node\'s mempool holds it when pay() returns')
  t.is(one.change?.index, 0, 'change to change index 0')
  await mine(w)
  t.alike(w.payer.status(one.txid), { state: 'confirmed', confirmations: 1 }, 'mined: confirmed, 1 confirmation')
  const tx1 = await onChain(w, one.txid)
  t.is(tx1.outputsLength, 2, 'the payment and the change')
  t.alike(tx1.getOutput(0).script, investors.receive(0).script, 'output 0 pays the investor')
  t.is(tx1.getOutput(0).amount, 1_000_000n, 'exactly 1,000,000 sats')
  t.alike(tx1.getOutput(1).script, account.change(0).script, 'output 1 is the wallet\'s change address 0')
  t.ok(one.fee >= BigInt(tx1.vsize) * 1n, `fee ${one.fee} >= vsize ${tx1.vsize} x 1 sat/vB`)

  const outs = [to(1, 60_000_000n), to(2, 25_000_000n), to(3, 10_500_123n)]
  const dist = await w.payer.pay(outs, { ref: 'distribution-1', feeRate: 7n })
  await mine(w)
  const tx2 = await onChain(w, dist.txid)
  t.is(tx2.outputsLength, 4, 'three investors and the change')
  for (const [i, o] of outs.entries()) {
    t.alike(tx2.getOutput(i).script, investors.receive(i + 1).script, `output ${i} pays investor ${i + 1}`)
    t.is(tx2.getOutput(i).amount, o.amount, `output ${i}: ${o.amount} sats`)
  }
  t.is(dist.change?.index, 1, 'change to a fresh change address: index 1, not 0 again')
  t.alike(tx2.getOutput(3).script, account.change(1).script, 'output 3 is change address 1')
  t.ok(dist.fee >= BigInt(tx2.vsize) * 7n, `fee ${dist.fee} >= vsize ${tx2.vsize} x 7 sat/vB`)
  for (let i = 0; i < tx2.inputsLength; i++) t.is(tx2.getInput(i).sequence, 0xfffffffd, `input ${i} signals RBF`)

  const again = await w.payer.pay([to(0, 1_000_000n)], { ref: 'loan-1' })
  t.ok(again.reused && again.txid === one.txid, 'the same ref again: the first transaction, nothing paid twice')
  t.is(w.payer.transactions().length, 2, 'two transactions made in all')
  const spent = 1_000_000n + one.fee + outs.reduce((n, o) => n + o.amount, 0n) + dist.fee
  t.is(w.scanner.balance().confirmed, 4n * COINBASE - spent, 'the balance fell by the payments and the fees, change counted')
})

test('bitcoin payer - refusals: insufficient funds with the figures, another network, dust, a fee rate over the cap', { skip, timeout: 60_000 }, async (t) => {
  const w = await wallet(t)
  const poor = await rejects(() => w.payer.pay([to(0, 4n * COINBASE)]))
  t.is(poor.code, 'INSUFFICIENT_FUNDS', `paying the whole balance plus a fee: INSUFFICIENT_FUNDS (${poor.message})`)
  t.is(poor.available, 4n * COINBASE, 'available: the 4 coins')
  t.ok(poor.needed > 4n * COINBASE && poor.missing === poor.needed - poor.available, `needed ${String(poor.needed)}, missing ${String(poor.missing)}`)

  const mainnet = Bip84Account.fromSeed(SEED, 'mainnet').receive(0).address
  const net = await rejects(() => w.payer.pay([{ address: mainnet, amount: 100_000n }]))
  t.ok(net.code === 'BAD_ARGUMENT' && /another network/.test(net.message), `a mainnet address: BAD_ARGUMENT (${net.message})`)
  const dust = await rejects(() => w.payer.pay([to(0, 293n)]))
  t.ok(dust.code === 'BAD_ARGUMENT' && /dust/.test(dust.message), `293 sats to P2WPKH: BAD_ARGUMENT (${dust.message})`)
  const cap = await rejects(() => w.payer.pay([to(0, 100_000n)], { feeRate: 501n }))
  t.ok(cap.code === 'BAD_ARGUMENT' && /cap/.test(cap.message), `501 sat/vB: above the cap (${cap.message})`)
  const none = await rejects(() => w.payer.pay([]))
  t.is(none.code, 'BAD_ARGUMENT', 'no outputs: BAD_ARGUMENT')
  t.is(w.payer.transactions().length, 0, 'nothing was signed')
  t.is(w.scanner.balance().confirmed, 4n * COINBASE, 'nothing spent')
})

test('bitcoin payer - backend down: BACKEND_UNREACHABLE, the retry after a restart broadcasts the same txid, paid once', { skip, timeout: 60_000 }, async (t) => {
  const dead = new BitcoinRpc({ url: `http://127.0.0.1:${await freePort()}/`, timeoutMs: 2_000 })
  const w = await wallet(t, {
    // the connection is refused exactly when the transaction is sent
    rpc: (live) => ({
      estimateSmartFee: live.estimateSmartFee.bind(live),
      getRawMempool: live.getRawMempool.bind(live),
      getRawTransaction: live.getRawTransaction.bind(live) as PayerRpc['getRawTransaction'],
      sendRawTransaction: dead.sendRawTransaction.bind(dead)
    })
  })
  const allDown = new Payer({ rpc: dead, scanner: w.scanner, account, signer: seedSigner(SEED, account) })
  t.is((await rejects(() => allDown.pay([to(0, 500_000n)]))).code, 'BACKEND_UNREACHABLE', 'a backend down before anything is signed: BACKEND_UNREACHABLE')
  t.is(allDown.transactions().length, 0, 'nothing signed')

  const outs = [to(4, 30_000_000n), to(5, 20_000_000n)]
  const err = await rejects(() => w.payer.pay(outs, { ref: 'distribution-7' }))
  t.is(err.code, 'BACKEND_UNREACHABLE', `down at broadcast: BACKEND_UNREACHABLE (${err.message})`)
  const saved = w.saved()
  t.is(saved?.txs.length, 1, 'the signed transaction was stored before the broadcast')
  const kept = String(saved?.txs[0].txid)
  t.alike(w.payer.status(kept), { state: 'unbroadcast' }, 'unbroadcast')
  t.absent((await w.rpc.getRawMempool()).includes(kept), 'the node never got it')

  // the node restarts from what it stored
  const scanner = new ChainScanner<WalletLabel>({ rpc: w.rpc, network: 'regtest', state: JSON.parse(JSON.stringify(w.scanner.toJSON())) })
  await sync(scanner)
  const payer = new Payer({ rpc: w.rpc, scanner, account, signer: seedSigner(SEED, account), state: saved })
  const other = await payer.pay([to(6, 1_000_000n)], { ref: 'loan-9' })
  const otherTx = await onChain(w, other.txid)
  const keptOps = (saved?.txs[0].inputs as Array<{ txid: string, vout: number }>).map((i) => `${i.txid}:${i.vout}`)
  let overlap = false
  for (let i = 0; i < otherTx.inputsLength; i++) {
    const inp = otherTx.getInput(i)
    if (keptOps.includes(`${hex.encode(inp.txid as Uint8Array)}:${String(inp.index)}`)) overlap = true
  }
  t.ok(keptOps.length > 0 && !overlap, 'another payment meanwhile does not touch the coins of the kept transaction')

  const retry = await payer.pay(outs, { ref: 'distribution-7' })
  t.is(retry.txid, kept, 'the retry broadcasts the same transaction')
  t.ok(retry.reused, 'reused, not rebuilt')
  t.is(retry.status.state, 'mempool', 'now in the mempool')
  const [block] = await w.node.rpc<string[]>('generatetoaddress', [1, miner.address])
  await sync(scanner)
  const mined = await w.node.rpc<{ tx: Array<{ vout: Array<{ scriptPubKey: { hex: string } }> }> }>('getblock', [block, true, true])
  const paidTo4 = mined.tx.flatMap((x) => x.vout).filter((o) => o.scriptPubKey.hex === hex.encode(investors.receive(4).script)).length
  t.is(paidTo4, 1, 'investor 4 is paid once')
  t.alike(payer.status(kept), { state: 'confirmed', confirmations: 1 }, 'confirmed')
})

test('bitcoin payer - a fee bump replaces a dropped transaction and the original is reported replaced; a refused bump never pays twice', { skip, timeout: 60_000 }, async (t) => {
  const w = await wallet(t, { mempoolWaitMs: 1_500 })
  const outs = [to(7, 40_000_000n)]

  // bcoin 1.0.2 has no mempool replacement: a bump of a transaction its mempool holds is refused
  const first = await w.payer.pay(outs, { ref: 'repay-1' })
  const refused = await rejects(() => w.payer.bumpFee(first.txid, 3n))
  t.is(refused.code, 'BACKEND_ERROR', `a replacement the node does not take: BACKEND_ERROR (${refused.message})`)
  const bump0 = w.payer.transactions()[1]
  t.is(bump0.replaces, first.txid, 'the refused replacement is kept, linked to the original')
  t.is(w.payer.status(first.txid).state, 'mempool', 'the original still waits')
  await mine(w)
  t.alike(w.payer.status(first.txid), { state: 'confirmed', confirmations: 1 }, 'the original confirms')
  t.alike(w.payer.status(bump0.txid), { state: 'replaced', by: first.txid, confirmed: true }, 'the refused bump can never confirm: its coins are spent by the original')
  await t.exception(w.payer.rebroadcast(bump0.txid), /replaced/, 'and is not broadcast again')

  // a transaction that fell out (its block orphaned; bcoin does not return it to the mempool)
  const stuck = await w.payer.pay([to(8, 15_000_000n), to(9, 5_000_000n)], { ref: 'distribution-9' })
  const [block] = await mine(w)
  await w.node.rpc('invalidateblock', [block])
  await mine(w, 2)
  t.alike(w.payer.status(stuck.txid), { state: 'dropped' }, 'its block was orphaned: dropped')
  const low = await rejects(() => w.payer.bumpFee(stuck.txid, 1n))
  t.ok(low.code === 'BAD_ARGUMENT' && /more than/.test(low.message), `a rate not above the original's: BAD_ARGUMENT (${low.message})`)

  const bump = await w.payer.bumpFee(stuck.txid, 4n)
  t.is(bump.status.state, 'mempool', 'the replacement is in the mempool')
  t.alike(w.payer.status(stuck.txid), { state: 'replaced', by: bump.txid, confirmed: false }, 'the original is reported replaced')
  const tx = await onChain(w, bump.txid)
  const original = w.payer.transactions().find((x) => x.txid === stuck.txid)
  const spends = new Set(Array.from({ length: tx.inputsLength }, (_, i) => `${hex.encode(tx.getInput(i).txid as Uint8Array)}:${String(tx.getInput(i).index)}`))
  t.ok(original?.inputs.every((i) => spends.has(`${i.txid}:${i.vout}`)), 'it spends every coin of the original')
  t.alike(tx.getOutput(0).script, investors.receive(8).script, 'same outputs: investor 8')
  t.is(tx.getOutput(1).amount, 5_000_000n, 'investor 9, same amount')
  t.is(bump.change?.index, stuck.change?.index, 'change to the same change address')
  t.ok(bump.fee >= BigInt(tx.vsize) * 4n, `fee ${bump.fee} >= vsize ${tx.vsize} x 4 sat/vB`)
  t.ok(bump.fee >= stuck.fee + BigInt(tx.vsize), `fee ${bump.fee} >= the original's ${stuck.fee} + 1 sat/vB of its own size (BIP-125 rule 4)`)

  await mine(w)
  t.alike(w.payer.status(bump.txid), { state: 'confirmed', confirmations: 1 }, 'the replacement confirms')
  t.alike(w.payer.status(stuck.txid), { state: 'replaced', by: bump.txid, confirmed: true }, 'the original: replaced by a confirmed transaction')
  const again = await w.payer.pay([to(8, 15_000_000n), to(9, 5_000_000n)], { ref: 'distribution-9' })
  t.is(again.txid, bump.txid, 'paying distribution-9 again returns the replacement: nothing paid twice')
})
