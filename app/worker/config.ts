/**
 * The worker's settings from its arguments and environment. Arguments win over the
 * environment: `--storage DIR` / GROWR_STORAGE (default: the platform's data directory, see
 * core/storage-dir.ts), `--bootstrap host:port[,host:port]` / GROWR_BOOTSTRAP (default: the
 * public HyperDHT), `--announce` / GROWR_ANNOUNCE=1, and GROWR_PASSPHRASE (environment only,
 * so it never shows in a process listing). A Bitcoin backend: `--bitcoin-rpc URL` / GROWR_BITCOIN_RPC,
 * `--bitcoin-network NAME` / GROWR_BITCOIN_NETWORK, `--bitcoin-user` / GROWR_BITCOIN_RPC_USER,
 * `--bitcoin-bech32` (regtest: bcoin's 'rb'), `--bitcoin-birthday HEIGHT`, `--bitcoin-poll-ms MS`,
 * and its password or api key in GROWR_BITCOIN_RPC_PASSWORD only (never an argument). A Rootstock
 * backend: `--rootstock-rpc URL` / GROWR_ROOTSTOCK_RPC, `--rootstock-chain-id N` /
 * GROWR_ROOTSTOCK_CHAIN_ID (required with it), `--rootstock-poll-ms MS`.
 * Runs under Bare and Node: no `node:` imports.
 */
import { resolveStorageDir, type Env } from '../../core/storage-dir.ts'
import { parseBootstrap, type BootstrapNode } from '../../core/network/swarm.ts'
import { GrowrError } from '../../core/errors.ts'
import type { BitcoinBackendConfig } from '../../core/rails/bitcoin/rail.ts'
import type { RootstockBackendConfig } from '../../core/rails/rootstock/rail.ts'

export interface WorkerConfig {
  storage: string
  bootstrap?: BootstrapNode[]
  announce: boolean
  passphrase?: string
  /** the Bitcoin backend, when one is configured */
  bitcoin?: BitcoinBackendConfig
  /** the Rootstock backend, when one is configured */
  rootstock?: RootstockBackendConfig
}

/**
 * Reads the worker's configuration.
 * @param args command-line arguments after the script
 * @param env the environment (`process.env` / `bare-env`)
 * @throws GrowrError BAD_ARGUMENT on an unknown option, a missing option value or a malformed
 *   bootstrap list
 */
export function readConfig (args: string[], env: Env): WorkerConfig {
  const flags: Record<string, string | true> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const m = /^--(storage|bootstrap|announce|bitcoin-rpc|bitcoin-network|bitcoin-user|bitcoin-bech32|bitcoin-birthday|bitcoin-poll-ms|rootstock-rpc|rootstock-chain-id|rootstock-poll-ms)(?:=(.*))?$/.exec(arg)
    if (!m) throw GrowrError.BAD_ARGUMENT(`unknown worker argument ${arg.slice(0, 60)}`)
    if (m[1] === 'announce') { flags.announce = true; continue }
    const value = m[2] ?? args[++i]
    if (value === undefined) throw GrowrError.BAD_ARGUMENT(`--${m[1]} needs a value`)
    flags[m[1]] = value
  }
  const bootstrap = typeof flags.bootstrap === 'string' ? flags.bootstrap : env.GROWR_BOOTSTRAP
  // (no `as` inside a ternary: Bare's type stripper mis-parses `c ? x as T : y`)
  const str = (flag: string, name?: string): string | undefined => {
    const v = flags[flag]
    if (typeof v === 'string') return v
    return name === undefined ? undefined : env[name] || undefined
  }
  const whole = (flag: string, name?: string): number | undefined => {
    const v = str(flag, name)
    if (v === undefined) return undefined
    if (!/^[0-9]{1,15}$/.test(v)) throw GrowrError.BAD_ARGUMENT(`--${flag} must be a whole number`)
    return Number(v)
  }
  const url = str('bitcoin-rpc', 'GROWR_BITCOIN_RPC')
  const network = str('bitcoin-network', 'GROWR_BITCOIN_NETWORK')
  if (url !== undefined && !['mainnet', 'testnet', 'signet', 'regtest'].includes(network ?? '')) throw GrowrError.BAD_ARGUMENT('--bitcoin-rpc needs --bitcoin-network mainnet, testnet, signet or regtest')
  const bitcoin: BitcoinBackendConfig | undefined = url === undefined
    ? undefined
    : {
        url,
        network: network as BitcoinBackendConfig['network'],
        username: str('bitcoin-user', 'GROWR_BITCOIN_RPC_USER'),
        password: env.GROWR_BITCOIN_RPC_PASSWORD || undefined,
        bech32: str('bitcoin-bech32'),
        birthday: whole('bitcoin-birthday'),
        pollMs: whole('bitcoin-poll-ms')
      }
  const rskUrl = str('rootstock-rpc', 'GROWR_ROOTSTOCK_RPC')
  const chainId = whole('rootstock-chain-id', 'GROWR_ROOTSTOCK_CHAIN_ID')
  if (rskUrl !== undefined && (chainId === undefined || chainId <= 0)) throw GrowrError.BAD_ARGUMENT('--rootstock-rpc needs --rootstock-chain-id (30 mainnet, 31 testnet, 33 regtest)')
  const rootstock: RootstockBackendConfig | undefined = rskUrl === undefined ? undefined : { url: rskUrl, chainId: chainId as number, pollMs: whole('rootstock-poll-ms') }
  return {
    storage: resolveStorageDir({ storage: typeof flags.storage === 'string' ? flags.storage : undefined, env }),
    bootstrap: bootstrap ? parseBootstrap(bootstrap) : undefined,
    announce: flags.announce === true || env.GROWR_ANNOUNCE === '1',
    passphrase: env.GROWR_PASSPHRASE || undefined,
    ...(bitcoin === undefined ? {} : { bitcoin }),
    ...(rootstock === undefined ? {} : { rootstock })
  }
}
