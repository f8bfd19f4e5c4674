// BOLT 11 decoding (books/proofs/bolt11.ts): the official examples from lightning/bolts, then one
// hostile invoice per check, each refused with its own reason, then mutated strings (fast-check).
import test from 'brittle'
import fc from 'fast-check'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { decodeBolt11, bolt11SigningData, MAX_INVOICE_LENGTH } from '../books/proofs/bolt11.ts'
import { buildInvoice, bytesField, textField, intField, featureField, fieldWords, type Field } from './helpers/bolt11-invoice.ts'
import vectors from './vectors/bolt11/examples.json' with { type: 'json' }

const PAYEE = vectors.signedWith.payeeNodeKey
const KEY_A = hexToBytes('11'.repeat(32))
const KEY_B = hexToBytes('22'.repeat(32))
const PUB_A = bytesToHex(secp256k1.getPublicKey(KEY_A, true))
const PUB_B = bytesToHex(secp256k1.getPublicKey(KEY_B, true))
const HASH = bytesToHex(sha256(hexToBytes('ab'.repeat(32))))

/** A well-formed field set: p, s, d, x. */
function good (over: { drop?: string[], add?: Field[] } = {}): Field[] {
  const base: Field[] = [bytesField('p', HASH), bytesField('s', '11'.repeat(32)), textField('growr instalment 3'), intField('x', 3600)]
  return [...base.filter(([tag]) => !(over.drop ?? []).includes(tag)), ...(over.add ?? [])]
}

function refused (t: any, invoice: unknown, expected: RegExp, message: string): void {
  const r = decodeBolt11(invoice)
  t.is(r.ok, false, `${message}: refused`)
  if (!r.ok) t.ok(expected.test(r.reason), `${message}: reason "${r.reason}" matches ${expected}`)
}

test('bolt11 - every valid BOLT 11 example decodes to its stated fields and payee', (t) => {
  t.ok(vectors.valid.length >= 15, 'examples loaded')
  for (const v of vectors.valid) {
    const r = decodeBolt11(v.invoice)
    if (!r.ok) { t.fail(`${v.title}: ${r.reason}`); continue }
    const inv = r.invoice
    const e = v.expect as Record<string, unknown>
    t.is(inv.payeeNodeKey, e.payeeNodeKey, `${v.title}: payee`)
    t.is(inv.payeeKeySource, 'recovered', `${v.title}: key recovered (no n field)`)
    t.is(inv.network, e.network, `${v.title}: network`)
    t.is(inv.amountMsat, e.amountMsat === null ? null : BigInt(e.amountMsat as string), `${v.title}: amount msat`)
    t.is(inv.paymentHash, e.paymentHash, `${v.title}: payment hash`)
    t.is(inv.paymentSecret, e.paymentSecret, `${v.title}: payment secret`)
    t.is(inv.timestamp, e.timestamp, `${v.title}: timestamp`)
    t.is(inv.expiry, e.expiry, `${v.title}: expiry`)
    t.is(inv.description, e.description, `${v.title}: description`)
    t.is(inv.descriptionHash, e.descriptionHash, `${v.title}: description hash`)
    if (e.minFinalCltvExpiryDelta !== undefined) t.is(inv.minFinalCltvExpiryDelta, e.minFinalCltvExpiryDelta, `${v.title}: c`)
    if (e.metadata !== undefined) t.is(inv.metadata, e.metadata, `${v.title}: metadata`)
    if (e.features !== undefined) t.alike(inv.features, e.features, `${v.title}: features`)
    t.is(inv.paymentRequest, v.invoice.toLowerCase(), `${v.title}: normalised to lower case`)
  }
})

test('bolt11 - the payee of every example but the high-S one is the stated signing key', (t) => {
  const highS = vectors.valid.filter((v) => v.expect.payeeNodeKey !== PAYEE)
  t.is(highS.length, 1, 'only one example recovers another key')
  t.ok(highS[0].title.startsWith('Public-key recovery with high-S'), 'and it is the high-S example')
})

