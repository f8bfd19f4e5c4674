/**
 * Credit-exposure queries by consent over a local testnet, with real governance: a founder (also
 * the investor of B's book, and the observer) certifies originators A, B and C; U runs a book but
 * is not certified; the borrower has a real loan in B's book, disbursed 75 days ago (every book's
 * clock is set 75 days back, so the schedule fixed at approval is due by now), with the first
 * instalment repaid and the second past due. With her consent A sees B's exact exposure; C
 * presenting A's consent, a tampered consent, an uncertified asker and a revoked consent get
 * nothing, and the refusal is the same constant body whether B knows the borrower or not; answers
 * are sealed to A and bound to their query; B logs every query.
 */
import test from 'brittle'
import type Hyperbee from 'hyperbee'
import { createNet } from './helpers/net.ts'
import { accepted } from './helpers/book.ts'
import { confirmedFunding, seen } from './helpers/lending.ts'
import { terms } from './helpers/fixtures.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { NETWORK_SETTING } from '../core/governance/network-in-use.ts'
import { openAnswer, type SignedAnswer } from '../core/network/broadcast.ts'
import { openSealed } from '../core/exposure/seal.ts'
import { QUERY_METHOD, type AnswerBody } from '../core/exposure/service.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import type { Loan } from '../books/entities.ts'
import type { Book } from '../books/book.ts'
import b4a from 'b4a'
import { verifyCredential } from '../core/credentials/vc.ts'
import { until as waitUntil } from './helpers/until.ts'

const DAY = 86_400_000
const BACK = 75 * DAY

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> => await waitUntil(what, check, ms, 200)

