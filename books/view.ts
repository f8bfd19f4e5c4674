/**
 * The book's view: one Hyperbee (utf-8 keys, JSON values) split into sub-databases, and the
 * read queries over it. Apply writes it; everything else only reads.
 *
 *   meta/book                 BookMeta            meta/seq   next audit sequence number
 *   meta/clock                BookClock           latest time each side has vouched for (books/clock.ts)
 *   members/<did>             Member              writers/<writer key hex>   signer DID bound to that writer
 *   projects/<projectId>      Project             loans/<loanId>             Loan
 *   fundings/<fundingId>      Funding             payments/<paymentId>       Payment
 *   distributions/<paymentId>/<fundingId>         Distribution
 *   audit/<seq, 12 digits>    AuditEntry (every op, accepted or rejected)
 *   ops/<signer scope>/<opId> audit seq of the op (replay protection; an op is its signer's, books/ids.ts)
 *   trust/issuer/<credentialType>/<did>, trust/verifier/<did>          TrustRecord
 *   trust/governance/<credentialType>/<did>   TrustRecord: issuers of that type certified through that governance DID
 *   attested/<applicant>/<presentationHash>       loanId whose application used that attestation
 *   addresses/<kind>/<ref>    ReceivingAddress    addresses/used/<address>   "<kind>/<ref>" it was given to
 *   addresses/lightning/<did>  a member's Lightning node key   addresses/invoice/<paymentHash>  PostedInvoice
 *   outpoints/<txid>:<vout>   paymentId proven by that output (an output backs one payment only)
 *   outpoints/ln:<paymentHash>  paymentId proven by that preimage
 *   outpoints/rsk:<txHash>[:<logIndex>]  paymentId proven by that Rootstock transaction (native) or Transfer log (token)
 *   outpoints/orphaned/<blockHash>  the work (decimal) of the branch that reorganised that block out
 *   addresses/zap/<30402:pubkey:d>  projectId a NIP-99 listing's zaps fund (projects/<id>.zap holds the settings)
 *   outpoints/zap:<receiptId>  fundingId a NIP-57 zap receipt made (a receipt counts once; its invoice spends outpoints/ln:<paymentHash>)
 *   nostr/key/<pubkey>/<scope>  NostrKeyRecord: a Nostr key speaking for the organization or one project (books/nostr/binding.ts)
 */
import Hyperbee from 'hyperbee'
import sodium from 'sodium-universal'
import b4a from 'b4a'
import type { AuditEntry, BookClock, BookMeta, Distribution, Funding, Loan, Member, Payment, PostedInvoice, Project, ReceivingAddress, TrustRecord } from './entities.ts'
import { opKey } from './ids.ts'
import { EPOCH_CLOCK } from './clock.ts'
import { speaksFor, type NostrKeyRecord, type SpeaksFor } from './nostr/binding.ts'

export const SUBS = ['meta', 'members', 'writers', 'projects', 'loans', 'fundings', 'payments', 'distributions', 'audit', 'ops', 'trust', 'attested', 'addresses', 'outpoints', 'nostr'] as const
export type Sub = typeof SUBS[number]

export interface Records {
  meta: BookMeta | BookClock | number
  members: Member
  writers: string
  projects: Project
  loans: Loan
  fundings: Funding
  payments: Payment
  distributions: Distribution
  audit: AuditEntry
  ops: number
  trust: TrustRecord
  attested: string
  addresses: ReceivingAddress | PostedInvoice | string
  outpoints: string
  nostr: NostrKeyRecord
}

/** View keys of trust records. */
export const trustKey = {
  issuer: (credentialType: string, did: string) => `issuer/${credentialType}/${did}`,
  verifier: (did: string) => `verifier/${did}`,
  governance: (credentialType: string, did: string) => `governance/${credentialType}/${did}`
}

/**
 * How a book admits credential issuers: the DIDs it lists per type, and per type the governance
 * DIDs whose certified issuers it accepts (whose chains the verifier must check when it uses them).
 */
export interface IssuerRules {
  /** whether `issuer` is listed by name for credentials of `type` (synchronous: a verifier's trustedIssuers option) */
  listed: (type: string, issuer: string) => boolean
  /** credential type -> governance DIDs, in key order */
  governance: Record<string, string[]>
}

/** Audit keys sort in apply order. */
export function auditKey (seq: number): string { return String(seq).padStart(12, '0') }

/** Read side of a book's view. Holds no state beyond the Hyperbee and its subs. */
export class BookView {
  readonly bee: Hyperbee
  readonly subs: Record<Sub, Hyperbee>

  constructor (bee: Hyperbee) {
    this.bee = bee
    this.subs = Object.fromEntries(SUBS.map((s) => [s, bee.sub(s)])) as Record<Sub, Hyperbee>
  }

  /**
   * A fresh sub for one read. `subs` are kept for their key encodings only: a Hyperbee sub
   * never drops its node cache when Autobase reorders and truncates the view, so a long-lived
   * sub can keep answering from blocks the view no longer holds (a record missing or stale).
   */
  private reader (sub: Sub): Hyperbee { return this.bee.sub(sub) }

  /** @returns the record at `key` in sub `sub`, or null */
  async get<S extends Sub> (sub: S, key: string): Promise<Records[S] | null> {
    const node = await this.reader(sub).get<Records[S]>(key)
    return node ? node.value : null
  }

