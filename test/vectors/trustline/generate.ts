/**
 * Writes the trustline test vectors (docs/trustline-spec.md section 10) from scenarios whose
 * outcomes are written here by hand: every step states whether it must apply, the balance and
 * limits it must leave, or words its refusal must contain. The generator refuses to write a
 * vector when the implementation disagrees with a hand-written outcome, so the JSON is never
 * just "whatever the code did". Run: node --import tsx test/vectors/trustline/generate.ts
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '../../../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../../../core/identity/did-key.ts'
import * as m from '../../../books/trustline/machine.ts'
import { domainSign, sha256Hex, stateHash, stateJson } from '../../../books/trustline/encoding.ts'
import type { Change, Entry, Side, TrustlineState, TrustlineTerms } from '../../../books/trustline/types.ts'

const here = path.dirname(fileURLToPath(import.meta.url))

interface Party { seedByte: number; did: DidKey; sk: Uint8Array }
function party (n: number): Party {
  const s = new Uint8Array(32)
  s[0] = n
  const kp = generateKeyPair(s)
  return { seedByte: n, did: publicKeyToDid(kp.publicKey), sk: kp.secretKey }
}

/** Hand-written expectation of one step. */
type Expect = { ok: true; balance?: string; limitAtoB?: string; limitBtoA?: string; status?: string; htlcs?: number } | { ok: false; reason: string }

class Scenario {
  readonly A: Party
  readonly B: Party
  readonly C: Party
  readonly terms: TrustlineTerms
  state: TrustlineState
  readonly steps: unknown[] = []
  readonly description: string

  constructor (description: string, opening: Partial<Pick<TrustlineTerms, 'limitAtoB' | 'limitBtoA' | 'balance' | 'origin'>> = {}) {
    this.description = description
    const p1 = party(1)
    const p2 = party(2)
    ;[this.A, this.B] = p1.did < p2.did ? [p1, p2] : [p2, p1]
    this.C = party(3)
    this.terms = m.newTerms(p1.did, p2.did, 'CAD', 1_700_000_000_000, opening)
    this.state = m.genesis(this.terms)
  }

  key (side: Side): Party { return side === 'A' ? this.A : this.B }

  /** A proposal by `by`, honestly signed (or refused by the builder: then a raw draft is signed). */
  proposal (by: Side, change: Change, at: number, expires: number): Entry {
    const r = m.propose(this.state, { change, proposer: by, at, expires }, this.key(by).sk)
    if (r.ok) return r.entry
    // the transition refuses it: sign it anyway, the way a hostile or buggy peer would
    const proposal = { v: 1 as const, line: this.state.id, seq: this.state.seq + 1, prev: stateHash(this.state), change, proposer: by, at, expires, state: '0'.repeat(64) }
    return { proposal, sig: domainSign('proposal', proposal, this.key(by).sk) }
  }

  countersign (e: Entry, at: number, signer?: Party): Entry {
    const p = e.proposal
    const acceptance = { v: 1 as const, line: p.line, seq: p.seq, proposal: m.proposalHash(p), state: p.state, at }
    const who = signer ?? this.key(p.proposer === 'A' ? 'B' : 'A')
    return { ...e, accept: { acceptance, sig: domainSign('accept', acceptance, who.sk) } }
  }

  step (name: string, entry: unknown, expect: Expect): void {
    const r = m.apply(this.state, entry)
    if (r.ok !== expect.ok) throw new Error(`${this.description} / ${name}: expected ${expect.ok ? 'ok' : 'refusal'}, got ${r.ok ? 'ok' : (r as { reason: string }).reason}`)
    if (!r.ok) {
      if (!expect.ok && !r.reason.includes(expect.reason)) throw new Error(`${name}: reason "${r.reason}" lacks "${expect.reason}"`)
      this.steps.push({ name, entry, expect: { ok: false, reason: r.reason } })
      return
    }
    const s = r.state
    if (expect.ok) {
      for (const k of ['balance', 'limitAtoB', 'limitBtoA'] as const) {
        if (expect[k] !== undefined && s[k].toString() !== expect[k]) throw new Error(`${name}: ${k} ${s[k]} != ${expect[k]}`)
      }
      if (expect.status !== undefined && s.status !== expect.status) throw new Error(`${name}: status ${s.status}`)
      if (expect.htlcs !== undefined && s.htlcs.length !== expect.htlcs) throw new Error(`${name}: htlcs ${s.htlcs.length}`)
    }
    this.state = s
    this.steps.push({ name, entry, expect: { ok: true, state: stateJson(s), hash: r.hash } })
  }

