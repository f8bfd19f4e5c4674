/**
 * An anvil (Foundry 1.7.1, @foundry-rs/anvil) EVM chain for the Rootstock rail tests, configured
 * like Rootstock: chain id 33 (Rootstock regtest's), `--hardfork berlin` (no base fee, legacy
 * type-0 transactions). Started on a free loopback port, mining a block per transaction, killed at
 * teardown.
 *
 * Also the test chain's helpers: funding an address (`anvil_setBalance`), mining blocks, and
 * deploying the test ERC-20 (test/fixtures/contracts) from anvil's first unlocked dev account.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { freePort } from './bcoin.ts'
import { mnemonicToSeedSync } from '@scure/bip39'
import { compileContract } from '../fixtures/contracts/compile.ts'
import { EvmRpc } from '../../core/rails/rootstock/rpc.ts'
import { sendValue, sendToken, signLegacyTransaction, encodeErc20Transfer } from '../../core/rails/rootstock/tx.ts'
import { fetchRootstockProof, type FetchedRootstockProof } from '../../core/rails/rootstock/proof-fetcher.ts'
import { RootstockAccount, deriveRootstockPrivateKey } from '../../core/wallet/bip44-rootstock.ts'

const require = createRequire(import.meta.url)

/** A running anvil. */
export interface Anvil {
  /** JSON-RPC endpoint, http://127.0.0.1:<port>/ */
  url: string
  chainId: number
  /** calls a JSON-RPC method; throws with anvil's error message on an RPC error */
  rpc<T = unknown> (method: string, params?: unknown[]): Promise<T>
  /** anvil's unlocked, funded dev accounts (lowercase) */
  accounts: string[]
  /** sets an address's balance, in wei */
  fund (address: string, wei: bigint): Promise<void>
  /** mines `n` empty blocks */
  mine (n: number): Promise<void>
  /** deploys GrowrTestToken minting `supply` to `holder`; @returns the contract address, lowercase */
  deployToken (holder: string, supply: bigint): Promise<string>
  /** kills the node (also done at teardown) */
  close (): Promise<void>
}

interface Teardown { teardown (fn: () => unknown | Promise<unknown>): void }

/**
 * @returns the anvil binary of this platform's package (the npm `anvil` wrapper is a node script
 *   that spawns it; running the binary directly leaves no orphan when it is killed)
 */
export function anvilBinary (): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)
    const bin = path.join(path.dirname(pkg), 'bin', 'anvil')
    if (fs.existsSync(bin)) return bin
  } catch {}
  throw new Error(`no anvil binary for ${process.platform}-${arch}: is @foundry-rs/anvil installed?`)
}

/**
 * Starts anvil and waits until its RPC answers.
 * @param t the test whose teardown kills it
 * @param options chainId (33 by default), blockTime (seconds between blocks; by default a block per transaction)
 * @throws when anvil exits or does not answer within 10 s
 */
export async function startAnvil (t: Teardown, options: { chainId?: number, noMining?: boolean } = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 33
  const port = await freePort()
  const args = ['--port', String(port), '--host', '127.0.0.1', '--chain-id', String(chainId), '--hardfork', 'berlin', '--silent']
  if (options.noMining) args.push('--no-mining')
  const child: ChildProcess = spawn(anvilBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d) => { stderr += String(d) })
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve() }))
  const url = `http://127.0.0.1:${port}/`
  let id = 0
  const rpc = async <T = unknown>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) })
    const body = await res.json() as { result: T, error?: { message: string } }
    if (body.error) throw new Error(`anvil ${method}: ${body.error.message}`)
    return body.result
  }
  // a test process that dies before its teardown (an uncaught error) must not leave anvil running
  const onExit = (): void => { if (!exited) child.kill('SIGKILL') }
  process.once('exit', onExit)
  const close = async (): Promise<void> => {
    process.off('exit', onExit)
    if (!exited) { child.kill('SIGKILL'); await exit }
  }
  t.teardown(close)
  const deadline = Date.now() + 10_000
  for (;;) {
    if (exited) throw new Error(`anvil exited before answering: ${stderr.slice(-2000)}`)
    try {
      await rpc('eth_chainId')
      break
    } catch (err) {
      if (Date.now() > deadline) { await close(); throw new Error(`anvil did not answer in 10 s: ${String(err)} ${stderr.slice(-2000)}`) }
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
  }
  const accounts = (await rpc<string[]>('eth_accounts')).map((a) => a.toLowerCase())
  const gasPrice = await rpc<string>('eth_gasPrice')
  return {
    url,
    chainId,
    rpc,
    accounts,
    close,
    fund: async (address, wei) => { await rpc('anvil_setBalance', [address, '0x' + wei.toString(16)]) },
    mine: async (n) => { await rpc('anvil_mine', ['0x' + n.toString(16)]) },
    deployToken: async (holder, supply) => {
      const { bytecode } = compileContract('GrowrTestToken')
      const args = holder.slice(2).toLowerCase().padStart(64, '0') + supply.toString(16).padStart(64, '0')
      const hash = await rpc<string>('eth_sendTransaction', [{ from: accounts[0], data: bytecode + args, type: '0x0', gasPrice, gas: '0x2dc6c0' }])
      if (options.noMining) await rpc('anvil_mine', ['0x1'])
      // anvil may answer eth_sendTransaction before the block with it is mined
      let receipt: { status: string, contractAddress: string } | null = null
      for (const deadline = Date.now() + 10_000; receipt === null && Date.now() < deadline;) {
        receipt = await rpc<{ status: string, contractAddress: string } | null>('eth_getTransactionReceipt', [hash])
        if (receipt === null) await new Promise((resolve) => setTimeout(resolve, 20))
      }
      if (receipt?.status !== '0x1') throw new Error(`the test token did not deploy: ${JSON.stringify(receipt)}`)
      return receipt.contractAddress.toLowerCase()
    }
  }
}

