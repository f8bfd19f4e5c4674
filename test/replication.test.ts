import test, { type Assertion } from 'brittle'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import type { Book } from '../books/book.ts'
import { GrowrNode } from '../core/node.ts'
import type { Op } from '../books/ops/types.ts'
import { accepted, converge, waitForSigned } from './helpers/book.ts'

/** Every op (its signer and id) is applied exactly once and accepted in every book's view. */
async function allAccepted (t: Assertion, books: Book[], ops: Op[], who: string[]) {
  for (const [i, b] of books.entries()) {
    const audit = await b.view.list('audit')
    for (const { signer, opId } of ops) {
      const entries = audit.filter((a) => a.opId === opId && a.signer === signer)
      t.is(entries.length, 1, `${who[i]}: op ${opId.slice(0, 8)} applied exactly once`)
      t.is(entries[0]?.status, 'accepted', `${who[i]}: op ${opId.slice(0, 8)} (${entries[0]?.type}) accepted${entries[0]?.reason ? ': ' + entries[0].reason : ''}`)
    }
    t.is((await b.view.summary()).rejected, 0, `${who[i]}: no op rejected`)
  }
}

test('replication - a read-only follower converges to the originator\'s view', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 2)
  const [orig, reader] = net.nodes
  const book = await orig.createBook('Read-only circle')
  const projectId = book.newId()
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now()) }, { type: 'project/activate', projectId }])

  const rb = await reader.joinBook(book.topic)
  t.is(reader.book(book.topic), rb, 'reader follows the book by its topic')
  t.is(rb.topic, book.topic)
  await rb.until(async () => (await rb.view.get('projects', projectId)) !== null, 20_000, 'project replicated to the reader')
  const hashes = await converge([book, rb])
  t.is(hashes[1], hashes[0], 'reader view hash equals originator view hash')

  const project = await rb.view.get('projects', projectId)
  t.is(project?.status, 'active', 'reader sees the active project')
  t.is(project?.terms.name, terms(Date.now()).name)
  t.is((await rb.view.meta())?.originator, orig.did, 'reader sees the originator')
  t.is(rb.writable, false, 'reader is not a writer')
  t.is(book.writable, true, 'originator is a writer')
  await t.exception(rb.append([{ type: 'project/activate', projectId }]), /NOT_WRITABLE|not a writer/, 'reader cannot append')
})

test('replication - originator, borrower and investor all write, concurrently too, and converge', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, borrower, investor] = net.nodes
  const book = await orig.createBook('Three peer circle')
  const projectId = book.newId()
  const ops = await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now()) }, { type: 'project/activate', projectId }])

  const [inviteB, inviteI] = [await orig.createInvite(book.topic, 'borrower'), await orig.createInvite(book.topic, 'investor')]
  const [bb, ib] = await Promise.all([borrower.acceptInvite(inviteB.code), investor.acceptInvite(inviteI.code)])
  t.ok(bb.writable && ib.writable, 'borrower and investor are writers')
  await Promise.all([bb, ib].map((b) => b.until(async () => (await b.view.get('projects', projectId))?.status === 'active', 20_000, 'project replicated')))

  // one round each, in turn
  const loanId = bb.newId()
  ops.push(...await accepted(t, bb, [{ type: 'loan/apply', loanId, projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: 'irrigation' }]))
  const fundingId = ib.newId()
  ops.push(...await accepted(t, ib, [{ type: 'funding/commit', fundingId, projectId, amount: 200_000, currency: 'EUR' }]))
  await book.until(async () => (await book.view.get('loans', loanId)) !== null && (await book.view.get('fundings', fundingId)) !== null, 20_000, 'loan and funding replicated')
  const project2 = book.newId()
  ops.push(...await accepted(t, book, [{ type: 'project/create', projectId: project2, terms: terms(Date.now(), { name: 'Second project' }) }, { type: 'project/update', projectId: project2, changes: { description: 'updated once' } }]))

  // then all three at the same time, without waiting for each other
  const loan2 = bb.newId()
  const funding2 = ib.newId()
  const project3 = book.newId()
  const concurrent = await Promise.all([
    bb.append([{ type: 'loan/apply', loanId: loan2, projectId, amount: 60_000, currency: 'EUR', months: 12, purpose: 'tools' }]),
    ib.append([{ type: 'funding/commit', fundingId: funding2, projectId, amount: 100_000, currency: 'EUR' }]),
    book.append([{ type: 'project/create', projectId: project3, terms: terms(Date.now(), { name: 'Third project' }) }, { type: 'project/update', projectId: project2, changes: { description: 'updated twice' } }])
  ])
  ops.push(...concurrent.flat())

  const books = [book, bb, ib]
  await Promise.all(books.map((b) => waitForSigned(b, ops, 20_000)))
  const hashes = await converge(books)
  t.is(hashes[1], hashes[0], 'borrower view equals originator view')
  t.is(hashes[2], hashes[0], 'investor view equals originator view')
  await allAccepted(t, books, ops, ['originator', 'borrower', 'investor'])

  for (const b of books) {
    t.alike((await b.view.list('loans')).map((l) => l.loanId).sort(), [loanId, loan2].sort(), 'both loans everywhere')
    t.is((await b.view.get('projects', projectId))?.committed, 300_000, 'both fundings counted everywhere')
    t.is((await b.view.get('projects', project2))?.terms.description, 'updated twice')
    t.is((await b.view.get('projects', project3))?.status, 'draft')
  }
})

