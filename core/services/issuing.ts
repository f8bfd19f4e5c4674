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
 * Revocation ends what the issuer vouches for: revoking the credential an enrolment issued marks
 * the enrolment revoked (its claims are dropped), and asking again is refused with REVOKED until
 * the operator enrols the subject again on purpose. `unenroll` removes an enrolment and revokes
 * the credential standing on it.
 *
 * Private records, in the node's local bee (never replicated):
 *   issuer/enrolled/<subject>/<type>  sealed Enrollment { claims, validUntil, at, issued } | { revoked }
 *   issuer/issued/<credential id>      IssuedRecord (no claims)
 *   issuer/outbox/<subject>/<id>       sealed signed credential, until collected
 * Values holding claims are sealed (XSalsa20-Poly1305, core/sscr/crypto.ts) under a key derived
 * from the issuer's identity, so the corestore on disk holds no personal claim in the clear. The
 * keys stay readable: a subject's DID and a credential type are identifiers, not claims about
 * the person, and the issuer must find records by them without opening every one.
 */
import type Hyperbee from 'hyperbee'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'
import { isDidKey, type DidKey } from '../identity/did-key.ts'
import { checkSubject, isCredentialType, type CredentialType } from '../credentials/catalogue.ts'
import { issueCredential, type VerifiableCredential } from '../credentials/vc.ts'
import { jcs } from '../credentials/eddsa-jcs-2022.ts'
import { deriveIdentityKey, seal, unseal } from '../sscr/crypto.ts'
import type { StatusRegistry } from './status-registry.ts'
import type { PeerRpc } from '../network/peer-rpc.ts'

export interface IssuedRecord { id: string; type: CredentialType; subject: string; statusIndex: number | null; issuedAt: number; revoked: boolean }

/**
 * One enrolment as the issuer's operator sees it (no claims).
 * state: `enrolled` (nothing issued yet), `issued` (`credential` stands), `revoked` (`credential`
 * was revoked; the subject gets nothing until enrolled again).
 */
export interface EnrollmentSummary { subject: string; type: CredentialType; at: number; validUntil: string | null; state: 'enrolled' | 'issued' | 'revoked'; credential: string | null }

type Enrollment =
  | { claims: Record<string, unknown>; validUntil?: string; at: number; issued?: VerifiableCredential; revoked?: undefined }
  | { revoked: { id: string; at: number }; at: number; claims?: undefined; validUntil?: undefined; issued?: undefined }

export interface IssueRequest { type: string; subject: string; claims: Record<string, unknown>; validUntil?: string }

/** Domain tag of the key that seals the issuer's private records. */
const RECORDS_KEY_TAG = 'growr/issuer-records/v1'
const ENROLLED = 'issuer/enrolled/'

export class IssuingService {
  private readonly local: Hyperbee
  private readonly identity: { did: DidKey; secretKey: Uint8Array }
  private readonly registry: StatusRegistry
  private readonly now: () => number
  private readonly notify: (subject: string) => void
  private readonly sealKey: Uint8Array
  // enrolment changes (request, enroll, unenroll, revoke) run one at a time: a request that read
  // an enrolment before a revocation must not write a fresh credential over the revoked state
  private queueTail: Promise<unknown> = Promise.resolve()

  /**
   * @param opts.local the node's private bee (JSON values)
   * @param opts.identity the issuer's DID and 64-byte secret key: signs credentials and keys the sealed records
   * @param opts.now clock for credential dates, ms
   * @param opts.notify tells a subject that a queued credential waits for it (best effort)
   */
  constructor (opts: { local: Hyperbee; identity: { did: DidKey; secretKey: Uint8Array }; registry: StatusRegistry; now?: () => number; notify?: (subject: string) => void }) {
    this.local = opts.local
    this.identity = opts.identity
    this.registry = opts.registry
    this.now = opts.now ?? Date.now
    this.notify = opts.notify ?? (() => {})
    this.sealKey = deriveIdentityKey(opts.identity.secretKey, RECORDS_KEY_TAG)
  }

  /** Answers `vc/request` and `vc/collect` on the peers' connections (enrolment changes are the operator's, never a peer's). */
  serve (rpc: PeerRpc): void {
    rpc.respond('vc/request', async (req, from) => {
      const { type } = (req ?? {}) as { type?: unknown }
      if (!isCredentialType(type)) throw GrowrError.BAD_ARGUMENT(`unknown credential type ${String(type).slice(0, 60)}`)
      return await this.request(from, type)
    })
    rpc.respond('vc/collect', async (_req, from) => await this.collect(from))
  }

