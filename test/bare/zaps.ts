/**
 * NIP-57 zaps for tests: a zapper, an LNURL server and a listing with real keys; zap requests
 * signed by the zapper (NIP-01 id, BIP-340 signature: signEvent below), description-hash BOLT 11 invoices signed by
 * the server's Lightning node (test/helpers/bolt11-invoice.ts), receipts built by nostr-tools'
 * makeZapReceipt and signed by the server. Every part can be bent to build a hostile receipt.
 * Loads under Bare and Node (no node: imports).
 */
import '../../core/runtime/text-encoding.ts' // before @noble/@scure: Bare has no TextEncoder global
import { getEventHash, getPublicKey, verifyEvent, type EventTemplate, type NostrEvent } from 'nostr-tools/pure'
import { makeZapReceipt } from 'nostr-tools/nip57'
import { bech32 } from '@scure/base'
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { buildInvoice, bytesField, intField } from '../helpers/bolt11-invoice.ts'

/** The parties of a zap: keys (32-byte secret, hex pubkey) and the project's zap settings. */
export interface ZapWorld {
  zapper: { sk: Uint8Array; pk: string }
  server: { sk: Uint8Array; pk: string; nodeKey: Uint8Array }
  listingAuthor: { sk: Uint8Array; pk: string }
  lud16: string
  listing: string
  recipient: string
}

/**
 * @param seed names the world: keys are SHA-256 of the seed and the party's name, so a failing run
 *   replays with the same keys (and Bare has no randomness source for nostr-tools' generateSecretKey)
 * @returns keys for a zapper, an LNURL server (Nostr key and Lightning node key) and a listing author
 */
export function zapWorld (seed = 'zap-world', d = 'growr-project-1'): ZapWorld {
  const keys = (who: string) => { const sk = secretKey(seed, who); return { sk, pk: getPublicKey(sk) } }
  const author = keys('author')
  const server = keys('server')
  return { zapper: keys('zapper'), server: { ...server, nodeKey: secretKey(seed, 'node') }, listingAuthor: author, lud16: 'fund@wallet.example', listing: `30402:${author.pk}:${d}`, recipient: author.pk }
}

/** @returns a deterministic 32-byte secret key for `who` in world `seed` */
export function secretKey (seed: string, who: string): Uint8Array { return sha256(utf8ToBytes(`${seed}/${who}`)) }

let zaps = 0


/** @returns the LUD-01 bech32 `lnurl1...` of a LUD-16 address's LNURL-pay URL */
export function lnurlOf (lud16: string): string {
  const [name, domain] = lud16.split('@')
  return bech32.encode('lnurl', bech32.toWords(utf8ToBytes(`https://${domain}/.well-known/lnurlp/${name}`)), 2000)
}

/** How to bend a zap: each field replaces the honest part. */
export interface ZapOptions {
  /** what the zap request asks, msat (default 21 000 000: 21 000 sats) */
  amountMsat?: bigint
  /** what the invoice is for, msat (default: the request's) */
  invoiceMsat?: bigint
  /** the request's `a` tag, and the receipt's (default the listing) */
  listing?: string
  /** the receipt's own `a` tag when it differs from the request's */
  receiptListing?: string
  recipient?: string
  /** signs the receipt (default the server's key) */
  serverSk?: Uint8Array
  /** the preimage (default random) */
  preimage?: string
  /** the invoice's payment hash when it is not sha256(preimage) */
  paymentHash?: string
  /** the invoice's description hash is of this text instead of the zap request */
  hashedDescription?: string
  /** the zap request's lnurl tag (default the settings' address) */
  lnurl?: string
  /** seconds since 1970 (default now) */
  now?: number
  /** extra receipt tags */
  receiptTags?: string[][]
  comment?: string
}

/** A zap: the signed zap request, the invoice, the receipt, and the preimage the server's wallet holds. */
export interface Zap { request: NostrEvent; invoice: string; receipt: NostrEvent; preimage: string; paymentHash: string }

/** Builds a zap of the world's listing, honest unless `o` bends it. */
export function makeZap (w: ZapWorld, o: ZapOptions = {}): Zap {
  const now = o.now ?? Math.floor(Date.now() / 1000)
  const amount = o.amountMsat ?? 21_000_000n
  const request = signEvent({
    kind: 9734,
    created_at: now - 5,
    content: o.comment ?? 'for the greenhouses',
    tags: [['relays', 'ws://127.0.0.1:7777'], ['amount', amount.toString()], ['lnurl', o.lnurl ?? lnurlOf(w.lud16)], ['p', o.recipient ?? w.recipient], ['a', o.listing ?? w.listing], ['k', '30402']]
  }, w.zapper.sk)
  const description = JSON.stringify(request)
  // a fresh preimage per zap, deterministic across runs
  const preimage = o.preimage ?? bytesToHex(sha256(utf8ToBytes(`preimage/${++zaps}/${w.zapper.pk}`)))
  const paymentHash = o.paymentHash ?? bytesToHex(sha256(hexToBytes(preimage)))
  const invoice = zapInvoice(w, { msat: o.invoiceMsat ?? amount, paymentHash, description: o.hashedDescription ?? description, now: now - 4 })
  const template = makeZapReceipt({ zapRequest: description, bolt11: invoice, paidAt: new Date(now * 1000) })
  if (o.receiptListing !== undefined) template.tags = template.tags.map((t) => t[0] === 'a' ? ['a', o.receiptListing as string] : t)
  template.tags.push(...(o.receiptTags ?? []))
  const receipt = signEvent(template, o.serverSk ?? w.server.sk)
  return { request, invoice, receipt, preimage, paymentHash }
}

/** @returns a regtest BOLT 11 invoice for `msat` committing to `description` by its hash, signed by the server's node */
export function zapInvoice (w: ZapWorld, o: { msat: bigint; paymentHash: string; description: string; now: number }): string {
  // BOLT 11's p (pico-bitcoin) is 0.1 msat: any whole msat amount is exact
  return buildInvoice({ hrp: `lnbcrt${o.msat * 10n}p`, timestamp: o.now, secretKey: w.server.nodeKey, fields: [bytesField('p', o.paymentHash), bytesField('s', '11'.repeat(32)), bytesField('h', sha256(utf8ToBytes(o.description))), intField('x', 3600)] })
}

/** Re-signs an event after `change` edits a copy (a hostile party with the key): a fresh id and signature. */
export function resign (event: NostrEvent, sk: Uint8Array, change: (e: { tags: string[][]; content: string; created_at: number; kind: number }) => void): NostrEvent {
  const copy = { kind: event.kind, created_at: event.created_at, content: event.content, tags: event.tags.map((t) => [...t]) }
  change(copy)
  return signEvent(copy, sk)
}

/** @returns the 33-byte compressed node key of the server's Lightning node, hex */
export function nodeKeyOf (w: ZapWorld): string { return bytesToHex(secp256k1.getPublicKey(w.server.nodeKey, true)) }

/**
 * Signs an event as nostr-tools' finalizeEvent does (NIP-01 id, BIP-340 signature), with the
 * auxiliary randomness derived from the id: Bare has no crypto.getRandomValues for noble to draw it.
 */
export function signEvent (template: EventTemplate, sk: Uint8Array): NostrEvent {
  const pubkey = getPublicKey(sk)
  const id = getEventHash({ ...template, pubkey })
  const event = { ...template, pubkey, id, sig: bytesToHex(schnorr.sign(hexToBytes(id), sk, sha256(hexToBytes(id)))) }
  if (!verifyEvent({ ...event })) throw new Error('signEvent made an event nostr-tools does not verify')
  return event
}
