// Publishing on Nostr through the UI (issue 12): a real relay (@nostr-relay/core over ws, SQLite
// in a file) started here, two headless hosts on one local testnet driven only through their pages
// in Chromium. The originator sets her profile and relay in the Publishing panel, activates a
// public project and publishes; the panel shows each event's state on the relay and the listing's
// naddr, which decodes (nostr-tools nip19) to the very event the relay stored. An investor with the
// same relay finds the listing in the Marketplace unverified ("book not followed"), follows its
// book in one click and sees it verified; a stranger's listing naming the same book, with markup
// in its title and text, stays unverified and shows as text. A stopped relay shows as failed and
// turns to sent once it is back on the same port and file. Any console or page error fails it.
//
// The hosts' workers run under Node: the README ("Publishing on Nostr") says Bare has no WebSocket
// client yet; the panel says so when a relay reports it.
import test from 'brittle'
import path from 'node:path'
import WebSocket from 'ws'
import * as nip19 from 'nostr-tools/nip19'
import { finalizeEvent, generateSecretKey, verifyEvent, type Event as NostrEvent } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import type { Page } from 'playwright-core'
import { ensureUiBuilt, launchBrowser, openApp, startTestHost, startTestnet, fullValue, onboard } from './helpers/browser.ts'
import { tmpDir } from './helpers/net.ts'
import { startLocalRelay, type LocalRelay } from '../app/demo/nostr-relay.ts'
import { listingD } from '../core/nostr/events.ts'
import { cap, majorText, nostrListingRow, priceWords, topicOf, CAPS } from '../ui/features/marketplace/nostr-listings.ts'
import { deliveryWords, eventRows, relayUrlProblem, relayWords } from '../ui/features/publishing/publishing.ts'
import type { NostrListing, NostrStatus, RelayState } from '../app/nostr/handlers.ts'

useWebSocketImplementation(WebSocket)

async function addRelay (page: Page, url: string): Promise<void> {
  await page.getByTestId('nav-publishing').click()
  await page.getByTestId('nostr-relay-add-url').fill(url)
  await page.getByTestId('nostr-relay-add').click()
  await page.getByTestId('nostr-relay-' + url).waitFor()
}

/** A listing signed by a key no book records, naming `topic`: what anyone on Nostr can publish. */
async function publishStrangerListing (url: string, topic: string, projectId: string, title: string, content: string): Promise<NostrEvent> {
  const sk = generateSecretKey()
  const event = finalizeEvent({
    kind: 30402,
    created_at: Math.floor(Date.now() / 1000),
    content,
    tags: [
      ['d', listingD(topic, projectId)], ['title', title], ['summary', 'Same book, better rates'],
      ['price', '1', 'EUR'], ['price_range', '1', '99999999999999999999.99', 'EUR'],
      ['t', 'growr'], ['t', 'microlending'], ['published_at', String(Math.floor(Date.now() / 1000))],
      ['growr', topic, projectId]
    ]
  }, sk)
  const relay = await Relay.connect(url)
  try { await relay.publish(event) } finally { relay.close() }
  return event
}

