/**
 * Optional P2P over-the-air updates through `pear-runtime` (its PearRuntime wraps
 * pear-runtime-updater: it replicates the app drive named by package.json `upgrade` and
 * downloads strictly newer versions). pear-runtime is NOT a dependency of this package (see
 * docs/RELEASE.md, "Updates"): a release build installs it; everywhere else this loader finds
 * nothing and the app runs without updates. It is loaded lazily, only for a packaged app whose
 * package.json names an upgrade link, so development runs and tests never touch it.
 */
import path from 'node:path'
import type { Updater } from './main.ts'

export interface UpdaterContext {
  /** Electron's app.isPackaged: only a packaged app (.app, AppImage, MSIX) can swap itself */
  isPackaged: boolean
  /** package.json `upgrade`: the pear:// link releases are staged/multisigned to */
  upgrade?: string
  /** package.json `version`: only strictly newer versions are taken */
  version: string
  /** where the updater keeps its corestore (under Electron's userData, not the node's storage) */
  dir: string
  /** the app bundle to swap (macOS .app, Linux AppImage, Windows package) */
  appPath: string
  /** the bundle's file name with extension: Growr.app, Growr.AppImage, Growr.msix */
  name: string
  /** loads a module by name (default: dynamic import); tests pass a stand-in */
  load?: (name: string) => Promise<unknown>
  log?: (line: string) => void
}

type PearRuntimeCtor = new (opts: Record<string, unknown>) => Updater & { ready (): Promise<void> }

/**
 * The updater for this run, or null when updates do not apply (not packaged, no upgrade link)
 * or pear-runtime is not installed. Never throws for a missing module; rethrows if the runtime
 * is there but fails to open.
 */
export async function loadPearUpdater (ctx: UpdaterContext): Promise<Updater | null> {
  const log = ctx.log ?? (() => {})
  if (!ctx.isPackaged) return null
  if (!ctx.upgrade) { log('updates off: package.json has no upgrade link'); return null }
  const load = ctx.load ?? ((name: string) => import(name))
  let mod: { default?: unknown }
  try {
    mod = await load('pear-runtime') as { default?: unknown }
  } catch (err) {
    log(`updates off: pear-runtime is not installed (${(err as Error).message.split('\n')[0]})`)
    return null
  }
  const PearRuntime = (mod.default ?? mod) as PearRuntimeCtor
  const runtime = new PearRuntime({
    dir: path.join(ctx.dir, 'pear-runtime'),
    upgrade: ctx.upgrade,
    version: ctx.version,
    app: ctx.appPath,
    name: ctx.name
  })
  await runtime.ready()
  return runtime
}

/** The packaged bundle's file name for `platform`. */
export function bundleName (productName: string, platform: string): string {
  if (platform === 'darwin') return `${productName}.app`
  if (platform === 'win32') return `${productName}.msix`
  return `${productName}.AppImage`
}
