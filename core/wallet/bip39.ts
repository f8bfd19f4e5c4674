/**
 * BIP-39 mnemonic sentences (bitcoin/bips bip-0039.mediawiki), English wordlist, over
 * @scure/bip39. Pure apart from {@link generateMnemonic}, which draws entropy from libsodium's
 * CSPRNG (not `globalThis.crypto`, which Bare does not have).
 *
 * Growr stores a wallet's entropy (16 to 32 bytes), never the words or the 64-byte seed: the words
 * and the seed are both recomputed from it.
 */
import '../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import * as scure from '@scure/bip39'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'

/** Entropy of a node's own mnemonic, in bytes: 32 bytes = 256 bits = 24 words. */
export const NODE_ENTROPY_BYTES = 32
/** Entropy lengths BIP-39 allows, in bytes (12, 15, 18, 21, 24 words). */
export const ENTROPY_BYTES: readonly number[] = [16, 20, 24, 28, 32]

/**
 * Put a mnemonic typed by a person in BIP-39's form: Unicode NFKD, lower case, words separated
 * by single spaces, no leading or trailing space.
 *
 * @param words the mnemonic as typed.
 * @returns the normalised sentence (not yet validated).
 * @throws GrowrError BAD_ARGUMENT if `words` is not a string.
 */
export function normalizeMnemonic (words: string): string {
  if (typeof words !== 'string') throw GrowrError.BAD_ARGUMENT('mnemonic must be a string of words')
  return words.normalize('NFKD').toLowerCase().trim().split(/\s+/).join(' ')
}

/**
 * Make a fresh 24-word English mnemonic from 256 bits of CSPRNG entropy (BIP-39 "Generating the
 * mnemonic").
 *
 * @returns 24 words separated by single spaces.
 */
export function generateMnemonic (): string {
  const entropy = b4a.alloc(NODE_ENTROPY_BYTES)
  sodium.randombytes_buf(entropy)
  try {
    return scure.entropyToMnemonic(entropy, wordlist)
  } finally {
    sodium.sodium_memzero(entropy)
  }
}

/**
 * Whether a sentence is a valid English BIP-39 mnemonic: 12 to 24 words (a multiple of 3), every
 * word in the list, and the checksum bits right.
 *
 * @param words the mnemonic (normalised first with {@link normalizeMnemonic}).
 * @returns true when valid; never throws.
 */
export function validateMnemonic (words: string): boolean {
  if (typeof words !== 'string') return false
  return scure.validateMnemonic(normalizeMnemonic(words), wordlist)
}

/**
 * Check a mnemonic and say in plain words what is wrong with it.
 *
 * @param words the mnemonic (normalised first).
 * @returns `{ ok: true, words }` (normalised) or `{ ok: false, reason }`.
 */
export function checkMnemonic (words: string): { ok: true, words: string } | { ok: false, reason: string } {
  if (typeof words !== 'string') return { ok: false, reason: 'the mnemonic must be a string of words' }
  const norm = normalizeMnemonic(words)
  const list = norm === '' ? [] : norm.split(' ')
  if (![12, 15, 18, 21, 24].includes(list.length)) {
    return { ok: false, reason: `a mnemonic has 12, 15, 18, 21 or 24 words; this one has ${list.length}` }
  }
  const unknown = list.findIndex((w) => !wordlist.includes(w))
  if (unknown !== -1) return { ok: false, reason: `word ${unknown + 1} ("${list[unknown]}") is not in the BIP-39 English wordlist` }
  if (!scure.validateMnemonic(norm, wordlist)) {
    return { ok: false, reason: 'the checksum does not match: a word is wrong or two words are swapped' }
  }
  return { ok: true, words: norm }
}

/**
 * The entropy a mnemonic encodes (BIP-39, inverse of "Generating the mnemonic").
 *
 * @param words a valid English mnemonic.
 * @returns 16 to 32 bytes; the caller should zero them when done.
 * @throws GrowrError BAD_ARGUMENT naming what is wrong, for an invalid mnemonic.
 */
export function mnemonicToEntropy (words: string): Uint8Array {
  const checked = checkMnemonic(words)
  if (!checked.ok) throw GrowrError.BAD_ARGUMENT(`not a valid mnemonic: ${checked.reason}`)
  return scure.mnemonicToEntropy(checked.words, wordlist)
}

/**
 * The English mnemonic for some entropy.
 *
 * @param entropy 16, 20, 24, 28 or 32 bytes.
 * @returns the words separated by single spaces.
 * @throws GrowrError BAD_ARGUMENT for any other length.
 */
export function entropyToMnemonic (entropy: Uint8Array): string {
  if (!(entropy instanceof Uint8Array) || !ENTROPY_BYTES.includes(entropy.byteLength)) {
    throw GrowrError.BAD_ARGUMENT(`entropy must be ${ENTROPY_BYTES.join(', ')} bytes`)
  }
  return scure.entropyToMnemonic(entropy, wordlist)
}

/**
 * The 64-byte BIP-39 seed: PBKDF2-HMAC-SHA512(password = NFKD(words),
 * salt = "mnemonic" + NFKD(passphrase), 2048 iterations). Synchronous; tens of ms.
 *
 * @param words a valid English mnemonic (checked: a wrong word is refused, not silently seeded).
 * @param passphrase optional BIP-39 passphrase ("25th word"); default empty.
 * @returns 64 bytes; the caller should zero them when done.
 * @throws GrowrError BAD_ARGUMENT for an invalid mnemonic or a non-string passphrase.
 */
export function mnemonicToSeed (words: string, passphrase = ''): Uint8Array {
  const checked = checkMnemonic(words)
  if (!checked.ok) throw GrowrError.BAD_ARGUMENT(`not a valid mnemonic: ${checked.reason}`)
  if (typeof passphrase !== 'string') throw GrowrError.BAD_ARGUMENT('passphrase must be a string')
  return scure.mnemonicToSeedSync(checked.words, passphrase)
}
