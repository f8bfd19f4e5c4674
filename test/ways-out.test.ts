/**
 * Finding 8 of issue 9: every pending state has a way out. A borrower who never confirms her
 * disbursement, an investor who never pays a commitment, a payee who never answers, and a
 * repayment record that blocks the next one: each is resolved by a signed op (cancel, dispute,
 * expiry), and a hostile member cannot use those ops on what is not theirs.
 */
import test from 'brittle'
import { confirmedFunding, lendingBook, seen } from './helpers/lending.ts'
import { accepted, converge } from './helpers/book.ts'
import { outstanding } from '../books/loan/machine.ts'
import type { Book } from '../books/book.ts'
import type { OpInput } from '../books/ops/types.ts'

const DAY = 86_400_000

async function rejected (t: { is: Function, ok: Function }, book: Book, input: OpInput, reason: RegExp, what: string) {
  const [{ audit }] = await book.act([input])
  t.is(audit.status, 'rejected', what)
  t.ok(reason.test(audit.reason ?? ''), `${what}: ${audit.reason}`)
}

test('ways out - silent borrowers, unpaid fundings, unanswered and disputed payments', { timeout: 180_000 }, async (t) => {
  const { books, projectId } = await lendingBook(t, ['borrower', 'investor', 'borrower'])
  const [orig, borrower, investor, other] = books
  // 200 000 of confirmed funding
  const fundingId = await confirmedFunding(t, orig, investor, projectId, 200_000)
  const loanA = borrower.newId()
  const loanB = borrower.newId()
  const loanC = borrower.newId()
  await accepted(t, borrower, [
    { type: 'loan/apply', loanId: loanA, projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: '' },
    { type: 'loan/apply', loanId: loanB, projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: '' },
    { type: 'loan/apply', loanId: loanC, projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: '' }
  ])
  await seen(orig, 'loans', loanC)
  await accepted(t, orig, [{ type: 'loan/approve', loanId: loanA }, { type: 'loan/approve', loanId: loanB }, { type: 'loan/approve', loanId: loanC }])

  await t.test('an approved loan the borrower never takes up', async (t) => {
    await rejected(t, other, { type: 'loan/withdraw', loanId: loanA }, /only the applicant/, 'another borrower cannot withdraw it')
    await accepted(t, orig, [{ type: 'loan/cancel', loanId: loanA, reason: 'borrower unreachable for 30 days' }])
    t.is((await orig.view.get('loans', loanA))?.status, 'cancelled', 'the originator cancels it')
  })

  await t.test('a disbursement the borrower never confirms', async (t) => {
    const disb = orig.newId()
    await accepted(t, orig, [{ type: 'payment/record', paymentId: disb, kind: 'disbursement', ref: loanB, amount: 49_500, currency: 'EUR', rail: 'manual', reference: 'SEPA' }])
    t.is((await orig.view.get('projects', projectId))?.disbursed, 50_000, 'the disbursement reserves funding')
    await rejected(t, orig, { type: 'loan/cancel', loanId: loanB, reason: 'x' }, /cancel that payment first/, 'the loan cannot be cancelled under a recorded disbursement')
    await rejected(t, borrower, { type: 'payment/cancel', paymentId: disb, reason: 'mine now' }, /only the payer/, 'the payee cannot cancel it')
    await accepted(t, orig, [{ type: 'payment/cancel', paymentId: disb, reason: 'transfer returned' }])
    t.is((await orig.view.get('projects', projectId))?.disbursed, 0, 'cancelling releases the funding')
    await rejected(t, borrower, { type: 'payment/confirm', paymentId: disb }, /already cancelled/, 'a cancelled payment cannot be confirmed')
    await accepted(t, orig, [{ type: 'loan/cancel', loanId: loanB, reason: 'never taken up' }])
  })

  await t.test('a disbursement the borrower disputes', async (t) => {
    const disb = orig.newId()
    await accepted(t, orig, [{ type: 'payment/record', paymentId: disb, kind: 'disbursement', ref: loanC, amount: 49_500, currency: 'EUR', rail: 'manual', reference: 'SEPA' }])
    await seen(borrower, 'payments', disb)
    await rejected(t, other, { type: 'payment/dispute', paymentId: disb, reason: 'not received' }, /only the payee/, 'someone else cannot dispute it')
    await accepted(t, borrower, [{ type: 'payment/dispute', paymentId: disb, reason: 'nothing arrived on my account' }])
    await seen(orig, 'payments', disb, 'disputed')
    // resolution: the money turned up after all
    await accepted(t, borrower, [{ type: 'payment/confirm', paymentId: disb }])
    t.is((await borrower.view.get('loans', loanC))?.status, 'disbursed', 'confirmed after the dispute, the loan is disbursed')
  })

  await t.test('a repayment record that blocks the next one', async (t) => {
    await seen(borrower, 'loans', loanC, 'disbursed')
    const loan = await borrower.view.get('loans', loanC)
    const all = outstanding(loan!)
    const big = borrower.newId()
    await accepted(t, borrower, [{ type: 'payment/record', paymentId: big, kind: 'repayment', ref: loanC, amount: all, currency: 'EUR', rail: 'manual', reference: 'all of it' }])
    await rejected(t, borrower, { type: 'payment/record', paymentId: borrower.newId(), kind: 'repayment', ref: loanC, amount: 1_000, currency: 'EUR', rail: 'manual', reference: 'more' }, /exceeds/, 'the pending record blocks another repayment')
    await seen(orig, 'payments', big)
    await accepted(t, orig, [{ type: 'payment/dispute', paymentId: big, reason: 'only 10 000 arrived' }])
    await seen(borrower, 'payments', big, 'disputed')
    await accepted(t, borrower, [{ type: 'payment/cancel', paymentId: big, reason: 'recorded the wrong amount' }])
    t.is((await borrower.view.get('loans', loanC))?.pendingRepayment, 0, 'cancelling releases the pending amount')
    await accepted(t, borrower, [{ type: 'payment/record', paymentId: borrower.newId(), kind: 'repayment', ref: loanC, amount: 10_000, currency: 'EUR', rail: 'manual', reference: 'what was sent' }])
  })

  await t.test('a funding commitment never paid', async (t) => {
    const unpaid = investor.newId()
    await accepted(t, investor, [{ type: 'funding/commit', fundingId: unpaid, projectId, amount: 300_000, currency: 'EUR' }])
    await seen(orig, 'fundings', unpaid)
    const committed = (await orig.view.get('projects', projectId))!.committed
    await rejected(t, orig, { type: 'funding/cancel', fundingId: unpaid, reason: 'unpaid' }, /has until/, 'the originator must wait out the payment period')
    await rejected(t, orig, { type: 'funding/cancel', fundingId: unpaid, reason: 'unpaid', ts: Date.now() + 15 * DAY }, /has until/, 'and cannot date its way past it alone')
    await rejected(t, borrower, { type: 'funding/cancel', fundingId: unpaid, reason: 'mine' }, /a borrower may not funding\/cancel/, 'a borrower cannot cancel it')
    await accepted(t, other, [{ type: 'clock/witness', ts: Date.now() + 15 * DAY }])
    await orig.until(async () => (await orig.view.clock()).members > Date.now() + 14 * DAY, 20_000, 'witness replicated')
    await accepted(t, orig, [{ type: 'funding/cancel', fundingId: unpaid, reason: 'unpaid after 14 days', ts: Date.now() + 15 * DAY }])
    t.is((await orig.view.get('projects', projectId))!.committed, committed - 300_000, 'its room on the project is released')
    const mine = investor.newId()
    await accepted(t, investor, [{ type: 'funding/commit', fundingId: mine, projectId, amount: 10_000, currency: 'EUR' }, { type: 'funding/cancel', fundingId: mine, reason: 'changed my mind' }])
    await rejected(t, investor, { type: 'funding/cancel', fundingId, reason: 'give it back' }, /cannot cancel a confirmed funding/, 'a confirmed funding cannot be cancelled')
  })

  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
})
