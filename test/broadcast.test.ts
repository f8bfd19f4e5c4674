import test, { type Assertion } from 'brittle'
import Hyperswarm from 'hyperswarm'
import crypto from 'node:crypto'
import b4a from 'b4a'
import { createNet } from './helpers/net.ts'
import { PeerRpc } from '../core/network/peer-rpc.ts'
import { broadcast, quorumNeeded, signAnswer, openAnswer, requestHash, MAX_DEADLINE_MS, type OpenAnswer, type Quorum } from '../core/network/broadcast.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import type { GrowrNode } from '../core/node.ts'
import { GrowrError } from '../core/errors.ts'
import { rejectsCode, throwsCode } from './helpers/assert.ts'

const METHOD = 'rate/quote'

interface Quote { answer: string }

/** A PeerRpc on `node`'s swarm, attached to every connection, present and future. */
function rpcOn (t: Assertion, node: GrowrNode): PeerRpc {
  const swarm = node.swarm as Hyperswarm
  const rpc = new PeerRpc({ identity: node.identity as Identity as { did: DidKey; secretKey: Uint8Array }, swarm })
  swarm.on('connection', (conn: unknown) => rpc.attach(conn as never))
  for (const conn of swarm.connections) rpc.attach(conn as never)
  t.teardown(async () => { await rpc.close() }, { order: -Infinity + 1 })
  return rpc
}

/** The asker's check: a signed answer by the peer asked, for this method and request, with a `{ answer: string }` body. */
function opener (request: unknown): OpenAnswer<Quote> {
  return (did, raw) => {
    const r = openAnswer(raw, { peer: did, method: METHOD, request })
    if (!r.ok) return r
    const body = r.answer.body as Partial<Quote> | null
    if (body === null || typeof body !== 'object' || typeof body.answer !== 'string') return { ok: false, reason: 'the answer has no quote' }
    return { ok: true, value: { answer: body.answer } }
  }
}

const yes = (q: Quote) => q.answer === 'yes'
const request = () => ({ q: 'base rate', nonce: crypto.randomBytes(16).toString('hex') })
const reasonOf = (failed: Array<{ did: DidKey; reason: string }>, did: DidKey) => failed.find((f) => f.did === did)?.reason ?? ''

