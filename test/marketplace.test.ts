/**
 * The marketplace network end to end, on six real nodes over a local HyperDHT testnet, each with
 * its own store, all in one private network by their setting: a founder, a governance DID it
 * certifies, two originators (A certified by the governance, B not at first), an issuer certified
 * by the governance, and a borrower handed nothing but the network file.
 *
 * What it shows: the chains verify up to the founder; the peers' signed hellos and ads show who
 * certified whom; the uncertified originator is marked so until certified, and again after its
 * certificate is revoked; the borrower finds the issuer and both originators' open projects
 * through the ads alone, joins A's book with one request, and applies with a credential from an
 * issuer A's book trusts only because the governance certified it; a receipt of a payment in
 * that book is then validated by broadcast to the book's members.
 */
import test from 'brittle'
import b4a from 'b4a'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { NETWORK_SETTING } from '../core/governance/network-in-use.ts'
import { criteriaToRules } from '../core/services/criteria.ts'
import type { GrowrNode } from '../core/node.ts'
import type Hyperbee from 'hyperbee'
import { until as waitUntil } from './helpers/until.ts'

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> => await waitUntil(what, check, ms, 200)

test('marketplace - six nodes: certified chains, who certified each peer, discovery without a topic key, one-request join, a governance-trusted credential, revocation, receipt by broadcast', { timeout: 180_000 }, async (t) => {
  const net = await createNet(t, 6)
  const [founder, gov, origA, origB, issuer, borrower] = net.nodes as GrowrNode[]
  const definition = { version: 1, name: 'marketplace-test', founders: [founder.did] }
  for (const n of net.nodes) await (n.local as Hyperbee).put(NETWORK_SETTING, definition)
  const services = net.nodes.map((n) => new Services(n, { announce: n !== borrower, statusTimeoutMs: 10_000, ads: { debounceMs: 200, minUpdateMs: 100 } }))
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  for (const s of services) await s.ready()
  const [apiF, apiG, apiA, apiB, apiI, apiBorrower] = net.nodes.map((n, i) => createHandlers(n, services[i]))

  // founder -> governance -> A (originator), I (issuer); B runs uncertified
  const gCert = await apiF['network.certify']({ subject: gov.did, name: 'Kootenay Governance', governance: true })
  t.ok((await apiG['network.chain.set']({ chain: [gCert] })).ok, 'the governance DID keeps its chain')
  const aCert = await apiG['network.certify']({ subject: origA.did, name: 'Ann Lending', roles: ['originator'] })
  const iCert = await apiG['network.certify']({ subject: issuer.did, name: 'Kootenay KYC', roles: ['issuer', 'verifier'] })
  const aChain = await apiA['network.chain.set']({ chain: [gCert, aCert] })
  t.ok(aChain.ok && aChain.founder === founder.did, 'A\'s chain verifies up to the founder')
  t.ok((await apiI['network.chain.set']({ chain: [gCert, iCert] })).ok, 'the issuer\'s chain verifies')
  const checked = await apiBorrower['network.verify']({ chain: [gCert, aCert] })
  t.ok(checked.ok && checked.certifiedBy.map((l) => l.issuer).join() === [founder.did, gov.did].join(), 'anyone verifies it the same way: founder, then governance')

  // two originators, one open project each; A trusts KYC issuers certified through the governance
  const { topic: topicA } = await apiA['book.create']({ name: 'Kootenay circle' })
  await apiA['trust.set']({ book: topicA, kind: 'governance', did: gov.did, type: 'KycCredential' })
  const eligibility = criteriaToRules([{ fact: 'kycStatus', operator: 'equal', value: 'verified' }], 'EUR')
  const { id: projectA } = await apiA['project.create']({ book: topicA, terms: terms(Date.now(), { name: 'Greenhouses', eligibility }) })
  await apiA['project.transition']({ book: topicA, project: projectA, action: 'activate' })
  const { topic: topicB } = await apiB['book.create']({ name: 'Nakuru circle' })
  const { id: projectB } = await apiB['project.create']({ book: topicB, terms: terms(Date.now(), { name: 'Irrigation' }) })
  await apiB['project.transition']({ book: topicB, project: projectB, action: 'activate' })
  await apiI['vc.enroll']({ subject: borrower.did, type: 'KycCredential', claims: { kycStatus: 'verified' } })

  // the borrower, handed no topic key, finds both projects and the issuer in the ads
  t.is((await apiBorrower.status({} as never)).books.length, 0, 'the borrower follows no book')
  await until('both projects and the issuer in the borrower\'s ads', async () =>
    (await apiBorrower['market.projects']({} as never)).length === 2 &&
    (await apiBorrower['market.query']({ service: 'issuing', credentialType: 'KycCredential' })).length === 1)
  const projects = await apiBorrower['market.projects']({} as never)
  const green = projects.find((p) => p.projectId === projectA)!
  const irrigation = projects.find((p) => p.projectId === projectB)!
  t.is(green.certified, true, 'A\'s project comes from a certified originator')
  t.is(green.organization, 'Ann Lending', 'named as its certificate names it')
  t.ok(green.certifiedBy?.includes(gov.did), `certified through the governance (${green.certifiedBy})`)
  t.is(irrigation.certified, false, 'B\'s project is marked uncertified')
  const [kyc] = await apiBorrower['market.query']({ service: 'issuing', credentialType: 'KycCredential' })
  t.is(kyc.did, issuer.did, 'the issuer found by the credential type it issues')
  t.alike(kyc.roles.sort(), ['issuer', 'verifier'], 'with the roles its certificate grants')

  // she joins A's book in one request and gets her credential from the issuer she found
  const joined = await apiBorrower['market.join']({ topic: green.book, role: 'borrower' })
  t.ok(joined.admitted && joined.originator === origA.did, 'admitted by A, the book\'s originator')
  await apiBorrower['vc.request']({ issuer: kyc.did, type: 'KycCredential' })
  const applied = await apiBorrower['loan.apply']({ book: topicA, project: projectA, amount: 60_000, months: 6, purpose: 'seedlings' })
  const bookA = origA.book(topicA)
  await bookA.until(async () => (await bookA.view.get('loans', applied.id)) !== null, 20_000, 'the application reaches A')
  const loan = await bookA.view.get('loans', applied.id)
  t.is(loan?.eligibility?.eligible, true, 'eligible: the issuer is trusted because the governance certified it, not because A listed it')
  t.alike((await apiA['trust.list']({ book: topicA })).issuers, {}, 'A lists no issuer by name')

  // who certified each peer, from the chains in their signed hellos
  await until('the borrower\'s hellos from A and the issuer', async () => {
    const peers = await apiBorrower['network.peers']({})
    return peers.some((p) => p.did === origA.did && p.certified) && peers.some((p) => p.did === issuer.did && p.certified)
  })
  const peers = await apiBorrower['network.peers']({})
  const peerA = peers.find((p) => p.did === origA.did)!
  t.is(peerA.organization?.name, 'Ann Lending')
  t.alike(peerA.certifiedBy?.map((l) => l.issuer), [founder.did, gov.did], 'A was certified by the governance, which the founder certified')
  t.ok(peerA.chain.includes('"Kootenay Governance"') && peerA.chain.includes('"Ann Lending"'), peerA.chain)

  // B certified while running: marked at once; then revoked: unmarked, for the ads and the peers alike
  const bCert = await apiG['network.certify']({ subject: origB.did, name: 'Nakuru Growers', roles: ['originator'] })
  await apiB['network.chain.set']({ chain: [gCert, bCert] })
  await until('B certified in the borrower\'s ads', async () => (await apiBorrower['market.projects']({} as never)).find((p) => p.projectId === projectB)?.certified === true)
  t.pass('B\'s project is now marked certified')
  await apiG['network.revoke']({ id: bCert.id as string })
  await services[3].ads!.publish({ force: true })
  await until('B unmarked after revocation', async () => (await apiBorrower['market.query']({ service: 'originating' })).find((l) => l.did === origB.did)?.certified === false, 60_000)
  const bListing = (await apiBorrower['market.query']({ service: 'originating' })).find((l) => l.did === origB.did)!
  t.ok(/revoked/.test(bListing.certificationNote ?? ''), `the reason: ${bListing.certificationNote}`)
  await until('the revoked peer shown uncertified', async () => (await apiBorrower['network.peers']({ refresh: true })).find((p) => p.did === origB.did)?.certified === false)
  t.pass('and B, as a peer, is shown uncertified')

  // an investor's payment in A's book: its receipt verifies offline and by broadcast to the book's members
  const investing = await apiF['market.join']({ topic: green.book, role: 'investor' })
  t.ok(investing.admitted, 'the founder joins A\'s book as an investor, in one request too')
  const funding = await apiF['funding.commit']({ book: topicA, project: projectA, amount: 100_000 })
  const paid = await apiF['payment.record']({ book: topicA, kind: 'funding', ref: funding.id })
  await bookA.until(async () => (await bookA.view.get('payments', paid.id)) !== null, 20_000, 'the funding payment reaches A')
  await apiA['payment.confirm']({ book: topicA, payment: paid.id })
  const { receipt } = await apiF['receipt.export']({ book: topicA, payment: paid.id, timeoutMs: 20_000 })
  t.ok((await apiI['receipt.verify']({ receipt, book: topicA })).ok, 'the issuer, no member of the book, verifies the receipt offline')
  await until('the book\'s other members connected to the investor', () => [origA.did, borrower.did].every((d) => services[0].rpc!.peers().includes(d as never)))
  const validated = await apiF['receipt.validate']({ receipt, deadlineMs: 15_000, quorum: 'all' })
  t.alike([...validated.asked].sort(), [origA.did, borrower.did].sort(), 'the book\'s other members are asked')
  t.ok(validated.quorum && validated.holds === 2, `and both answer, signed, that it holds (${JSON.stringify(validated.failed)} ${validated.answers.map((a) => a.reason).join('; ')})`)
  const tampered = b4a.from(receipt, 'base64')
  tampered[tampered.byteLength - 50] ^= 1
  t.absent((await apiI['receipt.verify']({ receipt: b4a.toString(tampered, 'base64'), book: topicA })).ok, 'a tampered receipt is refused offline')
  const refused = await apiF['receipt.validate']({ receipt: b4a.toString(tampered, 'base64'), deadlineMs: 15_000, quorum: 'majority' })
  t.ok(!refused.quorum && refused.answers.length === 2 && refused.answers.every((a) => !a.holds), `and by the peers: ${refused.answers.map((a) => a.reason).join('; ')}`)
})
