// Coin selection (core/rails/bitcoin/coin-select.ts): branch-and-bound exact matches, largest-first
// with change, dust given to the fee, the fee-rate floor, insufficient funds with the sats missing,
// determinism, and one transaction paying several outputs. Pure: no chain here.
import test from 'brittle'
import {
  selectCoins, dustThreshold, estimateVsize, P2WPKH_DUST, P2WPKH_INPUT_VBYTES,
  type CoinSelectUtxo, type CoinSelection
} from '../core/rails/bitcoin/coin-select.ts'
import { throwsCode } from './helpers/assert.ts'

/** A P2WPKH scriptPubKey whose 20-byte hash is `n` repeated. */
const wpkh = (n: number): Uint8Array => Uint8Array.from([0x00, 0x14, ...new Array(20).fill(n)])
const CHANGE = wpkh(0xcc)
const PAY = wpkh(0xaa)
let next = 0
const coin = (amount: bigint, txByte = ++next, vout = 0): CoinSelectUtxo => ({ txid: txByte.toString(16).padStart(2, '0').repeat(32), vout, amount, script: wpkh(txByte & 0xff) })
const ids = (s: CoinSelection<CoinSelectUtxo>): string[] => s.inputs.map((u) => `${u.txid}:${u.vout}`)
const total = (xs: Array<{ amount: bigint }>): bigint => xs.reduce((n, x) => n + x.amount, 0n)

/** Every selection balances and pays at least the rate asked on its (upper-bound) size. */
function balanced (t: any, s: CoinSelection<CoinSelectUtxo>, msg: string): void {
  t.is(total(s.inputs), total(s.outputs) + (s.change?.amount ?? 0n) + s.fee, `${msg}: inputs = outputs + change + fee`)
  t.ok(s.fee >= BigInt(s.vsize) * s.feeRate, `${msg}: fee ${s.fee} >= ${s.vsize} vB x ${s.feeRate} sat/vB`)
}

test('coin-select - sizes and dust thresholds follow Bitcoin Core', (t) => {
  t.is(P2WPKH_INPUT_VBYTES, 68, 'P2WPKH input: 68 vB (72-byte signature)')
  t.is(estimateVsize(1, [PAY]), 110, '1 in, 1 P2WPKH out: 110 vB')
  t.is(estimateVsize(1, [PAY, CHANGE]), 141, '1 in, 2 out: 141 vB (31 per P2WPKH output)')
  t.is(estimateVsize(2, [PAY]), 178, '2 in, 1 out')
  t.is(dustThreshold(PAY), P2WPKH_DUST, 'P2WPKH dust: 294 sats')
  t.is(dustThreshold(Uint8Array.from([0x51, 0x20, ...new Array(32).fill(1)])), 330n, 'P2TR dust: 330')
  t.is(dustThreshold(Uint8Array.from([0x00, 0x20, ...new Array(32).fill(1)])), 330n, 'P2WSH dust: 330')
  t.is(dustThreshold(Uint8Array.from([0x76, 0xa9, 0x14, ...new Array(20).fill(1), 0x88, 0xac])), 546n, 'P2PKH dust: 546')
  t.is(dustThreshold(Uint8Array.from([0xa9, 0x14, ...new Array(20).fill(1), 0x87])), 540n, 'P2SH dust: 540')
  t.is(dustThreshold(Uint8Array.from([0x6a, 0x01, 0x00])), 0n, 'OP_RETURN: never dust')
})

test('coin-select - exact match: branch and bound finds the coin that pays output + fee, no change', (t) => {
  const exact = coin(100_220n) // 100_000 + 110 vB x 2 sat/vB
  const s = selectCoins({ utxos: [coin(500_000n), exact, coin(50_000n)], outputs: [{ script: PAY, amount: 100_000n }], feeRate: 2n, changeScript: CHANGE })
  t.is(s.algorithm, 'branch-and-bound')
  t.alike(ids(s), [`${exact.txid}:0`], 'the exact coin alone')
  t.is(s.change, null, 'no change output')
  t.is(s.fee, 220n, 'fee = 110 vB x 2')
  balanced(t, s, 'exact')
})

test('coin-select - exact match over two coins beats a single big one', (t) => {
  const a = coin(60_068n)
  const b = coin(40_110n) // effective 60_000 + 40_042 = 100_042 = 100_000 + 42 vB of overhead and output
  const s = selectCoins({ utxos: [coin(1_000_000n), a, b], outputs: [{ script: PAY, amount: 100_000n }], feeRate: 1, changeScript: CHANGE })
  t.is(s.algorithm, 'branch-and-bound')
  t.alike(ids(s).sort(), [`${a.txid}:0`, `${b.txid}:0`].sort(), 'the two coins that match')
  t.is(s.change, null)
  t.is(s.fee, 178n, '178 vB x 1')
  balanced(t, s, 'two-coin match')
})

