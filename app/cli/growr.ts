/**
 * growr: the command line over the node contract (app/contract.ts). Every command talks to
 * the node already running on the same storage (`growr start`) through its local socket, or,
 * when none runs, opens the storage itself for the length of the command.
 * Amounts are integer minor units (cents, sats). `--json` prints machine-readable results.
 */
import { Command, Option, InvalidArgumentError } from 'commander'
import fs from 'node:fs'
import { GrowrNode } from '../../core/node.ts'
import { GrowrError } from '../../core/errors.ts'
import { createIdentity, hasIdentity, loadIdentity } from '../../core/identity/keyfile.ts'
import { resolveStorageDir } from '../../core/storage-dir.ts'
import { parseBootstrap, type BootstrapNode } from '../../core/network/swarm.ts'
import { createHandlers, type Contract } from '../contract.ts'
import { call, serve } from '../rpc.ts'
import { startTestnet } from './testnet.ts'
import { addDays, dateOf } from '../../books/dates.ts'
import type { ProjectTerms } from '../../books/ops/types.ts'

interface Globals { storage?: string; bootstrap?: string; json?: boolean; timeout?: number }

const program = new Command('growr')
  .description('Growr: peer-to-peer micro-lending. Lending books replicated between peers by topic key.')
  .addOption(new Option('--storage <dir>', 'node storage directory').env('GROWR_STORAGE'))
  .addOption(new Option('--bootstrap <host:port,...>', 'private HyperDHT bootstrap nodes (default: the public DHT)').env('GROWR_BOOTSTRAP'))
  .option('--json', 'print results as JSON')
  .option('--timeout <ms>', 'how long to wait for records to replicate', int, 30_000)
  .showHelpAfterError()

function int (v: string): number {
  if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError('not a whole number')
  return Number(v)
}

function globals (): Globals & { storage: string; bootstrapNodes?: BootstrapNode[] } {
  const g = program.opts<Globals>()
  const storage = resolveStorageDir({ storage: g.storage, env: process.env })
  return { ...g, storage, bootstrapNodes: g.bootstrap ? parseBootstrap(g.bootstrap) : undefined }
}

function print (result: unknown, human: (r: never) => string): void {
  if (program.opts<Globals>().json) console.log(JSON.stringify(result, null, 2))
  else console.log(human(result as never))
}

// Without a running node, only these need peers; everything else acts on the local copy of the
// books, which `growr start` replicates later.
const NEEDS_NETWORK = new Set<keyof Contract>(['invite.accept', 'wait'])

/** Runs one contract method on the running node, or in-process on the storage. */
async function run<K extends keyof Contract> (method: K, args: Contract[K]['args']): Promise<Contract[K]['result']> {
  const g = globals()
  const params = { timeoutMs: g.timeout, ...args }
  const remote = await call(g.storage, method, params)
  if (remote) return remote.result as Contract[K]['result']
  const node = new GrowrNode({ storage: g.storage, bootstrap: g.bootstrapNodes, passphrase: process.env.GROWR_PASSPHRASE, network: NEEDS_NETWORK.has(method) })
  try {
    await node.ready()
    return await createHandlers(node)[method](params as never) as Contract[K]['result']
  } finally {
    await node.close()
  }
}

const acted = (what: string) => (r: { id: string; status: string }) => `${what}: ${r.status} ${r.id}`

program.command('init')
  .description('create this node\'s identity (an Ed25519 did:key); set GROWR_PASSPHRASE to encrypt it at rest')
  .action(() => {
    const { storage } = globals()
    const id = createIdentity(storage, { passphrase: process.env.GROWR_PASSPHRASE || undefined })
    print({ did: id.did, storage, encrypted: id.encrypted }, (r: { did: string; encrypted: boolean }) => `identity ${r.did} created in ${storage}${r.encrypted ? ' (encrypted)' : ' (not encrypted: set GROWR_PASSPHRASE to encrypt)'}`)
  })

