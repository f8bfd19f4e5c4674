// BIP-21 URIs (core/wallet/bip21.ts): the examples of bip-0021.mediawiki, exact sats <-> BTC text
// (no float ever), hostile URIs refused with a reason, and round trips over random amounts and text.
import test from 'brittle'
import fc from 'fast-check'
import {
  btcToSats, buildBip21, lightningUri, parseBip21, satsToBtc, MAX_MONEY_SATS
} from '../core/wallet/bip21.ts'
import vectors from './vectors/bolt11/examples.json' with { type: 'json' }

// the address of BIP-21's own examples (its Base58Check checksum does not hold: read as URI text
// only, and refused where a network is named) and BIP-173's regtest P2WPKH
const LUKE = '175tWpb8K1S7NmH4Zx6rewF9WQrcZv245W'
const RB = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'
const INVOICE = vectors.valid[0].invoice

test('bip21 - the examples of bip-0021.mediawiki', (t) => {
  t.alike(parseBip21(`bitcoin:${LUKE}`), { ok: true, address: LUKE })
  const checked = parseBip21(`bitcoin:${LUKE}`, { network: 'mainnet' })
  t.ok(!checked.ok && /not a valid Bitcoin address/.test(checked.reason), 'with a network named, the example address fails its checksum')
  t.alike(parseBip21(`bitcoin:${LUKE}?label=Luke-Jr`), { ok: true, address: LUKE, label: 'Luke-Jr' })
  t.alike(parseBip21(`bitcoin:${LUKE}?amount=20.3&label=Luke-Jr`), { ok: true, address: LUKE, amountSats: 2_030_000_000n, label: 'Luke-Jr' })
  t.alike(parseBip21(`bitcoin:${LUKE}?amount=50&label=Luke-Jr&message=Donation%20for%20project%20xyz`),
    { ok: true, address: LUKE, amountSats: 5_000_000_000n, label: 'Luke-Jr', message: 'Donation for project xyz' })
  const req = parseBip21(`bitcoin:${LUKE}?req-somethingyoudontunderstand=50&req-somethingelseyoudontget=999`)
  t.is(req.ok, false, 'an unknown req- parameter makes the URI invalid')
  t.ok(!req.ok && /requires somethingyoudontunderstand|requires somethingelseyoudontget/.test(req.reason), req.ok ? '' : req.reason)
  t.alike(parseBip21(`bitcoin:${LUKE}?somethingyoudontunderstand=50&somethingelseyoudontget=999`), { ok: true, address: LUKE }, 'other unknown parameters are ignored')
  t.is(buildBip21({ address: LUKE, amountSats: 5_000_000_000n, label: 'Luke-Jr', message: 'Donation for project xyz' }),
    `bitcoin:${LUKE}?amount=50&label=Luke-Jr&message=Donation%20for%20project%20xyz`, 'built as the BIP writes it')
  t.is(parseBip21(`BITCOIN:${LUKE}?amount=1`).ok, true, 'the scheme is case-insensitive (QR alphanumeric mode)')
})

test('bip21 - sats to BTC text exactly, 8 decimals at most, trailing zeros trimmed', (t) => {
  t.is(satsToBtc(0n), '0')
  t.is(satsToBtc(1n), '0.00000001')
  t.is(satsToBtc(10n), '0.0000001')
  t.is(satsToBtc(30_000_000n), '0.3', 'where 0.1 + 0.2 as floats gives 0.30000000000000004')
  t.is(satsToBtc(100_000_000n), '1')
  t.is(satsToBtc(150_000_000n), '1.5')
  t.is(satsToBtc(2_099_999_997_690_000n), '20999999.9769', 'the last sat of the supply schedule')
  t.is(satsToBtc(MAX_MONEY_SATS), '21000000')
  t.is(satsToBtc(9_007_199_254_740_993n), '90071992.54740993', 'beyond 2^53 sats: no float rounding')
  t.exception(() => satsToBtc(-1n), /BAD_ARGUMENT/)
  t.exception(() => satsToBtc(0.1 as unknown as bigint), /BAD_ARGUMENT/, 'a float is refused, not rounded')
  t.alike(btcToSats('0.00000001'), { ok: true, sats: 1n })
  t.alike(btcToSats('.5'), { ok: true, sats: 50_000_000n })
  t.alike(btcToSats('20999999.9769'), { ok: true, sats: 2_099_999_997_690_000n })
  for (const bad of ['', '.', '-1', '+1', '1e-8', '0x10', '1,5', ' 1', '1 ', '0.000000001', '21000000.00000001', 'NaN', 'Infinity', '1..2', '١']) {
    const r = btcToSats(bad)
    t.is(r.ok, false, `${JSON.stringify(bad)} refused${r.ok ? '' : ': ' + r.reason}`)
  }
})

