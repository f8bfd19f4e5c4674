/**
 * Hostile Bitcoin proofs in a book, over a real bcoin regtest chain and three peers: a payer
 * claiming more than it paid, a following header whose work was forged, headers that do not link,
 * and a regtest proof offered to a testnet project (the other network's proof of work). Each is
 * refused with its reason by every peer's apply, the honest proof then holds, and the views stay
 * identical.
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { accepted, converge } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { seen } from './helpers/lending.ts'
import { addressOn, bcoinInstalled, broadcast, coinbaseOf, startBcoin, testKey, signSpend, type Bcoin } from './helpers/bcoin.ts'
import { checkProofOfWork, parseHeader } from '../books/proofs/bitcoin-header.ts'
import type { Book } from '../books/book.ts'
import type { OpInput } from '../books/ops/types.ts'

const TESTNET = { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }

async function rejected (t: { is: Function, ok: Function }, book: Book, input: OpInput, reason: RegExp, what: string) {
  const [{ audit }] = await book.act([input])
  t.is(audit.status, 'rejected', what)
  t.ok(reason.test(audit.reason ?? ''), `${what}: ${audit.reason}`)
}

/** Pays `amount` sats to `address` (bcoin regtest form) from coinbase `n`, buried under `depth` blocks; @returns the proof. */
async function pay (node: Bcoin, n: number, address: string, amount: bigint, depth: number) {
  const miner = testKey(0)
  const cb = await coinbaseOf(node, n)
  const txid = await broadcast(node, signSpend(miner, cb, [{ address, amount }, { address: miner.address, amount: cb.amount - amount - 10_000n }]))
  const hashes = await node.rpc<string[]>('generatetoaddress', [depth, miner.address])
  const headers: string[] = []
  for (const h of hashes.slice(1)) headers.push(await node.rpc<string>('getblockheader', [h, false]))
  return { rawTx: await node.rpc<string>('getrawtransaction', [txid]), txoutproof: await node.rpc<string>('gettxoutproof', [[txid], hashes[0]]), headers }
}

/** The same header with another nonce, chosen so that its hash misses the regtest target: forged work. */
function forge (headerHex: string): string {
  const bytes = Buffer.from(headerHex, 'hex')
  for (let nonce = 0; nonce < 1000; nonce++) {
    bytes.writeUInt32LE(nonce, 76)
    const h = parseHeader(bytes)
    if (h.ok && !checkProofOfWork(h.header, 'regtest').ok) return bytes.toString('hex')
  }
  throw new Error('no nonce missed the regtest target')
}

test('bitcoin hostile proofs - a larger claim, forged work, unlinked headers and another network\'s proof refused on every peer', { timeout: 180_000, skip: !bcoinInstalled() }, async (t) => {
  const chain = await startBcoin(t)
  await chain.rpc('generatetoaddress', [450, testKey(0).address])

  const net = await createNet(t, 3)
  const [origNode, borrowerNode, investorNode] = net.nodes
  const orig = await origNode.createBook('Hostile proofs')
  const btc = terms(Date.now(), { currency: 'BTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000 })
  const projectId = orig.newId()
  const onTestnet = orig.newId()
  await accepted(t, orig, [
    { type: 'project/create', projectId, terms: btc },
    { type: 'project/rail', projectId, rail: 'bitcoin', network: 'regtest', confirmations: 3 },
    { type: 'project/activate', projectId },
    { type: 'project/create', projectId: onTestnet, terms: btc },
    { type: 'project/rail', projectId: onTestnet, rail: 'bitcoin', network: 'testnet', confirmations: 3 },
    { type: 'project/activate', projectId: onTestnet }
  ])
  const [borrower, investor] = await Promise.all([
    borrowerNode.acceptInvite((await origNode.createInvite(orig.topic, 'borrower')).code),
    investorNode.acceptInvite((await origNode.createInvite(orig.topic, 'investor')).code)
  ])
  const books = [orig, borrower, investor]
  await investor.until(async () => investor.writable && (await investor.view.get('projects', onTestnet))?.status === 'active', 20_000, 'ready')

  const fundingId = investor.newId()
  const testnetFunding = investor.newId()
  await accepted(t, investor, [
    { type: 'funding/commit', fundingId, projectId, amount: 2_000_000, currency: 'BTC' },
    { type: 'funding/commit', fundingId: testnetFunding, projectId: onTestnet, amount: 1_000_000, currency: 'BTC' }
  ])
  await seen(orig, 'fundings', testnetFunding)
  const payee = testKey(1)
  const payeeOnTestnet = testKey(2)
  await rejected(t, orig, { type: 'payment/address', kind: 'funding', ref: testnetFunding, address: payeeOnTestnet.address }, /not a receiving address on testnet/, 'a regtest address for a testnet project')
  await accepted(t, orig, [
    { type: 'payment/address', kind: 'funding', ref: fundingId, address: payee.address },
    { type: 'payment/address', kind: 'funding', ref: testnetFunding, address: addressOn(payeeOnTestnet, TESTNET) }
  ])
  await investor.until(async () => (await investor.view.get('addresses', `funding/${testnetFunding}`)) !== null, 20_000, 'addresses replicated')

  // 1 999 999 sats paid for a 2 000 000 commitment
  const short = await pay(chain, 1, payee.address, 1_999_999n, 3)
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof: short }, /1999999 sats, less than the 2000000/, 'a proof of less than the commitment')

  const paid = await pay(chain, 2, payee.address, 2_000_000n, 3)
  const prove = (proof: typeof paid): OpInput => ({ type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: fundingId, amount: 2_000_000, currency: 'BTC', rail: 'bitcoin', proof })
  await rejected(t, investor, prove({ ...paid, headers: [paid.headers[0], forge(paid.headers[1])] }), /following header 2.*(target|work)/, 'a following header whose hash misses its target')
  await rejected(t, investor, prove({ ...paid, headers: [paid.headers[1], paid.headers[0]] }), /does not link/, 'following headers out of order')
  await rejected(t, investor, prove({ ...paid, headers: [short.headers[0], short.headers[1]] }), /does not link/, 'headers from another part of the chain')

  // the same script paid on regtest, offered to the testnet project: regtest's easy work is no testnet work
  const regtestPaid = await pay(chain, 3, addressOn(payeeOnTestnet, { ...TESTNET, bech32: 'rb' }), 1_000_000n, 3)
  await rejected(t, investor, { type: 'payment/prove', paymentId: investor.newId(), kind: 'funding', ref: testnetFunding, amount: 1_000_000, currency: 'BTC', rail: 'bitcoin', proof: regtestPaid }, /target|limit|work/, 'a regtest proof for a testnet project')

  await accepted(t, investor, [prove(paid)])
  for (const b of books) await b.until(async () => (await b.view.get('fundings', fundingId))?.status === 'confirmed', 20_000, 'confirmed')
  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'every peer refused the same proofs and holds the same view')
})
