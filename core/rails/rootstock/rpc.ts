/**
 * A client for an EVM JSON-RPC endpoint (Ethereum execution API, ethereum/execution-apis), the
 * Rootstock backend a node is configured with: rskj's RPC (4444), a public Rootstock node, or
 * anvil in the tests. JSON-RPC 2.0 over HTTP POST.
 *
 * The transport (core/rails/json-rpc.ts) tells `BACKEND_UNREACHABLE` from `BACKEND_ERROR` and
 * keeps credentials in the URL (`https://user:key@host/`) out of every message; each named method
 * here checks the shape of what the node answered.
 *
 * Quantities (balances, gas, nonces) come back as bigint: wei exceed 2^53.
 * No `node:` imports: the module loads under Bare.
 */
import { GrowrError } from '../../errors.ts'
import { JsonRpcClient, JsonRpcError, type FetchLike } from '../json-rpc.ts'

export type { FetchLike } from '../json-rpc.ts'

/** How to reach the backend. */
export interface EvmRpcOptions {
  /** the endpoint, `http(s)://host:port/`; credentials in the URL are moved to the auth header */
  url: string
  /** how long one call may take, connection to last byte, in milliseconds (a positive integer) */
  timeoutMs: number
  /** the fetch to use; the global one by default (required under Bare, which has none) */
  fetch?: FetchLike
}

/** An error the node answered with (BACKEND_ERROR): the method, its JSON-RPC code (-32601 method not found, -32602 invalid params, -32000/3 execution reverted...), the HTTP status and the node's message. */
export class EvmRpcError extends JsonRpcError {}

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
  readonly #rpc: JsonRpcClient

  /**
   * @param options endpoint and per-call timeout ({@link EvmRpcOptions})
   * @throws GrowrError BAD_ARGUMENT when the URL is not http(s), the timeout is not a positive integer, or there is no fetch in this runtime and none is passed
   */
  constructor (options: EvmRpcOptions) {
    this.#rpc = new JsonRpcClient({
      url: options.url,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
      label: 'Rootstock',
      version: '2.0',
      error: (method, message, rpcCode, status, nodeMessage) => new EvmRpcError(method, message, rpcCode, status, nodeMessage)
    })
  }

  /** the endpoint without credentials: safe to show and log */
  get url (): string { return this.#rpc.url }
  /** ms one call may take */
  get timeoutMs (): number { return this.#rpc.timeoutMs }

  /**
   * Calls one JSON-RPC 2.0 method.
   * @param method e.g. `eth_blockNumber`
   * @param params its positional parameters
   * @returns the `result` member of the answer, unchecked (the named methods below check theirs)
   * @throws GrowrError BACKEND_UNREACHABLE when nothing answers within `timeoutMs`; {@link EvmRpcError} (code BACKEND_ERROR) when the node answers with an error, refuses the credentials or does not speak JSON-RPC
   */
  async call<T = unknown> (method: string, params: unknown[] = []): Promise<T> {
    return await this.#rpc.call<T>(method, params)
  }

  #bad (method: string, what: string): EvmRpcError {
    return this.#rpc.bad(method, what) as EvmRpcError
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
