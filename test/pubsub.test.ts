import test, { type Assertion } from 'brittle'
import Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import c from 'compact-encoding'
import b4a from 'b4a'
import crypto from 'node:crypto'
import { createNet, seed } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { accepted } from './helpers/book.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { PubSub, PUBSUB_PROTOCOL, MAX_MESSAGE_BYTES, MAX_TOPICS, publicationFrame, subscriptionsFrame, signMessage, openMessage, type PubSubMessage, type DropReason } from '../core/network/pubsub.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import { throwsCode } from './helpers/assert.ts'

const TOPIC = 'market'

interface Who { did: DidKey; secretKey: Uint8Array }
function who (n: number): Who {
  const kp = generateKeyPair(seed(n))
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
}

/** A PubSub on `node`'s swarm, attached to every connection, present and future; closed after the test. */
function pubsubOn (t: Assertion, node: GrowrNode, opts: Partial<ConstructorParameters<typeof PubSub>[0]> = {}): PubSub {
  const ps = new PubSub({ identity: node.identity as Identity as Who, ...opts })
  const swarm = node.swarm as Hyperswarm
  swarm.on('connection', (conn: unknown) => ps.attach(conn))
  for (const conn of swarm.connections) ps.attach(conn)
  t.teardown(async () => { await ps.close() }, { order: -Infinity + 1 })
  return ps
}

/** Connects two nodes (and only them) through a fresh topic: the test decides the topology. */
async function link (a: GrowrNode, b: GrowrNode): Promise<void> {
  const topic = crypto.randomBytes(32)
  const sa = a.swarm as Hyperswarm
  const sb = b.swarm as Hyperswarm
  await sa.join(topic, { server: true, client: false }).flushed()
  sb.join(topic, { server: false, client: true })
  await sb.flush()
}

/** Resolves once `check` holds, re-checked on each pubsub event of `ps` (no polling). */
async function until (ps: PubSub[] | PubSub, check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const list = Array.isArray(ps) ? ps : [ps]
  if (check()) return
  await new Promise<void>((resolve, reject) => {
    const off = () => { for (const p of list) for (const e of ['message', 'dropped', 'subscriptions']) p.off(e, on) }
    const timer = setTimeout(() => { off(); reject(new Error(`timed out: ${what}`)) }, ms)
    const on = () => { if (check()) { clearTimeout(timer); off(); resolve() } }
    for (const p of list) for (const e of ['message', 'dropped', 'subscriptions']) p.on(e, on)
  })
}

/** A moment for stray copies to arrive: a real wait, since we assert that nothing more comes. */
const settle = async (ms = 500) => await new Promise((resolve) => setTimeout(resolve, ms))

/** The DIDs of the remote peers `node` is connected to, by their swarm keys. */
function linkedTo (node: GrowrNode, all: GrowrNode[]): number[] {
  const keys = [...(node.swarm as Hyperswarm).connections].map((conn) => b4a.toString((conn as { remotePublicKey: Uint8Array }).remotePublicKey, 'hex'))
  return all.map((n, i) => keys.includes(b4a.toString((n.swarm as unknown as { keyPair: { publicKey: Uint8Array } }).keyPair.publicKey, 'hex')) ? i : -1).filter((i) => i >= 0)
}

interface Raw { frames: Uint8Array[]; sendSubs (topics: string[] | Uint8Array): void; send (bytes: Uint8Array): void; closed: boolean; opened: Promise<void>; gone: Promise<void>; first: Promise<Uint8Array>; reopen (): Promise<boolean> }

