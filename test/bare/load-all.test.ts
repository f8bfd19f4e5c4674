// Every module under core/ and books/, and the worker's own, loads under Bare (its type stripping accepts fewer
// TypeScript forms than tsx does, and the node's worker runs them there).
import test from 'brittle'
import fs from '#fs'
import path from '#path'

// modules that exist only for Bare (its native add-ons do not load under Node)
const BARE_ONLY = new Set(['core/nostr/bare-websocket.ts'])
const isBare = typeof (globalThis as { Bare?: unknown }).Bare !== 'undefined'

const root = path.resolve(path.dirname(decodeURIComponent(new URL(import.meta.url).pathname)), '../..')

function walk (dir: string, out: string[]): string[] {
  for (const name of fs.readdirSync(path.join(root, dir)).sort()) {
    const rel = dir + '/' + name
    if (fs.statSync(path.join(root, rel)).isDirectory()) walk(rel, out)
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

test('bare - every core/ and books/ module, and the worker\'s session, loads', async (t) => {
  const files = [...walk('core', []), ...walk('books', []), 'app/session.ts', 'app/contract.ts', 'app/release.ts']
  t.ok(files.length > 50, `${files.length} modules`)
  for (const f of files) {
    if (!isBare && BARE_ONLY.has(f)) continue
    try {
      await import('../../' + f)
    } catch (err) {
      t.fail(`${f}: ${(err as Error).message}`)
    }
  }
  t.pass('all loaded')
})
