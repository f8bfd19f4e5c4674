/**
 * Benchmark 8, ad convergence: how long a NEW node takes to hold the ad of every node of an
 * N-node marketplace network, on a HyperDHT testnet on loopback.
 *
 * The N nodes are ad peers, not whole GrowrNodes (each would open a Corestore and its books,
 * which the ads path never touches): each has its own DHT node and Hyperswarm, its own did:key,
 * a real AdDirectory and AdGossip attached to every connection, its own ad signed with signAd
 * (one book with two open projects, as AdsService builds it for an originator) and published
 * through the gossip, and it joins the network topic as client and server: the wiring of
 * core/network/ads/service.ts, without the book watching and timers that do not run here.
 * Setup (not timed): the N peers start 10 at a time, then every peer must hold all N ads.
 *
 * Timed, alternating, median of `runs`:
 * - the new node: a fresh DHT node (bootstrapped before the clock), then from joining the
 *   topic (Hyperswarm's defaults, as a Growr node) until its directory holds all N ads, every
 *   one checked (schema, canonical form, signature) by checkAd. It publishes no ad while timed:
 *   in one process the peers' re-gossip of it would be billed to its wait, where on N machines
 *   it runs elsewhere.
 * - baseline, swarm discovery alone: a fresh swarm joins the same topic and connects to
 *   min(N, 20) peers (Noise handshakes done, no channel). Not N: a HyperDHT node answers a
 *   lookup with at most 20 records of a topic, and at N = 100 discovery alone reached about
 *   40 peers in a minute; the note says how many it reached 10 s after its target.
 * The process waits for the network to be quiet (no ad received for a second) before each run.
 */
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import Hyperswarm, { type PeerDiscovery } from 'hyperswarm'
import type DHT from 'hyperdht'
import b4a from 'b4a'
import id from 'hypercore-id-encoding'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import { checkAd, networkTopic, signAd, type AdBody } from '../core/network/ads/advertisement.ts'
import { AdDirectory } from '../core/network/ads/directory.ts'
import { AdGossip, ADS_PROTOCOL } from '../core/network/ads/gossip.ts'
import { RPC_PROTOCOL } from '../core/network/peer-rpc.ts'
import { now, result, type BenchResult } from './lib/util.ts'

const TOPIC = networkTopic('growr-bench-ads')
const NETWORK = b4a.toString(TOPIC, 'hex')
const HOUR = 3600_000
const RELEASE = 'ab'.repeat(32)
/**
 * Connections a network peer opens itself (Hyperswarm maxPeers; it still accepts every
 * incoming one). With the default 64, 100 peers in one process open about 2 500 connections,
 * each carrying both directories (200 signature checks): minutes of one core's work that N
 * machines would share, and the loopback DHT then times out.
 */
const DEGREE = 8
/** Records a HyperDHT node returns for a topic (hyperdht/lib/persistent.js): the baseline's target. */
const LOOKUP_RECORDS = 20
/** How long the baseline swarm keeps discovering after its target, to report how many peers it reached. */
const REACH_MS = 10_000

// the part of Hyperswarm used here that types/holepunch.d.ts does not declare
type Swarm = Hyperswarm & { keyPair: { publicKey: Uint8Array } }
interface Conn { remotePublicKey: Uint8Array; on (e: string, f: () => void): void }

interface AdPeer { did: DidKey; dht: DHT; swarm: Swarm; directory: AdDirectory; gossip: AdGossip; discovery: PeerDiscovery }

function identity (seed: number) {
  const s = new Uint8Array(32)
  new DataView(s.buffer).setUint32(0, seed)
  s[31] = 0xad
  const kp = generateKeyPair(s)
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
}

/** An originator's ad: one book, two open projects; the size AdsService signs for one. */
function adOf (did: DidKey, i: number, at: number): AdBody {
  const hex = (n: number, tag: number) => { const b = b4a.alloc(16); new DataView(b.buffer, b.byteOffset).setUint32(0, n); b[15] = tag; return b4a.toString(b, 'hex') }
  const topicKey = b4a.alloc(32)
  new DataView(topicKey.buffer, topicKey.byteOffset).setUint32(0, i)
  const project = (tag: number, name: string) => ({
    projectId: hex(i, tag), name, currency: 'EUR', amount: '500000', loanMin: '50000', loanMax: '150000',
    minMonths: 3, maxMonths: 12, rateBps: 1200, interestMethod: 'declining-balance'
  })
  return {
    v: 1,
    network: NETWORK,
    did,
    organization: `Lending circle ${i}`,
    chain: [],
    services: [{ type: 'originating' }],
    protocols: [RPC_PROTOCOL, ADS_PROTOCOL],
    books: [{ topic: id.encode(topicKey), name: `Circle ${i} book`, projects: [project(1, `Greenhouses ${i}`), project(2, `Irrigation ${i}`)] }],
    release: RELEASE,
    issuedAt: at,
    expiresAt: at + HOUR
  }
}

