/**
 * Carries the session's messages between authenticated WebSockets and the core worker.
 * A socket's request `{id, method, params}` is sent to the worker under the worker handle's own
 * id (so two tabs may both use id 1) and the response comes back to that socket with its id;
 * every event the worker pushes goes to every open socket. Text frames only, one JSON message
 * each, in the format of app/session.ts.
 */
import type { WebSocket, WebSocketServer } from 'ws'
import type { WorkerHandle } from '../worker/spawn.ts'
import type { EventMessage } from '../session.ts'

/** WebSocket close code when the core worker has stopped (RFC 6455 1011: internal error). */
export const CLOSE_CORE_STOPPED = 1011

/**
 * Wires `wss` to `worker`: serves each connection the server accepts (they are authenticated
 * before the upgrade) and broadcasts events. When the worker exits, every socket is closed with
 * 1011. Returns a function that unwires.
 */
export function bridge (wss: WebSocketServer, worker: WorkerHandle): () => void {
  const onevent = (msg: EventMessage) => {
    const frame = JSON.stringify(msg)
    for (const ws of wss.clients) if (ws.readyState === ws.OPEN) ws.send(frame)
  }
  const onexit = () => {
    // after the WORKER_EXITED replies to the requests in flight, which settle in this turn
    setImmediate(() => { for (const ws of wss.clients) ws.close(CLOSE_CORE_STOPPED, 'the core stopped') })
  }
  const onconnection = (ws: WebSocket) => serve(ws, worker)
  worker.on('event', onevent)
  worker.on('exit', onexit)
  wss.on('connection', onconnection)
  return () => {
    worker.off('event', onevent)
    worker.off('exit', onexit)
    wss.off('connection', onconnection)
  }
}

function serve (ws: WebSocket, worker: WorkerHandle): void {
  ws.on('error', () => {}) // a tab going away mid-frame is normal
  ws.on('message', (data, isBinary) => {
    if (isBinary) return reply(ws, null, { error: { code: 'BAD_ARGUMENT', message: 'messages are JSON text frames' } })
    let req: { id?: unknown; method?: unknown; params?: unknown }
    try {
      req = JSON.parse(data.toString())
    } catch {
      return reply(ws, null, { error: { code: 'BAD_ARGUMENT', message: 'request is not JSON' } })
    }
    const id = typeof req?.id === 'number' || typeof req?.id === 'string' ? req.id : null
    if (id === null || typeof req.method !== 'string') return reply(ws, id, { error: { code: 'BAD_ARGUMENT', message: 'a request is {id, method, params}' } })
    void worker.exchange(req.method, req.params ?? {}).then((outcome) => reply(ws, id, outcome))
  })
}

function reply (ws: WebSocket, id: unknown, outcome: object): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, ...outcome }))
}
