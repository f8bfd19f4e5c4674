/**
 * Request/response between Growr peers: one protomux-rpc channel ("growr/rpc/v1") on every
 * Hyperswarm connection, sharing the connection's Protomux with Corestore replication.
 *
 * Hello (the channel handshake), compact-encoding, version 2:
 *   uint version (2), string did, fixed64 signature, buffer chain
 *   chain     = the sender's certificate chain (core/governance/chain.ts) as UTF-8 JSON, a list
 *               root first; empty bytes when it has none; at most MAX_HELLO_CHAIN_BYTES
 *   signature = Ed25519 by the DID's key over
 *     "growr/rpc-hello/v2" 0x00 || Noise handshake hash || signer's Noise static public key
 *       || BLAKE2b-256(chain bytes)
 * Both ends share the handshake hash, so a hello proves control of the DID on this very
 * connection and cannot be replayed onto another one; the signer's transport key stops a peer
 * from reflecting our own hello back at us; the chain hash stops a relay from swapping the chain
 * of a genuine hello. The signature says only "this DID presents this chain": whether the chain
 * certifies that DID is the verifier's question (core/services/services.ts peerCertification).
 * A hello that does not hold closes the channel (never the connection: replication goes on).
 *
 * A node whose chain changes while it runs says hello again on every open connection
 * ({@link PeerRpc.rehello}): it closes its channel and opens a new one with a new hello; the
 * other side, paired on the protocol, answers with a new hello of its own. A peer may do that at
 * most REHELLO_PER_MINUTE times a minute per connection; further reopenings go unanswered.
 *
 * Version 1 (no chain) is refused with UNSUPPORTED_VERSION: no peer running it was ever
 * deployed, and accepting it would leave two ways to say "no chain".
 *
 * Values are UTF-8 JSON. A request body is at most MAX_REQUEST_BYTES; every answer is an
 * envelope `{ value }` or `{ error: { code, message } }` of at most MAX_RESPONSE_BYTES, so a
 * GrowrError thrown by a handler reaches the caller with its code.
 */
import ReadyResource from 'ready-resource'
import ProtomuxRPC from 'protomux-rpc'
import Protomux from 'protomux'
import c from 'compact-encoding'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import safetyCatch from 'safety-catch'
import type Hyperswarm from 'hyperswarm'
import type { PeerDiscovery } from 'hyperswarm'
import { sign, verify } from '../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../identity/did-key.ts'
import { GrowrError, type GrowrErrorCode } from '../errors.ts'
import { didTopic } from './did-topic.ts'

/** Protomux protocol name of the channel. */
export const RPC_PROTOCOL = 'growr/rpc/v1'
/** Largest request body accepted, in bytes (256 KiB). */
export const MAX_REQUEST_BYTES = 256 * 1024
/** Largest answer envelope sent or accepted, in bytes (1 MiB). */
export const MAX_RESPONSE_BYTES = 1024 * 1024
/** Version number leading every hello; another version is refused with UNSUPPORTED_VERSION. */
export const HELLO_VERSION = 2
/** Largest certificate chain a hello may carry, in bytes of JSON (64 KiB). */
export const MAX_HELLO_CHAIN_BYTES = 64 * 1024

/** How often a peer may open the rpc channel again on one connection (a new hello), per minute. */
export const REHELLO_PER_MINUTE = 10

const HELLO_DOMAIN = b4a.from('growr/rpc-hello/v2\0')
const EMPTY = b4a.alloc(0)
const DEFAULT_TIMEOUT_MS = 30_000
const MAX_METHOD_CHARS = 128
const MAX_ERROR_MESSAGE_CHARS = 1000

// Codes a remote may hand us: those GrowrError has a static factory for (every code has one,
// so new codes pass without touching this file); anything else becomes OP_REJECTED, so a peer
// cannot invent codes.
const WIRE_CODES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(GrowrError)
  .filter((name) => /^[A-Z][A-Z_]*$/.test(name) && typeof (GrowrError as unknown as Record<string, unknown>)[name] === 'function'))

