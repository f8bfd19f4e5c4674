import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import b4a from 'b4a'
import fc from 'fast-check'
import { confirmedFunding, seen } from './helpers/lending.ts'
import { terms } from './helpers/fixtures.ts'
import { accepted } from './helpers/book.ts'
import { createNet, tmpDir } from './helpers/net.ts'
import { Services } from '../core/services/services.ts'
import { assembleReceipt, buildReceipt, verifyReceipt } from '../core/receipts/receipt.ts'
import { validateReceipt } from '../core/receipts/validation.ts'
import type { Book } from '../books/book.ts'
import { decodeOp } from '../books/ops/envelope.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import type { PeerRpc } from '../core/network/peer-rpc.ts'

/** Where op `opId` of `book`'s own signer sits in its local writer core. */
async function locate (book: Book, opId: string): Promise<{ coreKey: string; index: number }> {
  const audit = await book.view.auditOf(book.signerDid, opId)
  if (!audit) throw new Error('op not applied')
  const core = (book.base as unknown as { local: { length: number; get (i: number): Promise<{ node: { value: Uint8Array } }> } }).local
  for (let i = core.length - 1; i >= 0; i--) {
    const msg = await core.get(i)
    if (msg.node.value && b4a.toString(msg.node.value).includes(opId)) return { coreKey: audit.writer, index: i }
  }
  throw new Error('op not in the local core')
}

