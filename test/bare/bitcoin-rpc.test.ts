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

test('bitcoin rpc (bare) - the runtime\'s own fetch (bare-fetch under Bare) reaches a JSON-RPC server, with basic auth', { skip: typeof (globalThis as { Bare?: unknown }).Bare === 'undefined' }, async (t) => {
  const http = (await import('bare-http1' as string)).default
  let seen: { auth?: string, body: string } | null = null
  const server = http.createServer((req: any, res: any) => {
    let body = ''
    req.on('data', (d: Uint8Array) => { body += new TextDecoder().decode(d) })
    req.on('end', () => {
      seen = { auth: req.headers.authorization, body }
      const id = JSON.parse(body).id
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ result: 777, error: null, id }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const rpc = new BitcoinRpc({ url: `http://127.0.0.1:${server.address().port}/`, apiKey: 'secret-key', timeoutMs: 5000 })
  t.is(await rpc.getBlockCount(), 777, 'answered through the global fetch, none passed in')
  t.is(seen!.auth, 'Basic ' + btoa('x:secret-key'), 'with the api key as basic auth')
  t.absent(rpc.url.includes('secret') || rpc.url.includes('@'), `the URL it reports carries no credentials (${rpc.url})`)
})
