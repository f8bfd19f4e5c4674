// Runs under Bare (brittle-bare) and Node alike: network definitions, organization certificates
// and chain verification (core/governance/), which the core worker runs under Bare.
import test from 'brittle'
import b4a from 'b4a'
import { generateKeyPair } from '../../core/identity/keys.ts'
import { publicKeyToDid } from '../../core/identity/did-key.ts'
import { encodeStatusList, statusEntry, statusListCredential, checkStatusAgainst } from '../../core/credentials/bitstring-status-list.ts'
import { isoSeconds, type StatusCheck } from '../../core/credentials/vc.ts'
import { loadNetwork, parseNetwork, readNetworkFile } from '../../core/governance/network.ts'
import { issueCertificate, type Role } from '../../core/governance/certificate.ts'
import { certifiedFor, verifyChain } from '../../core/governance/chain.ts'

const NOW = Date.UTC(2026, 5, 1)

function party (n: number) {
  const kp = generateKeyPair(new Uint8Array(32).fill(n))
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey, list: `hyper://list-${n}/revocation`, revoked: [] as number[] }
}

test('bare - governance: the shipped network loads, a chain verifies, a revoked link and a tampered one are refused', async (t) => {
  const shipped = readNetworkFile(decodeURIComponent(new URL('../../core/governance/networks/growr-dev.json', import.meta.url).pathname))
  t.is(shipped.definition.name, 'growr-dev', 'the shipped development network loads')
  t.is(shipped.topicHex.length, 64, 'with a 32-byte topic')
  const v2 = parseNetwork({ ...shipped.definition, version: 2 })
  t.ok(!v2.ok && v2.code === 'UNSUPPORTED_VERSION', 'an unknown version is refused')

  const founder = party(1)
  const gov = party(2)
  const org = party(3)
  const parties = [founder, gov, org]
  const network = loadNetwork({ version: 1, name: 'growr-bare', founders: [founder.did] })
  const cert = (by: typeof founder, to: typeof founder, roles: Role[], index: number) => issueCertificate({
    issuer: by, network, subject: to.did, name: `org ${index}`, roles, now: NOW - 1000, validUntil: isoSeconds(NOW + 86_400_000), credentialStatus: statusEntry(by.list, index)
  })
  const checkStatus: StatusCheck = async (entry, vc) => {
    const owner = parties.find((p) => p.list === entry.statusListCredential)
    if (!owner) return { error: 'unknown list' }
    const list = statusListCredential({ issuer: owner, id: owner.list, encodedList: await encodeStatusList(owner.revoked), now: NOW })
    return await checkStatusAgainst(list, entry, String(vc.issuer), NOW)
  }
  const chain = [cert(founder, gov, ['governance'], 0), cert(gov, org, ['issuer'], 5)]
  const ok = await verifyChain(network, chain, { now: NOW, checkStatus })
  t.ok(ok.ok, ok.ok ? 'the chain verifies under this runtime' : ok.reason)
  t.ok(certifiedFor(ok, { role: 'issuer', governance: gov.did }).ok, 'certified as an issuer through the governance DID')

  const tampered = structuredClone(chain)
  tampered[1].credentialSubject.roles = ['issuer', 'originator']
  const bad = await verifyChain(network, tampered, { now: NOW, checkStatus })
  t.ok(!bad.ok && /does not hold/.test(bad.reason), 'a tampered certificate is refused')

  gov.revoked.push(5)
  const revoked = await verifyChain(network, chain, { now: NOW, checkStatus })
  t.ok(!revoked.ok && /was revoked/.test(revoked.reason), 'a revoked link is refused')
  t.is(b4a.toString(network.topic, 'hex'), network.topicHex, 'the topic is 32 bytes, hex for JSON')
})
