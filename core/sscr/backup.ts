/**
 * One passphrase-encrypted file holding a holder's identity and her SSCR, so she can move both to a
 * new device (or take them back from a custodian).
 *
 * Format (version 1):
 *   `'GRBKUP' (6) || 0x01 || opslimit (uint32 LE) || memlimit (uint32 LE, bytes) || salt (16)
 *    || nonce (24) || crypto_secretbox_easy(JSON)`
 * with JSON `{ did, secretKey: hex, credentials, createdAt: ISO 8601 }`. The key is Argon2id v1.3
 * (crypto_pwhash) of the NFC-normalised passphrase, as in core/identity/keyfile.ts. New backups use
 * libsodium's INTERACTIVE limits (2 passes, 64 MiB): the same cost as the identity file, and quick
 * enough for tests; the limits are stored so a later version can raise them, and a file may demand
 * at most the SENSITIVE limits (bounding the work a tampered file can cause).
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { GrowrError } from '../errors.ts'
import { createIdentity, hasIdentity } from '../identity/keyfile.ts'
import { generateKeyPair, PUBLIC_KEY_BYTES, SECRET_KEY_BYTES, SEED_BYTES } from '../identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../identity/did-key.ts'
import fs from '#fs'
import path from '#path'
import {
  checkIdentity, derivePassphraseKey, seal, unseal, withHeader, stripHeader, hex, isObject, type HolderKey
} from './crypto.ts'
import { Sscr, checkStoredCredential, WALLET_FILE, type StoredCredential } from './wallet.ts'

export const BACKUP_MAGIC = 'GRBKUP'
export const BACKUP_VERSION = 1

const SALT_BYTES: number = sodium.crypto_pwhash_SALTBYTES
const PARAMS_BYTES = 8

/** What a backup restores: the identity key pair and the credentials. */
export interface OpenedBackup {
  identity: { did: DidKey; publicKey: Uint8Array; secretKey: Uint8Array }
  credentials: StoredCredential[]
  /** when the backup was made, ISO 8601 */
  createdAt: string
}

/**
 * Make an encrypted backup of an identity and its credentials.
 *
 * @param input.identity `{ did, secretKey (64 bytes) }`; the key must belong to the DID.
 * @param input.credentials the holder's credentials (each `credentialSubject.id` must be the DID).
 * @param input.passphrase non-empty string.
 * @param input.now optional clock for `createdAt`, ms since the epoch.
 * @returns the backup file's bytes.
 * @throws GrowrError BAD_ARGUMENT for an empty passphrase, a mismatched key or a bad credential.
 */
export function createBackup (input: { identity: HolderKey; credentials: StoredCredential[]; passphrase: string; now?: number }): Uint8Array {
  const did = checkIdentity(input.identity, 'holder')
  checkPassphrase(input.passphrase)
  if (!Array.isArray(input.credentials)) throw GrowrError.BAD_ARGUMENT('credentials must be an array')
  for (const vc of input.credentials) checkStoredCredential(vc, did)

  const opslimit = sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE
  const memlimit = sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE
  const header = b4a.alloc(PARAMS_BYTES + SALT_BYTES)
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
  view.setUint32(0, opslimit, true)
  view.setUint32(4, memlimit, true)
  sodium.randombytes_buf(header.subarray(PARAMS_BYTES))

  const json = b4a.from(JSON.stringify({
    did,
    secretKey: hex(input.identity.secretKey),
    credentials: input.credentials,
    createdAt: new Date(input.now ?? Date.now()).toISOString()
  }), 'utf8')
  const key = derivePassphraseKey(input.passphrase, header.subarray(PARAMS_BYTES), opslimit, memlimit)
  try {
    return withHeader(BACKUP_MAGIC, BACKUP_VERSION, b4a.concat([header, seal(key, json)]))
  } finally {
    sodium.sodium_memzero(key)
    sodium.sodium_memzero(json)
  }
}

/**
 * Decrypt and check a backup.
 *
 * @param bytes the backup file's bytes.
 * @param passphrase the passphrase it was made with.
 * @returns the identity (secret key's public half checked against the DID) and the credentials.
 * @throws GrowrError BAD_PASSPHRASE if the passphrase is missing, empty or wrong (or the ciphertext was tampered
 *   with: the two are indistinguishable); UNSUPPORTED_VERSION for an unknown version;
 *   BAD_ARGUMENT if the bytes are not a Growr backup or its content is malformed or inconsistent.
 */
