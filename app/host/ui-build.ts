/**
 * Keeps the UI bundle (ui/dist) up to date for `npm start`: it is rebuilt when it is missing or
 * any source file under ui/ (outside dist/ and node_modules/) is newer than the built index.html
 * (Vite empties dist/ on every build, so that file's mtime is the build's time).
 */
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { GrowrError } from '../../core/errors.ts'

/** The build command, run with this Node from the repository root. */
export const UI_BUILD_ARGS = ['node_modules/vite/bin/vite.js', 'build', '--config', 'ui/vite.config.ts']

const SKIP = new Set(['dist', 'node_modules'])

/** Newest modification time (ms) of the files under `dir`, skipping dist/ and node_modules/. */
export function newestSource (dir: string): number {
  let newest = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(p))
    else if (entry.isFile()) newest = Math.max(newest, fs.statSync(p).mtimeMs)
  }
  return newest
}

/** True when `uiDir`/dist/index.html is missing or older than a source file under `uiDir`. */
export function needsBuild (uiDir: string): boolean {
  let built: number
  try {
    built = fs.statSync(path.join(uiDir, 'dist', 'index.html')).mtimeMs
  } catch {
    return true
  }
  return newestSource(uiDir) > built
}

/**
 * Builds the UI with Vite (UI_BUILD_ARGS) from `repoRoot`, its output on this process's stderr.
 * @throws GrowrError BAD_ARGUMENT when the build fails or ui/vite.config.ts is missing
 */
export async function buildUi (repoRoot: string): Promise<void> {
  if (!fs.existsSync(path.join(repoRoot, 'ui', 'vite.config.ts'))) throw GrowrError.BAD_ARGUMENT(`no UI to build: ${path.join(repoRoot, 'ui', 'vite.config.ts')} is missing`)
  // both of its streams go to our stderr: the launcher's stdout carries only its own lines
  const child = spawn(process.execPath, UI_BUILD_ARGS, { cwd: repoRoot, stdio: ['ignore', 2, 2] })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (c) => resolve(c))
  })
  if (code !== 0) throw GrowrError.BAD_ARGUMENT(`the UI build failed (exit ${code}): node ${UI_BUILD_ARGS.join(' ')}`)
}
