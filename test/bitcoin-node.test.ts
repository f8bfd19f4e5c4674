/**
 * The Bitcoin rail in running nodes, through the contract every front end uses: a real bcoin
 * regtest chain, four nodes on a testnet (originator, borrower, two investors), each with its own
 * wallet and the rail configured on its backend. Payers pay from their wallets (`payment.pay`),
 * blocks are mined, and each payee's watcher proves its payments on its own: nobody calls
 * `payment.prove`. A distribution pays both investors in one transaction. The originator's
 * backend goes down (a proxy in front of bcoin is closed): status says unreachable, the pending
 * funding waits and is proven once the backend is back. A hostile investor's garbage proofs and
 * addresses change nothing the watcher does.
 */
import test from 'brittle'
import net from 'node:net'
import { createNet } from './helpers/net.ts'
import { rejectsCode } from './helpers/assert.ts'
import { terms } from './helpers/fixtures.ts'
import { broadcast, coinbaseOf, signSpend, startBcoin, testKey, type Bcoin } from './helpers/bcoin.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers, type Handlers } from '../app/contract.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Book } from '../books/book.ts'
import type { Assertion } from 'brittle'

/** startBcoin's api key (test/helpers/bcoin.ts): the rail authenticates like any client. */
const API_KEY = 'growr-test-' + process.pid

/** A TCP proxy in front of bcoin that can be switched off and on, on the same port. */
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

/** Services to close before the nodes: createNet's teardown, registered first at the same order, would close the nodes first. */
const opened: Services[] = []

