// The Nostr outbox and relay delivery: a relay that is down when the node publishes receives the
// events once it is back, also after the node restarts (a real relay on a SQLite file, stopped
// and started on the same port); newer versions replace pending old ones; back-off is exponential
// with jitter and capped (timers injected, so the test does not wait).
import test from 'brittle'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import WebSocket from 'ws'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent, type Event } from 'nostr-tools/pure'
import { startLocalRelay, type LocalRelay } from '../app/demo/nostr-relay.ts'
import { freeTcpPort } from '../app/demo/chain-process.ts'
import { createNet, tmpDir } from './helpers/net.ts'
import { accepted } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { Outbox, slotOf } from '../core/nostr/outbox.ts'
import { backoffDelay, RelayPool, type DeliverySource } from '../core/nostr/relays.ts'
import { coordinate, deletionTemplate, listingD } from '../core/nostr/events.ts'
import { until as waitUntil } from './helpers/until.ts'
import { servicesFor } from './helpers/nostr.ts'

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> => await waitUntil(what, check, ms, 50)

test('nostr outbox - a relay down at publish time receives the events once it is back, also after the node restarts', async (t) => {
  const own = servicesFor(t)
  const file = path.join(tmpDir(t), 'relay.sqlite')
  let relay: LocalRelay = await startLocalRelay({ file })
  t.teardown(() => relay.close())
  const { port, url } = relay
  await relay.close()

  const net = await createNet(t, 1)
  const book = await net.nodes[0].createBook('Outage circle')
  const projectId = book.newId()
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now()) }, { type: 'project/activate', projectId }])
  const nostr = { backoff: { baseMs: 20, capMs: 200 }, timeoutMs: 2000 }
  let services = own(new Services(net.nodes[0], { ads: false, nostr }))
  await services.ready()
  let api = createHandlers(net.nodes[0], services)
  await api['nostr.profile']({ name: 'Outage circle', about: 'v1' })
  await api['nostr.relays']({ set: [url] })
  const first = await api['nostr.publish']({})
  t.ok(first.events.length >= 3 && first.events.every((e) => e.relays[url].status === 'pending'), 'profile, relay list and listing wait for the relay')
  await until('the relay marked failed', async () => (await api['nostr.status']({})).relays[0].state === 'failed')
  const down = (await api['nostr.status']({})).relays[0]
  t.ok(/cannot connect/.test(down.lastError ?? ''), `last error: ${down.lastError}`)
  t.ok(down.pending >= 3, `${down.pending} pending`)
  t.is((await book.view.list('audit')).filter((a) => a.status === 'rejected').length, 0, 'the books are untouched by the outage')

  relay = await startLocalRelay({ port, file })
  const pub = first.pubkey
  await until('everything delivered once the relay is back', async () => (await relay.query({ authors: [pub] })).length >= 3)
  await services.nostr!.delivered(10_000)
  t.is((await api['nostr.status']({})).relays[0].state, 'ok')
  const back = await relay.query({ authors: [pub] }) as unknown as Event[]
  t.alike(back.map((e) => e.kind).sort(), [0, 10002, 30402])
  for (const e of back) t.ok(verifyEvent({ ...e }), `kind ${e.kind} verifies`)

  // down again: two profile versions and a deactivation wait, then the node restarts
  await relay.close()
  await api['nostr.profile']({ about: 'v2' })
  await api['nostr.profile']({ about: 'v3' })
  await api['project.transition']({ book: book.topic, project: projectId, action: 'deactivate' })
  await services.nostr!.flushed()
  const waiting = (await api['nostr.status']({})).events
  t.is(waiting.filter((e) => e.kind === 0).length, 1, 'the newer profile replaced the pending one in the outbox')
  t.is(JSON.parse(services.nostr!.outbox.get(`0:${pub}:`)!.event.content).about, 'v3')
  t.ok(waiting.some((e) => e.kind === 30403 && e.relays[url].status === 'pending'), 'the inactive listing waits')
  t.ok(waiting.some((e) => e.kind === 5 && e.relays[url].status === 'pending'), 'the deletion of the active one waits')
  t.absent(waiting.some((e) => e.kind === 30402), 'the superseded active listing left the outbox')

  await services.close()
  const node = await net.restart(0)
  relay = await startLocalRelay({ port, file })
  services = own(new Services(node, { ads: false, nostr }))
  await services.ready()
  api = createHandlers(node, services)
  const d = listingD(book.topic, projectId)
  await until('the restarted node delivers what waited', async () => (await relay.query({ kinds: [30403], authors: [pub], '#d': [d] })).length === 1 && (await relay.query({ kinds: [30402], authors: [pub], '#d': [d] })).length === 0)
  const profile = (await relay.query({ kinds: [0], authors: [pub] }) as unknown as Event[])
  t.is(profile.length, 1)
  t.is(JSON.parse(profile[0].content).about, 'v3', 'the newest profile arrived after the restart')
  await services.nostr!.delivered(10_000)
  t.ok((await api['nostr.status']({})).events.every((e) => e.relays[url].status === 'sent'), 'everything sent')
})

