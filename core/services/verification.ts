/**
 * The credential verification service (Growr protocol: "validation of presentations of verifiable
 * credentials and assessing the eligibility of a given user to apply for a loan").
 *
 * 1. The applicant asks for a challenge for one project (`vp/challenge`); the verifier remembers
 *    it for that applicant, book and project, once.
 * 2. The applicant presents (`vp/verify`): a VerifiablePresentation over that challenge, with the
 *    project's domain. The verifier checks the holder's proof, each credential (signature,
 *    validity, subject, issuer trusted by the book for its type, revocation), then evaluates the
 *    project's rules over the facts the verified credentials disclose.
 * 3. It signs an EligibilityAttestation: the decision, the criteria that failed, and the hash of
 *    the presentation. The claims themselves go nowhere: the loan application carries the
 *    attestation only.
 * A challenge is consumed by its first presentation, so a presentation cannot be replayed; the
 * domain names book and project, so it cannot be used for another project.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { GrowrError } from '../errors.ts'
import type { DidKey } from '../identity/did-key.ts'
import type { Book } from '../../books/book.ts'
import { factsFrom } from '../credentials/catalogue.ts'
import type { Problem, StatusCheck, VerifiableCredential } from '../credentials/vc.ts'
import { presentationHash, verifyPresentation } from '../credentials/vp.ts'
import { issueAttestation } from '../credentials/attestation.ts'
import { evaluateEligibility, type ConditionOutcome } from './eligibility.ts'
import type { PeerRpc } from '../network/peer-rpc.ts'

/** What the verifier answers: the decision, why, and the signed attestation (null when the presentation itself failed). */
export interface EligibilityResult {
  eligible: boolean
  /** plain sentences for the applicant: failed criteria (with her values) and refused credentials */
  reasons: string[]
  conditions: ConditionOutcome[]
  problems: Problem[]
  attestation: VerifiableCredential | null
  verifier: DidKey
}

/** The presentation domain of one project of one book: binds a presentation to that project. */
export function presentationDomain (bookKeyHex: string, projectId: string): string {
  return `urn:growr:project:${bookKeyHex}:${projectId}`
}

interface Pending { book: string; projectId: string; holder: string; expires: number }

const CHALLENGE_TTL_MS = 10 * 60 * 1000
// open challenges are held in memory: bound them so a peer asking in a loop cannot exhaust it
const MAX_PENDING = 10_000
const MAX_PENDING_PER_HOLDER = 16

export class VerificationService {
  private readonly identity: { did: DidKey; secretKey: Uint8Array }
  private readonly findBook: (keyHex: string) => Book | null
  private readonly checkStatus: StatusCheck
  private readonly now: () => number
  private readonly pending = new Map<string, Pending>()

  /**
   * @param opts.findBook the followed book with that key (hex), or null
   * @param opts.checkStatus how revocation is checked (a StatusResolver's `check`)
   */
  constructor (opts: { identity: { did: DidKey; secretKey: Uint8Array }; findBook: (keyHex: string) => Book | null; checkStatus: StatusCheck; now?: () => number }) {
    this.identity = opts.identity
    this.findBook = opts.findBook
    this.checkStatus = opts.checkStatus
    this.now = opts.now ?? Date.now
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
   * A one-time challenge for `holder` to present to this verifier for one project.
   * @throws NOT_FOUND when this node does not follow the book or the project does not exist
   */
  async challenge (bookKeyHex: string, projectId: string, holder: string): Promise<{ challenge: string; domain: string }> {
    await this.project(bookKeyHex, projectId)
    const now = this.now()
    let mine = 0
    for (const [c, p] of this.pending) {
      if (p.expires < now) this.pending.delete(c)
      else if (p.holder === holder) mine++
    }
    if (mine >= MAX_PENDING_PER_HOLDER || this.pending.size >= MAX_PENDING) throw GrowrError.TIMEOUT('this verifier has too many open challenges; present or wait a few minutes and ask again')
    const buf = b4a.alloc(32)
    sodium.randombytes_buf(buf)
    const challenge = b4a.toString(buf, 'hex')
    this.pending.set(challenge, { book: bookKeyHex, projectId, holder, expires: now + CHALLENGE_TTL_MS })
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
    const refuse = (problem: Problem): EligibilityResult => ({ eligible: false, reasons: [problem.message], conditions: [], problems: [problem], attestation: null, verifier: this.identity.did })

    if (proof?.domain !== domain) return refuse({ code: 'DOMAIN_MISMATCH', message: 'this presentation was made for another project, not this one' })
    const challenge = typeof proof.challenge === 'string' ? proof.challenge : ''
    const pending = this.pending.get(challenge)
    this.pending.delete(challenge)
    if (!pending || pending.expires < this.now() || pending.holder !== holder || pending.book !== bookKeyHex || pending.projectId !== projectId) {
      return refuse({ code: 'CHALLENGE_MISMATCH', message: 'this presentation answers no open challenge of this verifier: it was already used (a replay) or it expired' })
    }

    const result = await verifyPresentation(presentation, {
      challenge,
      domain,
      now: this.now(),
      trustedIssuers: await book.view.issuerTrust(),
      checkStatus: this.checkStatus
    })
    if (result.holder !== holder) return refuse({ code: 'HOLDER_MISMATCH', message: 'the presentation is signed for another holder than the one presenting it' })

    // a refused credential only withholds its facts; a bad holder proof refuses the whole presentation
    const credentialProblems = new Set(result.credentials.flatMap((c) => c.problems.map((p) => p.code + p.message)))
    const holderProblems = result.problems.filter((p) => !credentialProblems.has(p.code + p.message))
    if (holderProblems.length > 0) return { ...refuse(holderProblems[0]), reasons: holderProblems.map((p) => p.message), problems: holderProblems }

    const vcs = ((presentation as { verifiableCredential?: unknown }).verifiableCredential ?? []) as VerifiableCredential[]
    const accepted = vcs.filter((_, i) => result.credentials[i]?.verified)
    const refused = result.credentials.flatMap((c) => c.problems)
    const outcome = await evaluateEligibility(project.terms.eligibility, factsFrom(accepted), { currency: project.terms.currency })
    const failed = outcome.conditions.filter((c) => !c.passed).map((c) => c.text)
    const attestation = issueAttestation({
      verifier: this.identity,
      applicant: holder as DidKey,
      book: bookKeyHex,
      projectId,
      eligible: outcome.eligible,
      reasons: failed,
      presentationHash: presentationHash(presentation as Parameters<typeof presentationHash>[0]),
      now: this.now()
    })
    return {
      eligible: outcome.eligible,
      reasons: [...outcome.reasons, ...refused.map((p) => `A credential was not accepted: ${p.message}`)],
      conditions: outcome.conditions,
      problems: refused,
      attestation,
      verifier: this.identity.did
    }
  }

  private async project (bookKeyHex: string, projectId: string) {
    const book = /^[0-9a-f]{64}$/.test(bookKeyHex) ? this.findBook(bookKeyHex) : null
    if (!book) throw GrowrError.NOT_FOUND('this verifier does not follow that book')
    const project = /^[0-9a-f]{32}$/.test(projectId) ? await book.view.get('projects', projectId) : null
    if (!project) throw GrowrError.NOT_FOUND(`no project ${projectId.slice(0, 40)} in that book`)
    return { book, project }
  }
}
