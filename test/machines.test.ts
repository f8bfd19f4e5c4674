// The pure state machines, called directly with tables of cases (no Autobase, no network).
import test from 'brittle'
import { createProject, transitionProject, updateProject } from '../books/project/machine.ts'
import { applyForLoan, applyRepayment, approveLoan, defaultLoan, markDisbursed, outstanding, rejectLoan, withdrawLoan, checkRepayment } from '../books/loan/machine.ts'
import { commitFunding, confirmFunding, shareRepayment, checkDistribution } from '../books/funding/machine.ts'
import { confirmPayment, recordPayment } from '../books/payment/machine.ts'
import type { Project } from '../books/entities.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import { terms } from './helpers/fixtures.ts'

const NOW = Date.UTC(2026, 10, 21, 12)
const DAY = 86_400_000
const BORROWER = 'did:key:z6MkBorrowerBorrowerBorrowerBorrowerBorrowerBo' as DidKey
const INVESTOR = 'did:key:z6MkInvestorInvestorInvestorInvestorInvestorIn' as DidKey
const ORIGINATOR = 'did:key:z6MkOriginatorOriginatorOriginatorOriginatorO' as DidKey

function must<T> (r: { ok: true; value: T } | { ok: false; reason: string }): T {
  if (!r.ok) throw new Error('unexpected rejection: ' + r.reason)
  return r.value
}

function activeProject (over = {}): Project {
  return must(transitionProject(must(createProject(null, 'p'.repeat(32), terms(NOW, over), NOW)), 'activate', NOW))
}

test('project - lifecycle draft -> active <-> inactive -> closed, and nothing else', (t) => {
  const draft = must(createProject(null, 'a'.repeat(32), terms(NOW), NOW))
  t.is(draft.status, 'draft')
  const cases: Array<[Project['status'], 'activate' | 'deactivate' | 'close', Project['status'] | null]> = [
    ['draft', 'activate', 'active'], ['draft', 'deactivate', null], ['draft', 'close', null],
    ['active', 'deactivate', 'inactive'], ['active', 'activate', null], ['active', 'close', null],
    ['inactive', 'activate', 'active'], ['inactive', 'close', 'closed'],
    ['closed', 'activate', null], ['closed', 'deactivate', null], ['closed', 'close', null]
  ]
  for (const [from, action, to] of cases) {
    const r = transitionProject({ ...draft, status: from }, action, NOW)
    t.is(r.ok ? r.value.status : null, to, `${from} --${action}--> ${to ?? 'rejected'}`)
  }
  t.absent(createProject(draft, draft.projectId, terms(NOW), NOW).ok, 'same id twice is rejected')
  t.absent(createProject(null, 'b'.repeat(32), terms(NOW, { loanMinAmount: 300_000 }), NOW).ok, 'min above max is rejected')
  t.absent(updateProject({ ...draft, status: 'active' }, { annualRateBps: 1 }, NOW).ok, 'active terms are frozen')
  t.is(must(updateProject(draft, { annualRateBps: 900 }, NOW)).terms.annualRateBps, 900)
})

