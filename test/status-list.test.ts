import test from 'brittle'
import { gunzipSync, gzipSync } from 'node:zlib'
import b4a from 'b4a'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { verifyCredential } from '../core/credentials/vc.ts'
import {
  MIN_STATUS_LIST_BITS, MAX_STATUS_LIST_BITS, encodeStatusList, isSet, statusEntry, statusListCredential, checkStatusAgainst
} from '../core/credentials/bitstring-status-list.ts'
import { rejectsCode, throwsCode } from './helpers/assert.ts'

const NOW = Date.parse('2026-11-21T10:00:00Z')
const LIST_ID = 'https://issuer.example/status/7'

function party (n: number) {
  const kp = generateKeyPair(b4a.alloc(32, n))
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
}
const ISSUER = party(11)
const OTHER = party(12)

// Third-party encodings: the W3C spec's example list (131072 bits, none set), and a list from
// another implementation with only bit 2 set (first byte 0b0010_0000, MSB-first order).
const SPEC_EXAMPLE_LIST = 'uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA'
const FOREIGN_LIST_BIT_2 = 'uH4sIAAAAAAAC_-3BIQEAAAACIKf4f6UzLEADAAAAAAAAAAAAAAAAAAAAvA1-s-l1AEAAAA'



const revoked = [0, 7, 8, 1000, MIN_STATUS_LIST_BITS - 1]

test('encode a list, read bits back, spec bit order and length', async (t) => {
  const list = await encodeStatusList(revoked)
  t.is(list[0], 'u', 'multibase base64url prefix')
  t.ok(/^u[A-Za-z0-9_-]+$/.test(list), 'base64url alphabet, no padding')
  for (const i of revoked) t.is(await isSet(list, i), true, `bit ${i} set`)
  for (const i of [1, 6, 9, 999, 1001, MIN_STATUS_LIST_BITS - 2]) t.is(await isSet(list, i), false, `bit ${i} clear`)

  const raw = gunzipSync(Buffer.from(list.slice(1), 'base64url'))
  t.is(raw.byteLength * 8, MIN_STATUS_LIST_BITS, 'uncompressed list is 131072 bits (16 KiB)')
  t.ok(raw.byteLength * 8 >= 131072)
  t.is(raw[0], 0b1000_0001, 'bit 0 is the left-most bit of the first byte, bit 7 its right-most')
  t.is(raw[1], 0b1000_0000, 'bit 8 starts the second byte')
  t.is(raw[raw.byteLength - 1], 0b0000_0001, 'the last bit is the right-most of the last byte')

  const longer = await encodeStatusList([MIN_STATUS_LIST_BITS + 5], MIN_STATUS_LIST_BITS * 2)
  t.is(await isSet(longer, MIN_STATUS_LIST_BITS + 5), true, 'longer lists work')
  t.is(await isSet(await encodeStatusList([]), 5), false, 'an empty revocation set')
})

test('lists encoded elsewhere decode the same way', async (t) => {
  t.is(await isSet(SPEC_EXAMPLE_LIST, 0), false)
  t.is(await isSet(SPEC_EXAMPLE_LIST, MIN_STATUS_LIST_BITS - 1), false)
  t.is(await isSet(FOREIGN_LIST_BIT_2, 2), true, 'bit 2 is set')
  t.is(await isSet(FOREIGN_LIST_BIT_2, 5), false, 'not bit 5 (the LSB-first misreading)')
  t.is(await isSet(FOREIGN_LIST_BIT_2, 0), false)
  t.is(await isSet(FOREIGN_LIST_BIT_2, 3), false)
})

test('bad lengths, indices and encodings throw BAD_ARGUMENT', async (t) => {
  await rejectsCode(t, encodeStatusList([], MIN_STATUS_LIST_BITS - 8), 'BAD_ARGUMENT', 'shorter than the spec minimum')
  await rejectsCode(t, encodeStatusList([], MIN_STATUS_LIST_BITS + 1), 'BAD_ARGUMENT', 'not whole bytes')
  await rejectsCode(t, encodeStatusList([], MAX_STATUS_LIST_BITS + 8), 'BAD_ARGUMENT', 'over the maximum')
  await rejectsCode(t, encodeStatusList([MIN_STATUS_LIST_BITS]), 'BAD_ARGUMENT', 'index past the end')
  await rejectsCode(t, encodeStatusList([-1]), 'BAD_ARGUMENT', 'negative index')
  await rejectsCode(t, encodeStatusList([1.5]), 'BAD_ARGUMENT', 'fractional index')

  const list = await encodeStatusList([3])
  await rejectsCode(t, isSet(list, MIN_STATUS_LIST_BITS), 'BAD_ARGUMENT', 'read past the end')
  await rejectsCode(t, isSet(list, -1), 'BAD_ARGUMENT', 'negative read')
  const short = 'u' + gzipSync(b4a.alloc(100)).toString('base64url')
  const huge = 'u' + gzipSync(b4a.alloc(MAX_STATUS_LIST_BITS / 8 + 1)).toString('base64url')
  for (const [name, bad] of [
    ['no multibase prefix', list.slice(1)], ['base64 (not url) prefix', 'm' + list.slice(1)], ['not base64url', 'u!!!!'],
    ['not gzip', 'u' + Buffer.alloc(64, 7).toString('base64url')], ['truncated gzip', list.slice(0, -8)],
    ['shorter than 131072 bits', short], ['longer than the maximum', huge], ['empty gzip', 'uH4sIAAAAAAAA_wMAAAAAAAAAAAA'],
    ['far too long', 'u' + 'A'.repeat(300_000)], ['not a string', 42]
  ] as Array<[string, string]>) {
    await rejectsCode(t, isSet(bad, 0), 'BAD_ARGUMENT', name)
  }
})

