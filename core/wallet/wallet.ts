/**
 * The node's wallet keys: one BIP-39 mnemonic per node, generated locally on first open and kept
 * encrypted at rest in `<dir>/wallet/seed.bin`, from which the node's BIP-84 Bitcoin accounts and
 * BIP-44 Rootstock accounts are derived.
 *
 * File format (version 1):
 *   `'GRWSED' (6 ASCII bytes) || 0x01 || nonce (24) || crypto_secretbox_easy(payload)`
 * where payload = `0x01 (kind: BIP-39 English entropy) || length (1 byte: 16..32) || entropy`
 * and the key is BLAKE2b-256(message = 'growr/wallet/v1', key = the identity's 32-byte Ed25519
 * seed) (core/sscr/crypto.ts deriveIdentityKey). The file holds neither the words nor the seed in
 * clear; it is written atomically, mode 0600, in a 0700 directory, and refused when another user
 * owns it or can write it (core/storage-dir.ts).
 *
 * Secrets never leave this object except through {@link Wallet.exportMnemonic} (for the backup):
 * accounts it hands out are watch-only (extended public keys).
 */
import '../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import ReadyResource from 'ready-resource'
import fs from '#fs'
import path from '#path'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { GrowrError } from '../errors.ts'
import { checkIdentity, deriveIdentityKey, seal, unseal, withHeader, stripHeader, writeFileAtomic, type HolderKey } from '../sscr/crypto.ts'
import { securePrivateDir, securePrivateFile } from '../storage-dir.ts'
import { NODE_ENTROPY_BYTES, ENTROPY_BYTES, entropyToMnemonic, mnemonicToEntropy, mnemonicToSeed } from './bip39.ts'
import { Bip84Account, resolveNetwork, type BitcoinNetwork, type BitcoinNetworkName } from './bip84.ts'
import { RootstockAccount } from './bip44-rootstock.ts'

export const SEED_MAGIC = 'GRWSED'
export const SEED_VERSION = 1
export const SEED_FILE = 'seed.bin'
/** Domain tag of the seed-file key derivation. */
export const WALLET_KEY_TAG = 'growr/wallet/v1'
/** Payload kind: the entropy of an English BIP-39 mnemonic, no BIP-39 passphrase. */
const KIND_BIP39_EN = 1

/**
 * The node's wallet. Lifecycle: `await ready()` before use, `await close()` after; methods called
 * outside that window throw BAD_ARGUMENT.
 */
export class Wallet extends ReadyResource {
  /** `<dir>/wallet`. */
  readonly walletDir: string
  /** `<dir>/wallet/seed.bin`. */
  readonly file: string
  /** The identity whose key encrypts the seed file. */
  readonly holder: string
  /** What the storage checks tightened on open (loose read bits), for the caller to show. */
  storageNotes: string[] = []
  private readonly generate: boolean
  private key: Uint8Array
  private entropy: Uint8Array | null = null
  private seed: Uint8Array | null = null
  private bitcoinAccounts = new Map<string, Bip84Account>()
  private rootstockAccounts = new Map<string, RootstockAccount>()

  /**
   * @param opts.dir the storage directory; the wallet lives in `<dir>/wallet/`.
   * @param opts.identity `{ did, secretKey (64 bytes) }` whose key encrypts the seed file.
   * @param opts.generate create a fresh 24-word mnemonic on open when there is none (default
   *   true). Pass false to restore: open, then {@link importMnemonic}.
   * @throws GrowrError BAD_ARGUMENT if dir is empty or the secret key does not match the DID.
   */
  constructor (opts: { dir: string, identity: HolderKey, generate?: boolean }) {
    super()
    if (typeof opts?.dir !== 'string' || opts.dir.length === 0) throw GrowrError.BAD_ARGUMENT('dir must be a non-empty string')
    this.holder = checkIdentity(opts.identity, 'wallet')
    this.walletDir = path.join(opts.dir, 'wallet')
    this.file = path.join(this.walletDir, SEED_FILE)
    this.generate = opts.generate !== false
    this.key = deriveIdentityKey(opts.identity.secretKey, WALLET_KEY_TAG)
  }

  /**
   * Check the directory (0700, ours) and read seed.bin, or generate a mnemonic if there is none
   * and `generate` is on.
   * @throws GrowrError STORAGE_UNSAFE if the directory or the file belongs to another user or
   *   others can write to it; BAD_ARGUMENT if the file is not a seed file, was tampered with or is
   *   sealed for another identity (indistinguishable by design); UNSUPPORTED_VERSION for an
   *   unknown file version.
   */
  protected async _open (): Promise<void> {
    try {
      this.storageNotes = securePrivateDir(this.walletDir)
      if (fs.existsSync(this.file)) {
        this.storageNotes.push(...securePrivateFile(this.file, 'wallet seed file'))
        this.entropy = this.load()
      } else if (this.generate) {
        const entropy = b4a.alloc(NODE_ENTROPY_BYTES)
        sodium.randombytes_buf(entropy)
        this.persist(entropy)
        this.entropy = entropy
      }
    } catch (err) {
      this.wipe()
      throw err
    }
  }

  protected async _close (): Promise<void> {
    this.wipe()
  }

  /** Whether the node has a seed (false only with `generate: false` before an import). */
  get hasSeed (): boolean {
    this.assertOpen()
    return this.entropy !== null
  }

