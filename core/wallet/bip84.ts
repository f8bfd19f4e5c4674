/**
 * BIP-84 accounts (bitcoin/bips bip-0084.mediawiki): native SegWit v0 P2WPKH addresses
 * (BIP-141, bech32 per BIP-173) at `m/84'/coin'/account'/chain/index`, over @scure/bip32 (BIP-32)
 * and @scure/btc-signer. Pure functions and immutable values: no I/O, no clock, no randomness.
 *
 * An account object holds the account's extended PUBLIC key only (watch-only): it derives every
 * receive (chain 0) and change (chain 1) address, and is what other devices of an organisation
 * share. It can be built from a seed ({@link Bip84Account.fromSeed}, which wipes the private
 * keys it passes through) or from an exported xpub/zpub alone ({@link Bip84Account.fromExtendedKey}).
 *
 * Networks: mainnet (`bc`, coin type 0), testnet and signet (`tb`, coin type 1), regtest
 * (coin type 1; Bitcoin Core's prefix `bcrt` by default, or bcoin's `rb` via
 * `bitcoinNetwork('regtest', { bech32: BCOIN_REGTEST_BECH32 })`). Extended keys are exported in
 * BIP-32's standard versions (xpub / tpub) and in SLIP-0044/SLIP-0132's BIP-84 versions (zpub / vpub);
 * a tpub/vpub cannot tell testnet, signet and regtest apart, so the caller names the network.
 */
import '../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import type { BitcoinNetwork as NetworkName } from '../../books/proofs/bitcoin-header.ts'
import { HDKey, HARDENED_OFFSET, type Versions } from '@scure/bip32'
import { p2wpkh, WIF } from '@scure/btc-signer'
import { createBase58check } from '@scure/base'
import { sha256 } from '@noble/hashes/sha2.js'
import { GrowrError } from '../errors.ts'

/** The networks a BIP-84 account can be opened on. */
/** A Bitcoin network by name: the same union the proofs use (books/proofs/bitcoin-header.ts). */
export type BitcoinNetworkName = NetworkName

/** Everything that differs between Bitcoin networks for key derivation and addresses. */
export interface BitcoinNetwork {
  readonly name: BitcoinNetworkName
  /** bech32 human-readable prefix of SegWit addresses (BIP-173), e.g. 'bc'. */
  readonly bech32: string
  /** SLIP-0044 coin type in the derivation path: 0 on mainnet, 1 on every test network. */
  readonly coinType: number
  /** Base58 version bytes (for @scure/btc-signer's network object). */
  readonly pubKeyHash: number
  readonly scriptHash: number
  readonly wif: number
  /** BIP-32 extended key versions: xpub/xprv on mainnet, tpub/tprv elsewhere. */
  readonly bip32: Versions
  /** SLIP-0132 BIP-84 versions: zpub/zprv on mainnet, vpub/vprv elsewhere. */
  readonly slip132: Versions
}

/** bcoin's regtest bech32 prefix (Bitcoin Core's is 'bcrt'). */
export const BCOIN_REGTEST_BECH32 = 'rb'
/** BIP-43 purpose of BIP-84. */
export const BIP84_PURPOSE = 84
/** Highest non-hardened child index (2^31 - 1). */
export const MAX_INDEX = HARDENED_OFFSET - 1

const MAIN_BIP32: Versions = { public: 0x0488b21e, private: 0x0488ade4 } // xpub, xprv
const MAIN_SLIP132: Versions = { public: 0x04b24746, private: 0x04b2430c } // zpub, zprv
const TEST_BIP32: Versions = { public: 0x043587cf, private: 0x04358394 } // tpub, tprv
const TEST_SLIP132: Versions = { public: 0x045f1cf6, private: 0x045f18bc } // vpub, vprv

const TEST_BASE = { coinType: 1, pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef, bip32: TEST_BIP32, slip132: TEST_SLIP132 }

/** The four networks with their standard parameters (regtest with Bitcoin Core's 'bcrt'). */
export const BITCOIN_NETWORKS: Readonly<Record<BitcoinNetworkName, BitcoinNetwork>> = Object.freeze({
  mainnet: Object.freeze({ name: 'mainnet', bech32: 'bc', coinType: 0, pubKeyHash: 0x00, scriptHash: 0x05, wif: 0x80, bip32: MAIN_BIP32, slip132: MAIN_SLIP132 }),
  testnet: Object.freeze({ name: 'testnet', bech32: 'tb', ...TEST_BASE }),
  signet: Object.freeze({ name: 'signet', bech32: 'tb', ...TEST_BASE }),
  regtest: Object.freeze({ name: 'regtest', bech32: 'bcrt', ...TEST_BASE })
})

