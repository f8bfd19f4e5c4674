import test from 'brittle'
import fs from 'node:fs'
import { createHash } from 'node:crypto'
import b4a from 'b4a'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, multibaseToPublicKey, multibaseToSeed, resolveVerificationMethod } from '../core/identity/did-key.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import { addProof, verifyProof, hashData, decodeProofValue, jcs } from '../core/credentials/eddsa-jcs-2022.ts'
import { issueCredential, verifyCredential, signAs, parseDateTimeStamp, isoSeconds, verificationMethodOf, GROWR_CONTEXTS } from '../core/credentials/vc.ts'
import type { VerifiableCredential, VerificationResult, Signer } from '../core/credentials/vc.ts'
import { createPresentation, verifyPresentation, presentationHash } from '../core/credentials/vp.ts'
import { issueAttestation, checkAttestation } from '../core/credentials/attestation.ts'
import { encodeStatusList, statusEntry, statusListCredential, checkStatusAgainst } from '../core/credentials/bitstring-status-list.ts'
import { CREDENTIAL_TYPES } from '../core/credentials/catalogue.ts'
import type { CredentialType } from '../core/credentials/catalogue.ts'
import { throwsCode } from './helpers/assert.ts'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

const vectorFile = (name: string) => fs.readFileSync(new URL(`./vectors/vc-di-eddsa/${name}`, import.meta.url), 'utf8')
const SIGNED = JSON.parse(vectorFile('eddsa-jcs-2022-signed.json')) as Json
const PROOF_CONFIG = JSON.parse(vectorFile('eddsa-jcs-2022-proof-config.json')) as Json
const KEY_PAIR = JSON.parse(vectorFile('keyPair.json')) as { publicKeyMultibase: string; privateKeyMultibase: string }
const SIGNATURE_HEX = vectorFile('eddsa-jcs-2022-signature.hex').trim()
const DOCUMENT_HASH_HEX = vectorFile('eddsa-jcs-2022-document-hash.hex').trim()
// RFC 8785 form of the vector's proof configuration: keys sorted, no whitespace.
const CANONICAL_PROOF_CONFIG = '{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/examples/v2"],' +
  '"created":"2023-02-24T23:36:38Z","cryptosuite":"eddsa-jcs-2022","proofPurpose":"assertionMethod","type":"DataIntegrityProof",' +
  '"verificationMethod":"https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}'
const VECTOR_NOW = Date.parse('2024-01-01T00:00:00Z')

const NOW = Date.parse('2026-11-21T10:00:00Z')
const DAY = 24 * 60 * 60 * 1000

function party (n: number): Signer & { publicKey: Uint8Array } {
  const kp = generateKeyPair(b4a.alloc(32, n))
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey, publicKey: kp.publicKey }
}
const ISSUER = party(1)
const HOLDER = party(2)
const STRANGER = party(3)
const ATTACKER = party(4)

const SAMPLE_CLAIMS: Record<CredentialType, Record<string, unknown>> = {
  KycCredential: { kycStatus: 'verified' },
  AgeOverCredential: { ageOver: 18 },
  CitizenshipCredential: { citizenship: 'CA' },
  IncomeCredential: { averageMonthlyIncome: 350000, currency: 'EUR' },
  SavingsCredential: { savingsRateBps: 1200 },
  CreditScoreCredential: { creditRating: 'B', creditLimit: 500000, currency: 'EUR' },
  CommunityMembershipCredential: { community: 'Crawford Bay growers co-op' },
  RepaymentHistoryCredential: { outcome: 'repaid', principal: 100000, currency: 'EUR', months: 12, closedOn: '2026-06-30', book: 'ab'.repeat(32), loanId: 'cd'.repeat(16) }
}

function kyc (over: Partial<Parameters<typeof issueCredential>[0]> = {}): VerifiableCredential {
  return issueCredential({ issuer: ISSUER, type: 'KycCredential', subject: HOLDER.did, claims: { kycStatus: 'verified' }, now: NOW, ...over })
}

function codes (r: { problems: Array<{ code: string }> }): string[] {
  return r.problems.map((p) => p.code)
}

function clone<T> (v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}


