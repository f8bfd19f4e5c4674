/**
 * JSON-RPC over HTTP POST, the transport of the chain backends: Bitcoin Core-compatible nodes
 * (JSON-RPC 1.0, as `bitcoin-cli` speaks it) and EVM nodes (JSON-RPC 2.0, the Ethereum execution
 * API). Each backend's client (core/rails/bitcoin/rpc.ts, core/rails/rootstock/rpc.ts) holds one
 * and checks the results of the methods it names.
 *
 * Two ways a call fails, told apart by code so the UI can say which:
 * - `BACKEND_UNREACHABLE`: nothing answered (connection refused or reset, DNS, or no answer within
 *   `timeoutMs`). The message names the URL (without credentials) and the method.
 * - `BACKEND_ERROR` ({@link JsonRpcError}: the method, the node's message and its JSON-RPC error
 *   code): the node answered with an error, refused the credentials (HTTP 401/403), or answered
 *   something that is not JSON-RPC or answers another request.
 * Credentials (HTTP basic auth, from the URL or given) are kept in private fields, never shown,
 * and scrubbed from anything a node or the HTTP stack echoes back.
 *
 * Runtime: the global `fetch` of Node 20+; under Bare, bare-fetch's, installed by the `#fetch`
 * import (Bare 1.31 has neither `fetch` nor `AbortController`); a test may pass `options.fetch`.
 * The timeout races a timer, and aborts the request too where AbortController exists.
 * No `node:` imports: the module loads under Bare.
 */
import '../runtime/text-encoding.ts' // Bare has no TextEncoder global; Node: nothing
import '../runtime/fetch.ts' // Bare has no fetch global; Node: nothing
import { GrowrError } from '../errors.ts'

/** The subset of WHATWG fetch the client uses; Node's global fetch and bare-fetch fit it. */
export type FetchLike = (url: string, init: {
  method: 'POST'
  headers: Record<string, string>
  body: string
  signal?: unknown
}) => Promise<{ status: number, text (): Promise<string> }>

/** An error the node answered with: a {@link GrowrError} coded `BACKEND_ERROR` that also carries what the node said. */
export class JsonRpcError extends GrowrError {
  /** the RPC method that failed */
  readonly method: string
  /** the node's JSON-RPC error code, or null when the failure was HTTP-level or a malformed answer */
  readonly rpcCode: number | null
  /** the HTTP status of the answer */
  readonly status: number
  /** the node's own error message (secrets scrubbed), or '' when the failure was not the node's error */
  readonly nodeMessage: string

  constructor (method: string, message: string, rpcCode: number | null, status: number, nodeMessage = '') {
    super('BACKEND_ERROR', message)
    this.method = method
    this.rpcCode = rpcCode
    this.status = status
    this.nodeMessage = nodeMessage
  }
}

/** How to reach and authenticate to one backend. */
export interface JsonRpcOptions {
  /** the endpoint, `http(s)://host:port/`; credentials in the URL are moved to the auth header */
  url: string
  /** basic auth user; default: the URL's */
  username?: string
  /** basic auth password; default: the URL's */
  password?: string
  /** how long one call may take, connection to last byte, in milliseconds (a positive integer) */
  timeoutMs: number
  /** the fetch to use; the runtime's by default */
  fetch?: FetchLike
  /** the backend as messages name it, e.g. 'Bitcoin' ("the Bitcoin backend at ...") */
  label: string
  /** '1.0' (Bitcoin Core: a reply may omit its id) or '2.0' (a reply must carry the request's id) */
  version: '1.0' | '2.0'
  /** makes the BACKEND_ERROR thrown (a backend's own subclass of {@link JsonRpcError}) */
  error?: (method: string, message: string, rpcCode: number | null, status: number, nodeMessage?: string) => JsonRpcError
}

/** One backend's JSON-RPC endpoint. It holds no connection: there is nothing to close. */
export class JsonRpcClient {
  /** the endpoint without credentials: safe to show and log */
  readonly url: string
  readonly timeoutMs: number
  readonly label: string
  readonly #version: '1.0' | '2.0'
  readonly #auth: string | null
  readonly #secrets: string[]
  readonly #fetch: FetchLike
  readonly #error: NonNullable<JsonRpcOptions['error']>
  #id = 0

