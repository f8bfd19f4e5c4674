/**
 * Capability advertisements: what a node offers the marketplace network, signed by its DID.
 * Pure: no I/O, no clock (the caller passes `now`), no randomness.
 *
 * Encoding, version 1: RFC 8785 (JCS) canonical JSON of the whole ad, UTF-8, signature included
 * as a field. Canonical JSON rather than compact-encoding because the ad carries opaque W3C
 * credentials (the certificate chain), which are JSON already and are signed as JSON by their
 * issuers; one canonical form keeps them byte-for-byte as issued. The version is the field `v`;
 * another version is refused (never guessed at).
 *
 *   signature = Ed25519 by the DID's key over
 *     "growr/ad/v1" 0x00 || JCS(ad without `signature`)
 *
 * The ad names its network (the network's topic, hex), so an ad signed for one network is
 * refused on another. Amounts are decimal strings of integer minor units (exact past 2^53).
 */
import '../../runtime/text-encoding.ts'
import canonicalize from 'canonicalize'
import Ajv from 'ajv'
import type { ValidateFunction } from 'ajv'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { sign, verify } from '../../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../../identity/did-key.ts'
import { GrowrError } from '../../errors.ts'

/** The only ad version this code reads and writes. */
export const AD_VERSION = 1
/** Largest encoded ad accepted, in bytes (64 KiB): room for a certificate chain of a few VCs. */
export const MAX_AD_BYTES = 64 * 1024
/** Longest lifetime of an ad: `expiresAt - issuedAt` at most 2 h. */
export const MAX_AD_TTL_MS = 2 * 3600 * 1000
/** How far in the future `issuedAt` may lie by our clock before the ad is refused (clock skew), ms. */
export const DEFAULT_MAX_SKEW_MS = 60_000

const DOMAIN = b4a.from('growr/ad/v1\0')

/** What a node offers. */
export type AdService =
  | { type: 'originating' }
  | { type: 'issuing'; credentialTypes: string[] }
  | { type: 'verification' }
  | { type: 'relay' }

export type ServiceName = AdService['type']
export const SERVICE_NAMES: readonly ServiceName[] = ['originating', 'issuing', 'verification', 'relay']

/** An open (active, public) project of a book, as an ad summarises it. Amounts: decimal strings of minor units. */
export interface AdProject {
  projectId: string
  name: string
  currency: string
  /** the project's target amount */
  amount: string
  loanMin: string
  loanMax: string
  minMonths: number
  maxMonths: number
  /** annual rate, basis points */
  rateBps: number
  interestMethod: string
}

/** A public book the advertiser hosts (originates), with its topic key (z-base-32) and open projects. */
export interface AdBook { topic: string; name: string; projects: AdProject[] }

/** The signed fields of an ad. */
export interface AdBody {
  v: 1
  /** the network's topic, 64 hex characters */
  network: string
  did: DidKey
  organization: string
  /** certificate chain: opaque W3C VCs, checked by the directory's `certify` */
  chain: Array<Record<string, unknown>>
  services: AdService[]
  /** protocol names the node speaks, e.g. growr/rpc/v1 */
  protocols: string[]
  books: AdBook[]
  /** content hash of the release the node runs, 64 hex characters (see releaseHash) */
  release: string
  /** ms since the epoch, by the signer's clock */
  issuedAt: number
  expiresAt: number
}

/** A signed ad: the body and `signature`, 128 hex characters. */
export interface Advertisement extends AdBody { signature: string }

export type AdCheck = { ok: true; ad: Advertisement; bytes: Uint8Array } | { ok: false; reason: string }

const hex64 = { type: 'string', pattern: '^[0-9a-f]{64}$' }
const decimal = { type: 'string', pattern: '^(0|[1-9][0-9]{0,29})$' }
const text = (max: number) => ({ type: 'string', maxLength: max })
const ms = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }
const months = { type: 'integer', minimum: 0, maximum: 1200 }
const bare = (type: string) => ({ type: 'object', additionalProperties: false, required: ['type'], properties: { type: { const: type } } })