/** The part of a Hyperswarm connection (a NoiseSecretStream) this module relies on. */
export interface SecretStream {
  /** same 64 bytes on both ends once the Noise handshake is done, null before */
  handshakeHash: Uint8Array | null
  /** our Noise static public key on this connection */
  publicKey: Uint8Array | null
  /** the peer's Noise static public key */
  remotePublicKey: Uint8Array | null
  /** resolves true once the handshake is done, false if the stream died first */
  opened: Promise<boolean>
}

/** A request handler: gets the decoded JSON request and the caller's authenticated DID. */
export type Handler = (req: unknown, from: DidKey) => Promise<unknown>

/** A hello as it travels (version 2). `chain` is the raw JSON bytes the signature covers. */
export interface Hello { did: string; signature: Uint8Array; chain: Uint8Array }

const helloEncoding = {
  preencode (state: c.State, m: Hello) {
    c.uint.preencode(state, HELLO_VERSION)
    c.string.preencode(state, m.did)
    c.fixed64.preencode(state, m.signature)
    c.buffer.preencode(state, m.chain)
  },
  encode (state: c.State, m: Hello) {
    c.uint.encode(state, HELLO_VERSION)
    c.string.encode(state, m.did)
    c.fixed64.encode(state, m.signature)
    c.buffer.encode(state, m.chain)
  },
  decode (state: c.State): Hello {
    const v = c.uint.decode(state)
    if (v === 1) throw GrowrError.UNSUPPORTED_VERSION('rpc hello version 1 (without a certificate chain) is no longer accepted; this node speaks version 2')
    if (v !== HELLO_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`rpc hello version ${v}`)
    const did = c.string.decode(state)
    const signature = c.fixed64.decode(state)
    const chain = c.buffer.decode(state) ?? EMPTY
    if (state.start !== state.end) throw GrowrError.BAD_ARGUMENT('rpc hello has trailing bytes')
    return { did, signature, chain }
  }
}

/**
 * Encodes a hello as it travels. Exported for tests that build hostile hellos (a chain swapped
 * after signing); honest code calls {@link makeHello}.
 * @param hello did, 64-byte signature, chain bytes
 * @returns the encoded bytes (no check of the signature or the chain's size)
 */
export function encodeHello (hello: Hello): Uint8Array {
  return c.encode(helloEncoding, hello)
}

/**
 * Decodes a hello without checking its signature (see {@link openHello} for that).
 * @param bytes the raw handshake bytes
 * @returns the hello's fields
 * @throws UNSUPPORTED_VERSION for another version; a compact-encoding error when truncated
 */
export function decodeHello (bytes: Uint8Array): Hello {
  return c.decode(helloEncoding, bytes)
}

/** The JSON bytes of a chain as a hello carries it: empty for no chain (absent or []). */
export function encodeHelloChain (chain: readonly unknown[] | null | undefined): Uint8Array {
  if (chain === null || chain === undefined) return EMPTY
  if (!Array.isArray(chain)) throw GrowrError.BAD_ARGUMENT('a certificate chain is a list of certificates, root first')
  if (chain.length === 0) return EMPTY
  let text: string | undefined
  try {
    text = JSON.stringify(chain)
  } catch {
    throw GrowrError.BAD_ARGUMENT('the certificate chain is not JSON-serialisable')
  }
  return b4a.from(text as string)
}

/**
 * The bytes a version 2 hello signs (see the module comment). Exported for tests that sign
 * hostile hellos by hand (an oversized chain); honest code calls {@link makeHello}.
 * @param handshakeHash the connection's 64-byte Noise handshake hash
 * @param signerTransportKey the signer's Noise static public key on that connection
 * @param chain the chain bytes exactly as carried
 */
export function helloMessage (handshakeHash: Uint8Array, signerTransportKey: Uint8Array, chain: Uint8Array): Uint8Array {
  const chainHash = b4a.alloc(32)
  sodium.crypto_generichash(chainHash, chain)
  return b4a.concat([HELLO_DOMAIN, handshakeHash, signerTransportKey, chainHash])
}

