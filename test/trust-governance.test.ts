/**
 * A book trusting "KYC issuers certified through governance G" instead of listing each issuer.
 *
 * Eight real nodes on a local HyperDHT testnet, all in one private network (by their setting):
 * a founder certifies two governance DIDs G and G2; G certifies issuer I, G2 certifies issuer J;
 * U runs an issuer with no certificate. Each organization's chain travels in its signed capability
 * ad; the originator's verification service finds it in its ads directory and verifies it when a
 * credential is presented, revocation read from the certifiers' status lists over the testnet.
 * The borrower gets real credentials from I, J and U over peer RPC and presents them.
 */
import test from 'brittle'
import b4a from 'b4a'
import { createNet } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { converge } from './helpers/book.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { NETWORK_SETTING } from '../core/governance/network-in-use.ts'
import { criteriaToRules } from '../core/services/criteria.ts'
import { createPresentation } from '../core/credentials/vp.ts'
import type { EligibilityResult } from '../core/services/verification.ts'
import type { VerifiableCredential } from '../core/credentials/vc.ts'
import type { GrowrNode } from '../core/node.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import type { OpInput } from '../books/ops/types.ts'
import type Hyperbee from 'hyperbee'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { checkStatusAgainst, encodeStatusList, statusEntry, statusListCredential } from '../core/credentials/bitstring-status-list.ts'
import { isoSeconds, type StatusCheck } from '../core/credentials/vc.ts'
import { loadNetwork, type Network } from '../core/governance/network.ts'
import { issueCertificate, type OrganizationCertificate, type Role } from '../core/governance/certificate.ts'
import { admitByGovernance, type ChainSource } from '../core/governance/issuer-trust.ts'
import { until as waitUntil } from './helpers/until.ts'

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> => await waitUntil(what, check, ms, 200)

