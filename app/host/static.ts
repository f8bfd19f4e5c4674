/**
 * Serves the built UI bundle from one directory: GET and HEAD only, the file's content type,
 * `index.html` for paths without an extension (client-side routes), 404 for missing assets.
 * A request can never read outside the directory: the decoded path is resolved against it and
 * the real path (symlinks followed) must still lie inside it.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm'
}

/** The Content-Type for a file name (application/octet-stream when unknown). */
export function contentType (file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
}

/**
 * The file under `root` that answers `urlPath` (the request's path, still percent-encoded,
 * without query), or null (404). `root` must be a real (symlink-free) absolute path.
 */
export function resolveAsset (root: string, urlPath: string): string | null {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return null
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null
  const inside = (p: string) => p === root || p.startsWith(root + path.sep)
  const candidate = path.resolve(root, '.' + path.posix.normalize('/' + decoded))
  if (!inside(candidate)) return null
  const file = realFile(candidate) ?? realFile(path.join(candidate, 'index.html'))
  if (file) return inside(file) ? file : null
  // a client-side route (no extension) gets the app shell; a missing asset is a 404
  return path.extname(decoded) === '' ? realFile(path.join(root, 'index.html')) : null
}

function realFile (p: string): string | null {
  try {
    const real = fs.realpathSync(p)
    return fs.statSync(real).isFile() ? real : null
  } catch {
    return null
  }
}

/**
 * Answers one request from `root` (a real absolute path). `headers` go on every response.
 */
export function serveStatic (root: string, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n')
    return
  }
  const urlPath = (req.url ?? '/').split(/[?#]/, 1)[0]
  const file = urlPath.startsWith('/') ? resolveAsset(root, urlPath) : null
  if (!file) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n')
    return
  }
  const size = fs.statSync(file).size
  // the shell must always be fresh (it names the hashed bundles); hashed assets may be cached
  const cache = path.basename(file) === 'index.html' ? 'no-store' : 'no-cache'
  res.writeHead(200, { 'Content-Type': contentType(file), 'Content-Length': String(size), 'Cache-Control': cache })
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  const stream = fs.createReadStream(file)
  stream.on('error', () => res.destroy())
  stream.pipe(res)
}
