/**
 * Rootstock (RSK) accounts: BIP-44 (bitcoin/bips bip-0044.mediawiki) path
 * `m/44'/137'/account'/0/index` (SLIP-0044 coin type 137, used on every Rootstock chain here),
 * over @scure/bip32; address = the last 20 bytes of keccak256(uncompressed public key without
 * its 0x04 prefix) (Ethereum yellow paper, eq. 284), written with the RSKIP-60 checksum
 * (rsksmart/RSKIPs IPs/RSKIP60.md), which is EIP-55 with the chain id mixed into the hash:
 * letter i is upper case when nibble i of keccak256(ASCII(`${chainId}0x${lowercase hex}`)) is 8
 * or more. Chain ids: 30 mainnet, 31 testnet, any other positive integer for a local dev chain;
 * `null` gives plain EIP-55 (no chain id).
 *
 * Pure functions and immutable values: no I/O, no clock, no randomness. Accounts hold the
 * account's extended public key only (watch-only).
 */
import '../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { HDKey, HARDENED_OFFSET } from '@scure/bip32'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'

/** SLIP-0044 coin type of Rootstock. */
export const ROOTSTOCK_COIN_TYPE = 137
/** Rootstock mainnet chain id (EIP-155). */
export const ROOTSTOCK_MAINNET = 30
/** Rootstock testnet chain id (EIP-155). */
export const ROOTSTOCK_TESTNET = 31
/** Highest non-hardened child index (2^31 - 1). */
export const MAX_INDEX = HARDENED_OFFSET - 1

const XPUB: { public: number, private: number } = { public: 0x0488b21e, private: 0x0488ade4 }
const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** A checksummed Rootstock address: `0x` and 40 hex digits in mixed case. */
export type RootstockAddress = `0x${string}`

function checkChainId (chainId: number | null): void {
  if (chainId === null) return
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw GrowrError.BAD_ARGUMENT('chain id must be a positive integer (30 mainnet, 31 testnet) or null')
}

function checkIndex (index: number, what = 'index'): void {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_INDEX) {
    throw GrowrError.BAD_ARGUMENT(`${what} must be an integer from 0 to ${MAX_INDEX} (non-hardened)`)
  }
}

/**
 * Write an address with the RSKIP-60 checksum for a chain.
 *
 * @param address `0x` + 40 hex digits, any case.
 * @param chainId 30, 31, a dev chain id, or null for plain EIP-55.
 * @returns the checksummed address.
 * @throws GrowrError BAD_ARGUMENT for a malformed address or chain id.
 */
export function toChecksumAddress (address: string, chainId: number | null): RootstockAddress {
  if (typeof address !== 'string' || !ADDRESS.test(address)) throw GrowrError.BAD_ARGUMENT('a Rootstock address is 0x followed by 40 hex digits')
  checkChainId(chainId)
  const lower = address.slice(2).toLowerCase()
  const prefix = chainId === null ? '' : `${chainId}0x`
  const hash = b4a.toString(keccak_256(b4a.from(prefix + lower, 'latin1')), 'hex')
  let out = '0x'
  for (let i = 0; i < lower.length; i++) {
    out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i]
  }
  return out as RootstockAddress
}

const KNOWN_CHAINS: ReadonlyArray<[number | null, string]> = [
  [ROOTSTOCK_MAINNET, 'Rootstock mainnet'], [ROOTSTOCK_TESTNET, 'Rootstock testnet'], [null, 'no chain id (Ethereum EIP-55)']
]

/**
 * Check that an address carries the RSKIP-60 checksum of `chainId`. Never throws.
 *
 * @param address as given by a person or a peer.
 * @param chainId the chain the address must be for (null: plain EIP-55).
 * @returns `{ ok: true, address }` or `{ ok: false, reason }` where reason says, in plain words,
 *   whether the address is malformed, has no checksum, carries another known chain's checksum, or
 *   has a mistyped character.
 */
