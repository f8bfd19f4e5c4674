/**
 * Bitcoin SPV proofs, pure checks: a real mainnet proof (block 150000), Bitcoin Core's SetCompact
 * vectors, BIP-37 partial Merkle trees built here and forged (CVE-2012-2459), every malformed
 * shape refused with its own reason, and fuzzing: no input throws.
 */
// @ts-ignore -- brittle ships no type declarations; typed locally below
import brittle from 'brittle'
import fc from 'fast-check'
import { Transaction, Address } from '@scure/btc-signer'
import { verifyBitcoinPayment, compareChains, addressToScript, type BitcoinSpvInput } from '../books/proofs/bitcoin-spv.ts'
import { decodeCompact, checkProofOfWork, parseHeader, sha256d, uint256LE, workForTarget, toDisplayHex } from '../books/proofs/bitcoin-header.ts'
import { extractMatches, decodeMerkleBlock, readCompactSize, MAX_BLOCK_TRANSACTIONS } from '../books/proofs/bip37-partial-merkle-tree.ts'
import mainnet from './vectors/bitcoin/mainnet-block-150000.json' with { type: 'json' }
import compact from './vectors/bitcoin/set-compact.json' with { type: 'json' }

interface Assert {
  is (actual: unknown, expected: unknown, message?: string): void
  alike (actual: unknown, expected: unknown, message?: string): void
  ok (value: unknown, message?: string): void
  pass (message?: string): void
}
const test = brittle as (name: string, fn: (t: Assert) => void | Promise<void>) => void

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))

const MAINNET_PAYEE = '17jGZpvEUGbSDkvt8AqniGMbbek12VZtZc' // P2PKH 49cf380a... of tx 8d30eb0f..., output 0
const mainnetInput = (): BitcoinSpvInput => ({
  network: 'mainnet',
  rawTx: mainnet.payment.rawTx,
  txoutproof: mainnet.payment.txoutproof,
  headers: [],
  expect: { address: MAINNET_PAYEE, minAmountSats: 1_000_000n, minConfirmations: 1 }
})

const refused = (t: Assert, input: unknown, pattern: RegExp, what: string): void => {
  const r = verifyBitcoinPayment(input as BitcoinSpvInput)
  t.ok(!r.ok && pattern.test(r.reason), `${what}: ${r.ok ? 'ACCEPTED' : r.reason}`)
}

// ---- BIP-37 partial Merkle tree builder (Bitcoin Core CPartialMerkleTree::TraverseAndBuild), test side ----

function merkleBuild (leaves: Uint8Array[], match: boolean[]): { hashes: Uint8Array[], flags: Uint8Array, root: Uint8Array } {
  const n = leaves.length
  const width = (h: number): number => Math.floor((n + 2 ** h - 1) / 2 ** h)
  const calc = (h: number, pos: number): Uint8Array => {
    if (h === 0) return leaves[pos]
    const left = calc(h - 1, pos * 2)
    const right = pos * 2 + 1 < width(h - 1) ? calc(h - 1, pos * 2 + 1) : left
    return sha256d(new Uint8Array([...left, ...right]))
  }
  const bits: boolean[] = []
  const hashes: Uint8Array[] = []
  const build = (h: number, pos: number): void => {
    let parent = false
    for (let p = pos << h; p < (pos + 1) << h && p < n; p++) parent ||= match[p]
    bits.push(parent)
    if (h === 0 || !parent) { hashes.push(calc(h, pos)); return }
    build(h - 1, pos * 2)
    if (pos * 2 + 1 < width(h - 1)) build(h - 1, pos * 2 + 1)
  }
  let height = 0
  while (width(height) > 1) height++
  build(height, 0)
  const flags = new Uint8Array(Math.ceil(bits.length / 8))
  bits.forEach((b, i) => { if (b) flags[i >> 3] |= 1 << (i & 7) })
  return { hashes, flags, root: calc(height, 0) }
}

function compactSize (n: number): number[] {
  if (n < 0xfd) return [n]
  return [0xfd, n & 0xff, n >> 8]
}

function encodeMerkleBlock (header: Uint8Array, total: number, hashes: Uint8Array[], flags: Uint8Array): Uint8Array {
  const out = [...header, total & 0xff, (total >> 8) & 0xff, (total >> 16) & 0xff, total >>> 24, ...compactSize(hashes.length)]
  for (const h of hashes) out.push(...h)
  out.push(...compactSize(flags.length), ...flags)
  return new Uint8Array(out)
}

