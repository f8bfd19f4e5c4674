/**
 * The desktop shell (app/desktop/) without Electron, which cannot be installed here: the main
 * process and the preload are pure functions of the `electron` module, so they run against
 * stand-ins that record what Electron would be asked to do. Then the real build: the bundles
 * that Electron would load are built with esbuild, and the main bundle is run under Node with a
 * stand-in `electron` (a module resolve hook) against a real Bare worker.
 */
import test from 'brittle'
import { EventEmitter } from 'node:events'
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Assertion } from 'brittle'
import type { BrowserWindowConstructorOptions } from 'electron'
import { createMain, DESKTOP_CSP, isAllowedLoad, readDesktopArgs, type ElectronMain, type Updater } from '../app/desktop/main.ts'
import { createGrowrApi, exposeGrowr } from '../app/desktop/preload.ts'
import { API_METHODS } from '../app/desktop/allowlist.ts'
import type { CoreWorker } from '../app/desktop/bridge.ts'
import { buildDesktop } from '../app/desktop/build.ts'
import { loadPearUpdater } from '../app/desktop/updates.ts'
import { ELECTRON_VERSION } from '../app/desktop/launch.ts'
import type { Outcome } from '../app/worker/spawn.ts'
import type { EventMessage } from '../app/session.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const UI_DIR = path.join(ROOT, 'ui', 'dist')
const INDEX = path.join(UI_DIR, 'index.html')
const APP_URL = pathToFileURL(INDEX).href
const PRELOAD = path.join(ROOT, 'app', 'desktop', 'dist', 'preload.cjs')

type Listener = (...args: any[]) => unknown

class FakeContents extends EventEmitter {
  sent: Array<[string, unknown]> = []
  openHandler: ((d: { url: string }) => unknown) | null = null
  destroyed = false
  send (channel: string, msg: unknown) { this.sent.push([channel, msg]) }
  isDestroyed () { return this.destroyed }
  setWindowOpenHandler (h: (d: { url: string }) => unknown) { this.openHandler = h }
  /** emits a cancellable Electron event; returns whether a listener called preventDefault */
  fire (name: string, ...args: unknown[]): boolean {
    let prevented = false
    this.emit(name, { preventDefault () { prevented = true } }, ...args)
    return prevented
  }
}

function fakeElectron () {
  const calls: string[] = []
  const windows: Array<EventEmitter & { options: BrowserWindowConstructorOptions; webContents: FakeContents; loaded: string | null }> = []
  const handlers = new Map<string, Listener>()
  const appEvents = new EventEmitter()
  const webRequest: { before: Listener | null; headers: Listener | null } = { before: null, headers: null }
  let permissionRequest: Listener | null = null
  let permissionCheck: Listener | null = null
  let quits = 0

  class BrowserWindow extends EventEmitter {
    readonly webContents = new FakeContents()
    loaded: string | null = null
    readonly options: BrowserWindowConstructorOptions
    constructor (options: BrowserWindowConstructorOptions) {
      super()
      this.options = options
      windows.push(this)
    }

    async loadFile (file: string) { this.loaded = file; calls.push('window.load') }
    show () { calls.push('window.show') }
    isDestroyed () { return false }
  }

  const app = Object.assign(appEvents, {
    isPackaged: false,
    whenReady: async () => {},
    getVersion: () => '0.1.0',
    getPath: () => os.tmpdir(),
    quit () {
      quits++
      calls.push('app.quit')
      let prevented = false
      appEvents.emit('will-quit', { preventDefault () { prevented = true } })
      if (!prevented) calls.push('app.exit')
    }
  })
  const electron = {
    app,
    BrowserWindow,
    ipcMain: {
      handle (channel: string, fn: Listener) { handlers.set(channel, fn) },
      removeHandler (channel: string) { handlers.delete(channel); calls.push('ipc.remove') }
    },
    session: {
      defaultSession: {
        webRequest: {
          onBeforeRequest (fn: Listener) { webRequest.before = fn },
          onHeadersReceived (fn: Listener) { webRequest.headers = fn }
        },
        setPermissionRequestHandler (fn: Listener) { permissionRequest = fn },
        setPermissionCheckHandler (fn: Listener) { permissionCheck = fn }
      }
    }
  }
  return {
    electron: electron as unknown as ElectronMain,
    calls,
    appEvents,
    windows,
    handlers,
    webRequest,
    get quits () { return quits },
    permission: (perm: string) => new Promise<boolean>((resolve) => { permissionRequest!(null, perm, resolve) }),
    permissionCheck: (perm: string) => permissionCheck!(null, perm) as boolean
  }
}

