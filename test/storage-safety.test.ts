// Another local user against the storage directory: planting it, loosening it, or planting the
// node's control socket. Tests run as root here, so "another user" is a chown to OTHER.
import test from 'brittle'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { tmpDir, seed } from './helpers/net.ts'
import { rejectsCode, throwsCode } from './helpers/assert.ts'
import { GrowrNode } from '../core/node.ts'
import { createIdentity, loadIdentity } from '../core/identity/keyfile.ts'
import { currentUid } from '../core/storage-dir.ts'
import { call, serve, socketPath } from '../app/rpc.ts'
import type { Handlers } from '../app/contract.ts'

const OTHER = 12345
const BIN = fileURLToPath(new URL('../app/cli/bin.js', import.meta.url))

function growr (args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

/** A socket that records every byte anyone sends it: the attacker's listener. */
async function listener (t: { teardown (fn: () => unknown): void }, file: string): Promise<{ received: () => string; connections: () => number }> {
  let data = ''
  let connections = 0
  const server = net.createServer((sock) => { connections++; sock.setEncoding('utf8'); sock.on('data', (c: string) => { data += c }) })
  await new Promise<void>((resolve) => server.listen(file, resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { received: () => data, connections: () => connections }
}

function mode (p: string): number { return fs.lstatSync(p).mode & 0o777 }

test('storage - the test runs where ownership means something', (t) => {
  t.is(currentUid(), process.geteuid?.(), 'our uid is the process\'s effective uid')
  t.not(currentUid(), OTHER, 'the "other user" is not us')
})

test('storage - a storage directory planted by another user, identity included, is refused', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  createIdentity(dir, { seed: seed(7) }) // the attacker's key pair: she would read everything signed and sealed for it
  fs.chownSync(dir, OTHER, OTHER)
  fs.chownSync(path.join(dir, 'identity.json'), OTHER, OTHER)

  throwsCode(t, () => loadIdentity(dir), 'STORAGE_UNSAFE', 'the planted identity is not loaded')
  throwsCode(t, () => createIdentity(dir), 'STORAGE_UNSAFE', 'no identity is written into it either')
  await rejectsCode(t, new GrowrNode({ storage: dir, network: false }).ready(), 'STORAGE_UNSAFE', 'a node does not open on it')
  t.absent(fs.existsSync(path.join(dir, 'corestore')), 'nothing was created in it')

  const cli = await growr(['--storage', dir, 'start'])
  t.is(cli.code, 1, '`growr start` exits')
  t.ok(/STORAGE_UNSAFE: storage directory .*growr is owned by uid 12345/.test(cli.stderr), 'and says which directory and why: ' + cli.stderr.trim())
})

test('storage - an empty directory another user made for us is refused', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  fs.mkdirSync(dir, { mode: 0o700 })
  fs.chownSync(dir, OTHER, OTHER)
  throwsCode(t, () => createIdentity(dir), 'STORAGE_UNSAFE', 'no identity is created in it')
  t.absent(fs.existsSync(path.join(dir, 'identity.json')), 'and no file was written')
})

test('storage - a storage directory whose parent another user owns or can write is refused', async (t) => {
  const parent = path.join(tmpDir(t), 'shared')
  fs.mkdirSync(parent, { mode: 0o700 })
  fs.chmodSync(parent, 0o777) // writable by anyone, no sticky bit: the storage dir could be swapped
  throwsCode(t, () => createIdentity(path.join(parent, 'growr')), 'STORAGE_UNSAFE', 'a world-writable parent without the sticky bit is refused')
  t.absent(fs.existsSync(path.join(parent, 'growr')), 'nothing was created under it')
  fs.chmodSync(parent, 0o1777) // like /tmp: others cannot rename what they do not own
  createIdentity(path.join(parent, 'ok'), { seed: seed(2) })
  t.ok(fs.existsSync(path.join(parent, 'ok', 'identity.json')), 'a sticky world-writable parent is accepted')
  const theirs = path.join(tmpDir(t), 'theirs')
  fs.mkdirSync(theirs, { mode: 0o755 })
  fs.chownSync(theirs, OTHER, OTHER)
  throwsCode(t, () => createIdentity(path.join(theirs, 'growr')), 'STORAGE_UNSAFE', 'a parent owned by another user is refused')
  fs.mkdirSync(path.join(theirs, 'growr'), { mode: 0o700 }) // ours, but in their directory
  await rejectsCode(t, new GrowrNode({ storage: path.join(theirs, 'growr'), network: false }).ready(), 'STORAGE_UNSAFE', 'a storage directory of ours in theirs is refused by the node too')
})

test('storage - a group- or world-writable storage directory is refused, not repaired', async (t) => {
  for (const loose of [0o777, 0o770, 0o722]) {
    const dir = path.join(tmpDir(t), 'growr')
    createIdentity(dir, { seed: seed(1) })
    fs.chmodSync(dir, loose)
    throwsCode(t, () => loadIdentity(dir), 'STORAGE_UNSAFE', `mode 0${loose.toString(8)}: identity not loaded`)
    await rejectsCode(t, new GrowrNode({ storage: dir, network: false }).ready(), 'STORAGE_UNSAFE', `mode 0${loose.toString(8)}: node refused`)
    t.is(mode(dir), loose, 'the mode is left for the user to look into')
  }
})

test('storage - a directory of ours that others can only read is tightened to 0700, and said so', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  createIdentity(dir, { seed: seed(1) })
  fs.chmodSync(dir, 0o755)
  fs.chmodSync(path.join(dir, 'identity.json'), 0o644)
  const node = new GrowrNode({ storage: dir, network: false })
  await node.ready()
  t.teardown(() => node.close())
  t.is(mode(dir), 0o700, 'directory tightened')
  t.is(mode(path.join(dir, 'identity.json')), 0o600, 'identity file tightened')
  t.is(node.storageNotes.length, 2, 'both are reported')
  t.ok(node.storageNotes.every((n) => n.includes(dir) && /tightened to 0[67]00/.test(n)), node.storageNotes.join('; '))
})