/** Resolves when `check()` holds, re-checked on each `event` of `emitter`; rejects after `ms`. */
async function until (emitter: { on (e: string, f: () => void): unknown; off (e: string, f: () => void): unknown }, event: string, check: () => boolean, what: () => string, ms: number): Promise<void> {
  if (check()) return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { emitter.off(event, on); reject(new Error(`ads bench: timed out after ${ms} ms: ${what()}`)) }, ms)
    const on = () => { if (check()) { clearTimeout(timer); emitter.off(event, on); resolve() } }
    emitter.on(event, on)
  })
}

class AdNet {
  testnet: Testnet | null = null
  readonly peers: AdPeer[] = []
  private readonly others = new Set<{ swarm: Hyperswarm; dht: DHT }>()

  async start (): Promise<void> { this.testnet = await createTestnet(3, { host: '127.0.0.1' }) }

  /** A DHT node on the testnet, bootstrapped. */
  async node (): Promise<DHT> {
    const dht = (this.testnet as Testnet).createNode({ host: '127.0.0.1', firewalled: false })
    await dht.ready()
    return dht
  }

  /** An ad peer: directory, gossip on every connection, its ad published, the topic joined. */
  async adPeer (seed: number, dht: DHT): Promise<AdPeer> {
    const { did, secretKey } = identity(seed)
    const directory = new AdDirectory({ network: NETWORK })
    const gossip = new AdGossip({ directory })
    await gossip.ready()
    const res = await gossip.publish(signAd(adOf(did, seed, Date.now()), secretKey).bytes)
    if (!res.ok) throw new Error(`ads bench: peer ${seed}'s own ad was refused: ${res.reason}`)
    const swarm = new (Hyperswarm as unknown as new (o: object) => Swarm)({ dht, maxPeers: DEGREE })
    swarm.on('connection', (conn: Conn) => { conn.on('error', () => {}); gossip.attach(conn as never) })
    const discovery = swarm.join(TOPIC, { server: true, client: true })
    return { did, dht, swarm, directory, gossip, discovery }
  }

  async close (): Promise<void> {
    for (const o of this.others) { await o.swarm.destroy().catch(() => {}); await o.dht.destroy().catch(() => {}) }
    for (const p of this.peers) { await p.gossip.close().catch(() => {}); await p.swarm.destroy().catch(() => {}); await p.dht.destroy().catch(() => {}) }
    if (this.testnet) await this.testnet.destroy()
    this.testnet = null
  }