export function openBackup (bytes: Uint8Array, passphrase: string): OpenedBackup {
  const body = stripHeader(bytes, BACKUP_MAGIC, BACKUP_VERSION, 'Growr backup')
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw GrowrError.BAD_PASSPHRASE('a passphrase is required to open this backup')
  if (body.byteLength < PARAMS_BYTES + SALT_BYTES) throw corrupt('truncated header')
  const view = new DataView(body.buffer, body.byteOffset, PARAMS_BYTES)
  const opslimit = view.getUint32(0, true)
  const memlimit = view.getUint32(4, true)
  if (opslimit < sodium.crypto_pwhash_OPSLIMIT_MIN || opslimit > sodium.crypto_pwhash_OPSLIMIT_SENSITIVE ||
      memlimit < sodium.crypto_pwhash_MEMLIMIT_MIN || memlimit > sodium.crypto_pwhash_MEMLIMIT_SENSITIVE) {
    throw corrupt('key-derivation limits out of range')
  }
  const salt = body.subarray(PARAMS_BYTES, PARAMS_BYTES + SALT_BYTES)
  const key = derivePassphraseKey(passphrase, salt, opslimit, memlimit)
  let plain: Uint8Array | null
  try {
    plain = unseal(key, body.subarray(PARAMS_BYTES + SALT_BYTES))
  } finally {
    sodium.sodium_memzero(key)
  }
  if (plain === null) throw GrowrError.BAD_PASSPHRASE('passphrase does not open this backup')

  let data: unknown
  try {
    data = JSON.parse(b4a.toString(plain, 'utf8'))
  } catch {
    throw corrupt('content is not JSON')
  } finally {
    sodium.sodium_memzero(plain)
  }
  if (!isObject(data) || typeof data.did !== 'string' || typeof data.secretKey !== 'string' ||
      !Array.isArray(data.credentials) || typeof data.createdAt !== 'string') {
    throw corrupt('content is malformed')
  }
  if (!/^[0-9a-f]*$/.test(data.secretKey) || data.secretKey.length !== SECRET_KEY_BYTES * 2) {
    throw corrupt('secretKey must be 64 bytes of hex')
  }
  const secretKey = b4a.from(data.secretKey, 'hex')
  const { publicKey, secretKey: derived } = generateKeyPair(secretKey.subarray(0, SEED_BYTES))
  const matches = b4a.equals(derived, secretKey) && publicKey.byteLength === PUBLIC_KEY_BYTES && publicKeyToDid(publicKey) === data.did
  sodium.sodium_memzero(derived)
  if (!matches) throw corrupt('secret key does not match the DID')
  const did = data.did as DidKey
  const credentials = data.credentials.map((vc) => {
    try {
      return checkStoredCredential(vc, did)
    } catch (err) {
      throw corrupt((err as Error).message)
    }
  })
  return { identity: { did, publicKey, secretKey }, credentials, createdAt: data.createdAt }
}

/**
 * Restore a backup into an empty storage directory: writes the identity file (keyfile.ts
 * createIdentity with the backup's seed, encrypted if `identityPassphrase` is given) and then the
 * SSCR wallet holding the backup's credentials.
 *
 * @param storageDir the node's storage directory (created if missing).
 * @param bytes the backup file's bytes; passphrase: its passphrase.
 * @param opts.identityPassphrase optional passphrase for the new identity file.
 * @returns the restored DID.
 * @throws GrowrError IDENTITY_EXISTS if the directory already has an identity or an SSCR wallet;
 *   everything {@link openBackup} throws (nothing is written in that case).
 */
export async function restoreBackup (storageDir: string, bytes: Uint8Array, passphrase: string, opts: { identityPassphrase?: string } = {}): Promise<DidKey> {
  if (typeof storageDir !== 'string' || storageDir.length === 0) throw GrowrError.BAD_ARGUMENT('storageDir must be a non-empty string')
  refuseExisting(storageDir)
  const { identity, credentials } = openBackup(bytes, passphrase)
  try {
    createIdentity(storageDir, { seed: identity.secretKey.subarray(0, SEED_BYTES), passphrase: opts.identityPassphrase })
    const wallet = new Sscr({ dir: storageDir, identity })
    await wallet.ready()
    try {
      wallet.addMany(credentials)
    } finally {
      await wallet.close()
    }
  } finally {
    sodium.sodium_memzero(identity.secretKey)
  }
  return identity.did
}

function refuseExisting (storageDir: string): void {
  if (hasIdentity(storageDir)) throw GrowrError.IDENTITY_EXISTS(`an identity already exists in ${storageDir}`)
  if (fs.existsSync(path.join(storageDir, 'sscr', WALLET_FILE))) {
    throw GrowrError.IDENTITY_EXISTS(`an SSCR wallet already exists in ${storageDir}`)
  }
}

function checkPassphrase (passphrase: unknown): void {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw GrowrError.BAD_ARGUMENT('passphrase must be a non-empty string')
}

function corrupt (why: string): GrowrError {
  return GrowrError.BAD_ARGUMENT(`corrupted backup: ${why}`)
}
