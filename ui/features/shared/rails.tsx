/**
 * Payment rails in the UI: where to pay a payment due on a project with a rail (the payee's
 * posted address as a BIP-21 URI with the exact amount, or its posted BOLT 11 invoice as a
 * `lightning:` URI, each with a QR code), posting one's own receiving address as a payee, and what
 * a settled payment rests on (a proof: txid and confirmations, or a preimage; or the payee's word).
 *
 * Reading what payees posted needs a contract method that lists a book's `addresses` view
 * (`payment.addresses`, proposed beside app/contract.ts). Until the core has it, `usePosted` asks
 * once, gets "unknown method", and the screens say only that a rail project's payee posts an
 * address; nothing else changes. Its answer is checked field by field before use.
 */
import type { Payment, Project } from '../../../books/entities.ts'
import type { PaymentKind } from '../../../books/ops/types.ts'
import { readPosted, type Posted } from '../../lib/posted.ts'
import { buildBip21, lightningUri, satsToBtc } from '../../../core/wallet/bip21.ts'
import { send, toContractError } from '../../lib/contract-client.ts'
import { useAction, useQuery, type Query } from '../../lib/hooks.ts'
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
 */
export function PayTo ({ project, posted, kind, refId, amount, label, message, testid = 'pay-to' }: {
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