test('broadcast - signed answers over a real testnet: quorums, deadlines, early ends, hostile answers, peers reached by DID', { timeout: 60_000 }, async (t) => {
  // 0 asks; 1, 2 say yes; 3 says no; 4 never answers; 5 is hostile; 6 is only announced on its DID topic
  const net = await createNet(t, 7)
  const n = net.nodes
  const rpc = n.map((node) => rpcOn(t, node))
  const ids = n.map((node) => node.identity as Identity as { did: DidKey; secretKey: Uint8Array })
  const did = ids.map((i) => i.did)
  const honest = (i: number, answer: string) => rpc[i].respond(METHOD, async (req) => signAnswer({ identity: ids[i], method: METHOD, request: req, body: { answer }, at: Date.now() }))
  honest(1, 'yes')
  honest(2, 'yes')
  honest(3, 'no')
  honest(6, 'yes')
  rpc[4].respond(METHOD, async () => await new Promise(() => {}))
  let mode = 'relay'
  rpc[5].respond(METHOD, async (req) => {
    if (mode === 'relay') return await rpc[5].request(did[1], METHOD, req) // peer 1's real signed answer
    if (mode === 'other-request') return signAnswer({ identity: ids[5], method: METHOD, request: { ...(req as object), nonce: 'another' }, body: { answer: 'yes' }, at: Date.now() })
    if (mode === 'other-method') return signAnswer({ identity: ids[5], method: 'other/method', request: req, body: { answer: 'yes' }, at: Date.now() })
    if (mode === 'bad-signature') {
      const a = signAnswer({ identity: ids[5], method: METHOD, request: req, body: { answer: 'yes' }, at: Date.now() })
      return { ...a, body: { answer: 'yes, and more' } }
    }
    if (mode === 'error') throw GrowrError.NOT_ELIGIBLE('not telling')
    if (mode === 'junk') return 'yes'
    return { answer: 'yes' } // unsigned
  })
  // 0..5 meet on one topic; 6 only announces itself on its DID topic
  const topic = crypto.randomBytes(32)
  for (let i = 0; i < 6; i++) await (n[i].swarm as Hyperswarm).join(topic, { server: true, client: true }).flushed()
  await rpc[6].announce()
  await Promise.all(n.slice(0, 6).map(async (node) => await (node.swarm as Hyperswarm).flush()))
  await new Promise<void>((resolve, reject) => {
    const ready = () => [1, 2, 3, 4, 5].every((i) => rpc[0].peers().includes(did[i])) && rpc[5].peers().includes(did[1])
    if (ready()) return resolve()
    const timer = setTimeout(() => reject(new Error('mesh not up')), 20_000)
    const on = () => { if (ready()) { clearTimeout(timer); rpc[0].off('peer', on); rpc[5].off('peer', on); resolve() } }
    rpc[0].on('peer', on)
    rpc[5].on('peer', on)
  })
  t.absent(rpc[0].peers().includes(did[6]), 'peer 6 is not connected to the asker yet')

  const ask = async (peers: number[], quorum: Quorum, extra: { deadlineMs?: number; early?: boolean; agrees?: (q: Quote) => boolean } = {}) => {
    const req = request()
    const started = Date.now()
    const r = await broadcast(rpc[0], METHOD, req, { peers: peers.map((i) => did[i]), deadlineMs: extra.deadlineMs ?? 15_000, quorum, open: opener(req), agrees: extra.agrees ?? yes, early: extra.early, self: did[0] })
    return { r, wall: Date.now() - started, req }
  }

  await t.test('broadcast - quorum: a number, majority, all', async (st) => {
    const { r } = await ask([1, 2, 3], 2)
    st.alike(r.asked, [did[1], did[2], did[3]])
    st.is(r.answers.length, 3, 'three signed answers')
    st.is(r.failed.length, 0)
    st.is(r.pending.length, 0)
    st.is(r.agreeing, 2)
    st.is(r.needed, 2)
    st.is(r.quorum, true, '2 of 2 needed')
    st.alike(r.answers.filter((a) => !a.agrees).map((a) => a.did), [did[3]], 'the dissenter is listed as not agreeing')
    const m = await ask([1, 2, 3], 'majority')
    st.is(m.r.needed, 2, 'majority of 3 is 2')
    st.is(m.r.quorum, true)
    const all = await ask([1, 2, 3], 'all')
    st.is(all.r.needed, 3)
    st.is(all.r.quorum, false, 'one said no: not all agree')
    const three = await ask([1, 2, 3], 3)
    st.is(three.r.quorum, false, 'a count of 3 is not met by two yeses')
    const withSelf = await ask([0, 1, 1, 2], 'all')
    st.alike(withSelf.r.asked, [did[1], did[2]], 'our own DID and duplicates are not asked')
    st.is(withSelf.r.quorum, true)
  })

  await t.test('broadcast - the deadline holds with a peer that never answers', async (st) => {
    const { r, wall } = await ask([1, 2, 4], 'all', { deadlineMs: 1500 })
    st.alike(r.pending, [did[4]], 'the silent peer is pending')
    st.is(r.answers.length, 2)
    st.is(r.quorum, false)
    st.ok(wall >= 1400 && wall < 2500, `returned by the deadline (${wall} ms)`)
    st.ok(r.elapsedMs >= 1400 && r.elapsedMs < 2500, `elapsedMs ${r.elapsedMs}`)
  })

  await t.test('broadcast - early returns as soon as the quorum is met, or can no longer be', async (st) => {
    const met = await ask([1, 2, 4], 2, { early: true, deadlineMs: 20_000 })
    st.is(met.r.quorum, true)
    st.alike(met.r.pending, [did[4]], 'the silent peer is still pending')
    st.ok(met.wall < 5000, `returned early (${met.wall} ms of a 20 s deadline)`)
    const lost = await ask([3, 4], 'all', { early: true, deadlineMs: 20_000 })
    st.is(lost.r.quorum, false, 'peer 3 said no: "all" cannot be met')
    st.ok(lost.wall < 5000, `returned early (${lost.wall} ms)`)
    const late = await ask([1, 2, 4], 2, { early: false, deadlineMs: 1200 })
    st.ok(late.wall >= 1100, `without early it waits for the silent peer until the deadline (${late.wall} ms)`)
    st.is(late.r.quorum, true)
  })

  await t.test('broadcast - hostile answers are refused with the reason', async (st) => {
    const cases: Array<[string, RegExp]> = [
      ['relay', /signed for another peer/],
      ['other-request', /another request/],
      ['other-method', /is for other\/method/],
      ['bad-signature', /signature does not hold/],
      ['unsigned', /malformed|version/],
      ['junk', /not an object/],
      ['error', /NOT_ELIGIBLE|not telling/]
    ]
    for (const [m, re] of cases) {
      mode = m
      const { r } = await ask([1, 5], 1, { deadlineMs: 10_000 })
      st.alike(r.answers.map((a) => a.did), [did[1]], `${m}: only the honest answer counts`)
      st.ok(re.test(reasonOf(r.failed, did[5])), `${m}: ${reasonOf(r.failed, did[5])}`)
      st.is(r.quorum, true, `${m}: the honest peer alone meets a quorum of 1`)
    }
    // the relayed answer is genuine, just not the hostile peer's: it still checks for peer 1
    const req = request()
    const genuine = await rpc[5].request(did[1], METHOD, req)
    st.ok(openAnswer(genuine, { peer: did[1], method: METHOD, request: req }).ok, 'peer 1\'s answer holds for peer 1')
    st.absent(openAnswer(genuine, { peer: did[1], method: METHOD, request: request() }).ok, 'and not for a fresh request')
    st.is((genuine as { request: string }).request, requestHash(req))
  })

  await t.test('broadcast - an asker\'s check that throws fails that peer only', async (st) => {
    const { r } = await ask([1, 3], 1, { agrees: (q) => { if (q.answer === 'no') throw new Error('cannot parse a no'); return true } })
    st.alike(r.answers.map((a) => a.did), [did[1]])
    st.ok(/could not be judged/.test(reasonOf(r.failed, did[3])), reasonOf(r.failed, did[3]))
  })

  await t.test('broadcast - a peer not yet connected is reached through its DID topic', async (st) => {
    const { r } = await ask([1, 6], 'all', { deadlineMs: 20_000 })
    st.is(r.quorum, true, `both answered: ${JSON.stringify(r.failed)}`)
    st.ok(r.answers.some((a) => a.did === did[6]), 'peer 6 answered')
    st.ok(rpc[0].peers().includes(did[6]), 'and is connected now')
  })

  await t.test('broadcast - an unreachable DID fails within the deadline', async (st) => {
    const stranger = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' as DidKey
    const req = request()
    const s = await broadcast(rpc[0], METHOD, req, { peers: [stranger, did[1]], deadlineMs: 2000, quorum: 1, open: opener(req), agrees: yes, self: did[0] })
    st.alike(s.answers.map((a) => a.did), [did[1]], 'the reachable peer answered')
    st.is(s.quorum, true)
    st.ok(s.elapsedMs >= 1900 && s.elapsedMs <= 3000, `waited for the stranger until the deadline, no longer (${s.elapsedMs} ms)`)
    st.ok(s.pending.includes(stranger) || /could not reach/.test(reasonOf(s.failed, stranger)), `the stranger is pending or unreachable: ${reasonOf(s.failed, stranger)}`)
  })
})

