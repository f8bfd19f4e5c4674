import test, { type Assertion } from 'brittle'
import Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import c from 'compact-encoding'
import b4a from 'b4a'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { encodeAd, networkTopic, signAd, type Advertisement } from '../core/network/ads/advertisement.ts'
import { ADS_PROTOCOL } from '../core/network/ads/gossip.ts'
import type { AdDirectory, Certify } from '../core/network/ads/directory.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { GrowrError } from '../core/errors.ts'

const NETWORK = 'ads-it'
const TOPIC = networkTopic(NETWORK)

/** Resolves once `check` holds for `dir`, re-checking on each stored ad. */
async function until (dir: AdDirectory, check: () => boolean, what: string, ms = 30_000): Promise<void> {
  if (check()) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { dir.off('ad', on); reject(new Error(`timed out: ${what}`)) }, ms)
    const on = () => { if (check()) { clearTimeout(timer); dir.off('ad', on); resolve() } }
    dir.on('ad', on)
  })
}

/** A raw peer on the network topic speaking the ads channel: what a hostile node can send. */
function hostilePeer (t: Assertion, dht: unknown, onchannel: (send: (b: Uint8Array) => void) => void): Hyperswarm {
  const swarm = new Hyperswarm({ dht: dht as never })
  swarm.on('connection', (conn: { on (e: string, f: () => void): void }) => {
    conn.on('error', () => {})
    const mux = Protomux.from(conn) as unknown as { createChannel (o: unknown): { addMessage (o: unknown): { send (b: Uint8Array): boolean }; open (): void } | null }
    const ch = mux.createChannel({ protocol: ADS_PROTOCOL, id: TOPIC, onopen: () => onchannel((b) => { msg.send(b) }) })
    if (!ch) return
    const msg = ch.addMessage({ encoding: c.buffer, onmessage: () => {} })
    ch.open()
  })
  swarm.join(TOPIC, { server: false, client: true })
  t.teardown(async () => { await swarm.destroy() }, { order: -Infinity + 0.5 })
  return swarm
}

