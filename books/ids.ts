/**
 * Identifiers in a book, and who owns them.
 *
 * An op's identity is (signer DID, opId): two DIDs may use the same opId without touching each
 * other's ops. A record an op creates (project, funding, loan, payment) gets an id scoped to the
 * creating DID: its first 8 bytes are those of BLAKE2b-128 of the DID, the other 8 are random. Ops
 * replicate before Autobase orders them, so a member who reads a victim's op could otherwise
 * append its own op creating a record under the victim's id first and make the victim's op
 * "already exists". Matching another DID's scope means finding an Ed25519 key whose DID hashes
 * to the same 64 bits (about 2^64 key generations).
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'

const SCOPE_BYTES = 8

/** @returns 16 random bytes as 32 hex characters: the opId of a new op */
export function newId (): string {
  const buf = b4a.alloc(16)
  sodium.randombytes_buf(buf)
  return b4a.toString(buf, 'hex')
}

/** @param did the creating DID @returns 16 hex characters: the scope its record ids start with */
export function idScope (did: string): string {
  const out = b4a.alloc(16) // BLAKE2b's shortest output; the scope is its first 8 bytes
  sodium.crypto_generichash(out, b4a.from(did))
  return b4a.toString(out, 'hex', 0, SCOPE_BYTES)
}

/** @param did the DID that will sign the creating op @returns a fresh 32-hex record id scoped to it */
export function scopedId (did: string): string {
  const buf = b4a.alloc(16)
  sodium.randombytes_buf(buf)
  return idScope(did) + b4a.toString(buf, 'hex', 0, 16 - SCOPE_BYTES)
}

/** @returns whether record id `id` (32 hex) belongs to `did` */
export function isScopedTo (id: string, did: string): boolean {
  return id.startsWith(idScope(did))
}

/**
 * @returns the replay-index key of an op: its signer's scope and its opId. The scope stands for
 *   the DID (as in record ids) to keep the index's keys short: every op writes one.
 */
export function opKey (signer: string, opId: string): string { return idScope(signer) + '/' + opId }
