/**
 * Deterministic per-record receiving addresses. Every funding commitment and every loan gets its
 * own address, derived from its record id, so every peer (and a watch-only device holding only
 * the account xpub) computes the same address without any state.
 *
 * index = the first 4 bytes of SHA-256(UTF-8 record id), big-endian, with the top bit cleared
 * (`& 0x7fffffff`): a non-hardened BIP-32 index, 0 .. 2^31-1.
 *
 * Collisions are possible: two records map to the same index with probability 2^-31 per pair
 * (about 1 in 2 million for 65 000 records in one account). Callers must check the book for an
 * address already assigned to another record before using it, and fall back (e.g. to the next
 * unused index) when it is. Pure: no I/O, no clock, no randomness.
 */
import '../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { sha256 } from '@noble/hashes/sha2.js'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'

/** A record id as books/ids.ts makes them: 32 lower-case hex characters. */
const RECORD_ID = /^[0-9a-f]{32}$/

/**
 * The receive index of a record.
 *
 * @param recordId 32 lower-case hex characters (a project, funding, loan or payment id).
 * @returns an integer in 0 .. 2^31-1.
 * @throws GrowrError BAD_ARGUMENT if `recordId` is not 32 lower-case hex characters (upper case is
 *   refused rather than folded: the same record must never map to two indexes).
 */
export function receiveIndexFor (recordId: string): number {
  if (typeof recordId !== 'string' || !RECORD_ID.test(recordId)) {
    throw GrowrError.BAD_ARGUMENT('record id must be 32 lower-case hex characters')
  }
  const h = sha256(b4a.from(recordId, 'utf8'))
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) & 0x7fffffff
}