// Every leaf string of a JSON value, with a setter that replaces it in a given copy.
function leafStrings (value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof value === 'string') return [path]
  if (Array.isArray(value)) return value.flatMap((v, i) => leafStrings(v, [...path, i]))
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => leafStrings(v, [...path, k]))
  return []
}
function getAt (root: unknown, path: Array<string | number>): unknown {
  return path.reduce((o: any, k) => o[k], root) // eslint-disable-line @typescript-eslint/no-explicit-any
}
function setAt (root: unknown, path: Array<string | number>, v: unknown): void {
  const parent = getAt(root, path.slice(0, -1)) as Json
  parent[path[path.length - 1]] = v
}
function oneCharChange (s: string): string {
  const i = Math.floor(s.length / 2)
  return s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1)
}

test('W3C eddsa-jcs-2022 vector: verifies, hashData and signature match the spec', async (t) => {
  const pk = multibaseToPublicKey(KEY_PAIR.publicKeyMultibase)
  t.alike(verifyProof(SIGNED, pk), { verified: true }, 'verifyProof accepts the vector')

  const r = await verifyCredential(SIGNED, { now: VECTOR_NOW, verificationKey: KEY_PAIR.publicKeyMultibase })
  t.alike(r, { verified: true, problems: [], issuer: 'https://vc.example/issuers/5678', type: 'AlumniCredential' }, 'verifyCredential accepts the vector')
  const r2 = await verifyCredential(SIGNED, { now: VECTOR_NOW, verificationKey: pk })
  t.ok(r2.verified, 'key given as bytes works too')

  const { proof, ...document } = clone(SIGNED)
  const { proofValue, ...proofConfig } = proof
  t.alike(proofConfig, PROOF_CONFIG, 'proof config (with @context) is the vector\'s')
  const hash = b4a.toString(hashData(document, proofConfig), 'hex')
  t.is(hash.slice(64), DOCUMENT_HASH_HEX, 'second half of hashData = the spec\'s document hash')
  t.is(b4a.toString(jcs(proofConfig), 'utf8'), CANONICAL_PROOF_CONFIG, 'proof config canonicalizes per RFC 8785')
  t.is(hash.slice(0, 64), createHash('sha256').update(CANONICAL_PROOF_CONFIG).digest('hex'), 'first half = SHA-256 of the canonical proof config')
  t.is(b4a.toString(decodeProofValue(proofValue) as Uint8Array, 'hex'), SIGNATURE_HEX, 'proofValue decodes to the spec\'s signature')

  const { secretKey } = generateKeyPair(multibaseToSeed(KEY_PAIR.privateKeyMultibase))
  const resigned = addProof(document, { verificationMethod: proofConfig.verificationMethod, proofPurpose: 'assertionMethod', created: proofConfig.created }, secretKey) as Json
  t.is(b4a.toString(decodeProofValue(resigned.proof.proofValue) as Uint8Array, 'hex'), SIGNATURE_HEX, 're-signing reproduces the signature hex')
  t.alike(resigned, SIGNED, 're-signing reproduces the whole secured document')
  t.absent('proof' in document, 'addProof left its input alone')

  const unresolvable = await verifyCredential(SIGNED, { now: VECTOR_NOW })
  t.alike(codes(unresolvable), ['PROOF_INVALID'], 'an https verification method needs an explicit key')
  const wrongKey = await verifyCredential(SIGNED, { now: VECTOR_NOW, verificationKey: ISSUER.publicKey })
  t.alike(codes(wrongKey), ['VERIFICATION_METHOD_NOT_ISSUER'], 'a key other than the one the proof names is refused')
})

