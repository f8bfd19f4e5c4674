/**
 * Which Nostr keys speak for a book: the pure checks apply runs on `nostr/key` and that readers
 * run on the recorded keys.
 *
 * A key is bound by a BIP-340 Schnorr signature (bitcoin/bips bip-0340.mediawiki, as Nostr uses
 * it in NIP-01) made BY THE NOSTR KEY over
 *
 *   sha256("growr/nostr-key/v1" 0x00 || book key (32 bytes) || 0x00 || scope || 0x00 || originator DID)
 *
 * with `scope` the string "organization" or a project id (32 hex), UTF-8. The key's own signature
 * means an originator cannot claim someone else's Nostr key; the book key, scope and DID inside
 * the message mean a binding made for one book, project or originator cannot be replayed into
 * another. No field can hold 0x00 (the schema's patterns), so the concatenation is unambiguous.
 *
 * Pure: no clock, no I/O, no randomness; never throws (failures are `{ ok: false, reason }` in
 * plain words), so apply can call it.
 */
import '../../core/runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'

/** Domain tag of the binding message, version 1. */
export const NOSTR_KEY_DOMAIN = 'growr/nostr-key/v1'

/** What a key speaks for in one book: the whole organization, or one project (its id). */
export type NostrKeyScope = 'organization' | string

/** A Nostr key the book records (view sub `nostr`, key `key/<pubkey>/<scope>`). */
export interface NostrKeyRecord {
  /** x-only secp256k1 public key, 64 lowercase hex (NIP-01 `pubkey`) */
  pubkey: string
  /** 'organization' or a project id */
  scope: NostrKeyScope
  /** false once retired: nothing it signs is verified any more, whatever the event's date */
  active: boolean
  /** ts (ms) of the op that set `active` to what it is now */
  since: number
  /** the BIP-340 signature (128 hex) that bound it, so anyone can check the binding again */
  proof: string
}

/** What a binding is made for. */
export interface BindingTarget {
  /** the book's key: 32 bytes, or 64 hex characters */
  book: Uint8Array | string
  scope: NostrKeyScope
  /** the book's originator's DID */
  originator: string
}

export type Check = { ok: true } | { ok: false; reason: string }

const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/
const SCOPE = /^(organization|[0-9a-f]{32})$/
const DID = /^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/

/** @returns whether `scope` is a well-formed scope: "organization" or a 32-hex project id */
export function isNostrKeyScope (scope: unknown): scope is NostrKeyScope {
  return typeof scope === 'string' && SCOPE.test(scope)
}

/**
 * The 32-byte message a Nostr key signs to speak for `target` (see the module comment).
 * @returns `{ ok: true, message }`, or `{ ok: false, reason }` for a malformed book key, scope or DID
 */
export function bindingMessage (target: BindingTarget): { ok: true; message: Uint8Array } | { ok: false; reason: string } {
  const book = bookBytes(target.book)
  if (!book) return { ok: false, reason: 'the book key must be 32 bytes (64 hex characters)' }
  if (!isNostrKeyScope(target.scope)) return { ok: false, reason: 'the scope must be "organization" or a project id (32 hex characters)' }
  if (typeof target.originator !== 'string' || !DID.test(target.originator)) return { ok: false, reason: 'the originator must be a did:key' }
  const zero = new Uint8Array(1)
  const message = sha256(concatBytes(utf8ToBytes(NOSTR_KEY_DOMAIN), zero, book, zero, utf8ToBytes(target.scope), zero, utf8ToBytes(target.originator)))
  return { ok: true, message }
}

/**
 * Checks that `proof` is the BIP-340 signature by Nostr key `pubkey` over the binding message of
 * `target`. A proof made by another key, or for another book, scope or originator, fails alike:
 * the signature simply does not verify over this message.
 * @param pubkey x-only public key, 64 lowercase hex
 * @param proof the signature, 128 lowercase hex
 * @returns `{ ok: true }` or `{ ok: false, reason }`; never throws
 */
export function verifyBinding (pubkey: string, proof: string, target: BindingTarget): Check {
  if (typeof pubkey !== 'string' || !HEX64.test(pubkey)) return { ok: false, reason: 'the Nostr public key must be 64 lowercase hex characters (x-only, BIP-340)' }
  if (typeof proof !== 'string' || !HEX128.test(proof)) return { ok: false, reason: 'the proof must be a BIP-340 signature: 128 lowercase hex characters' }
  if (!onCurve(pubkey)) return { ok: false, reason: `${short(pubkey)} is not a valid secp256k1 x-only public key` }
  const m = bindingMessage(target)
  if (!m.ok) return m
  let valid = false
  try {
    valid = schnorr.verify(hexToBytes(proof), m.message, hexToBytes(pubkey))
  } catch {
    valid = false // a signature whose r or s is out of range: no signature at all
  }
  if (!valid) return { ok: false, reason: `the proof is not a signature by Nostr key ${short(pubkey)} over this book, scope "${target.scope}" and originator: the key itself must sign its binding, for this book` }
  return { ok: true }
}

/** The answer to "does this key speak for it": the record that says so, or why not. */
export type SpeaksFor = { ok: true; record: NostrKeyRecord } | { ok: false; reason: string }

/**
 * Judges whether `pubkey` speaks for `project` (or, with null, for the organization itself) by
 * the book's records: an active organization key speaks for the organization and every project;
 * an active project key only for its own project. A retired key speaks for nothing.
 * @param records the book's recorded keys (BookView.nostrKeys)
 * @returns the active record that admits it, or the reason in plain words
 */
export function speaksFor (records: readonly NostrKeyRecord[], pubkey: string, project: string | null): SpeaksFor {
  const mine = records.filter((r) => r.pubkey === pubkey)
  if (mine.length === 0) return { ok: false, reason: `key ${short(pubkey)} is not recorded by this book` }
  const org = mine.find((r) => r.active && r.scope === 'organization')
  if (org) return { ok: true, record: org }
  if (project !== null) {
    const own = mine.find((r) => r.active && r.scope === project)
    if (own) return { ok: true, record: own }
  }
  const active = mine.filter((r) => r.active)
  if (active.length > 0) {
    const scopes = active.map((r) => r.scope).join(', ')
    return { ok: false, reason: project === null ? `key ${short(pubkey)} speaks only for project ${scopes}, not for the organization` : `key ${short(pubkey)} speaks for project ${scopes}, not for project ${project}` }
  }
  const last = mine.reduce((a, b) => (b.since > a.since ? b : a))
  return { ok: false, reason: `key ${short(pubkey)} was retired by the book on ${isoDate(last.since)}` }
}

/** View key of a recorded Nostr key. */
export function nostrKeyKey (pubkey: string, scope: NostrKeyScope): string { return `key/${pubkey}/${scope}` }

function bookBytes (book: Uint8Array | string): Uint8Array | null {
  if (book instanceof Uint8Array) return book.byteLength === 32 ? book : null
  return typeof book === 'string' && HEX64.test(book) ? hexToBytes(book) : null
}

function onCurve (xHex: string): boolean {
  try {
    schnorr.utils.lift_x(BigInt('0x' + xHex))
    return true
  } catch {
    return false
  }
}

function short (hex: string): string { return typeof hex === 'string' ? hex.slice(0, 12) + '…' : '?' }

function isoDate (ts: number): string {
  const d = new Date(ts)
  return Number.isNaN(d.getTime()) ? String(ts) : d.toISOString()
}
