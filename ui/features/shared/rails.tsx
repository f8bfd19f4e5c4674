/**
 * Payment rails in the UI: where to pay a payment due on a project with a rail (the payee's
 * posted address as a BIP-21 URI with the exact amount, or its posted BOLT 11 invoice as a
 * `lightning:` URI, each with a QR code), posting one's own receiving address as a payee, and what
 * a settled payment rests on (a proof: txid and confirmations, or a preimage; or the payee's word).
 *
 * What payees posted comes from `payment.addresses`, checked field by field before use.
 *
 * With a Bitcoin backend (`growr start --bitcoin-rpc`, or the host's `bitcoin` setting) the payer
 * also pays from this node's wallet with one click (`payment.pay`), and both sides watch the
 * payment arrive: "N of M confirmations" from the payee's watcher and the payer's own wallet, then
 * "proven on-chain" once the payee's proof is in the book ({@link ChainProgress}).
 */
import { useState } from 'react'
import type { Payment, Project } from '../../../books/entities.ts'
import type { PaymentKind } from '../../../books/ops/types.ts'
import { readPosted, type Posted } from '../../lib/posted.ts'
import { buildBip21, lightningUri, satsToBtc } from '../../../core/wallet/bip21.ts'
import { send, toContractError } from '../../lib/contract-client.ts'
import { useAction, useQuery, type Query } from '../../lib/hooks.ts'
import { btcText, chainItems, useRailStatus, useTracked, useWatcherVersion, watcherEvents, type ChainItem } from '../../lib/chain.ts'
import { Alert, Badge, Button, Mono, PayRequest } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'

export type { Posted } from '../../lib/posted.ts'

/** The addresses and invoices posted in `book`, re-read when the book changes. */
export function usePosted (book: string): Query<Posted> {
  // the answer comes over a socket from records other members wrote: checked field by field
  return useQuery(async () => readPosted(await send('payment.addresses', { book })), [book], ['book.changed'])
}

/** The rail of a project in words. */
export function railWords (project: Project | undefined): string {
  const r = project?.rail
  if (!r) return 'manual'
  if (r.rail === 'rootstock') return `Rootstock chain ${r.chainId}, ${r.token === null ? 'RBTC' : `token ${r.token}`}, confirmed by the payee`
  return r.rail === 'bitcoin' ? `Bitcoin ${r.network}, ${r.confirmations} confirmation${r.confirmations === 1 ? '' : 's'}` : `Lightning ${r.network}`
}

/**
 * "Pay to" for one payment due on a rail project: the payee's posted address as a BIP-21 URI with
 * the exact amount (sats -> BTC with no float), label and message, or the payee's posted invoice
 * as a `lightning:` URI; each with its QR code. Nothing for a manual project.
 * @param amount what is due, in the project's minor unit (sats: a rail project is in BTC)
 * @param label the payee's name as a wallet should show it; message: what the payment is for
 * @param book given for a Bitcoin project, and this node has a backend: a "Pay from this node's
 *   wallet" button beside the QR code, and the payment's confirmations as they arrive
 */
