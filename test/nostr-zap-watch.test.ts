// Zaps watched on a real relay (@nostr-relay/core, app/demo/nostr-relay.ts) and per-project keys.
// The originator's NostrService puts the project's zap target on its NIP-99 listing, subscribes
// to zap receipts (kind 9735) for it and hands each new one in as `funding/zap`: a real signed
// receipt published by the "LNURL server" key becomes one funding commitment in a real book on
// two nodes; the same receipt again, one for another listing and a forged one make none (and the
// forged one never reaches the book). A project given its own key has its listing signed, bound
// and profiled with that key, and the organization's listing of it is deleted.
import test from 'brittle'
import { verifyEvent, type Event } from 'nostr-tools/pure'
import { createNet } from './helpers/net.ts'
import { accepted } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { lendingBook, seen } from './helpers/lending.ts'
import { makeZap, resign, zapWorld, secretKey } from './bare/zaps.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { listingD } from '../core/nostr/events.ts'
import { zapIds } from '../books/funding/zap-handlers.ts'
import { getPublicKey } from 'nostr-tools/pure'
import type { Funding } from '../books/entities.ts'
import { until as waitUntil } from './helpers/until.ts'
import { servicesFor, relayFor, publishRaw } from './helpers/nostr.ts'

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> => await waitUntil(what, check, ms, 50)

const zapFundings = async (book: { view: { list: (sub: 'fundings') => Promise<Funding[]> } }) => (await book.view.list('fundings')).filter((f) => f.zap)

