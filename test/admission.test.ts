/**
 * Open admission (core/network/admission.ts): a borrower and an investor who found a public
 * project in the network's ads become writers of its book with one request to its originator,
 * no invite handed over; and what a hostile node tries with it gets nowhere: a claim signed by
 * another DID, a book the asked node does not originate, an invite-only book, a member the
 * originator removed, a flood of fresh DIDs past the hourly cap, a squatter's ad listing
 * someone else's book.
 */
import test from 'brittle'
import b4a from 'b4a'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { ADMIT_METHOD, admissionResponder, admitRequest } from '../core/network/admission.ts'
import { makeClaim } from '../core/network/pairing.ts'
import { signAd, networkTopic, type AdBody } from '../core/network/ads/advertisement.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import type { PeerRpc } from '../core/network/peer-rpc.ts'
import { until } from './helpers/until.ts'

const NETWORK = 'admission-it'

test('admission - found on the network, a borrower and an investor join a public project\'s book in one request each; hostile requests and a squatter\'s listing get nowhere', { timeout: 180_000 }, async (t) => {
  const net = await createNet(t, 5)
  const [origA, borrower, investor, hostile, origB] = net.nodes
  const services = net.nodes.map((n) => new Services(n, { statusTimeoutMs: 5000, ads: { network: NETWORK, debounceMs: 200, minUpdateMs: 100 } }))
  for (const s of services) await s.ready()
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  const [apiA, apiBorrower, apiInvestor, apiHostile, apiB] = net.nodes.map((n, i) => createHandlers(n, services[i]))

  const { topic } = await apiA['book.create']({ name: 'Kootenay circle' })
  const { id: project } = await apiA['project.create']({ book: topic, terms: terms(Date.now(), { name: 'Greenhouses' }) })
  await apiA['project.transition']({ book: topic, project, action: 'activate' })
  const { topic: closedTopic } = await apiB['book.create']({ name: 'Invite-only circle' })
  const { id: closedProject } = await apiB['project.create']({ book: closedTopic, terms: terms(Date.now(), { name: 'Members only', isInviteOnly: true }) })
  await apiB['project.transition']({ book: closedTopic, project: closedProject, action: 'activate' })

  // the squatter lists A's book as its own, with a project of its own invention, before A's ad lands anywhere
  const squat: AdBody = {
    v: 1, network: b4a.toString(networkTopic(NETWORK), 'hex'), did: hostile.did as DidKey, organization: 'Kootenay Lending (official)', chain: [],
    services: [{ type: 'originating' }], protocols: [], release: '0'.repeat(64),
    books: [{ topic, name: 'Kootenay circle', projects: [{ projectId: project, name: 'Greenhouses', currency: 'EUR', amount: '1', loanMin: '1', loanMax: '1', minMonths: 1, maxMonths: 1, rateBps: 1, interestMethod: 'flat' }] }],
    issuedAt: Date.now() + 500, expiresAt: Date.now() + 3600_000
  }
  const squatted = await services[3].ads!.gossip.publish(signAd(squat, hostile.identity!.secretKey).bytes)
  t.ok(squatted.ok, 'the squatter\'s ad is well-formed and signed: it spreads like any other')

  // the borrower was handed nothing: the ads bring the book, one request makes her a borrower
  await until('the borrower sees the listing', async () => (await apiBorrower['market.projects']({} as never)).some((p) => p.projectId === project))
  const joined = await apiBorrower['market.join']({ topic, role: 'borrower' })
  t.is(joined.admitted, true, 'admitted')
  t.is(joined.originator, origA.did, 'the book names A as its originator')
  t.ok(services[1].ads!.directory.get(hostile.did)?.ad.books.some((b) => b.topic === topic), 'the squatter\'s listing of the book was in her directory when she joined')
  t.is(joined.listerIsOriginator, joined.listedBy === origA.did, `whoever listed it (${joined.listedBy === hostile.did ? 'the squatter' : 'A'}), the result says whether the lister runs the book`)
  const bookAtBorrower = borrower.book(topic)
  t.ok(bookAtBorrower.writable, 'her node writes to the book')
  t.is((await bookAtBorrower.view.get('members', borrower.did))?.role, 'borrower', 'as a borrower, by A\'s signed member/add (asked of the book\'s originator, never of the lister)')
  const applied = await apiBorrower['loan.apply']({ book: topic, project, amount: 60_000, months: 6 })
  t.is(applied.status, 'accepted', 'and she applies')
  const again = await apiBorrower['market.join']({ topic, role: 'borrower' })
  t.is(again.admitted, true, 'asking again changes nothing')
  t.is((await origA.book(topic).view.get('members', borrower.did))?.writerKeys.length, 1, 'one writer key, added once')

  const inv = await apiInvestor['market.join']({ topic, role: 'investor' })
  t.is(inv.admitted, true)
  const funded = await apiInvestor['funding.commit']({ book: topic, project, amount: 100_000 })
  t.is(funded.status, 'accepted', 'the investor commits funds')

  // hostile requests over an authenticated connection
  const rpc = services[3].rpc as PeerRpc
  await rpc.connect(origA.did as DidKey, { timeoutMs: 20_000 })
  const bookA = origA.book(topic)
  const hostileFollow = await apiHostile['book.join']({ book: topic })
  const hostileBook = hostile.book(hostileFollow.topic)
  const other = generateKeyPair()
  const otherDid = publicKeyToDid(other.publicKey)
  const forgedClaim = { book: b4a.toString(bookA.key, 'hex'), role: 'borrower', claim: b4a.toString(makeClaim(otherDid, other.secretKey, bookA.discoveryKey, b4a.alloc(32, 7)), 'base64') }
  await t.exception(rpc.request(origA.did as DidKey, ADMIT_METHOD, forgedClaim), /signed for another DID/, 'a claim by another DID than the caller is refused')
  await t.exception(rpc.request(origA.did as DidKey, ADMIT_METHOD, { book: 'zz', role: 'originator', claim: '' }), /book\/admit needs/, 'a malformed request is refused')
  await t.exception(rpc.request(origA.did as DidKey, ADMIT_METHOD, { ...admitRequest(hostile.identity as never, hostileBook, 'borrower'), role: 'originator' }), /book\/admit needs/, 'nobody is admitted as originator')
  await rpc.connect(borrower.did as DidKey, { timeoutMs: 20_000 })
  await t.exception(rpc.request(borrower.did as DidKey, ADMIT_METHOD, admitRequest(hostile.identity as never, hostileBook, 'borrower')), /does not originate/, 'a node that does not originate the book admits nobody')

  const { topic: closedAt } = await apiHostile['book.join']({ book: closedTopic })
  const closedBook = hostile.book(closedAt)
  await rpc.connect(origB.did as DidKey, { timeoutMs: 20_000 })
  await until('B\'s book reaches the hostile node', async () => (await closedBook.view.meta()) !== null)
  await t.exception(rpc.request(origB.did as DidKey, ADMIT_METHOD, admitRequest(hostile.identity as never, closedBook, 'borrower')), /no open public project/, 'an invite-only book admits nobody without an invite')

  // removed by the originator: not back in through the open door
  await bookA.act([{ type: 'member/remove', member: investor.did as DidKey }])
  const back = admissionResponder({ host: origA })
  await t.exception(back(admitRequest(investor.identity as never, investor.book(topic), 'investor'), investor.did as DidKey), /removed this member/, 'a removed member needs an invite to return')

  // a flood of fresh DIDs: the cap holds, and the book gets no more writers than it allows
  const capped = admissionResponder({ host: origA, maxPerHour: 2 })
  const writersBefore = (await bookA.view.list('writers')).length
  const outcomes: string[] = []
  for (let i = 0; i < 4; i++) {
    const kp = generateKeyPair()
    const did = publicKeyToDid(kp.publicKey)
    const req = { book: b4a.toString(bookA.key, 'hex'), role: 'borrower', claim: b4a.toString(makeClaim(did, kp.secretKey, bookA.discoveryKey, b4a.alloc(32, 100 + i)), 'base64') }
    outcomes.push(await capped(req, did).then(() => 'admitted', (err: Error) => err.message))
  }
  t.alike(outcomes.slice(0, 2), ['admitted', 'admitted'])
  t.ok(outcomes.slice(2).every((o) => /at most 2 members an hour/.test(o)), `the rest wait: ${outcomes[3]}`)
  t.is((await bookA.view.list('writers')).length, writersBefore + 2, 'two writers more, not four')

  await until('the removal reaches every replica', async () => (await bookAtBorrower.view.get('members', investor.did))?.removed === true)
  t.pass('the borrower\'s replica agrees')
})
