/**
 * Growr listings read from Nostr: a subscription to NIP-99 listings (kinds 30402 and 30403)
 * tagged `t=growr` on the configured relays, kept in memory (newest version per address, at most
 * `max` addresses, oldest dropped first), each judged when it is listed: verified when the book it
 * names is followed here and records the author's key for the organization or that project
 * (core/nostr/binding.ts judgeListing), else unverified with the reason in plain words.
 *
 * Every event is hostile until checked: nostr-tools verifies id and signature on receipt (the
 * relay layer), parseListing checks its shape and bounds its strings, and the judge decides
 * whether the key speaks for the book; a relay can only withhold listings, not forge them.
 */
import '../runtime/text-encoding.ts' // before nostr-tools (@noble): Bare has no TextDecoder global
import b4a from 'b4a'
import * as nip19 from 'nostr-tools/nip19'
import type { Event as NostrEvent } from 'nostr-tools/pure'
import { parseTopic } from '../../books/book.ts'
import type { NostrKeyRecord } from '../../books/nostr/binding.ts'
import { KIND_LISTING, KIND_LISTING_INACTIVE, LISTING_HASHTAGS, parseListing, type ParsedListing } from './events.ts'
import { judgeListing } from './binding.ts'
import type { RelayPool } from './relays.ts'

/** A listing as `nostr.listings` shows it: what the event says, and whether to believe it. */
export interface NostrListing extends ParsedListing {
  /** the event id of the version kept (the newest seen) */
  id: string
  /** NIP-19 addresses: the author, and the listing (kind, author, d, with the relays it came from) */
  npub: string
  naddr: string
  /** the relays it was seen on */
  relays: string[]
  /** true only when the book named is followed here and records the author's key for the organization or this project */
  verified: boolean
  /** why (or why not), in plain words; "unverified: book not followed" when this node does not follow the book */
  reason: string
  /** ms, local clock: when this version was first received */
  receivedAt: number
}

/** What the reader needs of the node: the recorded Nostr keys of a followed book, by key hex. */
export type RecordedKeys = (bookKeyHex: string) => Promise<readonly NostrKeyRecord[] | null>

interface Held { event: NostrEvent; listing: ParsedListing; relays: Set<string>; receivedAt: number }

/** Default bound on the listings kept. */
export const MAX_LISTINGS = 500
/** How far in the future a listing's created_at may be, seconds. */
export const MAX_FUTURE_S = 600

/** The subscription and the listings it gathered. start() subscribes; stop() ends it. */
export class ListingsReader {
  private readonly pool: RelayPool
  private readonly keysOf: RecordedKeys
  private readonly follows: (topic: string) => boolean
  private readonly max: number
  private readonly now: () => number
  private readonly held = new Map<string, Held>()
  private unsubscribe: (() => void) | null = null
  /** called when a listing arrives or changes */
  onchange: (() => void) | null = null

  /**
   * @param opts.pool the node's relays
   * @param opts.keysOf the recorded keys of a book this node follows, null when it does not
   * @param opts.max how many listings (addresses) to keep (default 500)
   * @param opts.follows whether this node follows the book with this topic: those listings are evicted last
   */
  constructor (opts: { pool: RelayPool; keysOf: RecordedKeys; max?: number; now?: () => number; follows?: (topic: string) => boolean }) {
    this.pool = opts.pool
    this.keysOf = opts.keysOf
    this.follows = opts.follows ?? (() => false)
    this.max = opts.max ?? MAX_LISTINGS
    this.now = opts.now ?? Date.now
  }

  /** Subscribes on every relay of the pool (relays added later are subscribed as they come). */
  start (): void {
    if (this.unsubscribe) return
    this.unsubscribe = this.pool.subscribe([{ kinds: [KIND_LISTING, KIND_LISTING_INACTIVE], '#t': [LISTING_HASHTAGS[0]], limit: this.max }], (e, url) => this.receive(e, url))
  }

  stop (): void {
    this.unsubscribe?.()
    this.unsubscribe = null
  }

  /**
   * Takes one event (already signature-checked by the relay layer). Returns whether it was kept.
   * Older versions of a held address, malformed listings and events of other kinds are dropped.
   */
  receive (event: NostrEvent, url: string): boolean {
    // a listing dated in the future would outrank every real one for ever
    if (!(event.created_at <= Math.floor(this.now() / 1000) + MAX_FUTURE_S)) return false
    const p = parseListing(event)
    if (!p.ok) return false
    const address = `${p.listing.pubkey}:${p.listing.d}`
    const held = this.held.get(address)
    if (held) {
      if (held.event.id === event.id) { held.relays.add(url); return true }
      // NIP-01: the newer created_at wins; on a tie the lower id
      if (held.event.created_at > event.created_at || (held.event.created_at === event.created_at && held.event.id < event.id)) return false
    }
    this.held.set(address, { event, listing: p.listing, relays: new Set([url]), receivedAt: this.now() })
    if (this.held.size > this.max) {
      // strangers' listings go first, the longest held first: a flood of new keys cannot push out
      // the listings of books this node follows
      let victim: [string, Held, boolean] | null = null
      for (const [key, h] of this.held) {
        const followed = this.follows(h.listing.topic)
        if (victim === null || (victim[2] && !followed) || (victim[2] === followed && h.receivedAt < victim[1].receivedAt)) victim = [key, h, followed]
      }
      if (victim) this.held.delete(victim[0])
    }
    this.onchange?.()
    return true
  }

  /**
   * The listings held, newest first, each judged now (a book followed since is taken into account).
   * @param opts.all include inactive and closed listings (default: active only)
   */
  async list (opts: { all?: boolean } = {}): Promise<NostrListing[]> {
    const out: NostrListing[] = []
    for (const h of this.held.values()) {
      if (!opts.all && h.listing.state !== 'active') continue
      const { verified, reason } = await this.judge(h)
      const relays = [...h.relays]
      out.push({
        ...h.listing,
        id: h.event.id,
        npub: nip19.npubEncode(h.listing.pubkey),
        naddr: nip19.naddrEncode({ kind: h.listing.kind, pubkey: h.listing.pubkey, identifier: h.listing.d, relays: relays.slice(0, 3) }),
        relays,
        verified,
        reason,
        receivedAt: h.receivedAt
      })
    }
    return out.sort((a, b) => b.createdAt - a.createdAt)
  }

  private async judge (h: Held): Promise<{ verified: boolean; reason: string }> {
    let bookHex: string
    try {
      bookHex = b4a.toString(parseTopic(h.listing.topic), 'hex')
    } catch {
      return { verified: false, reason: 'unverified: the growr tag does not name a book topic key' }
    }
    const keys = await this.keysOf(bookHex).catch(() => null)
    if (keys === null) return { verified: false, reason: 'unverified: book not followed' }
    const j = judgeListing(h.event, keys, { book: bookHex, project: h.listing.projectId })
    return { verified: j.verified, reason: j.verified ? j.reason : `${j.status}: ${j.reason}` }
  }
}
