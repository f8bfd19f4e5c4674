// The node's Wallet at rest: seed.bin encrypted under the identity, reopen, import/restore rules,
// tampering and unsafe files refused.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import b4a from 'b4a'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { Wallet, SEED_FILE, WALLET_KEY_TAG } from '../core/wallet/wallet.ts'
import { deriveIdentityKey, seal, withHeader } from '../core/sscr/crypto.ts'
import { mnemonicToEntropy, mnemonicToSeed, validateMnemonic } from '../core/wallet/bip39.ts'
import { bitcoinNetwork, BCOIN_REGTEST_BECH32 } from '../core/wallet/bip84.ts'
import { rejectsCode, throwsCode } from './helpers/assert.ts'
import { tmpDir, seed as seedOf } from './helpers/net.ts'

const VECTOR = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'
const OTHER_UID = 12345

function identity (n: number) {
  const { publicKey, secretKey } = generateKeyPair(seedOf(n))
  return { did: publicKeyToDid(publicKey), secretKey }
}

async function open (t: { teardown: Function }, dir: string, n = 1, opts: { generate?: boolean } = {}): Promise<Wallet> {
  const w = new Wallet({ dir, identity: identity(n), ...opts })
  t.teardown(() => w.close())
  await w.ready()
  return w
}

function seedFile (dir: string): string { return path.join(dir, 'wallet', SEED_FILE) }

test('wallet - first open generates 24 words, stored 0600 in a 0700 dir, nothing secret in clear', async (t) => {
  const dir = tmpDir(t)
  const w = await open(t, dir)
  const words = w.exportMnemonic()
  t.is(words.split(' ').length, 24)
  t.ok(validateMnemonic(words))
  t.is(fs.statSync(seedFile(dir)).mode & 0o777, 0o600, 'seed.bin is 0600')
  t.is(fs.statSync(path.join(dir, 'wallet')).mode & 0o777, 0o700, 'wallet/ is 0700')

  const bytes = fs.readFileSync(seedFile(dir))
  t.is(b4a.toString(bytes.subarray(0, 6), 'latin1'), 'GRWSED', 'header names the format')
  const entropy = mnemonicToEntropy(words)
  const seed = mnemonicToSeed(words)
  const secrets: [string, Uint8Array][] = [
    ['the sentence', b4a.from(words)],
    ['entropy', entropy], ['entropy hex', b4a.from(b4a.toString(entropy, 'hex'))],
    ['entropy base64', b4a.from(b4a.toString(entropy, 'base64'))],
    ['seed', seed], ['seed hex', b4a.from(b4a.toString(seed, 'hex'))],
    ['first 8 bytes of entropy', entropy.subarray(0, 8)]
  ]
  for (const w4 of words.split(' ').filter((x) => x.length >= 5)) secrets.push([`word "${w4}"`, b4a.from(w4)])
  for (const [name, s] of secrets) t.is(b4a.indexOf(bytes, s), -1, `${name} is not in the file`)
})

test('wallet - reopening gives the same mnemonic and the same addresses; two nodes differ', async (t) => {
  const dir = tmpDir(t)
  const w = await open(t, dir)
  const words = w.exportMnemonic()
  const btc = w.bitcoin('mainnet').receive(3).address
  const rb = w.bitcoin(bitcoinNetwork('regtest', { bech32: BCOIN_REGTEST_BECH32 })).receive(0).address
  const rsk = w.rootstock(30).address(0).address
  const xpub = w.bitcoin('testnet').xpub
  t.is(w.bitcoin('mainnet'), w.bitcoin('mainnet'), 'accounts are cached')
  await w.close()

  const again = await open(t, dir)
  t.is(again.exportMnemonic(), words, 'same mnemonic')
  t.is(again.bitcoin('mainnet').receive(3).address, btc)
  t.ok(rb.startsWith('rb1q'))
  t.is(again.bitcoin(bitcoinNetwork('regtest', { bech32: 'rb' })).receive(0).address, rb)
  t.is(again.rootstock(30).address(0).address, rsk)
  t.is(again.bitcoin('testnet').xpub, xpub)

  const other = await open(t, tmpDir(t))
  t.not(other.exportMnemonic(), words, 'another node generates its own mnemonic')
})