test('trust governance - a book trusting KYC issuers certified by G admits them by their chain, refuses others with reasons, follows revocation; only the originator sets the rule', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 8)
  const [founder, gov, gov2, orig, issuerI, issuerJ, issuerU, borrower] = net.nodes as GrowrNode[]
  const definition = { version: 1, name: 'trust-governance-test', founders: [founder.did] }
  for (const n of net.nodes) await (n.local as Hyperbee).put(NETWORK_SETTING, definition)
  // U will later advertise a chain that is not its own (it can: an ad's chain is opaque to its signer's node)
  let uChain: Array<Record<string, unknown>> = []
  const services = net.nodes.map((n) => new Services(n, { announce: n !== borrower, statusTimeoutMs: 10_000, ads: n === issuerU ? { chain: async () => uChain } : undefined }))
  t.teardown(async () => { for (const s of [...services].reverse()) await s.close() }, { order: -Infinity + 1 })
  for (const s of services) await s.ready()
  const [aF, aG, aG2, aO, aI, aJ, aU, aB] = net.nodes.map((n, i) => createHandlers(n, services[i]))
  const sO = services[3]
  const sB = services[7]

  // founder -> G -> I, founder -> G2 -> J; each organization keeps its chain, so its ad carries it
  const gCert = await aF['network.certify']({ subject: gov.did, name: 'Kootenay Governance', governance: true })
  const g2Cert = await aF['network.certify']({ subject: gov2.did, name: 'Other Governance', governance: true })
  const iCert = await aG['network.certify']({ subject: issuerI.did, name: 'Kootenay KYC', roles: ['issuer'] })
  const jCert = await aG2['network.certify']({ subject: issuerJ.did, name: 'Elsewhere KYC', roles: ['issuer'] })
  t.ok((await aI['network.chain.set']({ chain: [gCert, iCert] })).ok, 'I keeps its chain')
  t.ok((await aJ['network.chain.set']({ chain: [g2Cert, jCert] })).ok, 'J keeps its chain')
  const directory = sO.ads!.directory
  await until('the originator holds I\'s, J\'s and U\'s ads, with their chains', () =>
    directory.get(issuerI.did)?.ad.chain.length === 2 && directory.get(issuerJ.did)?.ad.chain.length === 2 && directory.get(issuerU.did) !== null)

  // the book trusts KYC issuers certified through G, and lists no issuer
  const book = await orig.createBook('Governed lending')
  await aO['trust.set']({ book: book.topic, kind: 'governance', did: gov.did, type: 'KycCredential' })
  const listed = await aO['trust.list']({ book: book.topic })
  t.alike(listed.governance, { KycCredential: [gov.did] }, 'trust.list shows the rule')
  t.alike(listed.issuers, {}, 'and no issuer listed by name')
  const eligibility = criteriaToRules([{ fact: 'kycStatus', operator: 'equal', value: 'verified' }], 'EUR')
  const { id: projectId } = await aO['project.create']({ book: book.topic, terms: terms(Date.now(), { eligibility }) })
  await aO['project.transition']({ book: book.topic, project: projectId, action: 'activate' })
  const bb = await borrower.acceptInvite((await orig.createInvite(book.topic, 'borrower')).code)

  // I's credential admits her, and her application goes through, without I ever being listed
  await aI['vc.enroll']({ subject: borrower.did, type: 'KycCredential', claims: { kycStatus: 'verified' } })
  await aI['vc.enroll']({ subject: borrower.did, type: 'IncomeCredential', claims: { averageMonthlyIncome: 90_000, currency: 'EUR' } })
  await aB['vc.request']({ issuer: issuerI.did, type: 'KycCredential' })
  const applied = await aB['loan.apply']({ book: bb.topic, project: projectId, amount: 50_000, months: 6, purpose: 'seeds' })
  await book.until(async () => (await book.view.get('loans', applied.id)) !== null, 20_000, 'loan replicated')
  t.is((await book.view.get('loans', applied.id))?.eligibility?.eligible, true, 'the application carries an eligible attestation')

  // the rest is presented by hand, one presentation per case, over the peers' connection
  const wallet = () => sB.wallet!.list() as VerifiableCredential[]
  const issuedBy = (did: string, type = 'KycCredential') => wallet().filter((c) => c.issuer === did && c.type.includes(type))
  const bookHex = b4a.toString(book.key, 'hex')
  const present = async (credentials: VerifiableCredential[]): Promise<EligibilityResult> => {
    const rpc = sB.rpc!
    const { challenge, domain } = await rpc.request(orig.did as DidKey, 'vp/challenge', { book: bookHex, projectId }) as { challenge: string; domain: string }
    const vp = createPresentation({ holder: borrower.identity as Identity, credentials, challenge, domain, now: Date.now() })
    return await rpc.request(orig.did as DidKey, 'vp/verify', { book: bookHex, projectId, presentation: vp }, { timeoutMs: 30_000 }) as EligibilityResult
  }
  const refusal = (r: EligibilityResult) => r.problems.filter((p) => p.code === 'UNTRUSTED_ISSUER').map((p) => p.message).join(' | ')

  const ok = await present(issuedBy(issuerI.did))
  t.is(ok.eligible, true, 'I\'s KYC credential is accepted')
  t.is(ok.issuers.length, 1, 'one issuer admitted')
  const admitted = ok.issuers[0]
  t.is(admitted.rule, 'governance', 'by the governance rule')
  t.ok(admitted.rule === 'governance' && admitted.governance === gov.did, 'through G')
  t.alike(admitted.rule === 'governance' ? admitted.path : null, [founder.did, gov.did, issuerI.did], 'via the chain founder -> G -> I')

  // the rule is per type: I's income credential is not covered by it
  await aB['vc.request']({ issuer: issuerI.did, type: 'IncomeCredential' })
  const typed = await present([...issuedBy(issuerI.did), ...issuedBy(issuerI.did, 'IncomeCredential')])
  t.is(typed.eligible, true, 'still eligible on KYC')
  t.ok(/not trusted for IncomeCredential/.test(refusal(typed)), `the income credential is refused: ${refusal(typed)}`)

  // J is a certified issuer too, but through G2
  await aJ['vc.enroll']({ subject: borrower.did, type: 'KycCredential', claims: { kycStatus: 'verified' } })
  await aB['vc.request']({ issuer: issuerJ.did, type: 'KycCredential' })
  const viaG2 = await present(issuedBy(issuerJ.did))
  t.is(viaG2.eligible, false, 'J\'s credential does not count')
  t.ok(viaG2.problems.some((p) => p.code === 'UNTRUSTED_ISSUER'), 'refused as an untrusted issuer')
  t.ok(refusal(viaG2).includes(`certified through ${founder.did} -> ${gov2.did}, not through governance ${gov.did}`), `the reason names the other governance: ${refusal(viaG2)}`)

  // U issues with no certificate at all: no chain is known for it
  await aU['vc.enroll']({ subject: borrower.did, type: 'KycCredential', claims: { kycStatus: 'verified' } })
  await aB['vc.request']({ issuer: issuerU.did, type: 'KycCredential' })
  const uncertified = await present(issuedBy(issuerU.did))
  t.is(uncertified.eligible, false, 'an uncertified issuer\'s credential does not count')
  t.ok(refusal(uncertified).includes(`no certificate chain known for issuer ${issuerU.did}`), refusal(uncertified))

  // U advertises I's chain as its own: the chain holds, but it certifies I, not U
  uChain = [gCert, iCert] as unknown as Array<Record<string, unknown>>
  await services[6].ads!.publish({ force: true })
  await until('the originator holds U\'s ad with the borrowed chain', () => directory.get(issuerU.did)?.ad.chain.length === 2)
  const borrowed = await present(issuedBy(issuerU.did))
  t.is(borrowed.eligible, false, 'a borrowed chain admits nobody')
  t.ok(refusal(borrowed).includes(`certifies ${issuerI.did}, not ${issuerU.did}`), refusal(borrowed))

  // listing J by name still works beside the rule, and the result says which rule admitted whom
  await aO['trust.set']({ book: book.topic, kind: 'issuer', did: issuerJ.did, type: 'KycCredential' })
  const both = await present([...issuedBy(issuerI.did), ...issuedBy(issuerJ.did)])
  t.is(both.eligible, true, 'I and J both accepted')
  t.alike(both.issuers.map((a) => [a.issuer, a.rule]).sort(), [[issuerI.did, 'governance'], [issuerJ.did, 'listed']].sort(), 'I by the governance rule, J as listed')

  // only the originator may set the rule: the borrower's op is refused by every peer's apply
  const [byBorrower] = await bb.act([{ type: 'trust/governance', credentialType: 'KycCredential', governance: gov2.did as DidKey, trusted: true }])
  t.is(byBorrower.audit.status, 'rejected', 'a borrower\'s trust/governance is rejected')
  t.is(byBorrower.audit.reason, 'a borrower may not trust/governance', byBorrower.audit.reason ?? '')
  // malformed rules are refused with the failing field
  const malformed: Array<[OpInput, RegExp]> = [
    [{ type: 'trust/governance', credentialType: 'KycCredential', governance: 'did:web:governance.example' as DidKey, trusted: true }, /\/governance must match pattern/],
    [{ type: 'trust/governance', credentialType: '' as never, governance: gov2.did as DidKey, trusted: true }, /\/credentialType must be equal to one of the allowed values/],
    [{ type: 'trust/governance', credentialType: 'KycCredential', governance: gov2.did as DidKey } as never, /must have required property 'trusted'/]
  ]
  const refused = await book.act(malformed.map(([op]) => op))
  for (const [i, r] of refused.entries()) {
    t.is(r.audit.status, 'rejected', `malformed rule ${i + 1} rejected`)
    t.ok(malformed[i][1].test(r.audit.reason ?? ''), r.audit.reason ?? '')
  }
  await t.exception(aO['trust.set']({ book: book.topic, kind: 'governance', did: 'did:web:governance.example', type: 'KycCredential' }), /BAD_ARGUMENT|did:key/, 'the contract refuses a governance that is not a did:key')
  await t.exception(aO['trust.set']({ book: book.topic, kind: 'governance', did: gov2.did }), /credential type/, 'and a rule with no type')
  const hashes = await converge([book, bb])
  t.is(hashes[1], hashes[0], 'the originator\'s and the borrower\'s views are identical')
  t.alike((await aB['trust.list']({ book: bb.topic })).governance, { KycCredential: [gov.did] }, 'and hold the originator\'s rule only')

  // dropping the rule: I is no longer trusted
  await aO['trust.set']({ book: book.topic, kind: 'governance', did: gov.did, type: 'KycCredential', trusted: false })
  const dropped = await present(issuedBy(issuerI.did))
  t.is(dropped.eligible, false, 'without the rule I\'s credential does not count')
  t.ok(/is not trusted for KycCredential by this book/.test(refusal(dropped)), refusal(dropped))
  await aO['trust.set']({ book: book.topic, kind: 'governance', did: gov.did, type: 'KycCredential' })

  // G revokes I's certificate: the next presentation is refused, the chain checked anew
  await aG['network.revoke']({ id: iCert.id })
  const afterRevocation = await present(issuedBy(issuerI.did))
  t.is(afterRevocation.eligible, false, 'once G revoked I, I\'s credential does not count')
  t.ok(/certificate 2 of 2 .* was revoked by/.test(refusal(afterRevocation)), refusal(afterRevocation))
})

