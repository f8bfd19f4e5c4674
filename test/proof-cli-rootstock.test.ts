/**
 * `growr proof verify --rail rootstock` checks a Rootstock payment proof (raw transaction, receipt
 * and header RLP, the two trie proofs) with the code apply uses, offline, and exits 0 only when it
 * holds: real anvil payments (test/fixtures/contracts/anvil-payments.json, native RBTC and ERC-20);
 * one wei too many, another payee, another chain id, a reverted transfer exit 1 with the reason.
 */
import test from 'brittle'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import vector from './fixtures/contracts/anvil-payments.json' with { type: 'json' }
import { checkProof } from '../app/cli/proof.ts'

const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))

function growr (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, GROWR_STORAGE: '/nonexistent-growr' }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr })
    })
  })
}

type P = typeof vector.native.proof
const args = (p: P): string[] => ['--tx', p.rawTx, '--receipt', p.receipt, '--header', p.header, '--tx-index', String(p.txIndex), '--tx-proof', p.txProof.join(','), '--receipt-proof', p.receiptProof.join(',')]

test('proof verify - rootstock: a real native payment holds; one wei more, another payee or chain id does not', { timeout: 60_000 }, async (t) => {
  const base = ['--json', 'proof', 'verify', '--rail', 'rootstock', '--chain-id', '33', ...args(vector.native.proof), '--address', vector.payee]
  const ok = await growr([...base, '--amount', vector.native.amountWei, '--block-hash', vector.native.proof.blockHash])
  t.is(ok.code, 0, ok.stderr || ok.stdout)
  const out = JSON.parse(ok.stdout || '{}')
  t.is(out.amount, vector.native.amountWei, 'the amount proven, in wei, exact')
  t.is(out.from?.toLowerCase(), vector.payer, 'the signer recovered')
  const more = await growr([...base, '--amount', (BigInt(vector.native.amountWei) + 1n).toString()])
  t.is(more.code, 1, 'one wei more than paid: exit 1')
  t.ok(/less than/.test(JSON.parse(more.stdout || '{}').reason), more.stdout.trim())
  const other = await growr([...base.map((a) => a === vector.payee ? vector.payer : a), '--amount', '1'])
  t.is(other.code, 1, 'another payee: exit 1')
  const chain = await growr([...base.map((a, i) => base[i - 1] === '--chain-id' ? '31' : a), '--amount', '1'])
  t.is(chain.code, 1, 'chain id 31: exit 1')
  t.ok(/chain id 33, not 31/.test(chain.stdout), chain.stdout.trim())
  const bad = await growr([...base, '--amount', '1.5'])
  t.is(bad.code, 2, 'a fractional amount is a usage error')
})

test('proof verify - rootstock: an ERC-20 payment holds with --token; a reverted transfer does not', { timeout: 60_000 }, async (t) => {
  const ok = await growr(['proof', 'verify', '--rail', 'rootstock', '--chain-id', '33', ...args(vector.erc20.proof), '--address', vector.payee, '--amount', vector.erc20.amountUnits, '--token', vector.token])
  t.is(ok.code, 0, ok.stderr || ok.stdout)
  t.ok(/proof holds/.test(ok.stdout) && ok.stdout.includes(vector.erc20.amountUnits), ok.stdout.trim())
  const reverted = await growr(['proof', 'verify', '--rail', 'rootstock', '--chain-id', '33', ...args(vector.reverted.proof), '--address', vector.payee, '--amount', '1', '--token', vector.token])
  t.is(reverted.code, 1, 'status 0: exit 1')
  t.ok(/status 0/.test(reverted.stdout), reverted.stdout.trim())
})

test('proof verify - rootstock: checkProof, the function behind the command, asks for what it lacks', async (t) => {
  await t.exception(checkProof({ rail: 'rootstock', chainId: '33' }), /BAD_ARGUMENT: --tx is required/)
  const r = await checkProof({ rail: 'rootstock', chainId: '33', tx: vector.native.proof.rawTx, receipt: vector.native.proof.receipt, header: vector.native.proof.header, txIndex: '0', txProof: vector.native.proof.txProof.join(','), receiptProof: vector.native.proof.receiptProof.join(','), address: vector.payee, amount: vector.native.amountWei })
  t.ok(r.ok, 'holds in-process too')
})
