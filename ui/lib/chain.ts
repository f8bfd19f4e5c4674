/**
 * What the node's Bitcoin rail says about payments on their way, for the screens that show "N of
 * M confirmations" until a proof lands in the book (the pure part is chain-items.ts).
 *
 * Two sources, both pushed (nothing polls):
 * - the payee's watcher (`bitcoin.payment` events, app/session.ts): payment-seen with N of M
 *   confirmations, payment-proven, payment-refused. They are kept here, per page, from the first
 *   use on; what came before is in the rail's status (`status().bitcoin.watcher.pending`).
 * - the payer's own transactions (`payment.tracked`), re-read on each `bitcoin.sync` (a new tip or balance).
 */
import { useSyncExternalStore } from 'react'
import type { PaymentKind } from '../../books/ops/types.ts'
import { listen, send } from './contract-client.ts'
import { useQuery } from './hooks.ts'
import { readWatcherEvent, type WatcherEvent } from './chain-items.ts'

export { btcText, chainItems, parseSendAmount, readWatcherEvent, scriptHex, type ChainItem, type WatcherEvent } from './chain-items.ts'

// the page's record of watcher events: `${book}/${kind}/${ref}` -> txid -> the latest event
const seen = new Map<string, Map<string, WatcherEvent>>()
const subscribers = new Set<() => void>()
let version = 0
let started = false

function keyOf (book: string, kind: string, ref: string): string { return `${book}/${kind}/${ref}` }

function start (): void {
  if (started) return
  started = true
  listen('bitcoin.payment', (data) => {
    const e = readWatcherEvent(data)
    if (!e || e.type === 'payment-reorged') return // a reorganisation changes the book: book.changed shows it
    const key = keyOf(e.book, e.kind, e.ref)
    const byTx = seen.get(key) ?? new Map<string, WatcherEvent>()
    byTx.set(e.txid, e)
    seen.set(key, byTx)
    version++
    for (const fn of subscribers) fn()
  })
}

function subscribe (fn: () => void): () => void {
  start()
  subscribers.add(fn)
  return () => { subscribers.delete(fn) }
}

/** The watcher events this page received for one record, latest per transaction (call within a component using {@link useWatcherVersion}). */
export function watcherEvents (book: string, kind: PaymentKind, ref: string): WatcherEvent[] {
  return [...(seen.get(keyOf(book, kind, ref))?.values() ?? [])]
}

/** Whether this page received a watcher event for the record (call within a component using {@link useWatcherVersion}). */
export function sawWatcherEvents (book: string, kind: PaymentKind, ref: string): boolean {
  return (seen.get(keyOf(book, kind, ref))?.size ?? 0) > 0
}

/** Re-renders on each watcher event this page receives; @returns a number that changes with them */
export function useWatcherVersion (): number {
  return useSyncExternalStore(subscribe, () => version)
}

/** The node's Bitcoin rail status (null without a backend), re-read when the rail says something changed. */
export function useRailStatus () {
  return useQuery(async () => (await send('status', {})).bitcoin ?? null, [], ['bitcoin.backend', 'bitcoin.sync', 'bitcoin.payment', 'identity'])
}

/** This node's wallet transactions (empty without a backend), re-read on a new tip, a watcher event or a book change. */
export function useTracked (enabled: boolean) {
  return useQuery(async () => enabled ? await send('payment.tracked', {}) : [], [enabled], ['bitcoin.sync', 'bitcoin.payment', 'book.changed'])
}

