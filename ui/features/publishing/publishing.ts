/**
 * What the Publishing panel makes of `nostr.status`, as pure functions (no React, no I/O) so tests
 * call them directly: one row per published event (what it is, its kind, its NIP-19 code) and, per
 * relay, its delivery in words. The panel only renders these.
 *
 * A delivery is the outbox's (pending, sent, refused); "failed" is the relay's state (its last
 * connection or publication failed) shown on the events still waiting for it, with the next retry.
 */
import type { NostrStatus, PublishedEvent, RelayState } from '../../../app/nostr/handlers.ts'

/** What one event is, in words. */
export const MILESTONE_WORDS: Record<string, string> = {
  'funded-50': 'funded 50 %',
  'funded-100': 'funded 100 %',
  'first-disbursement': 'first disbursement',
  'fully-repaid': 'fully repaid'
}

/** How an event stands on one relay. */
export interface DeliveryWords {
  url: string
  /** sent: the relay has it; pending: waiting (relay ok or not tried); failed: waiting, the relay's last attempt failed; refused: the relay will not take it */
  state: 'sent' | 'pending' | 'failed' | 'refused'
  /** the words under the badge: the time sent, the next retry, the last error, the relay's reason */
  detail: string
  /** ms of the next retry, when one is scheduled */
  retryAt: number | null
}

/** One row of the "what is published where" table. */
export interface EventRow {
  key: string
  /** a stable name for the row: profile, relays, listing-<project> (-inactive for a 30403), deletion-<project>, note-<project>-<milestone> */
  slug: string
  /** "Profile", "Relay list", "Listing", "Deletion", "Milestone note" */
  label: string
  /** what it is about: the project's name when known, the milestone */
  about: string
  kind: number
  /** the listing's naddr for addressable events, else the nevent */
  code: string
  codeType: 'naddr' | 'nevent'
  nevent: string
  /** the event id (hex) */
  id: string
  book: string | null
  project: string | null
  deliveries: DeliveryWords[]
}

const LABELS: Record<PublishedEvent['what'], string> = {
  profile: 'Profile',
  relays: 'Relay list',
  listing: 'Listing',
  deletion: 'Deletion',
  note: 'Milestone note'
}

/** Clock time for a retry or a delivery, local. */
export function clock (ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
}

/**
 * One event's delivery on one relay, in words.
 * @param d the outbox's delivery (undefined: the relay was added after the event and has not got it queued yet)
 * @param relay that relay's state, when it is configured
 */
export function deliveryWords (url: string, d: { status: string; error?: string; at: number } | undefined, relay: RelayState | undefined): DeliveryWords {
  if (d?.status === 'sent') return { url, state: 'sent', detail: `sent ${clock(d.at)}`, retryAt: null }
  if (d?.status === 'refused') return { url, state: 'refused', detail: `refused: ${d.error || 'no reason given'}`, retryAt: null }
  const retryAt = relay?.retryAt ?? null
  const retry = retryAt !== null ? `next retry ${clock(retryAt)}` : null
  if (relay?.state === 'failed') {
    return { url, state: 'failed', detail: [relay.lastError ? `last error: ${relay.lastError}` : 'the last attempt failed', retry].filter(Boolean).join('; '), retryAt }
  }
  return { url, state: 'pending', detail: retry ?? (relay ? 'waiting to be sent' : 'this relay is no longer configured'), retryAt }
}

/**
 * The status's events as rows, in outbox order, each with its delivery on every relay it is
 * queued for and every configured relay.
 * @param projectNames project id -> name, for listings and notes (from the books; unknown ids show as the id)
 */
export function eventRows (status: Pick<NostrStatus, 'events' | 'relays'>, projectNames: ReadonlyMap<string, string> = new Map()): EventRow[] {
  const relays = new Map(status.relays.map((r) => [r.url, r]))
  return status.events.map((e) => {
    const urls = [...new Set([...status.relays.map((r) => r.url), ...Object.keys(e.relays)])]
    const name = e.project ? (projectNames.get(e.project) ?? `project ${e.project.slice(0, 8)}…`) : ''
    const about = e.what === 'note'
      ? `${name}: ${MILESTONE_WORDS[e.milestone ?? ''] ?? e.milestone ?? ''}`
      : e.what === 'listing'
        ? `${name}${e.kind === 30403 ? ' (inactive or closed)' : ''}`
        : e.what === 'deletion' ? `older version of ${name}'s listing` : e.what === 'profile' ? 'the organization' : 'where to find it'
    return {
      key: `${e.kind}:${e.id}`,
      slug: [e.what, e.project, e.milestone, e.kind === 30403 ? 'inactive' : null].filter(Boolean).join('-'),
      label: LABELS[e.what] ?? e.what,
      about,
      kind: e.kind,
      code: e.naddr ?? e.nevent,
      codeType: e.naddr ? 'naddr' : 'nevent',
      nevent: e.nevent,
      id: e.id,
      book: e.book,
      project: e.project,
      deliveries: urls.map((u) => deliveryWords(u, e.relays[u], relays.get(u)))
    }
  })
}

/** A relay's state as a badge and a line of words. */
export function relayWords (r: RelayState): { label: 'ok' | 'failed' | 'not tried yet'; tone: 'good' | 'bad' | 'plain'; detail: string } {
  const waiting = r.pending > 0 ? `${r.pending} event${r.pending === 1 ? '' : 's'} waiting` : 'nothing waiting'
  if (r.state === 'failed') {
    const retry = r.retryAt !== null ? `, next retry ${clock(r.retryAt)}` : ''
    return { label: 'failed', tone: 'bad', detail: `${r.lastError ?? 'unreachable'} (${r.attempts} attempt${r.attempts === 1 ? '' : 's'}${retry}); ${waiting}` }
  }
  if (r.state === 'ok') return { label: 'ok', tone: 'good', detail: `${r.lastError ? r.lastError + '; ' : ''}${waiting}` }
  return { label: 'not tried yet', tone: 'plain', detail: waiting }
}

/**
 * Checks a relay URL as the core will (ws:// or wss://, a host, no spaces), so the form can say
 * what is wrong before asking. @returns null when it looks right, else the problem in words
 */
export function relayUrlProblem (text: string): string | null {
  const u = text.trim()
  if (!u) return 'enter a relay URL'
  if (!/^wss?:\/\//i.test(u)) return 'a relay URL starts with wss:// (or ws:// for a relay on this machine or network)'
  if (!/^wss?:\/\/[^\s/]+(\/[^\s]*)?$/.test(u) || u.length > 300) return 'not a relay URL: no spaces, a host after wss://'
  return null
}
