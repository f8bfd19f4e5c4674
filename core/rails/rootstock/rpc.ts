/**
 * A client for an EVM JSON-RPC endpoint (Ethereum execution API, ethereum/execution-apis), the
 * Rootstock backend a node is configured with: rskj's RPC (4444), a public Rootstock node, or
 * anvil in the tests. JSON-RPC 2.0 over HTTP POST.
 *
 * Two ways a call fails, told apart by code so the UI can say which (as core/rails/bitcoin/rpc.ts):
 * - `BACKEND_UNREACHABLE`: nothing answered (connection refused or reset, DNS, or no answer within
 *   `timeoutMs`). The message names the URL (without any credentials in it) and the method.
 * - `BACKEND_ERROR`: the node answered, with an error ({@link EvmRpcError}: the method, the node's
 *   message and its JSON-RPC error code), refused the credentials (HTTP 401/403), or answered
 *   something that is not JSON-RPC or not what the method returns.
 * Credentials in the URL (`https://user:key@host/`) are sent as HTTP basic auth, never shown, and
 * scrubbed from anything a node echoes back.
 *
 * Quantities (balances, gas, nonces) come back as bigint: wei exceed 2^53.
 * Runtime: the global `fetch` of Node 20+; under Bare pass one (bare-fetch) as `options.fetch`.
 * No `node:` imports: the module loads under Bare.
 */
import '../../runtime/text-encoding.ts' // Bare has no TextEncoder global; Node: nothing
import '../../runtime/fetch.ts' // Bare has no fetch global; Node: nothing
import { GrowrError } from '../../errors.ts'

/** The subset of WHATWG fetch this client uses; Node's global fetch and bare-fetch fit it. */
export type FetchLike = (url: string, init: {
  method: 'POST'
  headers: Record<string, string>
  body: string
  signal?: unknown
}) => Promise<{ status: number, text (): Promise<string> }>

/** How to reach the backend. */
export interface EvmRpcOptions {
  /** the endpoint, `http(s)://host:port/`; credentials in the URL are moved to the auth header */
  url: string
  /** how long one call may take, connection to last byte, in milliseconds (a positive integer) */
  timeoutMs: number
  /** the fetch to use; the global one by default (required under Bare, which has none) */
  fetch?: FetchLike
}

/** An error the node answered with: a {@link GrowrError} coded `BACKEND_ERROR` that also carries what the node said. */
export class EvmRpcError extends GrowrError {
  /** the RPC method that failed */
  readonly method: string
  /** the node's JSON-RPC error code (-32601 method not found, -32602 invalid params, -32000/3 execution reverted...), or null when the failure was HTTP-level or a malformed answer */
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

/** @returns whether `err` is the node saying it does not have the method (JSON-RPC -32601) */
export function isMethodNotFound (err: unknown): boolean {
  return err instanceof EvmRpcError && (err.rpcCode === -32601 || /method not found|not supported|does not exist/i.test(err.nodeMessage))
}

/** A transaction as `eth_getTransactionByHash` / full blocks return it (the fields read here). */
export interface EvmTransactionInfo {
  hash: string
  /** '0x0' legacy; absent on old nodes (legacy) */
  type?: string
  nonce: string
  gasPrice?: string
  gas: string
  to: string | null
  value: string
  input: string
  v: string
  r: string
  s: string
  /** null while pending */
  blockHash: string | null
  blockNumber: string | null
  transactionIndex: string | null
  from: string
}

/** A log as receipts return it. */
export interface EvmLogInfo {
  address: string
  topics: string[]
  data: string
}

/** A receipt as `eth_getTransactionReceipt` / `eth_getBlockReceipts` return it (the fields read here). */
export interface EvmReceiptInfo {
  transactionHash: string
  transactionIndex: string
  blockHash: string
  blockNumber: string
  /** '0x0' legacy; absent on old nodes and on rskj (legacy) */
  type?: string
  /** '0x1' success, '0x0' reverted (rskj: '0x01' / '0x00' or '0x') */
  status: string
  cumulativeGasUsed: string
  gasUsed: string
  logsBloom: string
  logs: EvmLogInfo[]
  contractAddress: string | null
}

/** A block as `eth_getBlockByHash(hash, true)` returns it: header fields and full transactions. */
export interface EvmBlockInfo {
  hash: string
  number: string
  parentHash: string
  transactionsRoot: string
  receiptsRoot: string
  transactions: EvmTransactionInfo[]
  /** every other header field, kept as the node gave it (see proof-fetcher's header encoding) */
  [field: string]: unknown
}

/** A call or transaction to estimate (`eth_estimateGas`, `eth_call`); hex quantities. */
export interface EvmCallRequest {
  from?: string
  to: string
  value?: string
  data?: string
  gasPrice?: string
}

const QUANTITY = /^0x[0-9a-fA-F]{1,64}$/
const HASH = /^0x[0-9a-fA-F]{64}$/
const DATA = /^0x([0-9a-fA-F]{2})*$/

/**
 * An EVM JSON-RPC client. One instance per configured backend; it holds no connection, so
 * there is nothing to close.
 */
export class EvmRpc {
  /** the endpoint without credentials: safe to show and log */
  readonly url: string
  readonly timeoutMs: number
  readonly #auth: string | null
  readonly #secrets: string[]
  readonly #fetch: FetchLike
  #id = 0

