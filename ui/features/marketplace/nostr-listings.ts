/**
 * What the Marketplace's "On Nostr" section makes of `nostr.listings`, as pure functions (no
 * React, no I/O) so tests call them with hostile listings directly. Everything in a listing is a
 * stranger's claim: anyone can publish a kind 30402 tagged `growr` naming any book. The core
 * checked its signature and says whether the book records the author's key (`verified`, with a
 * reason); the rest (title, price, text) is shown as text, bounded, never as markup.
 */
import type { NostrListing } from '../../../app/nostr/handlers.ts'

/** Most characters shown of each field; the core bounds them too, but the page should not rely on it. */
export const CAPS = { title: 120, summary: 300, content: 4000, location: 100, reason: 300 } as const

/** Most Nostr listings drawn at once. */
export const MAX_NOSTR_SHOWN = 100

/** One listing as a row: every string capped, the price checked, the mark in words. */
export interface NostrListingRow {
  key: string
  /** the title, or "untitled listing" */
  title: string
  summary: string
  /** the Markdown description as plain text (never rendered as HTML) */
  content: string
  /** whether `content` was cut */
  contentCut: boolean
  location: string
  /** "250.00 EUR to 1,500.00 EUR", "250.00 EUR", or "no price given" / "unreadable price" */
  price: string
  npub: string
  naddr: string
  verified: boolean
  /** "verified" or "unverified" (anything else the core says that is not verified is unverified) */
  mark: 'verified' | 'unverified'
  /** the core's reason, capped */
  reason: string
  /** the book topic the listing names, when it reads as one (52 z-base-32 or 64 hex characters) */
  topic: string | null
  projectId: string
  relays: number
}

/** Cuts `s` to `max` characters (by code point, so no half emoji), with an ellipsis when cut. */
export function cap (s: unknown, max: number): string {
  const text = typeof s === 'string' ? s : ''
  const chars = Array.from(text)
  return chars.length > max ? chars.slice(0, max).join('') + '…' : text
}

/** A decimal amount in major units with thousands separators, or null when it is not one. */
export function majorText (amount: unknown): string | null {
  if (typeof amount !== 'string') return null
  const m = /^(\d{1,30})(?:\.(\d{1,18}))?$/.exec(amount)
  if (!m) return null
  const whole = m[1].replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return m[2] !== undefined ? `${whole}.${m[2]}` : whole
}

function currencyText (c: unknown): string | null {
  return typeof c === 'string' && /^[A-Za-z]{2,10}$/.test(c) ? c.toUpperCase() : null
}

/** The price of a listing in words: its loan range when it carries one, else its NIP-99 price. */
export function priceWords (listing: Pick<NostrListing, 'price' | 'range'>): string {
  const r = listing.range
  if (r) {
    const min = majorText(r.min)
    const max = majorText(r.max)
    const cur = currencyText(r.currency)
    if (min === null || max === null || cur === null) return 'unreadable price'
    return min === max ? `${min} ${cur}` : `${min} ${cur} to ${max} ${cur}`
  }
  const p = listing.price
  if (!p) return 'no price given'
  const amount = majorText(p.amount)
  const cur = currencyText(p.currency)
  return amount === null || cur === null ? 'unreadable price' : `${amount} ${cur}`
}

/** A book topic key the listing names, when it is one (the follow button needs one). */
export function topicOf (topic: unknown): string | null {
  return typeof topic === 'string' && (/^[13-9a-km-uw-z]{52}$/.test(topic) || /^[0-9a-f]{64}$/i.test(topic)) ? topic : null
}

/** The listing as the section shows it. */
export function nostrListingRow (l: NostrListing): NostrListingRow {
  const content = typeof l.content === 'string' ? l.content : ''
  const verified = l.verified === true
  return {
    key: `${String(l.npub)}:${String(l.naddr)}`,
    title: cap(l.title, CAPS.title).trim() || 'untitled listing',
    summary: cap(l.summary, CAPS.summary),
    content: cap(content, CAPS.content),
    contentCut: Array.from(content).length > CAPS.content,
    location: cap(l.location, CAPS.location),
    price: priceWords(l),
    npub: typeof l.npub === 'string' ? l.npub : '',
    naddr: typeof l.naddr === 'string' ? l.naddr : '',
    verified,
    mark: verified ? 'verified' : 'unverified',
    reason: cap(l.reason, CAPS.reason) || (verified ? 'verified' : 'no reason given'),
    topic: topicOf(l.topic),
    projectId: cap(l.projectId, 64),
    relays: Array.isArray(l.relays) ? l.relays.length : 0
  }
}

/** The listings to draw: verified first, then newest (the core's order), at most MAX_NOSTR_SHOWN. */
export function nostrListingRows (listings: readonly NostrListing[]): NostrListingRow[] {
  const rows = listings.map(nostrListingRow)
  return [...rows.filter((r) => r.verified), ...rows.filter((r) => !r.verified)].slice(0, MAX_NOSTR_SHOWN)
}
