// `growr relay` as a user runs it: a separate process on a private testnet, reached by its DID.
import test from 'brittle'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import { tmpDir, seed } from './helpers/net.ts'
import { GrowrNode } from '../core/node.ts'
import { Services } from '../core/services/services.ts'
import { createIdentity } from '../core/identity/keyfile.ts'
import { isDidKey, type DidKey } from '../core/identity/did-key.ts'
import { routesFrom, LINES_METHOD } from '../core/credit/relay.ts'
import type { TrustlineSync } from '../core/credit/sync.ts'
import type { CreditPayments } from '../core/credit/payment.ts'
import type { PeerRpc } from '../core/network/peer-rpc.ts'
import { until as waitUntil } from './helpers/until.ts'

const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> => await waitUntil(what, check, ms, 50)

/** Collects a child's stdout as JSON lines (the CLI's --json events). */
function events (child: ChildProcess): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  let buf = ''
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString()
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim()
      buf = buf.slice(i + 1)
      try { out.push(JSON.parse(line)) } catch { out.push({ text: line }) }
    }
  })
  return out
}

test('credit relay cli - growr relay starts, prints its DID, indexes an announced line, serves routes and stops cleanly', { timeout: 60_000 }, async (t) => {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const relayDir = tmpDir(t)
  const nodes: GrowrNode[] = []
  const services: Services[] = []
  const dhts: Array<{ destroy (): Promise<void> }> = []
  let child: ChildProcess | null = null
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null
  t.teardown(async () => {
    // one teardown, in reverse order of starting: the relay process, the parties, the testnet
    if (child && child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited }
    for (let i = services.length - 1; i >= 0; i--) await services[i].close()
    for (const n of nodes) await n.close()
    for (const d of dhts) await d.destroy()
    await testnet.destroy()
  })

  const proc = spawn(process.execPath, [BIN, '--storage', relayDir, '--bootstrap', bootstrap, '--json', 'relay'], { env: { ...process.env, GROWR_PASSPHRASE: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  child = proc
  exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const seen = events(proc)
  await until('the relay is ready', () => seen.some((e) => e.event === 'ready') || proc.exitCode !== null, 30_000)
  const ready = seen.find((e) => e.event === 'ready')
  t.ok(ready, `growr relay printed its ready event${ready ? '' : `; stderr: ${stderr}`}`)
  if (!ready) return
  const relay = ready.did as DidKey
  t.ok(isDidKey(relay), `it printed its DID ${relay}`)
  t.alike(ready.relay, { trustlines: 0 }, 'with its relay on and nothing indexed yet')
  t.ok(fs.readdirSync(relayDir).includes('identity.json'), 'it created its identity in its storage')

  // two parties on the same testnet open a line and announce it to the relay by its DID
  for (let i = 0; i < 2; i++) {
    const dir = tmpDir(t)
    createIdentity(dir, { seed: seed(40 + i) })
    const dht = testnet.createNode({ host: '127.0.0.1' })
    dhts.push(dht)
    const node = new GrowrNode({ storage: dir, dht, ackInterval: 200 })
    await node.ready()
    nodes.push(node)
    const s = new Services(node, { announce: true, ads: false, nostr: false, trustlines: { connectTimeoutMs: 3000 } })
    await s.ready()
    services.push(s)
  }
  const did = (i: number) => nodes[i].did as DidKey
  const tl = (i: number) => services[i].trustlines as TrustlineSync
  const o = await tl(1).open(did(0), 'CAD', 25_000n)
  await until('party 0 holds the offer', async () => (await tl(0).store.proposal(o.id, o.proposal as string)) !== null)
  await tl(0).accept(o.id, o.proposal as string)
  await until('the line is countersigned on both sides', async () => (await tl(1).show(o.id)).head === (await tl(0).show(o.id)).head)
  const announced = await (services[0].payments as CreditPayments).announce(o.id, { relay })
  t.ok(announced.stored, 'the relay process stored the announcement both parties signed')
  await until('the relay reports one trustline indexed', () => seen.some((e) => e.event === 'relay' && e.trustlines === 1))
  t.pass('the relay printed that it indexed the line')

  const rpc = services[1].rpc as PeerRpc
  const routes = await routesFrom(rpc, relay, { from: did(0), to: did(1), asset: 'CAD', amount: 10_000n, now: Date.now(), timeoutMs: 10_000 })
  t.is(routes.length, 1, 'it answers a route request over the network')
  t.is(routes[0].hops[0].trustline, o.id, 'over the announced line, checked against both parties\' signatures')
  const over = await routesFrom(rpc, relay, { from: did(0), to: did(1), asset: 'CAD', amount: 25_001n, now: Date.now(), timeoutMs: 10_000 })
  t.is(over.length, 0, 'and proposes no route above the line\'s limit')
  const served = JSON.stringify(await rpc.request(relay, LINES_METHOD, {}, { timeoutMs: 10_000 }))
  t.ok(served.includes(o.id), 'it serves the line to anyone who asks')
  t.absent(/balance|history|htlc/i.test(served), 'what it serves has no balance, history or htlc')

  proc.kill('SIGTERM')
  const end = await exited
  t.is(end.code, 0, `SIGTERM stops it cleanly (exit 0)${end.code === 0 ? '' : `; stderr: ${stderr}`}`)
  t.absent(/Error|unhandled/i.test(stderr), 'nothing on stderr but notes')
  const after = fs.readdirSync(relayDir).filter((f) => f.endsWith('.sock'))
  t.alike(after, [], 'its command socket is gone: ' + path.basename(relayDir))
})

test('credit relay cli - start --relay says it relays, under the DID whoami prints; SIGINT stops it', { timeout: 60_000 }, async (t) => {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
  const storage = tmpDir(t)
  const proc = spawn(process.execPath, [BIN, '--storage', storage, '--bootstrap', bootstrap, 'start', '--relay'], { env: { ...process.env, GROWR_PASSPHRASE: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGKILL'); await exited }
    await testnet.destroy()
  })
  let out = ''
  proc.stdout.on('data', (d: Buffer) => { out += d.toString() })
  await until('the node prints its peers', () => /^peers \d+$/m.test(out) || proc.exitCode !== null, 30_000)
  const m = /^growr relay (did:key:\S+)$/m.exec(out)
  t.ok(m, 'its first line names it a relay, with its DID')
  t.ok(/^relay on: 0 trustlines indexed/m.test(out), 'and says the relay is on, nothing indexed yet')
  const who = await new Promise<string>((resolve) => {
    const w = spawn(process.execPath, [BIN, '--storage', storage, 'whoami'], { env: { ...process.env, GROWR_PASSPHRASE: '' } })
    let s = ''
    w.stdout.on('data', (d: Buffer) => { s += d.toString() })
    w.once('exit', () => resolve(s.trim()))
  })
  t.is(who, m?.[1], 'growr whoami prints the same DID')
  proc.kill('SIGINT')
  t.is(await exited, 0, 'SIGINT stops it with exit 0')
})