  json (): unknown {
    const g = m.genesis(this.terms)
    return {
      description: this.description,
      parties: { A: { seedByte: this.A.seedByte, did: this.A.did }, B: { seedByte: this.B.seedByte, did: this.B.did }, C: { seedByte: this.C.seedByte, did: this.C.did } },
      terms: this.terms,
      id: m.termsId(this.terms),
      genesis: { state: stateJson(g), hash: stateHash(g) },
      steps: this.steps
    }
  }
}

const T = 1_700_000_000_000
const H = 3_600_000

function basic (): Scenario {
  const s = new Scenario('limits, payments, unilateral cuts and closing')
  s.step('A proposes a 100.00 limit on what B may owe it; B countersigns', s.countersign(s.proposal('A', { type: 'limit', side: 'BtoA', amount: '10000' }, T + 1000, T + H), T + 2000), { ok: true, limitBtoA: '10000' })
  s.step('B raises the limit on what A may owe it without A countersigning: refused', s.proposal('B', { type: 'limit', side: 'AtoB', amount: '5000' }, T + 3000, T + H), { ok: false, reason: 'takes effect only when the other party countersigns' })
  s.step('B extends 50.00 to A; A countersigns', s.countersign(s.proposal('B', { type: 'limit', side: 'AtoB', amount: '5000' }, T + 3000, T + H), T + 3500), { ok: true, limitAtoB: '5000' })
  s.step('B pays A 30.00 (B proposes, A countersigns): balance -3000', s.countersign(s.proposal('B', { type: 'payment', from: 'B', amount: '3000', memo: 'eggs' }, T + 4000, T + H), T + 4100), { ok: true, balance: '-3000' })
  s.step('A asks B to pay 80.00 more: beyond B\'s available credit (70.00), refused', s.countersign(s.proposal('A', { type: 'payment', from: 'B', amount: '8000' }, T + 5000, T + H), T + 5100), { ok: false, reason: 'available credit' })
  s.step('A pays B 80.00: A is owed 30.00, so 80.00 fits its 50.00 limit', s.countersign(s.proposal('A', { type: 'payment', from: 'A', amount: '8000' }, T + 5000, T + H), T + 5200), { ok: true, balance: '5000' })
  s.step('B cuts the credit it extends to A to 20.00 alone: unilateral, immediate, below A\'s debt', s.proposal('B', { type: 'limit', side: 'AtoB', amount: '2000' }, T + 6000, T + 6000), { ok: true, limitAtoB: '2000', balance: '5000' })
  s.step('A (the debtor) lowers the limit on its own debt without B: refused', s.proposal('A', { type: 'limit', side: 'AtoB', amount: '1000' }, T + 6500, T + H), { ok: false, reason: 'takes effect only when the other party countersigns' })
  s.step('A pays 1 cent while over its cut limit: refused', s.countersign(s.proposal('A', { type: 'payment', from: 'A', amount: '1' }, T + 7000, T + H), T + 7100), { ok: false, reason: 'available credit' })
  s.step('close with a balance: refused', s.countersign(s.proposal('A', { type: 'close' }, T + 8000, T + H), T + 8100), { ok: false, reason: 'zero balance' })
  s.step('B pays A 50.00 back to zero', s.countersign(s.proposal('B', { type: 'payment', from: 'B', amount: '5000' }, T + 9000, T + H), T + 9100), { ok: true, balance: '0' })
  s.step('close at zero balance', s.countersign(s.proposal('A', { type: 'close' }, T + 10_000, T + H), T + 10_100), { ok: true, status: 'closed' })
  s.step('anything after close: refused', s.countersign(s.proposal('A', { type: 'limit', side: 'BtoA', amount: '20000' }, T + 11_000, T + H), T + 11_100), { ok: false, reason: 'closed' })
  return s
}

