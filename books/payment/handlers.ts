/**
 * Handlers for payment ops. A payment's kind decides who pays whom and what its
 * confirmation does:
 *   funding       investor -> originator    confirms the funding (it now counts)
 *   disbursement  originator -> borrower    loan becomes disbursed (within confirmed funding)
 *   repayment     borrower -> originator    interest first, then principal; shared among investors
 *   distribution  originator -> investor    pays out an investor's accrued shares
 */
import type { ApplyContext, Handler } from '../apply.ts'
import type { BookMeta, Payment, Project } from '../entities.ts'
import type { PaymentKind } from '../ops/types.ts'
import { cancelPayment, confirmPayment, disputePayment, recordPayment } from './machine.ts'
import { notBefore } from '../clock.ts'
import { applyRepayment, checkRepayment, markDisbursed, unapplyRepayment } from '../loan/machine.ts'
import { checkDistribution, confirmFunding, shareRepayment } from '../funding/machine.ts'
import type { DidKey } from '../../core/identity/did-key.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const paymentRecord: Handler = async (ctx) => {
  const op = ctx.op as Of<'payment/record'>
  if (await ctx.get('payments', op.paymentId)) return `payment ${op.paymentId} already exists`
  const project = await projectOf(ctx, op.kind, op.ref)
  if (project?.rail) return `this project's payments move on ${project.rail.rail}: prove them (payment/prove), they are not recorded by hand`
  const originator = (ctx.meta as BookMeta).originator
  const payee = await reservePayment(ctx, op, originator)
  if (typeof payee !== 'object') return payee
  const r = recordPayment(null, op, op.signer, payee.did, op.ts)
  if (!r.ok) return r.reason
  ctx.put('payments', op.paymentId, r.value)
  return null
}

/** Checks the payment against what it pays for and reserves it there; returns the payee or a reason. */
/** The facts of a payment being recorded or proven: what reservePayment checks and reserves. */
export type PaymentFactsOp = Pick<Of<'payment/record'>, 'paymentId' | 'kind' | 'ref' | 'amount' | 'currency' | 'signer' | 'ts'>

/**
 * Checks the payment against what it pays for and reserves it there.
 * @returns the payee, or the reason the payment cannot be made
 */
export async function reservePayment (ctx: ApplyContext, op: PaymentFactsOp, originator: DidKey): Promise<{ did: DidKey } | string> {
  switch (op.kind) {
    case 'funding': {
      const f = await ctx.get('fundings', op.ref)
      if (!f) return `no funding ${op.ref}`
      if (f.investor !== op.signer) return 'only the investor who committed a funding pays it'
      const early = notBefore(op.ts, f.committedAt, 'the funding commitment')
      if (early) return early
      if (f.status !== 'committed' || f.paymentId !== null) return 'funding is already paid'
      if (op.amount !== f.amount || op.currency !== f.currency) return `funding payment must be exactly ${f.amount} ${f.currency}`
      ctx.put('fundings', f.fundingId, { ...f, paymentId: op.paymentId })
      return { did: originator }
    }
    case 'disbursement': {
      if (op.signer !== originator) return 'only the originator disburses loans'
      const loan = await ctx.get('loans', op.ref)
      if (!loan) return `no loan ${op.ref}`
      if (loan.status !== 'approved') return `cannot disburse a ${loan.status} loan`
      const early = notBefore(op.ts, loan.updatedAt, 'the loan\'s approval')
      if (early) return early
      if (loan.disbursementPaymentId !== null) return 'loan disbursement already recorded'
      const project = await ctx.get('projects', loan.projectId)
      if (!project) return `no project ${loan.projectId}`
      if (loan.currency !== project.terms.currency) return `loan is in ${loan.currency}, the project's funding in ${project.terms.currency}`
      const net = loan.amount - project.terms.disbursementFee
      if (op.amount !== net || op.currency !== loan.currency) return `disbursement must be exactly ${net} ${loan.currency} (principal less the ${project.terms.disbursementFee} fee)`
      const available = project.confirmedFunding - project.disbursed
      if (loan.amount > available) return `disbursing ${loan.amount} exceeds the project's confirmed funding still available (${available})`
      ctx.put('projects', project.projectId, { ...project, disbursed: project.disbursed + loan.amount, updatedAt: op.ts })
      ctx.put('loans', loan.loanId, { ...loan, disbursementPaymentId: op.paymentId, updatedAt: op.ts })
      return { did: loan.borrower }
    }
    case 'repayment': {
      const loan = await ctx.get('loans', op.ref)
      if (!loan) return `no loan ${op.ref}`
      if (loan.borrower !== op.signer) return 'only the borrower repays a loan'
      if (op.currency !== loan.currency) return `repayment currency must be ${loan.currency}`
      const early = notBefore(op.ts, loan.appliedAt, 'the loan\'s application')
      if (early) return early
      const r = checkRepayment(loan, op.amount)
      if (!r.ok) return r.reason
      ctx.put('loans', loan.loanId, r.value)
      return { did: originator }
    }
    case 'distribution': {
      if (op.signer !== originator) return 'only the originator distributes to investors'
      const f = await ctx.get('fundings', op.ref)
      if (!f) return `no funding ${op.ref}`
      if (f.investor === null) return 'this funding came from a zap: its zapper is no member, so there is no one in the book to distribute to'
      if (op.currency !== f.currency) return `distribution currency must be ${f.currency}`
      const early = notBefore(op.ts, f.committedAt, 'the funding commitment')
      if (early) return early
      const r = checkDistribution(f, op.amount)
      if (!r.ok) return r.reason
      ctx.put('fundings', f.fundingId, r.value)
      return { did: f.investor }
    }
  }
}

