// Governance: network definitions, organization certificates and chain verification
// (core/governance/), offline. Every certificate is really signed (eddsa-jcs-2022) and every
// revocation is a real signed Bitstring Status List credential read by checkStatusAgainst.
import test from 'brittle'
import b4a from 'b4a'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../core/identity/did-key.ts'
import { encodeStatusList, statusEntry, statusListCredential, checkStatusAgainst } from '../core/credentials/bitstring-status-list.ts'
import { isoSeconds, signAs, type StatusCheck, type VerifiableCredential } from '../core/credentials/vc.ts'
import { loadNetwork, networkTopic, parseNetwork, type Network } from '../core/governance/network.ts'
import { issueCertificate, parseRoles, type OrganizationCertificate, type Role } from '../core/governance/certificate.ts'
import { certifiedFor, MAX_CHAIN_LENGTH, verifyChain } from '../core/governance/chain.ts'
import { GrowrError } from '../core/errors.ts'

const NOW = Date.UTC(2026, 5, 1)
const DAY = 24 * 3600 * 1000

interface Party { did: DidKey; secretKey: Uint8Array; list: string; revoked: Set<number>; next: number }

function party (n: number): Party {
  const kp = generateKeyPair(new Uint8Array(32).fill(n))
  const did = publicKeyToDid(kp.publicKey)
  return { did, secretKey: kp.secretKey, list: `hyper://list-of-${n}/revocation`, revoked: new Set(), next: 0 }
}

/** A status lookup over the parties' real signed lists; counts lookups. */
function statusOf (parties: Party[]): StatusCheck & { calls: number } {
  const check = (async (entry, vc) => {
    check.calls++
    const owner = parties.find((p) => p.list === entry.statusListCredential)
    if (!owner) return { error: `no list at ${entry.statusListCredential}` }
    const listVc = statusListCredential({ issuer: owner, id: owner.list, encodedList: await encodeStatusList(owner.revoked), now: NOW })
    return await checkStatusAgainst(listVc, entry, String(vc.issuer), NOW)
  }) as StatusCheck & { calls: number }
  check.calls = 0
  return check
}

function certify (by: Party, network: Network, subject: Party, name: string, roles: Role[], more: { mayCertify?: Role[]; validFrom?: string; validUntil?: string } = {}): OrganizationCertificate {
  return issueCertificate({
    issuer: by,
    network,
    subject: subject.did,
    name,
    roles,
    mayCertify: more.mayCertify,
    now: NOW - DAY,
    validFrom: more.validFrom,
    validUntil: more.validUntil ?? isoSeconds(NOW + 365 * DAY),
    credentialStatus: statusEntry(by.list, by.next++)
  })
}

function world () {
  const founder = party(1)
  const gov = party(2)
  const ann = party(3)
  const oli = party(4)
  const iss = party(5)
  const stranger = party(6)
  const network = loadNetwork({ version: 1, name: 'growr-test', founders: [founder.did] })
  const govCert = certify(founder, network, gov, 'Kootenay Governance', ['governance'])
  const annCert = certify(gov, network, ann, 'Ann Lending', ['originator'])
  const oliCert = certify(gov, network, oli, 'Oli Credit Union', ['originator', 'investor-organization'])
  const issCert = certify(gov, network, iss, 'KYC Issuer', ['issuer'])
  const all = [founder, gov, ann, oli, iss, stranger]
  return { founder, gov, ann, oli, iss, stranger, network, govCert, annCert, oliCert, issCert, all, status: statusOf(all) }
}

