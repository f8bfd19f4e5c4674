/**
 * NIP-57 zap receipts (nostr-protocol/nips 57.md), checked for a book: a zap receipt (kind 9735)
 * for a project's NIP-99 listing becomes a funding commitment (books/funding/zap-handlers.ts).
 *
 * What a receipt can establish, and what it cannot: the receipt is signed by the recipient's
 * LNURL server (its `nostrPubkey`), the zap request inside it by the zapper, and the BOLT 11
 * invoice by the server's Lightning node; the invoice commits to the zap request by its
 * description hash. So a valid receipt shows that this zapper asked to pay this amount to this
 * listing, and that the server says the invoice was paid. NIP-57 itself says it is no proof of
 * payment. A preimage hashing to the invoice's payment hash shows the invoice was settled, but it
 * comes from the payee's side (the server, or the originator's wallet), so it counts because the
 * payee signs the op that hands it in, as a payee's confirmation would.
 *
 * Pure: no clock (times are the receipt's and the op's), no I/O, no randomness; apply calls it.
 * Never throws: every failure is `{ ok: false, reason }` in plain words. Amounts are bigint msat.
 */
import '../runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { verifyEvent, type NostrEvent } from 'nostr-tools/pure'
import { validateZapRequest } from 'nostr-tools/nip57'
import { bech32 } from '@scure/base'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { decodeBolt11, type Bolt11Network } from '../../books/proofs/bolt11.ts'
import { MAX_SKEW_MS } from '../../books/clock.ts'
import type { ZapReceiptEvent } from '../../books/ops/types.ts'

/** NIP-57 event kinds. */
export const ZAP_REQUEST_KIND = 9734
export const ZAP_RECEIPT_KIND = 9735
/** NIP-99 classified listing: the only kind of address a zap funding may name. */
export const LISTING_KIND = 30402
/** Longest zap request accepted, characters: bounds the work apply does (an op is at most 64 KiB anyway). */
export const MAX_ZAP_REQUEST_CHARS = 16_000

const HEX_32 = /^[0-9a-f]{64}$/
const MSAT = /^[1-9][0-9]{0,21}$/
/** `30402:<64 hex pubkey>:<d tag>`: a NIP-01 address of a listing (the d tag is free text but bounded). */
const LISTING_ADDRESS = /^30402:[0-9a-f]{64}:[^\n]{1,200}$/
/** LUD-16 internet identifier: `name@domain`, name from LUD-16's character set. */
const LUD16 = /^[a-z0-9\-_.+]{1,64}@[a-z0-9.-]{1,253}(:[0-9]{1,5})?$/

export type { ZapReceiptEvent }

/** What the book says a zap for this project must be. */
export interface ZapExpectation {
  /** The LNURL server's `nostrPubkey` (BIP-340 x-only, 64 hex): the only key whose receipts count. */
  serverPubkey: string
  /** The pubkey the zaps go to (the zap request's `p`), 64 hex. */
  recipient: string
  /** The listing's address, `30402:<pubkey>:<d>` (the zap request's `a`). */
  listing: string
  /** The LUD-16 address zaps are paid through; a zap request's `lnurl` tag, when present, must encode it. */
  lud16: string
  /** The network the project's Lightning payments are on. */
  network: Bolt11Network
  /** When the op handing the receipt in was signed, ms: a receipt cannot be dated after it. */
  receivedAt: number
  /** The invoice's preimage (hex), when the payee's wallet gave it: then it must hash to the payment hash. */
  preimage?: string
}

/** A zap that holds: who zapped what, under which invoice and receipt. */
export interface CheckedZap {
  /** The receipt's event id, hex: one receipt counts once. */
  receiptId: string
  /** The zap request's event id, hex. */
  requestId: string
  /** The zapper's pubkey (the zap request's signer), hex. */
  zapper: string
  /** The BOLT 11 payment hash, hex: one invoice counts once. */
  paymentHash: string
  /** The invoice's amount, millisatoshis. */
  amountMsat: bigint
  /** The invoice, lower-cased. */
  invoice: string
  /** When the server says the invoice was paid: the receipt's created_at, seconds. */
  paidAt: number
  /** Whether a preimage of the payment hash was handed in (the op's). */
  proven: boolean
  /** The zapper's comment (the zap request's content), as given. */
  comment: string
}

