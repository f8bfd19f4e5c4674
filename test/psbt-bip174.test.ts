// PSBT handling (core/rails/bitcoin/psbt.ts over @scure/btc-signer) against BIP-174's own test
// vectors (test/vectors/bip174/bip-0174.mediawiki, from bitcoin/bips; see its README).
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Transaction, PSBTCombine, WIF, TEST_NETWORK, SigHash } from '@scure/btc-signer'
import { hex, base64 } from '@scure/base'
import { parsePsbt } from '../core/rails/bitcoin/psbt.ts'
import { throwsCode } from './helpers/assert.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const text = fs.readFileSync(path.join(here, 'vectors/bip174/bip-0174.mediawiki'), 'utf8')
const vectors = text.slice(text.indexOf('==Test Vectors=='), text.indexOf('==Rationale=='))
const WORKFLOW = 'The private keys in the tests below'

interface Case { section: 'invalid' | 'valid' | 'signer', name: string, hex: string, base64: string }

/** The "* Case:" entries of the three lists before the walk-through, each with its hex and base64. */
function parseCases (): Case[] {
  const cases: Case[] = []
  let section: Case['section'] | null = null
  let cur: Case | null = null
  for (const line of vectors.slice(0, vectors.indexOf(WORKFLOW)).split('\n')) {
    if (line.startsWith('The following are invalid PSBTs')) section = 'invalid'
    else if (line.startsWith('The following are valid PSBTs')) section = 'valid'
    else if (line.startsWith('Fails Signer checks')) section = 'signer'
    const c = /^\* Case: (.*)$/.exec(line)
    if (c !== null && section !== null) { cur = { section, name: c[1], hex: '', base64: '' }; cases.push(cur) }
    const h = /^\*\* Bytes in Hex: <pre>([0-9a-f]+)<\/pre>/.exec(line)
    if (h !== null && cur !== null) cur.hex = h[1]
    const b = /^\*\* Base64 String: <pre>([^<]+)<\/pre>/.exec(line)
    if (b !== null && cur !== null) cur.base64 = b[1]
  }
  return cases
}

const cases = parseCases()
const workflow = vectors.slice(vectors.indexOf(WORKFLOW))
/** The walk-through's PSBTs and transaction, in the order the BIP gives them. */
const steps = [...workflow.matchAll(/^\* Bytes in Hex: <pre>([0-9a-f]+)<\/pre>/gm)].map((m) => m[1])
const [CREATOR, UPDATER, SIGHASH_ADDED, SIGNED_1, SIGNED_2, COMBINED, FINALIZED, EXTRACTED, UNKNOWN_1, UNKNOWN_2, UNKNOWN_COMBINED] = steps
const keysAfter = (heading: string): string[] => {
  const block = workflow.slice(workflow.indexOf(heading))
  return [...block.slice(0, block.indexOf('must create')).matchAll(/<tt>(c[1-9A-HJ-NP-Za-km-z]{51})<\/tt>/g)].map((m) => m[1])
}

test('bip174 vectors - the file holds every case the BIP lists', (t) => {
  t.is(cases.filter((c) => c.section === 'invalid').length, 20, '20 invalid PSBTs')
  t.is(cases.filter((c) => c.section === 'valid').length, 10, '10 valid PSBTs')
  t.is(cases.filter((c) => c.section === 'signer').length, 4, '4 that fail signer checks')
  t.is(steps.length, 11, 'the walk-through: creator .. extractor, and the unknown-key combiner')
  for (const c of cases) t.is(b4hex(base64.decode(c.base64)), c.hex, `hex and base64 agree: ${c.name}`)
})

function b4hex (b: Uint8Array): string { return hex.encode(b) }

test('bip174 vectors - every invalid PSBT is refused by the parser, with its reason', (t) => {
  for (const c of cases.filter((c) => c.section === 'invalid')) {
    throwsCode(t, () => parsePsbt(c.base64), 'BAD_ARGUMENT', `refused: ${c.name}`)
    t.exception.all(() => Transaction.fromPSBT(hex.decode(c.hex)), `@scure/btc-signer refuses the bytes too: ${c.name}`)
  }
})

test('bip174 vectors - every valid PSBT parses and re-serializes to the same bytes', (t) => {
  for (const c of cases.filter((c) => c.section === 'valid')) {
    const tx = parsePsbt(c.base64)
    if (c.name.startsWith('PSBT with unknown types')) {
      // Unknown key-value pairs must be kept (BIP-174: "should ignore"; a combiner keeps them),
      // which @scure/btc-signer does with unknown: 'ignore'; its default strips them.
      const kept = Transaction.fromPSBT(hex.decode(c.hex), { unknown: 'ignore' })
      t.is(hex.encode(kept.toPSBT()), c.hex, `identical with unknown fields kept: ${c.name}`)
      t.not(hex.encode(tx.toPSBT()), c.hex, 'the default parser drops the unknown fields (so it is not used to pass PSBTs on)')
      continue
    }
    t.is(hex.encode(tx.toPSBT()), c.hex, `identical: ${c.name}`)
  }
})

