/**
 * Certificate chains in the signed peer hello (core/network/peer-rpc.ts v2), verified by the other
 * side (core/services/services.ts peerCertification) and shown by `network.peers`, over a local
 * HyperDHT testnet with real governance: a founder certifies a governance DID, which certifies an
 * originator; revocation lists are the certifiers' own, read over the testnet. Hostile peers: one
 * replays the originator's genuine chain as its own, stubs send a chain swapped after signing and
 * one over the size limit.
 */
import test from 'brittle'
import Hyperswarm from 'hyperswarm'
import ProtomuxRPC from 'protomux-rpc'
import { createNet, seed } from './helpers/net.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { NETWORK_SETTING } from '../core/governance/network-in-use.ts'
import { saveOwnChain } from '../core/governance/certifier.ts'
import { decodeHello, encodeHello, encodeHelloChain, helloMessage, makeHello, MAX_HELLO_CHAIN_BYTES, RPC_PROTOCOL, type SecretStream } from '../core/network/peer-rpc.ts'
import { didTopic } from '../core/network/did-topic.ts'
import { generateKeyPair, sign } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import type { GrowrError } from '../core/errors.ts'
import type { GrowrNode } from '../core/node.ts'
import type Hyperbee from 'hyperbee'
import type { OrganizationCertificate } from '../core/governance/certificate.ts'
import { until as waitUntil } from './helpers/until.ts'

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> => await waitUntil(what, check, ms, 200)