function hostile (): Scenario {
  const s = new Scenario('forged, replayed, out-of-order and expired countersignatures')
  const first = s.proposal('A', { type: 'limit', side: 'BtoA', amount: '10000' }, T + 1000, T + 60_000)
  s.step('countersigned after expiry (countersigner states a later time): refused', s.countersign(first, T + 60_001), { ok: false, reason: 'expired' })
  s.step('countersignature dated before the proposal: refused', s.countersign(first, T + 999), { ok: false, reason: 'before the proposal' })
  s.step('countersigned by the proposer itself: refused', s.countersign(first, T + 2000, s.A), { ok: false, reason: 'not signed by the other party' })
  s.step('countersigned by a third party: refused', s.countersign(first, T + 2000, s.C), { ok: false, reason: 'not signed by the other party' })
  const forged = s.countersign(first, T + 2000)
  const sig = forged.sig
  s.step('proposer signature forged (one bit flipped): refused', { ...forged, sig: (sig[0] === '0' ? '1' : '0') + sig.slice(1) }, { ok: false, reason: 'proposer\'s signature' })
  s.step('proposal altered after signing (amount raised): refused', { ...forged, proposal: { ...forged.proposal, change: { type: 'limit', side: 'BtoA', amount: '99999' } } }, { ok: false, reason: 'signature' })
  s.step('a third party proposes on the trustline (signs as A): refused', { proposal: first.proposal, sig: domainSign('proposal', first.proposal, s.C.sk) }, { ok: false, reason: 'proposer\'s signature' })
  s.step('valid: countersigned in time', forged, { ok: true, limitBtoA: '10000' })
  s.step('the same entry again (replay): refused as out of order', forged, { ok: false, reason: 'out of order' })
  const second = s.proposal('B', { type: 'payment', from: 'B', amount: '100' }, T + 3000, T + H)
  const other = s.proposal('B', { type: 'payment', from: 'B', amount: '9000' }, T + 3000, T + H)
  const cs = s.countersign(other, T + 3100)
  s.step('a countersignature of another proposal replayed onto this one: refused', { ...second, accept: cs.accept }, { ok: false, reason: 'replayed' })
  s.step('proposal dated before the current state (clock moved back): refused', s.countersign(s.proposal('B', { type: 'payment', from: 'B', amount: '100' }, T + 500, T + H), T + 3100), { ok: false, reason: 'clock cannot move back' })
  const skip = s.proposal('B', { type: 'payment', from: 'B', amount: '100' }, T + 3000, T + H)
  const skipped = { ...skip.proposal, seq: skip.proposal.seq + 1 }
  s.step('proposal that skips a seq: refused as out of order', s.countersign({ proposal: skipped, sig: domainSign('proposal', skipped, s.B.sk) }, T + 3100), { ok: false, reason: 'out of order' })
  const wrongState = { ...skip.proposal, state: 'f'.repeat(64) }
  s.step('proposal whose stated resulting state is not the transition\'s: refused', s.countersign({ proposal: wrongState, sig: domainSign('proposal', wrongState, s.B.sk) }, T + 3100), { ok: false, reason: 'resulting state hash' })
  s.step('the honest payment applies', s.countersign(second, T + 3200), { ok: true, balance: '-100' })
  return s
}

