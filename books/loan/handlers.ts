/** Handlers for loan ops. Disbursement and repayment arrive as payments (books/payment). */
import type { Handler } from '../apply.ts'
import { applyForLoan, approveLoan, defaultLoan, rejectLoan, withdrawLoan } from './machine.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const loanApply: Handler = async (ctx) => {
  const op = ctx.op as Of<'loan/apply'>
  const project = await ctx.get('projects', op.projectId)
  if (!project) return `no project ${op.projectId}`
  const r = applyForLoan(await ctx.get('loans', op.loanId), project, op.signer, op, op.ts)
  if (!r.ok) return r.reason
  ctx.put('loans', op.loanId, r.value)
  return null
}

export const loanWithdraw: Handler = async (ctx) => {
  const op = ctx.op as Of<'loan/withdraw'>
  const loan = await ctx.get('loans', op.loanId)
  if (!loan) return `no loan ${op.loanId}`
  if (loan.borrower !== op.signer) return 'only the applicant may withdraw an application'
  const r = withdrawLoan(loan, op.ts)
  if (!r.ok) return r.reason
  ctx.put('loans', op.loanId, r.value)
  return null
}

export const loanDecide: Handler = async (ctx) => {
  const op = ctx.op as Of<'loan/approve' | 'loan/reject' | 'loan/default'>
  const loan = await ctx.get('loans', op.loanId)
  if (!loan) return `no loan ${op.loanId}`
  const project = await ctx.get('projects', loan.projectId)
  if (!project) return `no project ${loan.projectId}`
  const r = op.type === 'loan/approve'
    ? approveLoan(loan, project, op.ts)
    : op.type === 'loan/reject'
      ? rejectLoan(loan, op.reason, op.ts)
      : defaultLoan(loan, project, op.ts)
  if (!r.ok) return r.reason
  ctx.put('loans', op.loanId, r.value)
  return null
}
