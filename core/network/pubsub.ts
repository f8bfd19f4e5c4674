/**
 * Publish/subscribe on named topics over every swarm connection, after libp2p's floodsub with
 * gossipsub's validation rules (StrictSign, a seen-cache, per-peer limits): one protomux channel
 * ("growr/pubsub/v1") per connection, sharing the connection's Protomux with replication,
 * peer-rpc and the ads gossip.
 *
 * A message, version 1 (JSON), is signed by its publisher's DID:
 *   { v: 1, topic, from, at, seq, data }  + id + signature
 *   signed bytes = "growr/pubsub/v1" 0x00 || JCS(RFC 8785) of { v, topic, from, at, seq, data }
 *   id           = BLAKE2b-256 (hex) of the signed bytes
 *   signature    = Ed25519 (hex) by `from` over the signed bytes
 * `at` is the publisher's clock (ms); `seq` grows per publisher and starts from its clock
 * (ms x 1000, as libp2p seeds its seqno) so a restarted publisher is not taken for a replayer.
 *
 * Wire (every frame is raw bytes decoded here, so a malformed frame can never make protomux
 * destroy the connection), compact-encoding:
 *   message 0, subscriptions: uint version (1), array of string topics (the sender's whole list)
 *   message 1, publication:   uint version (1), uint hops, buffer UTF-8 JSON of the message
 * `hops` is not signed: relays raise it; a relay lying about it gains nothing the seen-cache does
 * not already stop (a message is delivered and relayed once per node).
 *
 * Rules on receipt, cheapest first: the sender's token bucket (maxPerMinute), size, decoding,
 * the topic is one we subscribe to, hops, clock skew and age, id, the seen-cache (duplicates),
 * signature, then a per-(publisher, topic) anti-replay window over `seq` (a sliding window as in
 * RFC 4303 3.4.3, kept as the last REPLAY_WINDOW seqs so reordering across paths still passes).
 * A peer sending too many invalid frames is cut off (gossipsub's graylisting, reduced to a count).
 * Every drop is counted by reason (stats()); nothing received ever throws.
 */
import '../runtime/text-encoding.ts'
import ReadyResource from 'ready-resource'
import Protomux from 'protomux'
import { Attachments } from './late-channel.ts'
import c from 'compact-encoding'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import safetyCatch from 'safety-catch'
import { canonicalBytes } from '../../books/ops/envelope.ts'
import { sign, verify } from '../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'

/** Protomux protocol name of the channel. */
export const PUBSUB_PROTOCOL = 'growr/pubsub/v1'
/** Version leading every frame and every message. */
export const PUBSUB_VERSION = 1
/** Largest message (its JSON) sent or accepted, bytes (16 KiB). */
export const MAX_MESSAGE_BYTES = 16 * 1024
/** Most topics one side subscribes to (and accepts in a peer's list). */
export const MAX_TOPICS = 64
/** Longest topic name, characters. */
export const MAX_TOPIC_CHARS = 128
/** Default hop limit: a message travels at most this many links from its publisher. */
export const DEFAULT_MAX_HOPS = 4
/** Default frames accepted from one peer per minute (token bucket, burst of the same size). */
export const DEFAULT_MAX_PER_MINUTE = 600
/** How far ahead of our clock a message's `at` may be, ms. */
export const DEFAULT_MAX_SKEW_MS = 30_000
/** How old a message may be, ms. */
export const DEFAULT_MAX_AGE_MS = 300_000
/** Seqs remembered per (publisher, topic): one older than all of them is a replay. */
export const REPLAY_WINDOW = 64

const DOMAIN = b4a.from('growr/pubsub/v1\0')
const MAX_FRAME_BYTES = MAX_MESSAGE_BYTES + 64
const MAX_SUBS_FRAME_BYTES = 4 + MAX_TOPICS * (MAX_TOPIC_CHARS * 4 + 4)
const DEFAULT_MAX_SEEN = 16_384
const DEFAULT_MAX_PUBLISHERS = 4096
const DEFAULT_MAX_INVALID = 64
// printable ASCII, no spaces: topic names are identifiers ('projects', 'exposure/revoked', a hex key)
const TOPIC_RE = /^[\x21-\x7e]+$/

