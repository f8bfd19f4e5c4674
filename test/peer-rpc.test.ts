import test, { type Assertion } from 'brittle'
import Hyperswarm from 'hyperswarm'
import Corestore from 'corestore'
import ProtomuxRPC from 'protomux-rpc'
import Protomux from 'protomux'
import b4a from 'b4a'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import c from 'compact-encoding'
import { PeerRpc, REHELLO_PER_MINUTE, makeHello, openHello, decodeHello, encodeHello, encodeHelloChain, helloMessage, RPC_PROTOCOL, MAX_REQUEST_BYTES, MAX_HELLO_CHAIN_BYTES, type SecretStream } from '../core/network/peer-rpc.ts'
import { didTopic } from '../core/network/did-topic.ts'
import { generateKeyPair, sign } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import { GrowrError } from '../core/errors.ts'
import { seed, tmpDir } from './helpers/net.ts'

interface Who { did: DidKey; secretKey: Uint8Array }
interface Peer { who: Who; swarm: Hyperswarm; store: Corestore; rpc: PeerRpc | null }

function identity (n: number): Who {
  const { publicKey, secretKey } = generateKeyPair(seed(n))
  return { did: publicKeyToDid(publicKey), secretKey }
}

/** A testnet on loopback; everything made on it is torn down after the test, testnet last. */
async function network (t: Assertion): Promise<{ testnet: Testnet; peer (n: number, opts?: { rpc?: boolean; chain?: () => unknown[]; onconn?: (conn: SecretStream) => void }): Peer }> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const made: Peer[] = []
  t.teardown(async () => {
    for (const p of made) if (p.rpc) await p.rpc.close()
    for (const p of made) await p.swarm.destroy()
    for (const p of made) await p.swarm.dht.destroy()
    await testnet.destroy()
    for (const p of made) await p.store.close()
  }, { order: -Infinity })
  return {
    testnet,
    peer (n, opts = {}) {
      const who = identity(n)
      const swarm = new Hyperswarm({ dht: testnet.createNode({ host: '127.0.0.1' }) })
      const store = new Corestore(tmpDir(t))
      const rpc = opts.rpc === false ? null : new PeerRpc({ identity: who, swarm, chain: opts.chain })
      // replication first on even peers, rpc first on odd ones: both orders must share one muxer
      swarm.on('connection', (conn: SecretStream & { on (e: string, f: () => void): void }) => {
        conn.on('error', () => {})
        if (n % 2 === 0) store.replicate(conn)
        if (rpc) rpc.attach(conn)
        if (n % 2 === 1) store.replicate(conn)
        if (opts.onconn) opts.onconn(conn)
      })
      const p = { who, swarm, store, rpc }
      made.push(p)
      return p
    }
  }
}

async function rejectsWith (t: Assertion, p: Promise<unknown>, code: string, msg: string): Promise<GrowrError | null> {
  try {
    await p
    t.fail(`${msg}: expected ${code}, it resolved`)
  } catch (err) {
    t.ok(err instanceof GrowrError, `${msg}: a GrowrError`)
    t.is((err as GrowrError).code, code, msg)
    return err as GrowrError
  }
  return null
}

test('did topic - 32 bytes, deterministic, distinct per DID, rejects non-DIDs', async (t) => {
  const a = identity(1).did
  const b = identity(2).did
  t.is(didTopic(a).byteLength, 32)
  t.alike(didTopic(a), didTopic(a))
  t.unlike(didTopic(a), didTopic(b))
  try {
    didTopic('did:web:example.com')
    t.fail('did:web accepted')
  } catch (err) {
    t.is((err as GrowrError).code, 'BAD_ARGUMENT')
  }
})

