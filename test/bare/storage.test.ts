// Runs under Bare (brittle-bare) and Node alike: the storage directory checks the Bare worker
// relies on, with bare-fs and bare-process in place of Node's fs and process.
import test from 'brittle'
import fs from '#fs'
import os from '#os'
import path from '#path'
import { currentUid, securePrivateDir, tightenTree } from '../../core/storage-dir.ts'
import { createIdentity, loadIdentity } from '../../core/identity/keyfile.ts'

const OTHER = 12345

function tmp (t: { teardown (fn: () => unknown): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'growr-bare-storage-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

function mode (p: string): number { return (fs.statSync(p) as { mode: number }).mode & 0o777 }

test('storage (bare) - this runtime knows our uid, so ownership is checked, not skipped', (t) => {
  const uid = currentUid()
  t.is(typeof uid, 'number', `uid ${uid}`)
  t.not(uid, OTHER)
})

test('storage (bare) - a directory another uid owns, or others can write, is refused; ours is created 0700', (t) => {
  const root = tmp(t)
  const planted = path.join(root, 'planted')
  createIdentity(planted)
  fs.chownSync(planted, OTHER, OTHER)
  t.exception(() => loadIdentity(planted), /STORAGE_UNSAFE: storage directory .* is owned by uid 12345/, 'owned by another uid')

  const open = path.join(root, 'open')
  createIdentity(open)
  fs.chmodSync(open, 0o777)
  t.exception(() => securePrivateDir(open), /STORAGE_UNSAFE: storage directory .* is writable by group or others/, 'world-writable')

  const fresh = path.join(root, 'a', 'fresh')
  t.alike(securePrivateDir(fresh), [], 'created')
  t.is(mode(fresh), 0o700, 'created 0700')
  fs.mkdirSync(path.join(fresh, 'db'), { mode: 0o755 })
  fs.writeFileSync(path.join(fresh, 'db', 'LOG'), 'x')
  fs.chmodSync(path.join(fresh, 'db', 'LOG'), 0o644)
  t.is(tightenTree(fresh), 2, 'two entries tightened')
  t.is(mode(path.join(fresh, 'db')), 0o700)
  t.is(mode(path.join(fresh, 'db', 'LOG')), 0o600)
})
