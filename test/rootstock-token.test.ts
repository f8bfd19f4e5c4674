/**
 * An ERC-20 project on the Rootstock rail in running nodes: GrowrTestToken (OpenZeppelin ERC20,
 * 18 decimals, compiled by solc) deployed on anvil and minted to the investor's spending address;
 * the book counts cents (unitExponent 16). The investor pays its funding with a token `transfer`
 * from its wallet; the originator's watcher finds the Transfer log with eth_getLogs and proves
 * it. A transfer of one cent too little is reported, not proven.
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { startAnvil } from './helpers/anvil.ts'
import { Services } from '../core/services/services.ts'
import type { RootstockRail } from '../core/rails/rootstock/rail.ts'
import { createHandlers, type Handlers } from '../app/contract.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Book } from '../books/book.ts'
import type { Assertion } from 'brittle'

const CENT = 10n ** 16n

async function node (t: Assertion, n: GrowrNode, url: string): Promise<{ h: Handlers, s: Services }> {
  const s = new Services(n, { rootstock: { url, chainId: 33, pollMs: 100, timeoutMs: 2_000 } })
  await s.ready()
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

test('rootstock token - an ERC-20 funding paid from the wallet, found by its Transfer log and proven by the payee', { timeout: 90_000 }, async (t) => {
  const anvil = await startAnvil(t)
  const net2 = await createNet(t, 2)
  const [oNode, iNode] = net2.nodes
  const o = await node(t, oNode, anvil.url)
  const i = await node(t, iNode, anvil.url)
  const investorAddress = (i.s.rootstock as RootstockRail).address
  await anvil.fund(investorAddress, 10n ** 18n) // gas
  const token = await anvil.deployToken(investorAddress.toLowerCase(), 1_000_000n * 10n ** 18n)

  const { topic: book } = await o.h['book.create']({ name: 'Token circle' })
  const { id: project } = await o.h['project.create']({ book, terms: terms(Date.now(), { currency: 'GTD', amount: 10_000_000, loanMinAmount: 10_000, loanMaxAmount: 1_000_000 }) })
  await o.h['project.rail.rootstock']({ book, project, chainId: 33, token, unitExponent: 16, confirmations: 1 })
  await o.h['project.transition']({ book, project, action: 'activate' })
  await i.h['invite.accept']({ code: (await o.h['invite.create']({ book, role: 'investor' })).code })
  const [oBook, iBook] = [oNode, iNode].map((n) => n.book(book)) as [Book, Book]

  const bal = await i.h['wallet.balance.rootstock']({})
  t.is(bal.tokens.find((x) => x.token === token)?.spendable, (1_000_000n * 10n ** 18n).toString(), 'the book\'s token is in the balance, in token units')

  // one cent short: the Transfer log is found, reported, not proven
  const { id: short } = await i.h['funding.commit']({ book, project, amount: 250_000 })
  await o.h['wait']({ book, sub: 'fundings', id: short })
  await o.h['payment.address']({ book, kind: 'funding', ref: short })
  await iBook.until(async () => (await iBook.view.get('addresses', `funding/${short}`)) !== null, 20_000, 'address replicated')
  const underpaid = await i.h['payment.pay']({ book, kind: 'funding', ref: short, amount: 249_999 })
  t.is(underpaid.baseUnits, (249_999n * CENT).toString(), `token units: ${underpaid.baseUnits}`)
  await until(async () => ((await o.h['status']({})).rootstock?.watcher.problems ?? []).some((p) => p.txHash === underpaid.txid && /less than/.test(p.state)), 15_000, 'short transfer reported')
  t.pass(`reported: ${((await o.h['status']({})).rootstock?.watcher.problems ?? []).find((p) => p.txHash === underpaid.txid)?.state}`)
  t.is((await oBook.view.get('fundings', short))?.status, 'committed', 'it does not prove the funding')

  // the right amount: proven from the Transfer log
  const { id: fa } = await i.h['funding.commit']({ book, project, amount: 300_000 })
  await o.h['wait']({ book, sub: 'fundings', id: fa })
  await o.h['payment.address']({ book, kind: 'funding', ref: fa })
  await iBook.until(async () => (await iBook.view.get('addresses', `funding/${fa}`)) !== null, 20_000, 'address replicated')
  const paid = await i.h['payment.pay']({ book, kind: 'funding', ref: fa })
  t.is(paid.token, token, `a transfer of ${paid.baseUnits} units of ${paid.token} in ${paid.txid}`)
  for (const bk of [oBook, iBook]) await bk.until(async () => (await bk.view.get('fundings', fa))?.status === 'confirmed', 30_000, 'funding confirmed')
  const p = (await oBook.view.list('payments')).find((x) => x.ref === fa)
  t.ok(p?.status === 'confirmed' && p.proof && 'token' in p.proof && p.proof.token?.toLowerCase() === token && p.proof.amount === (300_000n * CENT).toString(), 'proven by the originator\'s watcher: the token and its exact units are in the book')
  const ob = await o.h['wallet.balance.rootstock']({})
  t.is(ob.tokens.find((x) => x.token === token)?.total, (549_999n * CENT).toString(), 'the originator holds both transfers at its receiving addresses (tokens are not swept)')
})