test('bolt11 - the high-S example: transmitted recovery flag 1 recovers its own key, flag 0 the signing key', (t) => {
  const v = vectors.valid.find((x) => x.title.startsWith('Public-key recovery with high-S')) as { signatureRS: string, signingDataSha256: string, recoveryFlag: number }
  const sig = secp256k1.Signature.fromBytes(hexToBytes(v.signatureRS), 'compact')
  t.ok(sig.hasHighS(), 'the example is high-S')
  t.is(v.recoveryFlag, 1)
  const digest = hexToBytes(v.signingDataSha256)
  t.is(bytesToHex(sig.addRecoveryBit(1).recoverPublicKey(digest).toBytes(true)), vectors.valid.at(-1)!.expect.payeeNodeKey, 'flag 1: what decodeBolt11 reports')
  t.is(bytesToHex(sig.addRecoveryBit(0).recoverPublicKey(digest).toBytes(true)), PAYEE, 'flag 0: 03e7156a...')
})

test('bolt11 - signed bytes and their hash equal the breakdowns in BOLT 11', (t) => {
  let n = 0
  for (const v of vectors.valid as Array<{ title: string, invoice: string, signingData?: string, signingDataSha256?: string }>) {
    if (!v.signingData) continue
    const data = bolt11SigningData(v.invoice)
    t.is(data && bytesToHex(data), v.signingData, `${v.title}: data for signing`)
    t.is(data && bytesToHex(sha256(data)), v.signingDataSha256, `${v.title}: sha256`)
    n++
  }
  t.ok(n >= 10, `${n} breakdowns checked`)
  t.is(bolt11SigningData('not bech32'), null, 'non-Bech32 gives null')
})

test('bolt11 - every invalid BOLT 11 example is refused, each for its own reason', (t) => {
  const reasons: Record<string, RegExp> = {
    'unknown-even-feature': /feature bit 100/,
    'bad-checksum': /checksum is wrong/,
    'no-separator': /no Bech32 separator/,
    'mixed-case': /mixes upper and lower case/,
    'signature-not-recoverable': /no public key can be recovered/,
    'too-short': /too short/,
    'invalid-multiplier': /multiplier "x" is not one of/,
    'sub-millisatoshi': /not a whole number of millisatoshis/,
    'missing-payment-secret': /no payment secret/,
    'high-s-with-n': /high-S; with an "n" field/
  }
  t.is(vectors.invalid.length, Object.keys(reasons).length, 'all invalid examples covered')
  for (const v of vectors.invalid) refused(t, v.invoice, reasons[v.failure], v.title)
})

test('bolt11 - the "fields which must be ignored" example is refused, as BOLT 11\'s reader rules now require', (t) => {
  t.is(vectors.conflicting.length, 1)
  refused(t, vectors.conflicting[0].invoice, /"p" field has data_length 51; BOLT 11 requires 52/, 'wrong-length p')
})

test('bolt11 - an invoice built here decodes, by recovery and through its n field', (t) => {
  const recovered = decodeBolt11(buildInvoice({ fields: good(), secretKey: KEY_A }))
  t.ok(recovered.ok && recovered.invoice.payeeNodeKey === PUB_A && recovered.invoice.payeeKeySource === 'recovered', 'recovered key A')
  t.ok(recovered.ok && recovered.invoice.network === 'regtest' && recovered.invoice.amountMsat === 1_000_000n, 'lnbcrt10u = 1 000 000 msat on regtest')
  const withN = decodeBolt11(buildInvoice({ fields: good({ add: [bytesField('n', PUB_A)] }), secretKey: KEY_A }))
  t.ok(withN.ok && withN.invoice.payeeNodeKey === PUB_A && withN.invoice.payeeKeySource === 'n-field', 'n field verified')
  const highS = decodeBolt11(buildInvoice({ fields: good(), secretKey: KEY_A, highS: true }))
  t.ok(highS.ok && highS.invoice.payeeNodeKey === PUB_A, 'high-S accepted when recovering (BOLT 11)')
  for (const [hrp, network] of [['lnbc1m', 'mainnet'], ['lntb1m', 'testnet'], ['lntbs1m', 'signet'], ['lnbcrt1m', 'regtest']]) {
    const r = decodeBolt11(buildInvoice({ hrp, fields: good(), secretKey: KEY_A }))
    t.ok(r.ok && r.invoice.network === network && r.invoice.amountMsat === 100_000_000n, `${hrp} is ${network}, 1m = 100 000 000 msat`)
  }
  const noX = decodeBolt11(buildInvoice({ fields: good({ drop: ['x'] }), secretKey: KEY_A }))
  t.ok(noX.ok && noX.invoice.expiry === 3600, 'expiry defaults to 3600 s')
  const amounts: Array<[string, bigint]> = [['lnbcrt1', 100_000_000_000n], ['lnbcrt1u', 100_000n], ['lnbcrt10n', 1_000n], ['lnbcrt10p', 1n]]
  for (const [hrp, msat] of amounts) {
    const r = decodeBolt11(buildInvoice({ hrp, fields: good(), secretKey: KEY_A }))
    t.ok(r.ok && r.invoice.amountMsat === msat, `${hrp} = ${msat} msat`)
  }
})

