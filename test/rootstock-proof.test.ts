/**
 * Rootstock payment proofs over a real EVM chain: anvil (chain id 33, Berlin, legacy
 * transactions) started here, payments signed by the rail's signer with keys of a BIP-39 test
 * seed, proofs gathered by the rail's fetcher. The native and ERC-20 payments verify; every
 * hostile variant, built from the chain's own data, is refused with its own reason, and no input
 * makes the check throw.
 */
import test, { type Assertion } from 'brittle'
import { RLP } from '@ethereumjs/rlp'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { verifyRootstockPayment, type RootstockPaymentInput, type RootstockPaymentProof } from '../books/proofs/rootstock-receipt.ts'
import { decodeLegacyTransaction, decodeReceipt, decodeHeader, evmHexToBytes } from '../books/proofs/evm-tx.ts'
import { signLegacyTransaction } from '../core/rails/rootstock/tx.ts'
import { deriveRootstockPrivateKey, toChecksumAddress } from '../core/wallet/bip44-rootstock.ts'
import { rootstockScenario, TEST_SEED, type RootstockScenario } from './helpers/anvil.ts'

// brittle's hook (setup before the tests, teardown after them) is not in types/runtime.d.ts
const hook = (test as unknown as { hook: (name: string, opts: { timeout: number }, fn: (t: Assertion) => Promise<void>) => (name: string, fn: (t: Assertion) => Promise<void>) => void }).hook
const closers: Array<() => unknown> = []
let s: RootstockScenario
const unhook = hook('rootstock proof - anvil started, paid natively, in tokens, a reverted transfer, two payments in one block', { timeout: 60_000 }, async (t) => {
  s = await rootstockScenario({ teardown: (fn) => { closers.push(fn) } })
  t.pass(`chain ready: token ${s.token}`)
})

const hex = (b: Uint8Array): string => '0x' + Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => evmHexToBytes(h, 1 << 22) as Uint8Array
const proofOf = (p: RootstockPaymentProof): RootstockPaymentProof => ({ rawTx: p.rawTx, receipt: p.receipt, header: p.header, txIndex: p.txIndex, txProof: p.txProof, receiptProof: p.receiptProof })
const nativeInput = (): RootstockPaymentInput => ({ ...proofOf(s.native), expect: { chainId: 33, to: s.payee, minAmount: s.nativeWei } })
const tokenInput = (): RootstockPaymentInput => ({ ...proofOf(s.erc20), expect: { chainId: 33, to: s.payee, minAmount: s.tokenUnits, token: s.token } })

async function refused (t: { ok (v: unknown, m?: string): void }, input: RootstockPaymentInput, pattern: RegExp, what: string): Promise<void> {
  const r = await verifyRootstockPayment(input)
  t.ok(!r.ok && pattern.test(r.reason), `${what}: ${r.ok ? 'ACCEPTED' : r.reason}`)
}

/** Re-encodes an RLP list with field `i` replaced. */
function withField (h: string, i: number, value: Uint8Array): string {
  const list = RLP.decode(bytes(h)) as Uint8Array[]
  list[i] = value
  return hex(RLP.encode(list))
}

test('rootstock proof - a native payment holds: signer recovered, amount exact, block named', async (t) => {
  const r = await verifyRootstockPayment(nativeInput())
  if (!r.ok) { t.fail(r.reason); return }
  t.is(r.from, toChecksumAddress(s.payer, null), 'from: the seed\'s index-0 address, recovered from the signature, EIP-55 on chain 33')
  t.is(r.to, toChecksumAddress(s.payee, null), 'to: the payee, checksummed')
  t.is(r.amount, s.nativeWei, 'the amount in wei, exact (above 2^53)')
  t.ok(r.amount > BigInt(Number.MAX_SAFE_INTEGER))
  t.is(r.token, null)
  t.is(r.blockHash, s.native.blockHash, 'the block hash is the one the node reported')
  t.is(r.blockNumber, s.native.blockNumber)
  t.is(r.txHash, '0x' + Buffer.from(keccak_256(bytes(s.native.rawTx))).toString('hex'))
  const named = await verifyRootstockPayment({ ...nativeInput(), expect: { ...nativeInput().expect, blockHash: s.native.blockHash.toUpperCase().replace('0X', '0x') } })
  t.ok(named.ok, 'the expected block hash, in any case, matches')
  const less = await verifyRootstockPayment({ ...nativeInput(), expect: { ...nativeInput().expect, minAmount: 1n, to: s.payee.toUpperCase().replace('0X', '0x') } })
  t.ok(less.ok && less.amount === s.nativeWei, 'an expectation below the payment holds and reports what was paid; the payee compared case-insensitively')
})

