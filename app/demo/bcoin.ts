/**
 * A bcoin 1.0.2 regtest node for the Bitcoin demo: installed by scripts/install-bcoin.sh into
 * .tools/bcoin when missing, started in memory on free loopback ports with a fresh api key, no
 * wallet and no peers, talked to over its Bitcoin Core-compatible JSON-RPC. The demo is the
 * chain's only miner.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freeTcpPort, startChainProcess } from './chain-process.ts'

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
  const { url, rpc, close } = await startChainProcess({
    name: 'bcoin',
    command: process.execPath,
    args: [
      BIN, '--network=regtest', '--memory=true', '--workers=false', '--index-tx=true',
      '--no-wallet=true', '--listen=false', '--max-outbound=1', `--only=127.0.0.1:${p2pPort}`,
      `--port=${p2pPort}`, '--http-host=127.0.0.1', `--http-port=${httpPort}`, `--api-key=${apiKey}`,
      `--prefix=${dir}`, '--log-file=false', '--log-level=error'
    ],
    port: httpPort,
    jsonrpc: '1.0',
    authorization: 'Basic ' + Buffer.from(`x:${apiKey}`).toString('base64'),
    ready: async (rpc) => { await rpc('getblockchaininfo') },
    timeoutMs: 20_000,
    pollMs: 50
  })
  return { url, apiKey, rpc, close }
}