test('bolt11 - hostile invoices: text, prefix and amount', (t) => {
  refused(t, 42, /not a string/, 'a number')
  refused(t, 'lnbc1' + 'q'.repeat(MAX_INVOICE_LENGTH), /longer than 8192/, 'too long')
  refused(t, buildInvoice({ fields: good(), secretKey: KEY_A }).replace(/q/, 'b'), /"b" after its separator, outside the Bech32 alphabet/, 'character outside Bech32')
  refused(t, 'ln bc1' + buildInvoice({ fields: good(), secretKey: KEY_A }).slice(10), /prefix has characters Bech32 does not allow/, 'space in prefix')
  refused(t, buildInvoice({ hrp: 'bc', fields: good(), secretKey: KEY_A }), /does not start with "ln"/, 'not ln')
  refused(t, buildInvoice({ hrp: 'lnsb10u', fields: good(), secretKey: KEY_A }), /"lnsb10u" names no known network/, 'simnet prefix')
  refused(t, buildInvoice({ hrp: 'lnbc10uu', fields: good(), secretKey: KEY_A }), /"10uu" is not a decimal number/, 'two multipliers')
  refused(t, buildInvoice({ hrp: 'lnbc21000001', fields: good(), secretKey: KEY_A }), /more than 21 million bitcoin/, 'above supply')
  t.ok(decodeBolt11(buildInvoice({ hrp: 'lnbc21000000', fields: good(), secretKey: KEY_A })).ok, '21 million exactly is accepted')
})