program.command('start')
  .description('run the node: join every followed book on the swarm and serve local commands')
  .action(async () => {
    const g = globals()
    if (!hasIdentity(g.storage)) {
      const id = createIdentity(g.storage, { passphrase: process.env.GROWR_PASSPHRASE || undefined })
      console.log(`growr: created identity ${id.did}`)
    }
    const node = new GrowrNode({ storage: g.storage, bootstrap: g.bootstrapNodes, passphrase: process.env.GROWR_PASSPHRASE })
    await node.ready()
    const server = await serve(g.storage, createHandlers(node))
    const status = await createHandlers(node).status({})
    if (g.json) console.log(JSON.stringify({ event: 'ready', ...status }))
    else {
      console.log(`growr node ${status.did}`)
      console.log(`storage ${status.storage}`)
      console.log(`network ${g.bootstrap ? 'private DHT ' + g.bootstrap : 'public HyperDHT'}`)
      for (const b of status.books) console.log(`book ${b.topic} ${b.name} (${b.role ?? 'reader'})`)
      if (status.books.length === 0) console.log('no books yet: `growr book create --name NAME` or `growr book join TOPIC`')
      console.log(`peers ${status.peers}`)
    }
    let peers = node.peerCount
    const timer = setInterval(() => {
      if (node.peerCount !== peers && !g.json) console.log(`peers ${node.peerCount}`)
      peers = node.peerCount
    }, 1000)
    const stop = async () => {
      clearInterval(timer)
      await server.close()
      await node.close()
      process.exit(0)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })

program.command('testnet')
  .description('run a private HyperDHT on 127.0.0.1 for peers on this machine')
  .option('--port <n>', 'UDP port of the bootstrap node', int, 49737)
  .action(async (o: { port: number }) => {
    const net = await startTestnet(o.port)
    print({ bootstrap: net.bootstrap }, (r: { bootstrap: string }) => `testnet running: pass --bootstrap ${r.bootstrap} to every node`)
    const stop = async () => { await net.destroy(); process.exit(0) }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })

program.command('status').description('identity, books followed, peers').action(async () => {
  print(await run('status', {}), (r: Contract['status']['result']) => [`did ${r.did}`, `storage ${r.storage}`, `peers ${r.peers}`, ...r.books.map((b) => `book ${b.topic} ${b.name} (${b.role ?? 'reader'}${b.writable ? ', writer' : ''})`)].join('\n'))
})

program.command('whoami').description('print this node\'s DID').action(() => {
  const id = loadIdentity(globals().storage, { passphrase: process.env.GROWR_PASSPHRASE })
  print({ did: id.did }, (r: { did: string }) => r.did)
})

const book = program.command('book').description('lending books')
book.command('create').requiredOption('--name <name>').description('create a book this identity originates')
  .action(async (o: { name: string }) => print(await run('book.create', o), (r: { topic: string }) => `book created; topic key ${r.topic}`))
book.command('join <topic>').description('follow a book read-only by its topic key')
  .action(async (topic: string) => print(await run('book.join', { book: topic }), (r: { topic: string }) => `following ${r.topic}`))
book.command('show').requiredOption('--book <topic>').description('summary and view hash')
  .action(async (o: { book: string }) => print(await run('book.show', o), (r: Contract['book.show']['result']) => `${r.name} ${r.topic}\noriginator ${r.originator}\nview ${r.hash}\n${JSON.stringify(r.summary)}`))
book.command('audit').requiredOption('--book <topic>').description('every op applied, accepted or rejected')
  .action(async (o: { book: string }) => print(await run('book.audit', o), (r: Contract['book.audit']['result']) => r.map((a) => `${a.seq} ${a.status} ${a.type ?? '?'} ${a.reason ?? ''}`).join('\n')))

const invite = program.command('invite').description('make borrowers and investors writers of a book')
invite.command('create').requiredOption('--book <topic>').addOption(new Option('--role <role>').choices(['borrower', 'investor']).makeOptionMandatory())
  .action(async (o: { book: string; role: 'borrower' | 'investor' }) => print(await run('invite.create', o), (r: { code: string }) => `invite (single use): ${r.code}`))
invite.command('accept <code>').description('redeem an invite; the originator\'s node must be online')
  .action(async (code: string) => print(await run('invite.accept', { code, timeoutMs: globals().timeout }), (r: { topic: string }) => `writer of book ${r.topic}`))

function readJson (file: string): unknown {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) } catch (err) { throw GrowrError.BAD_ARGUMENT(`cannot read JSON from ${file}: ${(err as Error).message}`) }
}

