import test, { type Assertion } from 'brittle'
import Hyperswarm from 'hyperswarm'
import Corestore from 'corestore'
import ProtomuxRPC from 'protomux-rpc'
import Protomux from 'protomux'
import b4a from 'b4a'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { PeerRpc, makeHello, RPC_PROTOCOL, MAX_REQUEST_BYTES, type SecretStream } from '../core/network/peer-rpc.ts'
import { didTopic } from '../core/network/did-topic.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
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
async function network (t: Assertion): Promise<{ testnet: Testnet; peer (n: number, opts?: { rpc?: boolean; onconn?: (conn: SecretStream) => void }): Peer }> {
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
      const rpc = opts.rpc === false ? null : new PeerRpc({ identity: who, swarm })
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

  const truncated = await stub(3, () => b4a.from([1, 5, 0x64]))
  t.ok(await closed(truncated), 'undecodable hello: A closed the channel')
  t.is((truncated.stream as { destroyed: boolean }).destroyed, false, 'the connection itself survives a bad hello')

  const future = await stub(5, () => b4a.from([2]))
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