/** Outcome of {@link checkZapReceipt}. */
export type ZapCheck = { ok: true; zap: CheckedZap } | { ok: false; reason: string }

/**
 * Checks a zap receipt against a project's zap settings (NIP-57 appendices D, E and F).
 *
 * Holds when: the receipt is a kind 9735 event whose id and BIP-340 signature hold
 * (nostr-tools verifyEvent) and whose signer is `expect.serverPubkey`; it carries exactly one
 * `bolt11`, `description` and `p` tag and at most one `e`, `a`, `P`, `preimage`; the invoice
 * decodes under BOLT 11 (signature included), is for `expect.network`, states an amount and a
 * description hash equal to SHA-256 of the `description` tag exactly as embedded; that
 * description is a kind 9734 zap request whose id and signature hold (nostr-tools
 * validateZapRequest), with exactly one `p` (= `expect.recipient`), at most one `e`, exactly one
 * `a` (= `expect.listing`), an `amount` tag (msat, required here though NIP-57 only recommends
 * it: without it nothing shows the zapper agreed to the invoice's amount) equal to the invoice's,
 * a `k` tag if any of 30402, an `lnurl` tag if any encoding `expect.lud16`'s LNURL-pay URL; the
 * receipt's `p`, `a`, `e` equal the request's and its `P`, if any, is the zapper; a receipt
 * `preimage` tag, if any, and `expect.preimage`, if given, hash to the payment hash; the receipt
 * is dated within the invoice's life (BOLT 11 timestamp to timestamp + expiry) and not after
 * `expect.receivedAt`, each with MAX_SKEW_MS of tolerance.
 *
 * @param receipt the kind 9735 event as JSON (any value: hostile input is refused, not thrown)
 * @param expect the project's zap settings and the op's facts, see {@link ZapExpectation}
 * @returns `{ ok: true, zap }` ({@link CheckedZap}, amounts bigint msat), or `{ ok: false, reason }`
 *   with a plain-words reason per failed check. Never throws.
 * @see NIP-57 (nostr-protocol/nips 57.md), NIP-01, BOLT 11, LUD-06, LUD-16
 */
export function checkZapReceipt (receipt: unknown, expect: ZapExpectation): ZapCheck {
  try {
    return check(receipt, expect)
  } catch (err) {
    return fail(`zap receipt could not be checked: ${(err as Error)?.message ?? String(err)}`)
  }
}

