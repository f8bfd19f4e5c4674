import test from 'brittle'
import b4a from 'b4a'
import canonicalize from 'canonicalize'
import { checkAd, encodeAd, MAX_AD_BYTES, MAX_AD_TTL_MS, networkTopic, releaseHash, signAd, type AdBody } from '../core/network/ads/advertisement.ts'
import { AdDirectory, type Certify } from '../core/network/ads/directory.ts'
import { generateKeyPair, sign } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import { seed } from './helpers/net.ts'

const NET = b4a.toString(networkTopic('ads-test'), 'hex')
const T0 = Date.UTC(2026, 0, 1)

function who (n: number): { did: DidKey; secretKey: Uint8Array } {
  const kp = generateKeyPair(seed(n))
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
}

function body (n: number, over: Partial<AdBody> = {}): AdBody {
  return {
    v: 1,
    network: NET,
    did: who(n).did,
    organization: `Org ${n}`,
    chain: [],
    services: [{ type: 'originating' }],
    protocols: ['growr/rpc/v1', 'growr/ads/v1'],
    books: [{
      topic: 'ybndrfg8ejkmcpqxot1uwisza345h769ybndrfg8ejkmcpqxot1u',
      name: 'Book',
      projects: [{ projectId: 'ab'.repeat(16), name: `P${n}`, currency: 'EUR', amount: '500000', loanMin: '50000', loanMax: '150000', minMonths: 3, maxMonths: 12, rateBps: 1200, interestMethod: 'declining-balance' }]
    }],
    release: releaseHash('0.1.0', new Uint8Array(32)),
    issuedAt: T0,
    expiresAt: T0 + 3600_000,
    ...over
  }
}

function ad (n: number, over: Partial<AdBody> = {}): Uint8Array {
  return signAd(body(n, over), who(n).secretKey).bytes
}

test('ads - a signed ad checks; its bytes are canonical and name its network', (t) => {
  const bytes = ad(1)
  const r = checkAd(bytes, { now: T0, network: NET })
  t.ok(r.ok, r.ok ? 'ok' : r.reason)
  if (r.ok) {
    t.is(r.ad.did, who(1).did)
    t.alike(encodeAd(r.ad), bytes)
  }
  const other = checkAd(bytes, { now: T0, network: b4a.toString(networkTopic('another'), 'hex') })
  t.absent(other.ok, 'refused on another network')
  t.ok(!other.ok && /another network/.test(other.reason))
})

test('ads - forged ads are refused with a reason', (t) => {
  const good = JSON.parse(b4a.toString(ad(1)))
  // a field changed after signing
  const tampered = { ...good, organization: 'Evil Corp' }
  const r1 = checkAd(encodeAd(tampered), { now: T0, network: NET })
  t.ok(!r1.ok && /signature does not hold/.test(r1.reason), 'tampered field')
  // signed by DID 2's key while claiming DID 1
  const b = body(1)
  const msg = b4a.concat([b4a.from('growr/ad/v1\0'), b4a.from(canonicalize(b) as string)])
  const stolen = { ...b, signature: b4a.toString(sign(msg, who(2).secretKey), 'hex') }
  const r2 = checkAd(encodeAd(stolen as never), { now: T0, network: NET })
  t.ok(!r2.ok && /signature does not hold/.test(r2.reason), 'signed by another DID')
  t.exception(() => signAd(body(1), who(2).secretKey), /own DID/, 'signAd refuses another key')
  // the right signature, another domain (a peer-rpc hello, say): not an ad
  const r3 = checkAd(encodeAd({ ...good, signature: 'ab'.repeat(64) }), { now: T0, network: NET })
  t.absent(r3.ok, 'random signature')
  // non-canonical spacing of a valid ad
  const spaced = b4a.from(JSON.stringify(good, null, 1))
  const r4 = checkAd(spaced, { now: T0, network: NET })
  t.ok(!r4.ok && /canonical/.test(r4.reason), 'non-canonical bytes')
  const r5 = checkAd(encodeAd({ ...good, v: 2 }), { now: T0, network: NET })
  t.ok(!r5.ok && /version 2/.test(r5.reason), 'another version refused loudly')
  const r6 = checkAd(encodeAd({ ...good, extra: 1 }), { now: T0, network: NET })
  t.ok(!r6.ok && /additional/.test(r6.reason), 'unknown field')
  for (const junk of [null, 'x', b4a.from('not json'), b4a.from('[]'), b4a.from('{"v":1}')]) {
    const r = checkAd(junk, { now: T0, network: NET })
    t.absent(r.ok, `junk refused: ${r.ok ? '' : r.reason}`)
  }
})

