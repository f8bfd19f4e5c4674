/**
 * Starts the core worker (app/worker.ts) as a child process and talks to it: the parent side
 * used by the headless host and the desktop shell. Node only (child_process).
 *
 * Runtime: 'bare' (default) runs the `bare` binary of the `bare-runtime-<platform>-<arch>`
 * package (Bare 1.31, which loads the whole stack; pear-runtime's bundled Bare 1.27 does not,
 * see shared STACK.md), falling back to `bare` on PATH; 'node' runs `node --import tsx`.
 * The channel is the worker's stdin/stdout in NDJSON (app/worker/framing.ts); the handle numbers
 * its own requests, so callers never see or choose wire ids. The worker's stderr is its log.
 * The worker runs in its own process group (POSIX) and lives exactly as long as its stdin: the
 * parent ends it with close(), and a parent that dies ends it too.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { GrowrError, type GrowrErrorCode } from '../../core/errors.ts'
import type { BootstrapNode } from '../../core/network/swarm.ts'
import type { Api, EventMessage } from '../session.ts'
import { createLineDecoder, encodeLine } from './framing.ts'
import { BACKEND_ENV, bitcoinWorkerArgs, rootstockWorkerArgs, type HostBitcoinConfig, type HostRootstockConfig } from './backend-args.ts'

export type WorkerRuntime = 'bare' | 'node'

/** What the worker runs on and under. */
export interface SpawnOptions {
  /** storage directory (made absolute against the current directory) */
  storage: string
  /** private DHT bootstrap nodes, as `host:port[,host:port]` or parsed; absent = public DHT */
  bootstrap?: string | BootstrapNode[]
  /** announce the node's DID for its issuing/verification services */
  announce?: boolean
  /** default 'bare' */
  runtime?: WorkerRuntime
  /** unlocks an encrypted identity; passed in the environment, never on the command line */
  passphrase?: string
  /** receives each line the worker logs on stderr; default: this process's stderr, prefixed */
  onLog?: (line: string) => void
  /** how long close() waits for a clean exit before SIGKILL (ms, default 10 000) */
  closeTimeoutMs?: number
  /** a Bitcoin backend: arguments for the worker, its password in the worker's environment only */
  bitcoin?: HostBitcoinConfig
  /** a Rootstock backend */
  rootstock?: HostRootstockConfig
}

/** How a request ended: the session's response without its id. */
export type Outcome = { result: unknown } | { error: { code: string; message: string } }

/** How the worker process ended: its exit code, or the signal that killed it. */
export interface ExitInfo { code: number | null; signal: NodeJS.Signals | null }

const WORKER = fileURLToPath(new URL('../worker.ts', import.meta.url))
const require = createRequire(import.meta.url)
const OWN_ENV = ['GROWR_STORAGE', 'GROWR_BOOTSTRAP', 'GROWR_ANNOUNCE', 'GROWR_PASSPHRASE', ...BACKEND_ENV]
const LOG_TAIL = 20

/**
 * The `bare` executable this machine can run: the prebuilt binary from the platform's
 * bare-runtime package, else `bare` on PATH.
 */
export function bareBinary (): string {
  try {
    const pkg = require.resolve(`bare-runtime-${process.platform}-${process.arch}/package`)
    return path.join(path.dirname(pkg), 'bin', process.platform === 'win32' ? 'bare.exe' : 'bare')
  } catch {
    return 'bare'
  }
}

/** The command line that runs the worker under `runtime`. */
export function workerCommand (runtime: WorkerRuntime): { file: string; args: string[] } {
  if (runtime === 'bare') return { file: bareBinary(), args: [WORKER] }
  return { file: process.execPath, args: ['--import', import.meta.resolve('tsx'), WORKER] }
}

/**
 * A running worker. Emits 'event' (an EventMessage: `{ event, data }`) for every event the
 * session pushes, 'log' (a line of the worker's stderr) and 'exit' (ExitInfo) once.
 */
export class WorkerHandle extends EventEmitter {
  readonly runtime: WorkerRuntime
  /** resolves when the process has exited, however it ended */
  readonly exited: Promise<ExitInfo>
  private readonly child: ChildProcess
  private readonly pending = new Map<number, (o: Outcome) => void>()
  private readonly closeTimeoutMs: number
  private readonly logTail: string[] = []
  private nextId = 1
  private exit: ExitInfo | null = null

  constructor (child: ChildProcess, runtime: WorkerRuntime, closeTimeoutMs: number) {
    super()
    this.child = child
    this.runtime = runtime
    this.closeTimeoutMs = closeTimeoutMs
    this.exited = new Promise((resolve) => {
      const done = (info: ExitInfo) => {
        if (this.exit) return
        this.exit = info
        const why = this.exitReason()
        for (const resolveOne of this.pending.values()) resolveOne({ error: { code: 'WORKER_EXITED', message: why } })
        this.pending.clear()
        resolve(info)
        this.emit('exit', info)
      }
      // 'close', not 'exit': it comes after stdout and stderr are drained, so the last log line is in
      child.once('close', (code, signal) => done({ code, signal }))
      child.once('error', (err) => { this.keepLog(`spawn failed: ${err.message}`); done({ code: null, signal: null }) })
    })
    child.stdin?.on('error', () => {}) // EPIPE once the worker is gone; 'exit' reports it
    child.stdout?.on('data', createLineDecoder((line) => this.onLine(line)))
    child.stderr?.on('data', createLineDecoder((line) => this.keepLog(line)))
  }

