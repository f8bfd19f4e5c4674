/**
 * The worker's settings from its arguments and environment. Arguments win over the
 * environment: `--storage DIR` / GROWR_STORAGE (default: the platform's data directory, see
 * core/storage-dir.ts), `--bootstrap host:port[,host:port]` / GROWR_BOOTSTRAP (default: the
 * public HyperDHT), `--announce` / GROWR_ANNOUNCE=1, and GROWR_PASSPHRASE (environment only,
 * so it never shows in a process listing).
 * Runs under Bare and Node: no `node:` imports.
 */
import { resolveStorageDir, type Env } from '../../core/storage-dir.ts'
import { parseBootstrap, type BootstrapNode } from '../../core/network/swarm.ts'
import { GrowrError } from '../../core/errors.ts'

export interface WorkerConfig {
  storage: string
  bootstrap?: BootstrapNode[]
  announce: boolean
  passphrase?: string
}

/**
 * Reads the worker's configuration.
 * @param args command-line arguments after the script
 * @param env the environment (`process.env` / `bare-env`)
 * @throws GrowrError BAD_ARGUMENT on an unknown option, a missing option value or a malformed
 *   bootstrap list
 */
export function readConfig (args: string[], env: Env): WorkerConfig {
  const flags: Record<string, string | true> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const m = /^--(storage|bootstrap|announce)(?:=(.*))?$/.exec(arg)
    if (!m) throw GrowrError.BAD_ARGUMENT(`unknown worker argument ${arg.slice(0, 60)}`)
    if (m[1] === 'announce') { flags.announce = true; continue }
    const value = m[2] ?? args[++i]
    if (value === undefined) throw GrowrError.BAD_ARGUMENT(`--${m[1]} needs a value`)
    flags[m[1]] = value
  }
  const bootstrap = typeof flags.bootstrap === 'string' ? flags.bootstrap : env.GROWR_BOOTSTRAP
  return {
    storage: resolveStorageDir({ storage: typeof flags.storage === 'string' ? flags.storage : undefined, env }),
    bootstrap: bootstrap ? parseBootstrap(bootstrap) : undefined,
    announce: flags.announce === true || env.GROWR_ANNOUNCE === '1',
    passphrase: env.GROWR_PASSPHRASE || undefined
  }
}
