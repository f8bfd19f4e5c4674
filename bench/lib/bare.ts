/**
 * The baseline every book figure is measured against: a bare Autobase whose Hyperbee view gets
 * one put per appended entry, with no validation, signatures or domain logic. Its apply is what a
 * minimal, well-written Autobase app does (one Hyperbee batch per apply call).
 */
import Autobase from 'autobase'
import Hyperbee from 'hyperbee'
import b4a from 'b4a'
import type Corestore from 'corestore'

/** An entry of the bare base: a put, or (from the bootstrap writer) a writer to add. */
export type BareEntry = { key: string; value: unknown } | { addWriter: string }

/**
 * Opens a bare Autobase (JSON entries, Hyperbee view with utf-8 keys and JSON values).
 * @param key the base to join, or null to create one
 * @param ackInterval ms between background acks (indexers)
 */
export function bareBase (store: Corestore, key: Uint8Array | null, ackInterval = 1000): Autobase<Hyperbee> {
  const base = new Autobase<Hyperbee>(store, key, {
    open: (viewStore) => new Hyperbee(viewStore.get({ name: 'view' }), { keyEncoding: 'utf-8', valueEncoding: 'json', extension: false }),
    apply: async (nodes, view, host) => {
      const batch = view.batch({ update: false })
      for (const node of nodes) {
        const entry = node.value as unknown as BareEntry | null
        if (entry === null) continue
        if ('addWriter' in entry) {
          await host.addWriter(b4a.from(entry.addWriter, 'hex'), { indexer: false })
          continue
        }
        await batch.put(entry.key, entry.value)
      }
      await batch.flush()
    },
    close: (bee) => bee.close(),
    valueEncoding: 'json',
    ackInterval
  })
  base.on('error', () => {})
  return base
}

/** Entries in the view of a bare base (Hyperbee's header block is not one). */
export function bareEntries (base: Autobase<Hyperbee>): number {
  return Math.max(0, base.view.core.length - 1)
}