  /** The worker's process id (undefined if it could not start). */
  get pid (): number | undefined { return this.child.pid }

  /** True once the process has exited. */
  get closed (): boolean { return this.exit !== null }

  /**
   * Sends one request and resolves with the session's outcome; never rejects. If the worker
   * exits first, the outcome is the error `WORKER_EXITED` (its message quotes the worker's last
   * log line).
   */
  exchange (method: string, params: unknown = {}): Promise<Outcome> {
    if (this.exit || !this.child.stdin?.writable) return Promise.resolve({ error: { code: 'WORKER_EXITED', message: this.exitReason() } })
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      this.child.stdin!.write(encodeLine({ id, method, params }))
    })
  }

  /**
   * Calls a session method (app/session.ts `Api`).
   * @throws GrowrError with the session's code (BAD_ARGUMENT, NO_IDENTITY, ..., WORKER_EXITED)
   */
  async request<M extends keyof Api> (method: M, params?: Api[M]['args']): Promise<Api[M]['result']> {
    const outcome = await this.exchange(method, params ?? {})
    if ('error' in outcome) throw new GrowrError(outcome.error.code as GrowrErrorCode, outcome.error.message)
    return outcome.result as Api[M]['result']
  }

  /**
   * Ends the worker: closes its stdin (it closes the session and exits 0), and SIGKILLs it if it
   * has not exited after `closeTimeoutMs`.
   * @returns how it exited
   */
  async close (): Promise<ExitInfo> {
    if (this.exit) return this.exit
    this.child.stdin?.end()
    const timer = setTimeout(() => {
      this.keepLog(`no exit after ${this.closeTimeoutMs} ms: SIGKILL`)
      this.child.kill('SIGKILL')
    }, this.closeTimeoutMs)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }

  override on (event: 'event', fn: (msg: EventMessage) => void): this
  override on (event: 'log', fn: (line: string) => void): this
  override on (event: 'exit', fn: (info: ExitInfo) => void): this
  override on (event: string, fn: (...args: any[]) => void): this { return super.on(event, fn) }

  private onLine (line: string): void {
    let msg: { id?: unknown; event?: unknown; result?: unknown; error?: { code: string; message: string } }
    try {
      msg = JSON.parse(line)
    } catch {
      this.keepLog(`(stdout) ${line}`) // not a message: keep it as a log line rather than lose it
      return
    }
    if (typeof msg.event === 'string') {
      this.emit('event', msg as EventMessage)
      return
    }
    const resolve = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined
    if (!resolve) return
    this.pending.delete(msg.id as number)
    resolve(msg.error ? { error: msg.error } : { result: msg.result })
  }

  private keepLog (line: string): void {
    this.logTail.push(line)
    if (this.logTail.length > LOG_TAIL) this.logTail.shift()
    this.emit('log', line)
  }

  private exitReason (): string {
    const how = this.exit ? (this.exit.signal ? `was killed by ${this.exit.signal}` : `exited with code ${this.exit.code}`) : 'is not running'
    const last = this.logTail.at(-1)?.replace(/^growr-worker: /, '')
    return `the core worker ${how}${last ? ': ' + last : ''}`
  }
}

/**
 * Starts a worker on `opts.storage`. Returns at once; requests sent before the session is open
 * wait for it. Watch 'exit' (or `exited`) to learn that it stopped.
 */
export function spawnWorker (opts: SpawnOptions): WorkerHandle {
  const runtime = opts.runtime ?? 'bare'
  const { file, args } = workerCommand(runtime)
  args.push('--storage', path.resolve(opts.storage))
  const bootstrap = typeof opts.bootstrap === 'string' ? opts.bootstrap : opts.bootstrap?.map((b) => `${b.host}:${b.port}`).join(',')
  if (bootstrap) args.push('--bootstrap', bootstrap)
  if (opts.announce) args.push('--announce')
  const btc = opts.bitcoin ? bitcoinWorkerArgs(opts.bitcoin) : null
  if (btc) args.push(...btc.args)
  if (opts.rootstock) args.push(...rootstockWorkerArgs(opts.rootstock).args)
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const k of OWN_ENV) delete env[k] // the options are the whole truth, not the parent's environment
  if (opts.passphrase) env.GROWR_PASSPHRASE = opts.passphrase
  if (btc) Object.assign(env, btc.env)
  // its own process group: a terminal's Ctrl-C reaches only the parent, which closes the worker in
  // order; if the parent dies, the worker sees its stdin end and closes itself
  const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: process.platform !== 'win32' })
  const handle = new WorkerHandle(child, runtime, opts.closeTimeoutMs ?? 10_000)
  handle.on('log', opts.onLog ?? ((line: string) => { process.stderr.write(`[worker ${child.pid ?? '?'}] ${line}\n`) }))
  return handle
}
