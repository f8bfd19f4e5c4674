/**
 * Consent to credit-exposure queries, without a network: the consent credential and its checks
 * (core/exposure/consent.ts), revocation notices, sealing to a DID (seal.ts) and the exposure
 * arithmetic (exposure.ts). Hostile inputs throughout: another asker's grant, a grant signed by
 * someone else, tampered, expired, too long, revoked, unrevocable; notices forged; answers sealed
 * to someone else; reports with floats or another borrower.
 */
import test from 'brittle'
import b4a from 'b4a'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { statusEntry } from '../core/credentials/bitstring-status-list.ts'
import { signAs, GROWR_CONTEXTS } from '../core/credentials/vc.ts'
import { checkConsent, issueConsent, openRevocation, signRevocation, MAX_CONSENT_DAYS } from '../core/exposure/consent.ts'
import { openSealed, sealTo, PAD_BYTES } from '../core/exposure/seal.ts'
import { combine, exposureOf, fromJson, readReport, toJson } from '../core/exposure/exposure.ts'
import { exactSchedule } from '../books/schedule.ts'
import type { InstalmentState, Loan } from '../books/entities.ts'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 4, 1, 12)

function party (n: number) {
  const seed = new Uint8Array(32)
  seed[0] = 200 + n
  const kp = generateKeyPair(seed)
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
}
const borrower = party(1)
const asker = party(2)
const answerer = party(3)
const mallory = party(4)
const status = statusEntry('hyper://yy/revocation', 7)

function grant (over: Partial<Parameters<typeof issueConsent>[0]> = {}) {
  return issueConsent({ borrower, asker: asker.did, purpose: 'loan application 2026-05', days: 30, status, now: NOW, ...over })
}

test('consent - a grant checks for the asker it names, at an answering organization', async (t) => {
  const vc = grant()
  t.alike(vc.type, ['VerifiableCredential', 'CreditExposureConsent'])
  t.is(vc.issuer, borrower.did, 'issued by the borrower herself')
  t.is(vc.credentialSubject.id, asker.did, 'about the asking organization')
  t.is(vc.credentialSubject.subject, borrower.did)
  const r = await checkConsent(vc, { asker: asker.did, answerer: answerer.did, now: NOW + DAY })
  t.ok(r.ok, 'holds')
  if (r.ok) {
    t.is(r.consent.subject, borrower.did)
    t.is(r.consent.purpose, 'loan application 2026-05')
    t.is(r.consent.scope, null, 'no scope: any certified originator may answer')
  }
})

test('consent - another asker presenting someone else\'s grant is refused', async (t) => {
  const r = await checkConsent(grant(), { asker: mallory.did, answerer: answerer.did, now: NOW })
  t.absent(r.ok)
  t.ok(!r.ok && /another organization/.test(r.reason), !r.ok ? r.reason : '')
})

test('consent - a grant signed by someone other than the borrower is refused', async (t) => {
  // mallory signs a grant "about" the borrower: subject is not the issuer
  const forged = signAs<Record<string, unknown>>({
    '@context': GROWR_CONTEXTS,
    id: 'urn:uuid:00000000-0000-4000-8000-000000000001',
    type: ['VerifiableCredential', 'CreditExposureConsent'],
    issuer: mallory.did,
    validFrom: '2026-05-01T12:00:00Z',
    validUntil: '2026-05-31T12:00:00Z',
    credentialSubject: { id: asker.did, subject: borrower.did, purpose: 'x' },
    credentialStatus: status
  }, mallory, { proofPurpose: 'assertionMethod', created: '2026-05-01T12:00:00Z' })
  const r = await checkConsent(forged, { asker: asker.did, now: NOW })
  t.ok(!r.ok && /not issued by the borrower/.test(r.reason), !r.ok ? r.reason : 'accepted!')

  // the borrower's genuine grant with the issuer swapped to mallory: the proof names the borrower's key
  const swapped = { ...grant(), issuer: mallory.did, credentialSubject: { ...grant().credentialSubject, subject: mallory.did } }
  const s = await checkConsent(swapped, { asker: asker.did, now: NOW })
  t.ok(!s.ok && /made by|signature/.test(s.reason), !s.ok ? s.reason : 'accepted!')

  // a genuine grant re-pointed at another asker after signing
  const moved = { ...grant(), credentialSubject: { ...grant().credentialSubject, id: mallory.did } }
  const m = await checkConsent(moved, { asker: mallory.did, now: NOW })
  t.ok(!m.ok && /signature/.test(m.reason), !m.ok ? m.reason : 'accepted!')

  // and a wanted borrower that is not the grant's
  const other = await checkConsent(grant(), { asker: asker.did, subject: mallory.did, now: NOW })
  t.ok(!other.ok && /another borrower/.test(other.reason))
})