const AD_SCHEMA_V1 = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'network', 'did', 'organization', 'chain', 'services', 'protocols', 'books', 'release', 'issuedAt', 'expiresAt', 'signature'],
  properties: {
    v: { const: 1 },
    network: hex64,
    did: { type: 'string', pattern: '^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$' },
    organization: text(200),
    chain: { type: 'array', maxItems: 8, items: { type: 'object' } },
    services: {
      type: 'array',
      maxItems: 4,
      items: {
        oneOf: [
          bare('originating'),
          bare('verification'),
          bare('relay'),
          {
            type: 'object',
            additionalProperties: false,
            required: ['type', 'credentialTypes'],
            properties: { type: { const: 'issuing' }, credentialTypes: { type: 'array', maxItems: 32, items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9]{0,63}$' } } }
          }
        ]
      }
    },
    protocols: { type: 'array', maxItems: 16, items: { type: 'string', pattern: '^[a-z0-9][a-z0-9/._-]{0,63}$' } },
    books: {
      type: 'array',
      maxItems: 32,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['topic', 'name', 'projects'],
        properties: {
          topic: { type: 'string', pattern: '^[ybndrfg8ejkmcpqxot1uwisza345h769]{52}$' },
          name: text(200),
          projects: {
            type: 'array',
            maxItems: 32,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['projectId', 'name', 'currency', 'amount', 'loanMin', 'loanMax', 'minMonths', 'maxMonths', 'rateBps', 'interestMethod'],
              properties: {
                projectId: { type: 'string', pattern: '^[0-9a-f]{32}$' },
                name: text(200),
                currency: { type: 'string', pattern: '^[A-Z][A-Z0-9]{2,4}$' },
                amount: decimal,
                loanMin: decimal,
                loanMax: decimal,
                minMonths: months,
                maxMonths: months,
                rateBps: { type: 'integer', minimum: 0, maximum: 1_000_000 },
                interestMethod: text(40)
              }
            }
          }
        }
      }
    },
    release: hex64,
    issuedAt: ms,
    expiresAt: ms,
    signature: { type: 'string', pattern: '^[0-9a-f]{128}$' }
  }
}

let validator: ValidateFunction | null = null
function validate (value: unknown): string | null {
  validator ??= new (Ajv as unknown as typeof Ajv.default)({ allErrors: false, strict: true }).compile(AD_SCHEMA_V1)
  if (validator(value)) return null
  const e = validator.errors?.[0]
  return `ad field ${e?.instancePath || '(root)'} ${e?.message ?? 'is invalid'}`
}

function signedMessage (body: AdBody): Uint8Array {
  const json = canonicalize(body)
  if (json === undefined) throw GrowrError.BAD_ARGUMENT('ad is not JSON')
  return b4a.concat([DOMAIN, b4a.from(json)])
}

/**
 * Signs an ad body with its DID's key and encodes it.
 *
 * @param body every field but the signature; `did` must be the DID of `secretKey`
 * @param secretKey 64-byte Ed25519 secret key of `body.did`
 * @returns the signed ad and its encoded bytes (JCS canonical JSON, UTF-8)
 * @throws BAD_ARGUMENT when the body does not pass the version-1 schema, its lifetime is not
 *   within (0, 2 h], `did` is not the key's DID, or the encoding exceeds MAX_AD_BYTES
 */
export function signAd (body: AdBody, secretKey: Uint8Array): { ad: Advertisement; bytes: Uint8Array } {
  const plain = stripSignature(body as Advertisement)
  if (!isDidKey(plain.did) || !b4a.equals(didToPublicKey(plain.did), secretKey.subarray(32))) throw GrowrError.BAD_ARGUMENT('an ad is signed by the key of its own DID')
  const signature = b4a.toString(sign(signedMessage(plain), secretKey), 'hex')
  const ad: Advertisement = { ...plain, signature }
  const reason = validate(ad) ?? lifetime(ad)
  if (reason) throw GrowrError.BAD_ARGUMENT(reason)
  const bytes = encodeAd(ad)
  if (bytes.byteLength > MAX_AD_BYTES) throw GrowrError.BAD_ARGUMENT(`ad of ${bytes.byteLength} bytes exceeds ${MAX_AD_BYTES} bytes`)
  return { ad, bytes }
}

/** The canonical bytes of a signed ad (JCS, UTF-8). @throws BAD_ARGUMENT when it is not JSON */
export function encodeAd (ad: Advertisement): Uint8Array {
  const json = canonicalize(ad)
  if (json === undefined) throw GrowrError.BAD_ARGUMENT('ad is not JSON')
  return b4a.from(json)
}