export const paymentConfirm: Handler = async (ctx) => {
  const op = ctx.op as Of<'payment/confirm'>
  const p = await ctx.get('payments', op.paymentId)
  if (!p) return `no payment ${op.paymentId}`
  const early = notBefore(op.ts, p.recordedAt, 'the payment\'s record')
  if (early) return early
  const r = confirmPayment(p, op.signer, op.ts)
  if (!r.ok) return r.reason
  const reason = await settle(ctx, r.value, op.ts)
  if (reason) return reason
  ctx.put('payments', p.paymentId, r.value)
  return null
}

/** What a confirmed payment changes in the thing it pays for. */
export async function settle (ctx: ApplyContext, p: Payment, ts: number): Promise<string | null> {
  switch (p.kind) {
    case 'funding': {
      const f = await ctx.get('fundings', p.ref)
      const project = f && await ctx.get('projects', f.projectId)
      if (!f || !project) return 'funding or its project is missing'
      const r = confirmFunding(f, project, p.paymentId, ts)
      if (!r.ok) return r.reason
      ctx.put('fundings', f.fundingId, r.value.funding)
      ctx.put('projects', project.projectId, r.value.project)
      return null
    }
    case 'disbursement': {
      const loan = await ctx.get('loans', p.ref)
      if (!loan) return `no loan ${p.ref}`
      const r = markDisbursed(loan, ts)
      if (!r.ok) return r.reason
      ctx.put('loans', loan.loanId, r.value)
      return null
    }
    case 'repayment': {
      const loan = await ctx.get('loans', p.ref)
      const project = loan && await ctx.get('projects', loan.projectId)
      if (!loan || !project) return 'loan or its project is missing'
      if (loan.currency !== p.currency || project.terms.currency !== p.currency) return `repayment in ${p.currency} for a ${loan.currency} loan of a ${project.terms.currency} project`
      const r = applyRepayment(loan, p.amount, ts)
      if (!r.ok) return r.reason
      ctx.put('loans', loan.loanId, r.value)
      const fundings = []
      for (const id of project.fundingIds) {
        const f = await ctx.get('fundings', id)
        if (f) fundings.push(f)
      }
      for (const d of shareRepayment(fundings, { paymentId: p.paymentId, loanId: loan.loanId, amount: p.amount, currency: p.currency }, ts)) {
        ctx.put('distributions', `${d.paymentId}/${d.fundingId}`, d)
        const f = fundings.find((x) => x.fundingId === d.fundingId)
        if (f) ctx.put('fundings', f.fundingId, { ...f, entitled: f.entitled + d.amount })
      }
      return null
    }
    case 'distribution':
      return null
  }
}

export const paymentDispute: Handler = async (ctx) => {
  const op = ctx.op as Of<'payment/dispute'>
  const p = await ctx.get('payments', op.paymentId)
  if (!p) return `no payment ${op.paymentId}`
  const r = disputePayment(p, op.signer, op.reason, op.ts)
  if (!r.ok) return r.reason
  ctx.put('payments', p.paymentId, r.value)
  return null
}

/** The payer cancels its unconfirmed payment: what the record reserved is released. */
export const paymentCancel: Handler = async (ctx) => {
  const op = ctx.op as Of<'payment/cancel'>
  const p = await ctx.get('payments', op.paymentId)
  if (!p) return `no payment ${op.paymentId}`
  const r = cancelPayment(p, op.signer, op.reason, op.ts)
  if (!r.ok) return r.reason
  const reason = await release(ctx, p, op.ts)
  if (reason) return reason
  ctx.put('payments', p.paymentId, r.value)
  return null
}

/**
 * Undoes everything a confirmed payment did (the inverse of reservePayment then settle): a
 * funding is committed again and no longer counts; a disbursed loan is approved again and its
 * principal back in the project; a repayment is taken off the schedule and its investors' shares
 * reversed; a distribution no longer counts as paid. What followed from it stays recorded: a
 * project that disbursed more than its funding now shows it, an investor paid past what it is
 * entitled to shows it.
 * @returns null, or the reason it cannot be undone
 */
