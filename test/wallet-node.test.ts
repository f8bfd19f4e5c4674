// The node's wallet keys wired into the node (issue 10, "Wallet (core/)"): Services opens them,
// they survive a restart, `growr backup` carries the mnemonic (format v2) and a restore gives the
// same addresses, an old v1 backup still restores (with a fresh seed, and says so), the contract
// never hands out a secret, and a restore never overwrites a different seed (WALLET_EXISTS).
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import createTestnet from 'hyperdht/testnet.js'
import { HDKey } from '@scure/bip32'
import { GrowrNode } from '../core/node.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers, type Contract } from '../app/contract.ts'
import { Session } from '../app/session.ts'
import { createIdentity, loadIdentity, hasIdentity } from '../core/identity/keyfile.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { createBackup, openBackup, restoreFromBackup, BACKUP_MAGIC } from '../core/sscr/backup.ts'
import { derivePassphraseKey, seal, withHeader } from '../core/sscr/crypto.ts'
import { Wallet, SEED_FILE } from '../core/wallet/wallet.ts'
import { mnemonicToEntropy, mnemonicToSeed } from '../core/wallet/bip39.ts'
import { derivePrivateKey, type BitcoinNetworkName } from '../core/wallet/bip84.ts'
import { receiveIndexFor } from '../core/wallet/receive-index.ts'
import { rejectsCode, throwsCode } from './helpers/assert.ts'
import { tmpDir, seed } from './helpers/net.ts'
import type { Assertion } from 'brittle'

const NETWORKS: BitcoinNetworkName[] = ['mainnet', 'testnet', 'signet', 'regtest']
const CHAINS = [30, 31, 33]
const REF = '0123456789abcdef0123456789abcdef'
const FIXTURE_V1 = fileURLToPath(new URL('./fixtures/backup-v1/backup-v1.bin', import.meta.url))
const FIXTURE_V1_PASSPHRASE = 'fixture passphrase v1'
const FIXTURE_V1_DID = 'did:key:z6MktULudTtAsAhRegYPiZ6631RV3viv12qd4GQF8z1xB22S'
const FIXTURE_V1_CREDENTIAL = 'urn:uuid:00000000-0000-4000-8000-000000000001'
const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))

type Handlers = ReturnType<typeof createHandlers>

/** An offline node with its services on `dir` (the identity must exist), closed at teardown. */
async function openNode (t: Assertion, dir: string): Promise<{ node: GrowrNode, services: Services, api: Handlers, close: () => Promise<void> }> {
  const node = new GrowrNode({ storage: dir, network: false })
  const services = new Services(node)
  await services.ready()
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await services.close()
    await node.close()
  }
  t.teardown(close)
  return { node, services, api: createHandlers(node, services), close }
}

/** Everything the wallet shows on every network and chain, plus a few receive addresses. */
async function addresses (api: Handlers): Promise<unknown[]> {
  const out: unknown[] = []
  for (const network of NETWORKS) {
    for (const chainId of CHAINS) out.push(await api['wallet.show']({ network, chainId }))
    out.push(await api['wallet.receive']({ network, index: 7 }))
    out.push(await api['wallet.receive']({ network, ref: REF }))
  }
  return out
}

/** The secrets a node's wallet must never show: words, entropy, seed, private keys (several encodings). */
function secretsOf (mnemonic: string): string[] {
  const seedBytes = mnemonicToSeed(mnemonic)
  const entropy = mnemonicToEntropy(mnemonic)
  const out = [mnemonic, b4a.toString(entropy, 'hex'), b4a.toString(seedBytes, 'hex'), b4a.toString(entropy, 'base64').replace(/=+$/, '')]
  for (const network of NETWORKS) {
    for (const index of [0, 7, receiveIndexFor(REF)]) {
      const k = derivePrivateKey(seedBytes, network, 'receive', index)
      out.push(b4a.toString(k.privateKey, 'hex'), k.wif)
    }
  }
  const root = HDKey.fromMasterSeed(seedBytes)
  out.push(root.privateExtendedKey, b4a.toString(root.privateKey as Uint8Array, 'hex'))
  for (const p of ["m/84'/0'/0'", "m/84'/1'/0'", "m/44'/137'/0'"]) out.push(root.derive(p).privateExtendedKey)
  out.push(b4a.toString(root.derive("m/44'/137'/0'/0/0").privateKey as Uint8Array, 'hex'))
  return out
}

