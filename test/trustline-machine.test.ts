import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { sha256 } from '@noble/hashes/sha2.js'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import * as m from '../books/trustline/machine.ts'
import { stateHash, stateJson } from '../books/trustline/encoding.ts'
import type { Change, Entry, Side, TrustlineState, TrustlineTerms } from '../books/trustline/types.ts'

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vectors', 'trustline')
const load = (name: string): any => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'))

function party (n: number): { did: DidKey; sk: Uint8Array } {
  const s = new Uint8Array(32)
  s[0] = n
  const kp = generateKeyPair(s)
  return { did: publicKeyToDid(kp.publicKey), sk: kp.secretKey }
}

for (const file of ['basic.json', 'hostile.json', 'htlc.json', 'import.json']) {
  test(`trustline machine - vectors ${file}`, (t) => {
    const v = load(file)
    // the vector's keys come from fixed seeds: derive them again and compare
    for (const side of ['A', 'B', 'C']) t.is(party(v.parties[side].seedByte).did, v.parties[side].did, `party ${side} from seed byte ${v.parties[side].seedByte}`)
    t.ok(m.checkTerms(v.terms).ok, 'terms well formed')
    t.is(m.termsId(v.terms), v.id, 'trustline id')
    let state = m.genesis(v.terms)
    t.alike(stateJson(state), v.genesis.state, 'genesis state')
    t.is(stateHash(state), v.genesis.hash, 'genesis hash')
    for (const step of v.steps) {
      const r = m.apply(state, step.entry)
      if (step.expect.ok) {
        t.ok(r.ok, `${step.name}${r.ok ? '' : ': ' + r.reason}`)
        if (!r.ok) continue
        t.alike(stateJson(r.state), step.expect.state, `${step.name}: state`)
        t.is(r.hash, step.expect.hash, `${step.name}: hash`)
        state = r.state
      } else {
        t.absent(r.ok, `${step.name} refused`)
        if (!r.ok) t.is(r.reason, step.expect.reason, `${step.name}: reason`)
      }
    }
  })
}

test('trustline machine - reconcile vectors, both orders', (t) => {
  const v = load('reconcile.json')
  for (const c of v.cases) {
    for (const [x, y] of [[c.x, c.y], [c.y, c.x]]) {
      const r = m.reconcile(v.terms, x, y)
      t.is(stateHash(r.state), c.head, c.name)
      t.is(r.entries.length, c.length, `${c.name}: length`)
    }
  }
})

test('trustline machine - a limit\'s meaning matches the central service', (t) => {
  // growoperative-api Trustline#available_credit_for(user_a) = credit_limit_a_to_b - max(balance, 0):
  // limitAtoB is what A may borrow from B, and a positive balance is A's debt
  const a = party(1)
  const b = party(2)
  const terms = m.newTerms(a.did, b.did, 'CAD', 0, { limitAtoB: '10000', limitBtoA: '0', balance: '3000' })
  const s = m.genesis(terms)
  t.is(m.available(s, 'A', 0), 7000n, 'A may still borrow 70.00')
  t.is(m.available(s, 'B', 0), 3000n, 'B may pay what A owes it, no more')
  t.is(m.debtOf(s, 'A'), 3000n)
  t.is(m.debtOf(s, 'B'), 0n)
})

test('trustline machine - hostile shapes never throw', (t) => {
  const a = party(1)
  const b = party(2)
  const s = m.genesis(m.newTerms(a.did, b.did, 'CAD', 0))
  const junk: unknown[] = [null, 1, 'x', [], {}, { proposal: null, sig: 'x' }, { proposal: {}, sig: '' },
    { proposal: { v: 1, line: s.id, seq: 1, prev: stateHash(s), change: { type: 'payment', from: 'A', amount: '1e3' }, proposer: 'A', at: 1, expires: 2, state: '0'.repeat(64) }, sig: '00'.repeat(64) },
    { proposal: { v: 1, line: s.id, seq: 1, prev: stateHash(s), change: { type: '__proto__' }, proposer: 'A', at: 1, expires: 2, state: '0'.repeat(64) }, sig: '00'.repeat(64) },
    { proposal: { v: 1, line: s.id, seq: 1, prev: stateHash(s), change: { type: 'limit', side: 'BtoA', amount: '-5' }, proposer: 'A', at: 1, expires: 2, state: '0'.repeat(64) }, sig: '00'.repeat(64) },
    { proposal: { v: 2, line: s.id, seq: 1, prev: stateHash(s), change: { type: 'close' }, proposer: 'A', at: 1, expires: 2, state: '0'.repeat(64) }, sig: '00'.repeat(64) }]
  for (const j of junk) {
    const r = m.apply(s, j)
    t.absent(r.ok, `refused: ${JSON.stringify(j)?.slice(0, 60)}`)
    t.ok(!r.ok && typeof r.reason === 'string' && r.reason.length > 0)
  }
})