/** A message as delivered to subscribers (and as carried on the wire). */
export interface PubSubMessage {
  v: 1
  topic: string
  from: DidKey
  /** the publisher's clock, ms */
  at: number
  /** grows per publisher */
  seq: number
  data: unknown
  /** BLAKE2b-256 (hex) of the signed bytes */
  id: string
  /** Ed25519 (hex) by `from` */
  signature: string
}

/** Why a frame was dropped; each has a counter in stats().dropped. */
export type DropReason =
  | 'rate' // the sending peer is over its token bucket
  | 'oversized' // over MAX_MESSAGE_BYTES
  | 'malformed' // does not decode, unknown version, fields of the wrong shape, id not the content's
  | 'topic' // a topic name out of bounds
  | 'unsubscribed' // a topic we do not subscribe to (the peer had our list)
  | 'hops' // at or beyond our hop limit
  | 'future' // `at` too far ahead of our clock
  | 'stale' // `at` older than the age cap
  | 'duplicate' // already seen (normal when several paths carry it)
  | 'signature' // the signature does not hold for `from`
  | 'replay' // seq at or below the publisher's window for this topic
  | 'subscriptions' // a subscription list that does not decode or is out of bounds
  | 'graylisted' // a peer cut off after too many invalid frames

/** Counters, for tests, the UI and benchmarks. */
export interface PubSubStats {
  received: number
  delivered: number
  relayed: number
  published: number
  /** subscriber callbacks that threw (delivery to the others went on) */
  callbackErrors: number
  peers: number
  dropped: Record<DropReason, number>
}

export interface PubSubOptions {
  /** this node's DID and 64-byte Ed25519 secret key (signs what it publishes) */
  identity: { did: DidKey; secretKey: Uint8Array }
  /** clock, ms (default Date.now) */
  now?: () => number
  /** frames accepted from one peer per minute (default 600) */
  maxPerMinute?: number
  /** hop limit (default 4) */
  maxHops?: number
  /** how far ahead `at` may be, ms (default 30 s) */
  maxSkewMs?: number
  /** how old a message may be, ms (default 5 min) */
  maxAgeMs?: number
  /** ids remembered (default 16 384) */
  maxSeen?: number
  /** invalid frames from one peer before it is cut off (default 64) */
  maxInvalid?: number
}

type Checked = { ok: true; message: PubSubMessage } | { ok: false; code: DropReason; reason: string }

/** @returns whether `topic` is a valid topic name (printable ASCII without spaces, 1..MAX_TOPIC_CHARS) */
export function isTopic (topic: unknown): topic is string {
  return typeof topic === 'string' && topic.length >= 1 && topic.length <= MAX_TOPIC_CHARS && TOPIC_RE.test(topic)
}

function signedBytes (m: { topic: string; from: DidKey; at: number; seq: number; data: unknown }): Uint8Array {
  return b4a.concat([DOMAIN, canonicalBytes({ v: PUBSUB_VERSION, topic: m.topic, from: m.from, at: m.at, seq: m.seq, data: m.data })])
}

function hashHex (bytes: Uint8Array): string {
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, bytes)
  return b4a.toString(out, 'hex')
}

/**
 * Signs a message. Pure.
 * @param opts.identity the publisher's DID and 64-byte secret key
 * @param opts.topic a topic name (isTopic)
 * @param opts.data any JSON value
 * @param opts.at the publisher's clock, ms; opts.seq its sequence number (safe integers >= 0)
 * @returns the signed message, with its id
 * @throws BAD_ARGUMENT for a bad topic, at or seq, data with no JSON form, or a message over MAX_MESSAGE_BYTES
 */
