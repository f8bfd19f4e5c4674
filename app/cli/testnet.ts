/**
 * A private HyperDHT on loopback: one bootstrapper and two more persistent nodes, enough for
 * peers on this machine to find each other without the public DHT.
 */
import DHT from 'hyperdht'

export interface LocalTestnet { port: number; bootstrap: string; destroy (): Promise<void> }

/** Starts the testnet's nodes on 127.0.0.1:`port` and two ephemeral-port companions. */
export async function startTestnet (port: number): Promise<LocalTestnet> {
  const boot = DHT.bootstrapper(port, '127.0.0.1')
  await boot.ready()
  const bootstrap = [{ host: '127.0.0.1', port }]
  const others = [0, 1].map(() => new DHT({ bootstrap, host: '127.0.0.1', ephemeral: false, firewalled: false }))
  await Promise.all(others.map((d) => d.ready()))
  return {
    port,
    bootstrap: `127.0.0.1:${port}`,
    async destroy () {
      for (const d of [...others, boot]) await d.destroy()
    }
  }
}