test('ads - time: future, expired and over-long ads refused; oversized refused', (t) => {
  const future = checkAd(ad(1, { issuedAt: T0 + 120_000, expiresAt: T0 + 600_000 }), { now: T0, network: NET, maxSkewMs: 60_000 })
  t.ok(!future.ok && /future/.test(future.reason), 'from the future')
  const near = checkAd(ad(1, { issuedAt: T0 + 30_000, expiresAt: T0 + 600_000 }), { now: T0, network: NET, maxSkewMs: 60_000 })
  t.ok(near.ok, 'within the skew bound')
  const expired = checkAd(ad(1), { now: T0 + 3600_000, network: NET })
  t.ok(!expired.ok && /expired/.test(expired.reason), 'expired')
  t.exception(() => ad(1, { expiresAt: T0 + MAX_AD_TTL_MS + 1 }), /more than/, 'signAd refuses a lifetime over 2 h')
  const good = JSON.parse(b4a.toString(ad(1)))
  const long = checkAd(encodeAd({ ...good, expiresAt: T0 + MAX_AD_TTL_MS + 1 }), { now: T0, network: NET })
  t.absent(long.ok, 'over 2 h refused by the checker too')
  const big = new Uint8Array(MAX_AD_BYTES + 1).fill(0x20)
  const r = checkAd(big, { now: T0, network: NET })
  t.ok(!r.ok && /exceeds/.test(r.reason), 'oversized')
  t.exception(() => ad(1, { chain: [{ blob: 'x'.repeat(MAX_AD_BYTES) }] }), /exceeds/, 'signAd refuses an oversized ad')
})

test('ads - a flood of 1000 ads from one DID keeps one; others unaffected', async (t) => {
  let now = T0
  const dir = new AdDirectory({ network: NET, now: () => now, minUpdateMs: 1000 })
  t.ok((await dir.add(ad(2))).ok, 'an honest ad')
  const results = []
  for (let i = 0; i < 1000; i++) {
    results.push(await dir.add(ad(3, { issuedAt: T0 + i * 10, expiresAt: T0 + i * 10 + 3600_000, organization: `flood ${i}` })))
  }
  t.is(dir.size, 2, 'one ad per DID')
  const kept = results.filter((r) => r.ok).length
  t.ok(kept <= 11, `at most one replacement per second of issuedAt (${kept} stored over 10 s)`)
  t.is(dir.get(who(3).did)?.ad.organization, 'flood 900', 'the newest allowed one')
  t.is(dir.get(who(2).did)?.ad.organization, 'Org 2', 'the honest ad is still there')
  const same = await dir.add(ad(2))
  t.is(same.status, 'stale', 'the same ad again is stale')
  const older = await dir.add(ad(3, { issuedAt: T0 - 5000 }))
  t.is(older.status, 'stale', 'an older ad does not replace a newer one')
  // forged ads change nothing
  const good = JSON.parse(b4a.toString(ad(2, { issuedAt: T0 + 5000, expiresAt: T0 + 7200_000 })))
  const forged = await dir.add(encodeAd({ ...good, organization: 'hijacked' }))
  t.is(forged.status, 'refused')
  t.is(dir.get(who(2).did)?.ad.organization, 'Org 2', 'a forged update changes nothing')
  now = T0 + 5000
  t.is(dir.size, 2)
})

