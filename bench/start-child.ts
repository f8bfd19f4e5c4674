/**
 * Child process of the node-start benchmark (bench/start.ts). Usage:
 *   node --import tsx bench/start-child.ts growr <storage dir> <parent epoch ms>
 *   node --import tsx bench/start-child.ts bare <corestore dir> <parent epoch ms> <base key hex>
 * Opens the node (network off) or the bare base, reads the view once (so "ready" means it
 * answers), prints one JSON line { ms, entries, maxRssBytes } and exits. `ms` runs from the
 * parent's clock reading just before it spawned this process.
 */

/**
 * Peak resident set of this process, bytes. Linux keeps getrusage's ru_maxrss across exec, so
 * process.resourceUsage() would report the (large) benchmark parent's peak; VmHWM belongs to
 * this address space only. Other systems fall back to maxRSS.
 */
function peakRss (): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    if (m) return Number(m[1]) * 1024
  } catch {}
  return process.resourceUsage().maxRSS * 1024
}
import fs from 'node:fs'
import Corestore from 'corestore'
import b4a from 'b4a'
import { GrowrNode } from '../core/node.ts'
import { bareBase, bareEntries } from './lib/bare.ts'

const [mode, dir, t0, key] = process.argv.slice(2)
let entries: number
let close: () => Promise<void>
if (mode === 'growr') {
  const node = new GrowrNode({ storage: dir, network: false })
  await node.ready()
  const [book] = node.list()
  entries = await book.view.auditLength()
  close = () => node.close()
} else {
  const store = new Corestore(dir)
  const base = bareBase(store, b4a.from(key, 'hex'))
  await base.ready()
  await base.view.get('\uffff') // one read of the view, as the Growr side reads meta/seq
  entries = bareEntries(base)
  close = async () => { await base.close(); await store.close() }
}
const ms = Date.now() - Number(t0)
console.log(JSON.stringify({ ms, entries, maxRssBytes: peakRss() }))
await close()
