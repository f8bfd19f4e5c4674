/**
 * Findings 11 and 12 of issue 9: currencies never mix in apply, and apply cannot throw. Amounts
 * near Number.MAX_SAFE_INTEGER, durations of 600 months, rates of 1000 % and dates near year
 * 9999 are refused with a reason (at validation, or when a schedule is fixed), never thrown: a
 * throw inside apply closes the book on every peer, again on each retry.
 */
import test from 'brittle'
import fc from 'fast-check'
import { lendingBook, seen } from './helpers/lending.ts'
import { accepted, converge } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { MAX_TS } from '../books/ops/schemas.ts'
import { createProject, transitionProject, updateProject } from '../books/project/machine.ts'
import { applyForLoan, applyRepayment, approveLoan, defaultLoan, markDisbursed, outstanding } from '../books/loan/machine.ts'
import { commitFunding, confirmFunding, shareRepayment } from '../books/funding/machine.ts'
import type { ProjectTerms } from '../books/ops/types.ts'
import type { DidKey } from '../core/identity/did-key.ts'

const MAX = Number.MAX_SAFE_INTEGER
const DID = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' as DidKey
const extreme = (min: number, max: number) => fc.oneof(fc.integer({ min, max: Math.min(max, min + 10) }), fc.integer({ min: Math.max(min, max - 10), max }), fc.integer({ min, max }))
const year = fc.oneof(fc.constant(9999), fc.integer({ min: 1970, max: 9999 }))
const dateArb = fc.tuple(year, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 })).map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`)

test('apply bounds - the pure transitions never throw on schema-valid extremes', (t) => {
  const termsArb = fc.record({
    amount: extreme(1, MAX), loanMin: extreme(1, MAX), loanMax: extreme(1, MAX),
    minMonths: extreme(1, 600), maxMonths: extreme(1, 600), rate: extreme(0, 100_000),
    method: fc.constantFrom('flat', 'declining-balance'), fee: extreme(0, MAX), start: dateArb, end: dateArb
  })
  let reached = 0
  const prop = fc.property(termsArb, extreme(1, MAX), extreme(1, 600), extreme(0, MAX_TS), extreme(0, MAX_TS), (x, amount, months, approveAt, defaultAt) => {
    // coherent terms (each value still anywhere in its schema's range), so cases reach approval
    const [loanMin, loanMax, total] = [x.loanMin, x.loanMax, x.amount].sort((a, b) => a - b)
    const [minMonths, maxMonths] = [x.minMonths, x.maxMonths].sort((a, b) => a - b)
    const [start, end] = [x.start, x.end].sort()
    const tm: ProjectTerms = { ...terms(0), amount: total, loanMinAmount: loanMin, loanMaxAmount: loanMax, loanMinDuration: minMonths, loanMaxDuration: maxMonths, annualRateBps: x.rate, interestMethod: x.method as ProjectTerms['interestMethod'], disbursementFee: Math.min(x.fee, loanMin - 1), startDate: start, endDate: end }
    amount = Math.min(Math.max(amount, loanMin), loanMax)
    months = Math.min(Math.max(months, minMonths), maxMonths)
    const created = createProject(null, 'a'.repeat(32), tm, 0)
    if (!created.ok) return true
    updateProject(created.value, { currency: 'USD', loanMaxAmount: MAX }, 1)
    const active = transitionProject(created.value, 'activate', 0)
    if (!active.ok) return true
    const funded = commitFunding(null, active.value, DID, { fundingId: 'b'.repeat(32), amount: Math.min(amount, x.amount), currency: 'EUR' }, 0)
    const project = funded.ok ? confirmFunding(funded.value.funding, funded.value.project, 'c'.repeat(32), 0) : null
    const applied = applyForLoan(null, active.value, DID, { loanId: 'd'.repeat(32), projectId: 'a'.repeat(32), amount, currency: 'EUR', months, purpose: '' }, null, Date.parse(start + 'T00:00:00Z'))
    if (!applied.ok) return true
    const approved = approveLoan(applied.value, active.value, [DID], approveAt)
    if (!approved.ok) return true
    reached++
    const disbursed = markDisbursed(approved.value, approveAt)
    if (!disbursed.ok) throw new Error(disbursed.reason)
    const owed = outstanding(disbursed.value)
    if (!Number.isSafeInteger(owed)) throw new Error(`outstanding ${owed} is not exact`)
    const repaid = applyRepayment(disbursed.value, Math.max(1, Math.floor(owed / 3)), approveAt)
    if (repaid.ok && project?.ok) shareRepayment([project.value.funding], { paymentId: 'e'.repeat(32), loanId: 'd'.repeat(32), amount: Math.max(1, Math.floor(owed / 3)), currency: 'EUR' }, approveAt)
    defaultLoan(repaid.ok ? repaid.value : disbursed.value, active.value, defaultAt, Math.min(defaultAt, approveAt))
    return true
  })
  const details = fc.check(prop, { numRuns: 3_000 })
  if (details.failed) t.fail(fc.defaultReportMessage(details) + '\n' + String(details.errorInstance))
  else t.pass(`3 000 extreme cases, ${reached} reached an approved schedule`)
  t.ok(reached > 100, 'enough cases reach approval to mean something')
})

test('apply bounds - extreme terms and dates are refused with a reason on a real book; currencies never mix', { timeout: 120_000 }, async (t) => {
  const { books, projectId, now } = await lendingBook(t, ['borrower'])
  const [orig, borrower] = books
  const errors: unknown[] = []
  for (const b of books) b.base.on('error', (err: unknown) => { errors.push(err) })

  const huge = orig.newId()
  const [hugeOp] = await orig.act([{ type: 'project/create', projectId: huge, terms: terms(now, { amount: MAX, loanMaxAmount: MAX, loanMaxDuration: 600, annualRateBps: 100_000 }) }])
  t.is(hugeOp.audit.status, 'rejected', 'terms whose largest loan would owe more than 2^53 minor units are refused')
  t.ok(/past the largest exact amount|no exact schedule/.test(hugeOp.audit.reason ?? ''), hugeOp.audit.reason ?? '')
  const y9999 = orig.newId()
  const [lateOp] = await orig.act([{ type: 'project/create', projectId: y9999, terms: { ...terms(now), startDate: '9998-01-01', endDate: '9999-12-01', loanMaxDuration: 24 } }])
  t.is(lateOp.audit.status, 'rejected', 'terms whose schedules would run past year 9999 are refused')

  const loanId = borrower.newId()
  await accepted(t, borrower, [{ type: 'loan/apply', loanId, projectId, amount: 50_000, currency: 'EUR', months: 24, purpose: '' }])
  await seen(orig, 'loans', loanId)
  const [farOp] = await orig.act([{ type: 'loan/approve', loanId, ts: MAX_TS }])
  t.is(farOp.audit.status, 'rejected', 'an approval dated in year 9999 is refused, not thrown')
  t.ok(/no schedule can be fixed/.test(farOp.audit.reason ?? ''), farOp.audit.reason ?? '')

  // finding 11: the project's currency cannot change under the EUR loan
  await accepted(t, orig, [{ type: 'project/deactivate', projectId }])
  const [usd] = await orig.act([{ type: 'project/update', projectId, changes: { currency: 'USD' } }])
  t.is(usd.audit.status, 'rejected', 'the currency of a project that was ever active cannot change')
  t.ok(/currency is fixed/.test(usd.audit.reason ?? ''), usd.audit.reason ?? '')
  await accepted(t, orig, [{ type: 'project/update', projectId, changes: { annualRateBps: 900 } }, { type: 'project/activate', projectId }, { type: 'loan/approve', loanId }])
  t.is((await orig.view.get('loans', loanId))?.currency, (await orig.view.get('projects', projectId))?.terms.currency, 'the loan and its project share one currency')

  t.alike(errors, [], 'apply never failed on any peer')
  t.ok(books.every((b) => !b.base.closed), 'no book closed')
  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
})
