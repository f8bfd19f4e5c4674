// The part of Electron's API (v45) the desktop shell uses, declared here because the `electron`
// package is not a dependency (its postinstall downloads a binary, which fails offline; see
// docs/RELEASE.md). Shapes follow Electron's own electron.d.ts, reduced to what app/desktop/
// calls. If electron is installed for a run, these declarations still describe it.
declare module 'electron' {
  export interface ElectronEvent { preventDefault (): void }

  export interface WebPreferences {
    preload?: string
    contextIsolation?: boolean
    sandbox?: boolean
    nodeIntegration?: boolean
    nodeIntegrationInWorker?: boolean
    nodeIntegrationInSubFrames?: boolean
    webSecurity?: boolean
    allowRunningInsecureContent?: boolean
    webviewTag?: boolean
    navigateOnDragDrop?: boolean
    spellcheck?: boolean
  }

  export interface BrowserWindowConstructorOptions {
    width?: number
    height?: number
    minWidth?: number
    minHeight?: number
    show?: boolean
    title?: string
    backgroundColor?: string
    autoHideMenuBar?: boolean
    webPreferences?: WebPreferences
  }

  /** A frame of a page; `parent` is null for a top-level frame. */
  export interface WebFrameMain { readonly url: string; readonly parent: WebFrameMain | null }

  export interface HandlerDetails { url: string }
  export type WindowOpenHandlerResponse = { action: 'deny' } | { action: 'allow' }

  export interface WebContents {
    send (channel: string, ...args: unknown[]): void
    isDestroyed (): boolean
    setWindowOpenHandler (handler: (details: HandlerDetails) => WindowOpenHandlerResponse): void
    on (event: 'will-navigate' | 'will-redirect', listener: (event: ElectronEvent, url: string) => void): this
    on (event: 'will-attach-webview', listener: (event: ElectronEvent) => void): this
  }

  export class BrowserWindow {
    constructor (options?: BrowserWindowConstructorOptions)
    readonly webContents: WebContents
    loadFile (filePath: string): Promise<void>
    show (): void
    isDestroyed (): boolean
    once (event: 'ready-to-show', listener: () => void): this
    on (event: 'closed', listener: () => void): this
  }

  export interface IpcMainInvokeEvent { readonly senderFrame: WebFrameMain | null; readonly sender: WebContents }
  export interface IpcMain {
    handle (channel: string, listener: (event: IpcMainInvokeEvent, ...args: any[]) => unknown): void
    removeHandler (channel: string): void
  }

  export interface OnBeforeRequestDetails { url: string }
  export interface OnHeadersReceivedDetails { url: string; responseHeaders?: Record<string, string[]> }
  export interface WebRequest {
    onBeforeRequest (listener: (details: OnBeforeRequestDetails, callback: (response: { cancel?: boolean }) => void) => void): void
    onHeadersReceived (listener: (details: OnHeadersReceivedDetails, callback: (response: { responseHeaders?: Record<string, string[]> }) => void) => void): void
  }
  export interface Session {
    readonly webRequest: WebRequest
    setPermissionRequestHandler (handler: (webContents: WebContents, permission: string, callback: (granted: boolean) => void) => void): void
    setPermissionCheckHandler (handler: (webContents: WebContents | null, permission: string) => boolean): void
  }

  export interface App {
    readonly isPackaged: boolean
    whenReady (): Promise<void>
    quit (): void
    getVersion (): string
    getPath (name: 'userData' | 'temp' | 'exe'): string
    on (event: 'window-all-closed', listener: () => void): this
    on (event: 'will-quit', listener: (event: ElectronEvent) => void): this
    on (event: 'web-contents-created', listener: (event: ElectronEvent, contents: WebContents) => void): this
  }

  export const app: App
  export const ipcMain: IpcMain
  export const session: { readonly defaultSession: Session }

  // renderer side (preload)
  export interface IpcRendererEvent { readonly sender: unknown }
  export interface IpcRenderer {
    invoke (channel: string, ...args: unknown[]): Promise<any>
    on (channel: string, listener: (event: IpcRendererEvent, ...args: any[]) => void): this
    removeListener (channel: string, listener: (...args: any[]) => void): this
  }
  export interface ContextBridge { exposeInMainWorld (apiKey: string, api: unknown): void }

  export const ipcRenderer: IpcRenderer
  export const contextBridge: ContextBridge
}