test('ads network - a borrower finds both originators\' open projects without a topic key, joins one and applies; forgeries, floods and uncertified ads get nowhere', { timeout: 180_000 }, async (t) => {
  const net = await createNet(t, 6)
  const [origA, origB, issuer, borrower, , strict] = net.nodes
  // a stand-in for core/governance's verifyChain: the governance certified A and the issuer, not B
  const certifiedDids = new Set([origA.did, issuer.did])
  const certify: Certify = async (ad) => certifiedDids.has(ad.did) ? { certified: true, by: 'did:key:zGovernance', roles: ['originator'] } : { certified: false, reason: 'no certificate chain to a founding DID' }
  const services = net.nodes.map((n, i) => new Services(n, {
    announce: n === issuer,
    statusTimeoutMs: 5000,
    ads: { network: NETWORK, organization: ['Kootenay Lending', 'Nakuru Growers', 'KYC Issuer', '', 'Observer', 'Strict'][i], certify, requireCertified: n === strict, debounceMs: 200, minUpdateMs: 100 }
  }))
  for (const s of services) await s.ready()
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  const api = net.nodes.map((n, i) => createHandlers(n, services[i]))
  const [apiA, apiB, apiI, apiBorrower] = api
  const dirOf = (i: number) => services[i].ads!.directory

  // two originators, one book and one active project each
  const made: Array<{ topic: string; project: string }> = []
  for (const [i, o] of [apiA, apiB].entries()) {
    const { topic } = await o['book.create']({ name: ['Kootenay circle', 'Nakuru circle'][i] })
    const { id: project } = await o['project.create']({ book: topic, terms: terms(Date.now(), { name: ['Greenhouses', 'Irrigation'][i] }) })
    await o['project.transition']({ book: topic, project, action: 'activate' })
    made.push({ topic, project })
  }
  await apiI['vc.enroll']({ subject: borrower.did, type: 'KycCredential', claims: { kycStatus: 'verified' } })

  // the borrower was given no topic key: everything comes from the ads
  t.is((await apiBorrower.status({} as never)).books.length, 0, 'the borrower follows no book')
  await until(dirOf(3), () => dirOf(3).projects().length === 2 && dirOf(3).query({ service: 'issuing' }).length === 1, 'both projects and the issuer seen')
  const projects = await apiBorrower['market.projects']({} as never)
  t.alike(projects.map((p) => p.name).sort(), ['Greenhouses', 'Irrigation'])
  const green = projects.find((p) => p.name === 'Greenhouses')!
  const irr = projects.find((p) => p.name === 'Irrigation')!
  t.is(green.originator, origA.did)
  t.is(green.book, made[0].topic, 'the ad carries the book\'s topic key')
  t.is(green.projectId, made[0].project)
  t.is(green.certified, true, 'A is certified')
  t.is(green.certifiedBy, 'did:key:zGovernance')
  t.is(irr.certified, false, 'B is marked uncertified')
  t.is(green.loanMin, String(terms(0).loanMinAmount), 'loan range as exact minor units')
  t.is(green.rateBps, terms(0).annualRateBps)
  const issuers = await apiBorrower['market.query']({ service: 'issuing', credentialType: 'KycCredential' })
  t.alike(issuers.map((l) => l.did), [issuer.did], 'the issuer found by service and credential type')
  t.alike((await apiBorrower['market.query']({ service: 'originating' })).map((l) => l.organization).sort(), ['Kootenay Lending', 'Nakuru Growers'])
  t.alike((await apiBorrower['market.query']({ role: 'originator' })).map((l) => l.did).sort(), [origA.did, issuer.did].sort(), 'roles come from certification')
  await t.exception(apiBorrower['market.query']({ service: 'lending' as never }), /service must be one of/)

  // the strict node requires certification: B's ad (and the borrower's) are refused there
  await until(dirOf(5), () => dirOf(5).get(origA.did) !== null && dirOf(5).get(issuer.did) !== null, 'strict node has the certified ads')
  t.is(dirOf(5).get(origB.did), null, 'an uncertified originator is refused where certification is required')
  t.is(dirOf(5).projects().map((p) => p.name).join(), 'Greenhouses')

  // join A's book from the ad, read the project; applying needs the originator's invite
  await t.exception(apiBorrower['market.join']({ topic: 'ybndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1u' }), /no fresh ad lists/)
  const joined = await apiBorrower['market.join']({ topic: green.book })
  t.is(joined.listedBy, origA.did)
  t.is(joined.originator, origA.did, 'the replicated book names the ad\'s DID as its originator')
  t.ok(joined.listerIsOriginator, 'so the lister is the originator')
  t.is(joined.certified, true)
  const book = borrower.book(green.book)
  await book.until(async () => (await book.view.get('projects', green.projectId))?.status === 'active', 20_000, 'project replicated')
  t.is((await apiBorrower['project.list']({ book: green.book }))[0].terms.name, 'Greenhouses', 'the borrower reads the project from the joined book')
  try {
    await apiBorrower['loan.apply']({ book: green.book, project: green.projectId, amount: 60_000, months: 6 })
    t.fail('a reader applied')
  } catch (err) {
    t.ok(err instanceof GrowrError, `a reader cannot apply: ${(err as Error).message}`)
  }
  const invite = await apiA['invite.create']({ book: green.book, role: 'borrower' })
  await apiBorrower['invite.accept']({ code: invite.code })
  const applied = await apiBorrower['loan.apply']({ book: green.book, project: green.projectId, amount: 60_000, months: 6 })
  t.is(applied.status, 'accepted', 'with the invite, she applies')
  await apiA['loan.show']({ book: green.book, loan: applied.id })
  const apps = await apiA['loan.applications']({ book: green.book })
  t.ok(apps.some((l) => l.loanId === applied.id), 'the originator sees her application')

  // a deactivated project leaves the ads
  await apiB['project.transition']({ book: made[1].topic, project: made[1].project, action: 'deactivate' })
  await until(dirOf(3), () => dirOf(3).projects().length === 1, 'B\'s deactivated project gone from the borrower\'s view')
  t.pass('a deactivated project leaves the network\'s listings')

  // hostile: a forged update of A's ad, ads signed for another network, and a flood from one DID
  const before = dirOf(4).get(origA.did)!.bytes
  const aAd = JSON.parse(b4a.toString(before)) as Advertisement
  const forged = encodeAd({ ...aAd, organization: 'Kootenay Lending (new bank details)', issuedAt: aAd.issuedAt + 5000 })
  const evil = generateKeyPair()
  const evilDid = publicKeyToDid(evil.publicKey)
  const base = Date.now()
  const evilAd = (i: number, network = b4a.toString(TOPIC, 'hex')) => signAd({
    ...aAd, network, did: evilDid, organization: `Flood ${i}`, chain: [], issuedAt: base + i, expiresAt: base + i + 3600_000
  }, evil.secretKey).bytes
  const refusedBefore = services.map((s) => s.ads!.gossip.stats.refused)
  let sent = 0
  const done = new Promise<void>((resolve) => {
    hostilePeer(t, net.testnet.createNode({ host: '127.0.0.1' }), (send) => {
      send(forged)
      send(evilAd(0, 'ff'.repeat(32)))
      for (let i = 0; i < 1000; i++) send(evilAd(i))
      if (++sent === 6) resolve()
    })
  })
  await done
  await until(dirOf(4), () => dirOf(4).get(evilDid) !== null, 'the flooding DID\'s ad arrives')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  for (const [i, s] of services.entries()) {
    const dir = s.ads!.directory
    t.alike(dir.get(origA.did)?.ad.organization, 'Kootenay Lending', `node ${i}: A's ad unchanged by the forgery`)
    if (i !== 5) t.is(dir.fresh().filter((e) => e.ad.did === evilDid).length, 1, `node ${i}: the flood keeps one ad`)
    t.ok(s.ads!.gossip.stats.refused > refusedBefore[i], `node ${i}: forged ads refused (${s.ads!.gossip.stats.refused - refusedBefore[i]})`)
  }
  t.is(dirOf(5).get(evilDid), null, 'the strict node refuses the uncertified flooder altogether')
  const stats = services[3].ads!.gossip.stats
  t.ok(stats.dropped > 0, `over the per-peer limit, dropped unread (${stats.dropped})`)
  t.is(dirOf(3).projects().map((p) => p.name).join(), 'Greenhouses', 'the borrower\'s listings are as before')
  t.is(dirOf(3).projects()[0].originator, origA.did, 'the flooder listed A\'s book as its own: the certified originator\'s listing stands')
})

