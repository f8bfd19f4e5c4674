// Runs under Bare (brittle-bare) and Node alike: the payer's coin selection, PSBT build and sign
// (core/rails/bitcoin/), which the core worker runs under Bare.
import test from 'brittle'
import { mnemonicToSeed } from '../../core/wallet/bip39.ts'
import { Bip84Account, bitcoinNetwork } from '../../core/wallet/bip84.ts'
import { buildPsbt, signPsbt, parsePsbt, RBF_SEQUENCE } from '../../core/rails/bitcoin/psbt.ts'

test('bare - build and sign a two-output PSBT; a lowered input amount is refused', (t) => {
  const net = bitcoinNetwork('regtest', { bech32: 'rb' })
  const seed = mnemonicToSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about')
  const account = Bip84Account.fromSeed(seed, net)
  const utxos = [{ txid: '11'.repeat(32), vout: 0, amount: 1_000_000n, chain: 'receive' as const, index: 0 }]
  const outputs = [{ address: account.receive(7).address, amount: 300_000n }, { address: account.receive(8).address, amount: 200_000n }]
  const built = buildPsbt({ account, utxos, outputs, feeRate: 2n, changeAddress: account.change(3) })
  t.is(parsePsbt(built.psbt).getInput(0).sequence, RBF_SEQUENCE, 'RBF signalled')
  const signed = signPsbt(built.psbt, { seed, account, selection: built.selection })
  t.is(signed.txid, built.txid, 'signed under this runtime')
  const lowered = { ...built.selection, inputs: [{ ...built.selection.inputs[0], amount: 1_100_000n }] }
  t.exception.all(() => signPsbt(built.psbt, { seed, account, selection: lowered }), /wallet's coin holds 1100000 sats/, 'amounts that disagree are refused')
})
