/**
 * Bitcoin SPV proofs over a real chain: bcoin 1.0.2 on regtest, started by the test.
 * A payment confirmed under 5 more blocks verifies with its 5 following headers; every hostile
 * variant is refused with its own reason. Needs scripts/install-bcoin.sh (run by .ci/run).
 */
// @ts-ignore -- brittle ships no type declarations; typed locally below
import brittle from 'brittle'
import fc from 'fast-check'
import { NETWORK } from '@scure/btc-signer'
import { verifyBitcoinPayment, compareChains, type BitcoinSpvInput } from '../books/proofs/bitcoin-spv.ts'
import { parseHeader, decodeCompact, uint256LE } from '../books/proofs/bitcoin-header.ts'
import { broadcast, startBcoin, bcoinInstalled, testKey, signSpend, addressOn, type Bcoin } from './helpers/bcoin.ts'

interface Assert {
  is (actual: unknown, expected: unknown, message?: string): void
  alike (actual: unknown, expected: unknown, message?: string): void
  ok (value: unknown, message?: string): void
  fail (message?: string): void
  comment (message: string): void
  teardown (fn: () => unknown): void
}
const test = brittle as (name: string, opts: { timeout: number }, fn: (t: Assert) => void | Promise<void>) => void

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

interface Chain {
  node: Bcoin
  input: BitcoinSpvInput
  payee: string
  txid: string
  blockHash: string
  otherTxid: string
}

/** Mines 450 blocks to a key we hold, pays the payee twice in one transaction, confirms it under 5 more blocks. */
async function paymentChain (t: Assert): Promise<Chain> {
  const node = await startBcoin(t)
  const miner = testKey(0)
  const payee = testKey(1)
  await node.rpc('generatetoaddress', [450, miner.address]) // past SegWit activation (~432) and coinbase maturity

  // spend block 1's coinbase (50 BTC to the miner's P2WPKH)
  const block1 = await node.rpc<{ tx: Array<{ txid: string, vout: Array<{ value: number }> }> }>('getblock', [await node.rpc<string>('getblockhash', [1]), true, true])
  const coinbase = block1.tx[0]
  const rawTx = signSpend(miner, { txid: coinbase.txid, vout: 0, amount: 5_000_000_000n }, [
    { address: payee.address, amount: 100_000_000n },
    { address: miner.address, amount: 4_849_990_000n },
    { address: payee.address, amount: 50_000_000n }
  ])
  const txid = await broadcast(node, rawTx)
  const [blockHash] = await node.rpc<string[]>('generatetoaddress', [1, miner.address])
  const following = await node.rpc<string[]>('generatetoaddress', [5, miner.address])
  const headers: string[] = []
  for (const h of following) headers.push(await node.rpc<string>('getblockheader', [h, false]))
  const txoutproof = await node.rpc<string>('gettxoutproof', [[txid], blockHash])
  const block = await node.rpc<{ tx: Array<{ txid: string }> }>('getblock', [blockHash, true, true])
  t.is(block.tx.length, 2, 'the payment block holds the coinbase and the payment')
  t.is(await node.rpc<string>('getrawtransaction', [txid]), rawTx, 'the node returns the transaction we sent')
  return {
    node,
    payee: payee.address,
    txid,
    blockHash,
    otherTxid: block.tx[0].txid,
    input: {
      network: 'regtest',
      rawTx,
      txoutproof,
      headers,
      expect: { address: payee.address, minAmountSats: 150_000_000n, minConfirmations: 6 }
    }
  }
}

const refused = (t: Assert, input: BitcoinSpvInput, pattern: RegExp, what: string): void => {
  const r = verifyBitcoinPayment(input)
  t.ok(!r.ok, `${what}: refused`)
  if (!r.ok) t.ok(pattern.test(r.reason), `${what}: ${r.reason}`)
}

/** Re-grinds the nonce of a (regtest-easy) header until it meets its own target again. */
function regrind (header: Uint8Array): Uint8Array {
  const h = header.slice()
  const view = new DataView(h.buffer)
  for (let nonce = 0; ; nonce++) {
    view.setUint32(76, nonce, true)
    const p = parseHeader(h)
    if (p.ok && uint256LE(p.header.hash) <= decodeCompact(p.header.bits).target) return h
  }
}

