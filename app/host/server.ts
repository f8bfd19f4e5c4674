/**
 * The headless host: runs the core worker and serves the UI to a browser on this machine only.
 *
 *   http://127.0.0.1:<port>/...   the built UI bundle (static; public, it holds no data)
 *   ws://127.0.0.1:<port>/ws      the session's messages both ways (app/host/bridge.ts)
 *
 * The URL handed to the user is `http://127.0.0.1:<port>/#token=<token>`: the token sits in the
 * fragment, which browsers never send, so it reaches no log and no Referer. The UI reads it from
 * `location.hash` and opens `new WebSocket('ws://' + location.host + '/ws', ['growr.v1', 'token.' + token])`.
 * An upgrade is refused before the handshake (no WebSocket is ever opened) with
 *   403 when the Host is not 127.0.0.1:<port> / localhost:<port> (DNS rebinding) or the Origin is
 *       not exactly http://127.0.0.1:<port> / http://localhost:<port> (another site's page),
 *   401 when the `growr.v1` + `token.<token>` subprotocols are missing or the token is wrong,
 *   404 for any path but /ws.
 * Plain HTTP requests with a foreign Host get 403 too. See app/host/README.md.
 */
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { GrowrError } from '../../core/errors.ts'
import type { BootstrapNode } from '../../core/network/swarm.ts'
import { spawnWorker, type WorkerHandle, type WorkerRuntime } from '../worker/spawn.ts'
import { bitcoinWorkerArgs, rootstockWorkerArgs, type HostBitcoinConfig, type HostRootstockConfig } from '../worker/backend-args.ts'
import { serveStatic } from './static.ts'
import { bridge } from './bridge.ts'
import { PROTOCOL, allowedHosts, allowedOrigins, newToken, securityHeaders, tokenEquals, tokenFromProtocols } from './security.ts'

/** Largest WebSocket message accepted (bytes): a backup restore carries a base64 file. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024

export interface HostOptions {
  /** the node's storage directory */
  storage: string
  /** private DHT bootstrap nodes (`host:port,...` or parsed); absent = public DHT */
  bootstrap?: string | BootstrapNode[]
  announce?: boolean
  /** TCP port on 127.0.0.1; 0 (default) = any free port. EADDRINUSE is thrown as is. */
  port?: number
  /** the built UI bundle (must contain index.html) */
  uiDir: string
  /** the worker's runtime, default 'bare' */
  runtime?: WorkerRuntime
  /** unlocks an encrypted identity */
  passphrase?: string
  /** receives the worker's log lines (default: this process's stderr) */
  onLog?: (line: string) => void
  /** a Bitcoin backend for the node's Bitcoin rail (its password reaches the worker in the environment only) */
  bitcoin?: HostBitcoinConfig
  /** a Rootstock backend for the node's Rootstock rail */
  rootstock?: HostRootstockConfig
}

export interface Host {
  /** `http://127.0.0.1:<port>/#token=<token>`: give it to the user only */
  url: string
  token: string
  port: number
  /** the runtime the worker reports (session.status) */
  runtime: WorkerRuntime
  /** the core worker; its 'exit' event says the core stopped */
  worker: WorkerHandle
  /** closes the sockets, the HTTP server and the worker (idempotent) */
  close (): Promise<void>
}

/**
 * Starts the host: listens on 127.0.0.1, then spawns the worker and waits until its session
 * answers `session.status`.
 * @throws GrowrError BAD_ARGUMENT when `uiDir` has no index.html or a backend setting is malformed
 *   (app/worker/backend-args.ts); the listen error (e.g.
 *   EADDRINUSE) when the port is taken; WORKER_EXITED when the worker stops before answering
 */
export async function startHost (opts: HostOptions): Promise<Host> {
  let root: string
  try {
    root = fs.realpathSync(path.resolve(opts.uiDir))
    if (!fs.statSync(path.join(root, 'index.html')).isFile()) throw new Error('not a file')
  } catch {
    throw GrowrError.BAD_ARGUMENT(`the UI bundle ${opts.uiDir} has no index.html (build the UI first)`)
  }
  // a bad backend setting is refused before anything listens
  if (opts.bitcoin) bitcoinWorkerArgs(opts.bitcoin)
  if (opts.rootstock) rootstockWorkerArgs(opts.rootstock)
  const token = newToken()
  let port = 0
  let hosts: string[] = []
  let origins: string[] = []
  let headers: Record<string, string> = {}

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    // select growr.v1 so the token protocol is never echoed back
    handleProtocols: (protocols) => protocols.has(PROTOCOL) ? PROTOCOL : false
  })
  const server = http.createServer((req, res) => {
    if (!hosts.includes(req.headers.host ?? '')) {
      res.writeHead(403, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('forbidden\n')
      return
    }
    serveStatic(root, req, res, headers)
  })
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {})
    const refuse = (status: number) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (!hosts.includes(req.headers.host ?? '')) return refuse(403)
    if ((req.url ?? '').split('?', 1)[0] !== '/ws') return refuse(404)
    if (!origins.includes(req.headers.origin ?? '')) return refuse(403)
    const given = tokenFromProtocols(req.headers['sec-websocket-protocol'])
    if (given === null || !tokenEquals(given, token)) return refuse(401)
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as { port: number }).port
  hosts = allowedHosts(port)
  origins = allowedOrigins(port)
  headers = securityHeaders(port)

  const worker = spawnWorker({ storage: opts.storage, bootstrap: opts.bootstrap, announce: opts.announce, runtime: opts.runtime, passphrase: opts.passphrase, onLog: opts.onLog, bitcoin: opts.bitcoin, rootstock: opts.rootstock })
  const unbridge = bridge(wss, worker)

  let closing: Promise<void> | null = null
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unbridge()
      await Promise.all([...wss.clients].map((ws) => new Promise<void>((resolve) => {
        if (ws.readyState === ws.CLOSED) return resolve()
        const timer = setTimeout(() => ws.terminate(), 1000) // a tab that never answers the close frame
        ws.once('close', () => { clearTimeout(timer); resolve() })
        ws.close(1001, 'the host is stopping')
      })))
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() })
      await worker.close()
    })()
    return closing
  }

  try {
    const status = await worker.request('session.status', {})
    return { url: `http://127.0.0.1:${port}/#token=${token}`, token, port, runtime: status.runtime, worker, close }
  } catch (err) {
    await close()
    throw err
  }
}