/**
 * The hello this side sends on `conn`: "DID `did` speaks on this connection and presents this
 * certificate chain". Exported so tests can build hellos by hand (forged ones included).
 *
 * @param did the DID claimed
 * @param secretKey 64-byte Ed25519 secret key that signs the claim
 * @param conn the connection, with its handshake done (handshakeHash and publicKey set)
 * @param chain the sender's certificate chain, root first (JSON values); none or [] for no chain
 * @returns the encoded hello bytes
 * @throws BAD_ARGUMENT when the connection has no handshake hash or public key yet, or the chain
 *   is not a JSON list or encodes to more than MAX_HELLO_CHAIN_BYTES
 */
export function makeHello (did: string, secretKey: Uint8Array, conn: Pick<SecretStream, 'handshakeHash' | 'publicKey'>, chain: readonly unknown[] = []): Uint8Array {
  if (!conn.handshakeHash || !conn.publicKey) throw GrowrError.BAD_ARGUMENT('connection handshake is not done')
  const bytes = encodeHelloChain(chain)
  if (bytes.byteLength > MAX_HELLO_CHAIN_BYTES) throw GrowrError.BAD_ARGUMENT(`the certificate chain is ${bytes.byteLength} bytes; a hello carries at most ${MAX_HELLO_CHAIN_BYTES}`)
  return encodeHello({ did, signature: sign(helloMessage(conn.handshakeHash, conn.publicKey, bytes), secretKey), chain: bytes })
}

/**
 * Checks a peer's hello on `conn`. Checks run cheapest first: size, then the signature, and only
 * a signed chain is parsed.
 *
 * @param bytes the raw handshake bytes the peer sent (untrusted)
 * @param conn the connection it arrived on
 * @returns the DID it proves and the chain it presents (parsed JSON list, root first; [] for
 *   none). The chain is NOT verified here: it is only what that DID chose to present.
 * @throws BAD_ARGUMENT when it does not decode, names no did:key, carries a chain over
 *   MAX_HELLO_CHAIN_BYTES or one that is not a JSON list, or its signature does not hold for this
 *   connection's handshake hash, the peer's transport key and the chain bytes;
 *   UNSUPPORTED_VERSION for another hello version (version 1 included)
 */
export function openHello (bytes: unknown, conn: Pick<SecretStream, 'handshakeHash' | 'remotePublicKey'>): { did: DidKey; chain: unknown[] } {
  if (!(bytes instanceof Uint8Array) || !conn.handshakeHash || !conn.remotePublicKey) throw GrowrError.BAD_ARGUMENT('no rpc hello')
  let hello: Hello
  try {
    hello = decodeHello(bytes)
  } catch (err) {
    if (err instanceof GrowrError) throw err
    throw GrowrError.BAD_ARGUMENT('rpc hello does not decode')
  }
  if (!isDidKey(hello.did)) throw GrowrError.BAD_ARGUMENT('rpc hello names no did:key')
  if (hello.chain.byteLength > MAX_HELLO_CHAIN_BYTES) {
    throw GrowrError.BAD_ARGUMENT(`rpc hello carries a certificate chain of ${hello.chain.byteLength} bytes; at most ${MAX_HELLO_CHAIN_BYTES} are accepted`)
  }
  if (!verify(helloMessage(conn.handshakeHash, conn.remotePublicKey, hello.chain), hello.signature, didToPublicKey(hello.did))) {
    throw GrowrError.BAD_ARGUMENT('rpc hello signature does not hold for this connection and this certificate chain')
  }
  if (hello.chain.byteLength === 0) return { did: hello.did, chain: [] }
  let chain: unknown
  try {
    chain = JSON.parse(b4a.toString(hello.chain, 'utf-8'))
  } catch {
    throw GrowrError.BAD_ARGUMENT('rpc hello carries a certificate chain that is not JSON')
  }
  if (!Array.isArray(chain)) throw GrowrError.BAD_ARGUMENT('rpc hello carries a certificate chain that is not a list')
  return { did: hello.did, chain }
}

interface Channel { rpc: ProtomuxRPC; conn: SecretStream; did: DidKey | null; chain: unknown[] }
interface Pairing { pair (opts: { protocol: string }, notify: () => void): void; unpair (opts: { protocol: string }): void }

