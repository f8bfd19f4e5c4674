// Rootstock accounts: RSKIP-60 checksum vectors (test/vectors/rskip60/RSKIP60.md), keccak address
// derivation, BIP-44 coin type 137, watch-only derivation.
import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { HDKey } from '@scure/bip32'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { mnemonicToSeed } from '../core/wallet/bip39.ts'
import {
  toChecksumAddress, checkChecksumAddress, publicKeyToAddress, RootstockAccount, rootstockAddressFor,
  deriveRootstockPrivateKey, ROOTSTOCK_MAINNET, ROOTSTOCK_TESTNET, MAX_INDEX
} from '../core/wallet/bip44-rootstock.ts'
import { throwsCode } from './helpers/assert.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const text = fs.readFileSync(path.join(here, 'vectors/rskip60/RSKIP60.md'), 'utf8')

// "# **Test cases**" then a fenced block of "Valid with network id: N" / "Invalid with network id: N" groups.
function parse (): { valid: boolean, chainId: number | null, address: string }[] {
  const block = text.slice(text.indexOf('# **Test cases**'))
  const body = block.slice(block.indexOf('```') + 3, block.indexOf('```', block.indexOf('```') + 3))
  const out: { valid: boolean, chainId: number | null, address: string }[] = []
  let group: { valid: boolean, chainId: number | null } | null = null
  for (const line of body.split('\n')) {
    const g = /^(Valid|Invalid) with network id: (\w+)/.exec(line.trim())
    if (g !== null) { group = { valid: g[1] === 'Valid', chainId: g[2] === 'None' ? null : Number(g[2]) }; continue }
    const a = /^(0x[0-9a-fA-F]{40})$/.exec(line.trim())
    if (a !== null && group !== null) out.push({ ...group, address: a[1] })
  }
  return out
}

const cases = parse()
const seed = mnemonicToSeed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about')

test('rskip60 - the test cases parse: 4 valid for 30, 31 and none, 4 invalid for 1234', (t) => {
  t.is(cases.length, 16)
  t.alike([...new Set(cases.map((c) => `${c.valid}/${c.chainId}`))], ['true/30', 'true/31', 'true/null', 'false/1234'])
})

test('rskip60 - every official vector: valid ones reproduced and accepted, invalid ones refused', (t) => {
  for (const c of cases) {
    const r = checkChecksumAddress(c.address, c.chainId)
    if (c.valid) {
      t.is(toChecksumAddress(c.address.toLowerCase(), c.chainId), c.address, `${c.address} is the checksum for chain ${c.chainId}`)
      t.ok(r.ok, `accepted for chain ${c.chainId}`)
    } else {
      t.absent(r.ok, `${c.address} refused for chain ${c.chainId}: ${r.ok ? '' : r.reason}`)
      t.not(toChecksumAddress(c.address, c.chainId), c.address)
    }
  }
})

test('rskip60 - hostile: another chain\'s checksum, no checksum, a mistyped letter, malformed: each its own reason', (t) => {
  const main = cases.find((c) => c.valid && c.chainId === 30)!.address
  const onTestnet = checkChecksumAddress(main, ROOTSTOCK_TESTNET)
  t.ok(!onTestnet.ok && /checksummed for Rootstock mainnet \(chain id 30\), not for chain id 31/.test(onTestnet.reason), 'mainnet address on testnet: ' + (onTestnet.ok ? '' : onTestnet.reason))
  const eip55 = cases.find((c) => c.valid && c.chainId === null)!.address
  const eth = checkChecksumAddress(eip55, 30)
  t.ok(!eth.ok && /Ethereum EIP-55/.test(eth.reason), 'an EIP-55 (Ethereum) address on Rootstock: ' + (eth.ok ? '' : eth.reason))
  const lower = checkChecksumAddress(main.toLowerCase(), 30)
  t.ok(!lower.ok && /no checksum/.test(lower.reason), 'all lower case: ' + (lower.ok ? '' : lower.reason))
  const i = main.search(/[a-f]/i)
  const typo = main.slice(0, i) + (main[i] === main[i].toUpperCase() ? main[i].toLowerCase() : main[i].toUpperCase()) + main.slice(i + 1)
  const mistyped = checkChecksumAddress(typo, 30)
  t.ok(!mistyped.ok && /mistyped/.test(mistyped.reason), 'one letter\'s case flipped: ' + (mistyped.ok ? '' : mistyped.reason))
  for (const bad of ['', main.slice(0, 41), main + '0', 'zz' + main.slice(2), main.replace(/.$/, 'g')]) {
    const r = checkChecksumAddress(bad, 30)
    t.ok(!r.ok && /not a Rootstock address/.test(r.reason), `malformed ${JSON.stringify(bad.slice(0, 12))}`)
  }
  t.absent(checkChecksumAddress(main, 0).ok, 'chain id 0')
  throwsCode(t, () => toChecksumAddress(main, -1), 'BAD_ARGUMENT', 'negative chain id')
  throwsCode(t, () => toChecksumAddress('0x1234', 30), 'BAD_ARGUMENT', 'short address')
})