/** Two parties and a honest driver that proposes and countersigns. */
function pair (): { terms: TrustlineTerms; keys: Record<Side, Uint8Array> } {
  const x = party(1)
  const y = party(2)
  const terms = m.newTerms(x.did, y.did, 'CAD', 0)
  const keys = terms.a === x.did ? { A: x.sk, B: y.sk } : { A: y.sk, B: x.sk }
  return { terms, keys }
}

const sideArb = fc.constantFrom<Side>('A', 'B')
const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ type: fc.constant('payment' as const), from: sideArb, amount: fc.bigInt({ min: 1n, max: 50_000n }).map(String) }),
  fc.record({ type: fc.constant('limit' as const), side: fc.constantFrom('AtoB' as const, 'BtoA' as const), amount: fc.bigInt({ min: 0n, max: 50_000n }).map(String) }),
  fc.record({ type: fc.constant('htlc/add' as const), id: fc.constantFrom('h1', 'h2', 'h3'), hash: fc.constant('a'.repeat(64)), amount: fc.bigInt({ min: 1n, max: 20_000n }).map(String), from: sideArb, expires: fc.integer({ min: 0, max: 200_000 }) }),
  fc.record({ type: fc.constant('htlc/fail' as const), id: fc.constantFrom('h1', 'h2', 'h3') }),
  fc.constant({ type: 'close' as const })
)

test('trustline machine - properties: payments never push a payer past its limit, the chain replays to the same state', (t) => {
  const { terms, keys } = pair()
  fc.assert(fc.property(fc.array(fc.tuple(sideArb, changeArb, fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 40 }), (steps) => {
    let s: TrustlineState = m.genesis(terms)
    const chain: Entry[] = []
    let now = 1000
    for (const [by, change, countersign, dt] of steps) {
      now += dt
      const before = s
      const p = m.propose(s, { change, proposer: by, at: now, expires: now + 60_000 }, keys[by])
      if (!p.ok) continue
      const entry = m.isUnilateral(s, p.entry.proposal) && !countersign ? p.entry : null
      const done = entry ? m.apply(s, entry) : m.accept(s, p.entry, now + 1, keys[by === 'A' ? 'B' : 'A'])
      if (!done.ok) continue
      s = done.state
      chain.push(entry ?? (done as { entry: Entry }).entry)
      if (change.type === 'payment') {
        // the payer's position never exceeds its limit minus its live reservations
        const pos = change.from === 'A' ? s.balance : -s.balance
        if (pos > m.limitOf(before, change.from) - m.reservedBy(before, change.from, now)) return false
      }
      if (s.seq !== before.seq + 1 || s.prev !== stateHash(before)) return false
    }
    const r = m.replay(terms, chain)
    return r.ok && stateHash(r.state) === stateHash(s)
  }), { numRuns: 200 })
  t.pass('200 random histories')
})

test('trustline machine - properties: reconcile is symmetric and keeps a valid chain', (t) => {
  const { terms, keys } = pair()
  const build = (plan: Array<[Side, number, boolean]>, start: TrustlineState, t0: number): Entry[] => {
    let s = start
    const out: Entry[] = []
    let now = t0
    for (const [by, amount, two] of plan) {
      now += 10
      const side = by === 'A' ? 'BtoA' : 'AtoB'
      const cur = by === 'A' ? s.limitBtoA : s.limitAtoB
      const p = m.propose(s, { change: { type: 'limit', side, amount: String(two ? cur + BigInt(amount) + 1n : (cur > 0n ? cur - 1n : 0n)) }, proposer: by, at: now, expires: now + 1000 }, keys[by])
      if (!p.ok) continue
      const r = two ? m.accept(s, p.entry, now + 1, keys[by === 'A' ? 'B' : 'A']) : m.apply(s, p.entry)
      if (!r.ok) continue
      s = r.state
      out.push(two ? (r as { entry: Entry }).entry : p.entry)
    }
    return out
  }
  const planArb = fc.array(fc.tuple(sideArb, fc.integer({ min: 0, max: 100 }), fc.boolean()), { maxLength: 6 })
  fc.assert(fc.property(planArb, planArb, planArb, (common, px, py) => {
    const c = build(common, m.genesis(terms), 1000)
    const base = m.replay(terms, c)
    if (!base.ok) return false
    const x = [...c, ...build(px, base.state, 5000)]
    const y = [...c, ...build(py, base.state, 5003)]
    const r1 = m.reconcile(terms, x, y)
    const r2 = m.reconcile(terms, y, x)
    return stateHash(r1.state) === stateHash(r2.state) && m.replay(terms, r1.entries).ok && r1.entries.length >= c.length
  }), { numRuns: 150 })
  t.pass('150 random forks')
})