test('bip21 - building refuses what no payer should be shown', (t) => {
  t.is(buildBip21({ address: RB }, { network: 'regtest' }), `bitcoin:${RB}`, 'a regtest address takes bitcoin: too')
  t.is(buildBip21({ address: RB, amountSats: 12_345n, label: 'Ann', message: 'funding abc' }, { network: 'regtest' }),
    `bitcoin:${RB}?amount=0.00012345&label=Ann&message=funding%20abc`)
  t.exception(() => buildBip21({ address: RB }, { network: 'mainnet' }), /regtest address/, 'an address of another network')
  t.exception(() => buildBip21({ address: `${RB}?amount=100` }), /BAD_ARGUMENT/, 'a hostile "address" cannot add parameters')
  t.exception(() => buildBip21({ address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt081' }, { network: 'regtest' }), /not a valid Bitcoin address/, 'a bad checksum')
  t.exception(() => buildBip21({ address: RB, amountSats: 0n }), /BAD_ARGUMENT/, 'zero')
  t.exception(() => buildBip21({ address: RB, amountSats: -5n }), /BAD_ARGUMENT/, 'negative')
  t.exception(() => buildBip21({ address: RB, amountSats: MAX_MONEY_SATS + 1n }), /BAD_ARGUMENT/, 'above 21 million BTC')
  t.exception(() => buildBip21({ address: RB, amountSats: 1000 as unknown as bigint }), /BAD_ARGUMENT/, 'a number, not a bigint')
  t.exception(() => buildBip21({ address: RB, label: 'a\uD800b' }), /well-formed/, 'a lone surrogate in the label')
  t.exception(() => buildBip21({ address: RB, lightning: 'lnbc1notaninvoice' }), /not a Lightning invoice/)
  const unified = buildBip21({ address: RB, amountSats: 1n, lightning: INVOICE.toUpperCase() })
  t.ok(unified.endsWith('&lightning=' + INVOICE), 'a unified URI carries the invoice, lower case')
  t.is(lightningUri(INVOICE), 'lightning:' + INVOICE)
  t.exception(() => lightningUri(INVOICE.slice(0, -1) + (INVOICE.endsWith('l') ? 'q' : 'l')), /not a Lightning invoice/, 'a changed checksum character')
})

test('bip21 - hostile URIs refused, never thrown', (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [42, /text/],
    [`litecoin:${LUKE}`, /not a bitcoin: URI/],
    [`bitcoin${LUKE}`, /not a bitcoin: URI/],
    [`bitcoin:${LUKE}?amount=1&amount=2`, /more than once/],
    [`bitcoin:${LUKE}?amount`, /without a value/],
    [`bitcoin:${LUKE}?amount=-1`, /not a (decimal )?number of BTC/],
    [`bitcoin:${LUKE}?amount=1e3`, /not a decimal number/],
    [`bitcoin:${LUKE}?amount=0`, /zero/],
    [`bitcoin:${LUKE}?amount=0.123456789`, /more than 8 decimals/],
    [`bitcoin:${LUKE}?amount=21000001`, /21 million/],
    [`bitcoin:${LUKE}?lightning=lnbc1xyz`, /does not decode/],
    [`bitcoin:not an address`, /not a Bitcoin address/],
    [`bitcoin:${'a'.repeat(5000)}`, /longer than/]
  ]
  for (const [uri, reason] of cases) {
    let r
    try { r = parseBip21(uri) } catch (err) { t.fail(`threw on ${String(uri).slice(0, 60)}: ${String(err)}`); continue }
    t.ok(!r.ok && reason.test(r.reason), `${String(uri).slice(0, 60)} -> ${r.ok ? 'accepted' : r.reason}`)
  }
  const wrongNet = parseBip21(`bitcoin:${RB}?amount=1`, { network: 'mainnet' })
  t.ok(!wrongNet.ok && /regtest address/.test(wrongNet.reason), 'a regtest address where mainnet is expected')
})

test('bip21 - random amounts and text survive a round trip exactly', (t) => {
  fc.assert(fc.property(
    fc.bigInt({ min: 1n, max: MAX_MONEY_SATS }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'grapheme-composite', maxLength: 40 }),
    (sats, label, message) => {
      const btc = satsToBtc(sats)
      if (!/^\d+(\.\d{0,7}[1-9])?$/.test(btc)) return false
      const back = btcToSats(btc)
      if (!back.ok || back.sats !== sats) return false
      const uri = buildBip21({ address: RB, amountSats: sats, label, message }, { network: 'regtest' })
      const parsed = parseBip21(uri, { network: 'regtest' })
      return parsed.ok && parsed.amountSats === sats && (parsed.label ?? '') === label && (parsed.message ?? '') === message
    }
  ), { numRuns: 500 })
  t.pass('500 random amounts, labels and messages')
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
    const r = parseBip21('bitcoin:' + RB + '?' + s)
    return typeof r.ok === 'boolean' && (r.ok || typeof r.reason === 'string')
  }), { numRuns: 500 })
  t.pass('arbitrary query text never throws')
})
