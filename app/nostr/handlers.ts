/**
 * The contract's `nostr.*` requests (app/contract.ts spreads them into its handlers): the
 * organization's Nostr profile, the relays it publishes to, publishing now, what is published
 * where (the Publishing panel), and Growr listings read from the relays (the Marketplace).
 *
 * Publishing runs beside the books (core/nostr/publisher.ts): events are signed with the node's
 * NIP-06 organization key, queued in a persistent outbox and delivered to each relay with retries;
 * a relay being down shows in its state, never as a failed request. The only book op it writes is
 * `nostr/key`, binding the organization's key in a book before its first listing there.
 * Runs under Bare and Node: no `node:` imports.
 */
import b4a from 'b4a'
import { GrowrError } from '../../core/errors.ts'
import type { GrowrNode } from '../../core/node.ts'
import type { Services } from '../../core/services/services.ts'
import type { NostrService, NostrStatus, ProjectKeySetting } from '../../core/nostr/publisher.ts'
import type { NostrProfile } from '../../core/nostr/events.ts'
import type { NostrListing } from '../../core/nostr/listings.ts'
import type { RelayState } from '../../core/nostr/relays.ts'
import { parseTopic } from '../../books/book.ts'

export type { NostrStatus, PublishedEvent, ProjectKeySetting, ZapOutcome } from '../../core/nostr/publisher.ts'
export type { NostrListing } from '../../core/nostr/listings.ts'
export type { RelayState } from '../../core/nostr/relays.ts'

export interface NostrContract {
  /**
   * The organization's Nostr profile (kind 0). With `name` (and optionally about, picture, website
   * as http(s) URLs, `lud16` a Lightning address zaps to the organization's key are paid through,
   * `location` for listings, '' to clear it), saves it and queues a new profile event. Returns the
   * profile (null when never set), the organization's public key and npub.
   */
  'nostr.profile': { args: { name?: string; about?: string; picture?: string; website?: string; lud16?: string; location?: string }; result: { profile: NostrProfile | null; location: string | null; pubkey: string; npub: string } }
  /**
   * The key one project of a book this node originates is published with. `ownKey: true` gives it
   * its own NIP-06 key: bound in the book at once (op `nostr/key` for that project), its listing
   * and milestone notes signed with it, and its own kind 0 profile (the project's name, and the
   * Lightning address of its zap settings); `false` goes back to the organization's key. A change
   * republishes the listing and deletes the one the other key signed. Without `ownKey`, reads it.
   * Returns the choice and the key (hex, npub) that signs the listing now.
   */
  'nostr.project': { args: { book: string; project: string; ownKey?: boolean }; result: ProjectKeySetting & { book: string; project: string } }
  /**
   * The relays the node publishes to and reads listings from, each with its state: ok, failed
   * (with lastError), unknown; `pending` events waiting for it; `retryAt` (ms) of the next retry.
   * `set` replaces the list (ws:// or wss:// URLs), `add`/`remove` change one; any change queues a
   * new relay list (kind 10002, NIP-65). An empty list stops publishing (nothing is sent).
   */
  'nostr.relays': { args: { set?: string[]; add?: string; remove?: string }; result: { relays: RelayState[] } }
  /**
   * Publishes now: the profile and relay list if never queued, then the listing of every public
   * project that was activated in the books this node originates (`book`: only that one), and
   * their milestone notes; retries failed relays at once. `waitMs` (default 0) waits up to that
   * long for delivery (never fails for an unreachable relay: see each event's `relays`).
   * Returns the status as `nostr.status` shows it.
   */
  'nostr.publish': { args: { book?: string; waitMs?: number }; result: NostrStatus }
  // NostrStatus.zaps: zap receipts seen on the relays for this node's listings (NIP-57) and what
  // became of each: accepted / rejected by the book (op funding/zap), or refused before it
  /**
   * What is published where: every event in the outbox (profile, relays, listings as
   * naddr/nevent, deletions, milestone notes) with its delivery per relay (pending, sent, refused
   * with the relay's reason), each relay's state, and the last error of the book watch.
   */
  'nostr.status': { args: Record<string, never>; result: NostrStatus }
  /**
   * Growr listings (NIP-99, kind 30402 tagged t=growr) read from the configured relays, newest
   * first; `all` includes inactive (30403) and closed ones (`state`). Each has what the event
   * says (title, summary, Markdown `content`, `price` {amount, currency} = the smallest loan in
   * major units, `range` {min, max, currency}, location, the book `topic` and `projectId` it
   * names), its NIP-19 `npub` and `naddr`, the `relays` it came from, and `verified`: true only
   * when this node follows that book and the book records the author's key for the organization
   * or that project; `reason` says why in plain words ("unverified: book not followed", "key …
   * is not recorded by this book"). Show unverified listings as such: anyone can publish one.
   * `waitMs`: while none is held yet, wait up to that long for the relays to answer (a node just
   * opened, as the CLI's offline mode is, has not heard from them yet).
   */
  'nostr.listings': { args: { all?: boolean; waitMs?: number }; result: NostrListing[] }
}