  track (swarm: Hyperswarm, dht: DHT): () => Promise<void> {
    const o = { swarm, dht }
    this.others.add(o)
    return async () => { this.others.delete(o); await swarm.destroy().catch(() => {}); await dht.destroy().catch(() => {}) }
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/**
 * Runs the ad-convergence benchmark.
 * @param n ad peers in the network
 * @param runs timed runs of each kind (alternating), the median reported
 */
export async function benchAds (n: number, runs: number): Promise<BenchResult[]> {
  const net = new AdNet()
  try {
    await net.start()
    const t0 = now()
    for (let i = 0; i < n; i += 10) {
      const batch = await Promise.all(Array.from({ length: Math.min(10, n - i) }, async (_, k) => await net.adPeer(i + k, await net.node())))
      net.peers.push(...batch)
      await Promise.all(batch.map(async (p) => await p.discovery.flushed()))
    }
    // one process hosts every peer: wait until none is still checking ads, so that a timed run
    // does not pay for the network's own gossip
    const received = () => net.peers.reduce((sum, p) => sum + p.gossip.stats.received, 0)
    const quiet = async () => {
      // bounded: a network that never settles is measured as it is, not waited on forever
      for (let last = -1, i = 0; i < 30; i++) {
        const r = received()
        if (r === last) return
        last = r
        await new Promise((resolve) => setTimeout(resolve, 1000))
      }
    }
    const everyone = new Set(net.peers.map((p) => p.did))
    const holdsAll = (dir: AdDirectory) => { let k = 0; for (const d of everyone) if (dir.get(d)) k++; return k === n }
    await Promise.all(net.peers.map(async (p, i) => await until(p.directory, 'ad', () => holdsAll(p.directory), () => `network peer ${i} holds all ${n} ads (has ${p.directory.size})`, 120_000)))
    const setupMs = now() - t0
    await quiet()
    const swarmKeys = new Set(net.peers.map((p) => b4a.toString(p.swarm.keyPair.publicKey, 'hex')))

    const gossipMs: number[] = []
    const swarmMs: number[] = []
    let checked = { received: 0, stored: 0, stale: 0 }

    const withGossip = async () => {
      const dht = await net.node()
      const directory = new AdDirectory({ network: NETWORK })
      const gossip = new AdGossip({ directory })
      const t = now()
      await gossip.ready()
      const swarm = new Hyperswarm({ dht })
      const drop = net.track(swarm, dht)
      swarm.on('connection', (conn: Conn) => { conn.on('error', () => {}); gossip.attach(conn as never) })
      swarm.join(TOPIC, { server: true, client: true })
      await until(directory, 'ad', () => holdsAll(directory), () => `the new node holds all ${n} ads (has ${directory.size})`, 60_000)
      gossipMs.push(now() - t)
      checked = { received: gossip.stats.received, stored: gossip.stats.stored, stale: gossip.stats.stale }
      await gossip.close()
      await drop()
      await quiet()
    }
    const target = Math.min(n, LOOKUP_RECORDS)
    const reached: number[] = []
    const discoveryOnly = async () => {
      const dht = await net.node()
      const t = now()
      const swarm = new (Hyperswarm as unknown as new (o: object) => Hyperswarm)({ dht, maxPeers: n + 16 })
      const drop = net.track(swarm, dht)
      const met = new Set<string>()
      swarm.on('connection', (conn: Conn) => {
        conn.on('error', () => {})
        const key = b4a.toString(conn.remotePublicKey, 'hex')
        if (swarmKeys.has(key)) met.add(key)
      })
      swarm.join(TOPIC, { server: true, client: true })
      await until(swarm, 'connection', () => met.size >= target, () => `the baseline swarm connects to ${target} of the ${n} peers (has ${met.size})`, 60_000)
      swarmMs.push(now() - t)
      // how far discovery alone gets: HyperDHT nodes answer a lookup with at most 20 records
      if (target < n) await new Promise((resolve) => setTimeout(resolve, REACH_MS))
      reached.push(met.size)
      await drop()
      await quiet()
    }
    for (let r = 0; r < runs; r++) {
      if (r % 2 === 0) { await withGossip(); await discoveryOnly() } else { await discoveryOnly(); await withGossip() }
    }
    // what one received copy costs the new node: the directory checks an ad before it looks for a copy it holds
    const sample = net.peers[0].directory.fresh()[0].bytes
    const checks = 2_000
    const tc = now()
    for (let i = 0; i < checks; i++) if (!checkAd(sample, { now: Date.now(), network: NETWORK }).ok) throw new Error('ads bench: a held ad does not check')
    const checkUs = (now() - tc) / checks * 1000
    const value = median(gossipMs)
    const baseline = median(swarmMs)
    return [result(`ad convergence, new node, ${n} nodes`, n, value, 'ms', baseline,
      `a new node joins the network topic of ${n} ad peers (own DHT node, Hyperswarm, signed originator ad, AdDirectory + AdGossip each; loopback HyperDHT testnet) until it holds all ${n} ads, median of ${runs} (${gossipMs.map((x) => Math.round(x)).join(', ')} ms); by then it had checked ${checked.received} ads (${checked.stale} copies of ones it held; checkAd of one ad of ${sample.byteLength} bytes: ${Math.round(checkUs)} us); baseline a fresh swarm joining the same topic until connected to ${target} of them (Noise handshakes done, no gossip; ${swarmMs.map((x) => Math.round(x)).join(', ')} ms), ${target < n ? `which ${REACH_MS / 1000} s later had reached ${reached.join(', ')} of the ${n} peers` : 'all of them'}; network peers open at most ${DEGREE} connections each; network setup: every peer held all ads ${(setupMs / 1000).toFixed(1)} s after the first started`)]
  } finally {
    await net.close()
  }
}
