/**
 * The Rootstock rail in running nodes, through the contract every front end uses: a real anvil
 * chain (chain id 33, Berlin, a block per transaction), three nodes on a testnet (originator,
 * borrower, investor), each with its own wallet and the rail on the chain; spending addresses
 * funded with anvil_setBalance. An RBTC project counted in units of 10^10 wei, 2 confirmations.
 * Payers pay from their wallets (`payment.pay`); each payee's watcher proves its payments on its
 * own (signed by the payee: confirmed at once), or confirms a payment the payer proved itself.
 * Hostile or unlucky cases: a funding paid one minor unit short is reported and never proven;
 * the originator's backend goes down (a proxy is closed) and the pending funding is proven once it
 * is back; a backend on another chain is refused before anything is signed; an address posted by
 * hand that the wallet does not derive is never watched.
 */
import test from 'brittle'
import net from 'node:net'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createNet } from './helpers/net.ts'
import { rejectsCode } from './helpers/assert.ts'
import { terms } from './helpers/fixtures.ts'
import { startAnvil } from './helpers/anvil.ts'
import { Services } from '../core/services/services.ts'
import { RootstockRail } from '../core/rails/rootstock/rail.ts'
import { fetchRootstockProof } from '../core/rails/rootstock/proof-fetcher.ts'
import { toChecksumAddress } from '../core/wallet/bip44-rootstock.ts'
import { createHandlers, type Handlers } from '../app/contract.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Book } from '../books/book.ts'
import type { Assertion } from 'brittle'

const UNIT = 10n ** 10n

/** A TCP proxy in front of anvil that can be switched off and on, on the same port. */
async function proxy (t: Assertion, target: number): Promise<{ url: string, down (): Promise<void>, up (): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((c) => {
    const u = net.connect(target, '127.0.0.1')
    for (const s of [c, u]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => { c.destroy(); u.destroy() }) }
    c.pipe(u)
    u.pipe(c)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const down = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of sockets) s.destroy()
    await closed
  }
  t.teardown(async () => { if (server.listening) await down() })
  return { url: `http://127.0.0.1:${port}/`, down, up: async () => { await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)) } }
}

const opened: Services[] = []

async function node (t: Assertion, n: GrowrNode, url: string): Promise<{ h: Handlers, s: Services }> {
  const s = new Services(n, { rootstock: { url, chainId: 33, pollMs: 100, timeoutMs: 2_000 } })
  await s.ready()
  opened.push(s)
  t.teardown(() => s.close(), { order: -Infinity })
  return { h: createHandlers(n, s), s }
}