test('governance network - strict loading, unknown version refused, topic independent of founder order and description', (t) => {
  const a = party(1).did
  const b = party(2).did
  const one = parseNetwork({ version: 1, name: 'growr-dev', founders: [a, b] })
  const two = parseNetwork({ version: 1, name: 'growr-dev', founders: [b, a], description: 'reworded' })
  t.ok(one.ok && two.ok, 'both load')
  if (!one.ok || !two.ok) return
  t.alike(one.network.topic, two.network.topic, 'founder order and description do not split the network')
  t.is(one.network.topicHex.length, 64, '32-byte topic')
  t.unlike(networkTopic({ version: 1, name: 'growr-dev', founders: [a] }), one.network.topic, 'other founders, other topic')
  t.unlike(networkTopic({ version: 1, name: 'growr-other', founders: [a, b] }), one.network.topic, 'other name, other topic')
  const v2 = parseNetwork({ version: 2, name: 'growr-dev', founders: [a] })
  t.ok(!v2.ok && v2.code === 'UNSUPPORTED_VERSION', 'version 2 refused as unsupported')
  try {
    loadNetwork({ version: 2, name: 'growr-dev', founders: [a] })
    t.fail('version 2 loaded')
  } catch (err) {
    t.is((err as GrowrError).code, 'UNSUPPORTED_VERSION', 'loadNetwork throws UNSUPPORTED_VERSION')
  }
  const refusals: Array<[unknown, RegExp]> = [
    [{ version: 1, name: 'growr-dev', founders: [a], extra: true }, /extra/],
    [{ version: 1, name: 'growr-dev', founders: [] }, /founders/],
    [{ version: 1, name: 'growr-dev', founders: [a, a] }, /founders/],
    [{ version: 1, name: 'Growr Dev!', founders: [a] }, /name/],
    [{ version: 1, name: 'growr-dev', founders: ['did:key:z6MkNOTAKEYNOTAKEYNOTAKEYNOTAKEYNOTAKEYNOTAKEY'] }, /did:key|founders/],
    [{ version: 1, name: 'growr-dev', founders: ['did:web:example.com'] }, /founders/],
    [[], /JSON object/],
    [null, /JSON object/]
  ]
  for (const [value, why] of refusals) {
    const r = parseNetwork(value)
    t.ok(!r.ok && why.test(r.reason), `refused: ${r.ok ? 'ACCEPTED' : r.reason}`)
  }
})

test('governance chain - founder, governance, two originators and an issuer: every chain verifies', async (t) => {
  const w = world()
  for (const [cert, who, roles] of [[w.annCert, w.ann, ['originator']], [w.oliCert, w.oli, ['originator', 'investor-organization']], [w.issCert, w.iss, ['issuer']]] as const) {
    const r = await verifyChain(w.network, [w.govCert, cert], { now: NOW, checkStatus: w.status })
    t.ok(r.ok, r.ok ? `${r.organization.name} certified` : r.reason)
    if (!r.ok) continue
    t.is(r.organization.did, who.did, 'the organization is the last subject')
    t.alike(r.organization.roles, roles, 'with its roles')
    t.is(r.founder, w.founder.did, 'reached the founder')
    t.alike(r.certifiedBy.map((l) => [l.issuer, l.subject]), [[w.founder.did, w.gov.did], [w.gov.did, who.did]], 'who certified whom')
  }
  const gov = await verifyChain(w.network, [w.govCert], { now: NOW, checkStatus: w.status })
  t.ok(gov.ok && gov.organization.roles[0] === 'governance', 'the governance DID\'s own chain verifies')
  t.is(w.status.calls, 7, 'each link\'s status was read')

  const direct = certify(w.founder, w.network, w.stranger, 'Founder-certified Relay', ['relay'])
  const d = await verifyChain(w.network, [direct], { now: NOW, checkStatus: w.status })
  t.ok(d.ok && d.organization.roles[0] === 'relay', 'a founder may certify an organization directly')
})

test('governance chain - an organization certified by a non-governance DID is refused', async (t) => {
  const w = world()
  const byOrg = certify(w.ann, w.network, w.stranger, 'Shadow Issuer', ['issuer'])
  const r = await verifyChain(w.network, [w.govCert, w.annCert, byOrg], { now: NOW, checkStatus: w.status })
  t.ok(!r.ok && /not a governance DID: organizations certify nobody/.test(r.reason), r.ok ? 'ACCEPTED' : r.reason)
  const govByOrg = certify(w.ann, w.network, w.stranger, 'Shadow Governance', ['governance'])
  const g = await verifyChain(w.network, [w.govCert, w.annCert, govByOrg], { now: NOW, checkStatus: w.status })
  t.ok(!g.ok && /organizations certify nobody/.test(g.reason), `an organization cannot create a governance DID: ${g.ok ? 'ACCEPTED' : g.reason}`)
  t.is(w.status.calls, 0, 'no status list was fetched for a refused chain')
})

