// One Bitcoin-funded loan end to end, driven only through three browsers (issue 10): a real bcoin
// regtest chain, three headless hosts whose workers (under Bare) run the Bitcoin rail on it, and
// every payment paid with a click from a node's own wallet and proven by the payee's node.
// Blocks are mined by the test; the pages show each payment's confirmations as they arrive
// ("1 of 2 confirmations"), then "proven on-chain" once the proof is in the book. The originator's
// backend is reached through a proxy the test cuts at the end: her Wallet tab says so in red.
import test from 'brittle'
import net from 'node:net'
import type { Page } from 'playwright-core'
import { Address } from '@scure/btc-signer'
import type { Assertion } from 'brittle'
import { ensureUiBuilt, launchBrowser, openApp, startTestHost, startTestnet, fullValue, onboard } from './helpers/browser.ts'
import { BCOIN_REGTEST, startBcoin, testKey, untilInMempool, type Bcoin } from './helpers/bcoin.ts'
import { chainItems, parseSendAmount, readWatcherEvent } from '../ui/lib/chain-items.ts'
import type { Payment, Project } from '../books/entities.ts'

/** startBcoin's api key (test/helpers/bcoin.ts): the workers authenticate like any client. */
const API_KEY = 'growr-test-' + process.pid
const BCRT = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }

/** The same output script under bcoin's regtest prefix (`rb`): bcoin's generatetoaddress takes only that. */
function toRb (address: string): string {
  return Address(BCOIN_REGTEST).encode(Address(BCRT).decode(address))
}

/** A TCP proxy in front of bcoin that the test can cut, so one node's backend goes away. */
async function proxy (t: Assertion, target: number): Promise<{ url: string, down (): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((c) => {
    const u = net.connect(target, '127.0.0.1')
    for (const s of [c, u]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => { c.destroy(); u.destroy() }) }
    c.pipe(u)
    u.pipe(c)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const down = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const s of sockets) s.destroy()
    await closed
  }
  t.teardown(async () => { if (server.listening) await down() })
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, down }
}

async function mine (chain: Bcoin, n: number, to = testKey(0).address): Promise<void> {
  await chain.rpc('generatetoaddress', [n, to])
}

/** The transaction line `testid` shows for `txid`, once it is in `state` (and at `confirmations`). */
function txLine (page: Page, testid: string, txid: string, state: string, confirmations?: number) {
  return page.locator(`[data-testid="${testid}-tx"][data-txid="${txid}"][data-state="${state}"]${confirmations === undefined ? '' : `[data-confirmations="${confirmations}"]`}`)
}