test('peer rpc - connect by DID, request, and the handler sees the caller\'s DID', { timeout: 60_000 }, async (t) => {
  const net = await network(t)
  const a = net.peer(0)
  const b = net.peer(1)
  const c = net.peer(2)
  const A = a.rpc as PeerRpc
  const B = b.rpc as PeerRpc
  const seen: DidKey[] = []
  A.respond('echo', async (req, from) => { seen.push(from); return { echoed: req } })
  B.respond('whoami', async (_req, from) => ({ you: from }))
  await A.announce()

  await rejectsWith(t, B.request(A.did, 'echo', 1), 'NOT_FOUND', 'request before connecting')
  await B.connect(A.did, { timeoutMs: 20_000 })
  t.ok(B.peers().includes(A.did), 'B lists A after connect')
  t.alike(await B.request(A.did, 'echo', { x: [1, 'two'] }), { echoed: { x: [1, 'two'] } }, 'echo answers')
  t.alike(seen, [B.did], 'handler saw B\'s DID')
  t.ok(A.peers().includes(B.did), 'A lists B')
  t.alike(await A.request(B.did, 'whoami', null), { you: A.did }, 'requests go the other way too')
  t.absent(A.peers().includes((c.rpc as PeerRpc).did), 'C never connected')
  await B.connect(A.did, { timeoutMs: 1 }) // already connected: returns at once
  await rejectsWith(t, B.connect(B.did), 'BAD_ARGUMENT', 'connect to own DID')

  const closed = new Promise<DidKey>((resolve) => A.once('peer-close', resolve))
  await B.close()
  t.is(await closed, B.did, 'A sees B\'s channel close')
  t.absent(A.peers().includes(B.did), 'B gone from A\'s peers')
  await rejectsWith(t, A.request(B.did, 'whoami', null), 'NOT_FOUND', 'request to a peer that left')
})

test('peer rpc - remote GrowrErrors keep their code; unknown method, crashes, size and time limits', { timeout: 60_000 }, async (t) => {
  const net = await network(t)
  const a = net.peer(0)
  const b = net.peer(1)
  const A = a.rpc as PeerRpc
  const B = b.rpc as PeerRpc
  A.respond('strict', async () => { throw GrowrError.BAD_ARGUMENT('amount must be positive') })
  A.respond('buggy', async () => { throw new TypeError('secret internal detail') })
  A.respond('slow', () => new Promise(() => {}))
  A.respond('size', async (req) => ({ len: (req as string).length }))
  await A.announce()
  await B.connect(A.did, { timeoutMs: 20_000 })

  const err = await rejectsWith(t, B.request(A.did, 'strict', {}), 'BAD_ARGUMENT', 'handler BAD_ARGUMENT arrives as BAD_ARGUMENT')
  t.is(err?.message, 'BAD_ARGUMENT: amount must be positive', 'with the same message')
  await rejectsWith(t, B.request(A.did, 'nope', {}), 'NOT_FOUND', 'unknown method')
  const bug = await rejectsWith(t, B.request(A.did, 'buggy', {}), 'OP_REJECTED', 'a non-Growr failure')
  t.absent(err && bug?.message.includes('secret internal detail'), 'internal details stay on the peer')
  await rejectsWith(t, B.request(A.did, 'slow', {}, { timeoutMs: 300 }), 'TIMEOUT', 'no answer in time')
  await rejectsWith(t, B.request(A.did, 'size', 'x'.repeat(MAX_REQUEST_BYTES)), 'BAD_ARGUMENT', 'a request over 256 KiB is refused')
  t.alike(await B.request(A.did, 'size', 'x'.repeat(MAX_REQUEST_BYTES - 1000)), { len: MAX_REQUEST_BYTES - 1000 }, 'just under the cap passes')
  await rejectsWith(t, B.request(A.did, 'size', 10n), 'BAD_ARGUMENT', 'a value that is not JSON')
  t.ok(A.peers().includes(B.did), 'A still serves B after all that')
})

