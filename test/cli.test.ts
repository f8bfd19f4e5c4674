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

test('cli - vc issue, verify, revoke; the W3C vector verifies with --verification-key', { timeout: 90_000 }, async (t) => {
  const storage = tmpDir(t)
  const env = { GROWR_STORAGE: storage }
  t.is((await growr(['init'], env)).code, 0)
  const subject = 'did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2'
  const issued = await growr(['vc', 'issue', '--type', 'KycCredential', '--subject', subject, '--claims', '{"kycStatus":"verified"}'], env)
  t.is(issued.code, 0, issued.stderr)
  const vc = JSON.parse(issued.stdout)
  t.alike(vc.type, ['VerifiableCredential', 'KycCredential'])
  t.is(vc.proof.cryptosuite, 'eddsa-jcs-2022')
  const file = path.join(storage, 'kyc.json')
  fs.writeFileSync(file, issued.stdout)

  const ok = await growr(['vc', 'verify', file], env)
  t.is(ok.code, 0, 'the CLI-issued credential verifies: ' + ok.stdout.trim() + ok.stderr)

  const forged = path.join(storage, 'forged.json')
  fs.writeFileSync(forged, JSON.stringify({ ...vc, credentialSubject: { ...vc.credentialSubject, kycStatus: 'pending' } }))
  const bad = await growr(['vc', 'verify', forged, '--json'], env)
  t.is(bad.code, 1, 'a changed claim does not verify')
  t.is(JSON.parse(bad.stdout).problems[0].code, 'PROOF_INVALID')

  const badClaims = await growr(['vc', 'issue', '--type', 'KycCredential', '--subject', subject, '--claims', '{"kycStatus":"probably"}'], env)
  t.is(badClaims.code, 2, 'claims that do not fit the type\'s schema are refused')
  t.ok(/kycStatus/.test(badClaims.stderr), badClaims.stderr.trim())

  const revoked = await growr(['vc', 'revoke', vc.id], env)
  t.is(revoked.code, 0, revoked.stderr)
  const after = await growr(['vc', 'verify', file], env)
  t.is(after.code, 1, 'a revoked credential does not verify')
  t.ok(/REVOKED/.test(after.stdout), after.stdout.trim())

  const vector = path.join(ROOT, 'test/vectors/vc-di-eddsa/eddsa-jcs-2022-signed.json')
  const key = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/vectors/vc-di-eddsa/keyPair.json'), 'utf8')).publicKeyMultibase
  const w3c = await growr(['vc', 'verify', vector, '--verification-key', key])
  t.is(w3c.code, 0, 'the W3C eddsa-jcs-2022 vector verifies: ' + w3c.stdout.trim())
  const noKey = await growr(['vc', 'verify', vector])
  t.is(noKey.code, 1, 'an https issuer without --verification-key cannot be verified')
})

test('cli - custody: a holder consents, a custodian holds her SSCR, then releases it', { timeout: 90_000 }, async (t) => {
  const holder = tmpDir(t)
  const custodian = tmpDir(t)
  const fresh = tmpDir(t)
  const pass = { GROWR_BACKUP_PASSPHRASE: 'a long enough passphrase' }
  const hdid = JSON.parse((await growr(['--storage', holder, '--json', 'init'])).stdout).did
  const cdid = JSON.parse((await growr(['--storage', custodian, '--json', 'init'])).stdout).did
  const backup = path.join(holder, 'backup.bin')
  t.is((await growr(['--storage', holder, 'backup', 'create', '--out', backup], pass)).code, 0)
  const consent = path.join(holder, 'consent.json')
  t.is((await growr(['--storage', holder, 'custody', 'consent', '--custodian', cdid, '--out', consent])).code, 0)

  const stranger = tmpDir(t)
  await growr(['--storage', stranger, 'init'])
  const refused = await growr(['--storage', stranger, 'custody', 'enroll', '--backup', backup, '--consent', consent], pass)
  t.is(refused.code, 2, 'a consent naming another custodian is refused: ' + refused.stderr.trim())

  const enrolled = await growr(['--storage', custodian, 'custody', 'enroll', '--backup', backup, '--consent', consent], pass)
  t.is(enrolled.code, 0, enrolled.stderr)
  const listed = await growr(['--storage', custodian, '--json', 'custody', 'list'])
  t.alike(JSON.parse(listed.stdout), [hdid])
  const out = path.join(custodian, 'released.bin')
  t.is((await growr(['--storage', custodian, 'custody', 'release', '--holder', hdid, '--out', out], pass)).code, 0)
  t.alike(JSON.parse((await growr(['--storage', custodian, '--json', 'custody', 'list'])).stdout), [], 'the custodial copy is gone')
  const restored = await growr(['--storage', fresh, '--json', 'backup', 'restore', out], pass)
  t.is(JSON.parse(restored.stdout).did, hdid, 'the released backup restores her identity')
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
