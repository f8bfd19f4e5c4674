import test from 'brittle'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import b4a from 'b4a'
import { generateKeyPair, sign, verify } from '../core/identity/keys.ts'
import {
  publicKeyToDid,
  didToPublicKey,
  isDidKey,
  publicKeyToMultibase,
  multibaseToPublicKey,
  multibaseToSeed,
  seedToMultibase
} from '../core/identity/did-key.ts'
import { createIdentity, loadIdentity, hasIdentity } from '../core/identity/keyfile.ts'
import { defaultStorageDir, resolveStorageDir } from '../core/storage-dir.ts'
import { throwsCode } from './helpers/assert.ts'

type T = { is: Function, ok: Function, fail: Function, teardown: Function }

function tmpDir (t: T): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'growr-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}


const vector = JSON.parse(fs.readFileSync(
  new URL('../../shared/vectors/vc-di-eddsa/keyPair.json', import.meta.url), 'utf8'
)) as { publicKeyMultibase: string, privateKeyMultibase: string }

test('sign/verify roundtrip; tampering fails', (t) => {
  const kp = generateKeyPair()
  t.is(kp.publicKey.byteLength, 32)
  t.is(kp.secretKey.byteLength, 64)
  const msg = b4a.from('lend 100 to alice', 'utf8')
  const sig = sign(msg, kp.secretKey)
  t.is(sig.byteLength, 64)
  t.ok(verify(msg, sig, kp.publicKey), 'valid signature verifies')

  const tampered = b4a.from('lend 900 to alice', 'utf8')
  t.is(verify(tampered, sig, kp.publicKey), false, 'tampered message fails')
  const badSig = b4a.from(sig)
  badSig[0] ^= 1
  t.is(verify(msg, badSig, kp.publicKey), false, 'tampered signature fails')
  t.is(verify(msg, sig, generateKeyPair().publicKey), false, 'other key fails')
  t.is(verify(msg, sig.subarray(0, 63), kp.publicKey), false, 'short signature -> false')
  t.is(verify(msg, sig, kp.publicKey.subarray(0, 31)), false, 'short key -> false')
  t.is(verify(msg, null as unknown as Uint8Array, kp.publicKey), false, 'non-buffer -> false')

  const seed = b4a.alloc(32, 7)
  t.alike(generateKeyPair(seed), generateKeyPair(seed), 'seeded generation is deterministic')
  throwsCode(t, () => generateKeyPair(b4a.alloc(31)), 'BAD_ARGUMENT', 'short seed rejected')
  throwsCode(t, () => sign(msg, kp.publicKey), 'BAD_ARGUMENT', 'wrong-size secret key rejected')
})

test('did:key roundtrip and the W3C vc-di-eddsa vector', (t) => {
  const kp = generateKeyPair()
  const did = publicKeyToDid(kp.publicKey)
  t.ok(did.startsWith('did:key:z6Mk'), 'Ed25519 did:key starts with z6Mk')
  t.alike(didToPublicKey(did), kp.publicKey, 'did roundtrip')
  t.ok(isDidKey(did))
  t.alike(multibaseToPublicKey(publicKeyToMultibase(kp.publicKey)), kp.publicKey, 'multibase roundtrip')

  const seed = multibaseToSeed(vector.privateKeyMultibase)
  t.is(seed.byteLength, 32)
  t.is(seedToMultibase(seed), vector.privateKeyMultibase, 'seed multibase roundtrip')
  const vkp = generateKeyPair(seed)
  t.is(publicKeyToMultibase(vkp.publicKey), vector.publicKeyMultibase, 'seed derives the vector public key')
  t.is(publicKeyToDid(vkp.publicKey), `did:key:${vector.publicKeyMultibase}`)
  t.alike(multibaseToPublicKey(vector.publicKeyMultibase), vkp.publicKey)
})

