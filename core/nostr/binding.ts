/**
 * Binding the node's Nostr keys to a book, and judging events against a book's recorded keys.
 *
 * The book records, in op `nostr/key` signed by the originator's DID, which Nostr public keys
 * speak for it; each carries a BIP-340 signature by the key itself over the book, scope and
 * originator (books/nostr/binding.ts has the message and the pure check apply runs). Here:
 * - {@link signBinding} / {@link bindingOp}: make that proof with a key the node derives
 *   (core/nostr/keys.ts), and the op to append;
 * - {@link judgeListing}: anyone's check of an event (a NIP-99 listing, a profile, a note)
 *   against the keys a book records: refused when the event itself does not verify (NIP-01 id
 *   and signature), otherwise verified or unverified with the reason in plain words.
 *
 * A retired key (`active: false`) speaks for nothing from then on: every event it signed is
 * unverified, whatever its `created_at` says, since a leaked key can sign backdated events.
 */
import '../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { verifyEvent, type Event } from 'nostr-tools/pure'
import b4a from 'b4a'
import { GrowrError } from '../errors.ts'
import type { DidKey } from '../identity/did-key.ts'
import type { OpInput } from '../../books/ops/types.ts'
import { bindingMessage, speaksFor, type BindingTarget, type NostrKeyRecord, type NostrKeyScope } from '../../books/nostr/binding.ts'
import { auxRandom, type NostrScope, type NostrSigner } from './keys.ts'

export { bindingMessage, speaksFor, verifyBinding, NOSTR_KEY_DOMAIN, type BindingTarget, type NostrKeyRecord, type NostrKeyScope } from '../../books/nostr/binding.ts'

/**
 * Signs the binding of a Nostr key to `target` (BIP-340, books/nostr/binding.ts's message).
 * @param secretKey the Nostr key's 32-byte secret key (lend it with NostrSigner.withSecretKey)
 * @returns the proof, 128 hex
 * @throws BAD_ARGUMENT for a malformed book key, scope or DID, or a secret key that is not 32 bytes
 */
export function signBinding (secretKey: Uint8Array, target: BindingTarget): string {
  if (!(secretKey instanceof Uint8Array) || secretKey.byteLength !== 32) throw GrowrError.BAD_ARGUMENT('a Nostr secret key is 32 bytes')
  const m = bindingMessage(target)
  if (!m.ok) throw GrowrError.BAD_ARGUMENT(m.reason)
  return bytesToHex(schnorr.sign(m.message, secretKey, auxRandom()))
}

/** The book a node binds its keys in: its key and its originator (the node's own DID). */
export interface BindingBook {
  /** the book's key (Book.key), 32 bytes or 64 hex */
  key: Uint8Array | string
  /** the book's originator: the DID that signs the op, which must be this node's */
  originator: DidKey
}

/**
 * The op that records (or, with `active` false, retires) the key that speaks for `scope` in a
 * book this node originates: the key is derived by `signer` and signs its own binding.
 * For a Book: `bindingOp(signer, { key: book.key, originator: book.signer.did }, scope)`.
 * @param scope the organization, or a project of this very book
 * @returns the `nostr/key` op input for Book.act, and the key it binds
 * @throws BAD_ARGUMENT when a project scope names another book
 */
export async function bindingOp (signer: NostrSigner, book: BindingBook, scope: NostrScope, active = true): Promise<OpInput & { type: 'nostr/key' }> {
  const bookHex = typeof book.key === 'string' ? book.key : b4a.toString(book.key, 'hex')
  if (scope.kind === 'project' && scope.book !== bookHex) throw GrowrError.BAD_ARGUMENT('a project key is bound in its own book: the scope names another book')
  const scopeName: NostrKeyScope = scope.kind === 'organization' ? 'organization' : scope.project
  return await signer.withSecretKey(scope, (secretKey, pubkey) => ({
    type: 'nostr/key' as const,
    pubkey,
    scope: scopeName,
    proof: signBinding(secretKey, { book: bookHex, scope: scopeName, originator: book.originator }),
    active
  }))
}

