/**
 * The chain backends a parent (the headless host, the desktop shell) hands its worker: as the
 * command-line arguments app/worker/config.ts reads, with any password in the worker's
 * environment only (a process listing shows command lines to every user of the machine).
 */
import type { BitcoinBackendConfig } from '../../core/rails/bitcoin/rail.ts'
import type { RootstockBackendConfig } from '../../core/rails/rootstock/rail.ts'
import { GrowrError } from '../../core/errors.ts'

/** A Bitcoin backend as the host passes it on: everything but a `fetch` (the worker has its own). */
export type HostBitcoinConfig = Omit<BitcoinBackendConfig, 'fetch' | 'fundingIndexes' | 'timeoutMs'>

/** A Rootstock backend as the host passes it on. */
export type HostRootstockConfig = Pick<RootstockBackendConfig, 'url' | 'chainId' | 'pollMs'>

/** Variables the worker reads for its backends: the parent's own values never leak into a worker started with other settings. */
export const BACKEND_ENV = ['GROWR_BITCOIN_RPC', 'GROWR_BITCOIN_NETWORK', 'GROWR_BITCOIN_RPC_USER', 'GROWR_BITCOIN_RPC_PASSWORD', 'GROWR_ROOTSTOCK_RPC', 'GROWR_ROOTSTOCK_CHAIN_ID']

/**
 * The worker arguments and environment for a backend.
 * @param config the backend; its password goes in the environment only
 * @returns `args` to append to the worker's command line, `env` to set in its environment
 * @throws GrowrError BAD_ARGUMENT for a URL that is not http(s), a URL carrying credentials (they
 *   would show in a process listing: give `username`/`password`), or a birthday or poll interval
 *   that is not a whole number
 */
export function bitcoinWorkerArgs (config: HostBitcoinConfig): { args: string[]; env: Record<string, string> } {
  let url: URL
  try { url = new URL(config.url) } catch { throw GrowrError.BAD_ARGUMENT(`the Bitcoin backend URL ${String(config.url).slice(0, 100)} is not a URL`) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw GrowrError.BAD_ARGUMENT('the Bitcoin backend URL must be http:// or https://')
  if (url.username || url.password) throw GrowrError.BAD_ARGUMENT('put the Bitcoin backend\'s user and password in the settings, not in its URL: a URL on a command line is visible to every user of this machine')
  const whole = (n: number | undefined, what: string): string[] => {
    if (n === undefined) return []
    if (!Number.isSafeInteger(n) || n < 0) throw GrowrError.BAD_ARGUMENT(`the Bitcoin ${what} must be a whole number`)
    return [`--bitcoin-${what}`, String(n)]
  }
  const args = ['--bitcoin-rpc', config.url, '--bitcoin-network', config.network]
  if (config.username !== undefined) args.push('--bitcoin-user', config.username)
  if (config.bech32 !== undefined) args.push('--bitcoin-bech32', config.bech32)
  args.push(...whole(config.birthday, 'birthday'), ...whole(config.pollMs, 'poll-ms'))
  return { args, env: config.password ? { GROWR_BITCOIN_RPC_PASSWORD: config.password } : {} }
}

/**
 * The worker arguments for a Rootstock backend.
 * @param config the EVM JSON-RPC URL (no credentials in it), chain id and poll interval
 * @returns `args` to append to the worker's command line
 * @throws GrowrError BAD_ARGUMENT for a URL that is not http(s) or carries credentials, or a chain id or poll interval that is not a whole number
 */
export function rootstockWorkerArgs (config: HostRootstockConfig): { args: string[] } {
  let url: URL
  try { url = new URL(config.url) } catch { throw GrowrError.BAD_ARGUMENT(`the Rootstock backend URL ${String(config.url).slice(0, 100)} is not a URL`) }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw GrowrError.BAD_ARGUMENT('the Rootstock backend URL must be http:// or https://')
  if (url.username || url.password) throw GrowrError.BAD_ARGUMENT('a Rootstock backend URL with credentials would show on a command line: use a node that needs none, or a local proxy')
  if (!Number.isSafeInteger(config.chainId) || config.chainId <= 0) throw GrowrError.BAD_ARGUMENT('the Rootstock chain id must be a positive whole number')
  const args = ['--rootstock-rpc', config.url, '--rootstock-chain-id', String(config.chainId)]
  if (config.pollMs !== undefined) {
    if (!Number.isSafeInteger(config.pollMs) || config.pollMs < 0) throw GrowrError.BAD_ARGUMENT('the Rootstock poll interval must be a whole number of ms')
    args.push('--rootstock-poll-ms', String(config.pollMs))
  }
  return { args }
}
