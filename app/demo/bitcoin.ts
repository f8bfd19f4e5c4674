/**
 * npm run demo -- --rail bitcoin: the lending lifecycle with real Bitcoin transactions.
 * bcoin on regtest (in memory, installed on first use), a private HyperDHT, and three `growr
 * start` nodes (originator, borrower, investor) configured with that backend. Wallets are funded
 * by mining to each node's `growr wallet receive` address; then, with the CLI only: the investor
 * pays two fundings (`payment pay`), the originator disburses, the borrower repays every
 * instalment, the originator distributes to both fundings in ONE transaction. Nobody proves a
 * payment by hand: each payee's node proves it once it is deep enough, and every peer checks the
 * proof in apply. Ends with `demo: converged <view-hash> on 3 peers` like the manual demo.
 */
import path from 'node:path'
import { Address, OutScript, p2wpkh } from '@scure/btc-signer'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { startDemoBcoin, type DemoBcoin } from './bcoin.ts'
import { DemoCluster, retry, runDemo, step, until } from './cluster.ts'

type Role = 'originator' | 'borrower' | 'investor'
const ROLES: Role[] = ['originator', 'borrower', 'investor']
/** bcoin's regtest address parameters (bech32 'rb'; Bitcoin Core's regtest uses 'bcrt'). */
const RB = { bech32: 'rb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }
const BCRT = { ...RB, bech32: 'bcrt' }
/** A miner address nobody in the demo owns. */
const MINER = p2wpkh(secp256k1.getPublicKey(new Uint8Array(32).fill(9), true), RB).address as string
const CONFIRMATIONS = 3

/** The same output script with bcoin's prefix: bcoin's generatetoaddress takes only 'rb' addresses. */
function forBcoin (address: string): string {
  return Address(RB).encode(OutScript.decode(OutScript.encode(Address(BCRT).decode(address))))
}

async function mine (chain: DemoBcoin, n: number): Promise<void> {
  await chain.rpc('generatetoaddress', [n, MINER])
  console.log(`  chain      mined ${n} block${n === 1 ? '' : 's'} (height ${await chain.rpc('getblockcount')})`)
}

async function main (cluster: DemoCluster<Role>): Promise<string> {
  const growr = cluster.growr.bind(cluster)
  step('0. bcoin on regtest (in memory), a private HyperDHT, three nodes with the Bitcoin backend')
  const chain = cluster.own(await startDemoBcoin(path.join(cluster.root, 'bcoin')))
  console.log(`  bcoin regtest JSON-RPC on ${chain.url}`)
  console.log(`  testnet on ${await cluster.startTestnet()}`)
  const dids: Record<string, string> = {}
  for (const who of ROLES) dids[who] = (await growr(who, ['init'])).did
  for (const who of ROLES) {
    // the api key goes in the environment: never on a command line others can list
    await cluster.start(who, ['--bitcoin-rpc', chain.url, '--bitcoin-network', 'regtest', '--bitcoin-bech32', 'rb', '--bitcoin-user', 'x', '--bitcoin-poll-ms', '300'],
      { ...process.env, GROWR_BITCOIN_RPC_PASSWORD: chain.apiKey })
    console.log(`  ${who} node ${dids[who]} started`)
  }

  step('1. wallets: blocks mined to the investor\'s and to the borrower\'s `growr wallet receive` address, then 447 more (coinbases mature, SegWit active)')
  // two coins for the investor: the payer spends confirmed coins only, so two fundings in one block need two
  for (const [who, blocks] of [['investor', 2], ['borrower', 1]] as const) {
    const { address } = await growr(who, ['wallet', 'receive', '--network', 'regtest'])
    await chain.rpc('generatetoaddress', [blocks, forBcoin(address)])
    console.log(`  ${who.padEnd(10)} ${blocks} coinbase${blocks === 1 ? '' : 's'} to ${address}`)
  }
  await mine(chain, 447)
  for (const who of ['investor', 'borrower'] as const) {
    await until(`${who}'s mature coinbase`, async () => BigInt((await growr(who, ['wallet', 'balance'], true)).confirmed) > 0n)
    const bal = await growr(who, ['wallet', 'balance'])
    console.log(`  ${who.padEnd(10)} ${bal.confirmed} sats confirmed, backend height ${bal.backend.height}`)
  }

  step(`2. originator: a BTC book and project on the Bitcoin rail (regtest, ${CONFIRMATIONS} confirmations); borrower and investor join`)
  const { topic } = await growr('originator', ['book', 'create', '--name', 'Bitcoin Lending Circle'])
  const { id: project } = await growr('originator', ['project', 'create', '--book', topic, '--name', 'Solar pumps', '--amount', '5000000', '--currency', 'BTC',
    '--loan-min', '100000', '--loan-max', '2000000', '--min-months', '3', '--max-months', '3', '--rate-bps', '1200', '--method', 'declining-balance', '--fee', '1000', '--grace-days', '10'])
  await growr('originator', ['project', 'rail', '--book', topic, '--project', project, '--network', 'regtest', '--confirmations', String(CONFIRMATIONS)])
  await growr('originator', ['project', 'activate', '--book', topic, '--project', project])
  const inviteB = await growr('originator', ['invite', 'create', '--book', topic, '--role', 'borrower'])
  const inviteI = await growr('originator', ['invite', 'create', '--book', topic, '--role', 'investor'])
  await Promise.all([growr('borrower', ['invite', 'accept', inviteB.code]), growr('investor', ['invite', 'accept', inviteI.code])])

  step('3. investor commits two fundings; originator posts its address for each; investor pays from its wallet; the originator\'s node proves them')
  const fundings: string[] = []
  for (const amount of ['1500000', '1000000']) fundings.push((await growr('investor', ['funding', 'commit', '--book', topic, '--project', project, '--amount', amount])).id)
  const txids: string[] = []
  for (const f of fundings) {
    await retry(() => growr('originator', ['payment', 'address', '--book', topic, '--kind', 'funding', '--ref', f]))
    const paid = await retry(() => growr('investor', ['payment', 'pay', '--book', topic, '--kind', 'funding', '--ref', f]))
    console.log(`  funding ${f}: ${paid.amount} sats in tx ${paid.txid} (fee ${paid.fee})`)
    txids.push(paid.txid)
  }
  await mine(chain, CONFIRMATIONS)
  for (const who of ROLES) for (const f of fundings) await growr(who, ['wait', '--book', topic, '--sub', 'fundings', '--id', f, '--status', 'confirmed'], true)
  console.log('  both fundings confirmed on all three peers by the originator\'s proofs')

  step('4. borrower applies; originator approves; borrower posts her address; originator disburses from the wallet; her node proves it')
  const { id: loan } = await growr('borrower', ['loan', 'apply', '--book', topic, '--project', project, '--amount', '2000000', '--months', '3', '--purpose', 'solar water pumps'])
  await retry(() => growr('originator', ['loan', 'approve', '--book', topic, '--loan', loan]))
  await growr('borrower', ['wait', '--book', topic, '--sub', 'loans', '--id', loan, '--status', 'approved'], true)
  await growr('borrower', ['payment', 'address', '--book', topic, '--kind', 'disbursement', '--ref', loan])
  const disb = await retry(() => growr('originator', ['payment', 'pay', '--book', topic, '--kind', 'disbursement', '--ref', loan]))
  console.log(`  disbursement: ${disb.amount} sats in tx ${disb.txid}`)
  await mine(chain, CONFIRMATIONS)
  for (const who of ROLES) await growr(who, ['wait', '--book', topic, '--sub', 'loans', '--id', loan, '--status', 'disbursed'], true)
  const disbursed = await growr('borrower', ['loan', 'show', '--book', topic, '--loan', loan])
  for (const i of disbursed.schedule) console.log(`    ${i.n}. ${i.dueDate}  principal ${i.principal}  interest ${i.interest}  total ${i.total}`)

  step('5. originator posts its repayment address; borrower repays every instalment from her wallet; the originator\'s node proves each')
  await growr('originator', ['payment', 'address', '--book', topic, '--kind', 'repayment', '--ref', loan])
  for (const i of disbursed.schedule) {
    const r = await retry(() => growr('borrower', ['payment', 'pay', '--book', topic, '--kind', 'repayment', '--ref', loan]))
    console.log(`  instalment ${i.n}: ${r.amount} sats in tx ${r.txid}`)
    await mine(chain, CONFIRMATIONS)
    await until(`instalment ${i.n} proven`, async () => {
      const l = await growr('borrower', ['loan', 'show', '--book', topic, '--loan', loan], true)
      const s = l.schedule[i.n - 1]
      return s.principalPaid + s.interestPaid === s.total
    })
  }
  for (const who of ROLES) await growr(who, ['wait', '--book', topic, '--sub', 'loans', '--id', loan, '--status', 'repaid'], true)
  console.log(`  loan ${loan} repaid`)

  step('6. investor posts a distribution address per funding; originator pays both in ONE transaction; the investor\'s node proves each')
  for (const f of fundings) await growr('investor', ['payment', 'address', '--book', topic, '--kind', 'distribution', '--ref', f])
  await until('both distribution addresses replicated', async () => {
    const posted: Array<{ kind: string, ref: string }> = (await cluster.call('originator', 'payment.addresses', { book: topic })).addresses
    return fundings.every((f) => posted.some((a) => a.kind === 'distribution' && a.ref === f))
  })
  const dist = await growr('originator', ['payment', 'pay', '--book', topic, '--kind', 'distribution'])
  if (dist.outputs.length !== fundings.length) throw new Error(`the distribution paid ${dist.outputs.length} fundings, not ${fundings.length}`)
  const onChain = await chain.rpc<{ vout: unknown[] }>('getrawtransaction', [dist.txid, true])
  console.log(`  tx ${dist.txid}: ${dist.outputs.length} payouts + change = ${onChain.vout.length} outputs, fee ${dist.fee}`)
  for (const o of dist.outputs) console.log(`    ${o.amount} sats to ${o.address} (funding ${o.ref})`)
  await mine(chain, CONFIRMATIONS)
  await until('distributions proven', async () => {
    const fs = await cluster.call('originator', 'funding.list', { book: topic })
    return fundings.every((id) => { const f = fs.find((x: { fundingId: string }) => x.fundingId === id); return f && f.entitled > 0 && f.distributed === f.entitled })
  })

  step('7. every payment carries a proof each peer checked in apply')
  await until('payments replicated', async () => (await Promise.all(ROLES.map(async (who) => (await cluster.call(who, 'payment.list', { book: topic })).filter((p: any) => p.status === 'confirmed').length))).every((n) => n === 8))
  const payments = await cluster.call('borrower', 'payment.list', { book: topic })
  const tip = await chain.rpc<number>('getblockcount')
  for (const p of payments) {
    const info = await chain.rpc<{ confirmations: number }>('getrawtransaction', [p.proof.txid, true])
    console.log(`  ${p.kind.padEnd(12)} ${String(p.amount).padStart(8)} sats  ${p.status}  tx ${p.proof.txid}  proven with ${p.proof.confirmations} confirmations (now ${info.confirmations})`)
  }
  console.log(`  chain tip ${tip}`)
  return await cluster.converge(ROLES, topic, true)
}

/** Runs the Bitcoin demo; exits 1 on failure. */
export async function runBitcoinDemo (): Promise<void> {
  await runDemo('growr-demo-btc-', main)
}