  /**
   * @param options endpoint and per-call timeout ({@link EvmRpcOptions})
   * @throws GrowrError BAD_ARGUMENT when the URL is not http(s), the timeout is not a positive integer, or there is no fetch in this runtime (Bare) and none is passed
   */
  constructor (options: EvmRpcOptions) {
    const { url, timeoutMs } = options
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw GrowrError.BAD_ARGUMENT('the Rootstock backend URL is not a URL')
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw GrowrError.BAD_ARGUMENT('the Rootstock backend URL must be http:// or https://')
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw GrowrError.BAD_ARGUMENT('timeoutMs must be a positive integer of milliseconds')
    const username = decodeURIComponent(parsed.username)
    const password = decodeURIComponent(parsed.password)
    // built by hand: Bare's URL prints cleared credentials as `http://:@host/`
    this.url = `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search}`
    this.timeoutMs = timeoutMs
    this.#auth = username !== '' || password !== '' ? 'Basic ' + base64Utf8(`${username}:${password}`) : null
    this.#secrets = [password, username].filter((s) => s.length >= 4) // shorter ones would mangle every message and protect nothing
    let f: FetchLike | undefined = options.fetch
    if (f === undefined && typeof globalThis.fetch === 'function') f = globalThis.fetch.bind(globalThis) as unknown as FetchLike
    if (f === undefined) throw GrowrError.BAD_ARGUMENT('this runtime has no fetch (Bare): pass options.fetch, e.g. from bare-fetch')
    this.#fetch = f
  }

  /**
   * Calls one JSON-RPC 2.0 method.
   * @param method e.g. `eth_blockNumber`
   * @param params its positional parameters
   * @returns the `result` member of the answer, unchecked (the named methods below check theirs)
   * @throws GrowrError BACKEND_UNREACHABLE when nothing answers within `timeoutMs`; {@link EvmRpcError} (code BACKEND_ERROR) when the node answers with an error, refuses the credentials or does not speak JSON-RPC
   */
  async call<T = unknown> (method: string, params: unknown[] = []): Promise<T> {
    const id = ++this.#id
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (this.#auth !== null) headers.authorization = this.#auth
    const body = JSON.stringify({ jsonrpc: '2.0', id, method, params })
    const controller = typeof AbortController === 'function' ? new AbortController() : null
    let timer: ReturnType<typeof setTimeout> | undefined
    let timedOut = false
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true
        controller?.abort()
        reject(GrowrError.BACKEND_UNREACHABLE(this.#scrub(`the Rootstock backend at ${this.url} did not answer ${method} within ${this.timeoutMs} ms`)))
      }, this.timeoutMs)
    })
    const exchange = async (): Promise<{ status: number, text: string }> => {
      try {
        const res = await this.#fetch(this.url, { method: 'POST', headers, body, signal: controller?.signal })
        return { status: res.status, text: await res.text() }
      } catch (err) {
        if (timedOut) throw err // the timer already rejected with the clearer reason
        throw GrowrError.BACKEND_UNREACHABLE(this.#scrub(`the Rootstock backend at ${this.url} is unreachable (${networkReason(err)}) calling ${method}`))
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
    if (status === 401 || status === 403) {
      throw new EvmRpcError(method, `the Rootstock backend at ${this.url} refused the credentials (HTTP ${status})`, null, status)
    }
    let reply: unknown
    try {
      reply = JSON.parse(text)
    } catch {
      throw new EvmRpcError(method, `the Rootstock backend at ${this.url} answered ${method} with HTTP ${status} and no JSON-RPC reply`, null, status)
    }
    if (reply === null || typeof reply !== 'object' || Array.isArray(reply) || !('result' in reply || 'error' in reply)) {
      throw new EvmRpcError(method, `the Rootstock backend at ${this.url} answered ${method} with something that is not a JSON-RPC reply`, null, status)
    }
    const { result, error, id: replyId } = reply as { result?: unknown, error?: unknown, id?: unknown }
    if (error !== null && error !== undefined) {
      const e = error as { code?: unknown, message?: unknown }
      const rpcCode = typeof e.code === 'number' ? e.code : null
      const message = this.#scrub(typeof e.message === 'string' ? e.message : JSON.stringify(error))
      throw new EvmRpcError(method, `${method} failed on the Rootstock backend: ${message}${rpcCode !== null ? ` (code ${rpcCode})` : ''}`, rpcCode, status, message)
    }
    if (replyId !== id) {
      throw new EvmRpcError(method, `the Rootstock backend at ${this.url} answered ${method} for another request (id ${String(replyId)}, not ${id})`, null, status)
    }
    if (status !== 200) throw new EvmRpcError(method, `the Rootstock backend at ${this.url} answered ${method} with HTTP ${status}`, null, status)
    return result as T
  }

  #scrub (message: string): string {
    let out = message
    for (const s of this.#secrets) out = out.split(s).join('***')
    return out
  }

  #bad (method: string, what: string): EvmRpcError {
    return new EvmRpcError(method, `the Rootstock backend at ${this.url} answered ${method} with ${what}`, null, 200)
  }

  async #quantity (method: string, params: unknown[] = []): Promise<bigint> {
    const r = await this.call<unknown>(method, params)
    if (typeof r !== 'string' || !QUANTITY.test(r)) throw this.#bad(method, 'something that is not a hex quantity')
    return BigInt(r)
  }

