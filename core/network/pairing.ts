/**
 * Invites: how a borrower's or investor's node becomes a writer of an originator's book.
 * blind-pairing carries the handshake over the swarm; the candidate proves it holds its DID
 * by signing its writer key, and the originator turns an accepted request into a signed
 * `member/add` op (so authorization is decided in apply, like every other change).
 *
 * Claim (candidate -> originator), compact-encoding, version 1:
 *   uint version, string did, fixed32 writerKey, fixed64 signature
 *   signature = Ed25519 over "growr/pair/v1" 0x00 || book discovery key || writerKey
 */
import c from 'compact-encoding'
import b4a from 'b4a'
import z32 from 'z32'
import { sign, verify } from '../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'

const DOMAIN = b4a.from('growr/pair/v1\0')
export const CLAIM_VERSION = 1

export interface Claim { did: DidKey; writerKey: Uint8Array; signature: Uint8Array }

const claimEncoding = {
  preencode (state: c.State, m: Claim) {
    c.uint.preencode(state, CLAIM_VERSION)
    c.string.preencode(state, m.did)
    c.fixed32.preencode(state, m.writerKey)
    c.fixed64.preencode(state, m.signature)
  },
  encode (state: c.State, m: Claim) {
    c.uint.encode(state, CLAIM_VERSION)
    c.string.encode(state, m.did)
    c.fixed32.encode(state, m.writerKey)
    c.fixed64.encode(state, m.signature)
  },
  decode (state: c.State): Claim {
    const v = c.uint.decode(state)
    if (v !== CLAIM_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`pairing claim version ${v}`)
    return { did: c.string.decode(state) as DidKey, writerKey: c.fixed32.decode(state), signature: c.fixed64.decode(state) }
  }
}

function claimMessage (discoveryKey: Uint8Array, writerKey: Uint8Array): Uint8Array {
  return b4a.concat([DOMAIN, discoveryKey, writerKey])
}

/** The candidate's signed claim: "DID `did` writes to this book with `writerKey`". */
export function makeClaim (did: DidKey, secretKey: Uint8Array, discoveryKey: Uint8Array, writerKey: Uint8Array): Uint8Array {
  return c.encode(claimEncoding, { did, writerKey, signature: sign(claimMessage(discoveryKey, writerKey), secretKey) })
}

/**
 * Decodes and verifies a claim for the book with `discoveryKey`.
 * @throws BAD_INVITE when it does not decode or its signature does not hold
 */
export function openClaim (bytes: Uint8Array, discoveryKey: Uint8Array): Claim {
  let claim: Claim
  try {
    claim = c.decode(claimEncoding, bytes)
  } catch {
    throw GrowrError.BAD_INVITE('pairing claim does not decode')
  }
  if (!isDidKey(claim.did)) throw GrowrError.BAD_INVITE('pairing claim has no did:key')
  if (!verify(claimMessage(discoveryKey, claim.writerKey), claim.signature, didToPublicKey(claim.did))) throw GrowrError.BAD_INVITE('pairing claim signature is not valid')
  return claim
}

/** Invite codes travel as text: z-base-32 of blind-pairing's invite bytes. */
export function inviteToCode (invite: Uint8Array): string { return z32.encode(invite) }

/** @throws BAD_INVITE when `code` is not z-base-32 */
export function codeToInvite (code: string): Uint8Array {
  try {
    const buf = z32.decode(code.trim())
    if (buf.byteLength < 32) throw new Error('short')
    return buf
  } catch {
    throw GrowrError.BAD_INVITE('invite code is not valid z-base-32')
  }
}