/**
 * Two consecutive mnemonic words found in `text` (any separator): a leak of part of the words.
 * Single words are not searched: 'address' or 'index' are BIP-39 words and JSON keys alike.
 */
function wordPairs (text: string, mnemonic: string): string[] {
  const w = mnemonic.split(' ')
  return w.slice(1).map((b, i) => `${w[i]} ${b}`).filter((pair) => new RegExp(`(^|[^a-z])${pair.replace(' ', '[^a-z]+')}($|[^a-z])`).test(text))
}

/** Asserts that no secret, nor two consecutive mnemonic words, appear in `text`. */
function assertNoSecrets (t: Assertion, text: string, mnemonic: string, what: string): void {
  const leaked = secretsOf(mnemonic).filter((s) => text.includes(s))
  t.alike(leaked, [], `${what}: no mnemonic, entropy, seed or private key`)
  t.alike(wordPairs(text, mnemonic), [], `${what}: no two consecutive mnemonic words`)
}

/** Encodings in which a secret could sit in a file. */
function forms (s: string): Buffer[] {
  const utf8 = Buffer.from(s, 'utf8')
  return [utf8, Buffer.from(utf8.toString('hex')), Buffer.from(utf8.toString('base64').replace(/=+$/, ''))]
}

/** Seals `json` as a Growr backup of `version`, as backup.ts does: for hostile contents. */
function sealBackup (json: unknown, passphrase: string, version: number): Uint8Array {
  const opslimit = sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE
  const memlimit = sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE
  const header = b4a.alloc(8 + sodium.crypto_pwhash_SALTBYTES)
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength)
  view.setUint32(0, opslimit, true)
  view.setUint32(4, memlimit, true)
  sodium.randombytes_buf(header.subarray(8))
  const key = derivePassphraseKey(passphrase, header.subarray(8), opslimit, memlimit)
  return withHeader(BACKUP_MAGIC, version, b4a.concat([header, seal(key, b4a.from(JSON.stringify(json)))]))
}

function identity (n: number) {
  const { publicKey, secretKey } = generateKeyPair(seed(n))
  return { did: publicKeyToDid(publicKey), secretKey }
}

test('wallet node - Services opens the keys after the SSCR and closes them; the wallet survives a restart', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t)
  createIdentity(dir, { seed: seed(1) })
  const first = await openNode(t, dir)
  const keys = first.services.keys as Wallet
  t.ok(keys && keys.opened && keys.hasSeed, 'services.keys is open with a seed generated on first start')
  t.ok(fs.existsSync(path.join(dir, 'wallet', SEED_FILE)), 'the seed is kept in <storage>/wallet/seed.bin')
  const mnemonic = keys.exportMnemonic()
  t.is(mnemonic.split(' ').length, 24, 'a 24-word mnemonic')
  const before = await addresses(first.api)
  const shown = await first.api['wallet.show']({})
  t.is(shown.bitcoin.network, 'regtest', 'default network regtest')
  t.is(shown.rootstock.chainId, 33, 'default chain id 33')
  t.ok(shown.bitcoin.firstReceive.address.startsWith('bcrt1q'), 'a regtest P2WPKH address')
  t.is(shown.bitcoin.path, "m/84'/1'/0'")
  t.ok(shown.bitcoin.xpub.startsWith('tpub') && shown.bitcoin.zpub.startsWith('vpub'), 'watch-only account keys tpub/vpub')
  t.is(shown.rootstock.path, "m/44'/137'/0'")
  const main = await first.api['wallet.show']({ network: 'mainnet', chainId: 30 })
  t.ok(main.bitcoin.xpub.startsWith('xpub') && main.bitcoin.zpub.startsWith('zpub') && main.bitcoin.firstReceive.address.startsWith('bc1q'), 'mainnet: xpub, zpub, bc1q')
  t.not(main.rootstock.address, shown.rootstock.address, 'the Rootstock checksum follows the chain id')
  t.is(main.rootstock.address.toLowerCase(), shown.rootstock.address.toLowerCase(), 'same account, same key')

  const byRef = await first.api['wallet.receive']({ network: 'regtest', ref: REF })
  t.is(byRef.index, receiveIndexFor(REF), 'a record gets its own index (receive-index.ts)')
  t.is(byRef.path, `m/84'/1'/0'/0/${byRef.index}`)
  t.alike(await first.api['wallet.receive']({ network: 'regtest', index: byRef.index }), byRef, 'the same address by index')
  t.is((await first.api['wallet.receive']({ network: 'regtest' })).address, shown.bitcoin.firstReceive.address, 'index 0 by default')

  await first.close()
  t.ok(keys.closed, 'closing the services closes the wallet keys')
  throwsCode(t, () => keys.exportMnemonic(), 'BAD_ARGUMENT', 'a closed wallet gives nothing')

  const again = await openNode(t, dir)
  t.alike(await addresses(again.api), before, 'after a restart: the same keys and addresses on every network and chain')
  t.is((again.services.keys as Wallet).exportMnemonic(), mnemonic, 'the same seed')
})

