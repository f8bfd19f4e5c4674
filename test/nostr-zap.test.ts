/**
 * NIP-57 zaps as funding commitments (issue 12), in a real book over two peers on a testnet: the
 * originator names its listing's zap settings, and hands in zap receipts built from real signed
 * events (zapper, LNURL server) and real signed BOLT 11 invoices. Valid receipts make one funding
 * each (confirmed by a preimage, or waiting for the originator's payment/confirm); hostile ones
 * (replayed, altered, another listing, wrong amount, another server, wrong preimage, signed by a
 * member who is not the originator) are refused with reasons, and both peers hold the same view.
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { accepted, converge } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { seen } from './helpers/lending.ts'
import { makeZap, resign, secretKey, zapWorld, zapInvoice, lnurlOf } from './bare/zaps.ts'
import { checkZapReceipt, zapOp, type ZapExpectation } from '../core/nostr/zap.ts'
import { zapIds } from '../books/funding/zap-handlers.ts'
import type { Book } from '../books/book.ts'
import type { OpInput } from '../books/ops/types.ts'
import type { Funding, Payment, Project } from '../books/entities.ts'

async function rejected (t: { is: Function, ok: Function }, book: Book, input: OpInput, reason: RegExp, what: string) {
  const [{ audit }] = await book.act([input])
  t.is(audit.status, 'rejected', what)
  t.ok(reason.test(audit.reason ?? ''), `${what}: ${audit.reason}`)
}

test('nostr zap - receipts for a listing become funding commitments; hostile ones are refused on every peer', { timeout: 120_000 }, async (t) => {
  const w = zapWorld()
  const net = await createNet(t, 2)
  const [origNode, investorNode] = net.nodes
  const orig = await origNode.createBook('Zapped circle')
  const projectId = orig.newId()
  const eurProject = orig.newId()
  await accepted(t, orig, [
    { type: 'project/create', projectId, terms: terms(Date.now(), { currency: 'BTC', amount: 100_000, loanMinAmount: 10_000, loanMaxAmount: 50_000, disbursementFee: 100 }) },
    { type: 'project/rail', projectId, rail: 'lightning', network: 'regtest' },
    { type: 'project/create', projectId: eurProject, terms: terms(Date.now()) }
  ])
  const settings = { lud16: w.lud16, serverPubkey: w.server.pk, listing: w.listing, recipient: w.recipient }
  await rejected(t, orig, { type: 'project/zap', projectId: eurProject, ...settings, listing: w.listing + '-eur' }, /zaps are paid in sats/, 'a EUR project takes no zaps')
  await accepted(t, orig, [{ type: 'project/zap', projectId, ...settings }, { type: 'project/activate', projectId }])
  const investor = await investorNode.acceptInvite((await origNode.createInvite(orig.topic, 'investor')).code)
  await investor.until(async () => investor.writable && (await investor.view.get('projects', projectId))?.status === 'active', 20_000, 'ready')
  const books = [orig, investor]
  const originator = (await orig.view.meta())?.originator as string

  await rejected(t, investor, { type: 'project/zap', projectId, ...settings, serverPubkey: w.zapper.pk }, /an investor may not project\/zap/, 'only the originator names zap settings')

  // a valid receipt, no preimage: the LNURL server's attestation, waiting for the originator
  const first = makeZap(w, { amountMsat: 21_000_000n })
  await rejected(t, investor, zapOp(first.receipt), /an investor may not funding\/zap/, 'a member who is not the originator hands in a receipt')
  await accepted(t, orig, [zapOp(first.receipt)])
  const ids1 = zapIds(originator, first.receipt.id)
  const f1 = await orig.view.get('fundings', ids1.fundingId) as Funding
  t.is(f1.status, 'committed', 'the funding waits for its payment to be confirmed')
  t.is(f1.investor, null, 'the zapper is no member: no investor DID')
  t.is(f1.zap?.zapper, w.zapper.pk, 'the funding names the zapper by its Nostr pubkey')
  t.is(f1.amount, 21_000, 'the zap counts 21 000 sats')
  const p1 = await orig.view.get('payments', ids1.paymentId) as Payment
  t.is(p1.status, 'recorded', 'without a preimage the payment waits for the originator')
  t.is((p1.proof as { preimage: boolean }).preimage, false)
  t.is((await orig.view.get('projects', projectId) as Project).confirmedFunding, 0, 'it does not count yet')
  await accepted(t, orig, [{ type: 'payment/confirm', paymentId: ids1.paymentId }])
  t.is((await orig.view.get('fundings', ids1.fundingId) as Funding).status, 'confirmed', 'the originator\'s confirmation makes it count')

  // a valid receipt with the preimage: confirmed by the op; whole sats counted, exact msat kept
  const second = makeZap(w, { amountMsat: 5_000_999n })
  await rejected(t, orig, zapOp(second.receipt, 'ab'.repeat(32)), /preimage does not hash/, 'a wrong preimage')
  await accepted(t, orig, [zapOp(second.receipt, second.preimage)])
  const ids2 = zapIds(originator, second.receipt.id)
  const f2 = await orig.view.get('fundings', ids2.fundingId) as Funding
  t.is(f2.status, 'confirmed', 'a preimage confirms the zap at once')
  t.is(f2.amount, 5_000, 'msat beyond whole sats are floored')
  t.is(f2.zap?.amountMsat, '5000999', 'the exact msat stay in the record')
  t.is((await orig.view.get('projects', projectId) as Project).confirmedFunding, 26_000, 'both zaps count')

  // replays: the same receipt, and the same invoice under a new receipt
  await rejected(t, orig, zapOp(first.receipt), /already counted/, 'the same receipt again')
  const again = resign(second.receipt, w.server.sk, (e) => { e.created_at += 1 })
  await rejected(t, orig, zapOp(again), /invoice .* already counts/, 'the same invoice under a new receipt')

  // the zap request altered after the invoice committed to it (re-signed by the zapper, receipt re-signed by the server)
  const honest = makeZap(w)
  const altered = resign(honest.request, w.zapper.sk, (e) => { e.content = 'altered' })
  const receiptAltered = resign(honest.receipt, w.server.sk, (e) => { e.tags = e.tags.map((tag) => tag[0] === 'description' ? ['description', JSON.stringify(altered)] : tag) })
  await rejected(t, orig, zapOp(receiptAltered), /zap request was altered/, 'a receipt whose zap request was altered')

  // another listing: not one of this book's, and one whose receipt claims ours while the request names another
  await rejected(t, orig, zapOp(makeZap(w, { listing: `30402:${w.recipient}:another` }).receipt), /no project of this book takes zaps for listing/, 'a receipt for another listing')
  await rejected(t, orig, zapOp(makeZap(w, { listing: `30402:${w.recipient}:another`, receiptListing: w.listing }).receipt), /not for this project's listing/, 'a receipt whose request is for another listing')

  await rejected(t, orig, zapOp(makeZap(w, { amountMsat: 21_000_000n, invoiceMsat: 20_000_000n }).receipt), /asks 21000000 msat, but the invoice is for 20000000 msat/, 'an amount that does not match the bolt11')
  await rejected(t, orig, zapOp(makeZap(w, { serverSk: secretKey('zap-world', 'another server') }).receipt), /not by the LNURL server's key/, 'a receipt signed by another server key')
  const forged = { ...zapOp(makeZap(w).receipt) }
  forged.receipt = { ...forged.receipt, content: 'changed after signing' }
  await rejected(t, orig, forged, /id or signature does not hold/, 'a receipt changed after the server signed it')
  await rejected(t, orig, zapOp(makeZap(w, { amountMsat: 999n }).receipt), /less than one sat/, 'a zap under one sat')
  await rejected(t, orig, zapOp(makeZap(w, { amountMsat: 80_000_000n }).receipt), /exceeds the .* still open/, 'a zap beyond what the project still needs')

  // every peer applied the same ops to the same view
  await seen(investor, 'fundings', ids2.fundingId, 'confirmed')
  t.is((await investor.view.get('fundings', ids1.fundingId) as Funding).status, 'confirmed', 'the investor\'s peer sees the zap fundings')
  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'both peers hold the same view')
  const audits = await Promise.all(books.map((b) => b.view.list('audit')))
  t.alike(audits[1].map((a) => a.reason), audits[0].map((a) => a.reason), 'with the same reasons')
})

test('nostr zap - the pure check refuses what apply cannot reach', async (t) => {
  const w = zapWorld()
  const expect = (o: Partial<ZapExpectation> = {}): ZapExpectation => ({ serverPubkey: w.server.pk, recipient: w.recipient, listing: w.listing, lud16: w.lud16, network: 'regtest', receivedAt: Date.now(), ...o })
  const ok = makeZap(w)
  const good = checkZapReceipt(ok.receipt, expect())
  t.ok(good.ok, 'an honest zap holds')
  if (good.ok) t.is(good.zap.amountMsat, 21_000_000n)
  const reason = (receipt: unknown, e = expect()) => { const r = checkZapReceipt(receipt, e); return r.ok ? 'held' : r.reason }

  t.ok(/lnurl does not encode/.test(reason(makeZap(w, { lnurl: lnurlOf('other@elsewhere.example') }).receipt)), 'a zap request for another LNURL endpoint')
  t.ok(/goes to .* not to the project's recipient/.test(reason(makeZap(w, { recipient: w.zapper.pk }).receipt)), 'a zap for another recipient')
  t.ok(/P tag is not the zapper/.test(reason(resign(ok.receipt, w.server.sk, (e) => { e.tags = e.tags.map((x) => x[0] === 'P' ? ['P', w.recipient] : x) }))), 'a receipt naming another sender')
  t.ok(/more than one p tag/.test(reason(resign(ok.receipt, w.server.sk, (e) => { e.tags.push(['p', w.zapper.pk]) }))), 'a receipt with two recipients')
  t.ok(/preimage tag does not hash/.test(reason(makeZap(w, { receiptTags: [['preimage', 'cd'.repeat(32)]] }).receipt)), 'a receipt whose preimage tag is wrong')
  t.ok(/invoice is for regtest, but the project is paid on mainnet/.test(reason(ok.receipt, expect({ network: 'mainnet' }))), 'an invoice on another network')
  t.ok(/after the op/.test(reason(ok.receipt, expect({ receivedAt: Date.now() - 3600_000 }))), 'a receipt dated after the op that hands it in')
  const old = Math.floor(Date.now() / 1000) - 7200
  const late = makeZap(w, { now: old })
  const lateReceipt = resign(late.receipt, w.server.sk, (e) => { e.created_at = old + 3 * 3600 })
  t.ok(/after its invoice expired/.test(reason(lateReceipt)), 'a receipt dated after its invoice expired')
  t.ok(/not a zap receipt/.test(reason({ ...ok.receipt, kind: 1 })), 'another kind')
  t.ok(/not a Nostr event/.test(reason({ id: 'x' })), 'not an event')
  t.ok(/not a Nostr event/.test(reason(null)), 'null')
  const other = zapInvoice(w, { msat: 21_000_000n, paymentHash: ok.paymentHash, description: 'not the zap request', now: Math.floor(Date.now() / 1000) })
  t.ok(/zap request was altered/.test(reason(resign(ok.receipt, w.server.sk, (e) => { e.tags = e.tags.map((x) => x[0] === 'bolt11' ? ['bolt11', other] : x) }))), 'an invoice committing to another description')
})
