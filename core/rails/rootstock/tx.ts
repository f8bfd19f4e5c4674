/**
 * Rootstock payments: legacy (type 0) transactions signed under EIP-155 (replay protection: the
 * signature commits to the chain id) for native RBTC and for an ERC-20 `transfer(address,uint256)`
 * (EIP-20), built with @ethereumjs/rlp and signed with @noble/curves secp256k1 (RFC 6979
 * deterministic nonces, low s as EIP-2 requires). Rootstock has no typed transactions and no
 * base fee, so a legacy transaction with the node's `eth_gasPrice` is what it takes.
 *
 * The signer checks what it signs: the signed bytes are decoded again with the proof checker's
 * own decoder (books/proofs/evm-tx.ts) and must give back the sender, recipient, amount and chain
 * id asked for, and the node must report the same hash for the broadcast.
 *
 * Keys come from the node's BIP-39 seed (core/wallet/bip44-rootstock.ts
 * `deriveRootstockPrivateKey`, path m/44'/137'/account'/0/index) and are zeroed after use.
 * No `node:` imports: loads under Bare (with a fetch given to the {@link EvmRpc}).
 */
import '../../runtime/text-encoding.ts' // before @noble/@ethereumjs: Bare has no TextEncoder global
import { RLP } from '@ethereumjs/rlp'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { GrowrError } from '../../errors.ts'
import { deriveRootstockPrivateKey, publicKeyToAddress, checkChecksumAddress } from '../../wallet/bip44-rootstock.ts'
import { decodeLegacyTransaction, bytesToHexPlain, evmHexToBytes } from '../../../books/proofs/evm-tx.ts'
import type { EvmRpc } from './rpc.ts'

/** The fields of a legacy transaction before signing. Quantities are bigint (wei, gas units). */
export interface LegacyTxFields {
  nonce: bigint
  /** wei per gas */
  gasPrice: bigint
  gasLimit: bigint
  /** the recipient, 0x + 40 hex (for a token payment: the token contract) */
  to: string
  /** wei */
  value: bigint
  /** call data, 0x hex ('0x' for a plain transfer) */
  data: string
  /** EIP-155 chain id: 30 Rootstock mainnet, 31 testnet, 33 regtest/anvil */
  chainId: number
}

/** A signed transaction. */
export interface SignedLegacyTx {
  /** the raw signed transaction, 0x hex: what `eth_sendRawTransaction` takes and the transactions trie holds */
  raw: string
  /** keccak-256 of `raw`, 0x + 64 lowercase hex */
  hash: string
  /** the signer's address, lowercase */
  from: string
}

const U256_MAX = (1n << 256n) - 1n
const U64_MAX = (1n << 64n) - 1n
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
/** keccak256("transfer(address,uint256)")[0..4] */
const TRANSFER_SELECTOR = 'a9059cbb'

/**
 * The call data of an ERC-20 `transfer(to, amount)` (Solidity ABI: selector, then each argument
 * left-padded to 32 bytes).
 * @param to the payee, 0x + 40 hex
 * @param amount token units, 0 .. 2^256-1
 * @returns 0x hex, 68 bytes
 * @throws GrowrError BAD_ARGUMENT for a malformed address or an amount out of range
 */
export function encodeErc20Transfer (to: string, amount: bigint): string {
  checkAddress(to, 'the payee')
  if (typeof amount !== 'bigint' || amount < 0n || amount > U256_MAX) throw GrowrError.BAD_ARGUMENT('a token amount is an integer (bigint) from 0 to 2^256-1')
  return '0x' + TRANSFER_SELECTOR + to.slice(2).toLowerCase().padStart(64, '0') + amount.toString(16).padStart(64, '0')
}

/**
 * Signs a legacy EIP-155 transaction: v = chainId * 2 + 35 + recovery parity, over
 * keccak256(rlp([nonce, gasPrice, gasLimit, to, value, data, chainId, 0, 0])).
 * @param fields the transaction ({@link LegacyTxFields})
 * @param privateKey 32 bytes (not zeroed here: the caller owns it)
 * @returns the raw transaction, its hash and the signer's address
 * @throws GrowrError BAD_ARGUMENT for a field out of range or a bad key
 */