class FakeWorker extends EventEmitter implements CoreWorker {
  requests: Array<[string, unknown]> = []
  closed = 0
  private readonly calls: string[]
  constructor (calls: string[]) { super(); this.calls = calls }
  async exchange (method: string, params: unknown): Promise<Outcome> {
    this.requests.push([method, params])
    if (method === 'vc.show') return { error: { code: 'NOT_FOUND', message: 'no such credential' } }
    return { result: { echo: method, params } }
  }

  async close () { this.closed++; this.calls.push('worker.close'); return { code: 0, signal: null } }
  override on (event: 'event', fn: (msg: EventMessage) => void): this { return super.on(event, fn) }
  override off (event: 'event', fn: (msg: EventMessage) => void): this { return super.off(event, fn) }
}

/** Starts createMain over stand-ins; the storage path is never touched by the fake worker. */
async function startFake (t: Assertion, extra: { updater?: Updater } = {}) {
  const fake = fakeElectron()
  const spawned: Array<Record<string, unknown>> = []
  let worker: FakeWorker | null = null
  const main = createMain(fake.electron, (opts) => {
    spawned.push({ ...opts })
    worker = new FakeWorker(fake.calls)
    return worker
  }, {
    storage: '/nonexistent/growr-storage',
    bootstrap: '127.0.0.1:1',
    indexHtml: INDEX,
    preload: PRELOAD,
    log: (line) => t.comment(line),
    loadUpdater: extra.updater ? async () => extra.updater! : undefined
  })
  await main.started
  const handler = fake.handlers.get('growr:request')!
  const appFrame = { url: APP_URL, parent: null }
  const call = (method: unknown, params?: unknown, frame: unknown = appFrame) => handler({ senderFrame: frame, sender: fake.windows[0].webContents }, method, params) as Promise<Outcome>
  return { fake, main, spawned, worker: worker! as FakeWorker, call }
}

test('preload: window.growr is exactly request and onEvent, over the two channels only', async (t) => {
  const exposed: Array<[string, unknown]> = []
  const ipc = new EventEmitter() as EventEmitter & { invoke: Listener }
  const invoked: unknown[][] = []
  ipc.invoke = async (...args: unknown[]) => {
    invoked.push(args)
    return args[1] === 'vc.show' ? { error: { code: 'NOT_FOUND', message: 'no such credential' } } : { result: { ok: args[1] } }
  }
  exposeGrowr({ contextBridge: { exposeInMainWorld: (key, api) => { exposed.push([key, api]) } }, ipcRenderer: ipc as never })

  t.is(exposed.length, 1, 'one thing exposed')
  const [key, api] = exposed[0] as [string, Record<string, unknown>]
  t.is(key, 'growr')
  t.alike(Object.keys(api).sort(), ['onEvent', 'request'], 'only request and onEvent')
  t.is(typeof api.request, 'function')
  t.is(typeof api.onEvent, 'function')

  const growr = createGrowrApi(ipc as never)
  t.alike(await growr.request('status', { a: 1 }), { ok: 'status' }, 'the result is unwrapped')
  t.alike(invoked[0], ['growr:request', 'status', { a: 1 }], 'invoke on growr:request with method and params')
  try {
    await growr.request('vc.show', { id: 'x' })
    t.fail('an error outcome must reject')
  } catch (err) {
    t.alike(err, { code: 'NOT_FOUND', message: 'no such credential' }, 'rejects with a plain { code, message }')
    t.absent(err instanceof Error, 'not an Error: contextBridge would drop its code')
  }

  const got: unknown[][] = []
  const off = growr.onEvent((...args: unknown[]) => { got.push(args) })
  t.is(ipc.listenerCount('growr:event'), 1)
  ipc.emit('growr:event', { sender: ipc }, { event: 'peers', data: { count: 2 } })
  t.alike(got, [[{ event: 'peers', data: { count: 2 } }]], 'the callback gets the message only, never the IPC event')
  off()
  t.is(ipc.listenerCount('growr:event'), 0, 'unsubscribe removes the listener')
  t.is(ipc.listenerCount('growr:other'), 0)
})

