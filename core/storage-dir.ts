/**
 * Where a Growr node keeps its data (identity file, corestore, ...), and the checks that keep it
 * private. Resolving the directory is pure apart from reading the home directory, platform and
 * working directory through `#os` / `#path`; the environment is always passed in (callers hand
 * over `process.env` under Node or `Bare.env` under Bare).
 *
 * Privacy rules (POSIX; Windows has no mode bits or uids here, so they are skipped there): the
 * storage directory, and everything the node keeps in it, belongs to the user running the node,
 * and nobody else can write to it. Directories are 0700 and files 0600 whatever the umask. A
 * directory another user owns, or that group or others can write, is refused, never repaired:
 * whoever could write there may already have planted an identity or a socket. Loose read bits on
 * something we own are only tightened.
 */
import fs from '#fs'
import os from '#os'
import path from '#path'
import proc from '#process'
import { GrowrError } from './errors.ts'

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

/** Mode of every directory Growr creates or keeps (owner only). */
export const PRIVATE_DIR_MODE = 0o700
/** Mode of every file Growr keeps (owner read/write only). */
export const PRIVATE_FILE_MODE = 0o600

const GROUP_OTHER = 0o077
const GROUP_OTHER_WRITE = 0o022

/**
 * The effective uid of this process, or null where the platform has none (Windows; a Bare build
 * without POSIX user ids), in which case ownership checks are skipped.
 */
export function currentUid (): number | null {
  try {
    const uid = (proc as { geteuid?: () => number }).geteuid?.()
    return typeof uid === 'number' && uid >= 0 ? uid : null
  } catch {
    return null
  }
}

/** Whether POSIX modes and owners mean anything here. */
function posixModes (): boolean { return os.platform() !== 'win32' }

function unsafe (what: string, file: string, why: string): GrowrError {
  return GrowrError.STORAGE_UNSAFE(`${what} ${file} ${why}`)
}

function octal (mode: number): string { return '0' + (mode & 0o777).toString(8) }

/**
 * Makes `dir` a private storage directory. A missing one is created (with any missing parents)
 * and set to 0700. An existing one must be a directory this user owns that nobody else can
 * write; if its mode lets others read or enter it, it is tightened to 0700. A symlink is
 * followed only if this user owns the link itself (so nobody else can swap it), and its target
 * is held to the same rules.
 *
 * @param dir absolute path of the storage directory.
 * @returns human-readable notes on what was tightened (empty when nothing was); callers show them.
 * @throws GrowrError STORAGE_UNSAFE when the path is not a directory, is owned by another user,
 *   or is writable by group or others (the message names the path and the remedy);
 *   file-system errors other than a missing path propagate as fs throws them.
 */
export function securePrivateDir (dir: string): string[] {
  checkAncestors(dir)
  let st = lstatOrNull(dir)
  if (st === null) {
    fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
    // the umask may have taken bits away; the owner needs all three
    if (posixModes()) fs.chmodSync(dir, PRIVATE_DIR_MODE)
    return []
  }
  if (!posixModes()) {
    if (!fs.statSync(dir).isDirectory()) throw unsafe('storage directory', dir, 'is not a directory')
    return []
  }
  const uid = currentUid()
  if (st.isSymbolicLink()) {
    if (uid !== null && st.uid !== uid) throw unsafe('storage directory', dir, `is a symlink owned by uid ${st.uid}, not by this user (uid ${uid}): someone else can point it elsewhere`)
    st = fs.statSync(dir)
  }
  if (!st.isDirectory()) throw unsafe('storage directory', dir, 'is not a directory')
  if (uid !== null && st.uid !== uid) {
    throw unsafe('storage directory', dir, `is owned by uid ${st.uid}, not by this user (uid ${uid}): another user may have planted it; choose another directory (--storage) or remove it`)
  }
  if ((st.mode & GROUP_OTHER_WRITE) !== 0) {
    throw unsafe('storage directory', dir, `is writable by group or others (mode ${octal(st.mode)}): anyone could have planted files in it; check its contents, then chmod 700 it`)
  }
  if ((st.mode & GROUP_OTHER) !== 0) {
    fs.chmodSync(dir, PRIVATE_DIR_MODE)
    return [`storage directory ${dir} was readable by others (mode ${octal(st.mode)}): tightened to 0700`]
  }
  return []
}

const STICKY = 0o1000

/**
 * Refuses a storage path whose existing ancestors another user could rearrange: whoever can
 * write a parent directory can rename the storage directory away and put their own in its place
 * (OpenSSH's StrictModes checks the same). Each ancestor must belong to this user or to root and
 * be writable by nobody else, unless it has the sticky bit (as /tmp does), where others cannot
 * rename what they do not own. Symlinks are followed, so their targets are held to the rule.
 *
 * @param dir absolute path of the storage directory (it may not exist yet).
 * @throws GrowrError STORAGE_UNSAFE naming the ancestor and why.
 */
