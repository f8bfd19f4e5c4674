/**
 * The preload entry: exposes `window.growr` (preload.ts) with the real contextBridge and
 * ipcRenderer. Sandboxed preloads cannot import modules, so build.ts bundles this into the
 * single CommonJS file app/desktop/dist/preload.cjs, whose only require is `electron`.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { exposeGrowr } from './preload.ts'

exposeGrowr({ contextBridge, ipcRenderer })
