/**
 * Reorganisations on the Bitcoin rail, over a real bcoin regtest chain and three peers: a funding
 * proven on one branch, then a heavier branch without its block. Any member submits the branch
 * (payment/reorg); every peer checks it inside apply and uncounts the payment the same way. The
 * transaction, mined again on the new chain, proves the funding again; the old proof does not.
 * Hostile members: a branch no heavier, one that holds the proven block, one that does not fork
 * from the proven chain, one whose headers do not link, a reorg of a payment that does not exist,
 * and a proof by someone who is neither payer nor payee.
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { accepted, converge } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { seen } from './helpers/lending.ts'
import { bcoinInstalled, broadcast, startBcoin, testKey, signSpend, type Bcoin } from './helpers/bcoin.ts'
import { unapplyRepayment, applyRepayment } from '../books/loan/machine.ts'
import type { Book } from '../books/book.ts'
import type { Loan } from '../books/entities.ts'
import type { OpInput } from '../books/ops/types.ts'

async function header (node: Bcoin, hash: string): Promise<string> {
  return await node.rpc<string>('getblockheader', [hash, false])
}

/** Mines `n` blocks and returns their raw headers. */
async function mine (node: Bcoin, n: number): Promise<{ hashes: string[], headers: string[] }> {
  const hashes = await node.rpc<string[]>('generatetoaddress', [n, testKey(0).address])
  const headers: string[] = []
  for (const h of hashes) headers.push(await header(node, h))
  return { hashes, headers }
}

/** Mines the transaction into the next block, buries it under depth - 1 more, and returns its proof. */
async function proveMined (node: Bcoin, txid: string, depth: number) {
  const { hashes } = await mine(node, depth)
  const block = await node.rpc<{ tx: Array<{ txid: string }> }>('getblock', [hashes[0], true, true])
  if (!block.tx.some((x) => x.txid === txid)) throw new Error('the transaction was not mined in the next block')
  const rawTx = await node.rpc<string>('getrawtransaction', [txid])
  const headers: string[] = []
  for (const h of hashes.slice(1)) headers.push(await header(node, h))
  return { proof: { rawTx, txoutproof: await node.rpc<string>('gettxoutproof', [[txid], hashes[0]]), headers }, hashes }
}

async function rejected (t: { is: Function, ok: Function }, book: Book, input: OpInput, reason: RegExp, what: string) {
  const [{ audit }] = await book.act([input])
  t.is(audit.status, 'rejected', what)
  t.ok(reason.test(audit.reason ?? ''), `${what}: ${audit.reason}`)
}

