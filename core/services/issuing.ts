/**
 * The credential issuing service (Growr protocol: "issues verifiable credentials for given
 * borrowers based on data received or verified by the originator or other third parties").
 *
 * The issuer's operator records what it has checked about a subject (`enroll`: KYC done, income
 * seen...). A holder then asks for that credential over the peers' connection (`vc/request`); the
 * request is authenticated by the connection's hello, so nobody obtains credentials about
 * someone else. Credentials issued unprompted (repayment history) wait in an outbox until their
 * holder connects and collects them (`vc/collect`).
 *
 * Private records, in the node's local bee (never replicated):
 *   issuer/enrolled/<subject>/<type>  { claims, at }
 *   issuer/issued/<credential id>      IssuedRecord (no claims)
 *   issuer/outbox/<subject>/<id>       the signed credential, until collected
 */
import type Hyperbee from 'hyperbee'
import { GrowrError } from '../errors.ts'
import { isDidKey, type DidKey } from '../identity/did-key.ts'
import { checkSubject, isCredentialType, type CredentialType } from '../credentials/catalogue.ts'
import { issueCredential, type VerifiableCredential } from '../credentials/vc.ts'
import type { StatusRegistry } from './status-registry.ts'
import type { PeerRpc } from '../network/peer-rpc.ts'

export interface IssuedRecord { id: string; type: CredentialType; subject: string; statusIndex: number | null; issuedAt: number; revoked: boolean }
interface Enrollment { claims: Record<string, unknown>; validUntil?: string; at: number; issued?: VerifiableCredential }

export interface IssueRequest { type: string; subject: string; claims: Record<string, unknown>; validUntil?: string }

export class IssuingService {
  private readonly local: Hyperbee
  private readonly identity: { did: DidKey; secretKey: Uint8Array }
  private readonly registry: StatusRegistry
  private readonly now: () => number
  private readonly notify: (subject: string) => void

  /** @param opts.notify tells a subject that a queued credential waits for it (best effort) */
  constructor (opts: { local: Hyperbee; identity: { did: DidKey; secretKey: Uint8Array }; registry: StatusRegistry; now?: () => number; notify?: (subject: string) => void }) {
    this.local = opts.local
    this.identity = opts.identity
    this.registry = opts.registry
    this.now = opts.now ?? Date.now
    this.notify = opts.notify ?? (() => {})
  }

  /** Answers `vc/request` and `vc/collect` on the peers' connections. */
  serve (rpc: PeerRpc): void {
    rpc.respond('vc/request', async (req, from) => {
      const { type } = (req ?? {}) as { type?: unknown }
      if (!isCredentialType(type)) throw GrowrError.BAD_ARGUMENT(`unknown credential type ${String(type).slice(0, 60)}`)
      const key = `issuer/enrolled/${from}/${type}`
      const node = await this.local.get<Enrollment>(key)
      if (!node) throw GrowrError.NOT_FOUND(`this issuer has no verified ${type} record for ${from}: complete its check with the issuer first`)
      // asking again returns the same credential while it stands, so requests in a loop cannot
      // use up the status list's indices
      const last = node.value.issued
      if (last && !(await this.local.get<IssuedRecord>(`issuer/issued/${last.id}`))?.value.revoked && !(last.validUntil && Date.parse(last.validUntil) <= this.now())) return last
      const vc = await this.issue({ type, subject: from, claims: node.value.claims, validUntil: node.value.validUntil })
      await this.local.put(key, { ...node.value, issued: vc })
      return vc
    })
    rpc.respond('vc/collect', async (_req, from) => await this.collect(from))
  }

  /**
   * Records what the issuer has verified about `subject`, so the subject can request the credential.
   * @throws BAD_ARGUMENT for an unknown type or a subject that is not a did:key
   */
  async enroll (subject: string, type: string, claims: Record<string, unknown>, validUntil?: string): Promise<void> {
    if (!isDidKey(subject)) throw GrowrError.BAD_ARGUMENT(`the subject must be a did:key, not ${subject.slice(0, 60)}`)
    if (!isCredentialType(type)) throw GrowrError.BAD_ARGUMENT(`unknown credential type ${type}`)
    await this.local.put(`issuer/enrolled/${subject}/${type}`, { claims, validUntil, at: this.now() })
  }

  /**
   * Signs a credential with this node's identity, with a revocation status entry.
   * @returns the signed credential (W3C VC 2.0, eddsa-jcs-2022)
   * @throws BAD_ARGUMENT when the claims do not fit the type's schema
   */
  async issue (req: IssueRequest): Promise<VerifiableCredential> {
    if (!isCredentialType(req.type)) throw GrowrError.BAD_ARGUMENT(`unknown credential type ${req.type}; one of the Growr types is needed`)
    if (!isDidKey(req.subject)) throw GrowrError.BAD_ARGUMENT(`the subject must be a did:key, not ${String(req.subject).slice(0, 60)}`)
    // validate before spending a status index on a credential that will not be signed
    const bad = checkSubject(req.type, { id: req.subject, ...req.claims })
    if (bad) throw GrowrError.BAD_ARGUMENT(bad)
    const credentialStatus = await this.registry.allocate()
    const vc = issueCredential({ issuer: this.identity, type: req.type, subject: req.subject, claims: req.claims, now: this.now(), validUntil: req.validUntil, credentialStatus })
    const rec: IssuedRecord = { id: vc.id, type: req.type, subject: req.subject, statusIndex: Number(credentialStatus.statusListIndex), issuedAt: this.now(), revoked: false }
    await this.local.put(`issuer/issued/${vc.id}`, rec)
    return vc
  }

  /** Keeps a credential for its subject to collect the next time it connects. */
  async queue (vc: VerifiableCredential): Promise<void> {
    await this.local.put(`issuer/outbox/${vc.credentialSubject.id}/${vc.id}`, vc)
    this.notify(vc.credentialSubject.id)
  }

  /** @returns and removes the credentials waiting for `subject` */
  async collect (subject: string): Promise<VerifiableCredential[]> {
    const out: VerifiableCredential[] = []
    const prefix = `issuer/outbox/${subject}/`
    for await (const { value } of this.local.createReadStream<VerifiableCredential>({ gte: prefix, lt: prefix + '\xff' })) out.push(value)
    for (const vc of out) await this.local.del(prefix + vc.id)
    return out
  }

  /**
   * Revokes a credential this node issued: its bit is set in the published status list.
   * @throws NOT_FOUND when this node did not issue `id`
   */
  async revoke (id: string): Promise<IssuedRecord> {
    const node = await this.local.get<IssuedRecord>(`issuer/issued/${id}`)
    if (!node) throw GrowrError.NOT_FOUND(`this node did not issue credential ${id}`)
    if (node.value.statusIndex === null) throw GrowrError.BAD_ARGUMENT(`credential ${id} has no status entry`)
    await this.registry.revoke(node.value.statusIndex)
    const rec = { ...node.value, revoked: true }
    await this.local.put(`issuer/issued/${id}`, rec)
    return rec
  }

  /** Every credential this node issued, newest last (ids, types, subjects: no claims). */
  async issued (): Promise<IssuedRecord[]> {
    const out: IssuedRecord[] = []
    for await (const { value } of this.local.createReadStream<IssuedRecord>({ gte: 'issuer/issued/', lt: 'issuer/issued0' })) out.push(value)
    return out.sort((a, b) => a.issuedAt - b.issuedAt)
  }
}