/**
 * Authenticated request/response with the peers of a Hyperswarm, addressed by DID.
 * Events: 'peer' (did) when a DID gets its first authenticated channel, 'peer-close' (did)
 * when its last one closes, 'hello-refused' (GrowrError) when a peer's hello does not hold,
 * 'chain-not-sent' (GrowrError) when our own chain could not go into a hello (it is then sent
 * without one: talking uncertified beats not talking).
 * The swarm belongs to the caller: close() ends the channels and this object's topic
 * sessions, never the swarm or its connections.
 */
export class PeerRpc extends ReadyResource {
  readonly did: DidKey
  private readonly secretKey: Uint8Array
  private readonly swarm: Hyperswarm
  private readonly handlers = new Map<string, Handler>()
  /** per DID, its authenticated channels, oldest first */
  private readonly byDid = new Map<DidKey, Channel[]>()
  private readonly channels = new Set<Channel>()
  private readonly attached = new WeakSet<object>()
  /** per connection: the start of its current minute and how many reopenings the peer made in it */
  private readonly reopened = new WeakMap<object, { window: number; count: number }>()
  private readonly paired = new Set<SecretStream>()
  private readonly aborts = new Set<(err: GrowrError) => void>()
  private readonly chain: () => unknown[]
  private announced: PeerDiscovery | null = null

  /**
   * @param opts.identity this node's DID and its 64-byte Ed25519 secret key (signs hellos)
   * @param opts.swarm the Hyperswarm whose connections get attached (by the caller)
   * @param opts.chain this node's certificate chain (root first) for its hellos; called for each
   *   new connection, so a chain set while the node runs goes into the next hellos (channels
   *   already open keep the hello they opened with). Default: no chain.
   * @throws BAD_ARGUMENT when the identity is not a did:key
   */
  constructor (opts: { identity: { did: DidKey; secretKey: Uint8Array }; swarm: Hyperswarm; chain?: () => unknown[] }) {
    super()
    if (!isDidKey(opts.identity.did)) throw GrowrError.BAD_ARGUMENT('PeerRpc needs a did:key identity')
    this.did = opts.identity.did
    this.secretKey = opts.identity.secretKey
    this.swarm = opts.swarm
    this.chain = opts.chain ?? (() => [])
  }

  protected async _open (): Promise<void> {}

  protected async _close (): Promise<void> {
    const closing = GrowrError.NOT_FOUND('peer rpc is closing')
    for (const abort of [...this.aborts]) abort(closing)
    for (const ch of [...this.channels]) ch.rpc.destroy()
    for (const conn of this.paired) muxOf(conn)?.unpair({ protocol: RPC_PROTOCOL })
    this.paired.clear()
    if (this.announced) await this.announced.destroy().catch(safetyCatch)
    this.announced = null
  }

  /**
   * Opens the rpc channel on a swarm connection; call it for every connection. Shares the
   * connection's Protomux (Protomux.from), so Corestore replication on the same connection
   * is unaffected. Idempotent per connection; never throws.
   *
   * @param conn a Hyperswarm connection (NoiseSecretStream)
   */
  attach (conn: SecretStream): void {
    if (this.closing || this.attached.has(conn)) return
    this.attached.add(conn)
    if (conn.handshakeHash) this.firstChannel(conn)
    else conn.opened.then((ok) => { if (ok && !this.closing) this.firstChannel(conn) }).catch(safetyCatch)
  }

  /**
   * Says hello again on every open channel, with the chain `opts.chain` gives now: call it when
   * this node's certificate chain changes, so peers already connected see the new one. Requests
   * in flight on those channels fail with NOT_FOUND (the channel closed); callers retry.
   * @returns how many channels were reopened
   */
  rehello (): number {
    if (this.closing) return 0
    let n = 0
    for (const ch of [...this.channels]) {
      if (ch.rpc.closed) continue
      ch.rpc.destroy()
      this.openChannel(ch.conn)
      n++
    }
    return n
  }

  /**
   * Sets the handler of `method` for every peer, present and future; a second call replaces
   * the first. What the handler returns must be JSON-serialisable; a GrowrError it throws
   * reaches the caller with its code, any other error as OP_REJECTED without its details.
   *
   * @throws BAD_ARGUMENT for an empty or over-long method name
   */
  respond (method: string, handler: Handler): void {
    checkMethod(method)
    const known = this.handlers.has(method)
    this.handlers.set(method, handler)
    if (known) return
    for (const ch of this.channels) this.register(ch, method)
  }

