/**
 * The certifying side of a node (a founder or a governance DID): issues organization
 * certificates signed by the node's identity, each revocable at an index of the node's own
 * Bitstring Status List (core/services/status-registry.ts publishes it on the swarm), and
 * revokes them.
 *
 * Private records, in the node's local bee (never replicated):
 *   governance/issued/<certificate id>   CertificateRecord (the certificate and its status index)
 * A certificate names public facts only (a DID, an organization's name, its roles), so the
 * records are not sealed.
 */
import type Hyperbee from 'hyperbee'
import { GrowrError } from '../errors.ts'
import type { DidKey } from '../identity/did-key.ts'
import type { StatusRegistry } from '../services/status-registry.ts'
import { isoSeconds } from '../credentials/vc.ts'
import { issueCertificate, type OrganizationCertificate, type Role } from './certificate.ts'
import type { Network } from './network.ts'

/** One certificate this node issued. */
export interface CertificateRecord {
  id: string
  subject: string
  name: string
  roles: Role[]
  statusIndex: number
  issuedAt: number
  validUntil: string
  revoked: boolean
  certificate: OrganizationCertificate
}

/** Default validity of a certificate when none is given: one year, ms. */
export const DEFAULT_CERTIFICATE_MS = 365 * 24 * 3600 * 1000
const PREFIX = 'governance/issued/'
const OWN_CHAIN = 'governance/chain'

/**
 * The certificate chain that certifies this node's own DID (root first), as last saved.
 * @param local the node's private bee.
 * @returns the chain, or [] when none was saved.
 */
export async function ownChain (local: Hyperbee): Promise<OrganizationCertificate[]> {
  const node = await local.get<OrganizationCertificate[]>(OWN_CHAIN)
  return node ? node.value : []
}

/**
 * Save the chain that certifies this node's own DID, for its ads and hellos. The caller verifies
 * it first (verifyChain) and checks that its organization is this node.
 * @param local the node's private bee.
 * @param chain the verified chain, root first.
 */
export async function saveOwnChain (local: Hyperbee, chain: OrganizationCertificate[]): Promise<void> {
  await local.put(OWN_CHAIN, chain)
}

export class Certifier {
  private readonly local: Hyperbee
  private readonly registry: StatusRegistry
  private readonly identity: { did: DidKey; secretKey: Uint8Array }
  private readonly now: () => number

  /**
   * @param opts.local the node's private bee (JSON values)
   * @param opts.registry the node's status registry (allocates and revokes indices)
   * @param opts.identity the certifying DID and its 64-byte secret key
   * @param opts.now clock, ms
   */
  constructor (opts: { local: Hyperbee; registry: StatusRegistry; identity: { did: DidKey; secretKey: Uint8Array }; now?: () => number }) {
    this.local = opts.local
    this.registry = opts.registry
    this.identity = opts.identity
    this.now = opts.now ?? Date.now
  }

  /**
   * Certify `subject` in `network`.
   * @param input the subject DID, its name, its roles (['governance'] for a governance DID, with
   *   optional mayCertify), validUntil (dateTimeStamp; default one year from now).
   * @returns the signed certificate, revocable with {@link revoke}.
   * @throws GrowrError BAD_ARGUMENT for an invalid subject, roles or dates (issueCertificate).
   */
  async certify (network: Network, input: { subject: string; name: string; roles: Role[]; mayCertify?: Role[]; validUntil?: string }): Promise<OrganizationCertificate> {
    const now = this.now()
    const validUntil = input.validUntil ?? isoSeconds(now + DEFAULT_CERTIFICATE_MS)
    // check everything before using up a status index: issue once with a placeholder entry
    issueCertificate({ issuer: this.identity, network, subject: input.subject, name: input.name, roles: input.roles, mayCertify: input.mayCertify, now, validUntil, credentialStatus: { id: 'x#0', type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '0', statusListCredential: 'x' } })
    const credentialStatus = await this.registry.allocate()
    const certificate = issueCertificate({ issuer: this.identity, network, subject: input.subject, name: input.name, roles: input.roles, mayCertify: input.mayCertify, now, validUntil, credentialStatus })
    const rec: CertificateRecord = {
      id: certificate.id,
      subject: certificate.credentialSubject.id,
      name: certificate.credentialSubject.name,
      roles: certificate.credentialSubject.roles,
      statusIndex: Number(credentialStatus.statusListIndex),
      issuedAt: now,
      validUntil,
      revoked: false,
      certificate
    }
    await this.local.put(PREFIX + certificate.id, rec)
    return certificate
  }

  /**
   * Revoke a certificate this node issued and republish its status list.
   * @param id the certificate's id.
   * @returns the record, now revoked.
   * @throws GrowrError NOT_FOUND when this node issued no such certificate.
   */
  async revoke (id: string): Promise<CertificateRecord> {
    if (typeof id !== 'string' || !id) throw GrowrError.BAD_ARGUMENT('--id of the certificate to revoke is required')
    const node = await this.local.get<CertificateRecord>(PREFIX + id)
    if (!node) throw GrowrError.NOT_FOUND(`this node issued no certificate ${id.slice(0, 100)}`)
    await this.registry.revoke(node.value.statusIndex)
    const rec = { ...node.value, revoked: true }
    await this.local.put(PREFIX + id, rec)
    return rec
  }

  /** Every certificate this node issued, by id. */
  async issued (): Promise<CertificateRecord[]> {
    const out: CertificateRecord[] = []
    for await (const { value } of this.local.createReadStream<CertificateRecord>({ gte: PREFIX, lt: PREFIX + '\uffff' })) out.push(value)
    return out
  }
}
