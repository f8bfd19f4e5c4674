/**
 * A borrower's consent to credit-exposure queries: a W3C Verifiable Credential (VCDM 2.0,
 * eddsa-jcs-2022) the borrower issues about herself, naming the one organization that may ask.
 *
 *   type: ['VerifiableCredential', 'CreditExposureConsent']
 *   issuer: the borrower's did:key
 *   credentialSubject: { id: the asking organization's DID, subject: the borrower's DID (= issuer),
 *                        purpose: 1..200 characters, scope?: [DIDs of the organizations that may answer] }
 *   validFrom, validUntil: at most MAX_CONSENT_DAYS apart (a consent must end)
 *   credentialStatus: a BitstringStatusListEntry on the borrower's own list (a consent must be revocable)
 *
 * The grant's subject (`credentialSubject.id`) is the asker, because the grant is a statement
 * about what the asker may do; `subject` repeats the issuer so that a grant cannot be read as
 * being about someone else.
 *
 * A revocation is also announced as a signed notice (Ed25519 by the borrower, version 1):
 *   { v: 1, type: 'CreditExposureConsentRevocation', grant, subject, at }  + signature over
 *   "growr/consent-revocation/v1" 0x00 || JCS(notice without signature)
 * so that nodes that hear it refuse at once instead of waiting for the status list to be re-read.
 *
 * Pure functions; the status check is a caller-supplied callback. Verifiers never throw.
 */
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'
import { isDidKey, didToPublicKey, type DidKey } from '../identity/did-key.ts'
import { sign, verify } from '../identity/keys.ts'
import { jcs, isPlainObject } from '../credentials/eddsa-jcs-2022.ts'
import { GROWR_CONTEXTS, isoSeconds, parseDateTimeStamp, randomUrnUuid, signAs, verifyCredential, type Signer, type StatusCheck, type VerifiableCredential } from '../credentials/vc.ts'
import type { BitstringStatusListEntry } from '../credentials/bitstring-status-list.ts'

/** The credential type of a consent. */
export const CONSENT_TYPE = 'CreditExposureConsent'
/** Longest stated purpose, characters. */
export const MAX_PURPOSE_CHARS = 200
/** Longest a consent may last, days. */
export const MAX_CONSENT_DAYS = 90
/** Most organizations a consent's scope may name. */
export const MAX_SCOPE = 64
const DAY_MS = 86_400_000
const REVOCATION_DOMAIN = b4a.from('growr/consent-revocation/v1\0')
const MAX_ID_CHARS = 200

/** A consent credential as issued by {@link issueConsent}. */
export type ConsentCredential = VerifiableCredential & {
  credentialSubject: { id: DidKey; subject: DidKey; purpose: string; scope?: DidKey[] }
  validUntil: string
  credentialStatus: BitstringStatusListEntry
}

/** What a checked consent says. */
export interface ConsentInfo {
  id: string
  /** the borrower (issuer) */
  subject: DidKey
  /** the organization allowed to ask */
  asker: DidKey
  purpose: string
  /** organizations allowed to answer; null: any certified originator */
  scope: DidKey[] | null
  validFrom: string
  validUntil: string
}

/** Outcome of {@link checkConsent}: the consent, or why it does not hold, in plain words. */
export type ConsentCheck = { ok: true; consent: ConsentInfo } | { ok: false; reason: string }

/**
 * Issues a consent as the borrower.
 *
 * @param input.borrower the borrower's did:key and 64-byte secret key (she signs)
 * @param input.asker the organization that may ask (a did:key)
 * @param input.purpose why it may ask, 1..200 characters (shown to every answering node's log)
 * @param input.days how long the consent lasts, a whole number 1..90
 * @param input.scope organizations that may answer (did:keys, at most 64); absent: any certified originator
 * @param input.status the entry allocated on the borrower's own status list (StatusRegistry.allocate)
 * @param input.now the clock, ms since the epoch
 * @returns the signed consent credential
 * @throws BAD_ARGUMENT for a missing or malformed field, a duration out of range, or a signer mismatch
 */
export function issueConsent (input: { borrower: Signer; asker: string; purpose: string; days: number; scope?: string[]; status: BitstringStatusListEntry; now: number; id?: string }): ConsentCredential {
  const { borrower, asker, purpose, days, scope, status, now } = input
  checkConsentInput(input)
  if (!status || status.type !== 'BitstringStatusListEntry') throw GrowrError.BAD_ARGUMENT('a consent must carry a status entry on the borrower\'s list, so that it can be revoked')
  const validFrom = isoSeconds(now)
  const validUntil = isoSeconds(now + days * DAY_MS)
  const credentialSubject: Record<string, unknown> = { id: asker, subject: borrower.did, purpose }
  if (scope !== undefined) credentialSubject.scope = [...new Set(scope)].sort()
  const unsecured = {
    '@context': GROWR_CONTEXTS,
    id: input.id ?? randomUrnUuid(),
    type: ['VerifiableCredential', CONSENT_TYPE],
    issuer: borrower.did,
    validFrom,
    validUntil,
    credentialSubject,
    credentialStatus: status
  }
  return signAs<ConsentCredential>(unsecured, borrower, { proofPurpose: 'assertionMethod', created: validFrom })
}