/** A raw peer connected to `target` only, speaking the pubsub channel by hand: what a hostile node can send. */
async function rawPeer (t: Assertion, net: { testnet: { createNode (o: unknown): unknown } }, target: GrowrNode): Promise<Raw> {
  const swarm = new Hyperswarm({ dht: net.testnet.createNode({ host: '127.0.0.1' }) as never })
  t.teardown(async () => { await swarm.destroy(); await (swarm.dht as { destroy (): Promise<void> }).destroy() }, { order: -Infinity + 0.5 })
  let opened: () => void = () => {}
  let gone: () => void = () => {}
  let first: (b: Uint8Array) => void = () => {}
  const raw: Raw = {
    frames: [],
    sendSubs: () => {},
    send: () => {},
    reopen: async () => false,
    closed: false,
    opened: new Promise<void>((resolve) => { opened = resolve }),
    gone: new Promise<void>((resolve) => { gone = resolve }),
    first: new Promise<Uint8Array>((resolve) => { first = resolve })
  }
  swarm.on('connection', (conn: { on (e: string, f: () => void): void }) => {
    conn.on('error', () => {})
    const mux = Protomux.from(conn) as unknown as { createChannel (o: unknown): { addMessage (o: unknown): { send (b: Uint8Array): boolean }; open (): void } | null }
    const ch = mux.createChannel({ protocol: PUBSUB_PROTOCOL, onopen: () => opened(), onclose: () => { raw.closed = true; gone() } })
    if (!ch) return
    const subs = ch.addMessage({ encoding: c.raw, onmessage: () => {} })
    const pubs = ch.addMessage({ encoding: c.raw, onmessage: (b: Uint8Array) => { raw.frames.push(b); first(b) } })
    raw.sendSubs = (topics) => { subs.send(topics instanceof Uint8Array ? topics : c.encode(subscriptionsFrame, topics)) }
    raw.send = (bytes) => { pubs.send(bytes) }
    // opens the channel again on the same connection: whether the target answers it within 3 s
    raw.reopen = async () => await new Promise<boolean>((resolve) => {
      const again = mux.createChannel({ protocol: PUBSUB_PROTOCOL, onopen: () => resolve(true), onclose: () => resolve(false) })
      if (!again) return resolve(false)
      again.addMessage({ encoding: c.raw, onmessage: () => {} })
      again.addMessage({ encoding: c.raw, onmessage: () => {} })
      again.open()
      setTimeout(() => resolve(false), 3000)
    })
    ch.open()
  })
  const topic = crypto.randomBytes(32)
  await (target.swarm as Hyperswarm).join(topic, { server: true, client: false }).flushed()
  swarm.join(topic, { server: false, client: true })
  await raw.opened
  return raw
}

const frame = (m: PubSubMessage | Uint8Array, hops = 0) => c.encode(publicationFrame, { hops, json: m instanceof Uint8Array ? m : b4a.from(JSON.stringify(m)) })

test('pubsub - a message reaches every subscriber once, relayed to peers not connected to the publisher; unsubscribed peers get nothing; a throwing subscriber hurts no one', { timeout: 60_000 }, async (t) => {
  const net = await createNet(t, 6)
  const n = net.nodes
  // 0-1, 1-2, 2-3, 1-3 (a cycle, so copies do arrive twice), 3-4, and 5 hanging off 1 unsubscribed
  for (const [a, b] of [[0, 1], [1, 2], [2, 3], [1, 3], [3, 4], [1, 5]]) await link(n[a], n[b])
  const ps = n.map((node) => pubsubOn(t, node))
  const got: PubSubMessage[][] = n.map(() => [])
  // node 3's first subscriber throws: the one after it must still be called
  ps[3].subscribe(TOPIC, () => { throw new TypeError('a buggy subscriber') })
  const unsubs = [0, 1, 2, 3, 4].map((i) => ps[i].subscribe(TOPIC, (m) => { got[i].push(m) }))
  const unsub4 = unsubs[4]
  const fifth: PubSubMessage[] = []
  ps[5].subscribe('elsewhere', (m) => { fifth.push(m) })
  await until(ps, () => ps[0].peersOn(TOPIC) === 1 && ps[1].peersOn(TOPIC) === 3 && ps[3].peersOn(TOPIC) === 3 && ps[4].peersOn(TOPIC) === 1 && ps[1].stats().peers === 4 && ps[1].peersOn('elsewhere') === 1, 'subscriptions known')
  t.alike(linkedTo(n[0], n), [1], 'the publisher is connected to node 1 only')
  t.alike(linkedTo(n[4], n), [3], 'node 4 is three links away, through 1 and 3')
  t.is(ps[1].peersOn('elsewhere'), 1, 'node 1 knows node 5 follows another topic')

  const res = await ps[0].publish(TOPIC, { project: 'greenhouses', amount: '1000000' })
  t.is(res.sentTo, 1, 'sent to the one connected subscriber')
  t.ok(/^[0-9a-f]{64}$/.test(res.id), 'id is a 32-byte hash')
  await until(ps, () => got.slice(1, 5).every((g) => g.length >= 1), 'delivered to 1..4')
  await settle()
  t.alike(got.map((g) => g.length), [0, 1, 1, 1, 1, 0], 'each subscriber got it once; the publisher does not hear itself')
  const m = got[4][0]
  t.is(m.from, n[0].did, 'from the publisher')
  t.alike(m.data, { project: 'greenhouses', amount: '1000000' })
  t.is(m.id, res.id)
  t.is(fifth.length, 0, 'the unsubscribed node got nothing')
  t.is(ps[5].stats().received, 0, 'nothing was even sent to it')
  const dup = ps.reduce((s, p) => s + p.stats().dropped.duplicate, 0)
  t.ok(dup >= 1, `copies over the cycle dropped as duplicates (${dup})`)
  t.is(ps[3].stats().callbackErrors, 1, 'the throwing subscriber is counted; its neighbour still got the message')
  t.ok(ps[3].stats().relayed >= 1, 'node 3 relayed to node 4')

  // a second subscription on a topic ends alone; ending the last one is announced
  const again: PubSubMessage[] = []
  const un = ps[2].subscribe(TOPIC, (x) => { again.push(x) })
  un()
  un()
  t.alike(ps[2].topics().map((x) => x.topic), [TOPIC], 'node 2 still follows the topic')
  unsub4()
  await until(ps, () => ps[3].peersOn(TOPIC) === 2, 'node 3 learns node 4 left')
  const before = ps[4].stats().received
  await ps[0].publish(TOPIC, { n: 2 })
  await until(ps, () => got[2].length === 2 && got[3].length === 2, 'second message')
  await settle()
  t.is(again.length, 0, 'an ended subscription gets nothing')
  t.is(got[4].length, 1, 'node 4 left and got nothing more')
  t.is(ps[4].stats().received, before, 'nothing was sent to it')
})

