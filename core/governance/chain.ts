/**
 * Certificate chains: why a DID is a certified organization of a network.
 *
 * A chain is a list of organization certificates (certificate.ts), root first:
 *   [founder -> governance, governance -> organization]   or   [founder -> organization]
 * and, where a governance certificate allows it (mayCertify includes 'governance'), a governance
 * DID may certify another governance DID, up to MAX_CHAIN_LENGTH certificates in all.
 *
 * The rules (each refusal names the certificate and says why in plain words):
 * - the first certificate is issued by one of the network's founding DIDs;
 * - each next one is issued by the previous one's subject, which must be a governance DID: an
 *   organization certifies nobody, so it cannot create a governance DID either;
 * - a certificate grants no role its issuer may not grant: a founder grants any; a governance DID
 *   grants its `mayCertify` (default: every organization role, no governance), and a delegated
 *   governance DID's `mayCertify` is at most its certifier's (absent: it inherits it);
 * - every certificate verifies (eddsa-jcs-2022 signature by its issuer's did:key), is valid at
 *   `now`, names this network's name and topic, and carries a revocation status entry;
 * - no DID appears twice; the chain is at most `maxLength` long;
 * - revocation is checked last, root first, and only for a chain that passed every other check:
 *   a forged chain must not make the verifier fetch status lists at addresses it names.
 *
 * Pure: the clock and the status lookup are injected. Never throws.
 */
import { verifyCredential, type StatusCheck, type VerifiableCredential } from '../credentials/vc.ts'
import type { BitstringStatusListEntry } from '../credentials/bitstring-status-list.ts'
import { checkCertificate, ORGANIZATION_ROLES, ROLES, type OrganizationCertificate, type Role } from './certificate.ts'
import { isFounder, type Network } from './network.ts'

/** The longest chain accepted: founder, two delegated governance DIDs, organization. */
export const MAX_CHAIN_LENGTH = 4
/** A certificate larger than this (as JSON) is refused before its signature is checked. */
export const MAX_CERTIFICATE_BYTES = 16 * 1024

/** One verified certificate of a chain. */
export interface ChainLink {
  id: string
  issuer: string
  subject: string
  name: string
  roles: Role[]
  /** what the subject may grant, for a governance DID (after inheritance); null for an organization */
  mayCertify: Role[] | null
  validUntil: string
}

/** The outcome of {@link verifyChain}. */
export type ChainResult =
  | {
    ok: true
    /** the network's topic, hex */
    network: string
    /** the founding DID the chain starts at */
    founder: string
    /** the certified DID at the end of the chain */
    organization: { did: string; name: string; roles: Role[] }
    /** every certificate, root first */
    certifiedBy: ChainLink[]
  }
  | { ok: false; reason: string }

/** Options of {@link verifyChain}. */
export interface ChainOptions {
  /** the verifying clock, ms since the epoch */
  now: number
  /** how to read a certificate's revocation status (e.g. StatusResolver.check); required: a certificate is always revocable */
  checkStatus: StatusCheck
  /** at most MAX_CHAIN_LENGTH (the default) */
  maxLength?: number
}

/**
 * Verify a certificate chain up to one of the network's founding DIDs (rules in the module comment).
 *
 * @param network the loaded network (network.ts) the chain must belong to.
 * @param chain any value: the certificates, root first.
 * @param opts the clock, the status lookup and an optional shorter length bound.
 * @returns `{ ok: true, organization, certifiedBy, founder, network }` or `{ ok: false, reason }`
 *   with the first reason found, in plain words. Never throws.
 */
export async function verifyChain (network: Network, chain: unknown, opts: ChainOptions): Promise<ChainResult> {
  try {
    return await verify(network, chain, opts)
  } catch (err) {
    return { ok: false, reason: `the chain cannot be checked: ${(err as Error)?.message ?? String(err)}` }
  }
}

