/**
 * Finding 1 of issue 9: an op's identity is its signer's. A hostile member who reads another
 * member's op before Autobase orders it appends its own copy first (same opId, same record id,
 * same attestation); the victim's op must still apply, be reported to the victim as its own, and
 * every peer must agree.
 */
import test from 'brittle'
import { lendingBook, seen } from './helpers/lending.ts'
import { converge } from './helpers/book.ts'
import { encodeOp } from '../books/ops/envelope.ts'
import { newId, scopedId } from '../books/ids.ts'
import type { Book } from '../books/book.ts'
import type { Op } from '../books/ops/types.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import { criteriaHash, issueAttestation } from '../core/credentials/attestation.ts'
import b4a from 'b4a'

/** The hostile member signs `op` as its own and appends it; resolves once the victim's node has applied it. */
async function squat (hostile: Book, id: Identity, op: Op, victim: Book): Promise<void> {
  const copy = { ...op, signer: id.did } as Op
  await hostile.appendRaw([encodeOp(copy, hostile.key, id.secretKey)])
  await victim.until(async () => (await victim.view.auditOf(id.did, op.opId)) !== null, 20_000, 'squatter applied')
}

test('op identity - a member reusing another member\'s op id or record id cannot cancel or claim that op', { timeout: 120_000 }, async (t) => {
  const { books, identities, projectId } = await lendingBook(t, ['borrower', 'borrower'])
  const [orig, victim, hostile] = books
  const [, victimId, hostileId] = identities

  await t.test('a loan application under the victim\'s opId and loanId, ordered first', async (t) => {
    const mine = victim.stamp({ type: 'loan/apply', loanId: victim.newId(), projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: 'greenhouse' })
    // hostile copies reach the book first: one under the victim's opId (with a loan id of her own),
    // one under the victim's loanId
    const sameOpId = { ...mine, loanId: scopedId(hostileId.did) } as Op
    await squat(hostile, hostileId, sameOpId, orig)
    t.is((await orig.view.auditOf(hostileId.did, mine.opId))?.status, 'accepted', 'her op under the victim\'s opId applies, as hers')
    const sameLoanId = { ...mine, opId: newId() } as Op
    await squat(hostile, hostileId, sameLoanId, orig)
    const theirs = await orig.view.auditOf(hostileId.did, sameLoanId.opId)
    t.is(theirs?.status, 'rejected', 'her op under the victim\'s loan id is rejected')
    t.ok(/not scoped to the signer/.test(theirs?.reason ?? ''), `because the id is not hers: ${theirs?.reason}`)

    await victim.appendRaw([encodeOp(mine, victim.key, victimId.secretKey)])
    const [audit] = await victim.waitForOps([mine.opId])
    t.is(audit.status, 'accepted', `the victim's application applies: ${audit.reason ?? ''}`)
    t.is(audit.signer, victimId.did, 'and the victim\'s client reports the victim\'s own entry')
    const loan = await victim.view.get('loans', (mine as Extract<Op, { type: 'loan/apply' }>).loanId)
    t.is(loan?.borrower, victimId.did, 'the loan is the victim\'s')
  })

  await t.test('the originator\'s member/remove under an id the hostile member used first', async (t) => {
    const remove = orig.stamp({ type: 'member/remove', member: hostileId.did })
    // a valid op of her own under the same opId, ordered before the removal
    const witness = { type: 'clock/witness', opId: remove.opId, ts: Date.now(), signer: hostileId.did } as Op
    await hostile.appendRaw([encodeOp(witness, hostile.key, hostileId.secretKey)])
    await orig.until(async () => (await orig.view.auditOf(hostileId.did, remove.opId))?.status === 'accepted', 20_000, 'her op applied')
    await orig.appendRaw([encodeOp(remove, orig.key, identities[0].secretKey)])
    const [audit] = await orig.waitForOps([remove.opId])
    t.is(audit.status, 'accepted', `the removal applies: ${audit.reason ?? ''}`)
    t.is(audit.type, 'member/remove', 'the originator sees its own op, not hers')
    t.ok((await orig.view.get('members', hostileId.did))?.removed, 'she is removed')
  })

  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
})

test('op identity - an attestation cannot be used up by someone it does not name', { timeout: 120_000 }, async (t) => {
  const { books, identities, projectId } = await lendingBook(t, ['borrower', 'borrower'])
  const [orig, victim, hostile] = books
  const [origId, victimId, hostileId] = identities
  const bookHex = b4a.toString(orig.key, 'hex')
  const presentationHash = 'ab'.repeat(32)
  const decision = { book: bookHex, projectId, eligible: true, reasons: [], presentationHash, criteriaHash: criteriaHash([]), now: Date.now() }
  const genuine = issueAttestation({ ...decision, applicant: victimId.did, verifier: origId })
  // her own attestation, signed by herself as "verifier", naming the victim's presentation
  const forged = issueAttestation({ ...decision, applicant: hostileId.did, verifier: hostileId })
  const theirs = await hostile.act([{ type: 'loan/apply', loanId: hostile.newId(), projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: '', attestation: forged as unknown as Record<string, unknown> }])
  t.is(theirs[0].audit.status, 'accepted', 'her application with a self-signed attestation applies (approval will refuse it)')
  await orig.until(async () => (await orig.view.auditOf(hostileId.did, theirs[0].op.opId)) !== null, 20_000, 'replicated')
  await seen(victim, 'loans', (theirs[0].op as Extract<Op, { type: 'loan/apply' }>).loanId)

  const [{ audit, op }] = await victim.act([{ type: 'loan/apply', loanId: victim.newId(), projectId, amount: 60_000, currency: 'EUR', months: 6, purpose: '', attestation: genuine as unknown as Record<string, unknown> }])
  t.is(audit.status, 'accepted', `the victim's application with the same presentation hash applies: ${audit.reason ?? ''}`)
  const again = await victim.act([{ type: 'loan/apply', loanId: victim.newId(), projectId, amount: 60_000, currency: 'EUR', months: 6, purpose: '', attestation: genuine as unknown as Record<string, unknown> }])
  t.is(again[0].audit.status, 'rejected', 'her own attestation still cannot be used twice')
  t.ok(/already used by loan/.test(again[0].audit.reason ?? ''), again[0].audit.reason ?? '')
  await seen(orig, 'loans', (op as Extract<Op, { type: 'loan/apply' }>).loanId)
  const approve = await orig.act([{ type: 'loan/approve', loanId: (theirs[0].op as Extract<Op, { type: 'loan/apply' }>).loanId }])
  t.is(approve[0].audit.status, 'rejected', 'the self-signed attestation does not get her approved')
  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
})
