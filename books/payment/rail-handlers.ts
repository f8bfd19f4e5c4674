/**
 * Payments on the Bitcoin and Lightning rails: the payee posts where it wants to be paid (an
 * address, or a BOLT 11 invoice signed by the node key it registered), the payer proves the
 * payment (transaction + inclusion proof + headers, or the invoice's preimage). A proof is checked offline and deterministically (books/proofs/bitcoin-spv.ts): the
 * transaction, its inclusion in a block, that block's and the following headers' work, the
 * output to the posted address and its amount. A proven payment is recorded and confirmed by the
 * same op: no payee's word is needed, and no payee can withhold it.
 *
 * Rules: a receiving address is set once per (kind, ref) by that payment's payee, is an address
 * of the project's network, and is never given to a second (kind, ref); an output (txid:vout)
 * proves one payment only. A proof may be submitted by the payer or by the payee (whose node
 * watches its addresses); the payment is the payer's either way.
 *
 * Reorganisations: any member may submit a header branch that conflicts with a proven payment's
 * block and carries more work (payment/reorg). The payment becomes `reorged`: what it settled and
 * reserved is undone, and its outputs are free to prove a payment again (the same transaction,
 * mined again on the new chain, usually is).
 */
import type { Handler } from '../apply.ts'
import type { BitcoinPaymentRecord, Payment, PostedInvoice, ProjectRail, ReceivingAddress, RootstockRail } from '../entities.ts'
import type { BitcoinNetwork, BitcoinProof, LightningProof, RootstockProof } from '../ops/types.ts'
import { verifyBitcoinPayment, addressToScript, checkReorganisation } from '../proofs/bitcoin-spv.ts'
import { verifyRootstockPayment, checksumChainId } from '../proofs/rootstock-receipt.ts'
import { checkChecksumAddress } from '../../core/wallet/bip44-rootstock.ts'
import { decodeBolt11 } from '../proofs/bolt11.ts'
import { checkLightningPayment } from '../proofs/lightning.ts'
import { recordPayment } from './machine.ts'
import { payeeOf, payerOf, projectOf, reservePayment, settle, unwind } from './handlers.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const paymentAddress: Handler = async (ctx) => {
  const op = ctx.op as Of<'payment/address'>
  const project = await projectOf(ctx, op.kind, op.ref)
  if (!project) return `no ${op.kind === 'funding' || op.kind === 'distribution' ? 'funding' : 'loan'} ${op.ref}`
  if (!project.rail) return 'this project\'s payments are manual: there is no address to post'
  const payee = await payeeOf(ctx, op.kind, op.ref)
  if (payee !== op.signer) return `only the payee of this ${op.kind} posts where it is paid`
  const valid = checkAddress(op.address, project.rail)
  if (valid) return valid
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
  const rail = project.rail
  if (!rail) return 'this project\'s payments are manual: record and confirm them'
  if (op.rail !== rail.rail) return `this project's payments move on ${rail.rail}, not ${op.rail}`
  const proven = rail.rail === 'bitcoin' ? await bitcoinProof(ctx, op, rail) : rail.rail === 'rootstock' ? await rootstockProof(ctx, op, rail) : await lightningProof(ctx, op, rail.network)
  if (typeof proven === 'string') return proven
  const originator = ctx.meta?.originator
  if (!originator) return 'book not created yet'
  const payer = await payerOf(ctx, op.kind, op.ref)
  if (payer === null) return `no ${op.kind === 'funding' || op.kind === 'distribution' ? 'funding' : 'loan'} ${op.ref}`
  if (op.signer !== payer && op.signer !== proven.payee) return `only the payer or the payee of this ${op.kind} proves it`
  const payee = await reservePayment(ctx, { ...op, signer: payer }, originator)
  if (typeof payee !== 'object') return payee
  if (payee.did !== proven.payee) return 'the proof pays someone other than this payment\'s payee'
  const recorded = recordPayment(null, { paymentId: op.paymentId, kind: op.kind, ref: op.ref, amount: op.amount, currency: op.currency, rail: 'manual', reference: proven.reference }, payer, payee.did, op.ts)
  if (!recorded.ok) return recorded.reason
  // Rootstock's merge-mined work is not checked here: a proof there is the payer's evidence, and
  // only the payee's signature (its own proof, or payment/confirm) confirms the payment
  const awaitsPayee = rail.rail === 'rootstock' && op.signer !== payee.did
  const payment: Payment = awaitsPayee
    ? { ...recorded.value, rail: rail.rail, proof: proven.proof }
    : { ...recorded.value, rail: rail.rail, status: 'confirmed', confirmedAt: op.ts, proof: proven.proof }
  if (!awaitsPayee) {
    const reason = await settle(ctx, payment, op.ts)
    if (reason) return reason
  }
  for (const key of proven.spent) ctx.put('outpoints', key, op.paymentId)
  ctx.put('payments', op.paymentId, payment)
  return null
}