test('wallet node - bad wallet.show / wallet.receive arguments are refused in plain words', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t)
  createIdentity(dir, { seed: seed(2) })
  const { api } = await openNode(t, dir)
  await rejectsCode(t, () => api['wallet.receive']({ network: 'regtest', ref: REF, index: 3 }), 'BAD_ARGUMENT', 'ref and index together')
  await rejectsCode(t, () => api['wallet.receive']({ network: 'regtest', ref: REF.toUpperCase() }), 'BAD_ARGUMENT', 'a ref that is not a record id')
  await rejectsCode(t, () => api['wallet.receive']({ network: 'regtest', index: -1 }), 'BAD_ARGUMENT', 'a negative index')
  await rejectsCode(t, () => api['wallet.receive']({ network: 'regtest', index: 2 ** 31 }), 'BAD_ARGUMENT', 'a hardened index')
  await rejectsCode(t, () => api['wallet.receive']({ network: 'regtest', index: '3' as never }), 'BAD_ARGUMENT', 'an index that is not a number')
  await rejectsCode(t, () => api['wallet.receive']({} as never), 'BAD_ARGUMENT', 'no network')
  await rejectsCode(t, () => api['wallet.receive']({ network: 'litecoin' as never }), 'BAD_ARGUMENT', 'an unknown network')
  await rejectsCode(t, () => api['wallet.show']({ network: 'bitcoin' as never }), 'BAD_ARGUMENT', 'an unknown network in show')
  await rejectsCode(t, () => api['wallet.show']({ chainId: 0 }), 'BAD_ARGUMENT', 'chain id 0')
  await rejectsCode(t, () => api['wallet.show']({ chainId: 1.5 }), 'BAD_ARGUMENT', 'a fractional chain id')
})

test('wallet node - wallet.show / wallet.receive never contain the mnemonic words or private key bytes', { timeout: 60_000 }, async (t) => {
  const dir = tmpDir(t)
  createIdentity(dir, { seed: seed(3) })
  const { api, services } = await openNode(t, dir)
  const mnemonic = (services.keys as Wallet).exportMnemonic()
  const json = JSON.stringify(await addresses(api))
  t.ok(json.length > 1000, `${json.length} characters of wallet output checked`)
  assertNoSecrets(t, json, mnemonic, 'contract JSON')
  // the check itself finds a secret when there is one
  const leakedKey = derivePrivateKey(mnemonicToSeed(mnemonic), 'regtest', 'receive', 0).wif
  t.ok(secretsOf(mnemonic).some((s) => (json + leakedKey).includes(s)), 'control: a leaked private key would be found')
  t.is(wordPairs(json + JSON.stringify(mnemonic.split(' ').slice(5, 7)), mnemonic).length, 1, 'control: two leaked words would be found')

  const seedFile = fs.readFileSync(path.join(dir, 'wallet', SEED_FILE))
  const inFile = secretsOf(mnemonic).flatMap(forms).filter((f) => seedFile.includes(f))
  t.is(inFile.length, 0, 'the seed file holds no secret in clear (encrypted at rest)')
})