export function PayTo ({ book, project, posted, kind, refId, amount, label, message, testid = 'pay-to' }: {
  /** the book the payment is due in: with it, a Bitcoin payment can be paid from this node's wallet */
  book?: string
  project: Project | undefined; posted: Posted | undefined; kind: PaymentKind; refId: string; amount: number; label: string; message: string; testid?: string
}) {
  const rail = project?.rail
  if (!rail || !posted) return null
  if (!Number.isSafeInteger(amount) || amount <= 0) return null
  const sats = BigInt(amount)
  if (rail.rail === 'rootstock') {
    const to = posted.addresses.find((a) => a.kind === kind && a.ref === refId)
    if (!to) return <p className='small muted' data-testid={testid + '-waiting'}>Paid on {railWords(project)}: waiting for the payee to post a receiving address.</p>
    if (!/^0x[0-9a-fA-F]{40}$/.test(to.address)) return <Alert testid={testid + '-error'}>The posted address is not a Rootstock address.</Alert>
    // EIP-681 payment request: the exact amount in base units (wei or the token's), never a float
    const units = sats * 10n ** BigInt(rail.unitExponent)
    const uri = rail.token === null ? `ethereum:${to.address}@${rail.chainId}?value=${units}` : `ethereum:${rail.token}@${rail.chainId}/transfer?address=${to.address}&uint256=${units}`
    return (
      <PayRequest heading={<>Pay <strong data-testid={testid + '-amount'}>{String(amount)} {project?.terms.currency}</strong> ({String(units)} base units) to</>} target={to.address} uri={uri} qrLabel={`QR code: pay ${to.address}`} testid={testid}>
        <span className='small muted'>Rootstock chain {rail.chainId}; the payee confirms once it sees {rail.confirmations} confirmation{rail.confirmations === 1 ? '' : 's'}.</span>
      </PayRequest>
    )
  }
  if (rail.rail === 'bitcoin') {
    const to = posted.addresses.find((a) => a.kind === kind && a.ref === refId)
    if (!to) return <p className='small muted' data-testid={testid + '-waiting'}>Paid on {railWords(project)}: waiting for the payee to post a receiving address.</p>
    let uri: string
    try {
      uri = buildBip21({ address: to.address, amountSats: sats, label, message }, { network: rail.network })
    } catch (err) {
      return <Alert testid={testid + '-error'}>The posted address cannot be paid: {toContractError(err).message}</Alert>
    }
    return (
      <PayRequest heading={<>Pay <strong data-testid={testid + '-amount'}>{satsToBtc(sats)} BTC</strong> to</>} target={to.address} uri={uri} qrLabel={`QR code: pay ${satsToBtc(sats)} BTC to ${to.address}`} testid={testid}>
        <span className='small muted'>Bitcoin {rail.network}; the payment counts once a proof shows {rail.confirmations} confirmation{rail.confirmations === 1 ? '' : 's'}.</span>
        {/* keyed by what is due: the next instalment starts with no "sent" line from the last one */}
        {book && <PayFromWallet key={`${kind}/${refId}/${amount}/${message}`} book={book} project={project} kind={kind} refId={refId} amount={sats} testid={testid + '-wallet'} />}
      </PayRequest>
    )
  }
  const mine = posted.invoices.filter((i) => i.kind === kind && i.ref === refId).sort((a, b) => b.at - a.at)
  const inv = mine.find((i) => i.amountMsat === (sats * 1000n).toString()) ?? mine[0]
  if (!inv) return <p className='small muted' data-testid={testid + '-waiting'}>Paid on {railWords(project)}: waiting for the payee to post an invoice.</p>
  let uri: string
  try {
    uri = lightningUri(inv.invoice)
  } catch (err) {
    return <Alert testid={testid + '-error'}>The posted invoice cannot be paid: {toContractError(err).message}</Alert>
  }
  const msat = BigInt(inv.amountMsat)
  return (
    <PayRequest heading={<>Pay the invoice for <strong data-testid={testid + '-amount'}>{msat % 1000n === 0n ? satsToBtc(msat / 1000n) + ' BTC' : `${msat} msat`}</strong></>} target={inv.invoice} uri={uri} qrLabel='QR code: the Lightning invoice' testid={testid}>
        {msat !== sats * 1000n && <Alert tone='warn'>This invoice is for {String(msat)} msat, not the {String(sats * 1000n)} msat due.</Alert>}
    </PayRequest>
  )
}

/**
 * For the payee of a payment on a Bitcoin rail project: posts this node's own receiving address
 * for it (`payment.address` without an address: the wallet's address for this record), then shows
 * it with its BIP-21 URI and QR code so the payer can also scan it in person.
 */