  /**
   * Calls `method` on the connected peer `did`.
   *
   * @param value JSON-serialisable request, at most MAX_REQUEST_BYTES once encoded
   * @param opts.timeoutMs how long to wait for the answer, ms (default 30 000)
   * @returns the handler's JSON answer
   * @throws NOT_FOUND when `did` is not connected, does not answer `method`, or goes away
   *   before answering; TIMEOUT when it does not answer in time; BAD_ARGUMENT for a value
   *   that is not JSON or too large; and whatever GrowrError the remote handler threw (same
   *   code), OP_REJECTED when it failed otherwise; UNSUPPORTED_VERSION for a malformed answer
   */
  async request (did: DidKey, method: string, value: unknown, opts: { timeoutMs?: number } = {}): Promise<unknown> {
    checkMethod(method)
    const ch = this.channelOf(did)
    if (!ch) throw GrowrError.NOT_FOUND(`not connected to ${did}; connect() first`)
    const body = encodeJson(value, MAX_REQUEST_BYTES, 'request')
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    let answer: unknown
    try {
      answer = await ch.rpc.request(method, body, { timeout: timeoutMs })
    } catch (err) {
      throw fromRpcError(err, did, method, timeoutMs)
    }
    return openEnvelope(answer, did, method)
  }

  /**
   * Finds the node that announced `did` on its DID topic and waits until it has proved that
   * DID on a connection. Joins the topic as a client only for the wait (a session: other
   * joins of the same topic stay).
   *
   * @param opts.timeoutMs how long to look, ms (default 30 000)
   * @throws BAD_ARGUMENT for a malformed DID or our own; TIMEOUT when no peer proved `did` in time;
   *   NOT_FOUND when this PeerRpc closes meanwhile
   */
  async connect (did: DidKey, opts: { timeoutMs?: number } = {}): Promise<void> {
    if (!isDidKey(did)) throw GrowrError.BAD_ARGUMENT(`${String(did)} is not a did:key`)
    if (did === this.did) throw GrowrError.BAD_ARGUMENT('cannot connect to our own DID')
    if (this.closing) throw GrowrError.NOT_FOUND('peer rpc is closed')
    if (this.channelOf(did)) return
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    let session: PeerDiscovery | null = null
    let onpeer: ((d: DidKey) => void) | null = null
    let abort: ((err: GrowrError) => void) | null = null
    let timer: ReturnType<typeof setTimeout> | null = null
    try {
      await new Promise<void>((resolve, reject) => {
        onpeer = (d) => { if (d === did) resolve() }
        abort = reject
        this.on('peer', onpeer)
        this.aborts.add(abort)
        timer = setTimeout(() => reject(GrowrError.TIMEOUT(`could not reach ${did} on the network within ${timeoutMs} ms`)), timeoutMs)
        session = this.swarm.join(didTopic(did), { server: false, client: true })
      })
    } finally {
      if (timer) clearTimeout(timer)
      if (onpeer) this.off('peer', onpeer)
      if (abort) this.aborts.delete(abort)
      // the connection outlives the topic session; only the lookup ends
      if (session) await (session as PeerDiscovery).destroy().catch(safetyCatch)
    }
  }

  /**
   * Announces this node on its own DID topic (as a server) so that others can connect() to
   * it, and resolves once the announcement is flushed to the DHT. Idempotent.
   */
  async announce (): Promise<void> {
    if (this.closing) throw GrowrError.NOT_FOUND('peer rpc is closed')
    if (!this.announced) this.announced = this.swarm.join(didTopic(this.did), { server: true, client: false })
    await this.announced.flushed()
  }

  /** DIDs with at least one open authenticated channel, in the order first seen. */
  peers (): DidKey[] {
    return [...this.byDid.keys()].filter((did) => this.channelOf(did) !== null)
  }

  /**
   * The certificate chain `did` presented in the signed hello of its newest open channel.
   * Unverified: it is what that DID claims; verify it with core/governance/chain.ts verifyChain
   * and check that it ends at `did`.
   * @returns the chain (root first; [] when it sent none), or null when `did` is not connected
   */
  peerChain (did: DidKey): unknown[] | null {
    return this.channelOf(did)?.chain ?? null
  }