  /** @returns the chain id the node signs for (EIP-155 / EIP-695 `eth_chainId`) @throws GrowrError BACKEND_UNREACHABLE / BACKEND_ERROR as {@link call} */
  async chainId (): Promise<number> {
    const n = await this.#quantity('eth_chainId')
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw this.#bad('eth_chainId', 'a chain id beyond 2^53')
    return Number(n)
  }

  /** @returns the height of the node's best block @throws GrowrError BACKEND_UNREACHABLE / BACKEND_ERROR as {@link call} */
  async blockNumber (): Promise<number> {
    const n = await this.#quantity('eth_blockNumber')
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw this.#bad('eth_blockNumber', 'a height beyond 2^53')
    return Number(n)
  }

  /** @returns the balance of `address` in wei at `block` ('latest' by default) @throws GrowrError BAD_ARGUMENT for a malformed address; BACKEND_* as {@link call} */
  async getBalance (address: string, block: 'latest' | 'pending' = 'latest'): Promise<bigint> {
    checkAddress(address)
    return await this.#quantity('eth_getBalance', [address, block])
  }

  /**
   * @param address the sender
   * @param block 'pending' counts the sender's transactions in the node's pool (the next nonce to use); 'latest' only mined ones
   * @returns the nonce count
   * @throws GrowrError BAD_ARGUMENT for a malformed address; BACKEND_* as {@link call}
   */
  async getTransactionCount (address: string, block: 'latest' | 'pending' = 'pending'): Promise<bigint> {
    checkAddress(address)
    return await this.#quantity('eth_getTransactionCount', [address, block])
  }

  /** @returns the node's gas price suggestion, wei per gas (Rootstock: at least the block's minimumGasPrice) @throws GrowrError BACKEND_* as {@link call} */
  async gasPrice (): Promise<bigint> {
    return await this.#quantity('eth_gasPrice')
  }

  /** @returns the gas `req` needs @throws GrowrError BACKEND_ERROR when the node says it would revert (the reason in the message); BACKEND_UNREACHABLE as {@link call} */
  async estimateGas (req: EvmCallRequest): Promise<bigint> {
    return await this.#quantity('eth_estimateGas', [req])
  }

  /** `eth_call` at 'latest'. @returns the returned data, 0x hex @throws GrowrError BACKEND_ERROR on a revert; BACKEND_UNREACHABLE as {@link call} */
  async ethCall (req: EvmCallRequest): Promise<string> {
    const r = await this.call<unknown>('eth_call', [req, 'latest'])
    if (typeof r !== 'string' || !DATA.test(r)) throw this.#bad('eth_call', 'something that is not hex data')
    return r
  }

  /**
   * Broadcasts a signed transaction.
   * @param rawTx 0x hex
   * @returns the transaction hash the node reports, 0x + 64 lowercase hex
   * @throws GrowrError BACKEND_ERROR when the node rejects it (nonce too low, insufficient funds...: the node's reason in the message); BACKEND_UNREACHABLE as {@link call}
   */
  async sendRawTransaction (rawTx: string): Promise<string> {
    if (typeof rawTx !== 'string' || !DATA.test(rawTx) || rawTx.length < 4) throw GrowrError.BAD_ARGUMENT('rawTx must be 0x-prefixed hex')
    const r = await this.call<unknown>('eth_sendRawTransaction', [rawTx])
    if (typeof r !== 'string' || !HASH.test(r)) throw this.#bad('eth_sendRawTransaction', 'something that is not a transaction hash')
    return r.toLowerCase()
  }

