/**
 * The release a node runs, as a content hash its ad carries (core/network/ads/advertisement.ts
 * releaseHash), so peers and certifiers can see which code a service runs and anyone can check
 * it against the published source: `growr release` in a checkout of the tag prints the same hash.
 *
 * What is hashed: every file under the code the app runs (RELEASE_DIRS) and RELEASE_FILES, the
 * lockfile included (its integrity hashes pin every dependency), in byte order of their
 * '/'-separated relative paths. Build outputs (ui/dist) are left out: they are made from ui/'s
 * sources, and a bundler's output is not byte-reproducible across machines.
 *
 *   filesDigest = BLAKE2b-256( for each file: path 0x00 BLAKE2b-256(content) )
 *   release     = releaseHash(package.json version, filesDigest)
 *
 * Runs under Node and Bare (#fs, #path).
 */
import fs from '#fs'
import path from '#path'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { releaseHash } from '../core/network/ads/advertisement.ts'
import { GrowrError } from '../core/errors.ts'

/** Folders whose files make up a release. */
export const RELEASE_DIRS = ['app', 'books', 'core', 'types', 'ui']
/** Single files that make up a release. */
export const RELEASE_FILES = ['package.json', 'package-lock.json', 'pear.json', 'tsconfig.json']
const SKIP = new Set(['node_modules', 'dist', '.git'])

/** The checkout or installed package this module belongs to. */
export const APP_ROOT: string = path.resolve(decodeURIComponent(new URL('..', import.meta.url).pathname))

export interface Release {
  version: string
  /** 64 hex characters */
  hash: string
  /** how many files it covers */
  files: number
}

/**
 * Hashes the release at `root`.
 * @param root the app's root folder (default: the one this module runs from)
 * @returns the version, the content hash and the number of files hashed
 * @throws NOT_FOUND when `root` has no package.json
 */
export function appRelease (root: string = APP_ROOT): Release {
  let version: string
  try {
    version = String(JSON.parse(b4a.toString(fs.readFileSync(path.join(root, 'package.json')))).version ?? '')
  } catch {
    throw GrowrError.NOT_FOUND(`no package.json in ${root}`)
  }
  const files: string[] = []
  for (const f of RELEASE_FILES) if (isFile(path.join(root, f))) files.push(f)
  for (const d of RELEASE_DIRS) walk(root, d, files)
  files.sort((a, b) => b4a.compare(b4a.from(a), b4a.from(b)))
  const state = b4a.alloc(sodium.crypto_generichash_STATEBYTES)
  sodium.crypto_generichash_init(state, null, 32)
  const fileHash = b4a.alloc(32)
  for (const f of files) {
    sodium.crypto_generichash(fileHash, fs.readFileSync(path.join(root, f)))
    sodium.crypto_generichash_update(state, b4a.concat([b4a.from(f), b4a.from([0]), fileHash]))
  }
  const digest = b4a.alloc(32)
  sodium.crypto_generichash_final(state, digest)
  return { version, hash: releaseHash(version, digest), files: files.length }
}

function isFile (p: string): boolean {
  try { return fs.statSync(p).isFile() } catch { return false }
}

function walk (root: string, rel: string, out: string[]): void {
  let entries: string[]
  try { entries = fs.readdirSync(path.join(root, rel)) } catch { return }
  for (const name of entries) {
    if (SKIP.has(name)) continue
    const r = rel + '/' + name
    const st = fs.statSync(path.join(root, r))
    if (st.isDirectory()) walk(root, r, out)
    else if (st.isFile()) out.push(r)
  }
}

/**
 * The running app's release hash for its ad, or undefined when its files cannot be read here
 * (an app loaded from a Pear drive has no folder on disk): the ad then says "unknown" (zeros)
 * rather than the node failing to start.
 */
export function runningRelease (): string | undefined {
  try { return appRelease().hash } catch { return undefined }
}
