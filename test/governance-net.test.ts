// Governance over a local HyperDHT testnet: a founder, a governance node, two originators and an
// issuer, each a GrowrNode with its services. Certificates are issued through the contract
// (`network.certify`), their revocation lists are the certifiers' real StatusRegistry lists
// published on the swarm, and other nodes read them (confirmed by the certifier's signed head)
// when they verify chains (`network.verify`).
import test from 'brittle'
import { createNet } from './helpers/net.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers, type Handlers } from '../app/contract.ts'
import { DEFAULT_NETWORK_FILE, defaultNetwork } from '../core/governance/network-in-use.ts'
import { networkTopic } from '../core/governance/network.ts'
import { certifiedFor } from '../core/governance/chain.ts'
import b4a from 'b4a'
import type { GrowrNode } from '../core/node.ts'
import type { DidKey } from '../core/identity/did-key.ts'

test('governance net - chains verify across nodes; revoking an organization, then its governance, breaks them everywhere', { timeout: 120_000 }, async (t) => {
  const net = await createNet(t, 5)
  const started: Services[] = []
  t.teardown(async () => { for (const s of [...started].reverse()) await s.close() }, { order: -Infinity + 1 })
  const api: Handlers[] = []
  for (const node of net.nodes) {
    const s = new Services(node, { announce: true, statusTimeoutMs: 15_000 })
    await s.ready()
    started.push(s)
    api.push(createHandlers(node, s))
  }
  const [founder, gov, ann, oli, kyc] = net.nodes as GrowrNode[]
  const [aFounder, aGov, aAnn, aOli, aKyc] = api
  const network = { version: 1, name: 'growr-testnet', founders: [founder.did] }

  // every node in this test is in the private network by its setting, except the founder, who passes it each time
  for (const a of [aGov, aAnn, aOli, aKyc]) {
    const shown = await a['network.use']({ network })
    t.is(shown.source, 'setting', 'network chosen by setting')
  }
  const shown = await aOli['network.show']({})
  t.is(shown.topic, b4a.toString(networkTopic({ version: 1, name: 'growr-testnet', founders: [founder.did as DidKey] }), 'hex'), 'the topic is the network\'s')

  const govCert = await aFounder['network.certify']({ network, subject: gov.did, name: 'Kootenay Governance', governance: true })
  t.alike(govCert.credentialSubject.roles, ['governance'], 'the founder certified a governance DID')
  const annCert = await aGov['network.certify']({ subject: ann.did, name: 'Ann Lending', roles: ['originator'] })
  const oliCert = await aGov['network.certify']({ subject: oli.did, name: 'Oli Credit Union', roles: 'originator,investor-organization' })
  const kycCert = await aGov['network.certify']({ subject: kyc.did, name: 'KYC Issuer', roles: ['issuer'] })
  t.ok(annCert.credentialStatus.statusListCredential.startsWith('hyper://'), 'revocable on the governance node\'s published list')

  // oli verifies the others' chains: every status list comes over the testnet
  const annChain = await aOli['network.verify']({ chain: [govCert, annCert] })
  t.ok(annChain.ok, annChain.ok ? 'Ann\'s chain verifies at Oli' : annChain.reason)
  const kycChain = await aOli['network.verify']({ chain: [govCert, kycCert] })
  t.ok(kycChain.ok, kycChain.ok ? 'the issuer\'s chain verifies at Oli' : kycChain.reason)
  t.ok(certifiedFor(kycChain, { role: 'issuer', governance: gov.did }).ok, 'a book trusting issuers certified by this governance would accept it')
  const oliChain = await aAnn['network.verify']({ chain: [govCert, oliCert] })
  t.ok(oliChain.ok && oliChain.organization.roles.includes('investor-organization'), oliChain.ok ? 'Oli\'s chain verifies at Ann' : oliChain.reason)
  t.is(started[3].resolver?.listsOpened, 2, 'Oli replicated the founder\'s and the governance node\'s lists from the testnet')
  const sameOnOther = await aKyc['network.verify']({ chain: [govCert, annCert] })
  t.ok(sameOnOther.ok, 'and at the issuer')

  // each organization keeps the chain that certifies it (its ads carry it); not someone else's
  const kept = await aAnn['network.chain.set']({ chain: [govCert, annCert] })
  t.ok(kept.ok, 'Ann keeps her chain')
  t.is((await aAnn['network.chain']({})).chain.length, 2, 'and reads it back')
  await t.exception(aOli['network.chain.set']({ chain: [govCert, annCert] }), /certifies did:key:.*, not this node/)

  // an organization cannot certify; a chain for another network is refused
  const byOrg = await aAnn['network.certify']({ subject: kyc.did, name: 'Shadow Issuer', roles: ['issuer'] })
  const shadow = await aOli['network.verify']({ chain: [govCert, annCert, byOrg] })
  t.ok(!shadow.ok && /organizations certify nobody/.test(shadow.reason), shadow.ok ? 'ACCEPTED' : shadow.reason)
  const otherNet = await aOli['network.verify']({ network: { version: 1, name: 'growr-other', founders: [founder.did] }, chain: [govCert, annCert] })
  t.ok(!otherNet.ok && /not "growr-other"/.test(otherNet.reason), otherNet.ok ? 'ACCEPTED' : otherNet.reason)

  // governance revokes Ann: Oli sees it on the list the governance node republished
  const revoked = await aGov['network.revoke']({ id: annCert.id })
  t.is(revoked.revoked, true, 'recorded as revoked')
  const after = await aOli['network.verify']({ chain: [govCert, annCert] })
  t.ok(!after.ok && /certificate 2 of 2 .* was revoked by/.test(after.reason), after.ok ? 'ACCEPTED' : after.reason)
  const still = await aOli['network.verify']({ chain: [govCert, kycCert] })
  t.ok(still.ok, 'the issuer is still certified')

  // the founder revokes the governance DID: everything it certified falls with it
  await aFounder['network.revoke']({ id: govCert.id })
  const fallen = await aAnn['network.verify']({ chain: [govCert, kycCert] })
  t.ok(!fallen.ok && /certificate 1 of 2 .* was revoked by/.test(fallen.reason), fallen.ok ? 'ACCEPTED' : fallen.reason)
  const issued = await aGov['network.issued']({})
  t.is(issued.length, 3, 'the governance node lists what it issued')
  t.is(issued.filter((c) => c.revoked).length, 1, 'one of them revoked')

  // back to the shipped network: the chain is for another network there
  const back = await aOli['network.use']({ network: null })
  t.is(back.source, 'default', 'the shipped network again')
  t.is(back.topic, defaultNetwork().topicHex, `read from ${DEFAULT_NETWORK_FILE}`)
  const elsewhere = await aOli['network.verify']({ chain: [govCert, kycCert] })
  t.ok(!elsewhere.ok && /is for network "growr-testnet"/.test(elsewhere.reason), 'refused in the shipped network')
})