test('storage - an identity file that is a symlink, owned by another user, or writable by others is refused', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  const mine = createIdentity(dir, { seed: seed(1) }).did
  const file = path.join(dir, 'identity.json')
  const theirs = tmpDir(t)
  createIdentity(theirs, { seed: seed(9) })
  const elsewhere = path.join(theirs, 'identity.json')

  fs.renameSync(file, file + '.mine')
  fs.symlinkSync(elsewhere, file)
  throwsCode(t, () => loadIdentity(dir), 'STORAGE_UNSAFE', 'symlinked identity file')
  await rejectsCode(t, new GrowrNode({ storage: dir, network: false }).ready(), 'STORAGE_UNSAFE', 'node refuses it too')
  fs.unlinkSync(file)
  fs.renameSync(file + '.mine', file)

  fs.chownSync(file, OTHER, OTHER)
  throwsCode(t, () => loadIdentity(dir), 'STORAGE_UNSAFE', 'identity file owned by another uid')
  fs.chownSync(file, process.geteuid?.() ?? 0, process.getegid?.() ?? 0)

  fs.chmodSync(file, 0o666)
  throwsCode(t, () => loadIdentity(dir), 'STORAGE_UNSAFE', 'identity file writable by others')
  fs.chmodSync(file, 0o600)
  t.is(loadIdentity(dir).did, mine, 'our own private file, put back, loads again')
})

test('storage - under a loose umask a fresh node keeps every directory 0700 and every file 0600, corestore included', async (t) => {
  const old = process.umask(0o022) // the common default, under which RocksDB makes 0644 files
  t.teardown(() => { process.umask(old) })
  const dir = path.join(tmpDir(t), 'nested', 'growr')
  createIdentity(dir)
  const node = new GrowrNode({ storage: dir, network: false })
  await node.ready()
  t.is(mode(dir), 0o700, 'the storage directory is 0700 while the node runs')
  const book = await node.createBook('Private at rest')
  await node.createBook('A second book')
  await node.createInvite(book.topic, 'borrower')
  t.is(node.list().length, 2, 'data written')
  await node.close()

  const dirs: string[] = []
  const files: string[] = []
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) { dirs.push(p); walk(p) } else files.push(p)
    }
  }
  walk(dir)
  t.ok(files.some((f) => f.includes(path.join('corestore', 'db'))), `the corestore's RocksDB files are there (${files.length} files, ${dirs.length} directories)`)
  t.alike([dir, ...dirs].filter((d) => mode(d) !== 0o700).map((d) => `${d} 0${mode(d).toString(8)}`), [], 'every directory is 0700')
  t.alike(files.filter((f) => mode(f) !== 0o600).map((f) => `${f} 0${mode(f).toString(8)}`), [], 'every file is 0600')
  t.is(mode(path.dirname(dir)), 0o700, 'a parent it had to create is private too')
})

