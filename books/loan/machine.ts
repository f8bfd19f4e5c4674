/**
 * The loan state machine:
 *   applied -> approved | rejected | withdrawn;  approved -> disbursed | cancelled | withdrawn
 *   (cancelled or withdrawn only while no disbursement is recorded);  disbursed -> repaid | defaulted
 * Pure functions: (state, op facts) -> next state | rejection. Authorization (who may act)
 * is decided by the caller; these functions decide whether the transition is legal.
 */
import { accept, reject, type Result } from '../result.ts'
import type { InstalmentState, Loan, LoanEligibility, Project } from '../entities.ts'
import { exactSchedule } from '../schedule.ts'
import { addDays, dateOf } from '../dates.ts'
import type { DidKey } from '../../core/identity/did-key.ts'

export interface LoanApplication { loanId: string; projectId: string; amount: number; currency: string; months: number; purpose: string }

/**
 * A borrower's application, checked against the project's status, dates and loan limits.
 * @param eligibility the verifier's decision the application carries (its signature, applicant,
 *   book and project already checked by the caller); required when the project has criteria
 * @param ts op timestamp (ms); its UTC date must fall within the project's startDate..endDate
 */
export function applyForLoan (existing: Loan | null, project: Project, borrower: DidKey, a: LoanApplication, eligibility: LoanEligibility | null, ts: number): Result<Loan> {
  if (existing) return reject(`loan ${a.loanId} already exists`)
  const t = project.terms
  if (project.status !== 'active') return reject(`project is ${project.status}: loans are accepted only while it is active`)
  const day = dateOf(ts)
  if (day < t.startDate || day > t.endDate) return reject(`applied on ${day}, outside the project's dates ${t.startDate}..${t.endDate}`)
  if (a.currency !== t.currency) return reject(`currency ${a.currency} is not the project's ${t.currency}`)
  if (a.amount < t.loanMinAmount || a.amount > t.loanMaxAmount) return reject(`amount ${a.amount} is outside the project's loan limits ${t.loanMinAmount}..${t.loanMaxAmount}`)
  if (a.months < t.loanMinDuration || a.months > t.loanMaxDuration) return reject(`duration of ${a.months} months is outside ${t.loanMinDuration}..${t.loanMaxDuration}`)
  if (t.eligibility.length > 0 && !eligibility) return reject('this project has eligibility criteria: the application must carry an eligibility attestation from a verifier')
  return accept({
    loanId: a.loanId,
    projectId: a.projectId,
    amount: a.amount,
    currency: a.currency,
    months: a.months,
    purpose: a.purpose,
    borrower,
    status: 'applied',
    appliedAt: ts,
    updatedAt: ts,
    reason: null,
    schedule: [],
    pendingRepayment: 0,
    disbursementPaymentId: null,
    eligibility
  })
}

/** The borrower takes back an application, or an approved loan whose disbursement is not recorded. */
export function withdrawLoan (loan: Loan, ts: number): Result<Loan> {
  if (loan.status !== 'applied' && loan.status !== 'approved') return reject(`cannot withdraw a ${loan.status} loan`)
  if (loan.disbursementPaymentId !== null) return reject('the disbursement is recorded: dispute it, or confirm it and repay')
  return accept({ ...loan, status: 'withdrawn', updatedAt: ts })
}

/**
 * The originator calls off an approved loan that was never disbursed (the borrower went silent,
 * or the disbursement was cancelled). Its schedule no longer binds anyone.
 */
export function cancelLoan (loan: Loan, reason: string, ts: number): Result<Loan> {
  if (loan.status !== 'approved') return reject(`cannot cancel a ${loan.status} loan${loan.status === 'applied' ? ': reject it' : ''}`)
  if (loan.disbursementPaymentId !== null) return reject('the disbursement is recorded: cancel that payment first')
  return accept({ ...loan, status: 'cancelled', reason, updatedAt: ts })
}

/**
 * Approval: fixes the repayment schedule, first instalment one month after the approval date.
 * A loan whose project has criteria is approved only on an "eligible" attestation from a verifier
 * the book trusts at the time of approval.
 * @param trustedVerifiers DIDs whose attestations the book accepts (the originator and those it named)
 * @returns the approved loan with its schedule (see books/schedule.ts for the methods)
 */
export function approveLoan (loan: Loan, project: Project, trustedVerifiers: readonly string[], ts: number): Result<Loan> {
  if (loan.status !== 'applied') return reject(`cannot approve a ${loan.status} loan`)
  if (project.status === 'closed') return reject('project is closed')
  if (loan.currency !== project.terms.currency) return reject(`loan is in ${loan.currency}, the project lends ${project.terms.currency}`)
  const e = loan.eligibility
  if (e) {
    if (!trustedVerifiers.includes(e.verifier)) return reject(`the eligibility attestation is from ${e.verifier}, a verifier this book does not trust`)
    if (!e.eligible) return reject(`the verifier found the applicant not eligible: ${e.reasons.join('; ')}`)
  } else if (project.terms.eligibility.length > 0) {
    return reject('the project has eligibility criteria and this application carries no eligibility attestation')
  }
  const computed = exactSchedule({ principal: loan.amount, annualRateBps: project.terms.annualRateBps, months: loan.months, method: project.terms.interestMethod, startDate: dateOf(ts) })
  if (!computed.ok) return reject(`no schedule can be fixed for this loan: ${computed.reason}`)
  const schedule = computed.value.map((i): InstalmentState => ({ ...i, principalPaid: 0, interestPaid: 0 }))
  return accept({ ...loan, status: 'approved', schedule, updatedAt: ts })
}