test('W3C vector: a one-character change to any string, or an added or removed field, fails', async (t) => {
  const pk = multibaseToPublicKey(KEY_PAIR.publicKeyMultibase)
  const paths = leafStrings(SIGNED)
  t.ok(paths.length >= 19, `walked ${paths.length} leaf strings`)
  t.ok(paths.some((p) => p[0] === 'proof' && p[1] === '@context'), 'including the proof\'s @context')
  t.ok(paths.some((p) => p[0] === 'credentialSubject'), 'including the nested subject')
  for (const path of paths) {
    const copy = clone(SIGNED)
    setAt(copy, path, oneCharChange(getAt(copy, path) as string))
    const r = await verifyCredential(copy, { now: VECTOR_NOW, verificationKey: KEY_PAIR.publicKeyMultibase })
    t.ok(!verifyProof(copy, pk).verified && !r.verified, `changed ${path.join('.')} -> rejected (${codes(r).join(',')})`)
  }

  const objects: Array<Array<string | number>> = [[], ['credentialSubject'], ['proof']]
  for (const at of objects) {
    const added = clone(SIGNED)
    ;(getAt(added, at) as Json).extra = 'x'
    t.absent(verifyProof(added, pk).verified, `added a field in ${at.join('.') || 'the document'} -> rejected`)
    for (const key of Object.keys(getAt(SIGNED, at) as Json)) {
      const removed = clone(SIGNED)
      delete (getAt(removed, at) as Json)[key]
      const r = await verifyCredential(removed, { now: VECTOR_NOW, verificationKey: KEY_PAIR.publicKeyMultibase })
      t.ok(!verifyProof(removed, pk).verified && !r.verified, `removed ${[...at, key].join('.')} -> rejected`)
    }
  }
  const extraContext = clone(SIGNED)
  extraContext['@context'].push('https://growr.example/credentials/v1')
  t.absent(verifyProof(extraContext, pk).verified, 'an appended @context entry is refused (proof @context must equal the document\'s)')
})

