// BIP-84 accounts against the BIP's own vectors (test/vectors/bip84/bip-0084.mediawiki), the
// networks, watch-only derivation from an xpub alone, and per-record receive indexes.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import { HDKey } from '@scure/bip32'
import { bech32, createBase58check } from '@scure/base'
import { ripemd160 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { mnemonicToSeed } from '../core/wallet/bip39.ts'
import {
  Bip84Account, addressFor, derivePrivateKey, bitcoinNetwork, BITCOIN_NETWORKS, BCOIN_REGTEST_BECH32, MAX_INDEX,
  type BitcoinNetwork
} from '../core/wallet/bip84.ts'
import { receiveIndexFor } from '../core/wallet/receive-index.ts'
import { throwsCode } from './helpers/assert.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const text = fs.readFileSync(path.join(here, 'vectors/bip84/bip-0084.mediawiki'), 'utf8')

// The "Test vectors" block: `name = value` lines, grouped by the `// ...` comment above them.
function parse (): Record<string, string> {
  const block = text.slice(text.indexOf('==Test vectors=='))
  const pre = block.slice(block.indexOf('<pre>') + 5, block.indexOf('</pre>'))
  const out: Record<string, string> = {}
  let group = ''
  for (const line of pre.split('\n')) {
    const c = /^\s*\/\/ (.*)$/.exec(line)
    if (c !== null) { group = c[1]; continue }
    const m = /^\s*(\w+)\s*=\s*(.+?)\s*$/.exec(line)
    if (m !== null) out[group === '' ? m[1] : `${group}: ${m[1]}`] = m[2]
  }
  return out
}

const V = parse()
const ACCOUNT = "Account 0, root = m/84'/0'/0'"
const RECV0 = "Account 0, first receiving address = m/84'/0'/0'/0/0"
const RECV1 = "Account 0, second receiving address = m/84'/0'/0'/0/1"
const CHANGE0 = "Account 0, first change address = m/84'/0'/0'/1/0"
const seed = mnemonicToSeed(V.mnemonic)

test('bip84 - the vector block parses', (t) => {
  t.is(V.mnemonic, 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about')
  t.is(V[`${RECV0}: address`], 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu', 'the address the brief names')
  for (const g of [ACCOUNT, RECV0, RECV1, CHANGE0]) t.ok(Object.keys(V).some((k) => k.startsWith(g)), g)
})

test('bip84 - official vectors: root and account zprv/zpub, receive 0 and 1, change 0 (pubkey, address, WIF)', (t) => {
  const root = HDKey.fromMasterSeed(seed, BITCOIN_NETWORKS.mainnet.slip132)
  t.is(root.privateExtendedKey, V.rootpriv, 'root zprv')
  t.is(root.publicExtendedKey, V.rootpub, 'root zpub')
  t.is(root.derive("m/84'/0'/0'").privateExtendedKey, V[`${ACCOUNT}: xpriv`], 'account zprv')

  const acct = Bip84Account.fromSeed(seed, 'mainnet')
  t.is(acct.path, "m/84'/0'/0'")
  t.is(acct.zpub, V[`${ACCOUNT}: xpub`], 'account zpub (the watch-only export)')
  t.ok(acct.xpub.startsWith('xpub'), 'and the same key as a standard xpub')
  t.is(acct.masterFingerprint, root.fingerprint, 'master fingerprint for PSBT key origins')

  for (const [g, addr] of [[RECV0, acct.receive(0)], [RECV1, acct.receive(1)], [CHANGE0, acct.change(0)]] as const) {
    t.is(addr.address, V[`${g}: address`], `${addr.path} address`)
    t.is(b4a.toString(addr.publicKey, 'hex'), V[`${g}: pubkey`], `${addr.path} pubkey`)
    t.is(b4a.toString(addr.script, 'hex'), '0014' + b4a.toString(ripemd160(sha256(addr.publicKey)), 'hex'), 'scriptPubKey is OP_0 HASH160(pubkey)')
    const key = derivePrivateKey(seed, 'mainnet', addr.chain, addr.index)
    t.is(key.wif, V[`${g}: privkey`], `${addr.path} private key (WIF), what a signer will use`)
  }
  t.is(acct.receive(1).path, "m/84'/0'/0'/0/1")
  t.is(acct.change(0).path, "m/84'/0'/0'/1/0")
})

test('bip84 - watch-only: the account zpub or xpub alone derives the same addresses; no private key anywhere', (t) => {
  const full = Bip84Account.fromSeed(seed, 'mainnet')
  for (const exported of [V[`${ACCOUNT}: xpub`], full.xpub]) {
    const watch = Bip84Account.fromExtendedKey(exported, 'mainnet')
    t.is(watch.masterFingerprint, null)
    t.is(watch.zpub, full.zpub)
    for (const i of [0, 1, 2, 1000, MAX_INDEX]) {
      t.is(addressFor(watch, i).address, addressFor(full, i).address, `receive ${i}`)
      t.is(addressFor(watch, i, 'change').address, addressFor(full, i, 'change').address, `change ${i}`)
    }
  }
  t.is(full.publicNode().privateKey, null, 'an account built from the seed keeps no private key')
  const json = JSON.stringify(full)
  t.ok(json.includes(full.zpub) && !/[xz]prv/.test(json), 'JSON shows the public keys and nothing private: ' + json.slice(0, 60))
})

test('bip84 - networks: prefixes and coin types', (t) => {
  const main = Bip84Account.fromSeed(seed, 'mainnet').receive(0)
  const test_ = Bip84Account.fromSeed(seed, 'testnet')
  const signet = Bip84Account.fromSeed(seed, 'signet')
  const regtest = Bip84Account.fromSeed(seed, 'regtest')
  const bcoin = Bip84Account.fromSeed(seed, bitcoinNetwork('regtest', { bech32: BCOIN_REGTEST_BECH32 }))
  t.is(test_.path, "m/84'/1'/0'", 'test networks use coin type 1')
  t.ok(test_.receive(0).address.startsWith('tb1q'))
  t.is(signet.receive(0).address, test_.receive(0).address, 'signet shares testnet addresses')
  t.ok(regtest.receive(0).address.startsWith('bcrt1q'), 'Bitcoin Core regtest: bcrt')
  t.ok(bcoin.receive(0).address.startsWith('rb1q'), 'bcoin regtest: rb')
  t.ok(test_.zpub.startsWith('vpub') && test_.xpub.startsWith('tpub'))
  // the same key, only the prefix differs between the regtest flavours
  t.alike(bech32.decode(regtest.receive(0).address as `${string}1${string}`).words, bech32.decode(bcoin.receive(0).address as `${string}1${string}`).words)
  t.not(test_.receive(0).address.slice(4), main.address.slice(4), 'coin type 1 derives other keys than mainnet')
  // the witness program is HASH160 of m/84'/1'/0'/0/0, derived independently of the account class
  const pub = HDKey.fromMasterSeed(seed).derive("m/84'/1'/0'/0/0").publicKey as Uint8Array
  const dec = bech32.decode(test_.receive(0).address as `${string}1${string}`)
  t.is(dec.words[0], 0, 'witness v0')
  t.alike(bech32.fromWords(dec.words.slice(1)), ripemd160(sha256(pub)))
})

test('bip84 - hostile: wrong network, private key, wrong depth, tampered key, bad index each refused with its reason', (t) => {
  const full = Bip84Account.fromSeed(seed, 'mainnet')
  const reason = (fn: () => unknown): string => { try { fn(); return 'accepted' } catch (err) { return `${(err as { code?: string }).code} ${(err as Error).message}` } }

  t.ok(/BAD_ARGUMENT.*is for mainnet, not testnet/.test(reason(() => Bip84Account.fromExtendedKey(full.zpub, 'testnet'))), 'a mainnet zpub on testnet')
  t.ok(/BAD_ARGUMENT.*is for testnet\/signet\/regtest, not mainnet/.test(reason(() => Bip84Account.fromExtendedKey(Bip84Account.fromSeed(seed, 'testnet').xpub, 'mainnet'))), 'a tpub on mainnet')
  t.ok(/BAD_ARGUMENT.*private extended key/.test(reason(() => Bip84Account.fromExtendedKey(V[`${ACCOUNT}: xpriv`], 'mainnet'))), 'an account zprv is refused: watch-only takes public keys')
  t.ok(/BAD_ARGUMENT.*depth 0.*depth 3/.test(reason(() => Bip84Account.fromExtendedKey(V.rootpub, 'mainnet'))), 'the root zpub is not an account key')
  const nonHardened = HDKey.fromExtendedKey(full.xpub).deriveChild(0).deriveChild(0)
  t.ok(/BAD_ARGUMENT.*depth 5/.test(reason(() => Bip84Account.fromExtendedKey(nonHardened.publicExtendedKey, 'mainnet'))), 'an address-level key is not an account key')
  const zpub = V[`${ACCOUNT}: xpub`]
  const tampered = zpub.slice(0, 60) + (zpub[60] === 'A' ? 'B' : 'A') + zpub.slice(61)
  t.ok(/BAD_ARGUMENT.*does not decode.*checksum/i.test(reason(() => Bip84Account.fromExtendedKey(tampered, 'mainnet'))), 'one character changed: checksum')

  for (const bad of [-1, 1.5, MAX_INDEX + 1, NaN]) throwsCode(t, () => full.receive(bad), 'BAD_ARGUMENT', `index ${bad}`)
  throwsCode(t, () => addressFor(full, 0, 'savings' as 'change'), 'BAD_ARGUMENT', 'unknown chain')
  throwsCode(t, () => Bip84Account.fromSeed(seed, 'litecoin' as 'mainnet'), 'BAD_ARGUMENT', 'unknown network')
  throwsCode(t, () => bitcoinNetwork('mainnet', { bech32: 'rb' }), 'BAD_ARGUMENT', 'mainnet prefix is fixed')
  throwsCode(t, () => bitcoinNetwork('regtest', { bech32: 'RB1' }), 'BAD_ARGUMENT', 'malformed prefix')
  throwsCode(t, () => Bip84Account.fromSeed(new Uint8Array(8), 'mainnet'), 'BAD_ARGUMENT', 'short seed')
  throwsCode(t, () => Bip84Account.fromSeed(seed, { ...BITCOIN_NETWORKS.mainnet, name: 'dogecoin' } as unknown as BitcoinNetwork), 'BAD_ARGUMENT', 'a network object with an unknown name')
  t.ok(/mainnet prefix is fixed|is fixed/.test(reason(() => Bip84Account.fromSeed(seed, { ...BITCOIN_NETWORKS.mainnet, bech32: 'tb' }))), 'a mainnet object with a test prefix')
  const short = createBase58check(sha256).encode(new Uint8Array(77))
  t.ok(/77 bytes, not 78/.test(reason(() => Bip84Account.fromExtendedKey(short, 'mainnet'))), 'a base58check string of the wrong length')
  throwsCode(t, () => derivePrivateKey(new Uint8Array(8), 'mainnet', 'receive', 0), 'BAD_ARGUMENT', 'signer: short seed')
  throwsCode(t, () => derivePrivateKey(seed, 'mainnet', 'receive', -1), 'BAD_ARGUMENT', 'signer: bad index')
  throwsCode(t, () => derivePrivateKey(seed, 'mainnet', 'other' as 'change', 0), 'BAD_ARGUMENT', 'signer: bad chain')
})

test('receive index - deterministic, non-hardened, SHA-256 of the record id, strict input', (t) => {
  const ids = ['00000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff', '5f1c3a7e0d2b4c6a8e9f01234567890a']
  for (const id of ids) {
    const expected = crypto.createHash('sha256').update(id, 'utf8').digest().readUInt32BE(0) & 0x7fffffff
    const i = receiveIndexFor(id)
    t.is(i, expected, `${id} -> ${i} (first 4 bytes of SHA-256, top bit cleared)`)
    t.ok(i >= 0 && i <= MAX_INDEX)
    t.is(receiveIndexFor(id), i, 'same id, same index')
  }
  // an index for every record: many ids, every one in range, and (almost surely) distinct
  const seen = new Set<number>()
  let inRange = true
  for (let n = 0; n < 2000; n++) {
    const i = receiveIndexFor(crypto.createHash('md5').update(String(n)).digest('hex'))
    inRange &&= Number.isInteger(i) && i >= 0 && i <= MAX_INDEX
    seen.add(i)
  }
  t.ok(inRange, 'every index is a non-hardened integer')
  t.is(seen.size, 2000, '2000 ids, 2000 indexes')
  const acct = Bip84Account.fromSeed(seed, 'regtest')
  t.is(acct.receive(receiveIndexFor(ids[2])).address, acct.receive(receiveIndexFor(ids[2])).address, 'a record\'s address is stable')
  throwsCode(t, () => receiveIndexFor(ids[2].toUpperCase()), 'BAD_ARGUMENT', 'upper case refused (one record, one index)')
  throwsCode(t, () => receiveIndexFor(ids[2].slice(1)), 'BAD_ARGUMENT', '31 characters')
  throwsCode(t, () => receiveIndexFor('g' + ids[2].slice(1)), 'BAD_ARGUMENT', 'not hex')
  throwsCode(t, () => receiveIndexFor(42 as unknown as string), 'BAD_ARGUMENT', 'not a string')
})