test('nostr outbox - a newer version replaces the pending one, a deletion and the event it deletes cancel out, order and state survive a reopen', async (t) => {
  const store = new Corestore(tmpDir(t))
  t.teardown(() => store.close())
  const bee = new Hyperbee(store.get({ name: 'local' }), { keyEncoding: 'utf-8', valueEncoding: 'json' })
  await bee.ready()
  const sk = generateSecretKey()
  const pub = getPublicKey(sk)
  const sign = (kind: number, createdAt: number, tags: string[][] = [], content = '') => finalizeEvent({ kind, created_at: createdAt, tags, content }, sk)
  let clock = 1000
  const outbox = new Outbox({ local: bee, now: () => clock++ })
  await outbox.open()
  await outbox.setRelays(['ws://a', 'ws://b'])
  const d = listingD('y'.repeat(52), 'p1')
  const v1 = sign(30402, 100, [['d', d]], 'v1')
  await outbox.put(v1, { what: 'listing' })
  const note = sign(1, 100, [], 'note')
  await outbox.put(note, { what: 'note' })
  t.is((await outbox.next('ws://a'))?.id, v1.id, 'delivered in order')
  await outbox.delivered('ws://a', v1.id)
  t.is((await outbox.next('ws://a'))?.id, note.id)
  const v2 = sign(30402, 101, [['d', d]], 'v2')
  await outbox.put(v2, { what: 'listing' })
  t.is(outbox.get(slotOf(v2))?.event.id, v2.id, 'v2 replaced v1')
  t.is(outbox.get(slotOf(v2))?.relays['ws://a'].status, 'pending', 'the new version is pending again where v1 was sent')
  t.is((await outbox.put(v1, { what: 'listing' })).event.id, v2.id, 'an older version never replaces a newer one')
  t.is(await outbox.pending('ws://b'), 2)

  const del = sign(5, 102, deletionTemplate(coordinate(30402, pub, d), 102).tags)
  await outbox.put(del, { what: 'deletion' })
  t.is(outbox.get(slotOf(v2)), null, 'a deletion drops the pending version it deletes')
  const v3 = sign(30402, 103, [['d', d]], 'v3')
  await outbox.put(v3, { what: 'listing' })
  t.is(outbox.get(slotOf(del)), null, 'a newer version drops the pending deletion: it would delete it on arrival')
  await outbox.refused('ws://b', note.id, 'blocked: no notes')

  const reopened = new Outbox({ local: bee })
  await reopened.open()
  await reopened.setRelays(['ws://a', 'ws://b'])
  t.alike(reopened.list().map((e) => e.event.id), [note.id, v3.id], 'the same entries in the same order after a reopen')
  t.is(reopened.get(slotOf(note))?.relays['ws://b'].status, 'refused')
  t.is(reopened.get(slotOf(note))?.relays['ws://b'].error, 'blocked: no notes')
  t.is((await reopened.next('ws://b'))?.id, v3.id, 'a refused event is not offered again')
  await reopened.setRelays(['ws://a', 'ws://c'])
  t.is(await reopened.pending('ws://c'), 2, 'a relay added later gets every entry')
  t.absent(reopened.list().some((e) => 'ws://b' in e.relays), 'a removed relay is forgotten')
})

