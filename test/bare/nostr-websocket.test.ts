// The Nostr client under Bare, the runtime the core worker uses: `#websocket` is the WHATWG
// adapter over bare-ws (core/nostr/bare-websocket.ts), and nostr-tools' Relay and the node's own
// relay pool publish through it to a real relay (@nostr-relay/core, app/demo/nostr-relay.ts) run
// by a Node child process, then read the events back. Events are signed the way the worker signs
// them (core/nostr/keys.ts: NIP-06 key, libsodium's randomness, since Bare has no
// crypto.getRandomValues). Under Node (test:node also globs test/bare) the tests are skipped:
// there `#websocket` is the `ws` package, covered by the other Nostr tests.
import test from 'brittle'
import '../../core/runtime/text-encoding.ts'
import '../../core/nostr/url-search-sort.ts' // what core/nostr/relays.ts installs before nostr-tools' relay
import { getEventHash, verifyEvent, type Event as NostrEvent } from 'nostr-tools/pure'
import { NostrSigner, deriveNostrKey } from '../../core/nostr/keys.ts'

const isBare = typeof (globalThis as { Bare?: unknown }).Bare !== 'undefined'
const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname)
// a fixed BIP-39 seed: the worker's wallet lends its own the same way
const SEED = new Uint8Array(64).map((_, i) => (i * 7 + 3) & 0xff)
const lender = { withSeed: async <T> (fn: (seed: Uint8Array) => T | Promise<T>) => await fn(SEED) }

interface Child { url: string; stop: () => Promise<void>; relayLog: () => string }

