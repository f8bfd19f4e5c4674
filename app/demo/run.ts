/**
 * npm run demo: the whole lending lifecycle between separate OS processes.
 * A private HyperDHT on loopback, then an originator, a borrower, an investor and a credential
 * issuer node, each `growr start` with its own storage; every step below is the `growr` CLI
 * command a person would type, run against the node of whoever acts. The borrower proves her
 * eligibility with credentials from the issuer, checked by the originator's verification
 * service; her repayment record comes back to her as a credential. Ends with
 * `demo: converged <view-hash> on 3 peers` (exit 0) only if all three views are identical.
 * Before that, the originator publishes its profile and the project's NIP-99 listing to a Nostr
 * relay run in this process (app/demo/nostr-relay.ts) and prints the listing's naddr; the investor
 * reads it back, verified against the book's recorded key.
 * `npm run demo -- --rail bitcoin` runs the lifecycle on a bcoin regtest chain instead (app/demo/bitcoin.ts),
 * `npm run demo -- --rail rootstock` on an anvil EVM chain configured like Rootstock regtest (app/demo/rootstock.ts).
 */
import fs from 'node:fs'
import path from 'node:path'
import { DemoCluster, runDemo, step, until } from './cluster.ts'
import { startLocalRelay } from './nostr-relay.ts'

type Role = 'originator' | 'borrower' | 'investor' | 'issuer'
const ROLES: Role[] = ['originator', 'borrower', 'investor']
const PEERS: Role[] = [...ROLES, 'issuer']