test('main: window options, worker on the user storage, the UI page loaded', async (t) => {
  const { fake, spawned } = await startFake(t)
  t.is(fake.windows.length, 1, 'one window')
  const opts = fake.windows[0].options
  t.is(opts.width, 1280)
  t.is(opts.height, 800)
  t.is(opts.minWidth, 900)
  t.is(opts.minHeight, 600)
  const wp = opts.webPreferences!
  t.is(wp.contextIsolation, true, 'contextIsolation')
  t.is(wp.sandbox, true, 'sandbox')
  t.is(wp.nodeIntegration, false, 'no nodeIntegration')
  t.is(wp.webSecurity, true, 'webSecurity')
  t.is(wp.webviewTag, false, 'no webview')
  t.is(wp.preload, PRELOAD, 'the compiled preload')
  t.is(fake.windows[0].loaded, INDEX, 'loads ui/dist/index.html')
  t.alike(spawned, [{ storage: '/nonexistent/growr-storage', bootstrap: '127.0.0.1:1', announce: undefined, runtime: undefined }], 'the worker gets the storage and bootstrap')
  fake.windows[0].emit('ready-to-show')
  t.ok(fake.calls.includes('window.show'), 'shown once painted')
})

test('main: allowed requests reach the worker; other methods and foreign frames do not', async (t) => {
  const { worker, call } = await startFake(t)

  t.alike(await call('status', {}), { result: { echo: 'status', params: {} } }, 'an Api method is relayed and its result returned')
  t.alike(await call('vc.show', { id: 'x' }), { error: { code: 'NOT_FOUND', message: 'no such credential' } }, 'the worker error keeps its code')
  t.alike(await call('session.status'), { result: { echo: 'session.status', params: {} } }, 'missing params become {}')
  t.is(worker.requests.length, 3)

  for (const method of ['shell.exec', '__proto__', 'constructor', 'toString', 42, null, 'status ']) {
    const out = await call(method, {})
    t.is('error' in out && out.error.code, 'BAD_ARGUMENT', `refused: ${String(method)}`)
  }
  const foreign = [
    { url: 'https://evil.example/', parent: null },
    { url: pathToFileURL(path.join(ROOT, 'README.md')).href, parent: null },
    { url: APP_URL.replace('file:', 'http:'), parent: null },
    { url: APP_URL, parent: { url: APP_URL, parent: null } },
    null
  ]
  for (const frame of foreign) {
    const out = await call('status', {}, frame)
    t.is('error' in out && out.error.code, 'FORBIDDEN', `refused frame ${frame ? frame.url.slice(0, 40) + (frame.parent ? ' (iframe)' : '') : 'null'}`)
  }
  t.ok((await call('status', {}, { url: APP_URL + '#/books/abc', parent: null }) as { result?: unknown }).result, 'the app page with a route fragment is the app')
  t.is(worker.requests.length, 4, 'nothing refused reached the worker')
  t.is(API_METHODS.length, new Set(API_METHODS).size, 'the allowlist has no duplicates')
})

test('main: worker events reach the window on growr:event', async (t) => {
  const { fake, worker } = await startFake(t)
  const msg = { event: 'book.changed', data: { book: 'ab'.repeat(32) } }
  worker.emit('event', msg)
  t.alike(fake.windows[0].webContents.sent, [['growr:event', msg]])
  fake.windows[0].webContents.destroyed = true
  worker.emit('event', { event: 'peers', data: { count: 1 } })
  t.is(fake.windows[0].webContents.sent.length, 1, 'nothing is sent to a destroyed window')
})

