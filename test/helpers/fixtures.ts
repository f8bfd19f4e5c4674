/** Lending terms and op inputs shared by tests and the demo, dated around a given clock. */
import type { ProjectTerms } from '../../books/ops/types.ts'
import { addDays, dateOf } from '../../books/dates.ts'

export function terms (now: number, over: Partial<ProjectTerms> = {}): ProjectTerms {
  const today = dateOf(now)
  return {
    name: 'Crawford Bay greenhouses',
    description: 'Working capital for greenhouse growers',
    amount: 1_000_000,
    currency: 'EUR',
    startDate: addDays(today, -30),
    endDate: addDays(today, 335),
    loanMinAmount: 10_000,
    loanMaxAmount: 200_000,
    loanMinDuration: 3,
    loanMaxDuration: 24,
    annualRateBps: 1200,
    interestMethod: 'declining-balance',
    disbursementFee: 500,
    gracePeriod: 10,
    eligibility: [],
    isPublic: true,
    isInviteOnly: false,
    ...over
  }
}
