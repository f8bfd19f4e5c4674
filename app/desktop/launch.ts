/**
 * `npm run desktop` (node --import tsx app/desktop/launch.ts [--storage DIR] [--bootstrap
 * host:port] [--announce]): starts the desktop app from the source tree.
 *
 * 1. Finds Electron. It is deliberately not a dependency (its postinstall downloads a binary,
 *    which fails without internet, and `npm install` must work everywhere); when it is missing
 *    this prints how to get it and exits 1.
 * 2. Builds the UI (ui/dist) when it is missing or older than any file under ui/.
 * 3. Bundles the main process and the preload (build.ts).
 * 4. Runs Electron on the bundle with the remaining arguments, and exits with its status.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildDesktop } from './build.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const UI = path.join(ROOT, 'ui')
const UI_INDEX = path.join(UI, 'dist', 'index.html')

/** The Electron release the shell is written and documented against. */
export const ELECTRON_VERSION = '45.3.4'

/** The UI build, run from the repository root. */
export const UI_BUILD = [process.execPath, path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join('ui', 'vite.config.ts')]

/** What to do when Electron is missing: one paragraph for the terminal. */
export function electronMissingMessage (reason: string): string {
  return [
    `Electron is not installed (${reason}).`,
    `It is optional, because its install step downloads a binary. On a machine with internet access run`,
    `  npm install --no-save electron@${ELECTRON_VERSION}`,
    `then \`npm run desktop\`. (With an unpacked Electron ${ELECTRON_VERSION} already on disk, set`,
    `ELECTRON_OVERRIDE_DIST_PATH to its directory before that install.) The browser UI needs no Electron: \`npm start\`.`
  ].join('\n')
}

/**
 * The Electron executable, or the reason there is none. `require('electron')` from Node returns
 * the binary's path, and throws when the package or its downloaded binary is missing.
 */
export function findElectron (): { path: string } | { missing: string } {
  const require = createRequire(import.meta.url)
  let bin: unknown
  try {
    bin = require('electron')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return { missing: e.code === 'MODULE_NOT_FOUND' ? 'no electron package in node_modules' : e.message.split('\n')[0] }
  }
  if (typeof bin !== 'string' || !fs.existsSync(bin)) return { missing: `the electron package has no binary at ${String(bin)}` }
  return { path: bin }
}

/** Newest modification time (ms) of the files under `dir`, skipping `skip` directory names. */
function newest (dir: string, skip: Set<string>): number {
  let latest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue
    const p = path.join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(p, skip) : fs.statSync(p).mtimeMs)
  }
  return latest
}

/** True when ui/dist/index.html is missing or older than a source file under ui/. */
export function uiNeedsBuild (): boolean {
  if (!fs.existsSync(UI_INDEX)) return true
  return newest(UI, new Set(['dist', 'node_modules'])) > fs.statSync(UI_INDEX).mtimeMs
}

async function main (): Promise<number> {
  const electron = findElectron()
  if ('missing' in electron) {
    process.stderr.write(electronMissingMessage(electron.missing) + '\n')
    return 1
  }
  if (uiNeedsBuild()) {
    process.stderr.write('growr-desktop: building the UI (ui/dist)\n')
    const r = spawnSync(UI_BUILD[0], UI_BUILD.slice(1), { cwd: ROOT, stdio: 'inherit' })
    if (r.status !== 0) { process.stderr.write('growr-desktop: the UI build failed\n'); return 1 }
  }
  const { main: entry } = await buildDesktop()
  const child = spawn(electron.path, [entry, ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' })
  // Ctrl-C reaches Electron through the terminal's process group: wait for it to shut its
  // worker down rather than die first; a plain TERM is passed on
  const forward = (signal: NodeJS.Signals) => { child.kill(signal) }
  const wait = () => {}
  process.on('SIGTERM', forward)
  process.on('SIGINT', wait)
  return await new Promise((resolve) => {
    const done = (status: number) => { process.off('SIGTERM', forward); process.off('SIGINT', wait); resolve(status) }
    child.once('error', (err) => { process.stderr.write(`growr-desktop: ${err.message}\n`); done(1) })
    child.once('exit', (code, signal) => { done(code ?? (signal ? 1 : 0)) })
  })
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main()
}