test('main: no new windows, webviews, navigation away, permissions or network', async (t) => {
  const { fake } = await startFake(t)
  const contents = fake.windows[0].webContents
  t.alike(contents.openHandler!({ url: 'https://evil.example/' }), { action: 'deny' }, 'window.open denied')
  t.ok(contents.fire('will-navigate', 'https://evil.example/'), 'navigation to the web refused')
  t.ok(contents.fire('will-navigate', pathToFileURL('/etc/passwd').href), 'navigation to another file refused')
  t.ok(contents.fire('will-redirect', 'https://evil.example/'), 'redirect refused')
  t.absent(contents.fire('will-navigate', APP_URL + '#/wallet'), 'in-app navigation allowed')
  t.ok(contents.fire('will-attach-webview'), 'webviews refused')

  const other = new FakeContents()
  fake.appEvents.emit('web-contents-created', {}, other)
  t.alike(other.openHandler!({ url: 'x' }), { action: 'deny' }, 'any other web contents is hardened too')

  t.is(await fake.permission('media'), false, 'permission requests denied')
  t.is(fake.permissionCheck('clipboard-read'), false, 'permission checks denied')

  const cancel = (url: string) => new Promise<boolean>((resolve) => { fake.webRequest.before!({ url }, (r: { cancel?: boolean }) => resolve(r.cancel === true)) })
  t.is(await cancel(pathToFileURL(path.join(UI_DIR, 'assets', 'index.js')).href), false, 'files of the UI load')
  t.is(await cancel('https://evil.example/x.js'), true, 'https blocked')
  t.is(await cancel('ws://127.0.0.1:4977/ws'), true, 'websockets blocked')
  t.is(await cancel(pathToFileURL(path.join(ROOT, 'package.json')).href), true, 'files outside ui/dist blocked')
  t.is(await cancel(APP_URL.replace('/dist/index.html', '/dist/../../package.json')), true, 'no climbing out with ..')
  t.is(isAllowedLoad('data:,', UI_DIR), true)

  const headers = await new Promise<Record<string, string[]>>((resolve) => {
    fake.webRequest.headers!({ url: APP_URL, responseHeaders: { 'Content-Type': ['text/html'] } }, (r: { responseHeaders: Record<string, string[]> }) => resolve(r.responseHeaders))
  })
  t.alike(headers['Content-Security-Policy'], [DESKTOP_CSP], 'CSP set on responses')
  t.is(headers['Content-Type'][0], 'text/html', 'other headers kept')
  t.ok(DESKTOP_CSP.includes("script-src 'self'") && !DESKTOP_CSP.includes('unsafe-eval'), 'no eval, scripts from the app only')
})

test('main: quitting removes the bridge, closes the worker, then applies a ready update', async (t) => {
  const updaterEvents = new EventEmitter()
  const updater: Updater = Object.assign(updaterEvents, {
    applyUpdate: async () => { calls.push('update.apply') },
    close: async () => { calls.push('update.close') }
  })
  const { fake, main, worker } = await startFake(t, { updater })
  const calls = fake.calls
  updaterEvents.emit('updated')

  fake.appEvents.emit('window-all-closed')
  await main.stopped
  t.is(worker.closed, 1, 'the worker was closed once')
  const order = calls.filter((c) => ['ipc.remove', 'worker.close', 'update.apply', 'update.close', 'app.exit'].includes(c))
  t.alike(order, ['ipc.remove', 'worker.close', 'update.apply', 'update.close', 'app.exit'], 'reverse order, then the app exits')
  t.is(fake.quits, 2, 'quit was deferred once for the shutdown, then let through')
  t.absent(fake.handlers.has('growr:request'), 'no handler left')
  worker.emit('event', { event: 'peers', data: { count: 3 } })
  t.is(fake.windows[0].webContents.sent.length, 0, 'no events forwarded after shutdown')
})

