/**
 * The Nostr outbox: every signed event this node means to publish, with its delivery status on
 * each relay, kept in the node's local Hyperbee so that what a relay missed while it was down is
 * delivered when it comes back, also after the node restarts.
 *
 * Keys: `nostr/outbox/<slot>` -> {@link OutboxEntry}. A slot holds one event: the newest version
 * of a replaceable (kind 0, 10002: `<kind>:<pubkey>:`) or addressable event (its coordinate
 * `<kind>:<pubkey>:<d>`), so a newer version replaces an older one still waiting; a deletion
 * (`del:<coordinate>`) and the event it deletes cancel each other out (whichever is newer stays),
 * so a relay back from an outage never receives a deletion after the version that replaced it;
 * any other event has its own slot (`id:<event id>`). Entries are delivered in `seq` order.
 */
import type Hyperbee from 'hyperbee'
import type { Event as NostrEvent } from 'nostr-tools/pure'
import type { DeliverySource } from './relays.ts'

const PREFIX = 'nostr/outbox/'

/** Delivery of one event to one relay. */
export interface Delivery {
  status: 'pending' | 'sent' | 'refused'
  /** why the relay refused it (refused only) */
  error?: string
  /** ms (local clock) of the last change */
  at: number
}

/** What an event is, for people reading the outbox. */
export interface OutboxMeta {
  what: 'profile' | 'relays' | 'listing' | 'deletion' | 'note'
  /** the book's topic and the project, for listings, their deletions and notes */
  book?: string
  project?: string
  /** the milestone, for notes */
  milestone?: string
}

export interface OutboxEntry extends OutboxMeta {
  v: 1
  seq: number
  slot: string
  event: NostrEvent
  /** relay URL -> delivery */
  relays: Record<string, Delivery>
}

/** The slot of an event (see the module comment). */
export function slotOf (event: Pick<NostrEvent, 'kind' | 'pubkey' | 'tags' | 'id'>): string {
  const k = event.kind
  if (k === 0 || k === 3 || (k >= 10000 && k < 20000)) return `${k}:${event.pubkey}:`
  if (k >= 30000 && k < 40000) return `${k}:${event.pubkey}:${event.tags.find((t) => t[0] === 'd')?.[1] ?? ''}`
  if (k === 5) {
    const a = event.tags.filter((t) => t[0] === 'a')
    if (a.length === 1) return `del:${a[0][1]}`
  }
  return `id:${event.id}`
}

/**
 * The persisted queue. open() loads it; every change is written before it returns. It is the
 * relays' {@link DeliverySource}.
 */
export class Outbox implements DeliverySource {
  private readonly bee: Hyperbee
  private readonly now: () => number
  private readonly entries = new Map<string, OutboxEntry>()
  private relays: string[] = []
  private seq = 0
  private lock: Promise<unknown> = Promise.resolve()

  /**
   * @param opts.local the node's local Hyperbee (utf-8 keys, JSON values)
   * @param opts.now local clock, ms (delivery times only)
   */
  constructor (opts: { local: Hyperbee; now?: () => number }) {
    this.bee = opts.local
    this.now = opts.now ?? Date.now
  }

  /** Loads the persisted entries (ignoring any of an unknown version). */
  async open (): Promise<void> {
    for await (const { value } of this.bee.createReadStream<OutboxEntry>({ gte: PREFIX, lt: PREFIX + '\xff' })) {
      if (!value || value.v !== 1 || typeof value.slot !== 'string' || !value.event) continue
      this.entries.set(value.slot, value)
      this.seq = Math.max(this.seq, value.seq)
    }
  }

  /**
   * Delivers to exactly `urls` from now on: relays added get every entry as pending, relays removed
   * are forgotten.
   */
  async setRelays (urls: readonly string[]): Promise<void> {
    await this.serial(async () => {
      this.relays = [...urls]
      const batch = this.bee.batch()
      for (const e of this.entries.values()) {
        let changed = false
        for (const url of Object.keys(e.relays)) if (!urls.includes(url)) { delete e.relays[url]; changed = true }
        for (const url of urls) if (!e.relays[url]) { e.relays[url] = { status: 'pending', at: this.now() }; changed = true }
        if (changed) await batch.put(PREFIX + e.slot, e)
      }
      await batch.flush()
    })
  }

  /**
   * Queues a signed event for every relay. A newer version replaces what waits in its slot; an
   * older one than what the slot holds is dropped (returned: the slot's entry).
   * @returns the entry now in the event's slot
   */
  async put (event: NostrEvent, meta: OutboxMeta): Promise<OutboxEntry> {
    return await this.serial(async () => {
      const slot = slotOf(event)
      const held = this.entries.get(slot)
      if (held && (held.event.created_at > event.created_at || held.event.id === event.id)) return held
      const batch = this.bee.batch()
      // an event and the deletion of its coordinate: the newer one wins, the other must not be delivered after it
      const other = slot.startsWith('del:') ? slot.slice(4) : `del:${slot}`
      const rival = this.entries.get(other)
      if (rival && rival.event.created_at <= event.created_at) {
        this.entries.delete(other)
        await batch.del(PREFIX + other)
      }
      const relays: Record<string, Delivery> = {}
      for (const url of this.relays) relays[url] = { status: 'pending', at: this.now() }
      const entry: OutboxEntry = { v: 1, seq: ++this.seq, slot, event, relays, ...meta }
      this.entries.set(slot, entry)
      await batch.put(PREFIX + slot, entry)
      await batch.flush()
      return entry
    })
  }

  /** @returns the entry in `slot`, or null */
  get (slot: string): OutboxEntry | null { return this.entries.get(slot) ?? null }

  /** @returns every entry, in delivery order */
  list (): OutboxEntry[] { return [...this.entries.values()].sort((a, b) => a.seq - b.seq) }

  async next (url: string): Promise<NostrEvent | null> {
    let best: OutboxEntry | null = null
    for (const e of this.entries.values()) if (e.relays[url]?.status === 'pending' && (best === null || e.seq < best.seq)) best = e
    return best?.event ?? null
  }

  async pending (url: string): Promise<number> {
    let n = 0
    for (const e of this.entries.values()) if (e.relays[url]?.status === 'pending') n++
    return n
  }

  async delivered (url: string, id: string): Promise<void> { await this.mark(url, id, { status: 'sent', at: this.now() }) }

  async refused (url: string, id: string, reason: string): Promise<void> { await this.mark(url, id, { status: 'refused', error: reason, at: this.now() }) }

  private async mark (url: string, id: string, d: Delivery): Promise<void> {
    await this.serial(async () => {
      for (const e of this.entries.values()) {
        if (e.event.id !== id || !e.relays[url]) continue
        e.relays[url] = d
        await this.bee.put(PREFIX + e.slot, e)
      }
    })
  }

  // writes one at a time: a put racing a delivery mark must not write back a stale entry
  private async serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn)
    this.lock = run.catch(() => {})
    return await run
  }
}
