// The Lightning payment proof apply checks (books/proofs/lightning.ts): an honest payment holds;
// each hostile variant (wrong preimage, other signer, wrong amount, amountless, wrong network,
// late or early payment, bad inputs) is refused for its own reason; mutated proofs never throw.
import test from 'brittle'
import fc from 'fast-check'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { checkLightningPayment, type LightningPaymentProof } from '../books/proofs/lightning.ts'
import { MAX_SKEW_MS } from '../books/clock.ts'
import { buildInvoice, bytesField, textField, intField, type Field } from './helpers/bolt11-invoice.ts'
import vectors from './vectors/bolt11/examples.json' with { type: 'json' }

const PAYEE_KEY = hexToBytes('a1'.repeat(32))
const OTHER_KEY = hexToBytes('b2'.repeat(32))
const PAYEE = bytesToHex(secp256k1.getPublicKey(PAYEE_KEY, true))
const OTHER = bytesToHex(secp256k1.getPublicKey(OTHER_KEY, true))
const PREIMAGE = 'c3'.repeat(32)
const HASH = bytesToHex(sha256(hexToBytes(PREIMAGE)))
const CREATED = 1_780_000_000 // s
const EXPIRY = 900 // s
const DUE = 2_500_000n // msat: lnbcrt25u

function fields (extra: Field[] = []): Field[] {
  return [bytesField('p', HASH), bytesField('s', '11'.repeat(32)), textField('growr loan 7, instalment 2'), intField('x', EXPIRY), ...extra]
}

function invoice (over: { hrp?: string, key?: Uint8Array, extra?: Field[], timestamp?: number } = {}): string {
  return buildInvoice({ hrp: over.hrp ?? 'lnbcrt25u', fields: fields(over.extra), secretKey: over.key ?? PAYEE_KEY, timestamp: over.timestamp ?? CREATED })
}

function proof (over: { invoice?: string, preimage?: string, expect?: Partial<LightningPaymentProof['expect']> } = {}): LightningPaymentProof {
  return {
    invoice: over.invoice ?? invoice(),
    preimage: over.preimage ?? PREIMAGE,
    expect: { payeeNodeKey: PAYEE, amountMsat: DUE, network: 'regtest', paidAt: CREATED * 1000 + 60_000, ...over.expect }
  }
}

function refused (t: any, p: LightningPaymentProof, expected: RegExp, message: string): void {
  const r = checkLightningPayment(p)
  t.is(r.ok, false, `${message}: refused`)
  if (!r.ok) t.ok(expected.test(r.reason), `${message}: "${r.reason}"`)
}

test('lightning - an honest payment holds', (t) => {
  const r = checkLightningPayment(proof())
  t.ok(r.ok, 'accepted')
  if (r.ok) {
    t.is(r.paymentHash, HASH)
    t.is(r.amountMsat, DUE)
    t.is(r.payeeNodeKey, PAYEE)
  }
  t.ok(checkLightningPayment(proof({ invoice: invoice({ extra: [bytesField('n', PAYEE)] }) })).ok, 'with an n field naming the payee')
  t.ok(checkLightningPayment(proof({ preimage: PREIMAGE.toUpperCase(), expect: { payeeNodeKey: PAYEE.toUpperCase() } })).ok, 'hex in upper case')
  t.ok(checkLightningPayment(proof({ invoice: invoice().toUpperCase() })).ok, 'invoice in upper case')
  for (const [hrp, network] of [['lnbc25u', 'mainnet'], ['lntb25u', 'testnet'], ['lntbs25u', 'signet']] as const) {
    t.ok(checkLightningPayment(proof({ invoice: invoice({ hrp }), expect: { network } })).ok, `${hrp} on ${network}`)
  }
})