test('bolt11 - hostile invoices: tagged fields', (t) => {
  const sign = (fields: Field[]): string => buildInvoice({ fields, secretKey: KEY_A })
  const cut = [...fieldWords(good()), 1, 1, 20, 0, 0]
  refused(t, buildInvoice({ fields: [], rawWords: cut, secretKey: KEY_A }), /tagged field "p" claims 52 words but only 2 remain/, 'field longer than the data')
  refused(t, buildInvoice({ fields: [], rawWords: [...fieldWords(good()), 1, 1], secretKey: KEY_A }), /no room for its length/, 'field header cut short')
  refused(t, sign(good({ add: [['n', bytesField('n', PUB_A)[1].slice(0, 52)]] })), /"n" field has data_length 52; BOLT 11 requires 53/, 'short n')
  refused(t, sign(good({ drop: ['d'], add: [['d', [1, 2, 3]]] })), /"d" field's 3 words do not hold a whole number of bytes/, 'd of 3 words')
  const p = bytesField('p', HASH)[1].slice(); p[51] |= 1
  refused(t, sign(good({ drop: ['p'], add: [['p', p]] })), /"p" field has non-zero padding bits/, 'p with padding bits set')
  refused(t, sign(good({ drop: ['x'], add: [['x', [0, 1, 28]]] })), /"x" field is not minimally encoded/, 'x with a leading zero word')
  refused(t, sign(good({ drop: ['x'], add: [['x', new Array(11).fill(1)]] })), /"x" field is longer than 50 bits/, 'x of 55 bits')
  refused(t, sign(good({ add: [['c', new Array(11).fill(1)]] })), /"c" field is longer than 50 bits/, 'c of 55 bits')
  refused(t, sign(good({ add: [['c', [0, 18]]] })), /"c" field is not minimally encoded/, 'c with a leading zero word')
  const c = decodeBolt11(sign(good({ add: [intField('c', 144)] })))
  t.ok(c.ok && c.invoice.minFinalCltvExpiryDelta === 144, 'c read when present')
  refused(t, sign(good({ add: [['9', [0, 8]]] })), /"9" field is not minimally encoded/, '9 with a leading zero word')
  refused(t, sign(good({ add: [bytesField('p', '00'.repeat(32))] })), /"p" field appears more than once/, 'two payment hashes')
  refused(t, sign(good({ add: [bytesField('s', '22'.repeat(32))] })), /"s" field appears more than once/, 'two payment secrets')
  refused(t, sign(good({ drop: ['p'] })), /no payment hash/, 'no p')
  refused(t, sign(good({ add: [bytesField('h', '33'.repeat(32))] })), /both a description \("d"\) and a description hash/, 'd and h')
  refused(t, sign(good({ drop: ['d'] })), /neither a description/, 'neither d nor h')
  refused(t, sign(good({ add: [featureField([8, 14, 40])] })), /requires feature bit 40/, 'unknown even feature')
  const odd = decodeBolt11(sign(good({ add: [featureField([9, 15, 41])] })))
  t.ok(odd.ok && odd.invoice.features.join() === '9,15,41', 'unknown odd feature ignored (it is ok to be odd)')
})

test('bolt11 - hostile invoices: signature', (t) => {
  refused(t, buildInvoice({ fields: good(), secretKey: KEY_A, recovery: 4 }), /recovery id is 4/, 'recovery id 4')
  refused(t, buildInvoice({ fields: good(), secretKey: KEY_A, zeroR: true }), /signature is malformed/, 'r = 0')
  refused(t, buildInvoice({ fields: good({ add: [bytesField('n', '02' + '00'.repeat(32))] }), secretKey: KEY_A }), /"n" field is not a valid compressed/, 'n not a point')
  refused(t, buildInvoice({ fields: good({ add: [bytesField('n', PUB_A)] }), secretKey: KEY_B }), new RegExp(`does not verify against the "n" field's key ${PUB_A}`), 'n says A, B signed')
  refused(t, buildInvoice({ fields: good({ add: [bytesField('n', PUB_A)] }), secretKey: KEY_A, highS: true }), /high-S; with an "n" field/, 'high-S with n')
  const tampered = decodeBolt11(buildInvoice({ fields: good(), secretKey: KEY_A, recovery: 0 }))
  const other = decodeBolt11(buildInvoice({ fields: good(), secretKey: KEY_A, recovery: 1 }))
  const keys = [tampered, other].map((r) => r.ok ? r.invoice.payeeNodeKey : null)
  t.ok(keys.filter((k) => k === PUB_A).length === 1, 'the wrong recovery id recovers some other key, never silently A')
  t.ok(PUB_B !== PUB_A)
})

test('bolt11 - mutated invoice strings never throw, and a changed character is never accepted (fast-check)', (t) => {
  const originals = [...vectors.valid.map((v) => v.invoice), buildInvoice({ fields: good(), secretKey: KEY_A })]
  const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l1bioLNBC'.split('')
  fc.assert(fc.property(
    fc.constantFrom(...originals), fc.nat(), fc.constantFrom(...alphabet), fc.constantFrom('replace', 'insert', 'delete', 'truncate', 'upper-one'),
    (orig, at, ch, how) => {
      const i = at % orig.length
      const mutated = how === 'replace' ? orig.slice(0, i) + ch + orig.slice(i + 1)
        : how === 'insert' ? orig.slice(0, i) + ch + orig.slice(i)
          : how === 'delete' ? orig.slice(0, i) + orig.slice(i + 1)
            : how === 'truncate' ? orig.slice(0, i)
              : orig.slice(0, i) + orig[i].toUpperCase() + orig.slice(i + 1)
      const r = decodeBolt11(mutated) // must not throw
      if (mutated.toLowerCase() === orig.toLowerCase()) return true
      return !r.ok && typeof r.reason === 'string' && r.reason.length > 0
    }), { numRuns: 3000 })
  fc.assert(fc.property(fc.anything(), (x) => { const r = decodeBolt11(x); return r.ok === false }), { numRuns: 500 })
  fc.assert(fc.property(fc.string({ maxLength: 400 }), (s) => { decodeBolt11('lnbc1' + s); return true }), { numRuns: 1000 })
  t.pass('3000 mutations, 500 arbitrary values and 1000 arbitrary strings: no throw, no acceptance')
})