test('exposure - with consent A sees B\'s exact exposure; without it, or revoked, nothing; B logs each query', { timeout: 120_000 }, async (t) => {
  // every node's books run 75 days back: the loan below was approved then
  const net = await createNet(t, 6, { now: () => Date.now() - BACK })
  const [founder, nodeA, nodeB, borrower, nodeC, nodeU] = net.nodes
  const definition = { version: 1, name: 'exposure-test', founders: [founder.did] }
  for (const n of net.nodes) {
    await n.ready()
    await (n.local as Hyperbee).put(NETWORK_SETTING, definition)
  }
  const services = net.nodes.map((n) => new Services(n, { statusTimeoutMs: 8000, ads: { debounceMs: 200, minUpdateMs: 100 } }))
  for (const s of services) await s.ready()
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  const api = net.nodes.map((n, i) => createHandlers(n, services[i]))
  const [apiF, apiA, apiB, apiBor, apiC, apiU] = api
  const did = (i: number) => net.nodes[i].did as DidKey

  // governance: the founder certifies three originators; U stays uncertified
  const validUntil = new Date(Date.now() + 60 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')
  for (const [i, name] of [[1, 'Ann Lending'], [2, 'Bay Credit'], [4, 'Creston Coop']] as const) {
    const cert = await apiF['network.certify']({ subject: did(i), name, roles: ['originator'], validUntil })
    t.ok((await api[i]['network.chain.set']({ chain: [cert] })).ok, `${name} holds a chain to the founder`)
  }

  // books: each originator runs one; the borrower's loan is in B's
  const project = async (node: typeof nodeA, name: string): Promise<{ book: Book; projectId: string }> => {
    const book = await node.createBook(name)
    const projectId = book.newId()
    await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now() - BACK) }, { type: 'project/activate', projectId }])
    return { book, projectId }
  }
  const { book: bookA } = await project(nodeA, 'Ann circle')
  await project(nodeC, 'Creston circle')
  const { book: bookU } = await project(nodeU, 'Unvetted circle')
  const { book: bookB, projectId } = await project(nodeB, 'Bay circle')
  const joined = await Promise.all([borrower, founder].map(async (m, i) => await m.acceptInvite((await nodeB.createInvite(bookB.topic, i === 0 ? 'borrower' : 'investor')).code)))
  const [borrowerBook, investorBook] = joined
  for (const b of joined) await b.until(async () => b.writable && (await b.view.get('projects', projectId))?.status === 'active', 20_000, 'member ready')
  await confirmedFunding(t, bookB, investorBook, projectId, 300_000)
  const loanId = borrowerBook.newId()
  await accepted(t, borrowerBook, [{ type: 'loan/apply', loanId, projectId, amount: 100_000, currency: 'EUR', months: 6, purpose: 'greenhouse' }])
  await seen(bookB, 'loans', loanId)
  const disb = bookB.newId()
  await accepted(t, bookB, [{ type: 'loan/approve', loanId }, { type: 'payment/record', paymentId: disb, kind: 'disbursement', ref: loanId, amount: 99_500, currency: 'EUR', rail: 'manual', reference: 'SEPA' }])
  await seen(borrowerBook, 'payments', disb)
  await accepted(t, borrowerBook, [{ type: 'payment/confirm', paymentId: disb }])
  await seen(borrowerBook, 'loans', loanId, 'disbursed')
  const schedule = ((await borrowerBook.view.get('loans', loanId)) as Loan).schedule
  const repay = borrowerBook.newId()
  await accepted(t, borrowerBook, [{ type: 'payment/record', paymentId: repay, kind: 'repayment', ref: loanId, amount: schedule[0].total, currency: 'EUR', rail: 'manual', reference: 'inst 1' }])
  await seen(bookB, 'payments', repay)
  await accepted(t, bookB, [{ type: 'payment/confirm', paymentId: repay }])
  const loan = await bookB.until(async () => ((await bookB.view.get('loans', loanId)) as Loan).schedule[0].principalPaid > 0, 20_000, 'repayment applied')
    .then(async () => (await bookB.view.get('loans', loanId)) as Loan)
  const today = new Date().toISOString().slice(0, 10)
  t.ok(loan.schedule[1].dueDate < today && loan.schedule[2].dueDate >= today, `instalment 2 (due ${loan.schedule[1].dueDate}) is past due today (${today}), instalment 3 not`)

  // everyone sees the certified originators; B and C see A certified
  const listing = async (i: number, d: string) => (await api[i]['market.query']({})).find((l) => l.did === d)
  for (const [i, d] of [[1, did(2)], [1, did(4)], [2, did(1)], [4, did(1)], [5, did(2)], [2, did(5)]] as const) {
    await until(`node ${i} sees ${d.slice(-6)}`, async () => (await listing(i, d)) !== undefined && (d === did(5) || (await listing(i, d))?.certified === true), 40_000)
  }

  // no consent yet: A cannot even ask
  await t.exception(apiA['exposure.check']({ subject: did(3) }), /NOT_FOUND/, 'without her consent A has nothing to ask with')

  // she applies at A and U too: an originator takes consents only from members of its books
  for (const [node, book] of [[nodeA, bookA], [nodeU, bookU]] as const) {
    const b = await borrower.acceptInvite((await node.createInvite(book.topic, 'borrower')).code)
    await b.until(async () => b.writable, 20_000, 'borrower admitted')
  }

  // the borrower consents to A asking, for 30 days
  const given = await apiBor['consent.grant']({ to: did(1), purpose: 'loan application at Ann Lending', days: 30 })
  t.ok(given.delivered, `the consent reached A${given.deliveryError ? ': ' + given.deliveryError : ''}`)
  const grant = given.consent.credential
  t.is((await apiA['consent.list']({})).received.length, 1, 'A keeps the consent it received')
  t.is((await apiBor['consent.list']({})).given[0].id, grant.id, 'the borrower lists the consent she gave')

  const check = await apiA['exposure.check']({ subject: did(3), deadlineMs: 20_000 })
  const atB = check.originators.find((o) => o.did === did(2))
  const atC = check.originators.find((o) => o.did === did(4))
  t.is(check.asked, 2, 'A asks the two other certified originators (not U, not itself)')
  t.is(atB?.status, 'exposure', `B answers with the exposure (${atB?.reason ?? ''})`)
  t.is(atB?.organization, 'Bay Credit', 'named as its certificate names it')
  const expected = {
    currency: 'EUR',
    loans: 1,
    outstandingPrincipal: String(100_000 - loan.schedule[0].principal),
    arrearsInstalments: 1,
    arrearsAmount: String(loan.schedule[1].total),
    defaultedLoans: 0
  }
  t.alike(atB?.books, [{ book: bookB.topic, name: 'Bay circle', exposure: [expected] }], 'the exact exposure in B\'s book')
  t.alike(check.combined, [expected], 'combined per currency')
  t.is(atC?.status, 'exposure', 'C answers too')
  t.alike(atC?.books, [], 'C holds nothing on her')

  // the answer is B's signature over a sealed report: readable by A only
  const answer = atB?.answer as SignedAnswer<AnswerBody>
  const sealed = (answer.body as { sealed: string }).sealed
  t.absent(openSealed(sealed, (nodeC.identity as Identity).secretKey).ok, 'C cannot open B\'s answer to A')
  t.absent(openSealed(sealed, (founder.identity as Identity).secretKey).ok, 'nor can the observer')
  t.ok(openSealed(sealed, (nodeA.identity as Identity).secretKey).ok, 'A can')

  // a query straight to B, and its answer replayed for another query
  const rpcA = services[1].rpc!
  const nonce = (n: number) => b4a.toString(b4a.alloc(32, n), 'hex')
  const q1 = { v: 1, grant, nonce: nonce(1) }
  const a1 = await rpcA.request(did(2), QUERY_METHOD, q1)
  t.ok(openAnswer(a1, { peer: did(2), method: QUERY_METHOD, request: q1 }).ok, 'B\'s answer holds for the query it answers')
  const replay = openAnswer(a1, { peer: did(2), method: QUERY_METHOD, request: { ...q1, nonce: nonce(2) } })
  t.ok(!replay.ok && /another request/.test(replay.reason), 'and not for another query')

  // C presents A's consent: the constant refusal
  const rpcC = services[4].rpc!
  if (!rpcC.peers().includes(did(2))) await rpcC.connect(did(2), { timeoutMs: 10_000 })
  const stolen = await rpcC.request(did(2), QUERY_METHOD, { v: 1, grant, nonce: nonce(3) }) as SignedAnswer<AnswerBody>
  t.alike(stolen.body, { consent: false }, 'someone else\'s consent reveals nothing')
  // a consent from a stranger B never lent to, naming C: the same body
  const strangerGiven = await apiF['consent.grant']({ to: did(4), purpose: 'other', days: 1 })
  t.absent(strangerGiven.delivered, 'C keeps no consent from someone who is in none of its books (a DID costs nothing: they could fill its store)')
  t.ok(/not a member of a book this node originates/.test(strangerGiven.deliveryError ?? ''), strangerGiven.deliveryError ?? '')
  const strangerGrant = strangerGiven.consent.credential
  const tamperedStranger = { ...strangerGrant, credentialSubject: { ...strangerGrant.credentialSubject, purpose: 'changed' } }
  const stranger = await rpcC.request(did(2), QUERY_METHOD, { v: 1, grant: tamperedStranger, nonce: nonce(4) }) as SignedAnswer<AnswerBody>
  t.alike(stranger.body, stolen.body, 'a refusal about a stranger is identical to one about her')
  // her consent altered to name C: its signature breaks
  const moved = { ...grant, credentialSubject: { ...grant.credentialSubject, id: did(4) } }
  const forged = await rpcC.request(did(2), QUERY_METHOD, { v: 1, grant: moved, nonce: nonce(5) }) as SignedAnswer<AnswerBody>
  t.alike(forged.body, { consent: false }, 'a consent re-pointed at another asker reveals nothing')

  // U, uncertified, holds her consent too: B does not answer it
  const toU = await apiBor['consent.grant']({ to: did(5), purpose: 'loan application at Unvetted', days: 10 })
  t.ok(toU.delivered, 'U received a consent')
  const byU = await apiU['exposure.check']({ subject: did(3), deadlineMs: 20_000 })
  const uAtB = byU.originators.find((o) => o.did === did(2))
  t.is(uAtB?.status, 'failed', 'B refuses an uncertified asker')
  t.ok(/only from certified originators/.test(uAtB?.reason ?? ''), uAtB?.reason ?? '')
  t.is(byU.answered, 0, 'U learns nothing')

  // revoked: A no longer uses it, and B refuses it
  const revoked = await apiBor['consent.revoke']({ id: grant.id })
  t.ok(revoked.consent.revoked, 'revoked')
  t.ok(revoked.announced, 'and announced on pubsub')
  const after = await rpcA.request(did(2), QUERY_METHOD, { v: 1, grant, nonce: nonce(6) }) as SignedAnswer<AnswerBody>
  t.alike(after.body, stolen.body, 'after revocation B answers the same constant refusal')
  // without the notice, B's status read of her list alone refuses it (the bounded-staleness path)
  const status = await verifyCredential(grant, { now: Date.now(), checkStatus: services[2].resolver!.check })
  t.ok(status.problems.some((p) => p.code === 'REVOKED'), 'her status list, read by B, says revoked')
  await until('A hears the revocation', async () => await services[1].exposure!.store.heard(did(3), grant.id), 10_000).catch(() => {})
  await t.exception(apiA['exposure.check']({ subject: did(3) }), /NOT_FOUND/, 'A holds no consent in force any more')

  // B's log: every query, with its outcome
  const log = await apiB['exposure.log']({})
  const about = (asker: string, outcome: string) => log.filter((e) => e.asker === asker && e.outcome === outcome)
  t.is(about(did(1), 'answered').length, 2, 'A\'s two answered queries (broadcast and direct)')
  t.is(about(did(4), 'no-consent').length, 3, 'C\'s three refused queries')
  t.is(about(did(5), 'refused').length, 1, 'U\'s query, refused as uncertified')
  const last = about(did(1), 'no-consent')
  t.is(last.length, 1, 'A\'s query after the revocation')
  t.ok(/revoked/.test(last[0]?.reason ?? ''), `logged as revoked: ${last[0]?.reason}`)
  t.is(last[0]?.grant, grant.id, 'with the consent id')
  t.is(last[0]?.purpose, 'loan application at Ann Lending', 'and its purpose')
  t.is(last[0]?.subject, did(3), 'and the borrower')
  t.is((await apiC['exposure.log']({})).filter((e) => e.asker === did(1)).length, 1, 'C logged A\'s query too')
})
