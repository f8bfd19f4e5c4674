/**
 * The Bitcoin rail in a book, over a real bcoin regtest chain and three peers on a testnet: the
 * payee posts a receiving address, the payer pays on chain and proves it; every peer checks the
 * proof inside apply and the funding, then the loan's disbursement, move on with nobody's word.
 * Hostile members: a proof replayed for a second payment, too few confirmations, an address posted
 * by someone other than the payee or reused, a proof against an address the transaction does not
 * pay, and a hand-recorded payment on a proven rail are all refused, with identical views.
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { accepted, converge } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { seen } from './helpers/lending.ts'
import { broadcast, startBcoin, testKey, signSpend, type Bcoin } from './helpers/bcoin.ts'
import type { Book } from '../books/book.ts'
import type { OpInput } from '../books/ops/types.ts'

interface Paid { rawTx: string; txoutproof: string; headers: string[] }

/** Pays `amount` sats to `address` from coinbase `n` and buries it under `depth` blocks. */
async function pay (node: Bcoin, n: number, address: string, amount: bigint, depth: number): Promise<Paid> {
  const miner = testKey(0)
  const block = await node.rpc<{ tx: Array<{ txid: string }> }>('getblock', [await node.rpc<string>('getblockhash', [n]), true, true])
  const rawTx = signSpend(miner, { txid: block.tx[0].txid, vout: 0, amount: 5_000_000_000n }, [{ address, amount }, { address: miner.address, amount: 5_000_000_000n - amount - 10_000n }])
  const txid = await broadcast(node, rawTx)
  const [blockHash] = await node.rpc<string[]>('generatetoaddress', [1, miner.address])
  const following = await node.rpc<string[]>('generatetoaddress', [depth - 1, miner.address])
  const headers: string[] = []
  for (const h of following) headers.push(await node.rpc<string>('getblockheader', [h, false]))
  return { rawTx, txoutproof: await node.rpc<string>('gettxoutproof', [[txid], blockHash]), headers }
}

async function rejected (t: { is: Function, ok: Function }, book: Book, input: OpInput, reason: RegExp, what: string) {
  const [{ audit }] = await book.act([input])
  t.is(audit.status, 'rejected', what)
  t.ok(reason.test(audit.reason ?? ''), `${what}: ${audit.reason}`)
}

