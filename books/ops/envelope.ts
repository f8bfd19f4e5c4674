/**
 * The signed op envelope: how an op travels in a writer's hypercore.
 *
 * Wire format (compact-encoding), version 1:
 *   uint     version      envelope version; an unknown one is refused, never guessed at
 *   buffer   body         the op as RFC 8785 (JCS) canonical JSON, UTF-8
 *   fixed64  signature    Ed25519 over  "growr/op/v1" 0x00 || bookKey (32) || body
 *
 * The book key in the signed message stops an op signed for one book being replayed in
 * another; the canonical body gives every op exactly one byte form.
 */
import c from 'compact-encoding'
import b4a from 'b4a'
import canonicalize from 'canonicalize'
import { sign, verify } from '../../core/identity/keys.ts'
import { didToPublicKey, isDidKey } from '../../core/identity/did-key.ts'
import { GrowrError } from '../../core/errors.ts'
import type { Op } from './types.ts'

export const ENVELOPE_VERSION = 1
/** Largest accepted encoded op, in bytes: a lending op is small, a huge one is an attack. */
export const MAX_OP_BYTES = 64 * 1024

/**
 * Deepest nesting of arrays and objects accepted in an op body. Ops nest a few levels (eligibility
 * rules and attestations a few more); canonicalization and later checks recurse, and a body of
 * 64 KiB can nest 32 000 deep, which overflows the stack.
 */
export const MAX_OP_DEPTH = 64

const DOMAIN = b4a.from('growr/op/v1\0')

interface Envelope { version: number; body: Uint8Array; signature: Uint8Array }

const envelope = {
  preencode (state: c.State, m: Envelope) {
    c.uint.preencode(state, m.version)
    c.buffer.preencode(state, m.body)
    c.fixed64.preencode(state, m.signature)
  },
  encode (state: c.State, m: Envelope) {
    c.uint.encode(state, m.version)
    c.buffer.encode(state, m.body)
    c.fixed64.encode(state, m.signature)
  },
  decode (state: c.State): Envelope {
    const version = c.uint.decode(state)
    if (version !== ENVELOPE_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`unknown op version ${version}`)
    const body = c.buffer.decode(state)
    const signature = c.fixed64.decode(state)
    if (body === null) throw GrowrError.BAD_ARGUMENT('op has no body')
    return { version, body, signature }
  }
}

/**
 * Whether a JSON text nests arrays and objects deeper than `limit`, counted on its UTF-8 bytes
 * (a multi-byte sequence never contains an ASCII byte, so brackets inside strings are skipped
 * exactly). For text that is not JSON the answer does not matter: JSON.parse refuses it next.
 */
function nestsDeeperThan (body: Uint8Array, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < body.byteLength; i++) {
    const b = body[i]
    if (inString) {
      if (b === 0x5c) i++ // backslash: the next byte is escaped
      else if (b === 0x22) inString = false
    } else if (b === 0x22) {
      inString = true
    } else if (b === 0x5b || b === 0x7b) {
      if (++depth > limit) return true
    } else if (b === 0x5d || b === 0x7d) {
      depth--
    }
  }
  return false
}

function signedMessage (bookKey: Uint8Array, body: Uint8Array): Uint8Array {
  return b4a.concat([DOMAIN, bookKey, body])
}

/** JCS (RFC 8785) bytes of a JSON value. */
export function canonicalBytes (value: unknown): Uint8Array {
  const text = canonicalize(value)
  if (text === undefined) throw GrowrError.BAD_ARGUMENT('value has no JSON form')
  return b4a.from(text, 'utf8')
}

/**
 * Signs an op for one book and encodes it for appending.
 * @param op the complete op (its `signer` must be the DID of `secretKey`)
 * @param bookKey 32-byte Autobase key of the book
 * @param secretKey 64-byte Ed25519 secret key of the signer
 * @returns encoded envelope bytes
 */
export function encodeOp (op: Op, bookKey: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const body = canonicalBytes(op)
  return encodeEnvelope(ENVELOPE_VERSION, body, sign(signedMessage(bookKey, body), secretKey))
}

/** Encodes raw envelope parts; exported for tests that forge or version-bump ops. */
export function encodeEnvelope (version: number, body: Uint8Array, signature: Uint8Array): Uint8Array {
  return c.encode(envelope, { version, body, signature })
}

export type DecodedOp =
  | { ok: true; op: unknown; body: Uint8Array }
  | { ok: false; reason: string }

// did:key -> Ed25519 public key of the signers seen lately: a book has few signers and each
// op names one, so the base58 decode is done once per signer, not once per op.
const signerKeys = new Map<string, Uint8Array>()
const MAX_SIGNER_KEYS = 4096

/** @returns the public key of a well-formed Ed25519 did:key, else null */
function signerKey (signer: unknown): Uint8Array | null {
  if (typeof signer !== 'string') return null
  const known = signerKeys.get(signer)
  if (known) return known
  if (!isDidKey(signer)) return null
  const key = didToPublicKey(signer)
  if (signerKeys.size >= MAX_SIGNER_KEYS) signerKeys.clear()
  signerKeys.set(signer, key)
  return key
}

/**
 * Decodes an envelope and checks everything that needs no book state: size, version, nesting
 * depth (at most MAX_OP_DEPTH), canonical JSON, and the Ed25519 signature by the DID named in `signer`.
 * Never throws: every failure is returned as a reason for the audit log.
 * Schema validation is the caller's next step (the signer field is checked here only
 * far enough to find the public key).
 */
export function decodeOp (bytes: Uint8Array | null, bookKey: Uint8Array): DecodedOp {
  if (bytes === null) return { ok: false, reason: 'empty op' }
  if (bytes.byteLength > MAX_OP_BYTES) return { ok: false, reason: `op of ${bytes.byteLength} bytes exceeds ${MAX_OP_BYTES}` }
  let env: Envelope
  try {
    env = c.decode(envelope, bytes)
  } catch (err) {
    const e = err as GrowrError
    if (e.code === 'UNSUPPORTED_VERSION') return { ok: false, reason: e.message.replace(/^[A-Z_]+: /, '') }
    return { ok: false, reason: 'malformed op: envelope does not decode' }
  }
  if (nestsDeeperThan(env.body, MAX_OP_DEPTH)) return { ok: false, reason: `malformed op: body nests deeper than ${MAX_OP_DEPTH} levels` }
  let op: unknown
  try {
    op = JSON.parse(b4a.toString(env.body, 'utf8'))
  } catch {
    return { ok: false, reason: 'malformed op: body is not JSON' }
  }
  // JSON.parse accepts what has no canonical form (1e400 parses to Infinity, "\ud800" to a lone
  // surrogate) and canonicalize throws on those: that is a refusal, never an exception out of apply
  let canonical: Uint8Array
  try {
    canonical = canonicalBytes(op)
  } catch {
    return { ok: false, reason: 'malformed op: body has no canonical JSON form (RFC 8785)' }
  }
  if (!b4a.equals(canonical, env.body)) return { ok: false, reason: 'malformed op: body is not canonical JSON (RFC 8785)' }
  const publicKey = signerKey((op as { signer?: unknown } | null)?.signer)
  if (publicKey === null) return { ok: false, reason: 'malformed op: signer is not a did:key' }
  if (!verify(signedMessage(bookKey, env.body), env.signature, publicKey)) return { ok: false, reason: 'bad signature: op is not signed by its signer for this book' }
  return { ok: true, op, body: env.body }
}
