import test from 'brittle'
import b4a from 'b4a'
import { discoveryKey } from 'hypercore-crypto'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { criteriaToRules } from '../core/services/criteria.ts'
import { StatusResolver } from '../core/services/status-registry.ts'
import { createPresentation } from '../core/credentials/vp.ts'
import { issueCredential, type VerifiableCredential } from '../core/credentials/vc.ts'
import { statusEntry } from '../core/credentials/bitstring-status-list.ts'
import { criteriaHash } from '../core/credentials/attestation.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import type { EligibilityResult } from '../core/services/verification.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import type { GrowrNode } from '../core/node.ts'
import type Corestore from 'corestore'
import type { Assertion } from 'brittle'

function party (seedByte?: number) {
  const kp = generateKeyPair(seedByte === undefined ? undefined : new Uint8Array(32).fill(seedByte))
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
}
const ISSUER = party(77)

function randomListUrl (): { url: string; discoveryKey: Uint8Array } {
  const key = generateKeyPair().publicKey
  return { url: `hyper://${b4a.toString(key, 'hex')}/revocation`, discoveryKey: discoveryKey(key) }
}

function topicJoined (node: GrowrNode, dk: Uint8Array): boolean {
  return (node.swarm as unknown as { status (t: Uint8Array): unknown }).status(dk) !== null
}

async function setup (t: Assertion) {
  const net = await createNet(t, 3)
  const [verifier, holder, other] = net.nodes
  const all = [new Services(verifier, { announce: true, statusTimeoutMs: 2000 }), new Services(holder), new Services(other)]
  for (const s of all) await s.ready()
  t.teardown(async () => { for (const s of [...all].reverse()) await s.close() }, { order: -Infinity + 1 })
  const [sv, sh, so] = all
  const api = createHandlers(verifier, sv)
  const book = await verifier.createBook('Abuse tests')
  for (const type of ['RepaymentHistoryCredential', 'KycCredential']) await api['trust.set']({ book: book.topic, kind: 'issuer', did: ISSUER.did, type })
  const rules = criteriaToRules([{ fact: 'loansRepaid', operator: 'greaterThanInclusive', value: 2 }], 'EUR')
  const { id: project } = await api['project.create']({ book: book.topic, terms: terms(Date.now(), { eligibility: rules }) })
  await api['project.transition']({ book: book.topic, project, action: 'activate' })
  const bookHex = b4a.toString(book.key, 'hex')
  for (const s of [sh, so]) await s.rpc!.connect(verifier.did as DidKey, { timeoutMs: 20_000 })
  const record = (subject: string, loanId: string) => issueCredential({
    issuer: ISSUER,
    type: 'RepaymentHistoryCredential',
    subject,
    claims: { outcome: 'repaid', principal: 50_000, currency: 'EUR', months: 6, closedOn: '2026-01-15', book: bookHex, loanId },
    now: Date.now()
  })
  const as = (s: Services) => ({
    challenge: async () => await s.rpc!.request(verifier.did as DidKey, 'vp/challenge', { book: bookHex, projectId: project }) as { challenge: string; domain: string },
    present: async (presentation: unknown) => await s.rpc!.request(verifier.did as DidKey, 'vp/verify', { book: bookHex, projectId: project, presentation }) as EligibilityResult,
    sign: (credentials: VerifiableCredential[], c: { challenge: string; domain: string }) => createPresentation({ holder: s.node.identity as Identity, credentials, challenge: c.challenge, domain: c.domain, now: Date.now() })
  })
  return { verifier, holder, other, sv, sh, so, bookHex, project, rules, record, H: as(sh), Y: as(so) }
}

test('verifier - a challenge flood from fresh DIDs locks nobody out; replays and another holder\'s challenge are refused', { timeout: 120_000 }, async (t) => {
  const { holder, other, sv, bookHex, project, rules, record, H, Y } = await setup(t)
  const mine = [record(holder.did, '01'.repeat(16)), record(holder.did, '02'.repeat(16))]

  // the flood of the finding: 10 000 open challenges from 625 fresh DIDs
  const flooders = Array.from({ length: 625 }, () => party().did)
  const started = Date.now()
  for (let i = 0; i < 10_000; i++) await sv.verification!.challenge(bookHex, project, flooders[i % flooders.length])
  t.comment(`10 000 challenges in ${Date.now() - started} ms`)

  const c = await H.challenge()
  const vp = H.sign(mine, c)
  // another holder tries the challenge issued to her: with his own presentation, and relaying hers
  const stolen = await Y.present(Y.sign([record(other.did, '03'.repeat(16)), record(other.did, '04'.repeat(16))], c))
  t.is(stolen.eligible, false)
  t.is(stolen.problems[0]?.code, 'CHALLENGE_MISMATCH', `a challenge issued to X, used by Y: ${stolen.reasons[0]}`)
  const relayed = await Y.present(vp)
  t.is(relayed.problems[0]?.code, 'CHALLENGE_MISMATCH', 'X\'s own presentation relayed by Y is refused too')

  const ok = await H.present(vp)
  t.is(ok.eligible, true, `the honest applicant is served during the flood, and Y did not burn her challenge: ${ok.reasons.join(' | ')}`)
  t.is(ok.attestation?.credentialSubject.criteriaHash, criteriaHash(rules), 'the attestation names the criteria it was judged against')
  const replay = await H.present(vp)
  t.is(replay.eligible, false)
  t.is(replay.problems[0]?.code, 'CHALLENGE_MISMATCH', 'the same presentation again is a replay')
  t.ok(/already used/.test(replay.reasons[0]), replay.reasons[0])

  // a challenge for another project, or an edited one, is not ours
  const forged = c.challenge.replace(/^\d+/, String(Date.now() + 5 * 60 * 1000))
  const edited = await H.present(H.sign(mine, { ...c, challenge: forged }))
  t.is(edited.problems[0]?.code, 'CHALLENGE_MISMATCH', 'a challenge with its expiry edited fails its MAC')
})