test('nostr zap watch - a receipt on the relay becomes one funding on both nodes; the same receipt again, another listing\'s and a forged one make none', { timeout: 90_000 }, async (t) => {
  const own = servicesFor(t)
  const relay = await relayFor(t)
  const net = await createNet(t, 2)
  const [origNode, investorNode] = net.nodes
  const book = await origNode.createBook('Zapped circle')
  const projectId = book.newId()
  await accepted(t, book, [
    { type: 'project/create', projectId, terms: terms(Date.now(), { currency: 'BTC', amount: 100_000, loanMinAmount: 10_000, loanMaxAmount: 50_000, disbursementFee: 100 }) },
    { type: 'project/rail', projectId, rail: 'lightning', network: 'regtest' },
    { type: 'project/activate', projectId }
  ])
  const investor = await investorNode.acceptInvite((await origNode.createInvite(book.topic, 'investor')).code)
  await investor.until(async () => investor.writable && (await investor.view.get('projects', projectId))?.status === 'active', 20_000, 'investor ready')

  const services = own(new Services(origNode, { ads: false }))
  await services.ready()
  const api = createHandlers(origNode, services)
  await api['nostr.relays']({ set: [relay.url] })
  await api['nostr.publish']({ waitMs: 20_000 })
  const pub = (await api['nostr.profile']({})).pubkey
  const coord = `30402:${pub}:${listingD(book.topic, projectId)}`
  await until('the listing on the relay', async () => (await relay.query({ kinds: [30402], authors: [pub] })).length === 1)

  // the zap settings, as the originator's wallet provider announces them
  const w = { ...zapWorld('zap-watch'), listing: coord, recipient: pub }
  await api['nostr.zap.settings']({ book: book.topic, project: projectId, lud16: w.lud16, serverPubkey: w.server.pk, listing: coord, recipient: pub })
  await until('the listing republished with its zap target', async () => {
    const [l] = await relay.query({ kinds: [30402], authors: [pub] }) as unknown as Event[]
    return l !== undefined && l.tags.some((x) => x[0] === 'zap')
  })
  const [listing] = await relay.query({ kinds: [30402], authors: [pub] }) as unknown as Event[]
  t.alike(listing.tags.find((x) => x[0] === 'zap'), ['zap', pub, relay.url, '1'], 'NIP-57 zap tag: the recipient key, a relay, weight 1')
  t.alike(listing.tags.find((x) => x[0] === 'lud16'), ['lud16', w.lud16], 'the Lightning address on the listing')
  t.ok(listing.content.includes(w.lud16), 'and in its text')
  t.ok(verifyEvent({ ...listing }), 'the new version verifies')
  await until('the reader parses the zap target', async () => (await api['nostr.listings']({})).some((l) => l.zap?.lud16 === w.lud16 && l.zap.recipient === pub))

  // the LNURL server publishes its receipt: the node hands it in, both nodes hold one funding
  const zap = makeZap(w, { amountMsat: 21_000_000n })
  t.ok((await publishRaw(relay.url, zap.receipt)) !== undefined, 'the relay took the receipt')
  const originator = (await book.view.meta())?.originator as string
  const { fundingId } = zapIds(originator, zap.receipt.id)
  await seen(book, 'fundings', fundingId)
  await seen(investor, 'fundings', fundingId)
  const f = await investor.view.get('fundings', fundingId) as Funding
  t.is(f.amount, 21_000, 'the funding counts 21 000 sats, on the investor\'s node too')
  t.is(f.zap?.zapper, w.zapper.pk, 'it names the zapper')
  t.is(f.status, 'committed', 'no preimage handed in: it waits for the originator\'s confirmation')

  // the same receipt again, a valid receipt for another listing, and a forged one for ours
  await publishRaw(relay.url, zap.receipt)
  const other = makeZap({ ...w, listing: `30402:${pub}:growr-another-listing` })
  await publishRaw(relay.url, other.receipt)
  t.is((await relay.query({ ids: [other.receipt.id] })).length, 1, 'the relay holds the other listing\'s receipt')
  const forged = resign(makeZap(w).receipt, secretKey('zap-watch', 'impostor'), () => {})
  await publishRaw(relay.url, forged)
  const auditBefore = await book.view.auditLength()
  await until('the forged receipt refused', async () => (await api['nostr.status']({})).zaps.some((z) => z.receipt === forged.id))
  const status = await api['nostr.status']({})
  const byId = (id: string) => status.zaps.filter((z) => z.receipt === id)
  t.is(byId(zap.receipt.id).length, 1, 'the receipt was handed in once')
  t.is(byId(zap.receipt.id)[0].status, 'accepted', 'and the book accepted it')
  t.is(byId(forged.id)[0].status, 'refused', 'the forged receipt is refused by the node')
  t.ok(/LNURL server/.test(byId(forged.id)[0].reason ?? ''), `with its reason: ${byId(forged.id)[0].reason}`)
  t.is(byId(other.receipt.id).length, 0, 'the other listing\'s receipt is not even received')
  t.is(await book.view.auditLength(), auditBefore, 'the forged receipt never reached the book (no op appended)')
  await new Promise((resolve) => setTimeout(resolve, 500)) // room for a wrong second hand-in to show
  t.is((await zapFundings(book)).length, 1, 'one zap funding on the originator\'s node')
  t.is((await zapFundings(investor)).length, 1, 'one on the investor\'s node')

  // a restart: the new service's subscription gets every stored receipt again from the relay
  await services.close()
  const again = own(new Services(origNode, { ads: false }))
  await again.ready()
  const api2 = createHandlers(origNode, again)
  const auditAtRestart = await book.view.auditLength()
  await until('the replayed receipts seen after the restart', async () => (await api2['nostr.status']({})).zaps.some((z) => z.receipt === forged.id))
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.absent((await api2['nostr.status']({})).zaps.some((z) => z.receipt === zap.receipt.id), 'after a restart the counted receipt is not handed in again (remembered in the local bee)')
  t.is(await book.view.auditLength(), auditAtRestart, 'no op appended after the restart')
  t.is((await zapFundings(book)).length, 1, 'still one zap funding')
})

