import test from 'brittle'
import b4a from 'b4a'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { converge } from './helpers/book.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { criteriaToRules } from '../core/services/criteria.ts'
import { createPresentation } from '../core/credentials/vp.ts'
import { Holder } from '../core/services/holder.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import type { VerifiableCredential } from '../core/credentials/vc.ts'
import type { EligibilityResult } from '../core/services/verification.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import type { Assertion } from 'brittle'

async function withServices (t: Assertion, nodes: GrowrNode[], announce: boolean[]) {
  const all = nodes.map((n, i) => new Services(n, { announce: announce[i], statusTimeoutMs: 5000 }))
  for (const s of all) await s.ready()
  t.teardown(async () => { for (const s of all.reverse()) await s.close() }, { order: -Infinity + 1 })
  return all
}

test('credentials - a borrower gets credentials from an issuer node, proves eligibility and is approved; refusals say why', { timeout: 180_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, borrower, issuer] = net.nodes
  const [so, sb, si] = await withServices(t, net.nodes, [false, false, true])
  const api = { orig: createHandlers(orig, so), borrower: createHandlers(borrower, sb), issuer: createHandlers(issuer, si) }

  // the originator's book trusts this issuer for the types its criteria use
  const book = await orig.createBook('Nakuru growers')
  for (const type of ['KycCredential', 'IncomeCredential', 'CreditScoreCredential']) {
    await api.orig['trust.set']({ book: book.topic, kind: 'issuer', did: issuer.did, type })
  }
  const now = Date.now()
  const open = criteriaToRules([
    { fact: 'kycStatus', operator: 'equal', value: 'verified' },
    { fact: 'averageMonthlyIncome', operator: 'greaterThanInclusive', value: 50_000 }
  ], 'EUR')
  const strict = criteriaToRules([{ fact: 'creditRating', operator: 'in', value: ['A'] }], 'EUR')
  const { id: projectA } = await api.orig['project.create']({ book: book.topic, terms: terms(now, { name: 'Open', eligibility: open }) })
  const { id: projectB } = await api.orig['project.create']({ book: book.topic, terms: terms(now, { name: 'Strict', eligibility: strict }) })
  for (const project of [projectA, projectB]) await api.orig['project.transition']({ book: book.topic, project, action: 'activate' })

  // the issuer has checked the borrower offline; she asks for the credentials over the network
  await api.issuer['vc.enroll']({ subject: borrower.did, type: 'KycCredential', claims: { kycStatus: 'verified' } })
  await api.issuer['vc.enroll']({ subject: borrower.did, type: 'IncomeCredential', claims: { averageMonthlyIncome: 80_000, currency: 'EUR' } })
  await api.issuer['vc.enroll']({ subject: borrower.did, type: 'CreditScoreCredential', claims: { creditRating: 'B', creditLimit: 100_000, currency: 'EUR' } })
  const kyc = await api.borrower['vc.request']({ issuer: issuer.did, type: 'KycCredential' })
  await api.borrower['vc.request']({ issuer: issuer.did, type: 'IncomeCredential' })
  await api.borrower['vc.request']({ issuer: issuer.did, type: 'CreditScoreCredential' })
  t.is((await api.borrower['vc.list']({})).length, 3, 'three credentials in her SSCR')
  t.is((await api.borrower['vc.request']({ issuer: issuer.did, type: 'KycCredential' })).id, kyc.id, 'asking again returns the same credential')
  t.is((await api.issuer['vc.issued']({})).length, 3, 'and issues nothing new')
  await t.exception(api.borrower['vc.request']({ issuer: issuer.did, type: 'AgeOverCredential' }), /no verified AgeOverCredential record/, 'the issuer refuses what it has not checked')

  const invite = await orig.createInvite(book.topic, 'borrower')
  const bb = await borrower.acceptInvite(invite.code)

  // approved path: the application carries the verifier's attestation, never the claims
  const applied = await api.borrower['loan.apply']({ book: bb.topic, project: projectA, amount: 60_000, months: 6, purpose: 'drip irrigation' })
  await book.until(async () => (await book.view.get('loans', applied.id)) !== null, 20_000, 'loan replicated')
  const loan = await book.view.get('loans', applied.id)
  t.is(loan?.eligibility?.eligible, true, 'the loan records an eligible decision')
  t.is(loan?.eligibility?.verifier, orig.did, 'made by the originator\'s verification service')
  const raw = JSON.stringify(await book.view.list('loans')) + JSON.stringify(await book.view.list('audit'))
  t.absent(raw.includes('80000') || raw.includes('"B"'), 'no claim value reaches the book')
  await api.orig['loan.decide']({ book: book.topic, loan: applied.id, action: 'approve' })
  t.is((await book.view.get('loans', applied.id))?.status, 'approved')

  // refused path: the failing condition, in words
  await t.exception(api.borrower['loan.apply']({ book: bb.topic, project: projectB, amount: 60_000, months: 6 }), /credit rating/i, 'not eligible for the strict project, and told why')
  const check = await api.borrower['eligibility.check']({ book: bb.topic, project: projectB })
  t.is(check.eligible, false)
  t.ok(check.reasons.some((r) => /credit rating/i.test(r) && /\bB\b/.test(r)), `reason names the rating: ${check.reasons.join(' | ')}`)
  t.alike(Holder.typesFor(strict), ['CreditScoreCredential'], 'only the credit score would be disclosed for the strict project')

  // replay and cross-project use of one presentation are refused, over the peers' connection
  const bookHex = b4a.toString(book.key, 'hex')
  const rpc = sb.rpc!
  const { challenge, domain } = await rpc.request(orig.did as DidKey, 'vp/challenge', { book: bookHex, projectId: projectA }) as { challenge: string; domain: string }
  const credentials = sb.wallet!.list() as VerifiableCredential[]
  const vp = createPresentation({ holder: borrower.identity as Identity, credentials, challenge, domain, now: Date.now() })
  const present = async (projectId: string) => await rpc.request(orig.did as DidKey, 'vp/verify', { book: bookHex, projectId, presentation: vp }) as EligibilityResult
  t.is((await present(projectA)).eligible, true, 'first use is accepted')
  const replay = await present(projectA)
  t.is(replay.eligible, false)
  t.is(replay.problems[0].code, 'CHALLENGE_MISMATCH', 'the same presentation again is a replay')
  const other = await present(projectB)
  t.is(other.problems[0].code, 'DOMAIN_MISMATCH', 'a presentation for project A does not count for project B')
  // challenges are stateless (verifier-abuse.test.ts floods them): asking in a loop holds nothing
  for (let i = 0; i < 17; i++) await so.verification!.challenge(bookHex, projectA, 'did:key:z6MkFlooder')
  t.ok((await so.verification!.challenge(bookHex, projectA, 'did:key:z6MkFlooder')).challenge, 'a holder asking again and again still gets a challenge')

  // an application without an attestation, written straight to the book, is refused by apply
  const direct = await bb.act([{ type: 'loan/apply', loanId: bb.newId(), projectId: projectA, amount: 60_000, currency: 'EUR', months: 6, purpose: '' }])
  t.is(direct[0].audit.status, 'rejected')
  t.ok(/attestation/.test(direct[0].audit.reason ?? ''), direct[0].audit.reason ?? '')

  // revocation reaches the verifier through the issuer's status list
  await api.issuer['vc.revoke']({ id: kyc.id })
  const revoked = await api.borrower['eligibility.check']({ book: bb.topic, project: projectA })
  t.is(revoked.eligible, false, 'a revoked KYC credential no longer makes her eligible')
  t.ok(revoked.problems.some((p) => p.code === 'REVOKED'), 'the reason is the revocation')
  await t.exception(api.borrower['vc.request']({ issuer: issuer.did, type: 'KycCredential' }), /REVOKED/, 'asking again does not undo the revocation')
  await api.issuer['vc.enroll']({ subject: borrower.did, type: 'KycCredential', claims: { kycStatus: 'verified' } })
  const renewed = await api.borrower['vc.request']({ issuer: issuer.did, type: 'KycCredential' })
  t.not(renewed.id, kyc.id, 'once the issuer enrols her again, a new credential replaces the revoked one')
  t.is((await api.borrower['eligibility.check']({ book: bb.topic, project: projectA })).eligible, true, 'and she is eligible again')

  const hashes = await converge([book, bb])
  t.is(hashes[1], hashes[0], 'views converge')
})
