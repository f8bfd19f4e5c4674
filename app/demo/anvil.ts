/**
 * An anvil EVM chain for the Rootstock demo (Foundry's anvil from @foundry-rs/anvil), configured
 * like Rootstock regtest: chain id 33, `--hardfork berlin` (no base fee, legacy transactions), a
 * block per transaction, on a free loopback port, killed at the end of the demo. Funds addresses
 * with `anvil_setBalance` and mines empty blocks with `anvil_mine`, over its JSON-RPC.
 */
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { freeTcpPort, startChainProcess } from './chain-process.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const require = createRequire(import.meta.url)

/** A running anvil. */
export interface DemoAnvil {
  /** JSON-RPC endpoint */
  url: string
  chainId: number
  rpc<T = unknown> (method: string, params?: unknown[]): Promise<T>
  /** sets an address's balance, in wei */
  fund (address: string, wei: bigint): Promise<void>
  /** mines `n` empty blocks */
  mine (n: number): Promise<void>
  close (): Promise<void>
}

/**
 * The anvil binary: the platform package's own (killing it leaves no orphan), else the npm
 * wrapper node_modules/.bin/anvil.
 * @throws when neither is installed
 */
export function anvilBinary (): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  try {
    const bin = path.join(path.dirname(require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)), 'bin', 'anvil')
    if (fs.existsSync(bin)) return bin
  } catch {}
  const wrapper = path.join(ROOT, 'node_modules/.bin/anvil')
  if (fs.existsSync(wrapper)) return wrapper
  throw new Error('anvil is not installed (npm package @foundry-rs/anvil): it is needed for --rail rootstock')
}

/**
 * Starts anvil and waits until its RPC answers with the chain id asked for.
 * @param chainId default 33 (Rootstock regtest's)
 * @throws when it exits or does not answer within 10 s
 */
export async function startDemoAnvil (chainId = 33): Promise<DemoAnvil> {
  const port = await freeTcpPort()
  const { url, rpc, close } = await startChainProcess({
    name: 'anvil',
    command: anvilBinary(),
    args: ['--port', String(port), '--host', '127.0.0.1', '--chain-id', String(chainId), '--hardfork', 'berlin', '--silent'],
    port,
    jsonrpc: '2.0',
    ready: async (rpc) => { if (Number(BigInt(await rpc<string>('eth_chainId'))) !== chainId) throw new Error('anvil answers for another chain id') },
    timeoutMs: 10_000,
    pollMs: 30
  })
  return {
    url,
    chainId,
    rpc,
    close,
    fund: async (address, wei) => { await rpc('anvil_setBalance', [address, '0x' + wei.toString(16)]) },
    mine: async (n) => { await rpc('anvil_mine', ['0x' + n.toString(16)]) }
  }
}
