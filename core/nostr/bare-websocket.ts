/**
 * `#websocket` under Bare: the WHATWG WebSocket client interface (as browsers and the `ws`
 * package expose it) over bare-ws's Socket, which is a Duplex stream of whole messages.
 * nostr-tools' AbstractRelay needs exactly this much: `new WebSocket(url)`, the readyState
 * constants, onopen/onmessage/onclose/onerror, send(string) and close(); addEventListener and
 * removeEventListener are here too for other callers.
 *
 * What works: ws:// (bare-http1 over bare-tcp) and wss:// (bare-https over bare-tls, which checks
 * the server's certificate chain and host name against the CA list bare-tls ships; a relay with a
 * certificate nobody vouches for fails to connect, reported as an error then a close). No
 * subprotocols, no extensions (bare-ws offers none, so no permessage-deflate), no Blob: binary
 * messages arrive as ArrayBuffer whatever `binaryType` says (Nostr sends text only).
 *
 * Following the WHATWG spec (websockets.spec.whatwg.org): a URL that is not ws:// or wss:// (or
 * http(s)://, which the spec maps to them) throws a SyntaxError from the constructor; failing to
 * connect fires `error` then `close` (code 1006, wasClean false); send() before open throws an
 * InvalidStateError, after close it drops the message; text arrives as a string.
 */
import { Socket } from 'bare-ws'

/** The event objects handed to listeners: the fields of Event, MessageEvent and CloseEvent callers read. */
export interface BareWebSocketEvent {
  type: 'open' | 'message' | 'error' | 'close'
  target: BareWebSocket
  /** message: the text (string) or binary data (ArrayBuffer) */
  data?: string | ArrayBuffer
  /** close: the status code (1006 when the connection was lost without a close frame) */
  code?: number
  reason?: string
  wasClean?: boolean
  /** error: what failed, in words, and the underlying error */
  message?: string
  error?: unknown
}

type Listener = (event: BareWebSocketEvent) => void

const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
const CLOSED = 3

// a DOMException where the runtime has one (Bare may not): callers match on `name`
function domError (message: string, name: 'SyntaxError' | 'InvalidStateError' | 'InvalidAccessError'): Error {
  const Dom = (globalThis as { DOMException?: new (m: string, n: string) => Error }).DOMException
  if (typeof Dom === 'function') return new Dom(message, name)
  const err = new Error(message)
  err.name = name
  return err
}

/**
 * A WebSocket client with the browser's interface, for Bare.
 * @throws SyntaxError for a URL that does not parse or is not ws:// or wss:// (http(s) is taken as ws(s)), or carries a fragment
 */
export default class BareWebSocket {
  static readonly CONNECTING = CONNECTING
  static readonly OPEN = OPEN
  static readonly CLOSING = CLOSING
  static readonly CLOSED = CLOSED
  readonly CONNECTING = CONNECTING
  readonly OPEN = OPEN
  readonly CLOSING = CLOSING
  readonly CLOSED = CLOSED

  /** the URL as given, normalised (ws: or wss:) */
  readonly url: string
  readyState: number = CONNECTING
  /** kept for the interface; binary messages are always ArrayBuffer here */
  binaryType: 'arraybuffer' | 'blob' = 'arraybuffer'
  readonly protocol = ''
  readonly extensions = ''
  onopen: Listener | null = null
  onmessage: Listener | null = null
  onerror: Listener | null = null
  onclose: Listener | null = null

  private readonly socket: Socket
  private readonly listeners = new Map<string, Set<Listener>>()
  private failure: unknown = null
  private closeSent = false

  /**
   * Opens the connection at once; `open` (or `error` and `close`) follows.
   * @param url ws:// or wss:// (http:// and https:// are taken as ws:// and wss://)
   * @param protocols refused when given: bare-ws negotiates no subprotocol
   */
  constructor (url: string | { toString (): string }, protocols?: string | string[]) {
    let parsed: URL
    try {
      parsed = new URL(String(url))
    } catch {
      throw domError(`not a WebSocket URL: ${String(url).slice(0, 200)}`, 'SyntaxError')
    }
    if (parsed.protocol === 'http:') parsed.protocol = 'ws:'
    else if (parsed.protocol === 'https:') parsed.protocol = 'wss:'
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw domError(`a WebSocket URL is ws:// or wss://, not ${parsed.protocol}`, 'SyntaxError')
    if (parsed.hash) throw domError('a WebSocket URL has no fragment', 'SyntaxError')
    if (protocols !== undefined && (typeof protocols === 'string' || protocols.length > 0)) throw domError('subprotocols are not supported by this WebSocket (bare-ws)', 'SyntaxError')
    this.url = parsed.href

    const socket = new Socket(parsed.href)
    this.socket = socket
    socket.on('open', () => {
      if (this.readyState !== CONNECTING) return
      this.readyState = OPEN
      this.dispatch({ type: 'open', target: this })
    })
    socket.on('message', (payload: Uint8Array, binary: boolean) => {
      if (this.readyState !== OPEN) return
      // a copy: bare-ws may hand out a view of a pooled buffer
      const data: string | ArrayBuffer = binary ? new Uint8Array(payload).buffer : new TextDecoder().decode(payload)
      this.dispatch({ type: 'message', target: this, data })
    })
    // messages are taken from 'message'; reading the stream keeps bare-ws from pausing the socket
    socket.on('data', () => {})
    // the peer's close frame ends the readable side: the spec's "closing handshake started"
    socket.on('end', () => { if (this.readyState === OPEN) this.readyState = CLOSING })
    socket.on('error', (err: unknown) => { this.failure = err })
    socket.on('close', () => this.finish())
  }