test('consent - expired, not yet valid, longer than 90 days', async (t) => {
  const vc = grant({ days: 30 })
  const late = await checkConsent(vc, { asker: asker.did, now: NOW + 31 * DAY })
  t.ok(!late.ok && /expired/.test(late.reason), !late.ok ? late.reason : '')
  const early = await checkConsent(vc, { asker: asker.did, now: NOW - DAY })
  t.ok(!early.ok && /not valid until/.test(early.reason), !early.ok ? early.reason : '')
  t.exception(() => grant({ days: MAX_CONSENT_DAYS + 1 }), /BAD_ARGUMENT/, 'issuing more than 90 days is refused')
  t.exception(() => grant({ days: 1.5 }), /BAD_ARGUMENT/, 'whole days only')
  // a borrower's own signature on 120 days does not make it acceptable
  const long = signAs<Record<string, unknown>>({
    '@context': GROWR_CONTEXTS, id: 'urn:uuid:00000000-0000-4000-8000-000000000002', type: ['VerifiableCredential', 'CreditExposureConsent'], issuer: borrower.did,
    validFrom: '2026-05-01T12:00:00Z', validUntil: '2026-08-29T12:00:00Z', credentialSubject: { id: asker.did, subject: borrower.did, purpose: 'x' }, credentialStatus: status
  }, borrower, { proofPurpose: 'assertionMethod', created: '2026-05-01T12:00:00Z' })
  const l = await checkConsent(long, { asker: asker.did, now: NOW })
  t.ok(!l.ok && /at most 90 days/.test(l.reason), !l.ok ? l.reason : '')
  // no validUntil at all: a consent must end
  const { validUntil: _, proof: __, ...open } = long as Record<string, unknown>
  const o = await checkConsent(signAs(open, borrower, { proofPurpose: 'assertionMethod', created: '2026-05-01T12:00:00Z' }), { asker: asker.did, now: NOW })
  t.absent(o.ok, 'an endless consent is refused')
})

test('consent - revoked: heard, or on the status list; an unrevocable grant is refused', async (t) => {
  const vc = grant()
  const heard = await checkConsent(vc, { asker: asker.did, now: NOW, heardRevoked: (s, id) => s === borrower.did && id === vc.id })
  t.ok(!heard.ok && /revoked/.test(heard.reason), 'a heard revocation refuses at once')
  let asked = 0
  const listed = await checkConsent(vc, { asker: asker.did, now: NOW, checkStatus: async () => { asked++; return { revoked: true } } })
  t.ok(!listed.ok && /revoked/.test(listed.reason), 'a set bit refuses')
  const stale = await checkConsent(vc, { asker: asker.did, now: NOW, checkStatus: async () => ({ error: 'issuer unreachable', code: 'STATUS_STALE' }) })
  t.ok(!stale.ok && /cannot be checked/.test(stale.reason), `a status that cannot be confirmed is no consent: ${!stale.ok ? stale.reason : ''}`)
  const fine = await checkConsent(vc, { asker: asker.did, now: NOW, checkStatus: async () => ({ revoked: false }) })
  t.ok(fine.ok, 'a clear bit holds')
  // a forged grant makes us fetch nothing
  asked = 0
  await checkConsent({ ...vc, credentialSubject: { ...vc.credentialSubject, purpose: 'changed' } }, { asker: asker.did, now: NOW, checkStatus: async () => { asked++; return { revoked: false } } })
  t.is(asked, 0, 'no status list is read for a grant whose signature fails')
  const { credentialStatus: _, proof: __, ...bare } = vc
  const unrevocable = signAs(bare, borrower, { proofPurpose: 'assertionMethod', created: '2026-05-01T12:00:00Z' })
  const u = await checkConsent(unrevocable, { asker: asker.did, now: NOW })
  t.ok(!u.ok && /revocation status/.test(u.reason), !u.ok ? u.reason : '')
})

