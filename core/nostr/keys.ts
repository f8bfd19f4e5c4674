/**
 * Nostr keys from the node's wallet seed, NIP-06 (nostr-protocol/nips 06.md): BIP-32 path
 * `m/44'/1237'/<account>'/0/0` (SLIP-0044 coin type 1237) over the BIP-39 seed; the public key is
 * the secp256k1 x-only key (BIP-340) as 64 hex characters; events are signed as nostr-tools'
 * finalizeEvent signs them, with the BIP-340 auxiliary randomness drawn from libsodium (Bare has no
 * crypto.getRandomValues for noble to draw it from).
 *
 * Accounts: 0 speaks for the organization; a project that gets its own profile uses the account
 * projectAccount(book, project), a hardened index from a hash of the two, so the same project
 * always gets the same key and no index table has to be kept or backed up.
 *
 * The secret key never leaves core: NostrSigner borrows the seed for each signature
 * (Wallet.withSeed) and wipes the derived key after use. Pure functions besides that.
 */
import '../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { HDKey, HARDENED_OFFSET } from '@scure/bip32'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { getEventHash, getPublicKey, verifiedSymbol, type EventTemplate, type VerifiedEvent } from 'nostr-tools/pure'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { GrowrError } from '../errors.ts'

/**
 * 32 bytes of BIP-340 auxiliary randomness from libsodium (sodium-universal): noble draws its
 * own from crypto.getRandomValues, which Bare does not have, so nostr-tools' finalizeEvent and a
 * bare schnorr.sign fail there. Fresh randomness per signature, as BIP-340 recommends.
 */
export function auxRandom (): Uint8Array {
  const out = b4a.alloc(32)
  sodium.randombytes_buf(out)
  return out
}

/**
 * Signs an event as nostr-tools' finalizeEvent does (NIP-01 id, BIP-340 signature), with the
 * auxiliary randomness from {@link auxRandom}, so it works under Bare as under Node.
 * @param template kind, created_at (seconds), tags, content
 * @param secretKey 32 bytes
 * @returns the signed event, marked verified for nostr-tools like finalizeEvent's
 */
export function signEvent (template: EventTemplate, secretKey: Uint8Array): VerifiedEvent {
  const pubkey = getPublicKey(secretKey)
  const base = { kind: template.kind, created_at: template.created_at, tags: template.tags, content: template.content, pubkey }
  const id = getEventHash(base)
  const sig = bytesToHex(schnorr.sign(hexToBytes(id), secretKey, auxRandom()))
  const event = { ...base, id, sig } as VerifiedEvent
  ;(event as unknown as Record<symbol, boolean>)[verifiedSymbol] = true
  return event
}

/** SLIP-0044 coin type of Nostr. */
export const NOSTR_COIN_TYPE = 1237
/** The account that speaks for the organization. */
export const ORGANIZATION_ACCOUNT = 0

/** Who a Nostr key speaks for: the organization, or one project of one book. */
export type NostrScope = { kind: 'organization' } | { kind: 'project'; book: string; project: string }

/** @returns the NIP-06 path of `account` */
export function nip06Path (account: number): string {
  if (!Number.isSafeInteger(account) || account < 0 || account >= HARDENED_OFFSET) throw GrowrError.BAD_ARGUMENT('a NIP-06 account is 0..2^31-1')
  return `m/44'/${NOSTR_COIN_TYPE}'/${account}'/0/0`
}

/**
 * Derives the key of `account` (NIP-06).
 * @param seed the 64-byte BIP-39 seed
 * @returns the 32-byte secret key and the x-only public key, hex
 * @throws BAD_ARGUMENT for a seed that is not 16..64 bytes or an account out of range
 */
export function deriveNostrKey (seed: Uint8Array, account: number): { secretKey: Uint8Array; publicKey: string } {
  if (!(seed instanceof Uint8Array) || seed.byteLength < 16 || seed.byteLength > 64) throw GrowrError.BAD_ARGUMENT('a BIP-39 seed is 16..64 bytes')
  const node = HDKey.fromMasterSeed(seed).derive(nip06Path(account))
  if (!node.privateKey) throw GrowrError.INTERNAL('NIP-06 derivation gave no private key')
  const secretKey = b4a.from(node.privateKey)
  node.wipePrivateData()
  return { secretKey, publicKey: getPublicKey(secretKey) }
}

/**
 * The account of a project's own key: the first 31 bits of BLAKE2b-256("growr/nostr-project/v1"
 * 0x00 || book key hex || 0x00 || project id), never 0 (the organization's).
 * @param book the book's key, 64 hex characters
 * @param project the project id
 */
export function projectAccount (book: string, project: string): number {
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, b4a.from(`growr/nostr-project/v1\0${book}\0${project}`))
  const n = ((out[0] << 24) | (out[1] << 16) | (out[2] << 8) | out[3]) & 0x7fffffff
  return n === ORGANIZATION_ACCOUNT ? 1 : n
}

/** @returns the NIP-06 account for `scope` */
export function accountOf (scope: NostrScope): number {
  return scope.kind === 'organization' ? ORGANIZATION_ACCOUNT : projectAccount(scope.book, scope.project)
}

/** What a NostrSigner needs of the node's wallet: a loan of the seed (core/wallet/wallet.ts). */
export interface SeedLender { withSeed<T> (fn: (seed: Uint8Array) => T | Promise<T>): Promise<T> }

/**
 * Signs Nostr events as the node's organization or one of its projects. The secret key is derived
 * for each call and wiped after it.
 */
export class NostrSigner {
  private readonly wallet: SeedLender
  private readonly pubkeys = new Map<number, string>()

  /** @param wallet the node's wallet (Wallet), or anything lending a BIP-39 seed */
  constructor (wallet: SeedLender) {
    this.wallet = wallet
  }

  /** @returns the x-only public key (hex) that speaks for `scope` */
  async publicKey (scope: NostrScope = { kind: 'organization' }): Promise<string> {
    const account = accountOf(scope)
    const known = this.pubkeys.get(account)
    if (known) return known
    const pub = await this.withKey(account, (k) => k.publicKey)
    this.pubkeys.set(account, pub)
    return pub
  }

  /**
   * Signs an event (NIP-01: id = sha256 of the serialised event, BIP-340 signature; {@link signEvent}).
   * @param template kind, created_at (seconds), tags, content
   * @returns the signed event, as nostr-tools' finalizeEvent makes it
   */
  async sign (template: EventTemplate, scope: NostrScope = { kind: 'organization' }): Promise<VerifiedEvent> {
    return await this.withKey(accountOf(scope), (k) => signEvent(template, k.secretKey))
  }

  /**
   * Lends the secret key of `scope` to `fn`, wiped afterwards: for signatures that are not
   * events (the BIP-340 proof that binds a key to a book, books/ops `nostr/key`).
   */
  async withSecretKey<T> (scope: NostrScope, fn: (secretKey: Uint8Array, publicKey: string) => T | Promise<T>): Promise<T> {
    return await this.withKey(accountOf(scope), async (k) => await fn(k.secretKey, k.publicKey))
  }

  private async withKey<T> (account: number, fn: (k: { secretKey: Uint8Array; publicKey: string }) => T | Promise<T>): Promise<T> {
    return await this.wallet.withSeed(async (seed) => {
      const k = deriveNostrKey(seed, account)
      try {
        return await fn(k)
      } finally {
        k.secretKey.fill(0)
      }
    })
  }
}
