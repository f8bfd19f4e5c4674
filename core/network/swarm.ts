/**
 * Swarm wiring: which HyperDHT a node talks to, and replication of its Corestore over every
 * Hyperswarm connection. Books are found by their Autobase discovery key.
 */
import Hyperswarm from 'hyperswarm'
import DHT from 'hyperdht'
import { GrowrError } from '../errors.ts'

export interface BootstrapNode { host: string; port: number }

/**
 * Parses `host:port[,host:port]`.
 * @throws BAD_ARGUMENT on a malformed entry
 */
export function parseBootstrap (s: string): BootstrapNode[] {
  return s.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
    const m = /^([^:\s]+):(\d{1,5})$/.exec(part)
    const port = m ? Number(m[2]) : 0
    if (!m || port < 1 || port > 65535) throw GrowrError.BAD_ARGUMENT(`bootstrap node ${JSON.stringify(part)} is not host:port`)
    return { host: m[1], port }
  })
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost)$/

/**
 * The DHT node for a swarm: the public HyperDHT when `bootstrap` is absent, else a private one.
 * A private DHT whose bootstrap nodes are all on loopback binds 127.0.0.1 and is not
 * firewalled: on one machine the default 0.0.0.0 bind leaves server sides deaf and the
 * firewalled default makes cross-process connections time out (see shared/STACK.md).
 */
export function createDht (bootstrap?: BootstrapNode[]): DHT {
  if (!bootstrap) return new DHT()
  const local = bootstrap.every((b) => LOOPBACK.test(b.host))
  return new DHT(local ? { bootstrap, host: '127.0.0.1', firewalled: false } : { bootstrap })
}

/** A Hyperswarm on `dht` that replicates `store` with every peer it meets. */
export function createSwarm (dht: DHT, replicate: (conn: unknown) => void): Hyperswarm {
  const swarm = new Hyperswarm({ dht })
  swarm.on('connection', (conn: { on (e: string, f: (err: unknown) => void): void }) => {
    conn.on('error', () => {}) // a peer going away is normal; replication resumes on reconnect
    replicate(conn)
  })
  return swarm
}