/** A regtest-style header (easy target) after `prev`, with `root`, nonce ground until it meets its target. */
function mineHeader (prev: Uint8Array, root: Uint8Array, bits = 0x207fffff, time = 1_700_000_000): Uint8Array {
  const h = new Uint8Array(80)
  const v = new DataView(h.buffer)
  v.setUint32(0, 0x20000000, true)
  h.set(prev, 4)
  h.set(root, 36)
  v.setUint32(68, time, true)
  v.setUint32(72, bits, true)
  const target = decodeCompact(bits).target
  for (let nonce = 0; ; nonce++) {
    v.setUint32(76, nonce, true)
    if (uint256LE(sha256d(h)) <= target) return h
  }
}

// ---- mainnet ----

test('bitcoin spv - a real mainnet proof (block 150000) verifies', (t) => {
  const r = verifyBitcoinPayment(mainnetInput())
  t.ok(r.ok, r.ok ? 'mainnet proof verifies' : r.reason)
  if (!r.ok) return
  t.is(r.txid, mainnet.payment.txid, 'txid')
  t.is(r.blockHash, mainnet.blockHash, 'block hash of block 150000')
  t.alike(r.vouts, [0], 'output 0 pays the address')
  t.is(r.amountSats, 1_000_000n, '0.01 BTC')
  t.is(r.confirmations, 1, 'no following headers: one confirmation')
  const bits = parseHeader(bytes(mainnet.payment.txoutproof.slice(0, 160)))
  t.ok(bits.ok && bits.header.bits === 0x1a0b6d4b, 'nBits of block 150000')
  t.is(r.work, workForTarget(decodeCompact(0x1a0b6d4b).target), 'work = 2^256/(target+1)')
  t.alike(r.headerHashes, [mainnet.blockHash], 'header hashes')
})

test('bitcoin spv - mainnet refusals', (t) => {
  const good = mainnetInput()
  refused(t, { ...good, expect: { ...good.expect, minConfirmations: 2 } }, /too few confirmations: 1, at least 2 required/, 'two confirmations asked, none on top')
  refused(t, { ...good, expect: { ...good.expect, minAmountSats: 1_000_001n } }, /total 1000000 sats, less than the 1000001 sats expected/, 'more than was paid')
  refused(t, { ...good, expect: { ...good.expect, address: '1BoatSLRHtKNngkdXEeobR76b53LETtpyT' } }, /no output of the transaction pays 1BoatSLRHtKNngkdXEeobR76b53LETtpyT/, 'another mainnet address')
  refused(t, { ...good, network: 'testnet' }, /is a mainnet address, the proof is checked as testnet/, 'checked as testnet')
  refused(t, { ...good, network: 'signet' }, /is a mainnet address, the proof is checked as signet/, 'checked as signet')
  refused(t, { ...good, rawTx: mainnet.coinbase.rawTx }, /it proves another transaction/, 'the coinbase against the payment\'s proof')
  refused(t, { ...good, rawTx: mainnet.coinbase.rawTx, txoutproof: mainnet.coinbase.txoutproof }, /no output of the transaction pays/, 'the coinbase with its own proof pays someone else (P2PK)')
  refused(t, { ...good, expect: { ...good.expect, minWork: (verifyBitcoinPayment(good) as { work: bigint }).work + 1n } }, /less than the .* required/, 'less work than required')
  t.ok(verifyBitcoinPayment({ ...good, expect: { ...good.expect, minWork: (verifyBitcoinPayment(good) as { work: bigint }).work } }).ok, 'exactly the work required: holds')
})

// ---- nBits and proof of work ----

test('bitcoin spv - SetCompact vectors (Bitcoin Core arith_uint256_tests)', (t) => {
  for (const v of compact.vectors) {
    const d = decodeCompact(Number(v.bits))
    t.is(d.negative, v.negative, `${v.bits} negative=${v.negative}`)
    t.is(d.overflow, v.overflow, `${v.bits} overflow=${v.overflow}`)
    if (v.target !== null) t.is(d.target, BigInt('0x' + v.target), `${v.bits} target`)
  }
})

