// The growr CLI as a user runs it: separate processes, clear errors, and the whole demo.
import test from 'brittle'
import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import fs from 'node:fs'
import { tmpDir } from './helpers/net.ts'

const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

function growr (args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

test('cli - init, offline book and project commands, clear errors', { timeout: 60_000 }, async (t) => {
  const storage = tmpDir(t)
  const init = await growr(['--storage', storage, '--json', 'init'])
  t.is(init.code, 0, init.stderr)
  const { did } = JSON.parse(init.stdout)
  t.ok(did.startsWith('did:key:z6Mk'), did)
  t.is(fs.statSync(path.join(storage, 'identity.json')).mode & 0o777, 0o600)

  const again = await growr(['init'], { GROWR_STORAGE: storage })
  t.is(again.code, 1)
  t.ok(/IDENTITY_EXISTS/.test(again.stderr), 'a second init refuses to overwrite: ' + again.stderr.trim())

  const created = await growr(['--json', 'book', 'create', '--name', 'CLI book'], { GROWR_STORAGE: storage })
  t.is(created.code, 0, created.stderr)
  const { topic } = JSON.parse(created.stdout)
  t.is(topic.length, 52)

  const proj = await growr(['--json', 'project', 'create', '--book', topic, '--name', 'P', '--amount', '100000', '--loan-max', '50000'], { GROWR_STORAGE: storage })
  t.is(proj.code, 0, proj.stderr)
  t.is(JSON.parse(proj.stdout).status, 'accepted')

  const badAmount = await growr(['--storage', storage, 'funding', 'commit', '--book', topic, '--project', 'a'.repeat(32), '--amount', '10.50'])
  t.is(badAmount.code, 1, 'a decimal amount is refused before anything is written')
  t.ok(/not a whole number/.test(badAmount.stderr), badAmount.stderr.trim())

  const badTopic = await growr(['--storage', storage, 'book', 'show', '--book', 'nope'])
  t.is(badTopic.code, 2)
  t.ok(/not a book topic key/.test(badTopic.stderr), badTopic.stderr.trim())

  const badTerms = await growr(['--storage', storage, 'project', 'create', '--book', topic, '--name', 'Q', '--loan-min', '90000', '--loan-max', '50000'])
  t.is(badTerms.code, 1)
  t.ok(/loanMinAmount is above loanMaxAmount/.test(badTerms.stderr), badTerms.stderr.trim())

  const audit = await growr(['--storage', storage, '--json', 'book', 'audit', '--book', topic])
  const entries = JSON.parse(audit.stdout)
  t.alike(entries.map((e: { status: string }) => e.status), ['accepted', 'accepted', 'rejected'], 'the refused project is in the audit log with its reason')
})

test('cli - npm run demo ends with the converged line on 3 peers', { timeout: 240_000 }, async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/demo/run.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d })
  const code = await new Promise((resolve) => child.once('exit', resolve))
  t.is(code, 0, 'demo exits 0')
  const last = out.trim().split('\n').pop() ?? ''
  t.ok(/^demo: converged [0-9a-f]{64} on 3 peers$/.test(last), last)
  t.ok(/instalment 6: \d+ repaid and confirmed/.test(out), 'every instalment repaid')
  const hashes = [...out.matchAll(/view ([0-9a-f]{64})/g)].map((m) => m[1])
  t.is(hashes.length, 3)
  t.ok(hashes.every((h) => h === hashes[0]), 'three identical view hashes printed')
})
