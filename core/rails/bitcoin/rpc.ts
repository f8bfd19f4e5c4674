/**
 * A client for a Bitcoin Core-compatible JSON-RPC endpoint (bitcoind, or bcoin's RPC), the
 * Bitcoin backend a node is configured with: JSON-RPC 1.0 over HTTP POST (core/rails/json-rpc.ts:
 * BACKEND_UNREACHABLE vs BACKEND_ERROR, credentials never in a message), with HTTP basic auth:
 * bitcoind takes `rpcuser`/`rpcpassword`; bcoin takes any user name (by convention `x`) and its
 * `--api-key` as the password. Each named method checks the shape of what the node answered.
 * No `node:` imports: the module loads under Bare.
 */
import { GrowrError } from '../../errors.ts'
import { JsonRpcClient, JsonRpcError, type FetchLike } from '../json-rpc.ts'

export type { FetchLike } from '../json-rpc.ts'

/** How to reach and authenticate to the backend. */
export interface BitcoinRpcOptions {
  /** the endpoint, `http://host:port/` (bitcoind 8332 mainnet / 18443 regtest; bcoin 8332 / 48332 regtest); credentials in the URL are moved to the auth header */
  url: string
  /** bitcoind `rpcuser`; ignored when `apiKey` is given */
  username?: string
  /** bitcoind `rpcpassword` */
  password?: string
  /** bcoin `--api-key` (sent as basic auth `x:<apiKey>`) */
  apiKey?: string
  /** how long one call may take, connection to last byte, in milliseconds (a positive integer) */
  timeoutMs: number
  /** the fetch to use; the global one by default (required under Bare, which has none) */
  fetch?: FetchLike
}

/** An error the node answered with (BACKEND_ERROR): the method, its JSON-RPC code (-32601 method not found, -5 bitcoind's "no such transaction"; bcoin uses -1 for that), the HTTP status and the node's message. */
export class BitcoinRpcError extends JsonRpcError {}

/** `getrawtransaction <txid> true`: the fields this project reads. */
export interface RawTransactionInfo {
  txid: string
  /** the raw transaction, with witness, hex (bitcoind and bcoin both include it) */
  hex?: string
  /** the block holding it; absent (bitcoind) or null (bcoin) while it is in the mempool */
  blockhash?: string | null
  /** blocks on top of and including its block; 0 or absent in the mempool */
  confirmations?: number
}

/** `getblockheader <hash> true`: the fields this project reads. */
export interface BlockHeaderInfo {
  hash: string
  height: number
  /** -1 when the block is not on the main chain (bitcoind) */
  confirmations: number
  previousblockhash?: string | null
}

/** A fee rate the backend estimates. */
export interface FeeEstimate {
  /** sats per 1000 virtual bytes (an integer; divide by 1000 for sat/vB) */
  satPerKvB: bigint
  /** the confirmation target the estimate is for, in blocks */
  blocks: number
}

const HASH_HEX = /^[0-9a-f]{64}$/
/** The largest serialized block consensus allows (4,000,000 weight units: at most 4 MB of bytes). */
export const MAX_BLOCK_BYTES = 4_000_000

/**
 * A Bitcoin Core-compatible JSON-RPC client. One instance per configured backend; it holds no
 * connection, so there is nothing to close.
 */
export class BitcoinRpc {
  readonly #rpc: JsonRpcClient

