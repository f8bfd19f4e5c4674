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
import { stateHash } from '../books/trustline/encoding.ts'
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
function line (x: Party, y: Party, created: number, payments: number): { terms: TrustlineTerms, state: TrustlineState, entries: Entry[] } {
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
  return { terms, state, entries }
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

test('anchor - bitcoin regtest: three trustlines anchored in one OP_RETURN, mined, proven, verified offline; tampered state, path and tx refused', { skip, timeout: 90_000 }, async (t) => {
  const node = await startBcoin(t)
  const funds = account.receive(0)
  await node.rpc('generatetoaddress', [2, funds.address])
  await node.rpc('generatetoaddress', [446, miner.address]) // coinbase maturity and SegWit on bcoin regtest
  const rpc = new BitcoinRpc({ url: node.url, apiKey: 'growr-test-' + process.pid, timeoutMs: 5_000 })
  const cb = await coinbaseOf(node, 1)

  const [p1, p2, p3, p4] = [party(1), party(2), party(3), party(4)]
  const lines = [line(p1, p2, 1_700_000_000_000, 3), line(p2, p3, 1_700_000_100_000, 1), line(p3, p4, 1_700_000_200_000, 0)]
  const batch = anchorBatch(lines.map((l) => ({ line: l.state.id, seq: l.state.seq, state: stateHash(l.state) })))

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

  const proofs: TrustlineAnchorProof[] = lines.map((l) => anchorProof(batch, { state: l.state, head: l.entries[l.entries.length - 1] }, 'regtest', spv))
  const expect = { network: 'regtest' as const, minConfirmations: 3 }
  for (const [i, p] of proofs.entries()) {
    const r = verifyAnchor(JSON.parse(JSON.stringify(p)), expect)
    t.ok(r.ok, `trustline ${i + 1}: the anchor proof verifies offline (${r.ok ? 'ok' : r.reason})`)
    if (r.ok) {
      t.is(r.txid, txid, 'it names the anchor transaction')
      t.is(r.state, stateHash(lines[i].state), 'and the state hash both parties signed')
      t.is(r.signers.length, 2, 'signed by both parties')
      t.is(r.confirmations, 3, 'three confirmations')
    }
  }

  // a genesis state is proven by its terms
  const fresh = line(p1, p4, 1_700_000_300_000, 0)
  const g = m.genesis(fresh.terms)
  const b2 = anchorBatch([{ line: g.id, seq: 0, state: stateHash(g) }, ...batch.leaves])
  try {
    anchorProof(batch, { state: g, terms: fresh.terms }, 'regtest', spv)
    t.fail('a state the batch does not hold got a proof')
  } catch (err) {
    t.is((err as GrowrError).code, 'NOT_FOUND', 'a state the batch does not hold gets no proof (NOT_FOUND)')
  }
  t.not(b2.root, batch.root, 'another set of heads, another root')

  const refused = (mutate: (p: any) => void, expect2: AnchorExpectation, words: RegExp, msg: string): void => {
    const p = JSON.parse(JSON.stringify(proofs[0]))
    mutate(p)
    const r = verifyAnchor(p, expect2)
    t.absent(r.ok, msg)
    if (!r.ok) t.ok(words.test(r.reason), `${msg}: "${r.reason}"`)
  }
  refused((p) => { p.state.balance = String(BigInt(p.state.balance) - 1000n) }, expect, /head entry did not make this state/, 'tampered state: a lower balance')
  refused((p) => { p.state.seq = 1 }, expect, /head entry did not make this state/, 'tampered state: an older seq')
  refused((p) => { p.head.accept.sig = p.head.accept.sig.replace(/^./, (c: string) => c === 'a' ? 'b' : 'a') }, expect, /countersignature of the head entry does not hold/, 'forged countersignature')
  refused((p) => { p.head.sig = proofs[1].head?.sig }, expect, /proposer's signature/, 'a signature from another entry')
  refused((p) => { delete p.head }, expect, /needs its head entry/, 'no head entry')
  refused((p) => { p.state = proofs[1].state; p.head = proofs[1].head }, expect, /inclusion path does not lead/, 'another trustline\'s state with this path')
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
  t.absent(verifyAnchor({ v: 2 }, expect).ok, 'an unknown version is refused')
})
