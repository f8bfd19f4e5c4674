/**
 * Benchmark 9, certificate chains: `verifyChain` (core/governance/chain.ts) of a real 3-link
 * chain, founder -> governance -> delegated governance -> organization (an originator), each
 * certificate issued with issueCertificate (eddsa-jcs-2022) by the test identities' seeds, as
 * test/governance.test.ts makes them. Every certifier publishes a real signed Bitstring Status
 * List (a few other bits set) and the chain's status checks read it, in two ways:
 * - cached: each list was checked once before the clock starts (signature, issuer, purpose,
 *   GZIP decoded), and a lookup reads the answer kept for that list and bit. Left: the 3
 *   certificate signatures, their JCS/SHA-256, shape, validity and role rules. 1/3 of the raw
 *   Ed25519 rate is the ceiling.
 * - decoded each time: each lookup runs checkStatusAgainst on the list credential, as
 *   StatusResolver.check does once it holds the list (its signature verified, 16 KiB inflated,
 *   the bit read): 6 signatures per chain, so 1/6 is the ceiling. The fetch over the swarm is
 *   not timed.
 * Baseline: raw Ed25519 verifications/s with sodium-universal over a 64-byte message (what
 * eddsa-jcs-2022 signs), as bench/credentials.ts.
 */
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { generateKeyPair, sign } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import { checkStatusAgainst, encodeStatusList, statusEntry, statusListCredential, type BitstringStatusListEntry } from '../core/credentials/bitstring-status-list.ts'
import { isoSeconds, type StatusCheck, type VerifiableCredential } from '../core/credentials/vc.ts'
import { loadNetwork, type Network } from '../core/governance/network.ts'
import { issueCertificate, type OrganizationCertificate, type Role } from '../core/governance/certificate.ts'
import { verifyChain } from '../core/governance/chain.ts'
import { now, result, type BenchResult } from './lib/util.ts'

const NOW = Date.UTC(2026, 5, 1)
const DAY = 24 * 3600 * 1000

interface Party { did: DidKey; secretKey: Uint8Array; publicKey: Uint8Array; list: string; revoked: Set<number>; next: number }

// the seeds of test/governance.test.ts's parties: the same identities
function party (n: number): Party {
  const kp = generateKeyPair(new Uint8Array(32).fill(n))
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey, publicKey: kp.publicKey, list: `hyper://list-of-${n}/revocation`, revoked: new Set(), next: 0 }
}

function certify (by: Party, network: Network, subject: Party, name: string, roles: Role[], mayCertify?: Role[]): OrganizationCertificate {
  return issueCertificate({
    issuer: by,
    network,
    subject: subject.did,
    name,
    roles,
    mayCertify,
    now: NOW - DAY,
    validUntil: isoSeconds(NOW + 365 * DAY),
    credentialStatus: statusEntry(by.list, by.next++)
  })
}

/** Runs `fn` `n` times after `n / 10` warm-up calls. @returns calls per second */
async function rate (n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < Math.ceil(n / 10); i++) await fn()
  const t0 = now()
  for (let i = 0; i < n; i++) await fn()
  return n / (now() - t0) * 1000
}

/** Runs the chain benchmark: `n` chain verifications of each kind and `n * 3` raw verifications. */
export async function benchChains (n: number): Promise<BenchResult[]> {
  const founder = party(1)
  const gov = party(2)
  const regional = party(7)
  const org = party(3)
  const network = loadNetwork({ version: 1, name: 'growr-test', founders: [founder.did] })
  const chain = [
    certify(founder, network, gov, 'Kootenay Governance', ['governance'], ['governance', 'originator', 'issuer']),
    certify(gov, network, regional, 'Kootenay East Governance', ['governance']),
    certify(regional, network, org, 'Ann Lending', ['originator'])
  ]
  const certifiers = [founder, gov, regional]
  // other certificates of theirs were revoked: the lists are not all zeros
  for (const p of certifiers) for (const i of [5, 17, 4_001]) p.revoked.add(i)
  const lists = new Map<string, VerifiableCredential>()
  for (const p of certifiers) lists.set(p.list, statusListCredential({ issuer: p, id: p.list, encodedList: await encodeStatusList(p.revoked), now: NOW }))

  const listFor = (entry: BitstringStatusListEntry) => lists.get(entry.statusListCredential)
  const eachTime: StatusCheck = async (entry, vc) => {
    const list = listFor(entry)
    if (!list) return { error: `no list at ${entry.statusListCredential}` }
    return await checkStatusAgainst(list, entry, String(vc.issuer), NOW)
  }
  const answers = new Map<string, { revoked: boolean } | { error: string }>()
  const cached: StatusCheck = async (entry, vc) => {
    const key = `${entry.statusListCredential}#${entry.statusListIndex}`
    let got = answers.get(key)
    if (!got) { got = await eachTime(entry, vc); answers.set(key, got) }
    return got
  }

  const opts = (checkStatus: StatusCheck) => ({ now: NOW, checkStatus })
  const first = await verifyChain(network, chain, opts(eachTime))
  if (!first.ok || first.organization.did !== org.did || first.certifiedBy.length !== 3) throw new Error(`chains: the benchmark's own chain does not verify: ${first.ok ? 'wrong organization' : first.reason}`)
  // the status path is live: the same chain with the organization's bit set in its certifier's list is refused
  const revokedList = statusListCredential({ issuer: regional, id: regional.list, encodedList: await encodeStatusList([...regional.revoked, 0]), now: NOW })
  const revoked = await verifyChain(network, chain, opts(async (entry, vc) => entry.statusListCredential === regional.list ? await checkStatusAgainst(revokedList, entry, String(vc.issuer), NOW) : await eachTime(entry, vc)))
  if (revoked.ok || !/revoked/.test(revoked.reason)) throw new Error(`chains: a revoked organization certificate was not refused: ${revoked.ok ? 'ACCEPTED' : revoked.reason}`)

  const verified = (checkStatus: StatusCheck) => async () => {
    if (!(await verifyChain(network, chain, opts(checkStatus))).ok) throw new Error('chain failed')
  }
  const withCache = await rate(n, verified(cached))
  const decoded = await rate(n, verified(eachTime))

  const message = b4a.alloc(64, 7)
  const signature = sign(message, org.secretKey)
  const raw = await rate(n * 3, () => { if (!sodium.crypto_sign_verify_detached(signature, message, org.publicKey)) throw new Error('raw verify failed') })
  const bytes = JSON.stringify(chain).length
  return [
    result('certificate chain (3 links), status cached', n, withCache, 'chains/s', raw,
      `founder -> governance -> delegated governance -> originator, 3 eddsa-jcs-2022 certificates (${bytes} bytes of JSON) with shape, validity, network and role rules; status answers kept from one check of each signed list; baseline raw Ed25519 verifications/s (sodium-universal, 64-byte message), so 0.33 is the ceiling`, 'verifications/s'),
    result('certificate chain (3 links), status decoded each time', n, decoded, 'chains/s', raw,
      'the same chain; each status lookup verifies the certifier\'s signed Bitstring Status List credential and inflates its 16 KiB list (checkStatusAgainst, as StatusResolver.check after the fetch): 6 signatures per chain, so 0.17 is the ceiling', 'verifications/s')
  ]
}