/**
 * The checks {@link issueConsent} makes on its input, before any status bit is spent on it.
 * @throws BAD_ARGUMENT naming what is wrong: the borrower or asker not a did:key, consent to
 *   oneself, a purpose missing or over 200 characters, days not a whole number 1..90, a bad scope
 */
export function checkConsentInput (input: { borrower: Signer; asker: string; purpose: string; days: number; scope?: string[] }): void {
  const { borrower, asker, purpose, days, scope } = input
  if (!borrower || !isDidKey(borrower.did)) throw GrowrError.BAD_ARGUMENT('the borrower must be a did:key')
  if (!isDidKey(asker)) throw GrowrError.BAD_ARGUMENT('a consent names the asking organization by its did:key')
  if (asker === borrower.did) throw GrowrError.BAD_ARGUMENT('a consent is given to another organization, not to oneself')
  const why = purposeProblem(purpose)
  if (why) throw GrowrError.BAD_ARGUMENT(why)
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_CONSENT_DAYS) throw GrowrError.BAD_ARGUMENT(`a consent lasts 1..${MAX_CONSENT_DAYS} whole days`)
  if (scope !== undefined) {
    const bad = scopeProblem(scope)
    if (bad) throw GrowrError.BAD_ARGUMENT(bad)
  }
}

/**
 * Checks a consent for one query. Never throws.
 *
 * Order: the credential itself (shape, proof by its issuer, validity window at `now`), then the
 * consent's own rules (type, subject = issuer, asker, purpose, at most 90 days, status entry
 * present, scope), then a revocation heard (`heardRevoked`), and last the borrower's status list
 * (`checkStatus`), so that a forged or foreign grant makes this node fetch nothing.
 *
 * @param vc the grant as presented (untrusted)
 * @param expect.asker the DID asking (the authenticated peer): the grant must name it
 * @param expect.answerer this node's DID, checked against the grant's scope when it has one
 * @param expect.subject when given, the borrower the grant must be from
 * @param expect.now the checking clock, ms
 * @param expect.heardRevoked whether a revocation of (borrower, grant id) was heard
 * @param expect.checkStatus the borrower's status list check (StatusResolver.check); absent: not checked
 * @returns the consent, or why it does not hold
 */
export async function checkConsent (vc: unknown, expect: { asker?: string; answerer?: string; subject?: string; now: number; heardRevoked?: (subject: string, id: string) => boolean | Promise<boolean>; checkStatus?: StatusCheck }): Promise<ConsentCheck> {
  try {
    if (!isPlainObject(vc)) return { ok: false, reason: 'the consent is not a credential' }
    const shape = consentShape(vc)
    if ('reason' in shape) return { ok: false, reason: shape.reason }
    const c = shape.consent
    if (expect.subject !== undefined && c.subject !== expect.subject) return { ok: false, reason: 'the consent is from another borrower' }
    if (expect.asker !== undefined && c.asker !== expect.asker) return { ok: false, reason: 'the consent names another organization as the one that may ask' }
    if (expect.answerer !== undefined && c.scope !== null && !c.scope.includes(expect.answerer as DidKey)) return { ok: false, reason: 'the consent does not let this organization answer' }
    // signature and dates first, without the status: a forged grant must not make us fetch anything
    const checked = await verifyCredential(vc, { now: expect.now })
    if (!checked.verified) return { ok: false, reason: checked.problems.map((p) => p.message).join('; ') }
    if (expect.heardRevoked && await expect.heardRevoked(c.subject, c.id)) return { ok: false, reason: 'the borrower revoked this consent' }
    if (expect.checkStatus) {
      const status = await verifyCredential(vc, { now: expect.now, checkStatus: expect.checkStatus })
      if (!status.verified) {
        const revoked = status.problems.some((p) => p.code === 'REVOKED')
        return { ok: false, reason: revoked ? 'the borrower revoked this consent' : status.problems.map((p) => p.message).join('; ') }
      }
    }
    return { ok: true, consent: c }
  } catch (err) {
    return { ok: false, reason: `the consent could not be checked: ${String((err as Error)?.message ?? err).slice(0, 200)}` }
  }
}

