/**
 * The local control channel of a running node: newline-delimited JSON requests over a Unix
 * socket in the storage directory. The directory is 0700 and the socket 0600, so only their
 * owner can drive the node; and a client talks only to a socket its own user owns, in a
 * directory nobody else can write, because what it sends (a backup passphrase) must not reach
 * a socket another local user planted.
 *   request  {"id":1,"method":"loan.apply","params":{...}}
 *   response {"id":1,"result":...} | {"id":1,"error":{"code":"...","message":"..."}}
 */
import net from 'node:net'
import fs from 'node:fs'
import path from 'node:path'
import { GrowrError, type GrowrErrorCode } from '../core/errors.ts'
import { checkSocket, securePrivateDir } from '../core/storage-dir.ts'
import type { Handlers } from './contract.ts'

export function socketPath (storage: string): string { return path.join(storage, 'growr.sock') }

/**
 * Serves `handlers` on the node's socket until the returned close() is called.
 * @throws GrowrError STORAGE_UNSAFE when the storage directory is not private (storage-dir.ts)
 */
export async function serve (storage: string, handlers: Handlers): Promise<{ close (): Promise<void> }> {
  securePrivateDir(storage)
  const file = socketPath(storage)
  fs.rmSync(file, { force: true }) // stale from a crash: the store lock already proved no other node runs here
  const server = net.createServer((sock) => {
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('error', () => {})
    sock.on('data', (chunk: string) => {
      buf += chunk
      let nl: number
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        void answer(line).then((res) => { if (!sock.destroyed) sock.write(JSON.stringify(res) + '\n') })
      }
    })
  })
  async function answer (line: string): Promise<unknown> {
    let req: { id?: unknown; method?: unknown; params?: unknown }
    try { req = JSON.parse(line) } catch { return { id: null, error: { code: 'BAD_ARGUMENT', message: 'request is not JSON' } } }
    const handler = typeof req.method === 'string' && Object.hasOwn(handlers, req.method) ? handlers[req.method as keyof Handlers] : null
    if (!handler) return { id: req.id, error: { code: 'BAD_ARGUMENT', message: `unknown method ${String(req.method)}` } }
    try {
      return { id: req.id, result: await (handler as (p: unknown) => Promise<unknown>)(req.params ?? {}) }
    } catch (err) {
      const e = err as GrowrError
      return { id: req.id, error: { code: e.code ?? 'INTERNAL', message: e.message } }
    }
  }
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(file, resolve) })
  fs.chmodSync(file, 0o600)
  return {
    async close () {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      fs.rmSync(file, { force: true })
    }
  }
}

/**
 * Calls one method on the node running at `storage`.
 * @returns null when no node is running there (so the caller may open the storage itself)
 * @throws GrowrError STORAGE_UNSAFE, before connecting, when the socket is a symlink, not a
 *   socket, or owned by another user, or the directory is not private; otherwise GrowrError
 *   with the node's code when the method fails
 */
export async function call (storage: string, method: string, params: unknown): Promise<{ result: unknown } | null> {
  const file = socketPath(storage)
  if (!checkSocket(storage, file)) return null
  return await new Promise((resolve, reject) => {
    const sock = net.connect(file)
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(null)
      else reject(err)
    })
    sock.on('connect', () => sock.write(JSON.stringify({ id: 1, method, params }) + '\n'))
    sock.on('data', (chunk: string) => {
      buf += chunk
      const nl = buf.indexOf('\n')
      if (nl === -1) return
      sock.end()
      const res = JSON.parse(buf.slice(0, nl)) as { result?: unknown; error?: { code: GrowrErrorCode; message: string } }
      if (res.error) reject(new GrowrError(res.error.code, res.error.message.replace(/^[A-Z_]+: /, '')))
      else resolve({ result: res.result })
    })
  })
}
