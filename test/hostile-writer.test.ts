/**
 * A hostile member floods a book with 5 000 invalid ops over a real testnet while an honest
 * borrower keeps working; then the originator removes it.
 */
import test from 'brittle'
import b4a from 'b4a'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { accepted, converge, waitForSigned } from './helpers/book.ts'
import { signers } from './helpers/hostile.ts'
import { newId, type Book } from '../books/book.ts'
import { encodeEnvelope, encodeOp, MAX_OP_BYTES } from '../books/ops/envelope.ts'
import type { Op, OpInput } from '../books/ops/types.ts'

const BATCHES = [500, 250, 450, 300, 500, 400, 350, 500, 450, 400, 500, 400] // 5 000 in all
const [forger] = signers(1)
// a valid JSON text nested 5 000 deep (10 KB): canonicalizing it overflowed the stack before decodeOp bounded depth
const DEEP = '['.repeat(5_000) + ']'.repeat(5_000)

/** Audit entries a writer has in a book's view, by status. */
async function byWriter (book: Book, writer: string) {
  const entries = (await book.view.list('audit')).filter((a) => a.writer === writer)
  return { entries, accepted: entries.filter((a) => a.status === 'accepted').length, rejected: entries.filter((a) => a.status === 'rejected').length }
}

test('hostile writer - 5 000 invalid ops are all rejected, honest peers converge and stay responsive, removal stops the writer', { timeout: 180_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, honest, hostile] = net.nodes
  const book = await orig.createBook('Hostile circle')
  const now = Date.now()
  const projectId = book.newId()
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(now) }, { type: 'project/activate', projectId }])
  const [hb, xb] = await Promise.all([
    honest.acceptInvite((await orig.createInvite(book.topic, 'borrower')).code),
    hostile.acceptInvite((await orig.createInvite(book.topic, 'borrower')).code)
  ])
  await Promise.all([hb, xb].map((b) => b.until(async () => (await b.view.get('projects', projectId))?.status === 'active', 20_000, 'project replicated')))
  // loan ids are scoped to the applicant (books/ids.ts): each writer's applications use its own
  const apply = (by: Book, amount = 50_000): OpInput => ({ type: 'loan/apply', loanId: by.newId(), projectId, amount, currency: 'EUR', months: 6, purpose: 'greenhouse' })
  const xApply = (amount?: number) => apply(xb, amount)

  // an honest application whose bytes and id the hostile writer will replay and reuse
  const [honestOp] = await accepted(t, hb, [apply(hb)])
  const honestBytes = encodeOp(honestOp, hb.key, honest.identity!.secretKey)
  await xb.until(async () => (await xb.view.get('loans', (honestOp as { loanId: string }).loanId)) !== null, 20_000, 'honest loan replicated')

  const key = hostile.identity!.secretKey
  const sign = (op: Op, bookKey = xb.key, secretKey = key) => encodeOp(op, bookKey, secretKey)
  const withBody = (text: string) => encodeEnvelope(1, b4a.from(text), b4a.alloc(64, 1))
  const loanId = (honestOp as { loanId: string }).loanId
  /** The i-th invalid op: every kind a member can append, each of which apply must reject. */
  const invalid = (i: number): Uint8Array => {
    const kinds: Array<() => Uint8Array> = [
      () => sign(xb.stamp(xApply()), xb.key, forger.secretKey), // bad signature: signed by another key
      () => sign(xb.stamp(xApply()), b4a.alloc(32, 7)), // signed for another book
      () => sign(xb.stamp({ type: 'loan/approve', loanId })), // a borrower may not approve
      () => sign(xb.stamp({ type: 'payment/record', paymentId: xb.newId(), kind: 'repayment', ref: newId(), amount: 1_000, currency: 'EUR', rail: 'manual', reference: 'x' })), // repay a loan that does not exist
      () => sign(xb.stamp({ type: 'project/create', projectId: newId(), terms: terms(now) })), // a borrower may not create projects
      () => sign(xb.stamp({ type: 'loan/withdraw', loanId })), // someone else's application
      () => sign(xb.stamp(xApply(10_000_000))), // outside the project's loan limits
      () => sign(xb.stamp({ ...xApply(), projectId: newId() } as OpInput)), // no such project
      () => sign({ ...xb.stamp(xApply()), amount: 20_000.5 } as Op), // a float in a money field
      () => sign({ ...xb.stamp(xApply()), purpose: 'p'.repeat(i % 3 === 0 ? 40_000 : 1_001) } as Op), // over the schema's length
      () => sign({ ...xb.stamp(xApply()), opId: honestOp.opId, admin: true } as unknown as Op), // the honest op's id on an invalid op
      () => honestBytes, // replay of the honest op
      () => sign({ ...xb.stamp(xApply()), signer: honest.did } as Op), // impersonation: the honest DID, the hostile key
      () => sign(xb.stamp({ ...apply(hb), loanId: (honestOp as { loanId: string }).loanId } as OpInput)), // the honest loan's id, under its own DID
      () => sign(xb.stamp({ ...xApply(), attestation: [{}, { credentialSubject: 5 }, { proof: [], type: 7 }, { credentialSubject: { presentationHash: {} } }][i % 4] } as OpInput)), // junk attestations
      () => b4a.from(newId() + newId(), 'hex'), // random bytes
      () => encodeEnvelope(2, b4a.from('{}'), b4a.alloc(64)), // unknown envelope version
      () => withBody('{"type": "loan/apply"}'), // not canonical JSON
      () => withBody('{"type":'), // not JSON
      () => withBody(i % 3 === 0 ? '{"a":1e400}' : i % 3 === 1 ? '"\\ud800"' : DEEP), // no canonical form, or too deep
      () => sign(xb.stamp(xApply())).subarray(0, 60) // truncated
    ]
    // one oversized op per batch (over 64 KiB: refused before decoding); the rest cycle through the kinds
    if (i % 400 === 399) return b4a.concat([sign(xb.stamp(xApply())), b4a.alloc(MAX_OP_BYTES, 0x20)])
    return kinds[i % kinds.length]()
  }

  // the flood, in batches; halfway through, the honest borrower applies for a loan
  let sent = 0
  let latency = { own: -1, originator: -1 }
  const honestDuringFlood = async () => {
    const started = Date.now()
    const [op] = await hb.append([apply(hb, 60_000)])
    const [own] = await hb.waitForOps([op.opId], 30_000)
    const ownMs = Date.now() - started
    const [there] = await waitForSigned(book, [op], 30_000)
    latency = { own: ownMs, originator: Date.now() - started }
    t.is(own.status, 'accepted', 'the honest application made during the flood is accepted')
    t.is(there.status, 'accepted', 'and accepted on the originator\'s node')
  }
  let honestRun: Promise<void> | null = null
  const floodStart = Date.now()
  for (const size of BATCHES) {
    await xb.appendRaw(Array.from({ length: size }, (_, j) => invalid(sent + j)))
    sent += size
    if (sent >= 2_000 && !honestRun) honestRun = honestDuringFlood()
  }
  t.is(sent, 5_000, '5 000 invalid ops appended')
  const floodMs = Date.now() - floodStart
  await honestRun
  t.comment(`flood appended in ${floodMs} ms; honest op applied after ${latency.own} ms on its node, ${latency.originator} ms on the originator's`)
  // Measured here: 7.8-10.6 s, about the rest of the flood. Autobase.append waits for the pass that
  // is applying the flood, and the three nodes share one thread; alone, a batch of 500 rejected ops
  // applies in ~0.13 s. The bound says the book stays live under the flood, not that it is fast:
  // measured against the flood's own time on this machine, so a loaded machine does not fail it.
  t.ok(latency.originator >= 0 && latency.originator < 2 * floodMs + 10_000, `the honest op was applied on the originator while the flood went on, not queued behind it for long (${latency.originator} ms; the flood took ${floodMs} ms to append)`)

  const honestPeers = [book, hb]
  await Promise.all(honestPeers.map((b) => b.until(async () => (await b.view.auditLength()) >= 5_000, 60_000, 'the flood applied')))
  const hashes = await converge(honestPeers, 60_000)
  t.is(hashes[1], hashes[0], 'the honest peers\' views are identical')
  for (const [name, b] of [['originator', book], ['borrower', hb]] as const) {
    const x = await byWriter(b, xb.writerKey)
    t.is(x.rejected, 5_000, `${name}: all 5 000 hostile ops are in the audit log as rejected`)
    t.is(x.accepted, 0, `${name}: none accepted`)
    t.ok(x.entries.every((a) => typeof a.reason === 'string' && a.reason.length > 0), `${name}: each with a reason`)
    const audit = await b.view.auditOf(honest.did, honestOp.opId)
    t.is(audit?.status, 'accepted', `${name}: the honest op is still recorded as accepted, whatever reused its id`)
    t.is(audit?.signer, honest.did, `${name}: and reported as the honest borrower's`)
    t.is((await b.view.get('loans', (honestOp as { loanId: string }).loanId))?.borrower, honest.did, `${name}: the honest loan is still hers`)
    t.is((await b.view.list('loans')).length, 2, `${name}: only the two honest loans exist`)
  }
  const reasons = new Set((await byWriter(book, xb.writerKey)).entries.map((a) => (a.reason ?? '').replace(/[0-9a-f]{32}|\d+/g, '#')))
  t.comment(`${reasons.size} distinct rejection reasons: ${[...reasons].join(' | ')}`)

  // removal: once the hostile node has the removal, nothing it appends ever applies
  await accepted(t, book, [{ type: 'member/remove', member: hostile.identity!.did }])
  await xb.until(async () => (await xb.view.get('members', hostile.did))?.removed === true, 20_000, 'the removal reached the hostile node')
  const late = xb.stamp(xApply(70_000))
  let refused = false
  try {
    await xb.appendRaw([sign(late), invalid(0)])
  } catch (err) {
    refused = true
    t.comment(`the removed node's own append fails: ${(err as Error).message}`)
  }
  await accepted(t, hb, [apply(hb, 80_000)]) // an honest op after the attempt, so its replication has had time
  const after = await converge(honestPeers, 20_000)
  t.is(after[1], after[0], 'the honest peers still agree after the removal')
  for (const b of honestPeers) {
    t.is((await byWriter(b, xb.writerKey)).entries.length, 5_000, `no op the removed writer appended applies${refused ? ' (its append was refused)' : ''}`)
    t.is(await b.view.auditOf(hostile.did, late.opId), null, 'its would-be-valid application never applied')
  }
})
