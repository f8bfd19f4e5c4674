/**
 * The Bitcoin wallet's view of the chain: which outputs pay a set of watched scripts, which of
 * them are spent, what arrived when, for an explicit, growable set of output scripts (each with a
 * label the caller chooses, e.g. `{ chain: 'receive', index }`).
 *
 * Why block by block: the wallet's receive addresses are derived from book record ids
 * (core/wallet/receive-index.ts), so they are not sequential and a gap-limit scan would miss
 * them; and the backends it must work with (bitcoind, bcoin 1.0.2) share no address index and no
 * `scantxoutset`. What both offer is `getblockhash`, `getblock <hash> 0`, `getrawmempool` and
 * `getrawtransaction`, so the scanner reads every block from the wallet's birthday on.
 *
 * Nothing a backend answers is trusted: each block must hash to the hash asked for, meet its own
 * proof of work, link to the block the scanner holds below it, and its transactions must hash to
 * the header's Merkle root (no duplicates, CVE-2012-2459). A mempool transaction must hash to the
 * txid asked for. An answer that fails is refused (BACKEND_ERROR) and the state stays as it was.
 *
 * Reorganisations: the hash of every scanned height in a window of {@link REORG_WINDOW} blocks is
 * kept; when the backend's hash at a height differs, the state is rolled back to the highest
 * height where they agree and the blocks above are read again (deeper than the window: rescan
 * from the birthday).
 *
 * Layout: pure state transitions ({@link parseBlock}, {@link parseTransaction},
 * {@link applyBlock}, {@link rollback}, {@link watchScript}, {@link exportScannerState},
 * {@link importScannerState}) and one class, {@link ChainScanner}, that does the RPC. The state is
 * plain data; exported as JSON (bigints as decimal strings) with a version, so a node restarts
 * without rescanning. Mempool transactions are not part of the exported state: they are read
 * again on the next sync. No `node:` imports: loads under Bare.
 */
import '../../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { CompactSize, RawTx } from '@scure/btc-signer'
import { hex } from '@scure/base'
import { GrowrError } from '../../errors.ts'
import { checkProofOfWork, parseHeader, sha256d, toDisplayHex, type BitcoinNetwork as NetworkName } from '../../../books/proofs/bitcoin-header.ts'
import { isNotFound, MAX_BLOCK_BYTES, type BitcoinRpc } from './rpc.ts'

/** Version of the exported state ({@link ScannerStateJson}). */
export const SCANNER_STATE_VERSION = 1
/** How many recent block hashes are kept to find where a reorganisation forked. */
export const REORG_WINDOW = 288
/** A coinbase output is spendable at this depth (Bitcoin Core wallet: COINBASE_MATURITY + 1). */
export const COINBASE_MATURE_DEPTH = 101
/** Default bound on blocks read by one {@link ChainScanner.sync}. */
export const DEFAULT_BLOCKS_PER_SYNC = 100
/** Default bound on mempool transactions fetched by one sync. */
export const DEFAULT_MEMPOOL_FETCH = 500

/** The label a wallet gives a script: which BIP-84 chain and index derive it, and optionally what it is for. */
export interface WalletLabel {
  chain: 'receive' | 'change'
  index: number
  /** e.g. the book record the receive address was derived for */
  ref?: string
}

/** An unspent output paying a watched script. */
export interface ScannerUtxo<L = WalletLabel> {
  /** display order hex */
  txid: string
  vout: number
  /** sats */
  value: bigint
  /** scriptPubKey, hex */
  script: string
  /** height of the block holding it, null while in the mempool */
  height: number | null
  /** an output of a coinbase: spendable only at depth {@link COINBASE_MATURE_DEPTH} */
  coinbase: boolean
  label: L
}

/** A watched coin spent by a confirmed transaction. */
export interface SpentRecord<L = WalletLabel> {
  /** the coin as it was (confirmed) */
  utxo: ScannerUtxo<L> & { height: number }
  /** the spending transaction */
  spentBy: string
  /** the height of the block holding the spending transaction */
  height: number
}

/** An output paying a watched script: an incoming payment (or change). */
export interface ScannerPayment<L = WalletLabel> {
  txid: string
  vout: number
  /** sats */
  amount: bigint
  /** scriptPubKey, hex */
  script: string
  label: L
  /** null while in the mempool */
  height: number | null
  coinbase: boolean
}

