/**
 * Payments on the Bitcoin rail: the payee posts where it wants to be paid, the payer proves the
 * payment. A proof is checked offline and deterministically (books/proofs/bitcoin-spv.ts): the
 * transaction, its inclusion in a block, that block's and the following headers' work, the
 * output to the posted address and its amount. A proven payment is recorded and confirmed by the
 * same op: no payee's word is needed, and no payee can withhold it.
 *
 * Rules: a receiving address is set once per (kind, ref) by that payment's payee, is an address
 * of the project's network, and is never given to a second (kind, ref); an output (txid:vout)
 * proves one payment only.
 */
import type { Handler } from '../apply.ts'
import type { Payment, ReceivingAddress } from '../entities.ts'
import { verifyBitcoinPayment, addressToScript } from '../proofs/bitcoin-spv.ts'
import { recordPayment } from './machine.ts'
import { payeeOf, projectOf, reservePayment, settle } from './handlers.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const paymentAddress: Handler = async (ctx) => {
  const op = ctx.op as Of<'payment/address'>
  const project = await projectOf(ctx, op.kind, op.ref)
  if (!project) return `no ${op.kind === 'funding' || op.kind === 'distribution' ? 'funding' : 'loan'} ${op.ref}`
  if (!project.rail) return 'this project\'s payments are manual: there is no address to post'
  const payee = await payeeOf(ctx, op.kind, op.ref)
  if (payee !== op.signer) return `only the payee of this ${op.kind} posts where it is paid`
  const valid = addressToScript(op.address, project.rail.network)
  if (!valid.ok) return `not a receiving address on ${project.rail.network}: ${valid.reason}`
  const key = `${op.kind}/${op.ref}`
  if (await ctx.get('addresses', key) !== null) return `the ${op.kind} address of ${op.ref} is already posted: an address never changes once payers may have used it`
  const used = await ctx.get('addresses', `used/${op.address}`)
  if (used !== null) return `address ${op.address} was already given to ${String(used)}: addresses are never reused`
  const rec: ReceivingAddress = { kind: op.kind, ref: op.ref, address: op.address, payee, at: op.ts }
  ctx.put('addresses', key, rec)
  ctx.put('addresses', `used/${op.address}`, key)
  return null
}

export const paymentProve: Handler = async (ctx) => {
  const op = ctx.op as Of<'payment/prove'>
  if (await ctx.get('payments', op.paymentId)) return `payment ${op.paymentId} already exists`
  const project = await projectOf(ctx, op.kind, op.ref)
  if (!project) return `no ${op.kind === 'funding' || op.kind === 'distribution' ? 'funding' : 'loan'} ${op.ref}`
  if (!project.rail) return 'this project\'s payments are manual: record and confirm them'
  const posted = await ctx.get('addresses', `${op.kind}/${op.ref}`) as ReceivingAddress | null
  if (!posted) return `the payee has not posted a ${op.kind} address for ${op.ref}: nothing can be proven paid to it`
  const checked = verifyBitcoinPayment({
    network: project.rail.network,
    rawTx: op.proof.rawTx,
    txoutproof: op.proof.txoutproof,
    headers: op.proof.headers,
    expect: { address: posted.address, minAmountSats: BigInt(op.amount), minConfirmations: project.rail.confirmations }
  })
  if (!checked.ok) return `payment proof refused: ${checked.reason}`
  for (const vout of checked.vouts) {
    const spent = await ctx.get('outpoints', `${checked.txid}:${vout}`)
    if (spent !== null) return `output ${checked.txid}:${vout} already proves payment ${spent}`
  }
  const originator = ctx.meta?.originator
  if (!originator) return 'book not created yet'
  const payee = await reservePayment(ctx, op, originator)
  if (typeof payee !== 'object') return payee
  if (payee.did !== posted.payee) return 'the posted address is not the payee\'s'
  const recorded = recordPayment(null, { paymentId: op.paymentId, kind: op.kind, ref: op.ref, amount: op.amount, currency: op.currency, rail: 'manual', reference: checked.txid }, op.signer, payee.did, op.ts)
  if (!recorded.ok) return recorded.reason
  const proven: Payment = {
    ...recorded.value,
    rail: 'bitcoin',
    status: 'confirmed',
    confirmedAt: op.ts,
    proof: { txid: checked.txid, vouts: checked.vouts, blockHash: checked.blockHash, confirmations: checked.confirmations }
  }
  const reason = await settle(ctx, proven, op.ts)
  if (reason) return reason
  for (const vout of checked.vouts) ctx.put('outpoints', `${checked.txid}:${vout}`, op.paymentId)
  ctx.put('payments', op.paymentId, proven)
  return null
}
