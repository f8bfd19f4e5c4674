/**
 * npm run demo -- --rail rootstock: the lending lifecycle with real Rootstock-style transactions.
 * anvil (chain id 33, Berlin: no base fee, legacy transactions, like Rootstock regtest), a
 * private HyperDHT, and three `growr start` nodes (originator, borrower, investor) configured
 * with that backend. Each node's spending address (`growr wallet show --chain-id 33`, BIP-44
 * m/44'/137'/0'/0/0) is funded with anvil_setBalance; then, with the CLI only, on an RBTC project
 * counted in units of 10^10 wei: the investor funds (`payment pay`), the originator disburses,
 * the borrower repays every instalment, the originator distributes. Nobody proves a payment by
 * hand: each payee's node proves it with the transaction's receipt and trie proofs once it has
 * the book's confirmations, and every peer checks the proof in apply; the payee's own proof is its
 * confirmation. Ends with `demo: converged <view-hash> on 3 peers` like the other demos.
 */
import { startDemoAnvil, type DemoAnvil } from './anvil.ts'
import { DemoCluster, retry, runDemo, step, until } from './cluster.ts'

type Role = 'originator' | 'borrower' | 'investor'
const ROLES: Role[] = ['originator', 'borrower', 'investor']
const CHAIN_ID = 33
const CONFIRMATIONS = 2

/** anvil mines a block per transaction; these empty blocks give the payment its remaining confirmations. */
async function mine (chain: DemoAnvil, n: number): Promise<void> {
  await chain.mine(n)
  console.log(`  chain      mined ${n} block${n === 1 ? '' : 's'} (height ${Number(BigInt(await chain.rpc<string>('eth_blockNumber')))})`)
}

