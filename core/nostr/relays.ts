/**
 * Connections to Nostr relays (NIP-01 over WebSocket, nostr-tools' AbstractRelay): one delivery
 * worker per relay that publishes what a {@link DeliverySource} (the outbox) holds for it, oldest
 * first, retrying with exponential back-off and jitter up to a cap; per-relay state (ok, failed
 * with its last error, pending count); and subscriptions that come back after a relay does.
 *
 * Nothing here throws into its callers' work: a relay that is down only changes its state and
 * waits; the books never see it. The WebSocket implementation is injected (under Node the `ws`
 * package, through the `#websocket` import map), so this module loads under Bare too.
 * Clock, timers and randomness are injectable so back-off can be tested without waiting.
 */
import '../runtime/text-encoding.ts' // before nostr-tools (@noble): Bare has no TextEncoder global
import './url-search-sort.ts' // nostr-tools normalises relay URLs with searchParams.sort(), which Bare lacks
import safetyCatch from 'safety-catch'
import { AbstractRelay, type Subscription } from 'nostr-tools/abstract-relay'
import { verifyEvent, type Event as NostrEvent } from 'nostr-tools/pure'
import type { Filter } from 'nostr-tools/filter'

/** A WebSocket constructor with the browser API (the `ws` package's default export under Node). */
export type WebSocketImpl = new (url: string) => unknown

/** Timers to schedule retries with: the globals by default, fakes in tests. */
export interface Timers {
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

/** Back-off settings, ms. */
export interface BackoffOptions {
  /** the first retry waits between base/2 and base (default 1 000) */
  baseMs?: number
  /** no retry waits longer (default 5 min) */
  capMs?: number
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 1000, capMs: 5 * 60_000 }

/**
 * The wait before retry number `attempt` (0 for the first retry): exponential, capped, with
 * "equal jitter" (half fixed, half random), so relays coming back are not hit by every node at
 * once and a retry never comes immediately.
 * @param random a number in [0, 1)
 * @returns ms, in [d/2, d] with d = min(cap, base * 2^attempt)
 */
export function backoffDelay (attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = opts.baseMs ?? DEFAULT_BACKOFF.baseMs
  const cap = opts.capMs ?? DEFAULT_BACKOFF.capMs
  const d = Math.min(cap, base * 2 ** Math.min(Math.max(0, Math.floor(attempt)), 40))
  const r = random()
  return Math.floor(d / 2 + (r >= 0 && r < 1 ? r : 0.5) * d / 2)
}

/** How one relay stands, as the Publishing panel shows it. */
export interface RelayState {
  url: string
  /** ok: the last exchange succeeded; failed: the last one failed (see lastError); unknown: not tried yet */
  state: 'ok' | 'failed' | 'unknown'
  /** the last failure in plain words, null after a success */
  lastError: string | null
  /** ms of the last success / failure (local clock), null if none */
  lastOkAt: number | null
  lastErrorAt: number | null
  /** events waiting for this relay */
  pending: number
  /** consecutive failed attempts (the back-off exponent) */
  attempts: number
  /** ms when the next retry is due, null when not waiting */
  retryAt: number | null
}

/** Where a relay worker takes its work from: the outbox. */
export interface DeliverySource {
  /** the oldest event waiting for `url`, or null */
  next (url: string): Promise<NostrEvent | null>
  /** how many events wait for `url` */
  pending (url: string): Promise<number>
  /** `url` accepted the event (or already had it) */
  delivered (url: string, id: string): Promise<void>
  /** `url` refused the event for good (invalid, blocked...): it is not offered again */
  refused (url: string, id: string, reason: string): Promise<void>
}

/** An event publication failure. `permanent`: the relay refused this event; otherwise the relay could not be reached. */
export class RelayError extends Error {
  readonly permanent: boolean
  constructor (message: string, permanent: boolean) {
    super(message)
    this.permanent = permanent
  }
}

export interface RelayPoolOptions {
  WebSocket: WebSocketImpl
  source: DeliverySource
  backoff?: BackoffOptions
  timers?: Timers
  random?: () => number
  now?: () => number
  /** how long connecting and each publication may take, ms (default 10 000) */
  timeoutMs?: number
  /** called on every state change (the publisher emits it to the UI) */
  onstate?: (state: RelayState) => void
}

interface Worker {
  url: string
  state: RelayState
  relay: AbstractRelay | null
  running: boolean
  wake: (() => void) | null
  timer: unknown
  stopped: boolean
}

interface Sub { filters: Filter[]; onevent: (event: NostrEvent, url: string) => void; live: Map<string, Subscription>; timers: Map<string, unknown>; attempts: Map<string, number>; closed: boolean }

/**
 * The node's relays. setRelays() says which; kick() says the outbox has new work; subscribe()
 * reads from all of them. close() stops every worker, timer and connection.
 */
export class RelayPool {
  private readonly opts: RelayPoolOptions
  private readonly timers: Timers
  private readonly workers = new Map<string, Worker>()
  private readonly subs = new Set<Sub>()
  private closed = false