test('consent - scope, purpose, junk', async (t) => {
  const scoped = grant({ scope: [answerer.did] })
  t.ok((await checkConsent(scoped, { asker: asker.did, answerer: answerer.did, now: NOW })).ok, 'an organization in scope answers')
  const out = await checkConsent(scoped, { asker: asker.did, answerer: mallory.did, now: NOW })
  t.ok(!out.ok && /does not let this organization answer/.test(out.reason))
  t.exception(() => grant({ purpose: '' }), /BAD_ARGUMENT/, 'a purpose is required')
  t.exception(() => grant({ purpose: 'x'.repeat(201) }), /BAD_ARGUMENT/, 'at most 200 characters')
  t.exception(() => grant({ asker: borrower.did }), /BAD_ARGUMENT/, 'not to oneself')
  t.exception(() => grant({ asker: 'did:web:example.com' }), /BAD_ARGUMENT/, 'a did:key asker')
  for (const junk of [null, undefined, 42, 'vc', [], {}, { type: 'CreditExposureConsent' }, { ...grant(), credentialSubject: null }]) {
    const r = await checkConsent(junk, { asker: asker.did, now: NOW })
    t.absent(r.ok, `refused without throwing: ${JSON.stringify(junk)?.slice(0, 40)}`)
  }
})

test('consent - revocation notices: only the borrower can revoke her grant', (t) => {
  const n = signRevocation(borrower, 'urn:uuid:1', NOW)
  const ok = openRevocation(n)
  t.ok(ok.ok && ok.subject === borrower.did && ok.grant === 'urn:uuid:1')
  t.absent(openRevocation({ ...signRevocation(mallory, 'urn:uuid:1', NOW), subject: borrower.did }).ok, 'mallory cannot revoke the borrower\'s grant')
  t.absent(openRevocation({ ...n, grant: 'urn:uuid:2' }).ok, 'a notice cannot be re-pointed at another grant')
  t.absent(openRevocation(JSON.parse(JSON.stringify({ ...n, v: 2 }))).ok)
  for (const junk of [null, 'x', [], { v: 1 }]) t.absent(openRevocation(junk).ok)
})

test('consent - sealed answers open only for the DID they are sealed to, and hide their size', (t) => {
  const text = b4a.from(JSON.stringify({ hello: 'asker' }))
  const sealed = sealTo(asker.did, text)
  const opened = openSealed(sealed, asker.secretKey)
  t.ok(opened.ok && b4a.equals(opened.plaintext, text), 'the asker opens it')
  const third = openSealed(sealed, mallory.secretKey)
  t.ok(!third.ok && /does not open/.test(third.reason), 'a third party cannot')
  const bytes = b4a.from(sealed, 'base64')
  bytes[bytes.length - 1] ^= 1
  t.absent(openSealed(b4a.toString(bytes, 'base64'), asker.secretKey).ok, 'an altered box does not open')
  t.absent(openSealed('not base64 !', asker.secretKey).ok)
  t.absent(openSealed(42, asker.secretKey).ok)
  const small = b4a.from(sealTo(asker.did, b4a.from('{}')), 'base64').byteLength
  const larger = b4a.from(sealTo(asker.did, b4a.alloc(900, 0x61)), 'base64').byteLength
  t.is(small, larger, `reports of different sizes seal to the same length (${PAD_BYTES}-byte padding)`)
  t.exception(() => sealTo('did:web:x', text), /BAD_ARGUMENT/)
})