test('peer chains - who certified a peer: certified, uncertified, a replayed chain, a swapped or oversized one, revoked', { timeout: 120_000 }, async (t) => {
  const started = Date.now()
  const net = await createNet(t, 5)
  const [founder, gov, ann, bob, mallory] = net.nodes as GrowrNode[]
  const definition = { version: 1, name: 'peer-chains-test', founders: [founder.did] }
  for (const n of net.nodes) await (n.local as Hyperbee).put(NETWORK_SETTING, definition)
  // bob reuses a verified certification for 2 s, so the test can see it go stale
  const services = net.nodes.map((n, i) => new Services(n, { announce: true, statusTimeoutMs: 10_000, ads: false, peerCertificationMaxAgeMs: i === 3 ? 2000 : undefined }))
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  for (const s of services) await s.ready()
  const [apiF, apiG, apiA, apiB] = net.nodes.map((n, i) => createHandlers(n, services[i]))
  const rpcB = services[3].rpc!

  const govCert = await apiF['network.certify']({ subject: gov.did, name: 'Kootenay Governance', governance: true })
  const annCert = await apiG['network.certify']({ subject: ann.did, name: 'Ann Lending', roles: ['originator'] })
  const annChain: OrganizationCertificate[] = [govCert, annCert]
  t.ok((await apiA['network.chain.set']({ chain: annChain })).ok, 'ann keeps her chain (and says hello again with it)')
  // mallory cannot keep ann's chain through the contract; she writes it into her own store
  await saveOwnChain(mallory.local as Hyperbee, annChain)
  await services[4].refreshOwnChain()

  const refused: GrowrError[] = []
  rpcB.on('hello-refused', (err: GrowrError) => refused.push(err))
  await rpcB.connect(ann.did as DidKey, { timeoutMs: 20_000 })
  await rpcB.connect(mallory.did as DidKey, { timeoutMs: 20_000 })
  const peerAt = async (api: typeof apiB, did: string, refresh = false) => (await api['network.peers']({ refresh })).find((p) => p.did === did)

  await until('bob sees ann certified', async () => (await peerAt(apiB, ann.did))?.certified === true)
  const seen = await peerAt(apiB, ann.did)
  t.alike(seen?.organization, { name: 'Ann Lending', roles: ['originator'] }, 'the organization and its roles, from the chain in ann\'s hello')
  t.alike(seen?.certifiedBy?.map((l) => [l.issuer, l.subject, l.name]), [[founder.did, gov.did, 'Kootenay Governance'], [gov.did, ann.did, 'Ann Lending']], 'certified by the governance DID, which the founder certified')
  t.is(seen?.chain, `founder ${founder.did} -> "Kootenay Governance" -> "Ann Lending"`, 'the chain in words')
  t.alike(rpcB.peerChain(ann.did as DidKey), JSON.parse(JSON.stringify(annChain)), 'the hello carried ann\'s chain as she keeps it')

  // bob presents no chain: ann shows him uncertified, with the reason
  await until('ann lists bob', async () => (await peerAt(apiA, bob.did)) !== undefined)
  const bobAtAnn = await peerAt(apiA, bob.did)
  t.is(bobAtAnn?.certified, false, 'a peer without a chain is uncertified')
  t.ok(/the chain is empty: nobody certified this DID/.test(bobAtAnn?.reason ?? ''), bobAtAnn?.reason)
  t.is(bobAtAnn?.chain, '', 'and has no chain to show')

  // mallory's hello is genuinely hers, but the chain in it certifies ann
  const mal = await peerAt(apiB, mallory.did)
  t.is(mal?.certified, false, 'a peer replaying another node\'s valid chain is uncertified')
  t.ok(mal?.reason?.includes(`issued to ${ann.did}, not to this peer`), mal?.reason)
  t.absent(mal?.organization, 'and gets no organization from it')

  // stubs: mallory's own key, hellos built by hand on a swarm without PeerRpc
  const key = generateKeyPair(seed(4))
  const malWho = { did: publicKeyToDid(key.publicKey), secretKey: key.secretKey }
  t.is(malWho.did, mallory.did, 'the stubs speak as mallory')
  const stub = async (hello: (conn: SecretStream) => Uint8Array): Promise<boolean> => {
    const swarm = new Hyperswarm({ dht: net.testnet.createNode({ host: '127.0.0.1' }) })
    t.teardown(async () => { await swarm.destroy(); await swarm.dht.destroy() }, { order: -Infinity })
    const rpc = await new Promise<ProtomuxRPC>((resolve) => {
      swarm.on('connection', (conn: SecretStream & { on (e: string, f: () => void): void }) => {
        conn.on('error', () => {})
        resolve(new ProtomuxRPC(conn, { protocol: RPC_PROTOCOL, valueEncoding: null, handshake: hello(conn) }))
      })
      swarm.join(didTopic(bob.did as DidKey), { server: false, client: true })
    })
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000)
      rpc.once('close', () => { clearTimeout(timer); resolve(true) })
    })
  }
  const before = refused.length
  // a relay keeps mallory's signature over her empty chain and slips ann's chain in
  t.ok(await stub((conn) => encodeHello({ ...decodeHello(makeHello(malWho.did, malWho.secretKey, conn, [])), chain: encodeHelloChain(annChain) })), 'a chain swapped after signing: bob closed the channel')
  // the same chain padded past the limit, correctly signed
  const big = encodeHelloChain([...annChain, { padding: 'x'.repeat(MAX_HELLO_CHAIN_BYTES) }])
  t.ok(await stub((conn) => encodeHello({ did: malWho.did, chain: big, signature: sign(helloMessage(conn.handshakeHash!, conn.publicKey!, big), malWho.secretKey) })), 'an oversized chain: bob closed the channel')
  t.is(refused.length - before, 2, 'bob refused both hellos')
  t.ok(/signature does not hold for this connection and this certificate chain/.test(refused[before]?.message), refused[before]?.message)
  t.ok(/at most 65536 are accepted/.test(refused[before + 1]?.message), refused[before + 1]?.message)
  t.is((await peerAt(apiB, mallory.did))?.certified, false, 'mallory is still uncertified at bob')

  // the governance DID revokes ann: once the check goes stale, bob checks again and shows it
  await apiG['network.revoke']({ id: annCert.id })
  await new Promise((resolve) => setTimeout(resolve, 2100))
  const revoked = await peerAt(apiB, ann.did)
  t.is(revoked?.certified, false, 'after the check went stale, ann is uncertified')
  t.ok(/certificate 2 of 2 .* was revoked by/.test(revoked?.reason ?? ''), revoked?.reason)
  const refreshed = await peerAt(apiB, ann.did, true)
  t.ok(refreshed?.certified === false && /revoked/.test(refreshed.reason ?? ''), 'and on a refresh')

  // certified anew while connected: ann's new hello reaches bob on the connection they have
  const connections = bob.swarm!.connections.size
  const again = await apiG['network.certify']({ subject: ann.did, name: 'Ann Lending', roles: ['originator', 'investor-organization'] })
  t.ok((await apiA['network.chain.set']({ chain: [govCert, again] })).ok, 'ann keeps her new chain')
  await until('bob sees ann certified again', async () => (await peerAt(apiB, ann.did))?.certified === true)
  t.alike((await peerAt(apiB, ann.did))?.organization?.roles, ['originator', 'investor-organization'], 'with the roles of the new certificate')
  t.is(bob.swarm!.connections.size, connections, 'without a new connection')
  t.comment(`peer chains test took ${Math.round((Date.now() - started) / 1000)} s`)
})
