/**
 * A member's node vouches for the date on its own when the book's members have been quiet, so an
 * originator can act on an overdue loan without anyone running `growr witness`; the originator's
 * node never vouches for the members' clock.
 */
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { accepted, converge } from './helpers/book.ts'
import { terms } from './helpers/fixtures.ts'
import { GrowrNode } from '../core/node.ts'

test('clock witness - a quiet investor\'s node vouches for the date; the originator\'s never does', { timeout: 90_000 }, async (t) => {
  // clocks: the investor's node runs 40 days ahead of the originator's, as if the book had been quiet that long
  const ahead = 40 * 86_400_000
  const net = await createNet(t, 2, { witness: { intervalMs: 150, maxAgeMs: 86_400_000 } })
  const [orig] = net.nodes
  const book = await orig.createBook('Quiet circle')
  const projectId = book.newId()
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now()) }, { type: 'project/activate', projectId }])
  await net.stop(1)
  const dht = net.testnet.createNode({ host: '127.0.0.1' })
  t.teardown(() => dht.destroy())
  const investor = new GrowrNode({ storage: net.dirs[1], dht, ackInterval: 200, now: () => Date.now() + ahead, witness: { intervalMs: 150, maxAgeMs: 86_400_000 } })
  await investor.ready()
  t.teardown(() => investor.close(), { order: -1 })
  const ib = await investor.acceptInvite((await orig.createInvite(book.topic, 'investor')).code)
  await ib.until(async () => ib.writable, 20_000, 'writable')

  await book.until(async () => (await book.view.clock()).members > Date.now() + ahead - 60_000, 20_000, 'the investor\'s node vouched')
  const witnesses = (await book.view.list('audit')).filter((a) => a.type === 'clock/witness')
  t.ok(witnesses.length >= 1 && witnesses.every((a) => a.status === 'accepted' && a.signer === investor.did), 'clock/witness ops from the investor, accepted')
  await new Promise((resolve) => setTimeout(resolve, 600))
  const after = (await book.view.list('audit')).filter((a) => a.type === 'clock/witness').length
  t.is(after, witnesses.length, 'once the clock is fresh it stays quiet')
  t.absent((await book.view.list('audit')).some((a) => a.type === 'clock/witness' && a.signer === orig.did), 'the originator\'s node never vouches')
  const hashes = await converge([book, ib])
  t.is(hashes[0], hashes[1], 'both peers hold the same view')
})
