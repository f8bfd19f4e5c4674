/**
 * Benchmark 6, node start: a fresh `node --import tsx` process opens a GrowrNode (network off)
 * on storage holding the big ingest book and reads its view; the figures are the time from the
 * parent spawning it to ready, and its peak RSS. Baseline: the same process opening the bare
 * Autobase of the same ingest run. Median of `runs` runs.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import type { IngestStores } from './ingest.ts'
import { result, type BenchResult } from './lib/util.ts'

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'start-child.ts')

interface Sample { ms: number; entries: number; maxRssBytes: number }

function startOnce (args: string[]): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now()
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, args[0], args[1], String(t0), ...args.slice(2)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d })
    child.stderr.on('data', (d: Buffer) => { err += d })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`start-child exited ${code}: ${err.slice(0, 500)}`))
      try { resolve(JSON.parse(out.trim().split('\n').pop() as string)) } catch { reject(new Error(`start-child printed ${out.slice(0, 200)}`)) }
    })
  })
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Runs the node-start benchmark on the stores an ingest left behind. */
export async function benchStart (stores: IngestStores, runs: number): Promise<BenchResult[]> {
  const growr: Sample[] = []
  const bare: Sample[] = []
  for (let i = 0; i < runs; i++) {
    bare.push(await startOnce(['bare', stores.bareDir, b4a.toString(stores.bareKey, 'hex')]))
    growr.push(await startOnce(['growr', stores.growrDir]))
  }
  if (growr.some((s) => s.entries !== stores.growrOps)) throw new Error(`node start: the book reopened with ${growr[0].entries} ops, want ${stores.growrOps}`)
  if (bare.some((s) => s.entries !== stores.bareEntries)) throw new Error(`node start: the bare base reopened with ${bare[0].entries} entries, want ${stores.bareEntries}`)
  const mb = (b: number) => Math.round(b / 1024 / 1024 * 10) / 10
  const ops = stores.growrOps.toLocaleString('en-US')
  return [
    result('node start to ready', stores.growrOps, median(growr.map((s) => s.ms)), 'ms', median(bare.map((s) => s.ms)),
      `new process (node --import tsx) opens a GrowrNode on a ${ops}-op book and reads its view, median of ${runs}; baseline the same process opening a bare Autobase of ${stores.bareEntries.toLocaleString('en-US')} entries`),
    result('node start peak RSS', stores.growrOps, mb(median(growr.map((s) => s.maxRssBytes))), 'MiB', mb(median(bare.map((s) => s.maxRssBytes))),
      'peak resident set (VmHWM) of that process; baseline the bare Autobase process')
  ]
}