export function signLegacyTransaction (fields: LegacyTxFields, privateKey: Uint8Array): SignedLegacyTx {
  const { nonce, gasPrice, gasLimit, to, value, data, chainId } = fields
  for (const [name, v, max] of [['nonce', nonce, U64_MAX], ['gasPrice', gasPrice, U256_MAX], ['gasLimit', gasLimit, U64_MAX], ['value', value, U256_MAX]] as const) {
    if (typeof v !== 'bigint' || v < 0n || v > max) throw GrowrError.BAD_ARGUMENT(`${name} must be a bigint from 0 to ${max}`)
  }
  checkAddress(to, 'the recipient')
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw GrowrError.BAD_ARGUMENT('chainId must be a positive integer')
  const dataBytes = evmHexToBytes(data, 128 * 1024)
  if (dataBytes === null || !data.startsWith('0x')) throw GrowrError.BAD_ARGUMENT('data must be 0x-prefixed hex')
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) throw GrowrError.BAD_ARGUMENT('the private key must be 32 bytes')
  const toBytes = evmHexToBytes(to, 20) as Uint8Array
  const body = [int(nonce), int(gasPrice), int(gasLimit), toBytes, int(value), dataBytes]
  const digest = keccak_256(RLP.encode([...body, int(BigInt(chainId)), new Uint8Array(0), new Uint8Array(0)]))
  let sig
  try {
    sig = secp256k1.Signature.fromBytes(secp256k1.sign(digest, privateKey, { prehash: false, format: 'recovered', lowS: true }), 'recovered')
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`cannot sign with this key: ${(err as Error).message}`)
  }
  const v = BigInt(chainId) * 2n + 35n + BigInt(sig.recovery as number)
  const raw = RLP.encode([...body, int(v), int(sig.r), int(sig.s)])
  const from = publicKeyToAddress(secp256k1.getPublicKey(privateKey, true), null).toLowerCase()
  return { raw: '0x' + bytesToHexPlain(raw), hash: '0x' + bytesToHexPlain(keccak_256(raw)), from }
}

/** Which key of the node's wallet pays: BIP-44 `m/44'/137'/account'/0/index` of the seed. */
export interface RootstockSigner {
  /** the BIP-39 seed (16 to 64 bytes); not kept */
  seed: Uint8Array
  index: number
  account?: number
}

/** Options of {@link sendValue} and {@link sendToken}. */
export interface SendOptions {
  /** the chain the transaction must be for; the node's `eth_chainId` must say the same, or nothing is signed */
  chainId: number
  /** the paying key */
  signer: RootstockSigner
  /** the payee, 0x + 40 hex; a mixed-case address must carry a valid checksum (RSKIP-60 for this chain, or EIP-55) */
  to: string
  /** optional: the gas price to use instead of the node's `eth_gasPrice`, wei per gas */
  gasPrice?: bigint
}

/**
 * Pays native RBTC: a legacy transaction of `value` wei to `to`, nonce from
 * `eth_getTransactionCount(from, 'pending')`, gas price from `eth_gasPrice`, gas from
 * `eth_estimateGas`.
 * @param rpc the backend
 * @param options chain, signer, payee ({@link SendOptions})
 * @param value wei, > 0
 * @returns the signed transaction's hash, raw bytes and sender (the node reported the same hash)
 * @throws GrowrError BAD_ARGUMENT for bad arguments or a node on another chain; BACKEND_ERROR when the node rejects the transaction (e.g. insufficient funds) or reports another hash; BACKEND_UNREACHABLE
 */
export async function sendValue (rpc: Pick<EvmRpc, 'chainId' | 'getTransactionCount' | 'gasPrice' | 'estimateGas' | 'sendRawTransaction'>, options: SendOptions, value: bigint): Promise<SignedLegacyTx> {
  if (typeof value !== 'bigint' || value <= 0n || value > U256_MAX) throw GrowrError.BAD_ARGUMENT('value must be a positive bigint of wei')
  checkPayee(options.to, options.chainId)
  return await send(rpc, options, options.to, value, '0x', { to: options.to.toLowerCase(), value })
}