async function until (check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test('rootstock node - RBTC paid from wallets, proven or confirmed by the payees\' watchers; underpayment, outage, wrong chain', { timeout: 120_000 }, async (t) => {
  const anvil = await startAnvil(t)
  const gate = await proxy(t, Number(new URL(anvil.url).port))
  const net3 = await createNet(t, 3)
  const [oNode, bNode, iNode] = net3.nodes
  const o = await node(t, oNode, gate.url) // the originator's backend can be cut
  const b = await node(t, bNode, anvil.url)
  const i = await node(t, iNode, anvil.url)
  const rail = (x: { s: Services }) => x.s.rootstock as RootstockRail

  // wallets: each spending address (m/44'/137'/0'/0/0) gets 1 RBTC
  for (const x of [o, b, i]) await anvil.fund(rail(x).address, 10n ** 18n)
  const bal = await i.h['wallet.balance.rootstock']({})
  t.is(bal.rbtc.spendable, (10n ** 18n).toString(), `the investor's balance from the backend: ${bal.rbtc.spendable} wei at ${bal.address}`)
  await rejectsCode(t, i.h['wallet.balance']({}), 'BAD_ARGUMENT', 'no Bitcoin backend: wallet.balance says where the Rootstock balance is')
  const st = await i.h['status']({})
  t.ok(st.rootstock?.backend.reachable && st.rootstock.chainId === 33 && st.bitcoin === null, `status: rootstock chain 33 at height ${st.rootstock?.backend.height}`)

  // a backend on another chain: nothing is read or signed
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'growr-rsk-'))
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }), { order: Infinity })
  const wrong = new RootstockRail({ host: { storage: tmp, did: iNode.did, list: () => [] }, keys: i.s.keys as NonNullable<Services['keys']>, config: { url: anvil.url, chainId: 31, pollMs: 60_000 } })
  await wrong.ready()
  t.teardown(() => wrong.close())
  const ws = await wrong.sync()
  t.ok(/chain id 33, not the configured 31/.test(ws.backend.error ?? ''), `status says why: ${ws.backend.error}`)
  await rejectsCode(t, wrong.pay({ to: rail(o).address, amount: 1n }), 'BAD_ARGUMENT', 'a payment on the wrong chain is refused before signing')
  t.is(wrong.tracked().length, 0, 'and nothing was stored to send')
  await wrong.close()

  // the book: an RBTC project, 10^10 wei per minor unit, 2 confirmations
  const { topic: book } = await o.h['book.create']({ name: 'Rootstock node circle' })
  const rbtc = terms(Date.now(), { currency: 'RBTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000 })
  const { id: project } = await o.h['project.create']({ book, terms: rbtc })
  await o.h['project.rail.rootstock']({ book, project, chainId: 33, unitExponent: 10, confirmations: 2 })
  await o.h['project.transition']({ book, project, action: 'activate' })
  await b.h['invite.accept']({ code: (await o.h['invite.create']({ book, role: 'borrower' })).code })
  await i.h['invite.accept']({ code: (await o.h['invite.create']({ book, role: 'investor' })).code })
  const books: Book[] = [oNode, bNode, iNode].map((n) => n.book(book))
  const [oBook, bBook, iBook] = books
  const everywhere = async (what: string, check: (bk: Book) => Promise<boolean>) => {
    for (const bk of books) await bk.until(async () => await check(bk), 30_000, what)
  }
  const posted = async (bk: Book, key: string) => await bk.until(async () => (await bk.view.get('addresses', key)) !== null, 20_000, `address ${key} replicated`)

  // funding: the originator posts, the investor pays from its wallet, the originator's watcher proves
  const { id: fa } = await i.h['funding.commit']({ book, project, amount: 2_000_000 })
  await o.h['wait']({ book, sub: 'fundings', id: fa })
  await rejectsCode(t, i.h['payment.pay']({ book, kind: 'funding', ref: fa }), 'NOT_FOUND', 'no address posted yet: nothing is paid')
  const addrA = await o.h['payment.address']({ book, kind: 'funding', ref: fa })
  await posted(iBook, `funding/${fa}`)
  await rejectsCode(t, o.h['payment.pay']({ book, kind: 'funding', ref: fa }), 'BAD_ARGUMENT', 'the originator does not pay an investor\'s funding')
  const paidA = await i.h['payment.pay']({ book, kind: 'funding', ref: fa })
  t.is(paidA.baseUnits, (2_000_000n * UNIT).toString(), `2 000 000 minor units = ${paidA.baseUnits} wei (above 2^53) in ${paidA.txid}`)
  const again = await i.h['payment.pay']({ book, kind: 'funding', ref: fa })
  t.ok(again.txid === paidA.txid && again.reused, 'paying again returns the same transaction: never twice')
  const trackedA = (await i.h['payment.tracked']({})).find((x) => x.txid === paidA.txid)
  t.ok(trackedA !== undefined && ['pending', 'mined'].includes(trackedA.status.state), `tracked: ${trackedA?.status.state}`)
  await until(async () => (await o.h['status']({})).rootstock?.watcher.pending.some((p) => p.txHash === paidA.txid) === true, 10_000, 'the payee sees it coming (1 of 2 confirmations)')
  t.is((await oBook.view.get('fundings', fa))?.status, 'committed', 'one confirmation of two: not proven yet')
  await anvil.mine(1)
  await everywhere('funding A confirmed', async (bk) => (await bk.view.get('fundings', fa))?.status === 'confirmed')
  const provenA = (await oBook.view.list('payments')).find((p) => p.kind === 'funding' && p.ref === fa)
  t.ok(provenA?.status === 'confirmed' && provenA.payer === iNode.did && provenA.proof && 'txHash' in provenA.proof && provenA.proof.txHash === paidA.txid && provenA.proof.amount === paidA.baseUnits,
    `proven by the originator's watcher with the receipt of ${paidA.txid}, to ${addrA.address}, on all three peers`)

  // one minor unit short: reported, never proven
  const { id: fb } = await i.h['funding.commit']({ book, project, amount: 1_000_000 })
  await o.h['wait']({ book, sub: 'fundings', id: fb })
  await o.h['payment.address']({ book, kind: 'funding', ref: fb })
  await posted(iBook, `funding/${fb}`)
  const short = await i.h['payment.pay']({ book, kind: 'funding', ref: fb, amount: 999_999 })
  await anvil.mine(2)
  await until(async () => (await o.h['status']({})).rootstock?.watcher.problems.some((p) => p.txHash === short.txid && /less than/.test(p.state)) === true, 15_000, 'underpayment reported')
  const problem = (await o.h['status']({})).rootstock?.watcher.problems.find((p) => p.txHash === short.txid)
  t.pass(`reported: ${problem?.state}`)
  t.is((await oBook.view.get('fundings', fb))?.status, 'committed', 'the short payment proves nothing')

  // the originator's backend goes down while the rest of funding B is paid
  await gate.down()
  const full = await i.h['payment.pay']({ book, kind: 'funding', ref: fb })
  t.not(full.txid, short.txid, 'the full amount is another payment (another reference)')
  await anvil.mine(2)
  await until(async () => (await o.h['status']({})).rootstock?.backend.reachable === false, 10_000, 'unreachable shown')
  const down = (await o.h['status']({})).rootstock
  t.ok(down && !down.backend.reachable && /BACKEND_UNREACHABLE/.test(down.backend.error ?? '') && down.backend.url === gate.url, `status: unreachable, ${down?.backend.error}`)
  await rejectsCode(t, o.h['wallet.balance.rootstock']({}), 'BACKEND_UNREACHABLE', 'no balance was read before the outage: says so')
  await new Promise((resolve) => setTimeout(resolve, 400))
  t.is((await oBook.view.get('fundings', fb))?.status, 'committed', 'nothing proven while the payee\'s backend is down')
  await gate.up()
  await everywhere('funding B confirmed after the outage', async (bk) => (await bk.view.get('fundings', fb))?.status === 'confirmed')
  t.pass(`back: funding B proven from ${full.txid}`)

  // disbursement: the borrower posts, the originator pays, the borrower's watcher proves
  const { id: loan } = await b.h['loan.apply']({ book, project, amount: 1_500_000, months: 3, purpose: 'drip lines' })
  await o.h['wait']({ book, sub: 'loans', id: loan })
  await o.h['loan.decide']({ book, loan, action: 'approve' })
  await b.h['wait']({ book, sub: 'loans', id: loan, status: 'approved' })
  await b.h['payment.address']({ book, kind: 'disbursement', ref: loan })
  await posted(oBook, `disbursement/${loan}`)
  const disb = await o.h['payment.pay']({ book, kind: 'disbursement', ref: loan })
  t.is(disb.amount, '1499000', 'principal less the fee, in minor units')
  await anvil.mine(1)
  await everywhere('disbursed', async (bk) => (await bk.view.get('loans', loan))?.status === 'disbursed')
  t.pass(`disbursement ${disb.txid} proven by the borrower's watcher`)

  // repayment 1: paid from the wallet, proven by the originator's watcher
  await o.h['payment.address']({ book, kind: 'repayment', ref: loan })
  await posted(bBook, `repayment/${loan}`)
  const r1 = await b.h['payment.pay']({ book, kind: 'repayment', ref: loan })
  await anvil.mine(1)
  await everywhere('instalment 1 repaid', async (bk) => { const l = await bk.view.get('loans', loan); return l !== null && l.schedule[0].principalPaid + l.schedule[0].interestPaid === l.schedule[0].total })
  t.pass(`instalment 1: ${r1.amount} minor units in ${r1.txid}, proven`)

  // repayment 2: the borrower proves it herself; her proof waits for the payee, whose watcher confirms it
  const r2 = await b.h['payment.pay']({ book, kind: 'repayment', ref: loan })
  const proof = await fetchRootstockProof(rail(b).rpc, r2.txid, { confirmations: 1, timeoutMs: 10_000, pollMs: 20 })
  const strip = (h: string) => h.replace(/^0x/, '')
  const herProof = await b.h['payment.prove']({ book, kind: 'repayment', ref: loan, amount: Number(r2.amount), proof: { rawTx: strip(proof.rawTx), receipt: strip(proof.receipt), header: strip(proof.header), txIndex: proof.txIndex, txProof: proof.txProof.map(strip), receiptProof: proof.receiptProof.map(strip) } })
  t.is((await bBook.view.get('payments', herProof.id))?.status, 'recorded', 'the payer\'s own proof is recorded, not confirmed')
  await anvil.mine(1)
  await everywhere('her proof confirmed by the originator\'s watcher', async (bk) => (await bk.view.get('payments', herProof.id))?.status === 'confirmed')
  const loanNow = await oBook.view.get('loans', loan)
  t.ok(loanNow !== null && loanNow.schedule[1].principalPaid + loanNow.schedule[1].interestPaid === loanNow.schedule[1].total, 'instalment 2 counted once the payee confirmed')

  // distribution: the investor posts one address per funding; one transaction per investor record
  await i.h['payment.address']({ book, kind: 'distribution', ref: fa })
  await i.h['payment.address']({ book, kind: 'distribution', ref: fb })
  await posted(oBook, `distribution/${fa}`)
  await posted(oBook, `distribution/${fb}`)
  await until(async () => { const f = await oBook.view.get('fundings', fa); return f !== null && f.entitled > 0 }, 10_000, 'shares owed')
  const dist = await o.h['payment.pay']({ book, kind: 'distribution' })
  t.ok(dist.outputs.length === 2 && new Set(dist.outputs.map((x) => x.txid)).size === 2 && /one recipient/.test(dist.note ?? ''), `two transactions, one per funding: ${dist.note}`)
  // the payees' watchers may prove some of them meanwhile: what is still owed is paid by the same transactions, nothing anew
  const first = new Map(dist.outputs.map((x) => [x.ref, x.txid]))
  const distAgain = await o.h['payment.pay']({ book, kind: 'distribution' }).catch((err: Error) => { t.ok(/nothing is owed/.test(err.message), `all proven already: ${err.message}`); return null })
  t.ok(distAgain === null || (distAgain.reused && distAgain.outputs.every((x) => x.reused === true && first.get(x.ref) === x.txid)), 'a retry pays nothing twice')
  await anvil.mine(1)
  await everywhere('distributions proven', async (bk) => {
    const fs2 = await Promise.all([fa, fb].map(async (id) => await bk.view.get('fundings', id)))
    return fs2.every((f) => f !== null && f.entitled > 0 && f.distributed === f.entitled)
  })
  t.pass('each distribution proven by the investor\'s watcher')

  // the originator's receiving addresses were swept into its spending address
  await until(async () => (await o.h['payment.tracked']({})).some((x) => 'rail' in x && x.purpose === 'sweep' && x.status.state !== 'unbroadcast'), 15_000, 'a sweep')
  const ob = await o.h['wallet.balance.rootstock']({})
  t.ok(ob.addresses.filter((x) => x.index !== 0).every((x) => BigInt(x.wei) < 10n ** 15n), `received RBTC swept: ${ob.rbtc.spendable} wei spendable of ${ob.rbtc.total}`)

  // a hand-posted address the wallet does not derive is never watched
  const { id: fc } = await i.h['funding.commit']({ book, project, amount: 500_000 })
  await o.h['wait']({ book, sub: 'fundings', id: fc })
  const foreign = toChecksumAddress('0x' + 'ab'.repeat(20), null)
  await o.h['payment.address']({ book, kind: 'funding', ref: fc, address: foreign })
  await posted(iBook, `funding/${fc}`)
  const paidForeign = await i.h['payment.pay']({ book, kind: 'funding', ref: fc })
  await anvil.mine(2)
  await rail(o).sync()
  const os2 = (await o.h['status']({})).rootstock
  t.ok(os2 !== undefined && os2 !== null && !os2.watcher.pending.concat(os2.watcher.problems as never[]).some((p) => p.txHash === paidForeign.txid) && (await oBook.view.get('fundings', fc))?.status === 'committed',
    'not the wallet\'s address: nothing proven for it (the payer must prove it, and the payee confirm)')

  const viewHashes = async () => await Promise.all(books.map(async (bk) => { await bk.base.update(); return await bk.view.hash() }))
  await until(async () => { const hs = await viewHashes(); return hs.every((h) => h === hs[0]) }, 20_000, 'views converge').catch(() => {})
  const hashes = await viewHashes()
  t.ok(hashes.every((h) => h === hashes[0]), `all three peers hold the same view ${hashes[0]}`)
  for (const s of opened.splice(0)) await s.close()
})
