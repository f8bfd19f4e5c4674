/**
 * A local HyperDHT testnet on loopback and the swarms of a benchmark's peers, torn down
 * together: swarms, then their DHT nodes, then the testnet.
 */
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import Hyperswarm from 'hyperswarm'
import type Corestore from 'corestore'
import type DHT from 'hyperdht'

export class LocalNet {
  private testnet: Testnet | null = null
  private readonly swarms = new Map<Hyperswarm, DHT>()

  async start (): Promise<void> {
    this.testnet = await createTestnet(3, { host: '127.0.0.1' })
  }

  /**
   * A swarm (its own DHT node on 127.0.0.1, see shared/STACK.md) that replicates `store` with
   * every peer and joins `topic` as client and server.
   * @returns once the topic is announced
   */
  async join (store: Corestore, topic: Uint8Array): Promise<Hyperswarm> {
    if (!this.testnet) throw new Error('LocalNet not started')
    const dht = this.testnet.createNode({ host: '127.0.0.1', firewalled: false })
    const swarm = new Hyperswarm({ dht })
    this.swarms.set(swarm, dht)
    swarm.on('connection', (conn: { on (e: string, f: () => void): void }) => {
      conn.on('error', () => {})
      store.replicate(conn)
    })
    await swarm.join(topic).flushed()
    return swarm
  }

  /** Leaves the network with one swarm (and its DHT node). */
  async drop (swarm: Hyperswarm): Promise<void> {
    const dht = this.swarms.get(swarm)
    if (!dht) return
    this.swarms.delete(swarm)
    await swarm.destroy().catch(() => {})
    await dht.destroy().catch(() => {})
  }

  async close (): Promise<void> {
    for (const swarm of [...this.swarms.keys()]) await this.drop(swarm)
    if (this.testnet) await this.testnet.destroy()
    this.testnet = null
  }
}