test('wallet - a wrong identity cannot open the seed file (coded error, nothing leaks)', async (t) => {
  const dir = tmpDir(t)
  const w = await open(t, dir, 1)
  await w.close()
  const intruder = new Wallet({ dir, identity: identity(2) })
  await rejectsCode(t, intruder.ready(), 'BAD_ARGUMENT', 'another identity\'s key')
  try { await new Wallet({ dir, identity: identity(2) }).ready() } catch (err) {
    t.ok(/cannot be decrypted/.test((err as Error).message), 'says it cannot be decrypted')
  }
  t.ok(fs.existsSync(seedFile(dir)), 'and the file is left alone')
  const owner = await open(t, dir, 1)
  t.ok(owner.hasSeed, 'the owner still opens it')
})

test('wallet - hostile: a tampered, truncated, foreign or future-version seed file is refused', async (t) => {
  const dir = tmpDir(t)
  const w = await open(t, dir)
  await w.close()
  const good = fs.readFileSync(seedFile(dir))
  const attempt = async (bytes: Uint8Array, code: string, why: string, re: RegExp) => {
    fs.writeFileSync(seedFile(dir), bytes, { mode: 0o600 })
    try {
      await new Wallet({ dir, identity: identity(1) }).ready()
      t.fail(`${why}: opened`)
    } catch (err) {
      t.is((err as { code?: string }).code, code, `${why}: ${(err as Error).message}`)
      t.ok(re.test((err as Error).message), `${why}: the reason says so`)
    }
  }
  for (const at of [7, 7 + 24, good.byteLength - 1]) { // nonce, ciphertext, tag
    const flipped = b4a.from(good)
    flipped[at] ^= 0x01
    await attempt(flipped, 'BAD_ARGUMENT', `one bit flipped at byte ${at}`, /altered or corrupted/)
  }
  await attempt(good.subarray(0, good.byteLength - 5), 'BAD_ARGUMENT', 'truncated', /altered or corrupted/)
  await attempt(b4a.concat([b4a.from('GRSSCR'), good.subarray(6)]), 'BAD_ARGUMENT', 'another format\'s magic', /not a wallet seed file/)
  const future = b4a.from(good)
  future[6] = 2
  await attempt(future, 'UNSUPPORTED_VERSION', 'version 2', /version 2 is not supported/)
  // sealed with the right key but carrying something else than BIP-39 entropy
  const key = deriveIdentityKey(identity(1).secretKey, WALLET_KEY_TAG)
  for (const [payload, why] of [[b4a.from([1, 17, ...new Array(17).fill(0)]), '17 bytes of entropy'], [b4a.from([9, 16, ...new Array(16).fill(0)]), 'unknown kind'], [b4a.from([1, 16, 0]), 'length disagrees']] as const) {
    await attempt(withHeader('GRWSED', 1, seal(key, payload)), 'BAD_ARGUMENT', `well sealed, ${why}`, /content is malformed/)
  }
  fs.writeFileSync(seedFile(dir), good, { mode: 0o600 })
  const back = await open(t, dir)
  t.ok(back.hasSeed, 'the original file still opens')
})

