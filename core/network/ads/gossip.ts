/**
 * Gossip of advertisements: one protomux channel ("growr/ads/v1", id: the network's topic) on
 * every swarm connection, sharing the connection's Protomux with replication and peer-rpc.
 *
 * Wire: one message type, `c.buffer` holding one encoded ad (advertisement.ts). No handshake:
 * an ad proves itself by its signature, whoever relays it.
 * - when the channel opens, each side sends every fresh ad of its directory;
 * - an ad that the directory stores as new or updated is forwarded to every other channel;
 *   a stale, refused or over-limit one goes no further, so a forger or flooder reaches one hop.
 * - each peer may hand us at most `maxPerMinute` ads per minute (fixed window, our clock);
 *   the rest are dropped unread: a flooding peer costs a counter increment per message.
 */
import ReadyResource from 'ready-resource'
import Protomux from 'protomux'
import c from 'compact-encoding'
import safetyCatch from 'safety-catch'
import type { AdDirectory, AddResult } from './directory.ts'
import type { SecretStream } from '../peer-rpc.ts'
import { Attachments } from '../late-channel.ts'

/** Protomux protocol name of the channel. */
export const ADS_PROTOCOL = 'growr/ads/v1'
/** Default ads accepted from one peer per minute. */
export const DEFAULT_MAX_PER_MINUTE = 500

// the part of protomux's API used here (types/protomux.d.ts declares only `from`)
interface MuxMessage { send (value: Uint8Array): boolean }
interface MuxChannel { addMessage (opts: { encoding: unknown; onmessage: (value: Uint8Array | null) => void }): MuxMessage; open (handshake?: unknown): void; close (): void }
interface Mux { createChannel (opts: { protocol: string; id?: Uint8Array | null; onopen?: () => void; onclose?: () => void }): MuxChannel | null }

interface Channel {
  send (bytes: Uint8Array): void
  close (): void
  window: number
  count: number
}

/** Counters, for tests and the benchmark. */
export interface GossipStats { received: number; stored: number; stale: number; refused: number; dropped: number; sent: number }

export interface GossipOptions {
  directory: AdDirectory
  /**
   * the network's topic, the channel's protomux id: nodes on two networks never pair their
   * channels, and a node that moves to another network opens a new channel beside the closing one
   */
  network?: Uint8Array
  /** ads accepted from one peer per minute (default 500) */
  maxPerMinute?: number
  /** clock for the rate windows, ms (default Date.now) */
  now?: () => number
}

/**
 * Exchanges ads with every attached connection. Events: 'stored' (AddResult) for an ad a peer
 * sent that the directory stored, 'refused' (reason) for one it refused.
 * Owns its channels, never the connections or the swarm.
 */
export class AdGossip extends ReadyResource {
  readonly directory: AdDirectory
  readonly stats: GossipStats = { received: 0, stored: 0, stale: 0, refused: 0, dropped: 0, sent: 0 }
  private readonly maxPerMinute: number
  private readonly now: () => number
  private readonly channels = new Set<Channel>()
  private readonly attachments: Attachments
  private readonly id: Uint8Array | null

  /** @param opts see GossipOptions */
  constructor (opts: GossipOptions) {
    super()
    this.directory = opts.directory
    this.id = opts.network ?? null
    this.maxPerMinute = opts.maxPerMinute ?? DEFAULT_MAX_PER_MINUTE
    this.now = opts.now ?? Date.now
    // a peer whose ads start later (or move to our network later) opens the channel then
    this.attachments = new Attachments({ protocol: ADS_PROTOCOL, id: this.id }, (c) => this.openChannel(c as SecretStream), this.now)
  }

  protected async _open (): Promise<void> {}

  protected async _close (): Promise<void> {
    this.attachments.close()
    for (const ch of [...this.channels]) ch.close()
    this.channels.clear()
  }

  /** Number of open channels. */
  get peers (): number { return this.channels.size }

  /**
   * Opens the ads channel on a connection; call it for every connection. Idempotent; never throws.
   * @param conn a Hyperswarm connection (NoiseSecretStream)
   */
  attach (conn: SecretStream): void {
    if (this.closing) return
    this.attachments.attach(conn)
  }

  /**
   * Stores an ad made here (our own; certification is for others to require) and pushes it to every peer.
   * @param bytes the encoded ad
   * @returns what the directory did with it
   */
  async publish (bytes: Uint8Array): Promise<AddResult> {
    const res = await this.directory.add(bytes, { own: true })
    if (res.ok) this.forward(res.entry.bytes, null)
    return res
  }

  private openChannel (conn: SecretStream): void {
    const mux = Protomux.from(conn) as unknown as Mux
    const state: Channel = { send: () => {}, close: () => {}, window: 0, count: 0 }
    const channel = mux.createChannel({
      protocol: ADS_PROTOCOL,
      id: this.id,
      // protomux destroys the whole stream when onopen throws: nothing here may
      onopen: () => {
        this.channels.add(state)
        try {
          for (const e of this.directory.fresh()) state.send(e.bytes)
        } catch (err) { safetyCatch(err) }
      },
      onclose: () => { this.channels.delete(state) }
    })
    if (!channel) return // already open on this connection, or the stream is gone
    const message = channel.addMessage({
      encoding: c.buffer,
      onmessage: (bytes: Uint8Array | null) => { this.receive(state, bytes).catch(safetyCatch) }
    })
    state.send = (bytes) => { if (message.send(bytes)) this.stats.sent++ }
    state.close = () => channel.close()
    channel.open()
  }

  private async receive (from: Channel, bytes: Uint8Array | null): Promise<void> {
    this.stats.received++
    const now = this.now()
    if (now - from.window >= 60_000) { from.window = now; from.count = 0 }
    if (++from.count > this.maxPerMinute) { this.stats.dropped++; return }
    const res = await this.directory.add(bytes)
    if (res.ok) {
      this.stats.stored++
      this.emit('stored', res)
      this.forward(res.entry.bytes, from)
    } else if (res.status === 'stale') {
      this.stats.stale++
    } else {
      this.stats.refused++
      this.emit('refused', res.reason)
    }
  }

  private forward (bytes: Uint8Array, except: Channel | null): void {
    if (this.closing) return
    for (const ch of this.channels) if (ch !== except) ch.send(bytes)
  }
}
