// The payer's PSBT over a real bcoin regtest chain (test/helpers/bcoin.ts): coinbases mined to a
// BIP-84 address of the wallet are its coins; a distribution to three investors with change is
// built, signed, broadcast and mined; the block holds it with its outputs, RBF signalled, change to
// the fresh internal address, and at least the fee rate asked. A second spend of the same coin is
// refused by the node, in the mempool and after the block.
import test from 'brittle'
import { Transaction, OutScript } from '@scure/btc-signer'
import { hex } from '@scure/base'
import { startBcoin, bcoinInstalled, untilInMempool, type Bcoin } from './helpers/bcoin.ts'
import { mnemonicToSeed } from '../core/wallet/bip39.ts'
import { Bip84Account, bitcoinNetwork, BCOIN_REGTEST_BECH32 } from '../core/wallet/bip84.ts'
import { buildPsbt, signPsbt, RBF_SEQUENCE, type WalletUtxo } from '../core/rails/bitcoin/psbt.ts'

const NET = bitcoinNetwork('regtest', { bech32: BCOIN_REGTEST_BECH32 })
const SEED = mnemonicToSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about')
const INVESTORS_SEED = mnemonicToSeed('legal winner thank year wave sausage worth useful legal winner thank yellow')
const account = Bip84Account.fromSeed(SEED, NET)
const investors = Bip84Account.fromSeed(INVESTORS_SEED, NET)

interface RpcBlock { tx: Array<{ txid: string, vout: Array<{ value: number, n: number, scriptPubKey: { hex: string } }> }> }

/** BTC as the RPC prints it (a JSON number with at most 8 decimals) to sats, exactly, via its decimal text. */
function sats (btc: number): bigint {
  const [whole, frac = ''] = btc.toFixed(8).split('.')
  return BigInt(whole) * 100_000_000n + BigInt(frac.padEnd(8, '0'))
}

async function rejectsMsg (t: any, p: Promise<unknown>, msg: string): Promise<void> {
  try {
    await p
    t.fail(`${msg}: the node answered`)
  } catch (err) {
    t.pass(`${msg} (${(err as Error).message})`)
  }
}


/**
 * Sends `raw` and finds out whether the node kept it. bcoin 1.0.2's sendrawtransaction (and its
 * REST /broadcast) answers with the txid even when its mempool refuses the transaction (the
 * refusal only goes to its log), so: send it, then a valid `sentinel`; bcoin's mempool takes
 * transactions one at a time in arrival order, so once the sentinel is in, the first was decided.
 * @returns whether the node's mempool holds the transaction.
 */
async function kept (node: Bcoin, raw: string, txid: string, sentinel: { hex: string, txid: string }): Promise<boolean> {
  await node.rpc('sendrawtransaction', [raw])
  await node.rpc('sendrawtransaction', [sentinel.hex])
  if (!(await untilInMempool(node, sentinel.txid))) throw new Error('the sentinel transaction never reached the mempool')
  return (await node.rpc<string[]>('getrawmempool')).includes(txid)
}