test('broadcast - quorumNeeded and argument checks refuse impossible quorums', async (t) => {
  t.is(quorumNeeded('majority', 4), 3)
  t.is(quorumNeeded('majority', 5), 3)
  t.is(quorumNeeded('all', 3), 3)
  t.is(quorumNeeded(2, 3), 2)
  throwsCode(t, () => quorumNeeded(5, 4), 'BAD_ARGUMENT', 'a count above the peers asked')
  throwsCode(t, () => quorumNeeded(0, 4), 'BAD_ARGUMENT', 'zero')
  throwsCode(t, () => quorumNeeded(-1, 4), 'BAD_ARGUMENT', 'negative')
  throwsCode(t, () => quorumNeeded(1.5, 4), 'BAD_ARGUMENT', 'fractional')
  throwsCode(t, () => quorumNeeded(Number.NaN, 4), 'BAD_ARGUMENT', 'NaN')
  throwsCode(t, () => quorumNeeded('most' as Quorum, 4), 'BAD_ARGUMENT', 'an unknown rule')
  // no network needed: the checks come before anything is sent
  let sent = 0
  const rpc = { peers: () => [], connect: async () => { sent++ }, request: async () => { sent++ } }
  const peers = ['did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', 'did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG'] as DidKey[]
  const open: OpenAnswer<unknown> = () => ({ ok: true, value: null })
  await rejectsCode(t, broadcast(rpc, METHOD, {}, { peers, deadlineMs: 1000, quorum: 3, open }), 'BAD_ARGUMENT', '3 of 2 peers')
  await rejectsCode(t, broadcast(rpc, METHOD, {}, { peers, deadlineMs: 0, open }), 'BAD_ARGUMENT', 'a zero deadline')
  await rejectsCode(t, broadcast(rpc, METHOD, {}, { peers, deadlineMs: MAX_DEADLINE_MS + 1, open }), 'BAD_ARGUMENT', 'a deadline over the cap')
  t.is(sent, 0, 'nothing sent for a refused broadcast')
  const empty = await broadcast(rpc, METHOD, {}, { peers: [], deadlineMs: 1000, quorum: 'all', open })
  t.is(empty.quorum, false, 'no peers: no quorum, even for "all"')
})

test('broadcast - openAnswer never throws on junk', async (t) => {
  const req = { x: 1 }
  const peer = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' as DidKey
  for (const junk of [null, 1, 'a', [], {}, { v: 1 }, { v: 1, peer, method: METHOD, request: requestHash(req), at: 1, body: null, signature: 'zz' }, { v: 1, peer, method: METHOD, request: requestHash(req), at: 1, body: null, signature: b4a.toString(b4a.alloc(64), 'hex') }]) {
    const r = openAnswer(junk, { peer, method: METHOD, request: req })
    t.is(r.ok, false, JSON.stringify(junk)?.slice(0, 60) ?? String(junk))
  }
})