test('governance chain - an expired or not-yet-valid link is refused', async (t) => {
  const w = world()
  const expiredGov = certify(w.founder, w.network, w.gov, 'Kootenay Governance', ['governance'], { validUntil: isoSeconds(NOW - 1000) })
  const r = await verifyChain(w.network, [expiredGov, w.annCert], { now: NOW, checkStatus: w.status })
  t.ok(!r.ok && /certificate 1 of 2.*expired/.test(r.reason), r.ok ? 'ACCEPTED' : r.reason)
  const future = certify(w.gov, w.network, w.ann, 'Ann Lending', ['originator'], { validFrom: isoSeconds(NOW + DAY) })
  const f = await verifyChain(w.network, [w.govCert, future], { now: NOW, checkStatus: w.status })
  t.ok(!f.ok && /certificate 2 of 2.*not valid until/.test(f.reason), f.ok ? 'ACCEPTED' : f.reason)
  const fine = await verifyChain(w.network, [w.govCert, w.annCert], { now: NOW + 366 * DAY, checkStatus: w.status })
  t.ok(!fine.ok && /expired/.test(fine.reason), 'a year later the chain has expired')
})

test('governance chain - a revoked link is refused, and revoking governance breaks every chain under it', async (t) => {
  const w = world()
  w.gov.revoked.add(Number(w.annCert.credentialStatus.statusListIndex))
  const r = await verifyChain(w.network, [w.govCert, w.annCert], { now: NOW, checkStatus: w.status })
  t.ok(!r.ok && /certificate 2 of 2 .* was revoked by/.test(r.reason), r.ok ? 'ACCEPTED' : r.reason)
  const o = await verifyChain(w.network, [w.govCert, w.oliCert], { now: NOW, checkStatus: w.status })
  t.ok(o.ok, 'the other originator stands')
  w.founder.revoked.add(Number(w.govCert.credentialStatus.statusListIndex))
  const after = await verifyChain(w.network, [w.govCert, w.oliCert], { now: NOW, checkStatus: w.status })
  t.ok(!after.ok && /certificate 1 of 2 .* was revoked by/.test(after.reason), after.ok ? 'ACCEPTED' : after.reason)
  const unreadable: StatusCheck = async () => ({ error: 'the issuer cannot be reached' })
  const u = await verifyChain(w.network, [w.govCert, w.issCert], { now: NOW, checkStatus: unreadable })
  t.ok(!u.ok && /revocation status cannot be checked: the issuer cannot be reached/.test(u.reason), 'status unknown is not accepted')
  const throwing: StatusCheck = async () => { throw new Error('boom') }
  const th = await verifyChain(w.network, [w.govCert, w.issCert], { now: NOW, checkStatus: throwing })
  t.ok(!th.ok && /boom/.test(th.reason), 'a throwing status lookup is a refusal, not a throw')
  // a status list signed by someone else than the certificate's issuer does not count
  const liar: StatusCheck = async (entry, vc) => {
    const listVc = statusListCredential({ issuer: w.stranger, id: entry.statusListCredential, encodedList: await encodeStatusList([]), now: NOW })
    return await checkStatusAgainst(listVc, entry, String(vc.issuer), NOW)
  }
  const l = await verifyChain(w.network, [w.govCert, w.issCert], { now: NOW, checkStatus: liar })
  t.ok(!l.ok && /status list was issued by/.test(l.reason), l.ok ? 'ACCEPTED' : l.reason)
})