test('wallet node - a backup carries the mnemonic (v2) encrypted, and restores the same addresses on a fresh storage', { timeout: 90_000 }, async (t) => {
  const dir = tmpDir(t)
  createIdentity(dir, { seed: seed(4) })
  const src = await openNode(t, dir)
  const mnemonic = (src.services.keys as Wallet).exportMnemonic()
  const before = await addresses(src.api)
  const { backup } = await src.api['backup.create']({ passphrase: 'correct horse battery' })
  await src.close()
  const bytes = b4a.from(backup, 'base64')
  t.is(bytes[6], 2, 'backup format version 2')

  const seedFile = fs.readFileSync(path.join(dir, 'wallet', SEED_FILE))
  t.absent(Buffer.from(bytes).includes(seedFile.subarray(7 + 24, 7 + 24 + 16)), 'the seed file is not copied into the backup')
  const clear = secretsOf(mnemonic).flatMap(forms).filter((f) => Buffer.from(bytes).includes(f))
  t.is(clear.length, 0, 'no mnemonic, entropy, seed or private key in the backup in clear')
  t.is(openBackup(bytes, 'correct horse battery').mnemonic, mnemonic, 'the backup opens to the node\'s mnemonic')

  const fresh = tmpDir(t)
  const r = await restoreFromBackup(fresh, bytes, 'correct horse battery')
  t.alike(r, { did: loadIdentity(dir).did, walletSeed: 'restored', version: 2 }, 'restored, and the result says the seed came from the backup')
  const restored = await openNode(t, fresh)
  t.alike(await addresses(restored.api), before, 'the restored node has the same addresses on every network and chain')
})

test('wallet node - an old-format (v1) backup without a mnemonic still restores; a fresh seed is generated and the result says so', { timeout: 90_000 }, async (t) => {
  const old = fs.readFileSync(FIXTURE_V1)
  t.is(old[6], 1, 'the fixture is a version 1 backup written by the v1 code')
  const opened = openBackup(old, FIXTURE_V1_PASSPHRASE)
  t.is(opened.version, 1)
  t.is(opened.mnemonic, null, 'no mnemonic in a v1 backup')

  const fresh = tmpDir(t)
  const r = await restoreFromBackup(fresh, old, FIXTURE_V1_PASSPHRASE)
  t.alike(r, { did: FIXTURE_V1_DID, walletSeed: 'generated', version: 1 }, 'restored; walletSeed: generated')
  const { api, services } = await openNode(t, fresh)
  t.alike((await api['vc.list']({})).map((c) => c.id), [FIXTURE_V1_CREDENTIAL], 'the v1 credentials are restored')
  t.ok((await api['wallet.show']({})).bitcoin.xpub.startsWith('tpub'), 'the node has a wallet')
  t.is((services.keys as Wallet).exportMnemonic().split(' ').length, 24, 'a fresh 24-word seed')

  // the same v1 backup on a directory already holding this identity's seed keeps that seed
  const kept = tmpDir(t)
  const fixtureId = openBackup(old, FIXTURE_V1_PASSPHRASE).identity
  const w = new Wallet({ dir: kept, identity: fixtureId })
  await w.ready()
  const words = w.exportMnemonic()
  await w.close()
  t.is((await restoreFromBackup(kept, old, FIXTURE_V1_PASSPHRASE)).walletSeed, 'kept', 'a seed already there is kept, and the result says so')
  const k = await openNode(t, kept)
  t.is((k.services.keys as Wallet).exportMnemonic(), words)
})

test('wallet node - the app session restores the seed and says what it did (v2: restored, v1: generated)', { timeout: 90_000 }, async (t) => {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  t.teardown(() => net.destroy(), { order: -Infinity })
  const session = async (storage: string) => {
    const dht = net.createNode({ host: '127.0.0.1' })
    const s = new Session({ storage, dht })
    t.teardown(async () => { await s.close(); await dht.destroy() })
    await s.ready()
    return s
  }
  const src = tmpDir(t)
  const id = createIdentity(src, { seed: seed(5) })
  const w = new Wallet({ dir: src, identity: id })
  await w.ready()
  const mnemonic = w.exportMnemonic()
  const expected = w.bitcoin('regtest').receive(0).address
  await w.close()
  const backup = b4a.toString(createBackup({ identity: id, credentials: [], mnemonic, passphrase: 'backup passphrase 1' }), 'base64')

  const s2 = await session(tmpDir(t))
  t.alike(await s2.call('identity.restore', { backup, passphrase: 'backup passphrase 1' }), { did: id.did, walletSeed: 'restored' })
  t.is((await s2.call('wallet.show', {}) as Contract['wallet.show']['result']).bitcoin.firstReceive.address, expected, 'the restored session shows the same address')

  const s1 = await session(tmpDir(t))
  t.alike(await s1.call('identity.restore', { backup: b4a.toString(fs.readFileSync(FIXTURE_V1), 'base64'), passphrase: FIXTURE_V1_PASSPHRASE }), { did: FIXTURE_V1_DID, walletSeed: 'generated' })
  t.ok((await s1.call('wallet.show', {}) as Contract['wallet.show']['result']).bitcoin.firstReceive.address.startsWith('bcrt1q'))
})

