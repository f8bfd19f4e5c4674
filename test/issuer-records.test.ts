import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import b4a from 'b4a'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createNet, tmpDir } from './helpers/net.ts'
import { rejectsCode } from './helpers/assert.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Assertion } from 'brittle'

const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))
const MARKER = 'Quokka Marker Guild 5519'
const LATER = 'Quokka Later Guild 6620'

function filesUnder (dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
}

function growr (args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

async function services (t: Assertion, node: GrowrNode, announce = false) {
  const s = new Services(node, { announce, statusTimeoutMs: 5000 })
  await s.ready()
  t.teardown(() => s.close(), { order: -Infinity + 1 })
  return s
}

test('issuer - a revoked credential is not re-issued by asking again; re-enrolling issues a new one; unenrolling refuses and revokes', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 2)
  const [holder, issuer] = net.nodes
  const sh = await services(t, holder)
  const si = await services(t, issuer, true)
  const h = createHandlers(holder, sh)
  const i = createHandlers(issuer, si)
  const type = 'CommunityMembershipCredential'

  await i['vc.enroll']({ subject: holder.did, type, claims: { community: 'Nelson growers' } })
  const first = await h['vc.request']({ issuer: issuer.did, type })
  t.is((await h['vc.verify']({ credential: first })).verified, true, 'the first credential verifies, status included')
  t.alike((await i['vc.enrolled']({})).map((e) => [e.subject, e.type, e.state, e.credential]), [[holder.did, type, 'issued', first.id]], 'the enrolment lists its standing credential')

  await i['vc.revoke']({ id: first.id })
  // the holder asks again over the peer RPC: the revocation stands
  await rejectsCode(t, h['vc.request']({ issuer: issuer.did, type }), 'REVOKED', 'asking again after a revocation is refused')
  await rejectsCode(t, h['vc.request']({ issuer: issuer.did, type }), 'REVOKED', 'and stays refused however often she asks')
  t.is((await i['vc.issued']({})).length, 1, 'no credential was issued by asking')
  t.alike((await i['vc.enrolled']({})).map((e) => [e.state, e.credential]), [['revoked', first.id]], 'the issuer sees the enrolment as revoked')
  const stale = await h['vc.verify']({ credential: first })
  t.ok(stale.problems.some((p) => p.code === 'REVOKED'), 'the revoked credential fails verification')

  // only a deliberate new enrolment makes the issuer vouch again
  await i['vc.enroll']({ subject: holder.did, type, claims: { community: 'Nelson growers' } })
  const second = await h['vc.request']({ issuer: issuer.did, type })
  t.not(second.id, first.id, 'a new credential after re-enrolment')
  t.is((await h['vc.verify']({ credential: second })).verified, true, 'and it verifies')

  // enrolling again with the same claims keeps the standing credential; with other claims it is revoked
  await i['vc.enroll']({ subject: holder.did, type, claims: { community: 'Nelson growers' } })
  t.is((await h['vc.request']({ issuer: issuer.did, type })).id, second.id, 'the same claims again: the same credential stands')
  await i['vc.enroll']({ subject: holder.did, type, claims: { community: 'Kaslo growers' } })
  t.ok((await h['vc.verify']({ credential: second })).problems.some((p) => p.code === 'REVOKED'), 'other claims: the credential stating the old ones is revoked')
  const third = await h['vc.request']({ issuer: issuer.did, type })
  t.is(third.credentialSubject.community, 'Kaslo growers', 'and the next request states the new claims')
  // an enrolment whose check has ended issues nothing
  await i['vc.enroll']({ subject: holder.did, type: 'KycCredential', claims: { kycStatus: 'verified' }, validUntil: new Date(Date.now() - 1000).toISOString() })
  await rejectsCode(t, h['vc.request']({ issuer: issuer.did, type: 'KycCredential' }), 'NOT_FOUND', 'an expired check issues no credential')
  await i['vc.unenroll']({ subject: holder.did, type: 'KycCredential' })

  const out = await i['vc.unenroll']({ subject: holder.did, type })
  t.is(out.revoked, third.id, 'unenrolling revokes the standing credential')
  await rejectsCode(t, h['vc.request']({ issuer: issuer.did, type }), 'NOT_FOUND', 'after unenrolment the issuer has nothing to issue')
  t.ok((await h['vc.verify']({ credential: third })).problems.some((p) => p.code === 'REVOKED'), 'the standing credential no longer verifies')
  t.ok((await i['vc.issued']({})).every((r) => r.revoked), 'every credential issued from the enrolment is revoked')
  t.alike(await i['vc.enrolled']({}), [], 'no enrolment is left')
  await rejectsCode(t, i['vc.unenroll']({ subject: holder.did, type }), 'NOT_FOUND', 'unenrolling twice says there is nothing to remove')

  // enrolment changes are the operator's: a peer finds no method to unenrol or revoke with
  await rejectsCode(t, sh.rpc!.request(issuer.did as never, 'vc/unenroll', { type }, { timeoutMs: 5000 }), 'NOT_FOUND', 'no remote unenrol method')
  await rejectsCode(t, sh.rpc!.request(issuer.did as never, 'vc/revoke', { id: second.id }, { timeoutMs: 5000 }), 'NOT_FOUND', 'no remote revoke method')
})