test('bitcoin spv - proof of work: each bad nBits has its own reason', (t) => {
  const header = bytes(mainnet.payment.txoutproof.slice(0, 160))
  const withBits = (bits: number): ReturnType<typeof checkProofOfWork> => {
    const h = header.slice()
    new DataView(h.buffer).setUint32(72, bits, true)
    const p = parseHeader(h)
    if (!p.ok) throw new Error(p.reason)
    return checkProofOfWork(p.header, 'mainnet')
  }
  const reason = (r: ReturnType<typeof checkProofOfWork>): string => r.ok ? 'ACCEPTED' : r.reason
  t.ok(/negative target/.test(reason(withBits(0x04923456))), 'negative: ' + reason(withBits(0x04923456)))
  t.ok(/overflows 256 bits/.test(reason(withBits(0xff123456))), 'overflow: ' + reason(withBits(0xff123456)))
  t.ok(/zero target/.test(reason(withBits(0x01003456))), 'zero: ' + reason(withBits(0x01003456)))
  t.ok(/easier than mainnet allows/.test(reason(withBits(0x207fffff))), 'above powLimit: ' + reason(withBits(0x207fffff)))
  t.ok(/easier than mainnet allows/.test(reason(withBits(0x1d010000))), 'just above powLimit: ' + reason(withBits(0x1d010000)))
  t.ok(/does not meet its own target/.test(reason(withBits(0x1a0b6d4a))), 'a target one unit harder: the real header misses it')
  const p = parseHeader(header)
  t.ok(p.ok && checkProofOfWork(p.header, 'mainnet').ok, 'the real header meets its own nBits')
  t.ok(p.ok && checkProofOfWork(p.header, 'signet').ok && checkProofOfWork(p.header, 'regtest').ok, 'and every easier limit')
  t.ok(!parseHeader(header.slice(0, 79)).ok, 'a 79-byte header is refused')
})

// ---- BIP-37 partial Merkle trees ----

test('bitcoin spv - partial merkle trees built here verify and return exactly their matches', (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.array(fc.nat(), { maxLength: 6 }), fc.nat(), (n, picks, salt) => {
    const leaves = Array.from({ length: n }, (_, i) => sha256d(new Uint8Array([i & 0xff, i >> 8, salt & 0xff, (salt >> 8) & 0xff])))
    const match = leaves.map(() => false)
    for (const p of picks) match[p % n] = true
    const built = merkleBuild(leaves, match)
    const r = extractMatches(n, built.hashes, built.flags)
    if (!r.ok) return false
    const want = match.flatMap((m, i) => m ? [i] : [])
    return hex(r.tree.root) === hex(built.root) && r.tree.indexes.join() === want.join() &&
      r.tree.matches.every((m, k) => hex(m) === hex(leaves[want[k]]))
  }), { numRuns: 300, seed: 1 })
  t.pass('300 random trees (1..300 leaves, 0..6 matches)')

  const mb = decodeMerkleBlock(bytes(mainnet.payment.txoutproof))
  t.ok(mb.ok, 'the mainnet proof decodes')
  if (!mb.ok) return
  const r = extractMatches(mb.block.totalTransactions, mb.block.hashes, mb.block.flags)
  t.ok(r.ok && r.tree.matches.length === 1 && toDisplayHex(r.tree.matches[0]) === mainnet.payment.txid, 'mainnet tree: one match, the payment')
  t.ok(r.ok && hex(r.tree.root) === hex(bytes(mainnet.payment.txoutproof).slice(36, 68)), 'mainnet tree: root equals the header\'s')
})

test('bitcoin spv - CVE-2012-2459: a duplicated last leaf gives the same root and is refused', (t) => {
  const [a, b, c] = [1, 2, 3].map((i) => sha256d(new Uint8Array([i])))
  const real = merkleBuild([a, b, c], [false, false, true])
  const forged = merkleBuild([a, b, c, c], [false, false, false, true]) // 4 "transactions", the 4th a copy
  t.is(hex(forged.root), hex(real.root), 'the forged 4-leaf tree hashes to the real 3-leaf root')
  t.ok(extractMatches(3, real.hashes, real.flags).ok, 'the real tree verifies')
  const r = extractMatches(4, forged.hashes, forged.flags)
  t.ok(!r.ok && /two children are the same hash.*CVE-2012-2459/.test(r.reason), `forged tree refused: ${r.ok ? 'ACCEPTED' : r.reason}`)

  // end to end: a header committing to the real root, a proof claiming 4 transactions
  const header = mineHeader(new Uint8Array(32), real.root)
  const proof = encodeMerkleBlock(header, 4, forged.hashes, forged.flags)
  const mb = decodeMerkleBlock(proof)
  t.ok(mb.ok && !extractMatches(mb.block.totalTransactions, mb.block.hashes, mb.block.flags).ok, 'refused inside a full txoutproof too')
})

