/**
 * The credential verification service (Growr protocol: "validation of presentations of verifiable
 * credentials and assessing the eligibility of a given user to apply for a loan").
 *
 * 1. The applicant asks for a challenge for one project (`vp/challenge`). The challenge is
 *    stateless: the verifier's MAC over {holder, book, project, expiry, nonce} under a key only
 *    this process knows, so asking costs the verifier no memory and a flood of requests from
 *    fresh DIDs cannot crowd out anyone.
 * 2. The applicant presents (`vp/verify`): a VerifiablePresentation over that challenge, with the
 *    project's domain. The verifier checks the MAC against the presenting DID, book and project,
 *    and consumes the challenge (remembered only until it expires, so a replay is refused). Then
 *    the holder's proof and each credential (signature, validity, subject, issuer trusted by the
 *    book for its type: listed by name, or certified through a governance DID the book names for
 *    that type, its certificate chain verified now, revocation included, see
 *    core/governance/issuer-trust.ts), refuses a presentation that carries one record twice, and
 *    only for the credentials that passed all that asks the network for revocation status,
 *    within one budget, from the issuer's current list (see status-registry.ts). It evaluates the
 *    project's rules over the facts the accepted credentials disclose.
 * 3. It signs an EligibilityAttestation: the decision, the criteria that failed, the hash of the
 *    presentation and of the rules judged against. The claims themselves go nowhere: the loan
 *    application carries the attestation only. The result says what revocation freshness was
 *    required and established.
 * The domain names book and project, so a presentation cannot be used for another project.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { GrowrError } from '../errors.ts'
import type { DidKey } from '../identity/did-key.ts'
import type { Book } from '../../books/book.ts'
import type { IssuerRules } from '../../books/view.ts'
import { duplicateRecords, factsFrom } from '../credentials/catalogue.ts'
import { jcs } from '../credentials/eddsa-jcs-2022.ts'
import { checkStatusAgainst, type BitstringStatusListEntry } from '../credentials/bitstring-status-list.ts'
import type { Problem, VerifiableCredential } from '../credentials/vc.ts'
import { presentationHash, verifyPresentation } from '../credentials/vp.ts'
import { criteriaHash, issueAttestation } from '../credentials/attestation.ts'
import { evaluateEligibility, type ConditionOutcome } from './eligibility.ts'
import type { CurrentList, StatusFreshness } from './status-registry.ts'
import type { PeerRpc } from '../network/peer-rpc.ts'
import type { StatusCheck } from '../credentials/vc.ts'
import type { Network } from '../governance/network.ts'
import { admitByGovernance, type ChainSource } from '../governance/issuer-trust.ts'

/** What the verifier required and established about revocation status for one presentation. */
export interface StatusReport {
  /** when the status was checked (verifier's clock, ms since the epoch) */
  checkedAt: number
  /** the oldest issuer confirmation of a list accepted when the issuer could not be asked, ms */
  maxAgeMs: number
  /** per status list read: its length as confirmed by its issuer, when, and how */
  lists: StatusFreshness[]
}

/**
 * Which of the book's rules admitted a credential's issuer: listed by name for the type, or
 * certified through a governance DID the book names for the type (`path`: the chain's DIDs, root
 * first, founder to issuer, as verified at `checkedAt`).
 */
export type IssuerAdmission =
  | { credential: string; type: string; issuer: string; rule: 'listed' }
  | { credential: string; type: string; issuer: string; rule: 'governance'; governance: string; path: string[]; checkedAt: number }

/** How the verifier checks issuers' certificate chains for books' governance rules. */
export interface GovernanceChecks {
  /** the network in use (its founders root every chain) */
  network: () => Promise<Network>
  /** where an issuer's chain is found, in order (core/governance/issuer-trust.ts nodeChainSources) */
  sources: ChainSource[]
  /** how certificates' revocation is read (a StatusResolver's check) */
  checkStatus: StatusCheck
}

/** What the verifier answers: the decision, why, and the signed attestation (null when the presentation itself failed). */
export interface EligibilityResult {
  eligible: boolean
  /** plain sentences for the applicant: failed criteria (with her values) and refused credentials */
  reasons: string[]
  conditions: ConditionOutcome[]
  problems: Problem[]
  attestation: VerifiableCredential | null
  verifier: DidKey
  /** revocation freshness required and established; null when no status was checked */
  status: StatusReport | null
  /** for each accepted credential, the rule that admitted its issuer */
  issuers: IssuerAdmission[]
}

