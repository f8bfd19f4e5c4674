/** Handlers for loan ops. Disbursement and repayment arrive as payments (books/payment). */
import type { Handler } from '../apply.ts'
import b4a from 'b4a'
import { applyForLoan, approveLoan, defaultLoan, rejectLoan, withdrawLoan } from './machine.ts'
import { checkAttestation } from '../../core/credentials/attestation.ts'
import type { Loan, LoanEligibility } from '../entities.ts'
import { trustKey } from '../view.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const loanApply: Handler = async (ctx) => {
  const op = ctx.op as Of<'loan/apply'>
  const project = await ctx.get('projects', op.projectId)
  if (!project) return `no project ${op.projectId}`
  let eligibility: LoanEligibility | null = null
  if (op.attestation) {
    const checked = await checkAttestation(op.attestation, { applicant: op.signer, book: b4a.toString(ctx.host.key, 'hex'), projectId: op.projectId, at: op.ts })
    if (!checked.ok) return `eligibility attestation refused: ${checked.reason}`
    const presentationHash = String((op.attestation.credentialSubject as { presentationHash?: unknown }).presentationHash)
    const used = await ctx.get('attested', presentationHash)
    if (used !== null) return `this eligibility attestation was already used by loan ${used}`
    ctx.put('attested', presentationHash, op.loanId)
    eligibility = { verifier: checked.verifier, eligible: checked.eligible, reasons: checked.reasons, presentationHash, attestation: op.attestation }
  }
  const r = applyForLoan(await ctx.get('loans', op.loanId), project, op.signer, op, eligibility, op.ts)
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
    ? approveLoan(loan, project, await trustedVerifiers(ctx, loan), op.ts)
    : op.type === 'loan/reject'
      ? rejectLoan(loan, op.reason, op.ts)
      : defaultLoan(loan, project, op.ts)
  if (!r.ok) return r.reason
  ctx.put('loans', op.loanId, r.value)
  return null
}

/** The verifiers the book trusts that matter for this loan: the originator, and the loan's own verifier if named. */
async function trustedVerifiers (ctx: Parameters<Handler>[0], loan: Loan): Promise<string[]> {
  const out = ctx.meta ? [ctx.meta.originator] : []
  const v = loan.eligibility?.verifier
  if (v && !out.includes(v) && (await ctx.get('trust', trustKey.verifier(v)))?.trusted) out.push(v)
  return out
}