export interface CheckOptions {
  /** our clock, ms since the epoch */
  now: number
  /** the network's topic (hex) the ad must name */
  network: string
  /** how far ahead of `now` issuedAt may be, ms (default DEFAULT_MAX_SKEW_MS) */
  maxSkewMs?: number
}

/**
 * Checks an ad received from anyone. Never throws.
 *
 * @param bytes the encoded ad as received (untrusted)
 * @returns `{ ok: true, ad, bytes }` when it is at most MAX_AD_BYTES, canonical JSON of a
 *   version-1 ad for this network, signed by its own DID, issued no later than now + skew,
 *   not expired and living at most 2 h; else `{ ok: false, reason }` in plain words
 */
export function checkAd (bytes: unknown, opts: CheckOptions): AdCheck {
  try {
    if (!(bytes instanceof Uint8Array)) return { ok: false, reason: 'an ad must be bytes' }
    if (bytes.byteLength > MAX_AD_BYTES) return { ok: false, reason: `ad of ${bytes.byteLength} bytes exceeds ${MAX_AD_BYTES} bytes` }
    let value: unknown
    try {
      value = JSON.parse(b4a.toString(bytes, 'utf-8'))
    } catch {
      return { ok: false, reason: 'ad is not JSON' }
    }
    if (typeof value === 'object' && value !== null && (value as { v?: unknown }).v !== AD_VERSION) {
      return { ok: false, reason: `ad version ${String((value as { v?: unknown }).v).slice(0, 20)} is not supported (want ${AD_VERSION})` }
    }
    const bad = validate(value)
    if (bad) return { ok: false, reason: bad }
    const ad = value as Advertisement
    // one byte form per ad: the same ad cannot travel as many encodings (dedup, size accounting)
    if (!b4a.equals(encodeAd(ad), bytes)) return { ok: false, reason: 'ad is not in canonical JSON form' }
    if (ad.network !== opts.network) return { ok: false, reason: 'ad was signed for another network' }
    const sig = b4a.from(ad.signature, 'hex')
    if (!verify(signedMessage(stripSignature(ad)), sig, didToPublicKey(ad.did))) return { ok: false, reason: `signature does not hold for ${ad.did}` }
    const life = lifetime(ad)
    if (life) return { ok: false, reason: life }
    const skew = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS
    if (ad.issuedAt > opts.now + skew) return { ok: false, reason: `ad issued ${ad.issuedAt - opts.now} ms in the future (more than the ${skew} ms allowed)` }
    if (ad.expiresAt <= opts.now) return { ok: false, reason: 'ad has expired' }
    return { ok: true, ad, bytes }
  } catch (err) {
    return { ok: false, reason: `ad refused: ${(err as Error)?.message ?? String(err)}` }
  }
}

/**
 * Content hash of a release: BLAKE2b-256("growr/release/v1" 0x00 || version 0x00 || filesDigest).
 * Pure; the caller digests the app's files (see release.ts).
 *
 * @param version the package version, e.g. "0.1.0"
 * @param filesDigest digest of the app's source files (any bytes, typically 32)
 * @returns 64 hex characters
 */
export function releaseHash (version: string, filesDigest: Uint8Array): string {
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, b4a.concat([b4a.from('growr/release/v1\0'), b4a.from(version), b4a.from([0]), filesDigest]))
  return b4a.toString(out, 'hex')
}

/**
 * The well-known topic of a marketplace network, where its nodes find each other:
 * BLAKE2b-256("growr/network-topic/v1" 0x00 || name). The one function to swap for the
 * governance module's networkTopic(def) once networks are defined by their founders.
 *
 * @param name the network's name
 * @returns 32 bytes
 */
export function networkTopic (name: string): Uint8Array {
  if (typeof name !== 'string' || name.length === 0) throw GrowrError.BAD_ARGUMENT('a network needs a name')
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, b4a.concat([b4a.from('growr/network-topic/v1\0'), b4a.from(name)]))
  return out
}

function lifetime (ad: AdBody): string | null {
  if (ad.expiresAt <= ad.issuedAt) return 'ad expires before it is issued'
  if (ad.expiresAt - ad.issuedAt > MAX_AD_TTL_MS) return `ad lives ${ad.expiresAt - ad.issuedAt} ms, more than the ${MAX_AD_TTL_MS} ms allowed`
  return null
}

function stripSignature (ad: Advertisement): AdBody {
  const { signature: _signature, ...body } = ad
  return body
}
