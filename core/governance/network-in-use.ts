/**
 * Which marketplace network a node is in: the one its operator chose (`growr network use`,
 * stored in the node's private bee under {@link NETWORK_SETTING}), else the network the app ships
 * with (core/governance/networks/growr-dev.json, a development network: see its description).
 * The shipped file is read at run time through `#fs`, so it can be replaced without a rebuild,
 * under Bare as under Node.
 */
import { loadNetwork, readNetworkFile, type Network } from './network.ts'

/** Key of the operator's choice in the node's private bee. */
export const NETWORK_SETTING = 'governance/network'

/** Path of the shipped network definition. */
export const DEFAULT_NETWORK_FILE: string = decodeURIComponent(new URL('./networks/growr-dev.json', import.meta.url).pathname)

let cached: Network | null = null

/**
 * The shipped network, loaded once.
 * @returns the loaded network
 * @throws GrowrError NOT_FOUND / BAD_ARGUMENT / UNSUPPORTED_VERSION when the file is missing or invalid
 */
export function defaultNetwork (): Network {
  cached ??= readNetworkFile(DEFAULT_NETWORK_FILE)
  return cached
}

/**
 * The network this node is in.
 * @param local the node's private bee (node.local), opened
 * @returns the operator's choice and `source: 'setting'`, else the shipped network and `source: 'default'`
 * @throws GrowrError as {@link defaultNetwork}, or when the stored choice no longer loads
 */
export async function networkInUse (local: { get (key: string): Promise<{ value: unknown } | null> }): Promise<{ network: Network; source: 'setting' | 'default' }> {
  const saved = await local.get(NETWORK_SETTING)
  if (saved) return { network: loadNetwork(saved.value), source: 'setting' }
  return { network: defaultNetwork(), source: 'default' }
}
