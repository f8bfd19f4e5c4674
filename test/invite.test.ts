import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { accepted } from './helpers/book.ts'
import { scopedId } from '../books/ids.ts'

test('invite - a peer that already follows the book by topic key becomes a writer of that same book', { timeout: 60_000 }, async (t) => {
  const net = await createNet(t, 2)
  const [orig, peer] = net.nodes
  const book = await orig.createBook('Followed first')
  const projectId = scopedId(orig.did) // record ids are scoped to their creator (books/ids.ts)
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now()) }, { type: 'project/activate', projectId }])

  const followed = await peer.joinBook(book.topic)
  await followed.until(async () => (await followed.view.get('projects', projectId)) !== null, 20_000, 'project replicated to the reader')
  t.absent(followed.writable, 'a reader cannot write')

  const invite = await orig.createInvite(book.topic, 'borrower')
  const writer = await peer.acceptInvite(invite.code, 30_000)
  t.is(writer, followed, 'the invite upgrades the followed book instead of opening a second copy')
  t.ok(writer.writable)
  t.is(peer.list().length, 1, 'one book followed')
  await accepted(t, writer, [{ type: 'loan/apply', loanId: scopedId(peer.did), projectId, amount: 50_000, currency: 'EUR', months: 6, purpose: '' }])
})
