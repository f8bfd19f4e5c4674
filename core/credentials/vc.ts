/**
 * Verifiable Credentials (W3C "Verifiable Credentials Data Model v2.0"), secured with the
 * eddsa-jcs-2022 Data Integrity cryptosuite and issued by did:key issuers.
 *
 * `@context` is checked as a list of URLs and used as a term vocabulary only: Growr does no
 * JSON-LD expansion, which the JCS cryptosuite does not need. Verification returns every problem
 * it finds, each with its own code and plain words, and never throws on bad input.
 * Pure functions (the status check is a caller-supplied callback).
 */
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'
import { isDidKey, multibaseToPublicKey, publicKeyToMultibase, resolveVerificationMethod, didToPublicKey } from '../identity/did-key.ts'
import type { DidKey } from '../identity/did-key.ts'
import { addProof, verifyProof, isPlainObject, PROOF_TYPE, CRYPTOSUITE } from './eddsa-jcs-2022.ts'
import type { DataIntegrityProof } from './eddsa-jcs-2022.ts'
import { checkSubject, credentialTypeOf, isCredentialType } from './catalogue.ts'
import type { CredentialType } from './catalogue.ts'
import type { BitstringStatusListEntry } from './bitstring-status-list.ts'

export type { DataIntegrityProof }

/** The VC Data Model 2.0 base context; it must come first in every `@context`. */
export const VC_V2_CONTEXT = 'https://www.w3.org/ns/credentials/v2'
/** Growr's term vocabulary (a URL naming the terms in catalogue.ts; never fetched). */
export const GROWR_CONTEXT = 'https://growr.example/credentials/v1'
/** `@context` of every credential and presentation Growr makes. */
export const GROWR_CONTEXTS: string[] = [VC_V2_CONTEXT, GROWR_CONTEXT]

/** A secured credential as Growr issues it (verification accepts any VCDM 2.0 JSON). */
export type VerifiableCredential = {
  '@context': string[]
  id: string
  type: string[]
  issuer: string
  validFrom: string
  validUntil?: string
  credentialSubject: Record<string, unknown> & { id: string }
  credentialStatus?: BitstringStatusListEntry
  proof: DataIntegrityProof
  [key: string]: unknown
}

/** The issuing party: its did:key and the matching 64-byte libsodium secret key. */
export interface Signer { did: DidKey; secretKey: Uint8Array }

/** Input of {@link issueCredential}. */
export interface IssueInput {
  issuer: Signer
  type: CredentialType | 'EligibilityAttestation'
  /** the holder's DID, which becomes credentialSubject.id */
  subject: string
  /** credentialSubject fields besides `id` */
  claims: Record<string, unknown>
  /** the issuing clock, ms since the epoch */
  now: number
  validFrom?: string
  validUntil?: string
  /** default `urn:uuid:<random v4>` */
  id?: string
  credentialStatus?: BitstringStatusListEntry
}

/** Why verification failed; each failure kind has its own code, which callers match on. */
export type ProblemCode =
  | 'MALFORMED' | 'UNSUPPORTED_CRYPTOSUITE' | 'PROOF_MISSING' | 'PROOF_INVALID'
  | 'VERIFICATION_METHOD_NOT_ISSUER' | 'WRONG_PROOF_PURPOSE' | 'NOT_YET_VALID' | 'EXPIRED'
  | 'SCHEMA_INVALID' | 'UNTRUSTED_ISSUER' | 'WRONG_SUBJECT' | 'REVOKED' | 'STATUS_UNAVAILABLE' | 'STATUS_STALE'
  | 'DUPLICATE_CREDENTIAL' | 'CHALLENGE_MISMATCH' | 'DOMAIN_MISMATCH' | 'HOLDER_MISMATCH' | 'PROOF_EXPIRED'

/** One reason a credential or presentation is not accepted. */
export interface Problem {
  code: ProblemCode
  /** plain words, e.g. "the credential expired on 2026-01-01T00:00:00Z" */
  message: string
}