/** @returns null when `address` is a receiving address of the rail's chain, else why not */
function checkAddress (address: string, rail: ProjectRail): string | null {
  if (rail.rail === 'rootstock') {
    const c = checkChecksumAddress(address, checksumChainId(rail.chainId))
    return c.ok ? null : `not a receiving address on Rootstock chain ${rail.chainId}: ${c.reason}`
  }
  const valid = addressToScript(address, rail.network)
  return valid.ok ? null : `not a receiving address on ${rail.network}: ${valid.reason}`
}

/** @returns the payment an output (or preimage) proves, or null when none does: a reorganised-out payment proves nothing */
async function spentBy (ctx: Parameters<Handler>[0], key: string): Promise<string | null> {
  const by = await ctx.get('outpoints', key)
  if (by === null) return null
  const p = await ctx.get('payments', by)
  return p?.status === 'reorged' ? null : by
}

/** What a checked proof establishes: whom it pays, what it spends (each key proves one payment), what the payment record keeps. */
interface Proven { payee: string; spent: string[]; reference: string; proof: NonNullable<Payment['proof']> }

async function bitcoinProof (ctx: Parameters<Handler>[0], op: Of<'payment/prove'>, rail: { network: BitcoinNetwork; confirmations: number; minWork?: string }): Promise<Proven | string> {
  const proof = op.proof as Partial<BitcoinProof & LightningProof>
  if (proof.rawTx === undefined || proof.txoutproof === undefined || proof.headers === undefined || proof.invoice !== undefined) return 'a bitcoin proof is a raw transaction, its txoutproof and the headers after its block'
  const posted = await ctx.get('addresses', `${op.kind}/${op.ref}`) as ReceivingAddress | null
  if (!posted) return `the payee has not posted a ${op.kind} address for ${op.ref}: nothing can be proven paid to it`
  const checked = verifyBitcoinPayment({
    network: rail.network,
    rawTx: proof.rawTx,
    txoutproof: proof.txoutproof,
    headers: proof.headers,
    expect: { address: posted.address, minAmountSats: BigInt(op.amount), minConfirmations: rail.confirmations, ...(rail.minWork !== undefined ? { minWork: BigInt(rail.minWork) } : {}) }
  })
  if (!checked.ok) return `payment proof refused: ${checked.reason}`
  const orphanedBy = await ctx.get('outpoints', `orphaned/${checked.blockHash}`)
  if (orphanedBy !== null && checked.work <= BigInt(orphanedBy)) return `block ${checked.blockHash} was reorganised out by a branch of ${orphanedBy} work; this proof's chain carries only ${checked.work}`
  const spent = checked.vouts.map((vout) => `${checked.txid}:${vout}`)
  for (const key of spent) {
    const by = await spentBy(ctx, key)
    if (by !== null) return `output ${key} already proves payment ${by}`
  }
  const record: BitcoinPaymentRecord = { txid: checked.txid, vouts: checked.vouts, blockHash: checked.blockHash, prevHash: checked.prevHash, work: checked.work.toString(), confirmations: checked.confirmations }
  return { payee: posted.payee, spent, reference: checked.txid, proof: record }
}