// Offline, the same rule over real signed certificates and real signed status lists, for the
// cases a network test would make slow: sources that lie or fail, expiry, forgery, wrong role.
const NOW = Date.UTC(2026, 5, 1)
const DAY = 24 * 3600 * 1000
interface Party { did: DidKey; secretKey: Uint8Array; list: string; revoked: Set<number>; next: number }

function party (n: number): Party {
  const kp = generateKeyPair(new Uint8Array(32).fill(n))
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey, list: `hyper://list-of-${n}/revocation`, revoked: new Set(), next: 0 }
}

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

function certify (by: Party, network: Network, subject: Party, name: string, roles: Role[], validUntil = isoSeconds(NOW + 365 * DAY)): OrganizationCertificate {
  return issueCertificate({ issuer: by, network, subject: subject.did, name, roles, now: NOW - DAY, validUntil, credentialStatus: statusEntry(by.list, by.next++) })
}

test('trust governance - admitByGovernance offline: lying and failing sources, wrong role, expiry, forgery, revocation; never throws', async (t) => {
  const [founder, g, g2, i, o, short] = [1, 2, 3, 4, 5, 6].map(party)
  const network = loadNetwork({ version: 1, name: 'trust-governance-offline', founders: [founder.did] })
  const other = loadNetwork({ version: 1, name: 'another-network', founders: [founder.did] })
  const gCert = certify(founder, network, g, 'G', ['governance'])
  const g2Cert = certify(founder, network, g2, 'G2', ['governance'])
  const chainI = [gCert, certify(g, network, i, 'I', ['issuer'])]
  const chainO = [gCert, certify(g, network, o, 'O', ['originator'])]
  const chainShort = [gCert, certify(g, network, short, 'Short-lived', ['issuer'], isoSeconds(NOW + DAY))]
  const status = statusOf([founder, g, g2])
  const opts = (sources: ChainSource[], more: { now?: number; network?: Network } = {}) => ({ network: more.network ?? network, sources, now: more.now ?? NOW, checkStatus: status })
  const reasonOf = (r: Awaited<ReturnType<typeof admitByGovernance>>) => r.ok ? 'ADMITTED' : r.reason

  const admitted = await admitByGovernance(i.did, [g2.did, g.did], opts([() => chainI]))
  t.ok(admitted.ok && admitted.governance === g.did, 'admitted through the second rule, G')
  t.alike(admitted.ok ? admitted.path : null, [founder.did, g.did, i.did], 'path founder -> G -> I')
  t.ok((await admitByGovernance(i.did, [founder.did], opts([() => chainI]))).ok, 'a rule may name the founder: it certified the chain too')

  // sources that throw, lie or answer late: the first real chain counts
  const noisy: ChainSource[] = [() => { throw new Error('directory closed') }, () => 'not a chain', () => [], async () => chainI]
  t.ok((await admitByGovernance(i.did, [g.did], opts(noisy))).ok, 'a failing or lying source does not stop the next')
  t.is(reasonOf(await admitByGovernance(i.did, [g.did], opts([]))), `no certificate chain known for issuer ${i.did}`, 'no source: no chain known')
  t.is(reasonOf(await admitByGovernance(i.did, [], opts([() => chainI]))), `no governance rule names issuer ${i.did}'s credential type`, 'no rule: nothing to admit by')

  // wrong party, wrong role, wrong governance, wrong network
  t.ok(/certifies did:key:\S+, not /.test(reasonOf(await admitByGovernance(o.did, [g.did], opts([() => chainI])))), 'a chain certifying another DID admits nobody')
  t.ok(/is certified as originator, not as issuer/.test(reasonOf(await admitByGovernance(o.did, [g.did], opts([() => chainO])))), 'an originator is not an issuer')
  t.ok(reasonOf(await admitByGovernance(i.did, [g2.did], opts([() => chainI]))).includes(`is certified through ${founder.did} -> ${g.did}, not through governance ${g2.did}`), 'certified, but through another governance')
  t.ok(/is for network "trust-governance-offline", not "another-network"/.test(reasonOf(await admitByGovernance(i.did, [g.did], opts([() => chainI], { network: other })))), 'a chain of another network')

  // judged now: an expired link breaks the chain
  t.ok((await admitByGovernance(short.did, [g.did], opts([() => chainShort]))).ok, 'in force today')
  t.ok(/expired/.test(reasonOf(await admitByGovernance(short.did, [g.did], opts([() => chainShort], { now: NOW + 2 * DAY })))), 'refused once its certificate expired')

  // a forged certificate is refused before any status list is read
  const forged = structuredClone(chainI)
  forged[1].credentialSubject.name = 'I (renamed)'
  const before = status.calls
  t.ok(/does not hold/.test(reasonOf(await admitByGovernance(i.did, [g.did], opts([() => forged])))), 'a certificate changed after signing is refused')
  t.is(status.calls, before, 'and no status list was read for it')
  t.ok((await admitByGovernance(i.did, [g.did], opts([() => forged, () => chainI]))).ok, 'a genuine chain from another source still counts')

  // revocation: the founder revokes G; everything G certified falls
  founder.revoked.add(Number(gCert.credentialStatus.statusListIndex))
  t.ok(/certificate 1 of 2 .* was revoked by/.test(reasonOf(await admitByGovernance(i.did, [g.did], opts([() => chainI])))), 'revoking G breaks I\'s chain')
  t.ok(g2Cert.credentialSubject.id === g2.did, 'G2 itself untouched')
  const broken = await admitByGovernance(i.did, [g.did], { ...opts([() => chainI]), checkStatus: async () => { throw new Error('list unreachable') } })
  t.ok(/revocation status cannot be checked: list unreachable/.test(reasonOf(broken)), 'a status lookup that fails refuses, and does not throw')
})
