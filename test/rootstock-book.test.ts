/**
 * The Rootstock rail in a book, over a real anvil chain (chain id 33, Berlin) and three peers on a
 * testnet: RBTC counted in units of 10^10 wei, payees posting checksummed addresses, payments
 * proven with the transaction, its receipt and both trie proofs, checked inside apply on every
 * peer. Rootstock's merge-mined work is not checked, so a payer's proof waits for the payee's
 * confirmation; the payee's own proof confirms at once.
 * Hostile members: a project whose currency is not the rail's, an address without its checksum,
 * a proof of too small an amount, one for another chain, one to another payee, and a manual
 * record on a proven rail; identical views throughout.
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { accepted, converge } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { seen } from './helpers/lending.ts'
import { startAnvil, TEST_SEED } from './helpers/anvil.ts'
import { EvmRpc } from '../core/rails/rootstock/rpc.ts'
import { sendValue, sendToken, signLegacyTransaction, encodeErc20Transfer } from '../core/rails/rootstock/tx.ts'
import { fetchRootstockProof, type FetchedRootstockProof } from '../core/rails/rootstock/proof-fetcher.ts'
import { RootstockAccount, toChecksumAddress, deriveRootstockPrivateKey } from '../core/wallet/bip44-rootstock.ts'
import type { Book } from '../books/book.ts'
import type { OpInput, RootstockProof } from '../books/ops/types.ts'

/** The proof as an op carries it: hex without 0x. */
function asOp (p: FetchedRootstockProof): RootstockProof {
  const h = (s: string) => s.replace(/^0x/, '')
  return { rawTx: h(p.rawTx), receipt: h(p.receipt), header: h(p.header), txIndex: p.txIndex, txProof: p.txProof.map(h), receiptProof: p.receiptProof.map(h) }
}

async function rejected (t: { is: Function, ok: Function }, book: Book, input: OpInput, reason: RegExp, what: string) {
  const [{ audit }] = await book.act([input])
  t.is(audit.status, 'rejected', what)
  t.ok(reason.test(audit.reason ?? ''), `${what}: ${audit.reason}`)
}