async function rootstockProof (ctx: Parameters<Handler>[0], op: Of<'payment/prove'>, rail: RootstockRail): Promise<Proven | string> {
  const proof = op.proof as Partial<RootstockProof & BitcoinProof & LightningProof>
  if (proof.rawTx === undefined || proof.receipt === undefined || proof.header === undefined || proof.txIndex === undefined || proof.txProof === undefined || proof.receiptProof === undefined ||
    proof.txoutproof !== undefined || proof.invoice !== undefined) return 'a rootstock proof is a raw transaction, its receipt, the block header, its index and the two trie proofs'
  const posted = await ctx.get('addresses', `${op.kind}/${op.ref}`) as ReceivingAddress | null
  if (!posted) return `the payee has not posted a ${op.kind} address for ${op.ref}: nothing can be proven paid to it`
  const minAmount = BigInt(op.amount) * 10n ** BigInt(rail.unitExponent)
  const checked = await verifyRootstockPayment({
    rawTx: proof.rawTx, receipt: proof.receipt, header: proof.header, txIndex: proof.txIndex, txProof: proof.txProof, receiptProof: proof.receiptProof,
    expect: { chainId: rail.chainId, to: posted.address, minAmount, token: rail.token }
  })
  if (!checked.ok) return `payment proof refused: ${checked.reason}`
  // a native payment is the whole transaction; a token payment is its Transfer logs to the payee
  const spent = checked.token === null ? [`rsk:${checked.txHash}`] : checked.logIndexes.map((i) => `rsk:${checked.txHash}:${i}`)
  for (const key of spent) {
    const by = await spentBy(ctx, key)
    if (by !== null) return `transaction ${checked.txHash} already proves payment ${by}`
  }
  return { payee: posted.payee, spent, reference: checked.txHash, proof: { txHash: checked.txHash, blockHash: checked.blockHash, blockNumber: checked.blockNumber, chainId: checked.chainId, from: checked.from, token: checked.token, amount: checked.amount.toString() } }
}

async function lightningProof (ctx: Parameters<Handler>[0], op: Of<'payment/prove'>, network: BitcoinNetwork): Promise<Proven | string> {
  const proof = op.proof as Partial<BitcoinProof & LightningProof>
  if (proof.invoice === undefined || proof.preimage === undefined || proof.rawTx !== undefined) return 'a lightning proof is the posted invoice and its preimage'
  const decoded = decodeBolt11(proof.invoice)
  if (!decoded.ok) return `invoice refused: ${decoded.reason}`
  const posted = await ctx.get('addresses', `invoice/${decoded.invoice.paymentHash}`) as PostedInvoice | null
  if (!posted || posted.kind !== op.kind || posted.ref !== op.ref) return `no invoice with this payment hash was posted for this ${op.kind} of ${op.ref}`
  const checked = checkLightningPayment({ invoice: proof.invoice, preimage: proof.preimage, expect: { payeeNodeKey: posted.nodeKey, amountMsat: BigInt(op.amount) * 1000n, network, paidAt: op.ts } })
  if (!checked.ok) return `payment proof refused: ${checked.reason}`
  const key = `ln:${checked.paymentHash}`
  const by = await spentBy(ctx, key)
  if (by !== null) return `the preimage of ${checked.paymentHash} already proves payment ${by}`
  return { payee: posted.payee, spent: [key], reference: checked.paymentHash, proof: { paymentHash: checked.paymentHash, invoice: posted.invoice } }
}

/** A member registers the Lightning node key its invoices are signed with (a new key applies to invoices posted after). */
export const lightningNode: Handler = async (ctx) => {
  const op = ctx.op as Of<'lightning/node'>
  ctx.put('addresses', `lightning/${op.signer}`, op.nodeKey)
  return null
}