test('rootstock proof - an ERC-20 payment holds: the Transfer log to the payee, token units exact', async (t) => {
  const r = await verifyRootstockPayment(tokenInput())
  if (!r.ok) { t.fail(r.reason); return }
  t.is(r.amount, s.tokenUnits, '250 000 tokens of 18 decimals, exact')
  t.is(r.token, toChecksumAddress(s.token, null))
  t.is(r.from, toChecksumAddress(s.payer, null))
  t.alike(r.logIndexes, [0])
})

test('rootstock proof - wrong payee refused', async (t) => {
  const stranger = '0x' + '42'.repeat(20)
  await refused(t, { ...nativeInput(), expect: { ...nativeInput().expect, to: stranger } }, /pays 0x.*not the payee/, 'native to another address')
  await refused(t, { ...tokenInput(), expect: { ...tokenInput().expect, to: stranger } }, /no Transfer of the token .* to the payee/, 'tokens to another address')
  await refused(t, { ...nativeInput(), expect: { ...nativeInput().expect, to: s.payer } }, /not the payee/, 'the payer named as payee')
  await refused(t, { ...nativeInput(), expect: { ...nativeInput().expect, to: 'not an address' } }, /not an address/, 'a malformed payee')
})

test('rootstock proof - smaller amount refused, one unit short', async (t) => {
  await refused(t, { ...nativeInput(), expect: { ...nativeInput().expect, minAmount: s.nativeWei + 1n } }, /less than the \d+ wei expected/, 'one wei more than paid')
  await refused(t, { ...tokenInput(), expect: { ...tokenInput().expect, minAmount: s.tokenUnits + 1n } }, /less than the \d+ expected/, 'one token unit more than paid')
  await refused(t, { ...nativeInput(), expect: { ...nativeInput().expect, minAmount: -1n } }, /non-negative/, 'a negative amount')
  await refused(t, { ...nativeInput(), expect: { ...nativeInput().expect, minAmount: 5 as unknown as bigint } }, /bigint/, 'an amount that is a float-prone number')
})

test('rootstock proof - native and token payments are not mistaken for each other', async (t) => {
  await refused(t, { ...tokenInput(), expect: { chainId: 33, to: s.payee, minAmount: 1n } }, /pays 0x.*not the payee/, 'a token transfer checked as native RBTC')
  await refused(t, { ...nativeInput(), expect: { ...nativeInput().expect, token: s.token } }, /calls 0x.*not the token contract/, 'a native payment checked as a token payment')
  await refused(t, { ...tokenInput(), expect: { ...tokenInput().expect, token: '0x' + '77'.repeat(20) } }, /not the token contract/, 'a transfer of another token')
})

test('rootstock proof - status 0 refused: a reverted transfer moved nothing', async (t) => {
  t.is(s.reverted.status, 0, 'the node reports the transfer reverted')
  t.is(decodeReceipt(bytes(s.reverted.receipt)).ok && (decodeReceipt(bytes(s.reverted.receipt)) as { receipt: { status: number } }).receipt.status, 0)
  await refused(t, { ...proofOf(s.reverted), expect: { chainId: 33, to: s.payee, minAmount: 1n, token: s.token } }, /status 0/, 'the reverted transfer, though its proofs hold')
  // and its receipt cannot be swapped for a success one: the trie holds the status
  const success = hex(RLP.encode([Uint8Array.of(1), ...(RLP.decode(bytes(s.reverted.receipt)) as Uint8Array[]).slice(1)] as never))
  await refused(t, { ...proofOf(s.reverted), receipt: success, expect: { chainId: 33, to: s.payee, minAmount: 1n, token: s.token } }, /receipt at index \d+ .* is another one/, 'the status byte flipped to 1')
})