test('trustline machine - a party cannot date a countersignature outside the proposal window, at any time', (t) => {
  const { terms, keys } = pair()
  const s = m.genesis(terms)
  fc.assert(fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 200_000 }), (at, life, when) => {
    const p = m.propose(s, { change: { type: 'limit', side: 'BtoA', amount: '100' }, proposer: 'A', at, expires: at + life }, keys.A)
    if (!p.ok) return false
    const r = m.accept(s, p.entry, when, keys.B)
    return r.ok === (when >= at && when <= at + life)
  }), { numRuns: 300 })
  t.pass('300 windows')
})

test('trustline machine - tie-break: a settle goes first whatever the hashes, so a partner cannot starve it', (t) => {
  const A = party(1)
  const B = party(2)
  const [a, b] = A.did < B.did ? [A, B] : [B, A]
  const terms = m.newTerms(a.did, b.did, 'CAD', 1000)
  let s = m.genesis(terms)
  const both = (st: TrustlineState, change: Change, proposer: Side, at: number): TrustlineState => {
    const p = m.propose(st, { change, proposer, at, expires: at + 10_000 }, proposer === 'A' ? a.sk : b.sk)
    if (!p.ok) throw new Error(p.reason)
    const r = m.accept(st, p.entry, at, proposer === 'A' ? b.sk : a.sk)
    if (!r.ok) throw new Error(r.reason)
    return r.state
  }
  s = both(s, { type: 'limit', side: 'AtoB', amount: '10000' }, 'A', 2000)
  const preimage = '11'.repeat(32)
  const hash = createHashHex(preimage)
  s = both(s, { type: 'htlc/add', id: 'h1', hash, amount: '500', from: 'A', expires: 60_000 }, 'A', 3000)
  // B is owed h1 and settles; A answers at the same seq with 40 different adds (one has a smaller hash)
  const settle = m.propose(s, { change: { type: 'htlc/settle', id: 'h1', preimage }, proposer: 'B', at: 4000, expires: 14_000 }, b.sk)
  t.ok(settle.ok)
  const sp = (settle as { entry: Entry }).entry.proposal
  let smaller = 0
  for (let i = 0; i < 40; i++) {
    const add = m.propose(s, { change: { type: 'htlc/add', id: `x${i}`, hash, amount: '1', from: 'A', expires: 50_000 }, proposer: 'A', at: 4000, expires: 14_000 }, a.sk)
    if (!add.ok) throw new Error(add.reason)
    const ap = add.entry.proposal
    if (m.proposalHash(ap) < m.proposalHash(sp)) smaller++
    t.is(m.proposalTieBreak(ap, sp), sp, `add ${i}: the settle wins`)
    t.is(m.proposalTieBreak(sp, ap), sp, `add ${i}: in either order`)
  }
  t.ok(smaller > 0, `some of the partner's adds had the smaller hash (${smaller}) and still lost`)
})

test('trustline machine - a proposal dated past an htlc\'s expiry makes its settle impossible (why a node countersigns only at its own time)', (t) => {
  const A = party(1)
  const B = party(2)
  const [a, b] = A.did < B.did ? [A, B] : [B, A]
  let s = m.genesis(m.newTerms(a.did, b.did, 'CAD', 1000))
  const step = (st: TrustlineState, change: Change, proposer: Side, at: number): TrustlineState => {
    const p = m.propose(st, { change, proposer, at, expires: at + 10_000 }, proposer === 'A' ? a.sk : b.sk)
    if (!p.ok) throw new Error(p.reason)
    const r = m.accept(st, p.entry, at, proposer === 'A' ? b.sk : a.sk)
    if (!r.ok) throw new Error(r.reason)
    return r.state
  }
  const preimage = '22'.repeat(32)
  const hash = createHashHex(preimage)
  s = step(s, { type: 'limit', side: 'AtoB', amount: '10000' }, 'A', 2000)
  s = step(s, { type: 'htlc/add', id: 'in', hash, amount: '500', from: 'A', expires: 10_000 }, 'A', 3000)
  // the payer dates a tiny add of its own just after the expiry; had B countersigned it...
  const later = step(s, { type: 'htlc/add', id: 'tiny', hash, amount: '1', from: 'A', expires: 30_000 }, 'A', 10_001)
  const settle = m.propose(later, { change: { type: 'htlc/settle', id: 'in', preimage }, proposer: 'B', at: later.time, expires: later.time + 1000 }, b.sk)
  t.absent(settle.ok, 'B can no longer settle what pays it')
  const before = m.propose(s, { change: { type: 'htlc/settle', id: 'in', preimage }, proposer: 'B', at: 5000, expires: 6000 }, b.sk)
  t.ok(before.ok, 'control: on the line dated by honest clocks it settles')
})

function createHashHex (hex: string): string {
  return Buffer.from(sha256(Buffer.from(hex, 'hex'))).toString('hex')
}