test('pubsub - the hop limit holds on a line', { timeout: 60_000 }, async (t) => {
  const net = await createNet(t, 4)
  const n = net.nodes
  for (const [a, b] of [[0, 1], [1, 2], [2, 3]]) await link(n[a], n[b])
  const ps = n.map((node) => pubsubOn(t, node, { maxHops: 2 }))
  const got: number[] = [0, 0, 0, 0]
  for (let i = 0; i < 4; i++) ps[i].subscribe(TOPIC, () => { got[i]++ })
  await until(ps, () => ps[1].peersOn(TOPIC) === 2 && ps[2].peersOn(TOPIC) === 2 && ps[3].peersOn(TOPIC) === 1, 'line subscribed')
  t.alike(linkedTo(n[0], n), [1])
  t.alike(linkedTo(n[3], n), [2])
  await ps[0].publish(TOPIC, 'two hops at most')
  await until(ps, () => got[2] === 1, 'two links away')
  await settle()
  t.alike(got, [0, 1, 1, 0], 'node 3, three links away, is beyond a hop limit of 2')
  t.is(ps[2].stats().relayed, 0, 'the last node within the limit does not relay')
})

test('pubsub - forged, oversized, stale, future, replayed, malformed and flooded frames from hostile peers are dropped and counted; honest traffic still arrives', { timeout: 60_000 }, async (t) => {
  const net = await createNet(t, 4)
  const n = net.nodes
  for (const [a, b] of [[0, 1], [1, 2], [2, 3]]) await link(n[a], n[b])
  // node 1 is the victim, with tight limits so a test can reach them
  const ps = n.map((node, i) => pubsubOn(t, node, i === 1 ? { maxPerMinute: 60, maxSeen: 8, maxInvalid: 10 } : {}))
  const got: PubSubMessage[][] = n.map(() => [])
  for (let i = 0; i < 4; i++) ps[i].subscribe(TOPIC, (m) => { got[i].push(m) })
  const victim = ps[1]
  const mallory = who(40)
  const eve = who(41)
  const a = await rawPeer(t, net, n[1])
  const b = await rawPeer(t, net, n[1])
  a.sendSubs([TOPIC])
  b.sendSubs([TOPIC])
  await until(ps, () => ps[0].peersOn(TOPIC) === 1 && victim.peersOn(TOPIC) === 4 && ps[3].peersOn(TOPIC) === 1, 'subscriptions known')
  const dropped = () => victim.stats().dropped
  const waitDrop = async (reason: DropReason, count: number) => await until(victim, () => dropped()[reason] >= count, `${count} ${reason}`)

  // an honest message, which the victim relays to the hostile peers too (they subscribed)
  await ps[0].publish(TOPIC, { honest: 1 })
  await until(ps, () => got[3].length === 1, 'honest message across the line')
  const captured = await a.first

  await t.test('pubsub - a subscription list over the bounds is refused', async (st) => {
    a.sendSubs(Array.from({ length: MAX_TOPICS + 1 }, (_, i) => `t${i}`))
    a.sendSubs(b4a.from([1, 0xff, 0xff]))
    await waitDrop('subscriptions', 2)
    st.is(dropped().subscriptions, 2, 'both counted')
    st.is(victim.peersOn(TOPIC), 4, 'the peer keeps its last good list')
  })

  await t.test('pubsub - a malformed frame is counted and the connection lives on', async (st) => {
    a.send(b4a.from([9, 9, 9]))
    a.send(frame(b4a.from('{"v":1,')))
    await waitDrop('malformed', 2)
    st.is(a.closed, false, 'channel still open')
  })

  await t.test('pubsub - a forged signature is refused and not relayed', async (st) => {
    // Mallory signs a message in the publisher's name with her own key
    const forged = signMessage({ identity: { did: n[0].did as DidKey, secretKey: mallory.secretKey }, topic: TOPIC, data: { honest: 'no' }, at: Date.now(), seq: Date.now() * 1000 })
    a.send(frame(forged))
    // and one whose content was changed after an honest signature
    const real = JSON.parse(b4a.toString(c.decode(publicationFrame, captured).json)) as PubSubMessage
    a.send(frame({ ...real, data: { honest: 2 } }))
    await waitDrop('signature', 1)
    await waitDrop('malformed', 3) // the edited one: its id no longer matches its content
    st.is(dropped().signature, 1, 'forged signature counted')
    const r = openMessage(b4a.from(JSON.stringify(forged)), { now: Date.now() })
    st.ok(!r.ok && r.code === 'signature' && /signature does not hold/.test(r.reason), r.ok ? '' : r.reason)
  })

  await t.test('pubsub - oversized, stale and future messages are refused', async (st) => {
    const big = b4a.alloc(MAX_MESSAGE_BYTES + 1, 0x20)
    a.send(frame(big))
    const now = Date.now()
    a.send(frame(signMessage({ identity: mallory, topic: TOPIC, data: 'old news', at: now - 10 * 60_000, seq: 1 })))
    a.send(frame(signMessage({ identity: mallory, topic: TOPIC, data: 'from the future', at: now + 10 * 60_000, seq: 2 })))
    await waitDrop('oversized', 1)
    await waitDrop('stale', 1)
    await waitDrop('future', 1)
    st.pass('each counted under its reason')
    throwsCode(st, () => signMessage({ identity: mallory, topic: TOPIC, data: 'x'.repeat(MAX_MESSAGE_BYTES), at: now, seq: 3 }), 'BAD_ARGUMENT', 'an honest publisher cannot build one over the cap')
  })

  await t.test('pubsub - a replayed message is dropped, also after the seen-cache forgot it', async (st) => {
    a.send(captured)
    await waitDrop('duplicate', 1)
    // push the id out of the victim's seen-cache (maxSeen 8) with messages of Mallory's own
    for (let i = 0; i < 9; i++) a.send(frame(signMessage({ identity: mallory, topic: TOPIC, data: { i }, at: Date.now(), seq: 100 + i })))
    await until(victim, () => got[1].filter((m) => m.from === mallory.did).length === 9, 'Mallory\'s nine')
    a.send(captured)
    await waitDrop('replay', 1)
    st.is(dropped().replay, 1, 'caught by the publisher\'s seq window')
    st.is(got[1].filter((m) => m.from === n[0].did).length, 1, 'the honest message was delivered once')
  })

  await t.test('pubsub - a flood from one peer is cut to its rate; honest traffic still arrives', async (st) => {
    const rateBefore = dropped().rate
    const start = Date.now()
    for (let i = 0; i < 300; i++) b.send(frame(signMessage({ identity: eve, topic: TOPIC, data: { i }, at: start, seq: start * 1000 + i })))
    await until(victim, () => dropped().rate - rateBefore >= 200, 'flood throttled')
    await ps[0].publish(TOPIC, { honest: 2 })
    await until(ps, () => got[3].some((m) => (m.data as { honest?: number }).honest === 2), 'honest message through the flood')
    await settle()
    const fromEve = got[1].filter((m) => m.from === eve.did).length
    st.ok(fromEve <= 61, `at most a minute's worth of Eve's (${fromEve}) delivered`)
    st.ok(got[3].filter((m) => m.from === eve.did).length <= fromEve, 'the flood went no further than the victim let it')
    st.ok(dropped().rate - rateBefore >= 239, `the rest dropped for rate (${dropped().rate - rateBefore})`)
  })

  await t.test('pubsub - a peer sending invalid frames is cut off', async (st) => {
    for (let i = 0; i < 12; i++) a.send(frame(signMessage({ identity: { did: n[0].did as DidKey, secretKey: mallory.secretKey }, topic: TOPIC, data: { i }, at: Date.now(), seq: i })))
    await waitDrop('graylisted', 1)
    await a.gone
    st.ok(a.closed, 'the channel closed')
    st.ok((n[1].swarm as Hyperswarm).connections.size >= 3, 'the connection itself (and replication) stays')
    st.absent(await a.reopen(), 'reopening the channel on that connection gets no answer: a cut-off peer stays cut off')
  })

  t.is(got[0].filter((m) => m.from === n[0].did).length, 0, 'the publisher never heard its own messages back')
})