  /**
   * @param options endpoint, credentials, timeout and dialect ({@link JsonRpcOptions})
   * @throws GrowrError BAD_ARGUMENT when the URL is not http(s), the timeout is not a positive integer, or the runtime has no fetch and none is passed
   */
  constructor (options: JsonRpcOptions) {
    const { url, timeoutMs, label } = options
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw GrowrError.BAD_ARGUMENT(`the ${label} backend URL is not a URL`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw GrowrError.BAD_ARGUMENT(`the ${label} backend URL must be http:// or https://`)
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw GrowrError.BAD_ARGUMENT('timeoutMs must be a positive integer of milliseconds')
    const username = options.username ?? decodeURIComponent(parsed.username)
    const password = options.password ?? decodeURIComponent(parsed.password)
    // built by hand: clearing URL credentials prints `http://:@host/` under Bare's URL
    this.url = `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search}`
    this.timeoutMs = timeoutMs
    this.label = label
    this.#version = options.version
    this.#auth = username !== '' || password !== '' ? 'Basic ' + base64Utf8(`${username}:${password}`) : null
    this.#secrets = [password, username].filter((s) => s.length >= 4) // shorter ones would mangle every message and protect nothing
    this.#error = options.error ?? ((method, message, rpcCode, status, nodeMessage) => new JsonRpcError(method, message, rpcCode, status, nodeMessage))
    // (no `as` inside a ternary: Bare's type stripper mis-parses `c ? x as T : y`)
    let f: FetchLike | undefined = options.fetch
    if (f === undefined && typeof globalThis.fetch === 'function') f = globalThis.fetch.bind(globalThis) as unknown as FetchLike
    if (f === undefined) throw GrowrError.BAD_ARGUMENT('this runtime has no fetch: pass options.fetch')
    this.#fetch = f
  }

  /**
   * Calls one method.
   * @param method e.g. `getblockcount`, `eth_blockNumber`
   * @param params its positional parameters
   * @returns the `result` member of the answer, unchecked (the backend's client checks it)
   * @throws GrowrError BACKEND_UNREACHABLE when nothing answers within `timeoutMs`; {@link JsonRpcError} (BACKEND_ERROR) when the node answers with an error, refuses the credentials or does not speak JSON-RPC
   */
  async call<T = unknown> (method: string, params: unknown[] = []): Promise<T> {
    const id = ++this.#id
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (this.#auth !== null) headers.authorization = this.#auth
    const body = JSON.stringify({ jsonrpc: this.#version, id, method, params })
    const controller = typeof AbortController === 'function' ? new AbortController() : null
    let timer: ReturnType<typeof setTimeout> | undefined
    let timedOut = false
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true
        controller?.abort()
        reject(GrowrError.BACKEND_UNREACHABLE(this.scrub(`the ${this.label} backend at ${this.url} did not answer ${method} within ${this.timeoutMs} ms`)))
      }, this.timeoutMs)
    })
    const exchange = async (): Promise<{ status: number, text: string }> => {
      try {
        const res = await this.#fetch(this.url, { method: 'POST', headers, body, signal: controller?.signal })
        return { status: res.status, text: await res.text() }
      } catch (err) {
        if (timedOut) throw err // the timer already rejected with the clearer reason
        throw GrowrError.BACKEND_UNREACHABLE(this.scrub(`the ${this.label} backend at ${this.url} is unreachable (${networkReason(err)}) calling ${method}`))
      }
    }
    let answer: { status: number, text: string }
    try {
      answer = await Promise.race([exchange(), timeout])
    } finally {
      clearTimeout(timer)
    }
    return this.#result<T>(method, id, answer.status, answer.text)
  }

  #result<T> (method: string, id: number, status: number, text: string): T {
    const at = `the ${this.label} backend at ${this.url}`
    if (status === 401 || status === 403) throw this.#error(method, `${at} refused the credentials (HTTP ${status}): check the user and password or api key`, null, status)
    let reply: unknown
    try {
      reply = JSON.parse(text)
    } catch {
      throw this.#error(method, `${at} answered ${method} with HTTP ${status} and no JSON-RPC reply`, null, status)
    }
    if (reply === null || typeof reply !== 'object' || Array.isArray(reply) || !('result' in reply || 'error' in reply)) {
      throw this.#error(method, `${at} answered ${method} with something that is not a JSON-RPC reply`, null, status)
    }
    const { result, error, id: replyId } = reply as { result?: unknown, error?: unknown, id?: unknown }
    if (error !== null && error !== undefined) {
      const e = error as { code?: unknown, message?: unknown }
      const rpcCode = typeof e.code === 'number' ? e.code : null
      const message = this.scrub(typeof e.message === 'string' ? e.message : JSON.stringify(error))
      throw this.#error(method, `${method} failed on the ${this.label} backend: ${message}${rpcCode !== null ? ` (code ${rpcCode})` : ''}`, rpcCode, status, message)
    }
    const idMissing = replyId === undefined || replyId === null
    if (replyId !== id && !(this.#version === '1.0' && idMissing)) {
      throw this.#error(method, `${at} answered ${method} for another request (id ${String(replyId)}, not ${id})`, null, status)
    }
    if (status !== 200) throw this.#error(method, `${at} answered ${method} with HTTP ${status}`, null, status)
    return result as T
  }

  /**
   * @param method the method whose answer is wrong
   * @param what what it answered, in words
   * @returns the BACKEND_ERROR to throw for an answer of the wrong shape
   */
  bad (method: string, what: string): JsonRpcError {
    return this.#error(method, `the ${this.label} backend at ${this.url} answered ${method} with ${what}`, null, 200)
  }

  /** @returns `message` with every credential replaced by *** */
  scrub (message: string): string {
    let out = message
    for (const s of this.#secrets) out = out.split(s).join('***')
    return out
  }
}

/** A short, secret-free reason for a failed connection: the system error code when there is one. */
function networkReason (err: unknown): string {
  const e = err as { cause?: { code?: unknown }, code?: unknown, name?: unknown } | null
  const code = e?.cause?.code ?? e?.code
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code
  if (e?.name === 'AbortError') return 'aborted'
  return 'connection failed'
}

/** Base64 of the UTF-8 bytes of `s` (basic auth), with btoa, present in Node and Bare. */
function base64Utf8 (s: string): string {
  const bytes = new TextEncoder().encode(s)
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin)
}