/** The consent's own rules on an unchecked credential (no signature check). Never throws. */
function consentShape (vc: Record<string, unknown>): { consent: ConsentInfo } | { reason: string } {
  const types = vc.type
  if (!Array.isArray(types) || !types.includes(CONSENT_TYPE)) return { reason: `the credential is not a ${CONSENT_TYPE}` }
  if (typeof vc.id !== 'string' || vc.id.length === 0 || vc.id.length > MAX_ID_CHARS) return { reason: 'the consent has no usable id' }
  const issuer = vc.issuer
  if (!isDidKey(issuer)) return { reason: 'the consent\'s issuer is not a did:key' }
  const s = vc.credentialSubject
  if (!isPlainObject(s)) return { reason: 'the consent has no credentialSubject' }
  if (!isDidKey(s.id)) return { reason: 'the consent names no asking organization' }
  if (s.subject !== issuer) return { reason: 'the consent is not issued by the borrower it is about' }
  const why = purposeProblem(s.purpose)
  if (why) return { reason: why }
  let scope: DidKey[] | null = null
  if (s.scope !== undefined) {
    const bad = scopeProblem(s.scope)
    if (bad) return { reason: bad }
    scope = s.scope as DidKey[]
  }
  const from = parseDateTimeStamp(vc.validFrom)
  const until = parseDateTimeStamp(vc.validUntil)
  if (from === null || until === null) return { reason: 'a consent states when it starts and when it ends' }
  if (until - from > MAX_CONSENT_DAYS * DAY_MS) return { reason: `a consent lasts at most ${MAX_CONSENT_DAYS} days` }
  if (!isPlainObject(vc.credentialStatus) || vc.credentialStatus.statusPurpose !== 'revocation') return { reason: 'the consent carries no revocation status: it could never be withdrawn' }
  return { consent: { id: vc.id, subject: issuer, asker: s.id, purpose: s.purpose as string, scope, validFrom: vc.validFrom as string, validUntil: vc.validUntil as string } }
}

function purposeProblem (purpose: unknown): string | null {
  if (typeof purpose !== 'string' || purpose.trim().length === 0) return 'a consent states its purpose'
  if (purpose.length > MAX_PURPOSE_CHARS) return `a consent's purpose is at most ${MAX_PURPOSE_CHARS} characters`
  return null
}

function scopeProblem (scope: unknown): string | null {
  if (!Array.isArray(scope) || scope.length === 0 || scope.length > MAX_SCOPE || !scope.every(isDidKey)) {
    return `a consent's scope lists 1..${MAX_SCOPE} organizations by did:key`
  }
  return null
}

/** A signed announcement that a borrower revoked one of her consents. */
export interface RevocationNotice {
  v: 1
  type: 'CreditExposureConsentRevocation'
  /** the consent's id */
  grant: string
  /** the borrower */
  subject: DidKey
  /** the borrower's clock, ms */
  at: number
  /** Ed25519 by `subject`, 128 hex */
  signature: string
}

function noticeMessage (n: Omit<RevocationNotice, 'signature'>): Uint8Array {
  return b4a.concat([REVOCATION_DOMAIN, jcs({ v: n.v, type: n.type, grant: n.grant, subject: n.subject, at: n.at })])
}

/**
 * Signs the notice that the borrower revoked consent `grant`.
 * @param borrower her did:key and 64-byte secret key
 * @param grant the consent's id
 * @param at her clock, ms
 * @throws BAD_ARGUMENT for a malformed id or key
 */
export function signRevocation (borrower: Signer, grant: string, at: number): RevocationNotice {
  if (typeof grant !== 'string' || grant.length === 0 || grant.length > MAX_ID_CHARS) throw GrowrError.BAD_ARGUMENT('a consent id is 1..200 characters')
  if (!isDidKey(borrower?.did)) throw GrowrError.BAD_ARGUMENT('the borrower must be a did:key')
  const body = { v: 1 as const, type: 'CreditExposureConsentRevocation' as const, grant, subject: borrower.did, at }
  return { ...body, signature: b4a.toString(sign(noticeMessage(body), borrower.secretKey), 'hex') }
}

/**
 * Checks a revocation notice heard from anyone. Never throws.
 * @returns the borrower and the consent id it revokes, or why the notice does not hold
 */
export function openRevocation (notice: unknown): { ok: true; subject: DidKey; grant: string; at: number } | { ok: false; reason: string } {
  try {
    if (!isPlainObject(notice)) return { ok: false, reason: 'the notice is not an object' }
    const n = notice as Partial<RevocationNotice>
    if (n.v !== 1 || n.type !== 'CreditExposureConsentRevocation') return { ok: false, reason: 'not a consent revocation notice (version 1)' }
    if (!isDidKey(n.subject)) return { ok: false, reason: 'the notice names no borrower' }
    if (typeof n.grant !== 'string' || n.grant.length === 0 || n.grant.length > MAX_ID_CHARS) return { ok: false, reason: 'the notice names no consent' }
    if (!Number.isSafeInteger(n.at) || typeof n.signature !== 'string' || !/^[0-9a-f]{128}$/.test(n.signature)) return { ok: false, reason: 'the notice is malformed' }
    const body = { v: 1 as const, type: n.type, grant: n.grant, subject: n.subject, at: n.at as number }
    if (!verify(noticeMessage(body), b4a.from(n.signature, 'hex'), didToPublicKey(n.subject))) return { ok: false, reason: 'the notice is not signed by the borrower it names' }
    return { ok: true, subject: n.subject, grant: n.grant, at: body.at }
  } catch {
    return { ok: false, reason: 'the notice could not be checked' }
  }
}