test('wallet node - hostile restores: a seed already on the node is never overwritten (WALLET_EXISTS), bad mnemonics refused', { timeout: 90_000 }, async (t) => {
  const holder = identity(6)
  const other = new Wallet({ dir: tmpDir(t), identity: holder })
  await other.ready()
  const mnemonic = other.exportMnemonic()
  await other.close()
  const backup = createBackup({ identity: holder, credentials: [], mnemonic, passphrase: 'pass phrase 6' })

  // a directory that already has a DIFFERENT seed of the same identity (a copied folder, a cut-short restore)
  const differs = tmpDir(t)
  const existing = new Wallet({ dir: differs, identity: holder })
  await existing.ready()
  const existingWords = existing.exportMnemonic()
  await existing.close()
  t.not(existingWords, mnemonic)
  await rejectsCode(t, () => restoreFromBackup(differs, backup, 'pass phrase 6'), 'WALLET_EXISTS', 'a different mnemonic is refused')
  t.absent(hasIdentity(differs), 'nothing written: no identity')
  t.absent(fs.existsSync(path.join(differs, 'sscr')), 'nothing written: no SSCR')
  const still = new Wallet({ dir: differs, identity: holder, generate: false })
  await still.ready()
  t.is(still.exportMnemonic(), existingWords, 'the existing seed is untouched')
  await still.close()

  // a seed file sealed for another identity
  const foreign = tmpDir(t)
  const f = new Wallet({ dir: foreign, identity: identity(7) })
  await f.ready()
  await f.close()
  await rejectsCode(t, () => restoreFromBackup(foreign, backup, 'pass phrase 6'), 'WALLET_EXISTS', 'another identity\'s seed file is refused')
  t.absent(hasIdentity(foreign), 'nothing written')

  // the same mnemonic already there: the restore goes through
  const same = tmpDir(t)
  const s = new Wallet({ dir: same, identity: holder, generate: false })
  await s.ready()
  s.importMnemonic(mnemonic)
  await s.close()
  t.is((await restoreFromBackup(same, backup, 'pass phrase 6')).walletSeed, 'restored', 'the same mnemonic already there is accepted')

  // a node with an identity is refused before the wallet is looked at
  const used = tmpDir(t)
  createIdentity(used, { seed: seed(6) })
  await rejectsCode(t, () => restoreFromBackup(used, backup, 'pass phrase 6'), 'IDENTITY_EXISTS', 'a node with an identity')

  // mnemonics that are not valid BIP-39
  const bad = mnemonic.split(' ')
  bad[23] = bad[23] === 'zoo' ? 'abandon' : 'zoo'
  throwsCode(t, () => createBackup({ identity: holder, credentials: [], mnemonic: bad.join(' '), passphrase: 'pass phrase 6' }), 'BAD_ARGUMENT', 'createBackup refuses a mnemonic with a bad checksum')
  const base = { did: holder.did, secretKey: b4a.toString(holder.secretKey, 'hex'), credentials: [], createdAt: '2025-06-01T00:00:00.000Z' }
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['a v2 backup whose mnemonic has a bad checksum', { ...base, mnemonic: bad.join(' ') }, 2, /wallet mnemonic/],
    ['a v2 backup whose mnemonic has an unknown word', { ...base, mnemonic: mnemonic.replace(/^\S+/, 'bitcoinz') }, 2, /wallet mnemonic/],
    ['a v2 backup without the mnemonic key', base, 2, /mnemonic must be text or null/],
    ['a v2 backup whose mnemonic is a number', { ...base, mnemonic: 12 }, 2, /mnemonic must be text or null/],
    ['a v1 backup carrying a mnemonic', { ...base, mnemonic }, 1, /version 1 backup carries no wallet mnemonic/]
  ]
  for (const [what, json, version, reason] of cases) {
    const hostile = sealBackup(json, 'pass phrase 6', version)
    throwsCode(t, () => openBackup(hostile, 'pass phrase 6'), 'BAD_ARGUMENT', what)
    try { openBackup(hostile, 'pass phrase 6') } catch (err) { t.ok(reason.test((err as Error).message), `${what}: says so (${(err as Error).message})`) }
    const dest = tmpDir(t)
    await rejectsCode(t, () => restoreFromBackup(dest, hostile, 'pass phrase 6'), 'BAD_ARGUMENT', `${what}: restore refused`)
    t.absent(hasIdentity(dest), `${what}: nothing written`)
  }
  // control: the helper makes backups that open
  t.is(openBackup(sealBackup({ ...base, mnemonic }, 'pass phrase 6', 2), 'pass phrase 6').mnemonic, mnemonic, 'control: a well-formed hand-sealed v2 opens')
  t.is(openBackup(sealBackup(base, 'pass phrase 6', 1), 'pass phrase 6').version, 1, 'control: a well-formed hand-sealed v1 opens')
  const v3 = b4a.from(backup)
  v3[6] = 3
  throwsCode(t, () => openBackup(v3, 'pass phrase 6'), 'UNSUPPORTED_VERSION', 'an unknown version is refused')
})