test('nostr publishing - panel, naddr on the relay, listing verified after a follow, relay outage', { timeout: 120_000 }, async (t) => {
  const started = Date.now()
  await ensureUiBuilt()
  const relayDir = tmpDir(t, 'growr-relay-')
  const relayFile = path.join(relayDir, 'relay.sqlite')
  let relay: LocalRelay | null = await startLocalRelay({ file: relayFile })
  const port = relay.port
  const url = relay.url
  // after the hosts (order -1), before the relay's directory goes (order 0)
  t.teardown(async () => { await relay?.close() }, { order: -0.5 })
  const testnet = await startTestnet(t)
  const [annHost, ivanHost] = await Promise.all([
    startTestHost(t, testnet, 'ann-nostr', { runtime: 'node' }),
    startTestHost(t, testnet, 'ivan-nostr', { runtime: 'node' })
  ])
  const browser = await launchBrowser(t)
  const [ann, ivan] = await Promise.all([openApp(browser, annHost, 'ann'), openApp(browser, ivanHost, 'ivan')])
  const apps = [ann, ivan]
  for (const a of apps) a.page.setDefaultTimeout(30_000)

  try {
    await ann.page.getByTestId('onboarding').waitFor()
    await Promise.all([onboard(ann, 'originator'), onboard(ivan, 'investor')])

    // ann: profile and relay in the Publishing panel
    await ann.page.getByTestId('nav-publishing').click()
    await ann.page.getByTestId('screen-publishing').waitFor()
    const npub = await fullValue(ann.page, '[data-testid="nostr-npub"]')
    t.ok(npub.startsWith('npub1'), 'the organization\'s npub is shown')
    const pubkey = nip19.decode(npub as `npub1${string}`).data as string
    t.ok(/No borrower data is ever published/.test((await ann.page.getByTestId('nostr-privacy').textContent()) ?? ''), 'the panel says no borrower data is published')
    await ann.page.getByTestId('nostr-profile-name').fill('Kootenay Lending Circle')
    await ann.page.getByTestId('nostr-profile-about').fill('Loans for growers')
    await ann.page.getByTestId('nostr-profile-website').fill('https://example.org')
    await ann.page.getByTestId('nostr-profile-picture').fill('https://example.org/logo.png')
    await ann.page.getByTestId('nostr-profile-location').fill('Kootenay, BC')
    await ann.page.getByTestId('nostr-profile-save').click()
    await ann.page.getByTestId('nostr-event-profile').waitFor()

    // a URL that is not a relay is refused before asking the core
    await ann.page.getByTestId('nostr-relay-add-url').fill('https://relay.example.org')
    await ann.page.getByTestId('nostr-relay-add').click()
    await ann.page.getByText('a relay URL starts with wss://').waitFor()
    t.pass('an https:// URL is refused with the reason')
    await addRelay(ann.page, url)

    // ann: a book and an active public project
    await ann.page.getByTestId('nav-network').click()
    await ann.page.getByTestId('book-create-name').fill('Kootenay Lending Circle')
    await ann.page.getByTestId('book-create').click()
    const bookRow = ann.page.locator('[data-testid="books"] tbody tr').filter({ hasText: 'Kootenay Lending Circle' })
    await bookRow.getByTestId('book-topic').waitFor()
    const topic = (await bookRow.getByTestId('book-topic').getAttribute('data-value')) ?? ''
    await ann.page.getByTestId('nav-originator').click()
    await ann.page.getByTestId('project-new').click()
    await ann.page.getByTestId('project-name').fill('Greenhouses')
    await ann.page.getByTestId('project-amount').fill('12500.50')
    await ann.page.getByTestId('project-loanMin').fill('250')
    await ann.page.getByTestId('project-loanMax').fill('1500')
    await ann.page.getByTestId('project-rate').fill('9.5')
    await ann.page.getByTestId('project-save').click()
    const projectRow = ann.page.locator('[data-testid="projects"] tbody tr[data-testid^="project-"]').first()
    await projectRow.getByTestId('project-activate').click()
    await projectRow.getByText('active', { exact: true }).waitFor()
    const projectId = (await projectRow.getAttribute('data-testid'))!.slice('project-'.length)

    // ann publishes: the listing reaches the relay, the panel says so per relay
    await ann.page.getByTestId('nav-publishing').click()
    await ann.page.getByTestId('nostr-publish').click()
    const listingRow = ann.page.getByTestId('nostr-event-listing-' + projectId)
    await listingRow.locator(`[data-testid="nostr-delivery"][data-relay="${url}"][data-state="sent"]`).waitFor()
    t.is((await listingRow.getByTestId('nostr-event-kind').textContent())?.trim(), '30402', 'a NIP-99 listing, kind 30402')
    await listingRow.getByTestId('nostr-event-about').filter({ hasText: /^Greenhouses$/ }).waitFor()
    t.pass('named after its project')
    for (const slug of ['profile', 'relays']) {
      await ann.page.getByTestId('nostr-event-' + slug).locator(`[data-testid="nostr-delivery"][data-state="sent"]`).waitFor()
    }
    t.pass('the profile and the relay list are sent too')
    t.is(await ann.page.getByTestId('nostr-relay-' + url).getByTestId('nostr-relay-state').getAttribute('data-state'), 'ok', 'the relay is ok')

    const naddr = await fullValue(ann.page, `[data-testid="nostr-event-listing-${projectId}"] [data-testid="nostr-event-naddr"]`)
    const decoded = nip19.decode(naddr as `naddr1${string}`)
    t.is(decoded.type, 'naddr', 'the listing\'s address is an naddr')
    const addr = decoded.data as nip19.AddressPointer
    t.is(addr.kind, 30402, 'of kind 30402')
    t.is(addr.pubkey, pubkey, 'by the organization\'s key')
    t.is(addr.identifier, listingD(topic, projectId), 'with d = growr-<topic>-<project>')
    t.ok(addr.relays?.includes(url), 'naming the relay')
    const stored = await relay.query({ kinds: [addr.kind], authors: [addr.pubkey], '#d': [addr.identifier] })
    t.is(stored.length, 1, 'the relay holds that very listing')
    const ev = stored[0] as unknown as NostrEvent
    t.ok(verifyEvent(ev), 'its signature verifies')
    const tag = (name: string) => ev.tags.find((x) => x[0] === name)
    t.alike(tag('growr'), ['growr', topic, projectId], 'it names the book and the project')
    t.is(tag('title')?.[1], 'Greenhouses', 'its title')
    t.alike(tag('price_range'), ['price_range', '250.00', '1500.00', 'EUR'], 'the loan range in major units')
    const profiles = await relay.query({ kinds: [0], authors: [pubkey] })
    t.is(JSON.parse(String(profiles[0]?.content)).name, 'Kootenay Lending Circle', 'the profile is on the relay')
    await ann.shot('nostr-01-publishing-sent')

    // a stranger lists ann's book with a key no book records, markup in the title and text
    const hostileTitle = '<img src=x onerror="window.__pwned=1">Greenhouses (official)'
    const hostileContent = '# Apply here\n<script>window.__pwned=2</script>\n[click](javascript:alert(1))'
    const strangerProject = 'f'.repeat(32)
    await publishStrangerListing(url, topic, strangerProject, hostileTitle, hostileContent)

    // ivan: same relay, then the Marketplace
    await addRelay(ivan.page, url)
    await ivan.page.getByTestId('nav-marketplace').click()
    const listing = ivan.page.getByTestId('nostr-listing-' + projectId)
    await listing.waitFor()
    t.is(await listing.getAttribute('data-verified'), 'false', 'ann\'s listing is unverified at first')
    t.ok(/book not followed/.test((await listing.getByTestId('nostr-listing-reason').textContent()) ?? ''), 'because ivan does not follow the book')
    t.is((await listing.getByTestId('nostr-listing-title').textContent())?.trim(), 'Greenhouses', 'its title')
    t.is((await listing.getByTestId('nostr-listing-price').textContent())?.trim(), '250.00 EUR to 1,500.00 EUR', 'its loan range')
    t.is(await fullValue(ivan.page, `[data-testid="nostr-listing-${projectId}"] [data-testid="nostr-listing-npub"]`), npub, 'by ann\'s npub')
    const seenNaddr = nip19.decode(await fullValue(ivan.page, `[data-testid="nostr-listing-${projectId}"] [data-testid="nostr-listing-naddr"]`) as `naddr1${string}`).data as nip19.AddressPointer
    t.alike([seenNaddr.kind, seenNaddr.pubkey, seenNaddr.identifier], [addr.kind, addr.pubkey, addr.identifier], 'its naddr is the one ann published')
    const stranger = ivan.page.getByTestId('nostr-listing-' + strangerProject)
    await stranger.waitFor()
    await ivan.shot('nostr-02-investor-unverified')

    await listing.getByTestId('nostr-listing-follow').click()
    await ivan.page.locator(`[data-testid="nostr-listing-${projectId}"][data-verified="true"]`).waitFor({ timeout: 30_000 })
    t.ok(/records for the organization/.test((await listing.getByTestId('nostr-listing-reason').textContent()) ?? ''), 'verified: the book records ann\'s key for the organization')
    t.is((await listing.getByTestId('nostr-listing-badge').textContent())?.trim(), 'verified', 'the badge says verified')
    await listing.getByTestId('nostr-listing-following').waitFor()
    t.pass('the follow button gave way to "following its book"')

    // the stranger's listing names the same book, now followed: still unverified, shown as text
    await ivan.page.locator(`[data-testid="nostr-listing-${strangerProject}"] [data-testid="nostr-listing-reason"]`).filter({ hasText: 'not recorded' }).waitFor({ timeout: 30_000 })
    t.is(await stranger.getAttribute('data-verified'), 'false', 'a listing by a key the book does not record stays unverified')
    t.is((await stranger.getByTestId('nostr-listing-title').textContent())?.trim(), hostileTitle, 'its title is shown as text')
    t.is((await stranger.getByTestId('nostr-listing-price').textContent())?.trim(), '1 EUR to 99,999,999,999,999,999,999.99 EUR', 'its claimed range exactly, no float')
    await stranger.locator('summary').click()
    t.is(await stranger.getByTestId('nostr-listing-content').textContent(), hostileContent, 'its Markdown is plain text')
    t.is(await stranger.locator('img, script, a, h1').count(), 0, 'no element made of its markup')
    t.is(await ivan.page.evaluate('window.__pwned ?? null'), null, 'no script of its ran')
    await ivan.shot('nostr-03-investor-verified')

    // the relay goes down: a new profile waits, the relay shows failed with its last error
    await relay.close()
    relay = null
    await ann.page.getByTestId('nostr-profile-about').fill('Loans for growers, since 2019')
    await ann.page.getByTestId('nostr-profile-save').click()
    const relayState = ann.page.getByTestId('nostr-relay-' + url).getByTestId('nostr-relay-state')
    await ann.page.locator(`[data-testid="nostr-relay-${url}"] [data-testid="nostr-relay-state"][data-state="failed"]`).waitFor()
    t.ok(/cannot connect/.test((await ann.page.getByTestId('nostr-relay-' + url).getByTestId('nostr-relay-detail').textContent()) ?? ''), 'the relay is failed, with its last error')
    t.is(await relayState.getAttribute('data-state'), 'failed', 'the relay state is failed')
    const profileDelivery = ann.page.getByTestId('nostr-event-profile').locator(`[data-testid="nostr-delivery"][data-relay="${url}"]`)
    await ann.page.getByTestId('nostr-event-profile').locator(`[data-testid="nostr-delivery"][data-relay="${url}"][data-state="failed"]`).waitFor()
    t.ok(/next retry/.test((await profileDelivery.getByTestId('nostr-delivery-detail').textContent()) ?? ''), 'the new profile waits, with its next retry')
    t.is(await listingRow.locator(`[data-testid="nostr-delivery"][data-relay="${url}"]`).getAttribute('data-state'), 'sent', 'what was sent stays sent')
    await ann.shot('nostr-04-relay-down')

    // back on the same port and file: the retry delivers it, no click needed
    relay = await startLocalRelay({ port, file: relayFile })
    t.is((await relay.query({ kinds: [30402], authors: [pubkey] })).length, 1, 'the relay came back with its events')
    await ann.page.getByTestId('nostr-event-profile').locator(`[data-testid="nostr-delivery"][data-relay="${url}"][data-state="sent"]`).waitFor({ timeout: 45_000 })
    await ann.page.locator(`[data-testid="nostr-relay-${url}"] [data-testid="nostr-relay-state"][data-state="ok"]`).waitFor()
    const back = await relay.query({ kinds: [0], authors: [pubkey] })
    t.is(JSON.parse(String(back[0]?.content)).about, 'Loans for growers, since 2019', 'the relay has the profile written while it was down')
    await ann.shot('nostr-05-relay-back')

    t.alike(apps.flatMap((a) => a.errors), [], 'no console or page errors')
    t.comment(`nostr browser test took ${Math.round((Date.now() - started) / 1000)} s`)
  } catch (err) {
    for (const [i, a] of apps.entries()) await a.shot(`nostr-failure-${i}`).catch(() => {})
    const errors = apps.flatMap((a) => a.errors)
    if (errors.length) t.comment(errors.join('\n'))
    throw err
  }
})