test('lightning - a preimage that does not match the payment hash is refused', (t) => {
  refused(t, proof({ preimage: 'c4'.repeat(32) }), /preimage does not hash to the invoice's payment hash/, 'other preimage')
  refused(t, proof({ preimage: HASH }), /preimage does not hash/, 'the hash itself as preimage')
  refused(t, proof({ preimage: 'c3'.repeat(31) }), /preimage must be 32 bytes/, 'short preimage')
  refused(t, proof({ preimage: 'zz'.repeat(32) }), /preimage must be 32 bytes/, 'not hex')
  refused(t, proof({ preimage: 42 as unknown as string }), /preimage must be 32 bytes/, 'not a string')
})

test('lightning - an invoice signed by another key than the registered one is refused', (t) => {
  refused(t, proof({ invoice: invoice({ key: OTHER_KEY }) }), new RegExp(`signed by node ${OTHER}, not by the payee's registered node ${PAYEE}`), 'other signer, key recovered')
  refused(t, proof({ invoice: invoice({ key: OTHER_KEY, extra: [bytesField('n', OTHER)] }) }), new RegExp(`signed by node ${OTHER}`), 'other signer naming itself in n')
  refused(t, proof({ invoice: invoice({ key: OTHER_KEY, extra: [bytesField('n', PAYEE)] }) }), /invoice refused: signature does not verify against the "n" field's key/, 'other signer claiming the payee in n')
  refused(t, proof({ expect: { payeeNodeKey: OTHER } }), /not by the payee's registered node/, 'the book registered someone else')
  refused(t, proof({ invoice: vectors.valid[1].invoice, expect: { network: 'mainnet', amountMsat: 250_000_000n } }), /signed by node 03e7156a/, 'a real BOLT 11 example, not the payee\'s')
})

test('lightning - amount: mismatch and amountless invoices are refused', (t) => {
  refused(t, proof({ expect: { amountMsat: DUE + 1n } }), /invoice asks 2500000 msat, but 2500001 msat are due/, 'one msat short')
  refused(t, proof({ invoice: invoice({ hrp: 'lnbcrt24u' }) }), /invoice asks 2400000 msat, but 2500000 msat are due/, 'smaller invoice')
  refused(t, proof({ invoice: invoice({ hrp: 'lnbcrt' }) }), /states no amount/, 'amountless')
  refused(t, proof({ expect: { amountMsat: 0n } }), /amount due must be a positive number/, 'nothing due')
  refused(t, proof({ expect: { amountMsat: 2500000 as unknown as bigint } }), /amount due must be a positive number of millisatoshis \(bigint\)/, 'a float-able number')
})

test('lightning - an invoice for another network is refused', (t) => {
  refused(t, proof({ invoice: invoice({ hrp: 'lnbc25u' }) }), /invoice is for mainnet, but the book pays on regtest/, 'mainnet invoice, regtest book')
  refused(t, proof({ invoice: invoice({ hrp: 'lntb25u' }), expect: { network: 'signet' } }), /invoice is for testnet, but the book pays on signet/, 'testnet vs signet')
  refused(t, proof({ invoice: invoice({ hrp: 'lnsb25u' }) }), /invoice refused: prefix "lnsb25u" names no known network/, 'simnet')
})

test('lightning - paid after expiry, or dated before the invoice, is refused', (t) => {
  const expiresMs = (CREATED + EXPIRY) * 1000
  t.ok(checkLightningPayment(proof({ expect: { paidAt: expiresMs } })).ok, 'paid at the last millisecond')
  refused(t, proof({ expect: { paidAt: expiresMs + 1 } }), /after the invoice expired at 2026-/, 'one ms late')
  const noX = buildInvoice({ hrp: 'lnbcrt25u', fields: fields().filter(([tag]) => tag !== 'x'), secretKey: PAYEE_KEY, timestamp: CREATED })
  t.ok(checkLightningPayment(proof({ invoice: noX, expect: { paidAt: (CREATED + 3600) * 1000 } })).ok, 'default expiry 3600 s honoured')
  refused(t, proof({ invoice: noX, expect: { paidAt: (CREATED + 3600) * 1000 + 1 } }), /after the invoice expired/, 'default expiry, late')
  t.ok(checkLightningPayment(proof({ expect: { paidAt: CREATED * 1000 - MAX_SKEW_MS } })).ok, 'clock skew tolerated')
  refused(t, proof({ expect: { paidAt: CREATED * 1000 - MAX_SKEW_MS - 1 } }), /before the invoice was created/, 'dated before the invoice')
  refused(t, proof({ expect: { paidAt: 1.5 } }), /payment time must be a whole number/, 'fractional time')
  refused(t, proof({ expect: { paidAt: Number.NaN } }), /payment time must be a whole number/, 'NaN time')
  refused(t, proof({ expect: { paidAt: -1 } }), /payment time must be a whole number/, 'negative time')
})

test('lightning - malformed expectations and invoices are refused, never thrown', (t) => {
  refused(t, proof({ expect: { payeeNodeKey: '02' + '00'.repeat(32) } }), /registered Lightning node key is not a 33-byte compressed/, 'registered key not a point')
  refused(t, proof({ expect: { payeeNodeKey: PAYEE.slice(2) } }), /registered Lightning node key is not/, 'registered key 32 bytes')
  refused(t, proof({ invoice: 'lnbcrt1notaninvoice' }), /^invoice refused: /, 'garbage invoice')
  refused(t, null as unknown as LightningPaymentProof, /lightning proof is missing/, 'null proof')
  refused(t, { invoice: invoice(), preimage: PREIMAGE } as unknown as LightningPaymentProof, /no expectation/, 'no expectation')
})

test('lightning - mutated proofs never throw and never hold (fast-check)', (t) => {
  const good = invoice()
  fc.assert(fc.property(fc.nat(), fc.constantFrom(...'qpzry9x8gf2tvdw0s3jn54khce6mua7l1'.split('')), fc.nat(63), fc.constantFrom(...'0123456789abcdef'.split('')),
    (at, ch, pi, hexch) => {
      const i = at % good.length
      const mutated = good.slice(0, i) + ch + good.slice(i + 1)
      const pre = PREIMAGE.slice(0, pi) + hexch + PREIMAGE.slice(pi + 1)
      const a = checkLightningPayment(proof({ invoice: mutated }))
      const b = checkLightningPayment(proof({ preimage: pre }))
      return (mutated === good || !a.ok) && (pre === PREIMAGE || !b.ok)
    }), { numRuns: 800 })
  fc.assert(fc.property(fc.anything(), fc.anything(), fc.anything(), (inv, pre, exp) => {
    const r = checkLightningPayment({ invoice: inv, preimage: pre, expect: exp } as unknown as LightningPaymentProof)
    return r.ok === false
  }), { numRuns: 500 })
  t.pass('800 mutations and 500 arbitrary proofs: no throw, no false acceptance')
})
