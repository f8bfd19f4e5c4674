// Runs under Bare (brittle-bare) and Node alike: ads sign, check and the directory's limits, with no node: imports.
import test from 'brittle'
import b4a from 'b4a'
import { checkAd, encodeAd, networkTopic, releaseHash, signAd, type AdBody } from '../../core/network/ads/advertisement.ts'
import { AdDirectory } from '../../core/network/ads/directory.ts'
import { generateKeyPair } from '../../core/identity/keys.ts'
import { publicKeyToDid } from '../../core/identity/did-key.ts'

const NET = b4a.toString(networkTopic('bare-ads'), 'hex')
const T0 = Date.UTC(2026, 0, 1)
const kp = generateKeyPair(new Uint8Array(32).fill(9))
const did = publicKeyToDid(kp.publicKey)

function body (over: Partial<AdBody> = {}): AdBody {
  return { v: 1, network: NET, did, organization: 'Bare org', chain: [], services: [{ type: 'relay' }], protocols: ['growr/ads/v1'], books: [], release: releaseHash('0.1.0', new Uint8Array(32)), issuedAt: T0, expiresAt: T0 + 3600_000, ...over }
}

test('bare - an ad signs and checks; a tampered one is refused', (t) => {
  const { ad, bytes } = signAd(body(), kp.secretKey)
  t.ok(checkAd(bytes, { now: T0, network: NET }).ok)
  const r = checkAd(encodeAd({ ...ad, organization: 'other' }), { now: T0, network: NET })
  t.ok(!r.ok && /signature/.test(r.reason))
})

test('bare - the directory keeps one ad per DID and drops it on expiry', async (t) => {
  let now = T0
  const dir = new AdDirectory({ network: NET, now: () => now, minUpdateMs: 0 })
  for (let i = 0; i < 50; i++) await dir.add(signAd(body({ issuedAt: T0 + i, expiresAt: T0 + i + 60_000 }), kp.secretKey).bytes)
  t.is(dir.size, 1)
  t.is(dir.get(did)?.ad.issuedAt, T0 + 49)
  now = T0 + 120_000
  t.is(dir.fresh().length, 0)
})
