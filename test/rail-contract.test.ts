/**
 * The rails through the contract every front end uses (CLI, desktop, headless host): a BTC
 * project on Lightning funded with an invoice and its preimage; on Bitcoin, a payee's receiving
 * address derived from its own wallet for that record when it names none; and the refusals a
 * front end shows (no address on Lightning, proving a manual project's payment).
 */
import test from 'brittle'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { createNet } from './helpers/net.ts'
import { rejectsCode } from './helpers/assert.ts'
import { terms } from './helpers/fixtures.ts'
import { buildInvoice, bytesField, intField, textField } from './helpers/bolt11-invoice.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Assertion } from 'brittle'

async function handlers (t: Assertion, node: GrowrNode) {
  const s = new Services(node)
  await s.ready()
  t.teardown(() => s.close(), { order: -Infinity + 1 })
  return createHandlers(node, s)
}

test('rails via the contract - Lightning funding by preimage; Bitcoin addresses from the payee\'s wallet', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 2)
  const [origNode, investorNode] = net.nodes
  const o = await handlers(t, origNode)
  const i = await handlers(t, investorNode)
  const { topic: book } = await o['book.create']({ name: 'Rails circle' })
  const btc = terms(Date.now(), { currency: 'BTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000 })
  const { id: ln } = await o['project.create']({ book, terms: btc })
  await o['project.rail']({ book, project: ln, rail: 'lightning', network: 'regtest' })
  await o['project.transition']({ book, project: ln, action: 'activate' })
  const { id: onchain } = await o['project.create']({ book, terms: btc })
  await o['project.rail']({ book, project: onchain, network: 'regtest', confirmations: 6 })
  await o['project.transition']({ book, project: onchain, action: 'activate' })
  const { id: manual } = await o['project.create']({ book, terms: terms(Date.now()) })
  await o['project.transition']({ book, project: manual, action: 'activate' })
  await i['invite.accept']({ code: (await o['invite.create']({ book, role: 'investor' })).code })

  // Lightning: the originator's node key and invoice, the investor's preimage
  const { id: funding } = await i['funding.commit']({ book, project: ln, amount: 300_000 })
  const key = hexToBytes('a1'.repeat(32))
  await o['lightning.node']({ book, nodeKey: bytesToHex(secp256k1.getPublicKey(key, true)) })
  const preimage = 'c3'.repeat(32)
  const invoice = buildInvoice({ hrp: 'lnbcrt3000000n', timestamp: Math.floor(Date.now() / 1000), secretKey: key, fields: [bytesField('p', bytesToHex(sha256(hexToBytes(preimage)))), bytesField('s', '11'.repeat(32)), textField('funding'), intField('x', 3600)] })
  await o['payment.invoice']({ book, kind: 'funding', ref: funding, invoice })
  await rejectsCode(t, o['payment.address']({ book, kind: 'funding', ref: funding }), 'BAD_ARGUMENT', 'no on-chain address for a Lightning project')
  await i['wait']({ book, sub: 'fundings', id: funding })
  const proven = await i['payment.prove']({ book, kind: 'funding', ref: funding, proof: { invoice, preimage } })
  t.is(proven.amount, 300_000, 'the whole commitment, in sats')
  t.is((await o['wait']({ book, sub: 'fundings', id: funding, status: 'confirmed' }) as { status: string }).status, 'confirmed', 'the originator\'s node sees it confirmed by the proof')

  // Bitcoin: the payee names no address; its wallet gives this record's own
  const { id: f2 } = await i['funding.commit']({ book, project: onchain, amount: 200_000 })
  await o['wait']({ book, sub: 'fundings', id: f2 })
  const posted = await o['payment.address']({ book, kind: 'funding', ref: f2 })
  t.is(posted.address, (await o['wallet.receive']({ network: 'regtest', ref: f2 })).address, 'the address is the payee\'s wallet address for this record')
  t.not(posted.address, (await i['wallet.receive']({ network: 'regtest', ref: f2 })).address, 'not the payer\'s')
  await rejectsCode(t, o['payment.address']({ book, kind: 'funding', ref: f2 }), 'OP_REJECTED', 'and it is posted once')

  // a manual project's payments are recorded and confirmed, not proven
  const { id: f3 } = await i['funding.commit']({ book, project: manual, amount: 1_000 })
  await rejectsCode(t, i['payment.prove']({ book, kind: 'funding', ref: f3, proof: { invoice, preimage } }), 'BAD_ARGUMENT', 'proving a manual payment is refused before anything is written')

  // Rootstock (dev chains: mainnet and testnet proofs need rskj's Unitrie): the payee's wallet address for the record, EIP-55 checksummed as the book checks
  for (const chainId of [33, 1337]) {
    const { id: rsk } = await o['project.create']({ book, terms: terms(Date.now(), { currency: 'RBTC', amount: 10_000_000, loanMinAmount: 100_000, loanMaxAmount: 5_000_000, disbursementFee: 1_000 }) })
    await o['project.rail.rootstock']({ book, project: rsk, chainId, unitExponent: 10 })
    await o['project.transition']({ book, project: rsk, action: 'activate' })
    const { id: f4 } = await i['funding.commit']({ book, project: rsk, amount: 100_000 })
    await o['wait']({ book, sub: 'fundings', id: f4 })
    const rskPosted = await o['payment.address']({ book, kind: 'funding', ref: f4 })
    t.ok(/^0x[0-9a-fA-F]{40}$/.test(rskPosted.address) && rskPosted.address !== rskPosted.address.toLowerCase(), `chain ${chainId}: a checksummed address (${rskPosted.address}) posted and accepted by the book`)
  }
})
