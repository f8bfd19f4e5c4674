/**
 * The pure trustline machine under Bare (the core worker's runtime): every vector of
 * test/vectors/trustline/ replays to the same states, hashes and refusals as under Node.
 */
import test from 'brittle'
import * as m from '../../books/trustline/machine.ts'
import { stateHash, stateJson } from '../../books/trustline/encoding.ts'
import basic from '../vectors/trustline/basic.json' with { type: 'json' }
import hostile from '../vectors/trustline/hostile.json' with { type: 'json' }
import htlc from '../vectors/trustline/htlc.json' with { type: 'json' }
import imported from '../vectors/trustline/import.json' with { type: 'json' }
import forks from '../vectors/trustline/reconcile.json' with { type: 'json' }

for (const [name, v] of Object.entries({ basic, hostile, htlc, imported }) as Array<[string, any]>) {
  test(`trustline bare - vectors ${name}`, (t) => {
    let state = m.genesis(v.terms)
    t.is(stateHash(state), v.genesis.hash, 'genesis hash')
    let applied = 0
    let refused = 0
    for (const step of v.steps) {
      const r = m.apply(state, step.entry)
      t.is(r.ok, step.expect.ok, step.name)
      if (r.ok && step.expect.ok) {
        t.is(r.hash, step.expect.hash, `${step.name}: hash`)
        t.alike(stateJson(r.state), step.expect.state)
        state = r.state
        applied++
      } else if (!r.ok && !step.expect.ok) {
        t.is(r.reason, step.expect.reason)
        refused++
      }
    }
    t.ok(applied > 0 && refused > 0, `${applied} applied, ${refused} refused`)
  })
}

test('trustline bare - reconcile vectors', (t) => {
  for (const c of (forks as any).cases) {
    t.is(stateHash(m.reconcile((forks as any).terms, c.x, c.y).state), c.head, c.name)
    t.is(stateHash(m.reconcile((forks as any).terms, c.y, c.x).state), c.head, `${c.name} (swapped)`)
  }
})
