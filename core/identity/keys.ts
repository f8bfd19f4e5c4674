/**
 * Ed25519 key pairs, signatures and verification (RFC 8032), via libsodium's crypto_sign.
 * Every function here is pure: no I/O, no global state besides the CSPRNG for fresh keys.
 */
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'

/** Length of an Ed25519 public key, in bytes (32). */
export const PUBLIC_KEY_BYTES: number = sodium.crypto_sign_PUBLICKEYBYTES
/** Length of a libsodium Ed25519 secret key (32-byte seed followed by the 32-byte public key), in bytes (64). */
export const SECRET_KEY_BYTES: number = sodium.crypto_sign_SECRETKEYBYTES
/** Length of an Ed25519 seed (the RFC 8032 private key), in bytes (32). */
export const SEED_BYTES: number = sodium.crypto_sign_SEEDBYTES
/** Length of a detached Ed25519 signature, in bytes (64). */
export const SIGNATURE_BYTES: number = sodium.crypto_sign_BYTES

/**
 * An Ed25519 key pair in libsodium layout.
 * - `publicKey`: 32 bytes.
 * - `secretKey`: 64 bytes, `seed (32) || publicKey (32)`.
 */
export interface KeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

/**
 * Make an Ed25519 key pair (RFC 8032).
 *
 * @param seed optional 32-byte seed (the RFC 8032 private key). With it the result is
 *   deterministic (crypto_sign_seed_keypair); without it a fresh random pair is drawn from
 *   the system CSPRNG (crypto_sign_keypair).
 * @returns `{ publicKey: 32 bytes, secretKey: 64 bytes }`; fresh buffers, the seed is not retained.
 * @throws GrowrError BAD_ARGUMENT if `seed` is given but is not a 32-byte Uint8Array.
 */
export function generateKeyPair (seed?: Uint8Array): KeyPair {
  const publicKey = b4a.alloc(PUBLIC_KEY_BYTES)
  const secretKey = b4a.alloc(SECRET_KEY_BYTES)
  if (seed === undefined) {
    sodium.crypto_sign_keypair(publicKey, secretKey)
  } else {
    if (!(seed instanceof Uint8Array) || seed.byteLength !== SEED_BYTES) {
      throw GrowrError.BAD_ARGUMENT(`seed must be a ${SEED_BYTES}-byte Uint8Array`)
    }
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
  }
  return { publicKey, secretKey }
}

/**
 * Sign a message with Ed25519 (RFC 8032, pure Ed25519, no pre-hashing), detached form.
 *
 * @param message bytes to sign, any length.
 * @param secretKey 64-byte libsodium secret key (`seed || publicKey`), as from {@link generateKeyPair}.
 * @returns the 64-byte detached signature.
 * @throws GrowrError BAD_ARGUMENT if `message` is not a Uint8Array or `secretKey` is not 64 bytes.
 */
export function sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!(message instanceof Uint8Array)) {
    throw GrowrError.BAD_ARGUMENT('message must be a Uint8Array')
  }
  if (!(secretKey instanceof Uint8Array) || secretKey.byteLength !== SECRET_KEY_BYTES) {
    throw GrowrError.BAD_ARGUMENT(`secretKey must be a ${SECRET_KEY_BYTES}-byte Uint8Array`)
  }
  const signature = b4a.alloc(SIGNATURE_BYTES)
  sodium.crypto_sign_detached(signature, message, secretKey)
  return signature
}

/**
 * Check a detached Ed25519 signature (RFC 8032; libsodium's strict verification, which
 * rejects non-canonical encodings and small-order public keys).
 *
 * @param message the signed bytes.
 * @param signature 64-byte detached signature.
 * @param publicKey 32-byte Ed25519 public key.
 * @returns true only if the signature is valid for this message and key. Never throws:
 *   wrong types or lengths simply give false.
 */
export function verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(message instanceof Uint8Array)) return false
  if (!(signature instanceof Uint8Array) || signature.byteLength !== SIGNATURE_BYTES) return false
  if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) return false
  try {
    return sodium.crypto_sign_verify_detached(signature, message, publicKey)
  } catch {
    return false
  }
}