const project = program.command('project').description('lending projects (originator)')
project.command('create').requiredOption('--book <topic>').requiredOption('--name <name>')
  .option('--description <text>', '', '')
  .option('--amount <minor>', 'project size, minor units', int, 1_000_000)
  .option('--currency <code>', 'ISO 4217 or asset code', 'EUR')
  .option('--start <date>', 'first day loans are accepted, YYYY-MM-DD', dateOf(Date.now()))
  .option('--end <date>', 'last day loans are accepted, YYYY-MM-DD', addDays(dateOf(Date.now()), 365))
  .option('--loan-min <minor>', '', int, 10_000)
  .option('--loan-max <minor>', '', int, 200_000)
  .option('--min-months <n>', '', int, 3)
  .option('--max-months <n>', '', int, 24)
  .option('--rate-bps <bps>', 'annual interest rate, basis points', int, 1200)
  .addOption(new Option('--method <method>', 'interest method').choices(['flat', 'declining-balance']).default('declining-balance'))
  .option('--fee <minor>', 'disbursement fee, minor units', int, 0)
  .option('--grace-days <n>', 'days past due before a loan may be defaulted', int, 10)
  .option('--criteria <file>', 'eligibility criteria: JSON array of json-rules-engine rules')
  .option('--private', 'not listed publicly')
  .option('--invite-only', 'only invited borrowers apply')
  .action(async (o: Record<string, string | number | boolean | undefined>) => {
    const terms: ProjectTerms = {
      name: o.name as string,
      description: o.description as string,
      amount: o.amount as number,
      currency: o.currency as string,
      startDate: o.start as string,
      endDate: o.end as string,
      loanMinAmount: o.loanMin as number,
      loanMaxAmount: o.loanMax as number,
      loanMinDuration: o.minMonths as number,
      loanMaxDuration: o.maxMonths as number,
      annualRateBps: o.rateBps as number,
      interestMethod: o.method as ProjectTerms['interestMethod'],
      disbursementFee: o.fee as number,
      gracePeriod: o.graceDays as number,
      eligibility: o.criteria ? readJson(o.criteria as string) as ProjectTerms['eligibility'] : [],
      isPublic: !o.private,
      isInviteOnly: !!o.inviteOnly
    }
    print(await run('project.create', { book: o.book as string, terms }), acted('project created'))
  })
for (const action of ['activate', 'deactivate', 'close'] as const) {
  project.command(action).requiredOption('--book <topic>').requiredOption('--project <id>')
    .action(async (o: { book: string; project: string }) => print(await run('project.transition', { ...o, action }), acted(`project ${action}`)))
}
project.command('update').requiredOption('--book <topic>').requiredOption('--project <id>').requiredOption('--changes <file>', 'JSON object of terms to change')
  .action(async (o: { book: string; project: string; changes: string }) => print(await run('project.update', { book: o.book, project: o.project, changes: readJson(o.changes) as Partial<ProjectTerms> }), acted('project updated')))
project.command('list').requiredOption('--book <topic>')
  .action(async (o: { book: string }) => print(await run('project.list', o), (r: Contract['project.list']['result']) => r.map((p) => `${p.projectId} ${p.status} ${p.terms.name} ${p.confirmedFunding}/${p.terms.amount} ${p.terms.currency}`).join('\n')))

