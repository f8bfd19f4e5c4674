/**
 * Verifiable Presentations (W3C VCDM 2.0 section 4.13) with an eddsa-jcs-2022 proof of
 * purpose `authentication`, bound to a verifier's challenge and domain so it cannot be
 * replayed elsewhere. Every credential inside must be about the holder. Pure functions.
 */
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'
import { isDidKey } from '../identity/did-key.ts'
import { isPlainObject, jcs, sha256 } from './eddsa-jcs-2022.ts'
import type { DataIntegrityProof } from './eddsa-jcs-2022.ts'
import { GROWR_CONTEXTS, VC_V2_CONTEXT, checkProof, isoSeconds, signAs, verifyCredential } from './vc.ts'
import type { Problem, Signer, StatusCheck, VerifiableCredential, VerificationResult } from './vc.ts'

/** A presentation as Growr makes it (verification accepts any VCDM 2.0 presentation JSON). */
export type VerifiablePresentation = {
  '@context': string[]
  type: ['VerifiablePresentation']
  holder: string
  verifiableCredential: VerifiableCredential[]
  proof: DataIntegrityProof
}

/** Outcome of {@link verifyPresentation}. */
export interface PresentationResult {
  /** true only if neither the presentation nor any credential in it has a problem */
  verified: boolean
  /** the holder when the presentation is well-formed enough to name one */
  holder: string | null
  /** problems with the presentation itself; credential problems are in `credentials` */
  problems: Problem[]
  /** one result per credential, in order (empty when the presentation itself failed) */
  credentials: VerificationResult[]
}

/** Options of {@link verifyPresentation}. */
export interface PresentationVerifyOptions {
  /** the challenge the verifier issued */
  challenge: string
  /** the verifier's domain (e.g. the book key) */
  domain: string
  /** verifying clock, ms since the epoch */
  now: number
  trustedIssuers?: (type: string, issuer: string) => boolean
  checkStatus?: StatusCheck
}

/**
 * Most credentials one presentation may carry. A presentation answers one project's criteria (a
 * handful of credentials); the cap bounds the work a hostile peer can ask for.
 */
export const MAX_PRESENTED_CREDENTIALS = 64

/**
 * Make a presentation of `credentials`, signed by the holder for `challenge` and `domain`.
 *
 * @param input holder (did:key + 64-byte secret key), credentials, challenge, domain, clock (ms).
 * @returns the presentation; its proof has purpose `authentication`, the challenge and domain.
 * @throws GrowrError BAD_ARGUMENT if challenge or domain is empty, there are too many
 *   credentials, or the holder's secret key does not match its DID.
 */
export function createPresentation (input: { holder: Signer; credentials: VerifiableCredential[]; challenge: string; domain: string; now: number }): VerifiablePresentation {
  const { holder, credentials, challenge, domain, now } = input
  if (typeof challenge !== 'string' || challenge === '') throw GrowrError.BAD_ARGUMENT('challenge must be a non-empty string')
  if (typeof domain !== 'string' || domain === '') throw GrowrError.BAD_ARGUMENT('domain must be a non-empty string')
  if (!Array.isArray(credentials) || credentials.length > MAX_PRESENTED_CREDENTIALS) {
    throw GrowrError.BAD_ARGUMENT(`credentials must be a list of at most ${MAX_PRESENTED_CREDENTIALS}`)
  }
  const unsecured = {
    '@context': GROWR_CONTEXTS,
    type: ['VerifiablePresentation'],
    holder: holder?.did,
    verifiableCredential: credentials
  }
  return signAs<VerifiablePresentation>(unsecured, holder, { proofPurpose: 'authentication', created: isoSeconds(now), challenge, domain })
}

/**
 * Verify a presentation: structure, the holder's proof (its key must be the holder's did:key,
 * purpose authentication, the expected challenge and domain, a valid signature), then each
 * credential with {@link verifyCredential}, requiring it to be about the holder.
 *
 * @param vp any value, typically parsed JSON.
 * @param opts expected challenge and domain, clock (ms), and the credential checks to apply.
 * @returns see {@link PresentationResult}. Never throws on bad input.
 */
export async function verifyPresentation (vp: unknown, opts: PresentationVerifyOptions): Promise<PresentationResult> {
  const problems: Problem[] = []
  const done = (holder: string | null, credentials: VerificationResult[] = []): PresentationResult => ({
    verified: problems.length === 0 && credentials.every((c) => c.verified),
    holder,
    problems,
    credentials
  })
  if (!isPlainObject(vp)) {
    problems.push({ code: 'MALFORMED', message: 'the presentation is not a JSON object' })
    return done(null)
  }
  const bad = (message: string) => problems.push({ code: 'MALFORMED', message })
  const ctx = vp['@context']
  if (!Array.isArray(ctx) || ctx[0] !== VC_V2_CONTEXT) bad(`the presentation's @context must be a list starting with ${VC_V2_CONTEXT}`)
  if (!Array.isArray(vp.type) || !vp.type.includes('VerifiablePresentation')) bad('the presentation\'s type must include VerifiablePresentation')
  if (!isDidKey(vp.holder)) bad('the presentation\'s holder is not a did:key')
  const creds = vp.verifiableCredential
  if (!Array.isArray(creds)) bad('the presentation\'s verifiableCredential is not a list')
  else if (creds.length > MAX_PRESENTED_CREDENTIALS) bad(`the presentation carries more than ${MAX_PRESENTED_CREDENTIALS} credentials`)
  if (problems.length > 0) return done(isDidKey(vp.holder) ? vp.holder : null)
  const holder = vp.holder as string

  const signed = checkProof(vp, {
    controller: holder,
    controllerCode: 'HOLDER_MISMATCH',
    proofPurpose: 'authentication',
    challenge: opts.challenge,
    domain: opts.domain,
    now: opts.now,
    what: 'presentation'
  }, problems)
  if (!signed) return done(holder)

  const results: VerificationResult[] = []
  for (const vc of creds as unknown[]) {
    results.push(await verifyCredential(vc, { now: opts.now, expectedSubject: holder, trustedIssuers: opts.trustedIssuers, checkStatus: opts.checkStatus }))
  }
  return done(holder, results)
}

/**
 * A stable fingerprint of a presentation, for an attestation to point at what was judged.
 * @param vp the presentation (any JSON value).
 * @returns lowercase hex SHA-256 of its RFC 8785 canonical form (64 characters).
 * @throws GrowrError BAD_ARGUMENT if `vp` is not JSON.
 */
export function presentationHash (vp: unknown): string {
  return b4a.toString(sha256(jcs(vp)), 'hex')
}
