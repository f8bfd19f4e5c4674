/**
 * One passphrase-encrypted file holding a holder's identity, her SSCR and her node's wallet
 * mnemonic, so she can move all three to a new device (or take them back from a custodian).
 *
 * Format (version 2, written today):
 *   `'GRBKUP' (6) || 0x02 || opslimit (uint32 LE) || memlimit (uint32 LE, bytes) || salt (16)
 *    || nonce (24) || crypto_secretbox_easy(JSON)`
 * with JSON `{ did, secretKey: hex, credentials, mnemonic: string | null, createdAt: ISO 8601 }`:
 * `mnemonic` is the node's BIP-39 English mnemonic (core/wallet/wallet.ts), or null when the
 * backup carries no wallet (a custodian's release: it holds credentials, not coins).
 * Version 1 (read, never written): the same bytes with 0x01 and no `mnemonic` key; it restores
 * with a freshly generated wallet seed (test/fixtures/backup-v1 keeps one written by the v1 code).
 * The key is Argon2id v1.3
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
import { Wallet, SEED_FILE } from '../wallet/wallet.ts'
import { checkMnemonic } from '../wallet/bip39.ts'

export const BACKUP_MAGIC = 'GRBKUP'
/** The version createBackup writes. */
export const BACKUP_VERSION = 2
/** The first version: identity and credentials, no wallet. Still opened. */
export const BACKUP_VERSION_1 = 1

const SALT_BYTES: number = sodium.crypto_pwhash_SALTBYTES
const PARAMS_BYTES = 8

/** What a backup restores: the identity key pair, the credentials and the wallet mnemonic. */
export interface OpenedBackup {
  identity: { did: DidKey; publicKey: Uint8Array; secretKey: Uint8Array }
  credentials: StoredCredential[]
  /** the node's BIP-39 mnemonic; null in a version-1 backup or one made without a wallet */
  mnemonic: string | null
  /** the file's format version (1 or 2) */
  version: number
  /** when the backup was made, ISO 8601 */
  createdAt: string
}

/**
 * Make an encrypted backup (version 2) of an identity, its credentials and its wallet mnemonic.
 *
 * @param input.identity `{ did, secretKey (64 bytes) }`; the key must belong to the DID.
 * @param input.credentials the holder's credentials (each `credentialSubject.id` must be the DID).
 * @param input.mnemonic the node's BIP-39 English mnemonic (Wallet.exportMnemonic), stored
 *   normalised; omit or null for a backup without a wallet.
 * @param input.passphrase non-empty string.
 * @param input.now optional clock for `createdAt`, ms since the epoch.
 * @returns the backup file's bytes.
 * @throws GrowrError BAD_ARGUMENT for an empty passphrase, a mismatched key, a bad credential or
 *   an invalid mnemonic (saying what is wrong with it).
 */