type NostrHandlers = { [K in keyof NostrContract]: (args: NostrContract[K]['args']) => Promise<NostrContract[K]['result']> }

/**
 * Builds the `nostr.*` handlers over a node and its services.
 * Handlers throw GrowrError: BAD_ARGUMENT (bad profile, relay URL, book key), NOT_FOUND (a book
 * this node does not follow, or a node running without Nostr).
 */
export function createNostrHandlers (node: GrowrNode, services: Services): NostrHandlers {
  async function nostr (): Promise<NostrService> {
    await services.ready()
    if (!services.nostr) throw GrowrError.NOT_FOUND('this node runs without Nostr publishing')
    await services.nostr.ready()
    return services.nostr
  }

  return {
    async 'nostr.profile' (a) {
      const n = await nostr()
      const given = a ?? {}
      if (given.name !== undefined || given.about !== undefined || given.picture !== undefined || given.website !== undefined || given.lud16 !== undefined) {
        const old = await n.profile()
        await n.setProfile({ ...(old ?? {}), ...strip(given) }, given.location)
      } else if (given.location !== undefined) {
        const old = await n.profile()
        if (!old) throw GrowrError.BAD_ARGUMENT('set a profile --name first: the location goes with it')
        await n.setProfile(old, given.location)
      }
      const s = await n.status()
      return { profile: s.profile, location: s.location, pubkey: s.pubkey, npub: s.npub }
    },
    async 'nostr.relays' (a) {
      const n = await nostr()
      const given = a ?? {}
      if (given.set !== undefined || given.add !== undefined || given.remove !== undefined) {
        let urls = given.set !== undefined ? given.set : n.relays()
        if (given.add !== undefined) urls = [...urls, given.add]
        if (given.remove !== undefined) urls = urls.filter((u) => u !== String(given.remove).replace(/\/$/, ''))
        await n.setRelays(urls)
      }
      return { relays: n.pool.states() }
    },
    async 'nostr.publish' (a) {
      const n = await nostr()
      let book
      if (a?.book !== undefined) {
        book = node.findBook(b4a.toString(parseTopic(String(a.book)), 'hex'))
        if (!book) throw GrowrError.NOT_FOUND(`this node does not follow book ${String(a.book).slice(0, 60)}`)
      }
      await n.publish({ book })
      const waitMs = a?.waitMs ?? 0
      if (waitMs > 0) await n.delivered(waitMs).catch(() => {})
      return await n.status()
    },
    async 'nostr.project' (a) {
      const n = await nostr()
      if (typeof a?.book !== 'string' || typeof a.project !== 'string') throw GrowrError.BAD_ARGUMENT('book (topic key) and project are required')
      if (a.ownKey !== undefined && typeof a.ownKey !== 'boolean') throw GrowrError.BAD_ARGUMENT('ownKey is true or false')
      const book = node.findBook(b4a.toString(parseTopic(a.book), 'hex'))
      if (!book) throw GrowrError.NOT_FOUND(`this node does not follow book ${a.book.slice(0, 60)}`)
      const setting = await n.setProjectKey(book, a.project, a.ownKey)
      return { ...setting, book: book.topic, project: a.project }
    },
    async 'nostr.status' () { return await (await nostr()).status() },
    async 'nostr.listings' (a) {
      const n = await nostr()
      const deadline = Date.now() + Math.min(Math.max(0, Number(a?.waitMs) || 0), 60_000)
      for (;;) {
        const listed = await n.listings({ all: a?.all === true })
        if (listed.length > 0 || Date.now() >= deadline) return listed
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  }
}

function strip (p: { name?: string; about?: string; picture?: string; website?: string; lud16?: string }): Partial<NostrProfile> {
  const out: Partial<NostrProfile> = {}
  for (const k of ['name', 'about', 'picture', 'website', 'lud16'] as const) if (p[k] !== undefined) out[k] = p[k]
  return out
}
