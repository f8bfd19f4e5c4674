/**
 * `npm start`: the headless host for a browser on this machine. Builds the UI when ui/dist is
 * missing or stale (app/host/ui-build.ts), starts the host (app/host/server.ts) with its core
 * worker, prints
 *   growr: open http://127.0.0.1:<port>/#token=<token>
 *   growr: core worker runs under <bare|node> (pid <pid>), storage <dir>
 * on stdout, and closes everything on SIGINT/SIGTERM (exit 0). Exits 1 when it cannot start or
 * when the core worker stops on its own.
 *
 * Options (each beats its environment variable):
 *   --storage DIR       GROWR_STORAGE      default: the platform's data directory (core/storage-dir.ts)
 *   --bootstrap H:P,..  GROWR_BOOTSTRAP    private DHT; default: the public HyperDHT
 *   --port N            GROWR_PORT         default 4977, or any free port when 4977 is taken
 *   --announce          GROWR_ANNOUNCE=1   announce the node's DID for its services
 *   --runtime bare|node GROWR_RUNTIME      the worker's runtime, default bare
 *   --ui DIR            GROWR_UI_DIR       serve this prebuilt bundle instead of building ui/
 * GROWR_PASSPHRASE unlocks an encrypted identity. Chain backends, read as the worker reads them
 * (app/worker/config.ts): --bitcoin-rpc URL --bitcoin-network NAME [--bitcoin-user U]
 * [--bitcoin-bech32 P] [--bitcoin-birthday H] [--bitcoin-poll-ms MS] (GROWR_BITCOIN_*; the
 * password only in GROWR_BITCOIN_RPC_PASSWORD), --rootstock-rpc URL --rootstock-chain-id N
 * [--rootstock-poll-ms MS] (GROWR_ROOTSTOCK_*).
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { resolveStorageDir } from '../core/storage-dir.ts'
import { startHost, type Host } from './host/server.ts'
import { buildUi, needsBuild } from './host/ui-build.ts'
import type { WorkerRuntime } from './worker/spawn.ts'
import { readConfig } from './worker/config.ts'

const BACKEND_FLAGS = ['bitcoin-rpc', 'bitcoin-network', 'bitcoin-user', 'bitcoin-bech32', 'bitcoin-birthday', 'bitcoin-poll-ms', 'rootstock-rpc', 'rootstock-chain-id', 'rootstock-poll-ms'] as const

const DEFAULT_PORT = 4977
const REPO = fileURLToPath(new URL('..', import.meta.url))

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      storage: { type: 'string' },
      bootstrap: { type: 'string' },
      port: { type: 'string' },
      announce: { type: 'boolean' },
      runtime: { type: 'string' },
      ui: { type: 'string' },
      ...Object.fromEntries(BACKEND_FLAGS.map((f) => [f, { type: 'string' as const }]))
    },
    strict: true
  })
  // the backends as the worker itself would read them from these flags and the environment
  const given = values as Record<string, string | boolean | undefined>
  const { bitcoin, rootstock } = readConfig(BACKEND_FLAGS.flatMap((f) => typeof given[f] === 'string' ? [`--${f}`, given[f] as string] : []), process.env)
  const env = process.env
  const storage = resolveStorageDir({ storage: values.storage, env })
  const runtime = (values.runtime ?? env.GROWR_RUNTIME ?? 'bare') as WorkerRuntime
  if (runtime !== 'bare' && runtime !== 'node') throw new Error(`--runtime must be bare or node, not ${runtime}`)
  const portArg = values.port ?? env.GROWR_PORT
  const port = portArg === undefined || portArg === '' ? undefined : Number(portArg)
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new Error(`--port must be a port number, not ${portArg}`)

  let uiDir = values.ui ?? env.GROWR_UI_DIR
  if (!uiDir) {
    const ui = path.join(REPO, 'ui')
    if (needsBuild(ui)) {
      process.stderr.write('growr: building the UI (ui/dist is missing or older than ui/)\n')
      await buildUi(REPO)
    }
    uiDir = path.join(ui, 'dist')
  }

  const opts = {
    storage,
    bootstrap: values.bootstrap ?? env.GROWR_BOOTSTRAP ?? undefined,
    announce: values.announce === true || env.GROWR_ANNOUNCE === '1',
    uiDir,
    runtime,
    passphrase: env.GROWR_PASSPHRASE || undefined,
    bitcoin,
    rootstock
  }
  let host: Host
  try {
    host = await startHost({ ...opts, port: port ?? DEFAULT_PORT })
  } catch (err) {
    // the default port is a convenience: if another program has it, any free port will do
    if (port !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
    host = await startHost({ ...opts, port: 0 })
  }

  process.stdout.write(`growr: open ${host.url}\n`)
  process.stdout.write(`growr: core worker runs under ${host.runtime} (pid ${host.worker.pid}), storage ${storage}\n`)

  return await new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: string) => {
      if (stopping) return
      stopping = true
      process.stderr.write(`growr: ${signal}, closing\n`)
      host.close().then(() => resolve(0), (err: Error) => { process.stderr.write(`growr: ${err.message}\n`); resolve(1) })
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
    host.worker.on('exit', (info) => {
      if (stopping) return
      stopping = true
      process.stderr.write(`growr: the core worker stopped (code ${info.code}, signal ${info.signal}); closing\n`)
      host.close().finally(() => resolve(1))
    })
  })
}

main().then((code) => process.exit(code), (err: Error) => {
  process.stderr.write(`growr: ${err.message}\n`)
  process.exit(1)
})