/**
 * The payee posts the BOLT 11 invoice for one payment: signed by the node key it registered, for
 * the project's network and an amount; a payment hash is posted once.
 */
export const paymentInvoice: Handler = async (ctx) => {
  const op = ctx.op as Of<'payment/invoice'>
  const project = await projectOf(ctx, op.kind, op.ref)
  if (!project) return `no ${op.kind === 'funding' || op.kind === 'distribution' ? 'funding' : 'loan'} ${op.ref}`
  if (project.rail?.rail !== 'lightning') return 'this project\'s payments are not on Lightning'
  const payee = await payeeOf(ctx, op.kind, op.ref)
  if (payee !== op.signer) return `only the payee of this ${op.kind} posts its invoice`
  const nodeKey = await ctx.get('addresses', `lightning/${op.signer}`) as string | null
  if (nodeKey === null) return 'register your Lightning node key first (lightning/node)'
  const decoded = decodeBolt11(op.invoice)
  if (!decoded.ok) return `invoice refused: ${decoded.reason}`
  const inv = decoded.invoice
  if (inv.network !== project.rail.network) return `the invoice is for ${inv.network}, the project pays on ${project.rail.network}`
  if (inv.payeeNodeKey !== nodeKey) return `the invoice is signed by node ${inv.payeeNodeKey}, not by the key you registered`
  if (inv.amountMsat === null) return 'an invoice without an amount proves nothing about what was paid'
  const key = `invoice/${inv.paymentHash}`
  if (await ctx.get('addresses', key) !== null) return `an invoice with payment hash ${inv.paymentHash} was already posted`
  const rec: PostedInvoice = { kind: op.kind, ref: op.ref, invoice: inv.paymentRequest, paymentHash: inv.paymentHash, amountMsat: inv.amountMsat.toString(), payee, nodeKey, at: op.ts }
  ctx.put('addresses', key, rec)
  return null
}

/**
 * A heavier branch without a proven payment's block: the payment is no longer counted. Its
 * settlement and reservation are undone (books/payment/handlers.ts unwind) and its
 * outputs freed, so the transaction, if mined again, proves the payment again.
 */
export const paymentReorg: Handler = async (ctx) => {
  const op = ctx.op as Of<'payment/reorg'>
  const p = await ctx.get('payments', op.paymentId)
  if (!p) return `no payment ${op.paymentId}`
  if (p.rail !== 'bitcoin' || !p.proof || !('txid' in p.proof)) return 'only a payment proven on the Bitcoin rail can be reorganised out'
  if (p.status !== 'confirmed') return `payment ${op.paymentId} is ${p.status}, not a counted payment`
  const project = await projectOf(ctx, p.kind, p.ref)
  if (project?.rail?.rail !== 'bitcoin') return 'the payment\'s project is not on the Bitcoin rail'
  const proof = p.proof
  if (typeof proof.prevHash !== 'string' || typeof proof.work !== 'string') return 'this proof was recorded without its chain position: it cannot be compared with a branch'
  const checked = checkReorganisation({ network: project.rail.network, proven: { blockHash: proof.blockHash, prevHash: proof.prevHash, work: BigInt(proof.work) }, ancestors: op.ancestors, branch: op.branch })
  if (!checked.ok) return `no reorganisation: ${checked.reason}`
  const reason = await unwind(ctx, p, op.ts)
  if (reason) return reason
  // the old block stays out unless a later proof's chain outweighs the branch that replaced it
  const key = `orphaned/${proof.blockHash}`
  const before = await ctx.get('outpoints', key)
  if (before === null || BigInt(before) < checked.branchWork) ctx.put('outpoints', key, checked.branchWork.toString())
  ctx.put('payments', p.paymentId, { ...p, status: 'reorged', reason: `reorganised out: a branch from block ${checked.forkHash} carries ${checked.branchWork} work, more than the ${checked.provenWork} of the chain it was proven on`, resolvedAt: op.ts })
  return null
}