/** Outcome of {@link verifyCredential}. */
export interface VerificationResult {
  verified: boolean
  problems: Problem[]
  /** the issuer id when the credential is well-formed enough to name one */
  issuer: string | null
  /** the credential's specific type (a Growr type when it has one), else null */
  type: string | null
}

/**
 * Looks up a credential's status entry; `error` when the list cannot be fetched or trusted, with
 * `code` STATUS_STALE when a list was found but could not be shown to be the issuer's current one.
 */
export type StatusCheck = (entry: BitstringStatusListEntry, vc: VerifiableCredential) => Promise<{ revoked: boolean } | { error: string; code?: 'STATUS_UNAVAILABLE' | 'STATUS_STALE' }>

/** Options of {@link verifyCredential}. */
export interface VerifyOptions {
  /** the verifying clock, ms since the epoch */
  now: number
  /** the issuer's key (bytes or `z6Mk...` multibase) for issuers that are not did:key */
  verificationKey?: Uint8Array | string
  /** default `assertionMethod` */
  proofPurpose?: string
  /** credentialSubject.id must equal this */
  expectedSubject?: string
  /** false rejects the issuer for that credential type */
  trustedIssuers?: (type: string, issuer: string) => boolean
  checkStatus?: StatusCheck
}

const DATE_TIME_STAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/
const MAX_TIME_MS = 253402300799999 // 9999-12-31T23:59:59.999Z, the last four-digit-year instant

/**
 * Parse an XML Schema 1.1 dateTimeStamp (a dateTime with a mandatory time zone), the form
 * VCDM 2.0 requires for validFrom/validUntil.
 * @param s any value.
 * @returns ms since the epoch, or null if `s` is not a valid dateTimeStamp (four-digit years,
 *   no leap seconds, no 24:00:00). Never throws.
 */
export function parseDateTimeStamp (s: unknown): number | null {
  if (typeof s !== 'string' || s.length > 64) return null
  const m = DATE_TIME_STAMP.exec(s)
  if (!m) return null
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number)
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return null
  let offset = 0
  if (m[8] !== 'Z') {
    const oh = Number(m[10])
    const om = Number(m[11])
    if (oh > 14 || om > 59) return null
    offset = (oh * 60 + om) * 60000 * (m[9] === '-' ? -1 : 1)
  }
  const ms = m[7] ? Number((m[7] + '00').slice(0, 3)) : 0
  const date = new Date(0)
  date.setUTCFullYear(y, mo - 1, d) // setUTCFullYear, unlike Date.UTC, does not remap years 0-99
  date.setUTCHours(h, mi, sec, ms)
  return date.getTime() - offset
}

/**
 * Format a clock reading as a dateTimeStamp in UTC without milliseconds, e.g. 2026-11-21T10:00:00Z.
 * @param ms ms since the epoch (truncated to the second).
 * @returns the ISO 8601 string.
 * @throws GrowrError BAD_ARGUMENT if `ms` is not a finite time between 1970 and 9999.
 */
export function isoSeconds (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME_MS) throw GrowrError.BAD_ARGUMENT('time must be ms since the epoch, before the year 10000')
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}

/**
 * The verification method id Growr uses for a did:key: `did:key:z6Mk...#z6Mk...`.
 * @param did a did:key.
 * @returns the DID URL.
 */
export function verificationMethodOf (did: DidKey): string {
  return `${did}#${did.slice('did:key:'.length)}`
}

/**
 * Sign any unsecured credential-shaped document as `signer` (eddsa-jcs-2022, the signer's did:key
 * verification method). The building block of issueCredential, status lists and attestations.
 *
 * @param unsecured the document without a proof.
 * @param signer did:key and matching 64-byte secret key.
 * @param options proofPurpose (e.g. assertionMethod), created (dateTimeStamp), and for
 *   presentations challenge and domain.
 * @returns the secured copy.
 * @throws GrowrError BAD_ARGUMENT if the signer's secret key does not belong to its DID, or
 *   {@link addProof} refuses the input.
 */