/** The scanner's state: plain, immutable data; transitions return a new one. */
export interface ScannerState<L = WalletLabel> {
  readonly version: typeof SCANNER_STATE_VERSION
  readonly network: NetworkName
  /** the first height scanned (the wallet's birthday) */
  readonly birthday: number
  /** the last height applied; birthday - 1 before the first block */
  readonly height: number
  /** block hash (display hex) by height, for the last {@link REORG_WINDOW} heights */
  readonly hashes: Readonly<Record<string, string>>
  /** label by watched scriptPubKey hex */
  readonly watched: Readonly<Record<string, L>>
  /** unspent confirmed coins by outpoint `txid:vout` */
  readonly utxos: Readonly<Record<string, ScannerUtxo<L> & { height: number }>>
  /** spent coins by outpoint */
  readonly spent: Readonly<Record<string, SpentRecord<L>>>
  /** confirmed outputs to watched scripts, in chain order */
  readonly payments: readonly ScannerPayment<L>[]
  /** height of every confirmed transaction that pays or spends a watched coin */
  readonly txs: Readonly<Record<string, number>>
}

/** A transaction as the scanner keeps it. */
export interface ParsedTx {
  txid: string
  coinbase: boolean
  /** outpoints spent, `txid:vout` (none for a coinbase) */
  inputs: string[]
  outputs: Array<{ script: string, amount: bigint }>
}

/** A block that passed {@link parseBlock}'s checks. */
export interface ParsedBlock {
  /** display order hex */
  hash: string
  prevHash: string
  txs: ParsedTx[]
}

/** A verdict: the value, or why not in plain words. */
export type Checked<T> = { ok: true } & T | { ok: false, reason: string }

const ZERO_TXID = '0'.repeat(64)

function outpoint (txid: string, vout: number): string {
  return `${txid}:${vout}`
}

/**
 * Reads one transaction at the start of `bytes` (BIP-144 serialization, witness or not), with
 * @scure/btc-signer's RawTx coder (canonical CompactSize only).
 * @returns the transaction and how many bytes it took, or why it does not parse
 */
function readTx (bytes: Uint8Array): Checked<{ tx: ParsedTx, length: number }> {
  let raw: ReturnType<typeof RawTx.decode>
  try {
    raw = RawTx.decode(bytes, { allowUnreadBytes: true })
  } catch (err) {
    return { ok: false, reason: `a transaction does not parse: ${(err as Error).message}` }
  }
  // The coder does not say how much it read: encode it again, and insist the bytes are the same
  // (a second serialization of the same transaction would shift every transaction after it).
  let again: Uint8Array
  let stripped: Uint8Array
  try {
    again = RawTx.encode(raw)
    stripped = RawTx.encode({ ...raw, segwitFlag: false, witnesses: undefined })
  } catch (err) {
    return { ok: false, reason: `a transaction does not serialize again: ${(err as Error).message}` }
  }
  if (again.length > bytes.length || !equal(again, bytes.subarray(0, again.length))) {
    return { ok: false, reason: 'a transaction is not in its canonical serialization' }
  }
  const txid = toDisplayHex(sha256d(stripped)) // BIP-141: the txid leaves the witness out
  const first = raw.inputs[0]
  const coinbase = raw.inputs.length === 1 && hex.encode(first.txid) === ZERO_TXID && first.index === 0xffffffff
  return {
    ok: true,
    length: again.length,
    tx: {
      txid,
      coinbase,
      inputs: coinbase ? [] : raw.inputs.map((i) => outpoint(hex.encode(i.txid), i.index)),
      outputs: raw.outputs.map((o) => ({ script: hex.encode(o.script), amount: o.amount }))
    }
  }
}

function equal (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Parses one raw transaction (as `getrawtransaction <txid> 0` answers it). Pure; never throws.
 * @param bytes the whole serialized transaction, nothing after it
 * @returns `{ ok: true, tx }` (txid in display order, outpoints spent, outputs with bigint sats), or `{ ok: false, reason }`
 */
export function parseTransaction (bytes: Uint8Array): Checked<{ tx: ParsedTx }> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'a transaction must be bytes' }
  const r = readTx(bytes)
  if (!r.ok) return r
  if (r.length !== bytes.length) return { ok: false, reason: `${bytes.length - r.length} bytes follow the transaction` }
  return { ok: true, tx: r.tx }
}

/** Bitcoin's Merkle root of txids (internal byte order), the last one paired with itself on odd levels. */
function merkleRoot (leaves: Uint8Array[]): Uint8Array {
  let level = leaves
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1] ?? level[i]
      const pair = new Uint8Array(64)
      pair.set(level[i], 0)
      pair.set(right, 32)
      next.push(sha256d(pair))
    }
    level = next
  }
  return level[0]
}

/**
 * Parses and checks a raw block (`getblock <hash> 0`): the 80-byte header, a CompactSize count,
 * the transactions. Pure; never throws.
 * Checks: the header hashes to `expectedHash`, meets its own proof of work within the network's
 * limit, the first transaction and only it is a coinbase, no txid appears twice (CVE-2012-2459),
 * the txids' Merkle root is the header's, and no byte is left over. Witnesses are not checked
 * against the coinbase's witness commitment: the scanner reads no witness data.
 * @param bytes the raw block
 * @param expectedHash the hash the block was asked by, display order hex
 * @param network whose proof-of-work limit applies
 * @returns the block (hash, previous hash, parsed transactions) or the reason it is refused
 */
