// Anchoring trustline state to Bitcoin (core/credit/anchor.ts) on a real bcoin regtest chain
// started here: three trustlines' signed heads under one RFC 9162 Merkle root, posted in an
// OP_RETURN of a transaction the wallet pays to itself, mined, proven with gettxoutproof and the
// following headers, then checked offline. A hostile prover then tampers with every part.
import test from 'brittle'
import { Transaction } from '@scure/btc-signer'
import { hex } from '@scure/base'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import * as m from '../books/trustline/machine.ts'
import { stateHash, stateJson } from '../books/trustline/encoding.ts'
import type { Entry, TrustlineState, TrustlineTerms } from '../books/trustline/types.ts'
import {
  anchorBatch, anchorProof, anchorScript, buildBitcoinAnchorTx, inclusionPath, leafHash, verifyAnchor, verifyInclusion,
  type TrustlineAnchorProof, type AnchorExpectation
} from '../core/credit/anchor.ts'
import { BitcoinRpc } from '../core/rails/bitcoin/rpc.ts'
import { fetchProof } from '../core/rails/bitcoin/proof-fetcher.ts'
import { mnemonicToSeed } from '../core/wallet/bip39.ts'
import { Bip84Account, bitcoinNetwork, BCOIN_REGTEST_BECH32 } from '../core/wallet/bip84.ts'
import { GrowrError } from '../core/errors.ts'
import { startBcoin, bcoinInstalled, testKey, coinbaseOf, untilInMempool } from './helpers/bcoin.ts'

const skip = !bcoinInstalled()
const NET = bitcoinNetwork('regtest', { bech32: BCOIN_REGTEST_BECH32 })
const SEED = mnemonicToSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about')
const account = Bip84Account.fromSeed(SEED, NET)
const miner = testKey(0)

interface Party { did: DidKey, secretKey: Uint8Array }
function party (n: number): Party {
  const seed = new Uint8Array(32)
  seed[0] = n
  const kp = generateKeyPair(seed)
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
}

/** A trustline between two parties with `payments` two-party payments, all signed for real. */
function line (x: Party, y: Party, created: number, payments: number): { terms: TrustlineTerms, state: TrustlineState, entries: Entry[], prev: TrustlineState, who: { A: Party, B: Party } } {
  const terms = m.newTerms(x.did, y.did, 'CAD', created)
  const [a, b] = terms.a === x.did ? [x, y] : [y, x]
  let state = m.genesis(terms)
  const entries: Entry[] = []
  const step = (change: Parameters<typeof m.propose>[1]['change'], by: Party, other: Party): void => {
    const at = state.time + 1000
    const p = m.propose(state, { change, proposer: by === a ? 'A' : 'B', at, expires: at + 60_000 }, by.secretKey)
    if (!p.ok) throw new Error(p.reason)
    const c = m.accept(state, p.entry, at + 10, other.secretKey)
    if (!c.ok) throw new Error(c.reason)
    entries.push(c.entry)
    state = c.state
  }
  step({ type: 'limit', side: 'AtoB', amount: '50000' }, a, b) // A asks B for credit: two-party
  for (let i = 0; i < payments; i++) step({ type: 'payment', from: 'A', amount: String(1234 + i) }, a, b)
  const r = m.replay(terms, entries)
  if (!r.ok) throw new Error(r.reason)
  return { terms, state, entries, prev: r.states[r.states.length - 2], who: { A: a, B: b } }
}

/**
 * What a stranger holding two keys makes to claim a state of someone else's trustline `victim`:
 * a state naming the victim's id but the stranger's DIDs, and a head entry both stranger keys
 * signed for real, every hash consistent. A verifier that takes a and b from the state accepts it.
 */