test('rootstock book - RBTC fundings and disbursements proven by receipts, confirmed by the payee, checked by every peer', { timeout: 120_000 }, async (t) => {
  const anvil = await startAnvil(t)
  const rpc = new EvmRpc({ url: anvil.url, timeoutMs: 10_000 })
  const keys = RootstockAccount.fromSeed(TEST_SEED, 33)
  const investorKey = keys.address(0).address
  const originatorKey = keys.address(3).address
  await anvil.fund(investorKey, 10n ** 20n)
  await anvil.fund(originatorKey, 10n ** 20n)
  const pay = async (index: number, to: string, wei: bigint) => await fetchRootstockProof(rpc, (await sendValue(rpc, { chainId: 33, signer: { seed: TEST_SEED, index }, to }, wei)).hash, { timeoutMs: 10_000, pollMs: 20 })

  const net = await createNet(t, 3)
  const [origNode, borrowerNode, investorNode] = net.nodes
  const orig = await origNode.createBook('Rootstock circle')
  const rbtc = (over = {}) => terms(Date.now(), { currency: 'RBTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000, ...over })
  const btcProject = orig.newId()
  await accepted(t, orig, [{ type: 'project/create', projectId: btcProject, terms: rbtc({ currency: 'BTC' }) }])
  await rejected(t, orig, { type: 'project/rail-rootstock', projectId: btcProject, chainId: 33, token: null, unitExponent: 10, confirmations: 1 }, /move RBTC, not BTC/, 'native Rootstock payments are RBTC')
  await rejected(t, orig, { type: 'project/rail-rootstock', projectId: btcProject, chainId: 30, token: null, unitExponent: 10, confirmations: 1 }, /Unitrie/, 'Rootstock mainnet: its receipts are rooted in a trie this book cannot check yet, so no proof there could ever hold')

  const projectId = orig.newId()
  const testnetProject = orig.newId()
  await accepted(t, orig, [
    { type: 'project/create', projectId, terms: rbtc() },
    { type: 'project/rail-rootstock', projectId, chainId: 33, token: null, unitExponent: 10, confirmations: 1 },
    { type: 'project/activate', projectId },
    { type: 'project/create', projectId: testnetProject, terms: rbtc() },
    { type: 'project/rail-rootstock', projectId: testnetProject, chainId: 1337, token: null, unitExponent: 10, confirmations: 1 },
    { type: 'project/activate', projectId: testnetProject }
  ])
  const [borrower, investor] = await Promise.all([
    borrowerNode.acceptInvite((await origNode.createInvite(orig.topic, 'borrower')).code),
    investorNode.acceptInvite((await origNode.createInvite(orig.topic, 'investor')).code)
  ])
  const books = [orig, borrower, investor]
  await Promise.all([borrower, investor].map((b) => b.until(async () => b.writable && (await b.view.get('projects', testnetProject))?.status === 'active', 20_000, 'ready')))

  // the investor commits 0.02 RBTC: 2 000 000 units of 10^10 wei
  const fundingId = investor.newId()
  const other = investor.newId()
  const onTestnet = investor.newId()
  await accepted(t, investor, [
    { type: 'funding/commit', fundingId, projectId, amount: 2_000_000, currency: 'RBTC' },
    { type: 'funding/commit', fundingId: other, projectId, amount: 1_000_000, currency: 'RBTC' },
    { type: 'funding/commit', fundingId: onTestnet, projectId: testnetProject, amount: 1_000_000, currency: 'RBTC' }
  ])
  await seen(orig, 'fundings', onTestnet)
  const payee = keys.address(1).address
  await rejected(t, orig, { type: 'payment/address', kind: 'funding', ref: fundingId, address: payee.toLowerCase() }, /checksum/, 'an address without its checksum: a typo would go unseen')
  await accepted(t, orig, [
    { type: 'payment/address', kind: 'funding', ref: fundingId, address: toChecksumAddress(payee, null) },
    { type: 'payment/address', kind: 'funding', ref: other, address: toChecksumAddress(keys.address(2).address, null) },
    // another dev chain (1337): EIP-55 checksums there too
    { type: 'payment/address', kind: 'funding', ref: onTestnet, address: toChecksumAddress(keys.address(4).address, null) }
  ])
  await investor.until(async () => (await investor.view.get('addresses', `funding/${onTestnet}`)) !== null, 20_000, 'addresses replicated')
  await rejected(t, investor, { type: 'payment/record', paymentId: investor.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'RBTC', rail: 'manual', reference: 'trust me' }, /prove them/, 'no hand-recorded payment on a proven rail')

  // 2 * 10^16 wei is above 2^53: the chain's amount is compared as an exact bigint
  const paid = await pay(0, payee, 2_000_000n * 10n ** 10n)
  const short = await pay(0, keys.address(2).address, 1_000_000n * 10n ** 10n - 1n)
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: other, amount: 1_000_000, currency: 'RBTC', rail: 'rootstock', proof: asOp(short) }, /less than|smaller|short|at least/, 'one wei short of what the book expects')
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: other, amount: 1_000_000, currency: 'RBTC', rail: 'rootstock', proof: asOp(paid) }, /pays|payee|to /, 'a payment to another payee\'s address')
  const onTestnetPaid = await pay(0, keys.address(4).address, 1_000_000n * 10n ** 10n)
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: onTestnet, amount: 1_000_000, currency: 'RBTC', rail: 'rootstock', proof: asOp(onTestnetPaid) }, /chain/, 'a transaction signed for chain 33 proves nothing on chain 1337')
  const bad = asOp(paid)
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'RBTC', rail: 'rootstock', proof: { ...bad, receiptProof: bad.txProof } }, /refused/, 'the transactions-trie proof passed off as the receipts trie\'s')

  // the payer's proof records the payment; it counts once the payee confirms
  const paymentId = investor.newId()
  await accepted(t, investor, [{ type: 'payment/prove', paymentId, kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'RBTC', rail: 'rootstock', proof: asOp(paid) }])
  await orig.until(async () => (await orig.view.get('payments', paymentId)) !== null, 20_000, 'proof replicated')
  const recorded = await orig.view.get('payments', paymentId)
  t.is(recorded?.status, 'recorded', 'the payer\'s proof alone does not confirm: Rootstock\'s work is not checked in the book')
  t.is(recorded?.proof && 'txHash' in recorded.proof ? recorded.proof.amount : null, (2n * 10n ** 16n).toString(), 'the book keeps the exact wei the receipt shows')
  t.is((await orig.view.get('fundings', fundingId))?.status, 'committed', 'and the funding is not counted yet')
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'RBTC', rail: 'rootstock', proof: asOp(paid) }, /already paid|already proves/, 'the same transaction cannot prove the payment again')
  await accepted(t, orig, [{ type: 'payment/confirm', paymentId }])
  for (const b of books) await b.until(async () => (await b.view.get('fundings', fundingId))?.status === 'confirmed', 20_000, 'funding confirmed')
  t.pass('confirmed by the originator, the funding counts on every peer')

  // a disbursement the borrower proves herself: her own proof is her confirmation
  const loanId = borrower.newId()
  await accepted(t, borrower, [{ type: 'loan/apply', loanId, projectId, amount: 1_000_000, currency: 'RBTC', months: 3, purpose: 'irrigation' }])
  await seen(orig, 'loans', loanId)
  await accepted(t, orig, [{ type: 'loan/approve', loanId }])
  await seen(borrower, 'loans', loanId, 'approved')
  const herAddress = toChecksumAddress(keys.address(5).address, null)
  await accepted(t, borrower, [{ type: 'payment/address', kind: 'disbursement', ref: loanId, address: herAddress }])
  const disbursed = await pay(3, herAddress, 999_000n * 10n ** 10n)
  await accepted(t, borrower, [{ type: 'payment/prove', paymentId: borrower.newId(), kind: 'disbursement', ref: loanId, amount: 999_000, currency: 'RBTC', rail: 'rootstock', proof: asOp(disbursed) }])
  for (const b of books) await b.until(async () => (await b.view.get('loans', loanId))?.status === 'disbursed', 20_000, 'disbursed')
  t.pass('the borrower\'s proof of what she received disburses the loan on every peer')

  // an ERC-20 project counting cents of an 18-decimal token (one minor unit = 10^16 base units)
  const token = await anvil.deployToken(investorKey.toLowerCase(), 1_000_000n * 10n ** 18n)
  const tokenProject = orig.newId()
  await accepted(t, orig, [
    { type: 'project/create', projectId: tokenProject, terms: rbtc({ currency: 'GUSD', amount: 1_000_000, loanMinAmount: 1_000, loanMaxAmount: 100_000, disbursementFee: 0 }) },
    { type: 'project/rail-rootstock', projectId: tokenProject, chainId: 33, token, unitExponent: 16, confirmations: 1 },
    { type: 'project/activate', projectId: tokenProject }
  ])
  await investor.until(async () => (await investor.view.get('projects', tokenProject))?.status === 'active', 20_000, 'token project seen')
  const tokenFunding = investor.newId()
  await accepted(t, investor, [{ type: 'funding/commit', fundingId: tokenFunding, projectId: tokenProject, amount: 50_000, currency: 'GUSD' }])
  await seen(orig, 'fundings', tokenFunding)
  const tokenPayee = toChecksumAddress(keys.address(6).address, null)
  await accepted(t, orig, [{ type: 'payment/address', kind: 'funding', ref: tokenFunding, address: tokenPayee }])
  await investor.until(async () => (await investor.view.get('addresses', `funding/${tokenFunding}`)) !== null, 20_000, 'token address replicated')
  // a transfer the token refuses (more than the investor holds), mined with a fixed gas limit: status 0
  const key = deriveRootstockPrivateKey(TEST_SEED, 0)
  const refused = signLegacyTransaction({ nonce: await rpc.getTransactionCount(investorKey, 'pending'), gasPrice: await rpc.gasPrice(), gasLimit: 100_000n, to: token, value: 0n, data: encodeErc20Transfer(tokenPayee, 10n ** 30n), chainId: 33 }, key)
  key.fill(0)
  const reverted = await fetchRootstockProof(rpc, await rpc.sendRawTransaction(refused.raw), { timeoutMs: 10_000, pollMs: 20 })
  t.is(reverted.status, 0, 'the chain says the transfer reverted')
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: tokenFunding, amount: 50_000, currency: 'GUSD', rail: 'rootstock', proof: asOp(reverted) }, /status/, 'a receipt with status 0 proves no payment')
  // 500.00 GUSD = 5 x 10^20 token units, far past 2^53
  const transfer = await sendToken(rpc, { chainId: 33, signer: { seed: TEST_SEED, index: 0 }, to: tokenPayee }, token, 50_000n * 10n ** 16n)
  const tokenPaid = await fetchRootstockProof(rpc, transfer.hash, { timeoutMs: 10_000, pollMs: 20 })
  await accepted(t, orig, [{ type: 'payment/prove', paymentId: orig.newId(), kind: 'funding', ref: tokenFunding, amount: 50_000, currency: 'GUSD', rail: 'rootstock', proof: asOp(tokenPaid) }])
  for (const b of books) await b.until(async () => (await b.view.get('fundings', tokenFunding))?.status === 'confirmed', 20_000, 'token funding confirmed')
  t.pass('the payee\'s proof of the Transfer log confirms the token funding on every peer')

  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
})
