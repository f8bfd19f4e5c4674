/**
 * Credit-exposure queries between certified originators, by the borrower's consent.
 *
 * Three parties, one node class:
 * - the borrower gives a consent (consent.ts) naming one asking organization, delivers it over
 *   peer-rpc (`exposure/consent`), and may revoke it: the bit on her own status list is set, and a
 *   signed notice is published on pubsub topic `exposure/revocations` when the node runs pubsub;
 * - the asker (an originator) broadcasts `exposure/query { v: 1, grant, nonce }` to the certified
 *   originators of its ads directory and collects signed answers (broadcast.ts) until a deadline;
 * - each answering originator checks the asker (certified as an originator, at most
 *   `maxPerMinute` queries a minute) and the consent, logs the query (query-log.ts), and answers
 *   signed: with a valid consent, the borrower's exposure in the books it originates
 *   (exposure.ts), sealed to the asker (seal.ts); otherwise the constant body `{ consent: false }`,
 *   whatever the reason and whether or not it knows her.
 *
 * Revocation is honoured within a bound: an answering node reads the borrower's status list
 * through its StatusResolver, which asks the borrower's node for its signed current head and
 * accepts an older confirmation only up to the resolver's maxAgeMs (5 min by default); a
 * revocation heard on pubsub is refused at once. Consent the status list cannot confirm is no
 * consent.
 *
 * Lifecycle: ready() registers the rpc methods and subscribes to revocations; close() unsubscribes.
 * The rpc, registry, resolver, directory and pubsub belong to the caller.
 * Runs under Bare and Node: no `node:` imports.
 */
import '../runtime/text-encoding.ts'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import type Hyperbee from 'hyperbee'
import { GrowrError } from '../errors.ts'
import { isDidKey, type DidKey } from '../identity/did-key.ts'
import type { StatusCheck } from '../credentials/vc.ts'
import type { StatusRegistry } from '../services/status-registry.ts'
import type { Handler } from '../network/peer-rpc.ts'
import { broadcast, openAnswer, signAnswer, type BroadcastRpc, type Quorum, type SignedAnswer } from '../network/broadcast.ts'
import type { Book } from '../../books/book.ts'
import type { Loan } from '../../books/entities.ts'
import { dateOf } from '../../books/dates.ts'
import { checkConsent, checkConsentInput, issueConsent, openRevocation, signRevocation, type ConsentCredential, type RevocationNotice } from './consent.ts'
import { combine, exposureOf, readReport, toJson, type CurrencyExposure, type CurrencyExposureJson, type ExposureReport } from './exposure.ts'
import { openSealed, sealTo } from './seal.ts'
import { ConsentStore, type GivenConsent, type ReceivedConsent } from './store.ts'
import { QueryLog, type QueryLogEntry } from './query-log.ts'

/** The rpc method an asker's broadcast calls on every answering originator. */
export const QUERY_METHOD = 'exposure/query'
/** The rpc method a borrower's node delivers a consent with. */
export const CONSENT_METHOD = 'exposure/consent'
/** The pubsub topic revocation notices travel on. */
export const REVOCATIONS_TOPIC = 'exposure/revocations'
/** Default of how long an asker collects answers, ms. */
export const DEFAULT_DEADLINE_MS = 15_000
/** Default of how many queries one asker may make of this node per minute. */
export const DEFAULT_MAX_PER_MINUTE = 30

/** The body every answer without consent carries, whatever the reason: it says nothing else. */
export const NO_CONSENT = Object.freeze({ consent: false as const })
/** An answer's body: the constant refusal, or the report sealed to the asker (base64). */
export type AnswerBody = { consent: false } | { consent: true; sealed: string }

/** What an answering node may be asked about an asker's certification (its chain, checked). */
export type CertifiedAs = (did: DidKey) => Promise<{ certified: boolean; roles: string[]; organization: string | null; reason?: string }>

/** The part of a pubsub this service uses (core/network/pubsub.ts). */
export interface PubSubLike {
  publish (topic: string, data: unknown): Promise<unknown>
  subscribe (topic: string, fn: (msg: { data: unknown }) => void): () => void
}

/** The part of a PeerRpc this service uses. */
export interface ExposureRpc extends BroadcastRpc {
  respond (method: string, handler: Handler): void
}

/** A certified originator the asker can ask, as its directory lists it. */
export interface Originator { did: DidKey; organization: string; certified: boolean }