test('coin-select - largest first with change to the change script', (t) => {
  const big = coin(1_000_000n)
  const s = selectCoins({ utxos: [coin(300_000n), big, coin(200_000n)], outputs: [{ script: PAY, amount: 100_000n }], feeRate: 2n, changeScript: CHANGE })
  t.is(s.algorithm, 'largest-first')
  t.alike(ids(s), [`${big.txid}:0`], 'the largest coin')
  t.ok(s.change !== null, 'a change output')
  t.alike(s.change?.script, CHANGE, 'to the change script')
  t.is(s.change?.amount, 1_000_000n - 100_000n - 141n * 2n, 'change = coin - output - 141 vB x 2')
  t.is(s.vsize, 141)
  balanced(t, s, 'change')
})

test('coin-select - change below dust goes to the fee', (t) => {
  const s = selectCoins({ utxos: [coin(100_500n)], outputs: [{ script: PAY, amount: 100_000n }], feeRate: 2n, changeScript: CHANGE })
  // with change: 100_500 - 100_000 - 282 = 218 sats < 294: dust
  t.is(s.change, null, 'no dust change output')
  t.is(s.fee, 500n, 'the 218 sats of would-be change went to the fee')
  balanced(t, s, 'dust to fee')
  const above = selectCoins({ utxos: [coin(100_600n)], outputs: [{ script: PAY, amount: 100_000n }], feeRate: 2n, changeScript: CHANGE })
  t.is(above.change?.amount, 318n, 'at 318 sats (>= 294) the change is kept')
})

test('coin-select - insufficient funds: refused with the sats missing', (t) => {
  const utxos = [coin(50_000n), coin(30_000n)]
  try {
    selectCoins({ utxos, outputs: [{ script: PAY, amount: 100_000n }], feeRate: 1n, changeScript: CHANGE })
    t.fail('should have thrown')
  } catch (err) {
    const e = err as Error & { code?: string, missing?: bigint }
    t.is(e.code, 'INSUFFICIENT_FUNDS', e.message)
    t.is(e.missing, 20_178n, 'missing = 100_000 + 178 vB x 1 - 80_000')
    t.ok(e.message.includes('missing 20178 sats'), 'the message names the sats missing')
  }
  // A coin worth less than the fee of spending it is never picked and never counted.
  try {
    selectCoins({ utxos: [coin(100n)], outputs: [{ script: PAY, amount: 1_000n }], feeRate: 2n, changeScript: CHANGE })
    t.fail('should have thrown')
  } catch (err) {
    t.is((err as { code?: string }).code, 'INSUFFICIENT_FUNDS')
    t.ok((err as Error).message.includes('worth less than the fee of spending them'), 'says why the tiny coin did not count')
  }
  throwsCode(t, () => selectCoins({ utxos: [], outputs: [{ script: PAY, amount: 1_000n }], feeRate: 1n, changeScript: CHANGE }), 'INSUFFICIENT_FUNDS', 'no coins at all')
})

test('coin-select - the fee-rate floor: below it refused, at it accepted', (t) => {
  const req = { utxos: [coin(1_000_000n)], outputs: [{ script: PAY, amount: 100_000n }], changeScript: CHANGE }
  throwsCode(t, () => selectCoins({ ...req, feeRate: 0n }), 'BAD_ARGUMENT', '0 sat/vB is below the default floor of 1')
  throwsCode(t, () => selectCoins({ ...req, feeRate: -5 }), 'BAD_ARGUMENT', 'a negative rate')
  throwsCode(t, () => selectCoins({ ...req, feeRate: 3n, minFeeRate: 5n }), 'BAD_ARGUMENT', 'the backend says 3, the floor is 5')
  throwsCode(t, () => selectCoins({ ...req, feeRate: 1.5 }), 'BAD_ARGUMENT', 'a fractional rate (no floats in money)')
  try { selectCoins({ ...req, feeRate: 3n, minFeeRate: 5n }) } catch (err) { t.ok((err as Error).message.includes('below the floor of 5 sat/vB'), 'the reason names the floor') }
  t.is(selectCoins({ ...req, feeRate: 5n, minFeeRate: 5n }).feeRate, 5n, 'at the floor: accepted')
  t.is(selectCoins({ ...req, feeRate: 1 }).feeRate, 1n, 'a safe integer number is accepted')
})

