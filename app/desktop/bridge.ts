/**
 * The main-process end of the desktop bridge: relays the window's requests to the core worker
 * and the worker's events to the window, over two IPC channels.
 *
 *   renderer -> main  ipcRenderer.invoke('growr:request', method, params)
 *                     resolves to { result } | { error: { code, message } } (the session's
 *                     response without its id: app/session.ts)
 *   main -> renderer  webContents.send('growr:event', { event, data })
 *
 * A request is answered only if it comes from the app's own top-level page (its file URL) and
 * names a method of the Api allowlist (allowlist.ts); anything else is refused here and never
 * reaches the worker. Pure: Electron's ipcMain and the worker are passed in.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents, WebFrameMain } from 'electron'
import type { EventMessage } from '../session.ts'
import type { Outcome } from '../worker/spawn.ts'
import { isAllowedMethod } from './allowlist.ts'
import { EVENT_CHANNEL, REQUEST_CHANNEL } from './channels.ts'

export { EVENT_CHANNEL, REQUEST_CHANNEL }

/** What the bridge needs of the core worker (app/worker/spawn.ts WorkerHandle has it). */
export interface CoreWorker {
  /** answers one request; never rejects (failures are `{ error }` outcomes) */
  exchange (method: string, params: unknown): Promise<Outcome>
  on (event: 'event', fn: (msg: EventMessage) => void): unknown
  off (event: 'event', fn: (msg: EventMessage) => void): unknown
  close (): Promise<unknown>
}

export interface BridgeOptions {
  ipcMain: IpcMain
  worker: CoreWorker
  /** the file URL of the app's page (ui/dist/index.html); only this page may send requests */
  appUrl: string
  /** the window's webContents while it is open, else null */
  target: () => WebContents | null
}

/**
 * True if `url` is the app's page, whatever its fragment or query (the UI routes in the
 * fragment). Compares parsed, normalised URLs, so `file:///a/../ui/dist/index.html` tricks
 * and other schemes do not pass.
 */
export function isAppUrl (url: string, appUrl: string): boolean {
  let u: URL
  try { u = new URL(url) } catch { return false }
  const app = new URL(appUrl)
  u.hash = ''
  u.search = ''
  app.hash = ''
  app.search = ''
  return u.protocol === 'file:' && u.href === app.href
}

/** True if the sending frame is the app's page at the top level (not an iframe inside it). */
export function isAppFrame (frame: WebFrameMain | null | undefined, appUrl: string): boolean {
  return frame != null && frame.parent == null && isAppUrl(frame.url, appUrl)
}

/**
 * Installs the request handler and starts forwarding worker events.
 * @returns dispose: removes the handler and stops forwarding (call before closing the worker)
 */
export function installBridge (opts: BridgeOptions): { dispose (): void } {
  const { ipcMain, worker, appUrl, target } = opts

  const onRequest = async (event: IpcMainInvokeEvent, method: unknown, params: unknown): Promise<Outcome> => {
    if (!isAppFrame(event.senderFrame, appUrl)) {
      return { error: { code: 'FORBIDDEN', message: 'requests are accepted only from the Growr window' } }
    }
    if (!isAllowedMethod(method)) {
      return { error: { code: 'BAD_ARGUMENT', message: `unknown method ${String(method).slice(0, 60)}` } }
    }
    return await worker.exchange(method, params ?? {})
  }

  const onEvent = (msg: EventMessage): void => {
    const contents = target()
    if (contents && !contents.isDestroyed()) contents.send(EVENT_CHANNEL, msg)
  }

  ipcMain.handle(REQUEST_CHANNEL, onRequest)
  worker.on('event', onEvent)
  return {
    dispose () {
      ipcMain.removeHandler(REQUEST_CHANNEL)
      worker.off('event', onEvent)
    }
  }
}