const noHandlers = {} as Handlers

test('storage - the CLI client talks to the node\'s own socket, and to no other', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  createIdentity(dir, { seed: seed(1) })
  const server = await serve(dir, { ...noHandlers, status: async () => ({ ok: true }) } as unknown as Handlers)
  t.teardown(() => server.close())
  t.is(mode(socketPath(dir)), 0o600, 'the socket is 0600')
  t.alike(await call(dir, 'status', {}), { result: { ok: true } }, 'our own socket answers')
  await server.close()
  t.is(await call(dir, 'status', {}), null, 'no socket: no node running')
})

test('storage - a socket owned by another user is refused before anything is sent (the backup passphrase)', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  createIdentity(dir, { seed: seed(1) })
  const sock = socketPath(dir)
  const attacker = await listener(t, sock)
  fs.chownSync(sock, OTHER, OTHER)

  await rejectsCode(t, call(dir, 'backup.create', { passphrase: 'correct horse' }), 'STORAGE_UNSAFE', 'call() refuses it')
  const cli = await growr(['--storage', dir, 'backup', 'create', '--out', path.join(dir, 'b.bin')], { GROWR_BACKUP_PASSPHRASE: 'correct horse battery' })
  t.is(cli.code, 1, '`growr backup create` exits')
  t.ok(/STORAGE_UNSAFE: node socket .*growr\.sock is owned by uid 12345/.test(cli.stderr), cli.stderr.trim())
  t.is(attacker.connections(), 0, 'the attacker\'s socket was never connected to')
  t.is(attacker.received(), '', 'and received nothing')
})

test('storage - a symlinked socket is refused before anything is sent', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  createIdentity(dir, { seed: seed(1) })
  const theirs = path.join(tmpDir(t), 'theirs.sock')
  const attacker = await listener(t, theirs)
  fs.symlinkSync(theirs, socketPath(dir))

  await rejectsCode(t, call(dir, 'backup.create', { passphrase: 'correct horse' }), 'STORAGE_UNSAFE', 'call() refuses a symlink')
  const cli = await growr(['--storage', dir, 'backup', 'create', '--out', path.join(dir, 'b.bin')], { GROWR_BACKUP_PASSPHRASE: 'correct horse battery' })
  t.is(cli.code, 1, '`growr backup create` exits')
  t.ok(/STORAGE_UNSAFE: node socket .*growr\.sock is a symlink/.test(cli.stderr), cli.stderr.trim())
  t.is(attacker.connections(), 0, 'the socket it points to was never connected to')
})

test('storage - our own socket in a directory others can write, or that another user owns, is refused', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  createIdentity(dir, { seed: seed(1) })
  const attacker = await listener(t, socketPath(dir)) // owned by us, but anyone could have swapped it in
  fs.chmodSync(dir, 0o777)
  await rejectsCode(t, call(dir, 'status', {}), 'STORAGE_UNSAFE', 'world-writable directory')
  fs.chmodSync(dir, 0o700)
  fs.chownSync(dir, OTHER, OTHER)
  await rejectsCode(t, call(dir, 'status', {}), 'STORAGE_UNSAFE', 'directory owned by another uid')
  t.is(attacker.connections(), 0, 'never connected')
})

test('storage - a node does not serve its socket from a directory others can write', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  createIdentity(dir, { seed: seed(1) })
  fs.chmodSync(dir, 0o733)
  await rejectsCode(t, serve(dir, noHandlers), 'STORAGE_UNSAFE', 'serve() refuses')
  t.absent(fs.existsSync(socketPath(dir)), 'no socket was made')
})

test('storage - a node that fails to open releases its storage, so it can be opened again', async (t) => {
  const dir = path.join(tmpDir(t), 'growr')
  createIdentity(dir, { seed: seed(3) })
  // a DHT that cannot serve: opening fails after the corestore has taken its lock
  await new GrowrNode({ storage: dir, dht: { broken: true } as never }).ready().then(() => t.fail('the broken node opened'), () => t.pass('the broken node does not open'))
  const node = new GrowrNode({ storage: dir, network: false })
  await node.ready()
  t.ok(node.opened, 'the same storage opens right after')
  await node.close()
})