program.command('funding').description('fund projects (investor)')
  .command('commit').requiredOption('--book <topic>').requiredOption('--project <id>').requiredOption('--amount <minor>', 'minor units', int)
  .action(async (o: { book: string; project: string; amount: number }) => print(await run('funding.commit', o), acted('funding committed')))

const loan = program.command('loan').description('loans')
loan.command('apply').requiredOption('--book <topic>').requiredOption('--project <id>').requiredOption('--amount <minor>', 'principal, minor units', int).requiredOption('--months <n>', '', int).option('--purpose <text>')
  .action(async (o: { book: string; project: string; amount: number; months: number; purpose?: string }) => print(await run('loan.apply', o), acted('loan applied')))
for (const action of ['approve', 'reject', 'withdraw', 'default'] as const) {
  const cmd = loan.command(action).requiredOption('--book <topic>').requiredOption('--loan <id>')
  if (action === 'reject') cmd.requiredOption('--reason <text>')
  cmd.action(async (o: { book: string; loan: string; reason?: string }) => print(await run('loan.decide', { ...o, action }), acted(`loan ${action}`)))
}
loan.command('repay').requiredOption('--book <topic>').requiredOption('--loan <id>').option('--reference <text>').description('record the next instalment\'s payment')
  .action(async (o: { book: string; loan: string; reference?: string }) => print(await run('loan.repay', o), (r: Contract['loan.repay']['result']) => `instalment ${r.instalment}: repayment ${r.id} of ${r.amount} recorded`))
loan.command('show').requiredOption('--book <topic>').requiredOption('--loan <id>')
  .action(async (o: { book: string; loan: string }) => print(await run('loan.show', o), (r: Contract['loan.show']['result']) => [`${r.loanId} ${r.status} ${r.amount} ${r.currency} over ${r.months} months, outstanding ${r.outstanding}`, ...r.schedule.map((i) => `  ${i.n} ${i.dueDate} principal ${i.principal} interest ${i.interest} total ${i.total} paid ${i.principalPaid + i.interestPaid}`)].join('\n')))
loan.command('list').requiredOption('--book <topic>')
  .action(async (o: { book: string }) => print(await run('loan.list', o), (r: Contract['loan.list']['result']) => r.map((l) => `${l.loanId} ${l.status} ${l.amount} ${l.currency} ${l.borrower}`).join('\n')))

const payment = program.command('payment').description('payment records (rail: manual)')
payment.command('record').requiredOption('--book <topic>').addOption(new Option('--kind <kind>').choices(['funding', 'disbursement', 'repayment', 'distribution']).makeOptionMandatory())
  .requiredOption('--ref <id>', 'the funding or loan paid for').option('--amount <minor>', 'minor units (default: what the book expects)', int).option('--reference <text>', 'bank or transfer reference')
  .action(async (o: Contract['payment.record']['args']) => print(await run('payment.record', o), (r: { id: string; amount: number }) => `payment ${r.id} of ${r.amount} recorded`))
payment.command('confirm').requiredOption('--book <topic>').requiredOption('--payment <id>')
  .action(async (o: { book: string; payment: string }) => print(await run('payment.confirm', o), acted('payment confirmed')))

program.command('distribute').requiredOption('--book <topic>').description('pay investors the repayment shares owed to them')
  .action(async (o: { book: string }) => print(await run('distribute', o), (r: Contract['distribute']['result']) => r.map((d) => `distribution ${d.id}: ${d.amount} to funding ${d.funding}`).join('\n') || 'nothing owed to investors'))

program.command('wait').requiredOption('--book <topic>').requiredOption('--sub <sub>').requiredOption('--id <id>').option('--status <status>')
  .description('wait until a record (and optionally a status) has replicated here')
  .action(async (o: { book: string; sub: 'loans'; id: string; status?: string }) => print(await run('wait', o), () => 'seen'))

try {
  await program.parseAsync(process.argv)
} catch (err) {
  const e = err as GrowrError
  console.error(`growr: ${e.code ? e.message : (e.stack ?? String(e))}`)
  process.exit(e.code === 'BAD_ARGUMENT' ? 2 : 1)
}