export function parseBlock (bytes: Uint8Array, expectedHash: string, network: NetworkName): Checked<{ block: ParsedBlock }> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'a block must be bytes' }
  if (bytes.length > MAX_BLOCK_BYTES) return { ok: false, reason: `a block of ${bytes.length} bytes is larger than consensus allows` }
  const h = parseHeader(bytes.subarray(0, 80))
  if (!h.ok) return { ok: false, reason: `the block is too short for a header (${bytes.length} bytes)` }
  const hash = toDisplayHex(h.header.hash)
  if (hash !== expectedHash) return { ok: false, reason: `the block's header hashes to ${hash}, not the ${expectedHash} asked for` }
  const pow = checkProofOfWork(h.header, network)
  if (!pow.ok) return { ok: false, reason: pow.reason }
  let count: bigint | number
  try {
    count = CompactSize.decode(bytes.subarray(80), { allowUnreadBytes: true })
  } catch (err) {
    return { ok: false, reason: `the block's transaction count does not parse: ${(err as Error).message}` }
  }
  const n = Number(count)
  // every transaction is at least 60 bytes: a bound before allocating anything
  if (n < 1 || n > bytes.length / 60) return { ok: false, reason: `the block claims ${String(count)} transactions` }
  let at = 80 + CompactSize.encode(count).length
  const txs: ParsedTx[] = []
  const seen = new Set<string>()
  const leaves: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const r = readTx(bytes.subarray(at))
    if (!r.ok) return { ok: false, reason: `transaction ${i}: ${r.reason}` }
    at += r.length
    if (r.tx.coinbase !== (i === 0)) return { ok: false, reason: i === 0 ? 'the first transaction is not a coinbase' : `transaction ${i} is a second coinbase` }
    if (seen.has(r.tx.txid)) return { ok: false, reason: `transaction ${r.tx.txid} appears twice (a mutated block)` }
    seen.add(r.tx.txid)
    leaves.push(hex.decode(r.tx.txid).reverse())
    txs.push(r.tx)
  }
  if (at !== bytes.length) return { ok: false, reason: `${bytes.length - at} bytes follow the block's last transaction` }
  if (!equal(merkleRoot(leaves), h.header.merkleRoot)) return { ok: false, reason: 'the transactions do not hash to the header\'s Merkle root: they are not this block\'s' }
  return { ok: true, block: { hash, prevHash: toDisplayHex(h.header.prevHash), txs } }
}

/**
 * A fresh state: nothing scanned yet.
 * @param network the chain (sets the proof-of-work limit blocks are checked against)
 * @param birthday the first height to scan: the wallet's creation height (0 scans from genesis)
 * @throws GrowrError BAD_ARGUMENT for an unknown network or a birthday that is not a non-negative integer
 */
export function initialScannerState<L = WalletLabel> (network: NetworkName, birthday: number): ScannerState<L> {
  if (!['mainnet', 'testnet', 'signet', 'regtest'].includes(network)) throw GrowrError.BAD_ARGUMENT(`unknown Bitcoin network ${String(network)}`)
  if (!Number.isSafeInteger(birthday) || birthday < 0) throw GrowrError.BAD_ARGUMENT('birthday must be a non-negative block height')
  return { version: SCANNER_STATE_VERSION, network, birthday, height: birthday - 1, hashes: {}, watched: {}, utxos: {}, spent: {}, payments: [], txs: {} }
}

/**
 * Adds a watched script. Does not look back: coins already paid to it in scanned blocks are found
 * only by a rescan ({@link rollback} to below them, then sync).
 * @param state the current state
 * @param script scriptPubKey, bytes or hex
 * @param label the caller's label (JSON data)
 * @returns the new state (the same one if the script is already watched with an equal label)
 * @throws GrowrError BAD_ARGUMENT for a script that is not 1 to 10,000 bytes, or already watched with another label (it would relabel coins)
 */
export function watchScript<L> (state: ScannerState<L>, script: Uint8Array | string, label: L): ScannerState<L> {
  const s = scriptHex(script)
  const had = state.watched[s]
  if (had !== undefined) {
    if (JSON.stringify(had) === JSON.stringify(label)) return state
    throw GrowrError.BAD_ARGUMENT(`script ${s} is already watched with label ${JSON.stringify(had)}`)
  }
  return { ...state, watched: { ...state.watched, [s]: label } }
}

function scriptHex (script: Uint8Array | string): string {
  const s = typeof script === 'string' ? script : script instanceof Uint8Array ? hex.encode(script) : ''
  if (!/^([0-9a-f]{2}){1,10000}$/.test(s)) throw GrowrError.BAD_ARGUMENT('a script is 1 to 10,000 bytes, as bytes or lower-case hex')
  return s
}

