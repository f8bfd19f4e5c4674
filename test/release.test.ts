// The release hash a node's ad carries: the same for the same files, different for any change to
// the code it runs, and what `growr release` prints for a checkout.
import test from 'brittle'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import path from 'node:path'
import { appRelease, APP_ROOT } from '../app/release.ts'
import { tmpDir } from './helpers/net.ts'

const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))

function tree (root: string): void {
  fs.mkdirSync(path.join(root, 'core/identity'), { recursive: true })
  fs.mkdirSync(path.join(root, 'books'), { recursive: true })
  fs.mkdirSync(path.join(root, 'ui/dist'), { recursive: true })
  fs.mkdirSync(path.join(root, 'core/node_modules/x'), { recursive: true })
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'growr', version: '9.9.9' }))
  fs.writeFileSync(path.join(root, 'package-lock.json'), '{"lockfileVersion":3}')
  fs.writeFileSync(path.join(root, 'core/identity/keys.ts'), 'export const a = 1\n')
  fs.writeFileSync(path.join(root, 'books/apply.ts'), 'export const b = 2\n')
  fs.writeFileSync(path.join(root, 'ui/dist/index.js'), 'built()')
  fs.writeFileSync(path.join(root, 'core/node_modules/x/index.js'), 'dep()')
}

test('release - same files, same hash; any change to the code, the lockfile or the version changes it; build outputs and node_modules do not count', async (t) => {
  const a = tmpDir(t)
  const b = tmpDir(t)
  tree(a)
  tree(b)
  const ra = appRelease(a)
  t.is(ra.version, '9.9.9')
  t.is(ra.files, 4, 'package.json, the lockfile and two sources')
  t.ok(/^[0-9a-f]{64}$/.test(ra.hash))
  t.is(appRelease(b).hash, ra.hash, 'another copy of the same release hashes the same')

  fs.writeFileSync(path.join(b, 'ui/dist/index.js'), 'rebuilt()')
  fs.writeFileSync(path.join(b, 'core/node_modules/x/index.js'), 'other()')
  t.is(appRelease(b).hash, ra.hash, 'a rebuilt bundle or other node_modules do not change it')

  fs.writeFileSync(path.join(b, 'books/apply.ts'), 'export const b = 3\n')
  t.not(appRelease(b).hash, ra.hash, 'one changed source changes it')
  tree(b)
  t.is(appRelease(b).hash, ra.hash, 'back to the same files, back to the same hash')

  fs.renameSync(path.join(b, 'books/apply.ts'), path.join(b, 'books/apply2.ts'))
  t.not(appRelease(b).hash, ra.hash, 'a renamed file changes it')
  tree(b)
  fs.rmSync(path.join(b, 'books/apply2.ts'))

  fs.writeFileSync(path.join(b, 'package-lock.json'), '{"lockfileVersion":3,"packages":{"x":{}}}')
  t.not(appRelease(b).hash, ra.hash, 'another lockfile (other dependencies) changes it')
  tree(b)
  fs.writeFileSync(path.join(b, 'package.json'), JSON.stringify({ name: 'growr', version: '9.9.10' }))
  t.not(appRelease(b).hash, ra.hash, 'another version changes it')

  t.exception(() => appRelease(path.join(a, 'core')), /NOT_FOUND/, 'a folder without package.json is no release')
})

test('release - growr release prints the running checkout\'s hash, and another root\'s with --root', { timeout: 60_000 }, async (t) => {
  const run = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, '--json', 'release', ...args], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }))
  })
  const own = await run([])
  t.is(own.code, 0, own.stderr)
  t.is(JSON.parse(own.stdout).hash, appRelease(APP_ROOT).hash)
  const other = tmpDir(t)
  tree(other)
  const r = await run(['--root', other])
  t.is(r.code, 0, r.stderr)
  t.is(JSON.parse(r.stdout).hash, appRelease(other).hash)
})
