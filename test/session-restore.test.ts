import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import b4a from 'b4a'
import createTestnet from 'hyperdht/testnet.js'
import { tmpDir, seed } from './helpers/net.ts'
import { rejectsCode, throwsCode } from './helpers/assert.ts'
import { Session } from '../app/session.ts'
import { createIdentity, loadIdentity, hasIdentity, IDENTITY_FILE } from '../core/identity/keyfile.ts'
import { createBackup } from '../core/sscr/backup.ts'
import type { Assertion } from 'brittle'

async function testnet (t: Assertion) {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  t.teardown(() => net.destroy(), { order: -Infinity })
  return net
}

async function session (t: Assertion, net: Awaited<ReturnType<typeof testnet>>, storage: string, passphrase?: string) {
  const dht = net.createNode({ host: '127.0.0.1' })
  const s = new Session({ storage, dht, passphrase })
  t.teardown(async () => { await s.close(); await dht.destroy() })
  await s.ready()
  return s
}

/** A backup of a fresh identity, and that identity's secret key bytes as they must never appear on disk. */
function makeBackup (t: Assertion) {
  const dir = tmpDir(t)
  const id = createIdentity(dir, { seed: seed(7) })
  const backup = b4a.toString(createBackup({ identity: id, credentials: [], passphrase: 'backup passphrase 1' }), 'base64')
  return { backup, did: id.did, secrets: [b4a.toString(id.secretKey, 'hex'), b4a.toString(id.secretKey.subarray(0, 32), 'hex'), b4a.toString(id.secretKey.subarray(0, 32), 'base64')] }
}

test('session - restoring a backup in the app encrypts the identity file with the identity passphrase', { timeout: 60_000 }, async (t) => {
  const net = await testnet(t)
  const { backup, did, secrets } = makeBackup(t)
  const storage = tmpDir(t)
  const s = await session(t, net, storage)
  const r = await s.call('identity.restore', { backup, passphrase: 'backup passphrase 1', identityPassphrase: 'identity passphrase 2' }) as { did: string }
  t.is(r.did, did, 'the backup\'s DID is restored')
  t.is((await s.call('session.status', {}) as { encrypted: boolean }).encrypted, true, 'the session reports the identity as encrypted')

  const file = fs.readFileSync(path.join(storage, IDENTITY_FILE), 'utf8')
  for (const secret of secrets) t.absent(file.includes(secret), 'no secret key bytes in the identity file')
  t.absent('secretKey' in JSON.parse(file), 'no plain secretKey field')
  throwsCode(t, () => loadIdentity(storage), 'BAD_PASSPHRASE', 'the file does not open without the passphrase')
  throwsCode(t, () => loadIdentity(storage, { passphrase: 'backup passphrase 1' }), 'BAD_PASSPHRASE', 'nor with the backup\'s passphrase')
  t.is(loadIdentity(storage, { passphrase: 'identity passphrase 2' }).did, did, 'it opens with the identity passphrase')

  // the restored node runs on the decrypted key: it answers contract methods as that DID
  t.is((await s.call('status', {}) as { did: string }).did, did)
})

test('session - without an identity passphrase the host\'s GROWR_PASSPHRASE encrypts a restored identity', { timeout: 60_000 }, async (t) => {
  const net = await testnet(t)
  const { backup, did } = makeBackup(t)
  const storage = tmpDir(t)
  const s = await session(t, net, storage, 'host passphrase 3')
  await s.call('identity.restore', { backup, passphrase: 'backup passphrase 1' })
  throwsCode(t, () => loadIdentity(storage), 'BAD_PASSPHRASE', 'encrypted at rest')
  t.is(loadIdentity(storage, { passphrase: 'host passphrase 3' }).did, did)
})

test('session - a malformed identity passphrase is refused before anything is written', { timeout: 60_000 }, async (t) => {
  const net = await testnet(t)
  const { backup } = makeBackup(t)
  const storage = tmpDir(t)
  const s = await session(t, net, storage)
  await rejectsCode(t, s.call('identity.restore', { backup, passphrase: 'backup passphrase 1', identityPassphrase: { toString: 'x' } }), 'BAD_ARGUMENT', 'a non-text passphrase is refused')
  t.absent(hasIdentity(storage), 'no identity was written')
  await rejectsCode(t, s.call('identity.restore', { backup, passphrase: 'wrong', identityPassphrase: 'identity passphrase 2' }), 'BAD_PASSPHRASE', 'a wrong backup passphrase is refused')
  t.absent(hasIdentity(storage), 'still none')
})

test('session - what opening had to tighten in the storage directory is reported to the app', { timeout: 60_000 }, async (t) => {
  const net = await testnet(t)
  const storage = path.join(tmpDir(t), 'growr')
  createIdentity(storage, { seed: seed(8) })
  fs.chmodSync(storage, 0o755) // someone (or an old version) made it readable by others
  const s = await session(t, net, storage)
  const status = await s.call('session.status', {}) as { storageNotes: string[] }
  t.ok(status.storageNotes.some((n) => n.includes('tightened to 0700')), `the app is told: ${status.storageNotes.join('; ')}`)
  t.is(fs.statSync(storage).mode & 0o777, 0o700, 'and the directory is private again')
})