test('ads network - ads expire on the injected clock; the own ad is re-announced', { timeout: 60_000 }, async (t) => {
  const net = await createNet(t, 3)
  let skew = 0
  const clock = () => Date.now() + skew
  const services = net.nodes.map((n, i) => new Services(n, { ads: { network: NETWORK, organization: `N${i}`, ttlMs: 600_000, debounceMs: 100, ...(i === 2 ? { now: clock } : {}) } }))
  for (const s of services) await s.ready()
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  const dir = services[2].ads!.directory
  await until(dir, () => dir.fresh().length === 3, 'three ads')
  skew = 600_000
  t.is(dir.fresh().length, 0, 'ten minutes later every ad, ours included, has expired')
  await services[2].ads!.publish()
  t.is(dir.fresh().length, 1, 're-announced: our fresh ad is back')
  t.ok(dir.get(net.nodes[2].did)!.ad.issuedAt >= Date.now() + 600_000 - 1000, 'issued on our clock')
  // the others refuse it: ten minutes ahead of their clocks
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const other = services[0].ads!
  t.ok(other.gossip.stats.refused >= 1, 'an ad from the future is refused')
  t.is(other.directory.get(net.nodes[2].did)!.ad.issuedAt < Date.now() + 1000, true, 'the others keep the last ad they could trust')
})
