/**
 * The renderer's end of the desktop bridge: what the preload exposes to the page as
 * `window.growr`, and nothing more. The page gets two functions; it never sees ipcRenderer,
 * an IPC event object (whose `sender` is ipcRenderer) or any channel name of its choosing.
 *
 *   window.growr.request(method, params) -> Promise<result>
 *     rejects with a plain `{ code, message }` (GrowrError codes, FORBIDDEN, WORKER_EXITED...):
 *     a plain object because contextBridge copies Error objects without their own properties,
 *     which would lose the code.
 *   window.growr.onEvent(cb) -> unsubscribe; cb receives `{ event, data }` (SessionEvents)
 *
 * Pure: app/desktop/electron-preload.ts passes Electron's contextBridge and ipcRenderer in.
 * The preload runs sandboxed, so the build bundles this into one CommonJS file.
 */
import type { ContextBridge, IpcRenderer, IpcRendererEvent } from 'electron'
import type { EventMessage } from '../session.ts'
import type { Outcome } from '../worker/spawn.ts'
import { EVENT_CHANNEL, REQUEST_CHANNEL } from './channels.ts'

/** The API the page sees as `window.growr` (ui/lib/contract-client.ts GrowrBridge). */
export interface GrowrBridge {
  request (method: string, params?: unknown): Promise<unknown>
  onEvent (cb: (msg: EventMessage) => void): () => void
}

/** Builds the two functions over `ipcRenderer`. */
export function createGrowrApi (ipcRenderer: IpcRenderer): GrowrBridge {
  return {
    async request (method: string, params?: unknown): Promise<unknown> {
      const outcome = await ipcRenderer.invoke(REQUEST_CHANNEL, method, params ?? {}) as Outcome
      if ('error' in outcome) {
        const { code, message } = outcome.error
        // a plain object, not an Error: see the module comment (codes must survive contextBridge)
        throw { code, message }
      }
      return outcome.result
    },
    onEvent (cb: (msg: EventMessage) => void): () => void {
      if (typeof cb !== 'function') throw new TypeError('onEvent needs a function')
      const listener = (_event: IpcRendererEvent, msg: EventMessage) => { cb(msg) }
      ipcRenderer.on(EVENT_CHANNEL, listener)
      return () => { ipcRenderer.removeListener(EVENT_CHANNEL, listener) }
    }
  }
}

/** Exposes `window.growr` in the page's world (contextIsolation keeps it a copy, not a handle). */
export function exposeGrowr (electron: { contextBridge: ContextBridge; ipcRenderer: IpcRenderer }): void {
  electron.contextBridge.exposeInMainWorld('growr', createGrowrApi(electron.ipcRenderer))
}