test('nostr relays - back-off is exponential with jitter and capped; a relay that cannot be reached is failed with its error', async (t) => {
  for (const [attempt, r, want] of [[0, 0, 500], [0, 0.999999, 999], [1, 0, 1000], [3, 0.5, 6000], [20, 0, 150_000], [20, 0.999999, 299_999], [1e9, 0, 150_000]] as const) {
    t.is(backoffDelay(attempt, {}, () => r), want, `attempt ${attempt}, random ${r}: ${want} ms`)
  }
  t.is(backoffDelay(2, { baseMs: 100, capMs: 250 }, () => 2), 187, 'a random outside [0,1) counts as 0.5')

  const port = await freeTcpPort() // nothing listens there
  const event = finalizeEvent({ kind: 1, created_at: 1, tags: [], content: 'x' }, generateSecretKey())
  const source: DeliverySource = { next: async () => event, pending: async () => 1, delivered: async () => {}, refused: async () => {} }
  const delays: number[] = []
  const timers = {
    setTimeout: (fn: () => void, ms: number) => { delays.push(ms); return setImmediate(fn) },
    clearTimeout: (h: unknown) => clearImmediate(h as ReturnType<typeof setImmediate>)
  }
  let n = 0
  const randoms = [0, 0.999999]
  const pool = new RelayPool({ WebSocket: WebSocket as never, source, backoff: { baseMs: 100, capMs: 1000 }, timers, random: () => randoms[n++ % 2], timeoutMs: 2000 })
  t.teardown(() => pool.close())
  pool.setRelays([`ws://127.0.0.1:${port}`])
  const started = Date.now()
  await until('eight retries', async () => delays.length >= 8)
  const [state] = pool.states()
  t.is(state.state, 'failed')
  t.ok(/cannot connect/.test(state.lastError ?? ''), `last error: ${state.lastError}`)
  t.ok(state.attempts >= 8 && state.pending === 1)
  pool.close()
  t.ok(Date.now() - started < 10_000, 'the injected timers kept the test fast')
  for (let i = 0; i < 8; i++) {
    const d = Math.min(1000, 100 * 2 ** i)
    t.ok(delays[i] >= d / 2 && delays[i] <= d, `retry ${i + 1} waits ${delays[i]} ms, within [${d / 2}, ${d}]`)
  }
  t.is(delays[0], 50, 'random 0: half the step')
  t.is(delays[1], 199, 'random ~1: the whole step')
  t.ok(delays.slice(4).every((x) => x <= 1000), 'capped')
  t.is(pool.states().length, 0, 'a closed pool holds no relays')
})

test('nostr relays - a relay refusing an event has it marked refused and gets the next one; a relay that never answers is retried', async (t) => {
  const { WebSocketServer } = await import('ws')
  const port = await freeTcpPort()
  const wss = new WebSocketServer({ host: '127.0.0.1', port })
  t.teardown(() => new Promise<void>((resolve) => { for (const c of wss.clients) c.terminate(); wss.close(() => resolve()) }))
  const received: string[] = []
  let silent = false
  // a hostile relay: refuses notes whose content says so, swallows everything while `silent`
  wss.on('connection', (ws) => ws.on('message', (data) => {
    const [type, event] = JSON.parse(String(data))
    if (type !== 'EVENT' || silent) return
    received.push(event.id)
    ws.send(JSON.stringify(['OK', event.id, !event.content.includes('refuse'), event.content.includes('refuse') ? 'blocked: not here' : '']))
  }))
  const store = new Corestore(tmpDir(t))
  t.teardown(() => store.close())
  const bee = new Hyperbee(store.get({ name: 'local' }), { keyEncoding: 'utf-8', valueEncoding: 'json' })
  await bee.ready()
  const outbox = new Outbox({ local: bee })
  await outbox.open()
  const url = `ws://127.0.0.1:${port}`
  await outbox.setRelays([url])
  const sk = generateSecretKey()
  const refused = finalizeEvent({ kind: 1, created_at: 10, tags: [], content: 'refuse me' }, sk)
  const fine = finalizeEvent({ kind: 1, created_at: 11, tags: [], content: 'fine' }, sk)
  await outbox.put(refused, { what: 'note' })
  await outbox.put(fine, { what: 'note' })
  const pool = new RelayPool({ WebSocket: WebSocket as never, source: outbox, backoff: { baseMs: 20, capMs: 50 }, timeoutMs: 300 })
  t.teardown(() => pool.close())
  pool.setRelays([url])
  await until('both handled', async () => (await outbox.pending(url)) === 0)
  t.is(outbox.get(slotOf(refused))?.relays[url].status, 'refused')
  t.is(outbox.get(slotOf(refused))?.relays[url].error, 'blocked: not here', 'the relay\'s reason is kept')
  t.is(outbox.get(slotOf(fine))?.relays[url].status, 'sent', 'the refusal did not block the next event')
  t.is(pool.states()[0].state, 'ok', 'a relay that answers is up, even when it refuses')

  silent = true
  const later = finalizeEvent({ kind: 1, created_at: 12, tags: [], content: 'later' }, sk)
  await outbox.put(later, { what: 'note' })
  pool.kick()
  await until('the silent relay marked failed', async () => pool.states()[0].state === 'failed')
  t.ok(/timed out/.test(pool.states()[0].lastError ?? ''), `last error: ${pool.states()[0].lastError}`)
  t.is(outbox.get(slotOf(later))?.relays[url].status, 'pending', 'an unanswered event stays pending')
  silent = false
  await until('delivered once the relay answers again', async () => outbox.get(slotOf(later))?.relays[url].status === 'sent')
  t.ok(received.filter((id) => id === later.id).length >= 1)
})