// the relay runs under Node (better-sqlite3, ws): a child that lives as long as its stdin
async function startRelayProcess (t: { teardown: (fn: () => unknown) => void }): Promise<Child> {
  const { spawn } = (await import('bare-subprocess' as string)) as { spawn: (file: string, args: string[], opts: Record<string, unknown>) => any }
  const script = [
    `const { startLocalRelay } = await import(${JSON.stringify(ROOT + 'app/demo/nostr-relay.ts')})`,
    'const relay = await startLocalRelay()',
    "process.stdout.write('RELAY ' + relay.url + '\\n')",
    "process.stdin.on('end', async () => { await relay.close(); process.exit(0) })",
    'process.stdin.resume()'
  ].join('\n')
  const child = spawn('node', ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    child.stdin.end()
    const timer = setTimeout(() => { try { child.kill() } catch {} }, 5000)
    await exited
    clearTimeout(timer)
  }
  t.teardown(stop)
  child.stderr.on('data', (d: Uint8Array) => { err += new TextDecoder().decode(d) })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the relay process did not start in 30 s: ${err.slice(-500)}`)), 30_000)
    child.stdout.on('data', (d: Uint8Array) => {
      out += new TextDecoder().decode(d)
      const m = /RELAY (ws:\/\/\S+)\n/.exec(out)
      if (m) { clearTimeout(timer); resolve(m[1]) }
    })
    child.on('exit', (code: number) => { clearTimeout(timer); reject(new Error(`the relay process exited (${code}): ${err.slice(-500)}`)) })
  })
  return { url, stop, relayLog: () => err }
}

async function readBack (Relay: any, WebSocket: unknown, url: string, filter: Record<string, unknown>): Promise<NostrEvent[]> {
  const relay = await Relay.connect(url, { websocketImplementation: WebSocket })
  try {
    return await new Promise<NostrEvent[]>((resolve, reject) => {
      const got: NostrEvent[] = []
      const timer = setTimeout(() => reject(new Error('no EOSE from the relay in 10 s')), 10_000)
      const sub = relay.subscribe([filter], {
        onevent: (e: NostrEvent) => { got.push(e) },
        oneose: () => { clearTimeout(timer); sub.close(); resolve(got) }
      })
    })
  } finally {
    relay.close()
  }
}

test('bare websocket - #websocket is the bare-ws adapter; nostr-tools Relay publishes a signed event and reads it back', { skip: !isBare, timeout: 60_000 }, async (t) => {
  const WebSocket = (await import('#websocket' as string)).default
  const Adapter = (await import('../../core/nostr/bare-websocket.ts')).default
  t.is(WebSocket, Adapter, '#websocket resolves to core/nostr/bare-websocket.ts under Bare')
  const { Relay } = await import('nostr-tools/relay')
  const child = await startRelayProcess(t)

  const signer = new NostrSigner(lender)
  const event = await signer.sign({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [['t', 'growr']], content: 'published from Bare' })
  t.ok(verifyEvent({ ...event }), 'the event the signer made under Bare verifies (NIP-01 id, BIP-340 signature)')

  const relay = await Relay.connect(child.url, { websocketImplementation: WebSocket } as never)
  t.teardown(() => relay.close())
  t.ok(relay.connected, 'connected over bare-ws')
  const ok = await relay.publish(event)
  t.is(typeof ok, 'string', `the relay answered OK true (${String(ok)})`)

  const back = await readBack(Relay, WebSocket, child.url, { ids: [event.id] })
  t.is(back.length, 1, 'one event read back by id')
  t.alike({ ...back[0] }, { ...event }, 'the same event, field for field')
  t.ok(verifyEvent({ ...back[0] }), 'and it verifies')

  // a hostile client: the content changed and the id recomputed, the old signature kept
  const body = { kind: event.kind, created_at: event.created_at, tags: event.tags, content: 'forged from Bare', pubkey: event.pubkey }
  const forged = { ...body, id: getEventHash(body), sig: event.sig }
  await t.exception(async () => { await relay.publish(forged) }, /invalid|signature/i, 'a forged event is refused by the relay with its reason')
  t.is((await readBack(Relay, WebSocket, child.url, { ids: [forged.id] })).length, 0, 'and the relay does not hold it')
})

test('bare websocket - the node\'s relay pool delivers an outbox event from Bare', { skip: !isBare, timeout: 60_000 }, async (t) => {
  const { RelayPool } = await import('../../core/nostr/relays.ts')
  const WebSocket = (await import('#websocket' as string)).default
  const { Relay } = await import('nostr-tools/relay')
  const child = await startRelayProcess(t)
  const signer = new NostrSigner(lender)
  const event = await signer.sign({ kind: 0, created_at: Math.floor(Date.now() / 1000), tags: [], content: JSON.stringify({ name: 'Kootenay Credit', about: 'from Bare' }) })
  t.is(event.pubkey, deriveNostrKey(SEED, 0).publicKey, 'signed by the organization\'s NIP-06 key')

  let sent: string | null = null
  let wake: () => void = () => {}
  const delivered = new Promise<void>((resolve) => { wake = resolve })
  const pool = new RelayPool({
    WebSocket,
    timeoutMs: 5000,
    source: {
      next: async () => sent === null ? event : null,
      pending: async () => sent === null ? 1 : 0,
      delivered: async (_url, id) => { sent = id; wake() },
      refused: async (_url, id, reason) => { throw new Error(`refused ${id}: ${reason}`) }
    }
  })
  t.teardown(() => pool.close())
  pool.setRelays([child.url])
  const timer = setTimeout(() => wake(), 20_000)
  await delivered
  clearTimeout(timer)
  await new Promise((resolve) => setTimeout(resolve, 50)) // the state is set right after delivered() returns
  t.is(sent, event.id, `delivered (relay state ${JSON.stringify(pool.states()[0])})`)
  t.is(pool.states()[0].state, 'ok', 'the relay is ok')

  const seen: NostrEvent[] = []
  const gotOne = new Promise<void>((resolve) => {
    pool.subscribe([{ kinds: [0], authors: [event.pubkey] }], (e) => { seen.push(e); resolve() })
  })
  let timer2: ReturnType<typeof setTimeout> | undefined
  await Promise.race([gotOne, new Promise((resolve) => { timer2 = setTimeout(resolve, 10_000) })])
  clearTimeout(timer2)
  t.is(seen[0]?.id, event.id, 'the pool\'s subscription reads the profile back')
  t.is((await readBack(Relay, WebSocket, child.url, { kinds: [0], authors: [event.pubkey] })).length, 1, 'the relay holds it')
})

test('bare websocket - bad URLs throw a SyntaxError; an unreachable relay fires error then close 1006; close() is clean', { skip: !isBare, timeout: 30_000 }, async (t) => {
  const WebSocket = (await import('../../core/nostr/bare-websocket.ts')).default
  for (const bad of ['not a url', 'ftp://relay.example', 'ws://relay.example/#frag']) {
    try {
      // eslint-disable-next-line no-new
      new WebSocket(bad)
      t.fail(`${bad} was taken`)
    } catch (err) {
      t.is((err as Error).name, 'SyntaxError', `${bad}: ${(err as Error).message}`)
    }
  }
  const child = await startRelayProcess(t)
  const live = new WebSocket(child.url)
  const order: string[] = []
  t.exception(() => live.send('["REQ"]'), /connecting/, 'send while connecting throws InvalidStateError')
  const shut = await new Promise<{ code?: number; wasClean?: boolean }>((resolve) => {
    live.addEventListener('open', () => { order.push('open'); live.close(1000, 'done') })
    live.onclose = (e) => { order.push('close'); resolve(e) }
    live.onerror = (e) => order.push(`error ${e.message}`)
  })
  t.alike(order, ['open', 'close'], 'open, then close, no error')
  t.is(shut.code, 1000, 'the relay answered the close frame: 1000')
  t.is(shut.wasClean, true, 'a clean close')
  t.execution(() => live.send('x'), 'send after close drops the message, as the spec says')

  // the relay's port once it is gone: nobody listens there
  await child.stop()
  const ws = new WebSocket(child.url)
  const events: string[] = []
  const closed = await new Promise<{ code?: number; wasClean?: boolean }>((resolve) => {
    ws.onopen = () => events.push('open')
    ws.onerror = (e) => events.push(`error ${e.message ?? ''}`)
    ws.onclose = (e) => { events.push('close'); resolve(e) }
  })
  t.ok(events[0]?.startsWith('error'), `error first (${events[0]})`)
  t.is(events.at(-1), 'close', 'then close, never open')
  t.is(closed.code, 1006, 'close code 1006 (abnormal)')
  t.is(closed.wasClean, false, 'not clean')
  t.is(ws.readyState, WebSocket.CLOSED, 'readyState CLOSED')
})