test('ads - ads expire with the clock; queries answer by service and role', async (t) => {
  let now = T0
  const certify: Certify = async (a) => a.did === who(4).did ? { certified: true, by: 'did:key:zGov', roles: ['originator'] } : { certified: false, reason: 'no chain' }
  const dir = new AdDirectory({ network: NET, now: () => now, certify })
  await dir.add(ad(4, { expiresAt: T0 + 600_000 }))
  await dir.add(ad(5, { services: [{ type: 'issuing', credentialTypes: ['KycCredential'] }, { type: 'verification' }], books: [] }))
  t.alike(dir.query({ service: 'originating' }).map((l) => l.did), [who(4).did])
  t.alike(dir.query({ service: 'issuing' }).map((l) => l.did), [who(5).did])
  t.alike(dir.query({ service: 'issuing', credentialType: 'KycCredential' }).map((l) => l.did), [who(5).did])
  t.alike(dir.query({ service: 'issuing', credentialType: 'IncomeCredential' }), [])
  t.alike(dir.query({ role: 'originator' }).map((l) => l.did), [who(4).did], 'role from the certification')
  const projects = dir.projects()
  t.is(projects.length, 1)
  t.is(projects[0].originator, who(4).did)
  t.is(projects[0].certified, true)
  t.is(projects[0].certifiedBy, 'did:key:zGov')
  t.is(projects[0].amount, '500000', 'amounts are exact decimal strings')
  const five = dir.get(who(5).did)
  t.is(five?.certified, false, 'uncertified ad kept, marked')
  t.is(five?.certificationNote, 'no chain')
  now = T0 + 600_000
  t.is(dir.query().length, 1, 'the 10-minute ad expired')
  t.is(dir.projects().length, 0, 'and its projects are gone')
  now = T0 + 3600_000
  t.is(dir.fresh().length, 0, 'all expired')
  t.is(dir.size, 0, 'and dropped')
  const late = await dir.add(ad(6))
  t.ok(!late.ok && /expired/.test(late.reason), 'an expired ad is refused on arrival')
})

test('ads - certification required: uncertified refused; full directory keeps certified ads', async (t) => {
  const certify: Certify = async (a) => {
    if (a.did === who(8).did) throw new Error('boom')
    return a.chain.length > 0 ? { certified: true, by: 'gov' } : { certified: false, reason: 'no chain' }
  }
  const strict = new AdDirectory({ network: NET, now: () => T0, certify, requireCertified: true })
  const r = await strict.add(ad(7))
  t.ok(!r.ok && /not certified: no chain/.test(r.reason), 'uncertified refused')
  t.ok((await strict.add(ad(7, { chain: [{ type: ['VerifiableCredential'] }] }))).ok, 'certified accepted')
  const thrown = await strict.add(ad(8, { chain: [{}] }))
  t.ok(!thrown.ok && /certification check failed/.test(thrown.reason), 'a throwing certify counts as uncertified')

  const small = new AdDirectory({ network: NET, now: () => T0, certify, maxAds: 2 })
  t.ok((await small.add(ad(10))).ok)
  t.ok((await small.add(ad(11, { expiresAt: T0 + 60_000 }))).ok)
  const full = await small.add(ad(12))
  t.ok(!full.ok && /full/.test(full.reason), 'an uncertified newcomer is refused when full')
  t.ok((await small.add(ad(13, { chain: [{}] }))).ok, 'a certified newcomer takes the place of an uncertified ad')
  t.absent(small.get(who(11).did), 'the one closest to expiry went')
  t.ok(small.get(who(10).did))
  t.ok((await small.add(ad(10, { issuedAt: T0 + 2000 }))).ok, 'updates of a held DID pass when full')
})

test('ads - concurrent copies of one ad: stored once', async (t) => {
  let calls = 0
  const dir = new AdDirectory({ network: NET, now: () => T0, certify: async () => { calls++; await new Promise((resolve) => setTimeout(resolve, 5)); return { certified: true } } })
  const bytes = ad(20)
  const rs = await Promise.all([dir.add(bytes), dir.add(bytes), dir.add(bytes)])
  t.is(rs.filter((r) => r.ok).length, 1)
  t.is(calls, 1, 'certify ran once')
})

test('ads - a copy of an ad already held is answered without a second check; a changed byte is still checked and refused', async (t) => {
  const now = T0
  let certified = 0
  const dir = new AdDirectory({ network: NET, now: () => now, certify: async () => { certified++; return { certified: false, reason: 'test' } } })
  const bytes = ad(3)
  t.is((await dir.add(bytes)).status, 'new', 'stored once')
  const again = await dir.add(Uint8Array.from(bytes))
  t.is(again.status, 'stale', 'the same bytes from another peer')
  t.ok(!again.ok && /hold this ad already/.test(again.reason), 'answered from the digest of what is held')
  t.is(certified, 1, 'and not certified twice')
  const flipped = Uint8Array.from(bytes)
  flipped[flipped.length - 3] ^= 1
  const r = await dir.add(flipped)
  t.is(r.status, 'refused', 'one byte changed: checked, and refused')
})