  private channelOf (did: DidKey): Channel | null {
    const list = this.byDid.get(did)
    if (!list) return null
    for (let i = list.length - 1; i >= 0; i--) if (!list[i].rpc.closed) return list[i]
    return null
  }

  private firstChannel (conn: SecretStream): void {
    const mux = muxOf(conn)
    if (mux) {
      // the peer opening the channel again is its re-hello: answer with ours, within a budget
      mux.pair({ protocol: RPC_PROTOCOL }, () => {
        if (this.closing) return
        const now = Date.now()
        let r = this.reopened.get(conn)
        if (!r || now - r.window >= 60_000) this.reopened.set(conn, r = { window: now, count: 0 })
        if (++r.count > REHELLO_PER_MINUTE) return
        this.openChannel(conn)
      })
      this.paired.add(conn)
      ;(conn as unknown as { once?: (e: string, f: () => void) => void }).once?.('close', () => this.paired.delete(conn))
    }
    this.openChannel(conn)
  }

  private openChannel (conn: SecretStream): void {
    let hello: Uint8Array
    try {
      hello = makeHello(this.did, this.secretKey, conn, this.chain())
    } catch (err) {
      this.emit('chain-not-sent', err instanceof GrowrError ? err : GrowrError.BAD_ARGUMENT(`the certificate chain could not be read: ${(err as Error)?.message ?? String(err)}`))
      try {
        hello = makeHello(this.did, this.secretKey, conn)
      } catch (again) {
        safetyCatch(again) // the stream died under us: nothing to talk over
        return
      }
    }
    let rpc: ProtomuxRPC
    try {
      rpc = new ProtomuxRPC(conn, { protocol: RPC_PROTOCOL, valueEncoding: null, handshake: hello })
    } catch (err) {
      safetyCatch(err) // a dying stream or a second channel: nothing to talk over
      return
    }
    const ch: Channel = { rpc, conn, did: null, chain: [] }
    this.channels.add(ch)
    for (const method of this.handlers.keys()) this.register(ch, method)
    // protomux calls onopen synchronously and destroys the whole stream if it throws
    rpc.on('open', (hello: unknown) => {
      try {
        this.onHello(ch, hello)
      } catch (err) {
        rpc.destroy()
        safetyCatch(err)
      }
    })
    rpc.on('close', () => this.onChannelClose(ch))
  }

  private onHello (ch: Channel, hello: unknown): void {
    let did: DidKey
    try {
      const opened = openHello(hello, ch.conn)
      did = opened.did
      if (did === this.did) throw GrowrError.BAD_ARGUMENT('rpc hello claims our own DID')
      ch.chain = opened.chain
    } catch (err) {
      ch.rpc.destroy()
      if (err instanceof GrowrError) this.emit('hello-refused', err)
      return
    }
    ch.did = did
    const list = this.byDid.get(did)
    if (list) list.push(ch)
    else this.byDid.set(did, [ch])
    if (!list || list.every((other) => other === ch || other.rpc.closed)) this.emit('peer', did)
  }

  private onChannelClose (ch: Channel): void {
    this.channels.delete(ch)
    const did = ch.did
    if (!did) return
    const list = (this.byDid.get(did) ?? []).filter((other) => other !== ch && !other.rpc.closed)
    if (list.length > 0) {
      this.byDid.set(did, list)
      return
    }
    this.byDid.delete(did)
    this.emit('peer-close', did)
  }

  private register (ch: Channel, method: string): void {
    ch.rpc.respond(method, (body: unknown) => this.answer(ch, method, body))
  }

  /** Never rejects: every failure becomes an error envelope. */
  private async answer (ch: Channel, method: string, body: unknown): Promise<Uint8Array> {
    let envelope: Uint8Array
    try {
      const from = ch.did
      if (!from) throw GrowrError.BAD_ARGUMENT('requests need an accepted hello first')
      const handler = this.handlers.get(method)
      if (!handler) throw GrowrError.NOT_FOUND(`no method ${method}`)
      const req = decodeJson(body, MAX_REQUEST_BYTES, 'request')
      const value = await handler(req, from)
      envelope = encodeJson({ value: value ?? null }, MAX_RESPONSE_BYTES, 'response')
    } catch (err) {
      envelope = encodeJson({ error: toWireError(err) }, MAX_RESPONSE_BYTES, 'error')
    }
    return envelope
  }
}

