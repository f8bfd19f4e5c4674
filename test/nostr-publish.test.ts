// Publishing on Nostr against a real relay (@nostr-relay/core over ws, app/demo/nostr-relay.ts):
// the originator's node publishes its profile, relay list and a NIP-99 listing per public project
// and reads them back; the listing is replaced when the project is deactivated, marked closed
// when it closes, milestone notes go out once each, and no borrower's data is ever published.
import test from 'brittle'
import { verifyEvent, finalizeEvent, generateSecretKey, type Event } from 'nostr-tools/pure'
import { validateEvent as validNip99 } from 'nostr-tools/nip99'
import { nip19 } from 'nostr-tools'
import { lendingBook, confirmedFunding, seen } from './helpers/lending.ts'
import { Services } from '../core/services/services.ts'
import { GrowrNode } from '../core/node.ts'
import { createIdentity } from '../core/identity/keyfile.ts'
import { createHandlers, type Handlers } from '../app/contract.ts'
import { tmpDir, seed } from './helpers/net.ts'
import { listingD, listingTemplate } from '../core/nostr/events.ts'
import { terms as fixtureTerms } from './helpers/fixtures.ts'
import { ListingsReader } from '../core/nostr/listings.ts'
import type { RelayPool } from '../core/nostr/relays.ts'
import { until as waitUntil } from './helpers/until.ts'
import { servicesFor, relayFor, publishRaw } from './helpers/nostr.ts'

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> => await waitUntil(what, check, ms, 50)

