/**
 * Revocation with the W3C "Bitstring Status List v1.0": an issuer publishes a credential whose
 * subject carries a GZIP-compressed bitstring (multibase base64url, `u` prefix); a credential's
 * `credentialStatus` names its list and bit index; bit set = revoked. Bit 0 is the left-most
 * bit of the first byte. Only the `revocation` purpose is used. No I/O: fetching the list
 * credential is the caller's job.
 */
import b4a from 'b4a'
import { Bitstring } from '@digitalbazaar/bitstring'
import { base64urlnopad } from '@scure/base'
import { GrowrError } from '../errors.ts'
import { isPlainObject } from './eddsa-jcs-2022.ts'
import { GROWR_CONTEXTS, isoSeconds, signAs, verifyCredential } from './vc.ts'
import type { Signer, VerifiableCredential } from './vc.ts'

/** A credential's `credentialStatus` (Bitstring Status List v1.0, section 2.1). */
export interface BitstringStatusListEntry {
  /** `${statusListCredential}#${statusListIndex}` */
  id: string
  type: 'BitstringStatusListEntry'
  statusPurpose: 'revocation'
  /** the bit index, as a decimal string (the spec's form) */
  statusListIndex: string
  /** URL (id) of the BitstringStatusListCredential */
  statusListCredential: string
}

/** The spec's minimum list length, for herd privacy: 131072 bits (16 KiB). */
export const MIN_STATUS_LIST_BITS = 131072
/** Growr's maximum list length: 2^20 bits (128 KiB uncompressed, 8 times the minimum). */
export const MAX_STATUS_LIST_BITS = 1048576
// Even an incompressible 128 KiB list encodes to about 175,000 characters. The cap bounds what
// a hostile list can cost: inflate runs to completion before pako checks sizes, and DEFLATE
// expands at most about 1032:1, so the worst case is roughly 150 MB of transient memory.
const MAX_ENCODED_CHARS = 200_000

/**
 * Encode a revocation list (Bitstring Status List v1.0, section 3.1 "Generate Algorithm").
 *
 * @param revoked indices whose bit is set.
 * @param length list length in bits; a multiple of 8 between MIN_STATUS_LIST_BITS and
 *   MAX_STATUS_LIST_BITS (default MIN_STATUS_LIST_BITS).
 * @returns the encodedList: `u` + base64url (no padding) of the GZIP of the bits.
 * @throws GrowrError BAD_ARGUMENT for a bad length or an index outside [0, length).
 */
export async function encodeStatusList (revoked: Iterable<number>, length: number = MIN_STATUS_LIST_BITS): Promise<string> {
  if (!Number.isInteger(length) || length < MIN_STATUS_LIST_BITS || length > MAX_STATUS_LIST_BITS || length % 8 !== 0) {
    throw GrowrError.BAD_ARGUMENT(`status list length must be a multiple of 8 between ${MIN_STATUS_LIST_BITS} and ${MAX_STATUS_LIST_BITS} bits`)
  }
  const bits = new Bitstring({ length })
  for (const index of revoked) {
    if (!Number.isInteger(index) || index < 0 || index >= length) throw GrowrError.BAD_ARGUMENT(`status list index ${String(index)} is outside 0..${length - 1}`)
    bits.set(index, true)
  }
  return 'u' + await bits.encodeBits()
}

/**
 * Read one bit of an encoded list (Bitstring Status List v1.0, section 3.2 "Validate Algorithm",
 * the bit lookup).
 *
 * @param encodedList the `u...` multibase base64url GZIP bitstring.
 * @param index the bit index.
 * @returns true if the bit is set (revoked).
 * @throws GrowrError BAD_ARGUMENT if the list is malformed, shorter than MIN_STATUS_LIST_BITS
 *   or longer than MAX_STATUS_LIST_BITS, or `index` is outside it.
 */
export async function isSet (encodedList: string, index: number): Promise<boolean> {
  const bytes = await decodeList(encodedList)
  if (!Number.isInteger(index) || index < 0 || index >= bytes.byteLength * 8) {
    throw GrowrError.BAD_ARGUMENT(`status list index ${String(index)} is outside 0..${bytes.byteLength * 8 - 1}`)
  }
  return new Bitstring({ buffer: bytes }).get(index)
}

/**
 * The `credentialStatus` of a credential revocable at bit `index` of a list.
 * @param listCredentialId the status list credential's id (URL).
 * @param index the bit index, 0 <= index < MAX_STATUS_LIST_BITS.
 * @returns the BitstringStatusListEntry (purpose revocation).
 * @throws GrowrError BAD_ARGUMENT for an empty id or an out-of-range index.
 */
export function statusEntry (listCredentialId: string, index: number): BitstringStatusListEntry {
  if (typeof listCredentialId !== 'string' || listCredentialId === '' || listCredentialId.includes('#')) {
    throw GrowrError.BAD_ARGUMENT('status list credential id must be a URL without a #fragment')
  }
  if (!Number.isInteger(index) || index < 0 || index >= MAX_STATUS_LIST_BITS) throw GrowrError.BAD_ARGUMENT(`status list index ${String(index)} is out of range`)
  return {
    id: `${listCredentialId}#${index}`,
    type: 'BitstringStatusListEntry',
    statusPurpose: 'revocation',
    statusListIndex: String(index),
    statusListCredential: listCredentialId
  }
}