test('pubsub - topic bounds and local limits', async (t) => {
  const ps = new PubSub({ identity: who(3) })
  t.teardown(async () => { await ps.close() })
  throwsCode(t, () => ps.subscribe('', () => {}), 'BAD_ARGUMENT', 'empty topic')
  throwsCode(t, () => ps.subscribe('a b', () => {}), 'BAD_ARGUMENT', 'a space')
  throwsCode(t, () => ps.subscribe('x'.repeat(129), () => {}), 'BAD_ARGUMENT', 'too long')
  for (let i = 0; i < MAX_TOPICS; i++) ps.subscribe(`t${i}`, () => {})
  throwsCode(t, () => ps.subscribe('one-more', () => {}), 'BAD_ARGUMENT', `beyond ${MAX_TOPICS} topics`)
  ps.subscribe('t0', () => {})
  t.is(ps.topics().length, MAX_TOPICS, 'a second subscription on a known topic is fine')
  const r = await ps.publish('t1', { nobody: 'listens' })
  t.is(r.sentTo, 0)
  await t.exception(async () => await ps.publish('t1', 10n), /BAD_ARGUMENT/, 'a bigint is not JSON')
  throwsCode(t, () => new PubSub({ identity: { did: 'did:web:x' as DidKey, secretKey: new Uint8Array(64) } }), 'BAD_ARGUMENT', 'not a did:key')
  throwsCode(t, () => new PubSub({ identity: who(3), maxHops: 0 }), 'BAD_ARGUMENT', 'hop limit 0')
})