test('nostr publish - profile, relay list and listing are published and read back, every event verifies, the listing is verified by the book\'s recorded key', async (t) => {
  const own = servicesFor(t)
  const relay = await relayFor(t)
  const lb = await lendingBook(t, ['investor'])
  const [orig, investor] = lb.net.nodes
  const services = own(new Services(orig, { ads: false }))
  await services.ready()
  const api: Handlers = createHandlers(orig, services)
  const book = lb.books[0]

  const profile = await api['nostr.profile']({ name: 'Kootenay Lending Circle', about: 'Loans for growers', website: 'https://example.org', location: 'Kootenay, BC' })
  t.is(profile.profile?.name, 'Kootenay Lending Circle')
  t.is(nip19.decode(profile.npub).data, profile.pubkey, 'the npub encodes the organization key')
  await t.exception(api['nostr.profile']({ name: 'x', website: 'javascript:alert(1)' }), /BAD_ARGUMENT/, 'a website that is not http(s) is refused')
  await t.exception(api['nostr.relays']({ set: ['http://example.org'] }), /BAD_ARGUMENT/, 'a relay that is not ws(s) is refused')
  await api['nostr.relays']({ set: [relay.url] })
  const status = await api['nostr.publish']({ waitMs: 20_000 })
  t.ok(status.relays.every((r) => r.state === 'ok'), 'the relay is ok')
  t.ok(status.events.every((e) => e.relays[relay.url].status === 'sent'), 'every event sent')

  const pub = profile.pubkey
  await until('the listing on the relay', async () => (await relay.query({ kinds: [30402], authors: [pub] })).length === 1)
  const events = await relay.query({ authors: [pub] }) as unknown as Event[]
  t.ok(events.length >= 3, `${events.length} events on the relay`)
  for (const e of events) t.ok(verifyEvent({ ...e }), `kind ${e.kind} verifies (nostr-tools verifyEvent)`)

  const kind0 = events.find((e) => e.kind === 0)!
  t.alike(JSON.parse(kind0.content), { name: 'Kootenay Lending Circle', about: 'Loans for growers', website: 'https://example.org' }, 'the profile read back')
  const kind10002 = events.find((e) => e.kind === 10002)!
  t.alike(kind10002.tags, [['r', relay.url]], 'the relay list (NIP-65) read back')

  const listing = events.find((e) => e.kind === 30402)!
  const tag = (name: string) => listing.tags.find((x) => x[0] === name)
  t.ok(validNip99(listing), 'a valid NIP-99 listing for nostr-tools')
  t.is(tag('d')?.[1], listingD(book.topic, lb.projectId), 'd tag is the stable id of book and project')
  t.alike(tag('growr'), ['growr', book.topic, lb.projectId], 'growr tag: topic and project')
  t.alike(tag('price'), ['price', '100.00', 'EUR'], 'price: the smallest loan in major units')
  t.alike(tag('price_range'), ['price_range', '100.00', '2000.00', 'EUR'], 'the whole loan range')
  t.is(tag('location')?.[1], 'Kootenay, BC')
  t.is(tag('title')?.[1], 'Crawford Bay greenhouses')
  t.ok(listing.tags.some((x) => x[0] === 't' && x[1] === 'growr') && listing.tags.some((x) => x[0] === 't' && x[1] === 'microlending'), 't tags')
  t.ok(Number(tag('published_at')?.[1]) > 1_700_000_000, 'published_at in seconds')
  const shown = status.events.find((e) => e.what === 'listing')!
  const addr = nip19.decode(shown.naddr!)
  t.is(addr.type, 'naddr')
  t.alike((addr.data as { identifier: string }).identifier, tag('d')?.[1], 'the naddr points at the listing')

  const keys = await book.view.nostrKeys()
  t.ok(keys.some((k) => k.pubkey === pub && k.scope === 'organization' && k.active), 'the book records the organization key (nostr/key) before the first listing')

  // read back: on the originator's node, then on the investor's (follows the book), then on a node that does not follow it
  await until('the listing read back', async () => (await api['nostr.listings']({})).length === 1)
  const mine = (await api['nostr.listings']({}))[0]
  t.is(mine.id, listing.id)
  t.ok(mine.verified, `verified: ${mine.reason}`)

  const invServices = own(new Services(investor, { ads: false }))
  await invServices.ready()
  const inv = createHandlers(investor, invServices)
  await inv['nostr.relays']({ set: [relay.url] })
  await investor.book(book.topic).until(async () => (await investor.book(book.topic).view.nostrKeys()).length > 0, 20_000, 'key record replicated')
  await until('the investor reads the listing', async () => (await inv['nostr.listings']({})).length === 1)
  t.ok((await inv['nostr.listings']({}))[0].verified, 'verified on a node that follows the book')

  const dir = tmpDir(t)
  createIdentity(dir, { seed: seed(9) })
  const stranger = new GrowrNode({ storage: dir, network: false })
  const strangerServices = new Services(stranger, { ads: false })
  t.teardown(async () => { await strangerServices.close(); await stranger.close() })
  await strangerServices.ready()
  const str = createHandlers(stranger, strangerServices)
  await str['nostr.relays']({ set: [relay.url] })
  await until('the stranger reads the listing', async () => (await str['nostr.listings']({})).length >= 1)
  const far = (await str['nostr.listings']({}))[0]
  t.is(far.verified, false)
  t.is(far.reason, 'unverified: book not followed')

  // a listing for the same book and project signed by a key the book does not record
  const forger = generateSecretKey()
  const fake = finalizeEvent({ kind: 30402, created_at: Math.floor(Date.now() / 1000), content: 'send money here', tags: listing.tags.map((x) => [...x]) }, forger)
  await publishRaw(relay.url, fake)
  await until('the forged listing read back', async () => (await api['nostr.listings']({})).length === 2)
  const forged = (await api['nostr.listings']({})).find((l) => l.id === fake.id)!
  t.is(forged.verified, false, 'a listing signed by a key the book does not record is unverified')
  t.ok(/not recorded by this book/.test(forged.reason), forged.reason)
})

