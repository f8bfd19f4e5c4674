// Imported trustlines become normal ones (core/credit/migration/confirm.ts): over a local testnet,
// two parties import the same generated export, each binds its DID to its old account (one with
// the account's legacy secp256k1 key, EIP-191 as the FOAF service signs; one, whose export has no
// usable key, with the import operator's attestation), they exchange claims, and both countersign
// the opening state. A third node tries to steal an account; forged, untrusted and missing proofs
// are refused; until both confirmed, the line is "imported, unconfirmed" and nothing else applies.
import test, { type Assertion } from 'brittle'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { createNet } from './helpers/net.ts'
import { generateExport, writeExport } from './helpers/foaf-export.ts'
import { Services } from '../core/services/services.ts'
import type { TrustlineSync } from '../core/credit/sync.ts'
import { importExport } from '../core/credit/migration/importer.ts'
import { ImportConfirmation, attestClaim, importedTerms, legacySign, makeClaim, verifyClaim, CLAIM_METHOD } from '../core/credit/migration/confirm.ts'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import { termsId } from '../books/trustline/encoding.ts'
import type { GrowrError } from '../core/errors.ts'
import type { PeerRpc } from '../core/network/peer-rpc.ts'
import type Hyperbee from 'hyperbee'
import type { ImportedTrustline } from '../core/credit/migration/types.ts'
import { until as waitUntil } from './helpers/until.ts'

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> => await waitUntil(what, check, ms, 100)

async function rejects (t: Assertion, p: Promise<unknown>, code: string, words: RegExp, msg: string): Promise<void> {
  try {
    await p
    t.fail(`${msg}: it went through`)
  } catch (err) {
    t.is((err as GrowrError).code, code, `${msg} (${code})`)
    t.ok(words.test((err as Error).message), `${msg}: "${(err as Error).message}"`)
  }
}