/**
 * Applies the block at `height` (the one after `state.height`). Pure; never throws.
 * @param state the current state
 * @param block a block that passed {@link parseBlock}
 * @param height its height
 * @returns the new state, or why not: another height than the next, or a block that does not
 *   build on the block the state holds below it (the chain reorganised: roll back first)
 */
export function applyBlock<L> (state: ScannerState<L>, block: ParsedBlock, height: number): Checked<{ state: ScannerState<L> }> {
  if (height !== state.height + 1) return { ok: false, reason: `block at height ${height} is not the next one (the state is at ${state.height})` }
  const below = state.hashes[String(height - 1)]
  if (below !== undefined && below !== block.prevHash) {
    return { ok: false, reason: `block ${block.hash} at height ${height} builds on ${block.prevHash}, not on ${below}: the chain reorganised` }
  }
  const utxos = { ...state.utxos }
  const spent = { ...state.spent }
  const txs = { ...state.txs }
  const payments = [...state.payments]
  for (const tx of block.txs) {
    let relevant = false
    for (const op of tx.inputs) {
      const coin = utxos[op]
      if (coin === undefined) continue
      delete utxos[op]
      spent[op] = { utxo: coin, spentBy: tx.txid, height }
      relevant = true
    }
    tx.outputs.forEach((o, vout) => {
      const label = state.watched[o.script]
      if (label === undefined) return
      relevant = true
      utxos[outpoint(tx.txid, vout)] = { txid: tx.txid, vout, value: o.amount, script: o.script, height, coinbase: tx.coinbase, label }
      payments.push({ txid: tx.txid, vout, amount: o.amount, script: o.script, label, height, coinbase: tx.coinbase })
    })
    if (relevant) txs[tx.txid] = height
  }
  const hashes: Record<string, string> = {}
  for (const [k, v] of Object.entries(state.hashes)) if (Number(k) > height - REORG_WINDOW) hashes[k] = v
  hashes[String(height)] = block.hash
  return { ok: true, state: { ...state, height, hashes, utxos, spent, payments, txs } }
}

/**
 * Undoes every block above `height`: coins they created go, coins they spent come back. Pure.
 * @param state the current state
 * @param height the last height to keep (at least birthday - 1; below that it is clamped)
 * @returns the state as it was after block `height`, with the current watched scripts
 */
export function rollback<L> (state: ScannerState<L>, height: number): ScannerState<L> {
  const to = Math.max(height, state.birthday - 1)
  if (to >= state.height) return state
  const utxos: Record<string, ScannerUtxo<L> & { height: number }> = {}
  for (const [k, u] of Object.entries(state.utxos)) if (u.height <= to) utxos[k] = u
  const spent: Record<string, SpentRecord<L>> = {}
  for (const [k, s] of Object.entries(state.spent)) {
    if (s.height <= to) spent[k] = s
    else if (s.utxo.height <= to) utxos[k] = s.utxo
  }
  const txs: Record<string, number> = {}
  for (const [k, h] of Object.entries(state.txs)) if (h <= to) txs[k] = h
  const hashes: Record<string, string> = {}
  for (const [k, v] of Object.entries(state.hashes)) if (Number(k) <= to) hashes[k] = v
  return { ...state, height: to, hashes, utxos, spent, txs, payments: state.payments.filter((p) => (p.height as number) <= to) }
}

/** The exported state: JSON-safe (bigints as decimal strings), versioned. */
export interface ScannerStateJson {
  version: number
  network: string
  birthday: number
  height: number
  hashes: Record<string, string>
  watched: Array<{ script: string, label: unknown }>
  utxos: Array<Omit<ScannerUtxo<unknown>, 'value'> & { value: string }>
  spent: Array<{ utxo: Omit<ScannerUtxo<unknown>, 'value'> & { value: string }, spentBy: string, height: number }>
  payments: Array<Omit<ScannerPayment<unknown>, 'amount'> & { amount: string }>
  txs: Record<string, number>
}

function utxoJson<L> (u: ScannerUtxo<L>): Omit<ScannerUtxo<L>, 'value'> & { value: string } {
  return { txid: u.txid, vout: u.vout, value: u.value.toString(), script: u.script, height: u.height, coinbase: u.coinbase, label: u.label }
}

/**
 * The state as JSON data (bigints as decimal strings), for the caller to store.
 * @returns a {@link ScannerStateJson} that {@link importScannerState} reads back
 */