export function signMessage (opts: { identity: { did: DidKey; secretKey: Uint8Array }; topic: string; data: unknown; at: number; seq: number }): PubSubMessage {
  if (!isTopic(opts.topic)) throw GrowrError.BAD_ARGUMENT(`a topic is 1..${MAX_TOPIC_CHARS} printable characters without spaces`)
  if (!Number.isSafeInteger(opts.at) || opts.at < 0 || !Number.isSafeInteger(opts.seq) || opts.seq < 0) throw GrowrError.BAD_ARGUMENT('at and seq are whole numbers')
  const m = { topic: opts.topic, from: opts.identity.did, at: opts.at, seq: opts.seq, data: opts.data }
  let bytes: Uint8Array
  try {
    bytes = signedBytes(m)
  } catch {
    // canonicalize throws a TypeError for a bigint, a cycle or a lone surrogate
    throw GrowrError.BAD_ARGUMENT('pubsub data must be JSON (no bigint, cycle or lone surrogate)')
  }
  const message: PubSubMessage = { v: 1, ...m, id: hashHex(bytes), signature: b4a.toString(sign(bytes, opts.identity.secretKey), 'hex') }
  const size = b4a.byteLength(JSON.stringify(message))
  if (size > MAX_MESSAGE_BYTES) throw GrowrError.BAD_ARGUMENT(`a message of ${size} bytes exceeds ${MAX_MESSAGE_BYTES} bytes`)
  return message
}

/**
 * Checks a message as received: size, shape, topic, clock, id and signature. Pure; never throws.
 * Stateful rules (seen-cache, replay window, rate) are the PubSub's.
 * @param json the message's JSON bytes (untrusted)
 * @param opts.now our clock, ms; maxSkewMs / maxAgeMs the accepted window around it
 * @returns the message, or a drop reason and why in plain words
 */
