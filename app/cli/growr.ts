/**
 * growr: the command line over the node contract (app/contract.ts). Every command talks to
 * the node already running on the same storage (`growr start`) through its local socket, or,
 * when none runs, opens the storage itself for the length of the command.
 * Amounts are integer minor units (cents, sats). `--json` prints machine-readable results.
 */
import { appRelease, runningRelease } from '../release.ts'
import { checkProof, type ProofOptions } from './proof.ts'
import { Command, Option, InvalidArgumentError } from 'commander'
import fs from 'node:fs'
import path from 'node:path'
import { GrowrNode } from '../../core/node.ts'
import { Services } from '../../core/services/services.ts'
import { restoreFromBackup } from '../../core/sscr/backup.ts'
import { CustodialVault, createConsent, type CustodyConsent } from '../../core/sscr/custody.ts'
import { verifyCredential } from '../../core/credentials/vc.ts'
import { criteriaToRules, type Criterion } from '../../core/services/criteria.ts'
import { GrowrError } from '../../core/errors.ts'
import { verifyReceipt } from '../../core/receipts/receipt.ts'
import { parseTopic } from '../../books/book.ts'
import { createIdentity, hasIdentity, loadIdentity } from '../../core/identity/keyfile.ts'
import { resolveStorageDir } from '../../core/storage-dir.ts'
import { parseBootstrap, type BootstrapNode } from '../../core/network/swarm.ts'
import { createHandlers, type Contract } from '../contract.ts'
import { call, serve } from '../rpc.ts'
import { startTestnet } from './testnet.ts'
import { addDays, dateOf } from '../../books/dates.ts'
import type { ProjectTerms } from '../../books/ops/types.ts'
import { importExport, importJson } from '../../core/credit/migration/importer.ts'

interface Globals { storage?: string; bootstrap?: string; json?: boolean; timeout?: number }

const program = new Command('growr')
  .description('Growr: peer-to-peer micro-lending. Lending books replicated between peers by topic key.')
  .addOption(new Option('--storage <dir>', 'node storage directory').env('GROWR_STORAGE'))
  .addOption(new Option('--bootstrap <host:port,...>', 'private HyperDHT bootstrap nodes (default: the public DHT)').env('GROWR_BOOTSTRAP'))
  .option('--json', 'print results as JSON')
  .option('--timeout <ms>', 'how long to wait for records to replicate', int, 30_000)
  // not --network: that names a Bitcoin network in project rail, wallet and proof commands
  .addOption(new Option('--network-file <file>', 'the marketplace network to act in (a network definition JSON; default: the node\'s setting, else the shipped development network)').env('GROWR_NETWORK'))
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
const NEEDS_NETWORK = new Set<keyof Contract>(['invite.accept', 'wait', 'vc.request', 'eligibility.check'])