test('governance net - certify refuses bad input before using a status index; revoke refuses unknown ids', { timeout: 60_000 }, async (t) => {
  const net = await createNet(t, 1)
  const s = new Services(net.nodes[0])
  await s.ready()
  t.teardown(() => s.close(), { order: -Infinity + 1 })
  const a = createHandlers(net.nodes[0], s)
  const other = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'
  const attempts: Array<[Parameters<Handlers['network.certify']>[0], RegExp]> = [
    [{ subject: other, name: 'X', roles: 'admin' }, /unknown role admin/],
    [{ subject: other, name: 'X' }, /at least one role/],
    [{ subject: 'did:web:example.com', name: 'X', roles: 'issuer' }, /did:key/],
    [{ subject: other, name: 'X', roles: 'issuer', validUntil: '2020-01-01T00:00:00Z' }, /after validFrom/],
    [{ subject: other, name: 'X', roles: 'issuer', mayCertify: 'originator' }, /--may-certify is for governance/],
    [{ subject: other, name: 'X', governance: true, roles: 'originator' }, /names no organization role/],
    [{ subject: other, name: 'X', roles: 'issuer', network: { version: 9, name: 'x', founders: [] } }, /version 9 is not supported/]
  ]
  for (const [args, why] of attempts) {
    try {
      await a['network.certify'](args)
      t.fail(`certified: ${JSON.stringify(args)}`)
    } catch (err) {
      t.ok(why.test((err as Error).message), (err as Error).message)
    }
  }
  t.is((await a['network.issued']({})).length, 0, 'nothing issued')
  const used = (s.registry as unknown as { state: { used: number[] } }).state.used.length
  t.is(used, 0, 'no status index was used up')
  await t.exception(a['network.revoke']({ id: 'urn:uuid:nope' }), /NOT_FOUND/)
  await t.exception(a['network.use']({ network: { version: 1, name: 'x', founders: [other], extra: 1 } }), /additional properties/)
})
