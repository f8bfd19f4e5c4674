/** Handlers for loan ops. Disbursement and repayment arrive as payments (books/payment). */
import type { Handler } from '../apply.ts'
import b4a from 'b4a'
import { applyForLoan, approveLoan, cancelLoan, defaultLoan, rejectLoan, withdrawLoan } from './machine.ts'
import { checkAttestation, criteriaHash } from '../../core/credentials/attestation.ts'
import { memberTime, notBefore, originatorTime } from '../clock.ts'
import type { Loan, LoanEligibility, Project } from '../entities.ts'
import { trustKey } from '../view.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const loanApply: Handler = async (ctx) => {
  const op = ctx.op as Of<'loan/apply'>
  const project = await ctx.get('projects', op.projectId)
  if (!project) return `no project ${op.projectId}`
  const early = notBefore(op.ts, project.statusAt, 'the project\'s last status change')
  if (early) return early
  // the borrower's claim is believed no earlier than the originator's latest signed time
  const at = memberTime(ctx.clock, op.ts)
  let eligibility: LoanEligibility | null = null
  if (op.attestation) {
    const checked = await checkAttestation(op.attestation, { applicant: op.signer, book: b4a.toString(ctx.host.key, 'hex'), projectId: op.projectId, at, criteriaHash: criteriaHash(project.terms.eligibility) })
    if (!checked.ok) return `eligibility attestation refused: ${checked.reason}`
    const validFrom = Date.parse(String(op.attestation.validFrom))
    const backdated = notBefore(op.ts, validFrom, 'the eligibility attestation was issued')
    if (backdated) return backdated
    const presentationHash = String((op.attestation.credentialSubject as { presentationHash?: unknown }).presentationHash)
    // keyed by the applicant too: only she can use up an attestation naming her
    const key = `${op.signer}/${presentationHash}`
    const used = await ctx.get('attested', key)
    if (used !== null) return `this eligibility attestation was already used by loan ${used}`
    ctx.put('attested', key, op.loanId)
    eligibility = { verifier: checked.verifier, eligible: checked.eligible, reasons: checked.reasons, presentationHash, attestation: op.attestation }
  }
  const r = applyForLoan(await ctx.get('loans', op.loanId), project, op.signer, op, eligibility, at)
  if (!r.ok) return r.reason
  ctx.put('loans', op.loanId, r.value)
  return null
}

export const loanWithdraw: Handler = async (ctx) => {
  const op = ctx.op as Of<'loan/withdraw'>
  const loan = await ctx.get('loans', op.loanId)
  if (!loan) return `no loan ${op.loanId}`
  if (loan.borrower !== op.signer) return 'only the applicant may withdraw an application'
  const early = notBefore(op.ts, loan.appliedAt, 'the loan\'s application')
  if (early) return early
  const r = withdrawLoan(loan, op.ts)
  if (!r.ok) return r.reason
  ctx.put('loans', op.loanId, r.value)
  return null
}

export const loanDecide: Handler = async (ctx) => {
  const op = ctx.op as Of<'loan/approve' | 'loan/reject' | 'loan/default' | 'loan/cancel'>
  const loan = await ctx.get('loans', op.loanId)
  if (!loan) return `no loan ${op.loanId}`
  const project = await ctx.get('projects', loan.projectId)
  if (!project) return `no project ${loan.projectId}`
  const early = notBefore(op.ts, loan.appliedAt, 'the loan\'s application')
  if (early) return early
  if (op.type === 'loan/approve') {
    const stale = await attestationAtApproval(loan, project, b4a.toString(ctx.host.key, 'hex'), op.ts)
    if (stale) return stale
  }
  const r = op.type === 'loan/approve'
    ? approveLoan(loan, project, await trustedVerifiers(ctx, loan), op.ts)
    : op.type === 'loan/reject'
      ? rejectLoan(loan, op.reason, op.ts)
      : op.type === 'loan/cancel'
        ? cancelLoan(loan, op.reason, op.ts)
        // the originator's claim of the date is capped by what a borrower or investor has vouched for
        : defaultLoan(loan, project, op.ts, originatorTime(ctx.clock, op.ts))
  if (!r.ok) return r.reason
  ctx.put('loans', op.loanId, r.value)
  return null
}

/**
 * Judges an applied loan's attestation again at the originator's approval time: an application
 * dated back to when its attestation was still valid cannot carry an expired one past approval,
 * nor one judged against criteria the project has since changed.
 * @param bookKey the book's key, hex @param ts the approval's time, ms
 * @returns the reason approval must be refused, or null
 */
export async function attestationAtApproval (loan: Loan, project: Project, bookKey: string, ts: number): Promise<string | null> {
  if (!loan.eligibility || loan.status !== 'applied') return null
  const again = await checkAttestation(loan.eligibility.attestation, { applicant: loan.borrower, book: bookKey, projectId: loan.projectId, at: ts, criteriaHash: criteriaHash(project.terms.eligibility) })
  return again.ok ? null : `eligibility attestation no longer holds at approval: ${again.reason}`
}

/** The verifiers the book trusts that matter for this loan: the originator, and the loan's own verifier if named. */
async function trustedVerifiers (ctx: Parameters<Handler>[0], loan: Loan): Promise<string[]> {
  const out = ctx.meta ? [ctx.meta.originator] : []
  const v = loan.eligibility?.verifier
  if (v && !out.includes(v) && (await ctx.get('trust', trustKey.verifier(v)))?.trusted) out.push(v)
  return out
}