test('wallet - import: restore into an empty node, same mnemonic is a no-op, a different one is refused', async (t) => {
  const dir = tmpDir(t)
  const w = await open(t, dir, 1, { generate: false })
  t.is(w.hasSeed, false, 'generate: false leaves the node without a seed')
  t.absent(fs.existsSync(seedFile(dir)), 'and writes nothing')
  throwsCode(t, () => w.bitcoin('mainnet'), 'NOT_FOUND', 'no account without a seed')
  throwsCode(t, () => w.exportMnemonic(), 'NOT_FOUND', 'nothing to export')
  throwsCode(t, () => w.importMnemonic(VECTOR.replace('about', 'abandon')), 'BAD_ARGUMENT', 'a mnemonic with a bad checksum')
  t.absent(fs.existsSync(seedFile(dir)), 'a refused import writes nothing')

  t.is(w.importMnemonic(VECTOR), true, 'restored')
  t.is(w.bitcoin('mainnet').receive(0).address, 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu', 'the BIP-84 vector address')
  t.is(w.importMnemonic('  ' + VECTOR.toUpperCase() + ' '), false, 'the same words again: nothing to do')
  const other = 'legal winner thank year wave sausage worth useful legal winner thank yellow'
  throwsCode(t, () => w.importMnemonic(other), 'WALLET_EXISTS', 'a different mnemonic over an existing seed')
  t.is(w.exportMnemonic(), VECTOR, 'the seed is unchanged')
  await w.close()

  const reopened = await open(t, dir)
  t.is(reopened.exportMnemonic(), VECTOR, 'the restored seed persisted')
  throwsCode(t, () => reopened.importMnemonic(other), 'WALLET_EXISTS', 'still refused after reopening')

  const fresh = await open(t, tmpDir(t))
  throwsCode(t, () => fresh.importMnemonic(VECTOR), 'WALLET_EXISTS', 'a node that generated its own seed refuses an import')
})

test('wallet - hostile storage: a seed file or directory others can write or own is refused', async (t) => {
  const dir = tmpDir(t)
  const w = await open(t, dir)
  await w.close()
  const file = seedFile(dir)

  fs.chmodSync(file, 0o666)
  await rejectsCode(t, new Wallet({ dir, identity: identity(1) }).ready(), 'STORAGE_UNSAFE', 'seed.bin writable by others')
  fs.chmodSync(file, 0o644)
  const loose = await open(t, dir)
  t.ok(loose.storageNotes.some((n) => /readable by others.*0600/.test(n)), 'readable by others: tightened, and said so')
  t.is(fs.statSync(file).mode & 0o777, 0o600)
  await loose.close()

  if (process.geteuid?.() === 0) {
    fs.chownSync(file, OTHER_UID, OTHER_UID)
    await rejectsCode(t, new Wallet({ dir, identity: identity(1) }).ready(), 'STORAGE_UNSAFE', 'seed.bin owned by another user')
    fs.chownSync(file, 0, 0)
  } else {
    t.comment('not root: the other-owner case needs chown')
  }

  fs.chmodSync(path.join(dir, 'wallet'), 0o777)
  await rejectsCode(t, new Wallet({ dir, identity: identity(1) }).ready(), 'STORAGE_UNSAFE', 'wallet/ writable by others')
  fs.chmodSync(path.join(dir, 'wallet'), 0o700)

  fs.rmSync(file)
  fs.symlinkSync(path.join(dir, 'elsewhere.bin'), file)
  fs.writeFileSync(path.join(dir, 'elsewhere.bin'), 'x', { mode: 0o600 })
  await rejectsCode(t, new Wallet({ dir, identity: identity(1) }).ready(), 'STORAGE_UNSAFE', 'seed.bin as a symlink')
})

test('wallet - closed wallet refuses use; bad constructor arguments refused', async (t) => {
  const w = await open(t, tmpDir(t))
  await w.close()
  throwsCode(t, () => w.exportMnemonic(), 'BAD_ARGUMENT', 'export after close')
  throwsCode(t, () => w.bitcoin('mainnet'), 'BAD_ARGUMENT', 'account after close')
  throwsCode(t, () => new Wallet({ dir: '', identity: identity(1) }), 'BAD_ARGUMENT', 'empty dir')
  const id = identity(1)
  throwsCode(t, () => new Wallet({ dir: tmpDir(t), identity: { did: identity(2).did, secretKey: id.secretKey } }), 'BAD_ARGUMENT', 'key of another DID')
})

test('wallet - withSeed lends a copy of the seed for one signature and wipes it after, also when the signer throws', async (t) => {
  const w = await open(t, tmpDir(t))
  const expected = mnemonicToSeed(w.exportMnemonic())
  let lent: Uint8Array | null = null
  const length = await w.withSeed(async (s) => { lent = s; t.alike(b4a.from(s), b4a.from(expected), 'the BIP-39 seed of the node\'s words'); return s.length })
  t.is(length, 64, 'what the signer returns comes back')
  t.ok(lent !== null && (lent as Uint8Array).every((b) => b === 0), 'the lent copy is zeroed once the signer is done')
  let again: Uint8Array | null = null
  await t.exception(w.withSeed((s) => { again = s; throw new Error('signer failed') }), /signer failed/, 'a signer\'s error goes to the caller')
  t.ok(again !== null && (again as Uint8Array).every((b) => b === 0), 'and the copy is wiped all the same')
  await w.withSeed((s) => { t.alike(b4a.from(s), b4a.from(expected), 'the wallet\'s own seed is untouched by the wiping') })
})