test('verifyProof never throws on malformed input', (t) => {
  const pk = ISSUER.publicKey
  const cyclic: Json = { proof: { type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022', proofValue: SIGNED.proof.proofValue } }
  cyclic.self = cyclic
  const inputs: unknown[] = [null, undefined, 42, 'x', [], {}, { proof: null }, { proof: [] }, { proof: { type: 'DataIntegrityProof' } },
    { ...clone(SIGNED), proof: { ...SIGNED.proof, proofValue: 'z' + '1'.repeat(5000) } },
    { ...clone(SIGNED), proof: { ...SIGNED.proof, proofValue: 'u' + SIGNED.proof.proofValue.slice(1) } },
    { ...clone(SIGNED), proof: { ...SIGNED.proof, proofValue: 'z0OIl' } },
    { ...clone(SIGNED), proof: { ...SIGNED.proof, created: 'yesterday' } },
    { ...clone(SIGNED), weird: Number.NaN }, cyclic]
  inputs.forEach((input, i) => {
    const r = verifyProof(input, pk)
    t.ok(!r.verified && typeof r.reason === 'string', `malformed input ${i} rejected: ${r.verified ? '' : r.reason}`)
  })
  t.absent(verifyProof(SIGNED, pk.subarray(0, 31)).verified, 'short key -> false')
})

test('resolveVerificationMethod accepts did:key#same-key only', (t) => {
  const vm = verificationMethodOf(ISSUER.did)
  const r = resolveVerificationMethod(vm)
  t.is(r.controller, ISSUER.did)
  t.alike(r.publicKey, ISSUER.publicKey)
  throwsCode(t, () => resolveVerificationMethod(ISSUER.did), 'BAD_ARGUMENT', 'no fragment')
  throwsCode(t, () => resolveVerificationMethod(`${ISSUER.did}#${HOLDER.did.slice(8)}`), 'BAD_ARGUMENT', 'fragment of another key')
  throwsCode(t, () => resolveVerificationMethod(`${ISSUER.did}#key-1`), 'BAD_ARGUMENT', 'named fragment')
  throwsCode(t, () => resolveVerificationMethod(SIGNED.proof.verificationMethod), 'BAD_ARGUMENT', 'https verification method')
  throwsCode(t, () => resolveVerificationMethod(42 as unknown as string), 'BAD_ARGUMENT', 'not a string')
})

test('dateTimeStamp parsing and formatting', (t) => {
  t.is(parseDateTimeStamp('2026-11-21T10:00:00Z'), NOW)
  t.is(parseDateTimeStamp('2026-11-21T11:30:00+01:30'), NOW)
  t.is(parseDateTimeStamp('2026-11-21T10:00:00.250Z'), NOW + 250)
  t.is(parseDateTimeStamp('2024-02-29T00:00:00Z'), Date.parse('2024-02-29T00:00:00Z'), 'leap day')
  for (const bad of ['2026-11-21T10:00:00', '2026-11-21', '2023-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-21T24:00:00Z', '2026-11-21 10:00:00Z', 20261121, null]) {
    t.is(parseDateTimeStamp(bad), null, `rejects ${String(bad)}`)
  }
  t.is(isoSeconds(NOW + 999), '2026-11-21T10:00:00Z', 'to the second, no milliseconds')
  throwsCode(t, () => isoSeconds(Number.NaN), 'BAD_ARGUMENT', 'NaN clock')
})

test('issue -> verify round trip for every catalogue type', async (t) => {
  t.alike(Object.keys(SAMPLE_CLAIMS).sort(), [...CREDENTIAL_TYPES].sort(), 'sample claims cover every catalogue type')
  for (const type of CREDENTIAL_TYPES) {
    const vc = issueCredential({ issuer: ISSUER, type, subject: HOLDER.did, claims: SAMPLE_CLAIMS[type], now: NOW })
    t.alike(vc['@context'], GROWR_CONTEXTS)
    t.alike(vc.type, ['VerifiableCredential', type])
    t.is(vc.issuer, ISSUER.did)
    t.is(vc.validFrom, '2026-11-21T10:00:00Z')
    t.ok(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(vc.id), 'random v4 urn:uuid id')
    t.alike(vc.credentialSubject, { id: HOLDER.did, ...SAMPLE_CLAIMS[type] })
    t.is(vc.proof.verificationMethod, `${ISSUER.did}#${ISSUER.did.slice(8)}`)
    t.is(vc.proof.proofPurpose, 'assertionMethod')
    t.is(vc.proof.created, '2026-11-21T10:00:00Z')
    const r = await verifyCredential(JSON.parse(JSON.stringify(vc)), { now: NOW, expectedSubject: HOLDER.did, trustedIssuers: (ty, iss) => ty === type && iss === ISSUER.did })
    t.alike(r, { verified: true, problems: [], issuer: ISSUER.did, type }, `${type} verifies`)
  }
  const a = kyc()
  const b = kyc()
  t.not(a.id, b.id, 'each credential gets its own id')
})

test('bad claims: refused at issue time, SCHEMA_INVALID when re-signed by another key', async (t) => {
  throwsCode(t, () => kyc({ claims: { kycStatus: 'maybe' } }), 'BAD_ARGUMENT', 'enum violation')
  throwsCode(t, () => issueCredential({ issuer: ISSUER, type: 'IncomeCredential', subject: HOLDER.did, claims: { averageMonthlyIncome: 1 }, now: NOW }), 'BAD_ARGUMENT', 'missing currency')
  throwsCode(t, () => kyc({ claims: { kycStatus: 'verified', ssn: '123' } }), 'BAD_ARGUMENT', 'extra field')
  throwsCode(t, () => kyc({ claims: { id: STRANGER.did, kycStatus: 'verified' } }), 'BAD_ARGUMENT', 'claims may not override the subject id')
  throwsCode(t, () => kyc({ subject: 'alice' }), 'BAD_ARGUMENT', 'subject not a DID')
  throwsCode(t, () => kyc({ type: 'PassportCredential' as CredentialType }), 'BAD_ARGUMENT', 'unknown type')
  throwsCode(t, () => kyc({ validFrom: 'soon' }), 'BAD_ARGUMENT', 'bad validFrom')
  throwsCode(t, () => kyc({ validUntil: '2026-11-20T00:00:00Z' }), 'BAD_ARGUMENT', 'validUntil before validFrom')
  throwsCode(t, () => kyc({ issuer: { did: ISSUER.did, secretKey: ATTACKER.secretKey } }), 'BAD_ARGUMENT', 'secret key of another DID')
  try {
    kyc({ claims: { kycStatus: 'maybe' } })
  } catch (err) {
    t.ok(/kycStatus/.test((err as Error).message), 'the reason names the field')
  }

  const { proof, ...unsecured } = kyc() as Json
  t.ok(proof)
  unsecured.credentialSubject.kycStatus = 'excellent'
  const resignedAsAttacker = signAs({ ...unsecured, issuer: ATTACKER.did }, ATTACKER, { proofPurpose: 'assertionMethod', created: isoSeconds(NOW) })
  const r1 = await verifyCredential(resignedAsAttacker, { now: NOW })
  t.alike(codes(r1), ['SCHEMA_INVALID'], 'a validly signed credential with a bad subject -> SCHEMA_INVALID')
  t.ok(/kycStatus/.test(r1.problems[0].message), 'message names the field')

  const resignedKeepingIssuer = signAs(unsecured, ATTACKER, { proofPurpose: 'assertionMethod', created: isoSeconds(NOW) })
  t.alike(codes(await verifyCredential(resignedKeepingIssuer, { now: NOW })), ['VERIFICATION_METHOD_NOT_ISSUER'], 'another key signing for the issuer -> VERIFICATION_METHOD_NOT_ISSUER')
})

test('each failure has its own code', async (t) => {
  const seen = new Map<string, VerificationResult>()
  const expect = async (name: string, vc: unknown, opts: Parameters<typeof verifyCredential>[1], code: string) => {
    const r = await verifyCredential(vc, opts)
    t.alike(codes(r), [code], `${name} -> ${code}`)
    t.is(r.verified, false)
    t.ok(r.problems.every((p) => p.message.length > 10), 'with a message in words')
    seen.set(code, r)
    return r
  }
  const expired = await expect('expired', kyc({ validUntil: isoSeconds(NOW + DAY) }), { now: NOW + 2 * DAY }, 'EXPIRED')
  t.is(expired.problems[0].message, 'the credential expired on 2026-11-22T10:00:00Z')
  t.ok((await verifyCredential(kyc({ validUntil: isoSeconds(NOW + DAY) }), { now: NOW + DAY - 1000 })).verified, 'valid until the last second')
  await expect('not yet valid', kyc({ validFrom: isoSeconds(NOW + DAY) }), { now: NOW }, 'NOT_YET_VALID')

  const listId = 'https://issuer.example/status/1'
  const list = statusListCredential({ issuer: ISSUER, id: listId, encodedList: await encodeStatusList([42]), now: NOW })
  const checkStatus = (entry: Parameters<typeof checkStatusAgainst>[1], vc: VerifiableCredential) => checkStatusAgainst(list, entry, vc.issuer, NOW)
  await expect('revoked', kyc({ credentialStatus: statusEntry(listId, 42) }), { now: NOW, checkStatus }, 'REVOKED')
  t.ok((await verifyCredential(kyc({ credentialStatus: statusEntry(listId, 43) }), { now: NOW, checkStatus })).verified, 'an unrevoked entry verifies')
  t.ok((await verifyCredential(kyc({ credentialStatus: statusEntry(listId, 42) }), { now: NOW })).verified, 'no status callback -> status not checked')
  await expect('status unavailable', kyc({ credentialStatus: statusEntry(listId, 42) }), { now: NOW, checkStatus: async () => ({ error: 'list server down' }) }, 'STATUS_UNAVAILABLE')
  await expect('status callback throws', kyc({ credentialStatus: statusEntry(listId, 42) }), { now: NOW, checkStatus: async () => { throw new Error('boom') } }, 'STATUS_UNAVAILABLE')
  await expect('status list of another issuer', kyc({ credentialStatus: statusEntry(listId, 1) }), {
    now: NOW,
    checkStatus: (entry, vc) => checkStatusAgainst(statusListCredential({ issuer: ATTACKER, id: listId, encodedList: list.credentialSubject.encodedList as string, now: NOW }), entry, vc.issuer, NOW)
  }, 'STATUS_UNAVAILABLE')

  const { proof: _p, ...unsecured } = kyc() as Json
  const forAuth = signAs(unsecured, ISSUER, { proofPurpose: 'authentication', created: isoSeconds(NOW) })
  await expect('wrong proof purpose', forAuth, { now: NOW }, 'WRONG_PROOF_PURPOSE')
  t.ok((await verifyCredential(forAuth, { now: NOW, proofPurpose: 'authentication' })).verified, 'the purpose the caller asks for is accepted')

  const untrusted = await expect('untrusted issuer', kyc(), { now: NOW, trustedIssuers: () => false }, 'UNTRUSTED_ISSUER')
  t.is(untrusted.problems[0].message, `issuer ${ISSUER.did} is not trusted for KycCredential by this book`)
  await expect('wrong subject', kyc(), { now: NOW, expectedSubject: STRANGER.did }, 'WRONG_SUBJECT')
  await expect('verification method not issuer', signAs({ ...unsecured, issuer: STRANGER.did }, ISSUER, { proofPurpose: 'assertionMethod', created: isoSeconds(NOW) }), { now: NOW }, 'VERIFICATION_METHOD_NOT_ISSUER')

  const tampered = clone(kyc()) as Json
  tampered.credentialSubject.kycStatus = 'failed'
  await expect('tampered', tampered, { now: NOW }, 'PROOF_INVALID')
  const noProof = clone(kyc()) as Json
  delete noProof.proof
  await expect('no proof', noProof, { now: NOW }, 'PROOF_MISSING')
  const otherSuite = clone(kyc()) as Json
  otherSuite.proof.cryptosuite = 'eddsa-rdfc-2022'
  await expect('other cryptosuite', otherSuite, { now: NOW }, 'UNSUPPORTED_CRYPTOSUITE')
  const withExpiry = addProof(unsecured, { verificationMethod: verificationMethodOf(ISSUER.did), proofPurpose: 'assertionMethod', created: isoSeconds(NOW), expires: isoSeconds(NOW + DAY) }, ISSUER.secretKey)
  t.ok((await verifyCredential(withExpiry, { now: NOW })).verified, 'proof within its expiry')
  await expect('proof expired', withExpiry, { now: NOW + 2 * DAY }, 'PROOF_EXPIRED')

  t.is(new Set(['EXPIRED', 'NOT_YET_VALID', 'REVOKED', 'WRONG_PROOF_PURPOSE', 'UNTRUSTED_ISSUER', 'WRONG_SUBJECT', 'VERIFICATION_METHOD_NOT_ISSUER'].filter((c) => seen.has(c))).size, 7, 'seven distinct codes seen')

  const several = await verifyCredential(kyc({ validUntil: isoSeconds(NOW + DAY) }), { now: NOW + 2 * DAY, expectedSubject: STRANGER.did, trustedIssuers: () => false })
  t.alike(codes(several), ['EXPIRED', 'WRONG_SUBJECT', 'UNTRUSTED_ISSUER'], 'problems are collected, not just the first')
})

test('malformed credentials -> MALFORMED, never a throw', async (t) => {
  const good = kyc()
  const variants: Array<[string, unknown]> = [
    ['null', null], ['string', 'vc'], ['array', [good]], ['empty object', {}],
    ['no @context', { ...good, '@context': undefined }],
    ['v1 context first', { ...good, '@context': ['https://www.w3.org/2018/credentials/v1'] }],
    ['type without VerifiableCredential', { ...good, type: ['KycCredential'] }],
    ['type a string', { ...good, type: 'VerifiableCredential' }],
    ['no issuer', { ...good, issuer: undefined }],
    ['subject array', { ...good, credentialSubject: [good.credentialSubject] }],
    ['validFrom not a date', { ...good, validFrom: 'today' }],
    ['validUntil without zone', { ...good, validUntil: '2027-01-01T00:00:00' }],
    ['bad credentialStatus', { ...good, credentialStatus: { type: 'StatusList2021Entry' } }],
    ['proof set', { ...good, proof: [good.proof, good.proof] }],
    ['verificationMethod without fragment', { ...good, proof: { ...good.proof, verificationMethod: ISSUER.did } }]
  ]
  for (const [name, vc] of variants) {
    const r = await verifyCredential(JSON.parse(JSON.stringify(vc) ?? 'null'), { now: NOW })
    t.ok(!r.verified && codes(r).includes('MALFORMED'), `${name} -> MALFORMED`)
  }
  const objectIssuer = await verifyCredential({ ...good, issuer: { id: ISSUER.did } }, { now: NOW })
  t.alike(codes(objectIssuer), ['PROOF_INVALID'], 'issuer as {id} is understood (and the change breaks the signature)')
})

test('presentations: verify, and each binding failure has its code', async (t) => {
  const creds = [kyc(), issueCredential({ issuer: ISSUER, type: 'IncomeCredential', subject: HOLDER.did, claims: SAMPLE_CLAIMS.IncomeCredential, now: NOW })]
  const challenge = 'c0ffee'.repeat(4)
  const domain = 'ab'.repeat(32)
  const vp = createPresentation({ holder: HOLDER, credentials: creds, challenge, domain, now: NOW })
  t.is(vp.proof.proofPurpose, 'authentication')
  t.is(vp.proof.challenge, challenge)
  t.is(vp.proof.domain, domain)
  t.is(vp.holder, HOLDER.did)

  const ok = await verifyPresentation(clone(vp), { challenge, domain, now: NOW, trustedIssuers: (_t, iss) => iss === ISSUER.did })
  t.ok(ok.verified, 'presentation verifies')
  t.is(ok.holder, HOLDER.did)
  t.alike(ok.problems, [])
  t.alike(ok.credentials.map((c) => [c.verified, c.type]), [[true, 'KycCredential'], [true, 'IncomeCredential']])

  t.alike(codes(await verifyPresentation(vp, { challenge: 'other', domain, now: NOW })), ['CHALLENGE_MISMATCH'], 'wrong challenge')
  t.alike(codes(await verifyPresentation(vp, { challenge, domain: 'cd'.repeat(32), now: NOW })), ['DOMAIN_MISMATCH'], 'wrong domain')

  const { proof: _p, ...unsecured } = clone(vp) as Json
  const impostor = signAs({ ...unsecured, holder: STRANGER.did }, HOLDER, { proofPurpose: 'authentication', created: isoSeconds(NOW), challenge, domain })
  const mismatch = await verifyPresentation(impostor, { challenge, domain, now: NOW })
  t.alike(codes(mismatch), ['HOLDER_MISMATCH'], 'signed by someone other than the holder')
  t.absent(mismatch.verified)
  const asAssertion = signAs(unsecured, HOLDER, { proofPurpose: 'assertionMethod', created: isoSeconds(NOW), challenge, domain })
  t.alike(codes(await verifyPresentation(asAssertion, { challenge, domain, now: NOW })), ['WRONG_PROOF_PURPOSE'], 'presentation proof must be for authentication')

  const aboutStranger = issueCredential({ issuer: ISSUER, type: 'KycCredential', subject: STRANGER.did, claims: { kycStatus: 'verified' }, now: NOW })
  const borrowed = await verifyPresentation(createPresentation({ holder: HOLDER, credentials: [creds[0], aboutStranger], challenge, domain, now: NOW }), { challenge, domain, now: NOW })
  t.absent(borrowed.verified, 'a credential about someone else fails the presentation')
  t.alike(borrowed.problems, [], 'the presentation itself is fine')
  t.alike(borrowed.credentials.map(codes), [[], ['WRONG_SUBJECT']], 'the borrowed credential carries WRONG_SUBJECT')

  const swapped = clone(vp) as Json
  swapped.verifiableCredential[0].credentialSubject.kycStatus = 'failed'
  t.alike(codes(await verifyPresentation(swapped, { challenge, domain, now: NOW })), ['PROOF_INVALID'], 'changing a credential inside breaks the holder\'s proof')

  const untrusted = await verifyPresentation(vp, { challenge, domain, now: NOW, trustedIssuers: () => false })
  t.absent(untrusted.verified)
  t.alike(untrusted.credentials.map(codes), [['UNTRUSTED_ISSUER'], ['UNTRUSTED_ISSUER']])

  for (const bad of [null, {}, { ...vp, holder: 'did:web:x' }, { ...vp, verifiableCredential: 'x' }, { ...vp, type: ['VerifiableCredential'] }, { ...vp, proof: undefined }]) {
    const r = await verifyPresentation(clone(bad), { challenge, domain, now: NOW })
    t.absent(r.verified, `malformed presentation rejected: ${codes(r).join(',')}`)
  }
  throwsCode(t, () => createPresentation({ holder: HOLDER, credentials: creds, challenge: '', domain, now: NOW }), 'BAD_ARGUMENT', 'empty challenge')
  throwsCode(t, () => createPresentation({ holder: { did: HOLDER.did, secretKey: STRANGER.secretKey }, credentials: creds, challenge, domain, now: NOW }), 'BAD_ARGUMENT', 'holder key mismatch')
})

test('presentationHash is the SHA-256 of the canonical form', (t) => {
  const vp = createPresentation({ holder: HOLDER, credentials: [kyc()], challenge: 'x', domain: 'y', now: NOW })
  const h = presentationHash(vp)
  t.ok(/^[0-9a-f]{64}$/.test(h))
  const reordered = Object.fromEntries(Object.entries(vp).reverse())
  t.is(presentationHash(reordered), h, 'key order does not matter (JCS)')
  t.not(presentationHash({ ...vp, holder: STRANGER.did }), h, 'content does')
  t.is(presentationHash({ b: 1, a: 'é' }), createHash('sha256').update('{"a":"é","b":1}', 'utf8').digest('hex'), 'matches node:crypto over the JCS text')
})

test('attestation: round trip and every mismatch refused with a reason', async (t) => {
  const book = 'ab'.repeat(32)
  const projectId = 'cd'.repeat(16)
  const vp = createPresentation({ holder: HOLDER, credentials: [kyc()], challenge: 'c', domain: book, now: NOW })
  const decision = { applicant: HOLDER.did, book, projectId, eligible: true, reasons: [], presentationHash: presentationHash(vp) }
  const att = issueAttestation({ ...decision, verifier: ISSUER, now: NOW })
  t.alike(att.type, ['VerifiableCredential', 'EligibilityAttestation'])
  t.is(att.issuer, ISSUER.did)
  t.alike(att.credentialSubject, { id: HOLDER.did, book, projectId, eligible: true, reasons: [], presentationHash: decision.presentationHash })
  t.is(att.validUntil, '2026-11-28T10:00:00Z', '7 days by default')

  const expect = { applicant: HOLDER.did, book, projectId, at: NOW + DAY }
  t.alike(await checkAttestation(clone(att), expect), { ok: true, verifier: ISSUER.did, eligible: true, reasons: [] }, 'round trip')
  const no = issueAttestation({ ...decision, eligible: false, reasons: ['income below 3,000.00 EUR'], verifier: ISSUER, now: NOW, ttlMs: DAY })
  t.alike(await checkAttestation(no, { ...expect, at: NOW + 1000 }), { ok: true, verifier: ISSUER.did, eligible: false, reasons: ['income below 3,000.00 EUR'] }, 'an ineligible decision is reported, with reasons')

  const refused = async (name: string, a: unknown, e: typeof expect, pattern: RegExp) => {
    const r = await checkAttestation(a, e)
    t.ok(!r.ok && pattern.test(r.reason), `${name}: ${r.ok ? 'accepted!' : r.reason}`)
  }
  await refused('wrong book', att, { ...expect, book: 'ef'.repeat(32) }, /another book/)
  await refused('wrong project', att, { ...expect, projectId: 'ef'.repeat(16) }, /another project/)
  await refused('wrong applicant', att, { ...expect, applicant: STRANGER.did }, /not the applicant/)
  await refused('expired', att, { ...expect, at: NOW + 8 * DAY }, /expired on 2026-11-28T10:00:00Z/)
  await refused('before it was issued', att, { ...expect, at: NOW - DAY }, /not valid until/)
  const forged = clone(no) as Json
  forged.credentialSubject.eligible = true
  forged.credentialSubject.reasons = []
  await refused('forged decision', forged, { ...expect, at: NOW + 1000 }, /signature is not valid/)
  const { proof: _p, ...unsecured } = clone(no) as Json
  await refused('re-signed by another key', signAs(unsecured, ATTACKER, { proofPurpose: 'assertionMethod', created: isoSeconds(NOW) }), expect, /made by/)
  await refused('extra subject field', signAs({ ...unsecured, credentialSubject: { ...unsecured.credentialSubject, limit: 1 } }, ISSUER, { proofPurpose: 'assertionMethod', created: isoSeconds(NOW) }), { ...expect, at: NOW + 1000 }, /unexpected field limit/)
  const { validUntil: _v, ...forever } = unsecured
  await refused('no expiry', signAs(forever, ISSUER, { proofPurpose: 'assertionMethod', created: isoSeconds(NOW) }), expect, /no expiry/)
  await refused('not an attestation', kyc(), expect, /not an eligibility attestation/)
  await refused('garbage', 'attestation', expect, /not a JSON object/)

  throwsCode(t, () => issueAttestation({ ...decision, book: 'AB'.repeat(32), verifier: ISSUER, now: NOW }), 'BAD_ARGUMENT', 'book not lowercase hex')
  throwsCode(t, () => issueAttestation({ ...decision, applicant: 'did:web:x' as DidKey, verifier: ISSUER, now: NOW }), 'BAD_ARGUMENT', 'applicant not a did:key')
  throwsCode(t, () => issueAttestation({ ...decision, presentationHash: 'x', verifier: ISSUER, now: NOW }), 'BAD_ARGUMENT', 'bad presentationHash')
  throwsCode(t, () => issueAttestation({ ...decision, verifier: ISSUER, now: NOW, ttlMs: 0 }), 'BAD_ARGUMENT', 'zero ttl')
})
