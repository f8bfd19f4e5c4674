/**
 * Services started on a node whose connections already exist (a book's peers met first; the
 * desktop opens its services after the node): the peer-RPC, pubsub and ads channels still open
 * on those connections, whichever side starts its services last (core/network/late-channel.ts
 * and peer-rpc's re-hello pairing answer the late side's open).
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { Services } from '../core/services/services.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import { until as waitUntil } from './helpers/until.ts'

const until = async (what: string, check: () => boolean, ms = 20_000): Promise<void> => await waitUntil(what, check, ms)

test('late services - started one after the other on connected nodes, rpc, pubsub and ads all reach the peer', { timeout: 90_000 }, async (t) => {
  const net = await createNet(t, 2)
  const [a, b] = net.nodes
  const book = await a.createBook('Met first')
  await b.joinBook(book.topic)
  await until('the two nodes are connected', () => (a.swarm?.connections.size ?? 0) > 0 && (b.swarm?.connections.size ?? 0) > 0)

  const sa = new Services(a, { ads: { network: 'late-it', debounceMs: 100, minUpdateMs: 100 } })
  await sa.ready()
  t.teardown(async () => { await sa.close() }, { order: -Infinity + 1 })
  // b's services come up well after a's channels were opened and rejected
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const sb = new Services(b, { ads: { network: 'late-it', debounceMs: 100, minUpdateMs: 100 } })
  await sb.ready()
  t.teardown(async () => { await sb.close() }, { order: -Infinity + 1 })

  await until('rpc both ways', () => sa.rpc!.peers().includes(b.did as DidKey) && sb.rpc!.peers().includes(a.did as DidKey))
  t.pass('each side\'s rpc knows the other by its DID')
  await until('ads both ways', () => sa.ads!.directory.get(b.did) !== null && sb.ads!.directory.get(a.did) !== null)
  t.pass('each side holds the other\'s ad')

  const heard: unknown[] = []
  sb.pubsub!.subscribe('late/topic', (m) => { heard.push(m.data) })
  await until('a sees b\'s subscription', () => sa.pubsub!.peersOn('late/topic') > 0)
  await sa.pubsub!.publish('late/topic', { hello: 'late' })
  await until('b hears a', () => heard.length > 0)
  t.alike(heard, [{ hello: 'late' }], 'pubsub reaches the late side')
})