test('governance chain - a forged signature is refused, and nothing is fetched for it', async (t) => {
  const w = world()
  const tampered = structuredClone(w.annCert)
  tampered.credentialSubject.roles = ['originator', 'issuer']
  const r = await verifyChain(w.network, [w.govCert, tampered], { now: NOW, checkStatus: w.status })
  t.ok(!r.ok && /certificate 2 of 2 .* does not hold: .*signature/i.test(r.reason), r.ok ? 'ACCEPTED' : r.reason)
  // signed by the stranger's key but claiming the governance DID as issuer
  const unsigned = { ...structuredClone(w.annCert) } as Record<string, unknown>
  delete unsigned.proof
  const forged = signAs<VerifiableCredential>({ ...unsigned, issuer: w.stranger.did }, w.stranger, { proofPurpose: 'assertionMethod', created: isoSeconds(NOW) })
  const asGov = { ...forged, issuer: w.gov.did }
  const f = await verifyChain(w.network, [w.govCert, asGov], { now: NOW, checkStatus: w.status })
  t.ok(!f.ok && /does not hold/.test(f.reason), f.ok ? 'ACCEPTED' : f.reason)
  const noProof = await verifyChain(w.network, [w.govCert, unsigned], { now: NOW, checkStatus: w.status })
  t.ok(!noProof.ok && /does not hold/.test(noProof.reason), 'an unsigned certificate is refused')
  t.is(w.status.calls, 0, 'no status list was fetched for a forged chain')
})

test('governance chain - a chain that does not reach a founding DID, a mis-chained link, another network: refused', async (t) => {
  const w = world()
  // the stranger plays founder of her own
  const selfGov = certify(w.stranger, w.network, w.gov, 'Kootenay Governance', ['governance'])
  const selfAnn = certify(w.gov, w.network, w.ann, 'Ann Lending', ['originator'])
  const r = await verifyChain(w.network, [selfGov, selfAnn], { now: NOW, checkStatus: w.status })
  t.ok(!r.ok && /not a founding DID .* does not reach a founder/.test(r.reason), r.ok ? 'ACCEPTED' : r.reason)
  const orphan = await verifyChain(w.network, [w.annCert], { now: NOW, checkStatus: w.status })
  t.ok(!orphan.ok && /not a founding DID/.test(orphan.reason), 'an organization certificate alone does not reach a founder')
  // ann's certificate by gov, behind a governance certificate for someone else
  const gov2 = party(7)
  const gov2Cert = certify(w.founder, w.network, gov2, 'Other Governance', ['governance'])
  const m = await verifyChain(w.network, [gov2Cert, w.annCert], { now: NOW, checkStatus: w.status })
  t.ok(!m.ok && /the chain is broken/.test(m.reason), m.ok ? 'ACCEPTED' : m.reason)
  const reversed = await verifyChain(w.network, [w.annCert, w.govCert], { now: NOW, checkStatus: w.status })
  t.ok(!reversed.ok, `leaf first is refused: ${reversed.ok ? 'ACCEPTED' : reversed.reason}`)
  // a certificate from another network whose founder is the same key
  const other = loadNetwork({ version: 1, name: 'growr-other', founders: [w.founder.did] })
  const otherGov = certify(w.founder, other, w.gov, 'Kootenay Governance', ['governance'])
  const o = await verifyChain(w.network, [otherGov, w.annCert], { now: NOW, checkStatus: w.status })
  t.ok(!o.ok && /is for network "growr-other", not "growr-test"/.test(o.reason), o.ok ? 'ACCEPTED' : o.reason)
  t.is(w.status.calls, 0, 'nothing fetched for any of them')
})