function htlc (): Scenario {
  const s = new Scenario('conditional payments (htlc) for multi-hop routes')
  const R = '11'.repeat(32)
  const hash = sha256Hex(R)
  s.step('A extends 100.00 to B', s.countersign(s.proposal('A', { type: 'limit', side: 'BtoA', amount: '10000' }, T + 1000, T + H), T + 1100), { ok: true })
  s.step('B adds an htlc of 60.00 to A, expiring in an hour', s.countersign(s.proposal('B', { type: 'htlc/add', id: 'pay-1', hash, amount: '6000', from: 'B', expires: T + H }, T + 2000, T + H), T + 2100), { ok: true, htlcs: 1, balance: '0' })
  s.step('a second 50.00 htlc: 60.00 is reserved, only 40.00 left: refused', s.countersign(s.proposal('B', { type: 'htlc/add', id: 'pay-2', hash, amount: '5000', from: 'B', expires: T + H }, T + 3000, T + H), T + 3100), { ok: false, reason: 'available credit' })
  s.step('a plain payment of 50.00 is refused too (reservation counts)', s.countersign(s.proposal('B', { type: 'payment', from: 'B', amount: '5000' }, T + 3000, T + H), T + 3100), { ok: false, reason: 'available credit' })
  s.step('the same id twice: refused', s.countersign(s.proposal('B', { type: 'htlc/add', id: 'pay-1', hash, amount: '100', from: 'B', expires: T + H }, T + 3000, T + H), T + 3100), { ok: false, reason: 'already pending' })
  s.step('settle with a wrong preimage: refused', s.countersign(s.proposal('A', { type: 'htlc/settle', id: 'pay-1', preimage: '22'.repeat(32) }, T + 4000, T + H), T + 4100), { ok: false, reason: 'preimage' })
  s.step('the payer fails it before expiry: refused', s.countersign(s.proposal('B', { type: 'htlc/fail', id: 'pay-1' }, T + 4000, T + H), T + 4100), { ok: false, reason: 'only after it expired' })
  s.step('A settles with the preimage: B now owes 60.00', s.countersign(s.proposal('A', { type: 'htlc/settle', id: 'pay-1', preimage: R }, T + 5000, T + H), T + 5100), { ok: true, balance: '-6000', htlcs: 0 })
  s.step('B adds 30.00 expiring at T+10s', s.countersign(s.proposal('B', { type: 'htlc/add', id: 'pay-3', hash, amount: '3000', from: 'B', expires: T + 10_000 }, T + 6000, T + H), T + 6100), { ok: true, htlcs: 1 })
  s.step('settle proposed after the htlc expired: refused', s.countersign(s.proposal('A', { type: 'htlc/settle', id: 'pay-3', preimage: R }, T + 10_001, T + H), T + 10_100), { ok: false, reason: 'expired' })
  s.step('expired htlcs reserve nothing: B pays the full 40.00 left', s.countersign(s.proposal('B', { type: 'payment', from: 'B', amount: '4000' }, T + 11_000, T + H), T + 11_100), { ok: true, balance: '-10000', htlcs: 1 })
  s.step('the payer fails the expired htlc', s.countersign(s.proposal('B', { type: 'htlc/fail', id: 'pay-3' }, T + 12_000, T + H), T + 12_100), { ok: true, htlcs: 0, balance: '-10000' })
  s.step('htlc that expires before it is proposed: refused', s.countersign(s.proposal('A', { type: 'htlc/add', id: 'x', hash, amount: '1', from: 'A', expires: T + 12_000 }, T + 13_000, T + H), T + 13_100), { ok: false, reason: 'expires before' })
  s.step('the payee gives an htlc up at once', (() => {
    s.step('A adds 100.01 to B (A has no limit from B; only B\'s 100.00 debt is room): refused', s.countersign(s.proposal('A', { type: 'htlc/add', id: 'y', hash, amount: '10001', from: 'A', expires: T + H }, T + 13_000, T + H), T + 13_100), { ok: false, reason: 'available credit' })
    s.step('A adds 1 cent to B (B owes A 100.00, room for A)', s.countersign(s.proposal('A', { type: 'htlc/add', id: 'z', hash, amount: '1', from: 'A', expires: T + H }, T + 13_000, T + H), T + 13_100), { ok: true, htlcs: 1 })
    return s.countersign(s.proposal('B', { type: 'htlc/fail', id: 'z' }, T + 14_000, T + H), T + 14_100)
  })(), { ok: true, htlcs: 0 })
  return s
}

function imported (): Scenario {
  const s = new Scenario('an imported trustline: forced debt beyond the limit, unconfirmed until both confirm', { limitAtoB: '5000', limitBtoA: '10000', balance: '7500', origin: 'growoperative:trustline:42' })
  s.step('a payment before confirmation: refused', s.countersign(s.proposal('B', { type: 'payment', from: 'B', amount: '100' }, T + 1000, T + H), T + 1100), { ok: false, reason: 'confirm' })
  s.step('confirm without the other\'s countersignature: refused', s.proposal('A', { type: 'confirm' }, T + 1000, T + H), { ok: false, reason: 'countersigns' })
  s.step('both confirm the opening state', s.countersign(s.proposal('A', { type: 'confirm' }, T + 1000, T + H), T + 1100), { ok: true, status: 'open', balance: '7500' })
  s.step('A (owing 75.00 over its 50.00 limit) pays more: refused', s.countersign(s.proposal('A', { type: 'payment', from: 'A', amount: '1' }, T + 2000, T + H), T + 2100), { ok: false, reason: 'available credit' })
  s.step('B pays A 100.00: A\'s debt of 75.00 turns into B owing 25.00', s.countersign(s.proposal('B', { type: 'payment', from: 'B', amount: '10000' }, T + 3000, T + H), T + 3100), { ok: true, balance: '-2500' })
  s.step('confirm twice: refused', s.countersign(s.proposal('B', { type: 'confirm' }, T + 4000, T + H), T + 4100), { ok: false, reason: 'already confirmed' })
  return s
}

