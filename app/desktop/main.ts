/**
 * The Electron main process of the desktop app, as a pure function of its dependencies:
 * `createMain(electron, spawnWorker, options)`. app/desktop/electron-main.ts calls it with the
 * real `electron` module and app/worker/spawn.ts; tests call it with stand-ins.
 *
 * Order of start: lock the session down (no permissions, no network, CSP), spawn the core
 * worker (Bare, on the user's storage), open one window on the built UI (ui/dist/index.html)
 * with the sandboxed preload, install the bridge (bridge.ts), then load the optional updater.
 * Shutdown runs in reverse when the app quits: the window is gone by then; the bridge is
 * removed, the worker is closed (it closes the session: services, then the node, releasing the
 * storage lock), then a downloaded update is applied and the updater closed.
 *
 * Security, per Electron's security checklist: contextIsolation, sandbox, no Node integration,
 * webSecurity on; new windows, webviews and navigation away from the app's page are refused;
 * every permission request is denied; the renderer may load only files inside ui/dist (plus
 * data:, blob: and devtools:), so it has no network at all: it reaches the node only through
 * the bridge's allowlist.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type {
  App, BrowserWindow, BrowserWindowConstructorOptions, ElectronEvent, IpcMain, Session, WebContents
} from 'electron'
import type { SpawnOptions, WorkerRuntime } from '../worker/spawn.ts'
import { installBridge, isAppUrl, type CoreWorker } from './bridge.ts'
import { resolveStorageDir, type Env } from '../../core/storage-dir.ts'

/** The part of the `electron` module the main process uses. */
export interface ElectronMain {
  app: App
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => BrowserWindow
  ipcMain: IpcMain
  session: { readonly defaultSession: Session }
}

/** Starts the core worker (app/worker/spawn.ts spawnWorker). */
export type SpawnCore = (opts: SpawnOptions) => CoreWorker

/** A P2P updater (pear-runtime's PearRuntime has this shape); see updates.ts. */
export interface Updater {
  on (event: 'updating' | 'updated', fn: () => void): unknown
  /** swaps in the downloaded build; valid only after 'updated'; effective on next start */
  applyUpdate (): Promise<unknown>
  close (): Promise<unknown>
}

export interface DesktopOptions {
  /** the node's storage directory (absolute) */
  storage: string
  /** private DHT bootstrap `host:port[,host:port]`; absent = public HyperDHT */
  bootstrap?: string
  /** announce the node's DID for its issuing/verification services */
  announce?: boolean
  /** which runtime runs the worker (default 'bare') */
  runtime?: WorkerRuntime
  /** absolute path of the built UI's index.html */
  indexHtml: string
  /** absolute path of the built (CommonJS, self-contained) preload */
  preload: string
  /** loads the optional updater once the window is up; null = no updates */
  loadUpdater?: () => Promise<Updater | null>
  /** one line of diagnostics (default: stderr) */
  log?: (line: string) => void
}

export interface DesktopMain {
  /** resolves once the window has loaded the UI; rejects if start failed (the app then quits) */
  readonly started: Promise<void>
  /** resolves once shutdown has finished (worker closed, update applied) */
  readonly stopped: Promise<void>
  /** the window while it is open */
  readonly window: BrowserWindow | null
  /** the core worker once spawned */
  readonly worker: CoreWorker | null
}

/**
 * The CSP of the app's page. Chromium takes a CSP from response headers, which file:// loads do
 * not have, so the page carries it as `<meta http-equiv="Content-Security-Policy">` too; main
 * also sets it as a header on every response the session sees. connect-src allows the loopback
 * WebSocket only because the same page is served by the headless host; in the desktop window
 * the request filter below blocks all network anyway.
 */
export const DESKTOP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

/** The window: 1280x800 (at least 900x600), hardened webPreferences, shown once painted. */
export function windowOptions (preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Growr',
    backgroundColor: '#ffffff',
    autoHideMenuBar: true,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false
    }
  }
}

const OPEN_SCHEMES = new Set(['data:', 'blob:', 'devtools:'])

/**
 * True if the renderer may load `url`: a file inside `uiDir` (after normalisation, so `..`
 * cannot climb out), or a data:, blob: or devtools: URL. Everything else (http, https, ws,
 * other files) is refused.
 */
export function isAllowedLoad (url: string, uiDir: string): boolean {
  let u: URL
  try { u = new URL(url) } catch { return false }
  if (OPEN_SCHEMES.has(u.protocol)) return true
  if (u.protocol !== 'file:') return false
  const root = pathToFileURL(uiDir + path.sep).href
  u.hash = ''
  u.search = ''
  return u.href.startsWith(root)
}

/**
 * Reads the desktop app's settings from its command line and environment, as the CLI does:
 * `--storage DIR` / GROWR_STORAGE (default: the platform's data directory), `--bootstrap
 * host:port[,...]` / GROWR_BOOTSTRAP, `--announce` / GROWR_ANNOUNCE=1. Unknown arguments
 * (Chromium's own switches) are ignored.
 */