export function PostAddress ({ book, project, posted, kind, refId, amount, label, message, testid = 'post-address' }: {
  book: string; project: Project | undefined; posted: Posted | undefined; kind: PaymentKind; refId: string; amount?: number; label: string; message: string; testid?: string
}) {
  const toast = useToast()
  const post = useAction(async () => {
    const r = await send('payment.address', { book, kind, ref: refId })
    toast(`Posted your ${kind} address`)
    return r.address
  })
  const rail = project?.rail
  if (rail?.rail !== 'bitcoin') return null
  const known = posted?.addresses.find((a) => a.kind === kind && a.ref === refId)?.address ?? post.result
  if (!known) {
    return (
      <div className='stack' style={{ gap: 4 }}>
        <Button small variant='primary' busy={post.running} testid={testid} onClick={() => { post.run() }}>Post my {kind} address</Button>
        <Alert error={post.error} testid={testid + '-error'} />
      </div>
    )
  }
  let uri: string
  try {
    uri = buildBip21({ address: known, amountSats: amount && Number.isSafeInteger(amount) && amount > 0 ? BigInt(amount) : undefined, label, message }, { network: rail.network })
  } catch (err) {
    return <Alert testid={testid + '-error'}>{toContractError(err).message}</Alert>
  }
  return <PayRequest heading={<>Your {kind} address (posted in the book)</>} target={known} uri={uri} qrLabel={`QR code of your ${kind} address`} testid={testid + '-posted'} />
}

/**
 * What a payment rests on: its rail, and for a proven one the transaction (txid shortened, full in
 * the tooltip) and the confirmations its proof showed, or the Lightning payment hash; for a manual
 * one, the payee's confirmation.
 */
export function PaymentProof ({ payment }: { payment: Payment }) {
  const proof = payment.proof
  if (payment.status === 'reorged') {
    return <span className='stack' style={{ gap: 2 }} data-testid='payment-proof' data-rail={payment.rail}><span><Badge tone='bad'>reorganised out</Badge></span><span className='small muted'>{payment.reason}</span></span>
  }
  if (proof && 'txid' in proof) {
    return (
      <span className='stack' style={{ gap: 2 }} data-testid='payment-proof' data-rail={payment.rail}>
        <span><Badge tone='good' testid='payment-proven'>proven on-chain</Badge> <span className='small muted'>Bitcoin</span></span>
        <span className='small'>tx <Mono value={proof.txid} keep={8} testid='payment-txid' />{proof.vouts.length > 0 && <span className='muted'> output{proof.vouts.length > 1 ? 's' : ''} {proof.vouts.join(', ')}</span>}</span>
        <span className='small' data-testid='payment-confirmations' data-value={proof.confirmations}>{proof.confirmations} confirmation{proof.confirmations === 1 ? '' : 's'} in the proof</span>
      </span>
    )
  }
  if (proof && 'txHash' in proof) {
    return (
      <span className='stack' style={{ gap: 2 }} data-testid='payment-proof' data-rail={payment.rail}>
        <span><Badge tone={payment.status === 'confirmed' ? 'good' : 'info'} testid='payment-proven'>{payment.status === 'confirmed' ? 'receipt proven, confirmed by payee' : `receipt proven, ${payment.status}`}</Badge> <span className='small muted'>Rootstock {proof.chainId}</span></span>
        <span className='small'>tx <Mono value={proof.txHash} keep={8} testid='payment-txid' /> <span className='muted'>block {proof.blockNumber}</span></span>
      </span>
    )
  }
  if (proof && 'paymentHash' in proof) {
    return (
      <span className='stack' style={{ gap: 2 }} data-testid='payment-proof' data-rail={payment.rail}>
        <span><Badge tone='good' testid='payment-proven'>proven by preimage</Badge> <span className='small muted'>Lightning</span></span>
        <span className='small'>payment hash <Mono value={proof.paymentHash} keep={8} testid='payment-hash' /></span>
      </span>
    )
  }
  return (
    <span className='stack' style={{ gap: 2 }} data-testid='payment-proof' data-rail={payment.rail}>
      <span>{payment.status === 'confirmed' ? <Badge tone='info' testid='payment-manual'>confirmed by payee</Badge> : <Badge>{payment.status}</Badge>} <span className='small muted'>manual</span></span>
      {payment.reference && <span className='small muted'>{payment.reference}</span>}
    </span>
  )
}