test('peer rpc - a forged or replayed hello is refused, an honest stub is accepted', { timeout: 60_000 }, async (t) => {
  const net = await network(t)
  const a = net.peer(0)
  const A = a.rpc as PeerRpc
  const victim = identity(7) // the DID the stubs try to pass as; its node is not on the network
  const peersSeen: DidKey[] = []
  const refused: string[] = []
  A.on('peer', (did: DidKey) => peersSeen.push(did))
  A.on('hello-refused', (err: GrowrError) => refused.push(err.code))
  A.respond('echo', async (req) => req)
  await A.announce()

  // a stub peer without PeerRpc: it opens the rpc channel itself with the hello it is given
  const stub = async (n: number, hello: (conn: SecretStream) => Uint8Array): Promise<ProtomuxRPC> => {
    let resolve: (rpc: ProtomuxRPC) => void = () => {}
    const opened = new Promise<ProtomuxRPC>((r) => { resolve = r })
    const s = net.peer(n, {
      rpc: false,
      onconn: (conn) => {
        const rpc = new ProtomuxRPC(conn, { protocol: RPC_PROTOCOL, valueEncoding: null, handshake: hello(conn) })
        t.is(rpc.mux, Protomux.from(conn), 'the stub channel shares the replication muxer')
        resolve(rpc)
      }
    })
    s.swarm.join(didTopic(A.did), { server: false, client: true })
    return await opened
  }
  // true once A closes the stub's channel, false if it is still open after 10 s
  const closed = (rpc: ProtomuxRPC) => rpc.closed
    ? Promise.resolve(true)
    : new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000)
      rpc.once('close', () => { clearTimeout(timer); resolve(true) })
    })

  const forged = await stub(1, (conn) => makeHello(victim.did, identity(8).secretKey, conn))
  t.ok(await closed(forged), 'hello signed by another key: A closed the channel')
  t.absent(A.peers().includes(victim.did), 'A does not list the claimed DID')

  const replayed = await stub(2, (conn) => makeHello(victim.did, victim.secretKey, { handshakeHash: b4a.alloc(64, 9), publicKey: conn.publicKey }))
  t.ok(await closed(replayed), 'genuine signature over another connection\'s handshake: A closed the channel')

  const truncated = await stub(3, () => b4a.from([2, 5, 0x64]))
  t.ok(await closed(truncated), 'undecodable hello: A closed the channel')
  t.is((truncated.stream as { destroyed: boolean }).destroyed, false, 'the connection itself survives a bad hello')

  const future = await stub(5, () => b4a.from([3]))
  t.ok(await closed(future), 'hello of an unknown version: A closed the channel')

  // A's own hello for this connection, sent back at it: valid signature, wrong speaker
  const reflected = await stub(6, (conn) => makeHello(A.did, identity(0).secretKey, { handshakeHash: conn.handshakeHash, publicKey: conn.remotePublicKey }))
  t.ok(await closed(reflected), 'A\'s own hello reflected back: A closed the channel')

  const honestWho = identity(4)
  const peered = new Promise<DidKey>((resolve) => A.once('peer', resolve))
  const honest = await stub(4, (conn) => makeHello(honestWho.did, honestWho.secretKey, conn))
  t.is(await peered, honestWho.did, 'a correctly signed stub hello is accepted')
  const answer = b4a.toString(await honest.request('echo', b4a.from(JSON.stringify({ hi: 1 }))))
  t.alike(JSON.parse(answer), { value: { hi: 1 } }, 'the stub gets an answer envelope')
  const big = b4a.toString(await honest.request('echo', b4a.alloc(MAX_REQUEST_BYTES + 1, 0x20)))
  t.is(JSON.parse(big).error.code, 'BAD_ARGUMENT', 'the responder refuses a request over 256 KiB')
  const junk = b4a.toString(await honest.request('echo', b4a.from('{not json')))
  t.is(JSON.parse(junk).error.code, 'BAD_ARGUMENT', 'and a body that is not JSON')

  honest.respond('invented', () => b4a.from(JSON.stringify({ error: { code: 'LAUNCH_MISSILES', message: 'boom' } })))
  honest.respond('malformed', () => b4a.from('<html>'))
  honest.respond('remote-timeout', () => b4a.from(JSON.stringify({ error: { code: 'TIMEOUT', message: 'upstream slow' } })))
  await rejectsWith(t, A.request(honestWho.did, 'invented', null), 'OP_REJECTED', 'an error code GrowrError does not know becomes OP_REJECTED')
  await rejectsWith(t, A.request(honestWho.did, 'malformed', null), 'UNSUPPORTED_VERSION', 'an answer that is no envelope')
  const relayed = await rejectsWith(t, A.request(honestWho.did, 'remote-timeout', null), 'TIMEOUT', 'any known code passes through')
  t.is(relayed?.message, 'TIMEOUT: upstream slow')

  t.alike(refused, ['BAD_ARGUMENT', 'BAD_ARGUMENT', 'BAD_ARGUMENT', 'UNSUPPORTED_VERSION', 'BAD_ARGUMENT'], 'A refused exactly the five bad hellos')
  t.absent(peersSeen.includes(victim.did), 'the victim DID was never announced as a peer')
  t.absent(A.peers().includes(victim.did), 'nor listed in peers()')
  t.alike(A.peers(), [honestWho.did])
})