/** What a reader may make of an event that claims to speak for a book. */
export type ListingJudgement =
  | { status: 'verified'; verified: true; reason: string; record: NostrKeyRecord }
  | { status: 'unverified'; verified: false; reason: string }
  | { status: 'refused'; verified: false; reason: string }

/** What the event claims to speak for: which book and, for a listing, which project. */
export interface ListingClaim {
  /** the book's key, hex (for the reasons) */
  book: string
  /** the project the event is about, or null for the organization (profile, relay list) */
  project: string | null
}

const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/

/**
 * Judges an event against the keys a book records.
 * - `refused`: not an event (malformed), or its id or signature does not verify (NIP-01, with
 *   nostr-tools' verifyEvent on a fresh copy, so no verification cached on the object counts);
 * - `verified`: signed by a key the book records as active for the organization, or for `project`;
 * - `unverified`: a valid event by a key the book does not record, records for another project
 *   only, or has retired; the reason says which.
 * The claim must be what the event itself says it is about (its book and project tag): the judge
 * checks the key against that claim, so a caller that judges against another book or project
 * than the event names would vouch for the wrong thing.
 * @param event any value, as received from a relay
 * @param recordedKeys the book's records (BookView.nostrKeys, or `nostr.keys`)
 * @returns the judgement, with the reason in plain words; never throws
 */
export function judgeListing (event: unknown, recordedKeys: readonly NostrKeyRecord[], claim: ListingClaim): ListingJudgement {
  const fresh = plainEvent(event)
  if (typeof fresh === 'string') return { status: 'refused', verified: false, reason: fresh }
  let valid = false
  try {
    valid = verifyEvent(fresh)
  } catch {
    valid = false
  }
  if (!valid) return { status: 'refused', verified: false, reason: 'the event\'s id or signature does not verify (NIP-01): it was altered or forged' }
  const book = typeof claim?.book === 'string' ? claim.book.slice(0, 12) + '…' : 'this book'
  const project = typeof claim?.project === 'string' ? claim.project : null
  const speaks = speaksFor(Array.isArray(recordedKeys) ? recordedKeys : [], fresh.pubkey, project)
  if (!speaks.ok) return { status: 'unverified', verified: false, reason: speaks.reason }
  const what = speaks.record.scope === 'organization' ? 'the organization' : `project ${speaks.record.scope}`
  return { status: 'verified', verified: true, reason: `signed by a key book ${book} records for ${what}`, record: speaks.record }
}

/** A fresh plain copy of a well-formed event, or the reason it is not one. */
function plainEvent (e: unknown): Event | string {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return 'not a Nostr event: an object is expected'
  const v = e as Record<string, unknown>
  if (typeof v.id !== 'string' || !HEX64.test(v.id)) return 'not a Nostr event: id must be 64 lowercase hex'
  if (typeof v.pubkey !== 'string' || !HEX64.test(v.pubkey)) return 'not a Nostr event: pubkey must be 64 lowercase hex'
  if (typeof v.sig !== 'string' || !HEX128.test(v.sig)) return 'not a Nostr event: sig must be 128 lowercase hex'
  if (!Number.isSafeInteger(v.kind) || (v.kind as number) < 0 || (v.kind as number) > 65535) return 'not a Nostr event: kind must be an integer 0..65535'
  if (!Number.isSafeInteger(v.created_at) || (v.created_at as number) < 0) return 'not a Nostr event: created_at must be a whole number of seconds'
  if (typeof v.content !== 'string') return 'not a Nostr event: content must be a string'
  if (!Array.isArray(v.tags) || !v.tags.every((t) => Array.isArray(t) && t.every((x) => typeof x === 'string'))) return 'not a Nostr event: tags must be arrays of strings'
  return { id: v.id, pubkey: v.pubkey, sig: v.sig, kind: v.kind as number, created_at: v.created_at as number, content: v.content, tags: (v.tags as string[][]).map((t) => [...t]) }
}
