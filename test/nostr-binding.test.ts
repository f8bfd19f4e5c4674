// Which Nostr keys speak for a book (op `nostr/key`, books/nostr/, core/nostr/binding.ts): the
// originator binds its NIP-06 keys through the contract; members, and proofs made by another key,
// for another book, DID or scope, or malformed, are refused with reasons on every peer; listings
// published to a real relay are judged verified, unverified or refused.
import test, { type Assertion } from 'brittle'
import b4a from 'b4a'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import WebSocket from 'ws'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent, type Event, type EventTemplate } from 'nostr-tools/pure'
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { converge } from './helpers/book.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { startLocalRelay } from '../app/demo/nostr-relay.ts'
import { NostrSigner } from '../core/nostr/keys.ts'
import { bindingMessage, judgeListing, signBinding, verifyBinding, type BindingTarget, type NostrKeyRecord } from '../core/nostr/binding.ts'
import { speaksFor } from '../books/nostr/binding.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import type { Book } from '../books/book.ts'
import { OpValidator } from '../books/ops/schemas.ts'
import { corruptArb, opArb, signers } from './helpers/hostile.ts'
import type { OpInput } from '../books/ops/types.ts'

useWebSocketImplementation(WebSocket)

const BOOK = 'ab'.repeat(32)
const PROJECT = 'cd'.repeat(16)
const did = (n: number) => publicKeyToDid(generateKeyPair(new Uint8Array(32).fill(n)).publicKey)
const ORIGINATOR = did(1)

/** A key pair as a stranger to the node would hold it. */
function nostrKey (): { sk: Uint8Array; pk: string } {
  const sk = generateSecretKey()
  return { sk, pk: getPublicKey(sk) }
}

test('nostr binding - a proof verifies only by the key itself, for its book, scope and originator; garbage never throws', (t) => {
  const k = nostrKey()
  const other = nostrKey()
  const target: BindingTarget = { book: BOOK, scope: 'organization', originator: ORIGINATOR }
  const proof = signBinding(k.sk, target)
  t.ok(verifyBinding(k.pk, proof, target).ok, 'the key\'s own proof verifies')
  t.ok(verifyBinding(k.pk, proof, { ...target, book: b4a.from(BOOK, 'hex') }).ok, 'the book key as bytes or hex: one message')

  const refused: Array<[string, string, string, typeof target, RegExp]> = [
    ['signed by another key', k.pk, signBinding(other.sk, target), target, /not a signature by Nostr key/],
    ['made for another book', k.pk, signBinding(k.sk, { ...target, book: 'ef'.repeat(32) }), target, /not a signature by Nostr key/],
    ['made for another originator', k.pk, signBinding(k.sk, { ...target, originator: did(2) }), target, /not a signature by Nostr key/],
    ['made for another scope', k.pk, signBinding(k.sk, { ...target, scope: PROJECT }), target, /not a signature by Nostr key/],
    ['a proof of the wrong length', k.pk, proof.slice(2), target, /128 lowercase hex/],
    ['a proof in upper case', k.pk, proof.toUpperCase(), target, /128 lowercase hex/],
    ['a proof whose s is past the group order', k.pk, proof.slice(0, 64) + 'f'.repeat(64), target, /not a signature/],
    ['a public key off the curve', '00'.repeat(31) + '05', proof, target, /not a valid secp256k1/],
    ['a malformed book key', k.pk, proof, { ...target, book: 'ab' }, /book key/],
    ['a scope holding a separator', k.pk, proof, { ...target, scope: 'organization\u0000x' }, /scope/],
    ['an originator that is no DID', k.pk, proof, { ...target, originator: 'did:web:example.com' }, /did:key/]
  ]
  for (const [what, pk, sig, tgt, reason] of refused) {
    const r = verifyBinding(pk, sig, tgt)
    t.ok(!r.ok && reason.test(r.reason), `${what}: refused${r.ok ? '' : ` (${r.reason})`}`)
  }
  t.exception(() => signBinding(new Uint8Array(31), target), /BAD_ARGUMENT/, 'signing with a 31-byte key throws BAD_ARGUMENT')

  // the message is the one the module's docstring spells out, byte for byte
  const m = bindingMessage(target)
  const spelled = createHash('sha256').update(Buffer.concat([Buffer.from('growr/nostr-key/v1'), Buffer.from([0]), Buffer.from(BOOK, 'hex'), Buffer.from([0]), Buffer.from('organization'), Buffer.from([0]), Buffer.from(ORIGINATOR)])).digest('hex')
  t.is(m.ok ? bytesToHex(m.message) : null, spelled, 'the message is sha256 of the documented layout (checked with node:crypto)')
  t.ok(schnorr.verify(b4a.from(proof, 'hex'), b4a.from(spelled, 'hex'), b4a.from(k.pk, 'hex')), 'and the proof is a plain BIP-340 signature over it')

  fc.assert(fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything(), (pk, sig, book, scope, originator) => {
    const r = verifyBinding(pk as string, sig as string, { book: book as string, scope: scope as string, originator: originator as string })
    return r.ok === false && typeof r.reason === 'string' && r.reason.length > 0
  }), { numRuns: 500 })
  fc.assert(fc.property(fc.stringMatching(/^[0-9a-f]{64}$/), fc.stringMatching(/^[0-9a-f]{128}$/), (pk, sig) => {
    const r = verifyBinding(pk, sig, target)
    return r.ok === false
  }), { numRuns: 300 })
  t.pass('no input makes the verifier throw or accept a random proof')
})