test('nostr project key - a project\'s own key signs its listing and profile, is bound in the book first, the listing is verified by it and the organization\'s one is deleted', { timeout: 90_000 }, async (t) => {
  const own = servicesFor(t)
  const relay = await relayFor(t)
  const lb = await lendingBook(t, ['investor'])
  const [origNode, investorNode] = lb.net.nodes
  const [book, investor] = lb.books
  const services = own(new Services(origNode, { ads: false }))
  await services.ready()
  const api = createHandlers(origNode, services)
  await api['nostr.relays']({ set: [relay.url] })
  await api['nostr.publish']({ waitMs: 20_000 })
  const org = (await api['nostr.profile']({})).pubkey
  await until('the organization\'s listing', async () => (await relay.query({ kinds: [30402], authors: [org] })).length === 1)

  await t.exception(api['nostr.project']({ book: book.topic, project: 'no-such-project', ownKey: true }), /NOT_FOUND/, 'an unknown project is refused')
  const before = await api['nostr.project']({ book: book.topic, project: lb.projectId })
  t.is(before.ownKey, false, 'by default a project speaks with the organization\'s key')
  t.is(before.pubkey, org)

  const chosen = await api['nostr.project']({ book: book.topic, project: lb.projectId, ownKey: true })
  t.is(chosen.ownKey, true)
  t.not(chosen.pubkey, org, 'the project has a key of its own')
  t.ok(chosen.npub.startsWith('npub1'))
  t.is(chosen.listing, `30402:${chosen.pubkey}:${listingD(book.topic, lb.projectId)}`, 'the listing address its zap settings must name now')
  const keys = await book.view.nostrKeys()
  t.ok(keys.some((k) => k.pubkey === chosen.pubkey && k.scope === lb.projectId && k.active), 'the book records it for that project (nostr/key)')
  t.absent(keys.some((k) => k.pubkey === chosen.pubkey && k.scope === 'organization'), 'and not for the organization')

  await api['nostr.publish']({ waitMs: 20_000 })
  await until('the project-key listing', async () => (await relay.query({ kinds: [30402], authors: [chosen.pubkey] })).length === 1)
  await until('the organization\'s listing deleted (NIP-09)', async () => (await relay.query({ kinds: [30402], authors: [org] })).length === 0)
  const [listing] = await relay.query({ kinds: [30402], authors: [chosen.pubkey] }) as unknown as Event[]
  t.ok(verifyEvent({ ...listing }), 'the listing verifies')
  t.alike(listing.tags.find((x) => x[0] === 'd'), ['d', listingD(book.topic, lb.projectId)], 'same d tag: the same listing, under its new key')
  const [profile] = await relay.query({ kinds: [0], authors: [chosen.pubkey] }) as unknown as Event[]
  t.ok(profile && verifyEvent({ ...profile }), 'the project key has its own profile (kind 0)')
  t.is(JSON.parse(profile.content).name, 'Crawford Bay greenhouses', 'named after the project')
  // the relay applies a deletion rather than keeping it: the outbox shows who signed it and that it went out
  const deletions = (await api['nostr.status']({})).events.filter((e) => e.what === 'deletion' && e.project === lb.projectId)
  t.is(deletions.length, 1, 'one deletion of the old listing')
  t.ok(deletions[0].nevent && deletions[0].relays[relay.url]?.status === 'sent', 'sent to the relay')
  t.is((await relay.query({ kinds: [30402, 30403], '#d': [listingD(book.topic, lb.projectId)] })).length, 1, 'only the project key\'s version is left on the relay')

  await until('the listing read back', async () => (await api['nostr.listings']({})).some((l) => l.pubkey === chosen.pubkey))
  const read = (await api['nostr.listings']({})).find((l) => l.pubkey === chosen.pubkey)!
  t.ok(read.verified, `verified by the project's key: ${read.reason}`)
  t.ok(read.reason.includes(`project ${lb.projectId}`), 'the reason names the project')

  // on the investor's node, which follows the book
  const invServices = own(new Services(investorNode, { ads: false }))
  await invServices.ready()
  const inv = createHandlers(investorNode, invServices)
  await inv['nostr.relays']({ set: [relay.url] })
  await investor.until(async () => (await investor.view.nostrKeys()).some((k) => k.pubkey === chosen.pubkey), 20_000, 'project key replicated')
  await until('the investor reads it', async () => (await inv['nostr.listings']({})).some((l) => l.pubkey === chosen.pubkey))
  t.ok((await inv['nostr.listings']({})).find((l) => l.pubkey === chosen.pubkey)!.verified, 'verified on the investor\'s node too')
  await t.exception(inv['nostr.project']({ book: investor.topic, project: lb.projectId, ownKey: true }), /BAD_ARGUMENT/, 'a member who is not the originator cannot choose')

  // a stranger publishing a listing of this project under another project-looking key is unverified
  const strangerSk = secretKey('project-key', 'stranger')
  const fake = resign(listing, strangerSk, (e) => { e.created_at += 10 })
  t.is(fake.pubkey, getPublicKey(strangerSk))
  await publishRaw(relay.url, fake)
  await until('the stranger\'s listing read', async () => (await api['nostr.listings']({})).some((l) => l.pubkey === fake.pubkey))
  t.absent((await api['nostr.listings']({})).find((l) => l.pubkey === fake.pubkey)!.verified, 'a listing by a key the book does not record is unverified')
})