test('nostr publish - deactivated listing replaced, closed one marked closed, milestone notes once each, no borrower data in any event', async (t) => {
  const own = servicesFor(t)
  const relay = await relayFor(t)
  const lb = await lendingBook(t, ['borrower', 'investor'], { loanMinDuration: 1, amount: 200_000 })
  const [orig, borrowerNode, investorNode] = lb.net.nodes
  const [book, borrowerBook, investorBook] = lb.books
  const services = own(new Services(orig, { ads: false }))
  await services.ready()
  const api = createHandlers(orig, services)
  const bApi = createHandlers(borrowerNode, own(new Services(borrowerNode, { ads: false, nostr: false })))
  await api['nostr.relays']({ set: [relay.url] })
  const pub = await services.nostr!.publicKey()
  const d = listingD(book.topic, lb.projectId)
  await until('the listing', async () => (await relay.query({ kinds: [30402], authors: [pub], '#d': [d] })).length === 1)

  const notes = async () => (await relay.query({ kinds: [1], authors: [pub] }) as unknown as Event[]).map((e) => e.tags.find((x) => x[0] === 'growr')?.[3])
  // funded 50 %, then 100 %
  await confirmedFunding(t, book, investorBook, lb.projectId, 100_000)
  await until('the 50 % note', async () => (await notes()).includes('funded-50'))
  await confirmedFunding(t, book, investorBook, lb.projectId, 100_000)
  await until('the 100 % note', async () => (await notes()).includes('funded-100'))

  // a loan: applied with a purpose that must never leave the book, disbursed, repaid
  const purpose = 'school fees for Amelie Tremblay'
  const { id: loan } = await bApi['loan.apply']({ book: book.topic, project: lb.projectId, amount: 123_400, months: 1, purpose })
  await seen(book, 'loans', loan)
  await api['loan.decide']({ book: book.topic, loan, action: 'approve' })
  const disb = await api['payment.record']({ book: book.topic, kind: 'disbursement', ref: loan })
  await seen(borrowerBook, 'payments', disb.id)
  await bApi['payment.confirm']({ book: book.topic, payment: disb.id })
  await until('the first disbursement note', async () => (await notes()).includes('first-disbursement'))
  await seen(borrowerBook, 'loans', loan, 'disbursed')
  const r = await bApi['loan.repay']({ book: book.topic, loan })
  await seen(book, 'payments', r.id)
  await api['payment.confirm']({ book: book.topic, payment: r.id })
  await seen(book, 'loans', loan, 'repaid')
  await until('the fully repaid note', async () => (await notes()).includes('fully-repaid'))

  // deactivated: the 30402 is gone from the relay, a 30403 stands for that d tag
  await api['project.transition']({ book: book.topic, project: lb.projectId, action: 'deactivate' })
  await until('the 30403', async () => (await relay.query({ kinds: [30403], authors: [pub], '#d': [d] })).length === 1)
  await until('the 30402 deleted', async () => (await relay.query({ kinds: [30402], authors: [pub], '#d': [d] })).length === 0)
  const inactive = (await relay.query({ kinds: [30403], authors: [pub], '#d': [d] }) as unknown as Event[])[0]
  t.ok(verifyEvent({ ...inactive }))
  t.alike(inactive.tags.find((x) => x[0] === 'status'), ['status', 'inactive'])
  t.ok(validNip99(inactive), 'still a valid NIP-99 (draft/inactive) listing')

  // active again, then closed
  await api['project.transition']({ book: book.topic, project: lb.projectId, action: 'activate' })
  await until('the 30402 back, the 30403 gone', async () => (await relay.query({ kinds: [30402], authors: [pub], '#d': [d] })).length === 1 && (await relay.query({ kinds: [30403], authors: [pub], '#d': [d] })).length === 0)
  await api['project.transition']({ book: book.topic, project: lb.projectId, action: 'deactivate' })
  await api['project.transition']({ book: book.topic, project: lb.projectId, action: 'close' })
  await until('the closed listing', async () => {
    const e = await relay.query({ kinds: [30403], authors: [pub], '#d': [d] }) as unknown as Event[]
    return e.length === 1 && e[0].tags.some((x) => x[0] === 'status' && x[1] === 'closed')
  })
  t.is((await relay.query({ kinds: [30402], authors: [pub], '#d': [d] })).length, 0, 'a closed project has no active listing')

  // publishing again sends no milestone twice
  await api['nostr.publish']({ waitMs: 10_000 })
  await services.nostr!.flushed()
  const sent = await notes()
  t.alike([...sent].sort(), ['first-disbursement', 'fully-repaid', 'funded-100', 'funded-50'], 'each milestone note once')

  // nothing about the borrower anywhere
  const all = JSON.stringify(await relay.query({ authors: [pub] }))
  t.absent(all.includes(borrowerNode.did), 'no borrower DID in any event')
  t.absent(all.includes(investorNode.did), 'no investor DID in any event')
  t.absent(all.includes('Amelie') || all.includes('school fees'), 'no loan purpose')
  t.absent(all.includes('1234.00') || all.includes('123400'), 'no loan amount of a person')
  t.absent(all.includes(loan), 'no loan id')
})

