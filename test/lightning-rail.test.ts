/**
 * The Lightning rail in a book, bring-your-own-wallet, over three peers on a testnet: the payee
 * registers its node key and posts a BOLT 11 invoice for what is due; the payer pays from any
 * wallet and proves it with the preimage; every peer checks it inside apply and the funding moves
 * on. Hostile members: an invoice signed by a key the payee did not register, posted by someone
 * other than the payee, for another network or without an amount; a wrong preimage; a preimage
 * used for a second payment; an amount other than the invoice's: all refused, identical views.
 */
import test from 'brittle'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { createNet } from './helpers/net.ts'
import { accepted, converge } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { seen } from './helpers/lending.ts'
import { buildInvoice, bytesField, intField, textField } from './helpers/bolt11-invoice.ts'
import type { Book } from '../books/book.ts'
import type { OpInput } from '../books/ops/types.ts'

const NODE_KEY = hexToBytes('a1'.repeat(32))
const OTHER_KEY = hexToBytes('b2'.repeat(32))

/** An invoice of `sats` on `hrp`'s network whose preimage is `preimage`, signed by `key`, created now. */
function invoice (preimage: string, sats: number, key = NODE_KEY, hrp = 'lnbcrt'): string {
  const amount = sats === 0 ? '' : `${sats * 10}n` // BOLT 11's n (nano-bitcoin) is 0.1 sat
  return buildInvoice({ hrp: hrp + amount, timestamp: Math.floor(Date.now() / 1000), secretKey: key, fields: [bytesField('p', bytesToHex(sha256(hexToBytes(preimage)))), bytesField('s', '11'.repeat(32)), textField('growr funding'), intField('x', 3600)] })
}

async function rejected (t: { is: Function, ok: Function }, book: Book, input: OpInput, reason: RegExp, what: string) {
  const [{ audit }] = await book.act([input])
  t.is(audit.status, 'rejected', what)
  t.ok(reason.test(audit.reason ?? ''), `${what}: ${audit.reason}`)
}

test('lightning rail - an invoice posted by the payee, paid and proven by its preimage, checked by every peer', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [origNode, borrowerNode, investorNode] = net.nodes
  const orig = await origNode.createBook('Lightning circle')
  const projectId = orig.newId()
  await accepted(t, orig, [
    { type: 'project/create', projectId, terms: terms(Date.now(), { currency: 'BTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000 }) },
    { type: 'project/rail', projectId, rail: 'lightning', network: 'regtest' },
    { type: 'project/activate', projectId }
  ])
  const [borrower, investor] = await Promise.all([
    borrowerNode.acceptInvite((await origNode.createInvite(orig.topic, 'borrower')).code),
    investorNode.acceptInvite((await origNode.createInvite(orig.topic, 'investor')).code)
  ])
  const books = [orig, borrower, investor]
  await Promise.all([borrower, investor].map((b) => b.until(async () => b.writable && (await b.view.get('projects', projectId))?.status === 'active', 20_000, 'ready')))

  const fundingId = investor.newId()
  await accepted(t, investor, [{ type: 'funding/commit', fundingId, projectId, amount: 200_000, currency: 'BTC' }])
  await seen(orig, 'fundings', fundingId)
  const preimage = 'c3'.repeat(32)
  await rejected(t, orig, { type: 'payment/invoice', kind: 'funding', ref: fundingId, invoice: invoice(preimage, 200_000) }, /register your Lightning node key/, 'an invoice before any node key is registered')
  await accepted(t, orig, [{ type: 'lightning/node', nodeKey: bytesToHex(secp256k1.getPublicKey(NODE_KEY, true)) }])
  await rejected(t, orig, { type: 'payment/invoice', kind: 'funding', ref: fundingId, invoice: invoice(preimage, 200_000, OTHER_KEY) }, /not by the key you registered/, 'an invoice signed by another node')
  await rejected(t, orig, { type: 'payment/invoice', kind: 'funding', ref: fundingId, invoice: invoice(preimage, 200_000, NODE_KEY, 'lnbc') }, /for mainnet/, 'an invoice for another network')
  await rejected(t, orig, { type: 'payment/invoice', kind: 'funding', ref: fundingId, invoice: invoice(preimage, 0) }, /without an amount/, 'an invoice without an amount')
  await accepted(t, investor, [{ type: 'lightning/node', nodeKey: bytesToHex(secp256k1.getPublicKey(OTHER_KEY, true)) }])
  await rejected(t, investor, { type: 'payment/invoice', kind: 'funding', ref: fundingId, invoice: invoice(preimage, 200_000, OTHER_KEY) }, /only the payee/, 'the payer cannot post the payee\'s invoice')
  const inv = invoice(preimage, 200_000)
  await accepted(t, orig, [{ type: 'payment/invoice', kind: 'funding', ref: fundingId, invoice: inv }])
  await rejected(t, orig, { type: 'payment/invoice', kind: 'funding', ref: fundingId, invoice: inv }, /already posted/, 'an invoice is posted once')

  await investor.until(async () => (await investor.view.list('addresses', { gte: 'invoice/', lt: 'invoice0' })).length === 1, 20_000, 'invoice replicated')
  const prove = (over: { preimage?: string; amount?: number; paymentId?: string } = {}): OpInput => ({ type: 'payment/prove', paymentId: over.paymentId ?? investor.newId(), kind: 'funding', ref: fundingId, amount: over.amount ?? 200_000, currency: 'BTC', rail: 'lightning', proof: { invoice: inv, preimage: over.preimage ?? preimage } })
  await rejected(t, investor, prove({ preimage: 'c4'.repeat(32) }), /preimage/, 'a preimage that is not the invoice\'s')
  await rejected(t, investor, prove({ amount: 150_000 }), /msat are due/, 'an amount other than the invoice\'s')
  await accepted(t, investor, [prove()])
  for (const b of books) await b.until(async () => (await b.view.get('fundings', fundingId))?.status === 'confirmed', 20_000, 'funding confirmed')
  t.pass('the funding is confirmed on every peer by the preimage alone')

  const second = investor.newId()
  await accepted(t, investor, [{ type: 'funding/commit', fundingId: second, projectId, amount: 200_000, currency: 'BTC' }])
  await rejected(t, investor, { ...prove(), ref: second } as OpInput, /no invoice with this payment hash was posted for this funding/, 'the preimage cannot prove another funding')
  await rejected(t, investor, prove(), /already proves payment|already paid/, 'a preimage proves one payment only')

  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers hold the same view')
})
