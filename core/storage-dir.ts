/**
 * Where a Growr node keeps its data (identity file, corestore, ...). Pure apart from reading
 * the home directory, platform and working directory through `#os` / `#path`; the environment
 * is always passed in (callers hand over `process.env` under Node or `Bare.env` under Bare).
 */
import os from '#os'
import path from '#path'

/** An environment map, as `process.env` / `Bare.env`. */
export type Env = Record<string, string | undefined>

const APP_DIR = 'growr'

/**
 * The platform's conventional per-user data directory for Growr.
 * - Linux and other Unix-likes: `$XDG_DATA_HOME/growr` when XDG_DATA_HOME is set to an absolute
 *   path (per the XDG Base Directory spec, relative values are ignored), else `~/.local/share/growr`.
 * - macOS (`darwin`): `~/Library/Application Support/growr`.
 * - Windows (`win32`): `%APPDATA%\growr`, falling back to `~\AppData\Roaming\growr` if APPDATA is unset.
 *
 * @param env environment map (default: empty, i.e. only the home-directory fallbacks apply).
 * @param platform a Node/Bare platform string such as `linux`, `darwin`, `win32`
 *   (default: `os.platform()`). Paths are joined with that platform's separator.
 * @returns an absolute path (given an absolute home directory).
 */
export function defaultStorageDir (env: Env = {}, platform: string = os.platform()): string {
  if (platform === 'win32') {
    const appData = nonEmpty(env.APPDATA)
    if (appData !== undefined) return path.win32.join(appData, APP_DIR)
    return path.win32.join(os.homedir(), 'AppData', 'Roaming', APP_DIR)
  }
  if (platform === 'darwin') {
    return path.posix.join(os.homedir(), 'Library', 'Application Support', APP_DIR)
  }
  const xdg = nonEmpty(env.XDG_DATA_HOME)
  if (xdg !== undefined && path.posix.isAbsolute(xdg)) return path.posix.join(xdg, APP_DIR)
  return path.posix.join(os.homedir(), '.local', 'share', APP_DIR)
}

/**
 * Decide the storage directory for this run. Precedence: an explicit `storage` (the CLI's
 * `--storage`) beats the `GROWR_STORAGE` environment variable, which beats
 * {@link defaultStorageDir}. Empty strings count as unset. A leading `~` (alone or followed by
 * a separator) is expanded to the home directory; relative paths are resolved against the
 * current working directory.
 *
 * @param opts.storage explicit directory, if any.
 * @param opts.env environment map (`process.env` / `Bare.env`).
 * @param opts.platform platform override for the default (default: `os.platform()`).
 * @returns an absolute, normalised path. Nothing is created on disk.
 */
export function resolveStorageDir (opts: { storage?: string, env: Env, platform?: string }): string {
  const explicit = nonEmpty(opts.storage) ?? nonEmpty(opts.env.GROWR_STORAGE)
  if (explicit !== undefined) return path.resolve(expandHome(explicit))
  return path.resolve(defaultStorageDir(opts.env, opts.platform))
}

function nonEmpty (s: string | undefined): string | undefined {
  return typeof s === 'string' && s.length > 0 ? s : undefined
}

function expandHome (p: string): string {
  if (p === '~') return os.homedir()
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(os.homedir(), p.slice(2))
  return p
}
