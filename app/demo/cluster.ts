/**
 * The plumbing the demos share: a temporary root with one storage directory per role, a private
 * HyperDHT (`growr testnet`), long-running `growr start` nodes, the `growr` CLI run as one role
 * against its node, and the teardown of all of it. Each demo (run.ts, bitcoin.ts, rootstock.ts)
 * keeps only its own steps.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { call } from '../rpc.ts'

const BIN = fileURLToPath(new URL('../cli/bin.js', import.meta.url))

function freeUdpPort (): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4')
    s.bind(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
  })
}

function sleep (ms: number): Promise<void> { return new Promise((resolve) => setTimeout(resolve, ms)) }

/** Prints a numbered step of a demo, after a blank line. */
export function step (text: string): void { console.log(`\n${text}`) }

/**
 * Retries a command that fails only because a record has not replicated yet (NOT_FOUND in the
 * CLI's stderr); any other failure, or one past `ms` milliseconds, is thrown.
 */
export async function retry<T> (fn: () => Promise<T>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    try { return await fn() } catch (err) {
      if (!/NOT_FOUND/.test((err as { stderr?: string }).stderr ?? '') || Date.now() > deadline) throw err
      await sleep(300)
    }
  }
}

/**
 * Polls `check` until it holds.
 * @throws Error `timed out waiting for <what>` after `ms` milliseconds
 */
export async function until (what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(300)
  }
}

/** Something the cluster closes after its nodes, such as the demo's chain. */
export interface Closable { close (): Promise<void> }

/**
 * One demo's processes and files. Create it, `startTestnet()`, `init`/`start` each role, drive
 * them with `growr(...)`, and always `close()` it: close stops every process it started (newest
 * first; SIGTERM, then SIGKILL after 5 s), then what it was handed with `own`, then removes the
 * root directory.
 */
export class DemoCluster<Role extends string> {
  /** the temporary directory holding every role's storage and the demo's files */
  readonly root: string
  /** the testnet's `host:port`, set by startTestnet */
  bootstrap = ''
  private children: ChildProcess[] = []
  private owned: Closable[] = []

  /** @param prefix the temporary directory's name prefix, e.g. 'growr-demo-' */
  constructor (prefix: string) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  }

  /** The storage directory of `who`. */
  storage (who: Role): string { return path.join(this.root, who) }

  /** Hands `resource` to the cluster: close() closes it after the nodes. @returns it */
  own<T extends Closable> (resource: T): T {
    this.owned.push(resource)
    return resource
  }

  /**
   * Starts a long-running growr process and resolves once it printed a line matching `ready`.
   * @param env its environment (secrets go here, never in `args`)
   * @returns the process and that line
   * @throws Error with its output when it exits first
   */
  daemon (args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<{ child: ChildProcess, line: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
      this.children.push(child)
      let out = ''
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d
        const line = out.split('\n').find((l) => ready.test(l))
        if (line) resolve({ child, line })
      })
      child.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d })
      child.once('exit', (code) => reject(new Error(`growr ${args.join(' ')} exited with ${code}:\n${out}`)))
    })
  }

  /** Starts `growr testnet` on a free loopback UDP port and sets `bootstrap`. @returns the bootstrap `host:port` */
  async startTestnet (): Promise<string> {
    const port = await freeUdpPort()
    await this.daemon(['testnet', '--port', String(port), '--json'], /bootstrap/)
    this.bootstrap = `127.0.0.1:${port}`
    return this.bootstrap
  }

  /**
   * Starts `growr start` for `who` (after its `init`) and waits for its ready event.
   * @param args more `start` options, e.g. a chain backend
   * @param env its environment, e.g. an RPC password
   */
  async start (who: Role, args: string[] = [], env?: NodeJS.ProcessEnv): Promise<void> {
    await this.daemon(['--storage', this.storage(who), '--bootstrap', this.bootstrap, '--json', 'start', ...args], /"event":"ready"/, env)
  }

  /**
   * Runs one CLI command as `who`, against that role's running node, and prints it unless `quiet`.
   * @returns its --json output (null when it printed nothing)
   * @throws Error with the CLI's stderr (also as `.stderr`, for retry) when it fails
   */
  growr (who: Role, args: string[], quiet = false): Promise<any> {
    if (!quiet) console.log(`  ${who.padEnd(10)} $ growr ${args.join(' ')}`)
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [BIN, '--storage', this.storage(who), '--bootstrap', this.bootstrap, '--json', ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(new Error(`growr ${args.join(' ')} failed: ${stderr || err.message}`), { stderr }))
        else resolve(stdout.trim() ? JSON.parse(stdout) : null)
      })
    })
  }

  /**
   * Calls a contract method on `who`'s running node over its local socket, for what the CLI has
   * no command for (lists).
   * @throws Error when the node is not running; GrowrError when the node refuses
   */
  async call (who: Role, method: string, params: unknown): Promise<any> {
    const r = await call(this.storage(who), method, params)
    if (r === null) throw new Error(`the ${who} node is not running`)
    return r.result
  }

  /**
   * Asks each of `roles` for `book show` until their view hashes agree (30 s at most), then prints
   * each role's view.
   * @param quiet do not print the `book show` commands
   * @returns the common view hash
   * @throws Error `views differ: ...` when they still differ after 30 s
   */
  async converge (roles: Role[], topic: string, quiet = false): Promise<string> {
    const deadline = Date.now() + 30_000
    let shows: any[] = []
    while (true) {
      shows = await Promise.all(roles.map((who) => this.growr(who, ['book', 'show', '--book', topic], quiet)))
      if (shows.every((s) => s.hash === shows[0].hash) || Date.now() > deadline) break
      await sleep(500)
    }
    roles.forEach((who, i) => console.log(`  ${who.padEnd(10)} view ${shows[i].hash}  ${JSON.stringify(shows[i].summary)}`))
    if (!shows.every((s) => s.hash === shows[0].hash)) throw new Error('views differ: ' + shows.map((s) => s.hash).join(' '))
    return shows[0].hash
  }

  /** Stops every process (newest first), closes what it owns (newest first), removes the root. Never throws for a process. */
  async close (): Promise<void> {
    for (const c of this.children.reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue
      c.removeAllListeners('exit')
      let timer: NodeJS.Timeout | undefined
      const exited = new Promise((resolve) => c.once('exit', resolve))
      c.kill('SIGTERM')
      // a pending 5 s timer would keep the demo's process alive after everything has exited
      await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, 5000) })])
      clearTimeout(timer)
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    }
    this.children = []
    for (const r of this.owned.reverse()) await r.close()
    this.owned = []
    fs.rmSync(this.root, { recursive: true, force: true })
  }
}

/**
 * Runs one demo: `main` gets a fresh cluster and returns the converged view hash. Prints
 * `demo: converged <hash> on 3 peers` after closing the cluster, or `demo failed: <reason>` and
 * exits 1.
 * @param prefix the cluster's temporary directory prefix
 */
export async function runDemo<Role extends string> (prefix: string, main: (cluster: DemoCluster<Role>) => Promise<string>): Promise<void> {
  const cluster = new DemoCluster<Role>(prefix)
  try {
    const hash = await main(cluster)
    await cluster.close()
    console.log(`\ndemo: converged ${hash} on 3 peers`)
  } catch (err) {
    console.error(`\ndemo failed: ${(err as Error).message}`)
    await cluster.close()
    process.exit(1)
  }
}