export function signAs<T> (unsecured: object, signer: Signer, options: { proofPurpose: string; created: string; challenge?: string; domain?: string }): T {
  checkSigner(signer)
  return addProof(unsecured, { verificationMethod: verificationMethodOf(signer.did), ...options }, signer.secretKey) as T
}

/**
 * Issue a credential (VCDM 2.0, eddsa-jcs-2022, proofPurpose assertionMethod).
 *
 * @param input issuer, type, subject DID, claims, clock (ms) and optional validity, id, status.
 *   Growr catalogue types are checked against their subject schema here; EligibilityAttestation
 *   subjects are checked by attestation.ts (use issueAttestation).
 * @returns the secured credential: `@context` {@link GROWR_CONTEXTS}, type
 *   `['VerifiableCredential', input.type]`, validFrom defaulting to `now` to the second.
 * @throws GrowrError BAD_ARGUMENT if a Growr type's claims fail its schema (the message names the
 *   field), the type is unknown, the subject is not a DID, the dates are malformed or out of
 *   order, or the issuer's secret key does not match its DID.
 */
export function issueCredential (input: IssueInput): VerifiableCredential {
  const { issuer, type, subject, claims, now } = input
  if (!isCredentialType(type) && type !== 'EligibilityAttestation') throw GrowrError.BAD_ARGUMENT(`unknown credential type ${String(type)}`)
  if (typeof subject !== 'string' || !/^did:[a-z0-9]+:\S+$/.test(subject)) throw GrowrError.BAD_ARGUMENT('subject must be a DID')
  if (!isPlainObject(claims)) throw GrowrError.BAD_ARGUMENT('claims must be an object')
  if ('id' in claims) throw GrowrError.BAD_ARGUMENT('claims must not carry id: the subject DID is the id')
  const credentialSubject = { id: subject, ...claims }
  if (isCredentialType(type)) {
    const reason = checkSubject(type, credentialSubject)
    if (reason) throw GrowrError.BAD_ARGUMENT(reason)
  }
  const created = isoSeconds(now)
  const validFrom = input.validFrom ?? created
  const from = parseDateTimeStamp(validFrom)
  if (from === null) throw GrowrError.BAD_ARGUMENT('validFrom must be an XML Schema dateTimeStamp')
  if (input.validUntil !== undefined) {
    const until = parseDateTimeStamp(input.validUntil)
    if (until === null) throw GrowrError.BAD_ARGUMENT('validUntil must be an XML Schema dateTimeStamp')
    if (until <= from) throw GrowrError.BAD_ARGUMENT('validUntil must be after validFrom')
  }
  const id = input.id ?? randomUrnUuid()
  if (typeof id !== 'string' || id === '') throw GrowrError.BAD_ARGUMENT('id must be a non-empty string')
  const unsecured: Record<string, unknown> = {
    '@context': GROWR_CONTEXTS,
    id,
    type: ['VerifiableCredential', type],
    issuer: issuer?.did,
    validFrom
  }
  if (input.validUntil !== undefined) unsecured.validUntil = input.validUntil
  unsecured.credentialSubject = credentialSubject
  if (input.credentialStatus !== undefined) unsecured.credentialStatus = input.credentialStatus
  return signAs<VerifiableCredential>(unsecured, issuer, { proofPurpose: 'assertionMethod', created })
}

/**
 * Verify a credential (VCDM 2.0 verification, eddsa-jcs-2022 proof), in this order: structure
 * (MALFORMED) -> proof present -> cryptosuite -> verification method belongs to the issuer ->
 * proof purpose -> signature (PROOF_INVALID stops here: later checks on forged data mean
 * nothing) -> proof expiry -> validity window -> Growr subject schema -> expected subject ->
 * trusted issuer -> revocation status (only when a `checkStatus` is given, and only for a
 * credential with no problem so far: a credential that already failed fetches nothing).
 *
 * @param vc any value, typically parsed JSON.
 * @param opts the clock (ms) and what the caller expects; see {@link VerifyOptions}.
 * @returns `verified` only when no problem was found; every problem found, each with its code.
 *   Never throws on bad input (a throwing status callback becomes STATUS_UNAVAILABLE).
 */