/** Looks up an issuer's current status list (a StatusResolver's `current`). */
export type StatusLookup = (url: string, issuer: string, timeoutMs: number) => Promise<CurrentList>

/** The presentation domain of one project of one book: binds a presentation to that project. */
export function presentationDomain (bookKeyHex: string, projectId: string): string {
  return `urn:growr:project:${bookKeyHex}:${projectId}`
}

/** How long a challenge stays valid, ms. */
export const CHALLENGE_TTL_MS = 10 * 60 * 1000
/** Most distinct status lists one presentation may make the verifier fetch. */
export const MAX_STATUS_LISTS = 8
/** Most distinct issuers whose certificate chains one presentation may make the verifier check. */
export const MAX_GOVERNANCE_ISSUERS = 8
const CHALLENGE_DOMAIN = b4a.from('growr/vp-challenge/v1\0')
const CHALLENGE_FORMAT = /^([0-9]{1,16})\.([0-9a-f]{32})\.([0-9a-f]{64})$/

export class VerificationService {
  private readonly identity: { did: DidKey; secretKey: Uint8Array }
  private readonly findBook: (keyHex: string) => Book | null
  private readonly status: StatusLookup | null
  private readonly statusTimeoutMs: number
  private readonly governance: GovernanceChecks | null
  private readonly now: () => number
  // the MAC key of this process's challenges: a restart invalidates outstanding ones
  private readonly secret = b4a.alloc(32)
  /** MACs of consumed challenges -> their expiry; each was issued by us and is dropped once expired */
  private readonly consumed = new Map<string, number>()
  private sweepAt = 1024

  /**
   * @param opts.findBook the followed book with that key (hex), or null
   * @param opts.status how an issuer's current status list is looked up (a StatusResolver's
   *   `current`); without it a credential with a status entry is not accepted (STATUS_UNAVAILABLE)
   * @param opts.statusTimeoutMs the budget of all status lookups of one presentation together, ms (default 10 000)
   * @param opts.governance how issuers' certificate chains are found and checked, for books that
   *   trust "issuers of type T certified through governance G"; without it such issuers are refused
   * @param opts.now clock, ms since the epoch
   */
  constructor (opts: { identity: { did: DidKey; secretKey: Uint8Array }; findBook: (keyHex: string) => Book | null; status?: StatusLookup; statusTimeoutMs?: number; governance?: GovernanceChecks; now?: () => number }) {
    this.identity = opts.identity
    this.findBook = opts.findBook
    this.status = opts.status ?? null
    this.statusTimeoutMs = opts.statusTimeoutMs ?? 10_000
    this.governance = opts.governance ?? null
    this.now = opts.now ?? Date.now
    sodium.randombytes_buf(this.secret)
  }

  /** Answers `vp/challenge` and `vp/verify` on the peers' connections. */
  serve (rpc: PeerRpc): void {
    rpc.respond('vp/challenge', async (req, from) => {
      const { book, projectId } = (req ?? {}) as { book?: string; projectId?: string }
      return await this.challenge(String(book), String(projectId), from)
    })
    rpc.respond('vp/verify', async (req, from) => {
      const { book, projectId, presentation } = (req ?? {}) as { book?: string; projectId?: string; presentation?: unknown }
      return await this.verify(String(book), String(projectId), presentation, from)
    })
  }

  /**
   * A one-time challenge for `holder` to present to this verifier for one project, valid
   * CHALLENGE_TTL_MS. Nothing is stored: the challenge carries its expiry and a MAC binding it
   * to holder, book and project.
   * @returns the challenge (`<expiry ms>.<nonce hex>.<mac hex>`) and the presentation domain
   * @throws NOT_FOUND when this node does not follow the book or the project does not exist
   */
  async challenge (bookKeyHex: string, projectId: string, holder: string): Promise<{ challenge: string; domain: string }> {
    await this.project(bookKeyHex, projectId)
    const expires = this.now() + CHALLENGE_TTL_MS
    const nonce = b4a.alloc(16)
    sodium.randombytes_buf(nonce)
    const nonceHex = b4a.toString(nonce, 'hex')
    const challenge = `${expires}.${nonceHex}.${this.mac(holder, bookKeyHex, projectId, expires, nonceHex)}`
    return { challenge, domain: presentationDomain(bookKeyHex, projectId) }
  }

