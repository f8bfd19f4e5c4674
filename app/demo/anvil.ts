/**
 * An anvil EVM chain for the Rootstock demo (Foundry's anvil from @foundry-rs/anvil), configured
 * like Rootstock regtest: chain id 33, `--hardfork berlin` (no base fee, legacy transactions), a
 * block per transaction, on a free loopback port, killed at the end of the demo. Funds addresses
 * with `anvil_setBalance` and mines empty blocks with `anvil_mine`, over its JSON-RPC.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

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

async function freeTcpPort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)) })
  })
}

/**
 * Starts anvil and waits until its RPC answers with the chain id asked for.
 * @param chainId default 33 (Rootstock regtest's)
 * @throws when it exits or does not answer within 10 s
 */
export async function startDemoAnvil (chainId = 33): Promise<DemoAnvil> {
  const port = await freeTcpPort()
  const child: ChildProcess = spawn(anvilBinary(), ['--port', String(port), '--host', '127.0.0.1', '--chain-id', String(chainId), '--hardfork', 'berlin', '--silent'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
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
  const close = async (): Promise<void> => { if (!exited) { child.kill('SIGKILL'); await exit } }
  const deadline = Date.now() + 10_000
  for (;;) {
    if (exited) throw new Error(`anvil exited: ${stderr.slice(-2000)}`)
    try {
      if (Number(BigInt(await rpc<string>('eth_chainId'))) !== chainId) throw new Error('anvil answers for another chain id')
      break
    } catch (err) {
      if (Date.now() > deadline) { await close(); throw new Error(`anvil did not answer in 10 s: ${String(err)}`) }
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
  }
  return {
    url,
    chainId,
    rpc,
    close,
    fund: async (address, wei) => { await rpc('anvil_setBalance', [address, '0x' + wei.toString(16)]) },
    mine: async (n) => { await rpc('anvil_mine', ['0x' + n.toString(16)]) }
  }
}
