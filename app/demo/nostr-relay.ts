/**
 * A real Nostr relay in this process, for the demo and the tests: @nostr-relay/core (the NIP-01
 * relay: EVENT/REQ/CLOSE, signature and id checks, replaceable and addressable events) over a
 * WebSocket server (ws) on a loopback port, its events in SQLite
 * (@nostr-relay/event-repository-sqlite), each message checked by @nostr-relay/validator first.
 *
 * The database can be a file, so a relay stopped and started again on the same port and file is
 * the same relay come back with its events: what a client's retry after an outage meets.
 */
import { WebSocketServer, type WebSocket } from 'ws'
import { NostrRelay } from '@nostr-relay/core'
import { Validator } from '@nostr-relay/validator'
import { EventRepositorySqlite } from '@nostr-relay/event-repository-sqlite'
import { freeTcpPort } from './chain-process.ts'

/** A running relay. */
export interface LocalRelay {
  /** ws://127.0.0.1:PORT */
  url: string
  port: number
  /** events stored, as the relay would answer a REQ (filters per NIP-01) */
  query (filter: Record<string, unknown>): Promise<Array<Record<string, unknown>>>
  /** stops accepting connections and drops the connected clients; the database file stays */
  close (): Promise<void>
}

/**
 * Starts a relay.
 * @param opts.port a port (default: a free one); reuse a stopped relay's to bring it back
 * @param opts.file the SQLite database (default: in memory)
 * @returns the relay, listening
 */
export async function startLocalRelay (opts: { port?: number; file?: string } = {}): Promise<LocalRelay> {
  const port = opts.port ?? await freeTcpPort()
  const repository = new EventRepositorySqlite(opts.file ?? ':memory:')
  await repository.init()
  // no filter-result cache: with it (1 s by default) a REQ right after an identical one is answered
  // from the first one's results, missing events stored in between
  const relay = new NostrRelay(repository, { filterResultCacheTtl: 0 })
  const validator = new Validator()
  const wss = new WebSocketServer({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })
  wss.on('connection', (ws: WebSocket) => {
    relay.handleConnection(ws as never)
    ws.on('message', async (data) => {
      try {
        const message = await validator.validateIncomingMessage(data as never)
        await relay.handleMessage(ws as never, message)
      } catch (err) {
        ws.send(JSON.stringify(['NOTICE', `invalid: ${(err as Error).message.slice(0, 200)}`]))
      }
    })
    ws.on('close', () => relay.handleDisconnect(ws as never))
    ws.on('error', () => {})
  })
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    async query (filter) {
      return await relay.findEvents([filter as never]) as unknown as Array<Record<string, unknown>>
    },
    async close () {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await relay.destroy()
      await repository.destroy?.()
    }
  }
}
