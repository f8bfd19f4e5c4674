/**
 * Small crypto and file helpers shared by the SSCR wallet, its backups and the custodial vault.
 *
 * - Key derivation from an identity: BLAKE2b (crypto_generichash) keyed with the 32-byte Ed25519
 *   seed, over a domain tag. One tag per purpose, so the wallet key, the custody wrapping key and
 *   the custody directory-name key are independent even though they come from the same seed.
 * - Key derivation from a passphrase: Argon2id v1.3 (crypto_pwhash), passphrase NFC-normalised
 *   exactly as core/identity/keyfile.ts does.
 * - Encryption: crypto_secretbox_easy (XSalsa20-Poly1305) with a fresh random 24-byte nonce.
 * - Files: `magic (6 ASCII bytes) || version (uint8) || body`, written through a temp file,
 *   fsynced, mode 0600, then renamed (atomic on POSIX). Only sync fs calls shared by Node and bare-fs.
 */
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'
import { generateKeyPair, SECRET_KEY_BYTES, SEED_BYTES } from '../identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../identity/did-key.ts'

/** Symmetric key length for crypto_secretbox, in bytes (32). */
export const KEY_BYTES: number = sodium.crypto_secretbox_KEYBYTES
/** Nonce length for crypto_secretbox, in bytes (24). */
export const NONCE_BYTES: number = sodium.crypto_secretbox_NONCEBYTES
/** Authentication tag length added by crypto_secretbox, in bytes (16). */
export const MAC_BYTES: number = sodium.crypto_secretbox_MACBYTES
/** Length of a file header: 6-byte magic + 1-byte version. */
export const HEADER_BYTES = 7

export { derivePassphraseKey, writeFileAtomic, hex, isObject, FILE_MODE } from '../secure-file.ts'
export const DIR_MODE = 0o700

/** An identity as the SSCR needs it: its DID and 64-byte libsodium secret key (`seed || publicKey`). */
export interface HolderKey {
  did: string
  secretKey: Uint8Array
}

/**
 * Check that a secret key is a 64-byte Ed25519 key whose public half is the key of `did`.
 *
 * @param identity `{ did, secretKey }`.
 * @param what how to name the identity in the error message (e.g. 'holder').
 * @returns the DID, typed as a did:key.
 * @throws GrowrError BAD_ARGUMENT when the key has the wrong size or does not match the DID.
 */
export function checkIdentity (identity: HolderKey, what: string): DidKey {
  if (typeof identity !== 'object' || identity === null) throw GrowrError.BAD_ARGUMENT(`${what} identity is missing`)
  const { did, secretKey } = identity
  if (!(secretKey instanceof Uint8Array) || secretKey.byteLength !== SECRET_KEY_BYTES) {
    throw GrowrError.BAD_ARGUMENT(`${what} secretKey must be a ${SECRET_KEY_BYTES}-byte Uint8Array`)
  }
  const derived = generateKeyPair(secretKey.subarray(0, SEED_BYTES))
  const ok = b4a.equals(derived.secretKey, secretKey) && publicKeyToDid(derived.publicKey) === did
  sodium.sodium_memzero(derived.secretKey)
  if (!ok) throw GrowrError.BAD_ARGUMENT(`${what} secretKey does not belong to ${String(did)}`)
  return did as DidKey
}

/**
 * Derive a 32-byte key from an identity secret: BLAKE2b-256(message = UTF-8 `tag`,
 * key = the 32-byte Ed25519 seed). Deterministic; the caller should zero the result when done.
 *
 * @param secretKey 64-byte libsodium secret key (only the seed half is used).
 * @param tag domain-separation string, e.g. 'growr/sscr/v1'.
 * @returns a fresh 32-byte key.
 */
export function deriveIdentityKey (secretKey: Uint8Array, tag: string): Uint8Array {
  const out = b4a.alloc(KEY_BYTES)
  sodium.crypto_generichash(out, b4a.from(tag, 'utf8'), secretKey.subarray(0, SEED_BYTES))
  return out
}


/**
 * Encrypt with crypto_secretbox_easy under a fresh random nonce.
 *
 * @param key 32-byte key.
 * @param plaintext bytes to encrypt.
 * @returns `nonce (24) || ciphertext (plaintext + 16-byte tag)`.
 */
export function seal (key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = b4a.alloc(NONCE_BYTES + plaintext.byteLength + MAC_BYTES)
  const nonce = out.subarray(0, NONCE_BYTES)
  sodium.randombytes_buf(nonce)
  sodium.crypto_secretbox_easy(out.subarray(NONCE_BYTES), plaintext, nonce, key)
  return out
}

/**
 * Decrypt the output of {@link seal}.
 *
 * @param key 32-byte key.
 * @param boxed `nonce || ciphertext`.
 * @returns the plaintext, or null if the box is too short, was tampered with or the key is wrong.
 */
export function unseal (key: Uint8Array, boxed: Uint8Array): Uint8Array | null {
  if (boxed.byteLength < NONCE_BYTES + MAC_BYTES) return null
  const out = b4a.alloc(boxed.byteLength - NONCE_BYTES - MAC_BYTES)
  const ok = sodium.crypto_secretbox_open_easy(out, boxed.subarray(NONCE_BYTES), boxed.subarray(0, NONCE_BYTES), key)
  return ok ? out : null
}

/**
 * Prefix a body with `magic || version`.
 *
 * @param magic exactly 6 ASCII characters, e.g. 'GRSSCR'.
 * @param version 0..255.
 */
export function withHeader (magic: string, version: number, body: Uint8Array): Uint8Array {
  return b4a.concat([b4a.from(magic, 'latin1'), b4a.from([version]), body])
}

/**
 * Split `magic || version || body`, checking the magic and the version.
 *
 * @param what the file's name for error messages (e.g. 'SSCR wallet').
 * @returns the body (a view into `bytes`).
 * @throws GrowrError BAD_ARGUMENT if the magic is wrong or the data is shorter than the header;
 *   UNSUPPORTED_VERSION if the version byte is not `version`.
 */
export function stripHeader (bytes: Uint8Array, magic: string, version: number, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < HEADER_BYTES ||
      b4a.toString(bytes.subarray(0, 6), 'latin1') !== magic) {
    throw GrowrError.BAD_ARGUMENT(`not a ${what} (bad magic)`)
  }
  if (bytes[6] !== version) {
    throw GrowrError.UNSUPPORTED_VERSION(`${what} version ${bytes[6]} is not supported (expected ${version})`)
  }
  return bytes.subarray(HEADER_BYTES)
}



