/**
 * The holder's side of the credential flows: ask an issuer for a credential, collect those an
 * issuer queued, and prove eligibility to a project's verifier with the least disclosure the
 * project's criteria allow (only credentials whose facts a rule references).
 */
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'
import type { DidKey } from '../identity/did-key.ts'
import type { Book } from '../../books/book.ts'
import { FACTS, type CredentialType } from '../credentials/catalogue.ts'
import { verifyCredential, type VerifiableCredential } from '../credentials/vc.ts'
import { createPresentation } from '../credentials/vp.ts'
import { referencedFacts } from './criteria.ts'
import type { EligibilityResult } from './verification.ts'
import type { PeerRpc } from '../network/peer-rpc.ts'
import type { Sscr } from '../sscr/wallet.ts'

export class Holder {
  private readonly identity: { did: DidKey; secretKey: Uint8Array }
  private readonly wallet: Sscr
  private readonly rpc: PeerRpc
  private readonly now: () => number

  constructor (opts: { identity: { did: DidKey; secretKey: Uint8Array }; wallet: Sscr; rpc: PeerRpc; now?: () => number }) {
    this.identity = opts.identity
    this.wallet = opts.wallet
    this.rpc = opts.rpc
    this.now = opts.now ?? Date.now
  }

  /**
   * Asks the issuer `issuer` (found on the network by its DID) for a credential of `type` about
   * this holder, checks it, and keeps it in the SSCR.
   * @throws TIMEOUT when the issuer cannot be reached, NOT_FOUND when it has no record for us,
   *   BAD_ARGUMENT when what it sent does not verify
   */
  async request (issuer: DidKey, type: CredentialType, timeoutMs = 20_000): Promise<VerifiableCredential> {
    await this.rpc.connect(issuer, { timeoutMs })
    const vc = await this.rpc.request(issuer, 'vc/request', { type }, { timeoutMs }) as VerifiableCredential
    await this.accept(vc, issuer)
    return vc
  }

  /** Collects credentials `issuer` queued for this holder (e.g. repayment history). @returns how many were new */
  async collect (issuer: DidKey, timeoutMs = 10_000): Promise<number> {
    const vcs = await this.rpc.request(issuer, 'vc/collect', {}, { timeoutMs }) as VerifiableCredential[]
    let added = 0
    for (const vc of Array.isArray(vcs) ? vcs : []) {
      if (this.wallet.get(vc.id)) continue
      await this.accept(vc, issuer)
      added++
    }
    return added
  }

  private async accept (vc: VerifiableCredential, issuer: DidKey): Promise<void> {
    const r = await verifyCredential(vc, { now: this.now(), expectedSubject: this.identity.did })
    if (!r.verified) throw GrowrError.BAD_ARGUMENT(`the issuer sent a credential that does not verify: ${r.problems.map((p) => p.message).join('; ')}`)
    if (r.issuer !== issuer) throw GrowrError.BAD_ARGUMENT(`asked ${issuer} but the credential is issued by ${String(r.issuer)}`)
    await this.wallet.add(vc)
  }

  /** The credential types a project's rules need: the least this holder must disclose. */
  static typesFor (rules: Parameters<typeof referencedFacts>[0]): CredentialType[] {
    return [...new Set(referencedFacts(rules).filter((f) => FACTS[f]).map((f) => FACTS[f].type))]
  }

  /**
   * Proves eligibility for a project to one of the book's trusted verifiers: gets a challenge,
   * presents only the credentials the criteria reference, and returns the verifier's decision.
   * @throws NOT_FOUND when the project is unknown here, TIMEOUT when no trusted verifier answers
   */
  async prove (book: Book, projectId: string, timeoutMs = 20_000): Promise<EligibilityResult> {
    const project = await book.view.get('projects', projectId)
    if (!project) throw GrowrError.NOT_FOUND(`no project ${projectId} in this book (yet)`)
    const verifier = await this.reachVerifier(await book.view.trustedVerifiers(), timeoutMs)
    const bookHex = b4a.toString(book.key, 'hex')
    const { challenge, domain } = await this.rpc.request(verifier, 'vp/challenge', { book: bookHex, projectId }, { timeoutMs }) as { challenge: string; domain: string }
    const types = Holder.typesFor(project.terms.eligibility)
    const credentials = this.wallet.select(types, this.now()) as VerifiableCredential[]
    const presentation = createPresentation({ holder: this.identity, credentials, challenge, domain, now: this.now() })
    return await this.rpc.request(verifier, 'vp/verify', { book: bookHex, projectId, presentation }, { timeoutMs }) as EligibilityResult
  }

  private async reachVerifier (verifiers: string[], timeoutMs: number): Promise<DidKey> {
    const connected = this.rpc.peers()
    const online = verifiers.find((v) => connected.includes(v as DidKey))
    if (online) return online as DidKey
    for (const v of verifiers) {
      try {
        await this.rpc.connect(v as DidKey, { timeoutMs: Math.max(1000, Math.floor(timeoutMs / verifiers.length)) })
        return v as DidKey
      } catch {}
    }
    throw GrowrError.TIMEOUT(`none of this book's verifiers (${verifiers.join(', ')}) could be reached`)
  }
}
