/**
 * The identity file: `<storageDir>/identity.json`, holding this node's Ed25519 key pair.
 *
 * Format (versioned JSON, all binary fields lowercase hex):
 * - plain:     `{ version: 1, did, publicKey, secretKey }`
 * - encrypted: `{ version: 1, did, publicKey, kdf: { alg: 'argon2id13', opslimit, memlimit, salt },
 *                nonce, ciphertext }`
 *   where the key is crypto_pwhash (Argon2id v1.3) of the UTF-8 (NFC-normalised) passphrase and
 *   `ciphertext` is crypto_secretbox_easy (XSalsa20-Poly1305) of the 64-byte secret key.
 *
 * The file is always mode 0600 and is written through a temp file + rename, so a crash never
 * leaves a half-written identity. It is only ever read from, or written to, a storage directory
 * that passes storage-dir.ts's checks (ours, 0700, nobody else can write it), and only read if
 * it is our own regular file: another local user must not be able to plant an identity.
 * Uses only synchronous fs calls supported by both Node and bare-fs.
 */
import fs from '#fs'
import path from '#path'
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'
import { derivePassphraseKey, hex, isObject, writeFileAtomic } from '../secure-file.ts'
import { generateKeyPair, PUBLIC_KEY_BYTES, SECRET_KEY_BYTES, SEED_BYTES } from './keys.ts'
import { publicKeyToDid, type DidKey } from './did-key.ts'
import { securePrivateDir, securePrivateFile } from '../storage-dir.ts'

/** File name of the identity file inside the storage directory. */
export const IDENTITY_FILE = 'identity.json'
/** The only identity file format version this code reads and writes. */
export const IDENTITY_FILE_VERSION = 1

const KDF_ALG = 'argon2id13'

/**
 * A loaded (decrypted) identity.
 * - `did`: the did:key of `publicKey`.
 * - `publicKey`: 32-byte Ed25519 public key.
 * - `secretKey`: 64-byte libsodium Ed25519 secret key (`seed || publicKey`).
 * - `encrypted`: whether the file on disk is passphrase-protected.
 */
export interface Identity {
  did: DidKey
  publicKey: Uint8Array
  secretKey: Uint8Array
  encrypted: boolean
}

interface KdfParams {
  alg: typeof KDF_ALG
  opslimit: number
  memlimit: number
  salt: string
}

interface PlainFile {
  version: 1
  did: DidKey
  publicKey: string
  secretKey: string
}

interface EncryptedFile {
  version: 1
  did: DidKey
  publicKey: string
  kdf: KdfParams
  nonce: string
  ciphertext: string
}

/**
 * Path of the identity file for a storage directory.
 *
 * @param storageDir the node's storage directory.
 * @returns `<storageDir>/identity.json`.
 */
export function identityFilePath (storageDir: string): string {
  return path.join(storageDir, IDENTITY_FILE)
}

/**
 * Is there an identity file in this storage directory? Does not read or validate it.
 *
 * @param storageDir the node's storage directory.
 * @returns true if `<storageDir>/identity.json` exists.
 */
export function hasIdentity (storageDir: string): boolean {
  return fs.existsSync(identityFilePath(storageDir))
}

/**
 * Create a new identity and write it to `<storageDir>/identity.json` (mode 0600). The directory
 * is created recursively (mode 0700) if missing, and checked if present (storage-dir.ts
 * securePrivateDir). With a passphrase, the secret key is encrypted
 * (Argon2id13 at libsodium's INTERACTIVE limits, then XSalsa20-Poly1305); the derived key is
 * zeroed after use.
 *
 * @param storageDir the node's storage directory.
 * @param opts.passphrase optional non-empty passphrase (UTF-8, NFC-normalised before hashing).
 * @param opts.seed optional 32-byte Ed25519 seed for a deterministic key pair; random otherwise.
 * @returns the new identity (`encrypted` reflects whether a passphrase was used).
 * @throws GrowrError IDENTITY_EXISTS if the identity file already exists;
 *   STORAGE_UNSAFE if the directory belongs to another user or others can write to it;
 *   BAD_ARGUMENT if the passphrase is empty or not a string, or the seed is not 32 bytes.
 *   File-system errors (permissions, disk full) propagate as thrown by fs.
 */