  /**
   * The credential `subject` asked for: the standing one if any (so requests in a loop cannot use
   * up the status list's indices), else a new one from the enrolment's claims.
   * @param subject the requester's authenticated DID
   * @returns the signed credential
   * @throws NOT_FOUND without an enrolment; REVOKED when the issuer revoked what it issued from it
   */
  async request (subject: DidKey, type: CredentialType): Promise<VerifiableCredential> {
    return await this.serial(async () => {
      const key = enrolledKey(subject, type)
      const rec = await this.getSealed<Enrollment>(key)
      if (!rec) throw GrowrError.NOT_FOUND(`this issuer has no verified ${type} record for ${subject}: complete its check with the issuer first`)
      if (rec.revoked) throw revokedError(type, rec.revoked.id)
      // what the issuer checked has a date past which it no longer vouches: say so, issue nothing
      if (rec.validUntil && Date.parse(rec.validUntil) <= this.now()) throw GrowrError.NOT_FOUND(`this issuer's ${type} check of ${subject} ended on ${rec.validUntil}: ask the issuer to check again`)
      const last = rec.issued
      if (last) {
        // a revocation recorded before enrolments were marked revoked still counts as one
        if ((await this.local.get<IssuedRecord>(`issuer/issued/${last.id}`))?.value.revoked) throw revokedError(type, last.id)
        if (!(last.validUntil && Date.parse(last.validUntil) <= this.now())) return last
      }
      const vc = await this.issue({ type, subject, claims: rec.claims, validUntil: rec.validUntil })
      await this.putSealed(key, { ...rec, issued: vc })
      return vc
    })
  }

  /**
   * Records what the issuer has verified about `subject`, so the subject can request the
   * credential. Enrolling again replaces the record, a revoked one included: this is how the
   * operator vouches again after a revocation. A credential still standing on the old record is
   * revoked when the claims or validity change (it would state what the issuer no longer vouches
   * for), and kept when they are the same.
   * @throws BAD_ARGUMENT for an unknown type, a subject that is not a did:key, or claims that do not fit the type
   */
  async enroll (subject: string, type: string, claims: Record<string, unknown>, validUntil?: string): Promise<void> {
    if (!isDidKey(subject)) throw GrowrError.BAD_ARGUMENT(`the subject must be a did:key, not ${subject.slice(0, 60)}`)
    if (!isCredentialType(type)) throw GrowrError.BAD_ARGUMENT(`unknown credential type ${type}`)
    // refuse now what could never be issued, rather than when the subject asks
    const bad = checkSubject(type, { id: subject, ...claims })
    if (bad) throw GrowrError.BAD_ARGUMENT(bad)
    await this.serial(async () => {
      const key = enrolledKey(subject, type)
      const old = await this.getSealed<Enrollment>(key)
      let issued: VerifiableCredential | undefined
      if (old?.issued && !(await this.local.get<IssuedRecord>(`issuer/issued/${old.issued.id}`))?.value.revoked) {
        const same = b4a.equals(jcs(old.claims), jcs(claims)) && old.validUntil === validUntil
        if (same) issued = old.issued
        else await this.revokeIssued(old.issued.id)
      }
      await this.putSealed(key, { claims, validUntil, at: this.now(), issued })
    })
  }

  /**
   * Removes an enrolment; the credential standing on it, if any, is revoked first.
   * @returns the id of the credential revoked, or null when none stood
   * @throws NOT_FOUND when `subject` is not enrolled for `type`; BAD_ARGUMENT for a malformed subject or type
   */
  async unenroll (subject: string, type: string): Promise<{ subject: string; type: CredentialType; revoked: string | null }> {
    if (!isDidKey(subject)) throw GrowrError.BAD_ARGUMENT(`the subject must be a did:key, not ${String(subject).slice(0, 60)}`)
    if (!isCredentialType(type)) throw GrowrError.BAD_ARGUMENT(`unknown credential type ${String(type)}`)
    return await this.serial(async () => {
      const key = enrolledKey(subject, type)
      const rec = await this.getSealed<Enrollment>(key)
      if (!rec) throw GrowrError.NOT_FOUND(`${subject} is not enrolled for ${type} here`)
      let revoked: string | null = null
      if (rec.issued && !(await this.local.get<IssuedRecord>(`issuer/issued/${rec.issued.id}`))?.value.revoked) {
        await this.revokeIssued(rec.issued.id)
        revoked = rec.issued.id
      }
      await this.local.del(key)
      return { subject, type, revoked }
    })
  }

