/**
 * What a Growr node publishes on Nostr, as unsigned event templates: pure builders, no clock (the
 * caller passes `created_at`), no keys (core/nostr/keys.ts NostrSigner signs them), no I/O.
 *
 *  - kind 0 (NIP-01 metadata): the organization's profile, from the local setting `nostr.profile`.
 *  - kind 10002 (NIP-65 relay list): the relays of the local setting `nostr.relays`, read and write.
 *  - kind 30402 (NIP-99 classified listing) per public active project, addressable by its `d` tag
 *    {@link listingD}; kind 30403 (NIP-99 draft/inactive) once the project is deactivated or closed;
 *    a closed project's 30403 also carries `["status", "closed"]`, so a Growr reader tells it from
 *    a merely inactive one while every NIP-99 client stops showing it as on offer.
 *  - kind 5 (NIP-09 deletion) of the listing's other kind: 30402 and 30403 are two addresses, so
 *    the 30402 of a deactivated project is only gone from a relay once it is deleted.
 *  - kind 1 notes on milestones (funded 50 % / 100 %, first disbursement, fully repaid).
 *
 * Nothing here reads a loan's borrower, amount or purpose: listings carry the project's public
 * terms, notes carry project-level totals only, so no borrower's data can be published.
 *
 * The loan range as a price: NIP-99's `price` tag holds one amount, so it carries the smallest
 * loan ("from", what NIP-99 clients show), in major units of the project's currency
 * (["price", "500.00", "EUR"]); the whole range is in `["price_range", min, max, currency]` (same
 * units; a Growr tag NIP-99 clients ignore) and in words in the summary and content.
 */
import type { EventTemplate } from 'nostr-tools/pure'
import type { Project } from '../../books/entities.ts'
import type { Loan } from '../../books/entities.ts'
import { GrowrError } from '../errors.ts'
import { isLud16 } from './zap.ts'

/** NIP-99 classified listing (active). */
export const KIND_LISTING = 30402
/** NIP-99 draft or inactive listing. */
export const KIND_LISTING_INACTIVE = 30403
/** NIP-65 relay list metadata. */
export const KIND_RELAY_LIST = 10002
/** NIP-09 deletion request. */
export const KIND_DELETION = 5
/** The `t` tags every Growr listing carries: readers subscribe on the first. */
export const LISTING_HASHTAGS = ['growr', 'microlending'] as const
/** The tag naming the book (topic key, z32) and the project a listing or note is about. */
export const GROWR_TAG = 'growr'

/**
 * A public profile (NIP-01 kind 0 content): the organization's, or a project's own when it has
 * its own key. `lud16` is the Lightning address (LUD-16) zaps to this key are paid through: NIP-57
 * clients read it from the profile of the key a zap goes to.
 */
export interface NostrProfile { name: string; about: string; picture?: string; website?: string; lud16?: string }

/** A milestone a kind 1 note is sent for, at most once per project. */
export type Milestone = 'funded-50' | 'funded-100' | 'first-disbursement' | 'fully-repaid'
/** In the order a project reaches them. */
export const MILESTONES: readonly Milestone[] = ['funded-50', 'funded-100', 'first-disbursement', 'fully-repaid']

// ISO 4217 minor-unit exponents that are not 2; BTC counts in sats (the book's minor unit)
const EXPONENTS: Record<string, number> = { JPY: 0, KRW: 0, CLP: 0, ISK: 0, VND: 0, UGX: 0, XOF: 0, XAF: 0, RWF: 0, BIF: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3, BTC: 8, RBTC: 8 }

/**
 * Minor units as a decimal string in major units: 50000 EUR cents -> "500.00". Exact (integer
 * arithmetic), never a float.
 * @param minor a safe integer >= 0
 * @param currency the book's currency code (exponent 2 unless ISO 4217 says otherwise; BTC 8)
 * @throws BAD_ARGUMENT for an amount that is not a safe non-negative integer
 */
