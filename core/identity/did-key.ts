/**
 * The W3C did:key method for Ed25519 keys (https://w3c-ccg.github.io/did-key-spec/):
 * `did:key:` + multibase base58btc (`z` prefix) of `multicodec(ed25519-pub) || publicKey`,
 * where the ed25519-pub multicodec (0xed) is the unsigned varint `0xed 0x01`. This gives the
 * familiar `did:key:z6Mk...` form. The matching private-key multibase (`z3u2...`, as in the
 * W3C vc-di-eddsa test vectors) uses multicodec ed25519-priv (0x1300, varint `0x80 0x26`)
 * followed by the 32-byte seed. All functions are pure.
 */
import { base58 } from '@scure/base'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'

/** A did:key identifier: `did:key:z` followed by the base58btc body. */
export type DidKey = `did:key:z${string}`

const DID_KEY_PREFIX = 'did:key:'
const MULTIBASE_BASE58BTC = 'z'
const ED25519_PUB_CODEC = b4a.from([0xed, 0x01])
const ED25519_PRIV_CODEC = b4a.from([0x80, 0x26])
const KEY_BYTES = 32
// A 34-byte payload is 47 base58 characters; anything much longer is rejected before decoding
// (base58 decoding is quadratic, so unbounded input would be a cheap denial of service).
const MAX_MULTIBASE_CHARS = 64

/**
 * Encode a 32-byte Ed25519 public key as a multibase string (base58btc, multicodec ed25519-pub).
 *
 * @param pk 32-byte Ed25519 public key.
 * @returns the `z6Mk...` multibase string (48 characters).
 * @throws GrowrError BAD_ARGUMENT if `pk` is not a 32-byte Uint8Array.
 */
export function publicKeyToMultibase (pk: Uint8Array): string {
  return encode(ED25519_PUB_CODEC, pk, 'public key')
}

/**
 * Decode a `z6Mk...` multibase string (base58btc, multicodec ed25519-pub) to the public key.
 *
 * @param s the multibase string.
 * @returns the 32-byte Ed25519 public key (fresh buffer).
 * @throws GrowrError BAD_ARGUMENT if `s` is not a string, lacks the `z` prefix, is not valid
 *   base58, carries another multicodec, or the key is not 32 bytes.
 */
export function multibaseToPublicKey (s: string): Uint8Array {
  return decode(ED25519_PUB_CODEC, s, 'ed25519-pub')
}

/**
 * Encode a 32-byte Ed25519 seed (RFC 8032 private key) as a multibase string
 * (base58btc, multicodec ed25519-priv), the W3C `privateKeyMultibase` form.
 *
 * @param seed 32-byte Ed25519 seed (the first half of a libsodium 64-byte secret key).
 * @returns the `z3u2...` multibase string.
 * @throws GrowrError BAD_ARGUMENT if `seed` is not a 32-byte Uint8Array.
 */
export function seedToMultibase (seed: Uint8Array): string {
  return encode(ED25519_PRIV_CODEC, seed, 'seed')
}

/**
 * Decode a `z3u2...` multibase private key (base58btc, multicodec ed25519-priv) to its seed.
 * Pass the result to `generateKeyPair(seed)` to get the full key pair.
 *
 * @param s the multibase string.
 * @returns the 32-byte Ed25519 seed (fresh buffer).
 * @throws GrowrError BAD_ARGUMENT if `s` is not a string, lacks the `z` prefix, is not valid
 *   base58, carries another multicodec, or the seed is not 32 bytes.
 */
export function multibaseToSeed (s: string): Uint8Array {
  return decode(ED25519_PRIV_CODEC, s, 'ed25519-priv')
}

/**
 * Make the did:key identifier of an Ed25519 public key.
 *
 * @param pk 32-byte Ed25519 public key.
 * @returns `did:key:z6Mk...`.
 * @throws GrowrError BAD_ARGUMENT if `pk` is not a 32-byte Uint8Array.
 */
export function publicKeyToDid (pk: Uint8Array): DidKey {
  return `${DID_KEY_PREFIX}${publicKeyToMultibase(pk)}` as DidKey
}

