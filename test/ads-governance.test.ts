/**
 * The ads as a node runs them by default: on the topic of the network it uses (its setting), with
 * its own certificate chain in its ad, and every peer's ad marked by the real chain check up to
 * the network's founder (core/governance/chain.ts), revocation read from the certifier's status
 * list over the testnet. A founder certifies one originator; another stays uncertified; a chain
 * set while the node runs reaches the others at once; a revoked certificate unmarks it.
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { NETWORK_SETTING } from '../core/governance/network-in-use.ts'
import type { GrowrNode } from '../core/node.ts'
import type Hyperbee from 'hyperbee'
import { until as waitUntil } from './helpers/until.ts'

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> => await waitUntil(what, check, ms, 200)

test('ads governance - ads travel on the node\'s network and are marked by the chain to its founder, set and revoked while nodes run', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 4)
  const [founder, certified, uncertified] = net.nodes as GrowrNode[]
  const definition = { version: 1, name: 'ads-governance-test', founders: [founder.did] }
  for (const n of net.nodes) {
    await n.ready()
    await (n.local as Hyperbee).put(NETWORK_SETTING, definition)
  }
  const services = net.nodes.map((n) => new Services(n, { statusTimeoutMs: 5000 }))
  for (const s of services) await s.ready()
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  const api = net.nodes.map((n, i) => createHandlers(n, services[i]))
  const [apiF, apiC, , apiO] = api
  t.is((await apiO['network.show']({})).name, 'ads-governance-test', 'every node uses the network its setting names')

  const listing = async (did: string) => (await apiO['market.query']({})).find((l) => l.did === did)
  await until('the observer sees both organizations\' ads', async () => (await listing(certified.did)) !== undefined && (await listing(uncertified.did)) !== undefined)
  t.absent((await listing(certified.did))?.certified, 'before any certificate, nobody is certified')

  // the founder certifies one organization directly; it keeps the chain while running
  const cert = await apiF['network.certify']({ subject: certified.did, name: 'Ann Lending', roles: ['originator'], validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z') })
  const kept = await apiC['network.chain.set']({ chain: [cert] })
  t.ok(kept.ok, 'the chain verifies on the certified node itself')
  await until('the observer marks the certified organization', async () => (await listing(certified.did))?.certified === true)
  const marked = await listing(certified.did)
  t.alike(marked?.roles, ['originator'], 'with the roles its certificate grants')
  t.ok(marked?.certifiedBy?.includes(founder.did), `certified by the network's founder (${marked?.certifiedBy})`)
  t.absent((await listing(uncertified.did))?.certified, 'the other organization stays uncertified')

  // revoked: the mark goes when its ad is checked again (the next announce)
  await apiF['network.revoke']({ id: cert.id as string })
  await services[1].ads!.publish({ force: true })
  await until('the revoked organization is unmarked', async () => (await listing(certified.did))?.certified === false, 60_000)
  t.ok(/revoked/i.test((await listing(certified.did))?.certificationNote ?? ''), `and the reason says so (${(await listing(certified.did))?.certificationNote})`)
})

test('ads governance - network.use moves a running node to the other network at once: its ad and directory follow', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [a, b, c] = net.nodes as GrowrNode[]
  const services = net.nodes.map((n) => new Services(n, { statusTimeoutMs: 5000, ads: { debounceMs: 200, minUpdateMs: 100 } }))
  for (const s of services) await s.ready()
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  const [apiA, apiB, apiC] = net.nodes.map((n, i) => createHandlers(n, services[i]))
  const sees = async (api: typeof apiA, did: string) => (await api['market.query']({})).some((l) => l.did === did)
  await until('all three meet on the shipped network', async () => await sees(apiA, c.did) && await sees(apiC, b.did))

  const network = { version: 1, name: 'ads-switch-test', founders: [a.did] }
  const firstTopic = services[0].ads!.topic
  await apiA['network.use']({ network })
  await apiB['network.use']({ network })
  t.not(services[0].ads!.topic, firstTopic, 'A\'s ads run on the new network\'s topic without a restart')
  t.is((await apiA['network.show']({})).name, 'ads-switch-test')
  await until('A and B meet on the private network', async () => await sees(apiA, b.did) && await sees(apiB, a.did))
  t.absent(await sees(apiA, c.did), 'A\'s new directory holds no ad from the node left on the shipped network')
  t.ok(services[0].ads!.directory.fresh().every((e) => e.ad.network === b4aHex(services[0].ads!.topic)), 'every ad it holds names the private network')

  await apiA['network.use']({ network: null })
  t.is(b4aHex(services[0].ads!.topic), b4aHex(firstTopic), 'and back to the shipped network')
  await until('A sees C again', async () => await sees(apiA, c.did))
  t.pass('A sees C again on the shipped network')
})

function b4aHex (u: Uint8Array): string { return Buffer.from(u).toString('hex') }
