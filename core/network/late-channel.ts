/**
 * Channels that open whichever side comes first. Protomux pairs a channel only when both sides
 * have created it by the time the remote's open arrives; otherwise the open is rejected. A
 * service that starts after a connection exists (or moves to another network, or reopens its
 * channel) would then never talk to that peer: its open is rejected now, and the peer's later
 * open finds nothing on our side. Registering a pair handler answers a remote open by creating
 * our channel then, within a budget per connection so a peer opening and closing in a loop costs
 * little.
 */
import Protomux from 'protomux'
import safetyCatch from 'safety-catch'

/** Opens a remote may make us answer per connection and minute. */
export const REOPENS_PER_MINUTE = 10

interface Pairing {
  pair (opts: { protocol: string; id?: Uint8Array | null }, notify: () => void): void
  unpair (opts: { protocol: string; id?: Uint8Array | null }): void
}

/**
 * Answers the remote's opens of `protocol`/`id` on `conn` by calling `open(conn)`, until the
 * returned function is called or the connection closes. Never throws.
 * @param conn a Hyperswarm connection (NoiseSecretStream)
 * @param channel the protomux protocol name and id (null: none)
 * @param open creates and opens our channel on `conn` (it must tolerate one already open)
 * @param clock ms, for the budget (default Date.now)
 * @returns unpair: stop answering on this connection
 */
export function answerOpens (conn: object, channel: { protocol: string; id?: Uint8Array | null }, open: (conn: object) => void, clock: () => number = Date.now): () => void {
  let mux: Pairing
  try {
    mux = Protomux.from(conn as never) as unknown as Pairing
  } catch (err) {
    safetyCatch(err)
    return () => {}
  }
  const key = { protocol: channel.protocol, id: channel.id ?? null }
  let window = 0
  let count = 0
  mux.pair(key, () => {
    const now = clock()
    if (now - window >= 60_000) { window = now; count = 0 }
    if (++count > REOPENS_PER_MINUTE) return
    try { open(conn) } catch (err) { safetyCatch(err) }
  })
  let done = false
  const unpair = () => {
    if (done) return
    done = true
    try { mux.unpair(key) } catch (err) { safetyCatch(err) }
  }
  ;(conn as { once?: (e: string, f: () => void) => void }).once?.('close', unpair)
  return unpair
}

/**
 * The connections a channel service is attached to: each is attached once, its remote opens are
 * answered (answerOpens) and our channel is opened now; close() stops answering on all of them.
 */
export class Attachments {
  private readonly seen = new WeakSet<object>()
  private readonly unpairs = new Set<() => void>()
  private readonly channel: { protocol: string; id?: Uint8Array | null }
  private readonly open: (conn: object) => void
  private readonly clock: () => number

  /**
   * @param channel the protomux protocol name and id
   * @param open creates and opens our channel on a connection (tolerating one already open)
   * @param clock ms, for answerOpens' budget
   */
  constructor (channel: { protocol: string; id?: Uint8Array | null }, open: (conn: object) => void, clock: () => number = Date.now) {
    this.channel = channel
    this.open = open
    this.clock = clock
  }

  /** Attaches `conn` once: answers its remote opens and opens our channel. Never throws. */
  attach (conn: unknown): void {
    if (conn === null || typeof conn !== 'object' || this.seen.has(conn)) return
    this.seen.add(conn)
    const unpair = answerOpens(conn, this.channel, this.open, this.clock)
    this.unpairs.add(unpair)
    ;(conn as { once?: (e: string, f: () => void) => void }).once?.('close', () => this.unpairs.delete(unpair))
    try { this.open(conn) } catch (err) { safetyCatch(err) } // a dying stream: nothing to talk over
  }

  /** Stops answering remote opens on every attached connection. */
  close (): void {
    for (const unpair of [...this.unpairs]) unpair()
    this.unpairs.clear()
  }
}
