/**
 * The `eddsa-jcs-2022` Data Integrity cryptosuite (W3C "Verifiable Credential Data Integrity
 * EdDSA Cryptosuites v1.0", section 3.3): JSON Canonicalization Scheme (RFC 8785) instead of RDF
 * canonicalization, SHA-256, Ed25519 (RFC 8032), proofValue as multibase base58btc.
 *
 *   hashData = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without proof))
 *   proofValue = 'z' + base58btc(Ed25519-sign(hashData))
 *
 * The proof configuration is every proof field except `proofValue`, plus the document's
 * `@context` when it has one, so every field of the proof is covered by the signature.
 * Pure functions: no clock, no I/O. Key resolution (which key should have signed) is the
 * caller's job; see vc.ts.
 */
import sodium from 'sodium-universal'
import b4a from 'b4a'
import canonicalize from 'canonicalize'
import { base58 } from '@scure/base'
import { GrowrError } from '../errors.ts'
import { sign, verify, SIGNATURE_BYTES, PUBLIC_KEY_BYTES } from '../identity/keys.ts'

/** The Data Integrity proof `type` this suite produces. */
export const PROOF_TYPE = 'DataIntegrityProof'
/** The `cryptosuite` identifier (vc-di-eddsa 3.3). */
export const CRYPTOSUITE = 'eddsa-jcs-2022'

/** An embedded Data Integrity proof made by this cryptosuite. */
export interface DataIntegrityProof {
  type: 'DataIntegrityProof'
  cryptosuite: 'eddsa-jcs-2022'
  created?: string
  verificationMethod: string
  proofPurpose: string
  challenge?: string
  domain?: string
  expires?: string
  '@context'?: unknown
  proofValue: string
}

/** The options of {@link addProof}; dates are XML Schema dateTimeStamp strings. */
export interface ProofOptions {
  verificationMethod: string
  proofPurpose: string
  created?: string
  challenge?: string
  domain?: string
  expires?: string
}

// 64 bytes are at most 88 base58 characters; longer input is refused before decoding
// (base58 decoding is quadratic).
const MAX_PROOF_VALUE_CHARS = 100
// types/sodium-universal.d.ts lacks SHA-256 and its `export =` namespace cannot be augmented.
const sha256Api = sodium as unknown as { crypto_hash_sha256_BYTES: number; crypto_hash_sha256 (out: Uint8Array, input: Uint8Array): void }
const DATE_TIME_STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/**
 * SHA-256 (FIPS 180-4) via libsodium.
 * @param data bytes to hash.
 * @returns the 32-byte digest.
 */
export function sha256 (data: Uint8Array): Uint8Array {
  const out = b4a.alloc(sha256Api.crypto_hash_sha256_BYTES)
  sha256Api.crypto_hash_sha256(out, data)
  return out
}

/**
 * RFC 8785 JSON Canonicalization Scheme, as UTF-8 bytes.
 * @param value any JSON value.
 * @returns the canonical UTF-8 bytes.
 * @throws GrowrError BAD_ARGUMENT if `value` is not representable in JSON (undefined, NaN,
 *   Infinity, lone surrogates, cycles).
 */
export function jcs (value: unknown): Uint8Array {
  let text: string | undefined
  try {
    text = canonicalize(value)
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`cannot canonicalize: ${(err as Error).message}`)
  }
  if (typeof text !== 'string') throw GrowrError.BAD_ARGUMENT('cannot canonicalize: not a JSON value')
  return b4a.from(text, 'utf8')
}

/**
 * The spec's hashing step (vc-di-eddsa 3.3.4): SHA-256 of the canonical proof configuration
 * followed by SHA-256 of the canonical document.
 *
 * @param document the unsecured document (no `proof`).
 * @param proofConfig the proof options without `proofValue`, with `@context` copied from the
 *   document when it has one.
 * @returns 64 bytes: proofConfigHash (32) || documentHash (32).
 * @throws GrowrError BAD_ARGUMENT if either value is not JSON.
 */
export function hashData (document: object, proofConfig: object): Uint8Array {
  return b4a.concat([sha256(jcs(proofConfig)), sha256(jcs(document))])
}

/**
 * Secure a document with an eddsa-jcs-2022 DataIntegrityProof (vc-di-eddsa 3.3.1 Create Proof).
 *
 * @param unsecured a JSON object without `proof` (it is deep-copied, never modified).
 * @param options verificationMethod and proofPurpose (required); created, challenge, domain,
 *   expires when wanted (dates are XML Schema dateTimeStamp strings).
 * @param secretKey 64-byte libsodium Ed25519 secret key.
 * @returns a copy of the document with `proof` set (proof fields in spec order, then proofValue).
 * @throws GrowrError BAD_ARGUMENT if the document is not a JSON object, already carries a proof,
 *   an option is missing or malformed, or the secret key is not 64 bytes.
 */
