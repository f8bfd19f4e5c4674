/**
 * Request/response between Growr peers: one protomux-rpc channel ("growr/rpc/v1") on every
 * Hyperswarm connection, sharing the connection's Protomux with Corestore replication.
 *
 * Hello (the channel handshake), compact-encoding, version 1:
 *   uint version, string did, fixed64 signature
 *   signature = Ed25519 by the DID's key over
 *     "growr/rpc-hello/v1" 0x00 || Noise handshake hash || signer's Noise static public key
 * Both ends share the handshake hash, so a hello proves control of the DID on this very
 * connection and cannot be replayed onto another one; the signer's transport key stops a peer
 * from reflecting our own hello back at us. A hello that does not hold closes the channel
 * (never the connection: replication goes on).
 *
 * Values are UTF-8 JSON. A request body is at most MAX_REQUEST_BYTES; every answer is an
 * envelope `{ value }` or `{ error: { code, message } }` of at most MAX_RESPONSE_BYTES, so a
 * GrowrError thrown by a handler reaches the caller with its code.
 */
import ReadyResource from 'ready-resource'
import ProtomuxRPC from 'protomux-rpc'
import c from 'compact-encoding'
import b4a from 'b4a'
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
export const HELLO_VERSION = 1

const HELLO_DOMAIN = b4a.from('growr/rpc-hello/v1\0')
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

interface Hello { did: string; signature: Uint8Array }

const helloEncoding = {
  preencode (state: c.State, m: Hello) {
    c.uint.preencode(state, HELLO_VERSION)
    c.string.preencode(state, m.did)
    c.fixed64.preencode(state, m.signature)
  },
  encode (state: c.State, m: Hello) {
    c.uint.encode(state, HELLO_VERSION)
    c.string.encode(state, m.did)
    c.fixed64.encode(state, m.signature)
  },
  decode (state: c.State): Hello {
    const v = c.uint.decode(state)
    if (v !== HELLO_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`rpc hello version ${v}`)
    return { did: c.string.decode(state), signature: c.fixed64.decode(state) }
  }
}

function helloMessage (handshakeHash: Uint8Array, signerTransportKey: Uint8Array): Uint8Array {
  return b4a.concat([HELLO_DOMAIN, handshakeHash, signerTransportKey])
}

/**
 * The hello this side sends on `conn`: "DID `did` speaks on this connection".
 * Exported so tests can build hellos by hand (forged ones included).
 *
 * @param did the DID claimed
 * @param secretKey 64-byte Ed25519 secret key that signs the claim
 * @param conn the connection, with its handshake done (handshakeHash and publicKey set)
 * @returns the encoded hello bytes
 * @throws BAD_ARGUMENT when the connection has no handshake hash or public key yet
 */
export function makeHello (did: string, secretKey: Uint8Array, conn: Pick<SecretStream, 'handshakeHash' | 'publicKey'>): Uint8Array {
  if (!conn.handshakeHash || !conn.publicKey) throw GrowrError.BAD_ARGUMENT('connection handshake is not done')
  return c.encode(helloEncoding, { did, signature: sign(helloMessage(conn.handshakeHash, conn.publicKey), secretKey) })
}

/**
 * Checks a peer's hello on `conn`.
 *
 * @param bytes the raw handshake bytes the peer sent (untrusted)
 * @param conn the connection it arrived on
 * @returns the DID it proves
 * @throws BAD_ARGUMENT when it does not decode, names no did:key, or its signature does not
 *   hold for this connection's handshake hash and the peer's transport key;
 *   UNSUPPORTED_VERSION for another hello version
 */
export function openHello (bytes: unknown, conn: Pick<SecretStream, 'handshakeHash' | 'remotePublicKey'>): DidKey {
  if (!(bytes instanceof Uint8Array) || !conn.handshakeHash || !conn.remotePublicKey) throw GrowrError.BAD_ARGUMENT('no rpc hello')
  let hello: Hello
  try {
    hello = c.decode(helloEncoding, bytes)
  } catch (err) {
    if (err instanceof GrowrError) throw err
    throw GrowrError.BAD_ARGUMENT('rpc hello does not decode')
  }
  if (!isDidKey(hello.did)) throw GrowrError.BAD_ARGUMENT('rpc hello names no did:key')
  if (!verify(helloMessage(conn.handshakeHash, conn.remotePublicKey), hello.signature, didToPublicKey(hello.did))) {
    throw GrowrError.BAD_ARGUMENT('rpc hello signature does not hold for this connection')
  }
  return hello.did
}

interface Channel { rpc: ProtomuxRPC; conn: SecretStream; did: DidKey | null }

/**
 * Authenticated request/response with the peers of a Hyperswarm, addressed by DID.
 * Events: 'peer' (did) when a DID gets its first authenticated channel, 'peer-close' (did)
 * when its last one closes, 'hello-refused' (GrowrError) when a peer's hello does not hold.
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
  private readonly aborts = new Set<(err: GrowrError) => void>()
  private announced: PeerDiscovery | null = null

  /**
   * @param opts.identity this node's DID and its 64-byte Ed25519 secret key (signs hellos)
   * @param opts.swarm the Hyperswarm whose connections get attached (by the caller)
   * @throws BAD_ARGUMENT when the identity is not a did:key
   */
  constructor (opts: { identity: { did: DidKey; secretKey: Uint8Array }; swarm: Hyperswarm }) {
    super()
    if (!isDidKey(opts.identity.did)) throw GrowrError.BAD_ARGUMENT('PeerRpc needs a did:key identity')
    this.did = opts.identity.did
    this.secretKey = opts.identity.secretKey
    this.swarm = opts.swarm
  }

  protected async _open (): Promise<void> {}

  protected async _close (): Promise<void> {
    const closing = GrowrError.NOT_FOUND('peer rpc is closing')
    for (const abort of [...this.aborts]) abort(closing)
    for (const ch of [...this.channels]) ch.rpc.destroy()
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
    if (conn.handshakeHash) this.openChannel(conn)
    else conn.opened.then((ok) => { if (ok && !this.closing) this.openChannel(conn) }).catch(safetyCatch)
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

  private channelOf (did: DidKey): Channel | null {
    const list = this.byDid.get(did)
    if (!list) return null
    for (let i = list.length - 1; i >= 0; i--) if (!list[i].rpc.closed) return list[i]
    return null
  }

  private openChannel (conn: SecretStream): void {
    let rpc: ProtomuxRPC
    try {
      rpc = new ProtomuxRPC(conn, {
        protocol: RPC_PROTOCOL,
        valueEncoding: null,
        handshake: makeHello(this.did, this.secretKey, conn)
      })
    } catch (err) {
      safetyCatch(err) // a dying stream or a second channel: nothing to talk over
      return
    }
    const ch: Channel = { rpc, conn, did: null }
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
      did = openHello(hello, ch.conn)
      if (did === this.did) throw GrowrError.BAD_ARGUMENT('rpc hello claims our own DID')
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