test('bad did inputs are rejected with BAD_ARGUMENT', (t) => {
  const good = publicKeyToDid(generateKeyPair().publicKey)
  const body = good.slice('did:key:z'.length)
  const bad: Array<[string, unknown]> = [
    ['empty', ''],
    ['wrong method', good.replace('did:key:', 'did:web:')],
    ['no multibase prefix', 'did:key:' + body],
    ['base64 multibase', 'did:key:m' + body],
    ['bad base58 char', 'did:key:z' + body.slice(0, -1) + '0'],
    ['private-key multicodec', 'did:key:' + vector.privateKeyMultibase],
    ['truncated key', good.slice(0, -2)],
    ['extra bytes', 'did:key:' + publicKeyToMultibase(generateKeyPair().publicKey) + 'z'],
    ['DID URL fragment', good + '#' + good.slice(8)],
    ['way too long', 'did:key:z' + '2'.repeat(10000)],
    ['not a string', 42]
  ]
  for (const [name, input] of bad) {
    throwsCode(t, () => didToPublicKey(input as string), 'BAD_ARGUMENT', name)
    t.is(isDidKey(input), false, `isDidKey false: ${name}`)
  }
  throwsCode(t, () => publicKeyToDid(b4a.alloc(31)), 'BAD_ARGUMENT', 'short public key')
  throwsCode(t, () => multibaseToSeed(vector.publicKeyMultibase), 'BAD_ARGUMENT', 'public key is not a seed')
})

test('plain identity file: mode 0600, roundtrip, IDENTITY_EXISTS', (t) => {
  const dir = path.join(tmpDir(t), 'nested', 'store')
  t.is(hasIdentity(dir), false)
  throwsCode(t, () => loadIdentity(dir), 'NO_IDENTITY', 'missing -> NO_IDENTITY')

  const id = createIdentity(dir)
  t.is(id.encrypted, false)
  t.ok(isDidKey(id.did))
  t.ok(hasIdentity(dir))
  const file = path.join(dir, 'identity.json')
  t.is(fs.statSync(file).mode & 0o777, 0o600, 'file mode 0600')
  t.is(fs.readdirSync(dir).length, 1, 'no temp file left behind')

  const json = JSON.parse(fs.readFileSync(file, 'utf8'))
  t.is(json.version, 1)
  t.is(json.did, id.did)
  t.is(json.publicKey, b4a.toString(id.publicKey, 'hex'))
  t.is(json.secretKey, b4a.toString(id.secretKey, 'hex'))

  const loaded = loadIdentity(dir)
  t.is(loaded.did, id.did)
  t.alike(loaded.publicKey, id.publicKey)
  t.alike(loaded.secretKey, id.secretKey)
  t.is(loaded.encrypted, false)

  throwsCode(t, () => createIdentity(dir), 'IDENTITY_EXISTS', 'second create -> IDENTITY_EXISTS')
})

test('encrypted identity file: mode 0600, no secret on disk, passphrase checks', (t) => {
  const dir = tmpDir(t)
  const seed = multibaseToSeed(vector.privateKeyMultibase)
  const id = createIdentity(dir, { passphrase: 'correct horse battery staple', seed })
  t.is(id.encrypted, true)
  t.is(id.did, `did:key:${vector.publicKeyMultibase}`, 'seeded identity has the vector DID')

  const file = path.join(dir, 'identity.json')
  t.is(fs.statSync(file).mode & 0o777, 0o600, 'file mode 0600')
  const text = fs.readFileSync(file, 'utf8')
  t.absent(text.includes(b4a.toString(id.secretKey, 'hex')), 'secret key hex not in file')
  t.absent(text.includes(b4a.toString(seed, 'hex')), 'seed hex not in file')
  const json = JSON.parse(text)
  t.is(json.version, 1)
  t.is(json.kdf.alg, 'argon2id13')
  t.ok(typeof json.kdf.opslimit === 'number' && typeof json.kdf.memlimit === 'number')
  t.is(json.secretKey, undefined)

  const loaded = loadIdentity(dir, { passphrase: 'correct horse battery staple' })
  t.is(loaded.did, id.did)
  t.alike(loaded.secretKey, id.secretKey)
  t.is(loaded.encrypted, true)

  throwsCode(t, () => loadIdentity(dir, { passphrase: 'wrong' }), 'BAD_PASSPHRASE', 'wrong passphrase')
  throwsCode(t, () => loadIdentity(dir), 'BAD_PASSPHRASE', 'missing passphrase')
  throwsCode(t, () => loadIdentity(dir, { passphrase: '' }), 'BAD_PASSPHRASE', 'empty passphrase')
  throwsCode(t, () => createIdentity(dir, { passphrase: 'x' }), 'IDENTITY_EXISTS', 'existing -> IDENTITY_EXISTS')

  // Swapping in another public key/did is caught by the key-consistency check.
  const other = generateKeyPair().publicKey
  fs.writeFileSync(file, JSON.stringify({ ...json, publicKey: b4a.toString(other, 'hex'), did: publicKeyToDid(other) }))
  throwsCode(t, () => loadIdentity(dir, { passphrase: 'correct horse battery staple' }), 'BAD_ARGUMENT', 'mismatched publicKey')
})

