import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import b4a from 'b4a'
import { createNet, tmpDir } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { Services } from '../core/services/services.ts'
import { GrowrNode } from '../core/node.ts'
import { createHandlers } from '../app/contract.ts'
import { restoreBackup } from '../core/sscr/backup.ts'
import { loadIdentity } from '../core/identity/keyfile.ts'
import type { Assertion } from 'brittle'

const MARKER = 'Zebra Marker Cooperative 7731'

function filesUnder (dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
}

async function until (check: () => boolean | Promise<boolean>, what: string, ms = 20_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function services (t: Assertion, node: GrowrNode, announce = false) {
  const s = new Services(node, { announce })
  await s.ready()
  t.teardown(() => s.close(), { order: -Infinity + 1 })
  return s
}

test('sscr - a claim the node holds is nowhere in its storage bytes; a backup restores it on a fresh node', { timeout: 90_000 }, async (t) => {
  const net = await createNet(t, 2)
  const [holder, issuer] = net.nodes
  const sh = await services(t, holder)
  const si = await services(t, issuer, true)
  const api = createHandlers(holder, sh)
  await createHandlers(issuer, si)['vc.enroll']({ subject: holder.did, type: 'CommunityMembershipCredential', claims: { community: MARKER } })
  const vc = await api['vc.request']({ issuer: issuer.did, type: 'CommunityMembershipCredential' })
  t.is(vc.credentialSubject.community, MARKER, 'the holder received the claim')
  const { backup } = await api['backup.create']({ passphrase: 'correct horse battery' })

  await sh.close()
  await net.stop(0)
  const needles = [MARKER, vc.id, b4a.toString(b4a.from(MARKER), 'hex'), b4a.toString(b4a.from(MARKER), 'base64').slice(0, 20)]
  const files = filesUnder(net.dirs[0])
  t.ok(files.length > 5, `${files.length} files in the storage directory`)
  let found = 0
  for (const f of files) {
    const bytes = fs.readFileSync(f)
    for (const n of needles) if (bytes.includes(n)) { found++; t.fail(`${n} found in ${f}`) }
  }
  t.is(found, 0, 'neither the claim value nor the credential id is stored in the clear')

  const fresh = tmpDir(t)
  const did = await restoreBackup(fresh, b4a.from(backup, 'base64'), 'correct horse battery')
  t.is(did, holder.did, 'the backup restores the same DID')
  t.is(loadIdentity(fresh).did, holder.did)
  const node = new GrowrNode({ storage: fresh, network: false })
  const s = new Services(node)
  await s.ready()
  const listed = await createHandlers(node, s)['vc.list']({})
  t.alike(listed.map((c) => c.id), [vc.id], 'the fresh node holds the same credentials')
  t.is((await createHandlers(node, s)['vc.show']({ id: vc.id })).credentialSubject.community, MARKER)
  await s.close()
  await node.close()
})

test('sscr - repayment history follows the borrower: the originator issues it when a loan is repaid', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, borrower, investor] = net.nodes
  const so = await services(t, orig)
  const sb = await services(t, borrower)
  const si = await services(t, investor)
  const o = createHandlers(orig, so)
  const b = createHandlers(borrower, sb)
  const i = createHandlers(investor, si)
  const { topic } = await o['book.create']({ name: 'History' })
  const { id: project } = await o['project.create']({ book: topic, terms: terms(Date.now(), { loanMinDuration: 1 }) })
  await o['project.transition']({ book: topic, project, action: 'activate' })
  const { code } = await o['invite.create']({ book: topic, role: 'borrower' })
  const { code: icode } = await o['invite.create']({ book: topic, role: 'investor' })
  await Promise.all([b['invite.accept']({ code }), i['invite.accept']({ code: icode })])
  const { id: funding } = await i['funding.commit']({ book: topic, project, amount: 20_000 })
  const paid = await i['payment.record']({ book: topic, kind: 'funding', ref: funding })
  await o['payment.confirm']({ book: topic, payment: paid.id })

  const { id: loan } = await b['loan.apply']({ book: topic, project, amount: 20_000, months: 1 })
  await o['loan.decide']({ book: topic, loan, action: 'approve' })
  const disbursed = await o['payment.record']({ book: topic, kind: 'disbursement', ref: loan })
  await b['payment.confirm']({ book: topic, payment: disbursed.id })
  const repaid = await b['loan.repay']({ book: topic, loan })
  await o['payment.confirm']({ book: topic, payment: repaid.id })
  t.is((await o['loan.show']({ book: topic, loan })).status, 'repaid')

  const wallet = sb.wallet!
  await until(() => wallet.list({ type: 'RepaymentHistoryCredential' }).length > 0, 'repayment history collected')
  const [history] = wallet.list({ type: 'RepaymentHistoryCredential' })
  t.is(history.credentialSubject.outcome, 'repaid')
  t.is(history.credentialSubject.loanId, loan)
  t.is(history.issuer, orig.did, 'issued by the originator')
  const verified = await b['vc.verify']({ credential: history })
  t.ok(verified.verified, 'and it verifies, status included')
  await so.history!.flushed()
  t.is((await so.issuing!.issued()).filter((r) => r.type === 'RepaymentHistoryCredential').length, 1, 'issued once, however many updates followed')
})
