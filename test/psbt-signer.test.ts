// Building and signing the payer's PSBT (core/rails/bitcoin/psbt.ts) without a chain: the fields
// BIP-174 signers need, RBF on every input, change with its key origin, and the signer's refusals:
// a lowered input amount (the fee trick), a coin it did not select, a changed output, a missing
// RBF signal, another wallet's seed, an address of another network, change off the internal chain.
import test from 'brittle'
import { Transaction, SigHash } from '@scure/btc-signer'
import { base64, hex } from '@scure/base'
import { mnemonicToSeed } from '../core/wallet/bip39.ts'
import { Bip84Account, bitcoinNetwork, BCOIN_REGTEST_BECH32 } from '../core/wallet/bip84.ts'
import { buildPsbt, signPsbt, checkPsbt, parsePsbt, outputScript, RBF_SEQUENCE, type WalletUtxo } from '../core/rails/bitcoin/psbt.ts'
import { throwsCode } from './helpers/assert.ts'

const NET = bitcoinNetwork('regtest', { bech32: BCOIN_REGTEST_BECH32 })
const SEED = mnemonicToSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about')
const OTHER_SEED = mnemonicToSeed('legal winner thank year wave sausage worth useful legal winner thank yellow')
const account = Bip84Account.fromSeed(SEED, NET)
const investors = Bip84Account.fromSeed(OTHER_SEED, NET)
const tx = (n: number): string => n.toString(16).padStart(2, '0').repeat(32)
const UTXOS: WalletUtxo[] = [
  { txid: tx(1), vout: 0, amount: 600_000n, chain: 'receive', index: 0 },
  { txid: tx(2), vout: 3, amount: 500_000n, chain: 'receive', index: 1 },
  { txid: tx(3), vout: 1, amount: 80_000n, chain: 'change', index: 0 }
]
const PAYMENTS = [0, 1, 2].map((i) => ({ address: investors.receive(i).address, amount: [400_000n, 300_000n, 200_000n][i] }))

function build () {
  return buildPsbt({ account, utxos: UTXOS, outputs: PAYMENTS, feeRate: 4n, changeAddress: account.change(5) })
}

/** Re-encode a PSBT after changing it with `edit`. */
function tamper (psbt: string, edit: (t: Transaction) => void): string {
  const t = Transaction.fromPSBT(base64.decode(psbt))
  edit(t)
  return base64.encode(t.toPSBT(0))
}