test('nostr binding - schema: generated nostr/key ops validate, every corruption of one is refused', (t) => {
  const validator = new OpValidator()
  const pool = signers(2)
  fc.assert(fc.property(opArb(pool, 'nostr/key'), ({ op }) => validator.check(op) === null), { numRuns: 200 })
  fc.assert(fc.property(opArb(pool, 'nostr/key').chain(({ op }) => corruptArb(op)), ({ op }) => validator.check(op) !== null), { numRuns: 400 })
  const valid = { type: 'nostr/key', opId: 'ab'.repeat(16), ts: 1, signer: ORIGINATOR, pubkey: '11'.repeat(32), proof: '22'.repeat(64), active: true }
  for (const scope of ['Organization', 'organization ', 'ab'.repeat(15), 'AB'.repeat(16), 'organization\u0000' + PROJECT]) t.ok(validator.check({ ...valid, scope }) !== null, `scope ${JSON.stringify(scope)} refused by the schema`)
  t.is(validator.check({ ...valid, scope: 'organization' }), null)
  t.is(validator.check({ ...valid, scope: PROJECT }), null)
})

test('nostr binding - speaksFor: organization keys speak for every project, project keys for theirs, retired keys for none', (t) => {
  const rec = (pubkey: string, scope: string, active: boolean, since = 1_700_000_000_000): NostrKeyRecord => ({ pubkey, scope, active, since, proof: '00'.repeat(64) })
  const org = '11'.repeat(32)
  const proj = '22'.repeat(32)
  const old = '33'.repeat(32)
  const records = [rec(org, 'organization', true), rec(proj, PROJECT, true), rec(old, 'organization', false, Date.UTC(2026, 0, 2))]
  t.ok(speaksFor(records, org, null).ok, 'organization key for the organization')
  t.ok(speaksFor(records, org, 'ee'.repeat(16)).ok, 'organization key for any project')
  t.ok(speaksFor(records, proj, PROJECT).ok, 'project key for its project')
  const r1 = speaksFor(records, proj, 'ee'.repeat(16))
  t.ok(!r1.ok && /speaks for project cd/.test(r1.reason), `project key for another project: ${r1.ok ? '' : r1.reason}`)
  const r2 = speaksFor(records, proj, null)
  t.ok(!r2.ok && /not for the organization/.test(r2.reason), `project key for the organization: ${r2.ok ? '' : r2.reason}`)
  const r3 = speaksFor(records, old, null)
  t.ok(!r3.ok && /retired by the book on 2026-01-02/.test(r3.reason), `retired key: ${r3.ok ? '' : r3.reason}`)
  const r4 = speaksFor(records, '44'.repeat(32), null)
  t.ok(!r4.ok && /not recorded/.test(r4.reason), `unknown key: ${r4.ok ? '' : r4.reason}`)
})

/** Appends one op as `book`'s signer and returns its audit entry (accepted or not). */
async function submit (book: Book, input: OpInput) {
  const [{ audit }] = await book.act([input])
  return audit
}

async function expectRejected (t: Assertion, what: string, book: Book, input: OpInput, reason: RegExp): Promise<void> {
  const before = await book.view.nostrKeys()
  const audit = await submit(book, input)
  t.is(audit.status, 'rejected', `${what}: rejected`)
  t.ok(reason.test(audit.reason ?? ''), `${what}: reason "${audit.reason}" matches ${reason}`)
  t.alike(await book.view.nostrKeys(), before, `${what}: the recorded keys are unchanged`)
}

