import test, { type Assertion } from 'brittle'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { newId } from '../books/book.ts'
import type { Book } from '../books/book.ts'
import type { Op, OpInput } from '../books/ops/types.ts'
import type { AuditEntry } from '../books/entities.ts'
import { canonicalBytes, encodeEnvelope, encodeOp } from '../books/ops/envelope.ts'
import { outstanding } from '../books/loan/machine.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { addDays } from '../books/dates.ts'
import { opKey } from '../books/ids.ts'
import { accepted, converge } from './helpers/book.ts'

/** Appends raw values and waits until this writer has that many new audit entries here; returns them. */
async function appendRawAndWait (book: Book, values: Uint8Array[]): Promise<AuditEntry[]> {
  const mine = async () => (await book.view.list('audit')).filter((a) => a.writer === book.writerKey)
  const before = (await mine()).length
  await book.appendRaw(values)
  let out: AuditEntry[] = []
  await book.until(async () => { out = (await mine()).slice(before); return out.length >= values.length }, 20_000, 'raw ops applied')
  return out
}

/** Everything in a view but the audit log and replay index: what a rejected op must leave alone. */
async function state (book: Book) {
  const v = book.view
  return {
    meta: await v.meta(),
    members: await v.list('members'),
    writers: await v.list('writers'),
    projects: await v.list('projects'),
    loans: await v.list('loans'),
    fundings: await v.list('fundings'),
    payments: await v.list('payments'),
    distributions: await v.list('distributions')
  }
}

/**
 * Runs `run` (which makes `actor` append ops that must be rejected), then checks: each new audit
 * entry is rejected with a reason matching `reason`; all peers converge to one view hash; every
 * peer's audit log holds the same rejections; and nothing outside the audit log changed.
 */
async function expectRejected (t: Assertion, what: string, books: Book[], reason: RegExp, run: () => Promise<AuditEntry[]>): Promise<AuditEntry[]> {
  const pre = await converge(books)
  t.ok(pre.every((h) => h === pre[0]), `${what}: peers agree before`)
  const before = await state(books[0])
  const entries = await run()
  t.ok(entries.length > 0, `${what}: applied`)
  for (const e of entries) {
    t.is(e.status, 'rejected', `${what}: rejected`)
    t.ok(reason.test(e.reason ?? ''), `${what}: reason "${e.reason}" matches ${reason}`)
  }
  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), `${what}: all peers converge to one view hash`)
  for (const b of books) {
    const audit = await b.view.list('audit')
    for (const e of entries) {
      const same = audit.filter((a) => a.writer === e.writer && a.opId === e.opId && a.reason === e.reason && a.status === 'rejected')
      t.ok(same.length >= 1, `${what}: the rejection is in every peer's audit log`)
    }
  }
  t.alike(await state(books[0]), before, `${what}: nothing else changed`)
  return entries
}

/** The 64-byte signature at the end of an encoded envelope. */
function signatureOf (encoded: Uint8Array): Uint8Array { return encoded.subarray(encoded.byteLength - 64) }