test('readDesktopArgs: flags beat the environment, Chromium switches are ignored', (t) => {
  const env = { GROWR_STORAGE: '/tmp/from-env', GROWR_BOOTSTRAP: '127.0.0.1:9' }
  t.alike(readDesktopArgs(['/app/main.mjs', '--no-sandbox', '--storage', '/tmp/a', '--bootstrap=127.0.0.1:7'], env), { storage: '/tmp/a', bootstrap: '127.0.0.1:7', announce: false })
  t.alike(readDesktopArgs(['--announce'], env), { storage: '/tmp/from-env', bootstrap: '127.0.0.1:9', announce: true })
})

test('updates: pear-runtime is optional and only considered for a packaged app with an upgrade link', async (t) => {
  const base = { version: '0.1.0', dir: '/tmp/u', appPath: '/Applications/Growr.app', name: 'Growr.app' }
  const logs: string[] = []
  const log = (l: string) => { logs.push(l) }
  let loads = 0
  const load = async () => { loads++; throw Object.assign(new Error("Cannot find package 'pear-runtime'"), { code: 'ERR_MODULE_NOT_FOUND' }) }
  t.is(await loadPearUpdater({ ...base, isPackaged: false, upgrade: 'pear://x', load, log }), null, 'not packaged: no updates')
  t.is(await loadPearUpdater({ ...base, isPackaged: true, load, log }), null, 'no upgrade link: no updates')
  t.is(loads, 0, 'the module is not even looked up then')
  t.is(await loadPearUpdater({ ...base, isPackaged: true, upgrade: 'pear://x', load, log }), null, 'not installed: no updates')
  t.ok(logs.some((l) => l.includes('pear-runtime is not installed')), 'and it says so')
  t.is(await loadPearUpdater({ ...base, isPackaged: true, upgrade: 'pear://x', log }), null, 'the real import finds no pear-runtime here either')

  let made: Record<string, unknown> | null = null
  class PearRuntime extends EventEmitter {
    opened = false
    constructor (opts: Record<string, unknown>) { super(); made = opts }
    async ready () { this.opened = true }
    async applyUpdate () {}
    async close () {}
  }
  const u = await loadPearUpdater({ ...base, isPackaged: true, upgrade: 'pear://abc', load: async () => ({ default: PearRuntime }), log })
  t.ok(u && (u as unknown as PearRuntime).opened, 'opened when present')
  t.alike(made, { dir: path.join('/tmp/u', 'pear-runtime'), upgrade: 'pear://abc', version: '0.1.0', app: '/Applications/Growr.app', name: 'Growr.app' })
})