test('bitcoin rail - fundings and disbursements proven on a regtest chain, checked by every peer', { timeout: 180_000 }, async (t) => {
  const chain = await startBcoin(t)
  await chain.rpc('generatetoaddress', [450, testKey(0).address]) // SegWit active, coinbases mature

  const net = await createNet(t, 3)
  const [origNode, borrowerNode, investorNode] = net.nodes
  const orig = await origNode.createBook('Bitcoin circle')
  const projectId = orig.newId()
  const btc = terms(Date.now(), { currency: 'BTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000 })
  await accepted(t, orig, [
    { type: 'project/create', projectId, terms: btc },
    { type: 'project/rail', projectId, rail: 'bitcoin', network: 'regtest', confirmations: 6 },
    { type: 'project/activate', projectId }
  ])
  await rejected(t, orig, { type: 'project/rail', projectId, rail: 'bitcoin', network: 'mainnet', confirmations: 1 }, /only while draft/, 'the rail of an active project cannot change')
  const [borrower, investor] = await Promise.all([
    borrowerNode.acceptInvite((await origNode.createInvite(orig.topic, 'borrower')).code),
    investorNode.acceptInvite((await origNode.createInvite(orig.topic, 'investor')).code)
  ])
  const books = [orig, borrower, investor]
  await Promise.all([borrower, investor].map((b) => b.until(async () => b.writable && (await b.view.get('projects', projectId))?.status === 'active', 20_000, 'ready')))

  // the investor commits; the originator posts where it wants the funding
  const fundingId = investor.newId()
  await accepted(t, investor, [{ type: 'funding/commit', fundingId, projectId, amount: 2_000_000, currency: 'BTC' }])
  await seen(orig, 'fundings', fundingId)
  const fundAddr = testKey(1).address
  await rejected(t, investor, { type: 'payment/address', kind: 'funding', ref: fundingId, address: testKey(9).address }, /only the payee/, 'the payer cannot post the payee\'s address')
  await accepted(t, orig, [{ type: 'payment/address', kind: 'funding', ref: fundingId, address: fundAddr }])
  await rejected(t, orig, { type: 'payment/address', kind: 'funding', ref: fundingId, address: testKey(2).address }, /never changes/, 'a posted address cannot be swapped')
  await rejected(t, investor, { type: 'payment/record', paymentId: investor.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'manual', reference: 'trust me' }, /prove them/, 'no hand-recorded payment on a proven rail')

  await seen(investor, 'fundings', fundingId)
  await investor.until(async () => (await investor.view.get('addresses', `funding/${fundingId}`)) !== null, 20_000, 'address replicated')
  const paid = await pay(chain, 1, fundAddr, 2_000_000n, 6)
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: { ...paid, headers: paid.headers.slice(0, 4) } }, /confirmation/, 'five confirmations where the book wants six')
  const fundPay = investor.newId()
  await accepted(t, investor, [{ type: 'payment/prove', paymentId: fundPay, kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: paid }])
  for (const b of books) await b.until(async () => (await b.view.get('fundings', fundingId))?.status === 'confirmed', 20_000, 'funding confirmed')
  t.pass('the funding is confirmed on every peer by its proof alone')
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: paid }, /already proves payment/, 'one txid:vout backs one payment only')

  // the same output cannot pay a second commitment
  const second = investor.newId()
  await accepted(t, investor, [{ type: 'funding/commit', fundingId: second, projectId, amount: 2_000_000, currency: 'BTC' }])
  await seen(orig, 'fundings', second)
  await rejected(t, orig, { type: 'payment/address', kind: 'funding', ref: second, address: fundAddr }, /never reused/, 'an address is never given to a second payment')
  await accepted(t, orig, [{ type: 'payment/address', kind: 'funding', ref: second, address: testKey(3).address }])
  await investor.until(async () => (await investor.view.get('addresses', `funding/${second}`)) !== null, 20_000, 'address replicated')
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: second, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: paid }, /pay|address/, 'a proof of a payment to another address')

  // a loan disbursed on chain to the address the borrower posted
  const loanId = borrower.newId()
  await accepted(t, borrower, [{ type: 'loan/apply', loanId, projectId, amount: 1_000_000, currency: 'BTC', months: 6, purpose: 'seed stock' }])
  await seen(orig, 'loans', loanId)
  await accepted(t, orig, [{ type: 'loan/approve', loanId }])
  await seen(borrower, 'loans', loanId, 'approved')
  await accepted(t, borrower, [{ type: 'payment/address', kind: 'disbursement', ref: loanId, address: testKey(4).address }])
  await orig.until(async () => (await orig.view.get('addresses', `disbursement/${loanId}`)) !== null, 20_000, 'address replicated')
  const disbursed = await pay(chain, 2, testKey(4).address, 999_000n, 6)
  await accepted(t, orig, [{ type: 'payment/prove', paymentId: orig.newId(), kind: 'disbursement', ref: loanId, amount: 999_000, currency: 'BTC', rail: 'bitcoin', proof: disbursed }])
  await borrower.until(async () => (await borrower.view.get('loans', loanId))?.status === 'disbursed', 20_000, 'disbursed')
  t.pass('the loan is disbursed on the borrower\'s node by the originator\'s proof, without her confirmation')
  await rejected(t, orig, { type: 'payment/prove', paymentId: orig.newId(), kind: 'funding', ref: second, amount: 999_000, currency: 'BTC', rail: 'bitcoin', proof: disbursed }, /address|pay/, 'the disbursement\'s proof cannot pay a funding too')

  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
})