test('nostr binding - the originator binds its keys; members and hostile proofs are refused; every peer agrees; listings over a real relay are judged', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, borrower, investor] = net.nodes
  const services = new Services(orig)
  t.teardown(async () => { await services.close() }, { order: -Infinity + 1 })
  await services.ready()
  const api = createHandlers(orig, services)

  const book = await orig.createBook('Nostr circle')
  const bookHex = b4a.toString(book.key, 'hex')
  const now = Date.now()
  const P = book.newId()
  const Q = book.newId()
  for (const r of await book.act([
    { type: 'project/create', projectId: P, terms: terms(now) }, { type: 'project/activate', projectId: P },
    { type: 'project/create', projectId: Q, terms: terms(now, { name: 'Second project' }) }
  ])) t.is(r.audit.status, 'accepted')
  const [bb, ib] = await Promise.all([
    borrower.acceptInvite((await orig.createInvite(book.topic, 'borrower')).code),
    investor.acceptInvite((await orig.createInvite(book.topic, 'investor')).code)
  ])
  const books = [book, bb, ib]

  // the originator binds its organization key and project P's key through the contract
  const org = await api['nostr.bind']({ book: book.topic })
  t.ok(org.opId !== null && org.scope === 'organization' && org.active, 'organization key bound')
  const proj = await api['nostr.bind']({ book: book.topic, project: P })
  t.ok(proj.opId !== null && proj.scope === P, 'project P\'s key bound')
  t.not(proj.pubkey, org.pubkey, 'the project speaks with its own key')
  const again = await api['nostr.bind']({ book: book.topic })
  t.is(again.opId, null, 'binding again appends nothing: the book already says so')
  const signer = new NostrSigner(services.keys!)
  t.is(await signer.publicKey(), org.pubkey, 'the bound key is the node\'s NIP-06 organization key')

  const bound = await converge(books)
  t.ok(bound.every((h) => h === bound[0]), 'every peer has the bindings')

  // a member may not bind, even with a valid proof by a key it holds
  const mine = nostrKey()
  const memberBinding = { type: 'nostr/key' as const, pubkey: mine.pk, scope: 'organization', proof: signBinding(mine.sk, { book: bookHex, scope: 'organization', originator: bb.signerDid }), active: true }
  await expectRejected(t, 'a borrower binding a key to the book', bb, memberBinding, /a borrower may not nostr\/key/)
  const forOriginator = { ...memberBinding, proof: signBinding(mine.sk, { book: bookHex, scope: 'organization', originator: book.signerDid }) }
  await expectRejected(t, 'a borrower binding with a proof made out to the originator', bb, forOriginator, /a borrower may not nostr\/key/)

  // hostile proofs from the originator itself: it cannot claim a key that did not sign for this book, scope and DID
  const victim = nostrKey()
  const rightTarget = { book: bookHex, scope: 'organization', originator: book.signerDid }
  const bind = (pubkey: string, proof: string, scope = 'organization', active = true): OpInput => ({ type: 'nostr/key', pubkey, scope, proof, active })
  await expectRejected(t, 'someone else\'s key, with a proof by the originator\'s own key', book, bind(victim.pk, signBinding(mine.sk, rightTarget)), /not a signature by Nostr key/)
  await expectRejected(t, 'a proof made for another book', book, bind(victim.pk, signBinding(victim.sk, { ...rightTarget, book: 'ef'.repeat(32) })), /not a signature by Nostr key/)
  await expectRejected(t, 'a proof made for another DID', book, bind(victim.pk, signBinding(victim.sk, { ...rightTarget, originator: bb.signerDid })), /not a signature by Nostr key/)
  const pKeyProof = (await book.view.nostrKeys()).find((r) => r.scope === P)!.proof
  await expectRejected(t, 'project P\'s proof presented for project Q', book, bind(proj.pubkey, pKeyProof, Q), /not a signature by Nostr key/)
  await expectRejected(t, 'project P\'s proof presented for the organization', book, bind(proj.pubkey, pKeyProof, 'organization'), /not a signature by Nostr key/)
  const missing = book.newId()
  await expectRejected(t, 'a project key for a project not in the book', book, bind(victim.pk, signBinding(victim.sk, { ...rightTarget, scope: missing }), missing), /not in this book/)
  await expectRejected(t, 'a malformed proof (not hex)', book, bind(victim.pk, 'zz'.repeat(64)), /invalid nostr\/key: \/proof/)
  await expectRejected(t, 'a proof one byte short', book, bind(victim.pk, signBinding(victim.sk, rightTarget).slice(2)), /invalid nostr\/key: \/proof/)
  await expectRejected(t, 'a proof of random bytes', book, bind(victim.pk, bytesToHex(schnorr.utils.randomSecretKey()).repeat(2)), /not a signature by Nostr key/)
  await expectRejected(t, 'a public key in upper case', book, bind(victim.pk.toUpperCase(), signBinding(victim.sk, rightTarget)), /invalid nostr\/key: \/pubkey/)
  await expectRejected(t, 'a public key off the curve', book, bind('00'.repeat(31) + '05', signBinding(victim.sk, rightTarget)), /not a valid secp256k1/)
  await expectRejected(t, 'retiring a key the book never recorded', book, bind(victim.pk, signBinding(victim.sk, rightTarget), 'organization', false), /nothing to retire/)

  // the same originator replays its accepted binding into another book it originates
  const other = await orig.createBook('Another circle')
  const orgRecord = (await book.view.nostrKeys()).find((r) => r.scope === 'organization')!
  await expectRejected(t, 'a binding replayed into another book of the same originator', other, bind(orgRecord.pubkey, orgRecord.proof), /not a signature by Nostr key/)

  // rotation: a second organization key, both active; then the second is retired
  const second = nostrKey()
  t.is((await submit(book, bind(second.pk, signBinding(second.sk, rightTarget)))).status, 'accepted', 'a second organization key is bound')
  const both = (await book.view.nostrKeys()).filter((r) => r.scope === 'organization' && r.active).map((r) => r.pubkey).sort()
  t.alike(both, [org.pubkey, second.pk].sort(), 'both organization keys are active at once')
  const secondProof = (await book.view.nostrKeys()).find((r) => r.pubkey === second.pk)!.proof

  // every peer holds the same view and the same records
  const hashes = await converge(books)
  t.ok(hashes.every((h) => h === hashes[0]), 'all peers converge to one view hash')
  const views = await Promise.all(books.map((b) => b.view.nostrKeys()))
  t.is(views[0].length, 3, 'three keys recorded')
  for (const v of views.slice(1)) t.alike(v, views[0], 'a peer holds the same Nostr key records')
  for (const r of views[0]) t.ok(verifyBinding(r.pubkey, r.proof, { book: bookHex, scope: r.scope, originator: book.signerDid }).ok, `anyone can check the recorded proof of ${r.pubkey.slice(0, 8)} again`)
  t.alike(await bb.view.nostrSpeaksFor(proj.pubkey, P), { ok: true, record: views[0].find((r) => r.pubkey === proj.pubkey) }, 'a borrower\'s view says project P\'s key speaks for P')

  // listings on a real relay, read back by a client, judged against the book's records
  const relay = await startLocalRelay()
  const pool = new SimplePool()
  t.teardown(async () => { pool.close([relay.url]); await relay.close() })
  const listing = (project: string, title: string): EventTemplate => ({ kind: 30402, created_at: Math.floor(now / 1000), content: `About ${title}`, tags: [['d', project], ['title', title], ['growr', bookHex, project]] })
  const stranger = nostrKey()
  const published = {
    orgForP: await signer.sign(listing(P, 'org for P')),
    projForP: await signer.sign(listing(P, 'P key for P'), { kind: 'project', book: bookHex, project: P }),
    projForQ: await signer.sign(listing(Q, 'P key for Q'), { kind: 'project', book: bookHex, project: P }),
    stranger: finalizeEvent(listing(P, 'stranger'), stranger.sk),
    second: finalizeEvent(listing(Q, 'second org key'), second.sk),
    profile: await signer.sign({ kind: 0, created_at: Math.floor(now / 1000), content: '{"name":"Nostr circle"}', tags: [] }),
    projProfile: await signer.sign({ kind: 0, created_at: Math.floor(now / 1000), content: '{"name":"P"}', tags: [] }, { kind: 'project', book: bookHex, project: P })
  }
  for (const ev of Object.values(published)) await Promise.all(pool.publish([relay.url], ev))
  const back = await pool.querySync([relay.url], { ids: Object.values(published).map((e) => e.id) })
  t.is(back.length, Object.keys(published).length, 'every event is read back from the relay')
  const byId = (e: Event) => back.find((b) => b.id === e.id) as Event
  const judge = async (e: Event, project: string | null) => judgeListing(byId(e), await bb.view.nostrKeys(), { book: bookHex, project })

  const expect = async (what: string, e: Event, project: string | null, status: string, reason: RegExp) => {
    const j = await judge(e, project)
    t.is(j.status, status, `${what}: ${status}`)
    t.ok(reason.test(j.reason), `${what}: reason "${j.reason}" matches ${reason}`)
  }
  await expect('a listing of P by the organization key', published.orgForP, P, 'verified', /for the organization/)
  await expect('a listing of P by P\'s key', published.projForP, P, 'verified', new RegExp(`for project ${P}`))
  await expect('a listing of Q by P\'s key', published.projForQ, Q, 'unverified', new RegExp(`speaks for project ${P}, not for project ${Q}`))
  await expect('a listing by a key the book does not record', published.stranger, P, 'unverified', /not recorded by this book/)
  await expect('a listing by the second organization key while active', published.second, Q, 'verified', /for the organization/)
  await expect('the organization\'s profile', published.profile, null, 'verified', /for the organization/)
  await expect('a profile by P\'s key claiming the organization', published.projProfile, null, 'unverified', /not for the organization/)

  // the second organization key is retired: what it signed is unverified from then on, on every peer
  const retired = await submit(book, bind(second.pk, secondProof, 'organization', false))
  t.is(retired.status, 'accepted', 'the second organization key is retired')
  const after = await converge(books)
  t.ok(after.every((h) => h === after[0]), 'peers converge after the retirement')
  await expect('a listing by the retired key', published.second, Q, 'unverified', /retired by the book on/)
  const rec = (await bb.view.nostrKeys()).find((r) => r.pubkey === second.pk)!
  t.ok(!rec.active && rec.since === retired.ts, 'the record says retired, since the retiring op\'s time')
  await expect('the first organization key still speaks', published.orgForP, P, 'verified', /for the organization/)

  // tampered events are refused outright, even when the object still carries nostr-tools' cached verification
  const fromRelay = byId(published.orgForP)
  const tampered = judgeListing({ ...fromRelay, content: 'Send sats to bc1q...' }, views[0], { book: bookHex, project: P })
  t.is(tampered.status, 'refused', `a listing whose content was changed after signing: refused (${tampered.reason})`)
  const cached = { ...published.orgForP, tags: [['d', Q], ['growr', bookHex, Q]] }
  t.ok(verifyEvent(cached), 'nostr-tools alone still says the altered object verifies: its cached verdict came along')
  const judgedCached = judgeListing(cached, views[0], { book: bookHex, project: Q })
  t.is(judgedCached.status, 'refused', 'a signed event object altered by spreading (its cached verification copied along): refused')
  const swapped = judgeListing({ ...fromRelay, pubkey: second.pk }, views[0], { book: bookHex, project: P })
  t.is(swapped.status, 'refused', 'an event whose pubkey was swapped: refused')
  for (const junk of [null, 'event', [], { ...fromRelay, sig: 'zz' }, { ...fromRelay, kind: 1.5 }, { ...fromRelay, tags: [[1]] }]) {
    const j = judgeListing(junk, views[0], { book: bookHex, project: P })
    t.ok(j.status === 'refused' && /not a Nostr event/.test(j.reason), `malformed input refused: ${j.reason}`)
  }

  // the originator retires project P's key through the contract, then binds it again
  const off = await api['nostr.bind']({ book: book.topic, project: P, active: false })
  t.ok(off.opId !== null && !off.active && off.pubkey === proj.pubkey, 'project P\'s key retired through the contract')
  await converge(books)
  await expect('a listing of P by P\'s retired key', published.projForP, P, 'unverified', /retired by the book on/)
  await expect('the organization key still speaks for P', published.orgForP, P, 'verified', /for the organization/)
  const on = await api['nostr.bind']({ book: book.topic, project: P })
  t.ok(on.opId !== null && on.active, 'project P\'s key bound again')
  await converge(books)
  await expect('a listing of P by P\'s key, bound again', published.projForP, P, 'verified', new RegExp(`for project ${P}`))
  await t.exception(api['nostr.bind']({ book: book.topic, project: 'zz' }), /BAD_ARGUMENT/, 'a project id that is no id: BAD_ARGUMENT')
  const memberServices = new Services(borrower)
  t.teardown(async () => { await memberServices.close() }, { order: -Infinity + 1 })
  await memberServices.ready()
  await t.exception(createHandlers(borrower, memberServices)['nostr.bind']({ book: book.topic }), /BAD_ARGUMENT.*originator/, 'a member\'s node refuses to bind in a book it does not originate')

  // the contract lists the same records
  t.alike(await api['nostr.keys']({ book: book.topic }), await book.view.nostrKeys(), 'nostr.keys lists the book\'s records')
})
