/**
 * The few process facilities the worker needs, from whichever runtime runs it: Node's global
 * `process`, or `bare-process` under Bare (which has no `process` global). Both give stdin as a
 * readable stream (a pipe when a parent spawned us), stdout/stderr as writable streams, argv
 * (runtime, script, then arguments), env, signal events and exit.
 * Runs under Bare and Node: no `node:` imports.
 */

/** The part of a readable stream the worker reads. */
export interface InStream {
  on (event: 'data', fn: (chunk: Uint8Array | string) => void): unknown
  on (event: 'end' | 'close', fn: () => void): unknown
  on (event: 'error', fn: (err: Error) => void): unknown
}

/** The part of a writable stream the worker writes. */
export interface OutStream {
  write (data: string): boolean
  end (): unknown
  once (event: 'finish' | 'close' | 'drain', fn: () => void): unknown
  on (event: 'error', fn: (err: Error) => void): unknown
}

/** The runtime's process, narrowed to what the worker uses. */
export interface WorkerProcess {
  readonly runtime: 'bare' | 'node'
  readonly stdin: InStream
  readonly stdout: OutStream
  readonly stderr: OutStream
  /** arguments after the runtime and the script */
  readonly args: string[]
  readonly env: Record<string, string | undefined>
  onSignal (signal: 'SIGTERM' | 'SIGINT', fn: () => void): void
  exit (code: number): void
}

interface RawProcess {
  stdin: InStream
  stdout: OutStream
  stderr: OutStream
  argv: string[]
  env: Record<string, string | undefined>
  on (event: string, fn: () => void): unknown
  exit (code: number): void
}

/** The current runtime's process (loads `bare-process` under Bare). */
export async function workerProcess (): Promise<WorkerProcess> {
  const bare = typeof (globalThis as { Bare?: unknown }).Bare === 'object'
  const raw = bare
    ? (await import('bare-process') as unknown as { default: RawProcess }).default
    : (globalThis as unknown as { process: RawProcess }).process
  return {
    runtime: bare ? 'bare' : 'node',
    stdin: raw.stdin,
    stdout: raw.stdout,
    stderr: raw.stderr,
    args: raw.argv.slice(2),
    env: raw.env,
    onSignal (signal, fn) { raw.on(signal, fn) },
    exit (code) { raw.exit(code) }
  }
}