/**
 * "Pay from this node's wallet" for a payment due on a Bitcoin project, shown only when this node
 * has a backend on the project's network (`payment.pay`: the core pays the payee's posted address
 * the amount the book says is due, and never twice for one payment). The button is refused, with
 * the reason in words, while the backend does not answer.
 * @param amount what the screen says is due, sats: shown on the button; the core decides what is paid
 */
export function PayFromWallet ({ book, project, kind, refId, amount, testid }: { book: string; project: Project | undefined; kind: PaymentKind; refId: string; amount: bigint; testid: string }) {
  const toast = useToast()
  const rail = useRailStatus()
  const pay = useAction(async () => {
    const r = await send('payment.pay', { book, kind, ref: refId })
    toast(r.reused ? `Already paid in transaction ${r.txid.slice(0, 12)}…: nothing paid twice` : `Paid ${btcText(r.amount)} BTC in transaction ${r.txid.slice(0, 12)}…`)
    return r
  })
  const btc = rail.data
  if (project?.rail?.rail !== 'bitcoin' || !btc) return null
  if (btc.network !== project.rail.network) return <span className='small muted' data-testid={testid + '-network'}>This node's Bitcoin backend follows {btc.network}, not {project.rail.network}: pay from another wallet.</span>
  return (
    <div className='stack' style={{ gap: 4 }}>
      <div className='row'>
        <Button small variant='primary' busy={pay.running} disabled={!btc.backend.reachable} testid={testid} title={btc.backend.reachable ? undefined : `the backend at ${btc.backend.url} does not answer`} onClick={() => { pay.run() }}>
          Pay {satsToBtc(amount)} BTC from this node's wallet
        </Button>
        {pay.result && <span className='small' data-testid={testid + '-txid'} data-value={pay.result.txid}>sent in tx <Mono value={pay.result.txid} keep={8} /></span>}
      </div>
      {!btc.backend.reachable && <Alert testid={testid + '-unreachable'}>The Bitcoin backend at {btc.backend.url} does not answer{btc.backend.error ? `: ${btc.backend.error}` : ''}.</Alert>}
      <Alert error={pay.error} testid={testid + '-error'} />
    </div>
  )
}

const STATE_TONE: Record<ChainItem['state'], 'good' | 'warn' | 'bad' | 'info' | 'plain'> = {
  proven: 'good', proving: 'info', confirming: 'info', mempool: 'warn', refused: 'bad', replaced: 'plain', dropped: 'bad', unbroadcast: 'warn'
}

/** One transaction's standing in words: "1 of 2 confirmations", "proven on-chain". */
export function chainWords (i: ChainItem): string {
  const of = i.required === null ? '' : ` of ${i.required}`
  switch (i.state) {
    case 'proven': return 'proven on-chain'
    case 'proving': return `${i.confirmations ?? '?'}${of} confirmations: proof sent to the book`
    case 'mempool': return `in the mempool, 0${of} confirmations`
    case 'confirming': return `${i.confirmations ?? '?'}${of} confirmation${i.confirmations === 1 && i.required === null ? '' : 's'}`
    case 'refused': return 'proof refused'
    case 'replaced': return 'replaced by another transaction'
    case 'dropped': return 'dropped from the mempool'
    case 'unbroadcast': return 'not broadcast yet'
  }
}

/**
 * The transactions known here that pay one record, as they confirm: the payee's watcher (events as
 * they come) and this node's own payments (its wallet), each "N of M confirmations", then
 * "proven on-chain" once a proof of it is in the book. Nothing for a project not on Bitcoin or
 * when nothing is known.
 * Test ids: `<testid>` (the list), `<testid>-tx` per transaction with data-txid, data-state,
 * data-confirmations, data-required.
 */