export interface ExposureServiceOptions {
  identity: { did: DidKey; secretKey: Uint8Array }
  /** the node's private local bee: consents, revocations heard, the query log */
  local: Hyperbee
  /** the node's peer rpc; null: offline (consents are given and listed, nothing is sent or answered) */
  rpc: ExposureRpc | null
  /** the node's own status list (a borrower's consents are revocable there) */
  registry: StatusRegistry
  /** the borrower's status list check, with bounded staleness (StatusResolver.check) */
  checkStatus: StatusCheck
  /** whether an asker is a certified originator (its chain, e.g. from the ads directory) */
  certifiedAs: CertifiedAs
  /** the certified originators an asker may ask (e.g. the ads directory's, service originating) */
  originators: () => Originator[]
  /** the books this node follows; it reports on those it originates */
  books: () => Book[]
  /** pubsub, when the node runs it (read at open and at each revocation) */
  pubsub?: () => PubSubLike | null | undefined
  /** clock, ms (default Date.now) */
  now?: () => number
  /** queries one asker may make of this node per minute (default 30) */
  maxPerMinute?: number
}

/** One originator's answer as the asker sees it. */
export interface OriginatorExposure {
  did: DidKey
  organization: string
  certified: boolean
  /** exposure: it answered with the report; no-consent: it answered the constant refusal; failed: an error or an answer that did not check; pending: no answer by the deadline */
  status: 'exposure' | 'no-consent' | 'failed' | 'pending'
  /** its clock when it answered, ms (answered only) */
  at: number | null
  /** the date it judged arrears at (exposure only) */
  asOf: string | null
  books: Array<{ book: string; name: string; exposure: CurrencyExposureJson[] }>
  /** its books summed per currency (exposure only) */
  totals: CurrencyExposureJson[]
  reason: string | null
  /** the signed answer as received (keep it: anyone can check its signature; only this node can open its report) */
  answer: SignedAnswer<AnswerBody> | null
}

/** The asker's result of `exposure.check`. */
export interface ExposureCheck {
  subject: DidKey
  grant: { id: string; purpose: string; validUntil: string }
  /** this node's own books, computed locally */
  own: { did: DidKey; asOf: string; books: Array<{ book: string; name: string; exposure: CurrencyExposureJson[] }>; totals: CurrencyExposureJson[] }
  originators: OriginatorExposure[]
  /** own books plus every report received, per currency (never across currencies) */
  combined: CurrencyExposureJson[]
  asked: number
  /** how many answered with their exposure */
  answered: number
  quorum: { needed: number; met: boolean }
  elapsedMs: number
}

/** The borrower's side of a consent, for the contract. */
export interface GrantResult { consent: GivenConsent; delivered: boolean; deliveryError: string | null }

type Opened = { consent: false; at: number; answer: SignedAnswer<AnswerBody> } | { consent: true; at: number; asOf: string; books: Array<{ book: string; name: string; exposure: CurrencyExposure[] }>; answer: SignedAnswer<AnswerBody> }

/** Events: 'changed' when a consent is given, received, revoked or heard revoked, and when a query is logged. */
export class ExposureService extends ReadyResource {
  readonly store: ConsentStore
  readonly log: QueryLog
  private readonly opts: ExposureServiceOptions
  private readonly now: () => number
  private readonly maxPerMinute: number
  private readonly recent = new Map<DidKey, number[]>()
  /** queries refused over the per-asker rate, not logged */
  overRate = 0
  private unsubscribe: (() => void) | null = null

  /** @param opts see ExposureServiceOptions */
  constructor (opts: ExposureServiceOptions) {
    super()
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.maxPerMinute = opts.maxPerMinute ?? DEFAULT_MAX_PER_MINUTE
    this.store = new ConsentStore(opts.local)
    this.log = new QueryLog(opts.local)
  }

  protected async _open (): Promise<void> {
    const rpc = this.opts.rpc
    if (rpc) {
      rpc.respond(QUERY_METHOD, async (req, from) => await this.answer(req, from))
      rpc.respond(CONSENT_METHOD, async (req, from) => await this.receive(req, from))
    }
    this.listen()
  }

  protected async _close (): Promise<void> {
    if (this.unsubscribe) this.unsubscribe()
    this.unsubscribe = null
  }

