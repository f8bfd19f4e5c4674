/**
 * `growr proof verify` checks a payment proof from standard inputs with the code apply uses, and
 * exits 0 only when it holds: a real mainnet gettxoutproof (block 150 000) and a BOLT 11 invoice
 * with its preimage; a wrong amount, address, network or preimage exits 1 with the reason.
 */
import test from 'brittle'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { buildInvoice, bytesField, intField, textField } from './helpers/bolt11-invoice.ts'
import mainnet from './vectors/bitcoin/mainnet-block-150000.json' with { type: 'json' }
import { verifyBitcoinPayment } from '../books/proofs/bitcoin-spv.ts'
import { Address, NETWORK, OutScript, Transaction } from '@scure/btc-signer'

const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))

function growr (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, GROWR_STORAGE: '/nonexistent-growr' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr })
    })
  })
}

test('proof verify - bitcoin: a real mainnet proof holds; the wrong amount, address or network does not', { timeout: 60_000 }, async (t) => {
  // the address the vector's transaction pays, read with the same code (its first output)
  const probe = verifyBitcoinPayment({ network: 'mainnet', rawTx: mainnet.payment.rawTx, txoutproof: mainnet.payment.txoutproof, headers: [], expect: { address: '1111111111111111111114oLvT2', minAmountSats: 0n, minConfirmations: 1 } })
  t.absent(probe.ok, 'an address the tx does not pay is refused')
  const tx = Transaction.fromRaw(hexToBytes(mainnet.payment.rawTx), { allowUnknownOutputs: true, allowLegacyWitnessUtxo: true, disableScriptCheck: true })
  const out = tx.getOutput(0)
  const address = Address(NETWORK).encode(OutScript.decode(out.script as Uint8Array))
  const amount = String(out.amount)
  const base = ['--json', 'proof', 'verify', '--rail', 'bitcoin', '--network', 'mainnet', '--tx', mainnet.payment.rawTx, '--txoutproof', mainnet.payment.txoutproof, '--address', address]

  const ok = await growr([...base, '--amount', amount])
  t.is(ok.code, 0, ok.stderr)
  t.is(JSON.parse(ok.stdout).txid, mainnet.payment.txid, 'the proven txid is the vector\'s')
  const more = await growr([...base, '--amount', String(BigInt(amount) + 1n)])
  t.is(more.code, 1, 'one sat more than paid: exit 1')
  t.ok(/amount|sats/i.test(JSON.parse(more.stdout).reason), JSON.parse(more.stdout).reason)
  const deep = await growr([...base, '--amount', amount, '--confirmations', '6'])
  t.is(deep.code, 1, 'six confirmations asked, none given: exit 1')
  const testnet = await growr(['proof', 'verify', '--rail', 'bitcoin', '--network', 'testnet', '--tx', mainnet.payment.rawTx, '--txoutproof', mainnet.payment.txoutproof, '--address', address, '--amount', amount])
  t.is(testnet.code, 1, 'a mainnet address checked as testnet: exit 1')
  t.ok(/refused/.test(testnet.stdout), testnet.stdout.trim())
  const bad = await growr([...base, '--amount', '1.5'])
  t.is(bad.code, 2, 'a fractional amount is a usage error')
})

test('proof verify - lightning: the preimage of an invoice signed by the registered payee holds; another preimage does not', { timeout: 60_000 }, async (t) => {
  const key = hexToBytes('a1'.repeat(32))
  const payee = bytesToHex(secp256k1.getPublicKey(key, true))
  const preimage = 'c3'.repeat(32)
  const created = 1_780_000_000
  const invoice = buildInvoice({ hrp: 'lnbcrt25u', timestamp: created, secretKey: key, fields: [bytesField('p', bytesToHex(sha256(hexToBytes(preimage)))), bytesField('s', '11'.repeat(32)), textField('instalment 2'), intField('x', 900)] })
  const base = ['--json', 'proof', 'verify', '--rail', 'lightning', '--network', 'regtest', '--invoice', invoice, '--payee', payee, '--amount-msat', '2500000', '--paid-at', String(created * 1000 + 60_000)]
  const ok = await growr([...base, '--preimage', preimage])
  t.is(ok.code, 0, ok.stderr)
  t.is(JSON.parse(ok.stdout).amountMsat, '2500000', 'the amount proven, exact')
  const wrong = await growr([...base, '--preimage', 'c4'.repeat(32)])
  t.is(wrong.code, 1, 'another preimage: exit 1')
  t.ok(/preimage/.test(JSON.parse(wrong.stdout).reason), JSON.parse(wrong.stdout).reason)
})