test('unknown version and corrupted files', (t) => {
  const dir = tmpDir(t)
  createIdentity(dir)
  const file = path.join(dir, 'identity.json')
  const json = JSON.parse(fs.readFileSync(file, 'utf8'))

  fs.writeFileSync(file, JSON.stringify({ ...json, version: 2 }))
  throwsCode(t, () => loadIdentity(dir), 'UNSUPPORTED_VERSION', 'version 2')

  fs.writeFileSync(file, '{"version": 1, "did": ')
  throwsCode(t, () => loadIdentity(dir), 'BAD_ARGUMENT', 'truncated JSON')

  fs.writeFileSync(file, JSON.stringify({ ...json, did: publicKeyToDid(generateKeyPair().publicKey) }))
  throwsCode(t, () => loadIdentity(dir), 'BAD_ARGUMENT', 'did does not match publicKey')

  fs.writeFileSync(file, JSON.stringify({ ...json, secretKey: json.secretKey.slice(2) }))
  throwsCode(t, () => loadIdentity(dir), 'BAD_ARGUMENT', 'short secretKey')

  const sk = b4a.from(json.secretKey, 'hex')
  sk[0] ^= 1
  fs.writeFileSync(file, JSON.stringify({ ...json, secretKey: b4a.toString(sk, 'hex') }))
  throwsCode(t, () => loadIdentity(dir), 'BAD_ARGUMENT', 'secretKey does not match publicKey')
})

test('resolveStorageDir precedence and the Linux default', (t) => {
  const home = os.homedir()
  t.is(defaultStorageDir({}, 'linux'), path.join(home, '.local', 'share', 'growr'), 'Linux default')
  t.is(defaultStorageDir({ XDG_DATA_HOME: '/xdg/data' }, 'linux'), '/xdg/data/growr', 'XDG_DATA_HOME')
  t.is(defaultStorageDir({ XDG_DATA_HOME: 'relative' }, 'linux'), path.join(home, '.local', 'share', 'growr'), 'relative XDG ignored')
  t.is(defaultStorageDir({}, 'darwin'), path.join(home, 'Library', 'Application Support', 'growr'), 'macOS default')
  t.is(defaultStorageDir({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32'), 'C:\\Users\\a\\AppData\\Roaming\\growr', 'Windows default')

  const env = { GROWR_STORAGE: '/env/store', XDG_DATA_HOME: '/xdg/data' }
  t.is(resolveStorageDir({ storage: '/flag/store', env }), path.resolve('/flag/store'), '--storage beats GROWR_STORAGE')
  t.is(resolveStorageDir({ env }), path.resolve('/env/store'), 'GROWR_STORAGE beats default')
  t.is(resolveStorageDir({ storage: '', env: { GROWR_STORAGE: '' }, platform: 'linux' }), path.join(home, '.local', 'share', 'growr'), 'empty values fall back to default')
  t.is(resolveStorageDir({ env: { XDG_DATA_HOME: '/xdg/data' }, platform: 'linux' }), '/xdg/data/growr', 'default when nothing given')
  t.is(resolveStorageDir({ storage: 'rel/dir', env: {} }), path.resolve('rel/dir'), 'relative path made absolute')
  t.is(resolveStorageDir({ storage: '~/g', env: {} }), path.join(home, 'g'), '~ expanded')
  t.ok(path.isAbsolute(resolveStorageDir({ env: {} })), 'always absolute')
})