function run (file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${stderr.slice(-2000)}`)) }, opts.timeoutMs ?? 30_000)
    child.once('error', reject)
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

test('npm run desktop without Electron: says how to get it and exits non-zero', async (t) => {
  let present = false
  try { createRequire(import.meta.url).resolve('electron'); present = true } catch {}
  if (present) { t.comment('electron is installed here: the missing-Electron path cannot be shown'); t.pass(); return }
  const r = await run(process.execPath, ['--import', 'tsx', 'app/desktop/launch.ts'])
  t.is(r.code, 1, 'exit code 1')
  t.ok(r.stderr.includes('Electron is not installed'), 'says Electron is missing')
  t.ok(r.stderr.includes(`npm install --no-save electron@${ELECTRON_VERSION}`), 'gives the install command')
  t.ok(r.stderr.includes('npm run desktop'), 'and what to run next')
  t.is(r.stdout, '', 'nothing on stdout')
})

test('built bundles: the preload requires only electron; main runs a real Bare worker', { timeout: 60_000 }, async (t) => {
  fs.mkdirSync(path.join(ROOT, 'test-output'), { recursive: true })
  const out = fs.mkdtempSync(path.join(ROOT, 'test-output', 'desktop-'))
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'growr-desktop-'))
  t.teardown(() => {
    fs.rmSync(out, { recursive: true, force: true })
    fs.rmSync(storage, { recursive: true, force: true })
  })
  const { main, preload } = await buildDesktop(out)
  const pre = fs.readFileSync(preload, 'utf8')
  t.alike([...pre.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]), ['electron'], 'preload.cjs requires electron and nothing else')
  t.absent(/\bimport\s/.test(pre.replace(/\/\/.*$/gm, '')), 'preload.cjs is CommonJS')

  // a stand-in `electron` that plays the window: two requests, then quit
  fs.writeFileSync(path.join(out, 'fake-electron.mjs'), FAKE_ELECTRON)
  fs.writeFileSync(path.join(out, 'hooks.mjs'), `export async function resolve (s, c, next) { return s === 'electron' ? { url: ${JSON.stringify(pathToFileURL(path.join(out, 'fake-electron.mjs')).href)}, shortCircuit: true } : next(s, c) }\n`)
  fs.writeFileSync(path.join(out, 'register.mjs'), "import { register } from 'node:module'\nregister('./hooks.mjs', import.meta.url)\n")
  const env = { ...process.env }
  for (const k of ['GROWR_STORAGE', 'GROWR_BOOTSTRAP', 'GROWR_ANNOUNCE', 'GROWR_WORKER_RUNTIME', 'GROWR_PASSPHRASE']) delete env[k]
  const r = await run(process.execPath, ['--import', pathToFileURL(path.join(out, 'register.mjs')).href, main, '--storage', storage], { env, timeoutMs: 45_000 })
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('FAKE ')).map((l) => JSON.parse(l.slice(5)))
  const find = (k: string) => lines.find((l) => k in l)?.[k]
  if (r.code !== 0) t.comment(r.stderr.slice(-3000))
  t.is(r.code, 0, 'the main process exits 0 after quit')
  t.is(find('window').preload, preload, 'the window uses the built preload beside main.mjs')
  t.is(find('loadFile'), INDEX, 'and loads ui/dist/index.html')
  const status = find('status')
  t.is(status?.result?.runtime, 'bare', 'the worker runs under Bare')
  t.is(status?.result?.storage, storage, 'on the storage given on the command line')
  t.is(status?.result?.did, null, 'no identity yet')
  t.is(find('refused')?.error?.code, 'BAD_ARGUMENT', 'a method outside the allowlist is refused')
  t.ok(find('quit'), 'quit went through after the shutdown')
  t.absent(liveProcessesWith(storage).length, 'no worker process is left on that storage')
})

/** Pids whose command line mentions `needle` (Linux /proc; empty elsewhere). */
function liveProcessesWith (needle: string): number[] {
  if (!fs.existsSync('/proc')) return []
  const pids: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) pids.push(Number(name))
    } catch {}
  }
  return pids
}

const FAKE_ELECTRON = `
import { EventEmitter } from 'node:events'
import { pathToFileURL } from 'node:url'
const out = (o) => process.stdout.write('FAKE ' + JSON.stringify(o) + '\\n')
const handlers = new Map()
const events = new EventEmitter()
export const app = Object.assign(events, {
  isPackaged: false,
  whenReady: async () => {},
  getVersion: () => '0.0.0',
  getPath: () => '/nonexistent',
  quit () {
    let prevented = false
    events.emit('will-quit', { preventDefault () { prevented = true } })
    if (!prevented) { out({ quit: true }); process.exit(0) }
  }
})
export const ipcMain = { handle (c, f) { handlers.set(c, f) }, removeHandler (c) { handlers.delete(c) } }
export const session = { defaultSession: { webRequest: { onBeforeRequest () {}, onHeadersReceived () {} }, setPermissionRequestHandler () {}, setPermissionCheckHandler () {} } }
export class BrowserWindow extends EventEmitter {
  constructor (opts) {
    super()
    this.webContents = Object.assign(new EventEmitter(), { send: (c, m) => out({ send: [c, m] }), isDestroyed: () => false, setWindowOpenHandler () {} })
    out({ window: opts.webPreferences })
  }
  async loadFile (file) {
    out({ loadFile: file })
    const frame = { url: pathToFileURL(file).href, parent: null }
    setImmediate(async () => {
      const h = handlers.get('growr:request')
      out({ status: await h({ senderFrame: frame }, 'session.status', {}) })
      out({ refused: await h({ senderFrame: frame }, 'shell.exec', {}) })
      events.emit('window-all-closed')
    })
  }
  show () {}
  isDestroyed () { return false }
}
export const contextBridge = {}
export const ipcRenderer = {}
`
