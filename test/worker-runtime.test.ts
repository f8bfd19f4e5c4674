// The core worker (app/worker.ts) as the host and the desktop shell run it: a child process
// speaking the session's messages on stdin/stdout, under Bare by default.
import test from 'brittle'
import fs from 'node:fs'
import createTestnet from 'hyperdht/testnet.js'
import type { Assertion } from 'brittle'
import { tmpDir } from './helpers/net.ts'
import { bareBinary, spawnWorker, type SpawnOptions, type WorkerHandle } from '../app/worker/spawn.ts'
import type { EventMessage } from '../app/session.ts'

async function localBootstrap (t: Assertion) {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  t.teardown(() => testnet.destroy(), { order: 1 }) // after the workers
  return testnet.bootstrap
}

function start (t: Assertion, opts: SpawnOptions): { worker: WorkerHandle; logs: string[] } {
  const logs: string[] = []
  const worker = spawnWorker({ ...opts, onLog: (line) => logs.push(line) })
  t.teardown(async () => {
    const info = await worker.close()
    if (info.code !== 0) t.comment(`worker log:\n${logs.join('\n')}`)
  }, { order: 0 })
  return { worker, logs }
}

function nextEvent (worker: WorkerHandle, match: (msg: EventMessage) => boolean, timeoutMs = 10_000): Promise<EventMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { worker.off('event', on); reject(new Error('no matching event within ' + timeoutMs + ' ms')) }, timeoutMs)
    const on = (msg: EventMessage) => {
      if (!match(msg)) return
      clearTimeout(timer)
      worker.off('event', on)
      resolve(msg)
    }
    worker.on('event', on)
  })
}

async function codeOf (p: Promise<unknown>): Promise<{ name: string; code: string } | null> {
  try {
    await p
    return null
  } catch (err) {
    return { name: (err as Error).name, code: (err as { code: string }).code }
  }
}

test('worker - runs under Bare by default: status, identity, a book, its event, a clean exit', { timeout: 30_000 }, async (t) => {
  const bootstrap = await localBootstrap(t)
  const storage = tmpDir(t)
  const { worker } = start(t, { storage, bootstrap })

  const status = await worker.request('session.status', {})
  t.is(status.runtime, 'bare', 'the session reports the Bare runtime')
  t.is(status.did, null, 'no identity yet')
  t.is(status.storage, storage)
  // the process itself is the bare binary, not node
  t.is(fs.readlinkSync(`/proc/${worker.pid}/exe`), fs.realpathSync(bareBinary()), 'the worker process is bare-runtime\'s bare')
  t.ok(fs.readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8').split('\0').some((a) => a.endsWith('app/worker.ts')), 'running app/worker.ts')

  const early = await codeOf(worker.request('book.create', { name: 'too early' }))
  t.alike(early, { name: 'GrowrError', code: 'NO_IDENTITY' }, 'errors come back as GrowrError with the session\'s code')

  const identity = nextEvent(worker, (m) => m.event === 'identity')
  const { did } = await worker.request('identity.create', {})
  t.ok(did.startsWith('did:key:z6Mk'), 'identity created')
  t.alike((await identity).data, { did }, 'the identity event is pushed')
  t.is((await worker.request('session.status', {})).did, did, 'status has the DID')

  const changed = nextEvent(worker, (m) => m.event === 'book.changed')
  const { topic } = await worker.request('book.create', { name: 'Kisumu fishers' })
  t.alike((await changed).data, { book: topic }, 'book.changed arrives for the new book')
  const shown = await worker.request('book.show', { book: topic })
  t.is(shown.name, 'Kisumu fishers', 'the contract answers through the worker')

  const info = await worker.close()
  t.alike(info, { code: 0, signal: null }, 'ending stdin closes the session and exits 0')
  t.is(worker.closed, true)
  t.alike(await codeOf(worker.request('session.status', {})), { name: 'GrowrError', code: 'WORKER_EXITED' }, 'requests after exit fail with WORKER_EXITED')
})

test('worker - SIGTERM closes the session and exits 0; the node runtime is the fallback', { timeout: 30_000 }, async (t) => {
  const bootstrap = await localBootstrap(t)
  const storage = tmpDir(t)
  const { worker } = start(t, { storage, bootstrap, runtime: 'node' })
  t.is((await worker.request('session.status', {})).runtime, 'node', 'the node runtime reports node')
  t.is(fs.readlinkSync(`/proc/${worker.pid}/exe`), fs.realpathSync(process.execPath), 'and is node')
  const { did } = await worker.request('identity.create', {})
  process.kill(worker.pid as number, 'SIGTERM')
  t.alike(await worker.exited, { code: 0, signal: null }, 'SIGTERM: exit 0')

  // the storage closed cleanly: a Bare worker opens the same node again
  const again = start(t, { storage, bootstrap }).worker
  t.is((await again.request('session.status', {})).did, did, 'the identity is there for the next worker')
  process.kill(again.pid as number, 'SIGINT')
  t.alike(await again.exited, { code: 0, signal: null }, 'SIGINT under Bare: exit 0')
})