export function readDesktopArgs (argv: string[], env: Env): { storage: string; bootstrap?: string; announce: boolean } {
  let storage: string | undefined
  let bootstrap: string | undefined
  let announce = env.GROWR_ANNOUNCE === '1'
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(storage|bootstrap|announce)(?:=(.*))?$/.exec(argv[i])
    if (!m) continue
    if (m[1] === 'announce') { announce = true; continue }
    const value = m[2] ?? argv[++i]
    if (m[1] === 'storage') storage = value
    else bootstrap = value
  }
  return {
    storage: resolveStorageDir({ storage, env }),
    bootstrap: bootstrap || env.GROWR_BOOTSTRAP || undefined,
    announce
  }
}

/**
 * Wires the main process. Registers the app's lifecycle handlers at once and starts when the
 * app is ready.
 * @param electron the `electron` module (or a stand-in with the same shape)
 * @param spawn starts the core worker
 */
export function createMain (electron: ElectronMain, spawn: SpawnCore, opts: DesktopOptions): DesktopMain {
  const { app, BrowserWindow, ipcMain, session } = electron
  const log = opts.log ?? ((line: string) => { process.stderr.write(`growr-desktop: ${line}\n`) })
  const appUrl = pathToFileURL(opts.indexHtml).href
  const uiDir = path.dirname(opts.indexHtml)
  const hardened = new WeakSet<WebContents>()

  let win: BrowserWindow | null = null
  let worker: CoreWorker | null = null
  let bridge: { dispose (): void } | null = null
  let updater: Updater | null = null
  let updateReady = false
  let shutdown: Promise<void> | null = null
  let done = false
  let resolveStopped: () => void = () => {}
  const stopped = new Promise<void>((resolve) => { resolveStopped = resolve })

  const refuseNavigation = (event: ElectronEvent, url: string) => {
    if (!isAppUrl(url, appUrl)) {
      event.preventDefault()
      log(`refused navigation to ${url.slice(0, 200)}`)
    }
  }
  const harden = (contents: WebContents): void => {
    if (hardened.has(contents)) return
    hardened.add(contents)
    contents.setWindowOpenHandler(() => ({ action: 'deny' }))
    contents.on('will-navigate', refuseNavigation)
    contents.on('will-redirect', refuseNavigation)
    contents.on('will-attach-webview', (event) => { event.preventDefault() })
  }

  const lockDown = (ses: Session): void => {
    ses.setPermissionRequestHandler((_contents, _permission, callback) => { callback(false) })
    ses.setPermissionCheckHandler(() => false)
    ses.webRequest.onBeforeRequest((details, callback) => {
      const cancel = !isAllowedLoad(details.url, uiDir)
      if (cancel) log(`blocked load of ${details.url.slice(0, 200)}`)
      callback({ cancel })
    })
    ses.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [DESKTOP_CSP] } })
    })
  }

  const start = async (): Promise<void> => {
    lockDown(session.defaultSession)
    worker = spawn({ storage: opts.storage, bootstrap: opts.bootstrap, announce: opts.announce, runtime: opts.runtime })
    const w = new BrowserWindow(windowOptions(opts.preload))
    win = w
    harden(w.webContents)
    w.on('closed', () => { if (win === w) win = null })
    w.once('ready-to-show', () => { if (!w.isDestroyed()) w.show() })
    bridge = installBridge({ ipcMain, worker, appUrl, target: () => (win && !win.isDestroyed() ? win.webContents : null) })
    await w.loadFile(opts.indexHtml)
    if (opts.loadUpdater) {
      updater = await opts.loadUpdater().catch((err: Error) => { log(`updates off: ${err.message}`); return null })
      updater?.on('updated', () => { updateReady = true; log('an update is ready: it is applied when the app quits') })
    }
  }

  const stop = async (): Promise<void> => {
    bridge?.dispose()
    bridge = null
    if (worker) {
      const w = worker
      worker = null
      await w.close().catch((err: Error) => { log(`closing the core worker: ${err.message}`) })
    }
    if (updater) {
      const u = updater
      updater = null
      if (updateReady) await u.applyUpdate().catch((err: Error) => { log(`applying the update: ${err.message}`) })
      await u.close().catch((err: Error) => { log(`closing the updater: ${err.message}`) })
    }
  }

  app.on('web-contents-created', (_event, contents) => { harden(contents) })
  // the window is the node's only face: closing it stops the node (and frees its storage)
  app.on('window-all-closed', () => { app.quit() })
  app.on('will-quit', (event) => {
    if (done) return
    event.preventDefault()
    shutdown ??= stop().finally(() => {
      done = true
      resolveStopped()
      app.quit()
    })
  })

  const started = app.whenReady().then(start)
  started.catch((err: Error) => {
    log(`could not start: ${err.stack ?? err.message}`)
    app.quit()
  })

  return {
    started,
    stopped,
    get window () { return win },
    get worker () { return worker }
  }
}
