// The headless host (app/host/server.ts): static UI on 127.0.0.1, the session over an
// authenticated WebSocket, and nothing for a caller without the token or from another origin.
import test from 'brittle'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import WebSocket from 'ws'
import createTestnet from 'hyperdht/testnet.js'
import type { Assertion } from 'brittle'
import { tmpDir } from './helpers/net.ts'
import { startHost, type Host } from '../app/host/server.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'

const SECRET = 'the file next to the bundle'

/** A UI bundle fixture, with a file and a symlink outside it that must never be served. */
function fixtureUi (t: Assertion): string {
  const dir = tmpDir(t, 'growr-host-')
  const ui = path.join(dir, 'ui')
  fs.mkdirSync(path.join(ui, 'assets'), { recursive: true })
  fs.writeFileSync(path.join(ui, 'index.html'), '<!doctype html><title>growr</title><script src="./assets/app.js"></script>')
  fs.writeFileSync(path.join(ui, 'assets', 'app.js'), 'console.log("growr")')
  fs.writeFileSync(path.join(dir, 'secret.txt'), SECRET)
  fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(ui, 'assets', 'link.txt'))
  return ui
}

async function startFixtureHost (t: Assertion): Promise<{ host: Host; logs: string[] }> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  t.teardown(() => testnet.destroy(), { order: 1 }) // after the host and its worker
  const logs: string[] = []
  const host = await startHost({ storage: tmpDir(t), bootstrap: testnet.bootstrap, uiDir: fixtureUi(t), port: 0, onLog: (l) => logs.push(l) })
  t.teardown(() => host.close(), { order: 0 })
  return { host, logs }
}

/** One GET with the path sent exactly as given (no client-side normalisation). */
function get (port: number, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Tries to open the WebSocket: the open socket, or the HTTP status that refused it. */
function connect (port: number, opts: { protocols?: string[]; origin?: string; host?: string; path?: string }): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = opts.host ? { host: opts.host } : {}
    const ws = new WebSocket(`ws://127.0.0.1:${port}${opts.path ?? '/ws'}`, opts.protocols ?? [], { origin: opts.origin, headers })
    ws.once('open', () => resolve({ ws }))
    ws.once('unexpected-response', (_req, res) => { resolve({ status: res.statusCode ?? 0 }); res.resume(); ws.terminate() })
    ws.once('error', (err) => { if (ws.readyState !== ws.CLOSED) reject(err) })
  })
}

/** A connected client that sends requests and collects events. */
function client (t: Assertion, ws: WebSocket) {
  t.teardown(() => ws.terminate(), { order: -1 })
  const waiting = new Map<unknown, (msg: Record<string, unknown>) => void>()
  const events: Array<{ event: string; data: unknown }> = []
  const listeners: Array<() => void> = []
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString())
    if (typeof msg.event === 'string') {
      events.push(msg)
      for (const l of listeners.splice(0)) l()
      return
    }
    waiting.get(msg.id)?.(msg)
    waiting.delete(msg.id)
  })
  return {
    events,
    call (id: number | string, method: string, params: unknown = {}): Promise<Record<string, unknown>> {
      return new Promise((resolve) => {
        waiting.set(id, resolve)
        ws.send(JSON.stringify({ id, method, params }))
      })
    },
    async event (name: string): Promise<{ event: string; data: unknown }> {
      for (;;) {
        const found = events.find((e) => e.event === name)
        if (found) return found
        await new Promise<void>((resolve) => listeners.push(resolve))
      }
    }
  }
}