/** Runs one contract method on the running node, or in-process on the storage. */
async function run<K extends keyof Contract> (method: K, args: Contract[K]['args']): Promise<Contract[K]['result']> {
  const g = globals()
  const params = { timeoutMs: g.timeout, ...args }
  const remote = await call(g.storage, method, params)
  if (remote) return remote.result as Contract[K]['result']
  const node = new GrowrNode({ storage: g.storage, bootstrap: g.bootstrapNodes, passphrase: process.env.GROWR_PASSPHRASE, network: NEEDS_NETWORK.has(method) })
  const services = new Services(node)
  try {
    await services.ready()
    return await createHandlers(node, services)[method](params as never) as Contract[K]['result']
  } finally {
    await services.close()
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
  .option('--announce', 'announce this node\'s DID on the DHT, so holders reach its issuing and verification services by DID')
  .addOption(new Option('--bitcoin-rpc <url>', 'Bitcoin backend JSON-RPC URL (bitcoind, or bcoin\'s HTTP port); its password or api key in GROWR_BITCOIN_RPC_PASSWORD').env('GROWR_BITCOIN_RPC'))
  .addOption(new Option('--bitcoin-network <network>', 'the chain the backend follows').choices(['mainnet', 'testnet', 'signet', 'regtest']).env('GROWR_BITCOIN_NETWORK'))
  .addOption(new Option('--bitcoin-user <name>', 'bitcoind rpcuser (bcoin: any)').env('GROWR_BITCOIN_RPC_USER'))
  .option('--bitcoin-bech32 <prefix>', 'regtest only: the backend\'s address prefix (bcoin: rb)')
  .option('--bitcoin-birthday <height>', 'first block a fresh wallet scans (default: the backend\'s tip at first start)', int)
  .option('--bitcoin-poll-ms <ms>', 'how often the wallet syncs with the backend', int)
  .addOption(new Option('--rootstock-rpc <url>', 'Rootstock (EVM) backend JSON-RPC URL: rskj, a Rootstock node, or a local dev chain').env('GROWR_ROOTSTOCK_RPC'))
  .addOption(new Option('--rootstock-chain-id <n>', 'the chain id the backend must report: 30 mainnet, 31 testnet, 33 regtest').argParser(int).env('GROWR_ROOTSTOCK_CHAIN_ID'))
  .option('--rootstock-poll-ms <ms>', 'how often the Rootstock wallet reads the chain', int)
  .option('--relay', 'also run a credit relay (as `growr relay` does); implies --announce')
  .action(async (o: StartOptions) => await runNode(o))

program.command('relay')
  .description('run a node with its credit relay on: it indexes the trustlines both parties announce (limits and caps, never balances), answers route requests, meets other relays, and is reachable by its DID; serves local commands like `growr start`')
  .action(async () => await runNode({ relay: true }))

interface StartOptions { announce?: boolean; relay?: boolean; bitcoinRpc?: string; bitcoinNetwork?: 'mainnet' | 'testnet' | 'signet' | 'regtest'; bitcoinUser?: string; bitcoinBech32?: string; bitcoinBirthday?: number; bitcoinPollMs?: number; rootstockRpc?: string; rootstockChainId?: number; rootstockPollMs?: number }

/**
 * `growr start` and `growr relay`: runs the node until SIGINT or SIGTERM, serving the other
 * commands on its storage's socket. A relay always announces its DID on the DHT: payers and
 * parties reach it by DID (credit/relay/* over peer-rpc), and the ads list it as service 'relay'.
 * @throws GrowrError BAD_ARGUMENT for a rail backend given without its network or chain id
 */
async function runNode (o: StartOptions): Promise<void> {
  const g = globals()
  if (!hasIdentity(g.storage)) {
    const id = createIdentity(g.storage, { passphrase: process.env.GROWR_PASSPHRASE || undefined })
    console.log(`growr: created identity ${id.did}`)
  }
  const node = new GrowrNode({ storage: g.storage, bootstrap: g.bootstrapNodes, passphrase: process.env.GROWR_PASSPHRASE })
  if (o.bitcoinRpc && !o.bitcoinNetwork) throw GrowrError.BAD_ARGUMENT('--bitcoin-rpc needs --bitcoin-network (mainnet, testnet, signet or regtest)')
  const bitcoin = o.bitcoinRpc
    ? { url: o.bitcoinRpc, network: o.bitcoinNetwork!, username: o.bitcoinUser, password: process.env.GROWR_BITCOIN_RPC_PASSWORD || undefined, bech32: o.bitcoinBech32, birthday: o.bitcoinBirthday, pollMs: o.bitcoinPollMs }
    : undefined
  if (o.rootstockRpc && o.rootstockChainId === undefined) throw GrowrError.BAD_ARGUMENT('--rootstock-rpc needs --rootstock-chain-id (30 mainnet, 31 testnet, 33 regtest)')
  const rootstock = o.rootstockRpc ? { url: o.rootstockRpc, chainId: o.rootstockChainId!, pollMs: o.rootstockPollMs } : undefined
  const services = new Services(node, { announce: !!o.announce || !!o.relay, bitcoin, rootstock, ads: { release: runningRelease() }, relay: !!o.relay })
  await services.ready()
  for (const note of node.storageNotes) console.error(`growr: ${note}`)
  const handlers = createHandlers(node, services)
  const server = await serve(g.storage, handlers)
  const status = await handlers.status({})
  const relay = services.relay
  if (g.json) console.log(JSON.stringify({ event: 'ready', ...status, ...(relay ? { relay: { trustlines: relay.lines.size } } : {}) }))
  else {
    console.log(`growr ${relay ? 'relay' : 'node'} ${status.did}`)
    console.log(`storage ${status.storage}`)
    console.log(`network ${g.bootstrap ? 'private DHT ' + g.bootstrap : 'public HyperDHT'}`)
    for (const b of status.books) console.log(`book ${b.topic} ${b.name} (${b.role ?? 'reader'})`)
    if (status.bitcoin) console.log(`bitcoin ${status.bitcoin.network} backend ${status.bitcoin.backend.url} ${status.bitcoin.backend.reachable ? `at height ${status.bitcoin.backend.height}` : `UNREACHABLE: ${status.bitcoin.backend.error ?? ''}`}`)
    if (status.rootstock) console.log(`rootstock chain ${status.rootstock.chainId} backend ${status.rootstock.backend.url} ${status.rootstock.backend.reachable && !status.rootstock.backend.error ? `at height ${status.rootstock.backend.height}` : `${status.rootstock.backend.reachable ? 'REFUSED' : 'UNREACHABLE'}: ${status.rootstock.backend.error ?? ''}`}; spending address ${status.rootstock.address}`)
    if (status.books.length === 0) console.log('no books yet: `growr book create --name NAME` or `growr book join TOPIC`')
    if (relay) console.log(`relay on: ${relay.lines.size} trustlines indexed; reachable by DID, listed in the ads as service relay`)
    console.log(`peers ${status.peers}`)
  }
  let peers = node.peerCount
  let indexed = relay?.lines.size ?? 0
  const timer = setInterval(() => {
    if (node.peerCount !== peers && !g.json) console.log(`peers ${node.peerCount}`)
    peers = node.peerCount
    if (relay && relay.lines.size !== indexed) {
      indexed = relay.lines.size
      if (g.json) console.log(JSON.stringify({ event: 'relay', trustlines: indexed }))
      else console.log(`relay ${indexed} trustlines indexed`)
    }
  }, 1000)
  const stop = async () => {
    clearInterval(timer)
    await server.close()
    await services.close()
    await node.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

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

const receiptCmd = program.command('receipt').description('portable receipts: a confirmed payment anyone can verify later, offline, with the book\'s key')
receiptCmd.command('export').requiredOption('--book <topic>').requiredOption('--payment <id>').option('--out <file>', 'where to write it (default: receipt-<payment>.bin here)')
  .description('the signed payment and confirmation ops with their Merkle proofs in the writers\' logs')
  .action(async (o: { book: string; payment: string; out?: string }) => {
    const r = await run('receipt.export', { book: o.book, payment: o.payment })
    const file = path.resolve(o.out ?? `receipt-${o.payment}.bin`)
    fs.writeFileSync(file, Buffer.from(r.receipt, 'base64'), { mode: 0o600 })
    print({ file, receiptHash: r.receiptHash }, (x: { file: string; receiptHash: string }) => `receipt ${x.receiptHash} written to ${x.file}`)
  })
receiptCmd.command('verify').argument('<file>').option('--book <topic>', 'the book it must belong to (default: the book it names, which you must then trust on your own)')
  .description('check a receipt offline, with the book key only: exit 0 only if it holds, else print why')
  .action((file: string, o: { book?: string }) => {
    const bytes = fs.readFileSync(file)
    const bookKey = o.book !== undefined ? parseTopic(o.book) : bytes.subarray(1, 33)
    const r = verifyReceipt(bytes, bookKey)
    print({ ...r, bookKey: Buffer.from(bookKey).toString('hex') }, (x: typeof r & { bookKey: string }) => !x.ok
      ? `receipt refused: ${x.reason}`
      : `receipt holds: ${x.payment.kind} payment ${x.payment.paymentId} of ${x.payment.amount} ${x.payment.currency} from ${x.payment.payer ?? '?'} to ${x.payment.payee ?? '?'}, confirmed by ${x.confirmedBy}, in book "${x.bookName}" ${x.bookKey}${o.book === undefined ? ' (the book the receipt names)' : ''}`)
    if (!r.ok) process.exitCode = 1
  })
receiptCmd.command('validate').argument('<file>').option('--deadline <ms>', 'how long to collect answers, ms', '10000').option('--quorum <n>', 'how many peers must say it holds: a number, majority or all', '1')
  .description('ask the peers that replicate the receipt\'s book to check it against their copies; each answers signed (needs a running node)')
  .action(async (file: string, o: { deadline: string; quorum: string }) => {
    const quorum = o.quorum === 'majority' || o.quorum === 'all' ? o.quorum : Number(o.quorum)
    const r = await run('receipt.validate', { receipt: fs.readFileSync(file).toString('base64'), deadlineMs: Number(o.deadline), quorum })
    print(r, (x: Contract['receipt.validate']['result']) => [
      `${x.holds} of ${x.asked.length} peer(s) say it holds; quorum ${x.quorum ? 'met' : 'NOT met'} (${x.needed} needed)`,
      ...x.answers.map((a) => `  ${a.holds ? 'holds' : 'refused'} by ${a.peer} at length ${a.length}${a.reason ? `: ${a.reason}` : ''}`),
      ...x.failed.map((f) => `  no answer from ${f.did}: ${f.reason}`),
      ...x.pending.map((d) => `  no answer from ${d} before the deadline`)
    ].join('\n'))
    if (!r.quorum) process.exitCode = 1
  })
const consentCmd = program.command('consent').description('consent to credit-exposure queries (a W3C VC the borrower signs, revocable)')
consentCmd.command('grant').requiredOption('--to <did>', 'the organization that may ask').requiredOption('--purpose <text>', 'why, at most 200 characters')
  .option('--days <n>', 'how long it lasts, 1..90', int, 30).option('--scope <did,...>', 'only these organizations may answer (default: any certified originator)')
  .description('let an organization ask certified originators what you owe them; delivered to it over the network')
  .action(async (o: { to: string; purpose: string; days: number; scope?: string }) => {
    const r = await run('consent.grant', { to: o.to, purpose: o.purpose, days: o.days, scope: o.scope?.split(',').map((x) => x.trim()).filter(Boolean) })
    print(r, (x: Contract['consent.grant']['result']) => `consent ${x.consent.id} to ${x.consent.to} until ${x.consent.validUntil}: ${x.delivered ? 'delivered' : `kept, not delivered (${x.deliveryError ?? 'unknown'})`}`)
  })
consentCmd.command('revoke').requiredOption('--id <id>', 'the consent\'s id (consent list)').description('revoke a consent you gave: every originator refuses it within its status bound')
  .action(async (o: { id: string }) => print(await run('consent.revoke', { id: o.id }), (x: Contract['consent.revoke']['result']) => `revoked ${x.consent.id}${x.announced ? ' (announced)' : ''}`))
consentCmd.command('list').description('consents you gave, and consents given to this node')
  .action(async () => print(await run('consent.list', {}), (x: Contract['consent.list']['result']) => [
    ...x.given.map((g) => `given ${g.id} to ${g.to} until ${g.validUntil}${g.revoked ? ' REVOKED' : ''}: ${g.purpose}`),
    ...x.received.map((r) => `received ${r.id} from ${r.from} until ${r.validUntil}: ${r.purpose}`)
  ].join('\n') || 'no consents'))
const exposureCmd = program.command('exposure').description('credit-exposure queries between certified originators, by the borrower\'s consent')
exposureCmd.command('check').requiredOption('--subject <did>', 'the borrower').option('--grant <id>', 'which of her consents (default the longest-lasting)')
  .option('--deadline <ms>', 'how long to collect answers, ms', '15000').option('--quorum <n>', 'how many originators must answer with their exposure: a number, majority or all', '1')
  .description('ask every certified originator what the borrower owes it (needs a running node); amounts in minor units per currency')
  .action(async (o: { subject: string; grant?: string; deadline: string; quorum: string }) => {
    const quorum = o.quorum === 'majority' || o.quorum === 'all' ? o.quorum : Number(o.quorum)
    const r = await run('exposure.check', { subject: o.subject, grant: o.grant, deadlineMs: Number(o.deadline), quorum })
    const money = (e: { currency: string; loans: number; outstandingPrincipal: string; arrearsInstalments: number; arrearsAmount: string; defaultedLoans: number }) =>
      `${e.currency}: ${e.loans} loan(s), outstanding principal ${e.outstandingPrincipal}, ${e.arrearsInstalments} instalment(s) in arrears (${e.arrearsAmount})${e.defaultedLoans ? `, ${e.defaultedLoans} defaulted` : ''}`
    print(r, (x: Contract['exposure.check']['result']) => [
      `exposure of ${x.subject} under consent ${x.grant.id} (${x.grant.purpose}); ${x.answered} of ${x.asked} originator(s) answered; quorum ${x.quorum.met ? 'met' : 'NOT met'} (${x.quorum.needed} needed)`,
      ...x.own.totals.map((e) => `  own books: ${money(e)}`),
      ...x.originators.map((a) => a.status === 'exposure'
        ? (a.totals.length ? a.totals.map((e) => `  ${a.organization || a.did}: ${money(e)}`).join('\n') : `  ${a.organization || a.did}: nothing owed`)
        : `  ${a.organization || a.did}: ${a.status}${a.reason ? ` (${a.reason})` : ''}`),
      ...(x.combined.length ? x.combined.map((e) => `combined ${money(e)}`) : ['combined: nothing owed'])
    ].join('\n'))
    if (!r.quorum.met) process.exitCode = 1
  })
exposureCmd.command('log').option('--limit <n>', 'most entries', int, 100).option('--subject <did>', 'only queries about this borrower')
  .description('the credit-exposure queries this node was asked, newest first')
  .action(async (o: { limit: number; subject?: string }) => print(await run('exposure.log', { limit: o.limit, subject: o.subject }), (x: Contract['exposure.log']['result']) =>
    x.map((e) => `${new Date(e.at).toISOString()} ${e.outcome} ${e.asker} about ${e.subject ?? '?'} (${e.purpose ?? 'no purpose'}; consent ${e.grant ?? '?'})${e.reason ? `: ${e.reason}` : ''}`).join('\n') || 'no queries'))
const trustlineCmd = program.command('trustline').description('bilateral trustlines: credit between two people, its state signed by both (docs/trustline-spec.md); amounts in minor units')
const shownTrustline = (v: Contract['trustline.show']['result'], history = false): string => [
  `trustline ${v.id} with ${v.partner} in ${v.terms.asset} (you are ${v.me}; ${String(v.state.status)}, ${String(v.state.seq)} update(s))`,
  `  you may owe up to ${String(v.me === 'A' ? v.state.limitAtoB : v.state.limitBtoA)}, you extend ${String(v.me === 'A' ? v.state.limitBtoA : v.state.limitAtoB)}; balance ${v.myBalance} (positive: you owe); you can pay ${v.myAvailable}, they can pay ${v.partnerAvailable}`,
  ...v.proposals.filter((p) => p.status === 'pending' || p.status === 'rejected').map((p) => `  ${p.dir === 'in' ? 'from partner' : 'yours'} ${p.hash} ${p.expired ? 'expired' : p.status}: ${JSON.stringify(p.change)}${p.rejection ? ` (rejected: ${p.rejection.reason || 'no reason'})` : ''}`),
  ...(history ? (v.history ?? []).map((e) => `  #${e.proposal.seq} ${new Date(e.proposal.at).toISOString()} ${e.proposal.proposer} ${JSON.stringify(e.proposal.change)}${e.accept ? '' : ' (unilateral)'}`) : [])
].join('\n')
trustlineCmd.command('open').requiredOption('--with <did>', 'the partner').requiredOption('--asset <code>', 'e.g. CAD').option('--limit <amount>', 'credit you extend to the partner, minor units (the partner must accept)', '0')
  .description('open a trustline and offer the partner credit')
  .action(async (o: { with: string; asset: string; limit: string }) => print(await run('trustline.open', { with: o.with, asset: o.asset, limit: o.limit }), (x: Contract['trustline.open']['result']) => `trustline ${x.id}${x.proposal ? `; proposal ${x.proposal} waits for the partner` : ''}`))
trustlineCmd.command('propose').requiredOption('--id <id>', 'the trustline')
  .option('--pay <amount>', 'pay the partner').option('--request <amount>', 'ask the partner to pay you').option('--limit <amount>', 'set the credit you extend (lowering applies at once)')
  .option('--close', 'close it (zero balance only)').option('--change <json>', 'any change as JSON (docs/trustline-spec.md section 4)').option('--expires <ms>', 'how long the partner has to countersign, ms')
  .description('propose a change; it takes effect when the partner countersigns (lowering your own limit: at once)')
  .action(async (o: { id: string; pay?: string; request?: string; limit?: string; close?: boolean; change?: string; expires?: string }) => {
    const v = await run('trustline.show', { id: o.id })
    const them = v.me === 'A' ? 'B' : 'A'
    const change = o.change !== undefined
      ? jsonArg(o.change)
      : o.pay !== undefined ? { type: 'payment', from: v.me, amount: o.pay }
        : o.request !== undefined ? { type: 'payment', from: them, amount: o.request }
          : o.limit !== undefined ? { type: 'limit', side: v.me === 'A' ? 'BtoA' : 'AtoB', amount: o.limit }
            : o.close ? { type: 'close' } : null
    if (change === null) throw new Error('say what to propose: --pay, --request, --limit, --close or --change')
    print(await run('trustline.propose', { id: o.id, change: change as never, expiresInMs: o.expires === undefined ? undefined : Number(o.expires) }), (x: Contract['trustline.propose']['result']) => `proposal ${x.proposal}: ${x.status}${x.status === 'pending' ? (x.sent ? ' (sent)' : ' (partner offline: sent when it is back)') : ''}`)
  })
trustlineCmd.command('accept').requiredOption('--id <id>', 'the trustline').requiredOption('--proposal <hash>', 'the partner\'s proposal (trustline show)')
  .description('countersign the partner\'s proposal').action(async (o: { id: string; proposal: string }) => print(await run('trustline.accept', { id: o.id, proposal: o.proposal }), (x: Contract['trustline.accept']['result']) => `accepted: update ${x.seq}, state ${x.head}`))
trustlineCmd.command('reject').requiredOption('--id <id>', 'the trustline').requiredOption('--proposal <hash>', 'the partner\'s proposal').option('--reason <text>', 'why')
  .description('reject the partner\'s proposal (signed)').action(async (o: { id: string; proposal: string; reason?: string }) => print(await run('trustline.reject', { id: o.id, proposal: o.proposal, reason: o.reason }), () => 'rejected'))
trustlineCmd.command('show').requiredOption('--id <id>', 'the trustline').description('one trustline with its full signed history')
  .action(async (o: { id: string }) => print(await run('trustline.show', { id: o.id }), (x: Contract['trustline.show']['result']) => shownTrustline(x, true)))
trustlineCmd.command('list').description('your trustlines').action(async () => print(await run('trustline.list', { history: true }), (x: Contract['trustline.list']['result']) => x.map((v) => shownTrustline(v)).join('\n') || 'no trustlines'))
program.command('release').option('--root <dir>', 'a checkout or installed package (default: the one this command runs from)')
  .description('the content hash of the release (what this node\'s ad says it runs): run it in a checkout of the published source to compare')
  .action((o: { root?: string }) => {
    const r = appRelease(o.root !== undefined ? path.resolve(o.root) : undefined)
    print(r, (x: typeof r) => `growr ${x.version} release ${x.hash} (${x.files} files)`)
  })
const market = program.command('market').description('the marketplace network: nodes\' signed ads (needs a running node: growr start)')
market.command('list').addOption(new Option('--service <service>').choices(['originating', 'issuing', 'verification', 'relay'])).option('--role <role>', 'a role the node is certified for').option('--credential-type <type>', 'with --service issuing')
  .description('nodes of the network and what they offer, certified ones first')
  .action(async (o: { service?: 'originating'; role?: string; credentialType?: string }) => print(await run('market.query', o), (r: Contract['market.query']['result']) =>
    r.map((l) => `${l.certified ? 'certified' : 'uncertified'} ${l.organization || '(no name)'} ${l.did}\n  ${l.services.map((x) => x.type === 'issuing' ? `issuing(${x.credentialTypes.join(',')})` : x.type).join(' ') || 'no services'}; ${l.books.length} book(s); release ${l.release.slice(0, 12)}`).join('\n') || 'no ads seen yet'))
market.command('projects').description('open projects across the network, with their originator and book topic key')
  .action(async () => print(await run('market.projects', {}), (r: Contract['market.projects']['result']) =>
    r.map((p) => `${p.name} (${p.bookName}) ${p.amount} ${p.currency}, loans ${p.loanMin}-${p.loanMax}, ${p.minMonths}-${p.maxMonths} months, ${p.rateBps} bps\n  by ${p.organization || p.originator} ${p.certified ? 'certified' : 'uncertified'}; book ${p.book} project ${p.projectId}`).join('\n') || 'no open projects seen yet'))
market.command('join <topic>').description('follow a book a network ad lists; with --as, also ask its originator to admit you (open public projects; else you need an invite)')
  .addOption(new Option('--as <role>', 'ask to be admitted as').choices(['borrower', 'investor']))
  .action(async (topic: string, o: { as?: 'borrower' | 'investor' }) => print(await run('market.join', { topic, role: o.as }), (r: Contract['market.join']['result']) => `following ${r.topic}, listed by ${r.organization || r.listedBy} (${r.certified ? 'certified' : 'uncertified'}); ${r.originator === null ? 'the book has not named its originator yet' : r.listerIsOriginator ? 'the book confirms it as its originator' : `BUT the book's originator is ${r.originator}`}${r.admitted ? `; you may write to it${o.as ? ` as ${o.as}` : ''}` : ''}`))

const nostr = program.command('nostr').description('publishing on Nostr: the organization\'s profile, relays, NIP-99 listings of public projects, listings read back')
nostr.command('profile').description('show the organization\'s Nostr profile and npub; with --name (or any option), set it and queue a new profile event')
  .option('--name <name>').option('--about <text>').option('--picture <url>', 'http(s) URL').option('--website <url>', 'http(s) URL')
  .option('--lud16 <address>', 'Lightning address (name@domain) zaps to the organization are paid through')
  .option('--location <text>', 'where the lending happens, shown on listings (\'\' to clear)')
  .action(async (o: { name?: string; about?: string; picture?: string; website?: string; lud16?: string; location?: string }) => print(await run('nostr.profile', o), (r: Contract['nostr.profile']['result']) =>
    `${r.npub}\n${r.profile ? `${r.profile.name}${r.profile.about ? `: ${r.profile.about}` : ''}${r.profile.website ? `\n${r.profile.website}` : ''}${r.profile.lud16 ? `\nzaps ${r.profile.lud16}` : ''}` : 'no profile yet: growr nostr profile --name NAME --about TEXT'}${r.location ? `\nlocation ${r.location}` : ''}`))
nostr.command('project <book> <project>').description('the key a project\'s listing is signed with; --own-key gives it its own key and profile (bound in the book), --org-key goes back to the organization\'s')
  .option('--own-key', 'sign with the project\'s own NIP-06 key').option('--org-key', 'sign with the organization\'s key')
  .action(async (book: string, projectId: string, o: { ownKey?: boolean; orgKey?: boolean }) => {
    if (o.ownKey && o.orgKey) throw GrowrError.BAD_ARGUMENT('--own-key or --org-key, not both')
    print(await run('nostr.project', { book, project: projectId, ownKey: o.ownKey ? true : o.orgKey ? false : undefined }), (r: Contract['nostr.project']['result']) =>
      `project ${r.project}: ${r.ownKey ? 'its own key' : 'the organization\'s key'} ${r.npub}\nlisting ${r.listing} (zap settings name this address)`)
  })
nostr.command('relays').description('the relays this node publishes to and reads from, with their state; --set, --add or --remove to change them')
  .option('--set <urls>', 'comma-separated ws:// or wss:// URLs (\'\' for none)').option('--add <url>').option('--remove <url>')
  .action(async (o: { set?: string; add?: string; remove?: string }) => print(await run('nostr.relays', { set: o.set === undefined ? undefined : o.set.split(',').map((u) => u.trim()).filter(Boolean), add: o.add, remove: o.remove }), (r: Contract['nostr.relays']['result']) =>
    r.relays.map((s) => `${s.url} ${s.state}${s.pending ? `, ${s.pending} pending` : ''}${s.lastError ? ` (${s.lastError})` : ''}`).join('\n') || 'no relays: growr nostr relays --set wss://relay.example'))
nostr.command('publish').description('publish now: profile, relay list, a listing per public active project of the books you originate, milestone notes')
  .option('--book <topic>', 'only this book').option('--wait <ms>', 'how long to wait for the relays to take them', int, 10_000)
  .action(async (o: { book?: string; wait: number }) => print(await run('nostr.publish', { book: o.book, waitMs: o.wait }), (r: Contract['nostr.publish']['result']) =>
    [`${r.npub}`, ...r.events.map((e) => `${e.what}${e.milestone ? ` ${e.milestone}` : ''} kind ${e.kind} ${e.naddr ?? e.nevent}\n  ${Object.entries(e.relays).map(([u, d]) => `${u} ${d.status}${d.error ? ` (${d.error})` : ''}`).join(', ') || 'no relays'}`),
      ...r.relays.filter((s) => s.state === 'failed').map((s) => `relay ${s.url} failed: ${s.lastError} (retrying)`), ...(r.lastError ? [`last error: ${r.lastError}`] : [])].join('\n')))
nostr.command('listings').description('Growr listings on the configured relays, each verified or not against the book it names')
  .option('--all', 'include inactive and closed listings').option('--wait <ms>', 'how long to wait for the relays while none is known', int, 3000)
  .action(async (o: { all?: boolean; wait: number }) => print(await run('nostr.listings', { all: o.all, waitMs: o.wait }), (r: Contract['nostr.listings']['result']) =>
    r.map((l) => `${l.verified ? 'verified' : 'UNVERIFIED'} ${l.title} (${l.state}) ${l.range ? `loans ${l.range.min}-${l.range.max} ${l.range.currency}` : l.price ? `from ${l.price.amount} ${l.price.currency}` : ''}\n  ${l.summary}\n  ${l.naddr}\n  book ${l.topic} project ${l.projectId}; ${l.reason}`).join('\n') || 'no listings seen'))

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
  .option('--criteria <file>', 'eligibility criteria: JSON array of {fact, operator, value} criteria, or of json-rules-engine rules')
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
      eligibility: o.criteria ? eligibilityFrom(readJson(o.criteria as string), o.currency as string) : [],
      isPublic: !o.private,
      isInviteOnly: !!o.inviteOnly
    }
    print(await run('project.create', { book: o.book as string, terms }), acted('project created'))
  })
for (const action of ['activate', 'deactivate', 'close'] as const) {
  project.command(action).requiredOption('--book <topic>').requiredOption('--project <id>')
    .action(async (o: { book: string; project: string }) => print(await run('project.transition', { ...o, action }), acted(`project ${action}`)))
}
project.command('rail').requiredOption('--book <topic>').requiredOption('--project <id>').addOption(new Option('--network <network>').choices(['mainnet', 'testnet', 'signet', 'regtest']).makeOptionMandatory())
  .addOption(new Option('--rail <rail>').choices(['bitcoin', 'lightning']).default('bitcoin'))
  .option('--confirmations <n>', 'bitcoin: confirmations a payment proof must show', int, 6)
  .option('--min-work <decimal>', 'bitcoin: the least total work of a proof\'s block and following headers (required on mainnet; e.g. confirmations x a recent header\'s work / 4)').description('a draft BTC project is paid on Bitcoin or Lightning: payments are proven, not recorded by hand')
  .action(async (o: Contract['project.rail']['args']) => print(await run('project.rail', { ...o, confirmations: o.rail === 'lightning' ? undefined : o.confirmations }), acted('project rail set')))
project.command('rail-rootstock').requiredOption('--book <topic>').requiredOption('--project <id>')
  .requiredOption('--chain-id <n>', 'the EIP-155 chain id: 30 mainnet, 31 testnet, 33 a local dev chain', int)
  .option('--token <address>', 'the ERC-20 contract (omit for native RBTC)')
  .requiredOption('--unit-exponent <n>', 'one minor unit of the project\'s currency is 10^n base units on chain (RBTC: 10 counts like sats; a token: its decimals less the decimals the book counts)', int)
  .option('--confirmations <n>', 'how deep the payee\'s node waits before it confirms', int, 12)
  .description('a draft RBTC or token project is paid on Rootstock: payments carry receipt proofs, and the payee confirms them')
  .action(async (o: Contract['project.rail.rootstock']['args']) => print(await run('project.rail.rootstock', o), acted('project rail set')))
project.command('update').requiredOption('--book <topic>').requiredOption('--project <id>').requiredOption('--changes <file>', 'JSON object of terms to change')
  .action(async (o: { book: string; project: string; changes: string }) => print(await run('project.update', { book: o.book, project: o.project, changes: readJson(o.changes) as Partial<ProjectTerms> }), acted('project updated')))
project.command('list').requiredOption('--book <topic>')
  .action(async (o: { book: string }) => print(await run('project.list', o), (r: Contract['project.list']['result']) => r.map((p) => `${p.projectId} ${p.status} ${p.terms.name} ${p.confirmedFunding}/${p.terms.amount} ${p.terms.currency}`).join('\n')))

const funding = program.command('funding').description('fund projects (investor)')
funding.command('commit').requiredOption('--book <topic>').requiredOption('--project <id>').requiredOption('--amount <minor>', 'minor units', int)
  .action(async (o: { book: string; project: string; amount: number }) => print(await run('funding.commit', o), acted('funding committed')))
funding.command('cancel').requiredOption('--book <topic>').requiredOption('--funding <id>').option('--reason <text>')
  .description('withdraw an unpaid commitment (investor), or expire one left unpaid 14 days (originator)')
  .action(async (o: { book: string; funding: string; reason?: string }) => print(await run('funding.cancel', o), acted('funding cancelled')))

const loan = program.command('loan').description('loans')
loan.command('apply').requiredOption('--book <topic>').requiredOption('--project <id>').requiredOption('--amount <minor>', 'principal, minor units', int).requiredOption('--months <n>', '', int).option('--purpose <text>')
  .action(async (o: { book: string; project: string; amount: number; months: number; purpose?: string }) => print(await run('loan.apply', o), acted('loan applied')))
for (const action of ['approve', 'reject', 'withdraw', 'default', 'cancel'] as const) {
  const cmd = loan.command(action).requiredOption('--book <topic>').requiredOption('--loan <id>')
  if (action === 'reject' || action === 'cancel') cmd.requiredOption('--reason <text>')
  if (action === 'cancel') cmd.description('originator: call off an approved loan that was never disbursed')
  cmd.action(async (o: { book: string; loan: string; reason?: string }) => print(await run('loan.decide', { ...o, action }), acted(`loan ${action}`)))
}
loan.command('repay').requiredOption('--book <topic>').requiredOption('--loan <id>').option('--reference <text>').description('record the next instalment\'s payment')
  .action(async (o: { book: string; loan: string; reference?: string }) => print(await run('loan.repay', o), (r: Contract['loan.repay']['result']) => `instalment ${r.instalment}: repayment ${r.id} of ${r.amount} recorded`))
loan.command('show').requiredOption('--book <topic>').requiredOption('--loan <id>')
  .action(async (o: { book: string; loan: string }) => print(await run('loan.show', o), (r: Contract['loan.show']['result']) => [`${r.loanId} ${r.status} ${r.amount} ${r.currency} over ${r.months} months, outstanding ${r.outstanding}`, ...r.schedule.map((i) => `  ${i.n} ${i.dueDate} principal ${i.principal} interest ${i.interest} total ${i.total} paid ${i.principalPaid + i.interestPaid}`)].join('\n')))
loan.command('list').requiredOption('--book <topic>')
  .action(async (o: { book: string }) => print(await run('loan.list', o), (r: Contract['loan.list']['result']) => r.map((l) => `${l.loanId} ${l.status} ${l.amount} ${l.currency} ${l.borrower}`).join('\n')))
loan.command('applications').requiredOption('--book <topic>').description('originator: applications waiting for a decision, and whether approving each would be accepted now')
  .action(async (o: { book: string }) => print(await run('loan.applications', o), (r: Contract['loan.applications']['result']) => r.map((l) => `${l.loanId} ${l.amount} ${l.currency} ${l.borrower} ${l.approvable ? 'approvable' + (l.eligibility ? ` (eligible, verified by ${l.eligibility.verifier})` : '') : 'NOT approvable: ' + (l.approvalBlocker ?? '')}`).join('\n') || 'no applications waiting'))

const payment = program.command('payment').description('payment records (rail: manual)')
payment.command('record').requiredOption('--book <topic>').addOption(new Option('--kind <kind>').choices(['funding', 'disbursement', 'repayment', 'distribution']).makeOptionMandatory())
  .requiredOption('--ref <id>', 'the funding or loan paid for').option('--amount <minor>', 'minor units (default: what the book expects)', int).option('--reference <text>', 'bank or transfer reference')
  .action(async (o: Contract['payment.record']['args']) => print(await run('payment.record', o), (r: { id: string; amount: number }) => `payment ${r.id} of ${r.amount} recorded`))
payment.command('confirm').requiredOption('--book <topic>').requiredOption('--payment <id>')
  .action(async (o: { book: string; payment: string }) => print(await run('payment.confirm', o), acted('payment confirmed')))
payment.command('dispute').requiredOption('--book <topic>').requiredOption('--payment <id>').requiredOption('--reason <text>').description('payee: the money did not arrive')
  .action(async (o: { book: string; payment: string; reason: string }) => print(await run('payment.dispute', o), acted('payment disputed')))
payment.command('cancel').requiredOption('--book <topic>').requiredOption('--payment <id>').option('--reason <text>').description('payer: withdraw a payment not yet confirmed; what it reserved is released')
  .action(async (o: { book: string; payment: string; reason?: string }) => print(await run('payment.cancel', o), acted('payment cancelled')))

payment.command('address').requiredOption('--book <topic>').addOption(new Option('--kind <kind>').choices(['funding', 'disbursement', 'repayment', 'distribution']).makeOptionMandatory())
  .requiredOption('--ref <id>', 'the funding or loan').option('--address <address>', 'where you, the payee, want this paid (default: your wallet\'s address for this record; never reused)').description('bitcoin and rootstock rails: post your receiving address for a payment')
  .action(async (o: Contract['payment.address']['args']) => print(await run('payment.address', o), (r: { address: string }) => `receiving address ${r.address} posted`))
payment.command('invoice').requiredOption('--book <topic>').addOption(new Option('--kind <kind>').choices(['funding', 'disbursement', 'repayment', 'distribution']).makeOptionMandatory())
  .requiredOption('--ref <id>', 'the funding or loan').requiredOption('--invoice <bolt11>', 'a BOLT 11 invoice from your node, for the amount due').description('lightning rail: post the invoice a payer pays (signed by the node key you registered)')
  .action(async (o: Contract['payment.invoice']['args']) => print(await run('payment.invoice', o), acted('invoice posted')))
payment.command('prove').requiredOption('--book <topic>').addOption(new Option('--kind <kind>').choices(['funding', 'disbursement', 'repayment', 'distribution']).makeOptionMandatory())
  .requiredOption('--ref <id>', 'the funding or loan paid for').option('--amount <sats>', 'what was paid (default: what the book expects)', int)
  .option('--tx <hex>', 'bitcoin: the raw transaction').option('--txoutproof <hex>', 'bitcoin: Bitcoin Core gettxoutproof output').option('--headers <hex,...>', 'bitcoin: the raw headers after its block, in order')
  .option('--invoice <bolt11>', 'lightning: the invoice the payee posted').option('--preimage <hex>', 'lightning: the preimage your wallet returned')
  .option('--receipt <hex>', 'rootstock: the receipt (RLP)').option('--header <hex>', 'rootstock: the block header (RLP)').option('--tx-index <n>', 'rootstock: the transaction\'s index in the block', int)
  .option('--tx-proof <hex,...>', 'rootstock: transactions-trie proof nodes, root first').option('--receipt-proof <hex,...>', 'rootstock: receipts-trie proof nodes, root first')
  .description('prove a payment on the project\'s rail; every peer checks the proof, and it confirms the payment (on Rootstock, the payee\'s own proof or confirmation does)')
  .action(async (o: { book: string; kind: Contract['payment.prove']['args']['kind']; ref: string; amount?: number; tx?: string; txoutproof?: string; headers?: string; invoice?: string; preimage?: string; receipt?: string; header?: string; txIndex?: number; txProof?: string; receiptProof?: string }) => {
    const list = (s?: string) => s ? s.split(',').map((h) => h.trim().replace(/^0x/, '')).filter(Boolean) : []
    const proof = o.invoice !== undefined
      ? { invoice: o.invoice, preimage: o.preimage ?? '' }
      : o.receipt !== undefined
        ? { rawTx: (o.tx ?? '').replace(/^0x/, ''), receipt: o.receipt.replace(/^0x/, ''), header: (o.header ?? '').replace(/^0x/, ''), txIndex: o.txIndex ?? 0, txProof: list(o.txProof), receiptProof: list(o.receiptProof) }
        : { rawTx: o.tx ?? '', txoutproof: o.txoutproof ?? '', headers: list(o.headers) }
    print(await run('payment.prove', { book: o.book, kind: o.kind, ref: o.ref, amount: o.amount, proof }), (r: { id: string; amount: number }) => `payment ${r.id} of ${r.amount} sats proven`)
  })
payment.command('reorg').requiredOption('--book <topic>').requiredOption('--payment <id>', 'the proven payment')
  .requiredOption('--branch <hex,...>', 'raw headers of the heavier branch, in order, the first building on the fork point')
  .option('--ancestors <hex,...>', 'raw headers of the proven chain from the fork point to the proven block\'s parent, when the branch forks deeper')
  .description('bitcoin rail: a heavier chain without the payment\'s block; every peer checks the work and uncounts the payment')
  .action(async (o: { book: string; payment: string; branch: string; ancestors?: string }) => {
    const list = (s?: string) => s ? s.split(',').map((h) => h.trim()).filter(Boolean) : []
    print(await run('payment.reorg', { book: o.book, payment: o.payment, branch: list(o.branch), ancestors: list(o.ancestors) }), acted('payment reorganised out'))
  })
payment.command('pay').requiredOption('--book <topic>').addOption(new Option('--kind <kind>').choices(['funding', 'disbursement', 'repayment', 'distribution']).makeOptionMandatory())
  .option('--ref <id>', 'the funding or loan paid for (a distribution without --ref pays every investor owed, in one transaction)')
  .option('--amount <minor>', 'minor units, sats on Bitcoin (default: what the book expects; a repayment: the next instalment)', int).option('--fee-rate <sat/vB>', 'bitcoin: instead of the backend\'s estimate', int)
  .description('bitcoin and rootstock rails: pay the payee\'s posted address from this node\'s wallet; the payee\'s node proves it once it is deep enough')
  .action(async (o: Contract['payment.pay']['args']) => print(await run('payment.pay', o), (r: Contract['payment.pay']['result']) => r.rail === 'rootstock'
    ? [
        `paid on Rootstock: ${r.amount} minor units${r.baseUnits !== undefined ? ` (${r.baseUnits} ${r.token ? `units of token ${r.token}` : 'wei'})` : ''}, gas at most ${r.fee} wei${r.note ? `; ${r.note}` : ''}`,
        ...r.outputs.map((x) => `  tx ${x.txid ?? ''}${x.reused ? ' (already made for this payment: not paid twice)' : ''}: ${x.amount} to ${x.address} (${x.kind} ${x.ref})`),
        ...r.skipped.map((x) => `  skipped ${x.ref}: ${x.amount} owed, ${x.reason}`)
      ].join('\n')
    : [
        `paid: tx ${r.txid}${r.reused ? ' (already made for this payment: not paid twice)' : ''}, ${r.amount} sats, fee ${r.fee} sats`,
        ...r.outputs.map((x) => `  ${x.amount} sats to ${x.address} (${x.kind} ${x.ref})`),
        ...r.skipped.map((x) => `  skipped ${x.ref}: ${x.amount} sats owed, ${x.reason}`)
      ].join('\n')))
payment.command('tracked').description('bitcoin and rootstock rails: this wallet\'s transactions and where each stands')
  .action(async () => print(await run('payment.tracked', {}), (r: Contract['payment.tracked']['result']) => r.map((x) => `${'rail' in x ? 'rootstock ' : ''}${x.txid} ${x.status.state}${'confirmations' in x.status ? ' ' + x.status.confirmations : ''}${x.ref ? ' ref ' + x.ref : ''} ${'rail' in x ? `gas at most ${x.fee} wei` : `fee ${x.fee}`}`).join('\n') || 'no transactions yet'))
program.command('lightning').description('the Lightning rail')
  .command('node').requiredOption('--book <topic>').requiredOption('--key <pubkey>', 'your Lightning node\'s public key (33 bytes, hex)').description('register the node key your invoices in this book are signed with')
  .action(async (o: { book: string; key: string }) => print(await run('lightning.node', { book: o.book, nodeKey: o.key }), acted('node key registered')))

program.command('witness').requiredOption('--book <topic>').description('borrower or investor: vouch for today\'s date in the book (lets the originator act on dates, e.g. a default after grace)')
  .action(async (o: { book: string }) => print(await run('clock.witness', o), (r: Contract['clock.witness']['result']) => `vouched for ${new Date(r.ts).toISOString()}`))

program.command('distribute').requiredOption('--book <topic>').description('pay investors the repayment shares owed to them')
  .action(async (o: { book: string }) => print(await run('distribute', o), (r: Contract['distribute']['result']) => r.map((d) => `distribution ${d.id}: ${d.amount} to funding ${d.funding}`).join('\n') || 'nothing owed to investors'))

program.command('wait').requiredOption('--book <topic>').requiredOption('--sub <sub>').requiredOption('--id <id>').option('--status <status>')
  .description('wait until a record (and optionally a status) has replicated here')
  .action(async (o: { book: string; sub: 'loans'; id: string; status?: string }) => print(await run('wait', o), () => 'seen'))

/** Criteria as the builder makes them ({fact, operator, value}) become rules; rules pass as they are. */
function eligibilityFrom (json: unknown, currency: string): ProjectTerms['eligibility'] {
  if (!Array.isArray(json)) throw GrowrError.BAD_ARGUMENT('--criteria must hold a JSON array')
  const criteria = json.every((c) => c && typeof c === 'object' && 'fact' in c && !('conditions' in c))
  return criteria ? criteriaToRules(json as Criterion[], currency) : json as ProjectTerms['eligibility']
}

/** A JSON argument given inline or as @file. */
function jsonArg (v: string): unknown {
  if (v.startsWith('@')) return readJson(v.slice(1))
  try { return JSON.parse(v) } catch { throw GrowrError.BAD_ARGUMENT(`not JSON: ${v.slice(0, 80)} (give JSON inline or @file)`) }
}

const problems = (r: { verified: boolean; problems: Array<{ code: string; message: string }> }) =>
  r.verified ? 'verified' : ['NOT verified:', ...r.problems.map((p) => `  ${p.code}: ${p.message}`)].join('\n')

const vc = program.command('vc').description('verifiable credentials (W3C VC 2.0, eddsa-jcs-2022) and this identity\'s SSCR')
vc.command('issue').requiredOption('--type <type>', 'credential type, e.g. KycCredential').requiredOption('--subject <did>', 'the holder\'s DID').requiredOption('--claims <json>', 'the claims, JSON or @file').option('--valid-until <dateTime>')
  .description('sign a credential with this node\'s identity and print it as JSON')
  .action(async (o: { type: string; subject: string; claims: string; validUntil?: string }) => {
    const r = await run('vc.issue', { type: o.type, subject: o.subject, claims: jsonArg(o.claims) as Record<string, unknown>, validUntil: o.validUntil })
    console.log(JSON.stringify(r, null, 2))
  })
vc.command('enroll').requiredOption('--type <type>').requiredOption('--subject <did>').requiredOption('--claims <json>', 'JSON or @file').option('--valid-until <dateTime>')
  .description('issuer: record what you verified about a subject, so it can request that credential over the network')
  .action(async (o: { type: string; subject: string; claims: string; validUntil?: string }) =>
    print(await run('vc.enroll', { type: o.type, subject: o.subject, claims: jsonArg(o.claims) as Record<string, unknown>, validUntil: o.validUntil }), (r: { subject: string; type: string }) => `${r.subject} may now request a ${r.type}`))
vc.command('unenroll').requiredOption('--type <type>').requiredOption('--subject <did>')
  .description('issuer: remove an enrolment; the credential issued from it, if it stands, is revoked')
  .action(async (o: { type: string; subject: string }) =>
    print(await run('vc.unenroll', { type: o.type, subject: o.subject }), (r: Contract['vc.unenroll']['result']) => `${r.subject} is no longer enrolled for ${r.type}${r.revoked ? `; revoked ${r.revoked}` : ''}`))
vc.command('enrolled').description('issuer: your enrolments (no claims): enrolled, issued, or revoked until you enroll the subject again')
  .action(async () => print(await run('vc.enrolled', {}), (r: Contract['vc.enrolled']['result']) => r.map((e) => `${e.subject} ${e.type} ${e.state.toUpperCase()}${e.credential ? ' ' + e.credential : ''}`).join('\n') || 'none'))
vc.command('request').requiredOption('--issuer <did>').requiredOption('--type <type>')
  .description('ask an issuer on the network for a credential about you; it is kept in your SSCR')
  .action(async (o: { issuer: string; type: string }) => print(await run('vc.request', o), (r: { id: string }) => `received ${r.id}`))
vc.command('import <file>').description('keep a credential about you (JSON file) in your SSCR')
  .action(async (file: string) => print(await run('vc.import', { credential: readJson(file) }), (r: { id: string; type: string }) => `kept ${r.type} ${r.id}`))
vc.command('list').description('the credentials in your SSCR')
  .action(async () => print(await run('vc.list', {}), (r: Contract['vc.list']['result']) => r.map((c) => `${c.id} ${c.type} from ${c.issuer} valid ${c.validFrom}..${c.validUntil ?? ''}`).join('\n') || 'no credentials yet'))
vc.command('show <id>').action(async (id: string) => console.log(JSON.stringify(await run('vc.show', { id }), null, 2)))
vc.command('verify <file>').option('--verification-key <multibase>', 'the issuer\'s Ed25519 key (z6Mk...), for issuers that are not did:key').option('--book <topic>', 'also require issuers this book trusts')
  .description('verify a credential: exit 0 only if it verifies, otherwise print the reasons')
  .action(async (file: string, o: { verificationKey?: string; book?: string }) => {
    const credential = readJson(file) as { credentialStatus?: unknown }
    // without status or a book there is nothing to look up: no node, no identity needed
    const r = !credential.credentialStatus && !o.book
      ? await verifyCredential(credential, { now: Date.now(), verificationKey: o.verificationKey })
      : await run('vc.verify', { credential, verificationKey: o.verificationKey, book: o.book })
    print(r, problems)
    if (!r.verified) process.exitCode = 1
  })
vc.command('revoke <id>').description('issuer: revoke a credential you issued (sets its bit in your published status list); the subject gets no new one until you enroll it again')
  .action(async (id: string) => print(await run('vc.revoke', { id }), (r: { id: string }) => `revoked ${r.id}`))
vc.command('issued').description('issuer: credentials you issued (no claims)')
  .action(async () => print(await run('vc.issued', {}), (r: Contract['vc.issued']['result']) => r.map((c) => `${c.id} ${c.type} to ${c.subject}${c.revoked ? ' REVOKED' : ''}`).join('\n') || 'none'))

// the marketplace network (core/governance/): `--network FILE` sends that definition with the request
const networkArg = (): { network?: unknown } => { const f = program.opts<{ networkFile?: string }>().networkFile; return f ? { network: readJson(f) } : {} }
const shownNetwork = (r: Contract['network.show']['result']) => [`network ${r.name} (version ${r.version}, ${r.source})`, `topic ${r.topic}`, ...r.founders.map((f) => `founder ${f}`), ...(r.description ? [r.description] : [])].join('\n')
const network = program.command('network').description('the marketplace network: founding DIDs, organization certificates (W3C VCs), certificate chains')
network.command('show').description('the network in use and its discovery topic')
  .action(async () => print(await run('network.show', networkArg()), shownNetwork))
network.command('use [file]').option('--default', 'go back to the network the app ships with')
  .description('make a network definition (JSON file) this node\'s network')
  .action(async (file: string | undefined, o: { default?: boolean }) => {
    if (!file && !o.default) throw GrowrError.BAD_ARGUMENT('give a network definition file, or --default')
    print(await run('network.use', { network: o.default ? null : readJson(file as string) }), shownNetwork)
  })
network.command('certify').requiredOption('--subject <did>', 'the DID to certify').requiredOption('--name <name>', 'the organization\'s name')
  .option('--roles <r1,r2>', 'originator, issuer, verifier, investor-organization, relay')
  .option('--governance', 'certify a governance DID (it certifies organizations)')
  .option('--may-certify <r1,r2>', 'with --governance: the roles it may grant (default every organization role; add governance to let it delegate)')
  .option('--valid-until <dateTime>', 'end of validity, e.g. 2027-12-31T00:00:00Z (default one year)')
  .description('sign an organization certificate with this node\'s identity (a founder or governance DID) and print it as JSON')
  .action(async (o: { subject: string; name: string; roles?: string; governance?: boolean; mayCertify?: string; validUntil?: string }) => {
    if (!o.governance && !o.roles) throw GrowrError.BAD_ARGUMENT('give --roles, or --governance')
    const r = await run('network.certify', { ...networkArg(), subject: o.subject, name: o.name, roles: o.roles, governance: !!o.governance, mayCertify: o.mayCertify, validUntil: o.validUntil })
    console.log(JSON.stringify(r, null, 2))
  })
network.command('revoke').requiredOption('--id <certificate id>')
  .description('revoke a certificate you issued (sets its bit in your published status list)')
  .action(async (o: { id: string }) => print(await run('network.revoke', { id: o.id }), (r: Contract['network.revoke']['result']) => `revoked ${r.id} (${r.name}, ${r.subject})`))
network.command('issued').description('the certificates you issued')
  .action(async () => print(await run('network.issued', {}), (r: Contract['network.issued']['result']) => r.map((c) => `${c.id} ${c.subject} ${JSON.stringify(c.name)} ${c.roles.join(',')} until ${c.validUntil}${c.revoked ? ' REVOKED' : ''}`).join('\n') || 'none'))
network.command('chain').option('--set <file>', 'keep this chain (JSON list, root first) as the one certifying this node; it must verify now')
  .description('the certificate chain certifying this node (its ads carry it)')
  .action(async (o: { set?: string }) => {
    if (!o.set) return console.log(JSON.stringify((await run('network.chain', {})).chain, null, 2))
    const json = readJson(o.set) as { chain?: unknown }
    const r = await run('network.chain.set', { ...networkArg(), chain: Array.isArray(json) ? json : json?.chain })
    print(r, (x: Contract['network.chain.set']['result']) => x.ok ? `kept: this node is certified as ${x.organization.roles.join(', ')} (${JSON.stringify(x.organization.name)})` : '')
  })
network.command('verify').requiredOption('--chain <file>', 'a JSON list of certificates, root (founder) first, or { "chain": [...] }')
  .description('verify a certificate chain up to a founding DID, revocation included: exit 0 only if it holds')
  .action(async (o: { chain: string }) => {
    const json = readJson(o.chain) as { chain?: unknown }
    const chain = Array.isArray(json) ? json : json?.chain
    const r = await run('network.verify', { ...networkArg(), chain })
    print(r, (x: Contract['network.verify']['result']) => x.ok
      ? [`certified: ${JSON.stringify(x.organization.name)} ${x.organization.did} as ${x.organization.roles.join(', ')}`,
          ...x.certifiedBy.map((l, i) => `  ${l.issuer}${i === 0 ? ' (founder)' : ''} certified ${l.subject} ${JSON.stringify(l.name)} as ${l.roles.join(', ')} until ${l.validUntil}`)].join('\n')
      : `NOT certified: ${x.reason}`)
    if (!r.ok) process.exitCode = 1
  })
network.command('peers').option('--refresh', 'check every peer\'s chain again now (revocations show at once)')
  .description('the peers connected now and who certified each (the chain in its signed hello; needs a running node)')
  .action(async (o: { refresh?: boolean }) => print(await run('network.peers', { refresh: !!o.refresh }), (r: Contract['network.peers']['result']) => r.map((p) => p.certified
    ? `${p.did} certified ${JSON.stringify(p.organization?.name ?? '')} as ${(p.organization?.roles ?? []).join(', ')}\n  ${p.chain}`
    : `${p.did} NOT certified: ${p.reason ?? ''}`).join('\n') || 'no peers connected'))

program.command('proof').description('payment proofs (offline)')
  .command('verify').addOption(new Option('--rail <rail>').choices(['bitcoin', 'lightning', 'rootstock']).makeOptionMandatory())
  .addOption(new Option('--network <network>', 'bitcoin, lightning: the network (required for them)').choices(['mainnet', 'testnet', 'signet', 'regtest']))
  .option('--tx <hex>', 'bitcoin, rootstock: the raw transaction').option('--txoutproof <hex>', 'bitcoin: Bitcoin Core gettxoutproof output')
  .option('--headers <hex,...>', 'bitcoin: the raw 80-byte headers after the proof\'s block, in order').option('--address <address>', 'bitcoin, rootstock: the address that must be paid')
  .option('--amount <n>', 'bitcoin: at least this many sats; rootstock: wei, or token units with --token').option('--confirmations <n>', 'bitcoin: at least this many (default 1)')
  .option('--invoice <bolt11>', 'lightning: the invoice the payee posted').option('--preimage <hex>', 'lightning: the preimage the payer\'s wallet returned')
  .option('--payee <pubkey>', 'lightning: the payee\'s registered node key').option('--amount-msat <msat>', 'lightning: the amount due').option('--paid-at <time>', 'lightning: when it was paid (ISO 8601 or ms)')
  .option('--chain-id <n>', 'rootstock: the EIP-155 chain id (30 mainnet, 31 testnet, 33 regtest)').option('--receipt <hex>', 'rootstock: the receipt as the receipt trie holds it (RLP)')
  .option('--header <hex>', 'rootstock: the block header (RLP)').option('--tx-index <n>', 'rootstock: the transaction\'s index in the block')
  .option('--tx-proof <hex,...>', 'rootstock: transactions-trie proof nodes, root first').option('--receipt-proof <hex,...>', 'rootstock: receipts-trie proof nodes, root first')
  .option('--token <address>', 'rootstock: the ERC-20 contract (omit for native RBTC)').option('--block-hash <hash>', 'rootstock: the block the header must hash to')
  .description('check a payment proof with the code apply uses: exit 0 only if it holds, else print why')
  .action(async (o: ProofOptions) => {
    const r = await checkProof(o)
    print(JSON.parse(JSON.stringify(r, (_k, v) => typeof v === 'bigint' ? v.toString() : v)), (x: { ok: boolean; reason?: string; txid?: string; amountSats?: string; confirmations?: number; paymentHash?: string; amountMsat?: string; txHash?: string; amount?: string; token?: string | null; from?: string; blockHash?: string }) =>
      !x.ok
        ? `proof refused: ${x.reason}`
        : x.txid
          ? `proof holds: tx ${x.txid} pays ${x.amountSats} sats, ${x.confirmations} confirmations`
          : x.txHash
            ? `proof holds: tx ${x.txHash} from ${x.from} pays ${x.amount} ${x.token ? `units of token ${x.token}` : 'wei'} in block ${x.blockHash} (not a proof of finality)`
            : `proof holds: payment ${x.paymentHash} of ${x.amountMsat} msat`)
    if (!r.ok) process.exitCode = 1
  })

const NETWORKS = ['mainnet', 'testnet', 'signet', 'regtest'] as const
const walletCmd = program.command('wallet').description('this node\'s wallet keys (one BIP-39 seed, kept here encrypted; it never leaves the node except in `growr backup`)')
walletCmd.command('show').addOption(new Option('--network <network>', 'Bitcoin network').choices(NETWORKS).default('regtest'))
  .option('--chain-id <n>', 'Rootstock chain id (30 mainnet, 31 testnet, or a dev chain)', int, 33)
  .description('the watch-only account keys (share the xpub with your organization\'s other devices) and first addresses')
  .action(async (o: { network: typeof NETWORKS[number]; chainId: number }) => print(await run('wallet.show', { network: o.network, chainId: o.chainId }), (r: Contract['wallet.show']['result']) => [
    `bitcoin ${r.bitcoin.network} account ${r.bitcoin.path}`, `  xpub ${r.bitcoin.xpub}`, `  zpub ${r.bitcoin.zpub}`, `  receive ${r.bitcoin.firstReceive.address} (${r.bitcoin.firstReceive.path})`,
    `rootstock chain ${r.rootstock.chainId} account ${r.rootstock.path}`, `  xpub ${r.rootstock.xpub}`, `  address ${r.rootstock.address}`
  ].join('\n')))
walletCmd.command('receive').addOption(new Option('--network <network>', 'Bitcoin network').choices(NETWORKS).makeOptionMandatory())
  .option('--ref <id>', 'the record (funding, loan...) this address is for: its own index').option('--index <i>', 'receive index (default 0)', int)
  .description('a receive address of this node\'s BIP-84 account')
  .action(async (o: { network: typeof NETWORKS[number]; ref?: string; index?: number }) => print(await run('wallet.receive', o), (r: Contract['wallet.receive']['result']) => `${r.address} (${r.path})`))

walletCmd.command('balance').description('the wallet\'s balances, from the backends the running node was started with (--bitcoin-rpc, --rootstock-rpc)')
  .action(async () => {
    const { bitcoin, rootstock } = await run('status', {})
    const rsk = (r: Contract['wallet.balance.rootstock']['result']) => [
      `rootstock chain ${r.chainId}: ${r.rbtc.total} wei in all, ${r.rbtc.spendable} at the spending address ${r.address}`,
      ...r.tokens.map((t) => `  token ${t.token}: ${t.total} units in all, ${t.spendable} at the spending address`),
      ...r.addresses.filter((x) => x.index !== 0).map((x) => `  index ${x.index} ${x.address}: ${x.wei} wei${Object.entries(x.tokens).map(([t, u]) => `, ${u} of ${t}`).join('')}`),
      r.backend.reachable ? `backend ${r.backend.url} at height ${r.backend.height}` : `backend ${r.backend.url} UNREACHABLE: ${r.backend.error ?? ''} (balance as of ${r.at === null ? 'never' : new Date(r.at).toISOString()})`
    ]
    if (!bitcoin && rootstock) return print(await run('wallet.balance.rootstock', {}), (r: Contract['wallet.balance.rootstock']['result']) => rsk(r).join('\n'))
    print(await run('wallet.balance', {}), (r: Contract['wallet.balance']['result']) => [
      `bitcoin ${r.network}: ${r.confirmed} sats confirmed, ${r.unconfirmed} unconfirmed, ${r.immature} immature`,
      r.backend.reachable ? `backend ${r.backend.url} at height ${r.backend.height}` : `backend ${r.backend.url} UNREACHABLE: ${r.backend.error ?? ''} (balance as of the last sync)`,
      ...(r.rootstock ? rsk(r.rootstock) : [])
    ].join('\n'))
  })
walletCmd.command('send').requiredOption('--to <address>', 'the address to pay').requiredOption('--amount <sats>', 'sats').option('--fee-rate <sat/vB>', 'instead of the backend\'s estimate', int)
  .description('pay an address from the Bitcoin wallet')
  .action(async (o: { to: string; amount: string; feeRate?: number }) => print(await run('wallet.send', { to: [{ address: o.to, amount: o.amount }], feeRate: o.feeRate }), (r: Contract['wallet.send']['result']) => `sent: tx ${r.txid}, fee ${r.fee} sats (${r.vsize} vB)`))

const vp = program.command('vp').description('verifiable presentations')
vp.command('create').requiredOption('--challenge <text>', 'the verifier\'s challenge').requiredOption('--domain <text>', 'the verifier\'s domain')
  .option('--ids <ids>', 'comma-separated credential ids').option('--types <types>', 'comma-separated credential types (newest of each)')
  .description('sign a presentation of your credentials for one verifier, and print it')
  .action(async (o: { challenge: string; domain: string; ids?: string; types?: string }) => {
    const r = await run('vp.create', { challenge: o.challenge, domain: o.domain, ids: o.ids?.split(','), types: o.types?.split(',') })
    console.log(JSON.stringify(r, null, 2))
  })
vp.command('verify <file>').requiredOption('--challenge <text>').requiredOption('--domain <text>').option('--book <topic>', 'also require issuers this book trusts')
  .description('verify a presentation: exit 0 only if it verifies')
  .action(async (file: string, o: { challenge: string; domain: string; book?: string }) => {
    const r = await run('vp.verify', { presentation: readJson(file), challenge: o.challenge, domain: o.domain, book: o.book })
    print(r, (x: Contract['vp.verify']['result']) => [problems(x), ...x.credentials.map((c, i) => `  credential ${i + 1}: ${c.verified ? 'verified' : c.problems.map((p) => p.message).join('; ')}`)].join('\n'))
    if (!r.verified) process.exitCode = 1
  })

const trust = program.command('trust').description('which issuers and verifiers a book accepts (originator)')
trust.command('issuer').requiredOption('--book <topic>').requiredOption('--type <type>').requiredOption('--did <did>').option('--remove', 'stop trusting it')
  .action(async (o: { book: string; type: string; did: string; remove?: boolean }) => print(await run('trust.set', { book: o.book, kind: 'issuer', did: o.did, type: o.type, trusted: !o.remove }), () => `${o.remove ? 'no longer trusted' : 'trusted'}: ${o.did} for ${o.type}`))
trust.command('verifier').requiredOption('--book <topic>').requiredOption('--did <did>').option('--remove', 'stop trusting it')
  .action(async (o: { book: string; did: string; remove?: boolean }) => print(await run('trust.set', { book: o.book, kind: 'verifier', did: o.did, trusted: !o.remove }), () => `${o.remove ? 'no longer trusted' : 'trusted'} verifier: ${o.did}`))
trust.command('governance').description('trust issuers of a credential type certified through a governance DID (their chains are checked at each verification)')
  .requiredOption('--book <topic>').requiredOption('--type <type>').requiredOption('--did <did>', 'the governance DID').option('--remove', 'drop the rule')
  .action(async (o: { book: string; type: string; did: string; remove?: boolean }) => print(await run('trust.set', { book: o.book, kind: 'governance', did: o.did, type: o.type, trusted: !o.remove }), () => `${o.remove ? 'no longer trusted' : 'trusted'}: ${o.type} issuers certified through ${o.did}`))
trust.command('list').requiredOption('--book <topic>')
  .action(async (o: { book: string }) => print(await run('trust.list', o), (r: Contract['trust.list']['result']) => [
    ...Object.entries(r.issuers).map(([t, ds]) => `${t}: ${ds.join(', ')}`),
    ...Object.entries(r.governance ?? {}).map(([t, ds]) => `${t}: issuers certified through ${ds.join(' or ')}`),
    `verifiers: ${r.verifiers.join(', ')}`
  ].join('\n')))

// The import only reads files: it needs no node, so it runs here rather than through the contract.
const trustlineGroup = program.commands.find((c) => c.name() === 'trustline') ?? program.command('trustline').description('bilateral credit lines (trustlines)')
trustlineGroup.command('import <dir>')
  .description('read the central service\'s CSV export (users, trustlines, trustline_transactions, pending_payments; MySQL or PostgreSQL) and print the reconciliation report; exit 1 when a discrepancy is found')
  .addOption(new Option('--dialect <dialect>', 'how the CSV was written').choices(['auto', 'mysql', 'postgres']).default('auto'))
  .option('--asset <code>', 'asset code of the export\'s amounts (the service\'s currency)', 'CAD')
  .option('--out <file>', 'also write every imported trustline (opening state, history, pending payments) as JSON to this file')
  .action((dir: string, o: { dialect: 'auto' | 'mysql' | 'postgres'; asset: string; out?: string }) => {
    const { trustlines, report } = importExport(dir, { dialect: o.dialect, asset: o.asset })
    if (o.out) fs.writeFileSync(o.out, importJson(trustlines), { mode: 0o600 })
    if (program.opts<Globals>().json) console.log(importJson(report))
    else {
      const c = report.counts
      console.log(`read ${report.dialect} export: ${c.users} users (${c.deletedUsers} deleted, ${c.disabledUsers} disabled), ${c.trustlines} trustlines (${c.activeTrustlines} active), ${c.transactions} transactions (${c.byType.reversal} reversals), ${c.pendingPayments} pending payments; amounts in ${report.asset}`)
      console.log(`reconciled ${report.reconciled} of ${c.trustlines} trustlines; ${report.discrepancies.length} discrepancies`)
      for (const d of report.discrepancies) console.log(`  trustline ${d.trustlineId} ${d.rowId === null ? 'current_balance' : `row ${d.rowId} ${d.field}`}: expected ${d.expected}, found ${d.found} (${d.reason})`)
      const kinds = new Map<string, number>()
      for (const n of report.notes) kinds.set(n.kind, (kinds.get(n.kind) ?? 0) + 1)
      if (kinds.size > 0) console.log(`notes: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')} (--json lists them)`)
      if (o.out) console.log(`imported trustlines written to ${o.out}`)
    }
    if (report.discrepancies.length > 0) process.exitCode = 1
  })
// from an imported trustline to a confirmed one (core/credit/migration/confirm.ts), and anchors (core/credit/anchor.ts)
trustlineGroup.command('adopt <dir>').description('keep an export\'s trustlines in this node for confirmation (the reconciliation report as with import)')
  .option('--operator <did>', 'the import operator, trusted to attest accounts that have no legacy key').option('--asset <code>', 'asset code of the amounts', 'CAD')
  .action(async (dir: string, o: { operator?: string; asset: string }) => print(await run('trustline.import', { dir: path.resolve(dir), asset: o.asset, operator: o.operator }), (r: Contract['trustline.import']['result']) => `kept ${r.imported} imported trustlines (${r.report.reconciled} reconciled, ${r.report.discrepancies.length} discrepancies)`))
trustlineGroup.command('claim-message').requiredOption('--user <id>', 'your legacy user id').description('the text your old account\'s key signs (EIP-191 personal_sign) to bind it to this DID')
  .action(async (o: { user: string }) => print(await run('trustline.claimDraft', { user: o.user }), (r: Contract['trustline.claimDraft']['result']) => r.message))
trustlineGroup.command('claim').requiredOption('--user <id>', 'your legacy user id').option('--legacy-signature <hex>', 'your old key\'s signature of claim-message')
  .option('--operator <did>', 'the operator who attests the claim').option('--attestation <hex>', 'its signature').option('--with <did>', 'the partner: exchange claims now')
  .description('bind this DID to your old account; with --with, open the imported trustlines you share, unconfirmed')
  .action(async (o: { user: string; legacySignature?: string; operator?: string; attestation?: string; with?: string }) => print(await run('trustline.claim', {
    user: o.user, legacySignature: o.legacySignature, with: o.with, attestation: o.operator && o.attestation ? { operator: o.operator, sig: o.attestation } : undefined
  }), (r: Contract['trustline.claim']['result']) => [`account ${r.claim.claim.legacyUser} bound to ${r.claim.claim.did}`, ...r.opened.map((x) => `  imported trustline ${x}: open, unconfirmed`), ...r.refused.map((x) => `  refused: ${x}`)].join('\n')))
trustlineGroup.command('imports').description('imported trustlines you have an account on, and whether both parties confirmed them')
  .action(async () => print(await run('trustline.imports', {}), (r: Contract['trustline.imports']['result']) => r.map((x) => `legacy ${x.legacyId} ${x.userA.userName} / ${x.userB.userName}: ${x.status}${x.trustline ? ` (trustline ${x.trustline})` : ''}`).join('\n') || 'no imported trustlines of yours'))
trustlineGroup.command('confirm').requiredOption('--legacy <id>', 'the legacy trustline id').description('sign the opening state of an imported trustline (countersign the partner\'s confirm, or propose it)')
  .action(async (o: { legacy: string }) => print(await run('trustline.confirmImport', { legacyId: o.legacy }), (r: Contract['trustline.confirmImport']['result']) => `trustline ${r.id}: ${r.status}`))
trustlineGroup.command('anchor-verify <file>').description('check an anchor proof (JSON) offline').option('--network <name>', 'Bitcoin network', 'mainnet').option('--confirmations <n>', 'least confirmations', '6')
  .action(async (file: string, o: { network: 'mainnet' | 'testnet' | 'signet' | 'regtest'; confirmations: string }) => print(await run('anchor.verify', { proof: JSON.parse(fs.readFileSync(file, 'utf8')), network: o.network, minConfirmations: Number(o.confirmations) }),
    (r: Contract['anchor.verify']['result']) => r.ok ? `anchored: trustline ${r.line} at seq ${r.seq} (state ${r.state}), signed by ${r.signers.length} part${r.signers.length === 1 ? 'y' : 'ies'}, in tx ${r.txid}, block ${r.blockHash}, ${r.confirmations} confirmations` : `REFUSED: ${r.reason}`))

program.command('eligibility').description('check eligibility for a project with your credentials (nothing is written to the book)')
  .requiredOption('--book <topic>').requiredOption('--project <id>')
  .action(async (o: { book: string; project: string }) => print(await run('eligibility.check', o), (r: Contract['eligibility.check']['result']) => [r.eligible ? 'eligible' : 'NOT eligible', ...r.reasons.map((x) => '  ' + x)].join('\n')))

const backup = program.command('backup').description('one encrypted file holding your identity, SSCR and wallet mnemonic (passphrase from GROWR_BACKUP_PASSPHRASE)')
backup.command('create').requiredOption('--out <file>')
  .action(async (o: { out: string }) => {
    const r = await run('backup.create', { passphrase: backupPassphrase() })
    fs.writeFileSync(o.out, Buffer.from(r.backup, 'base64'), { mode: 0o600 })
    print({ file: o.out, credentials: r.credentials }, () => `backup of your identity, wallet seed and ${r.credentials} credentials written to ${o.out}`)
  })
backup.command('restore <file>').description('restore identity, SSCR and wallet seed on a fresh storage directory')
  .action(async (file: string) => {
    const r = await restoreFromBackup(globals().storage, fs.readFileSync(file), backupPassphrase(), { identityPassphrase: process.env.GROWR_PASSPHRASE || undefined })
    const seed = { restored: 'wallet seed restored: same addresses as before', generated: 'this backup holds no wallet seed: a NEW one was generated (new addresses)', kept: 'this backup holds no wallet seed: kept the one already here' }[r.walletSeed]
    print({ did: r.did, walletSeed: r.walletSeed }, () => `restored ${r.did}; ${seed}`)
  })

const custody = program.command('custody').description('custodial SSCR: a custodian node keeps a holder\'s identity and credentials with her signed consent')
custody.command('consent').requiredOption('--custodian <did>').option('--valid-until <dateTime>').requiredOption('--out <file>')
  .description('holder: sign your consent for a custodian to hold your SSCR')
  .action((o: { custodian: string; validUntil?: string; out: string }) => {
    const id = loadIdentity(globals().storage, { passphrase: process.env.GROWR_PASSPHRASE })
    fs.writeFileSync(o.out, JSON.stringify(createConsent({ holder: id, custodian: o.custodian, now: Date.now(), validUntil: o.validUntil }), null, 2))
    print({ file: o.out }, () => `consent for ${o.custodian} written to ${o.out}; give it with your backup file`)
  })
custody.command('enroll').requiredOption('--backup <file>').requiredOption('--consent <file>')
  .description('custodian: take a holder\'s backup (its passphrase in GROWR_BACKUP_PASSPHRASE) under her consent')
  .action(async (o: { backup: string; consent: string }) => {
    const did = await withVault(async (v) => await v.enroll({ backup: fs.readFileSync(o.backup), passphrase: backupPassphrase(), consent: readJson(o.consent) as CustodyConsent }))
    print({ holder: did }, () => `holding the SSCR of ${did}`)
  })
custody.command('list').description('custodian: holders whose SSCR this node keeps')
  .action(async () => print(await withVault(async (v) => v.list()), (r: string[]) => r.join('\n') || 'none'))
custody.command('release').requiredOption('--holder <did>').requiredOption('--out <file>')
  .description('custodian: hand a holder her SSCR back as a backup (passphrase in GROWR_BACKUP_PASSPHRASE) and delete the copy here')
  .action(async (o: { holder: string; out: string }) => {
    const bytes = await withVault(async (v) => await v.release(o.holder, backupPassphrase()))
    fs.writeFileSync(o.out, bytes, { mode: 0o600 })
    print({ file: o.out }, () => `released ${o.holder}: backup written to ${o.out}`)
  })

async function withVault<T> (fn: (v: CustodialVault) => Promise<T>): Promise<T> {
  const storage = globals().storage
  const vault = new CustodialVault({ dir: storage, identity: loadIdentity(storage, { passphrase: process.env.GROWR_PASSPHRASE }) })
  await vault.ready()
  try { return await fn(vault) } finally { await vault.close() }
}

function backupPassphrase (): string {
  const p = process.env.GROWR_BACKUP_PASSPHRASE
  if (!p) throw GrowrError.BAD_ARGUMENT('set GROWR_BACKUP_PASSPHRASE to the backup\'s passphrase')
  return p
}

try {
  await program.parseAsync(process.argv)
} catch (err) {
  const e = err as GrowrError
  console.error(`growr: ${e.code ? e.message : (e.stack ?? String(e))}`)
  process.exit(e.code === 'BAD_ARGUMENT' ? 2 : 1)
}

// Multi-hop payments (core/credit/payment.ts): the payee makes an invoice, the payer pays it over the network.
const payGroup = program.commands.find((c) => c.name() === 'trustline') ?? program.command('trustline')
payGroup.command('invoice').requiredOption('--amount <n>', 'minor units').option('--asset <code>', 'asset code', 'CAD').option('--memo <text>', 'what it is for').option('--expires <ms>', 'how long it can be paid, ms', int)
  .description('make an invoice to be paid over the network; prints it as JSON: hand it to the payer')
  .action(async (o: { amount: string; asset: string; memo?: string; expires?: number }) => print(await run('trustline.invoice', { amount: o.amount, asset: o.asset, memo: o.memo, expiresInMs: o.expires }), (x: Contract['trustline.invoice']['result']) => `invoice for ${x.amount} ${x.asset} to ${x.payee}, hash ${x.hash}\n${JSON.stringify(x)}`))
payGroup.command('pay').requiredOption('--invoice <json>', 'the payee\'s invoice (JSON, from `growr trustline invoice`)').option('--to <did>', 'the payee you expect').option('--amount <n>', 'the amount you expect, minor units').option('--relay <did>', 'the relay to ask for routes (default: one from the ads)')
  .description('pay an invoice over trustlines, through up to 5 hops')
  .action(async (o: { invoice: string; to?: string; amount?: string; relay?: string }) => {
    let invoice: Contract['trustline.pay']['args']['invoice']
    try { invoice = JSON.parse(o.invoice) } catch { throw GrowrError.BAD_ARGUMENT('--invoice is the JSON `growr trustline invoice` printed') }
    if (o.to !== undefined && invoice.payee !== o.to) throw GrowrError.BAD_ARGUMENT(`the invoice pays ${String(invoice.payee)}, not ${o.to}`)
    if (o.amount !== undefined && invoice.amount !== o.amount) throw GrowrError.BAD_ARGUMENT(`the invoice is for ${String(invoice.amount)}, not ${o.amount}`)
    print(await run('trustline.pay', { invoice, relay: o.relay }), (x: Contract['trustline.pay']['result']) => x.status === 'settled' ? `paid over ${x.hops} hops; proof of payment (preimage) ${x.preimage}` : `refused after ${x.attempts} attempt(s): no route could carry it (nothing moved)`)
  })
payGroup.command('announce').requiredOption('--id <id>', 'the trustline').option('--relay <did>', 'the relay (default: one from the ads)')
  .description('announce a trustline to a relay, signed by both parties (limits and cap only, never the balance)')
  .action(async (o: { id: string; relay?: string }) => print(await run('trustline.announce', { id: o.id, relay: o.relay }), (x: Contract['trustline.announce']['result']) => `${x.stored ? 'announced to' : 'already held by'} ${x.relay}${x.cap ? `, cap ${x.cap}` : ''}`))
