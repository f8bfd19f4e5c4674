/**
 * Eligibility attestations: a verifier's signed decision that an applicant does (or does not)
 * meet a project's criteria, given the presentation it judged. It is a VCDM 2.0 credential of
 * type EligibilityAttestation about the applicant, issued by the verifier's did:key, short-lived.
 *
 * A loan application carries one, and the book's deterministic apply checks it with
 * {@link checkAttestation}: pure, no clock (the op's timestamp stands in), no I/O, no revocation
 * lookup (the short validity is what bounds a stale decision).
 */
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'
import { isDidKey } from '../identity/did-key.ts'
import type { DidKey } from '../identity/did-key.ts'
import { isPlainObject, jcs, sha256 } from './eddsa-jcs-2022.ts'
import { issueCredential, isoSeconds, verifyCredential } from './vc.ts'
import type { Signer, VerifiableCredential } from './vc.ts'

/** What the verifier decided, about whom, for which book and project, from which presentation. */
export interface EligibilityDecision {
  applicant: DidKey
  /** the book's key, 64 lowercase hex */
  book: string
  /** 32 lowercase hex */
  projectId: string
  eligible: boolean
  /** plain-words reasons, e.g. the unmet criteria */
  reasons: string[]
  /** {@link presentationHash} of the judged presentation, 64 lowercase hex */
  presentationHash: string
  /** {@link criteriaHash} of the rules the decision was judged against, 64 lowercase hex */
  criteriaHash?: string
}

/** The credential type of an attestation (next to VerifiableCredential). */
export const ATTESTATION_TYPE = 'EligibilityAttestation'
/** Default validity of an attestation: 7 days, in ms. */
export const DEFAULT_ATTESTATION_TTL_MS = 7 * 24 * 60 * 60 * 1000
const MAX_REASONS = 32
const MAX_REASON_CHARS = 500
const SUBJECT_KEYS = ['id', 'book', 'projectId', 'eligible', 'reasons', 'presentationHash', 'criteriaHash']

/**
 * The fingerprint of a project's eligibility rules, so an attestation names the criteria it was
 * judged against: a decision made before the originator tightened the rules does not pass for one
 * made under the new rules.
 *
 * @param rules the project's `terms.eligibility` array (any JSON array).
 * @returns lowercase hex SHA-256 (libsodium crypto_hash_sha256) of the RFC 8785 (JCS) canonical
 *   JSON of `rules`, 64 characters.
 * @throws GrowrError BAD_ARGUMENT if `rules` is not an array or not JSON (e.g. holds NaN or a cycle).
 */
export function criteriaHash (rules: unknown[]): string {
  if (!Array.isArray(rules)) throw GrowrError.BAD_ARGUMENT('eligibility rules must be an array')
  return b4a.toString(sha256(jcs(rules)), 'hex')
}

/**
 * Sign an eligibility decision.
 *
 * @param input the decision, the verifier (did:key + 64-byte secret key), the clock (ms) and
 *   the validity in ms (default 7 days).
 * @returns a credential of type `['VerifiableCredential', 'EligibilityAttestation']` issued by the
 *   verifier, subject `{ id: applicant, book, projectId, eligible, reasons, presentationHash }`
 *   plus `criteriaHash` when the decision carries one,
 *   valid from `now` (to the second) until `now + ttlMs`.
 * @throws GrowrError BAD_ARGUMENT if a field is malformed (the message names it), ttlMs is not a
 *   positive integer, or the verifier's secret key does not match its DID.
 */
export function issueAttestation (input: EligibilityDecision & { verifier: Signer; now: number; ttlMs?: number }): VerifiableCredential {
  const { applicant, book, projectId, eligible, reasons, presentationHash, verifier, now } = input
  const ttlMs = input.ttlMs ?? DEFAULT_ATTESTATION_TTL_MS
  if (!Number.isInteger(ttlMs) || ttlMs < 1000) throw GrowrError.BAD_ARGUMENT('ttlMs must be an integer of at least 1000')
  const claims: Record<string, unknown> = { book, projectId, eligible, reasons: Array.isArray(reasons) ? [...reasons] : reasons, presentationHash }
  if (input.criteriaHash !== undefined) claims.criteriaHash = input.criteriaHash
  const reason = subjectProblem({ id: applicant, ...claims })
  if (reason) throw GrowrError.BAD_ARGUMENT(reason)
  return issueCredential({
    issuer: verifier,
    type: ATTESTATION_TYPE,
    subject: applicant,
    claims,
    now,
    validUntil: isoSeconds(Math.floor(now / 1000) * 1000 + ttlMs)
  })
}