export async function verifyCredential (vc: unknown, opts: VerifyOptions): Promise<VerificationResult> {
  const problems: Problem[] = []
  const result = (issuer: string | null, type: string | null): VerificationResult => ({ verified: problems.length === 0, problems, issuer, type })
  if (!isPlainObject(vc)) {
    problems.push({ code: 'MALFORMED', message: 'the credential is not a JSON object' })
    return result(null, null)
  }
  const shape = credentialShape(vc, problems)
  if (!shape) return result(null, null)
  const { issuer, type } = shape

  const proof = checkProof(vc, {
    controller: issuer,
    controllerCode: 'VERIFICATION_METHOD_NOT_ISSUER',
    proofPurpose: opts.proofPurpose ?? 'assertionMethod',
    verificationKey: opts.verificationKey,
    now: opts.now,
    what: 'credential'
  }, problems)
  if (!proof) return result(issuer, type)

  const now = opts.now
  const from = vc.validFrom === undefined ? null : parseDateTimeStamp(vc.validFrom)
  const until = vc.validUntil === undefined ? null : parseDateTimeStamp(vc.validUntil)
  if (from !== null && now < from) problems.push({ code: 'NOT_YET_VALID', message: `the credential is not valid until ${String(vc.validFrom)}` })
  if (until !== null && now >= until) problems.push({ code: 'EXPIRED', message: `the credential expired on ${String(vc.validUntil)}` })

  const growrType = credentialTypeOf(vc)
  if (growrType) {
    const reason = checkSubject(growrType, vc.credentialSubject)
    if (reason) problems.push({ code: 'SCHEMA_INVALID', message: reason })
  }
  const subjectId = (vc.credentialSubject as Record<string, unknown>).id
  if (opts.expectedSubject !== undefined && subjectId !== opts.expectedSubject) {
    problems.push({ code: 'WRONG_SUBJECT', message: `the credential is about ${typeof subjectId === 'string' ? subjectId : 'nobody in particular'}, not ${opts.expectedSubject}` })
  }
  if (opts.trustedIssuers && !opts.trustedIssuers(type ?? 'VerifiableCredential', issuer)) {
    problems.push({ code: 'UNTRUSTED_ISSUER', message: `issuer ${issuer} is not trusted for ${type ?? 'VerifiableCredential'} by this book` })
  }
  // the status fetch goes to the network at an address the credential names: a refused credential
  // must not make us open attacker-chosen cores and topics
  if (vc.credentialStatus !== undefined && opts.checkStatus && problems.length === 0) {
    try {
      const status = await opts.checkStatus(vc.credentialStatus as BitstringStatusListEntry, vc as VerifiableCredential)
      if ('error' in status) problems.push({ code: status.code ?? 'STATUS_UNAVAILABLE', message: `the credential's revocation status cannot be checked: ${status.error}` })
      else if (status.revoked) problems.push({ code: 'REVOKED', message: `the issuer ${issuer} revoked this credential` })
    } catch (err) {
      problems.push({ code: 'STATUS_UNAVAILABLE', message: `the credential's revocation status cannot be checked: ${(err as Error)?.message ?? String(err)}` })
    }
  }
  return result(issuer, type)
}

/**
 * Shared proof checks for credentials and presentations: presence, cryptosuite, the verification
 * method's controller, purpose, challenge and domain, signature, proof expiry. Pushes problems.
 *
 * @param doc the secured document.
 * @param expect who must control the key (`controller`, else `controllerCode`), the purpose, and
 *   for presentations the challenge and domain; `verificationKey` overrides did:key resolution.
 * @param problems the list to append to.
 * @returns true when the signature verified (later checks are meaningful), false to stop.
 *   Never throws.
 */
