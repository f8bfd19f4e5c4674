// A node process the crash test kills with SIGKILL: it opens a book on its storage (creating it on
// the first run), appends batches of signed ops and prints "ack <opId> ..." once each append has
// resolved. Run with `--verify <file of acked ids>` it reopens the store and reports which acked
// ops are missing from the view.
import fs from 'node:fs'
import path from 'node:path'
import Corestore from 'corestore'
import b4a from 'b4a'
import { Book } from '../../books/book.ts'
import { generateKeyPair } from '../../core/identity/keys.ts'
import { publicKeyToDid } from '../../core/identity/did-key.ts'
import { terms } from './fixtures.ts'

const [dir, mode, ackFile] = process.argv.slice(2)
const kp = generateKeyPair(new Uint8Array(32).fill(9))
const signer = { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
const keyFile = path.join(dir, 'book.key')

const store = new Corestore(path.join(dir, 'store'))
const known = fs.existsSync(keyFile) ? b4a.from(fs.readFileSync(keyFile, 'utf8'), 'hex') : null
const book = new Book(store, { key: known, signer })
await book.ready()
if (!known) {
  await book.act([{ type: 'book/create', name: 'crash' }])
  fs.writeFileSync(keyFile + '.tmp', b4a.toString(book.key, 'hex'))
  fs.renameSync(keyFile + '.tmp', keyFile)
}

if (mode === '--verify') {
  const acked = fs.readFileSync(ackFile, 'utf8').split('\n').filter(Boolean)
  await book.base.update()
  const missing: string[] = []
  let rejected = 0
  for (const id of acked) {
    const audit = await book.view.auditOf(signer.did, id)
    if (!audit) missing.push(id)
    else if (audit.status !== 'accepted') rejected++
  }
  process.stdout.write(JSON.stringify({ acked: acked.length, missing, rejected, ops: await book.view.auditLength() }) + '\n')
  await book.close()
  await store.close()
} else {
  process.stdout.write('ready\n')
  const now = Date.now()
  while (true) {
    const n = 1 + Math.floor(Math.random() * 20)
    const inputs = Array.from({ length: n }, () => ({ type: 'project/create' as const, projectId: book.newId(), terms: terms(now) }))
    const ops = await book.append(inputs)
    process.stdout.write('ack ' + ops.map((o) => o.opId).join(' ') + '\n')
  }
}