export function majorUnits (minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor) || minor < 0) throw GrowrError.BAD_ARGUMENT(`an amount is a whole number of minor units, got ${String(minor)}`)
  const exp = EXPONENTS[currency] ?? 2
  if (exp === 0) return String(minor)
  const s = String(minor).padStart(exp + 1, '0')
  return `${s.slice(0, -exp)}.${s.slice(-exp)}`
}

/**
 * The listing's stable `d` tag: `growr-<topic>-<projectId>`, the same on every republication
 * and on every node that derives it, so a new version replaces the old one on relays. No colons:
 * relays split `a` coordinates (`<kind>:<pubkey>:<d>`) on them, and a deletion of a listing whose
 * d tag had one would miss it (@nostr-relay does).
 * @param topic the book's topic key (z32, as the app shows it)
 */
export function listingD (topic: string, projectId: string): string {
  return `growr-${topic}-${projectId}`
}

/** The NIP-01 coordinate `<kind>:<pubkey>:<d>` of an addressable event (what `a` tags and naddr point at). */
export function coordinate (kind: number, pubkey: string, d: string): string {
  return `${kind}:${pubkey}:${d}`
}

/**
 * Kind 0 metadata. Fields are trimmed; empty optional fields are left out.
 * @param createdAt seconds since the epoch
 * @throws BAD_ARGUMENT without a name, or with a picture/website that is not an http(s) URL
 */
export function profileTemplate (profile: NostrProfile, createdAt: number): EventTemplate {
  const checked = checkProfile(profile)
  return { kind: 0, created_at: createdAt, tags: [], content: JSON.stringify(checked) }
}

/**
 * Validates a profile setting: a name (1..100 characters), an about (up to 2 000), optional
 * http(s) picture and website URLs, and an optional LUD-16 Lightning address (`name@domain`).
 * @returns the profile, trimmed, without empty optional fields
 * @throws BAD_ARGUMENT naming the field
 */
export function checkProfile (profile: Partial<NostrProfile>): NostrProfile {
  const name = typeof profile?.name === 'string' ? profile.name.trim() : ''
  if (!name || name.length > 100) throw GrowrError.BAD_ARGUMENT('a Nostr profile needs a name of 1..100 characters')
  const about = typeof profile.about === 'string' ? profile.about.trim() : ''
  if (about.length > 2000) throw GrowrError.BAD_ARGUMENT('a Nostr profile\'s about is at most 2000 characters')
  const out: NostrProfile = { name, about }
  for (const field of ['picture', 'website'] as const) {
    const v = typeof profile[field] === 'string' ? (profile[field] as string).trim() : ''
    if (!v) continue
    if (!/^https?:\/\/[^\s]+$/.test(v) || v.length > 500) throw GrowrError.BAD_ARGUMENT(`a Nostr profile's ${field} is an http(s) URL`)
    out[field] = v
  }
  const lud16 = typeof profile.lud16 === 'string' ? profile.lud16.trim().toLowerCase() : ''
  if (lud16) {
    if (!isLud16(lud16)) throw GrowrError.BAD_ARGUMENT('a Nostr profile\'s lud16 is a Lightning address (LUD-16: name@domain)')
    out.lud16 = lud16
  }
  return out
}

/**
 * Checks and normalises relay URLs: ws:// or wss://, no duplicates, at most 20.
 * @returns the URLs, each as given minus a trailing slash
 * @throws BAD_ARGUMENT naming the first bad URL
 */
export function checkRelayUrls (urls: unknown): string[] {
  if (!Array.isArray(urls)) throw GrowrError.BAD_ARGUMENT('relays are a list of ws:// or wss:// URLs')
  const out: string[] = []
  for (const u of urls) {
    if (typeof u !== 'string' || !/^wss?:\/\/[^\s/]+(\/[^\s]*)?$/.test(u.trim()) || u.length > 300) throw GrowrError.BAD_ARGUMENT(`not a relay URL (ws:// or wss://): ${String(u).slice(0, 100)}`)
    const url = u.trim().replace(/\/$/, '')
    if (!out.includes(url)) out.push(url)
  }
  if (out.length > 20) throw GrowrError.BAD_ARGUMENT('at most 20 relays')
  return out
}

