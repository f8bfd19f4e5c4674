/**
 * Sealing an answer to one DID: libsodium's sealed box (crypto_box_seal: an ephemeral X25519 key,
 * XSalsa20-Poly1305) to the X25519 key converted from the recipient's Ed25519 did:key
 * (crypto_sign_ed25519_pk_to_curve25519); the recipient opens it with its converted secret key.
 * Only the holder of the DID's secret key can read it; the sender stays anonymous inside the box,
 * so whoever seals must also sign (broadcast.ts signAnswer does).
 *
 * The plaintext is padded (4-byte big-endian length, the bytes, zeros) to a multiple of
 * PAD_BYTES, so a sealed report's size does not tell how many books or loans it lists.
 * Pure functions.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { GrowrError } from '../errors.ts'
import { didToPublicKey, isDidKey } from '../identity/did-key.ts'

/** Plaintexts are padded to a multiple of this many bytes. */
export const PAD_BYTES = 1024
/** Largest plaintext sealed or opened, bytes. */
export const MAX_SEALED_PLAINTEXT = 128 * 1024

// types/sodium-universal.d.ts lists only the calls Growr made before; these are libsodium's own
const box = sodium as unknown as {
  crypto_box_SEALBYTES: number
  crypto_box_PUBLICKEYBYTES: number
  crypto_box_SECRETKEYBYTES: number
  crypto_box_seal (c: Uint8Array, m: Uint8Array, pk: Uint8Array): void
  crypto_box_seal_open (m: Uint8Array, c: Uint8Array, pk: Uint8Array, sk: Uint8Array): boolean
  crypto_sign_ed25519_pk_to_curve25519 (x: Uint8Array, ed: Uint8Array): void
  crypto_sign_ed25519_sk_to_curve25519 (x: Uint8Array, ed: Uint8Array): void
  crypto_scalarmult_base (q: Uint8Array, n: Uint8Array): void
}

/**
 * Seals `plaintext` so that only `did` can open it.
 * @param did the recipient's did:key (Ed25519)
 * @returns the sealed box, base64
 * @throws BAD_ARGUMENT for a DID that is not a did:key, a key with no X25519 form, or a plaintext over MAX_SEALED_PLAINTEXT
 */
export function sealTo (did: string, plaintext: Uint8Array): string {
  if (!isDidKey(did)) throw GrowrError.BAD_ARGUMENT('a sealed answer goes to a did:key')
  if (!(plaintext instanceof Uint8Array) || plaintext.byteLength > MAX_SEALED_PLAINTEXT) throw GrowrError.BAD_ARGUMENT(`a sealed plaintext is at most ${MAX_SEALED_PLAINTEXT} bytes`)
  const pk = b4a.alloc(box.crypto_box_PUBLICKEYBYTES)
  try {
    box.crypto_sign_ed25519_pk_to_curve25519(pk, didToPublicKey(did))
  } catch {
    throw GrowrError.BAD_ARGUMENT(`${did.slice(0, 60)} has no X25519 form`)
  }
  const padded = pad(plaintext)
  const out = b4a.alloc(padded.byteLength + box.crypto_box_SEALBYTES)
  box.crypto_box_seal(out, padded, pk)
  return b4a.toString(out, 'base64')
}

/**
 * Opens a box sealed to our DID. Never throws.
 * @param sealed base64 (untrusted)
 * @param secretKey our 64-byte Ed25519 secret key
 * @returns the plaintext, or why it could not be opened
 */
export function openSealed (sealed: unknown, secretKey: Uint8Array): { ok: true; plaintext: Uint8Array } | { ok: false; reason: string } {
  try {
    if (typeof sealed !== 'string' || sealed.length > ((MAX_SEALED_PLAINTEXT + PAD_BYTES + 64) * 4) / 3 + 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(sealed)) {
      return { ok: false, reason: 'the sealed answer is not base64 of a plausible size' }
    }
    const c = b4a.from(sealed, 'base64')
    if (c.byteLength < box.crypto_box_SEALBYTES + 4) return { ok: false, reason: 'the sealed answer is too short' }
    const sk = b4a.alloc(box.crypto_box_SECRETKEYBYTES)
    const pk = b4a.alloc(box.crypto_box_PUBLICKEYBYTES)
    box.crypto_sign_ed25519_sk_to_curve25519(sk, secretKey)
    box.crypto_scalarmult_base(pk, sk)
    const m = b4a.alloc(c.byteLength - box.crypto_box_SEALBYTES)
    const opened = box.crypto_box_seal_open(m, c, pk, sk)
    sodium.sodium_memzero(sk)
    if (!opened) return { ok: false, reason: 'the sealed answer does not open with this node\'s key (sealed to someone else, or altered)' }
    const n = new DataView(m.buffer, m.byteOffset, 4).getUint32(0)
    if (n > m.byteLength - 4) return { ok: false, reason: 'the sealed answer\'s padding is malformed' }
    return { ok: true, plaintext: m.subarray(4, 4 + n) }
  } catch {
    return { ok: false, reason: 'the sealed answer could not be opened' }
  }
}

function pad (plaintext: Uint8Array): Uint8Array {
  const total = Math.ceil((plaintext.byteLength + 4) / PAD_BYTES) * PAD_BYTES
  const out = b4a.alloc(total)
  new DataView(out.buffer, out.byteOffset, 4).setUint32(0, plaintext.byteLength)
  out.set(plaintext, 4)
  return out
}
