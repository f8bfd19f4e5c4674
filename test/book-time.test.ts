/**
 * Finding 7 of issue 9: no single party moves the book's time (books/clock.ts). Over a testnet with
 * an originator, a borrower and an investor: backdating an application to use an expired
 * attestation, approving on an attestation that expired, backdating an approval below the
 * application, and defaulting a current loan by dating the default 60 days ahead are all refused,
 * with identical views on every peer; a default becomes possible once someone other than the
 * originator has vouched for the date.
 */
import test from 'brittle'
import b4a from 'b4a'
import { confirmedFunding, lendingBook, seen } from './helpers/lending.ts'
import { accepted, converge } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { criteriaHash, issueAttestation } from '../core/credentials/attestation.ts'
import type { Op } from '../books/ops/types.ts'

const DAY = 86_400_000
type Of<T extends Op['type']> = Extract<Op, { type: T }>

test('book time - backdating and expired attestations', { timeout: 120_000 }, async (t) => {
  const { books, identities, now } = await lendingBook(t, ['borrower'])
  const [orig, borrower] = books
  const [origId, borrowerId] = identities
  const book = b4a.toString(orig.key, 'hex')
  // a project the originator opened 30 days ago (its ops dated then)
  const old = orig.newId()
  await accepted(t, orig, [
    { type: 'project/create', projectId: old, terms: terms(now - 30 * DAY), ts: now - 30 * DAY },
    { type: 'project/activate', projectId: old, ts: now - 30 * DAY }
  ])
  await seen(borrower, 'projects', old, 'active')
  const attestation = (issuedAt: number, ttlMs?: number) => issueAttestation({ applicant: borrowerId.did, book, projectId: old, eligible: true, reasons: [], presentationHash: b4a.toString(b4a.alloc(32, issuedAt % 251), 'hex'), criteriaHash: criteriaHash([]), verifier: origId, now: issuedAt, ttlMs }) as unknown as Record<string, unknown>

  // issued 25 days ago, valid 7 days: expired 18 days ago; the application dated 24 days back
  const [late] = await borrower.act([{ type: 'loan/apply', loanId: borrower.newId(), projectId: old, amount: 50_000, currency: 'EUR', months: 6, purpose: '', attestation: attestation(now - 25 * DAY), ts: now - 24 * DAY }])
  t.is(late.audit.status, 'rejected', 'an application dated back to when an expired attestation was valid is refused')
  t.ok(/expired|validUntil|no longer valid|not valid/i.test(late.audit.reason ?? ''), `judged at the originator's latest time: ${late.audit.reason}`)

  // dated before the project's own activation: the floor
  const [early] = await borrower.act([{ type: 'loan/apply', loanId: borrower.newId(), projectId: old, amount: 50_000, currency: 'EUR', months: 6, purpose: '', ts: now - 40 * DAY }])
  t.is(early.audit.status, 'rejected', 'an application dated before the project opened is refused')
  t.ok(/backdating is refused/.test(early.audit.reason ?? ''), early.audit.reason ?? '')

  // dated before the attestation it carries was issued
  const fresh = attestation(now - DAY)
  const [before] = await borrower.act([{ type: 'loan/apply', loanId: borrower.newId(), projectId: old, amount: 50_000, currency: 'EUR', months: 6, purpose: '', attestation: fresh, ts: now - 3 * DAY }])
  t.is(before.audit.status, 'rejected', 'an application dated before its attestation existed is refused')

  // a genuine application, then an approval when the attestation has expired
  const short = attestation(now, 60_000)
  const [ok] = await borrower.act([{ type: 'loan/apply', loanId: borrower.newId(), projectId: old, amount: 50_000, currency: 'EUR', months: 6, purpose: '', attestation: short }])
  t.is(ok.audit.status, 'accepted', `an application within its attestation's validity applies: ${ok.audit.reason ?? ''}`)
  const loanId = (ok.op as Of<'loan/apply'>).loanId
  await seen(orig, 'loans', loanId)
  const [stale] = await orig.act([{ type: 'loan/approve', loanId, ts: now + 2 * 60_000 }])
  t.is(stale.audit.status, 'rejected', 'approving once the attestation expired is refused')
  t.ok(/no longer holds at approval/.test(stale.audit.reason ?? ''), stale.audit.reason ?? '')
  const [backdated] = await orig.act([{ type: 'loan/approve', loanId, ts: now - DAY }])
  t.is(backdated.audit.status, 'rejected', 'an approval dated before the application is refused')
  t.ok(/backdating is refused/.test(backdated.audit.reason ?? ''), backdated.audit.reason ?? '')
  const [approved] = await orig.act([{ type: 'loan/approve', loanId }])
  t.is(approved.audit.status, 'accepted', `approved in time: ${approved.audit.reason ?? ''}`)

  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
})

test('book time - the originator cannot default a current loan by dating the default ahead', { timeout: 120_000 }, async (t) => {
  const { books, projectId } = await lendingBook(t, ['borrower', 'investor'])
  const [orig, borrower, investor] = books
  await confirmedFunding(t, orig, investor, projectId, 100_000)
  const loanId = borrower.newId()
  await accepted(t, borrower, [{ type: 'loan/apply', loanId, projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: '' }])
  await seen(orig, 'loans', loanId)
  const disb = orig.newId()
  await accepted(t, orig, [{ type: 'loan/approve', loanId }, { type: 'payment/record', paymentId: disb, kind: 'disbursement', ref: loanId, amount: 49_500, currency: 'EUR', rail: 'manual', reference: 'SEPA' }])
  await seen(borrower, 'payments', disb)
  await accepted(t, borrower, [{ type: 'payment/confirm', paymentId: disb }])
  await seen(orig, 'loans', loanId, 'disbursed')

  const ahead = Date.now() + 60 * DAY
  const [refused] = await orig.act([{ type: 'loan/default', loanId, ts: ahead }])
  t.is(refused.audit.status, 'rejected', 'a default dated 60 days ahead of everyone else is refused')
  t.ok(/no borrower or investor has vouched/.test(refused.audit.reason ?? ''), refused.audit.reason ?? '')

  // the investor's node vouches that the day has come (in real time, 60 days later)
  const [witness] = await investor.act([{ type: 'clock/witness', ts: ahead }])
  t.is(witness.audit.status, 'accepted', 'an investor vouches for the date')
  await orig.until(async () => (await orig.view.clock()).members >= ahead, 20_000, 'witness replicated')
  const [defaulted] = await orig.act([{ type: 'loan/default', loanId, ts: ahead }])
  t.is(defaulted.audit.status, 'accepted', `then the overdue loan can be defaulted: ${defaulted.audit.reason ?? ''}`)
  const [solo] = await orig.act([{ type: 'clock/witness' }])
  t.is(solo.audit.status, 'rejected', 'the originator cannot vouch for the members\' time')

  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
  t.is((await borrower.view.get('loans', loanId))?.status, 'defaulted', 'the borrower\'s view agrees')
})