  /** Every enrolment, revoked ones included, ordered by subject then type (no claims). */
  async enrolled (): Promise<EnrollmentSummary[]> {
    const out: EnrollmentSummary[] = []
    for await (const { key, value } of this.local.createReadStream<unknown>({ gte: ENROLLED, lt: ENROLLED.slice(0, -1) + '0' })) {
      const rec = this.open<Enrollment>(key, value)
      const [subject, type] = key.slice(ENROLLED.length).split('/')
      if (!rec || !isCredentialType(type)) continue
      const credential = rec.revoked ? rec.revoked.id : rec.issued?.id ?? null
      const state = rec.revoked ? 'revoked' : rec.issued ? 'issued' : 'enrolled'
      out.push({ subject, type, at: rec.at, validUntil: rec.validUntil ?? null, state, credential })
    }
    return out
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

  /** Keeps a credential (sealed) for its subject to collect the next time it connects. */
  async queue (vc: VerifiableCredential): Promise<void> {
    await this.putSealed(`issuer/outbox/${vc.credentialSubject.id}/${vc.id}`, vc)
    this.notify(vc.credentialSubject.id)
  }

  /** @returns and removes the credentials waiting for `subject` */
  async collect (subject: string): Promise<VerifiableCredential[]> {
    const out: Array<{ key: string; vc: VerifiableCredential }> = []
    const prefix = `issuer/outbox/${subject}/`
    for await (const { key, value } of this.local.createReadStream<unknown>({ gte: prefix, lt: prefix + '\xff' })) {
      const vc = this.open<VerifiableCredential>(key, value)
      if (vc) out.push({ key, vc })
    }
    for (const { key } of out) await this.local.del(key)
    return out.map((o) => o.vc)
  }

  /**
   * Revokes a credential this node issued: its bit is set in the published status list, and the
   * enrolment it was issued from is marked revoked (its claims dropped), so asking again gets
   * nothing until the operator enrols the subject again.
   * @throws NOT_FOUND when this node did not issue `id`; BAD_ARGUMENT when it has no status entry
   */
  async revoke (id: string): Promise<IssuedRecord> {
    return await this.serial(async () => {
      const rec = await this.revokeIssued(id)
      const key = enrolledKey(rec.subject, rec.type)
      const enrolment = await this.getSealed<Enrollment>(key)
      // only the enrolment this credential stands on: a newer enrolment the operator made on purpose stays
      if (enrolment?.issued?.id === id) await this.putSealed(key, { revoked: { id, at: this.now() }, at: enrolment.at })
      return rec
    })
  }

  /** Every credential this node issued, newest last (ids, types, subjects: no claims). */
  async issued (): Promise<IssuedRecord[]> {
    const out: IssuedRecord[] = []
    for await (const { value } of this.local.createReadStream<IssuedRecord>({ gte: 'issuer/issued/', lt: 'issuer/issued0' })) out.push(value)
    return out.sort((a, b) => a.issuedAt - b.issuedAt)
  }

  private async revokeIssued (id: string): Promise<IssuedRecord> {
    const node = await this.local.get<IssuedRecord>(`issuer/issued/${id}`)
    if (!node) throw GrowrError.NOT_FOUND(`this node did not issue credential ${id}`)
    if (node.value.statusIndex === null) throw GrowrError.BAD_ARGUMENT(`credential ${id} has no status entry`)
    await this.registry.revoke(node.value.statusIndex)
    const rec = { ...node.value, revoked: true }
    await this.local.put(`issuer/issued/${id}`, rec)
    return rec
  }

  private serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queueTail.then(fn, fn)
    this.queueTail = run.catch(() => {})
    return run
  }

  // the bee key is sealed in with the value, so a record moved to another key does not open there
  private async putSealed (key: string, value: unknown): Promise<void> {
    const plain = b4a.from(JSON.stringify({ key, value }), 'utf8')
    await this.local.put(key, { sealed: b4a.toString(seal(this.sealKey, plain), 'base64') })
  }

  private async getSealed<T> (key: string): Promise<T | null> {
    const node = await this.local.get<unknown>(key)
    return node ? this.open<T>(key, node.value) : null
  }

  // a record that does not open (not sealed, another key, another identity) is treated as absent:
  // it was not written by this issuer for this key
  private open<T> (key: string, stored: unknown): T | null {
    const sealed = (stored as { sealed?: unknown } | null)?.sealed
    if (typeof sealed !== 'string') return null
    const plain = unseal(this.sealKey, b4a.from(sealed, 'base64'))
    if (!plain) return null
    try {
      const rec = JSON.parse(b4a.toString(plain, 'utf8')) as { key?: unknown; value?: T }
      return rec.key === key && rec.value !== undefined ? rec.value : null
    } catch {
      return null
    }
  }
}

function enrolledKey (subject: string, type: string): string { return `${ENROLLED}${subject}/${type}` }

function revokedError (type: string, id: string): GrowrError {
  return GrowrError.REVOKED(`this issuer revoked your ${type} (credential ${id}); it issues you no ${type} until it has checked you again and re-enrolled you`)
}