test('psbt - build: inputs with witnessUtxo, key origins and RBF; payments in order, then change', (t) => {
  const built = build()
  const p = parsePsbt(built.psbt)
  t.is(p.version, 2, 'version 2')
  t.is(p.lockTime, 0)
  t.is(p.inputsLength, built.selection.inputs.length)
  t.is(p.inputsLength, 2, 'two coins cover 900_000 sats')
  for (let i = 0; i < p.inputsLength; i++) {
    const input = p.getInput(i)
    const coin = built.selection.inputs[i]
    t.is(input.sequence, RBF_SEQUENCE, `input ${i}: nSequence 0xfffffffd (BIP-125)`)
    t.is(input.witnessUtxo?.amount, coin.amount, `input ${i}: witnessUtxo amount`)
    t.alike(input.witnessUtxo?.script, coin.script, `input ${i}: witnessUtxo script`)
    const [pub, origin] = input.bip32Derivation?.[0] ?? []
    t.alike(pub, coin.publicKey, `input ${i}: bip32Derivation public key`)
    t.is(origin?.fingerprint, account.masterFingerprint, `input ${i}: master fingerprint`)
    t.alike(origin?.path, [0x80000054, 0x80000001, 0x80000000, coin.chain === 'receive' ? 0 : 1, coin.index], `input ${i}: path ${coin.path}`)
  }
  t.is(p.outputsLength, 4, 'three payments and change')
  for (let i = 0; i < 3; i++) {
    t.is(p.getOutputAddress(i, { bech32: 'rb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }), PAYMENTS[i].address, `output ${i}: investor ${i}`)
    t.is(p.getOutput(i).amount, PAYMENTS[i].amount)
  }
  const change = p.getOutput(3)
  t.alike(change.script, account.change(5).script, 'output 3: the fresh change address')
  t.is(change.bip32Derivation?.[0]?.[1].path.at(-2), 1, 'change output carries its internal-chain key origin')
  t.is(change.amount, built.selection.change?.amount)
  t.is(built.selection.fee, 600_000n + 500_000n - 900_000n - (change.amount as bigint), 'fee = inputs - outputs')
  t.ok(built.selection.fee >= BigInt(built.selection.vsize) * 4n, 'fee covers 4 sat/vB')
  t.is(built.txid, p.id, 'txid known before signing')
})

test('psbt - sign: every input signed, finalized, extracted; the txid unchanged', (t) => {
  const built = build()
  const signed = signPsbt(built.psbt, { seed: SEED, account, selection: built.selection })
  const raw = Transaction.fromRaw(hex.decode(signed.hex))
  t.is(signed.txid, built.txid, 'SegWit: signing does not change the txid')
  t.is(raw.id, signed.txid)
  t.is(raw.inputsLength, 2)
  for (let i = 0; i < raw.inputsLength; i++) {
    t.is(raw.getInput(i).sequence, RBF_SEQUENCE, `raw input ${i} signals RBF`)
    t.is(raw.getInput(i).finalScriptWitness?.length, 2, `raw input ${i}: P2WPKH witness (signature, public key)`)
    t.is(raw.getInput(i).finalScriptWitness?.[0].at(-1), SigHash.ALL, `raw input ${i}: SIGHASH_ALL`)
  }
  t.is(signed.fee, built.selection.fee)
  t.ok(signed.vsize <= built.selection.vsize, `actual ${signed.vsize} vB <= estimated ${built.selection.vsize} vB`)
  t.is(signPsbt(built.psbt, { seed: SEED, account, selection: built.selection }).hex, signed.hex, 'deterministic signatures (RFC 6979)')
})

test('psbt - hostile: a lowered input amount is refused before signing (the fee trick)', (t) => {
  const built = build()
  const lowered = tamper(built.psbt, (p) => {
    const w = p.getInput(0).witnessUtxo as { script: Uint8Array, amount: bigint }
    p.updateInput(0, { witnessUtxo: { script: w.script, amount: w.amount - 100_000n } }, true)
  })
  const verdict = checkPsbt(parsePsbt(lowered), { inputs: built.selection.inputs })
  t.is(verdict.ok, false)
  t.ok(!verdict.ok && /claims to spend 500000 sats, but the wallet's coin holds 600000 sats/.test(verdict.reason), !verdict.ok ? verdict.reason : '')
  throwsCode(t, () => signPsbt(lowered, { seed: SEED, account, selection: built.selection }), 'BAD_ARGUMENT', 'signPsbt refuses')
  // and without the check a signer would have signed it: the tampered PSBT is well-formed
  const naive = Transaction.fromPSBT(base64.decode(lowered))
  t.ok(naive.inputsLength === 2 && naive.getInput(0).witnessUtxo?.amount === 500_000n, 'the tampered PSBT itself parses fine')
})

test('psbt - hostile: each signer check refuses with its own reason', (t) => {
  const built = build()
  const sel = built.selection
  const expect = { inputs: sel.inputs, outputs: sel.change === null ? sel.outputs : [...sel.outputs, sel.change] }
  const reason = (psbt: string): string => { const v = checkPsbt(parsePsbt(psbt), expect); return v.ok ? 'ok' : v.reason }

  t.is(checkPsbt(parsePsbt(built.psbt), expect).ok, true, 'the PSBT as built passes')
  t.ok(/does not signal|not 0xfffffffd/.test(reason(tamper(built.psbt, (p) => p.updateInput(0, { sequence: 0xffffffff }, true)))), 'final nSequence: RBF not signalled')
  t.ok(/which is not a coin this wallet selected/.test(reason(tamper(built.psbt, (p) => p.updateInput(1, { txid: tx(9) }, true)))), 'an input the wallet did not select')
  t.ok(/inputs, but 2 coins were selected/.test(reason(tamper(built.psbt, (p) => p.addInput({ txid: tx(9), index: 0, sequence: RBF_SEQUENCE, witnessUtxo: { script: sel.inputs[0].script, amount: 1n } }, true)))), 'an extra input')
  t.ok(/carries no witnessUtxo/.test(reason(tamper(built.psbt, (p) => { p.updateInput(0, { witnessUtxo: undefined }, true) }))), 'no witnessUtxo')
  t.ok(/is not the wallet's script/.test(reason(tamper(built.psbt, (p) => p.updateInput(0, { witnessUtxo: { script: investors.receive(0).script, amount: sel.inputs[0].amount } }, true)))), 'another script')
  t.ok(/output 1 pays 299000 sats, but 300000 sats were built/.test(reason(tamper(built.psbt, (p) => p.updateOutput(1, { amount: 299_000n }, true)))), 'an output amount changed')
  t.ok(/output 0 pays another script/.test(reason(tamper(built.psbt, (p) => p.updateOutput(0, { script: account.receive(9).script }, true)))), 'an output redirected')
  t.ok(/outputs, but 4 were built/.test(reason(tamper(built.psbt, (p) => p.addOutput({ script: account.receive(9).script, amount: 1_000n }, true)))), 'an output added')
  throwsCode(t, () => signPsbt(built.psbt, { seed: OTHER_SEED, account, selection: sel }), 'BAD_ARGUMENT', 'another wallet\'s seed holds none of the keys')
  throwsCode(t, () => signPsbt('cHNidP8=', { seed: SEED, account, selection: sel }), 'BAD_ARGUMENT', 'not a PSBT')
})

test('psbt - build refusals: wrong network, change off the internal chain, reused change, short funds', (t) => {
  const mainnetAddr = 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu' // BIP-84 vector
  throwsCode(t, () => buildPsbt({ account, utxos: UTXOS, outputs: [{ address: mainnetAddr, amount: 1_000n }], feeRate: 1n, changeAddress: account.change(5) }), 'BAD_ARGUMENT', 'a mainnet address on regtest')
  try { outputScript(mainnetAddr, NET) } catch (err) { t.ok(/another network \(prefix 'bc'\), not regtest \('rb'\)/.test((err as Error).message), (err as Error).message) }
  throwsCode(t, () => outputScript('rb1qnotanaddress', NET), 'BAD_ARGUMENT', 'a malformed address')
  throwsCode(t, () => buildPsbt({ account, utxos: UTXOS, outputs: PAYMENTS, feeRate: 1n, changeAddress: account.receive(5) }), 'BAD_ARGUMENT', 'change to a receive (external) address')
  throwsCode(t, () => buildPsbt({ account, utxos: UTXOS, outputs: PAYMENTS, feeRate: 1n, changeAddress: investors.change(5) }), 'BAD_ARGUMENT', 'change to another wallet')
  throwsCode(t, () => buildPsbt({ account, utxos: UTXOS, outputs: PAYMENTS, feeRate: 1n, changeAddress: account.change(0) }), 'BAD_ARGUMENT', 'change to the address of a coin being spent')
  throwsCode(t, () => buildPsbt({ account, utxos: UTXOS, outputs: [{ address: PAYMENTS[0].address, amount: 2_000_000n }], feeRate: 1n, changeAddress: account.change(5) }), 'INSUFFICIENT_FUNDS', 'more than the wallet holds')
  throwsCode(t, () => buildPsbt({ account, utxos: UTXOS, outputs: PAYMENTS, feeRate: 0n, changeAddress: account.change(5) }), 'BAD_ARGUMENT', 'a fee rate below the floor')
  const watchOnly = Bip84Account.fromExtendedKey(account.xpub, NET)
  const built = buildPsbt({ account: watchOnly, utxos: UTXOS, outputs: PAYMENTS, feeRate: 4n, changeAddress: watchOnly.change(5) })
  t.is(built.txid, build().txid, 'a watch-only device (xpub) builds the same transaction')
  t.is(signPsbt(built.psbt, { seed: SEED, account, selection: build().selection }).txid, built.txid, 'and the seed holder signs it')
})

test('psbt - hostile: a coin spent twice in one PSBT, and outputs above the inputs, refused', (t) => {
  const built = build()
  const [a] = built.selection.inputs
  const twice = tamper(built.psbt, (p) => p.updateInput(1, { txid: a.txid, index: a.vout }, true))
  const v1 = checkPsbt(parsePsbt(twice), { inputs: built.selection.inputs })
  t.ok(!v1.ok && v1.reason.includes('a second time'), !v1.ok ? v1.reason : 'accepted')
  const inflated = tamper(built.psbt, (p) => p.updateOutput(0, { amount: 2_000_000n }, true))
  const v2 = checkPsbt(parsePsbt(inflated), { inputs: built.selection.inputs }) // inputs only: outputs not pinned
  t.ok(!v2.ok && v2.reason.includes('more than the 1100000 sats the coins hold'), !v2.ok ? v2.reason : 'accepted')
})