export async function unwind (ctx: ApplyContext, p: Payment, ts: number): Promise<string | null> {
  switch (p.kind) {
    case 'funding': {
      const f = await ctx.get('fundings', p.ref)
      const project = f && await ctx.get('projects', f.projectId)
      if (!f || !project) return 'funding or its project is missing'
      if (f.status === 'confirmed' && f.paymentId === p.paymentId) {
        ctx.put('fundings', f.fundingId, { ...f, status: 'committed' })
        ctx.put('projects', project.projectId, { ...project, confirmedFunding: project.confirmedFunding - f.amount, fundingIds: project.fundingIds.filter((id) => id !== f.fundingId), updatedAt: ts })
      }
      return await release(ctx, p, ts)
    }
    case 'disbursement': {
      const loan = await ctx.get('loans', p.ref)
      if (!loan) return `no loan ${p.ref}`
      if (loan.disbursementPaymentId === p.paymentId && (loan.status === 'disbursed' || loan.status === 'repaid')) {
        ctx.put('loans', loan.loanId, { ...loan, status: 'approved', updatedAt: ts })
      }
      return await release(ctx, p, ts)
    }
    case 'repayment': {
      const loan = await ctx.get('loans', p.ref)
      const project = loan && await ctx.get('projects', loan.projectId)
      if (!loan || !project) return 'loan or its project is missing'
      const r = unapplyRepayment(loan, p.amount, ts)
      if (!r.ok) return r.reason
      ctx.put('loans', loan.loanId, r.value)
      for (const id of project.fundingIds) {
        const d = await ctx.get('distributions', `${p.paymentId}/${id}`)
        const f = await ctx.get('fundings', id)
        if (!d || !f || d.reversedAt !== undefined) continue
        ctx.put('distributions', `${p.paymentId}/${id}`, { ...d, reversedAt: ts })
        ctx.put('fundings', id, { ...f, entitled: f.entitled - d.amount })
      }
      return null
    }
    case 'distribution':
      return await release(ctx, p, ts)
  }
}

/** Undoes what recording `p` reserved in the thing it pays for (the inverse of reservePayment). */
async function release (ctx: ApplyContext, p: Payment, ts: number): Promise<string | null> {
  switch (p.kind) {
    case 'funding': {
      const f = await ctx.get('fundings', p.ref)
      if (!f) return `no funding ${p.ref}`
      if (f.paymentId === p.paymentId) ctx.put('fundings', f.fundingId, { ...f, paymentId: null })
      return null
    }
    case 'disbursement': {
      const loan = await ctx.get('loans', p.ref)
      const project = loan && await ctx.get('projects', loan.projectId)
      if (!loan || !project) return 'loan or its project is missing'
      if (loan.disbursementPaymentId !== p.paymentId) return null
      ctx.put('loans', loan.loanId, { ...loan, disbursementPaymentId: null, updatedAt: ts })
      ctx.put('projects', project.projectId, { ...project, disbursed: project.disbursed - loan.amount, updatedAt: ts })
      return null
    }
    case 'repayment': {
      const loan = await ctx.get('loans', p.ref)
      if (!loan) return `no loan ${p.ref}`
      ctx.put('loans', loan.loanId, { ...loan, pendingRepayment: Math.max(0, loan.pendingRepayment - p.amount) })
      return null
    }
    case 'distribution': {
      const f = await ctx.get('fundings', p.ref)
      if (!f) return `no funding ${p.ref}`
      ctx.put('fundings', f.fundingId, { ...f, distributed: f.distributed - p.amount })
      return null
    }
  }
}

/** @returns the project a payment of `kind` for `ref` (a funding or loan id) belongs to, or null */
export async function projectOf (ctx: ApplyContext, kind: PaymentKind, ref: string): Promise<Project | null> {
  const owner = kind === 'funding' || kind === 'distribution' ? await ctx.get('fundings', ref) : await ctx.get('loans', ref)
  return owner ? await ctx.get('projects', owner.projectId) : null
}

/** @returns who pays a payment of `kind` for `ref`: the investor, the originator or the borrower; null when `ref` does not exist */
export async function payerOf (ctx: ApplyContext, kind: PaymentKind, ref: string): Promise<DidKey | null> {
  const originator = (ctx.meta as BookMeta).originator
  if (kind === 'funding') return (await ctx.get('fundings', ref))?.investor ?? null
  if (kind === 'distribution') return (await ctx.get('fundings', ref)) ? originator : null
  if (kind === 'repayment') return (await ctx.get('loans', ref))?.borrower ?? null
  return (await ctx.get('loans', ref)) ? originator : null
}

/** @returns who is paid by a payment of `kind` for `ref`: the originator, the borrower or the investor; null when `ref` does not exist */
export async function payeeOf (ctx: ApplyContext, kind: PaymentKind, ref: string): Promise<DidKey | null> {
  const originator = (ctx.meta as BookMeta).originator
  if (kind === 'funding') return (await ctx.get('fundings', ref)) ? originator : null
  if (kind === 'distribution') return (await ctx.get('fundings', ref))?.investor ?? null
  const loan = await ctx.get('loans', ref)
  if (!loan) return null
  return kind === 'disbursement' ? loan.borrower : originator
}
