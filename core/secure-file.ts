/**
 * Private files: passphrase keys (Argon2id) and atomic writes of owner-only files, shared by the
 * identity file and the SSCR. Uses only the synchronous fs calls Node and bare-fs both have.
 */
import fs from '#fs'
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { GrowrError } from './errors.ts'

export const FILE_MODE = 0o600
const KEY_BYTES: number = sodium.crypto_secretbox_KEYBYTES

/**
 * Derive a 32-byte secretbox key from a passphrase with Argon2id v1.3 (crypto_pwhash).
 *
 * @param passphrase non-empty string, NFC-normalised then UTF-8 encoded (as keyfile.ts does).
 * @param salt crypto_pwhash_SALTBYTES (16) bytes.
 * @param opslimit Argon2 passes; memlimit: bytes of memory.
 * @returns a fresh 32-byte key; the caller zeroes it.
 * @throws GrowrError BAD_ARGUMENT if libsodium refuses the parameters.
 */
export function derivePassphraseKey (passphrase: string, salt: Uint8Array, opslimit: number, memlimit: number): Uint8Array {
  const passwd = b4a.from(passphrase.normalize('NFC'), 'utf8')
  const key = b4a.alloc(KEY_BYTES)
  try {
    sodium.crypto_pwhash(key, passwd, salt, opslimit, memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13)
  } catch (err) {
    sodium.sodium_memzero(key)
    throw GrowrError.BAD_ARGUMENT(`key derivation failed: ${(err as Error).message}`)
  } finally {
    sodium.sodium_memzero(passwd)
  }
  return key
}

/**
 * Write bytes to `file` atomically: fresh temp file beside it (mode 0600, fsynced), then rename.
 *
 * @throws whatever fs throws (permissions, disk full); the temp file is removed on failure.
 */
export function writeFileAtomic (file: string, data: Uint8Array): void {
  const suffix = b4a.alloc(8)
  sodium.randombytes_buf(suffix)
  const tmp = `${file}.${hex(suffix)}.tmp`
  try {
    const fd = fs.openSync(tmp, 'wx', FILE_MODE)
    try {
      let written = 0
      while (written < data.byteLength) written += fs.writeSync(fd, data.subarray(written))
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.chmodSync(tmp, FILE_MODE)
    fs.renameSync(tmp, file)
  } catch (err) {
    try { fs.unlinkSync(tmp) } catch {}
    throw err
  }
}

/** Lowercase hex of bytes. */
export function hex (buf: Uint8Array): string {
  return b4a.toString(buf, 'hex')
}

/** True for a plain (non-array, non-null) object. */
export function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