test('bitcoin spv - CVE-2012-2459 end to end: the same tx as a duplicated leaf is refused, as a real leaf accepted', (t) => {
  // the mainnet payment, re-housed in a regtest block of 3 transactions (it pays a P2PKH hash; the
  // regtest address of that hash is the expectation)
  const txid = sha256d(bytes(mainnet.payment.rawTx))
  const [a, b] = [1, 2].map((i) => sha256d(new Uint8Array([i])))
  const real = merkleBuild([a, b, txid], [false, false, true])
  const forged = merkleBuild([a, b, txid, txid], [false, false, false, true])
  const header = mineHeader(new Uint8Array(32), real.root)
  const address = Address({ bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }).encode({ type: 'pkh', hash: bytes('49cf380abdb86449efc694988bf0f447739f73cd') })
  const input = (proof: Uint8Array): BitcoinSpvInput => ({ network: 'regtest', rawTx: mainnet.payment.rawTx, txoutproof: hex(proof), headers: [], expect: { address, minAmountSats: 1_000_000n, minConfirmations: 1 } })
  const ok = verifyBitcoinPayment(input(encodeMerkleBlock(header, 3, real.hashes, real.flags)))
  t.ok(ok.ok && ok.amountSats === 1_000_000n, 'the real 3-leaf proof verifies')
  refused(t, input(encodeMerkleBlock(header, 4, forged.hashes, forged.flags)), /two children are the same hash/, 'the duplicated-leaf proof')
})

test('bitcoin spv - malformed partial merkle trees, each with its own reason', (t) => {
  const leaves = [1, 2, 3, 4, 5].map((i) => sha256d(new Uint8Array([i])))
  const good = merkleBuild(leaves, [false, true, false, false, true])
  const reason = (n: number, hashes: Uint8Array[], flags: Uint8Array): string => {
    const r = extractMatches(n, hashes, flags)
    return r.ok ? 'ACCEPTED' : r.reason
  }
  t.ok(reason(5, good.hashes, good.flags) === 'ACCEPTED', 'the good tree verifies')
  t.ok(/no transactions/.test(reason(0, good.hashes, good.flags)), 'zero transactions')
  t.ok(/more transactions than a block can hold/.test(reason(MAX_BLOCK_TRANSACTIONS + 1, good.hashes, good.flags)), 'too many transactions')
  t.ok(/more hashes than the block has transactions/.test(reason(2, good.hashes, good.flags)), 'more hashes than transactions')
  t.ok(/fewer flag bits than hashes/.test(reason(5, good.hashes, new Uint8Array(0))), 'fewer flag bits than hashes')
  t.ok(/runs out of hashes/.test(reason(5, good.hashes.slice(0, -1), good.flags)), 'a hash missing')
  t.ok(/hashes it does not use/.test(reason(5, [...good.hashes, leaves[0]], good.flags)), 'an extra hash')
  t.ok(/flag bytes it does not use/.test(reason(5, good.hashes, new Uint8Array([...good.flags, 0]))), 'an extra flag byte')
  t.ok(/runs out of flag bits/.test(reason(5, good.hashes, new Uint8Array([0xff]))), 'all bits set, tree deeper than the bits')

  const header = mineHeader(new Uint8Array(32), good.root)
  const enc = encodeMerkleBlock(header, 5, good.hashes, good.flags)
  const dec = (b: Uint8Array): string => { const r = decodeMerkleBlock(b); return r.ok ? 'DECODED' : r.reason }
  t.is(dec(enc), 'DECODED', 'the encoding round-trips')
  t.ok(/trailing bytes/.test(dec(new Uint8Array([...enc, 0]))), 'trailing bytes')
  t.ok(/too short/.test(dec(enc.slice(0, 83))), 'truncated before the count')
  t.ok(/more hashes than it carries/.test(dec(enc.slice(0, 100))), 'truncated inside the hashes')
  t.ok(/more flag bytes than it carries/.test(dec(enc.slice(0, enc.length - 1))), 'truncated inside the flags')
  const nonCanonical = readCompactSize(new Uint8Array([0xfd, 0x05, 0x00]), 0)
  t.ok(!nonCanonical.ok && /non-canonical/.test(nonCanonical.reason), 'a non-canonical CompactSize')
  const cut = readCompactSize(new Uint8Array([0xfd, 0x01]), 0)
  t.ok(!cut.ok && /ends inside a length prefix/.test(cut.reason), 'a CompactSize cut short')
})