export function createIdentity (storageDir: string, opts: { passphrase?: string, seed?: Uint8Array } = {}): Identity {
  if (typeof storageDir !== 'string' || storageDir.length === 0) {
    throw GrowrError.BAD_ARGUMENT('storageDir must be a non-empty string')
  }
  const { passphrase, seed } = opts
  if (passphrase !== undefined && (typeof passphrase !== 'string' || passphrase.length === 0)) {
    throw GrowrError.BAD_ARGUMENT('passphrase must be a non-empty string')
  }
  securePrivateDir(storageDir)
  const file = identityFilePath(storageDir)
  if (fs.existsSync(file)) {
    throw GrowrError.IDENTITY_EXISTS(`an identity already exists at ${file}`)
  }

  const { publicKey, secretKey } = generateKeyPair(seed)
  const did = publicKeyToDid(publicKey)
  const encrypted = passphrase !== undefined
  const content: PlainFile | EncryptedFile = encrypted
    ? { version: 1, did, publicKey: hex(publicKey), ...encryptSecretKey(secretKey, passphrase) }
    : { version: 1, did, publicKey: hex(publicKey), secretKey: hex(secretKey) }

  const bytes = b4a.from(JSON.stringify(content, null, 2) + '\n', 'utf8')
  try {
    writeFileAtomic(file, bytes)
  } finally {
    sodium.sodium_memzero(bytes) // it may hold the plain secret key
  }
  return { did, publicKey, secretKey, encrypted }
}

/**
 * Read and check `<storageDir>/identity.json`, decrypting it if it is passphrase-protected.
 * The secret key's public half (re-derived from its seed) must match `publicKey`, and `did`
 * must be the did:key of `publicKey`. A passphrase given for an unencrypted file is ignored.
 *
 * @param storageDir the node's storage directory.
 * @param opts.passphrase the passphrase, required if the file is encrypted.
 * @returns the identity; `encrypted` tells whether the file was passphrase-protected.
 * @throws GrowrError NO_IDENTITY if the file does not exist;
 *   STORAGE_UNSAFE if the directory or the file belongs to another user or others can write to
 *   it, or the file is a symlink (read bits for others are tightened away, not refused);
 *   BAD_PASSPHRASE if the file is encrypted and the passphrase is missing, empty or wrong
 *   (a tampered ciphertext is indistinguishable and gives the same error);
 *   UNSUPPORTED_VERSION if `version` is a number other than 1;
 *   BAD_ARGUMENT if the file is not valid JSON, a field is missing or malformed, the KDF
 *   parameters are unknown or out of range, or the keys and DID do not match each other.
 */
export function loadIdentity (storageDir: string, opts: { passphrase?: string } = {}): Identity {
  const file = identityFilePath(storageDir)
  if (!fs.existsSync(storageDir)) throw GrowrError.NO_IDENTITY()
  securePrivateDir(storageDir)
  if (!fs.existsSync(file)) throw GrowrError.NO_IDENTITY()
  securePrivateFile(file, 'identity file')

  let data: unknown
  try {
    data = JSON.parse(b4a.toString(fs.readFileSync(file), 'utf8'))
  } catch {
    throw corrupt('not valid JSON')
  }
  if (!isObject(data)) throw corrupt('not a JSON object')
  if (typeof data.version !== 'number') throw corrupt('missing version')
  if (data.version !== IDENTITY_FILE_VERSION) {
    throw GrowrError.UNSUPPORTED_VERSION(`identity file version ${data.version} is not supported (expected ${IDENTITY_FILE_VERSION})`)
  }

  const publicKey = hexField(data, 'publicKey', PUBLIC_KEY_BYTES)
  const did = publicKeyToDid(publicKey)
  if (data.did !== did) throw corrupt('did does not match publicKey')

  let secretKey: Uint8Array
  let encrypted: boolean
  if ('ciphertext' in data) {
    encrypted = true
    const { passphrase } = opts
    if (typeof passphrase !== 'string' || passphrase.length === 0) {
      throw GrowrError.BAD_PASSPHRASE('this identity is encrypted: a passphrase is required')
    }
    secretKey = decryptSecretKey(data, passphrase)
  } else {
    encrypted = false
    secretKey = hexField(data, 'secretKey', SECRET_KEY_BYTES)
  }

  const derived = generateKeyPair(secretKey.subarray(0, SEED_BYTES))
  const matches = b4a.equals(derived.publicKey, publicKey) && b4a.equals(derived.secretKey, secretKey)
  sodium.sodium_memzero(derived.secretKey)
  if (!matches) throw corrupt('secret key does not match publicKey')

  return { did, publicKey, secretKey, encrypted }
}