function forgedHead (victim: TrustlineState, x: Party, y: Party): { state: TrustlineState, prev: TrustlineState, head: Entry, terms: TrustlineTerms } {
  const terms = m.newTerms(x.did, y.did, 'CAD', 1_700_000_900_000)
  const [a, b] = terms.a === x.did ? [x, y] : [y, x]
  // the stranger's own genesis, relabelled with the victim's id: the machine then signs happily
  const prev: TrustlineState = { ...m.genesis(terms), id: victim.id }
  const at = prev.time + 1000
  const p = m.propose(prev, { change: { type: 'limit', side: 'AtoB', amount: '99999999' }, proposer: 'A', at, expires: at + 60_000 }, a.secretKey)
  if (!p.ok) throw new Error(p.reason)
  const c = m.accept(prev, p.entry, at + 1, b.secretKey)
  if (!c.ok) throw new Error(c.reason)
  return { state: c.state, prev, head: c.entry, terms }
}

test('anchor - merkle tree: every leaf of trees of 1 to 9 leaves proves, a moved or altered path does not', async (t) => {
  const leaves = Array.from({ length: 9 }, (_, i) => ({ line: String(i).repeat(64).slice(0, 64), seq: i, state: 'ab'.repeat(32) }))
  for (let n = 1; n <= 9; n++) {
    const batch = anchorBatch(leaves.slice(0, n))
    let ok = 0
    for (const l of batch.leaves) {
      const p = inclusionPath(batch, l.line, l.seq)
      if (verifyInclusion(leafHash(l), p, batch.root)) ok++
      if (n > 1) {
        t.absent(verifyInclusion(leafHash(l), { ...p, index: (p.index + 1) % n }, batch.root), `n=${n}: the path at another index is refused`)
        if (p.path.length > 1) t.absent(verifyInclusion(leafHash(l), { ...p, path: [...p.path].reverse() }, batch.root), `n=${n}: a reordered path is refused`)
        t.absent(verifyInclusion(leafHash(l), { ...p, path: p.path.slice(0, -1) }, batch.root), `n=${n}: a shortened path is refused`)
      }
    }
    t.is(ok, n, `n=${n}: all ${n} leaves prove their inclusion`)
  }
  t.is(anchorBatch(leaves.slice(0, 1)).root, leafHash(leaves[0]), 'one trustline: the root is its leaf')
  const two = anchorBatch(leaves.slice(0, 2))
  t.exception(() => anchorBatch([leaves[0], leaves[0]]), /given twice/, 'the same head twice is refused')
  t.exception(() => anchorBatch([]), /at least one/, 'an empty anchor is refused')
  t.is(anchorScript(two.root).length, 2 + 15 + 32, 'OP_RETURN payload: 15-byte tag + 32-byte root, one direct push')
})

