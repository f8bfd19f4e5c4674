// BIP-39 against the Trezor reference vectors (test/vectors/bip39/vectors.json, passphrase "TREZOR").
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import { HDKey } from '@scure/bip32'
import {
  generateMnemonic, validateMnemonic, checkMnemonic, mnemonicToEntropy, entropyToMnemonic,
  mnemonicToSeed, normalizeMnemonic
} from '../core/wallet/bip39.ts'
import { BITCOIN_NETWORKS } from '../core/wallet/bip84.ts'
import { throwsCode } from './helpers/assert.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const vectors = JSON.parse(fs.readFileSync(path.join(here, 'vectors/bip39/vectors.json'), 'utf8')) as { english: [string, string, string, string][] }

test('bip39 - all 24 English Trezor vectors: entropy <-> words, seed with "TREZOR", root xprv', (t) => {
  t.is(vectors.english.length, 24, 'the vector file has its 24 English entries')
  for (const [entropyHex, words, seedHex, xprv] of vectors.english) {
    const entropy = b4a.from(entropyHex, 'hex')
    t.is(entropyToMnemonic(entropy), words, `entropy ${entropyHex.slice(0, 8)}.. -> words`)
    t.is(b4a.toString(mnemonicToEntropy(words), 'hex'), entropyHex, 'words -> entropy')
    t.ok(validateMnemonic(words), 'valid')
    const seed = mnemonicToSeed(words, 'TREZOR')
    t.is(b4a.toString(seed, 'hex'), seedHex, 'seed (PBKDF2-HMAC-SHA512, 2048, "mnemonicTREZOR")')
    t.is(HDKey.fromMasterSeed(seed, BITCOIN_NETWORKS.mainnet.bip32).privateExtendedKey, xprv, 'BIP-32 root xprv')
  }
})

test('bip39 - the passphrase changes the seed; none is the empty passphrase', (t) => {
  const words = vectors.english[0][1]
  t.is(b4a.toString(mnemonicToSeed(words, 'TREZOR'), 'hex'), vectors.english[0][2])
  t.not(b4a.toString(mnemonicToSeed(words), 'hex'), vectors.english[0][2], 'no passphrase, another seed')
  t.alike(mnemonicToSeed(words), mnemonicToSeed(words, ''), 'default is ""')
})

test('bip39 - generateMnemonic: 24 valid words, 256 bits, fresh each time', (t) => {
  const a = generateMnemonic()
  const b = generateMnemonic()
  t.is(a.split(' ').length, 24)
  t.ok(validateMnemonic(a))
  t.is(mnemonicToEntropy(a).byteLength, 32, '32 bytes of entropy')
  t.not(a, b, 'two calls differ')
})

test('bip39 - typed input is normalised (case, spaces, NFKD)', (t) => {
  const words = vectors.english[0][1]
  const typed = '  ' + words.toUpperCase().split(' ').join('   \n') + ' '
  t.is(normalizeMnemonic(typed), words)
  t.alike(mnemonicToEntropy(typed), mnemonicToEntropy(words))
})

test('bip39 - hostile: wrong word count, unknown word, bad checksum each refused with its own reason', (t) => {
  const words = vectors.english[1][1].split(' ') // legal winner thank year ...
  const short = checkMnemonic(words.slice(0, 11).join(' '))
  t.is(short.ok, false)
  t.ok(!short.ok && /12, 15, 18, 21 or 24 words; this one has 11/.test(short.reason), 'count: ' + (short.ok ? '' : short.reason))

  const unknown = checkMnemonic([...words.slice(0, 11), 'bitcoin'].join(' '))
  t.ok(!unknown.ok && /word 12 \("bitcoin"\) is not in the BIP-39 English wordlist/.test(unknown.reason), 'unknown: ' + (unknown.ok ? '' : unknown.reason))

  // swapping two different words keeps every word valid but breaks the checksum
  const swapped = [...words]
  ;[swapped[0], swapped[1]] = [swapped[1], swapped[0]]
  const bad = checkMnemonic(swapped.join(' '))
  t.ok(!bad.ok && /checksum does not match/.test(bad.reason), 'checksum: ' + (bad.ok ? '' : bad.reason))
  t.is(validateMnemonic(swapped.join(' ')), false)

  throwsCode(t, () => mnemonicToSeed(swapped.join(' ')), 'BAD_ARGUMENT', 'no seed from a mnemonic with a bad checksum')
  throwsCode(t, () => mnemonicToEntropy(''), 'BAD_ARGUMENT', 'empty mnemonic')
  throwsCode(t, () => entropyToMnemonic(new Uint8Array(17)), 'BAD_ARGUMENT', '17 bytes of entropy')
  t.is(validateMnemonic(42 as unknown as string), false, 'a non-string is not a mnemonic')
  throwsCode(t, () => mnemonicToSeed(words.join(' '), 42 as unknown as string), 'BAD_ARGUMENT', 'a non-string passphrase')
})
