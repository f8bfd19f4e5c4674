// BIP-32 test vectors 1 to 5, parsed from the BIP itself (test/vectors/bip32/bip-0032.mediawiki).
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import { HDKey } from '@scure/bip32'
import { BITCOIN_NETWORKS, Bip84Account } from '../core/wallet/bip84.ts'
import { RootstockAccount } from '../core/wallet/bip44-rootstock.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const text = fs.readFileSync(path.join(here, 'vectors/bip32/bip-0032.mediawiki'), 'utf8')

interface Chain { path: string, xpub: string, xprv: string }
interface Vector { n: number, seed: string, chains: Chain[], invalid: { key: string, why: string }[] }

function parse (): Vector[] {
  const section = text.slice(text.indexOf('==Test Vectors=='), text.indexOf('==Acknowledgements=='))
  const out: Vector[] = []
  let v: Vector | null = null
  for (const line of section.split('\n')) {
    let m = /^===Test vector (\d+)===/.exec(line)
    if (m !== null) { v = { n: Number(m[1]), seed: '', chains: [], invalid: [] }; out.push(v); continue }
    if (v === null) continue
    if ((m = /^Seed \(hex\): ([0-9a-f]+)/.exec(line)) !== null) { v.seed = m[1]; continue }
    if ((m = /^\* Chain (m[^\s]*)/.exec(line)) !== null) { v.chains.push({ path: m[1].replace(/<sub>H<\/sub>/g, "'"), xpub: '', xprv: '' }); continue }
    if ((m = /^\*\* ext pub: (\w+)/.exec(line)) !== null) { v.chains[v.chains.length - 1].xpub = m[1]; continue }
    if ((m = /^\*\* ext prv: (\w+)/.exec(line)) !== null) { v.chains[v.chains.length - 1].xprv = m[1]; continue }
    if ((m = /^\* (\w{100,}) \((.*)\)$/.exec(line)) !== null) v.invalid.push({ key: m[1], why: m[2] })
  }
  return out
}

const vectors = parse()
const MAIN = BITCOIN_NETWORKS.mainnet.bip32

test('bip32 - the vector file parses into vectors 1 to 5', (t) => {
  t.alike(vectors.map((v) => v.n), [1, 2, 3, 4, 5])
  t.alike(vectors.map((v) => v.chains.length), [6, 6, 2, 3, 0])
  t.is(vectors[4].invalid.length, 16, 'vector 5 lists 16 invalid keys')
})

test('bip32 - vectors 1 to 4: ext prv and ext pub at every chain, from the seed', (t) => {
  for (const v of vectors.slice(0, 4)) {
    const root = HDKey.fromMasterSeed(b4a.from(v.seed, 'hex'), MAIN)
    for (const c of v.chains) {
      const node = c.path === 'm' ? root : root.derive(c.path)
      t.is(node.privateExtendedKey, c.xprv, `vector ${v.n} ${c.path} xprv`)
      t.is(node.publicExtendedKey, c.xpub, `vector ${v.n} ${c.path} xpub`)
    }
  }
})

test('bip32 - public derivation from a parent xpub alone matches (what watch-only devices do)', (t) => {
  let checked = 0
  for (const v of vectors.slice(0, 4)) {
    for (let i = 1; i < v.chains.length; i++) {
      const last = v.chains[i].path.split('/').pop() as string
      if (last.endsWith("'")) continue // hardened: needs the private key
      const parent = HDKey.fromExtendedKey(v.chains[i - 1].xpub, MAIN)
      t.is(parent.privateKey, null, 'parent is public only')
      t.is(parent.deriveChild(Number(last)).publicExtendedKey, v.chains[i].xpub, `vector ${v.n} ${v.chains[i].path} from its parent's xpub`)
      checked++
    }
  }
  t.ok(checked >= 5, `${checked} non-hardened steps checked`)
})

test('bip32 - vector 5: every invalid extended key is refused by the watch-only import', (t) => {
  for (const { key, why } of vectors[4].invalid) {
    try {
      Bip84Account.fromExtendedKey(key, 'mainnet')
      t.fail(`accepted: ${why}`)
    } catch (err) {
      t.is((err as { code?: string }).code, 'BAD_ARGUMENT', `BIP-84 import refuses (${why}): ${(err as Error).message}`)
    }
    try {
      RootstockAccount.fromExtendedKey(key, 30)
      t.fail(`accepted: ${why}`)
    } catch (err) {
      t.is((err as { code?: string }).code, 'BAD_ARGUMENT', `Rootstock import refuses (${why})`)
    }
    // and it is the decoding that refuses them, not our depth rule
    t.exception(() => HDKey.fromExtendedKey(key, MAIN), `@scure/bip32 refuses: ${why}`)
  }
})