export function ChainProgress ({ book, project, posted, kind, refId, testid = 'chain' }: { book: string; project: Project | undefined; posted: Posted | undefined; kind: PaymentKind; refId: string; testid?: string }) {
  const items = useChainItems({ book, project, posted, kind, refId })
  if (items.length === 0) return null
  return (
    <div className='stack' style={{ gap: 2 }} data-testid={testid}>
      {items.map((i) => (
        <div key={i.txid} className='small' data-testid={testid + '-tx'} data-txid={i.txid} data-state={i.state} data-confirmations={i.confirmations ?? ''} data-required={i.required ?? ''}>
          <Badge tone={STATE_TONE[i.state]} testid={testid + '-state'}>{chainWords(i)}</Badge>{' '}
          <span className='muted'>{i.source === 'wallet' ? 'paid from this wallet in' : 'seen paying your address in'}</span> tx <Mono value={i.txid} keep={8} />
          {i.reason && <div className={i.state === 'refused' ? 'field-error' : 'muted'}>{i.reason}</div>}
        </div>
      ))}
    </div>
  )
}

/** The transactions paying one record that this node knows of ({@link ChainProgress}'s data). */
export function useChainItems ({ book, project, posted, kind, refId }: { book: string; project: Project | undefined; posted: Posted | undefined; kind: PaymentKind; refId: string }): ChainItem[] {
  useWatcherVersion()
  const onBitcoin = project?.rail?.rail === 'bitcoin'
  const rail = useRailStatus()
  const tracked = useTracked(onBitcoin && !!rail.data)
  const payments = useQuery(async () => onBitcoin ? await send('payment.list', { book }) : [], [book, onBitcoin], ['book.changed'])
  if (!onBitcoin) return []
  return chainItems({
    book, kind, refId, project,
    payments: payments.data ?? [],
    tracked: tracked.data ?? [],
    pending: rail.data?.watcher.pending ?? [],
    postedAddress: posted?.addresses.find((a) => a.kind === kind && a.ref === refId)?.address,
    events: watcherEvents(book, kind, refId)
  })
}

/**
 * The originator's "Pay all investors in one transaction" (`payment.pay` kind distribution without
 * ref): one Bitcoin transaction paying every investor what is owed to the address it posted;
 * investors who posted none are listed as skipped, with the reason. Only with a backend.
 */
export function PayAllInvestors ({ book, testid = 'pay-all-investors' }: { book: string; testid?: string }) {
  const toast = useToast()
  const rail = useRailStatus()
  const [shown, setShown] = useState(true)
  const pay = useAction(async () => {
    const r = await send('payment.pay', { book, kind: 'distribution' })
    setShown(true)
    toast(`Paid ${r.outputs.length} investor${r.outputs.length === 1 ? '' : 's'} ${btcText(r.amount)} BTC in one transaction`)
    return r
  })
  const btc = rail.data
  if (!btc) return null
  const r = pay.result
  return (
    <div className='stack' style={{ gap: 4 }} data-testid={testid + '-box'}>
      <div className='row'>
        <Button variant='primary' busy={pay.running} disabled={!btc.backend.reachable} testid={testid} onClick={() => { pay.run() }}>Pay all investors in one transaction</Button>
        <span className='small muted'>from this node's Bitcoin wallet ({btc.network})</span>
      </div>
      {!btc.backend.reachable && <Alert testid={testid + '-unreachable'}>The Bitcoin backend at {btc.backend.url} does not answer{btc.backend.error ? `: ${btc.backend.error}` : ''}.</Alert>}
      <Alert error={pay.error} testid={testid + '-error'} />
      {r && shown && (
        <div className='small' data-testid={testid + '-result'} data-txid={r.txid}>
          {r.reused ? 'Already paid in' : 'Paid in'} tx <Mono value={r.txid} keep={8} />: {btcText(r.amount)} BTC to {r.outputs.length} investor{r.outputs.length === 1 ? '' : 's'}, fee {r.fee} sats.
          {r.skipped.length > 0 && <ul>{r.skipped.map((x) => <li key={x.ref} data-testid={testid + '-skipped'}>funding {x.ref.slice(0, 8)}: {btcText(x.amount)} BTC not paid: {x.reason}</li>)}</ul>}
          <Button small variant='ghost' onClick={() => setShown(false)}>Hide</Button>
        </div>
      )}
    </div>
  )
}
