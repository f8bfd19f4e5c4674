/**
 * `npm run bench [-- --quick] [-- --only=ingest,convergence,merge,credentials,eligibility,start,proofs,ads,chains,routing]`
 *
 * Runs every benchmark in one process, one after another, prints a table and writes the same
 * figures to bench/results.json. Each figure is measured against its baseline in the same run
 * (absolute times drift on shared machines); see lib/util.ts for what the ratio means.
 * `--quick` runs reduced sizes (under a minute); the full run stays under ten minutes on
 * 2 cores. Temporary stores live under one directory in the OS temp dir, removed at the end.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { benchIngest, type IngestStores } from './ingest.ts'
import { benchConvergence } from './convergence.ts'
import { benchMerge } from './merge.ts'
import { benchCredentials } from './credentials.ts'
import { benchEligibility } from './eligibility.ts'
import { benchStart } from './start.ts'
import { benchProofs } from './proofs.ts'
import { benchAds } from './ads.ts'
import { benchChains } from './chains.ts'
import { benchRouting, benchCommit } from './routing.ts'
import { Scratch, fmt, now, type BenchResult } from './lib/util.ts'
import { measuredForBook } from './lib/lending.ts'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ALL = ['ingest', 'convergence', 'merge', 'credentials', 'eligibility', 'start', 'proofs', 'ads', 'chains', 'routing'] as const

const SIZES = {
  // the second ingest makes a book of 100 000 ops (47 170 measured on top of the setup), the
  // book the node-start benchmark reopens; 100 000 measured ops would take ~8 minutes alone
  full: { ingest: [10_000, measuredForBook(100_000)], batch: 500, convergenceOps: 10_000, peers: 10, writers: 5, perWriter: 2_000, mergeBatch: 100, presentations: 2_000, evaluations: 2_000, startRuns: 3, proofs: 5_000, adPeers: 100, adRuns: 5, chains: 2_000, routingLines: 100_000, routingQueries: 1_000, commitPayments: 20 },
  quick: { ingest: [2_000], batch: 500, convergenceOps: 2_000, peers: 3, writers: 3, perWriter: 300, mergeBatch: 100, presentations: 300, evaluations: 300, startRuns: 1, proofs: 500, adPeers: 20, adRuns: 1, chains: 300, routingLines: 100_000, routingQueries: 200, commitPayments: 5 }
}

/** The machine a run was on: what the figures mean depends on it. */
function machine () {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100)
  }
}

/** The results as a Markdown table (also what the console shows). */
export function table (results: BenchResult[]): string {
  const rows = [['benchmark', 'n', 'value', 'baseline', 'ratio'], ['---', '---:', '---:', '---:', '---:']]
  for (const r of results) rows.push([r.name, r.n.toLocaleString('en-US'), `${fmt(r.value)} ${r.unit}`, r.baseline === null ? '-' : `${fmt(r.baseline)} ${r.baselineUnit ?? r.unit}`, r.ratio === null ? '-' : r.ratio.toFixed(2)])
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)))
  return rows.map((row, i) => '| ' + row.map((cell, c) => i === 1 ? (cell.endsWith(':') ? '-'.repeat(widths[c] - 1) + ':' : '-'.repeat(widths[c])) : c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join(' | ') + ' |').join('\n')
}

async function main (): Promise<void> {
  const args = process.argv.slice(2)
  const quick = args.includes('--quick')
  const onlyArg = args.find((a) => a.startsWith('--only='))
  const only = onlyArg ? onlyArg.slice('--only='.length).split(',') : [...ALL]
  for (const o of only) if (!(ALL as readonly string[]).includes(o)) throw new Error(`unknown benchmark ${o}; choose from ${ALL.join(', ')}`)
  const size = quick ? SIZES.quick : SIZES.full
  const scratch = new Scratch()
  const onSignal = () => { scratch.cleanup(); process.exit(130) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const results: BenchResult[] = []
  const t0 = now()
  const step = async (name: string, fn: () => Promise<BenchResult[]>) => {
    const t = now()
    process.stderr.write(`bench: ${name}...`)
    const out = await fn()
    results.push(...out)
    process.stderr.write(` ${((now() - t) / 1000).toFixed(1)} s\n`)
  }
  try {
    let stores: IngestStores | null = null
    if (only.includes('ingest') || only.includes('start')) {
      for (const n of size.ingest) {
        await step(`ingest ${n}`, async () => {
          const r = await benchIngest(scratch, n, size.batch)
          stores = r.stores
          return only.includes('ingest') ? r.results : []
        })
      }
    }
    if (only.includes('convergence')) await step('convergence', () => benchConvergence(scratch, size.convergenceOps, size.peers, size.batch))
    if (only.includes('merge')) await step('merge', () => benchMerge(scratch, size.writers, size.perWriter, size.mergeBatch))
    if (only.includes('credentials')) await step('credentials', () => benchCredentials(size.presentations))
    if (only.includes('eligibility')) await step('eligibility', () => benchEligibility(size.evaluations))
    if (only.includes('start') && stores) await step('node start', () => benchStart(stores as IngestStores, size.startRuns))
    if (only.includes('proofs')) await step('proofs', () => benchProofs(size.proofs))
    if (only.includes('ads')) await step('ads', () => benchAds(size.adPeers, size.adRuns))
    if (only.includes('chains')) await step('chains', () => benchChains(size.chains))
    if (only.includes('routing')) {
      await step('routing', () => benchRouting(size.routingLines, size.routingQueries))
      await step('5-hop commit', () => benchCommit(scratch, size.commitPayments))
    }
  } finally {
    scratch.cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  const m = machine()
  const seconds = (now() - t0) / 1000
  console.log(table(results))
  console.log(`\n${quick ? 'quick' : 'full'} run, ${seconds.toFixed(0)} s; ${m.cpus} x ${m.cpuModel}, ${m.memGiB} GiB, Node ${m.node}; ratio = Growr's speed as a fraction of the baseline's (1.00 = as fast)`)
  const file = path.join(HERE, 'results.json')
  fs.writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), mode: quick ? 'quick' : 'full', seconds: Math.round(seconds), machine: m, results }, null, 2) + '\n')
  console.log(`wrote ${path.relative(process.cwd(), file)}`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