  constructor (opts: RelayPoolOptions) {
    this.opts = opts
    this.timers = opts.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) }
  }

  /** The relays in use, in order. */
  get urls (): string[] { return [...this.workers.keys()] }

  /** Uses exactly `urls`: workers for new ones start, removed ones stop. */
  setRelays (urls: readonly string[]): void {
    if (this.closed) return
    for (const [url, w] of this.workers) if (!urls.includes(url)) this.stopWorker(w)
    for (const url of urls) {
      if (this.workers.has(url)) continue
      const w: Worker = { url, state: { url, state: 'unknown', lastError: null, lastOkAt: null, lastErrorAt: null, pending: 0, attempts: 0, retryAt: null }, relay: null, running: false, wake: null, timer: null, stopped: false }
      this.workers.set(url, w)
      this.run(w)
      for (const sub of this.subs) this.openSub(sub, url)
    }
  }

  /** New work in the outbox: idle workers look again (a worker waiting out its back-off keeps waiting). */
  kick (): void {
    for (const w of this.workers.values()) {
      if (w.running) { this.refreshPending(w); continue }
      this.run(w)
    }
  }

  /** Retries every failed relay now, back-off reset (the user asked to publish). */
  retryNow (): void {
    for (const w of this.workers.values()) {
      w.state.attempts = 0
      if (w.timer !== null) { this.timers.clearTimeout(w.timer); w.timer = null; w.state.retryAt = null; const wake = w.wake; w.wake = null; wake?.() }
      if (!w.running) this.run(w)
    }
  }

  /** Every relay's state. */
  states (): RelayState[] { return [...this.workers.values()].map((w) => ({ ...w.state })) }

  /**
   * Reads events matching `filters` from every relay, now and as they come; a relay that drops
   * the connection is subscribed again after a back-off. Events are verified (id and signature)
   * by nostr-tools before `onevent` sees them.
   * @returns a function that ends the subscription
   */
  subscribe (filters: Filter[], onevent: (event: NostrEvent, url: string) => void): () => void {
    const sub: Sub = { filters, onevent, live: new Map(), timers: new Map(), attempts: new Map(), closed: false }
    this.subs.add(sub)
    for (const url of this.workers.keys()) this.openSub(sub, url)
    return () => this.closeSub(sub)
  }

  /** Stops everything: workers, retry timers, subscriptions, connections. */
  close (): void {
    this.closed = true
    for (const sub of [...this.subs]) this.closeSub(sub)
    for (const w of [...this.workers.values()]) this.stopWorker(w)
  }

  private stopWorker (w: Worker): void {
    w.stopped = true
    this.workers.delete(w.url)
    if (w.timer !== null) this.timers.clearTimeout(w.timer)
    w.timer = null
    const wake = w.wake
    w.wake = null
    wake?.()
    try { w.relay?.close() } catch {}
    w.relay = null
    for (const sub of this.subs) {
      sub.live.get(w.url)?.close()
      sub.live.delete(w.url)
      const t = sub.timers.get(w.url)
      if (t !== undefined) this.timers.clearTimeout(t)
      sub.timers.delete(w.url)
    }
  }

  private now (): number { return (this.opts.now ?? Date.now)() }

  private setState (w: Worker, patch: Partial<RelayState>): void {
    Object.assign(w.state, patch)
    if (!w.stopped) this.opts.onstate?.({ ...w.state })
  }

  private refreshPending (w: Worker): void {
    this.opts.source.pending(w.url).then((n) => { if (w.state.pending !== n) this.setState(w, { pending: n }) }, safetyCatch)
  }

  private run (w: Worker): void {
    if (w.running || w.stopped || this.closed) return
    w.running = true
    this.drain(w).catch(safetyCatch).finally(() => { w.running = false })
  }

  // one event at a time, in outbox order: a deletion must never overtake what it deletes
  private async drain (w: Worker): Promise<void> {
    const source = this.opts.source
    while (!w.stopped) {
      const event = await source.next(w.url)
      if (event === null) { this.setState(w, { pending: 0 }); return }
      this.setState(w, { pending: await source.pending(w.url) })
      try {
        await this.publishTo(w, event)
        if (w.stopped) return
        await source.delivered(w.url, event.id)
        this.setState(w, { state: 'ok', lastError: null, lastOkAt: this.now(), attempts: 0, retryAt: null })
      } catch (err) {
        if (w.stopped) return
        const e = err instanceof RelayError ? err : new RelayError(words(err), false)
        if (e.permanent) {
          // the relay answered: it is up, it just will not take this event
          await source.refused(w.url, event.id, e.message)
          this.setState(w, { state: 'ok', lastError: `refused ${event.id.slice(0, 12)}: ${e.message}`, lastOkAt: this.now(), attempts: 0 })
          continue
        }
        try { w.relay?.close() } catch {}
        w.relay = null
        const delay = backoffDelay(w.state.attempts, this.opts.backoff, this.opts.random)
        this.setState(w, { state: 'failed', lastError: e.message, lastErrorAt: this.now(), attempts: w.state.attempts + 1, retryAt: this.now() + delay })
        await new Promise<void>((resolve) => {
          w.wake = resolve
          w.timer = this.timers.setTimeout(() => { w.timer = null; w.wake = null; resolve() }, delay)
        })
        this.setState(w, { retryAt: null })
      }
    }
  }

  private async connection (url: string): Promise<AbstractRelay> {
    const relay = new AbstractRelay(url, { verifyEvent: (e) => verifyEvent(e), websocketImplementation: this.opts.WebSocket as never, enableReconnect: false })
    relay.publishTimeout = this.opts.timeoutMs ?? 10_000
    relay.onnotice = () => {}
    await relay.connect({ timeout: this.opts.timeoutMs ?? 10_000 })
    return relay
  }

  private async publishTo (w: Worker, event: NostrEvent): Promise<void> {
    if (!w.relay || !w.relay.connected) {
      try { w.relay?.close() } catch {}
      w.relay = null
      try {
        w.relay = await this.connection(w.url)
      } catch (err) {
        throw new RelayError(`cannot connect: ${words(err)}`, false)
      }
      if (w.stopped) { try { w.relay.close() } catch {}; return }
      w.relay.onclose = () => { w.relay = null }
    }
    try {
      await w.relay.publish(event)
    } catch (err) {
      const msg = words(err)
      // a lost connection or NIP-01's `rate-limited:`/`error:` is worth retrying; any other OK false is a verdict on the event
      throw new RelayError(msg, !/timed out|connection|closed|rate-limited|^error/i.test(msg))
    }
  }

  private openSub (sub: Sub, url: string): void {
    if (sub.closed || this.closed || !this.workers.has(url)) return
    const retry = (why: string) => {
      if (sub.closed || this.closed || !this.workers.has(url)) return
      sub.live.delete(url)
      const n = sub.attempts.get(url) ?? 0
      sub.attempts.set(url, n + 1)
      void why
      sub.timers.set(url, this.timers.setTimeout(() => { sub.timers.delete(url); this.openSub(sub, url) }, backoffDelay(n, this.opts.backoff, this.opts.random)))
    }
    this.connection(url).then((relay) => {
      if (sub.closed || this.closed || !this.workers.has(url)) { relay.close(); return }
      sub.attempts.set(url, 0)
      const s = relay.subscribe(sub.filters, {
        onevent: (e) => { try { sub.onevent(e, url) } catch (err) { safetyCatch(err) } },
        // a closed subscription (relay gone or CLOSED sent) is opened again after a back-off
        onclose: (reason) => { try { relay.close() } catch {}; retry(reason) }
      })
      sub.live.set(url, s)
    }, (err) => retry(words(err)))
  }

  private closeSub (sub: Sub): void {
    sub.closed = true
    this.subs.delete(sub)
    for (const s of sub.live.values()) {
      try { s.close(); s.relay.close() } catch {}
    }
    sub.live.clear()
    for (const t of sub.timers.values()) this.timers.clearTimeout(t)
    sub.timers.clear()
  }
}

/** An error (or a rejected string) in plain words. */
function words (err: unknown): string {
  const m = err instanceof Error ? err.message : typeof err === 'string' ? err : String((err as { message?: unknown })?.message ?? err)
  return m.slice(0, 300)
}