function check (receipt: unknown, expect: ZapExpectation): ZapCheck {
  const event = asEvent(receipt)
  if (typeof event === 'string') return fail(`zap receipt is not a Nostr event: ${event}`)
  if (event.kind !== ZAP_RECEIPT_KIND) return fail(`event is of kind ${event.kind}, not a zap receipt (${ZAP_RECEIPT_KIND})`)
  // a fresh object: nostr-tools caches a verdict on the object it verified, and a caller's object may carry one
  if (!verifyEvent({ ...event })) return fail('the zap receipt\'s id or signature does not hold')
  if (event.pubkey !== expect.serverPubkey) return fail(`the zap receipt is signed by ${event.pubkey}, not by the LNURL server's key ${expect.serverPubkey} the project names`)

  const tags = tagsOf(event.tags, ['bolt11', 'description', 'p'], ['e', 'a', 'P', 'preimage'])
  if (typeof tags === 'string') return fail(`zap receipt: ${tags}`)

  const decoded = decodeBolt11(tags.bolt11)
  if (!decoded.ok) return fail(`the zap receipt's invoice is refused: ${decoded.reason}`)
  const inv = decoded.invoice
  if (inv.network !== expect.network) return fail(`the zap's invoice is for ${inv.network}, but the project is paid on ${expect.network}`)
  if (inv.amountMsat === null) return fail('the zap\'s invoice states no amount')
  const description = tags.description as string
  if (description.length > MAX_ZAP_REQUEST_CHARS) return fail(`the zap request is longer than ${MAX_ZAP_REQUEST_CHARS} characters`)
  if (inv.descriptionHash === null) return fail('the zap\'s invoice carries no description hash: it does not commit to a zap request')
  if (bytesToHex(sha256(utf8ToBytes(description))) !== inv.descriptionHash) return fail('the invoice\'s description hash is not SHA-256 of the zap request: the zap request was altered')

  const invalid = validateZapRequest(description)
  if (invalid !== null) return fail(`the zap request is refused: ${invalid}`)
  const request = asEvent(JSON.parse(description))
  if (typeof request === 'string') return fail(`the zap request is not a Nostr event: ${request}`)
  if (request.kind !== ZAP_REQUEST_KIND) return fail(`the zap request is of kind ${request.kind}, not ${ZAP_REQUEST_KIND}`)
  const asked = tagsOf(request.tags, ['p', 'a', 'amount'], ['e', 'k', 'lnurl'])
  if (typeof asked === 'string') return fail(`zap request: ${asked}`)
  if (asked.a !== expect.listing) return fail(`the zap is for ${asked.a}, not for this project's listing ${expect.listing}`)
  if (asked.p !== expect.recipient) return fail(`the zap goes to ${asked.p}, not to the project's recipient ${expect.recipient}`)
  if (asked.k !== undefined && asked.k !== String(LISTING_KIND)) return fail(`the zap request names kind ${asked.k}, not a listing (${LISTING_KIND})`)
  if (!MSAT.test(asked.amount as string)) return fail('the zap request\'s amount is not a whole number of millisatoshis')
  if (BigInt(asked.amount as string) !== inv.amountMsat) return fail(`the zap request asks ${asked.amount} msat, but the invoice is for ${inv.amountMsat} msat`)
  if (asked.lnurl !== undefined) {
    const url = lnurlOf(asked.lnurl)
    const want = lud16Url(expect.lud16)
    if (url === null || want === null || url !== want) return fail(`the zap request's lnurl does not encode the project's Lightning address ${expect.lud16}`)
  }

  if (tags.p !== asked.p) return fail('the zap receipt\'s p tag is not the zap request\'s')
  if (tags.a !== asked.a) return fail('the zap receipt\'s a tag is not the zap request\'s')
  if (tags.e !== asked.e) return fail('the zap receipt\'s e tag is not the zap request\'s')
  if (tags.P !== undefined && tags.P !== request.pubkey) return fail('the zap receipt\'s P tag is not the zapper who signed the zap request')

  if (tags.preimage !== undefined && !hashesTo(tags.preimage, inv.paymentHash)) return fail('the zap receipt\'s preimage tag does not hash to the invoice\'s payment hash')
  if (expect.preimage !== undefined && !hashesTo(expect.preimage, inv.paymentHash)) return fail('the preimage does not hash to the zap invoice\'s payment hash: no proof the invoice was paid')

  const paidMs = event.created_at * 1000
  if (paidMs < inv.timestamp * 1000 - MAX_SKEW_MS) return fail('the zap receipt is dated before its invoice was created')
  if (paidMs > (inv.timestamp + inv.expiry) * 1000 + MAX_SKEW_MS) return fail('the zap receipt is dated after its invoice expired')
  if (paidMs > expect.receivedAt + MAX_SKEW_MS) return fail('the zap receipt is dated after the op that hands it in')

  return {
    ok: true,
    zap: {
      receiptId: event.id,
      requestId: request.id,
      zapper: request.pubkey,
      paymentHash: inv.paymentHash,
      amountMsat: inv.amountMsat,
      invoice: inv.paymentRequest,
      paidAt: event.created_at,
      proven: expect.preimage !== undefined,
      comment: request.content
    }
  }
}

/** @returns the value as a NIP-01 event with exactly the NIP-01 fields, or why it is not one */
function asEvent (v: unknown): ZapReceiptEvent | string {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'not an object'
  const e = v as Record<string, unknown>
  if (typeof e.id !== 'string' || !HEX_32.test(e.id)) return 'id is not 64 hex characters'
  if (typeof e.pubkey !== 'string' || !HEX_32.test(e.pubkey)) return 'pubkey is not 64 hex characters'
  if (typeof e.sig !== 'string' || !/^[0-9a-f]{128}$/.test(e.sig)) return 'sig is not 128 hex characters'
  if (!Number.isSafeInteger(e.created_at) || (e.created_at as number) < 0) return 'created_at is not a whole number of seconds'
  if (!Number.isSafeInteger(e.kind) || (e.kind as number) < 0) return 'kind is not a whole number'
  if (typeof e.content !== 'string') return 'content is not a string'
  if (!Array.isArray(e.tags) || !e.tags.every((t) => Array.isArray(t) && t.length >= 1 && t.every((s) => typeof s === 'string'))) return 'tags are not lists of strings'
  return { id: e.id, pubkey: e.pubkey, created_at: e.created_at as number, kind: e.kind as number, tags: e.tags as string[][], content: e.content, sig: e.sig }
}