  /** Subscribes to revocation notices if pubsub runs now and we are not subscribed yet. */
  private listen (): void {
    if (this.unsubscribe || this.closing) return
    const pubsub = this.opts.pubsub?.()
    if (!pubsub) return
    try {
      this.unsubscribe = pubsub.subscribe(REVOCATIONS_TOPIC, (msg) => { this.heard(msg?.data).catch(safetyCatch) })
    } catch (err) {
      safetyCatch(err)
    }
  }

  /**
   * Takes in a revocation notice (from pubsub, or handed in). Never throws.
   * @returns whether it was a valid notice not heard before
   */
  async heard (notice: unknown): Promise<boolean> {
    const n = openRevocation(notice)
    if (!n.ok) return false
    // kept only about borrowers this node deals with: anyone can sign notices for made-up grants
    if (n.subject !== this.opts.identity.did && !(await this.knows(n.subject))) return false
    const fresh = await this.store.hear(n.subject, n.grant, n.at, this.now())
    if (fresh) this.emit('changed')
    return fresh
  }

  // ---- the borrower's side

  /**
   * Gives `to` consent to ask certified originators about this node's DID, and delivers it.
   * @param a.to the asking organization's did:key
   * @param a.purpose 1..200 characters
   * @param a.days 1..90 (default 30)
   * @param a.scope organizations that may answer (default any certified originator)
   * @param a.timeoutMs how long delivery may take, ms (default 10 000)
   * @returns the consent as kept, and whether it reached the asker (it is kept either way; `consent.grant` again to resend is not needed: the asker may also be handed the credential)
   * @throws BAD_ARGUMENT for a malformed argument (consent.ts issueConsent)
   */
  async grant (a: { to: string; purpose: string; days?: number; scope?: string[]; timeoutMs?: number }): Promise<GrantResult> {
    await this.ready()
    const days = a.days ?? 30
    // checks first, so a refused consent uses no status bit
    checkConsentInput({ borrower: this.opts.identity, asker: a.to, purpose: a.purpose, days, scope: a.scope })
    const status = await this.opts.registry.allocate()
    const credential = issueConsent({ borrower: this.opts.identity, asker: a.to, purpose: a.purpose, days, scope: a.scope, now: this.now(), status })
    const s = credential.credentialSubject
    const consent: GivenConsent = { id: credential.id, to: s.id, purpose: s.purpose, scope: s.scope ?? null, validFrom: credential.validFrom, validUntil: credential.validUntil, statusIndex: Number(status.statusListIndex), revoked: false, revokedAt: null, credential }
    await this.store.putGiven(consent)
    this.emit('changed')
    const sent = await this.deliver(consent, a.timeoutMs ?? 10_000)
    return { consent, delivered: sent === null, deliveryError: sent }
  }

