import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { rejectsCode } from './helpers/assert.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Book } from '../books/book.ts'

/** Borrowers the originator's view holds, by DID. */
async function borrowers (book: Book): Promise<string[]> {
  return (await book.view.list('members')).filter((m) => m.role === 'borrower' && !m.removed).map((m) => m.did)
}

/** Redeems `code` on `node`; null when the originator never admitted it within `ms`. */
async function redeem (node: GrowrNode, code: string, ms: number): Promise<Book | null> {
  try {
    return await node.acceptInvite(code, ms)
  } catch (err) {
    if ((err as { code?: string }).code === 'TIMEOUT') return null
    throw err
  }
}

test('invite - two candidates race for one single-use invite: exactly one becomes a member, also after the originator restarts', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 4)
  const [, alice, mallory, eve] = net.nodes
  const orig = net.nodes[0]
  const book = await orig.createBook('One seat')
  const invite = await orig.createInvite(book.topic, 'borrower')

  // both candidates hold the code (the invitee forwarded it, or it leaked) and redeem it at once
  const [a, m] = await Promise.all([redeem(alice, invite.code, 12_000), redeem(mallory, invite.code, 12_000)])
  const winners = [a, m].filter((b) => b !== null)
  t.is(winners.length, 1, 'exactly one candidate was admitted')
  const members = await borrowers(book)
  t.is(members.length, 1, 'the originator\'s view holds exactly one borrower')
  const winner = a ? alice : mallory
  const loser = a ? mallory : alice
  t.alike(members, [winner.did], 'the member is the admitted candidate')
  t.ok(winners[0]?.writable, 'the winner can write')

  // the same winner asking again (onadd can run twice) stays admitted, with no second member/add
  const audit = await book.view.auditLength()
  const again = await winner.acceptInvite(invite.code, 12_000)
  t.ok(again.writable, 'the winner retrying is confirmed again')
  t.is(await book.view.auditLength(), audit, 'a retry by the admitted candidate appends nothing')

  const restarted = await net.restart(0)
  const after = restarted.book(book.topic)
  // the originator still answers this invite after the restart, so these refusals come from the persisted claim
  const [l, e, back] = await Promise.all([redeem(loser, invite.code, 8_000), redeem(eve, invite.code, 8_000), redeem(winner, invite.code, 8_000)])
  t.is(l, null, 'after a restart the loser is still refused')
  t.is(e, null, 'after a restart a third candidate is refused')
  t.ok(back?.writable, 'after a restart the winner asking again is confirmed by the persisted claim')
  t.alike(await borrowers(after), [winner.did], 'still exactly one borrower')
  const stored = await invites(restarted)
  t.is(stored.length, 1, 'one invite stored')
  t.ok(stored[0].used, 'the invite is recorded as used on disk')
})

/** The invite records a node keeps. */
async function invites (node: GrowrNode): Promise<Array<{ used: boolean }>> {
  const out: Array<{ used: boolean }> = []
  for await (const { value } of (node.local as NonNullable<GrowrNode['local']>).createReadStream<{ used: boolean }>({ gte: 'invites/', lt: 'invites0' })) out.push(value)
  return out
}

test('invite - a code that does not decode is refused before any network', async (t) => {
  const net = await createNet(t, 1)
  await rejectsCode(t, net.nodes[0].acceptInvite('not a code!', 1000), 'BAD_INVITE', 'garbage code')
})