test('peer rpc - connect to a DID nobody announces times out and leaves the topic', { timeout: 30_000 }, async (t) => {
  const net = await network(t)
  const b = net.peer(1)
  const B = b.rpc as PeerRpc
  const nobody = identity(9).did
  const started = Date.now()
  const err = await rejectsWith(t, B.connect(nobody, { timeoutMs: 1500 }), 'TIMEOUT', 'nobody announces that DID')
  const elapsed = Date.now() - started
  t.ok(elapsed >= 1400 && elapsed < 5000, `gave up after the timeout (${elapsed} ms)`)
  t.ok(err?.message.includes(nobody) && err?.message.includes('1500 ms'), 'message names the DID and the wait')
  const status = (b.swarm as unknown as { status (topic: Uint8Array): unknown }).status(didTopic(nobody))
  t.absent(status, 'the lookup session was removed from the swarm')
})

test('peer rpc - Corestore replication on the same connections keeps working', { timeout: 60_000 }, async (t) => {
  const net = await network(t)
  const a = net.peer(0)
  const b = net.peer(1)
  const A = a.rpc as PeerRpc
  const B = b.rpc as PeerRpc
  interface Core { key: Uint8Array; ready (): Promise<void>; append (v: Uint8Array): Promise<unknown>; get (i: number, o?: { timeout?: number }): Promise<Uint8Array | null> }
  const core = a.store.get({ name: 'shared' }) as unknown as Core
  await core.ready()
  await core.append(b4a.from('first block'))
  A.respond('key', async () => b4a.toString(core.key, 'hex'))
  await A.announce()
  await B.connect(A.did, { timeoutMs: 20_000 })

  const key = await B.request(A.did, 'key', null) as string
  const copy = b.store.get({ key: b4a.from(key, 'hex') }) as unknown as Core
  await copy.ready()
  const block = await copy.get(0, { timeout: 15_000 })
  t.is(block && b4a.toString(block), 'first block', 'B replicates A\'s core over the rpc connection')
  await core.append(b4a.from('second block'))
  const second = await copy.get(1, { timeout: 15_000 })
  t.is(second && b4a.toString(second), 'second block', 'and keeps replicating')
  t.is(await B.request(A.did, 'key', null), key, 'rpc still answers alongside')
  t.is(a.swarm.connections.size, 1, 'one connection carries both')
})

test('peer rpc - hello v2 carries a chain both ways, read at each connection', { timeout: 60_000 }, async (t) => {
  const net = await network(t)
  // the chains are opaque to PeerRpc: it carries what the node presents, signed with the hello
  let aChain: unknown[] = [{ cert: 'a-1' }]
  let reads = 0
  const a = net.peer(0, { chain: () => { reads++; return aChain } })
  const b = net.peer(1, { chain: () => [{ cert: 'b-1' }, { cert: 'b-2', name: 'Bé Lending ✓' }] })
  const A = a.rpc as PeerRpc
  const B = b.rpc as PeerRpc
  await A.announce()
  await B.connect(A.did, { timeoutMs: 20_000 })
  t.alike(B.peerChain(A.did), [{ cert: 'a-1' }], 'B holds the chain A presented')
  await new Promise<void>((resolve) => { if (A.peers().includes(B.did)) resolve(); else A.once('peer', () => resolve()) })
  t.alike(A.peerChain(B.did), [{ cert: 'b-1' }, { cert: 'b-2', name: 'Bé Lending ✓' }], 'A holds B\'s, non-ASCII names intact')
  t.is(A.peerChain(net.peer(2).who.did), null, 'null for a DID that is not connected')
  t.is(reads, 1, 'A read its chain once, for the one connection')

  // a stub reads A's hello itself: the chain A set while running is in the hello of its next connection
  aChain = [{ cert: 'a-2' }]
  let seen: { did: string; chain: unknown[] } | null = null
  const opened = new Promise<void>((resolve) => {
    const s = net.peer(3, {
      rpc: false,
      onconn: (conn) => {
        const who = identity(3)
        const rpc = new ProtomuxRPC(conn, { protocol: RPC_PROTOCOL, valueEncoding: null, handshake: makeHello(who.did, who.secretKey, conn) })
        rpc.on('open', (hello: Uint8Array) => { seen = openHello(hello, conn); resolve() })
      }
    })
    s.swarm.join(didTopic(A.did), { server: false, client: true })
  })
  await opened
  t.is(seen!.did, A.did, 'the stub proved A\'s DID from its hello')
  t.alike(seen!.chain, [{ cert: 'a-2' }], 'with the chain A holds now')
  t.is(reads, 2, 'read again for the new connection')
  t.alike(B.peerChain(A.did), [{ cert: 'a-1' }], 'an open channel keeps the chain of the hello it opened with')
  await new Promise<void>((resolve) => { if (A.peers().includes(identity(3).did)) resolve(); else A.once('peer', () => resolve()) })
  t.alike(A.peerChain(identity(3).did), [], 'a hello without a chain is an empty chain, not null')
})