  /** @returns null once delivered, else why not */
  private async deliver (consent: GivenConsent, timeoutMs: number): Promise<string | null> {
    const rpc = this.opts.rpc
    if (!rpc) return 'this node runs offline'
    try {
      const started = Date.now()
      if (!rpc.peers().includes(consent.to)) await rpc.connect(consent.to, { timeoutMs })
      await rpc.request(consent.to, CONSENT_METHOD, { grant: consent.credential }, { timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) })
      return null
    } catch (err) {
      return String((err as Error)?.message ?? err).slice(0, 300)
    }
  }

  /**
   * Revokes a consent this node gave: sets its bit on this node's status list (every answering
   * node sees it within its bound), remembers it, and announces it on pubsub when it runs.
   * @returns the consent as kept now, and whether the notice was published
   * @throws NOT_FOUND when this node gave no consent with `id`
   */
  async revoke (id: string): Promise<{ consent: GivenConsent; announced: boolean }> {
    await this.ready()
    const given = await this.store.given(id)
    if (!given) throw GrowrError.NOT_FOUND(`this node gave no consent ${String(id).slice(0, 100)}`)
    await this.opts.registry.revoke(given.statusIndex)
    const consent: GivenConsent = given.revoked ? given : { ...given, revoked: true, revokedAt: this.now() }
    await this.store.putGiven(consent)
    this.emit('changed')
    const notice: RevocationNotice = signRevocation(this.opts.identity, id, this.now())
    await this.heard(notice)
    this.listen()
    let announced = false
    const pubsub = this.opts.pubsub?.()
    if (pubsub) {
      try {
        await pubsub.publish(REVOCATIONS_TOPIC, notice)
        announced = true
      } catch (err) {
        safetyCatch(err)
      }
    }
    return { consent, announced }
  }

  /** @returns the consents this node gave and those given to it */
  async list (): Promise<{ given: GivenConsent[]; received: ReceivedConsent[] }> {
    await this.ready()
    return { given: await this.store.listGiven(), received: await this.store.listReceived() }
  }

  // ---- the asker's side

  /** `exposure/consent`: a borrower hands us a consent naming us, signed by herself (the sender). */
  private async receive (req: unknown, from: DidKey): Promise<{ id: string; stored: true }> {
    const grant = (req as { grant?: unknown } | null)?.grant
    const checked = await checkConsent(grant, { asker: this.opts.identity.did, subject: from, now: this.now() })
    if (!checked.ok) throw GrowrError.BAD_ARGUMENT(`consent refused: ${checked.reason}`)
    const c = checked.consent
    // a DID costs nothing: only a member of one of this node's books (an applicant) may hand it consents
    if (!(await this.knows(c.subject))) throw GrowrError.BAD_ARGUMENT('consent refused: the borrower is not a member of a book this node originates')
    const kept = await this.store.putReceived({ id: c.id, from: c.subject, purpose: c.purpose, scope: c.scope, validFrom: c.validFrom, validUntil: c.validUntil, receivedAt: this.now(), credential: grant as ConsentCredential })
    if (!kept) throw GrowrError.BAD_ARGUMENT('this node keeps no more consents')
    this.emit('changed')
    return { id: c.id, stored: true }
  }

  /**
   * Asks every certified originator what `subject` owes it, under the consent she gave this node.
   * @param a.subject the borrower's did:key
   * @param a.grant the consent's id (default the one she gave us that lasts longest and is not known revoked)
   * @param a.deadlineMs how long to collect answers, ms (default 15 000, at most 300 000)
   * @param a.quorum how many originators must answer with their exposure (default 1; broadcast.ts Quorum)
   * @returns per originator its answer, this node's own books, and the combined exposure per currency
   * @throws NOT_FOUND when she gave this node no usable consent; BAD_ARGUMENT for a malformed
   *   subject, deadline or quorum; the network errors are per originator, in the result
   */
  async check (a: { subject: string; grant?: string; deadlineMs?: number; quorum?: Quorum }): Promise<ExposureCheck> {
    await this.ready()
    if (!isDidKey(a.subject)) throw GrowrError.BAD_ARGUMENT('the borrower is named by her did:key')
    const subject = a.subject
    const now = this.now()
    const usable: ReceivedConsent[] = []
    for (const r of await this.store.received(subject)) {
      if (a.grant !== undefined && r.id !== a.grant) continue
      const ok = await checkConsent(r.credential, { asker: this.opts.identity.did, subject, now, heardRevoked: async (s, id) => await this.store.heard(s, id) })
      if (ok.ok) usable.push(r)
    }
    usable.sort((x, y) => Date.parse(y.validUntil) - Date.parse(x.validUntil))
    const grant = usable[0]
    if (!grant) throw GrowrError.NOT_FOUND(`${subject} has given this node no consent in force${a.grant ? ` with id ${a.grant.slice(0, 100)}` : ''}: ask her to grant it`)

    const own = await this.ownExposure(subject, now)
    const me = this.opts.identity.did
    const listed = this.opts.originators().filter((o) => o.certified && o.did !== me && (grant.scope === null || grant.scope.includes(o.did)))
    const byDid = new Map(listed.map((o) => [o.did, o]))
    const nonce = b4a.alloc(32)
    sodium.randombytes_buf(nonce)
    const request = { v: 1, grant: grant.credential, nonce: b4a.toString(nonce, 'hex') }
    const rpc = this.opts.rpc
    const originators: OriginatorExposure[] = []
    let needed = 0
    let met = false
    let elapsedMs = 0
    if (rpc && listed.length > 0) {
      const result = await broadcast<Opened>(rpc, QUERY_METHOD, request, {
        peers: listed.map((o) => o.did),
        deadlineMs: a.deadlineMs ?? DEFAULT_DEADLINE_MS,
        quorum: a.quorum ?? 1,
        self: me,
        now: Date.now,
        open: (did, answer) => this.openAnswer(did, answer, request, subject, grant.id),
        agrees: (v) => v.consent
      })
      needed = result.needed
      met = result.quorum
      elapsedMs = result.elapsedMs
      const base = (did: DidKey) => {
        const o = byDid.get(did)
        return { did, organization: o?.organization ?? '', certified: o?.certified === true, at: null, asOf: null, books: [], totals: [], reason: null, answer: null }
      }
      for (const { did, value } of result.answers) {
        if (value.consent) {
          originators.push({ ...base(did), status: 'exposure', at: value.at, asOf: value.asOf, books: value.books.map(jsonBook), totals: combine(value.books.map((b) => b.exposure)).map(toJson), answer: value.answer })
        } else {
          originators.push({ ...base(did), status: 'no-consent', at: value.at, reason: 'it answered that it holds no valid consent for this node', answer: value.answer })
        }
      }
      for (const { did, reason } of result.failed) originators.push({ ...base(did), status: 'failed', reason })
      for (const did of result.pending) originators.push({ ...base(did), status: 'pending', reason: 'no answer before the deadline' })
    } else {
      needed = typeof a.quorum === 'number' ? a.quorum : 1
    }
    const reports = originators.filter((o) => o.status === 'exposure')
    const combined = combine([own.exposure, ...reports.map((o) => o.totals.map(fromJsonExact))]).map(toJson)
    return {
      subject,
      grant: { id: grant.id, purpose: grant.purpose, validUntil: grant.validUntil },
      own: { did: me, asOf: own.asOf, books: own.books.map(jsonBook), totals: own.exposure.map(toJson) },
      originators,
      combined,
      asked: listed.length,
      answered: reports.length,
      quorum: { needed, met },
      elapsedMs
    }
  }

  /** Checks one raw answer: its signature for this very request, then its body. Never throws. */
  private openAnswer (did: DidKey, raw: unknown, request: unknown, subject: string, grant: string): { ok: true; value: Opened } | { ok: false; reason: string } {
    const opened = openAnswer(raw, { peer: did, method: QUERY_METHOD, request })
    if (!opened.ok) return opened
    const answer = opened.answer as SignedAnswer<AnswerBody>
    const body = answer.body as unknown
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, reason: 'the answer has no body' }
    const keys = Object.keys(body).sort().join(',')
    const b = body as { consent?: unknown; sealed?: unknown }
    if (b.consent === false && keys === 'consent') return { ok: true, value: { consent: false, at: answer.at, answer } }
    if (b.consent !== true || keys !== 'consent,sealed') return { ok: false, reason: 'the answer\'s body is neither a refusal nor a sealed report' }
    const plain = openSealed(b.sealed, this.opts.identity.secretKey)
    if (!plain.ok) return plain
    let json: unknown
    try {
      json = JSON.parse(b4a.toString(plain.plaintext, 'utf-8'))
    } catch {
      return { ok: false, reason: 'the sealed report is not JSON' }
    }
    const report = readReport(json, { subject, grant })
    if (!report.ok) return report
    return { ok: true, value: { consent: true, at: answer.at, asOf: report.asOf, books: report.books, answer } }
  }

  /** @returns whether `did` is a member of a book this node originates, or gave this node a consent */
  private async knows (did: string): Promise<boolean> {
    if ((await this.store.received(did)).length > 0) return true
    for (const book of this.opts.books()) {
      const meta = await book.view.meta()
      if (meta?.originator === this.opts.identity.did && (await book.view.get('members', did)) !== null) return true
    }
    return false
  }

  /** The borrower's exposure in the books this node originates. */
  private async ownExposure (subject: string, now: number): Promise<{ asOf: string; books: Array<{ book: string; name: string; exposure: CurrencyExposure[] }>; exposure: CurrencyExposure[] }> {
    const asOf = dateOf(now)
    const books: Array<{ book: string; name: string; exposure: CurrencyExposure[] }> = []
    for (const book of this.opts.books()) {
      const meta = await book.view.meta()
      if (!meta || meta.originator !== this.opts.identity.did) continue
      // every loan is read whoever the borrower, so the time taken does not tell whether she has any here
      const loans = await book.view.list('loans') as Loan[]
      const exposure = exposureOf(loans, subject, asOf)
      if (exposure.length > 0) books.push({ book: book.topic, name: meta.name.slice(0, 200), exposure })
    }
    return { asOf, books, exposure: combine(books.map((b) => b.exposure)) }
  }

  // ---- the answering side

  /** `exposure/query`: see the module comment. Logs every query; throws only to refuse an asker outright. */
  private async answer (req: unknown, from: DidKey): Promise<SignedAnswer<AnswerBody>> {
    const at = this.now()
    const r = (req ?? {}) as { v?: unknown; grant?: unknown; nonce?: unknown }
    const g = r.grant as { id?: unknown; credentialSubject?: { subject?: unknown; purpose?: unknown } } | undefined
    const str = (v: unknown) => typeof v === 'string' ? v : null
    const entry: QueryLogEntry = { at, asker: from, subject: str(g?.credentialSubject?.subject), purpose: str(g?.credentialSubject?.purpose), grant: str(g?.id), outcome: 'refused', reason: null }
    const refuse = async (err: GrowrError): Promise<never> => {
      await this.log.record({ ...entry, reason: err.message.replace(/^[A-Z_]+: /, '') })
      this.emit('changed')
      throw err
    }
    // over the rate, nothing is written: a flood must not grow the log (it is counted instead)
    if (!this.allow(from, at)) {
      this.overRate++
      throw GrowrError.OP_REJECTED(`at most ${this.maxPerMinute} credit-exposure queries a minute are answered per organization`)
    }
    const cert = await this.opts.certifiedAs(from).catch((err) => ({ certified: false, roles: [] as string[], organization: null, reason: String((err as Error)?.message ?? err) }))
    if (!cert.certified || !cert.roles.includes('originator')) {
      await refuse(GrowrError.OP_REJECTED(`this node answers credit-exposure queries only from certified originators${cert.reason ? ` (${cert.reason.slice(0, 200)})` : ''}`))
    }
    if (r.v !== 1 || typeof r.nonce !== 'string' || !/^[0-9a-f]{64}$/.test(r.nonce)) await refuse(GrowrError.BAD_ARGUMENT('a credit-exposure query is { v: 1, grant, nonce (64 hex) }'))
    const me = this.opts.identity.did
    const checked = await checkConsent(r.grant, { asker: from, answerer: me, now: at, heardRevoked: async (s, id) => await this.store.heard(s, id), checkStatus: this.opts.checkStatus })
    if (!checked.ok) {
      await this.log.record({ ...entry, outcome: 'no-consent', reason: checked.reason })
      this.emit('changed')
      return signAnswer<AnswerBody>({ identity: this.opts.identity, method: QUERY_METHOD, request: req, body: { ...NO_CONSENT }, at })
    }
    const own = await this.ownExposure(checked.consent.subject, at)
    const report: ExposureReport = { v: 1, subject: checked.consent.subject, grant: checked.consent.id, asOf: own.asOf, books: own.books.map(jsonBook) }
    const sealed = sealTo(from, b4a.from(JSON.stringify(report)))
    await this.log.record({ ...entry, outcome: 'answered', reason: null })
    this.emit('changed')
    return signAnswer<AnswerBody>({ identity: this.opts.identity, method: QUERY_METHOD, request: req, body: { consent: true, sealed }, at })
  }

  /** A sliding one-minute window per asker. @returns whether one more query is allowed */
  private allow (did: DidKey, at: number): boolean {
    const times = (this.recent.get(did) ?? []).filter((t) => at - t < 60_000)
    if (times.length >= this.maxPerMinute) {
      this.recent.set(did, times)
      return false
    }
    times.push(at)
    this.recent.set(did, times)
    // forget quiet askers, so the map does not grow with every DID that ever asked
    if (this.recent.size > 4096) for (const [d, ts] of this.recent) if (ts.every((t) => at - t >= 60_000)) this.recent.delete(d)
    return true
  }
}

function jsonBook (b: { book: string; name: string; exposure: CurrencyExposure[] }): { book: string; name: string; exposure: CurrencyExposureJson[] } {
  return { book: b.book, name: b.name, exposure: b.exposure.map(toJson) }
}

function fromJsonExact (e: CurrencyExposureJson): CurrencyExposure {
  return { currency: e.currency, loans: e.loans, outstandingPrincipal: BigInt(e.outstandingPrincipal), arrearsInstalments: e.arrearsInstalments, arrearsAmount: BigInt(e.arrearsAmount), defaultedLoans: e.defaultedLoans }
}