/** Fork cases for reconcile: two copies sharing a prefix, and which one wins. */
function forks (): unknown {
  const base = new Scenario('reconcile')
  const common = base.countersign(base.proposal('A', { type: 'limit', side: 'BtoA', amount: '10000' }, T + 1000, T + H), T + 1100)
  const r0 = m.apply(base.state, common)
  if (!r0.ok) throw new Error(r0.reason)
  const s1 = r0.state
  base.state = s1
  // two more limits so both sides can cut
  const both = base.countersign(base.proposal('B', { type: 'limit', side: 'AtoB', amount: '10000' }, T + 1200, T + H), T + 1300)
  const r1 = m.apply(s1, both)
  if (!r1.ok) throw new Error(r1.reason)
  const s2 = r1.state
  base.state = s2
  const cutA = base.proposal('A', { type: 'limit', side: 'BtoA', amount: '5000' }, T + 2000, T + 2000)
  const cutB = base.proposal('B', { type: 'limit', side: 'AtoB', amount: '4000' }, T + 2500, T + 2500)
  const pay = base.countersign(base.proposal('A', { type: 'payment', from: 'A', amount: '700' }, T + 3000, T + H), T + 3100)
  const pay2 = base.countersign(base.proposal('B', { type: 'payment', from: 'B', amount: '300' }, T + 1900, T + H), T + 4000)
  const next = (s: TrustlineState, e: Entry): TrustlineState => { const r = m.apply(s, e); if (!r.ok) throw new Error(r.reason); return r.state }
  base.state = next(s2, pay)
  const onPay = base.countersign(base.proposal('B', { type: 'payment', from: 'B', amount: '100' }, T + 5000, T + H), T + 5100)
  const prefix = [common, both]
  const cases = [
    { name: 'a copy behind (old backup) catches up: the longer copy wins', x: prefix, y: [...prefix, pay], winner: 'y' },
    { name: 'two unilateral cuts at once: the earlier commit time wins', x: [...prefix, cutB], y: [...prefix, cutA], winner: 'y' },
    { name: 'a unilateral cut racing a countersigned payment: two-party wins', x: [...prefix, cutA], y: [...prefix, pay], winner: 'y' },
    { name: 'two countersigned entries at one seq (a party signed twice): earlier countersignature wins', x: [...prefix, pay2], y: [...prefix, pay], winner: 'y' },
    { name: 'history both signed on top of is final: a later two-party entry outweighs an earlier-dated fork', x: [...prefix, pay, onPay], y: [...prefix, pay2], winner: 'x' },
    { name: 'a copy with a forged entry is cut before it: the honest copy wins', x: [...prefix, pay], y: [...prefix, { ...pay2, sig: '00'.repeat(64) }, onPay], winner: 'x' }
  ]
  return {
    description: 'reconciliation of two copies (docs/trustline-spec.md section 6)',
    parties: { A: { seedByte: base.A.seedByte, did: base.A.did }, B: { seedByte: base.B.seedByte, did: base.B.did } },
    terms: base.terms,
    cases: cases.map((c) => {
      const r = m.reconcile(base.terms, c.x, c.y)
      const want = c.winner === 'x' ? c.x : c.y
      const rw = m.replay(base.terms, want)
      const head = stateHash(rw.state)
      if (stateHash(r.state) !== head) throw new Error(`${c.name}: the winner is not ${c.winner}`)
      const back = m.reconcile(base.terms, c.y, c.x)
      if (stateHash(back.state) !== head) throw new Error(`${c.name}: the order of the copies changed the winner`)
      return { ...c, head, length: rw.states.length - 1 }
    })
  }
}

function write (name: string, value: unknown): void {
  fs.writeFileSync(path.join(here, name), JSON.stringify(value, null, 2) + '\n')
}

write('basic.json', basic().json())
write('hostile.json', hostile().json())
write('htlc.json', htlc().json())
write('import.json', imported().json())
write('reconcile.json', forks())
console.log('trustline vectors written to', here)
