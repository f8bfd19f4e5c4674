/**
 * Organization certificates: W3C Verifiable Credentials (VCDM 2.0, eddsa-jcs-2022) of type
 * `OrganizationCertificate`, by which a network's founding DIDs certify governance DIDs and
 * governance DIDs certify organizations (FinP2P's "governance certifies every organization").
 *
 *   credentialSubject: {
 *     id: the certified DID, name: the organization's name,
 *     roles: ['governance'] | a set of organization roles (originator, issuer, verifier,
 *            investor-organization, relay),
 *     mayCertify?: for a governance certificate, the roles it may grant (absent: every
 *            organization role, and no further governance); 'governance' lets it delegate,
 *     network: { name, topic }: the network it is valid in (a certificate for another network
 *            never verifies here)
 *   }
 *
 * Every certificate carries validFrom, validUntil and a Bitstring Status List entry: a
 * certificate that cannot expire or be revoked is not issued and not accepted (chain.ts).
 * A certificate is never both governance and organization: a DID that is both holds two.
 * Pure functions.
 */
import Ajv from 'ajv'
import { GrowrError } from '../errors.ts'
import { isDidKey } from '../identity/did-key.ts'
import { GROWR_CONTEXTS, isoSeconds, parseDateTimeStamp, randomUrnUuid, signAs, type Signer, type VerifiableCredential } from '../credentials/vc.ts'
import { isPlainObject } from '../credentials/eddsa-jcs-2022.ts'
import type { BitstringStatusListEntry } from '../credentials/bitstring-status-list.ts'
import type { Network } from './network.ts'

/** The credential type of a certificate. */
export const CERTIFICATE_TYPE = 'OrganizationCertificate'
/** What an organization may be certified as. */
export const ORGANIZATION_ROLES = ['originator', 'issuer', 'verifier', 'investor-organization', 'relay'] as const
export type OrganizationRole = typeof ORGANIZATION_ROLES[number]
/** Every role a certificate may carry: the organization roles and `governance`. */
export type Role = OrganizationRole | 'governance'
export const ROLES: readonly Role[] = ['governance', ...ORGANIZATION_ROLES]

/** A certificate's subject, as issued and as {@link checkCertificate} accepts it. */
export interface CertificateSubject {
  id: string
  name: string
  roles: Role[]
  mayCertify?: Role[]
  network: { name: string; topic: string }
}

/** A secured organization certificate. */
export type OrganizationCertificate = VerifiableCredential & {
  validUntil: string
  credentialStatus: BitstringStatusListEntry
  credentialSubject: CertificateSubject
}

/** Input of {@link issueCertificate}. */
export interface CertifyInput {
  /** the certifying DID (a founder or a governance DID) and its secret key */
  issuer: Signer
  network: Network
  /** the certified DID */
  subject: string
  /** the organization's name as people read it */
  name: string
  /** organization roles, or exactly ['governance'] */
  roles: Role[]
  /** governance certificates only: the roles it may grant */
  mayCertify?: Role[]
  /** the issuing clock, ms since the epoch */
  now: number
  validFrom?: string
  validUntil: string
  /** the status entry the issuer allocated (StatusRegistry.allocate) */
  credentialStatus: BitstringStatusListEntry
  /** default a random urn:uuid */
  id?: string
}

const role = { enum: ROLES }
const subjectSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'roles', 'network'],
  properties: {
    id: { type: 'string', pattern: '^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    roles: { type: 'array', minItems: 1, maxItems: ROLES.length, uniqueItems: true, items: role },
    mayCertify: { type: 'array', minItems: 1, maxItems: ROLES.length, uniqueItems: true, items: role },
    network: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'topic'],
      properties: { name: { type: 'string', maxLength: 64 }, topic: { type: 'string', pattern: '^[0-9a-f]{64}$' } }
    }
  }
}
const validateSubject = new (Ajv as unknown as typeof Ajv.default)({ allErrors: false, strict: true }).compile<CertificateSubject>(subjectSchema)

/**
 * Check a certificate's subject and the fields a certificate must carry (not its signature:
 * verifyCredential does that).
 *
 * @param vc any value.
 * @returns null when it is shaped as an organization certificate, else why not in plain words.
 *   Never throws.
 */
export function checkCertificate (vc: unknown): string | null {
  if (!isPlainObject(vc)) return 'the certificate is not a JSON object'
  if (!Array.isArray(vc.type) || !vc.type.includes(CERTIFICATE_TYPE)) return `it is not an ${CERTIFICATE_TYPE}`
  if (typeof vc.validUntil !== 'string' || parseDateTimeStamp(vc.validUntil) === null) return 'the certificate has no end of validity (validUntil)'
  if (!isPlainObject(vc.credentialStatus)) return 'the certificate cannot be revoked (no credentialStatus)'
  const s = vc.credentialSubject
  if (!validateSubject(s)) {
    const e = validateSubject.errors?.[0]
    return `the certificate's subject is invalid: ${e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') + ' ' : ''}${e?.message ?? 'does not match the schema'}`
  }
  return checkRoles(s.roles, s.mayCertify)
}