/**
 * The parameters of a network by name.
 *
 * @param name 'mainnet' | 'testnet' | 'signet' | 'regtest'.
 * @param opts.bech32 regtest only: another address prefix, e.g. {@link BCOIN_REGTEST_BECH32}
 *   for a bcoin node (1 to 16 lower-case letters).
 * @returns a frozen {@link BitcoinNetwork}.
 * @throws GrowrError BAD_ARGUMENT for an unknown name, a bad prefix, or a prefix on a public network.
 */
export function bitcoinNetwork (name: BitcoinNetworkName, opts: { bech32?: string } = {}): BitcoinNetwork {
  if (typeof name !== 'string' || !Object.hasOwn(BITCOIN_NETWORKS, name)) {
    throw GrowrError.BAD_ARGUMENT(`unknown Bitcoin network ${JSON.stringify(name)}: use mainnet, testnet, signet or regtest`)
  }
  const base = BITCOIN_NETWORKS[name]
  if (opts.bech32 === undefined || opts.bech32 === base.bech32) return base
  if (name !== 'regtest') throw GrowrError.BAD_ARGUMENT(`the address prefix of ${name} is fixed ('${base.bech32}'); only regtest takes another`)
  if (typeof opts.bech32 !== 'string' || !/^[a-z]{1,16}$/.test(opts.bech32)) {
    throw GrowrError.BAD_ARGUMENT('a bech32 prefix is 1 to 16 lower-case letters')
  }
  return Object.freeze({ ...base, bech32: opts.bech32 })
}

/** Accepts a network object or a name; checks an object's shape. */
export function resolveNetwork (network: BitcoinNetworkName | BitcoinNetwork): BitcoinNetwork {
  if (typeof network === 'string') return bitcoinNetwork(network)
  if (typeof network !== 'object' || network === null || !Object.hasOwn(BITCOIN_NETWORKS, network.name)) {
    throw GrowrError.BAD_ARGUMENT('network must be a Bitcoin network name or a BitcoinNetwork')
  }
  return bitcoinNetwork(network.name, { bech32: network.bech32 })
}

/** Chain 0 holds receive addresses, chain 1 change addresses (BIP-44 "Change"). */
export type Bip84Chain = 'receive' | 'change'

/** One derived address. */
export interface Bip84Address {
  /** bech32 P2WPKH address, e.g. `bc1q...`. */
  address: string
  /** Full derivation path, e.g. `m/84'/0'/0'/0/7` (for an account built from an xpub, the path it is assumed to sit at). */
  path: string
  chain: Bip84Chain
  /** Non-hardened child index, 0 .. 2^31-1. */
  index: number
  /** 33-byte compressed secp256k1 public key. */
  publicKey: Uint8Array
  /** scriptPubKey: `OP_0 <20-byte HASH160(publicKey)>` (22 bytes). */
  script: Uint8Array
}

function checkIndex (index: number, what = 'index'): void {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_INDEX) {
    throw GrowrError.BAD_ARGUMENT(`${what} must be an integer from 0 to ${MAX_INDEX} (non-hardened)`)
  }
}

function publicOnly (node: HDKey, versions: Versions): HDKey {
  if (node.publicKey === null || node.chainCode === null) throw GrowrError.BAD_ARGUMENT('extended key has no public key')
  return new HDKey({
    versions,
    depth: node.depth,
    index: node.index,
    parentFingerprint: node.parentFingerprint,
    chainCode: node.chainCode,
    publicKey: node.publicKey
  })
}

/** The BIP-84 account path: `m/84'/coin'/account'`. */
export function accountPath (network: BitcoinNetwork, account = 0): string {
  checkIndex(account, 'account')
  return `m/${BIP84_PURPOSE}'/${network.coinType}'/${account}'`
}

/**
 * A watch-only BIP-84 account: the account-level extended public key and the network.
 * Immutable; holds no private key.
 */
export class Bip84Account {
  readonly network: BitcoinNetwork
  /** Account number (the hardened third level, without the hardened bit). */
  readonly account: number
  /** `m/84'/coin'/account'`. */
  readonly path: string
  /** Account extended public key in BIP-32's standard version (xpub on mainnet, tpub elsewhere). */
  readonly xpub: string
  /** The same key in SLIP-0132's BIP-84 version (zpub on mainnet, vpub elsewhere). */
  readonly zpub: string
  /** Fingerprint of the master key (BIP-32), for PSBT key origins; null when built from an xpub. */
  readonly masterFingerprint: number | null
  private readonly node: HDKey