test('loan - application limits and dates', (t) => {
  const p = activeProject()
  const base = { loanId: 'l'.repeat(32), projectId: p.projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: '' }
  t.ok(applyForLoan(null, p, BORROWER, base, null, NOW).ok)
  const bad: Array<[string, object, number, RegExp]> = [
    ['above max', { amount: 200_001 }, NOW, /limits/],
    ['below min', { amount: 9_999 }, NOW, /limits/],
    ['too long', { months: 25 }, NOW, /duration/],
    ['too short', { months: 2 }, NOW, /duration/],
    ['wrong currency', { currency: 'USD' }, NOW, /currency/],
    ['before start', {}, NOW - 31 * DAY, /outside the project's dates/],
    ['after end', {}, NOW + 336 * DAY, /outside the project's dates/]
  ]
  for (const [name, over, ts, reason] of bad) {
    const r = applyForLoan(null, p, BORROWER, { ...base, ...over }, null, ts)
    t.ok(!r.ok && reason.test(r.reason), name)
  }
  t.absent(applyForLoan(null, { ...p, status: 'inactive' }, BORROWER, base, null, NOW).ok, 'inactive project refuses loans')
})

test('loan - transitions, interest-first repayment, overpayment, default only beyond grace', (t) => {
  const p = activeProject({ gracePeriod: 10 })
  const applied = must(applyForLoan(null, p, BORROWER, { loanId: 'l'.repeat(32), projectId: p.projectId, amount: 100_000, currency: 'EUR', months: 12, purpose: '' }, null, NOW))
  t.is(must(withdrawLoan(applied, NOW)).status, 'withdrawn')
  t.is(must(rejectLoan(applied, 'no', NOW)).status, 'rejected')
  t.absent(markDisbursed(applied, NOW).ok, 'cannot disburse before approval')
  const approved = must(approveLoan(applied, p, [], NOW))
  t.is(approved.schedule.length, 12)
  t.is(approved.schedule[0].dueDate, '2026-12-21')
  // an approved loan binds the borrower only once its disbursement is recorded (issue 9)
  t.is(must(withdrawLoan(approved, NOW)).status, 'withdrawn', 'an approved loan with no disbursement recorded can be withdrawn')
  t.absent(withdrawLoan({ ...approved, disbursementPaymentId: 'd'.repeat(32) }, NOW).ok, 'not once its disbursement is recorded')
  const loan = must(markDisbursed(approved, NOW))
  t.absent(withdrawLoan(loan, NOW).ok, 'nor once disbursed')
  const owed = outstanding(loan)
  t.is(owed, loan.schedule.reduce((s, i) => s + i.total, 0))

  // 1 200 pays instalment 1's interest (1 000) first, then 200 of its principal
  const part = must(applyRepayment(loan, 1_200, NOW))
  t.is(part.schedule[0].interestPaid, 1_000)
  t.is(part.schedule[0].principalPaid, 200)
  t.is(part.status, 'disbursed')

  const over = checkRepayment(loan, owed + 1)
  t.ok(!over.ok && /exceeds/.test(over.reason), 'overpayment is rejected')
  const pending = must(checkRepayment(loan, owed - 10))
  t.absent(checkRepayment(pending, 11).ok, 'recorded-but-unconfirmed repayments count against what is owed')
  t.is(must(applyRepayment(loan, owed, NOW)).status, 'repaid', 'paying everything repays the loan')

  const due = Date.parse(loan.schedule[0].dueDate + 'T12:00:00Z')
  t.absent(defaultLoan(loan, p, due + 10 * DAY).ok, 'within the grace period: no default')
  t.is(must(defaultLoan(loan, p, due + 11 * DAY)).status, 'defaulted', 'beyond the grace period: default allowed')
  const capped = defaultLoan(loan, p, due + 11 * DAY, due + 10 * DAY)
  t.ok(!capped.ok && /clock\/witness/.test(capped.reason), 'judged at the members\' time, still within grace: no default, whatever the op\'s date')
  const paidFirst = must(applyRepayment(loan, loan.schedule[0].total, NOW))
  t.absent(defaultLoan(paidFirst, p, due + 11 * DAY).ok, 'a paid instalment is not overdue')
})

test('funding - commit within room, confirm, pro-rata shares, distribution cap', (t) => {
  const p = activeProject({ amount: 100_000, loanMaxAmount: 100_000 })
  const a = must(commitFunding(null, p, INVESTOR, { fundingId: 'a'.repeat(32), amount: 70_000, currency: 'EUR' }, NOW))
  t.absent(commitFunding(null, a.project, INVESTOR, { fundingId: 'b'.repeat(32), amount: 30_001, currency: 'EUR' }, NOW).ok, 'cannot commit beyond the project amount')
  const b = must(commitFunding(null, a.project, INVESTOR, { fundingId: 'b'.repeat(32), amount: 30_000, currency: 'EUR' }, NOW))
  const ca = must(confirmFunding(a.funding, b.project, 'x'.repeat(32), NOW))
  const cb = must(confirmFunding(b.funding, ca.project, 'y'.repeat(32), NOW))
  t.is(cb.project.confirmedFunding, 100_000)
  t.absent(confirmFunding(ca.funding, cb.project, 'z'.repeat(32), NOW).ok, 'confirmed twice is rejected')
  const shares = shareRepayment([ca.funding, cb.funding], { paymentId: 'q'.repeat(32), loanId: 'l'.repeat(32), amount: 1_001, currency: 'EUR' }, NOW)
  t.alike(shares.map((s) => s.amount), [701, 300], 'remainder to the largest share')
  t.absent(checkDistribution({ ...ca.funding, entitled: 701 }, 702).ok, 'cannot distribute more than earned')
})

test('payment - only the payee confirms, once', (t) => {
  const p = must(recordPayment(null, { paymentId: 'p'.repeat(32), kind: 'repayment', ref: 'l'.repeat(32), amount: 5, currency: 'EUR', rail: 'manual', reference: '' }, BORROWER, ORIGINATOR, NOW))
  t.absent(confirmPayment(p, BORROWER, NOW).ok, 'payer cannot confirm')
  const c = must(confirmPayment(p, ORIGINATOR, NOW))
  t.is(c.status, 'confirmed')
  t.absent(confirmPayment(c, ORIGINATOR, NOW).ok, 'second confirmation rejected')
  t.absent(recordPayment(null, { paymentId: 'p'.repeat(32), kind: 'repayment', ref: 'l'.repeat(32), amount: 5, currency: 'EUR', rail: 'manual', reference: '' }, BORROWER, BORROWER, NOW).ok, 'payer cannot pay itself')
})


test('loan - criteria need an eligible attestation from a trusted verifier', (t) => {
  const criteria = [{ conditions: { all: [{ fact: 'kycStatus', operator: 'equal', value: 'verified' }] }, event: { type: 'criterion' } }]
  const p = activeProject({ eligibility: criteria })
  const app = { loanId: 'l'.repeat(32), projectId: p.projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: '' }
  const none = applyForLoan(null, p, BORROWER, app, null, NOW)
  t.ok(!none.ok && /attestation/.test(none.reason), 'no attestation, no application when the project has criteria')

  const VERIFIER = 'did:key:z6MkVerifierVerifierVerifierVerifierVerifierVe' as DidKey
  const eligible = { verifier: VERIFIER, eligible: true, reasons: [], presentationHash: 'ab'.repeat(32), attestation: {} }
  const applied = must(applyForLoan(null, p, BORROWER, app, eligible, NOW))
  const untrusted = approveLoan(applied, p, [ORIGINATOR], NOW)
  t.ok(!untrusted.ok && /does not trust/.test(untrusted.reason), 'an untrusted verifier\'s attestation does not approve')
  t.is(must(approveLoan(applied, p, [ORIGINATOR, VERIFIER], NOW)).status, 'approved')

  const refused = must(applyForLoan(null, p, BORROWER, app, { ...eligible, eligible: false, reasons: ['credit rating is one of A, B'] }, NOW))
  const r = approveLoan(refused, p, [ORIGINATOR, VERIFIER], NOW)
  t.ok(!r.ok && /not eligible: credit rating is one of A, B/.test(r.reason), 'a not-eligible decision cannot be approved')

  const legacy = must(applyForLoan(null, activeProject(), BORROWER, app, null, NOW))
  const later = approveLoan(legacy, p, [ORIGINATOR], NOW)
  t.ok(!later.ok && /no eligibility attestation/.test(later.reason), 'criteria added after the application still bind the approval')
})
