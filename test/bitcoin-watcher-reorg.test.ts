/**
 * The payee's watcher across a reorganisation, on a real bcoin regtest chain and two nodes: a
 * funding proven by the originator's watcher loses its block (bcoin `invalidateblock`, then a
 * longer branch without the transaction); the watcher notices the proven block is gone, builds
 * the heavier branch and appends payment/reorg on its own, so the funding is uncounted on both
 * peers; the same transaction mined again is proven again, by the watcher, with no hand proof.
 * Also: one transaction paying two records of the same payee (two distribution-like outputs to
 * one node) proves both, each by its own output.
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { broadcast, startBcoin, testKey } from './helpers/bcoin.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers, type Handlers } from '../app/contract.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Assertion } from 'brittle'

const API_KEY = 'growr-test-' + process.pid

/** Services to close before the nodes: createNet's teardown, registered first at the same order, would close the nodes first. */
const opened: Services[] = []

async function node (t: Assertion, n: GrowrNode, url: string): Promise<{ h: Handlers, s: Services }> {
  const s = new Services(n, { bitcoin: { url, network: 'regtest', bech32: 'rb', username: 'x', password: API_KEY, pollMs: 150, timeoutMs: 2_000 } })
  await s.ready()
  opened.push(s)
  t.teardown(() => s.close(), { order: -Infinity })
  return { h: createHandlers(n, s), s }
}

test('bitcoin watcher - a proven funding reorganised out by the payee\'s own node, then proven again', { timeout: 120_000 }, async (t) => {
  const chain = await startBcoin(t)
  await chain.rpc('generatetoaddress', [450, testKey(0).address])
  const net = await createNet(t, 2)
  const [oNode, iNode] = net.nodes
  const o = await node(t, oNode, chain.url)
  const inv = await node(t, iNode, chain.url)
  const rail = inv.s.bitcoin as NonNullable<Services['bitcoin']>
  await chain.rpc('generatetoaddress', [2, rail.normalize((inv.s.keys as NonNullable<Services['keys']>).bitcoin('regtest').receive(0).address)])
  await chain.rpc('generatetoaddress', [100, testKey(0).address])
  const events: string[] = []
  // the payee's node and the payer's both watch a proven payment: either may reorganise it out first
  for (const s of [o.s, inv.s]) (s.bitcoin as NonNullable<Services['bitcoin']>).on('watcher', (e: { type: string }) => events.push(e.type))

  const { topic: book } = await o.h['book.create']({ name: 'Reorg circle' })
  const { id: project } = await o.h['project.create']({ book, terms: terms(Date.now(), { currency: 'BTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000 }) })
  await o.h['project.rail']({ book, project, network: 'regtest', confirmations: 2 })
  await o.h['project.transition']({ book, project, action: 'activate' })
  await inv.h['invite.accept']({ code: (await o.h['invite.create']({ book, role: 'investor' })).code })
  const oBook = oNode.book(book)
  const iBook = iNode.book(book)
  await rail.sync()
  t.ok(BigInt(rail.balance().confirmed) >= 2n * 625_000_000n, `the investor's wallet: ${rail.balance().confirmed} sats`)

  const { id: funding } = await inv.h['funding.commit']({ book, project, amount: 2_000_000 })
  await o.h['wait']({ book, sub: 'fundings', id: funding })
  await o.h['payment.address']({ book, kind: 'funding', ref: funding })
  await iBook.until(async () => (await iBook.view.get('addresses', `funding/${funding}`)) !== null, 20_000, 'address replicated')
  const paid = await inv.h['payment.pay']({ book, kind: 'funding', ref: funding })
  await oBook.until(async () => events.includes('payment-seen'), 10_000, 'the payee sees it in the mempool')
  const rawTx = await chain.rpc<string>('getrawtransaction', [paid.txid])
  await chain.rpc('generatetoaddress', [2, testKey(0).address])
  for (const b of [oBook, iBook]) await b.until(async () => (await b.view.get('fundings', funding))?.status === 'confirmed', 30_000, 'funding proven')
  const first = (await oBook.view.list('payments')).find((p) => p.kind === 'funding' && p.ref === funding)!
  const block = (first.proof as { blockHash: string }).blockHash
  t.ok(events.includes('payment-seen') && events.includes('payment-proven'), `events: ${[...new Set(events)].join(', ')}`)

  // the block holding the payment is invalidated; a longer branch without it is mined
  await chain.rpc('invalidateblock', [block])
  await chain.rpc('generatetoaddress', [4, testKey(0).address])
  const tx = await chain.rpc<{ blockhash?: string | null }>('getrawtransaction', [paid.txid, true]).catch(() => null)
  t.ok(tx === null || !tx.blockhash, 'the branch does not hold the transaction')
  for (const b of [oBook, iBook]) await b.until(async () => (await b.view.get('payments', first.paymentId))?.status === 'reorged', 30_000, 'reorged')
  t.is((await iBook.view.get('fundings', funding))?.status, 'committed', 'the funding is uncounted on the investor\'s peer too')
  t.ok(events.includes('payment-reorged'), 'a watcher appended payment/reorg by itself: nobody called payment.reorg')

  // mined again: proven again, from the new chain
  await broadcast(chain, rawTx)
  await chain.rpc('generatetoaddress', [2, testKey(0).address])
  for (const b of [oBook, iBook]) await b.until(async () => (await b.view.get('fundings', funding))?.status === 'confirmed', 30_000, 'proven again')
  const again = (await oBook.view.list('payments')).filter((p) => p.kind === 'funding' && p.ref === funding && p.status === 'confirmed')
  t.ok(again.length === 1 && (again[0].proof as { blockHash: string }).blockHash !== block, 'one counted payment, in the new chain\'s block')

  // one transaction, two records of the same payee: each output proves its own
  const f2 = (await inv.h['funding.commit']({ book, project, amount: 300_000 })).id
  const f3 = (await inv.h['funding.commit']({ book, project, amount: 400_000 })).id
  await o.h['wait']({ book, sub: 'fundings', id: f3 })
  const a2 = await o.h['payment.address']({ book, kind: 'funding', ref: f2 })
  const a3 = await o.h['payment.address']({ book, kind: 'funding', ref: f3 })
  await iBook.until(async () => (await iBook.view.get('addresses', `funding/${f3}`)) !== null, 20_000, 'addresses replicated')
  const both = await inv.h['wallet.send']({ to: [{ address: a2.address, amount: 300_000 }, { address: a3.address, amount: '400000' }] })
  await chain.rpc('generatetoaddress', [2, testKey(0).address])
  for (const id of [f2, f3]) await oBook.until(async () => (await oBook.view.get('fundings', id))?.status === 'confirmed', 30_000, `funding ${id} proven`)
  const proofs = (await oBook.view.list('payments')).filter((p) => p.ref === f2 || p.ref === f3)
  t.ok(proofs.length === 2 && proofs.every((p) => (p.proof as { txid: string }).txid === both.txid), `both fundings proven from the one transaction ${both.txid}`)
  t.alike((o.s.bitcoin as NonNullable<Services['bitcoin']>).status().watcher.problems, [], 'no problems reported')
  for (const s of opened.splice(0)) await s.close() // the rails stop before their nodes close
})