export function checkProof (doc: Record<string, unknown>, expect: {
  controller: string
  controllerCode: 'VERIFICATION_METHOD_NOT_ISSUER' | 'HOLDER_MISMATCH'
  proofPurpose: string
  verificationKey?: Uint8Array | string
  challenge?: string
  domain?: string
  now: number
  what: 'credential' | 'presentation'
}, problems: Problem[]): boolean {
  const { proof } = doc
  if (proof === undefined || proof === null) {
    problems.push({ code: 'PROOF_MISSING', message: `the ${expect.what} has no proof` })
    return false
  }
  if (!isPlainObject(proof)) {
    problems.push({ code: 'MALFORMED', message: 'the proof is not a single JSON object (proof sets are not supported)' })
    return false
  }
  if (proof.type !== PROOF_TYPE || proof.cryptosuite !== CRYPTOSUITE) {
    problems.push({ code: 'UNSUPPORTED_CRYPTOSUITE', message: `only ${PROOF_TYPE} proofs with cryptosuite ${CRYPTOSUITE} are supported` })
    return false
  }
  const vm = proof.verificationMethod
  if (typeof vm !== 'string' || !vm.includes('#')) {
    problems.push({ code: 'MALFORMED', message: 'the proof\'s verificationMethod is not a URL with a #fragment' })
    return false
  }
  const key = keyOf(vm, expect)
  if ('problem' in key) {
    problems.push(key.problem)
    return false
  }
  if (proof.proofPurpose !== expect.proofPurpose) {
    problems.push({ code: 'WRONG_PROOF_PURPOSE', message: `the proof was made for ${typeof proof.proofPurpose === 'string' ? proof.proofPurpose : 'no stated purpose'}, not ${expect.proofPurpose}` })
  }
  if (expect.challenge !== undefined && proof.challenge !== expect.challenge) {
    problems.push({ code: 'CHALLENGE_MISMATCH', message: 'the presentation answers a different challenge (a replay, or a stale request)' })
  }
  if (expect.domain !== undefined && proof.domain !== expect.domain) {
    problems.push({ code: 'DOMAIN_MISMATCH', message: `the presentation was made for ${typeof proof.domain === 'string' ? proof.domain : 'no domain'}, not ${expect.domain}` })
  }
  const checked = verifyProof(doc, key.publicKey)
  if (!checked.verified) {
    problems.push({ code: 'PROOF_INVALID', message: `the ${expect.what}'s signature is not valid: ${checked.reason}` })
    return false
  }
  if (proof.expires !== undefined) {
    const expires = parseDateTimeStamp(proof.expires)
    if (expires === null) problems.push({ code: 'MALFORMED', message: 'the proof\'s expires is not an XML Schema dateTimeStamp' })
    else if (expect.now >= expires) problems.push({ code: 'PROOF_EXPIRED', message: `the ${expect.what}'s proof expired on ${String(proof.expires)}` })
  }
  return true
}

function keyOf (vm: string, expect: { controller: string; controllerCode: ProblemCode; verificationKey?: Uint8Array | string }): { publicKey: Uint8Array } | { problem: Problem } {
  const base = vm.slice(0, vm.indexOf('#'))
  const fragment = vm.slice(vm.indexOf('#') + 1)
  if (expect.verificationKey !== undefined) {
    let publicKey: Uint8Array
    try {
      publicKey = typeof expect.verificationKey === 'string' ? multibaseToPublicKey(expect.verificationKey) : expect.verificationKey
      publicKeyToMultibase(publicKey) // throws unless 32 bytes
    } catch {
      return { problem: { code: 'PROOF_INVALID', message: 'the given verification key is not an Ed25519 public key' } }
    }
    if (base !== expect.controller || (fragment.startsWith('z') && fragment !== publicKeyToMultibase(publicKey))) {
      return { problem: { code: expect.controllerCode, message: `the proof names key ${vm.slice(0, 200)}, which is not ${expect.controller}'s key` } }
    }
    return { publicKey }
  }
  let resolved: { controller: DidKey; publicKey: Uint8Array }
  try {
    resolved = resolveVerificationMethod(vm)
  } catch {
    return { problem: { code: 'PROOF_INVALID', message: `the verification method ${vm.slice(0, 200)} cannot be resolved (only did:key is supported)` } }
  }
  if (resolved.controller !== expect.controller) {
    return { problem: { code: expect.controllerCode, message: `the proof was made by ${resolved.controller}, not by ${expect.controller}` } }
  }
  return { publicKey: resolved.publicKey }
}