  /**
   * Verifies a presentation and decides eligibility for one project.
   * @param holder the DID the presentation came from (authenticated by the connection)
   * @throws NOT_FOUND for an unknown book or project; every other failure is a not-eligible result
   */
  async verify (bookKeyHex: string, projectId: string, presentation: unknown, holder: string): Promise<EligibilityResult> {
    const { book, project } = await this.project(bookKeyHex, projectId)
    const domain = presentationDomain(bookKeyHex, projectId)
    const proof = (presentation as { proof?: { challenge?: unknown; domain?: unknown } } | null)?.proof
    const refuse = (problem: Problem, more: Problem[] = []): EligibilityResult => {
      const problems = [problem, ...more]
      return { eligible: false, reasons: problems.map((p) => p.message), conditions: [], problems, attestation: null, verifier: this.identity.did, status: null, issuers: [] }
    }

    if (proof?.domain !== domain) return refuse({ code: 'DOMAIN_MISMATCH', message: 'this presentation was made for another project, not this one' })
    const challenge = typeof proof.challenge === 'string' ? proof.challenge : ''
    const bad = this.consume(challenge, holder, bookKeyHex, projectId)
    if (bad) return refuse({ code: 'CHALLENGE_MISMATCH', message: bad })

    const trust = await book.view.issuerRules()
    // an issuer a governance rule may admit passes this synchronous check for now; its chain is
    // checked below, only once its credential passed everything else
    const result = await verifyPresentation(presentation, {
      challenge,
      domain,
      now: this.now(),
      trustedIssuers: (type, issuer) => trust.listed(type, issuer) || (Object.hasOwn(trust.governance, type) && trust.governance[type].length > 0)
      // no checkStatus here: status is fetched below, and only for credentials that passed the rest
    })
    if (result.holder !== holder) return refuse({ code: 'HOLDER_MISMATCH', message: 'the presentation is signed for another holder than the one presenting it' })

    // a refused credential only withholds its facts; a bad holder proof refuses the whole presentation
    const credentialProblems = new Set(result.credentials.flatMap((c) => c.problems.map((p) => p.code + p.message)))
    const holderProblems = result.problems.filter((p) => !credentialProblems.has(p.code + p.message))
    if (holderProblems.length > 0) return refuse(holderProblems[0], holderProblems.slice(1))

    const vcs = ((presentation as { verifiableCredential?: unknown }).verifiableCredential ?? []) as VerifiableCredential[]
    // one record presented twice would count twice (loans repaid): the whole presentation is refused
    const duplicates = duplicateRecords(vcs)
    if (duplicates.length > 0) {
      const [first, ...rest] = duplicates.map((d): Problem => ({ code: 'DUPLICATE_CREDENTIAL', message: `this presentation counts one record twice: ${d}` }))
      return refuse(first, rest)
    }

    const checked = vcs.map((vc, i) => ({ vc, problems: [...(result.credentials[i]?.problems ?? [])], type: result.credentials[i]?.type ?? 'VerifiableCredential', issuer: result.credentials[i]?.issuer ?? '', admission: null as IssuerAdmission | null }))
    await this.admitIssuers(checked.filter((c) => c.problems.length === 0), trust)
    const status = await this.checkStatus(checked.filter((c) => c.problems.length === 0 && c.vc.credentialStatus !== undefined))
    const accepted = checked.filter((c) => c.problems.length === 0).map((c) => c.vc)
    const issuers = checked.filter((c) => c.problems.length === 0 && c.admission !== null).map((c) => c.admission as IssuerAdmission)
    const refused = checked.flatMap((c) => c.problems)
    const rules = project.terms.eligibility
    const outcome = await evaluateEligibility(rules, factsFrom(accepted), { currency: project.terms.currency })
    const failed = outcome.conditions.filter((c) => !c.passed).map((c) => c.text)
    const attestation = issueAttestation({
      verifier: this.identity,
      applicant: holder as DidKey,
      book: bookKeyHex,
      projectId,
      eligible: outcome.eligible,
      reasons: failed,
      presentationHash: presentationHash(presentation as Parameters<typeof presentationHash>[0]),
      criteriaHash: criteriaHash(rules),
      now: this.now()
    })
    return {
      eligible: outcome.eligible,
      reasons: [...outcome.reasons, ...refused.map((p) => `A credential was not accepted: ${p.message}`)],
      conditions: outcome.conditions,
      problems: refused,
      attestation,
      verifier: this.identity.did,
      status,
      issuers
    }
  }