export function addProof (unsecured: object, options: ProofOptions, secretKey: Uint8Array): Record<string, unknown> {
  if (!isPlainObject(unsecured)) throw GrowrError.BAD_ARGUMENT('document must be a JSON object')
  if ('proof' in unsecured) throw GrowrError.BAD_ARGUMENT('document already has a proof (proof sets are not supported)')
  if (!isPlainObject(options)) throw GrowrError.BAD_ARGUMENT('proof options must be an object')
  for (const key of ['verificationMethod', 'proofPurpose'] as const) {
    if (typeof options[key] !== 'string' || options[key] === '') throw GrowrError.BAD_ARGUMENT(`proof option ${key} must be a non-empty string`)
  }
  for (const key of ['created', 'expires'] as const) {
    const v = options[key]
    if (v !== undefined && !(typeof v === 'string' && DATE_TIME_STAMP.test(v))) {
      throw GrowrError.BAD_ARGUMENT(`proof option ${key} must be an XML Schema dateTimeStamp`)
    }
  }
  for (const key of ['challenge', 'domain'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'string') throw GrowrError.BAD_ARGUMENT(`proof option ${key} must be a string`)
  }
  const document = JSON.parse(b4a.toString(jcs(unsecured), 'utf8')) as Record<string, unknown>
  const proofConfig: Record<string, unknown> = { type: PROOF_TYPE, cryptosuite: CRYPTOSUITE }
  for (const key of ['created', 'verificationMethod', 'proofPurpose', 'challenge', 'domain', 'expires'] as const) {
    if (options[key] !== undefined) proofConfig[key] = options[key]
  }
  if (document['@context'] !== undefined) proofConfig['@context'] = document['@context']
  const signature = sign(hashData(document, proofConfig), secretKey)
  return { ...document, proof: { ...proofConfig, proofValue: encodeProofValue(signature) } }
}

/**
 * Check an eddsa-jcs-2022 proof (vc-di-eddsa 3.3.2 Verify Proof) against a known public key.
 * Purely cryptographic and structural: which key *should* have signed, proof purpose, dates,
 * challenge and domain are the caller's checks.
 *
 * One deliberate strictness: when the proof carries `@context` it must equal the document's
 * `@context` (the spec only requires the document's to start with the proof's). Growr does no
 * JSON-LD processing, so a context appended after signing has no legitimate use.
 *
 * @param secured a document with a single embedded `proof` object.
 * @param publicKey 32-byte Ed25519 public key.
 * @returns `{ verified: true }` or `{ verified: false, reason }` in plain words. Never throws.
 */
export function verifyProof (secured: unknown, publicKey: Uint8Array): { verified: true } | { verified: false; reason: string } {
  try {
    if (!isPlainObject(secured)) return no('the document is not a JSON object')
    const { proof, ...document } = secured
    if (proof === undefined) return no('the document has no proof')
    if (!isPlainObject(proof)) return no('the proof is not a single JSON object')
    if (proof.type !== PROOF_TYPE) return no(`the proof type is ${describe(proof.type)}, not ${PROOF_TYPE}`)
    if (proof.cryptosuite !== CRYPTOSUITE) return no(`the cryptosuite is ${describe(proof.cryptosuite)}, not ${CRYPTOSUITE}`)
    const { proofValue, ...proofConfig } = proof
    if (typeof proofValue !== 'string') return no('the proof has no proofValue')
    const signature = decodeProofValue(proofValue)
    if (!signature) return no('the proofValue is not a multibase base58btc 64-byte signature')
    if (proofConfig.created !== undefined && !(typeof proofConfig.created === 'string' && DATE_TIME_STAMP.test(proofConfig.created))) {
      return no('the proof\'s created date is not an XML Schema dateTimeStamp')
    }
    if ('@context' in proofConfig) {
      if (!('@context' in document) || b4a.compare(jcs(proofConfig['@context']), jcs(document['@context'])) !== 0) {
        return no('the proof\'s @context differs from the document\'s @context')
      }
    }
    if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) return no('the verification key is not a 32-byte Ed25519 public key')
    if (!verify(hashData(document, proofConfig), signature, publicKey)) return no('the signature does not match the document and key')
    return { verified: true }
  } catch (err) {
    return no(`the document cannot be checked: ${(err as Error).message}`)
  }
}

/**
 * Encode a signature as a proofValue: multibase base58btc (`z` prefix).
 * @param signature the 64-byte Ed25519 signature.
 * @returns `z...`.
 */
export function encodeProofValue (signature: Uint8Array): string {
  return 'z' + base58.encode(signature)
}

/**
 * Decode a proofValue to the raw signature.
 * @param proofValue a multibase base58btc string.
 * @returns the 64-byte signature, or null if it is not one. Never throws.
 */
export function decodeProofValue (proofValue: unknown): Uint8Array | null {
  if (typeof proofValue !== 'string' || proofValue[0] !== 'z' || proofValue.length > MAX_PROOF_VALUE_CHARS) return null
  try {
    const bytes = base58.decode(proofValue.slice(1))
    return bytes.byteLength === SIGNATURE_BYTES ? bytes : null
  } catch {
    return null
  }
}

/**
 * Is `v` a non-null, non-array object (what JSON.parse makes of `{...}`)?
 * @param v any value.
 * @returns the type guard. Never throws.
 */
export function isPlainObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function no (reason: string): { verified: false; reason: string } {
  return { verified: false, reason }
}

function describe (v: unknown): string {
  return typeof v === 'string' ? `"${v.slice(0, 60)}"` : typeof v
}
