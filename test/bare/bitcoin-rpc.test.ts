// Runs under Bare (brittle-bare) and Node alike: the Bitcoin backend client loads in the runtime
// the core worker uses (Bare's type stripper, no global fetch there: one is passed in).
import test from 'brittle'
import { BitcoinRpc } from '../../core/rails/bitcoin/rpc.ts'
import '../../core/rails/bitcoin/proof-fetcher.ts'

test('bitcoin rpc (bare) - a call through a given fetch, with the node\'s answer checked', async (t) => {
  const sent: string[] = []
  const rpc = new BitcoinRpc({
    url: 'http://127.0.0.1:48332/',
    apiKey: 'secret-key',
    timeoutMs: 1000,
    fetch: async (_url, init) => {
      sent.push(String((init as { body?: unknown }).body))
      const id = JSON.parse(String((init as { body?: unknown }).body)).id
      return { status: 200, text: async () => JSON.stringify({ result: 451, error: null, id }) }
    }
  })
  t.is(await rpc.getBlockCount(), 451, 'the answer is read')
  t.ok(sent[0].includes('getblockcount'), 'the method is sent')
})