test('bitcoin spv regtest - a payment, its refusals and mutations, over a real bcoin chain', { timeout: 60_000 }, async (t) => {
  if (!bcoinInstalled()) { t.fail('bcoin is not installed: run scripts/install-bcoin.sh (.ci/run does)'); return }
  const started = Date.now()
  const c = await paymentChain(t)
  const good = c.input

  // the payment verifies with its 5 following headers: 6 confirmations
  const r = verifyBitcoinPayment(good)
  t.ok(r.ok, r.ok ? 'proof verifies' : `proof refused: ${r.reason}`)
  if (r.ok) {
    t.is(r.txid, c.txid, 'txid')
    t.alike(r.vouts, [0, 2], 'both outputs to the payee')
    t.is(r.amountSats, 150_000_000n, 'amount is the sum of those outputs')
    t.is(r.confirmations, 6, 'six confirmations')
    t.is(r.blockHash, c.blockHash, 'block hash')
    t.is(r.headerHashes.length, 6, 'a hash for the block and each following header')
    t.is(r.work, 12n, 'regtest work: 2 per header (target 0x7fffff..)')
  }
  t.ok(verifyBitcoinPayment({ ...good, expect: { ...good.expect, minAmountSats: 150_000_000n, minConfirmations: 1 } }).ok, 'fewer confirmations asked: still holds')

  // refusals, each with its own reason
  refused(t, { ...good, expect: { ...good.expect, address: testKey(2).address } }, /no output of the transaction pays/, 'wrong address')
  refused(t, { ...good, expect: { ...good.expect, minAmountSats: 150_000_001n } }, /total 150000000 sats, less than the 150000001 sats expected/, 'smaller amount than expected')
  refused(t, { ...good, headers: good.headers.slice(0, 4) }, /too few confirmations: 5, at least 6 required/, 'too few confirmations')

  const hardBits = bytes(good.headers[1])
  new DataView(hardBits.buffer).setUint32(72, 0x1d00ffff, true) // a mainnet-hard target the regtest hash misses
  refused(t, { ...good, headers: [good.headers[0], hex(hardBits), ...good.headers.slice(2)] }, /following header 2: .* does not meet its own target/, 'forged header (bad work)')

  const badNonce = bytes(good.headers[0])
  for (let n = 0; ; n++) { // a nonce whose hash misses even regtest's target
    new DataView(badNonce.buffer).setUint32(76, n, true)
    const p = parseHeader(badNonce)
    if (p.ok && uint256LE(p.header.hash) > decodeCompact(p.header.bits).target) break
  }
  refused(t, { ...good, headers: [hex(badNonce), ...good.headers.slice(1)] }, /following header 1: .* does not meet its own target/, 'forged nonce (bad work)')

  const proof = bytes(good.txoutproof)
  const forgedRoot = proof.slice(0, 80)
  forgedRoot[36] ^= 1
  const forgedProof = proof.slice()
  forgedProof.set(regrind(forgedRoot), 0)
  refused(t, { ...good, txoutproof: hex(forgedProof) }, /does not hash to the block header's Merkle root/, 'block header with a flipped Merkle root (re-ground to meet its target)')

  refused(t, { ...good, headers: [good.headers[0], ...good.headers.slice(2), good.headers[1]] }, /following header 2 does not link/, 'headers that do not link')
  refused(t, { ...good, headers: good.headers.slice(1) }, /following header 1 does not link/, 'headers that skip the block after the proof')

  refused(t, { ...good, network: 'mainnet' }, /is a regtest address, the proof is checked as mainnet/, 'regtest proof checked as mainnet (rb address)')
  refused(t, { ...good, network: 'mainnet', expect: { ...good.expect, address: addressOn(testKey(1), NETWORK) } }, /claims a target easier than mainnet allows/, 'regtest proof checked as mainnet (bc address of the same key)')
  refused(t, { ...good, network: 'testnet', expect: { ...good.expect, address: addressOn(testKey(1), { ...NETWORK, bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }) } }, /easier than testnet allows/, 'regtest proof checked as testnet')
  refused(t, { ...good, expect: { ...good.expect, address: addressOn(testKey(1), NETWORK) } }, /is a mainnet address, the proof is checked as regtest/, 'mainnet address for a regtest proof')
  t.ok(verifyBitcoinPayment({ ...good, expect: { ...good.expect, address: addressOn(testKey(1), { ...NETWORK, bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }) } }).ok, 'the Bitcoin Core regtest prefix (bcrt) is accepted too')

  const otherProof = await c.node.rpc<string>('gettxoutproof', [[c.otherTxid], c.blockHash])
  refused(t, { ...good, txoutproof: otherProof }, /does not prove transaction .*: it proves another transaction/, 'txoutproof for another transaction (the coinbase)')

  // minWork: the block and 5 headers carry 12 units of regtest work
  refused(t, { ...good, expect: { ...good.expect, minWork: 13n } }, /carry 12 work, less than the 13 required/, 'less work than required')

  // compareChains: the longer regtest branch is heavier; a broken chain is refused
  const cmp = compareChains('regtest', good.headers, good.headers.slice(0, 3))
  t.ok(cmp.ok && cmp.heavier === 'a' && cmp.workA === 10n && cmp.workB === 6n, 'compareChains: 5 headers outweigh 3')
  const cmpBad = compareChains('regtest', good.headers, [good.headers[0], good.headers[2]])
  t.ok(!cmpBad.ok && /chain B header 2 does not link/.test(cmpBad.reason), 'compareChains refuses a chain that does not link')

  // mutated proofs never throw; whatever still verifies proves exactly the same payment
  const same = (x: ReturnType<typeof verifyBitcoinPayment>): boolean =>
    !x.ok || (x.txid === c.txid && x.amountSats === 150_000_000n && x.blockHash === c.blockHash && x.confirmations === 6)
  const mutate = (h: string, at: number, bit: number): string => {
    const b = bytes(h)
    b[at % b.length] ^= 1 << bit
    return hex(b)
  }
  let refusedCount = 0
  fc.assert(fc.property(
    fc.constantFrom('rawTx', 'txoutproof', 'header'),
    fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat({ max: 4 }),
    (field, at, bit, which) => {
      const input: BitcoinSpvInput = { ...good, headers: [...good.headers] }
      if (field === 'rawTx') input.rawTx = mutate(good.rawTx, at, bit)
      else if (field === 'txoutproof') input.txoutproof = mutate(good.txoutproof, at, bit)
      else input.headers[which] = mutate(good.headers[which], at, bit)
      const out = verifyBitcoinPayment(input)
      if (!out.ok) refusedCount++
      return same(out)
    }), { numRuns: 600, seed: 42 })
  // the rest flip witness bytes (not part of the txid), unused flag bits, or the tip header's
  // nonce/time where regtest's target is met by every other hash: each still proves the same payment
  t.ok(refusedCount >= 400, `bit flips refused: ${refusedCount}/600; every one that verified proves the same payment`)

  fc.assert(fc.property(
    fc.constantFrom('rawTx', 'txoutproof', 'header'), fc.nat(), fc.nat({ max: 64 }), fc.uint8Array({ maxLength: 40 }),
    (field, at, cut, junk) => { // truncations, insertions
      const splice = (h: string): string => {
        const b = bytes(h); const i = at % (b.length + 1)
        return hex(new Uint8Array([...b.slice(0, i), ...junk, ...b.slice(Math.min(b.length, i + cut))]))
      }
      const input: BitcoinSpvInput = { ...good, headers: [...good.headers] }
      if (field === 'rawTx') input.rawTx = splice(good.rawTx)
      else if (field === 'txoutproof') input.txoutproof = splice(good.txoutproof)
      else input.headers[0] = splice(good.headers[0])
      return same(verifyBitcoinPayment(input))
    }), { numRuns: 400, seed: 7 })
  t.comment(`regtest chain, payment and ${600 + 400} mutations in ${Date.now() - started} ms`)
})
