/**
 * A bcoin 1.0.2 regtest node for tests: started in memory on free loopback ports, talked to over
 * its Bitcoin Core-compatible JSON-RPC, killed at teardown. bcoin is installed outside the project
 * by scripts/install-bcoin.sh into .tools/bcoin (see that script for why).
 *
 * Quirks (see ../shared/STACK.md): regtest bech32 prefix is `rb`; SegWit activates after about
 * 432 blocks; coinbase outputs mature after 100 blocks.
 *
 * Also a tiny deterministic wallet (BIP-84 keys from a fixed seed, P2WPKH with the `rb` prefix)
 * that builds and signs spends with @scure/btc-signer, so the tests need no bcoin wallet.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { HDKey } from '@scure/bip32'
import { Transaction, p2wpkh, Address } from '@scure/btc-signer'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** The bcoin full-node entry (bin/node; bin/bcoin is a shell wrapper) that scripts/install-bcoin.sh installs. */
export const BCOIN_BIN = path.join(ROOT, '.tools/bcoin/node_modules/bcoin/bin/node')

/** bcoin's regtest address parameters (bech32 `rb`, testnet base58 prefixes). */
export const BCOIN_REGTEST = { bech32: 'rb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }

/** @returns whether scripts/install-bcoin.sh has installed bcoin */
export function bcoinInstalled (): boolean {
  return fs.existsSync(BCOIN_BIN)
}

/** A running bcoin regtest node. */
export interface Bcoin {
  /** JSON-RPC endpoint, http://127.0.0.1:<port>/ */
  url: string
  /** calls a JSON-RPC method; throws with bcoin's error message on an RPC error */
  rpc<T = unknown> (method: string, params?: unknown[]): Promise<T>
  /** kills the node (also done at teardown) */
  close (): Promise<void>
}

/** @returns a TCP port that was free on 127.0.0.1 a moment ago */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

interface Teardown { teardown (fn: () => unknown | Promise<unknown>): void }

/**
 * Starts bcoin on regtest in memory, with no wallet, no listening socket, its HTTP/RPC on a free
 * loopback port, and waits until RPC answers.
 * @param t the test whose teardown kills the node
 * @returns the node's RPC handle
 * @throws when bcoin is not installed, exits, or does not answer within 20 s
 */
export async function startBcoin (t: Teardown): Promise<Bcoin> {
  if (!bcoinInstalled()) throw new Error('bcoin is not installed: run scripts/install-bcoin.sh')
  const [httpPort, p2pPort] = [await freePort(), await freePort()]
  const apiKey = 'growr-test-' + process.pid
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'growr-bcoin-'))
  const child: ChildProcess = spawn(process.execPath, [
    BCOIN_BIN,
    '--network=regtest', '--memory=true', '--workers=false', '--index-tx=true',
    '--no-wallet=true', '--listen=false', '--max-outbound=1', `--only=127.0.0.1:${p2pPort}`,
    `--port=${p2pPort}`, '--http-host=127.0.0.1', `--http-port=${httpPort}`, `--api-key=${apiKey}`,
    `--prefix=${prefix}`, '--log-file=false', '--log-level=error'
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d) => { stderr += String(d) })
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve() }))

  const url = `http://127.0.0.1:${httpPort}/`
  const auth = 'Basic ' + Buffer.from(`x:${apiKey}`).toString('base64')
  let id = 0
  const rpc = async <T = unknown>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '1.0', id: ++id, method, params })
    })
    const body = await res.json() as { result: T, error: { message: string } | null }
    if (body.error) throw new Error(`bcoin ${method}: ${body.error.message}`)
    return body.result
  }
  const close = async (): Promise<void> => {
    if (!exited) { child.kill('SIGKILL'); await exit }
    fs.rmSync(prefix, { recursive: true, force: true })
  }
  t.teardown(close)

  const deadline = Date.now() + 20_000
  for (;;) {
    if (exited) throw new Error(`bcoin exited before answering: ${stderr.slice(-2000)}`)
    try {
      await rpc('getblockchaininfo')
      break
    } catch (err) {
      if (Date.now() > deadline) { await close(); throw new Error(`bcoin did not answer RPC in 20 s: ${String(err)} ${stderr.slice(-2000)}`) }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return { url, rpc, close }
}

/** A key the tests hold: BIP-84 path on a fixed seed, its P2WPKH script and `rb1...` address. */
export interface TestKey {
  privateKey: Uint8Array
  publicKey: Uint8Array
  script: Uint8Array
  address: string
}

const SEED = new Uint8Array(32).fill(7)

/**
 * @param index the address index under m/84'/1'/0'/0
 * @param network address parameters; bcoin regtest by default
 * @returns the key at that index of a fixed test seed, with its P2WPKH address
 */
export function testKey (index: number, network = BCOIN_REGTEST): TestKey {
  const node = HDKey.fromMasterSeed(SEED).derive(`m/84'/1'/0'/0/${index}`)
  const publicKey = node.publicKey as Uint8Array
  const pay = p2wpkh(publicKey, network)
  return { privateKey: node.privateKey as Uint8Array, publicKey, script: pay.script, address: pay.address as string }
}

/**
 * Builds and signs a transaction spending one P2WPKH output of `from`.
 * @param from the key that owns the output
 * @param prev the output: txid (display order), vout, amount in sats
 * @param outputs addresses (bcoin regtest) and amounts in sats; whatever is left is the fee
 * @returns the signed raw transaction, hex
 */
export function signSpend (from: TestKey, prev: { txid: string, vout: number, amount: bigint }, outputs: Array<{ address: string, amount: bigint }>): string {
  const tx = new Transaction()
  tx.addInput({ txid: prev.txid, index: prev.vout, witnessUtxo: { script: from.script, amount: prev.amount } })
  for (const o of outputs) tx.addOutputAddress(o.address, o.amount, BCOIN_REGTEST)
  tx.sign(from.privateKey)
  tx.finalize()
  return tx.hex
}

/** @returns the address `key` has on another network's parameters (same key hash) */
export function addressOn (key: TestKey, network: { bech32: string, pubKeyHash: number, scriptHash: number, wif: number }): string {
  return Address(network).encode({ type: 'wpkh', hash: key.script.slice(2) })
}

/**
 * Waits until `txid` is in the node's mempool. bcoin 1.0.2's sendrawtransaction answers before
 * its mempool has taken the transaction (and even when it refuses it), so a block mined right
 * after may not hold it.
 * @returns whether it arrived within `timeoutMs`
 */
export async function untilInMempool (node: Bcoin, txid: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if ((await node.rpc<string[]>('getrawmempool')).includes(txid)) return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return false
}

/**
 * Sends a transaction the node must accept, and waits until its mempool holds it.
 * @returns the txid
 * @throws when the mempool has not taken it within 10 s
 */
export async function broadcast (node: Bcoin, rawTx: string): Promise<string> {
  const txid = await node.rpc<string>('sendrawtransaction', [rawTx])
  if (!await untilInMempool(node, txid)) throw new Error(`bcoin did not take ${txid} into its mempool`)
  return txid
}

/** BTC as the RPC prints it (a JSON number with at most 8 decimals) to sats, exactly, through its decimal text. */
export function btcToSats (btc: number): bigint {
  const [whole, frac = ''] = btc.toFixed(8).split('.')
  return BigInt(whole) * 100_000_000n + BigInt(frac.padEnd(8, '0'))
}

/**
 * The coinbase output 0 of the block at `height`, read with bcoin's verbose getblock (not with the
 * code under test).
 * @returns its txid, vout 0, amount in sats and scriptPubKey hex
 */
export async function coinbaseOf (node: Bcoin, height: number): Promise<{ txid: string, vout: number, amount: bigint, script: string }> {
  const hash = await node.rpc<string>('getblockhash', [height])
  const block = await node.rpc<{ tx: Array<{ txid: string, vout: Array<{ value: number, scriptPubKey: { hex: string } }> }> }>('getblock', [hash, true, true])
  const cb = block.tx[0]
  return { txid: cb.txid, vout: 0, amount: btcToSats(cb.vout[0].value), script: cb.vout[0].scriptPubKey.hex }
}