test('anchor - bitcoin regtest: three trustlines anchored in one OP_RETURN, mined, proven, verified offline; tampered state, path and tx refused; strangers\' heads, genesis and one-party heads refused', { skip, timeout: 90_000 }, async (t) => {
  const node = await startBcoin(t)
  const funds = account.receive(0)
  await node.rpc('generatetoaddress', [2, funds.address])
  await node.rpc('generatetoaddress', [446, miner.address]) // coinbase maturity and SegWit on bcoin regtest
  const rpc = new BitcoinRpc({ url: node.url, apiKey: 'growr-test-' + process.pid, timeoutMs: 5_000 })
  const cb = await coinbaseOf(node, 1)

  const [p1, p2, p3, p4] = [party(1), party(2), party(3), party(4)]
  const lines = [line(p1, p2, 1_700_000_000_000, 3), line(p2, p3, 1_700_000_100_000, 1), line(p3, p4, 1_700_000_200_000, 0)]
  // hostile and one-sided heads ride in the same anchor, so that their proofs get past the
  // path and the transaction and are judged on who signed them
  const [s1, s2] = [party(66), party(67)]
  const forged = forgedHead(lines[0].state, s1, s2)
  const uni = line(p1, p3, 1_700_000_400_000, 0)
  const lowered = m.propose(uni.state, { change: { type: 'limit', side: 'AtoB', amount: '40000' }, proposer: 'B', at: uni.state.time + 1000, expires: uni.state.time + 61_000 }, uni.who.B.secretKey)
  if (!lowered.ok) throw new Error(lowered.reason)
  const uniPrev = uni.state
  uni.entries.push(lowered.entry)
  uni.state = lowered.state
  const gen = m.genesis(m.newTerms(p2.did, p4.did, 'CAD', 1_700_000_500_000))
  const heads = [...lines.map((l) => l.state), forged.state, uni.state, gen]
  const batch = anchorBatch(heads.map((st) => ({ line: st.id, seq: st.seq, state: stateHash(st) })))

  const signed = buildBitcoinAnchorTx({ account, coins: [{ txid: cb.txid, vout: 0, amount: cb.amount, chain: 'receive', index: 0 }], changeIndex: 0, feeRate: 2n }, batch.root, SEED)
  const txid = await rpc.sendRawTransaction(signed.hex)
  t.is(txid, signed.txid, 'the node took the anchor transaction')
  t.ok(await untilInMempool(node, txid), 'in the mempool')
  const onchain = Transaction.fromRaw(hex.decode(signed.hex), { allowUnknownOutputs: true })
  t.is(onchain.outputsLength, 2, 'two outputs: the OP_RETURN and the change')
  t.is(hex.encode(onchain.getOutput(0).script as Uint8Array), hex.encode(anchorScript(batch.root)), 'output 0 is OP_RETURN "growr-anchor/v1" || root')
  t.is(onchain.getOutput(0).amount, 0n, 'the anchor output carries no sats')
  t.is(hex.encode(onchain.getOutput(1).script as Uint8Array), hex.encode(account.change(0).script), 'the rest comes back to the wallet\'s change address')
  t.is(cb.amount - (onchain.getOutput(1).amount as bigint), signed.fee, 'only the fee leaves the wallet')

  await node.rpc('generatetoaddress', [3, miner.address])
  const spv = await fetchProof(rpc, txid, { confirmations: 3, timeoutMs: 10_000, pollMs: 50 })

  const proofs: TrustlineAnchorProof[] = lines.map((l) => anchorProof(batch, { state: l.state, head: l.entries[l.entries.length - 1], terms: l.terms, prev: l.prev }, 'regtest', spv))
  const expect = { network: 'regtest' as const, minConfirmations: 3 }
  for (const [i, p] of proofs.entries()) {
    const r = verifyAnchor(JSON.parse(JSON.stringify(p)), expect)
    t.ok(r.ok, `trustline ${i + 1}: the anchor proof verifies offline (${r.ok ? 'ok' : r.reason})`)
    if (r.ok) {
      t.is(r.txid, txid, 'it names the anchor transaction')
      t.is(r.state, stateHash(lines[i].state), 'and the state hash both parties signed')
      t.alike(r.signers, [lines[i].terms.a, lines[i].terms.b], 'signed by both parties the terms name')
      t.ok(r.countersigned, 'countersigned')
      t.is(r.confirmations, 3, 'three confirmations')
    }
  }

  // a state the batch does not hold gets no proof
  const fresh = line(p1, p4, 1_700_000_300_000, 0)
  const g = m.genesis(fresh.terms)
  const b2 = anchorBatch([{ line: g.id, seq: 0, state: stateHash(g) }, ...batch.leaves])
  try {
    anchorProof(batch, { state: fresh.state, head: fresh.entries[0], terms: fresh.terms }, 'regtest', spv)
    t.fail('a state the batch does not hold got a proof')
  } catch (err) {
    t.is((err as GrowrError).code, 'NOT_FOUND', 'a state the batch does not hold gets no proof (NOT_FOUND)')
  }
  t.not(b2.root, batch.root, 'another set of heads, another root')
  t.exception(() => anchorProof(batch, { state: gen, terms: fresh.terms }, 'regtest', spv), /signed by nobody/, 'no proof is built for a genesis state')

  // hostile provers, each with a leaf really anchored in this transaction
  const judged = (p: unknown, words: RegExp, msg: string, e2: AnchorExpectation = expect): void => {
    const r = verifyAnchor(JSON.parse(JSON.stringify(p)), e2)
    t.absent(r.ok, msg)
    if (!r.ok) t.ok(words.test(r.reason), `${msg}: "${r.reason}"`)
  }
  const common = { v: 2, chain: 'bitcoin', network: 'regtest', root: batch.root, tx: spv }
  t.ok(m.apply(forged.prev, forged.head).ok, 'the stranger\'s head holds on its own (both stranger keys really signed it)')
  const forgedAt = { ...common, state: stateJson(forged.state), prev: stateJson(forged.prev), head: forged.head, inclusion: inclusionPath(batch, forged.state.id, forged.state.seq) }
  judged({ ...forgedAt, terms: lines[0].terms }, /other parties/, 'a stranger with two keys claims a state of the victim\'s trustline, with the victim\'s terms')
  judged({ ...forgedAt, terms: forged.terms }, /another trustline than its terms/, 'the same with the stranger\'s own terms')
  judged({ ...forgedAt, terms: { ...forged.terms, a: lines[0].terms.a } }, /terms are refused|another trustline|other parties/, 'the same with terms mixing the victim and the stranger')
  const { terms: _t, prev: _p, ...v1 } = { ...forgedAt, terms: forged.terms, v: 1 }
  judged(v1, /version 1/, 'the old proof form (no terms, no previous state) is refused')
  judged({ ...common, v: 2, terms: fresh.terms, state: stateJson(gen), prev: stateJson(gen), inclusion: inclusionPath(batch, gen.id, 0) }, /terms are refused|another trustline|signed by nobody/, 'a genesis state with someone else\'s terms')
  const genTerms = m.newTerms(p2.did, p4.did, 'CAD', 1_700_000_500_000)
  judged({ ...common, v: 2, terms: genTerms, state: stateJson(gen), prev: stateJson(gen), inclusion: inclusionPath(batch, gen.id, 0) }, /signed by nobody/, 'a genesis state with its own terms: nobody signed it')

  // a head its proposer signed alone: a change that needs both, and a real unilateral one
  const uniProof = anchorProof(batch, { state: uni.state, head: lowered.entry, terms: uni.terms, prev: uniPrev }, 'regtest', spv)
  judged(uniProof, /alone/, 'a creditor lowering its own limit: refused by default (one party\'s claim)')
  const taken = verifyAnchor(JSON.parse(JSON.stringify(uniProof)), { ...expect, allowUnilateral: true })
  t.ok(taken.ok && taken.countersigned === false && taken.signers.length === 1 && taken.signers[0] === uni.terms.b, `with allowUnilateral: taken, marked one-sided, signed by the creditor alone (${taken.ok ? taken.signers.join(',') : taken.reason})`)
  const pay = JSON.parse(JSON.stringify(proofs[0]))
  delete pay.head.accept
  judged(pay, /countersigns/, 'a payment head stripped of its countersignature', { ...expect, allowUnilateral: true })
  // the proposer signs a payment alone and gives its own state: the machine refuses it even when one-sided heads are allowed
  const solo = m.propose(lines[0].prev, { change: { type: 'payment', from: 'B', amount: '1' }, proposer: 'B', at: lines[0].prev.time + 5, expires: lines[0].prev.time + 60_000 }, lines[0].who.B.secretKey)
  t.ok(solo.ok, 'the machine builds a one-party payment proposal')
  if (solo.ok) judged({ ...proofs[0], head: solo.entry }, /countersigns|did not make this state/, 'a payment its proposer signed alone', { ...expect, allowUnilateral: true })

  const refused = (mutate: (p: any) => void, expect2: AnchorExpectation, words: RegExp, msg: string): void => {
    const p = JSON.parse(JSON.stringify(proofs[0]))
    mutate(p)
    const r = verifyAnchor(p, expect2)
    t.absent(r.ok, msg)
    if (!r.ok) t.ok(words.test(r.reason), `${msg}: "${r.reason}"`)
  }
  refused((p) => { p.state.balance = String(BigInt(p.state.balance) - 1000n) }, expect, /head entry did not make this state/, 'tampered state: a lower balance')
  refused((p) => { p.state.seq = 1 }, expect, /another trustline or seq/, 'tampered state: an older seq')
  refused((p) => { p.state.balance = '0' + p.state.balance }, expect, /malformed/, 'a second spelling of the balance')
  refused((p) => { p.state.extra = 1 }, expect, /malformed/, 'a state with an extra field')
  refused((p) => { p.prev.balance = String(BigInt(p.prev.balance) + 1n) }, expect, /does not build on the current state/, 'tampered previous state')
  refused((p) => { delete p.prev }, expect, /state before the anchored one/, 'no previous state')
  refused((p) => { delete p.terms }, expect, /terms are refused/, 'no terms')
  refused((p) => { p.terms = proofs[1].terms }, expect, /another trustline than its terms/, 'another trustline\'s terms')
  refused((p) => { p.head.accept.sig = p.head.accept.sig.replace(/^./, (c: string) => c === 'a' ? 'b' : 'a') }, expect, /countersignature does not hold/, 'forged countersignature')
  refused((p) => { p.head.sig = proofs[1].head?.sig }, expect, /proposer's signature/, 'a signature from another entry')
  refused((p) => { delete p.head }, expect, /needs its head entry/, 'no head entry')
  refused((p) => { p.state = proofs[1].state; p.prev = proofs[1].prev; p.head = proofs[1].head }, expect, /another trustline than its terms/, 'another trustline\'s state under these terms')
  refused((p) => { p.state = proofs[1].state; p.prev = proofs[1].prev; p.head = proofs[1].head; p.terms = proofs[1].terms }, expect, /inclusion path does not lead/, 'another trustline\'s whole proof with this path')
  refused((p) => { p.inclusion.path[0] = p.inclusion.path[0].replace(/^./, (c: string) => c === '0' ? '1' : '0') }, expect, /inclusion path does not lead/, 'tampered path')
  refused((p) => { p.inclusion.index = (p.inclusion.index + 1) % 3 }, expect, /inclusion path does not lead/, 'path at another index')
  refused((p) => { p.root = b2.root }, expect, /inclusion path does not lead|OP_RETURN/, 'another root')

  // the transaction: another one, a changed output, a proof of another transaction
  const other = buildBitcoinAnchorTx({ account, coins: [{ txid: (await coinbaseOf(node, 2)).txid, vout: 0, amount: cb.amount, chain: 'receive', index: 0 }], changeIndex: 1, feeRate: 2n }, b2.root, SEED)
  refused((p) => { p.tx.rawTx = other.hex }, expect, /no OP_RETURN output/, 'a transaction anchoring another root')
  const tampered = Transaction.fromRaw(hex.decode(signed.hex), { allowUnknownOutputs: true })
  tampered.updateOutput(1, { amount: (tampered.getOutput(1).amount as bigint) - 1n }, true)
  refused((p) => { p.tx.rawTx = hex.encode(tampered.toBytes(true, true)) }, expect, /does not prove the anchor transaction/, 'tampered transaction (same OP_RETURN, changed change)')
  refused((p) => { p.tx.headers = p.tx.headers.slice(1) }, expect, /does not link/, 'a header removed')
  refused((p) => { p.tx.headers = [] }, expect, /too few confirmations: 1, at least 3/, 'too few confirmations')
  refused((p) => { p.network = 'mainnet' }, expect, /on mainnet, regtest was expected/, 'another network named')
  refused(() => {}, { ...expect, minWork: 10n ** 30n }, /less than the/, 'not enough work')
  refused((p) => { p.tx.txoutproof = p.tx.txoutproof.slice(0, 40) }, expect, /txoutproof/, 'truncated txoutproof')
  t.absent(verifyAnchor(null, expect).ok, 'null is refused, not thrown')
  t.absent(verifyAnchor({ v: 3 }, expect).ok, 'an unknown version is refused')
  t.absent(verifyAnchor({ v: 2 }, expect).ok, 'an empty version 2 proof is refused')
})