test('bitcoin reorg - a heavier branch without the proven block uncounts the funding on every peer; mined again, it is proven again', { timeout: 180_000, skip: !bcoinInstalled() }, async (t) => {
  const chain = await startBcoin(t)
  await chain.rpc('generatetoaddress', [450, testKey(0).address])

  const net = await createNet(t, 3)
  const [origNode, borrowerNode, investorNode] = net.nodes
  const orig = await origNode.createBook('Reorg circle')
  const projectId = orig.newId()
  await accepted(t, orig, [
    { type: 'project/create', projectId, terms: terms(Date.now(), { currency: 'BTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000 }) },
    { type: 'project/rail', projectId, rail: 'bitcoin', network: 'regtest', confirmations: 3 },
    { type: 'project/activate', projectId }
  ])
  const [borrower, investor] = await Promise.all([
    borrowerNode.acceptInvite((await origNode.createInvite(orig.topic, 'borrower')).code),
    investorNode.acceptInvite((await origNode.createInvite(orig.topic, 'investor')).code)
  ])
  const books = [orig, borrower, investor]
  await Promise.all([borrower, investor].map((b) => b.until(async () => b.writable && (await b.view.get('projects', projectId))?.status === 'active', 20_000, 'ready')))

  const fundingId = investor.newId()
  await accepted(t, investor, [{ type: 'funding/commit', fundingId, projectId, amount: 2_000_000, currency: 'BTC' }])
  await seen(orig, 'fundings', fundingId)
  const fundAddr = testKey(1).address
  await accepted(t, orig, [{ type: 'payment/address', kind: 'funding', ref: fundingId, address: fundAddr }])
  await seen(borrower, 'fundings', fundingId)
  await borrower.until(async () => (await borrower.view.get('addresses', `funding/${fundingId}`)) !== null, 20_000, 'address replicated')

  // the investor pays; block B1 holds it, B2 and B3 bury it
  const miner = testKey(0)
  const coinbase = await chain.rpc<{ tx: Array<{ txid: string }> }>('getblock', [await chain.rpc<string>('getblockhash', [1]), true, true])
  const rawTx = signSpend(miner, { txid: coinbase.tx[0].txid, vout: 0, amount: 5_000_000_000n }, [{ address: fundAddr, amount: 2_000_000n }, { address: miner.address, amount: 5_000_000_000n - 2_000_000n - 10_000n }])
  const txid = await broadcast(chain, rawTx)
  const old = await proveMined(chain, txid, 3)

  await rejected(t, borrower, { type: 'payment/prove', paymentId: borrower.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: old.proof }, /only the payer or the payee/, 'a member who neither pays nor is paid cannot prove a payment')
  // the payee's node proves it: the payment is the investor's all the same
  const paymentId = orig.newId()
  await accepted(t, orig, [{ type: 'payment/prove', paymentId, kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: old.proof }])
  for (const b of books) await b.until(async () => (await b.view.get('fundings', fundingId))?.status === 'confirmed', 20_000, 'funding confirmed')
  const proven = await investor.view.get('payments', paymentId)
  t.is(proven?.payer, investor.signerDid, 'proven by the payee, the payment is the investor\'s')
  t.is((await investor.view.get('projects', projectId))?.confirmedFunding, 2_000_000, 'the funding counts')

  // a reorganisation: B1 is invalidated, the chain falls back to B0, and four blocks without the transaction are mined
  t.absent((await chain.rpc<string[]>('getrawmempool')).length, 'nothing else waits in the mempool')
  const oldHeaders = [await header(chain, old.hashes[0]), ...old.proof.headers]
  await chain.rpc('invalidateblock', [old.hashes[0]])
  const mempool = await chain.rpc<string[]>('getrawmempool')
  t.absent(mempool.includes(txid), 'bcoin did not put the transaction back into its (empty) mempool: the new branch cannot hold it')
  const branch = await mine(chain, 4)
  for (const h of branch.hashes) {
    const b = await chain.rpc<{ tx: Array<{ txid: string }> }>('getblock', [h, true, true])
    if (b.tx.some((x) => x.txid === txid)) t.fail('the branch holds the transaction')
  }

  // hostile or mistaken branches, refused with reasons
  await rejected(t, borrower, { type: 'payment/reorg', paymentId, ancestors: [], branch: branch.headers.slice(0, 3) }, /not more than/, 'a branch of equal work does not replace the chain seen first')
  await rejected(t, borrower, { type: 'payment/reorg', paymentId, ancestors: [], branch: oldHeaders }, /contains the proven block/, 'the proven chain itself is no conflicting branch')
  await rejected(t, borrower, { type: 'payment/reorg', paymentId, ancestors: [], branch: branch.headers.slice(1) }, /does not fork from the proven chain/, 'a branch that does not start at the proven block\'s parent')
  await rejected(t, borrower, { type: 'payment/reorg', paymentId, ancestors: [], branch: [branch.headers[0], branch.headers[2], branch.headers[3], branch.headers[1]] }, /does not link/, 'headers that do not link')
  await rejected(t, borrower, { type: 'payment/reorg', paymentId, ancestors: [branch.headers[0]], branch: branch.headers }, /do not lead to the proven block/, 'ancestors that are not the proven chain\'s')
  await rejected(t, borrower, { type: 'payment/reorg', paymentId: borrower.newId(), ancestors: [], branch: branch.headers }, /no payment/, 'a payment that does not exist')

  // the heavier branch, submitted by the borrower: any member may
  await accepted(t, borrower, [{ type: 'payment/reorg', paymentId, ancestors: [], branch: branch.headers }])
  for (const b of books) {
    await b.until(async () => (await b.view.get('payments', paymentId))?.status === 'reorged', 20_000, 'reorged everywhere')
    const f = await b.view.get('fundings', fundingId)
    t.is(f?.status, 'committed', 'the funding is committed again, unpaid')
    t.is(f?.paymentId, null, 'and no payment is reserved on it')
    const project = await b.view.get('projects', projectId)
    t.is(project?.confirmedFunding, 0, 'the project counts no confirmed funding')
    t.absent(project?.fundingIds.includes(fundingId), 'and shares no repayment with it')
  }
  await rejected(t, borrower, { type: 'payment/reorg', paymentId, ancestors: [], branch: branch.headers }, /reorged, not a counted payment/, 'a payment is reorganised out once')
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: old.proof }, /reorganised out/, 'the proof from the orphaned block is refused')

  // the investor broadcasts the same transaction again; mined on the new chain, it proves the funding again
  await broadcast(chain, rawTx)
  const again = await proveMined(chain, txid, 3)
  const reproved = investor.newId()
  await accepted(t, investor, [{ type: 'payment/prove', paymentId: reproved, kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: again.proof }])
  for (const b of books) await b.until(async () => (await b.view.get('fundings', fundingId))?.paymentId === reproved, 20_000, 'confirmed again')
  t.is((await orig.view.get('projects', projectId))?.confirmedFunding, 2_000_000, 'the funding counts once more, once')

  // a deeper reorganisation: the branch forks below the new block's parent, so the submitter adds the ancestors
  const parent = (await chain.rpc<{ previousblockhash: string }>('getblockheader', [again.hashes[0], true])).previousblockhash
  const grand = (await chain.rpc<{ previousblockhash: string }>('getblockheader', [parent, true])).previousblockhash
  const ancestors = [await header(chain, parent)]
  await chain.rpc('invalidateblock', [parent])
  t.is(await chain.rpc<string>('getbestblockhash'), grand, 'the chain fell back below the block\'s parent')
  const deeper = await mine(chain, 5)
  await rejected(t, orig, { type: 'payment/reorg', paymentId: reproved, ancestors: [], branch: deeper.headers }, /does not fork/, 'without the ancestors the branch does not meet the proven chain')
  await rejected(t, orig, { type: 'payment/reorg', paymentId: reproved, ancestors, branch: deeper.headers.slice(0, 4) }, /not more than/, 'four blocks against the parent and the three of the proof')
  await accepted(t, orig, [{ type: 'payment/reorg', paymentId: reproved, ancestors, branch: deeper.headers }])
  for (const b of books) await b.until(async () => (await b.view.get('payments', reproved))?.status === 'reorged', 20_000, 'reorged again')

  // the least work a proof's headers carry: required on mainnet, where a header need only meet the target it names
  const strict = orig.newId()
  await accepted(t, orig, [{ type: 'project/create', projectId: strict, terms: terms(Date.now(), { currency: 'BTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000 }) }])
  await rejected(t, orig, { type: 'project/rail', projectId: strict, rail: 'bitcoin', network: 'mainnet', confirmations: 6 }, /needs minWork/, 'a mainnet rail without the least work its proofs carry')
  // a regtest header carries work 2 (2^256 / (powLimit + 1)): three headers carry 6
  await accepted(t, orig, [{ type: 'project/rail', projectId: strict, rail: 'bitcoin', network: 'regtest', confirmations: 3, minWork: '7' }, { type: 'project/activate', projectId: strict }])
  await investor.until(async () => (await investor.view.get('projects', strict))?.status === 'active', 20_000, 'strict project seen')
  const strictFunding = investor.newId()
  await accepted(t, investor, [{ type: 'funding/commit', fundingId: strictFunding, projectId: strict, amount: 1_000_000, currency: 'BTC' }])
  await seen(orig, 'fundings', strictFunding)
  await accepted(t, orig, [{ type: 'payment/address', kind: 'funding', ref: strictFunding, address: testKey(5).address }])
  const coinbase2 = await chain.rpc<{ tx: Array<{ txid: string }> }>('getblock', [await chain.rpc<string>('getblockhash', [2]), true, true])
  const strictTx = await broadcast(chain, signSpend(miner, { txid: coinbase2.tx[0].txid, vout: 0, amount: 5_000_000_000n }, [{ address: testKey(5).address, amount: 1_000_000n }, { address: miner.address, amount: 5_000_000_000n - 1_000_000n - 10_000n }]))
  const light = await proveMined(chain, strictTx, 3)
  await rejected(t, orig, { type: 'payment/prove', paymentId: orig.newId(), kind: 'funding', ref: strictFunding, amount: 1_000_000, currency: 'BTC', rail: 'bitcoin', proof: light.proof }, /less than the 7 required/, 'three regtest headers carry too little work for this book')
  const fourth = await mine(chain, 1)
  await accepted(t, orig, [{ type: 'payment/prove', paymentId: orig.newId(), kind: 'funding', ref: strictFunding, amount: 1_000_000, currency: 'BTC', rail: 'bitcoin', proof: { ...light.proof, headers: [...light.proof.headers, fourth.headers[0]] } }])

  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
})

test('bitcoin reorg - a repayment taken back leaves the schedule as if it had never been paid', (t) => {
  const schedule = [1, 2, 3].map((n) => ({ n, dueDate: `2027-0${n}-01`, principal: 1000, interest: 100, principalPaid: 0, interestPaid: 0 }))
  const loan = { loanId: 'l', status: 'disbursed', schedule, pendingRepayment: 0, updatedAt: 0 } as unknown as Loan
  const a = applyRepayment(loan, 700, 1)
  const b = a.ok ? applyRepayment(a.value, 900, 2) : a
  if (!b.ok) return t.fail('repayments refused')
  const back = unapplyRepayment(b.value, 700, 3)
  const onlyB = applyRepayment(loan, 900, 2)
  if (!back.ok || !onlyB.ok) return t.fail('refused')
  t.alike(back.value.schedule, onlyB.value.schedule, 'taking back the first of two repayments leaves the waterfall of the second alone')
  const all = applyRepayment(loan, 3300, 4)
  if (!all.ok) return t.fail('refused')
  t.is(all.value.status, 'repaid')
  const owed = unapplyRepayment(all.value, 100, 5)
  t.is(owed.ok && owed.value.status, 'disbursed', 'a repaid loan owes again')
  t.is(owed.ok && owed.value.schedule[2].principalPaid, 900, 'the last instalment\'s principal is short by what was taken back')
  const over = unapplyRepayment(b.value, 1601, 6)
  t.absent(over.ok, 'never more than was paid')
  t.ok(unapplyRepayment(b.value, 1600, 6).ok, 'all of it, at most')
})