test('nostr listings - a tampered or malformed listing is never shown as verified', async (t) => {
  const reader = new ListingsReader({ pool: { subscribe: () => () => {} } as unknown as RelayPool, keysOf: async () => [], max: 2 })
  const sk = generateSecretKey()
  const T0 = Math.floor(Date.now() / 1000) - 1000
  const topic = 'y'.repeat(52)
  const tags = [['d', listingD(topic, 'p1')], ['title', 'x'], ['growr', topic, 'p1'], ['t', 'growr']]
  const good = finalizeEvent({ kind: 30402, created_at: T0, tags, content: 'ok' }, sk)
  const tampered = { ...good, content: 'pay me instead' }
  t.ok(reader.receive(tampered, 'ws://a'), 'kept: the reader itself gets events the relay layer verified, and is checked again when listed')
  const shown = await reader.list()
  t.is(shown.length, 1)
  t.is(shown[0].verified, false, 'a tampered event is not verified')
  t.ok(/refused|unverified/.test(shown[0].reason), shown[0].reason)
  t.absent(reader.receive(finalizeEvent({ kind: 30402, created_at: T0 + 1, tags: [['d', 'growr-other-p2'], ['growr', topic, 'p1']], content: '' }, sk), 'ws://a'), 'a d tag that does not match its growr tag is dropped')
  t.absent(reader.receive(finalizeEvent({ kind: 1, created_at: T0 + 1, tags: [], content: '' }, sk), 'ws://a'), 'not a listing')
  t.absent(reader.receive(finalizeEvent({ kind: 30402, created_at: 1_700_000_000, tags, content: 'older' }, sk), 'ws://a'), 'an older version of a held listing is dropped')
  t.ok(reader.receive(good, 'ws://a'), 'the genuine newer-or-equal version replaces the tampered one (lower id on a tie is not needed: same id)')
  for (let i = 0; i < 3; i++) reader.receive(finalizeEvent({ kind: 30402, created_at: T0 + 100 + i, tags: [['d', listingD(topic, `q${i}`)], ['growr', topic, `q${i}`]], content: '' }, sk), 'ws://a')
  t.is((await reader.list()).length, 2, 'bounded: the oldest listings are dropped')
  t.absent(reader.receive(finalizeEvent({ kind: 30402, created_at: Math.floor(Date.now() / 1000) + 3600, tags: [['d', listingD(topic, 'f')], ['growr', topic, 'f']], content: '' }, sk), 'ws://a'), 'a listing dated an hour ahead is dropped (it would outrank every real one)')

  // a flood of strangers' listings, dated as new as they like, does not push out a followed book's
  const followed = 'x'.repeat(52)
  const bounded = new ListingsReader({ pool: { subscribe: () => () => {} } as unknown as RelayPool, keysOf: async () => [], max: 3, follows: (tp) => tp === followed })
  bounded.receive(finalizeEvent({ kind: 30402, created_at: T0, tags: [['d', listingD(followed, 'mine')], ['growr', followed, 'mine']], content: '' }, sk), 'ws://a')
  for (let i = 0; i < 20; i++) bounded.receive(finalizeEvent({ kind: 30402, created_at: T0 + 500 + i, tags: [['d', listingD(topic, `spam${i}`)], ['growr', topic, `spam${i}`]], content: '' }, generateSecretKey()), 'ws://a')
  const kept = await bounded.list()
  t.is(kept.length, 3, 'still bounded')
  t.ok(kept.some((l) => l.projectId === 'mine'), 'the followed book\'s listing stays')
})

test('nostr listings - a project made private is replaced by a stub that carries none of its terms, whatever they become', (t) => {
  const topic = 'y'.repeat(52)
  const ctx = { topic, location: 'Kootenay', publishedAt: 1000, createdAt: 2000 }
  const secret = fixtureTerms(Date.now(), { name: 'Private greenhouse plan', description: 'Internal numbers', loanMaxAmount: 987_654, isPublic: false })
  const stub = listingTemplate({ projectId: 'p1', status: 'active', terms: secret }, ctx)
  t.is(stub.kind, 30403, 'not an active listing')
  const text = JSON.stringify(stub)
  t.absent(text.includes('Private greenhouse plan') || text.includes('Internal numbers') || text.includes('9876.54') || text.includes('987654'), 'no name, description or amount of the private project')
  const later = listingTemplate({ projectId: 'p1', status: 'active', terms: { ...secret, name: 'Renamed', annualRateBps: 1 } }, ctx)
  t.alike(later, stub, 'later changes to its terms change nothing that is published')
  t.alike(stub.tags.find((x) => x[0] === 'growr'), ['growr', topic, 'p1'], 'it still names its book and project, so readers replace the old listing')
})
