// NIP-06 keys from the wallet seed, checked against the vectors published in NIP-06 itself
// (test/vectors/nip06/06.md), and the signer that keeps the secret key inside core.
import test from 'brittle'
import fs from 'node:fs'
import { nip19 } from 'nostr-tools'
import { verifyEvent } from 'nostr-tools/pure'
import { mnemonicToSeed } from '../core/wallet/bip39.ts'
import { deriveNostrKey, nip06Path, NostrSigner, projectAccount } from '../core/nostr/keys.ts'

function vectors (): Array<{ mnemonic: string; privateKey: string; nsec: string; publicKey: string; npub: string }> {
  const text = fs.readFileSync(new URL('./vectors/nip06/06.md', import.meta.url), 'utf8')
  const out = []
  for (const block of text.split('### Test vectors')[1].split('---')) {
    const field = (name: string) => (new RegExp(`${name}: ([^\\\\\\n]+)`).exec(block)?.[1] ?? '').trim()
    out.push({ mnemonic: field('mnemonic'), privateKey: field('private key \\(hex\\)'), nsec: field('nsec'), publicKey: field('public key \\(hex\\)'), npub: field('npub') })
  }
  return out
}

test('nostr keys - NIP-06 official vectors: private key, public key, nsec and npub', (t) => {
  const vs = vectors()
  t.is(vs.length, 2, 'both vectors read from the NIP')
  for (const v of vs) {
    const k = deriveNostrKey(mnemonicToSeed(v.mnemonic), 0)
    t.is(Buffer.from(k.secretKey).toString('hex'), v.privateKey, `private key of "${v.mnemonic.slice(0, 20)}…"`)
    t.is(k.publicKey, v.publicKey, 'public key')
    t.is(nip19.nsecEncode(k.secretKey), v.nsec, 'nsec')
    t.is(nip19.npubEncode(k.publicKey), v.npub, 'npub')
  }
  t.is(nip06Path(0), "m/44'/1237'/0'/0/0")
  t.exception(() => nip06Path(2 ** 31), /BAD_ARGUMENT/)
  t.exception(() => deriveNostrKey(new Uint8Array(8), 0), /BAD_ARGUMENT/)
})

test('nostr keys - a project\'s account is fixed by its book and id, never the organization\'s; the signer signs without handing out the key', async (t) => {
  const book = 'ab'.repeat(32)
  t.is(projectAccount(book, 'p1'), projectAccount(book, 'p1'), 'the same project, the same account')
  t.not(projectAccount(book, 'p1'), projectAccount(book, 'p2'))
  t.not(projectAccount(book, 'p1'), projectAccount('cd'.repeat(32), 'p1'))
  t.ok(projectAccount(book, 'p1') > 0 && projectAccount(book, 'p1') < 2 ** 31)

  const seed = mnemonicToSeed(vectors()[0].mnemonic)
  let lent = 0
  const signer = new NostrSigner({ withSeed: async (fn) => { lent++; return await fn(seed) } })
  t.is(await signer.publicKey(), vectors()[0].publicKey, 'the organization key is account 0')
  const ev = await signer.sign({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'hello' })
  t.ok(verifyEvent(ev), 'a signed event verifies with nostr-tools')
  t.is(ev.pubkey, vectors()[0].publicKey)
  const projectEv = await signer.sign({ kind: 1, created_at: 1_700_000_000, tags: [], content: 'hello' }, { kind: 'project', book, project: 'p1' })
  t.ok(verifyEvent(projectEv))
  t.is(projectEv.pubkey, await signer.publicKey({ kind: 'project', book, project: 'p1' }), 'a project speaks with its own key')
  t.not(projectEv.pubkey, ev.pubkey)
  let seen: Uint8Array | null = null
  await signer.withSecretKey({ kind: 'organization' }, (sk) => { seen = sk })
  t.ok(seen !== null && (seen as Uint8Array).every((b) => b === 0), 'the lent secret key is wiped once the call returns')
  t.ok(lent >= 4, 'each use borrows the seed anew')
})
