/**
 * Handlers for the book's trust list: which issuers the originator accepts for each credential
 * type (named one by one, or as "certified through governance DID G"), and which verifiers'
 * eligibility attestations it accepts besides its own.
 */
import type { Handler } from '../apply.ts'
import { trustKey } from '../view.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const trustIssuer: Handler = async (ctx) => {
  const op = ctx.op as Of<'trust/issuer'>
  ctx.put('trust', trustKey.issuer(op.credentialType, op.issuer), { kind: 'issuer', did: op.issuer, credentialType: op.credentialType, trusted: op.trusted, updatedAt: op.ts })
  return null
}

export const trustVerifier: Handler = async (ctx) => {
  const op = ctx.op as Of<'trust/verifier'>
  if (ctx.meta && op.verifier === ctx.meta.originator) return 'the originator is always a trusted verifier of its own book'
  ctx.put('trust', trustKey.verifier(op.verifier), { kind: 'verifier', did: op.verifier, credentialType: null, trusted: op.trusted, updatedAt: op.ts })
  return null
}

/**
 * Records the rule "issuers of `credentialType` certified through `governance` are trusted" (or
 * withdraws it). Only the rule: whether an issuer's certificate chain holds depends on the clock
 * and on revocation lists, so the verifier checks it when it uses the rule, never apply.
 */
export const trustGovernance: Handler = async (ctx) => {
  const op = ctx.op as Of<'trust/governance'>
  ctx.put('trust', trustKey.governance(op.credentialType, op.governance), { kind: 'governance', did: op.governance, credentialType: op.credentialType, trusted: op.trusted, updatedAt: op.ts })
  return null
}