export function exportScannerState<L> (state: ScannerState<L>): ScannerStateJson {
  return {
    version: state.version,
    network: state.network,
    birthday: state.birthday,
    height: state.height,
    hashes: { ...state.hashes },
    watched: Object.entries(state.watched).map(([script, label]) => ({ script, label })),
    utxos: Object.values(state.utxos).map(utxoJson),
    spent: Object.values(state.spent).map((s) => ({ utxo: utxoJson(s.utxo), spentBy: s.spentBy, height: s.height })),
    payments: state.payments.map((p) => ({ txid: p.txid, vout: p.vout, amount: p.amount.toString(), script: p.script, label: p.label, height: p.height, coinbase: p.coinbase })),
    txs: { ...state.txs }
  }
}

const TXID = /^[0-9a-f]{64}$/
const SATS = /^(0|[1-9][0-9]{0,15})$/

function bad (what: string): GrowrError {
  return GrowrError.BAD_ARGUMENT(`scanner state: ${what}`)
}

function isHeight (n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0
}

/**
 * Reads an exported state back, checking every field (a file on disk may be damaged).
 * @param json what {@link exportScannerState} returned (parsed from JSON)
 * @returns the state
 * @throws GrowrError UNSUPPORTED_VERSION for a version this code does not know; BAD_ARGUMENT naming the first malformed field
 */
export function importScannerState<L = WalletLabel> (json: unknown): ScannerState<L> {
  if (json === null || typeof json !== 'object') throw bad('not an object')
  const j = json as Partial<ScannerStateJson>
  if (j.version !== SCANNER_STATE_VERSION) throw GrowrError.UNSUPPORTED_VERSION(`scanner state version ${String(j.version)}: this node reads version ${SCANNER_STATE_VERSION}`)
  const state = initialScannerState<L>(j.network as NetworkName, j.birthday as number)
  if (!Number.isSafeInteger(j.height) || (j.height as number) < state.birthday - 1) throw bad('height')
  const height = j.height as number
  const hashes: Record<string, string> = {}
  if (j.hashes === null || typeof j.hashes !== 'object') throw bad('hashes')
  for (const [k, v] of Object.entries(j.hashes)) {
    if (!isHeight(Number(k)) || String(Number(k)) !== k || Number(k) > height || typeof v !== 'string' || !TXID.test(v)) throw bad(`hash at ${k}`)
    hashes[k] = v
  }
  const watched: Record<string, L> = {}
  if (!Array.isArray(j.watched)) throw bad('watched')
  for (const w of j.watched) {
    if (w === null || typeof w !== 'object' || typeof w.script !== 'string' || !/^([0-9a-f]{2})+$/.test(w.script)) throw bad('a watched script')
    watched[w.script] = w.label as L
  }
  const readUtxo = (u: any, confirmed: boolean): ScannerUtxo<L> & { height: number } => {
    if (u === null || typeof u !== 'object' || !TXID.test(u.txid) || !Number.isSafeInteger(u.vout) || u.vout < 0 || typeof u.value !== 'string' || !SATS.test(u.value) ||
      typeof u.script !== 'string' || !(u.script in watched) || !isHeight(u.height) || u.height > height || typeof u.coinbase !== 'boolean' || !confirmed) {
      throw bad(`coin ${String(u?.txid)}:${String(u?.vout)}`)
    }
    return { txid: u.txid, vout: u.vout, value: BigInt(u.value), script: u.script, height: u.height, coinbase: u.coinbase, label: watched[u.script] }
  }
  if (!Array.isArray(j.utxos) || !Array.isArray(j.spent) || !Array.isArray(j.payments)) throw bad('utxos, spent or payments')
  const utxos: Record<string, ScannerUtxo<L> & { height: number }> = {}
  for (const u of j.utxos) { const c = readUtxo(u, true); utxos[outpoint(c.txid, c.vout)] = c }
  const spent: Record<string, SpentRecord<L>> = {}
  for (const s of j.spent) {
    const c = readUtxo(s?.utxo, true)
    if (!TXID.test(s.spentBy) || !isHeight(s.height) || s.height < c.height || s.height > height) throw bad(`spent coin ${c.txid}:${c.vout}`)
    spent[outpoint(c.txid, c.vout)] = { utxo: c, spentBy: s.spentBy, height: s.height }
  }
  const payments: ScannerPayment<L>[] = j.payments.map((p) => {
    const c = readUtxo({ ...p, value: p?.amount }, true)
    return { txid: c.txid, vout: c.vout, amount: c.value, script: c.script, label: c.label, height: c.height, coinbase: c.coinbase }
  })
  const txs: Record<string, number> = {}
  if (j.txs === null || typeof j.txs !== 'object') throw bad('txs')
  for (const [k, v] of Object.entries(j.txs)) {
    if (!TXID.test(k) || !isHeight(v) || v > height) throw bad(`transaction ${k}`)
    txs[k] = v
  }
  return { ...state, height, hashes, watched, utxos, spent, payments, txs }
}