  /** @returns every record of a sub in key order (books are small enough; paginate in the UI) */
  async list<S extends Sub> (sub: S, range: { gte?: string; lt?: string } = {}): Promise<Array<Records[S]>> {
    const out: Array<Records[S]> = []
    for await (const node of this.reader(sub).createReadStream<Records[S]>(range)) out.push(node.value)
    return out
  }

  async meta (): Promise<BookMeta | null> { return (await this.get('meta', 'book')) as BookMeta | null }

  /** @returns the latest time each side of the book has vouched for (books/clock.ts) */
  async clock (): Promise<BookClock> { return ((await this.get('meta', 'clock')) as BookClock | null) ?? EPOCH_CLOCK }

  /** @returns credential type -> issuer DIDs the originator accepts (the book's well-known issuers) */
  async trustedIssuers (): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {}
    for (const r of await this.list('trust', { gte: 'issuer/', lt: 'issuer0' })) if (r.trusted) (out[r.credentialType as string] ??= []).push(r.did)
    return out
  }

  /**
   * @returns whether the book lists `issuer` by name for credentials of `type`: a verifier's
   *   trustedIssuers option. Issuers admitted by a governance rule are not in it: see {@link issuerRules}.
   */
  async issuerTrust (): Promise<(type: string, issuer: string) => boolean> {
    const trusted = await this.trustedIssuers()
    return (type, issuer) => Object.hasOwn(trusted, type) && trusted[type].includes(issuer)
  }

  /** @returns credential type -> governance DIDs whose certified issuers the originator accepts for it */
  async trustedGovernance (): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {}
    for (const r of await this.list('trust', { gte: 'governance/', lt: 'governance0' })) if (r.trusted) (out[r.credentialType as string] ??= []).push(r.did)
    return out
  }

  /** @returns both ways the book admits issuers, read at once (see {@link IssuerRules}) */
  async issuerRules (): Promise<IssuerRules> {
    const [listed, governance] = await Promise.all([this.issuerTrust(), this.trustedGovernance()])
    return { listed, governance }
  }

  /** @returns the verifiers whose eligibility attestations the book accepts: the originator and those it named */
  async trustedVerifiers (): Promise<string[]> {
    const meta = await this.meta()
    const named = (await this.list('trust', { gte: 'verifier/', lt: 'verifier0' })).filter((r) => r.trusted).map((r) => r.did)
    return meta ? [meta.originator, ...named.filter((d) => d !== meta.originator)] : named
  }

  /** @returns every Nostr key the book records, active and retired, by public key then scope */
  async nostrKeys (): Promise<NostrKeyRecord[]> { return await this.list('nostr', { gte: 'key/', lt: 'key0' }) }

  /**
   * Does Nostr key `pubkey` speak for `project` of this book (null: for the organization)?
   * Organization keys speak for every project, project keys only for theirs, retired keys for none.
   * @returns the active record that admits it, or the reason in plain words
   */
  async nostrSpeaksFor (pubkey: string, project: string | null): Promise<SpeaksFor> { return speaksFor(await this.nostrKeys(), pubkey, project) }

  async auditLength (): Promise<number> { return ((await this.get('meta', 'seq')) as number | null) ?? 0 }

  /**
   * @param signer the DID that signed the op: an op is identified by its signer and its id, so
   *   another DID's op under the same id is never reported as this one
   * @returns the audit entry of the op, or null while it is not applied here
   */
  async auditOf (signer: string, opId: string): Promise<AuditEntry | null> {
    const seq = await this.get('ops', opKey(signer, opId))
    return seq === null ? null : await this.get('audit', auditKey(seq))
  }

  /**
   * BLAKE2b-256 over every key and value of the view in key order: equal on two peers if and
   * only if their views hold the same records. Hex string.
   */
  async hash (): Promise<string> {
    const state = b4a.alloc(sodium.crypto_generichash_STATEBYTES)
    sodium.crypto_generichash_init(state, null, 32)
    const len = b4a.alloc(4)
    for await (const node of this.bee.createReadStream<Uint8Array>({}, { keyEncoding: 'binary', valueEncoding: 'binary' })) {
      for (const part of [node.key as unknown as Uint8Array, node.value]) {
        new DataView(len.buffer, len.byteOffset, 4).setUint32(0, part.byteLength)
        sodium.crypto_generichash_update(state, len)
        sodium.crypto_generichash_update(state, part)
      }
    }
    const out = b4a.alloc(32)
    sodium.crypto_generichash_final(state, out)
    return b4a.toString(out, 'hex')
  }

  /** Counts and totals for a one-screen summary of the book. */
  async summary (): Promise<BookSummary> {
    const [projects, loans, fundings, payments, distributions, audit, members] = await Promise.all([
      this.list('projects'), this.list('loans'), this.list('fundings'), this.list('payments'), this.list('distributions'), this.list('audit'), this.list('members')
    ])
    const count = <T extends string>(xs: Array<{ status: T }>) => xs.reduce<Record<string, number>>((m, x) => { m[x.status] = (m[x.status] ?? 0) + 1; return m }, {})
    return {
      members: members.length,
      projects: count(projects),
      loans: count(loans),
      fundings: count(fundings),
      payments: count(payments),
      distributed: distributions.reduce((s, d) => s + d.amount, 0),
      ops: audit.length,
      rejected: audit.filter((a) => a.status === 'rejected').length
    }
  }
}

export interface BookSummary {
  members: number
  projects: Record<string, number>
  loans: Record<string, number>
  fundings: Record<string, number>
  payments: Record<string, number>
  distributed: number
  ops: number
  rejected: number
}