test('pubsub - projects topic: a borrower that subscribed hears of a project the originator activates', { timeout: 60_000 }, async (t) => {
  const net = await createNet(t, 4)
  const services = net.nodes.map((node) => new Services(node, { ads: { network: 'pubsub-it', debounceMs: 200, minUpdateMs: 100 } }))
  for (const s of services) await s.ready()
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  const [orig, borrower, investor, bystander] = services
  for (const s of services) t.ok(s.pubsub instanceof PubSub, 'Services exposes a pubsub')
  const heard: PubSubMessage[] = []
  const invested: PubSubMessage[] = []
  ;(borrower.pubsub as PubSub).subscribe('projects', (m) => { heard.push(m) })
  ;(investor.pubsub as PubSub).subscribe('projects', (m) => { invested.push(m) })
  const all = services.map((s) => s.pubsub as PubSub)
  await until(all, () => all[0].peersOn('projects') === 2 && all[1].peersOn('projects') === 1, 'the originator sees two subscribers')
  // (other parts of the node may follow topics of their own: only 'projects' is looked at)
  const topicsOf = async (i: number) => (await createHandlers(net.nodes[i], services[i])['pubsub.topics']({})).filter((x) => x.topic === 'projects')
  t.alike(await topicsOf(1), [{ topic: 'projects', peers: 1 }], 'pubsub.topics: the borrower follows projects, as does one peer (the investor)')
  t.alike(await topicsOf(3), [], 'the bystander does not follow projects')
  const bystanderGot: PubSubMessage[] = []
  ;(bystander.pubsub as PubSub).on('message', (m: PubSubMessage) => { if (m.topic === 'projects') bystanderGot.push(m) })

  const book = await net.nodes[0].createBook('Kootenay circle')
  const projectId = book.newId()
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now(), { name: 'Seed money' }) }])
  await settle(800)
  t.is(heard.length, 0, 'a project not yet active is not announced')
  await accepted(t, book, [{ type: 'project/activate', projectId }])
  await until(all, () => heard.length >= 1 && invested.length >= 1, 'announced')
  await settle(800)
  t.is(heard.length, 1, 'heard once')
  t.alike(heard[0].data, { book: book.topic, projectId, name: 'Seed money', originator: net.nodes[0].did })
  t.is(heard[0].from, net.nodes[0].did, 'signed by the originator')
  t.is(heard[0].topic, 'projects')
  t.is(invested.length, 1, 'the investor too')
  t.is(bystanderGot.length, 0, 'the bystander, not subscribed, got nothing')
  t.ok((orig.ads?.own()?.books ?? []).some((b) => b.projects.some((p) => p.projectId === projectId)), 'the project is in the originator\'s ad as well')
})