/** The backend calls the scanner makes: a {@link BitcoinRpc}, or anything with the same methods. */
export type ScannerRpc = Pick<BitcoinRpc, 'getBlockCount' | 'getBlockHash' | 'getBlock' | 'getRawMempool' | 'getRawTransaction'>

/** Options of {@link ChainScanner}. */
export interface ChainScannerOptions {
  rpc: ScannerRpc
  network: NetworkName
  /** the first height to scan (ignored when `state` is given) */
  birthday?: number
  /** a state exported earlier ({@link ChainScanner.toJSON}): resumes from there */
  state?: unknown
  /** bound on blocks read by one sync (default {@link DEFAULT_BLOCKS_PER_SYNC}) */
  blocksPerSync?: number
  /** bound on mempool transactions fetched by one sync (default {@link DEFAULT_MEMPOOL_FETCH}) */
  mempoolFetch?: number
}

/** What one {@link ChainScanner.sync} did. */
export interface SyncResult {
  /** the height the scanner is at now */
  height: number
  /** the backend's tip when asked */
  tip: number
  /** blocks applied by this call */
  blocks: number
  /** the scanner reached the tip and read the mempool */
  caughtUp: boolean
  /** when a reorganisation was undone: the height rolled back to and from */
  reorganised: { from: number, to: number } | null
}

/** Sats: confirmed (spendable, not spent in the mempool), unconfirmed (mempool outputs to watched scripts), immature coinbase. */
export interface ScannerBalance {
  confirmed: bigint
  unconfirmed: bigint
  immature: bigint
}

/** A coin with its depth. */
export type ScannerCoin<L> = ScannerUtxo<L> & { confirmations: number }

/**
 * The wallet's chain view over a backend ({@link ScannerRpc}). Holds no connection or timer, so
 * there is nothing to close; {@link sync} calls are queued one after the other.
 */
export class ChainScanner<L = WalletLabel> {
  readonly network: NetworkName
  #rpc: ScannerRpc
  #state: ScannerState<L>
  #blocksPerSync: number
  #mempoolFetch: number
  /** txid -> parsed transaction, every mempool transaction fetched (relevant or not) */
  #mempool = new Map<string, ParsedTx>()
  #queue: Promise<unknown> = Promise.resolve()

