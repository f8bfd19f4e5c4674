/**
 * The Electron main-process entry: wires the real `electron` module and the Bare worker
 * (app/worker/spawn.ts) into createMain (main.ts). Electron cannot run TypeScript, so this file
 * is run as the bundle app/desktop/dist/main.mjs that build.ts makes (esbuild; npm packages stay
 * external and load from node_modules). Paths are relative to this source file: the bundler
 * keeps each module's import.meta.url pointing at its source (build.ts), while
 * import.meta.dirname is the bundle's own directory, where preload.cjs sits beside it.
 *
 * Command line (after Electron's own): --storage DIR, --bootstrap host:port[,...], --announce;
 * environment: GROWR_STORAGE, GROWR_BOOTSTRAP, GROWR_ANNOUNCE=1, GROWR_WORKER_RUNTIME=node (run
 * the worker under Node instead of Bare, for diagnosis).
 */
import { app, BrowserWindow, ipcMain, session } from 'electron'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnWorker } from '../worker/spawn.ts'
import { createMain, readDesktopArgs } from './main.ts'
import { bundleName, loadPearUpdater } from './updates.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; upgrade?: string; productName?: string }
const settings = readDesktopArgs(process.argv.slice(1), process.env)
const log = (line: string) => { process.stderr.write(`growr-desktop: ${line}\n`) }
const resourcesPath = (process as { resourcesPath?: string }).resourcesPath ?? ROOT

// the packaged bundle the updater swaps: the .app on macOS, the AppImage on Linux, the install dir on Windows
function bundlePath (): string {
  if (process.platform === 'darwin') return path.join(resourcesPath, '..', '..')
  if (process.platform === 'linux') return process.env.APPIMAGE ?? process.execPath
  return path.dirname(process.execPath)
}

log(`storage ${settings.storage}${settings.bootstrap ? `, bootstrap ${settings.bootstrap}` : ''}`)
createMain({ app, BrowserWindow, ipcMain, session }, spawnWorker, {
  ...settings,
  runtime: process.env.GROWR_WORKER_RUNTIME === 'node' ? 'node' : 'bare',
  indexHtml: path.join(ROOT, 'ui', 'dist', 'index.html'),
  preload: path.join(import.meta.dirname, 'preload.cjs'),
  log,
  loadUpdater: () => loadPearUpdater({
    isPackaged: app.isPackaged,
    upgrade: pkg.upgrade,
    version: pkg.version,
    dir: app.getPath('userData'),
    appPath: bundlePath(),
    name: bundleName(pkg.productName ?? 'Growr', process.platform),
    log
  })
})
