// Runs under Bare (brittle-bare) and Node alike: pubsub messages sign and check, and the local limits hold, with no node: imports.
import test from 'brittle'
import b4a from 'b4a'
import c from 'compact-encoding'
import { PubSub, signMessage, openMessage, publicationFrame, MAX_MESSAGE_BYTES, MAX_TOPICS } from '../../core/network/pubsub.ts'
import { generateKeyPair } from '../../core/identity/keys.ts'
import { publicKeyToDid } from '../../core/identity/did-key.ts'

const kp = generateKeyPair(new Uint8Array(32).fill(7))
const me = { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
const other = generateKeyPair(new Uint8Array(32).fill(8))
const T0 = Date.UTC(2026, 0, 1)
const json = (m: unknown) => b4a.from(JSON.stringify(m))

test('bare pubsub - a message signs and checks; tampering, another key, skew and age are refused', (t) => {
  const m = signMessage({ identity: me, topic: 'projects', data: { projectId: 'p1', amount: '1000' }, at: T0, seq: T0 * 1000 })
  const ok = openMessage(json(m), { now: T0 + 1000 })
  t.ok(ok.ok, 'verifies')
  t.alike(ok.ok && ok.message.data, { projectId: 'p1', amount: '1000' })
  const edited = openMessage(json({ ...m, data: { projectId: 'p2', amount: '1000' } }), { now: T0 })
  t.ok(!edited.ok && edited.code === 'malformed' && /id/.test(edited.reason), 'edited content: the id no longer matches')
  const forged = signMessage({ identity: { did: me.did, secretKey: other.secretKey }, topic: 'projects', data: 1, at: T0, seq: 1 })
  const f = openMessage(json(forged), { now: T0 })
  t.ok(!f.ok && f.code === 'signature', 'signed by another key than the DID\'s')
  const s = openMessage(json(m), { now: T0 + 10 * 60_000 })
  t.ok(!s.ok && s.code === 'stale', 'too old')
  const fu = openMessage(json(m), { now: T0 - 60_000 })
  t.ok(!fu.ok && fu.code === 'future', 'too far ahead')
  const big = openMessage(b4a.alloc(MAX_MESSAGE_BYTES + 1, 0x7b), { now: T0 })
  t.ok(!big.ok && big.code === 'oversized')
  for (const junk of ['', 'null', '[]', '{"v":2}', '{"v":1,"topic":"a b"}', 'x'.repeat(100)]) {
    const r = openMessage(b4a.from(junk), { now: T0 })
    t.is(r.ok, false, `refused: ${junk.slice(0, 20)}`)
  }
})

test('bare pubsub - frames carry a version; an unknown one is refused', (t) => {
  const bytes = c.encode(publicationFrame, { hops: 2, json: b4a.from('{}') })
  t.is(c.decode(publicationFrame, bytes).hops, 2)
  const bad = b4a.from(bytes)
  bad[0] = 2
  t.exception(() => c.decode(publicationFrame, bad), /UNSUPPORTED_VERSION/)
})

test('bare pubsub - local limits', async (t) => {
  const ps = new PubSub({ identity: me, now: () => T0 })
  for (let i = 0; i < MAX_TOPICS; i++) ps.subscribe(`t${i}`, () => {})
  t.exception(() => ps.subscribe('one-more', () => {}), /BAD_ARGUMENT/)
  const r = await ps.publish('t0', { hello: 'bare' })
  t.is(r.sentTo, 0, 'no peers yet')
  t.is(ps.stats().published, 1)
  await ps.close()
})