function checkRoles (roles: Role[], mayCertify: Role[] | undefined): string | null {
  const governance = roles.includes('governance')
  if (governance && roles.length !== 1) return 'a governance certificate names no organization role (certify the DID twice)'
  if (!governance && mayCertify !== undefined) return 'only a governance certificate may say what it may certify (mayCertify)'
  return null
}

/**
 * Issue an organization or governance certificate.
 *
 * @param input issuer, network, subject DID, name, roles, optional mayCertify, clock (ms),
 *   validity and status entry; see {@link CertifyInput}.
 * @returns the secured certificate (type ['VerifiableCredential', 'OrganizationCertificate']).
 * @throws GrowrError BAD_ARGUMENT if the subject is not a did:key, the roles are empty, unknown,
 *   repeated or mix governance with organization roles, the dates are malformed or out of order,
 *   the status entry is missing, or the issuer's secret key does not match its DID.
 */
export function issueCertificate (input: CertifyInput): OrganizationCertificate {
  const { issuer, network, subject, name, roles, mayCertify, now } = input
  if (!isDidKey(subject)) throw GrowrError.BAD_ARGUMENT('the certified subject must be a did:key')
  if (subject === issuer?.did) throw GrowrError.BAD_ARGUMENT('a DID cannot certify itself')
  if (!network?.definition) throw GrowrError.BAD_ARGUMENT('a certificate names the network it is valid in')
  const created = isoSeconds(now)
  const validFrom = input.validFrom ?? created
  const from = parseDateTimeStamp(validFrom)
  const until = parseDateTimeStamp(input.validUntil)
  if (from === null) throw GrowrError.BAD_ARGUMENT('validFrom must be an XML Schema dateTimeStamp')
  if (until === null) throw GrowrError.BAD_ARGUMENT('a certificate needs validUntil, an XML Schema dateTimeStamp')
  if (until <= from) throw GrowrError.BAD_ARGUMENT('validUntil must be after validFrom')
  if (!isPlainObject(input.credentialStatus)) throw GrowrError.BAD_ARGUMENT('a certificate needs a status entry, so it can be revoked')
  const credentialSubject: CertificateSubject = {
    id: subject,
    name: typeof name === 'string' ? name.trim() : name,
    roles: Array.isArray(roles) ? [...roles] : roles,
    network: { name: network.definition.name, topic: network.topicHex }
  }
  if (mayCertify !== undefined) credentialSubject.mayCertify = Array.isArray(mayCertify) ? [...mayCertify] : mayCertify
  if (!validateSubject(credentialSubject)) {
    const e = validateSubject.errors?.[0]
    throw GrowrError.BAD_ARGUMENT(`invalid certificate: ${e?.instancePath ? e.instancePath.slice(1) + ' ' : ''}${e?.message ?? 'does not match the schema'}`)
  }
  const roleProblem = checkRoles(credentialSubject.roles, credentialSubject.mayCertify)
  if (roleProblem) throw GrowrError.BAD_ARGUMENT(roleProblem)
  const unsecured = {
    '@context': GROWR_CONTEXTS,
    id: input.id ?? randomUrnUuid(),
    type: ['VerifiableCredential', CERTIFICATE_TYPE],
    issuer: issuer?.did,
    validFrom,
    validUntil: input.validUntil,
    credentialSubject,
    credentialStatus: input.credentialStatus
  }
  return signAs<OrganizationCertificate>(unsecured, issuer, { proofPurpose: 'assertionMethod', created })
}

/**
 * Parse a role list as people type it ("originator,issuer").
 * @param text comma-separated roles.
 * @returns the roles, each once, in the order given.
 * @throws GrowrError BAD_ARGUMENT for an empty list or an unknown role (the message lists the known ones).
 */
export function parseRoles (text: string): Role[] {
  const out: Role[] = []
  for (const r of String(text ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(ROLES as readonly string[]).includes(r)) throw GrowrError.BAD_ARGUMENT(`unknown role ${r.slice(0, 40)}: roles are ${ROLES.join(', ')}`)
    if (!out.includes(r as Role)) out.push(r as Role)
  }
  if (out.length === 0) throw GrowrError.BAD_ARGUMENT(`name at least one role: ${ROLES.join(', ')}`)
  return out
}

