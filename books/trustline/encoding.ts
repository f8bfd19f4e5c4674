/**
 * Encodings of the trustline structures (docs/trustline-spec.md, section 3): RFC 8785 canonical
 * JSON, SHA-256 hashes and Ed25519 signatures, each over a domain string so that bytes signed
 * for one purpose are never valid for another.
 *
 *   hash(kind, value)  = SHA-256( "growr/trustline/<kind>/v1" 0x00 || JCS(value) )   (hex)
 *   sign(kind, value)  = Ed25519( "growr/trustline/<kind>/v1" 0x00 || JCS(value) )
 *   kinds: terms (the trustline id), state, proposal, accept, reject
 *
 * Pure; loads under Bare.
 */
import '../../core/runtime/text-encoding.ts'
import { sha256 } from '@noble/hashes/sha2.js'
import b4a from 'b4a'
import { canonicalBytes } from '../ops/envelope.ts'
import { sign, verify } from '../../core/identity/keys.ts'
import { didToPublicKey } from '../../core/identity/did-key.ts'
import type { TrustlineState, TrustlineTerms, Htlc } from './types.ts'

/** The domain kinds a trustline hashes or signs. */
export type Domain = 'terms' | 'state' | 'proposal' | 'accept' | 'reject'

/** 64 zeros: the `prev` and `update` of a genesis state. */
export const ZERO_HASH = '0'.repeat(64)

function framed (kind: Domain, value: unknown): Uint8Array {
  return b4a.concat([b4a.from(`growr/trustline/${kind}/v1\0`), canonicalBytes(value)])
}

/**
 * Hash of a JSON value under a domain.
 * @param kind the domain kind
 * @param value a JSON value (no bigint: use the wire forms)
 * @returns 64 lowercase hex
 * @throws GrowrError BAD_ARGUMENT when the value has no JSON form
 */
export function domainHash (kind: Domain, value: unknown): string {
  return b4a.toString(sha256(framed(kind, value)), 'hex')
}

/**
 * Ed25519 signature of a JSON value under a domain.
 * @param secretKey 64-byte libsodium secret key
 * @returns 128 lowercase hex
 */
export function domainSign (kind: Domain, value: unknown, secretKey: Uint8Array): string {
  return b4a.toString(sign(framed(kind, value), secretKey), 'hex')
}

/**
 * Checks a signature made by {@link domainSign}. Never throws.
 * @param did the signer's did:key
 * @param sig 128 hex
 * @returns true only when the signature holds for this did, domain and value
 */
export function domainVerify (kind: Domain, value: unknown, sig: unknown, did: string): boolean {
  if (typeof sig !== 'string' || !/^[0-9a-f]{128}$/.test(sig)) return false
  try {
    return verify(framed(kind, value), b4a.from(sig, 'hex'), didToPublicKey(did))
  } catch {
    return false
  }
}

/** SHA-256 of raw bytes given as hex, as hex (htlc preimages). Never throws on valid hex. */
export function sha256Hex (hex: string): string {
  return b4a.toString(sha256(b4a.from(hex, 'hex')), 'hex')
}

/** The JSON (wire) form of an htlc: amount as a decimal string. */
export function htlcJson (h: Htlc): { id: string; hash: string; amount: string; from: string; expires: number } {
  return { id: h.id, hash: h.hash, amount: h.amount.toString(), from: h.from, expires: h.expires }
}

/** The JSON (wire) form of a state, as hashed: every bigint as a decimal string. */
export function stateJson (s: TrustlineState): Record<string, unknown> {
  return {
    v: s.v,
    id: s.id,
    a: s.a,
    b: s.b,
    asset: s.asset,
    limitAtoB: s.limitAtoB.toString(),
    limitBtoA: s.limitBtoA.toString(),
    balance: s.balance.toString(),
    seq: s.seq,
    prev: s.prev,
    update: s.update,
    time: s.time,
    status: s.status,
    htlcs: s.htlcs.map(htlcJson)
  }
}

/** Hash of a state (64 hex): what a countersignature signs. */
export function stateHash (s: TrustlineState): string {
  return domainHash('state', stateJson(s))
}

/** The trustline id of its terms (64 hex). */
export function termsId (t: TrustlineTerms): string {
  return domainHash('terms', t)
}
