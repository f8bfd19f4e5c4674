// Runs under Bare (brittle-bare) and Node alike: the Bitcoin SPV proof check apply calls.
import test from 'brittle'
import { verifyBitcoinPayment, compareChains } from '../../books/proofs/bitcoin-spv.ts'
import mainnet from '../vectors/bitcoin/mainnet-block-150000.json' with { type: 'json' }

test('bare - a real mainnet payment proof verifies, a forged one is refused', (t) => {
  const input = {
    network: 'mainnet' as const,
    rawTx: mainnet.payment.rawTx,
    txoutproof: mainnet.payment.txoutproof,
    headers: [],
    expect: { address: '17jGZpvEUGbSDkvt8AqniGMbbek12VZtZc', minAmountSats: 1_000_000n, minConfirmations: 1 }
  }
  const r = verifyBitcoinPayment(input)
  t.ok(r.ok && r.txid === mainnet.payment.txid && r.amountSats === 1_000_000n, 'verifies under this runtime')
  const wrong = verifyBitcoinPayment({ ...input, rawTx: mainnet.coinbase.rawTx })
  t.ok(!wrong.ok && /proves another transaction/.test(wrong.reason), 'another transaction is refused')
  const cmp = compareChains('mainnet', [mainnet.payment.txoutproof.slice(0, 160)], [])
  t.ok(cmp.ok && cmp.heavier === 'a', 'compareChains runs')
})