export function checkChecksumAddress (address: string, chainId: number | null): { ok: true, address: RootstockAddress } | { ok: false, reason: string } {
  if (typeof address !== 'string' || !ADDRESS.test(address)) return { ok: false, reason: 'not a Rootstock address: expected 0x followed by 40 hex digits' }
  if (chainId !== null && (!Number.isSafeInteger(chainId) || chainId <= 0)) return { ok: false, reason: 'chain id must be a positive integer or null' }
  if (toChecksumAddress(address, chainId) === address) return { ok: true, address: address as RootstockAddress }
  const body = address.slice(2)
  if (body === body.toLowerCase() || body === body.toUpperCase()) {
    return { ok: false, reason: 'the address carries no checksum (all one case), so a typing mistake could not be caught' }
  }
  for (const [other, name] of KNOWN_CHAINS) {
    if (other !== chainId && toChecksumAddress(address, other) === address) {
      return { ok: false, reason: `the address is checksummed for ${name}${other === null ? '' : ` (chain id ${other})`}, not for chain id ${String(chainId)}` }
    }
  }
  return { ok: false, reason: `the checksum does not match for chain id ${String(chainId)}: a character is mistyped` }
}

/**
 * The address of a secp256k1 public key: last 20 bytes of keccak256 of the 64-byte uncompressed
 * point (x || y).
 *
 * @param publicKey 33-byte compressed or 65-byte uncompressed key.
 * @param chainId checksum chain id (null: EIP-55).
 * @returns the checksummed address.
 * @throws GrowrError BAD_ARGUMENT if the key is not a valid point.
 */
export function publicKeyToAddress (publicKey: Uint8Array, chainId: number | null): RootstockAddress {
  let point: Uint8Array
  try {
    point = secp256k1.Point.fromBytes(publicKey).toBytes(false)
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`not a secp256k1 public key: ${(err as Error).message}`)
  }
  const hash = keccak_256(point.subarray(1))
  return toChecksumAddress('0x' + b4a.toString(hash.subarray(12), 'hex'), chainId)
}

/** One derived Rootstock address. */
export interface RootstockAddressInfo {
  /** RSKIP-60 checksummed for the account's chain id. */
  address: RootstockAddress
  /** `m/44'/137'/account'/0/index`. */
  path: string
  index: number
  /** 33-byte compressed secp256k1 public key. */
  publicKey: Uint8Array
}

/** `m/44'/137'/account'`. */
export function rootstockAccountPath (account = 0): string {
  checkIndex(account, 'account')
  return `m/44'/${ROOTSTOCK_COIN_TYPE}'/${account}'`
}

/** A watch-only Rootstock account: the account-level xpub and the chain id. Immutable. */
export class RootstockAccount {
  readonly chainId: number
  readonly account: number
  /** `m/44'/137'/account'`. */
  readonly path: string
  /** Account extended public key (BIP-32 xpub version). */
  readonly xpub: string
  /** Fingerprint of the master key; null when built from an xpub. */
  readonly masterFingerprint: number | null
  private readonly node: HDKey

  /** Use {@link RootstockAccount.fromSeed} or {@link RootstockAccount.fromExtendedKey}. */
  constructor (chainId: number, node: HDKey, masterFingerprint: number | null) {
    checkChainId(chainId)
    if (node.publicKey === null || node.chainCode === null) throw GrowrError.BAD_ARGUMENT('extended key has no public key')
    this.chainId = chainId
    this.node = new HDKey({ versions: XPUB, depth: node.depth, index: node.index, parentFingerprint: node.parentFingerprint, chainCode: node.chainCode, publicKey: node.publicKey })
    this.account = node.index - HARDENED_OFFSET
    this.path = rootstockAccountPath(this.account)
    this.xpub = this.node.publicExtendedKey
    this.masterFingerprint = masterFingerprint
    Object.freeze(this)
  }