export function createBackup (input: { identity: HolderKey; credentials: StoredCredential[]; mnemonic?: string | null; passphrase: string; now?: number }): Uint8Array {
  const did = checkIdentity(input.identity, 'holder')
  checkPassphrase(input.passphrase)
  if (!Array.isArray(input.credentials)) throw GrowrError.BAD_ARGUMENT('credentials must be an array')
  for (const vc of input.credentials) checkStoredCredential(vc, did)
  let mnemonic: string | null = null
  if (input.mnemonic !== undefined && input.mnemonic !== null) {
    const checked = checkMnemonic(input.mnemonic)
    if (!checked.ok) throw GrowrError.BAD_ARGUMENT(`wallet mnemonic: ${checked.reason}`)
    mnemonic = checked.words
  }

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
    mnemonic,
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
 * Decrypt and check a backup of version 1 or 2.
 *
 * @param bytes the backup file's bytes.
 * @param passphrase the passphrase it was made with.
 * @returns the identity (secret key's public half checked against the DID), the credentials and
 *   the wallet mnemonic (null for version 1 or a backup without a wallet).
 * @throws GrowrError BAD_PASSPHRASE if the passphrase is missing, empty or wrong (or the ciphertext was tampered
 *   with: the two are indistinguishable); UNSUPPORTED_VERSION for an unknown version;
 *   BAD_ARGUMENT if the bytes are not a Growr backup or its content is malformed or inconsistent
 *   (a version-2 backup without a valid mnemonic or null, a version-1 backup carrying one).
 */
export function openBackup (bytes: Uint8Array, passphrase: string): OpenedBackup {
  const version = bytes instanceof Uint8Array && bytes.byteLength > 6 && bytes[6] === BACKUP_VERSION_1 ? BACKUP_VERSION_1 : BACKUP_VERSION
  const body = stripHeader(bytes, BACKUP_MAGIC, version, 'Growr backup')
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
  let mnemonic: string | null = null
  if (version === BACKUP_VERSION_1) {
    if (Object.hasOwn(data, 'mnemonic')) throw corrupt('a version 1 backup carries no wallet mnemonic')
  } else {
    if (!Object.hasOwn(data, 'mnemonic') || (data.mnemonic !== null && typeof data.mnemonic !== 'string')) throw corrupt('mnemonic must be text or null')
    if (typeof data.mnemonic === 'string') {
      const checked = checkMnemonic(data.mnemonic)
      if (!checked.ok) throw corrupt(`wallet mnemonic: ${checked.reason}`)
      mnemonic = checked.words
    }
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
  return { identity: { did, publicKey, secretKey }, credentials, mnemonic, version, createdAt: data.createdAt }
}

/** What {@link restoreFromBackup} did with the wallet seed. */
export type WalletSeedOutcome =
  /** the backup's mnemonic is the node's seed: same addresses as before */
  | 'restored'
  /** the backup had no mnemonic (version 1, or made without a wallet): a fresh seed was generated */
  | 'generated'
  /** the backup had no mnemonic and the directory already held this identity's seed: kept */
  | 'kept'

/** The result of {@link restoreFromBackup}. */
export interface RestoredBackup {
  did: DidKey
  /** what happened to the wallet seed; 'generated' means new addresses (say so to the user) */
  walletSeed: WalletSeedOutcome
  /** the backup's format version */
  version: number
}

/**
 * Restore a backup into an empty storage directory: writes the identity file (keyfile.ts
 * createIdentity with the backup's seed, encrypted if `identityPassphrase` is given), the SSCR
 * wallet holding the backup's credentials, then the wallet seed: the backup's mnemonic imported
 * (`generate: false` + importMnemonic, so the node has the same addresses), or a fresh one when the
 * backup has none.
 *
 * A wallet seed file already in the directory is checked before anything is written: it may stay
 * only if it is this identity's and holds the backup's mnemonic (or the backup has none).
 *
 * @param storageDir the node's storage directory (created if missing).
 * @param bytes the backup file's bytes; passphrase: its passphrase.
 * @param opts.identityPassphrase optional passphrase for the new identity file.
 * @returns the restored DID, what happened to the wallet seed, and the backup's version.
 * @throws GrowrError IDENTITY_EXISTS if the directory already has an identity or an SSCR wallet;
 *   WALLET_EXISTS if it has a wallet seed file that is another identity's or holds another
 *   mnemonic (a seed is never overwritten: its addresses may hold funds); everything
 *   {@link openBackup} throws (nothing is written in those cases).
 */
export async function restoreFromBackup (storageDir: string, bytes: Uint8Array, passphrase: string, opts: { identityPassphrase?: string } = {}): Promise<RestoredBackup> {
  if (typeof storageDir !== 'string' || storageDir.length === 0) throw GrowrError.BAD_ARGUMENT('storageDir must be a non-empty string')
  refuseExisting(storageDir)
  const { identity, credentials, mnemonic, version } = openBackup(bytes, passphrase)
  try {
    const hadSeed = await checkExistingSeed(storageDir, identity, mnemonic)
    createIdentity(storageDir, { seed: identity.secretKey.subarray(0, SEED_BYTES), passphrase: opts.identityPassphrase })
    const sscr = new Sscr({ dir: storageDir, identity })
    await sscr.ready()
    try {
      sscr.addMany(credentials)
    } finally {
      await sscr.close()
    }
    const keys = new Wallet({ dir: storageDir, identity, generate: mnemonic === null })
    await keys.ready()
    try {
      if (mnemonic !== null) keys.importMnemonic(mnemonic)
    } finally {
      await keys.close()
    }
    return { did: identity.did, walletSeed: mnemonic !== null ? 'restored' : hadSeed ? 'kept' : 'generated', version }
  } finally {
    sodium.sodium_memzero(identity.secretKey)
  }
}

/**
 * Restore a backup into an empty storage directory ({@link restoreFromBackup}, for callers that
 * need only the DID).
 * @returns the restored DID.
 * @throws GrowrError as {@link restoreFromBackup}.
 */
export async function restoreBackup (storageDir: string, bytes: Uint8Array, passphrase: string, opts: { identityPassphrase?: string } = {}): Promise<DidKey> {
  return (await restoreFromBackup(storageDir, bytes, passphrase, opts)).did
}

function refuseExisting (storageDir: string): void {
  if (hasIdentity(storageDir)) throw GrowrError.IDENTITY_EXISTS(`an identity already exists in ${storageDir}`)
  if (fs.existsSync(path.join(storageDir, 'sscr', WALLET_FILE))) {
    throw GrowrError.IDENTITY_EXISTS(`an SSCR wallet already exists in ${storageDir}`)
  }
}

/**
 * A wallet seed file left in the directory (a restore cut short, a copied folder) may stay only
 * when it is this identity's and agrees with the backup. Reads only; returns whether it exists.
 */
async function checkExistingSeed (storageDir: string, identity: HolderKey, mnemonic: string | null): Promise<boolean> {
  if (!fs.existsSync(path.join(storageDir, 'wallet', SEED_FILE))) return false
  const keys = new Wallet({ dir: storageDir, identity, generate: false })
  try {
    await keys.ready()
  } catch (err) {
    if ((err as GrowrError).code !== 'BAD_ARGUMENT') throw err
    throw GrowrError.WALLET_EXISTS(`a wallet seed file of another identity exists in ${storageDir}: it is never overwritten (its addresses may hold funds)`)
  }
  try {
    // a seed file exists, so importMnemonic only compares: same -> false, different -> WALLET_EXISTS
    if (mnemonic !== null) keys.importMnemonic(mnemonic)
  } finally {
    await keys.close()
  }
  return true
}

function checkPassphrase (passphrase: unknown): void {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw GrowrError.BAD_ARGUMENT('passphrase must be a non-empty string')
}

function corrupt (why: string): GrowrError {
  return GrowrError.BAD_ARGUMENT(`corrupted backup: ${why}`)
}