test('peer rpc - a chain swapped after signing, an oversized or malformed chain, and a v1 hello are refused', { timeout: 60_000 }, async (t) => {
  const net = await network(t)
  const a = net.peer(0)
  const A = a.rpc as PeerRpc
  const refused: string[] = []
  A.on('hello-refused', (err: GrowrError) => refused.push(err.message))
  await A.announce()
  const stub = (n: number, hello: (conn: SecretStream, who: Who) => Uint8Array): Promise<ProtomuxRPC> => new Promise((resolve) => {
    const who = identity(n)
    const s = net.peer(n, { rpc: false, onconn: (conn) => resolve(new ProtomuxRPC(conn, { protocol: RPC_PROTOCOL, valueEncoding: null, handshake: hello(conn, who) })) })
    s.swarm.join(didTopic(A.did), { server: false, client: true })
  })
  const closed = (rpc: ProtomuxRPC) => rpc.closed
    ? Promise.resolve(true)
    : new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000)
      rpc.once('close', () => { clearTimeout(timer); resolve(true) })
    })
  const mine = [{ id: 'urn:uuid:mine', credentialSubject: { id: 'me' } }]
  const better = [{ id: 'urn:uuid:founder-cert', credentialSubject: { id: 'someone certified' } }]

  // a relay keeps the genuine signature and DID but puts another chain in: the chain hash no longer matches
  const swapped = await stub(1, (conn, who) => {
    const genuine = decodeHello(makeHello(who.did, who.secretKey, conn, mine))
    return encodeHello({ ...genuine, chain: encodeHelloChain(better) })
  })
  t.ok(await closed(swapped), 'chain swapped after signing: A closed the channel')
  const dropped = await stub(2, (conn, who) => encodeHello({ ...decodeHello(makeHello(who.did, who.secretKey, conn, mine)), chain: b4a.alloc(0) }))
  t.ok(await closed(dropped), 'chain removed after signing: A closed the channel')

  // correctly signed, but larger than a hello may carry: refused before the signature is even checked
  const huge = encodeHelloChain([{ padding: 'x'.repeat(MAX_HELLO_CHAIN_BYTES) }])
  t.exception(() => makeHello(identity(3).did, identity(3).secretKey, { handshakeHash: b4a.alloc(64), publicKey: b4a.alloc(32) }, [{ padding: 'x'.repeat(MAX_HELLO_CHAIN_BYTES) }]), /at most 65536/, 'makeHello will not build one')
  const oversized = await stub(3, (conn, who) => encodeHello({ did: who.did, chain: huge, signature: sign(helloMessage(conn.handshakeHash!, conn.publicKey!, huge), who.secretKey) }))
  t.ok(await closed(oversized), `a ${huge.byteLength}-byte chain: A closed the channel`)

  const signedJunk = (bytes: Uint8Array) => (conn: SecretStream, who: Who) => encodeHello({ did: who.did, chain: bytes, signature: sign(helloMessage(conn.handshakeHash!, conn.publicKey!, bytes), who.secretKey) })
  const notJson = await stub(5, signedJunk(b4a.from('[{"unterminated"')))
  t.ok(await closed(notJson), 'a signed chain that is not JSON: A closed the channel')
  const notList = await stub(6, signedJunk(b4a.from('{"certificates":[]}')))
  t.ok(await closed(notList), 'a signed chain that is not a list: A closed the channel')

  // a version 1 hello, exactly as the old code made it: no chain, the v1 domain
  const v1 = await stub(7, (conn, who) => {
    const msg = b4a.concat([b4a.from('growr/rpc-hello/v1\0'), conn.handshakeHash!, conn.publicKey!])
    const state = c.state()
    c.uint.preencode(state, 1); c.string.preencode(state, who.did); c.fixed64.preencode(state, b4a.alloc(64))
    state.buffer = b4a.alloc(state.end)
    c.uint.encode(state, 1); c.string.encode(state, who.did); c.fixed64.encode(state, sign(msg, who.secretKey))
    return state.buffer
  })
  t.ok(await closed(v1), 'a v1 hello: A closed the channel')

  const trailing = await stub(8, (conn, who) => b4a.concat([makeHello(who.did, who.secretKey, conn, mine), b4a.from([0])]))
  t.ok(await closed(trailing), 'bytes after the hello: A closed the channel')

  t.is(refused.length, 7, 'A refused seven hellos')
  t.ok(/signature does not hold for this connection and this certificate chain/.test(refused[0]), refused[0])
  t.ok(/signature does not hold/.test(refused[1]), 'the dropped chain too')
  t.ok(/certificate chain of 65\d{3} bytes; at most 65536/.test(refused[2]), refused[2])
  t.ok(/not JSON/.test(refused[3]), refused[3])
  t.ok(/not a list/.test(refused[4]), refused[4])
  t.ok(/UNSUPPORTED_VERSION: rpc hello version 1 .* no longer accepted/.test(refused[5]), refused[5])
  t.ok(/trailing bytes/.test(refused[6]), refused[6])
  t.alike(A.peers(), [], 'nobody got through')

  // the honest path on the same rules: our own chain too large to send goes out as no chain
  const b = net.peer(9, { chain: () => [{ padding: 'x'.repeat(MAX_HELLO_CHAIN_BYTES) }] })
  const notSent = new Promise<GrowrError>((resolve) => (b.rpc as PeerRpc).once('chain-not-sent', resolve))
  await (b.rpc as PeerRpc).connect(A.did, { timeoutMs: 20_000 })
  t.ok(/at most 65536/.test((await notSent).message), 'the node is told its chain was not sent')
  t.alike((b.rpc as PeerRpc).peerChain(A.did), [], 'and it still talks')
  await new Promise<void>((resolve) => { if (A.peers().includes(b.who.did)) resolve(); else A.once('peer', () => resolve()) })
  t.alike(A.peerChain(b.who.did), [], 'A sees it without a chain')
})