  /**
   * The node's watch-only BIP-84 account on a Bitcoin network. Cached.
   *
   * @param network 'mainnet' | 'testnet' | 'signet' | 'regtest', or parameters from
   *   bitcoinNetwork() (e.g. regtest with bcoin's 'rb' prefix).
   * @param account account number, default 0.
   * @throws GrowrError NOT_FOUND without a seed; BAD_ARGUMENT for a bad network or account.
   */
  bitcoin (network: BitcoinNetworkName | BitcoinNetwork, account = 0): Bip84Account {
    const net = resolveNetwork(network)
    const id = `${net.name}/${net.bech32}/${account}`
    let acct = this.bitcoinAccounts.get(id)
    if (acct === undefined) {
      acct = Bip84Account.fromSeed(this.getSeed(), net, account)
      this.bitcoinAccounts.set(id, acct)
    }
    return acct
  }

  /**
   * The node's watch-only BIP-44 Rootstock account (coin type 137) for a chain id. Cached.
   *
   * @param chainId 30 (mainnet), 31 (testnet) or a local dev chain's id.
   * @param account account number, default 0.
   * @throws GrowrError NOT_FOUND without a seed; BAD_ARGUMENT for a bad chain id or account.
   */
  rootstock (chainId: number, account = 0): RootstockAccount {
    const id = `${chainId}/${account}`
    let acct = this.rootstockAccounts.get(id)
    if (acct === undefined) {
      acct = RootstockAccount.fromSeed(this.getSeed(), chainId, account)
      this.rootstockAccounts.set(id, acct)
    }
    return acct
  }

  /**
   * Runs `fn` with a copy of the BIP-39 seed, for signing inside core (a PSBT, a Rootstock
   * transaction), and wipes the copy once `fn` has settled: callers never keep the seed, and no
   * string of the words is ever made for it.
   *
   * @param fn gets the 64-byte seed; may be async
   * @returns what `fn` returns
   * @throws GrowrError NOT_FOUND when the node has no seed yet; whatever `fn` throws
   */
  async withSeed<T> (fn: (seed: Uint8Array) => T | Promise<T>): Promise<T> {
    const copy = b4a.from(this.getSeed())
    try {
      return await fn(copy)
    } finally {
      copy.fill(0)
    }
  }

  /**
   * The mnemonic, for the node's backup. The only way secrets leave the wallet: never log it.
   *
   * @returns the words separated by single spaces (24 for a mnemonic the node generated).
   * @throws GrowrError NOT_FOUND when the node has no seed yet.
   */
  exportMnemonic (): string {
    return entropyToMnemonic(this.getEntropy())
  }

  /**
   * Restore a mnemonic (from a backup) as the node's seed, encrypted at rest like a generated one.
   * Importing the mnemonic the node already has is a no-op.
   *
   * @param words a valid English BIP-39 mnemonic of 12 to 24 words.
   * @returns true if the seed was stored, false if it was already the node's.
   * @throws GrowrError BAD_ARGUMENT for an invalid mnemonic (saying what is wrong);
   *   WALLET_EXISTS if the node already has a different seed (it is never overwritten).
   */
  importMnemonic (words: string): boolean {
    this.assertOpen()
    const entropy = mnemonicToEntropy(words)
    if (this.entropy !== null) {
      const same = b4a.equals(entropy, this.entropy)
      sodium.sodium_memzero(entropy)
      if (same) return false
      throw GrowrError.WALLET_EXISTS('this node already has a different wallet seed; it is never overwritten (its addresses may hold funds)')
    }
    this.persist(entropy)
    this.entropy = entropy
    return true
  }

  private getEntropy (): Uint8Array {
    this.assertOpen()
    if (this.entropy === null) throw GrowrError.NOT_FOUND('this node has no wallet seed yet: import a mnemonic first')
    return this.entropy
  }

  private getSeed (): Uint8Array {
    const entropy = this.getEntropy()
    if (this.seed === null) this.seed = mnemonicToSeed(entropyToMnemonic(entropy))
    return this.seed
  }

  private load (): Uint8Array {
    const body = stripHeader(fs.readFileSync(this.file), SEED_MAGIC, SEED_VERSION, 'wallet seed file')
    const plain = unseal(this.key, body)
    if (plain === null) {
      throw GrowrError.BAD_ARGUMENT('wallet seed file cannot be decrypted: it was altered or corrupted, or it belongs to another identity')
    }
    try {
      if (plain.byteLength < 2 || plain[0] !== KIND_BIP39_EN || !ENTROPY_BYTES.includes(plain[1]) || plain.byteLength !== 2 + plain[1]) {
        throw GrowrError.BAD_ARGUMENT('wallet seed file content is malformed')
      }
      return b4a.from(plain.subarray(2))
    } finally {
      sodium.sodium_memzero(plain)
    }
  }

  private persist (entropy: Uint8Array): void {
    const payload = b4a.alloc(2 + entropy.byteLength)
    payload[0] = KIND_BIP39_EN
    payload[1] = entropy.byteLength
    payload.set(entropy, 2)
    try {
      writeFileAtomic(this.file, withHeader(SEED_MAGIC, SEED_VERSION, seal(this.key, payload)))
    } finally {
      sodium.sodium_memzero(payload)
    }
  }

  private assertOpen (): void {
    if (!this.opened || this.closing !== null) throw GrowrError.BAD_ARGUMENT('wallet is not open')
  }

  private wipe (): void {
    if (this.entropy !== null) sodium.sodium_memzero(this.entropy)
    if (this.seed !== null) sodium.sodium_memzero(this.seed)
    this.entropy = null
    this.seed = null
    this.bitcoinAccounts.clear()
    this.rootstockAccounts.clear()
    sodium.sodium_memzero(this.key)
  }
}