  /** Use {@link Bip84Account.fromSeed} or {@link Bip84Account.fromExtendedKey}. */
  constructor (network: BitcoinNetwork, node: HDKey, masterFingerprint: number | null) {
    this.network = network
    this.node = publicOnly(node, network.bip32)
    this.account = node.index - HARDENED_OFFSET
    this.path = accountPath(network, this.account)
    this.xpub = this.node.publicExtendedKey
    this.zpub = publicOnly(node, network.slip132).publicExtendedKey
    this.masterFingerprint = masterFingerprint
    Object.freeze(this)
  }

  /**
   * The account `m/84'/coin'/account'` of a BIP-39 seed. Private keys met on the way are wiped.
   *
   * @param seed BIP-39 seed, 16 to 64 bytes (BIP-32 master seed).
   * @param network name or parameters.
   * @param account account number, default 0.
   * @throws GrowrError BAD_ARGUMENT for a bad seed length, network or account.
   */
  static fromSeed (seed: Uint8Array, network: BitcoinNetworkName | BitcoinNetwork, account = 0): Bip84Account {
    const net = resolveNetwork(network)
    if (!(seed instanceof Uint8Array) || seed.byteLength < 16 || seed.byteLength > 64) {
      throw GrowrError.BAD_ARGUMENT('seed must be 16 to 64 bytes')
    }
    const root = HDKey.fromMasterSeed(seed, net.bip32)
    const node = root.derive(accountPath(net, account))
    try {
      return new Bip84Account(net, node, root.fingerprint)
    } finally {
      root.wipePrivateData()
      node.wipePrivateData()
    }
  }

  /**
   * A watch-only account from an exported account key.
   *
   * @param key the account's extended PUBLIC key: xpub or zpub on mainnet, tpub or vpub elsewhere.
   * @param network the network it is for (a tpub does not say which test network).
   * @throws GrowrError BAD_ARGUMENT, in plain words, when the key does not decode (bad checksum,
   *   invalid point), is a private key, has another network's version, or is not at account
   *   depth 3 with a hardened index.
   */
  static fromExtendedKey (key: string, network: BitcoinNetworkName | BitcoinNetwork): Bip84Account {
    const net = resolveNetwork(network)
    const node = parseExtendedKey(key, net)
    if (node.depth !== 3 || node.index < HARDENED_OFFSET) {
      throw GrowrError.BAD_ARGUMENT(`extended key is at depth ${node.depth}, index ${node.index}: a BIP-84 account key is at depth 3 (m/84'/coin'/account') with a hardened index`)
    }
    return new Bip84Account(net, node, null)
  }

  /** The receive address at `index` (chain 0). @throws GrowrError BAD_ARGUMENT for a bad index. */
  receive (index: number): Bip84Address { return addressFor(this, index, 'receive') }

  /** The change address at `index` (chain 1). @throws GrowrError BAD_ARGUMENT for a bad index. */
  change (index: number): Bip84Address { return addressFor(this, index, 'change') }

  /** @internal the public node, for {@link addressFor}. */
  publicNode (): HDKey { return this.node }

  /** What JSON.stringify shows: public data only (what a watch-only device needs). */
  toJSON (): { network: BitcoinNetworkName, bech32: string, path: string, xpub: string, zpub: string, masterFingerprint: number | null } {
    return { network: this.network.name, bech32: this.network.bech32, path: this.path, xpub: this.xpub, zpub: this.zpub, masterFingerprint: this.masterFingerprint }
  }
}

const base58check = createBase58check(sha256)

/** Every extended-key version this module knows, by number: which network and which kind. */
function knownVersion (version: number): { network: string, kind: 'public' | 'private' } | null {
  for (const [network, v] of [['mainnet', MAIN_BIP32], ['mainnet', MAIN_SLIP132], ['testnet/signet/regtest', TEST_BIP32], ['testnet/signet/regtest', TEST_SLIP132]] as const) {
    if (version === v.public) return { network, kind: 'public' }
    if (version === v.private) return { network, kind: 'private' }
  }
  return null
}

/**
 * Decode an account key for `net`, saying in plain words why it is refused: it does not decode
 * (base58 or checksum), is a private key, is for another network, has an unknown version, or
 * carries invalid content (BIP-32 test vector 5).
 */