test('bip174 vectors - the signer-check cases: script mismatches refused, witness UTXO on a non-witness input not signed', (t) => {
  const signer = cases.filter((c) => c.section === 'signer')
  const [witnessOnLegacy, ...mismatched] = signer
  for (const c of mismatched) {
    throwsCode(t, () => parsePsbt(c.base64), 'BAD_ARGUMENT', `refused before any signing: ${c.name}`)
  }
  // The first case parses (the fields are well-formed) but a signer must not sign it: its input
  // is P2PKH and only a witness UTXO is given, so the amount is unproven.
  const tx = parsePsbt(witnessOnLegacy.base64)
  const key = WIF(TEST_NETWORK).decode('cP53pDbR5WtAD8dYAW9hhTjuvvTVaEiQBdrz9XPrgLBeRFiyCbQr')
  t.exception.all(() => tx.signIdx(key, 0, [SigHash.ALL]), `not signed: ${witnessOnLegacy.name}`)
})

test('bip174 vectors - creator, signers, combiner, finalizer and extractor give the BIP\'s bytes', (t) => {
  const creator = new Transaction({ version: 2, lockTime: 0 })
  creator.addInput({ txid: '75ddabb27b8845f5247975c8a5ba7c6f336c4570708ebe230caf6db5217ae858', index: 0, sequence: 0xffffffff })
  creator.addInput({ txid: '1dea7cd05979072a3578cab271c02244ea8a090bbb46aa680a65ecd027048d83', index: 1, sequence: 0xffffffff })
  creator.addOutput({ script: hex.decode('0014d85c2b71d0060b09c9886aeb815e50991dda124d'), amount: 149_990_000n })
  creator.addOutput({ script: hex.decode('001400aea9a2e5f0f876a588df5546e8742d1d87008f'), amount: 100_000_000n })
  t.is(hex.encode(creator.toPSBT(0)), CREATOR, 'creator')
  t.ok(UPDATER.length > CREATOR.length, 'updater vector present')

  for (const [heading, expected, name] of [
    ['a signer that supports SIGHASH_ALL', SIGNED_1, 'first signer'],
    ['Given the above updated PSBT, a signer with the following keys', SIGNED_2, 'second signer']
  ] as const) {
    const keys = keysAfter(heading)
    t.is(keys.length, 2, `${name}: two keys`)
    const tx = Transaction.fromPSBT(hex.decode(SIGHASH_ADDED))
    for (const k of keys) {
      const priv = WIF(TEST_NETWORK).decode(k)
      t.ok(tx.sign(priv, [SigHash.ALL]) > 0, `${name} signs with ${k.slice(0, 6)}...`)
      priv.fill(0)
    }
    t.is(hex.encode(tx.toPSBT(0)), expected, `${name}: the BIP's bytes (RFC 6979 signatures)`)
  }

  // Combiner: the same key-value pairs as the BIP's; @scure/btc-signer keeps each input's partial
  // signatures in arrival order where the BIP's example sorts them, so compare as sets.
  const combined = Transaction.fromPSBT(PSBTCombine([hex.decode(SIGNED_1), hex.decode(SIGNED_2)]))
  const want = Transaction.fromPSBT(hex.decode(COMBINED))
  const sorted = (tx: Transaction, i: number): string[] => (tx.getInput(i).partialSig ?? []).map(([k, s]) => hex.encode(k) + ':' + hex.encode(s)).sort()
  for (let i = 0; i < 2; i++) {
    t.alike(sorted(combined, i), sorted(want, i), `combiner: input ${i} holds both signatures`)
    t.is(sorted(combined, i).length, 2, `combiner: input ${i} has 2 of 2`)
  }
  t.is(hex.encode(combined.unsignedTx), hex.encode(want.unsignedTx), 'combiner: same unsigned transaction')

  const finalizer = Transaction.fromPSBT(hex.decode(COMBINED))
  finalizer.finalize()
  t.is(hex.encode(finalizer.toPSBT(0)), FINALIZED, 'finalizer')
  combined.finalize()
  t.is(hex.encode(combined.toPSBT(0)), FINALIZED, 'finalizing our combination gives the same PSBT')

  t.is(Transaction.fromPSBT(hex.decode(FINALIZED)).hex, EXTRACTED, 'extractor')

  const unknown = PSBTCombine([hex.decode(UNKNOWN_1), hex.decode(UNKNOWN_2)], { unknown: 'ignore', allowUnknownOutputs: true })
  t.is(hex.encode(unknown), UNKNOWN_COMBINED, 'combiner keeps unknown key-value pairs, ordered lexicographically')
})