test('governance chain - a role not granted is refused; roles cannot be widened down the chain', async (t) => {
  const w = world()
  const narrowGov = certify(w.founder, w.network, w.gov, 'Originators Board', ['governance'], { mayCertify: ['originator'] })
  const ok = await verifyChain(w.network, [narrowGov, w.annCert], { now: NOW, checkStatus: w.status })
  t.ok(ok.ok, 'the board may certify originators')
  const r = await verifyChain(w.network, [narrowGov, w.issCert], { now: NOW, checkStatus: w.status })
  t.ok(!r.ok && /grants a role its issuer may not: .* may not certify issuer/.test(r.reason), r.ok ? 'ACCEPTED' : r.reason)
  // a governance DID without delegation cannot create governance DIDs
  const sub = certify(w.gov, w.network, w.stranger, 'Sub Governance', ['governance'])
  const s = await verifyChain(w.network, [w.govCert, sub], { now: NOW, checkStatus: w.status })
  t.ok(!s.ok && /may not create governance DIDs/.test(s.reason), s.ok ? 'ACCEPTED' : s.reason)
  // delegation allowed, but the delegate may not get more than its certifier
  const delegating = certify(w.founder, w.network, w.gov, 'Delegating Board', ['governance'], { mayCertify: ['governance', 'originator'] })
  const wider = certify(w.gov, w.network, w.stranger, 'Sub Board', ['governance'], { mayCertify: ['originator', 'issuer'] })
  const wd = await verifyChain(w.network, [delegating, wider], { now: NOW, checkStatus: w.status })
  t.ok(!wd.ok && /cannot be widened/.test(wd.reason), wd.ok ? 'ACCEPTED' : wd.reason)
  // absent mayCertify inherits the certifier's: the sub-board may certify originators only
  const inherits = certify(w.gov, w.network, w.stranger, 'Sub Board', ['governance'])
  const issuerUnder = certify(w.stranger, w.network, w.iss, 'KYC Issuer', ['issuer'])
  const iu = await verifyChain(w.network, [delegating, inherits, issuerUnder], { now: NOW, checkStatus: w.status })
  t.ok(!iu.ok && /may not certify issuer/.test(iu.reason), iu.ok ? 'ACCEPTED' : iu.reason)
  const annUnder = certify(w.stranger, w.network, w.ann, 'Ann Lending', ['originator'])
  const au = await verifyChain(w.network, [delegating, inherits, annUnder], { now: NOW, checkStatus: w.status })
  t.ok(au.ok, au.ok ? 'a delegated board certifies what it inherited' : au.reason)
  t.exception(() => certify(w.gov, w.network, w.ann, 'Mixed', ['governance', 'originator']), /governance certificate names no organization role/)
  t.exception(() => certify(w.gov, w.network, w.ann, 'Ann', ['originator'], { mayCertify: ['issuer'] }), /only a governance certificate/)
})

test('governance chain - a too-long chain and a repeated DID are refused', async (t) => {
  const w = world()
  const links: OrganizationCertificate[] = []
  let by = w.founder
  const boards = [party(10), party(11), party(12), party(13)]
  for (const b of boards) {
    links.push(certify(by, w.network, b, `Board ${links.length}`, ['governance'], { mayCertify: ['governance', 'originator'] }))
    by = b
  }
  links.push(certify(by, w.network, w.ann, 'Ann Lending', ['originator']))
  t.is(links.length, MAX_CHAIN_LENGTH + 1, 'one past the bound')
  const status = statusOf([...w.all, ...boards])
  const r = await verifyChain(w.network, links, { now: NOW, checkStatus: status })
  t.ok(!r.ok && /has 5 certificates; at most 4/.test(r.reason), r.ok ? 'ACCEPTED' : r.reason)
  const four = await verifyChain(w.network, [...links.slice(0, 3), certify(boards[2], w.network, w.ann, 'Ann Lending', ['originator'])], { now: NOW, checkStatus: status })
  t.ok(four.ok, four.ok ? 'four links are accepted' : four.reason)
  const shorter = await verifyChain(w.network, [links[0], links[1], certify(boards[1], w.network, w.ann, 'Ann Lending', ['originator'])], { now: NOW, checkStatus: status, maxLength: 2 })
  t.ok(!shorter.ok && /at most 2/.test(shorter.reason), 'a caller may bound it tighter')
  // a loop: the board certifies the founder back
  const loop = certify(boards[0], w.network, w.founder, 'Founder again', ['originator'])
  const l = await verifyChain(w.network, [links[0], loop], { now: NOW, checkStatus: status })
  t.ok(!l.ok && /already appears in the chain/.test(l.reason), l.ok ? 'ACCEPTED' : l.reason)
})