test('peer rpc - a chain changed while connected reaches the peer by a new hello; a peer reopening too often is not answered', { timeout: 60_000 }, async (t) => {
  const net = await network(t)
  let aChain: unknown[] = []
  const a = net.peer(0, { chain: () => aChain })
  const b = net.peer(1)
  const A = a.rpc as PeerRpc
  const B = b.rpc as PeerRpc
  A.respond('echo', async (req) => req)
  B.respond('echo', async (req) => req)
  await A.announce()
  await B.connect(A.did, { timeoutMs: 20_000 })
  t.alike(B.peerChain(A.did), [], 'no chain at first')

  aChain = [{ cert: 'new' }]
  const again = new Promise<void>((resolve) => B.on('peer', (did: DidKey) => { if (did === A.did && B.peerChain(A.did)?.length) resolve() }))
  t.is(A.rehello(), 1, 'A reopened its one channel')
  await again
  t.alike(B.peerChain(A.did), [{ cert: 'new' }], 'B holds the new chain without a new connection')
  t.is(a.swarm.connections.size, 1, 'still one connection')
  t.alike(await B.request(A.did, 'echo', 'after'), 'after', 'requests go on over the new channel')
  await new Promise<void>((resolve) => { if (A.peers().includes(B.did)) resolve(); else A.once('peer', () => resolve()) })
  t.alike(await A.request(B.did, 'echo', 'back'), 'back', 'both ways')

  // a stub that reopens the channel again and again: A answers REHELLO_PER_MINUTE of them
  const who = identity(2)
  let conn: SecretStream | null = null
  const connected = new Promise<void>((resolve) => {
    const s = net.peer(2, { rpc: false, onconn: (c) => { conn = c; resolve() } })
    s.swarm.join(didTopic(A.did), { server: false, client: true })
  })
  await connected
  const outcome = (rpc: ProtomuxRPC) => new Promise<'open' | 'closed'>((resolve) => {
    rpc.once('open', () => resolve('open'))
    rpc.once('close', () => resolve('closed'))
  })
  const results: string[] = []
  for (let i = 0; i < REHELLO_PER_MINUTE + 3; i++) {
    const rpc = new ProtomuxRPC(conn!, { protocol: RPC_PROTOCOL, valueEncoding: null, handshake: makeHello(who.did, who.secretKey, conn!) })
    results.push(await outcome(rpc))
    rpc.destroy()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.is(results.filter((r) => r === 'open').length, REHELLO_PER_MINUTE + 1, `the first opening and ${REHELLO_PER_MINUTE} reopenings were answered`)
  t.alike(results.slice(-2), ['closed', 'closed'], 'the rest were refused')
  t.alike(await B.request(A.did, 'echo', 'still'), 'still', 'other peers are unaffected')
})
