// `growr nostr ...` as a user runs it: separate processes against a running node (`growr start`
// on a private testnet, app/demo/cluster.ts) and a real relay started here (@nostr-relay/core):
// relays set and listed, bad relay URLs refused with clear errors, the profile set and shown, a
// public project published, and its listing read back with its naddr; a project given its own key.
import test from 'brittle'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as nip19 from 'nostr-tools/nip19'
import { DemoCluster } from '../app/demo/cluster.ts'
import { startLocalRelay } from '../app/demo/nostr-relay.ts'
import { listingD } from '../core/nostr/events.ts'

const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))

/** The CLI's human output, as a person sees it. */
function human (cluster: DemoCluster<'originator'>, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '--storage', cluster.storage('originator'), '--bootstrap', cluster.bootstrap, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

test('nostr cli - relays, profile, publish and listings against a running node and a real relay; bad relay URLs refused', { timeout: 90_000 }, async (t) => {
  const cluster = new DemoCluster<'originator'>('growr-nostr-cli-')
  t.teardown(() => cluster.close())
  const relay = cluster.own(await startLocalRelay())
  await cluster.startTestnet()
  await cluster.growr('originator', ['init'], true)
  await cluster.start('originator')

  for (const bad of ['http://relay.example', 'ws://two words', 'relay.example', 'javascript:alert(1)']) {
    const r = await human(cluster, ['nostr', 'relays', '--set', bad])
    t.not(r.code, 0, `${bad} is refused`)
    t.ok(/not a relay URL \(ws:\/\/ or wss:\/\/\)/.test(r.stderr), `with a clear error: ${r.stderr.trim()}`)
  }
  const badAdd = await human(cluster, ['nostr', 'relays', '--add', 'ftp://relay.example'])
  t.ok(badAdd.code !== 0 && /not a relay URL/.test(badAdd.stderr), `--add refuses too: ${badAdd.stderr.trim()}`)
  const none = await human(cluster, ['nostr', 'relays'])
  t.is(none.code, 0)
  t.ok(/no relays/.test(none.stdout), 'nothing was set by the refused commands')

  const set = await cluster.growr('originator', ['nostr', 'relays', '--set', relay.url], true)
  t.alike(set.relays.map((r: { url: string }) => r.url), [relay.url], 'relays set')
  const listed = await human(cluster, ['nostr', 'relays'])
  t.ok(listed.stdout.startsWith(relay.url), `relays listed: ${listed.stdout.trim()}`)

  const badProfile = await human(cluster, ['nostr', 'profile', '--name', 'Kootenay Lending Circle', '--lud16', 'not an address'])
  t.ok(badProfile.code !== 0 && /lud16/.test(badProfile.stderr), `a bad Lightning address is refused: ${badProfile.stderr.trim()}`)
  const profile = await human(cluster, ['nostr', 'profile', '--name', 'Kootenay Lending Circle', '--about', 'Loans for growers', '--lud16', 'fund@wallet.example', '--location', 'Kootenay, BC'])
  t.is(profile.code, 0, profile.stderr)
  const [npub, line] = profile.stdout.trim().split('\n')
  t.is(nip19.decode(npub).type, 'npub', `the organization's npub: ${npub}`)
  t.is(line, 'Kootenay Lending Circle: Loans for growers', 'the profile as set')
  t.ok(profile.stdout.includes('zaps fund@wallet.example') && profile.stdout.includes('location Kootenay, BC'), 'with its Lightning address and location')
  const pubkey = nip19.decode(npub).data as string

  const { topic } = await cluster.growr('originator', ['book', 'create', '--name', 'Kootenay Lending Circle'], true)
  const { id: project } = await cluster.growr('originator', ['project', 'create', '--book', topic, '--name', 'Greenhouse growers 2027', '--amount', '500000', '--currency', 'EUR', '--loan-min', '50000', '--loan-max', '150000'], true)
  await cluster.growr('originator', ['project', 'activate', '--book', topic, '--project', project], true)

  const published = await cluster.growr('originator', ['nostr', 'publish', '--book', topic, '--wait', '20000'], true)
  const listing = published.events.find((e: { what: string; project: string | null }) => e.what === 'listing' && e.project === project)
  t.ok(listing, 'the project\'s listing is in the outbox')
  t.is(listing.relays[relay.url]?.status, 'sent', 'and sent to the relay')
  t.ok(['profile', 'relays'].every((w) => published.events.some((e: { what: string }) => e.what === w)), 'with the profile and relay list')
  const onRelay = await relay.query({ kinds: [30402], authors: [pubkey] })
  t.is(onRelay.length, 1, 'the relay holds the listing')

  const shown = await human(cluster, ['nostr', 'publish', '--book', topic, '--wait', '5000'])
  t.ok(shown.stdout.includes(listing.naddr), 'the human output shows the listing\'s naddr')

  let read = { code: 1, stdout: '', stderr: '' }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    read = await human(cluster, ['nostr', 'listings', '--wait', '5000'])
    if (/^verified /m.test(read.stdout)) break
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  t.is(read.code, 0, read.stderr)
  t.ok(/^verified Greenhouse growers 2027 \(active\) loans 500\.00-1500\.00 EUR$/m.test(read.stdout), `the listing, verified: ${read.stdout.split('\n')[0]}`)
  const naddr = /naddr1[0-9a-z]+/.exec(read.stdout)?.[0] ?? ''
  const addr = nip19.decode(naddr)
  t.is(addr.type, 'naddr', `with its naddr ${naddr.slice(0, 24)}…`)
  const data = addr.data as { kind: number; pubkey: string; identifier: string; relays?: string[] }
  t.alike([data.kind, data.pubkey, data.identifier], [30402, pubkey, listingD(topic, project)], 'pointing at the listing: kind, author, d tag')
  t.ok(data.relays?.includes(relay.url), 'and the relay it came from')
  t.ok(read.stdout.includes(`book ${topic} project ${project}`), 'naming the book and project')

  const ownKey = await human(cluster, ['nostr', 'project', topic, project, '--own-key'])
  t.is(ownKey.code, 0, ownKey.stderr)
  t.ok(new RegExp(`^project ${project}: its own key npub1`).test(ownKey.stdout.trim()), ownKey.stdout.trim())
  t.absent(ownKey.stdout.includes(npub), 'a key other than the organization\'s')
  t.ok(new RegExp(`^listing 30402:[0-9a-f]{64}:${listingD(topic, project)} `, 'm').test(ownKey.stdout), 'and the listing address its zap settings must name')
  const both = await human(cluster, ['nostr', 'project', topic, project, '--own-key', '--org-key'])
  t.ok(both.code !== 0 && /not both/.test(both.stderr), `contradictory options refused: ${both.stderr.trim()}`)
})