/** Kind 10002 (NIP-65): every relay both read and written. */
export function relayListTemplate (relays: readonly string[], createdAt: number): EventTemplate {
  return { kind: KIND_RELAY_LIST, created_at: createdAt, tags: checkRelayUrls(relays).map((r) => ['r', r]), content: '' }
}

/** What a listing says, besides the project's terms. */
export interface ListingContext {
  /** the book's topic key (z32) */
  topic: string
  /** where the lending happens, e.g. "Kootenay, BC" (setting `nostr.location`; default "online") */
  location?: string
  /** when the listing was first published, seconds: kept on every new version (NIP-99 published_at) */
  publishedAt: number
  /** seconds; must grow with each version of the same listing, or relays keep the older one */
  createdAt: number
  /**
   * where the listing is zapped (the project's recorded zap settings, op `project/zap`): the pubkey
   * zaps go to, its Lightning address, and a relay where that key's profile is found
   */
  zap?: { recipient: string; lud16: string; relay?: string }
}

/** How a listing's project stands on Nostr. */
export type ListingState = 'active' | 'inactive' | 'closed'

/**
 * How a project is shown: active (kind 30402) only while it is active and public; inactive
 * (30403) when deactivated or no longer public; closed (30403, status closed). A draft project
 * is never listed.
 * @returns the state, or null when the project was never listable (draft)
 */
export function listingState (project: Pick<Project, 'status' | 'terms'>): ListingState | null {
  if (project.status === 'draft') return null
  if (project.status === 'closed') return 'closed'
  if (project.status === 'active' && project.terms.isPublic) return 'active'
  return 'inactive'
}

/**
 * The NIP-99 listing of one project. Reads only the project's public terms and status.
 * @returns kind 30402 (active) or 30403 (inactive/closed) with d, title, summary, published_at,
 *   location, price, price_range, t tags, status, and ["growr", topic, projectId]
 * @throws BAD_ARGUMENT for a draft project (never listed)
 */
export function listingTemplate (project: Pick<Project, 'projectId' | 'status' | 'terms'>, ctx: ListingContext): EventTemplate {
  const state = listingState(project)
  if (state === null) throw GrowrError.BAD_ARGUMENT('a draft project is not listed')
  const t = project.terms
  // a project made private takes its terms off the relays: a stub without them replaces the
  // listing, and stays the same whatever the terms become (nothing republished on later changes)
  if (!t.isPublic) {
    return {
      kind: KIND_LISTING_INACTIVE,
      created_at: ctx.createdAt,
      tags: [['d', listingD(ctx.topic, project.projectId)], ['title', 'No longer listed'], ['published_at', String(ctx.publishedAt)], ...LISTING_HASHTAGS.map((h) => ['t', h]), ['status', state], [GROWR_TAG, ctx.topic, project.projectId]],
      content: 'This project is no longer listed publicly.'
    }
  }
  const min = majorUnits(t.loanMinAmount, t.currency)
  const max = majorUnits(t.loanMaxAmount, t.currency)
  const rate = `${Math.floor(t.annualRateBps / 100)}.${String(t.annualRateBps % 100).padStart(2, '0')}`
  const summary = `Loans of ${min} to ${max} ${t.currency} over ${t.loanMinDuration} to ${t.loanMaxDuration} months at ${rate}% a year`
  const content = [
    `# ${t.name}`,
    '',
    t.description,
    '',
    `- **Loans:** ${min} to ${max} ${t.currency}`,
    `- **Duration:** ${t.loanMinDuration} to ${t.loanMaxDuration} months`,
    `- **Interest:** ${rate}% a year (${t.interestMethod === 'flat' ? 'flat' : 'declining balance'})`,
    `- **Project size:** ${majorUnits(t.amount, t.currency)} ${t.currency}, ${t.startDate} to ${t.endDate}`,
    `- **Applications:** ${t.isInviteOnly ? 'by invitation' : 'open'}${t.eligibility.length > 0 ? ', with eligibility criteria checked by verifiable credentials' : ''}`,
    '',
    `Apply with Growr: join the book \`${ctx.topic}\` (growr market join ${ctx.topic}).`,
    ...(ctx.zap ? ['', `Fund it with a zap: ⚡ ${ctx.zap.lud16}`] : [])
  ].join('\n')
  const tags: string[][] = [
    ['d', listingD(ctx.topic, project.projectId)],
    ['title', t.name],
    ['summary', summary],
    ['published_at', String(ctx.publishedAt)],
    ['location', ctx.location?.trim() || 'online'],
    ['price', min, t.currency],
    ['price_range', min, max, t.currency],
    ...LISTING_HASHTAGS.map((h) => ['t', h]),
    ['status', state],
    [GROWR_TAG, ctx.topic, project.projectId],
    // NIP-57 appendix G: zap clients pay the tagged key, through the lud16 of its kind 0 profile;
    // `lud16` repeats the address so a reader needs no profile fetch (NIP-99 clients ignore it)
    ...(ctx.zap ? [['zap', ctx.zap.recipient, ctx.zap.relay ?? '', '1'], ['lud16', ctx.zap.lud16]] : [])
  ]
  return { kind: state === 'active' ? KIND_LISTING : KIND_LISTING_INACTIVE, created_at: ctx.createdAt, tags, content }
}