test('coin-select - malformed requests refused in plain words', (t) => {
  const c = coin(1_000_000n)
  const ok = { utxos: [c], outputs: [{ script: PAY, amount: 100_000n }], feeRate: 1n, changeScript: CHANGE }
  throwsCode(t, () => selectCoins({ ...ok, outputs: [] }), 'BAD_ARGUMENT', 'no outputs')
  throwsCode(t, () => selectCoins({ ...ok, outputs: [{ script: PAY, amount: 293n }] }), 'BAD_ARGUMENT', 'an output of 293 sats is dust')
  t.is(selectCoins({ ...ok, outputs: [{ script: PAY, amount: 294n }] }).outputs[0].amount, 294n, '294 sats is not')
  throwsCode(t, () => selectCoins({ ...ok, outputs: [{ script: PAY, amount: 1000 as unknown as bigint }] }), 'BAD_ARGUMENT', 'a number amount (not bigint)')
  throwsCode(t, () => selectCoins({ ...ok, utxos: [c, { ...c }] }), 'BAD_ARGUMENT', 'the same outpoint twice')
  throwsCode(t, () => selectCoins({ ...ok, utxos: [{ ...c, script: Uint8Array.from([0x51, 0x20, ...new Array(32).fill(1)]) }] }), 'BAD_ARGUMENT', 'a Taproot coin (not BIP-84)')
  throwsCode(t, () => selectCoins({ ...ok, utxos: [{ ...c, amount: 0n }] }), 'BAD_ARGUMENT', 'a zero coin')
  throwsCode(t, () => selectCoins({ ...ok, utxos: [{ ...c, txid: 'XY' }] }), 'BAD_ARGUMENT', 'a bad txid')
})

test('coin-select - deterministic: the same coins in any order give the same selection', (t) => {
  const utxos = [coin(70_000n), coin(70_000n), coin(120_000n), coin(15_000n), coin(400_000n), coin(33_000n)]
  const outputs = [{ script: PAY, amount: 150_000n }, { script: wpkh(0xab), amount: 60_000n }]
  const first = selectCoins({ utxos, outputs, feeRate: 3n, changeScript: CHANGE })
  for (const order of [[...utxos].reverse(), [utxos[3], utxos[0], utxos[5], utxos[2], utxos[1], utxos[4]]]) {
    const again = selectCoins({ utxos: order, outputs, feeRate: 3n, changeScript: CHANGE })
    t.alike(ids(again), ids(first), 'same inputs, same order')
    t.is(again.fee, first.fee)
    t.is(again.change?.amount, first.change?.amount)
  }
})

test('coin-select - a distribution: three outputs in one transaction, in the order given', (t) => {
  const investors = [wpkh(0x01), wpkh(0x02), wpkh(0x03)]
  const outputs = [{ script: investors[0], amount: 700_000n }, { script: investors[1], amount: 250_001n }, { script: investors[2], amount: 49_999n }]
  const utxos = [coin(400_000n), coin(400_000n), coin(300_000n), coin(10_000n)]
  const s = selectCoins({ utxos, outputs, feeRate: 5n, changeScript: CHANGE })
  t.is(s.outputs.length, 3, 'three outputs')
  t.alike(s.outputs.map((o) => o.amount), [700_000n, 250_001n, 49_999n], 'amounts in order')
  t.alike(s.outputs.map((o) => o.script), investors, 'to each investor in order')
  t.is(s.inputs.length, 3, 'three coins needed for 1_000_000 sats')
  t.is(s.vsize, estimateVsize(3, [...investors, CHANGE]))
  balanced(t, s, 'distribution')
})

test('coin-select - more malformed requests: a floor under 1, a bad vout, no change script', (t) => {
  const ok = { utxos: [coin(1_000_000n)], outputs: [{ script: PAY, amount: 100_000n }], feeRate: 1n, changeScript: CHANGE }
  throwsCode(t, () => selectCoins({ ...ok, feeRate: 0n, minFeeRate: 0n }), 'BAD_ARGUMENT', 'a floor of 0 sat/vB is refused')
  throwsCode(t, () => selectCoins({ ...ok, utxos: [{ ...ok.utxos[0], vout: -1 }] }), 'BAD_ARGUMENT', 'a negative vout')
  throwsCode(t, () => selectCoins({ ...ok, changeScript: new Uint8Array(0) }), 'BAD_ARGUMENT', 'an empty change script')
})
