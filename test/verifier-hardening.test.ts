import test from 'brittle'
import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { issueAttestation, checkAttestation, criteriaHash } from '../core/credentials/attestation.ts'
import { duplicateRecords, factsFrom } from '../core/credentials/catalogue.ts'
import { issueCredential } from '../core/credentials/vc.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { criteriaToRules } from '../core/services/criteria.ts'

const NOW = Date.parse('2026-03-01T10:00:00Z')
function party (n: number) {
  const s = new Uint8Array(32)
  s[0] = 200 + n
  const kp = generateKeyPair(s)
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
}
const VERIFIER = party(1)
const HOLDER = party(2)
const ISSUER = party(3)
const BOOK = 'ab'.repeat(32)
const PROJECT = 'cd'.repeat(16)

test('criteriaHash - SHA-256 of the rules\' JCS form, independent of key order, sensitive to any change', (t) => {
  const rules = criteriaToRules([{ fact: 'creditRating', operator: 'in', value: ['A', 'B'] }], 'EUR')
  // computed here with another SHA-256 implementation
  t.is(criteriaHash(rules), createHash('sha256').update(canonicalize(rules) as string).digest('hex'), 'lowercase hex SHA-256 of the RFC 8785 form')
  t.ok(/^[0-9a-f]{64}$/.test(criteriaHash([])), 'an empty rule set has a hash too')
  const reordered = JSON.parse(JSON.stringify(rules, (_k, v) => v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v))
  t.is(criteriaHash(reordered), criteriaHash(rules), 'key order does not matter')
  const loosened = criteriaToRules([{ fact: 'creditRating', operator: 'in', value: ['A', 'B', 'C'] }], 'EUR')
  t.not(criteriaHash(loosened), criteriaHash(rules), 'one more accepted rating is other criteria')
  t.exception(() => criteriaHash({} as never), /BAD_ARGUMENT/, 'only an array')
})

test('checkAttestation - an attestation judged against other criteria is refused when the caller names the current ones', async (t) => {
  const strict = criteriaToRules([{ fact: 'creditRating', operator: 'in', value: ['A'] }], 'EUR')
  const loose = criteriaToRules([{ fact: 'creditRating', operator: 'in', value: ['A', 'B', 'C'] }], 'EUR')
  const decision = { applicant: HOLDER.did, book: BOOK, projectId: PROJECT, eligible: true, reasons: [], presentationHash: 'ef'.repeat(32) }
  const expect = { applicant: HOLDER.did, book: BOOK, projectId: PROJECT, at: NOW + 1000 }
  const underLoose = issueAttestation({ ...decision, criteriaHash: criteriaHash(loose), verifier: VERIFIER, now: NOW })
  t.is(underLoose.credentialSubject.criteriaHash, criteriaHash(loose), 'the verifier signs the criteria hash into the subject')

  const same = await checkAttestation(underLoose, { ...expect, criteriaHash: criteriaHash(loose) })
  t.ok(same.ok, 'accepted against the rules it was judged by')
  const tightened = await checkAttestation(underLoose, { ...expect, criteriaHash: criteriaHash(strict) })
  t.ok(!tightened.ok && tightened.reason.startsWith('judged against other criteria'), `refused once the rules changed: ${'reason' in tightened ? tightened.reason : ''}`)
  const legacy = issueAttestation({ ...decision, verifier: VERIFIER, now: NOW })
  const none = await checkAttestation(legacy, { ...expect, criteriaHash: criteriaHash(strict) })
  t.ok(!none.ok && none.reason.startsWith('judged against other criteria'), 'one naming no criteria is refused when the caller names them')
  t.ok((await checkAttestation(legacy, expect)).ok, 'without opts.criteriaHash the old contract holds')

  // the hash is under the verifier's signature: editing it breaks the proof
  const forged = JSON.parse(JSON.stringify(underLoose))
  forged.credentialSubject.criteriaHash = criteriaHash(strict)
  const f = await checkAttestation(forged, { ...expect, criteriaHash: criteriaHash(strict) })
  t.ok(!f.ok && /signature/.test(f.reason), 'a criteria hash swapped after signing does not verify')
  t.exception(() => issueAttestation({ ...decision, criteriaHash: 'XY', verifier: VERIFIER, now: NOW }), /criteriaHash/, 'a malformed criteriaHash is not signed')
})

function record (loanId: string, opts: { id?: string; outcome?: 'repaid' | 'defaulted' } = {}) {
  return issueCredential({
    issuer: ISSUER,
    type: 'RepaymentHistoryCredential',
    subject: HOLDER.did,
    claims: { outcome: opts.outcome ?? 'repaid', principal: 50_000, currency: 'EUR', months: 6, closedOn: '2026-01-15', book: BOOK, loanId },
    now: NOW,
    id: opts.id
  })
}

test('duplicateRecords and factsFrom - one repayment record counts once, however it is repeated', (t) => {
  const a = record('01'.repeat(16))
  const b = record('02'.repeat(16))
  const sameLoan = record('01'.repeat(16)) // another credential (new id) for loan 01
  t.alike(duplicateRecords([a, b]), [], 'two loans: no duplicate')
  t.is(factsFrom([a, b]).loansRepaid, 2, 'two loans count two')

  const twice = duplicateRecords([a, b, a])
  t.is(twice.length, 1)
  t.ok(/presented more than once/.test(twice[0]), twice[0])
  t.is(factsFrom([a, b, a]).loansRepaid, 2, 'the same credential twice still counts once')

  const relabelled = duplicateRecords([a, sameLoan])
  t.is(relabelled.length, 1)
  t.ok(/same loan/.test(relabelled[0]) && relabelled[0].includes(BOOK), relabelled[0])
  t.is(factsFrom([a, sameLoan, b]).loansRepaid, 2, 'two credentials for one loan count once')
  const flipped = record('02'.repeat(16), { outcome: 'defaulted' })
  const f = factsFrom([b, flipped])
  t.is(f.loansRepaid as number + (f.loansDefaulted as number), 1, 'a loan is either repaid or defaulted, never both')
})