async function main (cluster: DemoCluster<Role>): Promise<string> {
  const growr = cluster.growr.bind(cluster)
  step(`0. anvil (chain id ${CHAIN_ID}, Berlin), a private HyperDHT, three nodes with the Rootstock backend`)
  const chain = cluster.own(await startDemoAnvil(CHAIN_ID))
  console.log(`  anvil JSON-RPC on ${chain.url}`)
  console.log(`  testnet on ${await cluster.startTestnet()}`)
  const dids: Record<string, string> = {}
  for (const who of ROLES) dids[who] = (await growr(who, ['init'])).did
  for (const who of ROLES) {
    await cluster.start(who, ['--rootstock-rpc', chain.url, '--rootstock-chain-id', String(CHAIN_ID), '--rootstock-poll-ms', '300'])
    console.log(`  ${who} node ${dids[who]} started`)
  }

  step('1. wallets: each node\'s spending address (m/44\'/137\'/0\'/0/0) gets 1 RBTC with anvil_setBalance')
  for (const who of ROLES) {
    const shown = await growr(who, ['wallet', 'show', '--chain-id', String(CHAIN_ID)])
    await chain.fund(shown.rootstock.address, 10n ** 18n)
    const bal = await growr(who, ['wallet', 'balance'])
    console.log(`  ${who.padEnd(10)} ${shown.rootstock.address}: ${bal.rbtc.spendable} wei, backend height ${bal.backend.height}`)
  }

  step(`2. originator: an RBTC book and project on the Rootstock rail (chain ${CHAIN_ID}, one minor unit = 10^10 wei, ${CONFIRMATIONS} confirmations); borrower and investor join`)
  const { topic } = await growr('originator', ['book', 'create', '--name', 'Rootstock Lending Circle'])
  const { id: project } = await growr('originator', ['project', 'create', '--book', topic, '--name', 'Rainwater tanks', '--amount', '5000000', '--currency', 'RBTC',
    '--loan-min', '100000', '--loan-max', '2000000', '--min-months', '3', '--max-months', '3', '--rate-bps', '1200', '--method', 'declining-balance', '--fee', '1000', '--grace-days', '10'])
  await growr('originator', ['project', 'rail-rootstock', '--book', topic, '--project', project, '--chain-id', String(CHAIN_ID), '--unit-exponent', '10', '--confirmations', String(CONFIRMATIONS)])
  await growr('originator', ['project', 'activate', '--book', topic, '--project', project])
  const inviteB = await growr('originator', ['invite', 'create', '--book', topic, '--role', 'borrower'])
  const inviteI = await growr('originator', ['invite', 'create', '--book', topic, '--role', 'investor'])
  await Promise.all([growr('borrower', ['invite', 'accept', inviteB.code]), growr('investor', ['invite', 'accept', inviteI.code])])

  step('3. investor commits; originator posts its address for the funding; investor pays from its wallet; the originator\'s node proves it')
  const { id: funding } = await growr('investor', ['funding', 'commit', '--book', topic, '--project', project, '--amount', '3000000'])
  await retry(() => growr('originator', ['payment', 'address', '--book', topic, '--kind', 'funding', '--ref', funding]))
  const paid = await retry(() => growr('investor', ['payment', 'pay', '--book', topic, '--kind', 'funding', '--ref', funding]))
  console.log(`  funding ${funding}: ${paid.amount} minor units = ${paid.baseUnits} wei in tx ${paid.txid}`)
  await mine(chain, CONFIRMATIONS - 1)
  for (const who of ROLES) await growr(who, ['wait', '--book', topic, '--sub', 'fundings', '--id', funding, '--status', 'confirmed'], true)
  console.log('  funding confirmed on all three peers by the originator\'s proof')

  step('4. borrower applies; originator approves; borrower posts her address; originator disburses from its wallet; her node proves it')
  const { id: loan } = await growr('borrower', ['loan', 'apply', '--book', topic, '--project', project, '--amount', '2000000', '--months', '3', '--purpose', 'rainwater tanks'])
  await retry(() => growr('originator', ['loan', 'approve', '--book', topic, '--loan', loan]))
  await growr('borrower', ['wait', '--book', topic, '--sub', 'loans', '--id', loan, '--status', 'approved'], true)
  await growr('borrower', ['payment', 'address', '--book', topic, '--kind', 'disbursement', '--ref', loan])
  const disb = await retry(() => growr('originator', ['payment', 'pay', '--book', topic, '--kind', 'disbursement', '--ref', loan]))
  console.log(`  disbursement: ${disb.amount} minor units = ${disb.baseUnits} wei in tx ${disb.txid}`)
  await mine(chain, CONFIRMATIONS - 1)
  for (const who of ROLES) await growr(who, ['wait', '--book', topic, '--sub', 'loans', '--id', loan, '--status', 'disbursed'], true)
  const disbursed = await growr('borrower', ['loan', 'show', '--book', topic, '--loan', loan])
  for (const i of disbursed.schedule) console.log(`    ${i.n}. ${i.dueDate}  principal ${i.principal}  interest ${i.interest}  total ${i.total}`)

  step('5. originator posts its repayment address; borrower repays every instalment from her wallet; the originator\'s node proves each')
  await growr('originator', ['payment', 'address', '--book', topic, '--kind', 'repayment', '--ref', loan])
  for (const i of disbursed.schedule) {
    const r = await retry(() => growr('borrower', ['payment', 'pay', '--book', topic, '--kind', 'repayment', '--ref', loan]))
    console.log(`  instalment ${i.n}: ${r.amount} minor units in tx ${r.txid}`)
    await mine(chain, CONFIRMATIONS - 1)
    await until(`instalment ${i.n} proven`, async () => {
      const l = await growr('borrower', ['loan', 'show', '--book', topic, '--loan', loan], true)
      const s = l.schedule[i.n - 1]
      return s.principalPaid + s.interestPaid === s.total
    })
  }
  for (const who of ROLES) await growr(who, ['wait', '--book', topic, '--sub', 'loans', '--id', loan, '--status', 'repaid'], true)
  console.log(`  loan ${loan} repaid`)

  step('6. investor posts its distribution address; originator distributes (one transaction per investor on an EVM chain); the investor\'s node proves it')
  await growr('investor', ['payment', 'address', '--book', topic, '--kind', 'distribution', '--ref', funding])
  await until('the distribution address replicated', async () => {
    const posted: Array<{ kind: string, ref: string }> = (await cluster.call('originator', 'payment.addresses', { book: topic })).addresses
    return posted.some((a) => a.kind === 'distribution' && a.ref === funding)
  })
  const dist = await growr('originator', ['payment', 'pay', '--book', topic, '--kind', 'distribution'])
  for (const o of dist.outputs) console.log(`  ${o.amount} minor units to ${o.address} (funding ${o.ref}) in tx ${o.txid}`)
  console.log(`  ${dist.note}`)
  await mine(chain, CONFIRMATIONS - 1)
  await until('distribution proven', async () => {
    const f = (await cluster.call('originator', 'funding.list', { book: topic })).find((x: { fundingId: string }) => x.fundingId === funding)
    return f && f.entitled > 0 && f.distributed === f.entitled
  })

  step('7. every payment carries a receipt proof each peer checked in apply, confirmed by the payee\'s node')
  const expected = 1 + 1 + disbursed.schedule.length + dist.outputs.length
  await until('payments replicated', async () => (await Promise.all(ROLES.map(async (who) => (await cluster.call(who, 'payment.list', { book: topic })).filter((p: any) => p.status === 'confirmed' && p.rail === 'rootstock').length))).every((n) => n === expected))
  const payments = await cluster.call('borrower', 'payment.list', { book: topic })
  const tip = Number(BigInt(await chain.rpc<string>('eth_blockNumber')))
  for (const p of payments) {
    if (p.rail !== 'rootstock' || !p.proof?.txHash) throw new Error(`payment ${p.paymentId} carries no Rootstock proof`)
    const who = p.payee === dids.originator ? 'originator' : p.payee === dids.borrower ? 'borrower' : 'investor'
    console.log(`  ${p.kind.padEnd(12)} ${String(p.amount).padStart(8)}  ${p.status} by the ${who}  tx ${p.proof.txHash}  block ${p.proof.blockNumber} (tip ${tip})  ${p.proof.amount} wei`)
  }
  const tracked = await growr('originator', ['payment', 'tracked'], true)
  const sweeps = tracked.filter((x: { purpose: string }) => x.purpose === 'sweep')
  console.log(`  the originator's node made ${sweeps.length} sweep${sweeps.length === 1 ? '' : 's'} of RBTC received at its posted addresses into its spending address${sweeps.length > 0 ? ': ' + sweeps.map((x: { txid: string }) => x.txid).join(', ') : ''}`)
  return await cluster.converge(ROLES, topic, true)
}

/** Runs the Rootstock demo; exits 1 on failure. */
export async function runRootstockDemo (): Promise<void> {
  await runDemo('growr-demo-rsk-', main)
}