test('issuer - enrolled claims, issued copies and queued credentials are not in the issuer\'s storage bytes', { timeout: 90_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [holder, issuer, absent] = net.nodes
  const sh = await services(t, holder)
  const si = await services(t, issuer, true)
  const i = createHandlers(issuer, si)
  const type = 'CommunityMembershipCredential'

  await i['vc.enroll']({ subject: holder.did, type, claims: { community: MARKER } })
  const vc = await createHandlers(holder, sh)['vc.request']({ issuer: issuer.did, type })
  t.is(vc.credentialSubject.community, MARKER, 'the holder received the claim')
  // a credential waiting in the outbox for a subject who is not connected (as repayment history does)
  await si.issuing!.queue(await si.issuing!.issue({ type, subject: absent.did, claims: { community: LATER } }))
  t.is((await i['vc.enrolled']({}))[0].subject, holder.did, 'the issuer reads its enrolment back')

  await sh.close()
  await si.close()
  await net.stop(1)
  const needles = [MARKER, LATER, b4a.toString(b4a.from(MARKER), 'hex'), b4a.toString(b4a.from(MARKER), 'base64').slice(0, 20), b4a.toString(b4a.from(LATER), 'base64').slice(0, 20)]
  const files = filesUnder(net.dirs[1])
  t.ok(files.length > 5, `${files.length} files in the issuer's storage directory`)
  let found = 0
  for (const f of files) {
    const bytes = fs.readFileSync(f)
    for (const n of needles) if (bytes.includes(n)) { found++; t.fail(`${n} found in ${f}`) }
  }
  t.is(found, 0, 'no claim value is stored in the clear')

  // the records still open after a restart (the key comes from the identity, not from memory)
  const again = await net.restart(1)
  const s2 = await services(t, again)
  t.alike((await createHandlers(again, s2)['vc.enrolled']({})).map((e) => [e.subject, e.state]), [[holder.did, 'issued']], 'the enrolment survives a restart')
  t.is((await s2.issuing!.collect(absent.did as never))[0]?.credentialSubject.community, LATER, 'the queued credential survives a restart')
})

test('issuer - the CLI lists enrolments and unenrols, offline', { timeout: 60_000 }, async (t) => {
  const storage = tmpDir(t)
  const env = { GROWR_STORAGE: storage }
  t.is((await growr(['init'], env)).code, 0)
  const subject = 'did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2'
  const enrolled = await growr(['vc', 'enroll', '--type', 'KycCredential', '--subject', subject, '--claims', '{"kycStatus":"verified"}'], env)
  t.is(enrolled.code, 0, enrolled.stderr)
  const bad = await growr(['vc', 'enroll', '--type', 'KycCredential', '--subject', subject, '--claims', '{"kycStatus":"probably"}'], env)
  t.is(bad.code, 2, 'claims that could never be issued are refused at enrolment: ' + bad.stderr.trim())
  const listed = JSON.parse((await growr(['--json', 'vc', 'enrolled'], env)).stdout)
  t.alike(listed.map((e: { subject: string; type: string; state: string }) => [e.subject, e.type, e.state]), [[subject, 'KycCredential', 'enrolled']])
  const out = await growr(['vc', 'unenroll', '--type', 'KycCredential', '--subject', subject], env)
  t.is(out.code, 0, out.stderr)
  t.ok(/no longer enrolled/.test(out.stdout), out.stdout.trim())
  t.ok(/none/.test((await growr(['vc', 'enrolled'], env)).stdout), 'nothing left')
  const again = await growr(['vc', 'unenroll', '--type', 'KycCredential', '--subject', subject], env)
  t.is(again.code, 1)
  t.ok(/NOT_FOUND/.test(again.stderr), again.stderr.trim())
})