  /**
   * @param options endpoint, credentials and per-call timeout ({@link BitcoinRpcOptions})
   * @throws GrowrError BAD_ARGUMENT when the URL is not http(s), the timeout is not a positive integer, or there is no fetch in this runtime and none is passed
   */
  constructor (options: BitcoinRpcOptions) {
    const { apiKey } = options
    this.#rpc = new JsonRpcClient({
      url: options.url,
      username: apiKey !== undefined ? 'x' : options.username,
      password: apiKey ?? options.password,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
      label: 'Bitcoin',
      version: '1.0',
      error: (method, message, rpcCode, status, nodeMessage) => new BitcoinRpcError(method, message, rpcCode, status, nodeMessage)
    })
  }

  /** the endpoint without credentials: safe to show and log */
  get url (): string { return this.#rpc.url }
  /** ms one call may take */
  get timeoutMs (): number { return this.#rpc.timeoutMs }

  /**
   * Calls one JSON-RPC method (JSON-RPC 1.0 body: `{ jsonrpc: '1.0', id, method, params }`).
   * @param method the RPC method, e.g. `getblockcount`
   * @param params its positional parameters
   * @returns the `result` member of the answer, unchecked (the named methods below check theirs)
   * @throws GrowrError BACKEND_UNREACHABLE when nothing answers within `timeoutMs`; {@link BitcoinRpcError} (code BACKEND_ERROR) when the node answers with an error, refuses the credentials or does not speak JSON-RPC
   */
  async call<T = unknown> (method: string, params: unknown[] = []): Promise<T> {
    return await this.#rpc.call<T>(method, params)
  }

  #bad (method: string, what: string): BitcoinRpcError {
    return this.#rpc.bad(method, what) as BitcoinRpcError
  }

  /**
   * @returns the height of the node's best chain tip (blocks after genesis)
   * @throws GrowrError BACKEND_UNREACHABLE / BACKEND_ERROR as {@link call}
   */
  async getBlockCount (): Promise<number> {
    const n = await this.call<unknown>('getblockcount')
    if (!Number.isSafeInteger(n) || (n as number) < 0) throw this.#bad('getblockcount', 'something that is not a height')
    return n as number
  }

  /**
   * @param height a height on the node's best chain
   * @returns the hash of the block at that height, display order hex
   * @throws GrowrError BACKEND_ERROR when the height is past the tip (bitcoind code -8, bcoin "Block height out of range"); BACKEND_UNREACHABLE as {@link call}
   */
  async getBlockHash (height: number): Promise<string> {
    if (!Number.isSafeInteger(height) || height < 0) throw GrowrError.BAD_ARGUMENT('height must be a non-negative integer')
    const h = await this.call<unknown>('getblockhash', [height])
    if (typeof h !== 'string' || !HASH_HEX.test(h)) throw this.#bad('getblockhash', 'something that is not a block hash')
    return h
  }

  /**
   * `getblockheader`: the raw 80-byte header (hex) by default, its decoded fields with `verbose`.
   * @param hash the block hash, display order hex
   * @param verbose false (default) for the raw header, true for {@link BlockHeaderInfo}
   * @returns 160 hex characters, or the decoded header
   * @throws GrowrError BACKEND_ERROR for an unknown block; BACKEND_UNREACHABLE as {@link call}
   */
  async getBlockHeader (hash: string, verbose?: false): Promise<string>
  async getBlockHeader (hash: string, verbose: true): Promise<BlockHeaderInfo>
  async getBlockHeader (hash: string, verbose = false): Promise<string | BlockHeaderInfo> {
    checkHash(hash, 'block hash')
    const r = await this.call<unknown>('getblockheader', [hash, verbose])
    if (verbose) {
      const info = r as BlockHeaderInfo | null
      if (info === null || typeof info !== 'object' || info.hash !== hash || !Number.isSafeInteger(info.height)) throw this.#bad('getblockheader', 'something that is not that block\'s header')
      return info
    }
    if (typeof r !== 'string' || !/^[0-9a-f]{160}$/.test(r)) throw this.#bad('getblockheader', 'something that is not an 80-byte header')
    return r
  }

  /**
   * `getrawtransaction`: needs a transaction index on the node for confirmed transactions
   * (bitcoind `-txindex`, bcoin `--index-tx`).
   * @param txid display order hex
   * @param verbose false (default) for the raw transaction hex, true for {@link RawTransactionInfo} (block hash, confirmations)
   * @returns the raw transaction with witness, hex; or its decoded fields
   * @throws GrowrError BACKEND_ERROR when the node does not know the transaction (see {@link isNotFound}); BACKEND_UNREACHABLE as {@link call}
   */
  async getRawTransaction (txid: string, verbose?: false): Promise<string>
  async getRawTransaction (txid: string, verbose: true): Promise<RawTransactionInfo>
  async getRawTransaction (txid: string, verbose = false): Promise<string | RawTransactionInfo> {
    checkHash(txid, 'txid')
    // bitcoind takes a bool or 0/1 (0/1 on old versions); bcoin takes either
    const r = await this.call<unknown>('getrawtransaction', [txid, verbose ? 1 : 0])
    if (verbose) {
      const info = r as RawTransactionInfo | null
      if (info === null || typeof info !== 'object' || info.txid !== txid) throw this.#bad('getrawtransaction', 'something that is not that transaction')
      return info
    }
    if (typeof r !== 'string' || !/^([0-9a-f]{2})+$/.test(r)) throw this.#bad('getrawtransaction', 'something that is not a raw transaction')
    return r
  }

  /**
   * Broadcasts a signed transaction. bcoin before SegWit activation (about 432 regtest blocks)
   * returns the txid of a witness transaction while dropping it: callers track it until it confirms.
   * @param rawTx the signed transaction, hex
   * @returns its txid, display order hex
   * @throws GrowrError BACKEND_ERROR when the node rejects it (the node's reason in the message); BACKEND_UNREACHABLE as {@link call}
   */
  async sendRawTransaction (rawTx: string): Promise<string> {
    if (typeof rawTx !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(rawTx)) throw GrowrError.BAD_ARGUMENT('rawTx must be hex')
    const txid = await this.call<unknown>('sendrawtransaction', [rawTx])
    if (typeof txid !== 'string' || !HASH_HEX.test(txid)) throw this.#bad('sendrawtransaction', 'something that is not a txid')
    return txid
  }

  /**
   * `gettxoutproof`: the block header and BIP-37 partial Merkle tree proving the transactions are in the block.
   * @param txids the transactions, display order hex, all in that block
   * @param blockHash the block, display order hex (always passed: the proof must be of this block)
   * @returns the proof, hex (what books/proofs/bitcoin-spv.ts calls `txoutproof`)
   * @throws GrowrError BACKEND_ERROR when a transaction is not in that block; BACKEND_UNREACHABLE as {@link call}
   */
  async getTxOutProof (txids: string[], blockHash: string): Promise<string> {
    for (const t of txids) checkHash(t, 'txid')
    checkHash(blockHash, 'block hash')
    const r = await this.call<unknown>('gettxoutproof', [txids, blockHash])
    if (typeof r !== 'string' || !/^([0-9a-f]{2})+$/.test(r) || r.length < 160) throw this.#bad('gettxoutproof', 'something that is not a proof')
    return r
  }

  /**
   * `getblock <hash> 0`: the whole serialized block (header, transactions with witnesses). Both
   * bitcoind (verbosity 0) and bcoin 1.0.2 (its `verbose` flag takes 0 as false) answer raw hex.
   * Only the shape is checked here: that the block is the one asked for is the caller's check
   * (the scanner hashes its header and its transactions).
   * @param hash the block hash, display order hex
   * @returns the raw block, hex, at most {@link MAX_BLOCK_BYTES} bytes
   * @throws GrowrError BACKEND_ERROR for an unknown block or an answer that is not hex of a plausible block; BACKEND_UNREACHABLE as {@link call}
   */
  async getBlock (hash: string): Promise<string> {
    checkHash(hash, 'block hash')
    const r = await this.call<unknown>('getblock', [hash, 0])
    if (typeof r !== 'string' || r.length < 2 * 81 || r.length > 2 * MAX_BLOCK_BYTES || r.length % 2 !== 0 || !/^[0-9a-f]*$/.test(r)) {
      throw this.#bad('getblock', 'something that is not a raw block')
    }
    return r
  }

  /**
   * `getrawmempool`: the txids the node's mempool holds now.
   * @returns txids, display order hex (unsorted, as the node lists them)
   * @throws GrowrError BACKEND_ERROR when the answer is not a list of txids; BACKEND_UNREACHABLE as {@link call}
   */
  async getRawMempool (): Promise<string[]> {
    const r = await this.call<unknown>('getrawmempool', [false])
    if (!Array.isArray(r) || !r.every((x) => typeof x === 'string' && HASH_HEX.test(x))) throw this.#bad('getrawmempool', 'something that is not a list of txids')
    return r as string[]
  }

  /**
   * The node's fee-rate estimate for confirmation within `blocks` (`estimatesmartfee`; bitcoind
   * answers `feerate`, bcoin `fee`, both in BTC per 1000 vbytes). A node with no estimate
   * (regtest, a fresh node: bitcoind answers `errors`, bcoin `-1`) or that refuses the call gives null;
   * the payer then uses its floor.
   * @param blocks the confirmation target, 1 to 1008
   * @returns the rate in integer sats per 1000 vbytes, or null when the node has none
   * @throws GrowrError BACKEND_UNREACHABLE as {@link call} (an unreachable backend is shown, not hidden as "no estimate")
   */
  async estimateSmartFee (blocks: number): Promise<FeeEstimate | null> {
    if (!Number.isSafeInteger(blocks) || blocks < 1 || blocks > 1008) throw GrowrError.BAD_ARGUMENT('blocks must be an integer from 1 to 1008')
    let r: unknown
    try {
      r = await this.call<unknown>('estimatesmartfee', [blocks])
    } catch (err) {
      if (err instanceof GrowrError && err.code === 'BACKEND_ERROR') return null
      throw err
    }
    if (r === null || typeof r !== 'object') return null
    const { feerate, fee, blocks: target } = r as { feerate?: unknown, fee?: unknown, blocks?: unknown }
    const rate = typeof feerate === 'number' ? feerate : fee
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 21e6) return null
    const forBlocks = typeof target === 'number' && Number.isSafeInteger(target) ? target : blocks
    return { satPerKvB: btcToSats(rate), blocks: forBlocks }
  }
}

/**
 * Whether an error is the node saying it does not know a transaction or block (bitcoind code -5
 * RPC_INVALID_ADDRESS_OR_KEY; bcoin code -1 with "not found" in its message), as opposed to any
 * other failure (a missing method, -32601 "Method not found", is not).
 * @param err anything caught
 * @returns true for a BACKEND_ERROR meaning "not found"
 */
export function isNotFound (err: unknown): boolean {
  if (!(err instanceof BitcoinRpcError)) return false
  return err.rpcCode === -5 || (err.rpcCode === -1 && /not found/i.test(err.nodeMessage))
}

/** BTC amount from JSON (a JS number with at most 8 decimals) to integer sats, through its decimal text: no float arithmetic. */
function btcToSats (btc: number): bigint {
  const [whole, frac = ''] = btc.toFixed(8).split('.')
  return BigInt(whole) * 100_000_000n + BigInt(frac.padEnd(8, '0'))
}

function checkHash (hash: unknown, what: string): void {
  if (typeof hash !== 'string' || !HASH_HEX.test(hash)) throw GrowrError.BAD_ARGUMENT(`${what} must be 64 lowercase hex characters`)
}