function credentialShape (vc: Record<string, unknown>, problems: Problem[]): { issuer: string; type: string | null } | null {
  const before = problems.length
  const bad = (message: string) => problems.push({ code: 'MALFORMED', message })
  const ctx = vc['@context']
  if (!Array.isArray(ctx) || ctx[0] !== VC_V2_CONTEXT) bad(`the credential's @context must be a list starting with ${VC_V2_CONTEXT}`)
  const types = vc.type
  if (!Array.isArray(types) || !types.every((t) => typeof t === 'string') || !types.includes('VerifiableCredential')) {
    bad('the credential\'s type must be a list of strings including VerifiableCredential')
  }
  const issuer = typeof vc.issuer === 'string' ? vc.issuer : isPlainObject(vc.issuer) && typeof vc.issuer.id === 'string' ? vc.issuer.id : null
  if (!issuer) bad('the credential has no issuer')
  if (vc.id !== undefined && typeof vc.id !== 'string') bad('the credential\'s id is not a string')
  if (!isPlainObject(vc.credentialSubject)) bad('the credential\'s credentialSubject is not a single object')
  for (const key of ['validFrom', 'validUntil']) {
    if (vc[key] !== undefined && parseDateTimeStamp(vc[key]) === null) bad(`the credential's ${key} is not an XML Schema dateTimeStamp`)
  }
  if (vc.credentialStatus !== undefined && !isStatusEntry(vc.credentialStatus)) bad('the credential\'s credentialStatus is not a BitstringStatusListEntry')
  if (problems.length > before) return null
  const specific = (types as string[]).find((t) => t !== 'VerifiableCredential')
  return { issuer: issuer as string, type: credentialTypeOf(vc) ?? specific ?? null }
}

function isStatusEntry (v: unknown): v is BitstringStatusListEntry {
  return isPlainObject(v) && v.type === 'BitstringStatusListEntry' && typeof v.statusPurpose === 'string' &&
    typeof v.statusListIndex === 'string' && /^(0|[1-9][0-9]{0,9})$/.test(v.statusListIndex) &&
    typeof v.statusListCredential === 'string'
}

function checkSigner (signer: Signer): void {
  if (!signer || !isDidKey(signer.did)) throw GrowrError.BAD_ARGUMENT('signer.did must be a did:key')
  const sk = signer.secretKey
  if (!(sk instanceof Uint8Array) || sk.byteLength !== 64) throw GrowrError.BAD_ARGUMENT('signer.secretKey must be a 64-byte Ed25519 secret key')
  // libsodium's secret key ends with its public key: a mismatch would sign as someone else.
  if (!b4a.equals(sk.subarray(32), didToPublicKey(signer.did))) throw GrowrError.BAD_ARGUMENT('signer.secretKey does not belong to signer.did')
}

/** @returns a fresh `urn:uuid:` identifier (RFC 9562 version 4) for a credential */
export function randomUrnUuid (): string {
  const b = b4a.alloc(16)
  sodium.randombytes_buf(b)
  b[6] = (b[6] & 0x0f) | 0x40 // RFC 9562 version 4
  b[8] = (b[8] & 0x3f) | 0x80 // RFC 9562 variant
  const h = b4a.toString(b, 'hex')
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

function daysInMonth (y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28
  return [4, 6, 9, 11].includes(m) ? 30 : 31
}
