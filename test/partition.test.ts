import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { accepted, converge } from './helpers/book.ts'
import type { Book } from '../books/book.ts'
import type { Op, OpInput } from '../books/ops/types.ts'

// record ids are scoped to the DID whose book creates them (books/ids.ts)
const projects = (by: Book, n: number): OpInput[] => Array.from({ length: n }, () => ({ type: 'project/create' as const, projectId: by.newId(), terms: terms(Date.now()) }))
const fundings = (by: Book, projectId: string, n: number): OpInput[] => Array.from({ length: n }, () => ({ type: 'funding/commit' as const, fundingId: by.newId(), projectId, amount: 1_000, currency: 'EUR' }))

test('partition - two against one, everyone keeps writing, then heal: identical views, no op lost', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [orig, inv1, inv2] = net.nodes
  const book = await orig.createBook('Partitioned')
  const projectId = book.newId()
  await accepted(t, book, [{ type: 'project/create', projectId, terms: terms(Date.now()) }, { type: 'project/activate', projectId }])
  const [c1, c2] = await Promise.all(['investor', 'investor'].map(async (_, i) => {
    const invite = await orig.createInvite(book.topic, 'investor')
    return await [inv1, inv2][i].acceptInvite(invite.code)
  }))
  await c2.until(async () => (await c2.view.get('projects', projectId))?.status === 'active', 20_000, 'project replicated')

  // split: inv2 alone on one side, the originator and inv1 on the other
  await inv2.swarm!.suspend()
  t.is(inv2.peerCount, 0, 'the lone peer has no connections')

  const written: Op[] = []
  for (let round = 0; round < 5; round++) {
    const [a, b, c] = await Promise.all([book.append(projects(book, 20)), c1.append(fundings(c1, projectId, 20)), c2.append(fundings(c2, projectId, 20))])
    written.push(...a, ...b, ...c)
  }
  const majority = await converge([book, c1])
  t.is(majority[1], majority[0], 'the majority side converges while split')
  t.not((await c2.view.hash()), majority[0], 'the lone side has diverged')

  await inv2.swarm!.resume()
  const healed = await converge([book, c1, c2], 60_000)
  t.is(healed[1], healed[0], 'inv1 equals the originator after healing')
  t.is(healed[2], healed[0], 'inv2 equals the originator after healing')

  t.is(written.length, 300)
  for (const b of [book, c1, c2]) {
    const audits = await Promise.all(written.map((o) => b.view.auditOf(o.signer, o.opId)))
    t.is(audits.filter((a) => a !== null).length, 300, 'every op written on either side is in this view')
    t.is(audits.filter((a) => a?.status === 'accepted').length, 300, 'and accepted')
  }
})