test('rootstock - address = last 20 bytes of keccak256(uncompressed pubkey): known Ethereum keys', (t) => {
  // private key 1: the generator point's address, a well-known value
  const one = new Uint8Array(32)
  one[31] = 1
  const g = secp256k1.getPublicKey(one)
  t.is(publicKeyToAddress(g, null), '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf', 'key 1 (EIP-55)')
  t.is(publicKeyToAddress(secp256k1.Point.fromBytes(g).toBytes(false), null), '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf', 'uncompressed input too')
  // the "abandon ... about" mnemonic at Ethereum's m/44'/60'/0'/0/0, as every BIP-44 wallet shows it
  const eth = HDKey.fromMasterSeed(seed).derive("m/44'/60'/0'/0/0").publicKey as Uint8Array
  t.is(publicKeyToAddress(eth, null), '0x9858EfFD232B4033E47d90003D41EC34EcaEda94', "m/44'/60'/0'/0/0")
  throwsCode(t, () => publicKeyToAddress(new Uint8Array(33), 30), 'BAD_ARGUMENT', 'not a point')
})

test('rootstock - BIP-44 coin type 137 account, chain ids, watch-only from the xpub', (t) => {
  const main = RootstockAccount.fromSeed(seed, ROOTSTOCK_MAINNET)
  const testnet = RootstockAccount.fromSeed(seed, ROOTSTOCK_TESTNET)
  const dev = RootstockAccount.fromSeed(seed, 33)
  t.is(main.path, "m/44'/137'/0'")
  const a = main.address(0)
  t.is(a.path, "m/44'/137'/0'/0/0")
  const independent = HDKey.fromMasterSeed(seed).derive("m/44'/137'/0'/0/0").publicKey as Uint8Array
  t.alike(a.publicKey, independent, 'public key at the BIP-44 path')
  t.ok(checkChecksumAddress(a.address, 30).ok, 'checksummed for chain 30')
  t.is(testnet.address(0).address.toLowerCase(), a.address.toLowerCase(), 'same key on every chain...')
  t.ok(checkChecksumAddress(testnet.address(0).address, 31).ok, '...checksummed for 31 on testnet')
  t.ok(checkChecksumAddress(dev.address(0).address, 33).ok, '...and for a dev chain id')
  t.not(main.address(0).address, main.address(1).address)

  const watch = RootstockAccount.fromExtendedKey(main.xpub, 30)
  for (const i of [0, 1, 77, MAX_INDEX]) t.is(rootstockAddressFor(watch, i).address, main.address(i).address, `watch-only address ${i}`)
  t.is(main.publicNode().privateKey, null, 'the account keeps no private key')
  t.ok(!/xprv/.test(JSON.stringify(main)), 'JSON shows no private key')

  const priv = deriveRootstockPrivateKey(seed, 5)
  t.alike(secp256k1.getPublicKey(priv), main.address(5).publicKey, 'signer key matches the address')
})

test('rootstock - hostile: private xprv, wrong depth, bad chain id, bad index refused', (t) => {
  const root = HDKey.fromMasterSeed(seed)
  const reason = (fn: () => unknown): string => { try { fn(); return 'accepted' } catch (err) { return `${(err as { code?: string }).code} ${(err as Error).message}` } }
  t.ok(/BAD_ARGUMENT.*private extended key/.test(reason(() => RootstockAccount.fromExtendedKey(root.derive("m/44'/137'/0'").privateExtendedKey, 30))), 'an xprv')
  t.ok(/BAD_ARGUMENT.*depth 0/.test(reason(() => RootstockAccount.fromExtendedKey(root.publicExtendedKey, 30))), 'the root xpub')
  t.ok(/BAD_ARGUMENT.*does not decode/.test(reason(() => RootstockAccount.fromExtendedKey('xpub123', 30))), 'garbage')
  for (const id of [0, -30, 1.5, NaN]) throwsCode(t, () => RootstockAccount.fromSeed(seed, id), 'BAD_ARGUMENT', `chain id ${id}`)
  throwsCode(t, () => RootstockAccount.fromSeed(new Uint8Array(15), 30), 'BAD_ARGUMENT', 'short seed')
  throwsCode(t, () => deriveRootstockPrivateKey(new Uint8Array(15), 0), 'BAD_ARGUMENT', 'signer: short seed')
  throwsCode(t, () => deriveRootstockPrivateKey(seed, MAX_INDEX + 1), 'BAD_ARGUMENT', 'signer: hardened index')
  const acct = RootstockAccount.fromSeed(seed, 31)
  for (const i of [-1, MAX_INDEX + 1, 0.5]) throwsCode(t, () => acct.address(i), 'BAD_ARGUMENT', `index ${i}`)
})