test('host - the WebSocket opens only with the token, from the host\'s own origin and Host', { timeout: 30_000 }, async (t) => {
  const { host } = await startFixtureHost(t)
  const { port, token } = host
  t.ok(host.url === `http://127.0.0.1:${port}/#token=${token}`, 'the URL carries the token in its fragment')
  t.ok(/^[A-Za-z0-9_-]{43}$/.test(token), '32 random bytes, base64url')
  const origin = `http://127.0.0.1:${port}`
  const good = ['growr.v1', 'token.' + token]

  t.alike(await connect(port, { origin }), { status: 401 }, 'no token: 401, no upgrade')
  t.alike(await connect(port, { origin, protocols: ['growr.v1'] }), { status: 401 }, 'the protocol without a token: 401')
  t.alike(await connect(port, { origin, protocols: ['growr.v1', 'token.' + token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')] }), { status: 401 }, 'a wrong token: 401')
  t.alike(await connect(port, { origin, protocols: ['token.' + token] }), { status: 401 }, 'the token without growr.v1: 401')
  t.alike(await connect(port, { origin: 'http://evil.example', protocols: good }), { status: 403 }, 'the right token from another origin: 403')
  t.alike(await connect(port, { protocols: good }), { status: 403 }, 'the right token without an Origin: 403')
  t.alike(await connect(port, { origin: `http://127.0.0.1:${port + 1}`, protocols: good }), { status: 403 }, 'another port is another origin: 403')
  t.alike(await connect(port, { origin, host: `evil.example:${port}`, protocols: good }), { status: 403 }, 'a foreign Host (DNS rebinding): 403')
  t.alike(await connect(port, { origin, protocols: good, path: '/other' }), { status: 404 }, 'only /ws upgrades')

  const opened = await connect(port, { origin, protocols: good })
  t.ok('ws' in opened, 'the right token from the right origin opens')
  if (!('ws' in opened)) return
  t.is(opened.ws.protocol, 'growr.v1', 'the server selects growr.v1 and never echoes the token')
  const a = client(t, opened.ws)
  const status = await a.call(1, 'session.status')
  t.is((status.result as { runtime: string }).runtime, 'bare', 'session.status answers through the Bare worker')
  t.is((status.result as { did: unknown }).did, null)

  // localhost is the same host; a second tab reuses ids freely and sees the same events
  const other = await connect(port, { origin: `http://localhost:${port}`, host: `localhost:${port}`, protocols: good })
  if (!('ws' in other)) return t.fail('localhost origin refused')
  const b = client(t, other.ws)
  const [ra, rb] = await Promise.all([a.call(7, 'identity.create'), b.call(7, 'session.status')])
  const did = (ra.result as { did: string }).did
  t.ok(did.startsWith('did:key:'), 'identity created over the socket')
  t.is(rb.id, 7, 'each socket gets its own id back')
  t.ok('result' in rb, 'and its own answer')
  t.alike((await b.event('identity')).data, { did }, 'events reach every socket')
  const err = await a.call('x', 'book.show', { book: 'nope' })
  t.is((err.error as { code: string }).code, 'BAD_ARGUMENT', 'errors keep the session\'s code')
  t.alike(await a.call(8, 'no.such.method'), { id: 8, error: { code: 'BAD_ARGUMENT', message: 'unknown method no.such.method' } }, 'unknown methods are refused by the session')
})

test('host - static files: security headers, client routes, content types, no escape from the bundle', { timeout: 30_000 }, async (t) => {
  const { host } = await startFixtureHost(t)
  const { port } = host

  const index = await get(port, '/')
  t.is(index.status, 200)
  t.ok(index.body.includes('<title>growr</title>'), 'the index is served')
  t.is(index.headers['content-type'], 'text/html; charset=utf-8')
  t.is(index.headers['content-security-policy'], `default-src 'self'; connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`, 'CSP')
  t.is(index.headers['x-frame-options'], 'DENY')
  t.is(index.headers['referrer-policy'], 'no-referrer')
  t.is(index.headers['x-content-type-options'], 'nosniff')

  const js = await get(port, '/assets/app.js')
  t.is(js.headers['content-type'], 'text/javascript; charset=utf-8', 'scripts as JavaScript')
  t.is(js.body, 'console.log("growr")')
  const route = await get(port, '/books/abc?tab=loans')
  t.ok(route.status === 200 && route.body.includes('<title>growr</title>'), 'a client route gets the app shell')
  t.is((await get(port, '/assets/missing.js')).status, 404, 'a missing asset is a 404, not the shell')

  for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/assets/link.txt', '/%00/../secret.txt']) {
    const res = await get(port, p)
    t.ok(!res.body.includes(SECRET) && res.status === 404, `${p}: ${res.status}, nothing outside the bundle`)
  }
  t.is((await get(port, '/', { host: `evil.example:${port}` })).status, 403, 'a foreign Host gets nothing')
  const post = await new Promise<number>((resolve, reject) => {
    http.request({ host: '127.0.0.1', port, path: '/', method: 'POST' }, (res) => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
  })
  t.is(post, 405, 'only GET and HEAD')
})

test('host - close ends the sockets, the server and the worker; the bundle must exist', { timeout: 30_000 }, async (t) => {
  const { host } = await startFixtureHost(t)
  const opened = await connect(host.port, { origin: `http://127.0.0.1:${host.port}`, protocols: ['growr.v1', 'token.' + host.token] })
  if (!('ws' in opened)) return t.fail('refused')
  const closed = new Promise<number>((resolve) => opened.ws.once('close', (code) => resolve(code)))
  const exited = host.worker.exited
  await host.close()
  t.is(await closed, 1001, 'the socket is closed as going away')
  t.alike(await exited, { code: 0, signal: null }, 'the worker exits 0')
  await t.exception(get(host.port, '/'), /ECONNREFUSED/, 'nothing listens any more')
  await host.close() // idempotent

  await t.exception(startHost({ storage: tmpDir(t), uiDir: tmpDir(t) }), /BAD_ARGUMENT: the UI bundle .* has no index.html/, 'no bundle, no host (and no worker)')
})

test('host - when the worker dies, requests in flight fail with WORKER_EXITED and sockets close with 1011', { timeout: 30_000 }, async (t) => {
  const { host } = await startFixtureHost(t)
  const opened = await connect(host.port, { origin: `http://127.0.0.1:${host.port}`, protocols: ['growr.v1', 'token.' + host.token] })
  if (!('ws' in opened)) return t.fail('refused')
  const c = client(t, opened.ws)
  await c.call(1, 'identity.create')
  const closed = new Promise<number>((resolve) => opened.ws.once('close', (code) => resolve(code)))
  // asking an issuer nobody runs keeps the request open until its timeout
  const issuer = publicKeyToDid(generateKeyPair(new Uint8Array(32).fill(9)).publicKey)
  const pending = c.call(2, 'vc.request', { issuer, type: 'KycCredential', timeoutMs: 20_000 })
  const early = await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 300, null))])
  t.is(early, null, 'the request is in flight')
  process.kill(host.worker.pid as number, 'SIGKILL')
  t.is(((await pending).error as { code: string }).code, 'WORKER_EXITED', 'the request in flight fails with WORKER_EXITED')
  t.is(await closed, 1011, 'the socket closes with 1011')
  t.alike(await host.worker.exited, { code: null, signal: 'SIGKILL' })
})