async function node (t: Assertion, n: GrowrNode, url: string): Promise<{ h: Handlers, s: Services }> {
  const s = new Services(n, { bitcoin: { url, network: 'regtest', bech32: 'rb', username: 'x', password: API_KEY, pollMs: 150, timeoutMs: 2_000 } })
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

async function mine (chain: Bcoin, n: number): Promise<void> {
  await chain.rpc('generatetoaddress', [n, testKey(0).address])
}

test('bitcoin node - every kind paid from wallets and proven by the payees\' watchers; backend outage; hostile garbage', { timeout: 150_000 }, async (t) => {
  const chain = await startBcoin(t)
  await mine(chain, 450) // SegWit active, coinbases mature
  const gate = await proxy(t, Number(new URL(chain.url).port))

  const net4 = await createNet(t, 4)
  const [oNode, bNode, aNode, cNode] = net4.nodes
  const o = await node(t, oNode, gate.url) // the originator's backend can be cut
  const b = await node(t, bNode, chain.url)
  const ia = await node(t, aNode, chain.url)
  const ic = await node(t, cNode, chain.url)

  // wallets: investor A mines a coinbase; the others are paid from the miner's coinbases
  const rb = (s: Services, i = 0) => (s.bitcoin as NonNullable<Services['bitcoin']>).normalize((s.keys as NonNullable<Services['keys']>).bitcoin('regtest').receive(i).address)
  await chain.rpc('generatetoaddress', [1, rb(ia.s)])
  for (const [i, who] of [b, ic].entries()) {
    const cb = await coinbaseOf(chain, 10 + i)
    await broadcast(chain, signSpend(testKey(0), cb, [{ address: rb(who.s), amount: 100_000_000n }, { address: testKey(0).address, amount: cb.amount - 100_010_000n }]))
  }
  await mine(chain, 100)
  // the balance is read live while a sync pass runs; the backend's height is set when the pass ends
  await until(async () => (await ia.h['wallet.balance']({})).backend.height === 551 && BigInt((await ia.h['wallet.balance']({})).confirmed) > 0n && BigInt((await b.h['wallet.balance']({})).confirmed) === 100_000_000n && BigInt((await ic.h['wallet.balance']({})).confirmed) === 100_000_000n, 20_000, 'wallets funded')
  const bal = await ia.h['wallet.balance']({})
  t.is(bal.network, 'regtest')
  t.ok(bal.backend.reachable && bal.backend.height === 551 && !bal.backend.url.includes(API_KEY), `balance from the backend, no credentials shown: ${bal.confirmed} sats at ${bal.backend.height}`)

  // the book: a BTC project on regtest, 2 confirmations
  const { topic: book } = await o.h['book.create']({ name: 'Bitcoin node circle' })
  const btc = terms(Date.now(), { currency: 'BTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000 })
  const { id: project } = await o.h['project.create']({ book, terms: btc })
  await o.h['project.rail']({ book, project, network: 'regtest', confirmations: 2 })
  await o.h['project.transition']({ book, project, action: 'activate' })
  await b.h['invite.accept']({ code: (await o.h['invite.create']({ book, role: 'borrower' })).code })
  await ia.h['invite.accept']({ code: (await o.h['invite.create']({ book, role: 'investor' })).code })
  await ic.h['invite.accept']({ code: (await o.h['invite.create']({ book, role: 'investor' })).code })
  const books: Book[] = [oNode, bNode, aNode, cNode].map((n) => n.book(book))
  const everywhere = async (what: string, check: (bk: Book) => Promise<boolean>) => {
    for (const bk of books) await bk.until(async () => await check(bk), 30_000, what)
  }

  // funding: the originator posts, the investor pays, the originator's watcher proves
  const { id: fa } = await ia.h['funding.commit']({ book, project, amount: 3_000_000 })
  await o.h['wait']({ book, sub: 'fundings', id: fa })
  await rejectsCode(t, ia.h['payment.pay']({ book, kind: 'funding', ref: fa }), 'NOT_FOUND', 'no address posted yet: nothing is paid')
  const posted = await o.h['payment.address']({ book, kind: 'funding', ref: fa })
  await ia.h['wait']({ book, sub: 'fundings', id: fa })
  await aNode.book(book).until(async () => (await aNode.book(book).view.get('addresses', `funding/${fa}`)) !== null, 20_000, 'address replicated')
  await rejectsCode(t, o.h['payment.pay']({ book, kind: 'funding', ref: fa }), 'BAD_ARGUMENT', 'the originator does not pay an investor\'s funding')
  const paidA = await ia.h['payment.pay']({ book, kind: 'funding', ref: fa })
  t.is(paidA.amount, '3000000', 'the whole commitment, in sats')
  t.is((await ia.h['payment.pay']({ book, kind: 'funding', ref: fa })).txid, paidA.txid, 'paying again returns the same transaction: never twice')
  t.is((await ia.h['payment.tracked']({})).find((x) => x.txid === paidA.txid)?.status.state, 'mempool', 'tracked: in the mempool')
  await until(async () => (await o.h['status']({})).bitcoin?.watcher.pending.some((p) => p.txid === paidA.txid) === true, 10_000, 'the payee sees it coming')
  await mine(chain, 2)
  await everywhere('funding A confirmed', async (bk) => (await bk.view.get('fundings', fa))?.status === 'confirmed')
  const provenA = (await oNode.book(book).view.list('payments')).find((p) => p.kind === 'funding' && p.ref === fa)
  t.ok(provenA && provenA.status === 'confirmed' && provenA.payer === aNode.did && (provenA.proof as { txid: string }).txid === paidA.txid, `funding proven by the originator's watcher with tx ${paidA.txid} on all four peers; address ${posted.address}`)

  // hostile investor C: garbage proof and an address for a record not its own; the watcher does not care
  const { id: fc } = await ic.h['funding.commit']({ book, project, amount: 2_000_000 })
  await o.h['wait']({ book, sub: 'fundings', id: fc })
  const cBook = cNode.book(book)
  const [{ audit: g1 }] = await cBook.act([{ type: 'payment/prove', paymentId: cBook.newId(), kind: 'funding', ref: fc, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: { rawTx: 'ab'.repeat(60), txoutproof: '00'.repeat(100), headers: ['ff'] } }])
  const [{ audit: g2 }] = await cBook.act([{ type: 'payment/address', kind: 'funding', ref: fc, address: testKey(5).address }])
  t.ok(g1.status === 'rejected' && g2.status === 'rejected', `garbage refused by apply: ${g1.reason} / ${g2.reason}`)

  // the originator's backend goes down while investor C's funding confirms
  await o.h['payment.address']({ book, kind: 'funding', ref: fc })
  await cBook.until(async () => (await cBook.view.get('addresses', `funding/${fc}`)) !== null, 20_000, 'address replicated')
  await gate.down()
  const paidC = await ic.h['payment.pay']({ book, kind: 'funding', ref: fc })
  await mine(chain, 3)
  await until(async () => (await o.h['status']({})).bitcoin?.backend.reachable === false, 10_000, 'unreachable shown')
  const down = (await o.h['status']({})).bitcoin
  t.ok(down && !down.backend.reachable && /BACKEND_UNREACHABLE/.test(down.backend.error ?? '') && down.backend.url === gate.url, `status: unreachable, ${down?.backend.error}`)
  await rejectsCode(t, o.h['wallet.send']({ to: [{ address: testKey(6).address, amount: 10_000 }] }), 'BACKEND_UNREACHABLE', 'a payment with the backend down says so')
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.is((await oNode.book(book).view.get('fundings', fc))?.status, 'committed', 'nothing proven while the payee\'s backend is down')
  t.ok(g1.reason && !(down?.watcher.problems ?? []).some((p) => p.ref === fc && /refused/.test(p.state)), 'the hostile ops left the watcher nothing to do')
  await gate.up()
  await everywhere('funding C confirmed after the outage', async (bk) => (await bk.view.get('fundings', fc))?.status === 'confirmed')
  t.ok((await o.h['status']({})).bitcoin?.backend.reachable, `back: funding C proven from tx ${paidC.txid}`)

  // disbursement: the borrower posts, the originator pays from the funding it received, the borrower's watcher proves
  const { id: loan } = await b.h['loan.apply']({ book, project, amount: 4_000_000, months: 3, purpose: 'seed stock' })
  await o.h['wait']({ book, sub: 'loans', id: loan })
  await o.h['loan.decide']({ book, loan, action: 'approve' })
  await b.h['wait']({ book, sub: 'loans', id: loan, status: 'approved' })
  await b.h['payment.address']({ book, kind: 'disbursement', ref: loan })
  await oNode.book(book).until(async () => (await oNode.book(book).view.get('addresses', `disbursement/${loan}`)) !== null, 20_000, 'address replicated')
  const disb = await o.h['payment.pay']({ book, kind: 'disbursement', ref: loan })
  t.is(disb.amount, '3999000', 'principal less the fee')
  await mine(chain, 2)
  await everywhere('disbursed', async (bk) => (await bk.view.get('loans', loan))?.status === 'disbursed')
  t.pass(`disbursement ${disb.txid} proven by the borrower's watcher`)

  // repayments: the originator posts once, the borrower pays each instalment, the originator's watcher proves each
  await o.h['payment.address']({ book, kind: 'repayment', ref: loan })
  await bNode.book(book).until(async () => (await bNode.book(book).view.get('addresses', `repayment/${loan}`)) !== null, 20_000, 'address replicated')
  for (let n = 1; n <= 3; n++) {
    const r = await b.h['payment.pay']({ book, kind: 'repayment', ref: loan })
    await mine(chain, 2)
    await everywhere(`instalment ${n} repaid`, async (bk) => { const l = await bk.view.get('loans', loan); return l !== null && l.schedule[n - 1].principalPaid + l.schedule[n - 1].interestPaid === l.schedule[n - 1].total })
    t.pass(`instalment ${n}: ${r.amount} sats in ${r.txid}, proven`)
  }
  await everywhere('repaid', async (bk) => (await bk.view.get('loans', loan))?.status === 'repaid')

  // distribution: both investors post, ONE transaction pays both, each investor's watcher proves its own
  await ia.h['payment.address']({ book, kind: 'distribution', ref: fa })
  await ic.h['payment.address']({ book, kind: 'distribution', ref: fc })
  const oBook = oNode.book(book)
  await oBook.until(async () => (await oBook.view.get('addresses', `distribution/${fa}`)) !== null && (await oBook.view.get('addresses', `distribution/${fc}`)) !== null, 20_000, 'addresses replicated')
  const dist = await o.h['payment.pay']({ book, kind: 'distribution' })
  t.is(dist.outputs.length, 2, 'two investors paid')
  t.is(dist.skipped.length, 0)
  const tx = await chain.rpc<{ vout: Array<{ scriptPubKey: { address?: string, addresses?: string[] } }> }>('getrawtransaction', [dist.txid, true])
  const onChain = tx.vout.map((v) => v.scriptPubKey.address ?? v.scriptPubKey.addresses?.[0])
  for (const out of dist.outputs) t.ok(onChain.includes((o.s.bitcoin as NonNullable<Services['bitcoin']>).normalize(out.address)), `one output to ${out.address} in ${dist.txid}`)
  await mine(chain, 2)
  await everywhere('both distributions proven', async (bk) => {
    const fs = await Promise.all([fa, fc].map(async (id) => await bk.view.get('fundings', id)))
    return fs.every((f) => f !== null && f.entitled > 0 && f.distributed === f.entitled)
  })
  const dps = (await oBook.view.list('payments')).filter((p) => p.kind === 'distribution')
  t.ok(dps.length === 2 && dps.every((p) => (p.proof as { txid: string }).txid === dist.txid), 'two distribution payments, one transaction, each proven by its investor')
  const tracked = await o.h['payment.tracked']({})
  t.ok(tracked.every((x) => x.status.state === 'confirmed'), `the originator's transactions: ${tracked.map((x) => `${x.txid.slice(0, 8)} ${x.status.state}`).join(', ')}`)

  const viewHashes = async () => await Promise.all(books.map(async (bk) => { await bk.base.update(); return await bk.view.hash() }))
  await until(async () => { const hs = await viewHashes(); return hs.every((h) => h === hs[0]) }, 20_000, 'views converge').catch(() => {})
  const hashes = await viewHashes()
  t.ok(hashes.every((h) => h === hashes[0]), `all four peers hold the same view ${hashes[0]}`)
  for (const s of opened.splice(0)) await s.close() // the rails stop before their nodes close
})