/** The originator declines an application, with a reason the borrower will read. */
export function rejectLoan (loan: Loan, reason: string, ts: number): Result<Loan> {
  if (loan.status !== 'applied') return reject(`cannot reject a ${loan.status} loan`)
  return accept({ ...loan, status: 'rejected', reason, updatedAt: ts })
}

/** The borrower confirmed receipt of the disbursement: repayments may start. */
export function markDisbursed (loan: Loan, ts: number): Result<Loan> {
  if (loan.status !== 'approved') return reject(`cannot disburse a ${loan.status} loan`)
  return accept({ ...loan, status: 'disbursed', updatedAt: ts })
}

/** @returns principal + interest still owed on the schedule, minor units */
export function outstanding (loan: Loan): number {
  let sum = 0
  for (const i of loan.schedule) sum += i.principal - i.principalPaid + i.interest - i.interestPaid
  return sum
}

/** A repayment may be recorded only on a disbursed loan and never above what is still owed. */
export function checkRepayment (loan: Loan, amount: number): Result<Loan> {
  if (loan.status !== 'disbursed') return reject(`cannot repay a ${loan.status} loan`)
  const owed = outstanding(loan) - loan.pendingRepayment
  if (amount > owed) return reject(`repayment of ${amount} exceeds the ${owed} still owed`)
  return accept({ ...loan, pendingRepayment: loan.pendingRepayment + amount })
}

/**
 * Applies a confirmed repayment: instalments in due order, each one's interest first, then its
 * principal. The loan is repaid when nothing is owed.
 */
export function applyRepayment (loan: Loan, amount: number, ts: number): Result<Loan> {
  if (loan.status !== 'disbursed') return reject(`cannot repay a ${loan.status} loan`)
  if (amount > outstanding(loan)) return reject(`repayment of ${amount} exceeds the ${outstanding(loan)} still owed`)
  let left = amount
  const schedule = loan.schedule.map((i) => {
    const interest = Math.min(left, i.interest - i.interestPaid)
    left -= interest
    const principal = Math.min(left, i.principal - i.principalPaid)
    left -= principal
    return { ...i, interestPaid: i.interestPaid + interest, principalPaid: i.principalPaid + principal }
  })
  const next: Loan = { ...loan, schedule, pendingRepayment: Math.max(0, loan.pendingRepayment - amount), updatedAt: ts }
  if (outstanding(next) === 0) next.status = 'repaid'
  return accept(next)
}

/**
 * Takes a repayment back (its payment was reorganised out of the chain). The waterfall of
 * {@link applyRepayment} depends only on the total paid, so the schedule is the waterfall of what
 * was paid less `amount`; a repaid loan owes again.
 * @param amount minor units, at most what was paid
 */
export function unapplyRepayment (loan: Loan, amount: number, ts: number): Result<Loan> {
  let paid = 0
  for (const i of loan.schedule) paid += i.principalPaid + i.interestPaid
  if (amount > paid) return reject(`cannot take back ${amount}: only ${paid} was repaid`)
  if (loan.status !== 'disbursed' && loan.status !== 'repaid') return reject(`cannot take a repayment back from a ${loan.status} loan`)
  const unpaid: Loan = { ...loan, status: 'disbursed', schedule: loan.schedule.map((i) => ({ ...i, principalPaid: 0, interestPaid: 0 })), pendingRepayment: 0 }
  const r = applyRepayment(unpaid, paid - amount, ts)
  if (!r.ok) return r
  return accept({ ...r.value, pendingRepayment: loan.pendingRepayment, updatedAt: ts })
}

/** @returns the first instalment not fully paid whose due date plus grace days is before `day` */
export function overdueInstalment (loan: Loan, gracePeriodDays: number, day: string): InstalmentState | null {
  for (const i of loan.schedule) {
    const unpaid = i.principal - i.principalPaid + i.interest - i.interestPaid
    if (unpaid > 0 && addDays(i.dueDate, gracePeriodDays) < day) return i
  }
  return null
}

/**
 * Default is allowed only when an instalment is overdue beyond the project's grace period.
 * @param ts the op's own timestamp, ms (recorded on the loan)
 * @param judgedAt the time the overdue rule is judged at, ms: the originator's claim capped by
 *   the latest time a borrower or investor vouched for (books/clock.ts originatorTime)
 */
export function defaultLoan (loan: Loan, project: Project, ts: number, judgedAt: number = ts): Result<Loan> {
  if (loan.status !== 'disbursed') return reject(`cannot default a ${loan.status} loan`)
  const day = dateOf(judgedAt)
  const late = overdueInstalment(loan, project.terms.gracePeriod, day)
  if (!late) {
    const capped = judgedAt < ts ? ` (the op says ${dateOf(ts)}, but no borrower or investor has vouched for a time after ${day}: a clock/witness op by one of them moves that)` : ''
    return reject(`no instalment is overdue beyond the ${project.terms.gracePeriod}-day grace period on ${day}${capped}`)
  }
  return accept({ ...loan, status: 'defaulted', updatedAt: ts })
}
