// Runs under Bare (brittle-bare) and Node alike: the book's apply with no node: imports.
import test from 'brittle'
import Corestore from 'corestore'
import fs from '#fs'
import os from '#os'
import path from '#path'
import b4a from 'b4a'
import { Book } from '../../books/book.ts'
import { encodeEnvelope } from '../../books/ops/envelope.ts'
import { generateKeyPair } from '../../core/identity/keys.ts'
import { publicKeyToDid } from '../../core/identity/did-key.ts'
import { terms } from '../helpers/fixtures.ts'

test('bare - apply accepts an originator\'s project and records malformed and unsigned ops as rejected', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'growr-bare-'))
  const store = new Corestore(dir)
  const kp = generateKeyPair(new Uint8Array(32).fill(7))
  const book = new Book(store, { signer: { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey } })
  t.teardown(async () => {
    await book.close()
    await store.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  await book.ready()
  const projectId = book.newId()
  const ok = await book.act([
    { type: 'book/create', name: 'bare book' },
    { type: 'project/create', projectId, terms: terms(Date.now()) },
    { type: 'project/activate', projectId }
  ])
  t.alike(ok.map((r) => r.audit.status), ['accepted', 'accepted', 'accepted'])
  t.is((await book.view.get('projects', projectId))?.status, 'active')

  await book.appendRaw([b4a.from([1, 0xff, 0xff]), encodeEnvelope(1, b4a.from('{}'), new Uint8Array(64))])
  await book.base.update()
  const audit = await book.view.list('audit')
  t.is(audit.length, 5)
  t.is(audit[3].status, 'rejected')
  t.ok(/malformed/.test(audit[3].reason ?? ''), audit[3].reason ?? '')
  t.is(audit[4].status, 'rejected')
  t.ok(/signer/.test(audit[4].reason ?? ''), audit[4].reason ?? '')
})