/**
 * A NIP-09 deletion of every version of an addressable event (its coordinate), e.g. the 30402 of
 * a project that became inactive.
 */
export function deletionTemplate (coord: string, createdAt: number): EventTemplate {
  const kind = coord.split(':')[0]
  return { kind: KIND_DELETION, created_at: createdAt, tags: [['a', coord], ['k', kind]], content: 'listing no longer active' }
}

/**
 * The milestones a project has reached, from project-level totals only: funded 50 % / 100 %
 * (confirmed funding against the project's amount, integer comparison), first disbursement (a loan
 * whose disbursement the borrower confirmed), fully repaid (loans were disbursed and every one is
 * repaid).
 * @param loans the project's loans: only their status is read
 */
export function milestonesReached (project: Pick<Project, 'confirmedFunding' | 'terms' | 'projectId'>, loans: ReadonlyArray<Pick<Loan, 'status' | 'projectId'>>): Milestone[] {
  const out: Milestone[] = []
  const amount = project.terms.amount
  if (amount > 0 && project.confirmedFunding * 2 >= amount) out.push('funded-50')
  if (amount > 0 && project.confirmedFunding >= amount) out.push('funded-100')
  const mine = loans.filter((l) => l.projectId === project.projectId)
  const paidOut = mine.filter((l) => l.status === 'disbursed' || l.status === 'repaid' || l.status === 'defaulted')
  // a loan is disbursed once the borrower confirmed receipt: a disbursement merely recorded is not news yet
  if (paidOut.length > 0) out.push('first-disbursement')
  if (paidOut.length > 0 && paidOut.every((l) => l.status === 'repaid')) out.push('fully-repaid')
  return out
}

/**
 * A kind 1 note on a milestone, pointing at the listing (`a` tag) and carrying the growr and t tags.
 * @param listingCoord the listing's 30402 coordinate
 */
export function milestoneTemplate (milestone: Milestone, project: Pick<Project, 'projectId' | 'terms'>, topic: string, listingCoord: string, createdAt: number): EventTemplate {
  const name = project.terms.name
  const text: Record<Milestone, string> = {
    'funded-50': `${name} is half funded.`,
    'funded-100': `${name} is fully funded.`,
    'first-disbursement': `${name} has made its first loan.`,
    'fully-repaid': `Every loan of ${name} has been repaid.`
  }
  return {
    kind: 1,
    created_at: createdAt,
    tags: [['a', listingCoord], ...LISTING_HASHTAGS.map((h) => ['t', h]), [GROWR_TAG, topic, project.projectId, milestone]],
    content: `${text[milestone]} #growr #microlending`
  }
}