test('rootstock proof - a proof against a wrong root refused: header altered, or another block\'s header', async (t) => {
  const header = s.native.header
  const altered = withField(header, 11, Uint8Array.of(1, 2, 3, 4)) // timestamp: the hash changes, the roots do not
  await refused(t, { ...nativeInput(), header: altered, expect: { ...nativeInput().expect, blockHash: s.native.blockHash } }, /hashes to 0x[0-9a-f]+, not to the expected block/, 'a header altered in a field outside the roots, with the block hash known')
  const r = await verifyRootstockPayment({ ...nativeInput(), header: altered })
  t.ok(r.ok && r.blockHash !== s.native.blockHash, 'without the block hash known, the result names the altered header\'s own hash, not the real block (the book must match it)')
  const otherRoot = withField(header, 5, keccak_256(Uint8Array.of(1)))
  await refused(t, { ...nativeInput(), header: otherRoot }, /receipt proof does not start at the header's receiptsRoot/, 'receiptsRoot replaced')
  const otherTxRoot = withField(header, 4, keccak_256(Uint8Array.of(2)))
  await refused(t, { ...nativeInput(), header: otherTxRoot }, /transaction proof does not start at the header's transactionsRoot/, 'transactionsRoot replaced')
  await refused(t, { ...nativeInput(), header: s.erc20.header }, /does not start at the header's transactionsRoot/, 'the token payment\'s block header with the native proofs')
  await refused(t, { ...nativeInput(), receiptProof: s.erc20.receiptProof }, /receipt proof does not start at the header's receiptsRoot/, 'a receipt proof from another block')
  await refused(t, { ...nativeInput(), txProof: s.native.receiptProof }, /transaction proof does not start/, 'the receipt proof given as the transaction proof')
})

test('rootstock proof - a transaction not in the block refused', async (t) => {
  await refused(t, { ...nativeInput(), rawTx: s.erc20.rawTx }, /transaction at index 0 .* is another one/, 'another mined transaction with this block\'s proofs')
  const key = deriveRootstockPrivateKey(TEST_SEED, 0)
  const forged = signLegacyTransaction({ nonce: 999n, gasPrice: 1n, gasLimit: 21_000n, to: s.payee, value: 10n ** 24n, data: '0x', chainId: 33 }, key)
  key.fill(0)
  await refused(t, { ...nativeInput(), rawTx: forged.raw, expect: { ...nativeInput().expect, minAmount: 10n ** 24n } }, /is another one: the given transaction is not in the block/, 'a validly signed payment never broadcast')
  await refused(t, { ...nativeInput(), txIndex: 1 }, /no transaction at index 1|not a valid path/, 'an index past the block\'s only transaction')
})

test('rootstock proof - wrong chain id refused', async (t) => {
  await refused(t, { ...nativeInput(), expect: { ...nativeInput().expect, chainId: 31 } }, /signed for chain id 33, not 31/, 'a chain-33 payment checked as Rootstock testnet')
  await refused(t, { ...tokenInput(), expect: { ...tokenInput().expect, chainId: 30 } }, /signed for chain id 33, not 30/, 'checked as Rootstock mainnet')
  await refused(t, { ...nativeInput(), expect: { ...nativeInput().expect, chainId: 0 } }, /chain id is not a positive integer/, 'chain id 0')
})

test('rootstock proof - a receipt that is not the one at that index refused (two payments in one block)', async (t) => {
  const [first, second] = s.pair
  t.is(first.txIndex, 0)
  t.is(second.txIndex, 1)
  const input = (p: RootstockPaymentProof): RootstockPaymentInput => ({ ...proofOf(p), expect: { chainId: 33, to: s.payee, minAmount: 7n } })
  t.ok((await verifyRootstockPayment(input(second))).ok, 'the second payment of the block holds at index 1')
  await refused(t, { ...input(second), receipt: first.receipt }, /receipt at index 1 .* is another one/, 'the first transaction\'s receipt given for the second')
  await refused(t, { ...input(second), receiptProof: first.receiptProof, receipt: first.receipt }, /receipt at index 1|not a valid path/, 'index 0\'s receipt and its proof, with index 1\'s transaction')
  await refused(t, { ...input(second), txIndex: 0 }, /not a valid path|another one/, 'index 1\'s proofs claimed at index 0')
  await refused(t, { ...input(first), rawTx: second.rawTx, txProof: second.txProof }, /receipt at index 0|not a valid path/, 'the second transaction with the first one\'s receipt')
  await refused(t, { ...input(first) }, /pays 0x.*not the payee/, 'the first payment of the block went to another address')
})

test('rootstock proof - decoders hold to EIP-155 and EIP-2', (t) => {
  const raw = bytes(s.native.rawTx)
  const f = RLP.decode(raw) as Uint8Array[]
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
  const big = (b: Uint8Array): bigint => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'))
  const be = (v: bigint): Uint8Array => bytes(v.toString(16).padStart(64, '0'))
  const v = big(f[6])
  const highS = [...f.slice(0, 6), be(v % 2n === 0n ? v + 1n : v - 1n).subarray(31), f[7], be(n - big(f[8]))]
  const high = decodeLegacyTransaction(RLP.encode(highS))
  t.ok(!high.ok && /high s/.test(high.reason), 'the same signature with s replaced by n - s (a second hash for one payment) is refused')
  const pre155 = decodeLegacyTransaction(RLP.encode([...f.slice(0, 6), Uint8Array.of(27), f[7], f[8]]))
  t.ok(!pre155.ok && /EIP-155/.test(pre155.reason), 'a pre-EIP-155 signature (v 27) is refused: it names no chain')
  const typed = decodeLegacyTransaction(Uint8Array.of(1, ...raw))
  t.ok(!typed.ok && /typed/.test(typed.reason), 'a typed (EIP-2718) transaction is refused')
  const ok = decodeLegacyTransaction(raw)
  t.ok(ok.ok && ok.tx.chainId === 33n && ok.tx.from === s.payer, 'the real transaction decodes, signer recovered')
  const lead = decodeLegacyTransaction(RLP.encode([Uint8Array.of(0, 1), ...f.slice(1)]))
  t.ok(!lead.ok && /canonical integer/.test(lead.reason), 'a nonce with a leading zero byte is refused')
  const h = decodeHeader(bytes(s.native.header))
  t.ok(h.ok && '0x' + h.header.hash === s.native.blockHash && h.header.number === s.native.blockNumber, 'the header decodes to the block the node reported')
})

test('rootstock proof - malformed input in any part is refused, never thrown', async (t) => {
  const base = nativeInput()
  const cases: Array<[string, Partial<RootstockPaymentInput>]> = [
    ['rawTx not hex', { rawTx: 'zz' }], ['rawTx odd length', { rawTx: '0xabc' }], ['rawTx empty', { rawTx: '' }],
    ['rawTx truncated', { rawTx: base.rawTx.slice(0, -2) }], ['rawTx with a trailing byte', { rawTx: base.rawTx + '00' }],
    ['receipt truncated', { receipt: base.receipt.slice(0, 40) }], ['receipt as a number', { receipt: 5 as unknown as string }],
    ['header truncated', { header: base.header.slice(0, 100) }], ['header empty list', { header: '0xc0' }], ['header a string', { header: '0x83616263' }],
    ['header too big', { header: '0x' + 'ff'.repeat(20_000) }],
    ['txProof empty', { txProof: [] }], ['txProof not a list', { txProof: 'abc' as unknown as string[] }], ['txProof with junk', { txProof: ['0x1234'] }],
    ['receiptProof with a non-hex node', { receiptProof: ['nothex'] }], ['receiptProof too long', { receiptProof: Array(17).fill(base.receiptProof[0]) }],
    ['txIndex negative', { txIndex: -1 }], ['txIndex fractional', { txIndex: 0.5 }], ['txIndex a string', { txIndex: '0' as unknown as number }],
    ['expect missing', { expect: undefined as unknown as RootstockPaymentInput['expect'] }],
    ['blockHash short', { expect: { ...base.expect, blockHash: '0x1234' } }]
  ]
  for (const [what, patch] of cases) {
    let r
    try {
      r = await verifyRootstockPayment({ ...base, ...patch })
    } catch (err) {
      t.fail(`${what}: threw ${(err as Error).message}`)
      continue
    }
    t.ok(!r.ok && typeof r.reason === 'string' && r.reason.length > 0, `${what}: ${r.ok ? 'ACCEPTED' : r.reason}`)
  }
  t.ok(!(await verifyRootstockPayment(null as unknown as RootstockPaymentInput)).ok, 'null input refused')

  // every single-byte change anywhere in the proof is refused (or, inside a header field that is
  // not a root, changes the block hash the result reports)
  let seedState = 7
  const rnd = (n: number): number => { seedState = (seedState * 1103515245 + 12345) % 2 ** 31; return seedState % n }
  const fields = ['rawTx', 'receipt', 'header', 'txProof', 'receiptProof'] as const
  let refusedCount = 0
  for (let i = 0; i < 150; i++) {
    const field = fields[i % fields.length]
    const input: RootstockPaymentInput = { ...base, txProof: [...base.txProof], receiptProof: [...base.receiptProof] }
    const flip = (h: string): string => {
      const b = bytes(h)
      const at = rnd(b.length)
      b[at] ^= 1 + rnd(255)
      return hex(b)
    }
    if (field === 'txProof' || field === 'receiptProof') {
      const k = rnd(input[field].length)
      input[field][k] = flip(input[field][k])
    } else {
      input[field] = flip(input[field])
    }
    let r
    try {
      r = await verifyRootstockPayment(input)
    } catch (err) {
      t.fail(`mutation ${i} of ${field} threw ${(err as Error).message}`)
      continue
    }
    if (!r.ok) refusedCount++
    else if (field !== 'header' || r.blockHash === s.native.blockHash) t.fail(`mutation ${i} of ${field} was accepted as the real block's payment`)
  }
  t.ok(refusedCount >= 120, `${refusedCount} of 150 random one-byte mutations refused; the rest altered header fields outside the roots and report another block hash`)
})

unhook('rootstock proof - anvil stopped', async (t) => {
  for (const close of closers.reverse()) await close()
  t.pass()
})