test('wallet node - growr wallet show | receive on the command line', { timeout: 90_000 }, async (t) => {
  const dir = tmpDir(t)
  createIdentity(dir, { seed: seed(8) })
  const growr = (args: string[]) => new Promise<{ code: number, stdout: string, stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, '--storage', dir, ...args], { env: { ...process.env, GROWR_STORAGE: '', GROWR_BOOTSTRAP: '' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr })
    })
  })
  const show = await growr(['--json', 'wallet', 'show', '--network', 'testnet', '--chain-id', '31'])
  t.is(show.code, 0, show.stderr)
  const shown = JSON.parse(show.stdout) as Contract['wallet.show']['result']
  t.is(shown.bitcoin.network, 'testnet')
  t.ok(shown.bitcoin.firstReceive.address.startsWith('tb1q'))
  t.is(shown.rootstock.chainId, 31)
  const recv = await growr(['--json', 'wallet', 'receive', '--network', 'testnet', '--ref', REF])
  t.is(recv.code, 0, recv.stderr)
  t.is(JSON.parse(recv.stdout).index, receiveIndexFor(REF))
  const human = await growr(['wallet', 'receive', '--network', 'testnet', '--index', '0'])
  t.is(human.stdout.trim(), `${shown.bitcoin.firstReceive.address} (m/84'/1'/0'/0/0)`, 'human output: address and path')
  const refused = await growr(['wallet', 'receive', '--network', 'testnet', '--ref', 'nope'])
  t.is(refused.code, 2, 'a bad ref exits 2')
  t.ok(/record id must be 32 lower-case hex/.test(refused.stderr), refused.stderr.trim())

  const id = loadIdentity(dir)
  const w = new Wallet({ dir, identity: id, generate: false })
  await w.ready()
  const mnemonic = w.exportMnemonic()
  await w.close()
  assertNoSecrets(t, show.stdout + recv.stdout + human.stdout, mnemonic, 'CLI output')
  // restore on the command line says what happened to the seed
  const out = path.join(tmpDir(t), 'b.bin')
  const env = { ...process.env, GROWR_STORAGE: '', GROWR_BOOTSTRAP: '', GROWR_BACKUP_PASSPHRASE: 'cli backup pass' }
  const run = (args: string[]) => new Promise<{ code: number, stdout: string, stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }))
  })
  const made = await run(['--storage', dir, 'backup', 'create', '--out', out])
  t.is(made.code, 0, made.stderr)
  const fresh = path.join(tmpDir(t), 'fresh')
  const restored = await run(['--storage', fresh, 'backup', 'restore', out])
  t.is(restored.code, 0, restored.stderr)
  t.ok(/wallet seed restored: same addresses/.test(restored.stdout), restored.stdout.trim())
  const again = await run(['--storage', fresh, '--json', 'wallet', 'show', '--network', 'testnet', '--chain-id', '31'])
  t.alike(JSON.parse(again.stdout), shown, 'the restored storage shows the same wallet')
  const wrong = await run(['--storage', path.join(tmpDir(t), 'v1'), 'backup', 'restore', FIXTURE_V1])
  t.ok(wrong.code !== 0 && /passphrase/.test(wrong.stderr), 'the v1 fixture does not open with another passphrase')
  const v1 = await new Promise<{ code: number, stdout: string }>((resolve) => {
    execFile(process.execPath, [BIN, '--storage', path.join(tmpDir(t), 'v1b'), 'backup', 'restore', FIXTURE_V1], { env: { ...env, GROWR_BACKUP_PASSPHRASE: FIXTURE_V1_PASSPHRASE }, timeout: 60_000 }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout }))
  })
  t.is(v1.code, 0)
  t.ok(/NEW one was generated/.test(v1.stdout), v1.stdout.trim())
})