/**
 * Extract the Ed25519 public key from a did:key identifier. Only bare DIDs are accepted:
 * DID URLs (with `#fragment`, `?query` or `/path`) are rejected.
 *
 * @param did a `did:key:z6Mk...` string.
 * @returns the 32-byte Ed25519 public key (fresh buffer).
 * @throws GrowrError BAD_ARGUMENT if `did` is not a string, does not start with `did:key:z`,
 *   is not valid base58, uses a multicodec other than ed25519-pub, or the key is not 32 bytes.
 */
export function didToPublicKey (did: string): Uint8Array {
  if (typeof did !== 'string' || !did.startsWith(DID_KEY_PREFIX)) {
    throw GrowrError.BAD_ARGUMENT('not a did:key identifier')
  }
  return multibaseToPublicKey(did.slice(DID_KEY_PREFIX.length))
}

/**
 * Type guard: is `s` a well-formed Ed25519 did:key (decodes to a 32-byte ed25519-pub key)?
 *
 * @param s any value.
 * @returns true if {@link didToPublicKey} would accept it. Never throws.
 */
export function isDidKey (s: unknown): s is DidKey {
  if (typeof s !== 'string') return false
  try {
    didToPublicKey(s)
    return true
  } catch {
    return false
  }
}

function encode (codec: Uint8Array, key: Uint8Array, what: string): string {
  if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
    throw GrowrError.BAD_ARGUMENT(`${what} must be a ${KEY_BYTES}-byte Uint8Array`)
  }
  return MULTIBASE_BASE58BTC + base58.encode(b4a.concat([codec, key]))
}

function decode (codec: Uint8Array, s: string, codecName: string): Uint8Array {
  if (typeof s !== 'string' || !s.startsWith(MULTIBASE_BASE58BTC)) {
    throw GrowrError.BAD_ARGUMENT('multibase string must start with "z" (base58btc)')
  }
  if (s.length > MAX_MULTIBASE_CHARS) {
    throw GrowrError.BAD_ARGUMENT('multibase string is too long for an Ed25519 key')
  }
  let bytes: Uint8Array
  try {
    bytes = base58.decode(s.slice(1))
  } catch {
    throw GrowrError.BAD_ARGUMENT('multibase string is not valid base58btc')
  }
  if (bytes.byteLength < codec.byteLength || bytes[0] !== codec[0] || bytes[1] !== codec[1]) {
    throw GrowrError.BAD_ARGUMENT(`multicodec is not ${codecName}`)
  }
  if (bytes.byteLength !== codec.byteLength + KEY_BYTES) {
    throw GrowrError.BAD_ARGUMENT(`${codecName} key must be ${KEY_BYTES} bytes`)
  }
  return b4a.from(bytes.subarray(codec.byteLength))
}

/**
 * Resolve a did:key verification method (a DID URL `did:key:z6Mk...#z6Mk...`) to its controller
 * and key, as the did:key method defines: the key's fragment is the method-specific identifier.
 *
 * @param vm the verification method id, e.g. a Data Integrity proof's `verificationMethod`.
 * @returns `{ controller: the bare DID, publicKey: 32 bytes }`.
 * @throws GrowrError BAD_ARGUMENT if `vm` is not a string of the form `did:key:<id>#<id>` with
 *   both ids equal and decoding to an Ed25519 key.
 */
export function resolveVerificationMethod (vm: string): { controller: DidKey; publicKey: Uint8Array } {
  if (typeof vm !== 'string') throw GrowrError.BAD_ARGUMENT('verification method must be a string')
  const hash = vm.indexOf('#')
  if (hash === -1) throw GrowrError.BAD_ARGUMENT('verification method has no #fragment')
  const did = vm.slice(0, hash)
  const fragment = vm.slice(hash + 1)
  if (!did.startsWith(DID_KEY_PREFIX) || fragment !== did.slice(DID_KEY_PREFIX.length)) {
    throw GrowrError.BAD_ARGUMENT('verification method is not did:key:<key>#<same key>')
  }
  return { controller: did as DidKey, publicKey: didToPublicKey(did) }
}