test('status entries and the list credential', async (t) => {
  const entry = statusEntry(LIST_ID, 42)
  t.alike(entry, { id: `${LIST_ID}#42`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '42', statusListCredential: LIST_ID })
  throwsCode(t, () => statusEntry(LIST_ID, -1), 'BAD_ARGUMENT', 'negative index')
  throwsCode(t, () => statusEntry(`${LIST_ID}#x`, 1), 'BAD_ARGUMENT', 'list id with a fragment')

  const encodedList = await encodeStatusList([42])
  const vc = statusListCredential({ issuer: ISSUER, id: LIST_ID, encodedList, now: NOW })
  t.alike(vc.type, ['VerifiableCredential', 'BitstringStatusListCredential'])
  t.alike(vc.credentialSubject, { id: `${LIST_ID}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList })
  t.is(vc.id, LIST_ID)
  t.is(vc.issuer, ISSUER.did)
  const verified = await verifyCredential(JSON.parse(JSON.stringify(vc)), { now: NOW })
  t.alike(verified, { verified: true, problems: [], issuer: ISSUER.did, type: 'BitstringStatusListCredential' }, 'the list credential verifies')
  throwsCode(t, () => statusListCredential({ issuer: ISSUER, id: LIST_ID, encodedList: encodedList.slice(1), now: NOW }), 'BAD_ARGUMENT', 'list without multibase prefix')

  t.alike(await checkStatusAgainst(vc, entry, ISSUER.did, NOW), { revoked: true }, 'bit 42 -> revoked')
  t.alike(await checkStatusAgainst(vc, statusEntry(LIST_ID, 41), ISSUER.did, NOW), { revoked: false }, 'bit 41 -> not revoked')

  const errorOf = async (listVc: unknown, e: typeof entry, issuer: string, now: number): Promise<string> => {
    const r = await checkStatusAgainst(listVc, e, issuer, now)
    return 'error' in r ? r.error : `no error: ${JSON.stringify(r)}`
  }
  const tampered = JSON.parse(JSON.stringify(vc))
  tampered.credentialSubject.encodedList = await encodeStatusList([])
  t.ok(/does not verify/.test(await errorOf(tampered, entry, ISSUER.did, NOW)), 'a swapped-in encodedList breaks the signature')
  const byOther = statusListCredential({ issuer: OTHER, id: LIST_ID, encodedList: await encodeStatusList([]), now: NOW })
  t.ok(/issued by .* not by the credential's issuer/.test(await errorOf(byOther, entry, ISSUER.did, NOW)), 'a list signed by someone else is refused')
  t.ok(/not https:\/\/issuer.example\/status\/8/.test(await errorOf(vc, statusEntry('https://issuer.example/status/8', 42), ISSUER.did, NOW)), 'the entry must name this list')
  t.ok(/for revocation, not suspension/.test(await errorOf(vc, { ...entry, statusPurpose: 'suspension' as 'revocation' }, ISSUER.did, NOW)), 'purposes must match')
  t.ok(/index is not a decimal/.test(await errorOf(vc, { ...entry, statusListIndex: '9007199254740993' }, ISSUER.did, NOW)), 'indices beyond ten digits are refused')
  t.ok(/does not verify/.test(await errorOf(vc, entry, ISSUER.did, Date.parse('2026-01-01T00:00:00Z'))), 'a list from the future is refused')
  t.ok(/outside/.test(await errorOf(vc, statusEntry(LIST_ID, MIN_STATUS_LIST_BITS + 1), ISSUER.did, NOW)), 'an index past the list is an error, not "not revoked"')
  t.ok(/does not verify/.test(await errorOf('not a credential', entry, ISSUER.did, NOW)), 'garbage list')
})