test('import confirm - both bind their DIDs (legacy key; operator), exchange claims, countersign the opening: a normal trustline with the imported history; thieves and forgeries refused', { timeout: 60_000 }, async (t) => {
  // a small export; legacy user A of one trustline gets a real secp256k1 key (as the service's SeedPhrase makes)
  const { model } = generateExport(5, { users: 8, trustlines: 6, transactions: 80, pending: 4 })
  const legacyPriv = new Uint8Array(32).fill(9)
  const legacyPub = Buffer.from(secp256k1.getPublicKey(legacyPriv, false)).toString('hex')
  const tl = model.trustlines.find((r) => r.is_active === true) ?? model.trustlines[0]
  const idOf = (v: unknown): string => (v as { num: string }).num
  const uA = idOf(tl.user_a_id)
  const uB = idOf(tl.user_b_id)
  for (const u of model.users) if (idOf(u.id) === uA) u.foaf_public_key = legacyPub
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'growr-import-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  writeExport(dir, model, 'postgres')
  const { trustlines } = importExport(dir)
  const line = trustlines.find((l) => l.legacyId === idOf(tl.id)) as ImportedTrustline
  t.ok(line, 'the trustline is imported')
  t.is(line.userA.foafPublicKey, legacyPub, 'user A\'s legacy key is in the import')
  t.ok(line.userB.foafPublicKey !== null && !/^04[0-9a-f]{128}$/.test(line.userB.foafPublicKey), 'user B\'s exported key is no usable point (operator path)')

  // the operator who ran the import
  const opKeys = generateKeyPair(new Uint8Array(32).fill(3))
  const operator = publicKeyToDid(opKeys.publicKey)

  const net = await createNet(t, 3)
  const services: Services[] = []
  const did = (i: number): DidKey => net.nodes[i].did as DidKey
  const secretOf = (i: number): Uint8Array => (net.nodes[i].identity as { secretKey: Uint8Array }).secretKey
  const confirms: ImportConfirmation[] = []
  for (let i = 0; i < 3; i++) {
    const s = new Services(net.nodes[i], { announce: true, ads: false, nostr: false, statusTimeoutMs: 5000, trustlines: { connectTimeoutMs: 3000 } })
    await s.ready()
    services.push(s)
    const c = new ImportConfirmation({ local: net.nodes[i].local as Hyperbee, identity: { did: net.nodes[i].did as DidKey, secretKey: secretOf(i) }, rpc: s.rpc as PeerRpc, sync: s.trustlines as TrustlineSync, operators: [operator], connectTimeoutMs: 3000 })
    await c.ready()
    confirms.push(c)
  }
  t.teardown(async () => {
    for (const c of [...confirms].reverse()) await c.close()
    for (const s of [...services].reverse()) await s.close()
  }, { order: -Infinity + 1 })
  const sync = (i: number): TrustlineSync => services[i].trustlines as TrustlineSync
  const [alice, bob, mallory] = confirms
  for (const c of confirms) t.is(await c.load(trustlines), trustlines.length, 'each party keeps its own copy of the import')

  // ---- claims: the legacy key is required when there is one
  await rejects(t, alice.claim(uA), 'OP_REJECTED', /legacy key/, 'a claim of an account with a legacy key but no signature by it')
  const aliceDraft = await alice.draft(uA)
  const wrongKey = legacySign(aliceDraft.claim, new Uint8Array(32).fill(10))
  await rejects(t, alice.claim(uA, { legacy: wrongKey }), 'OP_REJECTED', /legacy key/, 'a signature by another secp256k1 key')
  const malloryDraft = await mallory.draft(uA)
  const attestedForMallory = attestClaim(makeClaim(line.userA, did(2), secretOf(2)), operator, opKeys.secretKey)
  await rejects(t, mallory.claim(uA, { attestation: attestedForMallory.attestation }), 'OP_REJECTED', /legacy key/, 'even the operator cannot bind an account that has its own key')
  t.ok(malloryDraft.message.includes(did(2)), 'the message the legacy key signs names the DID it binds')
  const aliceClaim = await alice.claim(uA, { legacy: legacySign(aliceDraft.claim, legacyPriv) })
  t.is(aliceClaim.claim.did, did(0), 'alice binds her DID with her old account\'s key')
  t.is(verifyClaim({ ...aliceClaim, claim: { ...aliceClaim.claim, did: did(2) } }, line.userA, [operator]).ok, false, 'the same legacy signature does not carry over to another DID')

  // operator path for B
  await rejects(t, bob.claim(uB), 'OP_REJECTED', /attestation/, 'no usable legacy key and no attestation')
  const untrusted = generateKeyPair(new Uint8Array(32).fill(4))
  const byStranger = attestClaim(makeClaim(line.userB, did(1), secretOf(1)), publicKeyToDid(untrusted.publicKey), untrusted.secretKey)
  await rejects(t, bob.claim(uB, { attestation: byStranger.attestation }), 'OP_REJECTED', /not a trusted import operator/, 'an attestation by a DID nobody trusts')
  const forAnother = attestClaim(makeClaim(line.userB, did(2), secretOf(2)), operator, opKeys.secretKey)
  await rejects(t, bob.claim(uB, { attestation: forAnother.attestation }), 'OP_REJECTED', /attestation does not hold/, 'the operator\'s attestation of another DID\'s claim')
  const bobAttested = attestClaim(makeClaim(line.userB, did(1), secretOf(1)), operator, opKeys.secretKey)
  await bob.claim(uB, { attestation: bobAttested.attestation })

  t.alike((await alice.status()).map((s) => s.status), (await alice.status()).map(() => 'awaiting-partner'), 'before the exchange: waiting for the partner')
  await rejects(t, alice.confirm(line.legacyId), 'NOT_FOUND', /both accounts/, 'nothing to confirm before both accounts are claimed')

  // ---- a thief on the network: mallory sends a claim of A bound to her DID, and one of bob's DID
  const stolen = makeClaim(line.userA, did(2), secretOf(2), { legacy: legacySign(malloryDraft.claim, new Uint8Array(32).fill(11)) })
  await services[2].rpc?.connect(did(0), { timeoutMs: 5000 })
  const answer = await services[2].rpc?.request(did(0), CLAIM_METHOD, { claims: [stolen, bobAttested] }) as { refused: string[] }
  t.ok(answer.refused.some((r) => /legacy key/.test(r)), `alice refuses mallory's claim of A: "${answer.refused[0]}"`)
  t.ok(answer.refused.some((r) => /another DID than the sender/.test(r)), 'and a claim of someone else\'s DID relayed by her')
  t.is(await alice.claimOf(uB), null, 'alice keeps nothing mallory sent')

  // ---- the exchange: both verified claims on both sides, the line opens unconfirmed
  const ex = await alice.exchange(did(1))
  t.alike(ex.refused, [], 'bob\'s claim holds for alice')
  t.ok(ex.opened.includes(line.legacyId), 'alice opens the imported line')
  await until('bob opens it too', async () => (await bob.status()).some((s) => s.legacyId === line.legacyId && s.status === 'imported-unconfirmed'))
  const st = (await alice.status()).find((s) => s.legacyId === line.legacyId)
  t.is(st?.status, 'imported-unconfirmed', 'the contract shows "imported, unconfirmed"')
  const id = st?.trustline as string
  const bobSt = (await bob.status()).find((s) => s.legacyId === line.legacyId)
  t.is(bobSt?.trustline, id, 'both compute the same trustline id from the export and the claims')

  const terms = importedTerms(line, aliceClaim, bobAttested)
  t.is(termsId(terms), id, 'the id is the hash of terms whose origin binds history and claims')
  const edited = { ...line, history: line.history.slice(0, -1) }
  t.not(termsId(importedTerms(edited, aliceClaim, bobAttested)), id, 'another history gives another trustline id')
  const va = await sync(0).show(id)
  t.is(va.state.status, 'unconfirmed', 'alice\'s copy: unconfirmed')
  t.is(BigInt(va.myBalance), line.balance, 'the opening balance is the service\'s: what legacy A (alice) owes B, whichever side her DID sorts to')
  await rejects(t, sync(0).propose(id, { type: 'payment', from: va.me, amount: '1' }), 'OP_REJECTED', /confirm/, 'a payment before both confirmed')
  await rejects(t, mallory.confirm(line.legacyId), 'NOT_FOUND', /claimed/, 'mallory, holding no account of it, cannot confirm')

  // ---- both countersign the opening state
  t.is((await alice.confirm(line.legacyId)).status, 'proposed', 'alice signs the opening state (proposes confirm)')
  await until('bob receives the confirm', async () => (await sync(1).show(id)).proposals.some((p) => p.dir === 'in' && p.change.type === 'confirm' && p.status === 'pending'))
  t.is((await bob.confirm(line.legacyId)).status, 'confirmed', 'bob countersigns it')
  await until('alice sees it open', async () => (await sync(0).show(id)).state.status === 'open')
  const [x, y] = [await sync(0).show(id, { history: true }), await sync(1).show(id, { history: true })]
  t.is(x.head, y.head, 'both hold the same head')
  t.alike(x.history, y.history, 'and the same signed chain')
  t.ok(x.history?.[0].accept, 'the confirm carries both signatures')
  t.is((await alice.status()).find((s) => s.legacyId === line.legacyId)?.status, 'confirmed', 'the import shows confirmed')
  await rejects(t, bob.confirm(line.legacyId), 'OP_REJECTED', /not waiting for confirmation/, 'confirming twice')

  // a normal trustline now: a payment within the imported limits goes through
  const room = BigInt(x.myAvailable)
  if (room > 0n) {
    const pay = await sync(0).propose(id, { type: 'payment', from: x.me, amount: '1' })
    await until('bob receives the payment', async () => (await sync(1).show(id)).proposals.some((p) => p.hash === pay.proposal))
    await sync(1).accept(id, pay.proposal)
    t.is(BigInt((await sync(1).show(id)).myBalance), BigInt(y.myBalance) - 1n, 'the first payment after the import moves the balance by exactly one cent')
  } else {
    t.pass('alice has no room on this line (imported forced debt): no payment to try')
  }
})