function loan (over: Partial<Loan> & { paid?: number } = {}): Loan {
  const sched = exactSchedule({ principal: over.amount ?? 100_000, annualRateBps: 1200, months: 6, method: 'declining-balance', startDate: '2026-01-10' })
  if (!sched.ok) throw new Error(sched.reason)
  let left = over.paid ?? 0
  const schedule: InstalmentState[] = sched.value.map((i) => {
    const interestPaid = Math.min(left, i.interest); left -= interestPaid
    const principalPaid = Math.min(left, i.principal); left -= principalPaid
    return { ...i, interestPaid, principalPaid }
  })
  return { loanId: 'l', projectId: 'p', borrower: borrower.did, amount: 100_000, currency: 'EUR', months: 6, purpose: '', status: 'disbursed', appliedAt: 0, updatedAt: 0, reason: null, schedule, pendingRepayment: 0, disbursementPaymentId: 'd', eligibility: null, ...over }
}

test('consent - exposure: outstanding principal and arrears exact, per currency, never across', (t) => {
  const first = loan({ paid: 0 }).schedule[0]
  const paidOne = loan({ paid: first.total })
  // due 2026-02-10, 03-10, 04-10 ...: on 2026-04-01 two are due; the first is paid
  const [eur] = exposureOf([paidOne], borrower.did, '2026-04-01')
  t.is(eur.loans, 1)
  t.is(eur.outstandingPrincipal, 100_000n - BigInt(first.principal), 'outstanding principal = amount less principal repaid')
  t.is(eur.arrearsInstalments, 1, 'one instalment past due and unpaid')
  t.is(eur.arrearsAmount, BigInt(paidOne.schedule[1].total), 'its whole amount')
  t.alike(exposureOf([paidOne], borrower.did, '2026-03-10'), [{ ...eur, arrearsInstalments: 0, arrearsAmount: 0n }], 'due today is not yet in arrears')

  const others = [
    loan({ borrower: mallory.did }),
    loan({ status: 'approved' }),
    loan({ status: 'repaid', paid: 10_000_000 }),
    loan({ currency: 'KES', amount: 50_000 }),
    loan({ status: 'defaulted' })
  ]
  const all = exposureOf([paidOne, ...others], borrower.did, '2026-04-01')
  t.alike(all.map((e) => e.currency), ['EUR', 'KES'], 'one entry per currency')
  t.is(all[0].loans, 2, 'someone else\'s, approved-only and repaid loans do not count')
  t.is(all[0].defaultedLoans, 1)
  const sum = combine([all, all])
  t.is(sum[0].outstandingPrincipal, all[0].outstandingPrincipal * 2n, 'combined per currency')
  t.is(sum[1].currency, 'KES')
  t.is(sum[1].outstandingPrincipal, all[1].outstandingPrincipal * 2n, 'KES never mixed with EUR')

  const wire = toJson(all[0])
  t.is(typeof wire.outstandingPrincipal, 'string', 'decimal strings on the wire')
  t.alike(fromJson(wire), { ok: true, value: all[0] }, 'round trip exact')
  for (const bad of [{ ...wire, outstandingPrincipal: '1.5' }, { ...wire, outstandingPrincipal: 15 }, { ...wire, arrearsAmount: '-1' }, { ...wire, loans: 0.5 }, { ...wire, currency: 'euro' }, { ...wire, defaultedLoans: 9 }]) {
    t.absent(fromJson(bad).ok, `refused: ${JSON.stringify(bad).slice(0, 80)}`)
  }
  const report = { v: 1, subject: borrower.did, grant: 'g', asOf: '2026-04-01', books: [{ book: 'b', name: 'B', exposure: [wire] }] }
  t.ok(readReport(report, { subject: borrower.did, grant: 'g' }).ok)
  t.absent(readReport(report, { subject: mallory.did, grant: 'g' }).ok, 'a report about another borrower is refused')
  t.absent(readReport(report, { subject: borrower.did, grant: 'h' }).ok, 'a report under another consent is refused')
  t.absent(readReport({ ...report, books: [report.books[0], report.books[0]] }, { subject: borrower.did, grant: 'g' }).ok, 'a book counted twice is refused')
})
