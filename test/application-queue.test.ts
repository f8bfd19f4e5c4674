import test from 'brittle'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { rejectsCode } from './helpers/assert.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { criteriaToRules } from '../core/services/criteria.ts'
import { criteriaHash, issueAttestation } from '../core/credentials/attestation.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import type { DidKey } from '../core/identity/did-key.ts'

function randomHash (): string {
  const b = b4a.alloc(32)
  sodium.randombytes_buf(b)
  return b4a.toString(b, 'hex')
}

test('applications - the queue reports what approval will do: a self-signed attestation is not approvable', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, borrower, outsider] = net.nodes
  const so = new Services(orig)
  await so.ready()
  t.teardown(() => so.close(), { order: -Infinity + 1 })
  const o = createHandlers(orig, so)

  const { topic } = await o['book.create']({ name: 'Queue' })
  const criteria = criteriaToRules([{ fact: 'kycStatus', operator: 'equal', value: 'verified' }], 'EUR')
  const { id: project } = await o['project.create']({ book: topic, terms: terms(Date.now(), { eligibility: criteria }) })
  await o['project.transition']({ book: topic, project, action: 'activate' })
  const { code } = await o['invite.create']({ book: topic, role: 'borrower' })
  const bb = await borrower.acceptInvite(code)
  const bookHex = b4a.toString(bb.key, 'hex')

  // the borrower attaches attestations to applications written straight to the book, each judged
  // against the project's current criteria (apply refuses one judged against other rules)
  const apply = async (verifier: Identity, eligible: boolean, reasons: string[] = []) => {
    const attestation = issueAttestation({ applicant: borrower.did as DidKey, book: bookHex, projectId: project, eligible, reasons, presentationHash: randomHash(), criteriaHash: criteriaHash(criteria), verifier, now: Date.now() })
    const loanId = bb.newId()
    const [{ audit }] = await bb.act([{ type: 'loan/apply', loanId, projectId: project, amount: 50_000, currency: 'EUR', months: 6, purpose: '', attestation: attestation as unknown as Record<string, unknown> }])
    t.is(audit.status, 'accepted', 'apply takes the application: the attestation is well signed')
    return loanId
  }
  const selfSigned = await apply(borrower.identity as Identity, true)
  const thirdParty = await apply(outsider.identity as Identity, true)
  const refused = await apply(orig.identity as Identity, false, ['KYC status must be verified; your credential says pending.'])
  const genuine = await apply(orig.identity as Identity, true)
  for (const id of [selfSigned, thirdParty, refused, genuine]) await o.wait({ book: topic, sub: 'loans', id })

  const queue = async () => new Map((await o['loan.applications']({ book: topic })).map((a) => [a.loanId, a]))
  let q = await queue()
  t.is(q.size, 4, 'four applications wait')
  t.is(q.get(selfSigned)?.eligibility?.eligible, true, 'the self-signed attestation claims eligible')
  t.is(q.get(selfSigned)?.approvable, false, 'but it is reported as not approvable')
  t.ok(q.get(selfSigned)?.approvalBlocker?.includes(`untrusted verifier ${borrower.did}`), q.get(selfSigned)?.approvalBlocker ?? 'no blocker')
  t.is(q.get(thirdParty)?.approvable, false, 'a verifier the book has not named is not trusted either')
  t.is(q.get(refused)?.approvable, false, 'a not-eligible decision is not approvable')
  t.ok(q.get(refused)?.approvalBlocker?.includes('your credential says pending'), 'and the blocker gives the verifier\'s reasons')
  t.is(q.get(genuine)?.approvable, true, 'the originator\'s own eligible attestation is approvable')
  t.is(q.get(genuine)?.approvalBlocker, null)

  // what the queue says is what apply does
  await rejectsCode(t, o['loan.decide']({ book: topic, loan: selfSigned, action: 'approve' }), 'OP_REJECTED', 'approving the self-signed application is refused')
  await rejectsCode(t, o['loan.decide']({ book: topic, loan: thirdParty, action: 'approve' }), 'OP_REJECTED', 'so is the untrusted third party\'s')
  await rejectsCode(t, o['loan.decide']({ book: topic, loan: refused, action: 'approve' }), 'OP_REJECTED', 'and the not-eligible one')
  await o['loan.decide']({ book: topic, loan: genuine, action: 'approve' })

  // trusting the third party's verifier changes the verdict, for the queue and for apply alike
  await o['trust.set']({ book: topic, kind: 'verifier', did: outsider.did })
  q = await queue()
  t.absent(q.has(genuine), 'the approved loan left the queue')
  t.is(q.get(thirdParty)?.approvable, true, 'now trusted: approvable')
  t.is(q.get(selfSigned)?.approvable, false, 'the self-signed one still is not')
  await o['loan.decide']({ book: topic, loan: thirdParty, action: 'approve' })
  t.is((await o['loan.show']({ book: topic, loan: thirdParty })).status, 'approved')
})