test('ui bitcoin - a loan funded, disbursed and repaid on regtest by clicks, each payment proven by its payee\'s node', { timeout: 150_000 }, async (t) => {
  const started = Date.now()
  await ensureUiBuilt()
  const chain = await startBcoin(t)
  await mine(chain, 450) // SegWit active
  const gate = await proxy(t, Number(new URL(chain.url).port))
  const backend = (url: string) => ({ url, network: 'regtest' as const, bech32: 'rb', username: 'x', password: API_KEY, pollMs: 250 })
  const testnet = await startTestnet(t)
  const [annHost, bobHost, ivyHost] = await Promise.all([
    startTestHost(t, testnet, 'btc-ann', { bitcoin: backend(gate.url) }),
    startTestHost(t, testnet, 'btc-bob', { bitcoin: backend(chain.url) }),
    startTestHost(t, testnet, 'btc-ivy', { bitcoin: backend(chain.url) })
  ])
  const browser = await launchBrowser(t)
  const [ann, bob, ivy] = await Promise.all([openApp(browser, annHost, 'ann'), openApp(browser, bobHost, 'bob'), openApp(browser, ivyHost, 'ivy')])
  const apps = [ann, bob, ivy]
  for (const a of apps) a.page.setDefaultTimeout(30_000)

  try {
    await Promise.all([onboard(ann, 'originator'), onboard(bob, 'borrower'), onboard(ivy, 'investor')])

    // each Wallet tab: the backend answers; a block is mined to each node's receive address
    const addresses: string[] = []
    for (const a of apps) {
      await a.page.getByTestId('nav-wallet').click()
      await a.page.locator('[data-testid="btc-backend"][data-reachable="true"]').waitFor()
      addresses.push(await fullValue(a.page, '[data-testid="wallet-address"]'))
    }
    t.ok(addresses.every((a) => a.startsWith('bcrt1q')), 'each wallet shows a regtest address')
    for (const a of addresses) await mine(chain, 1, toRb(a))
    await ann.page.locator('[data-testid="btc-immature"]:not([data-sats="0"])').waitFor()
    t.is(await ann.page.getByTestId('btc-confirmed').getAttribute('data-sats'), '0', 'a fresh coinbase is immature, not spendable')
    await ann.shot('btc-01-wallet-immature')
    await mine(chain, 100)
    for (const a of apps) await a.page.locator('[data-testid="btc-confirmed"]:not([data-sats="0"])').waitFor()
    const annSats = (await ann.page.getByTestId('btc-confirmed').getAttribute('data-sats')) ?? ''
    t.ok(/^\d+$/.test(annSats) && (await ann.page.getByTestId('btc-confirmed').textContent())?.startsWith(`${BigInt(annSats) / 100_000_000n}.`), `matured: ${annSats} sats, shown in BTC exactly`)
    await ann.page.getByTestId('btc-height').filter({ hasText: /^553$/ }).waitFor()
    t.pass('the backend\'s height is shown: 553')

    // ann: a book, a BTC project on the Bitcoin rail (regtest, 2 confirmations), two invites
    await ann.page.getByTestId('nav-network').click()
    await ann.page.getByTestId('book-create-name').fill('Bitcoin Circle')
    await ann.page.getByTestId('book-create').click()
    await ann.page.locator('[data-testid="books"] [data-testid="book-topic"]').waitFor()
    await ann.page.getByTestId('nav-originator').click()
    await ann.page.getByTestId('project-new').click()
    const form = ann.page.getByTestId('project-form')
    await form.getByTestId('project-name').fill('Solar pumps')
    await form.getByTestId('project-currency').fill('BTC')
    await form.getByTestId('project-amount').fill('0.5')
    await form.getByTestId('project-loanMin').fill('0.01')
    await form.getByTestId('project-loanMax').fill('0.1')
    await form.getByTestId('project-fee').fill('0.0001')
    await form.getByTestId('project-save').click()
    const projectRow = ann.page.locator('[data-testid="projects"] tbody tr').filter({ hasText: 'Solar pumps' })
    await projectRow.getByTestId('rail-confirmations').fill('2')
    await projectRow.getByTestId('rail-save').click()
    await projectRow.getByTestId('project-rail').getByText('Bitcoin regtest, 2 confirmations').waitFor()
    await projectRow.getByTestId('project-activate').click()
    await projectRow.getByText('active', { exact: true }).waitFor()
    const projectId = (await projectRow.getAttribute('data-testid'))!.slice('project-'.length)
    const invite = async (role: 'borrower' | 'investor'): Promise<string> => {
      await ann.page.getByTestId('invite-role').selectOption(role)
      await ann.page.getByTestId('invite-create').click()
      return ((await ann.page.getByTestId('invite-code').textContent()) ?? '').trim()
    }
    const bobCode = await invite('borrower')
    const ivyCode = await invite('investor')
    for (const [app, code] of [[bob, bobCode], [ivy, ivyCode]] as const) {
      await app.page.getByTestId('nav-network').click()
      await app.page.getByTestId('invite-code-input').fill(code)
      await app.page.getByTestId('invite-accept').click()
      await app.page.locator('[data-testid^="book-"]').getByText('writer', { exact: true }).waitFor()
    }

    // funding: ivy commits, ann posts her address, ivy pays from her wallet with one click
    await ivy.page.getByTestId('nav-investor').click()
    const fundRow = ivy.page.getByTestId('fund-' + projectId)
    await fundRow.getByTestId('fund-amount').fill('0.05')
    await fundRow.getByTestId('fund-submit').click()
    await ann.page.getByTestId('funding-addresses').getByTestId('post-funding-address').click()
    await ann.page.getByTestId('post-funding-address-posted').waitFor()
    const payFunding = ivy.page.getByTestId('pay-funding-wallet')
    t.ok((await payFunding.textContent())?.includes('Pay 0.05 BTC from this node\'s wallet'), 'the investor is offered to pay the exact amount from her wallet, beside the QR code')
    await ivy.shot('btc-02-investor-pay')
    await payFunding.click()
    const fundingTx = await fullValue(ivy.page, '[data-testid="pay-funding-wallet-txid"]')
    t.ok(await untilInMempool(chain, fundingTx), `the funding transaction ${fundingTx} is in bcoin's mempool`)
    await txLine(ann.page, 'chain-funding', fundingTx, 'mempool', 0).waitFor()
    t.ok((await txLine(ann.page, 'chain-funding', fundingTx, 'mempool').textContent())?.includes('in the mempool, 0 of 2 confirmations'), 'the payee\'s node sees it in the mempool')
    await mine(chain, 1)
    await txLine(ann.page, 'chain-funding', fundingTx, 'confirming', 1).waitFor()
    t.ok((await txLine(ann.page, 'chain-funding', fundingTx, 'confirming').textContent())?.includes('1 of 2 confirmations'), 'then 1 of 2 confirmations, as the block arrives')
    await txLine(ivy.page, 'chain-funding', fundingTx, 'confirming', 1).waitFor()
    t.pass('the payer\'s page shows 1 of 2 too, from its wallet')
    await ann.shot('btc-03-originator-1-of-2')
    await mine(chain, 1)
    await txLine(ann.page, 'chain-funding', fundingTx, 'proven').waitFor()
    await txLine(ivy.page, 'chain-funding', fundingTx, 'proven').waitFor()
    await ivy.page.locator('[data-testid="positions"] [data-testid="position-status"]').getByText('confirmed').waitFor()
    const settled = ann.page.getByTestId('payments-settled')
    await settled.getByTestId('payment-proven').filter({ hasText: 'proven on-chain' }).waitFor()
    t.is(await settled.getByTestId('payment-txid').first().getAttribute('data-value'), fundingTx, 'the funding is proven on-chain in the book, by that transaction, with no one confirming by hand')
    await ann.shot('btc-04-originator-funding-proven')

    // the loan: bob applies, ann approves, bob posts his address, ann disburses with one click
    await bob.page.getByTestId('nav-borrower').click()
    const offer = bob.page.getByTestId('offer-' + projectId)
    await offer.getByTestId('apply-amount').fill('0.03')
    await offer.getByTestId('apply-months').fill('3')
    await offer.getByTestId('apply-purpose').fill('pumps')
    await offer.getByTestId('apply-submit').click()
    await offer.getByTestId('apply-done').waitFor()
    await ann.page.locator('[data-testid="applications"] tbody tr[data-testid^="application-"]').first().getByTestId('loan-approve').click()
    await bob.page.getByTestId('my-loan-status').getByText('approved').waitFor()
    await bob.page.getByTestId('post-disbursement-address').click()
    const payDisbursement = ann.page.getByTestId('pay-disbursement-wallet')
    t.ok((await payDisbursement.textContent())?.includes('Pay 0.0299 BTC'), 'the principal less the fee')
    await payDisbursement.click()
    const disbursementTx = await fullValue(ann.page, '[data-testid="pay-disbursement-wallet-txid"]')
    t.ok(await untilInMempool(chain, disbursementTx), 'the disbursement is broadcast')
    await txLine(bob.page, 'chain-disbursement', disbursementTx, 'mempool').waitFor()
    await mine(chain, 1)
    await txLine(bob.page, 'chain-disbursement', disbursementTx, 'confirming', 1).waitFor()
    await bob.shot('btc-05-borrower-disbursement-1-of-2')
    await mine(chain, 1)
    await bob.page.getByTestId('my-loan-status').getByText('disbursed').waitFor()
    await txLine(bob.page, 'chain-disbursement', disbursementTx, 'proven').waitFor()
    await txLine(ann.page, 'chain-disbursement', disbursementTx, 'proven').waitFor()
    t.pass(`disbursement ${disbursementTx} proven by the borrower's node`)

    // a repayment: ann posts her repayment address, bob pays the instalment with one click
    await ann.page.getByTestId('post-repayment-address').click()
    const payRepayment = bob.page.getByTestId('pay-repayment-wallet')
    await payRepayment.click()
    const repaymentTx = await fullValue(bob.page, '[data-testid="pay-repayment-wallet-txid"]')
    t.ok(await untilInMempool(chain, repaymentTx), 'the repayment is broadcast')
    await txLine(ann.page, 'chain-repayment', repaymentTx, 'mempool').waitFor()
    await mine(chain, 1)
    await txLine(ann.page, 'chain-repayment', repaymentTx, 'confirming', 1).waitFor()
    await txLine(bob.page, 'chain-repayment', repaymentTx, 'confirming', 1).waitFor()
    await mine(chain, 1)
    await txLine(bob.page, 'chain-repayment', repaymentTx, 'proven').waitFor()
    await bob.page.getByTestId('next-instalment').filter({ hasText: 'instalment 2' }).waitFor()
    await bob.page.getByTestId('borrower-settled').getByTestId('payment-proven').nth(1).waitFor()
    t.is(await bob.page.getByTestId('borrower-settled').getByTestId('payment-proven').count(), 2, 'the borrower\'s disbursement and repayment both rest on proofs')
    await bob.shot('btc-06-borrower-repaid')

    // ivy's share: she posts her payout address, ann pays every investor in one transaction
    await ivy.page.getByTestId('post-distribution-address').click()
    await ivy.page.getByTestId('post-distribution-address-posted').waitFor()
    // ann pays only the addresses her node holds: wait until ivy's posted one has replicated to it
    const bookTopic = (await annHost.worker.request('status', {}) as { books: Array<{ topic: string }> }).books[0].topic
    const deadline = Date.now() + 30_000
    while (!(await annHost.worker.request('payment.addresses', { book: bookTopic }) as { addresses: Array<{ kind: string }> }).addresses.some((a) => a.kind === 'distribution')) {
      if (Date.now() > deadline) throw new Error('ivy\'s distribution address never reached ann\'s node')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    await ann.page.getByTestId('pay-all-investors').click()
    const distributionTx = (await ann.page.getByTestId('pay-all-investors-result').getAttribute('data-txid')) ?? ''
    t.ok(await untilInMempool(chain, distributionTx), 'one transaction pays the investors')
    await mine(chain, 2)
    await txLine(ivy.page, 'chain-distribution', distributionTx, 'proven').waitFor()
    t.pass('the investor\'s node proves her share')
    await ivy.shot('btc-07-investor-paid-out')

    // ann's Wallet tab: her transactions with their confirmations; a send in BTC, exactly
    await ann.page.getByTestId('nav-wallet').click()
    for (const txid of [disbursementTx, distributionTx]) await ann.page.getByTestId('btc-tx-' + txid).locator('[data-testid="btc-tx-status"][data-state="confirmed"]').waitFor()
    await ann.page.getByTestId('btc-tx-' + disbursementTx).locator('[data-testid="btc-tx-status"][data-confirmations="6"]').waitFor()
    t.pass('the disbursement shows its 6 confirmations')
    await ann.page.getByTestId('btc-send-address').fill(testKey(3).address)
    await ann.page.getByTestId('btc-send-amount').fill('0.000000001')
    t.ok(await ann.page.getByTestId('btc-send-submit').isDisabled(), 'a fraction of a sat cannot be sent')
    await ann.page.getByTestId('btc-send-amount').fill('0.00123')
    await ann.page.getByText('0.00123 BTC = 123000 sats').waitFor()
    await ann.page.getByTestId('btc-send-submit').click()
    const sent = await fullValue(ann.page, '[data-testid="btc-send-txid"]')
    t.ok(await untilInMempool(chain, sent), 'sent')
    const tx = await chain.rpc<{ vout: Array<{ value: number, scriptPubKey: { address?: string, addresses?: string[] } }> }>('getrawtransaction', [sent, true])
    const outs = tx.vout.map((v) => `${v.scriptPubKey.address ?? v.scriptPubKey.addresses?.[0]} ${v.value.toFixed(8)}`)
    t.ok(outs.includes(`${testKey(3).address} 0.00123000`), `bcoin sees 0.00123 BTC paid to the address typed: ${outs.join(', ')}`)
    await ann.page.getByTestId('btc-tx-' + sent).locator('[data-testid="btc-tx-status"][data-state="mempool"]').waitFor()
    await ann.shot('btc-08-originator-wallet')

    // her backend goes away: the Wallet tab says so in red, naming it
    await gate.down()
    const down = ann.page.getByTestId('btc-backend-unreachable')
    await down.waitFor()
    t.ok((await down.textContent())?.includes(`The Bitcoin backend at ${gate.url} does not answer`), 'an unreachable backend is named in a red message')
    t.ok(await ann.page.getByTestId('btc-send-submit').isDisabled(), 'and nothing can be sent meanwhile')
    await ann.shot('btc-09-backend-unreachable')

    t.alike(apps.flatMap((a) => a.errors), [], 'no console or page errors')
    t.comment(`flow took ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } catch (err) {
    await Promise.all(apps.map((a, i) => a.shot('btc-failure-' + i).catch(() => null)))
    t.fail((err as Error).stack ?? String(err))
  }
})

test('ui bitcoin - hostile watcher events are dropped; an amount to send is exact or refused', (t) => {
  const txid = 'ab'.repeat(32)
  const seen = { type: 'payment-seen', book: 'b'.repeat(52), kind: 'funding', ref: 'cd'.repeat(16), txid, confirmations: 1, required: 2 }
  t.alike(readWatcherEvent(seen), seen, 'a well-formed event is kept')
  for (const bad of [
    { ...seen, type: 'payment-paid' },
    { ...seen, kind: 'bribe' },
    { ...seen, txid: 'zz'.repeat(32) },
    { ...seen, confirmations: -1 },
    { ...seen, confirmations: '1' },
    { ...seen, required: 1.5 },
    { ...seen, type: 'payment-refused' }, // no reason
    { ...seen, type: 'payment-proven', paymentId: 'x'.repeat(32) }, // no amount
    null,
    'payment-seen'
  ]) t.is(readWatcherEvent(bad), null, `dropped: ${JSON.stringify(bad)?.slice(0, 80)}`)

  t.alike(parseSendAmount('0.00123', 'btc'), { ok: true, sats: 123_000n })
  t.alike(parseSendAmount('0.1', 'btc'), { ok: true, sats: 10_000_000n }, 'no float drift')
  t.alike(parseSendAmount('21000000', 'btc'), { ok: true, sats: 2_100_000_000_000_000n })
  t.alike(parseSendAmount('546', 'sats'), { ok: true, sats: 546n })
  for (const [text, unit] of [['0.000000001', 'btc'], ['21000000.00000001', 'btc'], ['1e-3', 'btc'], ['-1', 'btc'], ['0', 'btc'], ['0', 'sats'], ['1.5', 'sats'], ['', 'sats'], ['2100000000000001', 'sats']] as const) {
    const r = parseSendAmount(text, unit)
    t.ok(!r.ok && r.reason.length > 0, `refused in words: ${JSON.stringify(text)} ${unit}${r.ok ? '' : ': ' + r.reason}`)
  }

  // the book has the last word: an event saying "proven" is only "proof sent" until the book holds the proof
  const project = { rail: { rail: 'bitcoin', network: 'regtest', confirmations: 2 } } as unknown as Project
  const pending = [{ book: 'B', kind: 'funding', ref: 'R', txid, confirmations: 1, required: 2, state: 'confirming' }]
  t.alike(chainItems({ book: 'B', kind: 'funding', refId: 'R', project, payments: [], tracked: [], pending }).map((i) => [i.state, i.confirmations, i.required]), [['confirming', 1, 2]], 'pending from the rail: 1 of 2')
  const forged = { kind: 'funding', ref: 'R', status: 'recorded', proof: { txid, confirmations: 9 } } as unknown as Payment
  t.alike(chainItems({ book: 'B', kind: 'funding', refId: 'R', project, payments: [forged], tracked: [], pending }).map((i) => i.state), ['confirming'], 'a payment not confirmed in the book does not make it proven')
  const proven = { ...forged, status: 'confirmed', proof: { txid, confirmations: 2 } } as unknown as Payment
  t.alike(chainItems({ book: 'B', kind: 'funding', refId: 'R', project, payments: [proven], tracked: [], pending }).map((i) => [i.state, i.confirmations]), [['proven', 2]], 'the book\'s proof makes it proven')
  const other = { ...proven, ref: 'S' } as unknown as Payment
  t.alike(chainItems({ book: 'B', kind: 'funding', refId: 'R', project, payments: [other], tracked: [], pending }).map((i) => i.state), ['confirming'], 'a proof of another record does not count')
  t.alike(chainItems({ book: 'B', kind: 'funding', refId: 'R', project: { rail: null } as unknown as Project, payments: [], tracked: [], pending }), [], 'nothing for a project not on Bitcoin')
  const event = { type: 'payment-seen' as const, book: 'B', kind: 'funding' as const, ref: 'R', txid: 'ef'.repeat(32), confirmations: 0, required: 2 }
  t.alike(chainItems({ book: 'B', kind: 'funding', refId: 'R', project, payments: [], tracked: [], pending: [], events: [event, { ...event, ref: 'S', txid: '01'.repeat(32) }, { ...event, book: 'C', txid: '02'.repeat(32) }] }).map((i) => [i.txid, i.state]), [[event.txid, 'mempool']], 'a watcher event counts for its own record only')
})