  /**
   * Says which rule admits each credential's issuer. One listed for the credential's type is
   * admitted as such; any other (the book has governance rules for the type, or the credential
   * would not have come this far) only when its certificate chain verifies now and passes through
   * one of those governance DIDs. Chains are checked once per distinct issuer and type, at most
   * MAX_GOVERNANCE_ISSUERS issuers per presentation, all at once, within the status budget
   * (statusTimeoutMs: a chain of four links must not hold the applicant four times over).
   * Pushes UNTRUSTED_ISSUER, with the reason, onto a credential refused.
   */
  private async admitIssuers (items: Array<{ vc: VerifiableCredential; problems: Problem[]; type: string; issuer: string; admission: IssuerAdmission | null }>, rules: IssuerRules): Promise<void> {
    const pending = new Map<string, typeof items>()
    const issuersAsked = new Set<string>()
    for (const item of items) {
      const credential = String(item.vc.id ?? '')
      if (rules.listed(item.type, item.issuer)) {
        item.admission = { credential, type: item.type, issuer: item.issuer, rule: 'listed' }
        continue
      }
      const key = JSON.stringify([item.type, item.issuer])
      const group = pending.get(key)
      if (group) group.push(item)
      else if (!issuersAsked.has(item.issuer) && issuersAsked.size >= MAX_GOVERNANCE_ISSUERS) {
        item.problems.push({ code: 'UNTRUSTED_ISSUER', message: `issuer ${item.issuer} was not checked: a presentation may rely on the certification of at most ${MAX_GOVERNANCE_ISSUERS} issuers` })
      } else {
        issuersAsked.add(item.issuer)
        pending.set(key, [item])
      }
    }
    if (pending.size === 0) return
    const governance = this.governance
    const network = governance ? await governance.network().catch((err: Error) => err) : null
    await Promise.all([...pending.values()].map(async (group) => {
      const { type, issuer } = group[0]
      const governances = Object.hasOwn(rules.governance, type) ? rules.governance[type] : []
      const refuse = (why: string) => { for (const item of group) item.problems.push({ code: 'UNTRUSTED_ISSUER', message: why }) }
      if (governances.length === 0) return refuse(`issuer ${issuer} is not trusted for ${type} by this book`)
      if (!governance || network === null) return refuse(`issuer ${issuer} is not listed for ${type}, and this verifier cannot check certificate chains for the book's governance rule`)
      if (network instanceof Error) return refuse(`issuer ${issuer} is not listed for ${type}, and the network this verifier is in cannot be read: ${network.message}`)
      const checkedAt = this.now()
      const r = await withinBudget(admitByGovernance(issuer, governances, { network, sources: governance.sources, now: checkedAt, checkStatus: governance.checkStatus }), this.statusTimeoutMs,
        `the certification of issuer ${issuer} could not be checked within ${this.statusTimeoutMs} ms (its certifiers' revocation lists did not answer)`)
      if (!r.ok) return refuse(`${type} issuer not trusted by this book: ${r.reason}`)
      for (const item of group) item.admission = { credential: String(item.vc.id ?? ''), type, issuer, rule: 'governance', governance: r.governance, path: r.path, checkedAt }
    }))
  }