/** The test wallet: a fixed BIP-39 seed (the BIP-39 "abandon ... about" mnemonic's seed, passphrase ''). */
export const TEST_SEED = mnemonicToSeedSync('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about')

/** What {@link rootstockScenario} leaves on its chain: real payments and their proofs. */
export interface RootstockScenario {
  anvil: Anvil
  rpc: EvmRpc
  /** index 0 of the test seed's m/44'/137'/0'/0: pays */
  payer: string
  /** index 1: is paid */
  payee: string
  token: string
  /** 1.5 RBTC (wei) to the payee, alone in its block */
  native: FetchedRootstockProof
  nativeWei: bigint
  /** 250 000 token units (above 2^53 base units: 18 decimals) to the payee */
  erc20: FetchedRootstockProof
  tokenUnits: bigint
  /** a token transfer of more than the payer holds, mined with a fixed gas limit: status 0 */
  reverted: FetchedRootstockProof
  /** two payments in one block (index 0: 1 wei to the payee's index 2 address; index 1: 7 wei to the payee) */
  pair: [FetchedRootstockProof, FetchedRootstockProof]
}

/**
 * Starts anvil and makes the payments every Rootstock proof test starts from, each signed by the
 * rail's own signer with keys of {@link TEST_SEED} and fetched by the rail's proof fetcher.
 */
export async function rootstockScenario (t: Teardown): Promise<RootstockScenario> {
  const anvil = await startAnvil(t)
  const rpc = new EvmRpc({ url: anvil.url, timeoutMs: 10_000 })
  const account = RootstockAccount.fromSeed(TEST_SEED, anvil.chainId)
  const payer = account.address(0).address.toLowerCase()
  const payee = account.address(1).address.toLowerCase()
  const other = account.address(2).address.toLowerCase()
  await anvil.fund(payer, 10n ** 21n)
  const tokenUnits = 250_000n * 10n ** 18n
  const token = await anvil.deployToken(payer, 1_000_000n * 10n ** 18n)
  const signer = { seed: TEST_SEED, index: 0 }
  const opts = { chainId: anvil.chainId, signer, to: payee }
  const fetch = async (hash: string): Promise<FetchedRootstockProof> => await fetchRootstockProof(rpc, hash, { timeoutMs: 10_000, pollMs: 20 })

  const nativeWei = 1_500_000_000_000_000_000n
  const native = await fetch((await sendValue(rpc, opts, nativeWei)).hash)
  const erc20 = await fetch((await sendToken(rpc, opts, token, tokenUnits)).hash)

  // a transfer the token refuses: eth_estimateGas would refuse it first, so it is signed by hand with a fixed gas limit
  const key = deriveRootstockPrivateKey(TEST_SEED, 0)
  const nonce = await rpc.getTransactionCount(payer, 'pending')
  const gasPrice = await rpc.gasPrice()
  const bad = signLegacyTransaction({ nonce, gasPrice, gasLimit: 100_000n, to: token, value: 0n, data: encodeErc20Transfer(payee, 10n ** 30n), chainId: anvil.chainId }, key)
  const reverted = await fetch(await rpc.sendRawTransaction(bad.raw))

  // two transactions in one block
  await anvil.rpc('evm_setAutomine', [false])
  const a = signLegacyTransaction({ nonce: nonce + 1n, gasPrice, gasLimit: 21_000n, to: other, value: 1n, data: '0x', chainId: anvil.chainId }, key)
  const b = signLegacyTransaction({ nonce: nonce + 2n, gasPrice, gasLimit: 21_000n, to: payee, value: 7n, data: '0x', chainId: anvil.chainId }, key)
  await rpc.sendRawTransaction(a.raw)
  await rpc.sendRawTransaction(b.raw)
  await anvil.mine(1)
  await anvil.rpc('evm_setAutomine', [true])
  key.fill(0)
  const pair: [FetchedRootstockProof, FetchedRootstockProof] = [await fetch(a.hash), await fetch(b.hash)]
  if (pair[0].blockHash !== pair[1].blockHash) throw new Error('the two payments were mined in different blocks')
  return { anvil, rpc, payer, payee, token, native, nativeWei, erc20, tokenUnits, reverted, pair }
}