test('receipt - a confirmed repayment: exported on the borrower, verified offline elsewhere, tampering refused, peers confirm by broadcast', { timeout: 120_000 }, async (t) => {
  // services (and their rpc) start before the nodes meet, as on a running node
  const net = await createNet(t, 3)
  const services = net.nodes.map((n) => new Services(n, { ads: false }))
  for (const s of services) await s.ready()
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  const ob = await net.nodes[0].createBook('Trust circle')
  const projectId = ob.newId()
  await accepted(t, ob, [{ type: 'project/create', projectId, terms: terms(Date.now()) }, { type: 'project/activate', projectId }])
  const [bb, ib] = await Promise.all(['borrower', 'investor'].map(async (role, i) => await net.nodes[i + 1].acceptInvite((await net.nodes[0].createInvite(ob.topic, role as 'borrower')).code)))
  await Promise.all([bb, ib].map((b) => b.until(async () => b.writable && (await b.view.get('projects', projectId))?.status === 'active', 20_000, 'member ready')))
  const lb = { projectId, net }
  await confirmedFunding(t, ob, ib, lb.projectId, 300_000)
  const loanId = bb.newId()
  await accepted(t, bb, [{ type: 'loan/apply', loanId, projectId: lb.projectId, amount: 100_000, currency: 'EUR', months: 3, purpose: 'seedlings' }])
  await seen(ob, 'loans', loanId)
  await accepted(t, ob, [{ type: 'loan/approve', loanId }])
  const disb = ob.newId()
  const netAmount = 100_000 - 500 // the fixtures' disbursement fee
  const [disbOp] = await accepted(t, ob, [{ type: 'payment/record', paymentId: disb, kind: 'disbursement', ref: loanId, amount: netAmount, currency: 'EUR', rail: 'manual', reference: 'SEPA 2' }])
  await seen(bb, 'payments', disb)
  await accepted(t, bb, [{ type: 'payment/confirm', paymentId: disb }])
  const loan = await bb.view.get('loans', loanId)
  const pay = bb.newId()
  const inst = loan!.schedule[0]
  await accepted(t, bb, [{ type: 'payment/record', paymentId: pay, kind: 'repayment', ref: loanId, amount: inst.total, currency: 'EUR', rail: 'manual', reference: 'instalment 1' }])
  await seen(ob, 'payments', pay)
  const [confirmOp] = await accepted(t, ob, [{ type: 'payment/confirm', paymentId: pay }])
  await seen(bb, 'payments', pay, 'confirmed')

  // export on the borrower's node
  const receipt = await buildReceipt(bb, pay)
  t.comment(`receipt of ${receipt.byteLength} bytes`)
  const dir = tmpDir(t)
  const file = path.join(dir, 'repayment.receipt')
  fs.writeFileSync(file, receipt)

  await t.test('receipt - verified in another process with only the book key', async (st) => {
    const script = `import fs from 'node:fs'; import { verifyReceipt } from ${JSON.stringify(path.resolve('core/receipts/receipt.ts'))};
      const r = verifyReceipt(fs.readFileSync(process.argv[1]), Buffer.from(process.argv[2], 'hex')); console.log(JSON.stringify(r))`
    const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file, b4a.toString(bb.key, 'hex')], { encoding: 'utf8', timeout: 30_000 })
    const r = JSON.parse(out.stdout.trim().split('\n').pop() as string)
    st.is(r.ok, true, `verifies offline: ${r.reason ?? ''}`)
    st.is(r.payment.paymentId, pay)
    st.is(r.payment.kind, 'repayment')
    st.is(r.payment.amount, inst.total, 'the amount, exact minor units')
    st.is(r.payment.payer, bb.signerDid, 'payer is the borrower')
    st.is(r.confirmedBy, ob.signerDid, 'confirmed by the originator, the payee')
    st.is(r.confirmedAt, confirmOp.ts)
    st.is(r.originator, ob.signerDid)
    st.is(r.bookName, 'Trust circle')
  })

  await t.test('receipt - exported on the originator, the same payment verifies', async (st) => {
    const other = await buildReceipt(ob, pay)
    const r = verifyReceipt(other, ob.key)
    st.ok(r.ok, 'verifies')
    const d = verifyReceipt(await buildReceipt(bb, disb), bb.key)
    st.ok(d.ok && d.confirmedBy === bb.signerDid && d.payment.payer === ob.signerDid, 'a disbursement: paid by the originator, confirmed by the borrower')
  })

  await t.test('receipt - another book key refused', async (st) => {
    const r = verifyReceipt(receipt, b4a.alloc(32, 7))
    st.is(r.ok, false)
    st.ok(!r.ok && /another book/.test(r.reason), r.ok ? '' : r.reason)
  })

  await t.test('receipt - every byte flipped is refused', async (st) => {
    let accepted = 0
    for (let i = 0; i < receipt.byteLength; i++) {
      for (const mask of [0x01, 0x80]) {
        const bad = b4a.from(receipt)
        bad[i] ^= mask
        const r = verifyReceipt(bad, bb.key)
        if (r.ok) accepted++
      }
    }
    st.is(accepted, 0, `${receipt.byteLength * 2} one-bit flips, none accepted`)
    st.is(verifyReceipt(receipt.subarray(0, receipt.byteLength - 1), bb.key).ok, false, 'truncated refused')
    st.is(verifyReceipt(b4a.concat([receipt, b4a.from([0])]), bb.key).ok, false, 'trailing byte refused')
  })

  await t.test('receipt - fuzz: random edits never verify, never throw', async (st) => {
    let threw = 0
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
      const bad = b4a.from(receipt)
      for (const [at, x] of edits) bad[at % bad.byteLength] ^= x
      try {
        return verifyReceipt(bad, bb.key).ok === false
      } catch { threw++; return false }
    }), { numRuns: 500 })
    st.is(threw, 0)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (junk) => verifyReceipt(junk, bb.key).ok === false), { numRuns: 300 })
    st.pass('junk refused')
  })

  await t.test('receipt - hostile receipts built from real signed blocks are refused', async (st) => {
    // the borrower confirms her own repayment: apply rejects it, but the op is in her log, signed
    const own = bb.newId()
    await accepted(st, bb, [{ type: 'payment/record', paymentId: own, kind: 'repayment', ref: loanId, amount: 1, currency: 'EUR', rail: 'manual', reference: 'fake' }])
    const [{ op: selfConfirm, audit }] = await bb.act([{ type: 'payment/confirm', paymentId: own }])
    st.is(audit.status, 'rejected', 'apply refuses a payer confirming')
    const create = { coreKey: b4a.toString(ob.key, 'hex'), index: 0 }
    const bKey = b4a.toString(bb.base.local.key, 'hex')
    const oKey = b4a.toString(ob.base.local.key, 'hex')
    const memberAdd = await (async () => {
      const core = (ob.base as unknown as { local: { length: number; get (i: number): Promise<{ node: { value: Uint8Array | null } }> } }).local
      for (let i = 0; i < core.length; i++) {
        const v = (await core.get(i)).node.value
        if (v && b4a.toString(v).includes(bKey) && b4a.toString(v).includes('member/add')) return { coreKey: oKey, index: i }
      }
      throw new Error('no member/add')
    })()
    const ownPay = await locate(bb, await findOpId(bb, own))
    const selfConf = await locate(bb, selfConfirm.opId)
    const forged = await assembleReceipt(bb, [create, memberAdd, ownPay, selfConf])
    const r = verifyReceipt(forged, bb.key)
    st.is(r.ok, false)
    st.ok(!r.ok && /not the payee/.test(r.reason), r.ok ? '' : r.reason)

    const noBinding = await assembleReceipt(bb, [create, ownPay, selfConf])
    const r2 = verifyReceipt(noBinding, bb.key)
    st.ok(!r2.ok && /not tied to the book/.test(r2.reason), r2.ok ? '' : r2.reason)

    // a real payment and the payee's real confirmation of another payment
    const payLoc = await locate(bb, await findOpId(bb, pay))
    const disbConf = await locate(bb, await findOpId(bb, disb, 'payment/confirm'))
    const mixed = await assembleReceipt(bb, [create, memberAdd, payLoc, disbConf])
    const r3 = verifyReceipt(mixed, bb.key)
    st.ok(!r3.ok && /another payment/.test(r3.reason), r3.ok ? '' : r3.reason)
    st.ok(disbOp, 'disbursement recorded')
  })

  await t.test('receipt - broadcast validation: both other peers answer signed within the deadline; a tampered receipt does not hold', async (st) => {
    const rpc = services[1].rpc as PeerRpc
    const others = [ob.signerDid, ib.signerDid] as DidKey[]
    await bb.until(async () => others.every((d) => rpc.peers().includes(d)), 20_000, 'rpc channels to both peers')
    const started = Date.now()
    const res = await validateReceipt(rpc, receipt, { peers: others, deadlineMs: 10_000 })
    st.ok(Date.now() - started < 10_000, 'within the deadline')
    st.is(res.answers.length, 2, `two signed answers ${JSON.stringify(res.failed)}`)
    st.is(res.holds, 2, `both say it holds: ${res.answers.map((a) => a.reason).join('; ')}`)
    st.alike(res.answers.map((a) => a.peer).sort(), [...others].sort(), 'answered by the originator and the investor')
    st.ok(res.answers.every((a) => a.length > 0), 'each names the length it checked at')

    const bad = b4a.from(receipt)
    bad[bad.byteLength - 40] ^= 1
    const res2 = await validateReceipt(rpc, bad, { peers: others, deadlineMs: 10_000 })
    st.is(res2.answers.length, 2, 'both answer the tampered one too')
    st.is(res2.holds, 0, 'and neither says it holds')
    st.ok(res2.answers.every((a) => typeof a.reason === 'string' && a.reason.length > 0), res2.answers.map((a) => a.reason).join('; '))
  })
})

/** The opId of `book`'s own op of `type` for payment `paymentId` (scans its local writer core). */
async function findOpId (book: Book, paymentId: string, type = 'payment/record'): Promise<string> {
  const core = (book.base as unknown as { local: { length: number; get (i: number): Promise<{ node: { value: Uint8Array | null } }> } }).local
  for (let i = core.length - 1; i >= 0; i--) {
    const v = (await core.get(i)).node.value
    if (!v) continue
    const d = decodeOp(v, book.key)
    const op = d.ok ? d.op as { paymentId?: string; type?: string; opId: string } : null
    if (op && op.paymentId === paymentId && op.type === type) return op.opId
  }
  throw new Error(`no ${type} for ${paymentId}`)
}
