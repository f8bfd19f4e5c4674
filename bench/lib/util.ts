/**
 * Small helpers every benchmark shares: the result record, a monotonic clock, temporary
 * directories that are always removed, and in-process replication between two Corestores.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import type Corestore from 'corestore'

/**
 * One figure of a run, as printed and as written to bench/results.json.
 * `ratio` is Growr's speed as a fraction of the baseline's, measured in the same run:
 * value / baseline for rates (higher is better), baseline / value for times and sizes
 * (lower is better). 1.0 means as fast as the baseline; null when there is no baseline.
 */
export interface BenchResult {
  name: string
  /** the size the figure was measured at (ops, presentations, evaluations, peers x ops...) */
  n: number
  value: number
  unit: string
  baseline: number | null
  /** the baseline's unit when it differs from `unit` */
  baselineUnit?: string
  ratio: number | null
  /** what the figure and its baseline are, in a few words */
  note: string
}

/** Whether a unit is a rate (higher is better) rather than a time or a size. */
export function isRate (unit: string): boolean { return unit.includes('/s') }

/** Builds a result, computing the ratio in the right direction for the unit. */
export function result (name: string, n: number, value: number, unit: string, baseline: number | null, note: string, baselineUnit?: string): BenchResult {
  let ratio: number | null = null
  if (baseline !== null && baseline > 0 && value > 0) ratio = isRate(unit) ? value / baseline : baseline / value
  return { name, n, value, unit, baseline, ...(baselineUnit ? { baselineUnit } : {}), ratio, note }
}

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function now (): number { return performance.now() }

/** A temporary directory tree for one benchmark; `cleanup()` removes everything made under it. */
export class Scratch {
  readonly root: string
  constructor (prefix = 'growr-bench-') {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  }

  /** A fresh empty subdirectory. */
  dir (name: string): string {
    const d = path.join(this.root, name)
    fs.mkdirSync(d, { recursive: true })
    return d
  }

  cleanup (): void { fs.rmSync(this.root, { recursive: true, force: true }) }
}

/**
 * Replicates two Corestores over an in-memory stream pair, the way two peers on one machine
 * would over a connection, minus the network.
 * @returns a function that cuts the link (both streams destroyed)
 */
export function link (a: Corestore, b: Corestore): () => void {
  const s1 = a.replicate(true) as Duplex
  const s2 = b.replicate(false) as Duplex
  s1.pipe(s2).pipe(s1)
  const ignore = () => {}
  s1.on('error', ignore)
  s2.on('error', ignore)
  return () => { s1.destroy(); s2.destroy() }
}

/** Formats a number for the table: three significant digits, thousands grouped. */
export function fmt (x: number | null): string {
  if (x === null) return '-'
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US')
  if (Math.abs(x) >= 100) return x.toFixed(0)
  if (Math.abs(x) >= 10) return x.toFixed(1)
  return x.toFixed(2)
}
