/**
 * The core worker: one Session (app/session.ts) on a storage directory, driven by its parent
 * process over stdin/stdout. The same entry serves the desktop shell and the headless host; it
 * runs under Bare (`node_modules/.bin/bare app/worker.ts`, the default, see app/worker/spawn.ts)
 * and under Node (`node --import tsx app/worker.ts`).
 *
 * Channel: newline-delimited JSON (app/worker/framing.ts), the session's messages unchanged:
 *   parent -> worker  request  {"id":1,"method":"session.status","params":{}}
 *   worker -> parent  response {"id":1,"result":{...}} | {"id":1,"error":{"code":"...","message":"..."}}
 *                     event    {"event":"book.changed","data":{"book":"<topic>"}}
 * Requests are answered concurrently, so responses may come out of order; match them by id.
 * stdout carries nothing else (console.log is sent to stderr); logs go to stderr.
 * Settings: see app/worker/config.ts (--storage/GROWR_STORAGE, --bootstrap/GROWR_BOOTSTRAP,
 * --announce/GROWR_ANNOUNCE=1, GROWR_PASSPHRASE, and a Bitcoin backend: --bitcoin-rpc URL
 * --bitcoin-network NAME, password in GROWR_BITCOIN_RPC_PASSWORD; the node then runs its Bitcoin
 * rail and pushes `bitcoin.payment`, `bitcoin.backend` and `bitcoin.sync` events; likewise a
 * Rootstock backend: --rootstock-rpc URL --rootstock-chain-id N, `rootstock.*` events).
 * Lifetime: on stdin end, SIGTERM or SIGINT the session closes (services, then the node) and the
 * worker exits 0; it exits 1 when the session cannot open (e.g. the storage is locked by another
 * node) or the arguments are wrong.
 * Runs under Bare and Node: no `node:` imports.
 */
import { Session, type Request, type Response } from './session.ts'
import { workerProcess } from './worker/process.ts'
import { readConfig } from './worker/config.ts'
import { createLineDecoder, encodeLine } from './worker/framing.ts'

const proc = await workerProcess()

let logging = true
let ended = false // stdout is closed or closing: no more messages
let closing: Promise<void> | null = null
let exiting: Promise<never> | null = null

function log (...parts: unknown[]): void {
  if (!logging) return
  proc.stderr.write('growr-worker: ' + parts.map((p) => p instanceof Error ? (p.stack ?? p.message) : typeof p === 'string' ? p : safeJson(p)).join(' ') + '\n')
}
// a dependency printing to stdout would corrupt the channel
console.log = console.info = console.debug = log

let config
try {
  config = readConfig(proc.args, proc.env)
} catch (err) {
  log((err as Error).message)
  await exitFlushed(1)
  throw err // not reached: the process is gone
}

const session = new Session({ storage: config.storage, bootstrap: config.bootstrap, announce: config.announce, passphrase: config.passphrase, bitcoin: config.bitcoin, rootstock: config.rootstock })

function send (message: Response | object): void {
  if (!ended) proc.stdout.write(encodeLine(message))
}

session.on('event', send)

const decode = createLineDecoder((line) => {
  let req: Partial<Request>
  try {
    req = JSON.parse(line)
  } catch {
    send({ id: null, error: { code: 'BAD_ARGUMENT', message: 'request is not JSON' } })
    return
  }
  if (typeof req !== 'object' || req === null || typeof req.method !== 'string') {
    send({ id: (req as { id?: unknown } | null)?.id ?? null, error: { code: 'BAD_ARGUMENT', message: 'a request is {id, method, params}' } })
    return
  }
  void session.answer(req as Request).then(send)
}, { onoversize: (bytes) => log(`dropped a ${bytes}-byte line: over the limit`) })

proc.stdin.on('data', decode)
proc.stdin.on('end', () => { void shutdown('stdin ended') })
proc.stdin.on('error', (err) => { log('stdin', err); void shutdown('stdin failed') })
proc.stdout.on('error', () => { ended = true; void shutdown('stdout closed') }) // the parent is gone
proc.onSignal('SIGTERM', () => { void shutdown('SIGTERM') })
proc.onSignal('SIGINT', () => { void shutdown('SIGINT') })

try {
  await session.ready()
  log(`ready on ${config.storage} (${proc.runtime}${session.node ? ', ' + session.node.did : ', no identity yet'})`)
} catch (err) {
  // the stack for whoever reads the log, then one line the parent can quote
  log(err)
  const locked = /lock/i.test((err as Error).message) ? ' (is another Growr node using this storage directory?)' : ''
  log(`the session did not open: ${(err as Error).message}${locked}`)
  await exitFlushed(1)
}

function shutdown (why: string): Promise<void> {
  closing ??= (async () => {
    log(`closing: ${why}`)
    try {
      await session.close()
    } catch (err) {
      log('close', err)
    }
    await exitFlushed(0)
  })()
  return closing
}

/**
 * Ends stdout and stderr and exits once both are flushed: under Bare, writes to a pipe are
 * asynchronous and exit() would drop the last responses and the log line the parent quotes.
 */
function exitFlushed (code: number): Promise<never> {
  exiting ??= flushThenExit(code)
  return exiting
}

function flushThenExit (code: number): Promise<never> {
  const streams = [...(ended ? [] : [proc.stdout]), proc.stderr]
  ended = true
  logging = false
  let left = streams.length
  for (const stream of streams) {
    let done = false
    const one = () => {
      if (done) return
      done = true
      if (--left === 0) proc.exit(code)
    }
    stream.once('finish', one)
    stream.once('close', one)
    stream.end()
  }
  return new Promise<never>(() => {}) // exit() ends the process
}

function safeJson (v: unknown): string {
  try { return JSON.stringify(v) } catch { return String(v) }
}