  /** @returns the transaction, or null when the node does not know it @throws GrowrError BAD_ARGUMENT for a malformed hash; BACKEND_* as {@link call} */
  async getTransactionByHash (hash: string): Promise<EvmTransactionInfo | null> {
    checkHash(hash, 'transaction hash')
    const r = await this.call<EvmTransactionInfo | null>('eth_getTransactionByHash', [hash])
    if (r === null) return null
    if (typeof r !== 'object' || typeof r.hash !== 'string' || r.hash.toLowerCase() !== hash.toLowerCase()) throw this.#bad('eth_getTransactionByHash', 'something that is not that transaction')
    return r
  }

  /** @returns the receipt, or null while the transaction is unknown or pending @throws GrowrError BAD_ARGUMENT for a malformed hash; BACKEND_* as {@link call} */
  async getTransactionReceipt (hash: string): Promise<EvmReceiptInfo | null> {
    checkHash(hash, 'transaction hash')
    const r = await this.call<EvmReceiptInfo | null>('eth_getTransactionReceipt', [hash])
    if (r === null) return null
    if (!isReceipt(r) || r.transactionHash.toLowerCase() !== hash.toLowerCase()) throw this.#bad('eth_getTransactionReceipt', 'something that is not that transaction\'s receipt')
    return r
  }

  /** @returns the block with its full transactions, or null when the node does not know it @throws GrowrError BAD_ARGUMENT for a malformed hash; BACKEND_* as {@link call} */
  async getBlockByHash (hash: string): Promise<EvmBlockInfo | null> {
    checkHash(hash, 'block hash')
    const r = await this.call<EvmBlockInfo | null>('eth_getBlockByHash', [hash, true])
    if (r === null) return null
    if (!isBlock(r) || r.hash.toLowerCase() !== hash.toLowerCase()) throw this.#bad('eth_getBlockByHash', 'something that is not that block')
    return r
  }

  /** @returns the block at `height` on the node's best chain with its full transactions, or null past the tip @throws GrowrError BACKEND_* as {@link call} */
  async getBlockByNumber (height: number): Promise<EvmBlockInfo | null> {
    if (!Number.isSafeInteger(height) || height < 0) throw GrowrError.BAD_ARGUMENT('height must be a non-negative integer')
    const r = await this.call<EvmBlockInfo | null>('eth_getBlockByNumber', ['0x' + height.toString(16), true])
    if (r === null) return null
    if (!isBlock(r) || BigInt(r.number) !== BigInt(height)) throw this.#bad('eth_getBlockByNumber', 'something that is not the block at that height')
    return r
  }

  /**
   * `eth_getBlockReceipts`: every receipt of a block, in order. Not every node has it (rskj does
   * not): see {@link isMethodNotFound}.
   * @returns the receipts, or null when the node does not know the block
   * @throws GrowrError BACKEND_ERROR (code -32601 when the method is missing); BACKEND_UNREACHABLE as {@link call}
   */
  async getBlockReceipts (blockHash: string): Promise<EvmReceiptInfo[] | null> {
    checkHash(blockHash, 'block hash')
    const r = await this.call<EvmReceiptInfo[] | null>('eth_getBlockReceipts', [blockHash])
    if (r === null) return null
    if (!Array.isArray(r) || !r.every(isReceipt)) throw this.#bad('eth_getBlockReceipts', 'something that is not a list of receipts')
    return r
  }
}

function isReceipt (r: unknown): r is EvmReceiptInfo {
  if (r === null || typeof r !== 'object') return false
  const x = r as EvmReceiptInfo
  return typeof x.transactionHash === 'string' && typeof x.blockHash === 'string' && typeof x.blockNumber === 'string' &&
    typeof x.transactionIndex === 'string' && typeof x.cumulativeGasUsed === 'string' && typeof x.logsBloom === 'string' && Array.isArray(x.logs)
}

function isBlock (r: unknown): r is EvmBlockInfo {
  if (r === null || typeof r !== 'object') return false
  const x = r as EvmBlockInfo
  return typeof x.hash === 'string' && typeof x.number === 'string' && QUANTITY.test(x.number) && Array.isArray(x.transactions)
}

function checkHash (hash: string, what: string): void {
  if (typeof hash !== 'string' || !HASH.test(hash)) throw GrowrError.BAD_ARGUMENT(`${what} must be 0x and 64 hex digits`)
}

function checkAddress (address: string): void {
  if (typeof address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(address)) throw GrowrError.BAD_ARGUMENT('an address is 0x and 40 hex digits')
}

function networkReason (err: unknown): string {
  const e = err as { cause?: { code?: string, message?: string }, code?: string, message?: string }
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? String(err)
}

function base64Utf8 (s: string): string {
  const bytes = new TextEncoder().encode(s)
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0)
    out += abc[(n >> 18) & 63] + abc[(n >> 12) & 63] + (i + 1 < bytes.length ? abc[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? abc[n & 63] : '=')
  }
  return out
}