// ---- the transaction ----

test('bitcoin spv - a 64-byte transaction is refused (it could be an inner Merkle node)', (t) => {
  // version, 1 input (36-byte outpoint, empty scriptSig, sequence), 1 output (8-byte value, 4-byte script), locktime: 64 bytes
  const raw = '02000000' + '01' + '11'.repeat(32) + '00000000' + '00' + 'ffffffff' + '01' + '0000000000000000' + '04' + '6a020102' + '00000000'
  t.is(raw.length, 128, '64 bytes')
  const tx = Transaction.fromRaw(bytes(raw), { allowUnknownOutputs: true })
  const leaves = [sha256d(bytes(raw)), sha256d(new Uint8Array([9]))]
  const built = merkleBuild(leaves, [true, false])
  const proof = encodeMerkleBlock(mineHeader(new Uint8Array(32), built.root), 2, built.hashes, built.flags)
  refused(t, { network: 'regtest', rawTx: raw, txoutproof: hex(proof), headers: [], expect: { address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', minAmountSats: 0n, minConfirmations: 1 } },
    /64 bytes without witness/, `tx ${tx.id}`)
})

test('bitcoin spv - a transaction that does not parse exactly is refused', (t) => {
  const raw = mainnet.payment.rawTx
  const marked = raw.slice(0, 8) + '0001' + raw.slice(8, -8) + '00' + raw.slice(-8) // segwit marker, empty witness
  const at = raw.indexOf('1976a914')
  const longLength = raw.slice(0, at) + 'fd1900' + raw.slice(at + 2) // output script length as a 3-byte CompactSize
  refused(t, { ...mainnetInput(), rawTx: marked }, /does not parse/, 'segwit marker with empty witnesses')
  refused(t, { ...mainnetInput(), rawTx: longLength }, /does not parse/, 'a non-minimal length')
  refused(t, { ...mainnetInput(), rawTx: raw + '00' }, /does not parse/, 'a trailing byte')
  refused(t, { ...mainnetInput(), rawTx: raw.slice(0, -2) }, /does not parse/, 'a missing byte')
  refused(t, { ...mainnetInput(), rawTx: 'zz' }, /not hex/, 'not hex')
  refused(t, { ...mainnetInput(), rawTx: '' }, /not hex/, 'empty')
})

// ---- input shapes and addresses ----

test('bitcoin spv - bad input shapes are refused, in plain words', (t) => {
  const good = mainnetInput()
  refused(t, null, /must be an object/, 'null')
  refused(t, { ...good, network: 'litecoin' }, /unknown Bitcoin network/, 'unknown network')
  refused(t, { ...good, headers: 'abc' }, /headers must be a list/, 'headers not a list')
  refused(t, { ...good, expect: null }, /expectation .* is missing/, 'no expectation')
  refused(t, { ...good, expect: { ...good.expect, minAmountSats: 1000000 } }, /non-negative bigint of sats/, 'amount as a number')
  refused(t, { ...good, expect: { ...good.expect, minAmountSats: -1n } }, /non-negative bigint of sats/, 'negative amount')
  refused(t, { ...good, expect: { ...good.expect, minConfirmations: 0 } }, /at least 1/, 'zero confirmations')
  refused(t, { ...good, expect: { ...good.expect, minConfirmations: 1.5 } }, /at least 1/, 'fractional confirmations')
  refused(t, { ...good, expect: { ...good.expect, minWork: 5 } }, /required work must be a non-negative bigint/, 'work as a number')
  refused(t, { ...good, expect: { ...good.expect, address: 'not-an-address' } }, /not a valid Bitcoin address/, 'garbage address')
  refused(t, { ...good, headers: ['00'] }, /following header 1 is not 80 bytes/, 'a short header')
  refused(t, { ...good, headers: new Array(2017).fill(mainnet.payment.txoutproof.slice(0, 160)) }, /too many headers/, 'too many headers')
  refused(t, { ...good, txoutproof: 'xyz' }, /txoutproof is not hex/, 'proof not hex')
  refused(t, { ...good, txoutproof: mainnet.payment.txoutproof + '00' }, /trailing bytes/, 'proof with a trailing byte')

  t.ok(addressToScript('bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu', 'mainnet').ok, 'BIP-84 vector address is mainnet')
  t.ok(addressToScript('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', 'signet').ok, 'tb address is signet (shared with testnet)')
  t.ok(addressToScript('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 'regtest').ok, 'bcrt address is regtest')
  const wrong = addressToScript('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx', 'mainnet')
  t.ok(!wrong.ok && /testnet address, the proof is checked as mainnet/.test(wrong.reason), 'tb address under mainnet')
})

test('bitcoin spv - compareChains picks more work, not more headers', (t) => {
  const easy: string[] = []
  let prev: Uint8Array = new Uint8Array(32)
  for (let i = 0; i < 3; i++) { const h = mineHeader(prev, sha256d(new Uint8Array([i]))); easy.push(hex(h)); prev = sha256d(h) }
  const hard: string[] = []
  prev = new Uint8Array(32)
  for (let i = 0; i < 2; i++) { const h = mineHeader(prev, sha256d(new Uint8Array([i])), 0x200fffff); hard.push(hex(h)); prev = sha256d(h) }
  const r = compareChains('regtest', easy, hard)
  t.ok(r.ok && r.heavier === 'b', 'two headers at target 0x0fffff.. outweigh three at 0x7fffff..')
  t.ok(r.ok && r.workA === 6n && r.workB === 32n, 'work 3x2 against 2x16')
  const eq = compareChains('regtest', easy, easy)
  t.ok(eq.ok && eq.heavier === 'equal', 'equal work')
  const bad = compareChains('regtest', easy, [hard[1], hard[0]])
  t.ok(!bad.ok && /chain B header 2 does not link/.test(bad.reason), 'a chain out of order is refused')
  const unknown = compareChains('dogecoin' as 'mainnet', easy, hard)
  t.ok(!unknown.ok && /unknown Bitcoin network/.test(unknown.reason), 'an unknown network')
  const main = compareChains('mainnet', easy, hard)
  t.ok(!main.ok && /easier than mainnet allows/.test(main.reason), 'regtest headers are refused as mainnet')
})

// ---- fuzz: nothing throws ----

test('bitcoin spv - no input throws (fast-check)', (t) => {
  const good = mainnetInput()
  fc.assert(fc.property(fc.anything(), (x) => { verifyBitcoinPayment(x as BitcoinSpvInput); compareChains(x as 'mainnet', x as string[], x as string[]); return true }), { numRuns: 500, seed: 3 })
  fc.assert(fc.property(
    fc.record({
      network: fc.constantFrom('mainnet', 'testnet', 'signet', 'regtest', 'x'),
      rawTx: fc.oneof(fc.uint8Array({ maxLength: 300 }).map(hex), fc.constant(good.rawTx)),
      txoutproof: fc.oneof(fc.uint8Array({ maxLength: 400 }).map(hex), fc.constant(good.txoutproof)),
      headers: fc.array(fc.oneof(fc.uint8Array({ minLength: 80, maxLength: 80 }).map(hex), fc.string()), { maxLength: 3 }),
      expect: fc.record({
        address: fc.oneof(fc.constant(MAINNET_PAYEE), fc.string()),
        minAmountSats: fc.oneof(fc.bigInt(), fc.integer()),
        minConfirmations: fc.oneof(fc.integer(), fc.double()),
        minWork: fc.option(fc.bigInt(), { nil: undefined })
      })
    }),
    (input) => { const r = verifyBitcoinPayment(input as unknown as BitcoinSpvInput); return typeof r.ok === 'boolean' }
  ), { numRuns: 1000, seed: 4 })
  fc.assert(fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), (at, bit) => {
    const b = bytes(good.txoutproof)
    b[at % b.length] ^= 1 << bit
    const r = verifyBitcoinPayment({ ...good, txoutproof: hex(b) })
    return !r.ok || (r.txid === mainnet.payment.txid && r.amountSats === 1_000_000n)
  }), { numRuns: 500, seed: 5 })
  t.pass('2000 random and mutated inputs: every one answered, none thrown')
})
