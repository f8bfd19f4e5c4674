/**
 * The node's Bitcoin wallet as its backend sees it (only when the node runs with a Bitcoin
 * backend): the balance (confirmed, unconfirmed, immature coinbase) in BTC and sats, exactly; the
 * backend's state (reachable, height, or a red message naming the URL when it does not answer);
 * the transactions this wallet made with where each stands; and sending to an address.
 * Re-read when the rail says the tip or balance moved (`bitcoin.sync`), the backend came or went
 * (`bitcoin.backend`) or a payment was seen (`bitcoin.payment`); nothing polls.
 */
import { useState } from 'react'
import { send } from '../../lib/contract-client.ts'
import { useAction, useQuery } from '../../lib/hooks.ts'
import { btcText, parseSendAmount, useRailStatus } from '../../lib/chain.ts'
import { Alert, Badge, Button, Card, Field, Input, Mono, Select, Spinner, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import type { Api } from '../../../app/session.ts'

type Tracked = Api['payment.tracked']['result'][number]

export function BitcoinWalletCard () {
  const rail = useRailStatus()
  const btc = rail.data
  const balance = useQuery(async () => btc ? await send('wallet.balance', {}) : null, [!!btc], ['bitcoin.sync', 'bitcoin.backend', 'bitcoin.payment'])
  if (rail.error) return <Card title='Bitcoin wallet' testid='btc-wallet'><Alert error={rail.error} testid='btc-wallet-error' /></Card>
  if (rail.data === undefined) return <Card title='Bitcoin wallet' testid='btc-wallet'><Spinner label='asking the node' /></Card>
  if (btc === null || btc === undefined) {
    return (
      <Card title='Bitcoin wallet' testid='btc-wallet'>
        <p className='small muted' data-testid='btc-no-backend'>This node has no Bitcoin backend, so it shows no balance and pays nothing itself. Start it with one (<code>growr start --bitcoin-rpc URL --bitcoin-network NAME</code>, password in GROWR_BITCOIN_RPC_PASSWORD) to pay from this wallet and have your payments proven by your node.</p>
      </Card>
    )
  }
  const b = balance.data
  const backend = btc.backend
  return (
    <Card title='Bitcoin wallet' subtitle={`${btc.network}, through the node's backend`} testid='btc-wallet'>
      {backend.reachable
        ? <p className='small' data-testid='btc-backend' data-reachable='true' data-height={backend.height ?? ''}><Badge tone='good'>backend reachable</Badge> <code className='mono'>{backend.url}</code> at height <strong data-testid='btc-height'>{backend.height ?? '?'}</strong>{btc.scanned !== null && <span className='muted'>; wallet scanned to {btc.scanned}</span>}</p>
        : <Alert testid='btc-backend-unreachable'>The Bitcoin backend at {backend.url} does not answer{backend.error ? `: ${backend.error}` : ''}. Balances are as of the last answer{backend.height !== null ? ` (height ${backend.height})` : ''}; payments wait until it is back.</Alert>}
      <Alert error={balance.error} testid='btc-balance-error' />
      {!b ? <Spinner label='reading the balance' /> : (
        <dl className='kv' data-testid='btc-balance'>
          <dt>Confirmed</dt><dd data-testid='btc-confirmed' data-sats={b.confirmed}>{btcText(b.confirmed)} BTC <span className='muted small'>({b.confirmed} sats)</span></dd>
          <dt>Unconfirmed</dt><dd data-testid='btc-unconfirmed' data-sats={b.unconfirmed}>{btcText(b.unconfirmed)} BTC <span className='muted small'>({b.unconfirmed} sats)</span></dd>
          <dt>Immature</dt><dd data-testid='btc-immature' data-sats={b.immature}>{btcText(b.immature)} BTC <span className='muted small'>({b.immature} sats; mined coins spendable after 100 blocks)</span></dd>
        </dl>
      )}
      {btc.watcher.problems.length > 0 && (
        <Alert tone='warn' testid='btc-problems' reasons={btc.watcher.problems.map((p) => `${p.kind} ${p.ref.slice(0, 8)}: ${p.state}`)}>Payments to this node the watcher could not prove:</Alert>
      )}
      <SendForm disabled={!backend.reachable} />
      <TrackedList />
    </Card>
  )
}

/** Sends to one address from the wallet: the amount in BTC or sats, converted with no float. */
function SendForm ({ disabled }: { disabled: boolean }) {
  const toast = useToast()
  const [address, setAddress] = useState('')
  const [amount, setAmount] = useState('')
  const [unit, setUnit] = useState<'btc' | 'sats'>('btc')
  const parsed = amount.trim() ? parseSendAmount(amount, unit) : null
  const sendIt = useAction(async () => {
    const p = parseSendAmount(amount, unit)
    if (!p.ok) throw new Error(p.reason)
    if (!address.trim()) throw new Error('Give the address to pay')
    const r = await send('wallet.send', { to: [{ address: address.trim(), amount: p.sats.toString() }] })
    toast(`Sent ${btcText(p.sats.toString())} BTC in transaction ${r.txid.slice(0, 12)}…`)
    setAmount('')
    return r
  })
  return (
    <form className='stack' style={{ gap: 6, marginTop: 12 }} data-testid='btc-send' onSubmit={(e) => { e.preventDefault(); sendIt.run() }}>
      <strong className='small'>Send</strong>
      <Field label='To address'>
        {(id) => <Input id={id} value={address} onChange={(e) => setAddress(e.target.value)} placeholder='bc1q… / tb1q… / bcrt1q…' spellCheck={false} autoComplete='off' testid='btc-send-address' />}
      </Field>
      <Field label='Amount' error={parsed && !parsed.ok ? parsed.reason : null} hint={parsed?.ok ? `${btcText(parsed.sats.toString())} BTC = ${parsed.sats} sats` : undefined}>
        {(id) => (
          <div className='row'>
            <Input id={id} value={amount} onChange={(e) => setAmount(e.target.value)} inputMode='decimal' style={{ width: 160 }} testid='btc-send-amount' />
            <Select aria-label='Unit' style={{ width: 90 }} value={unit} onChange={(e) => setUnit(e.target.value as 'btc' | 'sats')} testid='btc-send-unit'>
              <option value='btc'>BTC</option>
              <option value='sats'>sats</option>
            </Select>
          </div>
        )}
      </Field>
      <div className='row'>
        <Button type='submit' variant='primary' busy={sendIt.running} disabled={disabled || !parsed?.ok || !address.trim()} testid='btc-send-submit'>Send</Button>
        {sendIt.result && <span className='small' data-testid='btc-send-txid' data-value={sendIt.result.txid}>sent in tx <Mono value={sendIt.result.txid} keep={8} />, fee {sendIt.result.fee} sats</span>}
      </div>
      <Alert error={sendIt.error} testid='btc-send-error' />
    </form>
  )
}

/** Where one of the wallet's transactions stands, in words. */
function trackedWords (s: Tracked['status']): string {
  switch (s.state) {
    case 'confirmed': return `${s.confirmations} confirmation${s.confirmations === 1 ? '' : 's'}`
    case 'mempool': return 'in the mempool'
    case 'replaced': return `replaced by ${s.by.slice(0, 12)}…${s.confirmed ? ' (confirmed)' : ''}`
    case 'dropped': return 'dropped from the mempool'
    case 'abandoned': return 'abandoned'
    case 'unbroadcast': return 'not broadcast yet'
    default: return 'unknown'
  }
}

function TrackedList () {
  const tracked = useQuery(() => send('payment.tracked', {}), [], ['bitcoin.sync', 'bitcoin.payment', 'book.changed'])
  const rows = [...(tracked.data ?? [])].reverse()
  return (
    <div className='stack' style={{ gap: 6, marginTop: 12 }}>
      <strong className='small'>Transactions this wallet made</strong>
      <Alert error={tracked.error} testid='btc-tracked-error' />
      <Table<Tracked>
        rows={rows}
        rowKey={(t) => t.txid}
        rowTestid={(t) => 'btc-tx-' + t.txid}
        empty='None yet.'
        columns={[
          { header: 'Transaction', cell: (t) => <Mono value={t.txid} keep={8} testid='btc-tx-id' /> },
          { header: 'Paid', align: 'right', cell: (t) => `${btcText(t.outputs.reduce((n, o) => /^\d+$/.test(o.amount) ? n + BigInt(o.amount) : n, 0n).toString())} BTC` },
          { header: 'To', cell: (t) => <span className='small'>{t.outputs.length === 1 ? <Mono value={t.outputs[0].address} keep={8} /> : `${t.outputs.length} addresses`}</span> },
          { header: 'Fee', align: 'right', cell: (t) => `${t.fee} sats` },
          { header: 'Status', cell: (t) => <span data-testid='btc-tx-status' data-state={t.status.state} data-confirmations={t.status.state === 'confirmed' ? t.status.confirmations : ''}>{trackedWords(t.status)}</span> }
        ]}
      />
    </div>
  )
}
