// Runs under Bare (brittle-bare) and Node alike: the wallet's chain scanner's pure transitions
// and the payer's state (core/rails/bitcoin/scanner.ts, payer.ts), which the core worker runs under
// Bare. The block is a real bcoin regtest block (height 451) paying 0.7 BTC to receive address 5.
import test from 'brittle'
import { hex } from '@scure/base'
import { parseBlock, applyBlock, rollback, watchScript, initialScannerState, exportScannerState, importScannerState } from '../../core/rails/bitcoin/scanner.ts'
import { exportPayerState, importPayerState } from '../../core/rails/bitcoin/payer.ts'
import { mnemonicToSeed } from '../../core/wallet/bip39.ts'
import { Bip84Account, bitcoinNetwork } from '../../core/wallet/bip84.ts'

const BLOCK = "0000002081e933f07284df7abf9adb949c4d3c675e2715108b370421ee7a08cf332c451ebb490fe70512b60efbdca4664cbeebeff141a307ed68626682a44a69f79de31a28f2126bffff7f200000000002010000000001010000000000000000000000000000000000000000000000000000000000000000ffffffff2002c3010e6d696e65642062792062636f696e042cbf5052080000000000000000ffffffff0250e5402500000000160014f28cece5dbaf19fb205966f2e23db68ef6126d030000000000000000266a24aa21a9edff7c3cc37af8928f3420c94fae16b6f7303c30142347aa965e763acc0d31a2ab012000000000000000000000000000000000000000000000000000000000000000000000000002000000000101df978f8309a97027ef0352f30fe61e32fe6b7777a2db0a273bf08b05ae717bd50000000000ffffffff02801d2c04000000001600141fa1866dfe5f5ff68be3ddbc39ef05fda34d13a370add92501000000160014f28cece5dbaf19fb205966f2e23db68ef6126d0302473044022036468964b1bee9775e77f41e348ef1bd2cb32971d8880050a2d0b805598cc8fc0220356a31306b196ebc4bd774a9f04b9f8335f26dabf588b2627d6db5f7658ffcc5012102354ac74af827776ed43fd5c848cc685dd3227728ac6aaab48f269e407d726c5b00000000"
const HASH = '7222221f0015e476497409482d6a67c494390fb06a109c55e786bdb71ce827b1'
const PREV = '1e452c33cf087aee2104378b1015275e673c4d9c94db9abf7adf8472f033e981'

test('bare - scanner: a real block parsed, applied, rolled back, exported; a mutated one refused', (t) => {
  const account = Bip84Account.fromSeed(mnemonicToSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'), bitcoinNetwork('regtest', { bech32: 'rb' }))
  const parsed = parseBlock(hex.decode(BLOCK), HASH, 'regtest')
  t.ok(parsed.ok, 'the block parses and hashes to its hash')
  if (!parsed.ok) return
  t.is(parsed.block.prevHash, PREV, 'its previous block')
  t.is(parsed.block.txs.length, 2, 'coinbase and one payment')
  let state = watchScript(initialScannerState('regtest', 451), account.receive(5).script, { chain: 'receive' as const, index: 5 })
  const applied = applyBlock(state, parsed.block, 451)
  t.ok(applied.ok, 'applied at height 451')
  if (!applied.ok) return
  state = applied.state
  const coins = Object.values(state.utxos)
  t.is(coins.length, 1, 'one coin to the watched address')
  t.is(coins[0].value, 70_000_000n, '0.7 BTC, in sats')
  const back = importScannerState(JSON.parse(JSON.stringify(exportScannerState(state))))
  t.alike(back, state, 'exported and imported: the same state')
  t.is(Object.keys(rollback(state, 450).utxos).length, 0, 'rolled back below it: the coin is gone')

  const bytes = hex.decode(BLOCK)
  bytes[bytes.length - 1] ^= 1 // the last transaction's lockTime: its txid changes
  const bad = parseBlock(bytes, HASH, 'regtest')
  t.absent(bad.ok, 'a lockTime changed: refused (' + (bad.ok ? '' : bad.reason) + ')')
  t.absent(parseBlock(hex.decode(BLOCK), PREV, 'regtest').ok, 'asked by another hash: refused')
})

test('bare - payer state: round trip, unknown version refused', (t) => {
  const s = exportPayerState({ nextChangeIndex: 3, txs: [] })
  t.alike(importPayerState(JSON.parse(JSON.stringify(s))), { nextChangeIndex: 3, txs: [] }, 'round trip')
  t.exception(() => importPayerState({ ...s, version: 9 }), /UNSUPPORTED_VERSION/, 'version 9 refused')
})
