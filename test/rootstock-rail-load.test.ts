// Runs under Node and Bare alike (`brittle-bare test/rootstock-rail-load.test.ts`): the Rootstock
// rail and its watcher load in the runtime the core worker uses, and a damaged saved state is
// refused with a coded error instead of being half read.
import test from 'brittle'
import { RootstockRail } from '../core/rails/rootstock/rail.ts'
import { RootstockWatcher } from '../core/rails/rootstock/watcher.ts'

const rpc = {} as ConstructorParameters<typeof RootstockWatcher>[0]['rpc']
const opts = { rpc, did: 'did:key:z6Mk', chainId: 33, isOwn: () => true }

test('rootstock rail load - modules load; watcher state round trip; damaged state refused', (t) => {
  t.is(typeof RootstockRail, 'function', 'the rail loads')
  const fresh = new RootstockWatcher(opts)
  const saved = { ...fresh.toJSON(), cursor: 7, cursorHash: '0x' + '1'.repeat(64), watched: { ['0x' + 'a'.repeat(40)]: 3 }, seen: { ['0x' + 'a'.repeat(40)]: [{ txHash: '0x' + '2'.repeat(64), blockNumber: 5, blockHash: '0x' + '3'.repeat(64), token: null, amount: '123456789012345678901234567890' }] } }
  const again = new RootstockWatcher({ ...opts, state: JSON.parse(JSON.stringify(saved)) })
  t.alike(again.toJSON(), saved, 'a saved state reads back as it was')
  t.is(again.seenTo('0x' + 'a'.repeat(40))[0].amount, 123456789012345678901234567890n, 'amounts stay exact bigints beyond 2^53')
  for (const [what, bad] of [['version', { ...saved, version: 2 }], ['amount', { ...saved, seen: { ['0x' + 'a'.repeat(40)]: [{ ...saved.seen['0x' + 'a'.repeat(40)][0], amount: '1.5' }] } }], ['cursor', { ...saved, cursor: -1 }]] as const) {
    try {
      new RootstockWatcher({ ...opts, state: bad }) // eslint-disable-line no-new
      t.fail(`a damaged ${what} was read`)
    } catch (err) {
      t.is((err as { code?: string }).code, 'BAD_ARGUMENT', `a damaged ${what} is refused`)
    }
  }
})