  /**
   * The account `m/44'/137'/account'` of a BIP-39 seed; private keys met on the way are wiped.
   *
   * @param seed 16 to 64 bytes. @param chainId 30, 31 or a dev chain id. @param account default 0.
   * @throws GrowrError BAD_ARGUMENT for bad arguments.
   */
  static fromSeed (seed: Uint8Array, chainId: number, account = 0): RootstockAccount {
    if (!(seed instanceof Uint8Array) || seed.byteLength < 16 || seed.byteLength > 64) throw GrowrError.BAD_ARGUMENT('seed must be 16 to 64 bytes')
    checkChainId(chainId)
    if (chainId === null) throw GrowrError.BAD_ARGUMENT('chain id is required')
    const root = HDKey.fromMasterSeed(seed, XPUB)
    const node = root.derive(rootstockAccountPath(account))
    try {
      return new RootstockAccount(chainId, node, root.fingerprint)
    } finally {
      root.wipePrivateData()
      node.wipePrivateData()
    }
  }

  /**
   * A watch-only account from its exported xpub.
   *
   * @throws GrowrError BAD_ARGUMENT when the key does not decode, is private, or is not an
   *   account key (depth 3, hardened index).
   */
  static fromExtendedKey (xpub: string, chainId: number): RootstockAccount {
    if (typeof xpub !== 'string') throw GrowrError.BAD_ARGUMENT('extended key must be a string')
    let node: HDKey
    try {
      node = HDKey.fromExtendedKey(xpub, XPUB)
    } catch (err) {
      throw GrowrError.BAD_ARGUMENT(`extended key does not decode: ${(err as Error).message}`)
    }
    if (node.privateKey !== null) {
      node.wipePrivateData()
      throw GrowrError.BAD_ARGUMENT('this is a private extended key: a watch-only account takes the xpub only')
    }
    if (node.depth !== 3 || node.index < HARDENED_OFFSET) {
      throw GrowrError.BAD_ARGUMENT(`extended key is at depth ${node.depth}: a BIP-44 account key is at depth 3 (m/44'/137'/account') with a hardened index`)
    }
    return new RootstockAccount(chainId, node, null)
  }

  /** The address at `index` (external chain 0). @throws GrowrError BAD_ARGUMENT for a bad index. */
  address (index: number): RootstockAddressInfo { return rootstockAddressFor(this, index) }

  /** @internal the public node, for {@link rootstockAddressFor}. */
  publicNode (): HDKey { return this.node }

  /** What JSON.stringify shows: public data only. */
  toJSON (): { chainId: number, path: string, xpub: string, masterFingerprint: number | null } {
    return { chainId: this.chainId, path: this.path, xpub: this.xpub, masterFingerprint: this.masterFingerprint }
  }
}

/**
 * Derive the address `m/44'/137'/account'/0/index` of a (watch-only) account.
 *
 * @param account a {@link RootstockAccount}. @param index 0 .. 2^31-1.
 * @returns the checksummed address, its path and public key.
 * @throws GrowrError BAD_ARGUMENT for a bad index.
 */
export function rootstockAddressFor (account: RootstockAccount, index: number): RootstockAddressInfo {
  if (!(account instanceof RootstockAccount)) throw GrowrError.BAD_ARGUMENT('account must be a RootstockAccount')
  checkIndex(index)
  let child: HDKey
  try {
    child = account.publicNode().deriveChild(0).deriveChild(index)
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`cannot derive address ${index}: ${(err as Error).message}`)
  }
  const publicKey = child.publicKey as Uint8Array
  return { address: publicKeyToAddress(publicKey, account.chainId), path: `${account.path}/0/${index}`, index, publicKey }
}

/**
 * The private key of one address, for a signer. Secret: the caller zeroes it after use.
 *
 * @returns 32 bytes. @throws GrowrError BAD_ARGUMENT for bad arguments.
 */
export function deriveRootstockPrivateKey (seed: Uint8Array, index: number, account = 0): Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.byteLength < 16 || seed.byteLength > 64) throw GrowrError.BAD_ARGUMENT('seed must be 16 to 64 bytes')
  checkIndex(index)
  const root = HDKey.fromMasterSeed(seed, XPUB)
  const node = root.derive(`${rootstockAccountPath(account)}/0/${index}`)
  try {
    return Uint8Array.from(node.privateKey as Uint8Array)
  } finally {
    root.wipePrivateData()
    node.wipePrivateData()
  }
}