function parseExtendedKey (key: string, net: BitcoinNetwork): HDKey {
  if (typeof key !== 'string') throw GrowrError.BAD_ARGUMENT('extended key must be a string')
  let raw: Uint8Array
  try {
    raw = base58check.decode(key)
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`extended key does not decode (base58check): ${(err as Error).message}`)
  }
  if (raw.byteLength !== 78) throw GrowrError.BAD_ARGUMENT(`extended key is ${raw.byteLength} bytes, not 78`)
  const version = ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0
  raw.fill(0)
  const known = knownVersion(version)
  if (known === null) throw GrowrError.BAD_ARGUMENT(`extended key has an unknown version 0x${version.toString(16).padStart(8, '0')}: expected ${net.name === 'mainnet' ? 'xpub or zpub' : 'tpub or vpub'}`)
  if (known.kind === 'private') throw GrowrError.BAD_ARGUMENT('this is a private extended key: a watch-only account takes the public key (xpub/zpub) only')
  const versions = version === net.bip32.public ? net.bip32 : version === net.slip132.public ? net.slip132 : null
  if (versions === null) throw GrowrError.BAD_ARGUMENT(`extended key is for ${known.network}, not ${net.name}`)
  let node: HDKey
  try {
    node = HDKey.fromExtendedKey(key, versions)
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`extended key is invalid: ${(err as Error).message}`)
  }
  if (node.privateKey !== null) {
    node.wipePrivateData()
    throw GrowrError.BAD_ARGUMENT('this is a private extended key: a watch-only account takes the public key (xpub/zpub) only')
  }
  return node
}

/**
 * Derive a P2WPKH address of a (watch-only) account: `account/chain/index`.
 *
 * @param account a {@link Bip84Account} (from a seed or from an xpub alone).
 * @param index non-hardened index, 0 .. 2^31-1.
 * @param chain 'receive' (chain 0, default) or 'change' (chain 1).
 * @returns the address, its path, public key and scriptPubKey.
 * @throws GrowrError BAD_ARGUMENT for a bad index or chain. (BIP-32's "invalid child, use the
 *   next index" case has probability below 2^-127 and surfaces as BAD_ARGUMENT too.)
 */
export function addressFor (account: Bip84Account, index: number, chain: Bip84Chain = 'receive'): Bip84Address {
  if (!(account instanceof Bip84Account)) throw GrowrError.BAD_ARGUMENT('account must be a Bip84Account')
  checkIndex(index)
  if (chain !== 'receive' && chain !== 'change') throw GrowrError.BAD_ARGUMENT("chain must be 'receive' or 'change'")
  const c = chain === 'receive' ? 0 : 1
  let child: HDKey
  try {
    child = account.publicNode().deriveChild(c).deriveChild(index)
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`cannot derive ${chain} ${index}: ${(err as Error).message}`)
  }
  const publicKey = child.publicKey as Uint8Array
  const pay = p2wpkh(publicKey, btcSignerNetwork(account.network))
  return {
    address: pay.address as string,
    path: `${account.path}/${c}/${index}`,
    chain,
    index,
    publicKey,
    script: pay.script
  }
}

/**
 * The private key of one address, for a signer. Secret: the caller zeroes it after use and never
 * logs, stores or returns it.
 *
 * @param seed BIP-39 seed.
 * @param network name or parameters; account default 0.
 * @returns 32-byte secp256k1 private key and its WIF encoding for this network (BIP-84 vectors
 *   give it in WIF).
 * @throws GrowrError BAD_ARGUMENT for bad arguments.
 */
export function derivePrivateKey (seed: Uint8Array, network: BitcoinNetworkName | BitcoinNetwork, chain: Bip84Chain, index: number, account = 0): { privateKey: Uint8Array, wif: string } {
  const net = resolveNetwork(network)
  checkIndex(index)
  if (chain !== 'receive' && chain !== 'change') throw GrowrError.BAD_ARGUMENT("chain must be 'receive' or 'change'")
  if (!(seed instanceof Uint8Array) || seed.byteLength < 16 || seed.byteLength > 64) {
    throw GrowrError.BAD_ARGUMENT('seed must be 16 to 64 bytes')
  }
  const root = HDKey.fromMasterSeed(seed, net.bip32)
  const node = root.derive(`${accountPath(net, account)}/${chain === 'receive' ? 0 : 1}/${index}`)
  try {
    const privateKey = Uint8Array.from(node.privateKey as Uint8Array)
    return { privateKey, wif: WIF(btcSignerNetwork(net)).encode(privateKey) }
  } finally {
    root.wipePrivateData()
    node.wipePrivateData()
  }
}

/** The network object @scure/btc-signer takes. */
export function btcSignerNetwork (net: BitcoinNetwork): { bech32: string, pubKeyHash: number, scriptHash: number, wif: number } {
  return { bech32: net.bech32, pubKeyHash: net.pubKeyHash, scriptHash: net.scriptHash, wif: net.wif }
}