function encryptSecretKey (secretKey: Uint8Array, passphrase: string): Pick<EncryptedFile, 'kdf' | 'nonce' | 'ciphertext'> {
  const salt = b4a.alloc(sodium.crypto_pwhash_SALTBYTES)
  sodium.randombytes_buf(salt)
  const nonce = b4a.alloc(sodium.crypto_secretbox_NONCEBYTES)
  sodium.randombytes_buf(nonce)
  const opslimit = sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE
  const memlimit = sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE

  const key = derivePassphraseKey(passphrase, salt, opslimit, memlimit)
  const ciphertext = b4a.alloc(secretKey.byteLength + sodium.crypto_secretbox_MACBYTES)
  try {
    sodium.crypto_secretbox_easy(ciphertext, secretKey, nonce, key)
  } finally {
    sodium.sodium_memzero(key)
  }
  return {
    kdf: { alg: KDF_ALG, opslimit, memlimit, salt: hex(salt) },
    nonce: hex(nonce),
    ciphertext: hex(ciphertext)
  }
}

function decryptSecretKey (data: Record<string, unknown>, passphrase: string): Uint8Array {
  const kdf = data.kdf
  if (!isObject(kdf)) throw corrupt('missing kdf')
  if (kdf.alg !== KDF_ALG) throw corrupt(`unknown kdf alg ${JSON.stringify(kdf.alg)}`)
  // Bound the work a (tampered) file can demand: at most libsodium's SENSITIVE limits.
  const opslimit = intField(kdf, 'opslimit', sodium.crypto_pwhash_OPSLIMIT_MIN, sodium.crypto_pwhash_OPSLIMIT_SENSITIVE)
  const memlimit = intField(kdf, 'memlimit', sodium.crypto_pwhash_MEMLIMIT_MIN, sodium.crypto_pwhash_MEMLIMIT_SENSITIVE)
  const salt = hexField(kdf, 'salt', sodium.crypto_pwhash_SALTBYTES)
  const nonce = hexField(data, 'nonce', sodium.crypto_secretbox_NONCEBYTES)
  const ciphertext = hexField(data, 'ciphertext', SECRET_KEY_BYTES + sodium.crypto_secretbox_MACBYTES)

  const key = derivePassphraseKey(passphrase, salt, opslimit, memlimit)
  const secretKey = b4a.alloc(SECRET_KEY_BYTES)
  let ok: boolean
  try {
    ok = sodium.crypto_secretbox_open_easy(secretKey, ciphertext, nonce, key)
  } finally {
    sodium.sodium_memzero(key)
  }
  if (!ok) throw GrowrError.BAD_PASSPHRASE()
  return secretKey
}

function hexField (obj: Record<string, unknown>, name: string, bytes: number): Uint8Array {
  const v = obj[name]
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-f]*$/.test(v)) {
    throw corrupt(`${name} must be ${bytes} bytes of lowercase hex`)
  }
  return b4a.from(v, 'hex')
}

function intField (obj: Record<string, unknown>, name: string, min: number, max: number): number {
  const v = obj[name]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw corrupt(`kdf ${name} must be an integer in [${min}, ${max}]`)
  }
  return v
}

function corrupt (why: string): GrowrError {
  return GrowrError.BAD_ARGUMENT(`corrupted identity file: ${why}`)
}