  /**
   * @param options backend, network, birthday or a saved state, bounds ({@link ChainScannerOptions})
   * @throws GrowrError BAD_ARGUMENT for bad options or a damaged state, UNSUPPORTED_VERSION for a state of an unknown version, or of another network
   */
  constructor (options: ChainScannerOptions) {
    this.network = options.network
    this.#rpc = options.rpc
    this.#blocksPerSync = options.blocksPerSync ?? DEFAULT_BLOCKS_PER_SYNC
    this.#mempoolFetch = options.mempoolFetch ?? DEFAULT_MEMPOOL_FETCH
    if (!Number.isSafeInteger(this.#blocksPerSync) || this.#blocksPerSync < 1) throw GrowrError.BAD_ARGUMENT('blocksPerSync must be a positive integer')
    if (!Number.isSafeInteger(this.#mempoolFetch) || this.#mempoolFetch < 0) throw GrowrError.BAD_ARGUMENT('mempoolFetch must be a non-negative integer')
    if (options.state !== undefined) {
      this.#state = importScannerState<L>(options.state)
      if (this.#state.network !== options.network) throw GrowrError.BAD_ARGUMENT(`the saved scanner state is of ${this.#state.network}, not ${options.network}`)
    } else {
      this.#state = initialScannerState<L>(options.network, options.birthday ?? 0)
    }
  }

  /** The current state (immutable data). */
  get state (): ScannerState<L> { return this.#state }
  /** The last height scanned. */
  get height (): number { return this.#state.height }

  /**
   * Watches a script from now on (see {@link watchScript}: no look-back; {@link rescan} for that).
   * @throws GrowrError BAD_ARGUMENT as {@link watchScript}
   */
  watch (script: Uint8Array | string, label: L): void {
    this.#state = watchScript(this.#state, script, label)
  }

  /** @returns whether the script is watched */
  isWatched (script: Uint8Array | string): boolean {
    return scriptHex(script) in this.#state.watched
  }

  /**
   * Forgets the blocks from `height` on, so the next syncs read them again (e.g. after watching
   * scripts that may have been paid earlier).
   * @param height the first height to read again (clamped to the birthday)
   */
  rescan (height: number): void {
    if (!Number.isSafeInteger(height)) throw GrowrError.BAD_ARGUMENT('height must be an integer')
    this.#state = rollback(this.#state, height - 1)
  }

  /** The state as JSON data ({@link exportScannerState}); mempool transactions are left out. */
  toJSON (): ScannerStateJson {
    return exportScannerState(this.#state)
  }

  /**
   * Catches up with the backend: undoes a reorganisation if the backend's chain no longer holds
   * the last block scanned, reads at most `blocksPerSync` blocks, and once at the tip reads the
   * mempool. Calls are queued: one runs at a time.
   * @returns what it did ({@link SyncResult}); call again while `caughtUp` is false
   * @throws GrowrError BACKEND_UNREACHABLE when the backend does not answer; BACKEND_ERROR when it
   *   answers an error or something refused (a block that is not the one asked for, malformed, or
   *   not linked). Blocks applied before the failure stay applied; nothing half-applied remains.
   */
  async sync (): Promise<SyncResult> {
    const run = this.#queue.then(async () => await this.#sync())
    this.#queue = run.catch(() => {})
    return await run
  }

  async #sync (): Promise<SyncResult> {
    const tip = await this.#rpc.getBlockCount()
    let reorganised: SyncResult['reorganised'] = null
    const fork = await this.#findFork(tip)
    if (fork < this.#state.height) {
      reorganised = { from: this.#state.height, to: fork }
      this.#state = rollback(this.#state, fork)
    }
    let blocks = 0
    while (this.#state.height < tip && blocks < this.#blocksPerSync) {
      const height = this.#state.height + 1
      const hash = await this.#rpc.getBlockHash(height)
      const rawHex = await this.#rpc.getBlock(hash)
      const parsed = parseBlock(hex.decode(rawHex), hash, this.network)
      if (!parsed.ok) throw GrowrError.BACKEND_ERROR(`the Bitcoin backend's block at height ${height} is refused: ${parsed.reason}`)
      const next = applyBlock(this.#state, parsed.block, height)
      if (!next.ok) {
        // the chain moved between two calls: the next sync finds the fork
        return { height: this.#state.height, tip, blocks, caughtUp: false, reorganised }
      }
      this.#state = next.state
      blocks++
    }
    const caughtUp = this.#state.height >= tip
    if (caughtUp) await this.#readMempool()
    return { height: this.#state.height, tip, blocks, caughtUp, reorganised }
  }

  /** The highest scanned height whose hash the backend still has at that height. */
  async #findFork (tip: number): Promise<number> {
    const s = this.#state
    if (s.height < s.birthday) return s.height // nothing scanned yet
    for (let h = Math.min(s.height, tip); h >= s.birthday; h--) {
      const mine = s.hashes[String(h)]
      if (mine === undefined) break // deeper than the window: read everything again
      if (await this.#rpc.getBlockHash(h) === mine) return h
    }
    return s.birthday - 1
  }

  async #readMempool (): Promise<void> {
    const ids = await this.#rpc.getRawMempool()
    const now = new Set(ids)
    for (const txid of this.#mempool.keys()) if (!now.has(txid)) this.#mempool.delete(txid)
    let fetched = 0
    for (const txid of ids) {
      if (fetched >= this.#mempoolFetch) break
      if (this.#mempool.has(txid) || txid in this.#state.txs) continue
      fetched++
      let rawHex: string
      try {
        rawHex = await this.#rpc.getRawTransaction(txid)
      } catch (err) {
        if (isNotFound(err)) continue // mined or evicted since the list was read
        throw err
      }
      const parsed = parseTransaction(hex.decode(rawHex))
      if (!parsed.ok) throw GrowrError.BACKEND_ERROR(`the Bitcoin backend's mempool transaction ${txid} is refused: ${parsed.reason}`)
      if (parsed.tx.txid !== txid) throw GrowrError.BACKEND_ERROR(`the Bitcoin backend answered transaction ${parsed.tx.txid} when asked for ${txid}`)
      this.#mempool.set(txid, parsed.tx)
    }
  }

  /**
   * Tells the scanner about a transaction the node's mempool holds (the payer's own, right after
   * the node took it), before the next sync reads the mempool. It stays until a sync reads a
   * mempool without it.
   * @param rawTx the raw transaction, hex
   * @returns its txid
   * @throws GrowrError BAD_ARGUMENT when it does not parse
   */
  noteTransaction (rawTx: string): string {
    const bytes = typeof rawTx === 'string' && /^([0-9a-f]{2})+$/.test(rawTx) ? hex.decode(rawTx) : null
    const parsed = bytes === null ? { ok: false as const, reason: 'not hex' } : parseTransaction(bytes)
    if (!parsed.ok) throw GrowrError.BAD_ARGUMENT(`not a transaction: ${parsed.reason}`)
    if (!(parsed.tx.txid in this.#state.txs)) this.#mempool.set(parsed.tx.txid, parsed.tx)
    return parsed.tx.txid
  }

  /** The mempool's view: relevant transactions, their watched outputs, and what they spend. */
  #mempoolView (): { relevant: Map<string, ParsedTx>, spentBy: Map<string, string>, outputs: Map<string, ScannerUtxo<L>> } {
    const outputs = new Map<string, ScannerUtxo<L>>()
    for (const tx of this.#mempool.values()) {
      if (tx.txid in this.#state.txs) continue
      tx.outputs.forEach((o, vout) => {
        const label = this.#state.watched[o.script]
        if (label !== undefined) outputs.set(outpoint(tx.txid, vout), { txid: tx.txid, vout, value: o.amount, script: o.script, height: null, coinbase: false, label })
      })
    }
    const spentBy = new Map<string, string>()
    const relevant = new Map<string, ParsedTx>()
    for (const tx of this.#mempool.values()) {
      if (tx.txid in this.#state.txs) continue
      let mine = tx.outputs.some((o) => o.script in this.#state.watched)
      for (const op of tx.inputs) {
        if (op in this.#state.utxos || outputs.has(op)) { spentBy.set(op, tx.txid); mine = true }
      }
      if (mine) relevant.set(tx.txid, tx)
    }
    return { relevant, spentBy, outputs }
  }

  /**
   * The watched coins not spent (in a block or in the mempool).
   * @param opts.minConfirmations 0 (default) includes mempool coins; 1 only confirmed ones
   * @param opts.includeImmature include coinbase outputs not yet {@link COINBASE_MATURE_DEPTH} deep (default false)
   * @returns coins with their confirmations (0 in the mempool), largest first
   */
  utxos (opts: { minConfirmations?: number, includeImmature?: boolean } = {}): Array<ScannerCoin<L>> {
    const min = opts.minConfirmations ?? 0
    const view = this.#mempoolView()
    const out: Array<ScannerCoin<L>> = []
    for (const [op, u] of Object.entries(this.#state.utxos)) {
      if (view.spentBy.has(op)) continue
      const confirmations = this.#state.height - u.height + 1
      if (confirmations < min) continue
      if (u.coinbase && confirmations < COINBASE_MATURE_DEPTH && opts.includeImmature !== true) continue
      out.push({ ...u, confirmations })
    }
    if (min <= 0) for (const [op, u] of view.outputs) if (!view.spentBy.has(op)) out.push({ ...u, confirmations: 0 })
    return out.sort((a, b) => a.value === b.value ? (a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : a.vout - b.vout) : a.value > b.value ? -1 : 1)
  }

  /** @returns sats: confirmed spendable, unconfirmed (mempool), immature coinbase ({@link ScannerBalance}) */
  balance (): ScannerBalance {
    let confirmed = 0n
    let unconfirmed = 0n
    let immature = 0n
    for (const u of this.utxos({ includeImmature: true })) {
      if (u.height === null) unconfirmed += u.value
      else if (u.coinbase && u.confirmations < COINBASE_MATURE_DEPTH) immature += u.value
      else confirmed += u.value
    }
    return { confirmed, unconfirmed, immature }
  }

  /**
   * Every output paying `script`, confirmed (chain order) then in the mempool.
   * @param script scriptPubKey, bytes or hex
   * @returns payments with their confirmations (0 in the mempool)
   */
  paymentsTo (script: Uint8Array | string): Array<ScannerPayment<L> & { confirmations: number }> {
    const s = scriptHex(script)
    const out = this.#state.payments.filter((p) => p.script === s).map((p) => ({ ...p, confirmations: this.#state.height - (p.height as number) + 1 }))
    for (const u of this.#mempoolView().outputs.values()) {
      if (u.script === s) out.push({ txid: u.txid, vout: u.vout, amount: u.value, script: u.script, label: u.label, height: null, coinbase: false, confirmations: 0 })
    }
    return out
  }

  /**
   * @param txid a transaction that pays or spends a watched coin
   * @returns its confirmations: >= 1 in a scanned block, 0 in the mempool, null when the scanner does not know it
   */
  confirmations (txid: string): number | null {
    const h = this.#state.txs[txid]
    if (h !== undefined) return this.#state.height - h + 1
    return this.#mempoolView().relevant.has(txid) ? 0 : null
  }

  /**
   * Who spent a watched coin.
   * @param op outpoint `txid:vout`
   * @returns the spending txid and its height (null: in the mempool), or null when unspent or unknown
   */
  spender (op: string): { txid: string, height: number | null } | null {
    const s = this.#state.spent[op]
    if (s !== undefined) return { txid: s.spentBy, height: s.height }
    const m = this.#mempoolView().spentBy.get(op)
    return m === undefined ? null : { txid: m, height: null }
  }

  /**
   * A watched coin by outpoint, spent or not.
   * @returns the coin, or null when the scanner has never seen it
   */
  coin (op: string): ScannerUtxo<L> | null {
    return this.#state.utxos[op] ?? this.#state.spent[op]?.utxo ?? this.#mempoolView().outputs.get(op) ?? null
  }
}
