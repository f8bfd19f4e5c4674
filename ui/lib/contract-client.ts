/**
 * The UI's only way to the core: typed `send` and `listen` over one Transport, speaking the
 * session's message format (app/session.ts): request {id, method, params}, response {id, result} |
 * {id, error: {code, message}}, event {event, data}.
 *
 * Two transports: the desktop bridge `window.growr` (Electron preload) when present, else a
 * WebSocket to the headless host at ws://<host>/ws, authenticated by the token the host put in the
 * page's URL fragment (#token=...). The token moves to sessionStorage and leaves the address bar.
 */
import type { Api, SessionEvents } from '../../app/session.ts'

export type Method = keyof Api
export type Args<K extends Method> = Api[K]['args']
export type Result<K extends Method> = Api[K]['result']
export type EventName = keyof SessionEvents
export interface EventMessage { event: string; data: unknown }

/** A failure the core reported: `code` for programs and tests, `message` in plain words for people. */
export class ContractError extends Error {
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.name = 'ContractError'
    this.code = code
  }
}

/** How requests reach the core and events come back. */
export interface Transport {
  request (method: string, params: unknown): Promise<unknown>
  onEvent (cb: (msg: EventMessage) => void): () => void
}

/** The desktop bridge the Electron preload exposes. */
export interface GrowrBridge {
  request (method: string, params: unknown): Promise<unknown>
  onEvent (cb: (msg: EventMessage) => void): () => void
}

declare global {
  interface Window { growr?: GrowrBridge }
}

/** Turns whatever a transport rejected with into a ContractError with a readable message. */
export function toContractError (err: unknown): ContractError {
  if (err instanceof ContractError) return err
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; error?: unknown }
    if (e.error && typeof e.error === 'object') return toContractError(e.error)
    const code = typeof e.code === 'string' ? e.code : 'INTERNAL'
    // the bridge may pass GrowrError's "CODE: message" through unchanged
    const message = typeof e.message === 'string' ? e.message.replace(/^[A-Z_]+: /, '') : JSON.stringify(err)
    return new ContractError(code, message)
  }
  return new ContractError('INTERNAL', String(err))
}

/** The bridge as a Transport: its errors become ContractErrors. */
export function bridgeTransport (bridge: GrowrBridge): Transport {
  return {
    async request (method, params) {
      try {
        return await bridge.request(method, params)
      } catch (err) {
        throw toContractError(err)
      }
    },
    onEvent: (cb) => bridge.onEvent(cb)
  }
}

export const TOKEN_KEY = 'growr.token'

/**
 * Reads the host's token from the URL fragment (#token=...), keeps it in sessionStorage and
 * removes the fragment from the address bar and history. Later loads read sessionStorage.
 * @returns the token, or null when the page was opened without one
 */
export function takeToken (): string | null {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash)
  if (m) {
    const token = decodeURIComponent(m[1])
    sessionStorage.setItem(TOKEN_KEY, token)
    history.replaceState(null, '', location.pathname + location.search)
    return token
  }
  return sessionStorage.getItem(TOKEN_KEY)
}

/**
 * A WebSocket transport to the headless host. Requests sent before the socket opens wait for it;
 * when it closes every pending request fails with code DISCONNECTED.
 * @param url ws:// URL of the host's socket
 * @param token the host's session token, sent as the subprotocol `token.<token>` beside `growr.v1`
 */
export function socketTransport (url: string, token: string): Transport {
  const ws = new WebSocket(url, ['growr.v1', 'token.' + token])
  const pending = new Map<number, { resolve (v: unknown): void; reject (e: ContractError): void }>()
  const listeners = new Set<(msg: EventMessage) => void>()
  let nextId = 1
  let closed: ContractError | null = null
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true })
    ws.addEventListener('close', () => reject(closed), { once: true })
  })
  opened.catch(() => {})

  ws.addEventListener('message', (ev) => {
    let msg: { id?: number; result?: unknown; error?: unknown; event?: string; data?: unknown }
    try { msg = JSON.parse(String(ev.data)) } catch { return }
    if (typeof msg.event === 'string') {
      for (const cb of listeners) cb({ event: msg.event, data: msg.data })
      return
    }
    const p = typeof msg.id === 'number' ? pending.get(msg.id) : undefined
    if (!p) return
    pending.delete(msg.id as number)
    if (msg.error !== undefined) p.reject(toContractError(msg.error))
    else p.resolve(msg.result)
  })
  ws.addEventListener('close', (ev) => {
    closed = new ContractError('DISCONNECTED', ev.code === 1008 || ev.code === 4401
      ? 'the host refused this page\'s token: open the address the host printed'
      : 'the connection to the Growr node closed: reload the page once it runs again')
    for (const p of pending.values()) p.reject(closed)
    pending.clear()
  })

  return {
    async request (method, params) {
      await opened.catch(() => { throw closed ?? new ContractError('DISCONNECTED', 'no connection to the Growr node') })
      if (closed) throw closed
      const id = nextId++
      return await new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        ws.send(JSON.stringify({ id, method, params }))
      })
    },
    onEvent (cb) {
      listeners.add(cb)
      return () => { listeners.delete(cb) }
    }
  }
}

/** The transport this page should use: the desktop bridge when present, else the host's socket. */
export function defaultTransport (): Transport {
  if (typeof window !== 'undefined' && window.growr) return bridgeTransport(window.growr)
  const token = takeToken()
  if (!token) {
    return {
      request: async () => { throw new ContractError('NO_TOKEN', 'this page has no access token: open the address the Growr host printed (it ends in #token=...)') },
      onEvent: () => () => {}
    }
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
  return socketTransport(`${scheme}//${location.host}/ws`, token)
}

/** Typed calls and event subscriptions over one transport. */
export interface ContractClient {
  /** Calls one method. @throws ContractError with the core's code and message */
  send<K extends Method> (method: K, args: Args<K>): Promise<Result<K>>
  /** Subscribes to one pushed event. @returns unsubscribe */
  listen<K extends EventName> (event: K, cb: (data: SessionEvents[K]) => void): () => void
}

/** Wraps a transport into the typed client. */
export function createClient (transport: Transport): ContractClient {
  return {
    async send (method, args) {
      return await transport.request(method, args) as never
    },
    listen (event, cb) {
      return transport.onEvent((msg) => { if (msg.event === event) cb(msg.data as never) })
    }
  }
}

let current: ContractClient | null = null

/** The page's client, made on first use over defaultTransport(). */
export function client (): ContractClient {
  current ??= createClient(defaultTransport())
  return current
}

/** Calls one contract or session method on the page's client. @throws ContractError */
export function send<K extends Method> (method: K, args: Args<K>): Promise<Result<K>> {
  return client().send(method, args)
}

/** Subscribes to one event the core pushes. @returns unsubscribe */
export function listen<K extends EventName> (event: K, cb: (data: SessionEvents[K]) => void): () => void {
  return client().listen(event, cb)
}
