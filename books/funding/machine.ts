/**
 * The funding state machine: committed -> confirmed (when the investor's payment is confirmed)
 * | cancelled (unpaid: by the investor at any time, by the originator once it expired).
 * Only confirmed funding counts toward what a project may disburse; repayments are shared
 * among confirmed fundings pro rata (books/money.ts allocate).
 */
import { accept, reject, type Result } from '../result.ts'
import type { Distribution, Funding, Project } from '../entities.ts'
import { allocate } from '../money.ts'
import { MAX_SKEW_MS } from '../clock.ts'

/** Days an investor has to pay a commitment before the originator may cancel it. */
export const FUNDING_PAYMENT_DAYS = 14
const DAY_MS = 86_400_000
import type { DidKey } from '../../core/identity/did-key.ts'

/**
 * An investor commits `amount` minor units to an active project, within its unfunded amount.
 * `investor` is null for a zap, whose zapper is no member (books/funding/zap-handlers.ts).
 */
export function commitFunding (existing: Funding | null, project: Project, investor: DidKey | null, f: { fundingId: string; amount: number; currency: string }, ts: number): Result<{ funding: Funding; project: Project }> {
  if (existing) return reject(`funding ${f.fundingId} already exists`)
  if (project.status !== 'active') return reject(`project is ${project.status}: funding is accepted only while it is active`)
  if (f.currency !== project.terms.currency) return reject(`currency ${f.currency} is not the project's ${project.terms.currency}`)
  const room = project.terms.amount - project.committed
  if (f.amount > room) return reject(`funding of ${f.amount} exceeds the ${room} still open on the project`)
  return accept({
    funding: { ...f, projectId: project.projectId, investor, status: 'committed', committedAt: ts, paymentId: null, entitled: 0, distributed: 0, reason: null },
    project: { ...project, committed: project.committed + f.amount, updatedAt: ts }
  })
}

/** The funding's payment was confirmed by the originator: it now counts. */
export function confirmFunding (funding: Funding, project: Project, paymentId: string, ts: number): Result<{ funding: Funding; project: Project }> {
  if (funding.status !== 'committed') return reject(`funding is already ${funding.status}`)
  return accept({
    funding: { ...funding, status: 'confirmed', paymentId },
    project: { ...project, confirmedFunding: project.confirmedFunding + funding.amount, fundingIds: [...project.fundingIds, funding.fundingId], updatedAt: ts }
  })
}

/**
 * Cancels a commitment no payment is recorded against, releasing its room on the project.
 * The investor may at any time; the originator only FUNDING_PAYMENT_DAYS after it was made (judged
 * at `judgedAt`, the originator's time capped by the members'), or at once when the investor dated
 * it in the future.
 * @param o.ts the op's time, ms; o.judgedAt the time the expiry is judged at, ms
 */
export function cancelFunding (funding: Funding, project: Project, o: { byInvestor: boolean; reason: string; ts: number; judgedAt: number }): Result<{ funding: Funding; project: Project }> {
  if (funding.status !== 'committed') return reject(`cannot cancel a ${funding.status} funding`)
  if (funding.paymentId !== null) return reject('a payment is recorded for this funding: dispute or cancel the payment first')
  if (!o.byInvestor) {
    const due = funding.committedAt + FUNDING_PAYMENT_DAYS * DAY_MS
    const futureDated = funding.committedAt > o.ts + MAX_SKEW_MS
    if (o.judgedAt < due && !futureDated) return reject(`the investor has until ${new Date(due).toISOString().slice(0, 10)} to pay (${FUNDING_PAYMENT_DAYS} days); the book's members have vouched for ${new Date(o.judgedAt).toISOString().slice(0, 10)}`)
  }
  return accept({
    funding: { ...funding, status: 'cancelled', reason: `${o.byInvestor ? 'investor' : 'originator'}: ${o.reason}` },
    project: { ...project, committed: project.committed - funding.amount, updatedAt: o.ts }
  })
}

/**
 * Shares one confirmed repayment among the project's confirmed fundings, pro rata to their
 * amounts, remainder one minor unit at a time to the largest (dinero.js distribute).
 * @returns one distribution per funding (zero shares included, so the record is complete)
 */
export function shareRepayment (fundings: Funding[], repayment: { paymentId: string; loanId: string; amount: number; currency: string }, ts: number): Distribution[] {
  if (fundings.length === 0) return []
  // currencies never mix: the project's currency is fixed at activation and checked on every op
  // that moves money, so a funding in another currency here is a bug, not an input
  for (const f of fundings) if (f.currency !== repayment.currency) throw new TypeError(`funding ${f.fundingId} is in ${f.currency}, the repayment in ${repayment.currency}`)
  const shares = allocate(repayment.amount, fundings.map((f) => f.amount))
  return fundings.map((f, i) => ({ paymentId: repayment.paymentId, loanId: repayment.loanId, fundingId: f.fundingId, investor: f.investor, amount: shares[i], currency: repayment.currency, at: ts }))
}

/** A distribution payment to an investor may not exceed what repayments have earned them. */
export function checkDistribution (funding: Funding, amount: number): Result<Funding> {
  const owed = funding.entitled - funding.distributed
  if (amount > owed) return reject(`distribution of ${amount} exceeds the ${owed} owed to this investor`)
  return accept({ ...funding, distributed: funding.distributed + amount })
}
