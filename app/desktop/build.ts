/**
 * Builds the two files Electron loads, with esbuild (Electron runs JavaScript only):
 *
 *   <outdir>/main.mjs     the main process (electron-main.ts), ESM, for Electron 45's Node 22;
 *                         npm packages stay external and load from the repository's node_modules
 *   <outdir>/preload.cjs  the preload (electron-preload.ts), one self-contained CommonJS file,
 *                         as sandboxed preloads require; its only import is `electron`
 *
 * Bundling moves code, which would break modules that find files relative to themselves
 * (app/worker/spawn.ts locates app/worker.ts and the `bare` binary from its import.meta.url).
 * So every `import.meta.url` in our sources is rewritten to the source file's URL, computed at
 * run time relative to the bundle: the tree can move as a whole (packaged builds) and paths
 * still hold. The outdir must therefore stay inside the repository (or the packaged app), next
 * to node_modules and the TypeScript sources the worker runs.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'

const HERE = path.dirname(fileURLToPath(import.meta.url))

/** Where `npm run desktop` puts the bundles. */
export const DEFAULT_OUTDIR = path.join(HERE, 'dist')

/** Electron 45 ships Chromium 140 and Node 22. */
const ELECTRON_TARGETS = { main: 'node22', preload: 'chrome140' }

/**
 * Rewrites `import.meta.url` in each bundled .ts source to that source's own URL, expressed
 * relative to the bundle so it survives moving the whole tree.
 */
function keepImportMetaUrl (outdir: string): Plugin {
  return {
    name: 'keep-import-meta-url',
    setup (b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        const source = await fs.promises.readFile(args.path, 'utf8')
        if (!source.includes('import.meta.url')) return undefined
        const rel = path.relative(outdir, args.path).split(path.sep).join('/')
        const url = `new URL(${JSON.stringify(rel)}, import.meta.url).href`
        return { contents: source.replace(/\bimport\.meta\.url\b/g, url), loader: 'ts' }
      })
    }
  }
}

/**
 * Builds main.mjs and preload.cjs into `outdir` (created if needed).
 * @returns the absolute paths of the two files
 * @throws esbuild's error (with its messages) when a source does not compile
 */
export async function buildDesktop (outdir: string = DEFAULT_OUTDIR): Promise<{ main: string; preload: string }> {
  const dir = path.resolve(outdir)
  const main = path.join(dir, 'main.mjs')
  const preload = path.join(dir, 'preload.cjs')
  await build({
    entryPoints: [path.join(HERE, 'electron-main.ts')],
    outfile: main,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ELECTRON_TARGETS.main,
    packages: 'external',
    plugins: [keepImportMetaUrl(dir)],
    sourcemap: 'inline',
    logLevel: 'silent'
  })
  await build({
    entryPoints: [path.join(HERE, 'electron-preload.ts')],
    outfile: preload,
    bundle: true,
    platform: 'browser',
    format: 'cjs',
    target: ELECTRON_TARGETS.preload,
    external: ['electron'],
    logLevel: 'silent'
  })
  return { main, preload }
}