async function verify (network: Network, chain: unknown, opts: ChainOptions): Promise<ChainResult> {
  const fail = (reason: string): ChainResult => ({ ok: false, reason })
  if (!network?.definition) return fail('no network to verify the chain against')
  if (typeof opts?.checkStatus !== 'function') return fail('no way to check revocation was given: a chain is never accepted unchecked')
  if (!Number.isFinite(opts.now)) return fail('no verifying clock was given')
  const maxLength = Math.min(MAX_CHAIN_LENGTH, opts.maxLength ?? MAX_CHAIN_LENGTH)
  if (!Array.isArray(chain)) return fail('a certificate chain is a list of certificates, root first')
  if (chain.length === 0) return fail('the chain is empty: nobody certified this DID')
  if (chain.length > maxLength) return fail(`the chain has ${chain.length} certificates; at most ${maxLength} are accepted`)

  const netName = network.definition.name
  const links: ChainLink[] = []
  const seen = new Set<string>()
  let mayGrant: readonly Role[] = ROLES // a founder grants any role
  for (let i = 0; i < chain.length; i++) {
    const vc = chain[i] as OrganizationCertificate
    const at = `certificate ${i + 1} of ${chain.length}`
    let size: number
    try {
      size = JSON.stringify(vc)?.length ?? 0
    } catch {
      return fail(`${at} is not JSON`)
    }
    if (size > MAX_CERTIFICATE_BYTES) return fail(`${at} is larger than ${MAX_CERTIFICATE_BYTES} bytes`)
    const shape = checkCertificate(vc)
    if (shape) return fail(`${at}: ${shape}`)
    const s = vc.credentialSubject
    const issuer = typeof vc.issuer === 'string' ? vc.issuer : String((vc.issuer as { id?: unknown })?.id)
    const who = `${at} (${short(issuer)} certifying ${JSON.stringify(s.name.slice(0, 80))} ${short(s.id)})`
    if (s.network.topic !== network.topicHex || s.network.name !== netName) {
      return fail(`${who} is for network ${JSON.stringify(s.network.name.slice(0, 64))}, not ${JSON.stringify(netName)}`)
    }
    const checked = await verifyCredential(vc, { now: opts.now })
    if (!checked.verified) return fail(`${who} does not hold: ${checked.problems.map((p) => p.message).join('; ')}`)

    if (i === 0) {
      if (!isFounder(network, issuer)) return fail(`${who} is issued by ${issuer}, which is not a founding DID of network ${JSON.stringify(netName)}: the chain does not reach a founder`)
      seen.add(issuer)
    } else {
      const prev = links[i - 1]
      if (issuer !== prev.subject) return fail(`${who} is issued by ${issuer}, but certificate ${i} certified ${prev.subject}: the chain is broken`)
      if (prev.mayCertify === null) return fail(`${who} is issued by ${issuer}, an organization (${prev.roles.join(', ')}), not a governance DID: organizations certify nobody`)
    }
    if (seen.has(s.id)) return fail(`${who} certifies ${s.id}, which already appears in the chain`)
    seen.add(s.id)

    const notGranted = s.roles.filter((r) => !mayGrant.includes(r))
    if (notGranted.length > 0) {
      const what = notGranted.includes('governance') ? 'create governance DIDs' : `certify ${notGranted.join(', ')}`
      return fail(`${who} grants a role its issuer may not: ${short(issuer)} may not ${what}`)
    }
    let mayCertify: Role[] | null = null
    if (s.roles.includes('governance')) {
      if (s.mayCertify) {
        const wider = s.mayCertify.filter((r) => !mayGrant.includes(r))
        if (wider.length > 0) return fail(`${who} lets its subject certify ${wider.join(', ')}, which its issuer may not: roles cannot be widened down the chain`)
        mayCertify = [...s.mayCertify]
      } else {
        // absent: every organization role, but never more than the certifier may grant
        mayCertify = ORGANIZATION_ROLES.filter((r) => mayGrant.includes(r))
      }
      mayGrant = mayCertify
    }
    links.push({ id: String(vc.id), issuer, subject: s.id, name: s.name, roles: [...s.roles], mayCertify, validUntil: vc.validUntil })
  }

  // every link holds on its own: now ask whether any was revoked, root first
  for (let i = 0; i < chain.length; i++) {
    const vc = chain[i] as VerifiableCredential
    const link = links[i]
    const who = `certificate ${i + 1} of ${chain.length} (${short(link.issuer)} certifying ${JSON.stringify(link.name.slice(0, 80))} ${short(link.subject)})`
    let status: Awaited<ReturnType<StatusCheck>>
    try {
      status = await opts.checkStatus(vc.credentialStatus as BitstringStatusListEntry, vc)
    } catch (err) {
      return fail(`${who}: its revocation status cannot be checked: ${(err as Error)?.message ?? String(err)}`)
    }
    if ('error' in status) return fail(`${who}: its revocation status cannot be checked: ${status.error}`)
    if (status.revoked) return fail(`${who} was revoked by ${link.issuer}`)
  }

  const leaf = links[links.length - 1]
  return {
    ok: true,
    network: network.topicHex,
    founder: links[0].issuer,
    organization: { did: leaf.subject, name: leaf.name, roles: [...leaf.roles] },
    certifiedBy: links
  }
}

/**
 * Whether a verified chain makes its organization trusted for `role`, and optionally only when
 * certified through governance DID `governance` (a book trusting "issuers certified by governance
 * G"). G may be any certifier on the chain: a founder or a governance DID.
 *
 * @param result the outcome of {@link verifyChain} for the organization's chain (verify it at the
 *   time of use, with revocation: a stored result goes stale).
 * @param want the role needed (e.g. 'issuer') and, optionally, the governance DID that must have
 *   certified it.
 * @returns `{ ok: true, organization }` or `{ ok: false, reason }` in plain words. Never throws.
 */
export function certifiedFor (result: ChainResult, want: { role: Role; governance?: string }): { ok: true; organization: string } | { ok: false; reason: string } {
  if (!result || typeof result !== 'object') return { ok: false, reason: 'no verified certificate chain' }
  if (!result.ok) return { ok: false, reason: `not certified: ${result.reason}` }
  const org = result.organization
  if (!(ROLES as readonly unknown[]).includes(want?.role)) return { ok: false, reason: `unknown role ${String(want?.role).slice(0, 40)}` }
  if (!org.roles.includes(want.role)) return { ok: false, reason: `${org.did} is certified as ${org.roles.join(', ')}, not as ${want.role}` }
  if (want.governance !== undefined && !result.certifiedBy.some((l) => l.issuer === want.governance)) {
    return { ok: false, reason: `${org.did} was not certified through ${want.governance}` }
  }
  return { ok: true, organization: org.did }
}

function short (did: string): string {
  return did.length > 24 ? `${did.slice(0, 14)}…${did.slice(-6)}` : did
}
