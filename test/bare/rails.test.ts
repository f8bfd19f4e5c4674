// Runs under Bare (brittle-bare) and Node alike: the wallet's key derivation and the Lightning
// proof check load and give the official vectors' answers in the runtime the core worker uses
// (Bare 1.31 has no TextEncoder global: core/runtime/text-encoding.ts supplies it).
import test from 'brittle'
import { mnemonicToSeed } from '../../core/wallet/bip39.ts'
import { Bip84Account, bitcoinNetwork } from '../../core/wallet/bip84.ts'
import { decodeBolt11 } from '../../books/proofs/bolt11.ts'

// BIP-84's test vector (bitcoin/bips bip-0084.mediawiki)
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
// BOLT 11's first example: a donation of any amount (lightning/bolts 11-payment-encoding.md)
const DONATION = 'lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql'

test('rails (bare) - BIP-84 derivation and BOLT 11 decoding load and match the official vectors', async (t) => {
  const seed = mnemonicToSeed(MNEMONIC)
  const account = Bip84Account.fromSeed(seed, bitcoinNetwork('mainnet'))
  t.is(account.receive(0).address, 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu', 'the BIP-84 vector\'s first receive address')
  const r = decodeBolt11(DONATION)
  t.ok(r.ok, 'the BOLT 11 example decodes')
  if (r.ok) t.is(r.invoice.payeeNodeKey, '03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad', 'and its signature recovers the stated payee')
})