async function main (cluster: DemoCluster<Role>): Promise<string> {
  const growr = cluster.growr.bind(cluster)
  console.log(`testnet on ${await cluster.startTestnet()}`)

  const dids: Record<string, string> = {}
  for (const who of PEERS) dids[who] = (await growr(who, ['init'])).did
  for (const who of PEERS) {
    // the issuer announces its DID on the DHT: holders reach its issuing service by DID alone
    await cluster.start(who, who === 'issuer' ? ['--announce'] : [])
    console.log(`${who} node ${dids[who]} started`)
  }

  step('1. originator creates a book, trusts a credential issuer, and publishes a project with eligibility criteria')
  const { topic } = await growr('originator', ['book', 'create', '--name', 'Kootenay Lending Circle'])
  console.log(`  book topic key ${topic}`)
  for (const type of ['KycCredential', 'IncomeCredential']) await growr('originator', ['trust', 'issuer', '--book', topic, '--type', type, '--did', dids.issuer])
  const criteria = path.join(cluster.root, 'criteria.json')
  fs.writeFileSync(criteria, JSON.stringify([
    { fact: 'kycStatus', operator: 'equal', value: 'verified' },
    { fact: 'averageMonthlyIncome', operator: 'greaterThanInclusive', value: 150000 }
  ]))
  const { id: project } = await growr('originator', ['project', 'create', '--book', topic, '--name', 'Greenhouse growers 2027', '--amount', '500000', '--currency', 'EUR',
    '--loan-min', '50000', '--loan-max', '150000', '--min-months', '3', '--max-months', '12', '--rate-bps', '1200', '--method', 'declining-balance', '--fee', '1000', '--grace-days', '10',
    '--criteria', criteria])
  await growr('originator', ['project', 'activate', '--book', topic, '--project', project])
  console.log(`  project ${project} active: 5 000.00 EUR, loans 500.00-1 500.00 EUR, 12% declining balance`)
  console.log('  criteria: KYC verified, average monthly income at least 1 500.00 EUR')

  step('2. originator invites a borrower and an investor; they join by invite')
  const inviteB = await growr('originator', ['invite', 'create', '--book', topic, '--role', 'borrower'])
  const inviteI = await growr('originator', ['invite', 'create', '--book', topic, '--role', 'investor'])
  await Promise.all([growr('borrower', ['invite', 'accept', inviteB.code]), growr('investor', ['invite', 'accept', inviteI.code])])
  console.log('  borrower and investor are writers of the book')

  step('3. investor funds the project; originator confirms the transfer')
  const { id: funding } = await growr('investor', ['funding', 'commit', '--book', topic, '--project', project, '--amount', '300000'])
  const fundPay = await growr('investor', ['payment', 'record', '--book', topic, '--kind', 'funding', '--ref', funding, '--reference', 'SEPA INV-001'])
  await growr('originator', ['payment', 'confirm', '--book', topic, '--payment', fundPay.id])
  console.log(`  funding ${funding} of ${fundPay.amount} confirmed`)

  step('4. the issuer has checked the borrower; she requests her credentials over the network and checks her eligibility')
  await growr('issuer', ['vc', 'enroll', '--subject', dids.borrower, '--type', 'KycCredential', '--claims', '{"kycStatus":"verified"}'])
  await growr('issuer', ['vc', 'enroll', '--subject', dids.borrower, '--type', 'IncomeCredential', '--claims', '{"averageMonthlyIncome":210000,"currency":"EUR"}'])
  for (const type of ['KycCredential', 'IncomeCredential']) await growr('borrower', ['vc', 'request', '--issuer', dids.issuer, '--type', type])
  const held = await growr('borrower', ['vc', 'list'])
  console.log(`  her SSCR holds ${held.map((c: { type: string }) => c.type).join(', ')} (encrypted at rest)`)
  const check = await growr('borrower', ['eligibility', '--book', topic, '--project', project])
  if (!check.eligible) throw new Error('borrower should be eligible: ' + check.reasons.join(' '))
  console.log(`  verifier ${check.verifier}: eligible (${check.conditions.filter((c: { passed: boolean }) => c.passed).length} of ${check.conditions.length} criteria met)`)

  step('5. borrower applies with a signed eligibility attestation; originator approves and disburses; borrower confirms receipt')
  const { id: loan } = await growr('borrower', ['loan', 'apply', '--book', topic, '--project', project, '--amount', '100000', '--months', '6', '--purpose', 'seedlings and irrigation'])
  await growr('originator', ['loan', 'approve', '--book', topic, '--loan', loan])
  const disb = await growr('originator', ['payment', 'record', '--book', topic, '--kind', 'disbursement', '--ref', loan, '--reference', 'SEPA DISB-001'])
  await growr('borrower', ['payment', 'confirm', '--book', topic, '--payment', disb.id])
  const approved = await growr('borrower', ['loan', 'show', '--book', topic, '--loan', loan])
  console.log(`  the loan carries the verifier's attestation, not her claims: eligible=${approved.eligibility.eligible}, verifier ${approved.eligibility.verifier}`)
  console.log(`  loan ${loan} ${approved.status}: ${disb.amount} paid out (1 000.00 EUR less the 10.00 fee); schedule:`)
  for (const i of approved.schedule) console.log(`    ${i.n}. ${i.dueDate}  principal ${i.principal}  interest ${i.interest}  total ${i.total}`)

  step('6. borrower repays every instalment; originator confirms each')
  for (const _ of approved.schedule) {
    const r = await growr('borrower', ['loan', 'repay', '--book', topic, '--loan', loan])
    await growr('originator', ['payment', 'confirm', '--book', topic, '--payment', r.id])
    console.log(`  instalment ${r.instalment}: ${r.amount} repaid and confirmed`)
  }
  const repaid = await growr('originator', ['loan', 'show', '--book', topic, '--loan', loan])
  if (repaid.status !== 'repaid') throw new Error(`loan is ${repaid.status}, not repaid`)
  console.log(`  loan ${loan} repaid, outstanding ${repaid.outstanding}`)
  let history: Array<{ type: string; issuer: string }> = []
  for (let i = 0; i < 40 && history.length === 0; i++) {
    history = (await growr('borrower', ['vc', 'list'])).filter((c: { type: string }) => c.type === 'RepaymentHistoryCredential')
    if (history.length === 0) await new Promise((resolve) => setTimeout(resolve, 250))
  }
  if (history.length === 0) throw new Error('the borrower never received her repayment history credential')
  console.log(`  her SSCR now holds a RepaymentHistoryCredential from the originator ${history[0].issuer}`)

  step('7. originator distributes the repayments to the investor, who confirms')
  const dists = await growr('originator', ['distribute', '--book', topic])
  for (const d of dists) {
    await growr('investor', ['payment', 'confirm', '--book', topic, '--payment', d.id])
    console.log(`  ${d.amount} distributed to funding ${d.funding} and confirmed`)
  }

  step('8. the borrower keeps a receipt of her last repayment, which anyone can check offline with the book key')
  const payments = await cluster.call('borrower', 'payment.list', { book: topic }) as Array<{ paymentId: string; kind: string; status: string; recordedAt: number }>
  const last = payments.filter((p) => p.kind === 'repayment' && p.status === 'confirmed').sort((a, b) => b.recordedAt - a.recordedAt)[0]
  if (!last) throw new Error('no confirmed repayment to export')
  const file = path.join(cluster.root, 'last-repayment.receipt')
  await growr('borrower', ['receipt', 'export', '--book', topic, '--payment', last.paymentId, '--out', file])
  console.log(`  receipt written to ${file}`)
  const checked = await growr('investor', ['receipt', 'verify', file, '--book', topic])
  if (!checked.ok) throw new Error(`the receipt does not verify: ${checked.reason}`)
  console.log(`  growr receipt verify: holds, ${checked.payment.amount} ${checked.payment.currency} from the borrower, confirmed by ${checked.confirmedBy === checked.originator ? 'the originator' : checked.confirmedBy}`)

  step('9. the originator publishes its profile and the project\'s listing on Nostr (a local relay), with milestone notes')
  const relay = cluster.own(await startLocalRelay())
  await growr('originator', ['nostr', 'profile', '--name', 'Kootenay Lending Circle', '--about', 'Community loans for growers in the Kootenays', '--website', 'https://example.org', '--location', 'Kootenay, BC'])
  await growr('originator', ['nostr', 'relays', '--set', relay.url])
  const published = await growr('originator', ['nostr', 'publish', '--book', topic, '--wait', '20000'])
  const listing = published.events.find((e: { what: string; project: string | null }) => e.what === 'listing' && e.project === project)
  if (!listing || listing.relays[relay.url]?.status !== 'sent') throw new Error('the project\'s listing did not reach the relay: ' + JSON.stringify(published.relays))
  const onRelay = await relay.query({ kinds: [30402], authors: [published.pubkey] })
  if (onRelay.length !== 1) throw new Error(`the relay holds ${onRelay.length} listings of the originator, not 1`)
  console.log(`  organization ${published.npub}`)
  console.log(`  listing ${listing.naddr}`)
  for (const e of published.events.filter((x: { what: string }) => x.what === 'note')) console.log(`  milestone ${e.milestone}: ${e.nevent}`)
  await growr('investor', ['nostr', 'relays', '--set', relay.url])
  let seenByInvestor: { verified: boolean; title: string; summary: string; reason: string } | undefined
  // the listing comes from the relay, the key record that vouches for it from the book: both must arrive
  await until('the investor to see the listing verified', async () => {
    const read = await growr('investor', ['nostr', 'listings', '--wait', '5000'], true)
    seenByInvestor = read.find((l: { projectId: string }) => l.projectId === project)
    return seenByInvestor?.verified === true
  }, 30_000)
  if (!seenByInvestor) throw new Error('the investor does not see the listing')
  console.log(`  the investor reads it from the relay: "${seenByInvestor.title}", ${seenByInvestor.summary}; verified (${seenByInvestor.reason})`)

  step('10. every peer\'s view')
  return await cluster.converge(ROLES, topic)
}

const rail = process.argv.indexOf('--rail')
if (rail !== -1) {
  // npm run demo -- --rail bitcoin|rootstock: the same lifecycle with real transactions (app/demo/bitcoin.ts, app/demo/rootstock.ts)
  const which = process.argv[rail + 1]
  if (which !== 'bitcoin' && which !== 'rootstock') { console.error('demo: --rail takes bitcoin or rootstock'); process.exit(2) }
  if (which === 'bitcoin') await (await import('./bitcoin.ts')).runBitcoinDemo()
  else await (await import('./rootstock.ts')).runRootstockDemo()
} else {
  await runDemo('growr-demo-', main)
}