  /** Bytes queued but not yet handed to the network: bare-ws writes through, so 0. */
  get bufferedAmount (): number { return 0 }

  /**
   * Sends a text message (a string) or a binary one (ArrayBuffer or a view).
   * @throws InvalidStateError while connecting; after close the message is dropped, as the spec says
   */
  send (data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.readyState === CONNECTING) throw domError('the WebSocket is still connecting', 'InvalidStateError')
    if (this.readyState !== OPEN) return
    if (typeof data === 'string') this.socket.write(data)
    else if (data instanceof ArrayBuffer) this.socket.write(new Uint8Array(data) as never)
    else if (ArrayBuffer.isView(data)) this.socket.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength) as never)
    else this.socket.write(String(data))
  }

  /**
   * Starts the closing handshake (or abandons a connection still being made); `close` follows.
   * @param code 1000 or 3000..4999 (default 1000)
   * @param reason at most 123 bytes of UTF-8
   * @throws InvalidAccessError for another code, SyntaxError for a longer reason
   */
  close (code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) throw domError(`close code ${String(code)} is not 1000 or 3000..4999`, 'InvalidAccessError')
    if (reason !== undefined && new TextEncoder().encode(reason).byteLength > 123) throw domError('a close reason is at most 123 bytes', 'SyntaxError')
    if (this.readyState === CLOSING || this.readyState === CLOSED) return
    if (this.readyState === CONNECTING) {
      // the spec fails the connection: error, then close 1006
      this.readyState = CLOSING
      this.failure ??= new Error('closed before the connection was established')
      this.socket.destroy()
      return
    }
    this.readyState = CLOSING
    if (this.closeSent) return
    this.closeSent = true
    try {
      this.socket.close(code ?? 1000, reason ?? '')
    } catch (err) {
      this.failure = err
      this.socket.destroy()
    }
  }

  addEventListener (type: string, fn: Listener | null): void {
    if (typeof fn !== 'function') return
    let set = this.listeners.get(type)
    if (!set) this.listeners.set(type, set = new Set())
    set.add(fn)
  }

  removeEventListener (type: string, fn: Listener | null): void {
    if (fn) this.listeners.get(type)?.delete(fn)
  }

  private finish (): void {
    if (this.readyState === CLOSED) return
    this.readyState = CLOSED
    const failure = this.failure
    const clean = failure === null
    if (!clean) {
      const message = failure instanceof Error ? `${failure.message}${(failure as { cause?: Error }).cause?.message ? `: ${(failure as { cause?: Error }).cause?.message}` : ''}` : String(failure)
      this.dispatch({ type: 'error', target: this, message, error: failure })
    }
    const code = clean ? (this.socket.closeCode ?? 1005) : 1006
    const rawReason = this.socket.closeReason as Uint8Array | undefined
    const reason = clean && rawReason && rawReason.byteLength > 0 ? new TextDecoder().decode(rawReason) : ''
    this.dispatch({ type: 'close', target: this, code, reason, wasClean: clean })
  }

  // a throwing listener must not keep the others (or bare-ws's own bookkeeping) from running; it is
  // reported as a browser reports it, on the console
  private dispatch (event: BareWebSocketEvent): void {
    const own = event.type === 'open' ? this.onopen : event.type === 'message' ? this.onmessage : event.type === 'error' ? this.onerror : this.onclose
    const all = [...(typeof own === 'function' ? [own] : []), ...(this.listeners.get(event.type) ?? [])]
    for (const fn of all) {
      try {
        fn.call(this, event)
      } catch (err) {
        console.error('WebSocket listener failed:', err)
      }
    }
  }
}