function checkMethod (method: string): void {
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_CHARS) {
    throw GrowrError.BAD_ARGUMENT(`method must be a string of 1..${MAX_METHOD_CHARS} characters`)
  }
}

/** @throws BAD_ARGUMENT when `value` is not JSON or encodes to more than `max` bytes */
function encodeJson (value: unknown, max: number, what: string): Uint8Array {
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    throw GrowrError.BAD_ARGUMENT(`${what} is not JSON-serialisable`)
  }
  if (text === undefined) throw GrowrError.BAD_ARGUMENT(`${what} is not JSON-serialisable`)
  const bytes = b4a.from(text)
  if (bytes.byteLength > max) throw GrowrError.BAD_ARGUMENT(`${what} of ${bytes.byteLength} bytes exceeds ${max} bytes`)
  return bytes
}

/** @throws BAD_ARGUMENT when `body` is not bytes, is larger than `max`, or is not JSON */
function decodeJson (body: unknown, max: number, what: string): unknown {
  if (!(body instanceof Uint8Array)) throw GrowrError.BAD_ARGUMENT(`${what} has no body`)
  if (body.byteLength > max) throw GrowrError.BAD_ARGUMENT(`${what} of ${body.byteLength} bytes exceeds ${max} bytes`)
  try {
    return JSON.parse(b4a.toString(body, 'utf-8'))
  } catch {
    throw GrowrError.BAD_ARGUMENT(`${what} is not JSON`)
  }
}

function toWireError (err: unknown): { code: string; message: string } {
  if (err instanceof GrowrError) {
    const prefix = err.code + ': '
    const message = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message
    return { code: err.code, message: message.slice(0, MAX_ERROR_MESSAGE_CHARS) }
  }
  // no details: they are this node's internals; no safetyCatch either, which would rethrow a
  // handler's TypeError out of protomux-rpc as an unhandled rejection
  return { code: 'OP_REJECTED', message: 'the request failed on the peer' }
}

function openEnvelope (answer: unknown, did: DidKey, method: string): unknown {
  let env: unknown
  try {
    env = decodeJson(answer, MAX_RESPONSE_BYTES, 'response')
  } catch {
    throw GrowrError.UNSUPPORTED_VERSION(`${did} answered ${method} with a malformed response`)
  }
  if (env === null || typeof env !== 'object') throw GrowrError.UNSUPPORTED_VERSION(`${did} answered ${method} with a malformed response`)
  const e = env as { value?: unknown; error?: { code?: unknown; message?: unknown } }
  if (e.error !== undefined) {
    const code = typeof e.error?.code === 'string' ? e.error.code : ''
    const message = String(e.error?.message ?? '').slice(0, MAX_ERROR_MESSAGE_CHARS)
    if (WIRE_CODES.has(code)) throw new GrowrError(code as GrowrErrorCode, message)
    throw GrowrError.OP_REJECTED(`${did} failed ${method} (${code.slice(0, 40) || 'no code'}): ${message}`)
  }
  return e.value ?? null
}

function fromRpcError (err: unknown, did: DidKey, method: string, timeoutMs: number): GrowrError {
  const code = (err as { code?: unknown } | null)?.code
  if (code === 'TIMEOUT_EXCEEDED') return GrowrError.TIMEOUT(`${did} did not answer ${method} within ${timeoutMs} ms`)
  if (code === 'UNKNOWN_METHOD') return GrowrError.NOT_FOUND(`${did} does not answer ${method}`)
  if (code === 'CHANNEL_CLOSED' || code === 'CHANNEL_DESTROYED') return GrowrError.NOT_FOUND(`connection to ${did} closed before it answered ${method}`)
  return GrowrError.OP_REJECTED(`${method} to ${did} failed: ${(err as Error)?.message ?? String(err)}`)
}

function muxOf (conn: SecretStream): Pairing | null {
  try {
    return Protomux.from(conn as never) as unknown as Pairing
  } catch (err) {
    safetyCatch(err)
    return null
  }
}