/**
 * @returns the first value of each named tag, requiring `once` tags exactly once and `atMostOnce`
 *   tags at most once (a zap that names two recipients or two listings is ambiguous), or why not
 */
function tagsOf (tags: string[][], once: string[], atMostOnce: string[]): Record<string, string | undefined> | string {
  const out: Record<string, string | undefined> = {}
  for (const name of [...once, ...atMostOnce]) {
    const found = tags.filter((t) => t[0] === name)
    if (found.length > 1) return `more than one ${name} tag`
    if (found.length === 0 && once.includes(name)) return `no ${name} tag`
    if (found.length === 1 && typeof found[0][1] !== 'string') return `the ${name} tag has no value`
    out[name] = found[0]?.[1]
  }
  return out
}

function hashesTo (preimage: string, paymentHash: string): boolean {
  return HEX_32.test(preimage) && bytesToHex(sha256(hexToBytes(preimage))) === paymentHash
}

/** @returns the URL a bech32 `lnurl1...` string encodes (LUD-01), lower-cased, or null */
function lnurlOf (lnurl: string): string | null {
  try {
    const { prefix, words } = bech32.decode(lnurl.toLowerCase() as `${string}1${string}`, 2000)
    if (prefix !== 'lnurl') return null
    return new TextDecoder().decode(bech32.fromWords(words)).toLowerCase()
  } catch {
    return null
  }
}

/** @returns the LNURL-pay URL of a LUD-16 address (`https://<domain>/.well-known/lnurlp/<name>`), lower-cased, or null */
export function lud16Url (lud16: string): string | null {
  const address = lud16.toLowerCase()
  if (!LUD16.test(address)) return null
  const [name, domain] = address.split('@')
  // LUD-16: clearnet domains over https; onion ones over http
  return `${domain.endsWith('.onion') ? 'http' : 'https'}://${domain}/.well-known/lnurlp/${name}`
}

/** @returns whether `s` is a LUD-16 Lightning address */
export function isLud16 (s: string): boolean { return lud16Url(s) !== null }

/** @returns whether `s` is the address of a NIP-99 listing, `30402:<pubkey hex>:<d>` */
export function isListingAddress (s: string): boolean { return LISTING_ADDRESS.test(s) }

/**
 * @returns the listing a receipt says it is for (its `a` tag), unchecked: apply uses it only to
 *   find the project whose settings {@link checkZapReceipt} then checks the receipt against; null
 *   when there is none or more than one
 */
export function zapListing (receipt: unknown): string | null {
  const event = asEvent(receipt)
  if (typeof event === 'string') return null
  const a = event.tags.filter((t) => t[0] === 'a')
  return a.length === 1 && typeof a[0][1] === 'string' ? a[0][1] : null
}

/**
 * The op an originator's node appends for a zap receipt it saw on a relay (books/funding/zap-handlers.ts).
 * @param receipt the kind 9735 event as received
 * @param preimage the invoice's preimage (64 hex) when the wallet gave it: the payment then counts at once
 * @returns the op input for Book.act: `{ type: 'funding/zap', receipt, preimage? }`
 */
export function zapOp (receipt: NostrEvent | ZapReceiptEvent, preimage?: string): { type: 'funding/zap'; receipt: ZapReceiptEvent; preimage?: string } {
  const { id, pubkey, created_at, kind, tags, content, sig } = receipt
  return { type: 'funding/zap', receipt: { id, pubkey, created_at, kind, tags, content, sig }, ...(preimage !== undefined ? { preimage: preimage.toLowerCase() } : {}) }
}

function fail (reason: string): { ok: false; reason: string } { return { ok: false, reason } }