  /**
   * Revocation of credentials that passed every other check: one lookup per distinct list (at
   * most MAX_STATUS_LISTS), all at once within one budget. Pushes REVOKED, STATUS_STALE or
   * STATUS_UNAVAILABLE onto a credential's problems.
   */
  private async checkStatus (items: Array<{ vc: VerifiableCredential; problems: Problem[] }>): Promise<StatusReport | null> {
    if (items.length === 0) return null
    const checkedAt = this.now()
    const byList = new Map<string, Array<{ vc: VerifiableCredential; problems: Problem[] }>>()
    for (const item of items) {
      const entry = item.vc.credentialStatus as BitstringStatusListEntry
      const key = JSON.stringify([entry.statusListCredential, item.vc.issuer])
      const group = byList.get(key)
      if (group) group.push(item)
      else if (byList.size >= MAX_STATUS_LISTS) item.problems.push({ code: 'STATUS_UNAVAILABLE', message: `the credential's revocation status was not checked: a presentation may name at most ${MAX_STATUS_LISTS} status lists` })
      else byList.set(key, [item])
    }
    const lists: StatusFreshness[] = []
    let maxAgeMs = 0
    await Promise.all([...byList.values()].map(async (group) => {
      const { vc } = group[0]
      const issuer = vc.issuer
      const url = (vc.credentialStatus as BitstringStatusListEntry).statusListCredential
      const got: CurrentList = this.status
        ? await this.status(url, issuer, this.statusTimeoutMs)
        : { error: 'this verifier has no way to fetch status lists', code: 'STATUS_UNAVAILABLE', maxAgeMs: 0 }
      if ('error' in got) {
        maxAgeMs = Math.max(maxAgeMs, got.maxAgeMs)
        for (const item of group) item.problems.push({ code: got.code, message: `the credential's revocation status cannot be checked: ${got.error}` })
        return
      }
      maxAgeMs = Math.max(maxAgeMs, got.freshness.maxAgeMs)
      lists.push(got.freshness)
      for (const item of group) {
        const r = await checkStatusAgainst(got.list, item.vc.credentialStatus as BitstringStatusListEntry, issuer, this.now())
        if ('error' in r) item.problems.push({ code: 'STATUS_UNAVAILABLE', message: `the credential's revocation status cannot be checked: ${r.error}` })
        else if (r.revoked) item.problems.push({ code: 'REVOKED', message: `the issuer ${issuer} revoked this credential` })
      }
    }))
    return { checkedAt, maxAgeMs, lists }
  }

  /**
   * Checks a challenge against the presenting holder, book and project, and consumes it.
   * @returns null when it is ours, unexpired, for this holder and project, and unused; else why not
   */
  private consume (challenge: string, holder: string, bookKeyHex: string, projectId: string): string | null {
    const m = CHALLENGE_FORMAT.exec(challenge)
    const now = this.now()
    if (!m) return 'this presentation answers no challenge of this verifier'
    const expires = Number(m[1])
    if (expires <= now || expires > now + CHALLENGE_TTL_MS) return 'this presentation answers a challenge that expired: ask for a new one'
    const expected = b4a.from(this.mac(holder, bookKeyHex, projectId, expires, m[2]), 'hex')
    if (!equalBytes(expected, b4a.from(m[3], 'hex'))) return 'this presentation answers no challenge this verifier gave this applicant for this project'
    // no await between the test and the set: two concurrent presentations cannot both pass
    if (this.consumed.has(m[3])) return 'this presentation answers a challenge that was already used (a replay)'
    this.consumed.set(m[3], expires)
    if (this.consumed.size >= this.sweepAt) {
      for (const [mac, exp] of this.consumed) if (exp <= now) this.consumed.delete(mac)
      this.sweepAt = Math.max(1024, this.consumed.size * 2)
    }
    return null
  }

  private mac (holder: string, book: string, projectId: string, expires: number, nonce: string): string {
    const out = b4a.alloc(32)
    sodium.crypto_generichash(out, b4a.concat([CHALLENGE_DOMAIN, jcs({ holder, book, projectId, expires, nonce })]), this.secret)
    return b4a.toString(out, 'hex')
  }

  private async project (bookKeyHex: string, projectId: string) {
    const book = /^[0-9a-f]{64}$/.test(bookKeyHex) ? this.findBook(bookKeyHex) : null
    if (!book) throw GrowrError.NOT_FOUND('this verifier does not follow that book')
    const project = /^[0-9a-f]{32}$/.test(projectId) ? await book.view.get('projects', projectId) : null
    if (!project) throw GrowrError.NOT_FOUND(`no project ${projectId.slice(0, 40)} in that book`)
    return { book, project }
  }
}

/** `work`'s outcome, or a refusal saying `why` once `ms` have passed; the work itself runs on (it never throws). */
async function withinBudget<T> (work: Promise<T>, ms: number, why: string): Promise<T | { ok: false; reason: string }> {
  let timer: ReturnType<typeof setTimeout> | null = null
  const late = new Promise<{ ok: false; reason: string }>((resolve) => { timer = setTimeout(() => resolve({ ok: false, reason: why }), ms) })
  try {
    return await Promise.race([work, late])
  } finally {
    if (timer) clearTimeout(timer)
  }
}

/** Compares two MACs in time independent of where they differ. */
function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  let diff = 0
  for (let i = 0; i < a.byteLength; i++) diff |= a[i] ^ b[i]
  return diff === 0
}