/**
 * Pays ERC-20 tokens: a legacy transaction calling `token.transfer(to, amount)`, no value.
 * @param rpc the backend
 * @param options chain, signer, payee ({@link SendOptions})
 * @param token the token contract, 0x + 40 hex
 * @param amount token units, > 0
 * @returns the signed transaction's hash, raw bytes and sender
 * @throws GrowrError BAD_ARGUMENT for bad arguments or a node on another chain; BACKEND_ERROR when the node says the transfer would revert (e.g. balance too low: eth_estimateGas fails) or rejects it; BACKEND_UNREACHABLE
 */
export async function sendToken (rpc: Pick<EvmRpc, 'chainId' | 'getTransactionCount' | 'gasPrice' | 'estimateGas' | 'sendRawTransaction'>, options: SendOptions, token: string, amount: bigint): Promise<SignedLegacyTx> {
  if (typeof amount !== 'bigint' || amount <= 0n) throw GrowrError.BAD_ARGUMENT('amount must be a positive bigint of token units')
  checkPayee(options.to, options.chainId)
  checkAddress(token, 'the token contract')
  const data = encodeErc20Transfer(options.to, amount)
  return await send(rpc, options, token, 0n, data, { to: token.toLowerCase(), value: 0n, data })
}

async function send (rpc: Pick<EvmRpc, 'chainId' | 'getTransactionCount' | 'gasPrice' | 'estimateGas' | 'sendRawTransaction'>, options: SendOptions, to: string, value: bigint, data: string,
  want: { to: string, value: bigint, data?: string }): Promise<SignedLegacyTx> {
  const { chainId, signer } = options
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw GrowrError.BAD_ARGUMENT('chainId must be a positive integer')
  if (signer === null || typeof signer !== 'object') throw GrowrError.BAD_ARGUMENT('signer must be { seed, index, account? }')
  const nodeChain = await rpc.chainId()
  if (nodeChain !== chainId) throw GrowrError.BAD_ARGUMENT(`the backend is on chain id ${nodeChain}, the payment is for chain id ${chainId}: nothing signed`)
  const key = deriveRootstockPrivateKey(signer.seed, signer.index, signer.account ?? 0)
  try {
    const from = publicKeyToAddress(secp256k1.getPublicKey(key, true), null).toLowerCase()
    const nonce = await rpc.getTransactionCount(from, 'pending')
    const gasPrice = options.gasPrice ?? await rpc.gasPrice()
    const gasLimit = await rpc.estimateGas({ from, to, value: quantity(value), data, gasPrice: quantity(gasPrice) })
    const signed = signLegacyTransaction({ nonce, gasPrice, gasLimit, to, value, data, chainId }, key)
    // read back what was signed with the verifier's decoder: a bug here would pay someone else
    const check = decodeLegacyTransaction(evmHexToBytes(signed.raw, 1 << 20) as Uint8Array)
    if (!check.ok || check.tx.from !== from || check.tx.to !== want.to || check.tx.value !== want.value || check.tx.chainId !== BigInt(chainId) ||
      '0x' + bytesToHexPlain(check.tx.data) !== (want.data ?? '0x').toLowerCase()) {
      throw GrowrError.INTERNAL('the signed transaction does not decode to the payment asked for: not broadcast')
    }
    const reported = await rpc.sendRawTransaction(signed.raw)
    if (reported !== signed.hash) throw GrowrError.BACKEND_ERROR(`the backend reported transaction ${reported} for the one signed, ${signed.hash}`)
    return signed
  } finally {
    key.fill(0)
  }
}

function checkPayee (to: string, chainId: number): void {
  checkAddress(to, 'the payee')
  const body = to.slice(2)
  if (body === body.toLowerCase() || body === body.toUpperCase()) return // no checksum to check
  const own = checkChecksumAddress(to, chainId)
  if (own.ok || checkChecksumAddress(to, null).ok) return
  throw GrowrError.BAD_ARGUMENT(`the payee address ${to}: ${own.reason}`)
}

function checkAddress (a: string, what: string): void {
  if (typeof a !== 'string' || !ADDRESS.test(a)) throw GrowrError.BAD_ARGUMENT(`${what} must be 0x and 40 hex digits`)
}

function int (v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0)
  let hex = v.toString(16)
  if (hex.length % 2) hex = '0' + hex
  return evmHexToBytes(hex, 64) as Uint8Array
}

function quantity (v: bigint): string {
  return '0x' + v.toString(16)
}