const PUB = 'a'.repeat(64)

function hostileListing (over: Partial<NostrListing> = {}): NostrListing {
  return {
    pubkey: PUB, kind: 30402, d: 'growr-x-y', state: 'active', title: 'Greenhouses', summary: 's', content: 'c', location: '',
    price: { amount: '250.00', currency: 'EUR' }, range: { min: '250.00', max: '1500.00', currency: 'EUR' },
    publishedAt: 1, createdAt: 1, topic: 'y'.repeat(52), projectId: 'p', id: 'e'.repeat(64), npub: 'npub1x', naddr: 'naddr1x',
    relays: ['ws://r'], verified: false, reason: 'unverified: book not followed', receivedAt: 1, ...over
  }
}

test('nostr publishing - listings are strangers\' claims: capped, prices exact or unreadable, marks only from the core', async (t) => {
  t.is(majorText('99999999999999999999.99'), '99,999,999,999,999,999,999.99', 'exact past 2^53')
  t.is(majorText('0250.00'), '250.00', 'leading zeros dropped')
  for (const bad of ['1e9', '-5', '0x10', '', ' 1', '1.', 'NaN', '9'.repeat(31)]) t.is(majorText(bad), null, `"${bad.slice(0, 12)}" is not an amount`)
  t.is(majorText(250 as unknown as string), null, 'a number where text belongs is not read')
  t.is(priceWords({ price: null, range: { min: '1', max: 'lots', currency: 'EUR' } }), 'unreadable price', 'a range it cannot read is said so, not guessed')
  t.is(priceWords({ price: { amount: '5', currency: '<b>' }, range: null }), 'unreadable price', 'a currency that is not a code')
  t.is(priceWords({ price: null, range: null }), 'no price given', 'no price')
  t.is(priceWords({ price: { amount: '5', currency: 'eur' }, range: null }), '5 EUR', 'the NIP-99 price when there is no range')

  const long = nostrListingRow(hostileListing({ title: 'x'.repeat(5000), content: '😀'.repeat(CAPS.content + 5), reason: 'r'.repeat(1000) }))
  t.is(Array.from(long.title).length, CAPS.title + 1, 'the title is capped (with an ellipsis)')
  t.ok(long.contentCut && Array.from(long.content).length === CAPS.content + 1, 'the text is capped by code point')
  t.ok(long.content.startsWith('😀') && !long.content.includes('\ufffd'), 'no emoji cut in half')
  t.is(long.reason.length, CAPS.reason + 1, 'so is the reason')
  t.is(nostrListingRow(hostileListing({ title: '   ' })).title, 'untitled listing', 'a blank title is said so')
  t.is(nostrListingRow(hostileListing({ verified: 'true' as unknown as boolean })).mark, 'unverified', 'only a boolean true verifies')
  t.is(nostrListingRow(hostileListing({ topic: '../../etc' })).topic, null, 'a topic that is not a key cannot be followed')
  t.is(topicOf('0'.repeat(64)), '0'.repeat(64), 'a hex key can')
  t.is(topicOf('l'.repeat(52)), null, 'l is not z-base-32')
  t.is(cap(undefined, 5), '', 'a missing field is empty')

  t.is(relayUrlProblem('wss://relay.example.org'), null, 'wss is a relay URL')
  t.is(relayUrlProblem('ws://127.0.0.1:7777'), null, 'so is ws')
  t.ok(relayUrlProblem('https://relay.example.org'), 'https is not')
  t.ok(relayUrlProblem('wss://re lay'), 'spaces are not')
  t.ok(relayUrlProblem('  '), 'nothing is not')

  const ok: RelayState = { url: 'wss://a', state: 'ok', lastError: null, lastOkAt: 1, lastErrorAt: null, pending: 0, attempts: 0, retryAt: null }
  const down: RelayState = { url: 'wss://b', state: 'failed', lastError: 'cannot connect: ECONNREFUSED', lastOkAt: null, lastErrorAt: 2, pending: 1, attempts: 3, retryAt: Date.UTC(2030, 0, 1) }
  t.is(relayWords(down).label, 'failed', 'a failed relay')
  t.ok(relayWords(down).detail.includes('ECONNREFUSED') && relayWords(down).detail.includes('3 attempts') && relayWords(down).detail.includes('next retry'), 'with its error, attempts and next retry')
  t.is(deliveryWords('wss://b', { status: 'pending', at: 1 }, down).state, 'failed', 'an event waiting for a failed relay shows failed')
  t.is(deliveryWords('wss://a', { status: 'refused', error: 'blocked: spam', at: 1 }, ok).detail, 'refused: blocked: spam', 'a refusal with the relay\'s reason')
  t.is(deliveryWords('wss://a', { status: 'pending', at: 1 }, ok).state, 'pending', 'waiting on a working relay')

  const status = {
    relays: [ok, down],
    events: [{ what: 'listing', kind: 30402, id: '1'.repeat(64), nevent: 'nevent1x', naddr: 'naddr1x', book: 'b', project: 'p1', milestone: null, createdAt: 1, relays: { 'wss://a': { status: 'sent', at: 1 }, 'wss://b': { status: 'pending', at: 1 } } },
      { what: 'note', kind: 1, id: '2'.repeat(64), nevent: 'nevent1y', naddr: null, book: 'b', project: 'p2', milestone: 'funded-100', createdAt: 1, relays: {} }]
  } as unknown as NostrStatus
  const rows = eventRows(status, new Map([['p1', 'Greenhouses']]))
  t.alike(rows.map((r) => [r.slug, r.code, r.codeType, r.about]), [['listing-p1', 'naddr1x', 'naddr', 'Greenhouses'], ['note-p2-funded-100', 'nevent1y', 'nevent', 'project p2…: funded 100 %']], 'listings by naddr, notes by nevent, named')
  t.alike(rows[0].deliveries.map((d) => d.state), ['sent', 'failed'], 'per relay')
  t.alike(rows[1].deliveries.map((d) => d.state), ['pending', 'failed'], 'an event not yet queued for a relay shows as waiting for it')
})