export function openMessage (json: Uint8Array, opts: { now: number; maxSkewMs?: number; maxAgeMs?: number }): Checked {
  try {
    if (!(json instanceof Uint8Array)) return { ok: false, code: 'malformed', reason: 'the message has no bytes' }
    if (json.byteLength > MAX_MESSAGE_BYTES) return { ok: false, code: 'oversized', reason: `the message of ${json.byteLength} bytes exceeds ${MAX_MESSAGE_BYTES} bytes` }
    let m: Partial<PubSubMessage> | null
    try {
      m = JSON.parse(b4a.toString(json, 'utf-8'))
    } catch {
      return { ok: false, code: 'malformed', reason: 'the message is not JSON' }
    }
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return { ok: false, code: 'malformed', reason: 'the message is not an object' }
    if (m.v !== PUBSUB_VERSION) return { ok: false, code: 'malformed', reason: `unknown message version ${String(m.v).slice(0, 20)}` }
    if (!isTopic(m.topic)) return { ok: false, code: 'topic', reason: 'the topic name is out of bounds' }
    if (!isDidKey(m.from)) return { ok: false, code: 'malformed', reason: 'the publisher is not a did:key' }
    if (!Number.isSafeInteger(m.at) || (m.at as number) < 0 || !Number.isSafeInteger(m.seq) || (m.seq as number) < 0) return { ok: false, code: 'malformed', reason: 'at and seq must be whole numbers' }
    if (!('data' in m) || typeof m.id !== 'string' || typeof m.signature !== 'string' || !/^[0-9a-f]{128}$/.test(m.signature)) {
      return { ok: false, code: 'malformed', reason: 'the message lacks data, id or a signature' }
    }
    const at = m.at as number
    if (at > opts.now + (opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) return { ok: false, code: 'future', reason: `the message is dated ${at - opts.now} ms ahead of our clock` }
    if (at < opts.now - (opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS)) return { ok: false, code: 'stale', reason: `the message is ${opts.now - at} ms old` }
    const message: PubSubMessage = { v: 1, topic: m.topic, from: m.from, at, seq: m.seq as number, data: m.data, id: m.id, signature: m.signature }
    const bytes = signedBytes(message)
    if (hashHex(bytes) !== message.id) return { ok: false, code: 'malformed', reason: 'the id is not the hash of the content' }
    if (!verify(bytes, b4a.from(message.signature, 'hex'), didToPublicKey(message.from))) return { ok: false, code: 'signature', reason: 'the signature does not hold for the publisher' }
    return { ok: true, message }
  } catch {
    return { ok: false, code: 'malformed', reason: 'the message could not be checked' }
  }
}

/** Frame of a publication: uint version, uint hops, buffer message JSON. */
export const publicationFrame = {
  preencode (state: c.State, f: { hops: number; json: Uint8Array }) {
    c.uint.preencode(state, PUBSUB_VERSION)
    c.uint.preencode(state, f.hops)
    c.buffer.preencode(state, f.json)
  },
  encode (state: c.State, f: { hops: number; json: Uint8Array }) {
    c.uint.encode(state, PUBSUB_VERSION)
    c.uint.encode(state, f.hops)
    c.buffer.encode(state, f.json)
  },
  decode (state: c.State): { hops: number; json: Uint8Array } {
    const v = c.uint.decode(state)
    if (v !== PUBSUB_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`pubsub frame version ${v}`)
    const hops = c.uint.decode(state)
    const json = c.buffer.decode(state)
    if (!json) throw GrowrError.BAD_ARGUMENT('no message')
    return { hops, json }
  }
}

/** Frame of a subscription list: uint version, array of strings. */
export const subscriptionsFrame = {
  preencode (state: c.State, topics: string[]) {
    c.uint.preencode(state, PUBSUB_VERSION)
    c.array(c.string).preencode(state, topics)
  },
  encode (state: c.State, topics: string[]) {
    c.uint.encode(state, PUBSUB_VERSION)
    c.array(c.string).encode(state, topics)
  },
  decode (state: c.State): string[] {
    const v = c.uint.decode(state)
    if (v !== PUBSUB_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`pubsub frame version ${v}`)
    return c.array(c.string).decode(state)
  }
}

// the part of protomux's API used here (types/protomux.d.ts declares only `from`)
interface MuxMessage { send (value: Uint8Array): boolean }
interface MuxChannel { addMessage (opts: { encoding: unknown; onmessage: (value: Uint8Array) => void }): MuxMessage; open (handshake?: unknown): void; close (): void }
interface Mux { createChannel (opts: { protocol: string; onopen?: () => void; onclose?: () => void }): MuxChannel | null }

/** A connection's rate budget and invalid-frame count: kept per connection, so reopening the channel resets nothing. */
interface Budget { tokens: number; refilled: number; invalid: number; graylisted: boolean }

interface Channel {
  open: boolean
  topics: Set<string>
  budget: Budget
  sendSubs (bytes: Uint8Array): void
  sendMessage (bytes: Uint8Array): boolean
  close (): void
}

/** The last REPLAY_WINDOW seqs of one publisher on one topic, ascending; `floor` is the highest forgotten. */
interface ReplayWindow { floor: number; seqs: number[] }

/**
 * Publish/subscribe over the attached connections (see the module comment for the protocol).
 * Events: 'message' (PubSubMessage) for each delivery, 'dropped' (reason: DropReason, why: string),
 * 'subscriptions' (count) when a peer's subscription list arrives.
 * Owns its channels, never the connections or the swarm.
 */
export class PubSub extends ReadyResource {
  readonly did: DidKey
  private readonly secretKey: Uint8Array
  private readonly now: () => number
  private readonly maxPerMinute: number
  private readonly maxHops: number
  private readonly maxSkewMs: number
  private readonly maxAgeMs: number
  private readonly maxSeen: number
  private readonly maxInvalid: number
  private readonly subscribers = new Map<string, Set<(msg: PubSubMessage) => void>>()
  private readonly channels = new Set<Channel>()
  private readonly attachments: Attachments
  private readonly budgets = new WeakMap<object, Budget>()
  /** id -> when we may forget it, ms; insertion order is age order */
  private readonly seen = new Map<string, number>()
  /** `${from} ${topic}` -> its window; insertion order is recency */
  private readonly windows = new Map<string, ReplayWindow>()
  private lastSeq = 0
  private readonly counters: Omit<PubSubStats, 'peers' | 'dropped'> = { received: 0, delivered: 0, relayed: 0, published: 0, callbackErrors: 0 }
  private readonly drops: Record<DropReason, number> = {
    rate: 0, oversized: 0, malformed: 0, topic: 0, unsubscribed: 0, hops: 0, future: 0, stale: 0, duplicate: 0, signature: 0, replay: 0, subscriptions: 0, graylisted: 0
  }

  /**
   * @param opts see PubSubOptions
   * @throws BAD_ARGUMENT when the identity is not a did:key, or a limit is not a positive whole number
   */
  constructor (opts: PubSubOptions) {
    super()
    if (!isDidKey(opts.identity?.did)) throw GrowrError.BAD_ARGUMENT('PubSub needs a did:key identity')
    this.did = opts.identity.did
    this.secretKey = opts.identity.secretKey
    this.now = opts.now ?? Date.now
    // a peer whose pubsub starts later opens the channel then: answer it
    this.attachments = new Attachments({ protocol: PUBSUB_PROTOCOL }, (c) => this.openChannel(c), this.now)
    this.maxPerMinute = positive(opts.maxPerMinute ?? DEFAULT_MAX_PER_MINUTE, 'maxPerMinute')
    this.maxHops = positive(opts.maxHops ?? DEFAULT_MAX_HOPS, 'maxHops')
    this.maxSkewMs = positive(opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS, 'maxSkewMs')
    this.maxAgeMs = positive(opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS, 'maxAgeMs')
    this.maxSeen = positive(opts.maxSeen ?? DEFAULT_MAX_SEEN, 'maxSeen')
    this.maxInvalid = positive(opts.maxInvalid ?? DEFAULT_MAX_INVALID, 'maxInvalid')
  }

  protected async _open (): Promise<void> {}

  protected async _close (): Promise<void> {
    this.attachments.close()
    for (const ch of [...this.channels]) ch.close()
    this.channels.clear()
    this.subscribers.clear()
  }

  /**
   * Opens the pubsub channel on a swarm connection; call it for every connection. Shares the
   * connection's Protomux (Protomux.from) with replication and peer-rpc. Idempotent per
   * connection; never throws.
   * @param conn a Hyperswarm connection (NoiseSecretStream)
   */
  attach (conn: unknown): void {
    if (this.closing) return
    this.attachments.attach(conn)
  }

  /**
   * Calls `fn` with every message on `topic` that reaches this node (not our own). A callback
   * that throws is counted and does not stop delivery to the others.
   * @returns a function that ends this subscription (idempotent)
   * @throws BAD_ARGUMENT for a bad topic name, or a new topic beyond MAX_TOPICS
   */
  subscribe (topic: string, fn: (msg: PubSubMessage) => void): () => void {
    if (!isTopic(topic)) throw GrowrError.BAD_ARGUMENT(`a topic is 1..${MAX_TOPIC_CHARS} printable characters without spaces`)
    if (typeof fn !== 'function') throw GrowrError.BAD_ARGUMENT('subscribe needs a callback')
    let set = this.subscribers.get(topic)
    if (!set) {
      if (this.subscribers.size >= MAX_TOPICS) throw GrowrError.BAD_ARGUMENT(`at most ${MAX_TOPICS} topics`)
      set = new Set()
      this.subscribers.set(topic, set)
      this.announce()
    }
    // one entry per subscription, even for the same function twice
    const entry = (msg: PubSubMessage) => fn(msg)
    set.add(entry)
    let done = false
    return () => {
      if (done) return
      done = true
      const s = this.subscribers.get(topic)
      if (!s) return
      s.delete(entry)
      if (s.size === 0) {
        this.subscribers.delete(topic)
        this.announce()
      }
    }
  }

  /**
   * Signs `data` on `topic` and sends it to every connected peer subscribed to it.
   * @param data any JSON value; the message stays within MAX_MESSAGE_BYTES
   * @returns the message id and how many peers it was sent to
   * @throws BAD_ARGUMENT for a bad topic or data (see signMessage); NOT_FOUND once closed
   */
  async publish (topic: string, data: unknown): Promise<{ id: string; sentTo: number }> {
    await this.ready()
    if (this.closing) throw GrowrError.NOT_FOUND('pubsub is closed')
    const at = this.now()
    const seq = Math.max(this.lastSeq + 1, at * 1000)
    const message = signMessage({ identity: { did: this.did, secretKey: this.secretKey }, topic, data, at, seq })
    this.lastSeq = seq
    this.remember(message.id)
    this.counters.published++
    const sentTo = this.forward(message, 0, null)
    return { id: message.id, sentTo }
  }

  /** Our topics, each with how many connected peers subscribe to it. */
  topics (): Array<{ topic: string; peers: number }> {
    return [...this.subscribers.keys()].sort().map((topic) => ({ topic, peers: this.peersOn(topic) }))
  }

  /** How many open channels have a peer subscribed to `topic`. */
  peersOn (topic: string): number {
    let n = 0
    for (const ch of this.channels) if (ch.open && ch.topics.has(topic)) n++
    return n
  }

  /** Counters (a copy). */
  stats (): PubSubStats {
    let peers = 0
    for (const ch of this.channels) if (ch.open) peers++
    return { ...this.counters, peers, dropped: { ...this.drops } }
  }

  private openChannel (conn: object): void {
    let budget = this.budgets.get(conn)
    if (!budget) this.budgets.set(conn, budget = { tokens: this.maxPerMinute, refilled: this.now(), invalid: 0, graylisted: false })
    // a peer cut off stays cut off on this connection, however often it reopens the channel
    if (budget.graylisted) return
    const mux = Protomux.from(conn) as unknown as Mux
    const state: Channel = {
      open: false,
      topics: new Set(),
      budget,
      sendSubs: () => {},
      sendMessage: () => false,
      close: () => {}
    }
    const channel = mux.createChannel({
      protocol: PUBSUB_PROTOCOL,
      // protomux destroys the whole stream when onopen throws: nothing here may
      onopen: () => {
        state.open = true
        this.channels.add(state)
        try { state.sendSubs(this.subscriptionBytes()) } catch (err) { safetyCatch(err) }
      },
      onclose: () => {
        state.open = false
        this.channels.delete(state)
      }
    })
    if (!channel) return // already open on this connection, or the stream is gone
    // c.raw: the bytes are decoded here, where a bad frame costs a counter, not the connection
    const subs = channel.addMessage({ encoding: c.raw, onmessage: (bytes) => this.onSubscriptions(state, bytes) })
    const pubs = channel.addMessage({ encoding: c.raw, onmessage: (bytes) => this.onPublication(state, bytes) })
    state.sendSubs = (bytes) => { subs.send(bytes) }
    state.sendMessage = (bytes) => pubs.send(bytes)
    state.close = () => channel.close()
    channel.open()
  }

  private subscriptionBytes (): Uint8Array {
    return c.encode(subscriptionsFrame, [...this.subscribers.keys()].sort())
  }

  private announce (): void {
    if (this.closing) return
    const bytes = this.subscriptionBytes()
    for (const ch of this.channels) if (ch.open) ch.sendSubs(bytes)
  }

  /** Takes one token from the peer's bucket; false when it is empty. */
  private take (ch: Channel): boolean {
    const b = ch.budget
    const now = this.now()
    const elapsed = Math.max(0, now - b.refilled)
    b.refilled = now
    b.tokens = Math.min(this.maxPerMinute, b.tokens + elapsed * this.maxPerMinute / 60_000)
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  private drop (ch: Channel | null, reason: DropReason, why: string, invalid: boolean): void {
    this.drops[reason]++
    this.tell(reason, why)
    if (!invalid || !ch) return
    if (++ch.budget.invalid === this.maxInvalid) {
      ch.budget.graylisted = true
      this.drops.graylisted++
      this.tell('graylisted', `a peer sent ${ch.budget.invalid} invalid frames and was cut off`)
      ch.close()
    }
  }

  private tell (reason: DropReason, why: string): void {
    try { this.emit('dropped', reason, why) } catch { this.counters.callbackErrors++ }
  }

  private onSubscriptions (ch: Channel, bytes: Uint8Array): void {
    try {
      if (!this.take(ch)) return this.drop(ch, 'rate', 'the peer is over its rate', false)
      if (!(bytes instanceof Uint8Array) || bytes.byteLength > MAX_SUBS_FRAME_BYTES) return this.drop(ch, 'subscriptions', 'a subscription list too large', true)
      let topics: string[]
      try {
        topics = c.decode(subscriptionsFrame, bytes)
      } catch {
        return this.drop(ch, 'subscriptions', 'a subscription list that does not decode', true)
      }
      if (topics.length > MAX_TOPICS || !topics.every(isTopic)) return this.drop(ch, 'subscriptions', `a subscription list over ${MAX_TOPICS} topics or with a bad name`, true)
      ch.topics = new Set(topics)
      try { this.emit('subscriptions', ch.topics.size) } catch { this.counters.callbackErrors++ }
    } catch {
      // a bug here must not reach protomux, which would destroy the connection (and replication)
      this.drops.malformed++
    }
  }

  private onPublication (ch: Channel, bytes: Uint8Array): void {
    try {
      this.receive(ch, bytes)
    } catch {
      this.drops.malformed++ // as above: never into protomux
    }
  }

  private receive (ch: Channel, bytes: Uint8Array): void {
    this.counters.received++
    if (!this.take(ch)) return this.drop(ch, 'rate', 'the peer is over its rate', false)
    if (!(bytes instanceof Uint8Array)) return this.drop(ch, 'malformed', 'no frame', true)
    if (bytes.byteLength > MAX_FRAME_BYTES) return this.drop(ch, 'oversized', `a frame of ${bytes.byteLength} bytes`, true)
    let frame: { hops: number; json: Uint8Array }
    try {
      frame = c.decode(publicationFrame, bytes)
    } catch {
      return this.drop(ch, 'malformed', 'a frame that does not decode', true)
    }
    if (frame.hops >= this.maxHops) return this.drop(ch, 'hops', `a message ${frame.hops} hops away`, false)
    const checked = openMessage(frame.json, { now: this.now(), maxSkewMs: this.maxSkewMs, maxAgeMs: this.maxAgeMs })
    if (!checked.ok) // a clock off by more than the skew is a fault, not an attack: counted, not held against the peer
    if (!checked.ok) return this.drop(ch, checked.code, checked.reason, checked.code !== 'stale' && checked.code !== 'future')
    const m = checked.message
    // the peer had our list; it may still be racing an unsubscribe, so not counted as invalid
    if (!this.subscribers.has(m.topic)) return this.drop(ch, 'unsubscribed', `a message on ${m.topic}, which we do not follow`, false)
    if (this.seen.has(m.id)) return this.drop(ch, 'duplicate', 'a message already seen', false)
    if (m.from === this.did) {
      // our own message coming back after we forgot it
      this.remember(m.id)
      return this.drop(ch, 'replay', 'our own message', false)
    }
    if (!this.admit(m)) return this.drop(ch, 'replay', `seq ${m.seq} of ${m.from} on ${m.topic} is at or below its window`, false)
    this.remember(m.id)
    if (frame.hops + 1 < this.maxHops) this.counters.relayed += this.forward(m, frame.hops + 1, ch)
    this.deliver(m)
  }

  /** The anti-replay window: true (and the seq recorded) when `m.seq` is new for its publisher and topic. */
  private admit (m: PubSubMessage): boolean {
    const key = `${m.from} ${m.topic}`
    let w = this.windows.get(key)
    if (w) this.windows.delete(key)
    else w = { floor: -1, seqs: [] }
    this.windows.set(key, w) // most recent last
    if (this.windows.size > DEFAULT_MAX_PUBLISHERS) this.windows.delete(this.windows.keys().next().value as string)
    if (m.seq <= w.floor) return false
    let i = w.seqs.length
    while (i > 0 && w.seqs[i - 1] > m.seq) i--
    if (i > 0 && w.seqs[i - 1] === m.seq) return false
    w.seqs.splice(i, 0, m.seq)
    if (w.seqs.length > REPLAY_WINDOW) w.floor = w.seqs.shift() as number
    return true
  }

  private remember (id: string): void {
    const now = this.now()
    // forget what is older than any message we would still accept
    for (const [old, until] of this.seen) {
      if (until > now && this.seen.size < this.maxSeen) break
      this.seen.delete(old)
    }
    this.seen.set(id, now + this.maxAgeMs + this.maxSkewMs)
  }

  private forward (m: PubSubMessage, hops: number, except: Channel | null): number {
    if (this.closing) return 0
    const bytes = c.encode(publicationFrame, { hops, json: b4a.from(JSON.stringify(m)) })
    let sent = 0
    for (const ch of this.channels) {
      if (ch === except || !ch.open || !ch.topics.has(m.topic)) continue
      if (ch.sendMessage(bytes) !== false) sent++
    }
    return sent
  }

  private deliver (m: PubSubMessage): void {
    const set = this.subscribers.get(m.topic)
    if (!set) return
    this.counters.delivered++
    for (const fn of [...set]) {
      try {
        fn(m)
      } catch {
        // not safetyCatch: it rethrows TypeErrors, and one subscriber's bug must not cost the others
        this.counters.callbackErrors++
      }
    }
    try { this.emit('message', m) } catch { this.counters.callbackErrors++ }
  }
}

function positive (n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw GrowrError.BAD_ARGUMENT(`${name} must be a positive whole number`)
  return n
}
