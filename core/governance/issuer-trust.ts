/**
 * "Issuers of type T certified through governance G": whether one credential issuer falls under
 * a book's governance rules, judged now.
 *
 * The rule itself lives in the book (op `trust/governance`, books/trust/handlers.ts); apply only
 * records it. Whether an issuer is certified depends on the clock and on the certifiers'
 * revocation lists, so it is decided here, by the verifier, each time a credential is presented:
 * the issuer's certificate chain (from wherever the node learnt it: the issuer's capability ad,
 * the peer-rpc hello) must verify up to a founder of the network in use (chain.ts verifyChain,
 * revocation read last), certify that very issuer with the role `issuer`, and pass through G.
 *
 * A chain is taken only from a source the issuer signed (its ad, its hello), and chain.ts checks
 * every certificate's signature before any status list is fetched, so a hostile presenter cannot
 * make the verifier fetch lists of its choosing. Never throws.
 */
import { certifiedFor, verifyChain, type ChainLink } from './chain.ts'
import type { StatusCheck } from '../credentials/vc.ts'
import type { Network } from './network.ts'

/** Why an issuer was admitted under a governance rule. */
export interface GovernanceAdmission {
  ok: true
  /** the governance DID of the book's rule the chain passes through */
  governance: string
  /** the founding DID the chain starts at */
  founder: string
  /** the DIDs of the chain, root first: founder, governance DID(s), the issuer */
  path: string[]
  /** the certificates, root first */
  certifiedBy: ChainLink[]
}

export type GovernanceOutcome = GovernanceAdmission | { ok: false; reason: string }

/** Where chains for a DID may be found (synchronously or not); each answer may be anything (checked here). */
export type ChainSource = (did: string) => unknown

/** Options of {@link admitByGovernance}. */
export interface AdmitOptions {
  /** the network in use: the chain must reach one of its founders */
  network: Network
  /** the sources to ask for the issuer's chain, in order (e.g. the ads directory, then the peer-rpc hello) */
  sources: ChainSource[]
  /** the verifying clock, ms since the epoch */
  now: number
  /** how certificates' revocation is read (a StatusResolver's check); required */
  checkStatus: StatusCheck
}

/**
 * Whether `issuer` is admitted by one of `governances` (the book's rules for one credential type).
 *
 * @param issuer the credential's issuer DID.
 * @param governances the governance DIDs the book names for the credential's type (at least one).
 * @param opts the network, the chain sources, the clock and the status check.
 * @returns `{ ok: true, governance, founder, path, certifiedBy }` for the first rule the issuer's
 *   chain satisfies, else `{ ok: false, reason }` in plain words ("no certificate chain known for
 *   issuer X", the chain's own failure, "issuer X is certified through F -> G2, not through
 *   governance G"). Never throws.
 */
export async function admitByGovernance (issuer: string, governances: string[], opts: AdmitOptions): Promise<GovernanceOutcome> {
  try {
    return await admit(issuer, governances, opts)
  } catch (err) {
    return { ok: false, reason: `the certification of issuer ${issuer} cannot be checked: ${(err as Error)?.message ?? String(err)}` }
  }
}

async function admit (issuer: string, governances: string[], opts: AdmitOptions): Promise<GovernanceOutcome> {
  if (!Array.isArray(governances) || governances.length === 0) return { ok: false, reason: `no governance rule names issuer ${issuer}'s credential type` }
  const chains = await knownChains(issuer, opts.sources)
  if (chains.length === 0) return { ok: false, reason: `no certificate chain known for issuer ${issuer}` }
  const reasons: string[] = []
  for (const chain of chains) {
    const result = await verifyChain(opts.network, chain, { now: opts.now, checkStatus: opts.checkStatus })
    if (!result.ok) {
      reasons.push(`the certificate chain of issuer ${issuer} does not hold: ${result.reason}`)
      continue
    }
    // the chain came from the issuer's own ad or hello, but it is checked like any other: it must certify this issuer
    if (result.organization.did !== issuer) {
      reasons.push(`the certificate chain known for issuer ${issuer} certifies ${result.organization.did}, not ${issuer}`)
      continue
    }
    const path = [result.founder, ...result.certifiedBy.map((l) => l.subject)]
    let refusal = ''
    for (const governance of governances) {
      const r = certifiedFor(result, { role: 'issuer', governance })
      if (r.ok) return { ok: true, governance, founder: result.founder, path, certifiedBy: result.certifiedBy }
      refusal ||= r.reason
    }
    reasons.push(result.organization.roles.includes('issuer')
      ? `issuer ${issuer} is certified through ${path.slice(0, -1).join(' -> ')}, not through ${listed(governances)}`
      : refusal)
  }
  return { ok: false, reason: reasons.join('; ') }
}

/** Distinct non-empty chains for `did` from the sources, in source order; a source that throws counts as none. */
async function knownChains (did: string, sources: ChainSource[]): Promise<unknown[][]> {
  const out: unknown[][] = []
  const seen = new Set<string>()
  for (const source of sources) {
    let chain: unknown
    try {
      chain = await source(did)
    } catch {
      continue
    }
    if (!Array.isArray(chain) || chain.length === 0) continue
    let key: string
    try {
      key = JSON.stringify(chain)
    } catch {
      continue
    }
    if (seen.has(key)) continue
    seen.add(key)
    out.push(chain)
  }
  return out
}

function listed (dids: string[]): string {
  return dids.length === 1 ? `governance ${dids[0]}` : `any of the governance DIDs ${dids.join(', ')}`
}

/**
 * The usual chain sources of a running node, for {@link admitByGovernance}: the chain in the
 * DID's fresh capability ad, then the one its peer-rpc hello carried (when the PeerRpc offers
 * `peerChain`).
 * @param getters the node's ads directory and peer RPC, read when asked (either may be absent)
 * @returns the sources, in that order
 */
export function nodeChainSources (getters: { directory: () => { get (did: string): { ad: { chain: unknown } } | null } | null | undefined; rpc: () => unknown }): ChainSource[] {
  return [
    (did) => getters.directory()?.get(did)?.ad.chain,
    (did) => {
      const rpc = getters.rpc() as { peerChain?: (did: string) => unknown } | null | undefined
      return typeof rpc?.peerChain === 'function' ? rpc.peerChain(did) : undefined
    }
  ]
}