test('replication - a restarted borrower still follows the book, keeps its data and keeps writing', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 2)
  const [orig, borrower] = net.nodes
  const book = await orig.createBook('Restart circle')
  const projectId = book.newId()
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now()) }, { type: 'project/activate', projectId }])
  const bb = await borrower.acceptInvite((await orig.createInvite(book.topic, 'borrower')).code)
  await bb.until(async () => (await bb.view.get('projects', projectId))?.status === 'active', 20_000, 'project replicated')
  const loanId = bb.newId()
  await accepted(t, bb, [{ type: 'loan/apply', loanId, projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: 'seeds' }])
  await book.until(async () => (await book.view.get('loans', loanId)) !== null, 20_000, 'loan replicated')
  const before = await bb.view.hash()
  const topic = book.topic
  const writerKey = bb.writerKey

  const node = await net.restart(1)
  t.not(node, borrower, 'a new node on the same storage')
  t.is(node.did, borrower.did, 'same identity')
  t.alike(node.list().map((b) => b.topic), [topic], 'still follows exactly the one book')
  const rb = node.book(topic)
  t.is(rb.writerKey, writerKey, 'same writer key')
  t.is(await rb.view.hash(), before, 'view on disk is the view before the restart')
  t.is((await rb.view.get('loans', loanId))?.status, 'applied', 'the loan is still there')
  t.is((await rb.view.get('projects', projectId))?.status, 'active', 'the project is still there')
  t.is(rb.writable, true, 'still a writer after the restart')

  const loan2 = rb.newId()
  const [op] = await accepted(t, rb, [{ type: 'loan/apply', loanId: loan2, projectId, amount: 70_000, currency: 'EUR', months: 12, purpose: 'after restart' }])
  const [audit] = await waitForSigned(book, [op], 20_000)
  t.is(audit.status, 'accepted', 'the new op reaches the originator, accepted')
  t.is((await book.view.get('loans', loan2))?.borrower, borrower.did)

  // and the originator's later ops reach the restarted borrower
  const [approve] = await accepted(t, book, [{ type: 'loan/approve', loanId: loan2 }])
  await waitForSigned(rb, [approve], 20_000)
  t.is((await rb.view.get('loans', loan2))?.status, 'approved', 'the originator\'s approval reaches the restarted borrower')
  const hashes = await converge([book, rb])
  t.is(hashes[1], hashes[0], 'views equal after the restart')
})

test('replication - ops a borrower writes offline and ops others write meanwhile all survive reconnection', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, borrower, investor] = net.nodes
  const book = await orig.createBook('Offline circle')
  const projectId = book.newId()
  const ops = await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now()) }, { type: 'project/activate', projectId }])
  const [bb, ib] = await Promise.all([
    borrower.acceptInvite((await orig.createInvite(book.topic, 'borrower')).code),
    investor.acceptInvite((await orig.createInvite(book.topic, 'investor')).code)
  ])
  await bb.until(async () => (await bb.view.get('projects', projectId))?.status === 'active', 20_000, 'project replicated to the borrower')
  await ib.until(async () => (await ib.view.get('projects', projectId))?.status === 'active', 20_000, 'project replicated to the investor')
  const topic = book.topic

  await net.stop(1)
  const offline = new GrowrNode({ storage: net.dirs[1], network: false })
  t.teardown(() => offline.close(), { order: -Infinity }) // a no-op once closed below
  await offline.ready()
  t.is(offline.peerCount, 0, 'offline node has no connections')
  const ob = offline.book(topic)
  t.is(ob.writable, true, 'offline node is still a writer')
  const loanA = ob.newId()
  const loanB = ob.newId()
  const offlineOps = await accepted(t, ob, [{ type: 'loan/apply', loanId: loanA, projectId, amount: 40_000, currency: 'EUR', months: 6, purpose: 'written offline' }])
  offlineOps.push(...await accepted(t, ob, [{ type: 'loan/apply', loanId: loanB, projectId, amount: 80_000, currency: 'EUR', months: 12, purpose: 'also offline' }, { type: 'loan/withdraw', loanId: loanB }]))
  await offline.close()

  // meanwhile, online
  const fundingId = ib.newId()
  ops.push(...await accepted(t, ib, [{ type: 'funding/commit', fundingId, projectId, amount: 300_000, currency: 'EUR' }]))
  const project2 = book.newId()
  ops.push(...await accepted(t, book, [
    { type: 'project/create', projectId: project2, terms: terms(Date.now(), { name: 'Second' }) },
    { type: 'project/update', projectId: project2, changes: { description: 'edited while the borrower was away' } },
    { type: 'project/activate', projectId: project2 }
  ]))
  await book.until(async () => (await book.view.get('fundings', fundingId)) !== null, 20_000, 'funding replicated')
  t.is(await book.view.get('loans', loanA), null, 'the originator has not seen the offline loan yet')

  const node = await net.restart(1)
  const rb = node.book(topic)
  t.ok((await rb.view.get('loans', loanA)) !== null, 'the restarted borrower has its offline ops')

  const allOps = [...ops, ...offlineOps]
  const books = [book, rb, ib]
  await Promise.all(books.map((b) => waitForSigned(b, allOps, 30_000)))
  const hashes = await converge(books)
  t.is(hashes[1], hashes[0], 'borrower view equals originator view')
  t.is(hashes[2], hashes[0], 'investor view equals originator view')
  await allAccepted(t, books, allOps, ['originator', 'borrower', 'investor'])
  for (const b of books) {
    t.is((await b.view.get('loans', loanA))?.status, 'applied')
    t.is((await b.view.get('loans', loanB))?.status, 'withdrawn')
    t.is((await b.view.get('projects', project2))?.terms.description, 'edited while the borrower was away')
    t.is((await b.view.get('projects', project2))?.status, 'active')
    t.is((await b.view.get('fundings', fundingId))?.status, 'committed')
  }
})