test('governance chain - hostile input never throws', async (t) => {
  const w = world()
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  const huge = structuredClone(w.annCert) as unknown as Record<string, unknown>
  huge.padding = 'x'.repeat(20_000)
  const inputs: unknown[] = [null, undefined, 42, 'chain', {}, [null], [42], [[]], [cyclic], [huge], [w.govCert, { ...w.annCert, credentialSubject: null }], [w.govCert, { ...w.annCert, credentialStatus: undefined }], [w.govCert, { ...w.annCert, validUntil: undefined }], [w.govCert, { ...w.annCert, type: ['VerifiableCredential'] }]]
  for (const input of inputs) {
    const r = await verifyChain(w.network, input, { now: NOW, checkStatus: w.status })
    t.ok(!r.ok && r.reason.length > 0, `refused: ${r.ok ? 'ACCEPTED' : r.reason.slice(0, 120)}`)
  }
  const noStatus = await verifyChain(w.network, [w.govCert, w.annCert], { now: NOW } as never)
  t.ok(!noStatus.ok && /never accepted unchecked/.test(noStatus.reason), 'no status lookup, no acceptance')
  t.is(w.status.calls, 0, 'nothing was fetched')
})

test('governance certifiedFor - a book trusting "issuers certified by governance G"', async (t) => {
  const w = world()
  const iss = await verifyChain(w.network, [w.govCert, w.issCert], { now: NOW, checkStatus: w.status })
  t.alike(certifiedFor(iss, { role: 'issuer' }), { ok: true, organization: w.iss.did }, 'certified as an issuer')
  t.ok(certifiedFor(iss, { role: 'issuer', governance: w.gov.did }).ok, 'through governance G')
  t.ok(certifiedFor(iss, { role: 'issuer', governance: w.founder.did }).ok, 'and through the founder above it')
  const other = certifiedFor(iss, { role: 'issuer', governance: w.stranger.did })
  t.ok(!other.ok && /not certified through/.test(other.reason), 'not through another governance')
  const notRole = certifiedFor(iss, { role: 'originator' })
  t.ok(!notRole.ok && /not as originator/.test(notRole.reason), 'not for a role it lacks')
  const refused = certifiedFor({ ok: false, reason: 'the chain is empty' }, { role: 'issuer' })
  t.ok(!refused.ok && /not certified: the chain is empty/.test(refused.reason), 'a refused chain certifies nothing')
  t.ok(!certifiedFor(iss, { role: 'admin' as Role }).ok, 'an unknown role is refused')
})

test('governance certificate - issuing refuses what verification would refuse', (t) => {
  const w = world()
  const base = { issuer: w.gov, network: w.network, subject: w.ann.did, name: 'Ann', roles: ['originator'] as Role[], now: NOW, validUntil: isoSeconds(NOW + DAY), credentialStatus: statusEntry(w.gov.list, 99) }
  t.exception(() => issueCertificate({ ...base, validUntil: isoSeconds(NOW - DAY) }), /validUntil must be after validFrom/)
  t.exception(() => issueCertificate({ ...base, validUntil: undefined as never }), /needs validUntil/)
  t.exception(() => issueCertificate({ ...base, credentialStatus: undefined as never }), /status entry/)
  t.exception(() => issueCertificate({ ...base, subject: 'did:web:example.com' }), /did:key/)
  t.exception(() => issueCertificate({ ...base, subject: w.gov.did }), /cannot certify itself/)
  t.exception(() => issueCertificate({ ...base, roles: [] }), /roles/)
  t.exception(() => issueCertificate({ ...base, roles: ['admin' as Role] }), /roles/)
  t.exception(() => issueCertificate({ ...base, issuer: { did: w.gov.did, secretKey: w.ann.secretKey } }), /does not belong/)
  t.alike(parseRoles('originator, issuer,originator'), ['originator', 'issuer'], 'roles parsed once each')
  t.exception(() => parseRoles('originator,admin'), /unknown role admin/)
  const c = issueCertificate(base)
  t.alike(c.type, ['VerifiableCredential', 'OrganizationCertificate'])
  t.is(c.credentialSubject.network.topic, b4a.toString(w.network.topic, 'hex'), 'names the network topic')
  t.is(c.proof.cryptosuite, 'eddsa-jcs-2022')
})
