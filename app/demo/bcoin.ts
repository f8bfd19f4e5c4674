/**
 * A bcoin 1.0.2 regtest node for the Bitcoin demo: installed by scripts/install-bcoin.sh into
 * .tools/bcoin when missing, started in memory on free loopback ports with a fresh api key, no
 * wallet and no peers, talked to over its Bitcoin Core-compatible JSON-RPC. The demo is the
 * chain's only miner.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = path.join(ROOT, '.tools/bcoin/node_modules/bcoin/bin/node')

/** A running bcoin regtest node. */
export interface DemoBcoin {
  /** JSON-RPC endpoint, no credentials */
  url: string
  /** the api key (the RPC password): handed to the nodes in their environment, never as an argument */
  apiKey: string
  rpc<T = unknown> (method: string, params?: unknown[]): Promise<T>
  close (): Promise<void>
}

async function freeTcpPort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address() as net.AddressInfo; srv.close(() => resolve(port)) })
  })
}

/** Runs scripts/install-bcoin.sh when bcoin is not installed yet (a minute on a fresh machine). */
export function ensureBcoin (): void {
  if (fs.existsSync(BIN)) return
  console.log('installing bcoin 1.0.2 into .tools/bcoin (scripts/install-bcoin.sh)...')
  const r = spawnSync(path.join(ROOT, 'scripts/install-bcoin.sh'), { stdio: 'inherit', cwd: ROOT })
  if (r.status !== 0 || !fs.existsSync(BIN)) throw new Error('scripts/install-bcoin.sh failed: bcoin is needed for --rail bitcoin')
}

/**
 * Starts bcoin on regtest in memory and waits until its RPC answers.
 * @param dir a directory for its prefix (removed with the demo's)
 * @throws when it exits or does not answer within 20 s
 */
export async function startDemoBcoin (dir: string): Promise<DemoBcoin> {
  ensureBcoin()
  const [httpPort, p2pPort] = [await freeTcpPort(), await freeTcpPort()]
  const apiKey = randomBytes(16).toString('hex')
  fs.mkdirSync(dir, { recursive: true })
  const child: ChildProcess = spawn(process.execPath, [
    BIN, '--network=regtest', '--memory=true', '--workers=false', '--index-tx=true',
    '--no-wallet=true', '--listen=false', '--max-outbound=1', `--only=127.0.0.1:${p2pPort}`,
    `--port=${p2pPort}`, '--http-host=127.0.0.1', `--http-port=${httpPort}`, `--api-key=${apiKey}`,
    `--prefix=${dir}`, '--log-file=false', '--log-level=error'
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve() }))
  const url = `http://127.0.0.1:${httpPort}/`
  const auth = 'Basic ' + Buffer.from(`x:${apiKey}`).toString('base64')
  let id = 0
  const rpc = async <T = unknown>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(url, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '1.0', id: ++id, method, params }) })
    const body = await res.json() as { result: T, error: { message: string } | null }
    if (body.error) throw new Error(`bcoin ${method}: ${body.error.message}`)
    return body.result
  }
  const close = async (): Promise<void> => { if (!exited) { child.kill('SIGKILL'); await exit } }
  const deadline = Date.now() + 20_000
  for (;;) {
    if (exited) throw new Error(`bcoin exited: ${stderr.slice(-2000)}`)
    try { await rpc('getblockchaininfo'); break } catch (err) {
      if (Date.now() > deadline) { await close(); throw new Error(`bcoin did not answer in 20 s: ${String(err)}`) }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return { url, apiKey, rpc, close }
}