test('rejections - bad, unauthorized, out-of-bounds and replayed ops are audited as rejected and change nothing', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, borrower, investor] = net.nodes
  const book = await orig.createBook('Rejections circle')
  const now = Date.now()
  const projectTerms = terms(now)
  const projectId = book.newId()
  // a second project whose lending window opens in a month: an application today is before its start
  const later = book.newId()
  const laterTerms = terms(now, { startDate: addDays(projectTerms.startDate, 60) })
  await accepted(t, book, [
    { type: 'project/create', projectId, terms: projectTerms }, { type: 'project/activate', projectId },
    { type: 'project/create', projectId: later, terms: laterTerms }, { type: 'project/activate', projectId: later }
  ])
  const [bb, ib] = await Promise.all([
    borrower.acceptInvite((await orig.createInvite(book.topic, 'borrower')).code),
    investor.acceptInvite((await orig.createInvite(book.topic, 'investor')).code)
  ])
  const books = [book, bb, ib]
  await Promise.all([bb, ib].map((b) => b.until(async () => (await b.view.get('projects', projectId))?.status === 'active', 20_000, 'project replicated')))
  const borrowerKey = borrower.identity!.secretKey
  const investorKey = investor.identity!.secretKey

  // 50 000 of confirmed funding
  const fundingId = ib.newId()
  const fundPay = ib.newId()
  await accepted(t, ib, [
    { type: 'funding/commit', fundingId, projectId, amount: 50_000, currency: 'EUR' },
    { type: 'payment/record', paymentId: fundPay, kind: 'funding', ref: fundingId, amount: 50_000, currency: 'EUR', rail: 'manual', reference: 'SEPA 1' }
  ])
  await book.until(async () => (await book.view.get('payments', fundPay)) !== null, 20_000, 'funding payment replicated')
  await accepted(t, book, [{ type: 'payment/confirm', paymentId: fundPay }])

  // loan A of 100 000 (above what is funded) and loan B of 40 000
  const loanA = bb.newId()
  const loanB = bb.newId()
  await bb.until(async () => (await bb.view.get('fundings', fundingId))?.status === 'confirmed', 20_000, 'funding confirmation replicated')
  await accepted(t, bb, [
    { type: 'loan/apply', loanId: loanA, projectId, amount: 100_000, currency: 'EUR', months: 6, purpose: 'greenhouse' },
    { type: 'loan/apply', loanId: loanB, projectId, amount: 40_000, currency: 'EUR', months: 6, purpose: 'seedlings' }
  ])
  await book.until(async () => (await book.view.get('loans', loanB)) !== null, 20_000, 'loans replicated')

  await t.test('forged signatures', async (t) => {
    await expectRejected(t, 'op signed with a key other than its signer\'s', books, /signature/, async () => {
      const op = bb.stamp({ type: 'loan/apply', loanId: bb.newId(), projectId, amount: 20_000, currency: 'EUR', months: 6, purpose: 'forged' })
      return await appendRawAndWait(bb, [encodeOp(op, bb.key, generateKeyPair().secretKey)])
    })
    await expectRejected(t, 'investor impersonating the originator', books, /signature/, async () => {
      const op = { type: 'loan/approve', loanId: loanA, opId: newId(), ts: Date.now(), signer: orig.did } as Op
      return await appendRawAndWait(ib, [encodeOp(op, ib.key, investorKey)])
    })
    await expectRejected(t, 'op signed for another book', books, /signature/, async () => {
      const op = bb.stamp({ type: 'loan/withdraw', loanId: loanB })
      const otherBook = b4a.alloc(32, 7)
      return await appendRawAndWait(bb, [encodeOp(op, otherBook, borrowerKey)])
    })
  })

  await t.test('roles', async (t) => {
    await expectRejected(t, 'borrower approving his own loan', books, /borrower may not/, async () => {
      const [{ audit }] = await bb.act([{ type: 'loan/approve', loanId: loanA }])
      return [audit]
    })
    t.is((await bb.view.get('loans', loanA))?.status, 'applied', 'loan still only applied')
    await expectRejected(t, 'investor editing a project', books, /investor may not/, async () => {
      const [{ audit }] = await ib.act([{ type: 'project/update', projectId, changes: { loanMaxAmount: 1_000_000, description: 'hijacked' } }])
      return [audit]
    })
    t.alike((await ib.view.get('projects', projectId))?.terms, projectTerms, 'project terms unchanged')
  })

  await t.test('money', async (t) => {
    await accepted(t, book, [{ type: 'loan/approve', loanId: loanA }])
    await expectRejected(t, 'disbursing beyond confirmed funding', books, /confirmed funding/, async () => {
      const [{ audit }] = await book.act([{ type: 'payment/record', paymentId: book.newId(), kind: 'disbursement', ref: loanA, amount: 99_500, currency: 'EUR', rail: 'manual', reference: 'too much' }])
      return [audit]
    })
    const a = await book.view.get('loans', loanA)
    t.is(a?.status, 'approved', 'loan A still approved')
    t.is(a?.disbursementPaymentId, null, 'loan A has no disbursement')
    t.is((await book.view.get('projects', projectId))?.disbursed, 0, 'nothing disbursed')

    // loan B fits the funding: approve, disburse, borrower confirms receipt
    await accepted(t, book, [{ type: 'loan/approve', loanId: loanB }])
    const disb = book.newId()
    await accepted(t, book, [{ type: 'payment/record', paymentId: disb, kind: 'disbursement', ref: loanB, amount: 39_500, currency: 'EUR', rail: 'manual', reference: 'SEPA 2' }])
    await bb.until(async () => (await bb.view.get('payments', disb)) !== null, 20_000, 'disbursement replicated')
    await accepted(t, bb, [{ type: 'payment/confirm', paymentId: disb }])
    const b = await bb.view.get('loans', loanB)
    t.is(b?.status, 'disbursed')

    const owed = outstanding(b!) - b!.pendingRepayment
    await expectRejected(t, 'repaying more than owed', books, /exceeds/, async () => {
      const [{ audit }] = await bb.act([{ type: 'payment/record', paymentId: bb.newId(), kind: 'repayment', ref: loanB, amount: owed + 1, currency: 'EUR', rail: 'manual', reference: 'overpay' }])
      return [audit]
    })
    const after = await bb.view.get('loans', loanB)
    t.is(after?.status, 'disbursed', 'loan B still disbursed')
    t.is(after?.pendingRepayment, 0, 'no repayment pending')
    t.is(outstanding(after!), outstanding(b!), 'still owes the same')
  })

  await t.test('applications outside the project', async (t) => {
    const apply = (over: Partial<Extract<OpInput, { type: 'loan/apply' }>>): OpInput => ({ type: 'loan/apply', loanId: bb.newId(), projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: 'out of bounds', ...over })
    const cases: Array<[string, OpInput, RegExp]> = [
      ['amount above loanMaxAmount', apply({ amount: projectTerms.loanMaxAmount + 1 }), /outside the project's loan limits/],
      ['amount below loanMinAmount', apply({ amount: projectTerms.loanMinAmount - 1 }), /outside the project's loan limits/],
      ['months above loanMaxDuration', apply({ months: projectTerms.loanMaxDuration + 1 }), /months is outside/],
      ['applied after endDate', apply({ ts: Date.parse(addDays(projectTerms.endDate, 1) + 'T12:00:00Z') }), /outside the project's dates/],
      ['applied before startDate', apply({ projectId: later }), /outside the project's dates/],
      // dating an application back into the window is no way around it: ops may not predate the
      // project's activation (books/clock.ts), so an earlier date than the project's is refused
      ['dated before the project was activated', apply({ ts: Date.parse(addDays(projectTerms.startDate, 5) + 'T12:00:00Z') }), /before the project's last status change.*backdating is refused/]
    ]
    for (const [what, input, specific] of cases) {
      await expectRejected(t, what, books, specific, async () => {
        const [{ audit }] = await bb.act([input])
        return [audit]
      })
      t.is(await bb.view.get('loans', (input as { loanId: string }).loanId), null, `${what}: no loan created`)
    }
  })

  await t.test('undecodable and invalid ops', async (t) => {
    await expectRejected(t, 'unknown op version', books, /unknown op version 2/, async () => {
      const op = bb.stamp({ type: 'loan/withdraw', loanId: loanA })
      const good = encodeOp(op, bb.key, borrowerKey)
      return await appendRawAndWait(bb, [encodeEnvelope(2, canonicalBytes(op), signatureOf(good))])
    })
    await expectRejected(t, 'random bytes', books, /malformed/, async () => {
      const junk = b4a.alloc(48)
      sodium.randombytes_buf(junk)
      junk[0] = 1 // envelope version 1, so the garbage is in the body and signature
      return await appendRawAndWait(bb, [junk])
    })
    await expectRejected(t, 'body that is not JSON', books, /malformed/, async () => {
      return await appendRawAndWait(bb, [encodeEnvelope(1, b4a.from('{"type":'), b4a.alloc(64))])
    })
    await expectRejected(t, 'fractional amount, properly signed', books, /malformed|invalid/, async () => {
      const op = { ...bb.stamp({ type: 'loan/apply', loanId: bb.newId(), projectId, amount: 20_000, currency: 'EUR', months: 6, purpose: 'float' }), amount: 10.5 } as Op
      return await appendRawAndWait(bb, [encodeOp(op, bb.key, borrowerKey)])
    })
    await expectRejected(t, 'missing field, properly signed', books, /malformed|invalid/, async () => {
      const { purpose: _, ...op } = bb.stamp({ type: 'loan/apply', loanId: bb.newId(), projectId, amount: 20_000, currency: 'EUR', months: 6, purpose: 'gone' }) as Extract<Op, { type: 'loan/apply' }>
      const [entry] = await appendRawAndWait(bb, [encodeOp(op as unknown as Op, bb.key, borrowerKey)])
      t.ok(/purpose/.test(entry.reason ?? ''), `names the missing field: ${entry.reason}`)
      return [entry]
    })
  })

  await t.test('replays', async (t) => {
    const b = await bb.view.get('loans', loanB)
    const instalment = b!.schedule[0].total
    const op = bb.stamp({ type: 'payment/record', paymentId: bb.newId(), kind: 'repayment', ref: loanB, amount: instalment, currency: 'EUR', rail: 'manual', reference: 'instalment 1' }) as Extract<Op, { type: 'payment/record' }>
    const bytes = encodeOp(op, bb.key, borrowerKey)
    const [first] = await appendRawAndWait(bb, [bytes])
    t.is(first.status, 'accepted', 'the original repayment is accepted')
    t.is((await bb.view.get('loans', loanB))?.pendingRepayment, instalment)

    await expectRejected(t, 'the same bytes appended again', books, /duplicate/, async () => await appendRawAndWait(bb, [bytes]))
    await expectRejected(t, 'the same bytes appended by another member', books, /duplicate/, async () => await appendRawAndWait(ib, [bytes]))
    for (const peer of books) {
      const audit = (await peer.view.list('audit')).filter((a) => a.opId === op.opId)
      t.alike(audit.map((a) => a.status), ['accepted', 'rejected', 'rejected'], 'one acceptance, two rejected replays, on every peer')
      t.is(await peer.view.get('ops', opKey(op.signer, op.opId)), audit[0].seq, 'the replay index still points at the accepted op')
      t.is((await peer.view.get('loans', loanB))?.pendingRepayment, instalment, 'the repayment counted once')
      t.is((await peer.view.list('payments')).filter((p) => p.paymentId === op.paymentId).length, 1)
    }
  })

  const hashes = await converge(books)
  t.is(hashes[1], hashes[0], 'borrower view equals originator view')
  t.is(hashes[2], hashes[0], 'investor view equals originator view')
  const summaries = await Promise.all(books.map((b) => b.view.summary()))
  t.is(summaries[0].rejected, 3 + 2 + 2 + 6 + 5 + 2, 'exactly the rejections made here')
  t.alike(summaries[1], summaries[0])
  t.alike(summaries[2], summaries[0])
})

test('rejections - a rejected op ordered first under an honest op\'s id does not make the honest op a duplicate', { timeout: 60_000 }, async (t) => {
  const net = await createNet(t, 1)
  const book = await net.nodes[0].createBook('Front-running')
  const opId = newId()
  const projectId = book.newId()
  const [squatter] = await book.act([{ type: 'project/activate', projectId: newId(), opId }])
  t.is(squatter.audit.status, 'rejected', 'the first op under the id is invalid')
  const [honest] = await book.act([{ type: 'project/create', projectId, terms: terms(Date.now()), opId }])
  t.is(honest.audit.status, 'accepted', 'the valid op under the same id is still accepted')
  t.is((await book.view.auditOf(book.signerDid, opId))?.status, 'accepted', 'and the replay index points at it')
  const before = await book.view.auditLength()
  await book.append([{ type: 'project/create', projectId: book.newId(), terms: terms(Date.now()), opId }])
  await book.until(async () => (await book.view.auditLength()) > before, 20_000, 'replay applied')
  const audit = await book.view.list('audit')
  t.is(audit[audit.length - 1].reason, 'duplicate op: already applied', 'a true replay of an accepted id is refused')
  t.is((await book.view.auditOf(book.signerDid, opId))?.status, 'accepted', 'without taking the index over')
})
