// `growr network ...` as a user runs it: separate CLI processes on one storage (offline: the
// node's own status list is current by definition, so revocation is seen without a network).
import test from 'brittle'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpDir } from './helpers/net.ts'

const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))

function growr (args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, GROWR_NETWORK: '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

test('governance cli - show, certify, verify (exit 0 only if it holds), revoke, issued', { timeout: 120_000 }, async (t) => {
  const dir = tmpDir(t)
  const env = { GROWR_STORAGE: path.join(dir, 'founder') }
  t.is((await growr(['init'], env)).code, 0, 'identity created')
  const founder = (await growr(['whoami'], env)).stdout.trim()
  const shipped = await growr(['network', 'show'], env)
  t.ok(/^network growr-dev \(version 1, default\)/.test(shipped.stdout), 'the shipped development network by default')

  const netFile = path.join(dir, 'net.json')
  fs.writeFileSync(netFile, JSON.stringify({ version: 1, name: 'growr-cli', founders: [founder] }))
  const shown = await growr(['--network-file', netFile, '--json', 'network', 'show'], env)
  t.is(JSON.parse(shown.stdout).source, 'argument', '--network-file selects the file')
  t.is(JSON.parse(shown.stdout).topic.length, 64, 'and shows its topic')

  const cert = await growr(['--network-file', netFile, 'network', 'certify', '--subject', 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', '--name', 'Direct Relay', '--roles', 'relay,verifier', '--valid-until', '2099-01-01T00:00:00Z'], env)
  t.is(cert.code, 0, cert.stderr)
  const vc = JSON.parse(cert.stdout)
  t.alike(vc.type, ['VerifiableCredential', 'OrganizationCertificate'], 'prints the certificate')
  const chainFile = path.join(dir, 'chain.json')
  fs.writeFileSync(chainFile, JSON.stringify([vc]))

  const ok = await growr(['--network-file', netFile, 'network', 'verify', '--chain', chainFile], env)
  t.is(ok.code, 0, 'exit 0: the chain holds')
  t.ok(/certified: "Direct Relay" .* as relay, verifier/.test(ok.stdout) && /\(founder\) certified/.test(ok.stdout), ok.stdout)
  const wrongNet = await growr(['network', 'verify', '--chain', chainFile], env)
  t.is(wrongNet.code, 1, 'exit 1 in another network')
  t.ok(/NOT certified: .* is for network "growr-cli", not "growr-dev"/.test(wrongNet.stdout), wrongNet.stdout)

  const bad = await growr(['--network-file', netFile, 'network', 'certify', '--subject', 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', '--name', 'X', '--roles', 'admin'], env)
  t.is(bad.code, 2, 'an unknown role is a usage error')
  t.ok(/unknown role admin/.test(bad.stderr), bad.stderr)

  const revoke = await growr(['network', 'revoke', '--id', vc.id], env)
  t.is(revoke.code, 0, revoke.stderr)
  const after = await growr(['--network-file', netFile, 'network', 'verify', '--chain', chainFile], env)
  t.is(after.code, 1, 'exit 1 once revoked')
  t.ok(/was revoked by/.test(after.stdout), after.stdout)
  const issued = await growr(['network', 'issued'], env)
  t.ok(issued.stdout.includes(`${vc.id} `) && /REVOKED/.test(issued.stdout), issued.stdout)
})