export function checkAncestors (dir: string): void {
  if (!posixModes()) return
  const uid = currentUid()
  let at = path.dirname(path.resolve(dir))
  while (true) {
    let st: fs.Stats | null = null
    try { st = fs.statSync(at) as fs.Stats } catch { st = null }
    if (st !== null) {
      if (uid !== null && st.uid !== uid && st.uid !== 0) throw unsafe('parent directory', at, `of the storage directory is owned by uid ${st.uid}, neither this user (uid ${uid}) nor root: its owner can replace the storage directory`)
      if ((st.mode & GROUP_OTHER_WRITE) !== 0 && (st.mode & STICKY) === 0) throw unsafe('parent directory', at, `of the storage directory is writable by group or others without the sticky bit (mode ${octal(st.mode)}): anyone could replace the storage directory`)
    }
    const up = path.dirname(at)
    if (up === at) return
    at = up
  }
}

/**
 * Checks a file Growr keeps private (the identity file): a regular file, not a symlink, owned
 * by this user and writable by nobody else. Loose read bits are tightened to 0600.
 *
 * @param file absolute path of an existing file.
 * @param what what the file is, for messages (e.g. `identity file`).
 * @returns notes on what was tightened (empty when nothing was).
 * @throws GrowrError STORAGE_UNSAFE when it is a symlink or not a regular file, another user
 *   owns it, or group or others can write it; fs errors (e.g. ENOENT) propagate.
 */
export function securePrivateFile (file: string, what: string): string[] {
  const st = fs.lstatSync(file) as fs.Stats
  if (st.isSymbolicLink()) throw unsafe(what, file, 'is a symlink: Growr only reads its own regular files')
  if (!st.isFile()) throw unsafe(what, file, 'is not a regular file')
  if (!posixModes()) return []
  const uid = currentUid()
  if (uid !== null && st.uid !== uid) throw unsafe(what, file, `is owned by uid ${st.uid}, not by this user (uid ${uid})`)
  if ((st.mode & GROUP_OTHER_WRITE) !== 0) throw unsafe(what, file, `is writable by group or others (mode ${octal(st.mode)})`)
  if ((st.mode & GROUP_OTHER) !== 0) {
    fs.chmodSync(file, PRIVATE_FILE_MODE)
    return [`${what} ${file} was readable by others (mode ${octal(st.mode)}): tightened to 0600`]
  }
  return []
}

/**
 * Sets every directory under `dir` to 0700 and every regular file to 0600, whatever the umask
 * they were created with (RocksDB, under the corestore, creates 0644 files and 0755 directories
 * and has no option to do otherwise). Symlinks are neither followed nor changed; sockets keep
 * their mode. `dir` itself is left to {@link securePrivateDir}.
 *
 * @param dir an existing directory this user owns.
 * @returns how many entries were changed.
 * @throws GrowrError STORAGE_UNSAFE when an entry is owned by another user (this user could not
 *   tighten it, and someone else's file has no business in a private directory); fs errors
 *   propagate (an entry removed while walking is skipped).
 */
export function tightenTree (dir: string): number {
  if (!posixModes()) return 0
  const uid = currentUid()
  let changed = 0
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d) as string[]) {
      const p = path.join(d, name)
      const st = lstatOrNull(p)
      if (st === null || st.isSymbolicLink()) continue
      if (uid !== null && st.uid !== uid) throw unsafe('file', p, `in the storage directory is owned by uid ${st.uid}, not by this user (uid ${uid})`)
      if (st.isDirectory()) {
        if ((st.mode & 0o777) !== PRIVATE_DIR_MODE) { fs.chmodSync(p, PRIVATE_DIR_MODE); changed++ }
        walk(p)
      } else if (st.isFile() && (st.mode & 0o777) !== PRIVATE_FILE_MODE) {
        fs.chmodSync(p, PRIVATE_FILE_MODE)
        changed++
      }
    }
  }
  walk(dir)
  return changed
}

/**
 * Checks the control socket of a running node before a client sends anything to it (commands
 * carry passphrases): the storage directory must pass {@link securePrivateDir}, and the socket
 * must be a socket, not a symlink, owned by this user.
 *
 * @param dir the storage directory; socket: the socket's path inside it.
 * @returns false when there is no socket (no node runs there), true when it is safe to connect.
 * @throws GrowrError STORAGE_UNSAFE naming the path and what is wrong.
 */
export function checkSocket (dir: string, socket: string): boolean {
  if (lstatOrNull(dir) === null) return false
  securePrivateDir(dir)
  const st = lstatOrNull(socket)
  if (st === null) return false
  if (st.isSymbolicLink()) throw unsafe('node socket', socket, 'is a symlink: refusing to connect')
  if (!posixModes()) return true
  if (!st.isSocket()) throw unsafe('node socket', socket, 'is not a socket: refusing to connect')
  const uid = currentUid()
  if (uid !== null && st.uid !== uid) throw unsafe('node socket', socket, `is owned by uid ${st.uid}, not by this user (uid ${uid}): refusing to connect`)
  return true
}

function lstatOrNull (p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p) as fs.Stats
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null
    throw err
  }
}