test('verifier - one repayment record presented twice, or twice for one loan, refuses the presentation', { timeout: 120_000 }, async (t) => {
  const { holder, record, H } = await setup(t)
  const a = record(holder.did, '01'.repeat(16))
  const b = record(holder.did, '02'.repeat(16))
  const sameLoan = record(holder.did, '01'.repeat(16))

  const twice = await H.present(H.sign([a, a], await H.challenge()))
  t.is(twice.eligible, false, 'one record twice does not make two loans repaid')
  t.is(twice.attestation, null, 'nothing is attested')
  t.is(twice.problems[0]?.code, 'DUPLICATE_CREDENTIAL')
  t.ok(/presented more than once/.test(twice.reasons[0]), twice.reasons[0])

  const relabelled = await H.present(H.sign([a, sameLoan], await H.challenge()))
  t.is(relabelled.eligible, false)
  t.is(relabelled.problems[0]?.code, 'DUPLICATE_CREDENTIAL')
  t.ok(/same loan/.test(relabelled.reasons[0]), relabelled.reasons[0])

  const distinct = await H.present(H.sign([a, b], await H.challenge()))
  t.is(distinct.eligible, true, 'two distinct loans do count two')
})

test('verifier - credentials from untrusted issuers make it fetch nothing; open status lists are bounded', { timeout: 120_000 }, async (t) => {
  const { verifier, holder, sv, record, H } = await setup(t)
  const resolver = sv.resolver!
  const lists = [randomListUrl(), randomListUrl(), randomListUrl()]
  const selfSigned = lists.map((l) => issueCredential({
    issuer: party(),
    type: 'KycCredential',
    subject: holder.did,
    claims: { kycStatus: 'verified' },
    now: Date.now(),
    credentialStatus: statusEntry(l.url, 5)
  }))
  const before = resolver.listsOpened
  const started = Date.now()
  const r = await H.present(H.sign([...selfSigned, record(holder.did, '01'.repeat(16))], await H.challenge()))
  const took = Date.now() - started
  t.is(r.eligible, false)
  t.alike(r.problems.map((p) => p.code), ['UNTRUSTED_ISSUER', 'UNTRUSTED_ISSUER', 'UNTRUSTED_ISSUER'], 'each self-signed credential is refused for its issuer, and for nothing fetched')
  t.ok(took < 1500, `refused in ${took} ms, well under the 2 000 ms status budget (3 x 10 s before)`)
  t.is(resolver.listsOpened, before, 'no status list core was opened')
  t.ok(lists.every((l) => !topicJoined(verifier, l.discoveryKey)), 'no status list topic was joined')

  // control: a trusted issuer's credential does reach the resolver, and its unreachable list is
  // refused within the budget, as stale: nobody could say it is current
  const trustedUrl = randomListUrl()
  const trusted = issueCredential({ issuer: ISSUER, type: 'KycCredential', subject: holder.did, claims: { kycStatus: 'verified' }, now: Date.now(), credentialStatus: statusEntry(trustedUrl.url, 5) })
  const t0 = Date.now()
  const c = await H.present(H.sign([trusted], await H.challenge()))
  t.is(resolver.listsOpened, before + 1, 'the trusted credential\'s list was looked up')
  t.is(c.problems[0]?.code, 'STATUS_STALE', c.reasons.join(' | '))
  t.ok(Date.now() - t0 < 2000 + 1500, 'within the status budget')
  t.is(c.status?.maxAgeMs, 5 * 60 * 1000, 'the result states the freshness it required')

  // a resolver keeps at most maxOpen lists: older ones are closed and their topics left
  const bounded = new StatusResolver({ store: (verifier.store as Corestore).namespace('bounded-test'), swarm: verifier.swarm, timeoutMs: 200, maxOpen: 2 })
  await bounded.ready()
  t.teardown(() => bounded.close())
  const urls = [randomListUrl(), randomListUrl(), randomListUrl()]
  for (const u of urls) {
    const got = await bounded.current(u.url, ISSUER.did)
    t.ok('error' in got && got.code === 'STATUS_STALE', 'an unreachable list is stale')
  }
  t.is(bounded.openLists, 2, 'two lists open at most')
  t.absent(topicJoined(verifier, urls[0].discoveryKey), 'the least recently used list\'s topic was left')
  t.ok(topicJoined(verifier, urls[2].discoveryKey), 'the newest list stays joined')
  await bounded.close()
  t.absent(topicJoined(verifier, urls[2].discoveryKey), 'closing the resolver leaves every topic')
})