/**
 * Make and sign a BitstringStatusListCredential (Bitstring Status List v1.0, section 2.2).
 *
 * @param input issuer (did:key + secret key), the list credential's id (URL), the encoded list
 *   (from {@link encodeStatusList}) and the clock (ms).
 * @returns the secured credential, type `['VerifiableCredential', 'BitstringStatusListCredential']`,
 *   subject `{ id: id#list, type: BitstringStatusList, statusPurpose: revocation, encodedList }`.
 * @throws GrowrError BAD_ARGUMENT for an empty id, a non-multibase list, or a signer mismatch.
 */
export function statusListCredential (input: { issuer: Signer; id: string; encodedList: string; now: number }): VerifiableCredential {
  const { issuer, id, encodedList, now } = input
  if (typeof id !== 'string' || id === '' || id.includes('#')) throw GrowrError.BAD_ARGUMENT('status list credential id must be a URL without a #fragment')
  if (typeof encodedList !== 'string' || encodedList[0] !== 'u') throw GrowrError.BAD_ARGUMENT('encodedList must be multibase base64url (u prefix)')
  const validFrom = isoSeconds(now)
  const unsecured = {
    '@context': GROWR_CONTEXTS,
    id,
    type: ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: issuer?.did,
    validFrom,
    credentialSubject: { id: `${id}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList }
  }
  return signAs<VerifiableCredential>(unsecured, issuer, { proofPurpose: 'assertionMethod', created: validFrom })
}

/**
 * Check a credential's status against a fetched list credential (Bitstring Status List v1.0,
 * section 3.2): the list credential must verify (signature, not expired), be issued by the
 * credential's issuer, be the list the entry names, and have the entry's purpose.
 *
 * @param listVc the status list credential, as fetched.
 * @param entry the credential's credentialStatus.
 * @param expectedIssuer the issuer of the credential being checked.
 * @param now the verifying clock, ms since the epoch.
 * @returns `{ revoked }`, or `{ error }` in plain words when the list cannot be trusted or read.
 *   Never throws.
 */
export async function checkStatusAgainst (listVc: unknown, entry: BitstringStatusListEntry, expectedIssuer: string, now: number): Promise<{ revoked: boolean } | { error: string }> {
  try {
    if (!isPlainObject(entry) || entry.type !== 'BitstringStatusListEntry') return { error: 'the credential status is not a BitstringStatusListEntry' }
    if (typeof entry.statusListIndex !== 'string' || !/^(0|[1-9][0-9]{0,9})$/.test(entry.statusListIndex)) return { error: 'the status list index is not a decimal number' }
    const checked = await verifyCredential(listVc, { now })
    if (!checked.verified) return { error: `the status list credential does not verify: ${checked.problems.map((p) => p.message).join('; ')}` }
    const list = listVc as VerifiableCredential
    if (!list.type.includes('BitstringStatusListCredential')) return { error: 'the status list credential is not a BitstringStatusListCredential' }
    if (checked.issuer !== expectedIssuer) return { error: `the status list was issued by ${String(checked.issuer)}, not by the credential's issuer ${expectedIssuer}` }
    if (list.id !== entry.statusListCredential) return { error: `the status list is ${String(list.id)}, not ${String(entry.statusListCredential)}` }
    const subject = list.credentialSubject
    if (subject.type !== 'BitstringStatusList') return { error: 'the status list credential\'s subject is not a BitstringStatusList' }
    if (subject.statusPurpose !== entry.statusPurpose) return { error: `the status list is for ${String(subject.statusPurpose)}, not ${String(entry.statusPurpose)}` }
    if (typeof subject.encodedList !== 'string') return { error: 'the status list has no encodedList' }
    return { revoked: await isSet(subject.encodedList, Number(entry.statusListIndex)) }
  } catch (err) {
    return { error: (err as Error)?.message ?? String(err) }
  }
}

async function decodeList (encodedList: string): Promise<Uint8Array> {
  if (typeof encodedList !== 'string' || encodedList[0] !== 'u' || encodedList.length > MAX_ENCODED_CHARS) {
    throw GrowrError.BAD_ARGUMENT('encodedList must be multibase base64url (u prefix) of bounded size')
  }
  let gz: Uint8Array
  try {
    gz = base64urlnopad.decode(encodedList.slice(1))
  } catch {
    throw GrowrError.BAD_ARGUMENT('encodedList is not valid base64url')
  }
  // GZIP's trailer (RFC 1952 ISIZE) states the inflated size: an honest but oversized list is
  // refused before inflating; a lying trailer is caught after (see MAX_ENCODED_CHARS).
  if (gz.byteLength < 18) throw GrowrError.BAD_ARGUMENT('encodedList is not GZIP data')
  const isize = new DataView(gz.buffer, gz.byteOffset, gz.byteLength).getUint32(gz.byteLength - 4, true)
  if (isize < MIN_STATUS_LIST_BITS / 8 || isize > MAX_STATUS_LIST_BITS / 8) {
    throw GrowrError.BAD_ARGUMENT(`status list must be ${MIN_STATUS_LIST_BITS} to ${MAX_STATUS_LIST_BITS} bits long`)
  }
  let bytes: Uint8Array
  try {
    bytes = await Bitstring.decodeBits({ encoded: encodedList.slice(1) })
  } catch {
    throw GrowrError.BAD_ARGUMENT('encodedList is not GZIP data')
  }
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== isize) throw GrowrError.BAD_ARGUMENT('encodedList is not GZIP data')
  // Bitstring wraps `buffer.buffer`, so hand it a buffer that is exactly the list.
  return b4a.from(bytes)
}
