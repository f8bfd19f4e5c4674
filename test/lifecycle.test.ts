import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { accepted, converge } from './helpers/book.ts'

test('lifecycle - three peers run a project from publication to full repayment and converge', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, borrower, investor] = net.nodes
  const book = await orig.createBook('Kootenay Lending Circle')
  // every record id is scoped to the DID whose op creates it (books/ids.ts)
  const projectId = book.newId()
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now(), { loanMaxDuration: 6 }) }, { type: 'project/activate', projectId }])

  const inviteB = await orig.createInvite(book.topic, 'borrower')
  const inviteI = await orig.createInvite(book.topic, 'investor')
  const [bb, ib] = await Promise.all([borrower.acceptInvite(inviteB.code), investor.acceptInvite(inviteI.code)])
  t.ok(bb.writable && ib.writable, 'borrower and investor are writers')

  const fundingId = ib.newId()
  const fundPay = ib.newId()
  await accepted(t, ib, [
    { type: 'funding/commit', fundingId, projectId, amount: 300_000, currency: 'EUR' },
    { type: 'payment/record', paymentId: fundPay, kind: 'funding', ref: fundingId, amount: 300_000, currency: 'EUR', rail: 'manual', reference: 'SEPA 001' }
  ])
  await book.until(async () => (await book.view.get('payments', fundPay)) !== null, 20_000, 'funding payment replicated')
  await accepted(t, book, [{ type: 'payment/confirm', paymentId: fundPay }])

  const loanId = bb.newId()
  await bb.until(async () => (await bb.view.get('projects', projectId))?.status === 'active', 20_000, 'project replicated')
  await accepted(t, bb, [{ type: 'loan/apply', loanId, projectId, amount: 100_000, currency: 'EUR', months: 6, purpose: 'seedlings' }])
  await book.until(async () => (await book.view.get('loans', loanId)) !== null, 20_000, 'loan replicated')
  await accepted(t, book, [{ type: 'loan/approve', loanId }])
  const disb = book.newId()
  await accepted(t, book, [{ type: 'payment/record', paymentId: disb, kind: 'disbursement', ref: loanId, amount: 99_500, currency: 'EUR', rail: 'manual', reference: 'SEPA 002' }])
  await bb.until(async () => (await bb.view.get('payments', disb)) !== null, 20_000, 'disbursement replicated')
  await accepted(t, bb, [{ type: 'payment/confirm', paymentId: disb }])

  const loan = await bb.view.get('loans', loanId)
  t.is(loan?.status, 'disbursed')
  t.is(loan?.schedule.length, 6)
  for (const inst of loan!.schedule) {
    const pay = bb.newId()
    await accepted(t, bb, [{ type: 'payment/record', paymentId: pay, kind: 'repayment', ref: loanId, amount: inst.total, currency: 'EUR', rail: 'manual', reference: `instalment ${inst.n}` }])
    await book.until(async () => (await book.view.get('payments', pay)) !== null, 20_000, 'repayment replicated')
    await accepted(t, book, [{ type: 'payment/confirm', paymentId: pay }])
  }
  const repaid = await book.view.get('loans', loanId)
  t.is(repaid?.status, 'repaid', 'loan is repaid')
  const funding = await book.view.get('fundings', fundingId)
  const total = loan!.schedule.reduce((s, i) => s + i.total, 0)
  t.is(funding?.entitled, total, 'the only investor is entitled to every repayment')
  const dist = book.newId()
  await accepted(t, book, [{ type: 'payment/record', paymentId: dist, kind: 'distribution', ref: fundingId, amount: total, currency: 'EUR', rail: 'manual', reference: 'payout' }])
  await ib.until(async () => (await ib.view.get('payments', dist)) !== null, 20_000, 'distribution replicated')
  await accepted(t, ib, [{ type: 'payment/confirm', paymentId: dist }])

  const hashes = await converge([book, bb, ib])
  t.is(hashes[1], hashes[0], 'borrower view equals originator view')
  t.is(hashes[2], hashes[0], 'investor view equals originator view')
  const summary = await book.view.summary()
  t.is(summary.rejected, 0)
  t.alike(summary.loans, { repaid: 1 })
})
