import test from 'brittle'
import b4a from 'b4a'
import Corestore from 'corestore'
import Hyperswarm from 'hyperswarm'
import { createNet, tmpDir } from './helpers/net.ts'
import { terms } from './helpers/fixtures.ts'
import { Services } from '../core/services/services.ts'
import { createHandlers } from '../app/contract.ts'
import { criteriaToRules } from '../core/services/criteria.ts'
import { parseListUrl } from '../core/services/status-registry.ts'
import { createPresentation } from '../core/credentials/vp.ts'
import type { VerifiableCredential } from '../core/credentials/vc.ts'
import type { EligibilityResult } from '../core/services/verification.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import type { DidKey } from '../core/identity/did-key.ts'
import type { Core } from 'corestore'

const TIMEOUT_MS = 3000

test('status - a holder serving her copy of the list from before the revocation is refused: stale with the issuer offline, revoked once it is back', { timeout: 180_000 }, async (t) => {
  const net = await createNet(t, 3)
  const [verifier, holder, issuer] = net.nodes
  const started: Services[] = []
  const start = async (node: typeof verifier, announce: boolean) => {
    const s = new Services(node, { announce, statusTimeoutMs: TIMEOUT_MS })
    await s.ready()
    started.push(s)
    return s
  }
  t.teardown(async () => { for (const s of [...started].reverse()) await s.close() }, { order: -Infinity + 1 })
  const sv = await start(verifier, true)
  const sh = await start(holder, false)
  let si = await start(issuer, true)

  const api = createHandlers(verifier, sv)
  const book = await verifier.createBook('Freshness')
  await api['trust.set']({ book: book.topic, kind: 'issuer', did: issuer.did, type: 'KycCredential' })
  const rules = criteriaToRules([{ fact: 'kycStatus', operator: 'equal', value: 'verified' }], 'EUR')
  const { id: project } = await api['project.create']({ book: book.topic, terms: terms(Date.now(), { eligibility: rules }) })
  await api['project.transition']({ book: book.topic, project, action: 'activate' })
  const bookHex = b4a.toString(book.key, 'hex')

  await createHandlers(issuer, si)['vc.enroll']({ subject: holder.did, type: 'KycCredential', claims: { kycStatus: 'verified' } })
  const kyc = await createHandlers(holder, sh)['vc.request']({ issuer: issuer.did, type: 'KycCredential' }) as VerifiableCredential
  const listKey = parseListUrl(kyc.credentialStatus!.statusListCredential)

  // her second device replicates the issuer's list while the credential stands
  const store = new Corestore(tmpDir(t))
  t.teardown(() => store.close(), { order: -Infinity + 2 })
  const copy = store.get({ key: listKey })
  await copy.ready()
  const fetchSwarm = new Hyperswarm({ dht: net.testnet.createNode({ host: '127.0.0.1' }) })
  fetchSwarm.on('connection', (c: unknown) => store.replicate(c))
  fetchSwarm.join(copy.discoveryKey, { server: false, client: true })
  const issuerLength = si.registry!.bee.core.length
  const deadline = Date.now() + 30_000
  while (copy.length < issuerLength && Date.now() < deadline) {
    await copy.update({ wait: true })
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await (copy as Core & { download (r: { start: number; end: number }): { done (): Promise<void> } }).download({ start: 0, end: copy.length }).done()
  await fetchSwarm.destroy()
  const staleLength = copy.length
  t.ok(staleLength >= 1, `her copy holds ${staleLength} blocks`)

  await createHandlers(issuer, si)['vc.revoke']({ id: kyc.id })
  const revokedLength = si.registry!.bee.core.length
  t.ok(revokedLength > staleLength, 'the revocation grew the issuer\'s list')

  // she serves the old copy to everyone but the issuer (so it never updates)
  const issuerKey = (issuer.swarm as unknown as { keyPair: { publicKey: Uint8Array } }).keyPair.publicKey
  const serveSwarm = new Hyperswarm({ dht: net.testnet.createNode({ host: '127.0.0.1' }), firewall: (pk: Uint8Array) => b4a.equals(pk, issuerKey) } as never)
  t.teardown(() => serveSwarm.destroy(), { order: -Infinity + 2 })
  serveSwarm.on('connection', (c: unknown) => store.replicate(c))
  await serveSwarm.join(copy.discoveryKey, { server: true, client: false }).flushed()

  const present = async (): Promise<EligibilityResult> => {
    await sh.rpc!.connect(verifier.did as DidKey, { timeoutMs: 20_000 })
    const c = await sh.rpc!.request(verifier.did as DidKey, 'vp/challenge', { book: bookHex, projectId: project }) as { challenge: string; domain: string }
    const vp = createPresentation({ holder: holder.identity as Identity, credentials: [kyc], challenge: c.challenge, domain: c.domain, now: Date.now() })
    return await sh.rpc!.request(verifier.did as DidKey, 'vp/verify', { book: bookHex, projectId: project, presentation: vp }, { timeoutMs: 30_000 }) as EligibilityResult
  }

  // the issuer goes offline: only her stale copy is on the network
  await si.close()
  await net.stop(2)
  const offline = await present()
  t.is(offline.eligible, false, 'never accepted on a copy nobody can show is current')
  t.is(offline.problems[0]?.code, 'STATUS_STALE', offline.reasons.join(' | '))
  t.ok(/at most 300000 ms old/.test(offline.problems[0]?.message ?? ''), 'the refusal states the freshness required')
  t.is(offline.status?.maxAgeMs, 300_000, 'and so does the result')
  t.is(offline.attestation?.credentialSubject.eligible, false, 'the attestation records a refusal')
  const seen = verifier.store!.get({ key: listKey })
  await seen.ready()
  t.is(seen.length, staleLength, 'the verifier did get her stale copy (it was available), and did not judge on it')

  // the issuer is back: the verifier asks it, replicates past her copy and sees the revocation
  const issuer2 = await net.restart(2)
  si = await start(issuer2, true)
  const online = await present()
  t.is(online.eligible, false, 'never accepted with the issuer online')
  t.is(online.problems[0]?.code, 'REVOKED', online.reasons.join(' | '))
  const list = online.status?.lists[0]
  t.is(list?.source, 'issuer', 'judged on the length the issuer itself signed just now')
  t.is(list?.length, revokedLength, 'which is the list after the revocation')
  t.ok(online.status !== null && online.status.checkedAt <= Date.now(), 'the result says when status was checked')
})