/** A listing as read back from a relay, parsed without trusting it. */
export interface ParsedListing {
  /** the author's public key (hex) */
  pubkey: string
  kind: number
  d: string
  state: ListingState
  title: string
  summary: string
  content: string
  location: string
  /** ["price", amount, currency] */
  price: { amount: string; currency: string } | null
  /** the loan range, when the listing carries `price_range` */
  range: { min: string; max: string; currency: string } | null
  publishedAt: number
  createdAt: number
  /** what the `growr` tag claims: the book's topic and the project id */
  topic: string
  projectId: string
  /** where it says it is zapped: the `zap` tag's pubkey and the `lud16` tag, null without a zap tag */
  zap?: { recipient: string; lud16: string | null } | null
}

/**
 * Parses a listing event (kind 30402/30403) carrying a `growr` tag. Checks shapes only: the
 * signature is the caller's (verifyEvent), and whether the key speaks for the book is N1's judge.
 * Never throws.
 * @returns { ok: true, listing } or { ok: false, reason } in plain words
 */
export function parseListing (event: unknown): { ok: true; listing: ParsedListing } | { ok: false; reason: string } {
  const e = event as { kind?: unknown; pubkey?: unknown; tags?: unknown; content?: unknown; created_at?: unknown }
  if (!e || typeof e !== 'object') return { ok: false, reason: 'not an event' }
  if (e.kind !== KIND_LISTING && e.kind !== KIND_LISTING_INACTIVE) return { ok: false, reason: 'not a NIP-99 listing (kind 30402/30403)' }
  if (typeof e.pubkey !== 'string' || !/^[0-9a-f]{64}$/.test(e.pubkey)) return { ok: false, reason: 'no valid author key' }
  if (!Array.isArray(e.tags) || !e.tags.every((t) => Array.isArray(t) && t.every((x) => typeof x === 'string'))) return { ok: false, reason: 'tags are not lists of strings' }
  if (typeof e.content !== 'string' || typeof e.created_at !== 'number' || !Number.isSafeInteger(e.created_at)) return { ok: false, reason: 'no content or created_at' }
  const tags = e.tags as string[][]
  const one = (name: string): string[] | undefined => tags.find((t) => t[0] === name)
  const d = one('d')?.[1]
  if (!d) return { ok: false, reason: 'no d tag' }
  const growr = one(GROWR_TAG)
  if (!growr || !growr[1] || !growr[2]) return { ok: false, reason: 'no growr tag naming a book and a project' }
  if (d !== listingD(growr[1], growr[2])) return { ok: false, reason: 'the d tag does not match the book and project it names' }
  const status = one('status')?.[1]
  const state: ListingState = e.kind === KIND_LISTING ? 'active' : status === 'closed' ? 'closed' : 'inactive'
  const price = one('price')
  const range = one('price_range')
  const publishedAt = Number(one('published_at')?.[1] ?? e.created_at)
  const zapTag = one('zap')
  const lud16 = one('lud16')?.[1]
  const zap = zapTag && typeof zapTag[1] === 'string' && /^[0-9a-f]{64}$/.test(zapTag[1]) ? { recipient: zapTag[1], lud16: typeof lud16 === 'string' && isLud16(lud16) ? lud16.toLowerCase() : null } : null
  return {
    ok: true,
    listing: {
      pubkey: e.pubkey,
      kind: e.kind,
      d,
      state,
      title: (one('title')?.[1] ?? '').slice(0, 200),
      summary: (one('summary')?.[1] ?? '').slice(0, 500),
      content: e.content.slice(0, 10_000),
      location: (one('location')?.[1] ?? '').slice(0, 200),
      price: price && price[1] && price[2] ? { amount: price[1].slice(0, 40), currency: price[2].slice(0, 10) } : null,
      range: range && range[1] && range[2] && range[3] ? { min: range[1].slice(0, 40), max: range[2].slice(0, 40), currency: range[3].slice(0, 10) } : null,
      publishedAt: Number.isSafeInteger(publishedAt) ? publishedAt : e.created_at,
      createdAt: e.created_at,
      topic: growr[1].slice(0, 100),
      projectId: growr[2].slice(0, 100),
      zap
    }
  }
}
