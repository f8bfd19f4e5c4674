// Runs under Bare (brittle-bare) and Node alike: the Rootstock proof check apply calls
// (@ethereumjs/mpt, @ethereumjs/rlp, @noble under Bare), on real anvil payments recorded in
// test/fixtures/contracts/anvil-payments.json, and the rail's EIP-155 signer.
import test from 'brittle'
import { verifyRootstockPayment } from '../../books/proofs/rootstock-receipt.ts'
import { decodeLegacyTransaction, evmHexToBytes } from '../../books/proofs/evm-tx.ts'
import { signLegacyTransaction, encodeErc20Transfer } from '../../core/rails/rootstock/tx.ts'
import { EvmRpc } from '../../core/rails/rootstock/rpc.ts'
import vector from '../fixtures/contracts/anvil-payments.json' with { type: 'json' }

test('bare - rootstock proofs of real anvil payments verify; altered ones are refused', async (t) => {
  const native = await verifyRootstockPayment({ ...vector.native.proof, expect: { chainId: 33, to: vector.payee, minAmount: BigInt(vector.native.amountWei), blockHash: vector.native.proof.blockHash } })
  t.ok(native.ok && native.amount === BigInt(vector.native.amountWei) && native.from.toLowerCase() === vector.payer, native.ok ? 'native RBTC payment verifies under this runtime' : native.reason)
  const token = await verifyRootstockPayment({ ...vector.erc20.proof, expect: { chainId: 33, to: vector.payee, minAmount: BigInt(vector.erc20.amountUnits), token: vector.token } })
  t.ok(token.ok && token.amount === BigInt(vector.erc20.amountUnits), token.ok ? 'ERC-20 payment verifies' : token.reason)
  const reverted = await verifyRootstockPayment({ ...vector.reverted.proof, expect: { chainId: 33, to: vector.payee, minAmount: 1n, token: vector.token } })
  t.ok(!reverted.ok && /status 0/.test(reverted.reason), 'a reverted transfer is refused')
  const otherBlock = await verifyRootstockPayment({ ...vector.native.proof, header: vector.erc20.proof.header, expect: { chainId: 33, to: vector.payee, minAmount: 1n } })
  t.ok(!otherBlock.ok && /does not start at the header/.test(otherBlock.reason), 'another block\'s header is refused')
  const chain = await verifyRootstockPayment({ ...vector.native.proof, expect: { chainId: 31, to: vector.payee, minAmount: 1n } })
  t.ok(!chain.ok && /chain id 33, not 31/.test(chain.reason), 'another chain id is refused')
  const junk = await verifyRootstockPayment({ ...vector.native.proof, receipt: '0xzz', expect: { chainId: 33, to: vector.payee, minAmount: 1n } })
  t.ok(!junk.ok, 'junk is refused, not thrown')
})

test('bare - the EIP-155 signer signs what the verifier decodes', (t) => {
  const key = new Uint8Array(32).fill(9)
  const data = encodeErc20Transfer(vector.payee, 5n)
  const signed = signLegacyTransaction({ nonce: 3n, gasPrice: 65_164_000n, gasLimit: 60_000n, to: vector.token, value: 0n, data, chainId: 31 }, key)
  const d = decodeLegacyTransaction(evmHexToBytes(signed.raw, 4096) as Uint8Array)
  t.ok(d.ok && d.tx.chainId === 31n && d.tx.from === signed.from && d.tx.to === vector.token && d.tx.nonce === 3n, 'decodes to the fields signed, the signer recovered')
  if (typeof globalThis.fetch !== 'function') {
    // Bare has no fetch: the client says so instead of failing at the first call
    t.exception(() => new EvmRpc({ url: 'http://127.0.0.1:1/', timeoutMs: 1000 }), /BAD_ARGUMENT.*fetch/, 'no fetch: BAD_ARGUMENT at construction')
  }
  const rpc = new EvmRpc({ url: 'http://u:secret-key@127.0.0.1:1/', timeoutMs: 1000, fetch: async () => ({ status: 200, text: async () => '{}' }) })
  t.is(rpc.url, 'http://127.0.0.1:1/', 'an injected fetch works here; credentials kept out of the URL')
})