test('psbt regtest - a three-investor distribution with change: built, signed, mined; a double spend refused', { skip: !bcoinInstalled() }, async (t) => {
  const node = await startBcoin(t)
  const mine = account.receive(0)
  await node.rpc('generatetoaddress', [450, mine.address]) // past SegWit (~432) and coinbase maturity (100)

  // The wallet's coins: the coinbases of blocks 1..5, each paying `mine`.
  const utxos: WalletUtxo[] = []
  for (let h = 1; h <= 5; h++) {
    const block = await node.rpc<RpcBlock>('getblock', [await node.rpc<string>('getblockhash', [h]), true, true])
    const cb = block.tx[0]
    const out = cb.vout.find((o) => o.scriptPubKey.hex === hex.encode(mine.script))
    t.ok(out !== undefined, `block ${h}'s coinbase pays the wallet's ${mine.path}`)
    if (out === undefined) return
    utxos.push({ txid: cb.txid, vout: out.n, amount: sats(out.value), chain: 'receive', index: 0 })
  }
  t.is(utxos[0].amount, 5_000_000_000n, 'a regtest coinbase: 50 BTC')

  const changeAddress = account.change(0)
  const payments = [
    { address: investors.receive(0).address, amount: 6_000_000_000n },
    { address: investors.receive(1).address, amount: 2_500_000_000n },
    { address: investors.receive(2).address, amount: 1_050_000_123n }
  ]
  const feeRate = 3n
  const built = buildPsbt({ account, utxos: utxos.slice(0, 3), outputs: payments, feeRate, changeAddress })
  // Two sentinels (see kept()), each spending a coin of its own: blocks 4 and 5's coinbases.
  const sentinels = [3, 4].map((i) => {
    const b = buildPsbt({ account, utxos: [utxos[i]], outputs: [{ address: investors.receive(10 + i).address, amount: 10_000n }], feeRate, changeAddress: account.change(10 + i) })
    return signPsbt(b.psbt, { seed: SEED, account, selection: b.selection })
  })
  t.is(built.selection.inputs.length, 2, '95.5 BTC needs two coinbases')
  t.ok(built.selection.change !== null, 'with change')
  const signed = signPsbt(built.psbt, { seed: SEED, account, selection: built.selection })

  const txid = await node.rpc<string>('sendrawtransaction', [signed.hex])
  t.is(txid, built.txid, 'the node takes it under the txid known when it was built')
  t.ok(await untilInMempool(node, txid), 'it is in the mempool')

  // A conflicting spend of the first coin, at the same fee rate, while the first waits.
  const coin = built.selection.inputs[0]
  const conflict = buildPsbt({ account, utxos: [coin], outputs: [{ address: investors.receive(7).address, amount: 100_000_000n }], feeRate, changeAddress: account.change(1) })
  const conflictTx = signPsbt(conflict.psbt, { seed: SEED, account, selection: conflict.selection })
  t.absent(await kept(node, conflictTx.hex, conflictTx.txid, sentinels[0]), 'a double spend of a coin the mempool already sees spent is refused')
  await rejectsMsg(t, node.rpc('getmempoolentry', [conflictTx.txid]), 'the node has no mempool entry for it')

  const [blockHash] = await node.rpc<string[]>('generatetoaddress', [1, account.receive(1).address])
  const block = await node.rpc<RpcBlock>('getblock', [blockHash, true, true])
  t.ok(block.tx.some((x) => x.txid === txid), 'the next block holds the distribution')
  t.absent(block.tx.some((x) => x.txid === conflictTx.txid), 'and not the conflicting spend')

  const mined = Transaction.fromRaw(hex.decode(await node.rpc<string>('getrawtransaction', [txid])))
  t.is(mined.outputsLength, 4, 'three investors and the change')
  for (const [i, p] of payments.entries()) {
    t.alike(mined.getOutput(i).script, OutScript.encode({ type: 'wpkh', hash: investors.receive(i).script.slice(2) }), `output ${i} pays investor ${i}`)
    t.is(mined.getOutput(i).amount, p.amount, `output ${i}: ${p.amount} sats`)
  }
  t.alike(mined.getOutput(3).script, changeAddress.script, `output 3: change to ${changeAddress.path}`)
  t.is(mined.getOutput(3).amount, built.selection.change?.amount, 'change amount as built')
  for (let i = 0; i < mined.inputsLength; i++) t.is(mined.getInput(i).sequence, RBF_SEQUENCE, `input ${i}: nSequence 0xfffffffd, RBF signalled`)
  const spent = built.selection.inputs.reduce((n, u) => n + u.amount, 0n)
  const paid = payments.reduce((n, p) => n + p.amount, 0n) + (built.selection.change?.amount ?? 0n)
  t.is(spent - paid, signed.fee, 'fee = inputs - outputs')
  t.ok(signed.fee >= BigInt(mined.vsize) * feeRate, `fee ${signed.fee} sats >= ${mined.vsize} vB x ${feeRate} sat/vB`)

  // After the block: the same coin spent again is refused outright.
  t.is(await node.rpc('gettxout', [coin.txid, coin.vout]), null, 'the coin is spent in the chain')
  t.absent(await kept(node, conflictTx.hex, conflictTx.txid, sentinels[1]), 'a double spend of a mined coin is refused')
  const [after] = await node.rpc<string[]>('generatetoaddress', [1, account.receive(1).address])
  const next = await node.rpc<RpcBlock>('getblock', [after, true, true])
  t.ok(next.tx.some((x) => x.txid === sentinels[1].txid), 'the following block holds the sentinel')
  t.absent(next.tx.some((x) => x.txid === conflictTx.txid), 'and not the double spend')
  await rejectsMsg(t, node.rpc('getrawtransaction', [conflictTx.txid]), 'the node never saw the double spend confirmed')
})