/**
 * Check an attestation inside the deterministic apply: proof (the issuer must be a did:key and
 * have signed it), validity window at `expect.at`, subject structure, and that it is about this
 * applicant, book and project. Who may act as a verifier is the caller's rule.
 *
 * @param att the attestation, as carried by the op.
 * @param expect the applicant DID, book key, project id, and the op's timestamp (ms); with
 *   `criteriaHash` ({@link criteriaHash} of the project's current rules) the attestation must have
 *   been judged against exactly those rules (one without a criteriaHash is refused too).
 * @returns `{ ok: true, verifier, eligible, reasons }` or `{ ok: false, reason }` in plain words;
 *   a criteria mismatch's reason starts with 'judged against other criteria'. Never throws.
 */
export async function checkAttestation (att: unknown, expect: { applicant: string; book: string; projectId: string; at: number; criteriaHash?: string }): Promise<{ ok: true; verifier: DidKey; eligible: boolean; reasons: string[] } | { ok: false; reason: string }> {
  try {
    if (!isPlainObject(att)) return { ok: false, reason: 'the attestation is not a JSON object' }
    if (!Array.isArray(att.type) || !att.type.includes(ATTESTATION_TYPE)) return { ok: false, reason: 'the credential is not an eligibility attestation' }
    if (!isDidKey(att.issuer)) return { ok: false, reason: 'the attestation\'s issuer is not a did:key' }
    if (att.validUntil === undefined) return { ok: false, reason: 'the attestation has no expiry (validUntil)' }
    const checked = await verifyCredential(att, { now: expect.at })
    if (!checked.verified) return { ok: false, reason: checked.problems.map((p) => p.message).join('; ') }
    const subject = att.credentialSubject as Record<string, unknown>
    const reason = subjectProblem(subject)
    if (reason) return { ok: false, reason }
    if (subject.id !== expect.applicant) return { ok: false, reason: `the attestation is about ${String(subject.id)}, not the applicant ${expect.applicant}` }
    if (subject.book !== expect.book) return { ok: false, reason: 'the attestation was made for another book' }
    if (subject.projectId !== expect.projectId) return { ok: false, reason: 'the attestation was made for another project' }
    if (expect.criteriaHash !== undefined && subject.criteriaHash !== expect.criteriaHash) {
      return { ok: false, reason: `judged against other criteria than the project's current ones (${subject.criteriaHash === undefined ? 'the attestation names none' : 'the project\'s rules changed since'}): ask the verifier again` }
    }
    return { ok: true, verifier: att.issuer, eligible: subject.eligible as boolean, reasons: [...(subject.reasons as string[])] }
  } catch (err) {
    return { ok: false, reason: `the attestation cannot be checked: ${(err as Error)?.message ?? String(err)}` }
  }
}

// Hand-written schema check (the subject is small and fixed): exactly these keys, each in shape.
function subjectProblem (s: Record<string, unknown>): string | null {
  if (!isPlainObject(s)) return 'the attestation subject is not an object'
  for (const key of Object.keys(s)) if (!SUBJECT_KEYS.includes(key)) return `the attestation subject has an unexpected field ${key.slice(0, 60)}`
  if (!isDidKey(s.id)) return 'the attestation subject (applicant) is not a did:key'
  if (typeof s.book !== 'string' || !/^[0-9a-f]{64}$/.test(s.book)) return 'the attestation\'s book is not 64 lowercase hex characters'
  if (typeof s.projectId !== 'string' || !/^[0-9a-f]{32}$/.test(s.projectId)) return 'the attestation\'s projectId is not 32 lowercase hex characters'
  if (typeof s.eligible !== 'boolean') return 'the attestation does not say whether the applicant is eligible'
  if (!Array.isArray(s.reasons) || s.reasons.length > MAX_REASONS || !s.reasons.every((r) => typeof r === 'string' && r.length <= MAX_REASON_CHARS)) {
    return `the attestation's reasons are not a list of at most ${MAX_REASONS} short texts`
  }
  if (typeof s.presentationHash !== 'string' || !/^[0-9a-f]{64}$/.test(s.presentationHash)) return 'the attestation\'s presentationHash is not 64 lowercase hex characters'
  if (s.criteriaHash !== undefined && (typeof s.criteriaHash !== 'string' || !/^[0-9a-f]{64}$/.test(s.criteriaHash))) return 'the attestation\'s criteriaHash is not 64 lowercase hex characters'
  return null
}
