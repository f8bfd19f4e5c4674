/**
 * Benchmark 5, eligibility: evaluations per second of a project's 6 criteria (built with
 * criteriaToRules) against a borrower's disclosed facts, with evaluateEligibility (three-valued
 * outcome, reasons in words). Baseline: json-rules-engine alone running the same rules on the
 * same facts (a fresh Engine per evaluation, as evaluateEligibility builds one).
 */
import { Engine } from 'json-rules-engine'
import { criteriaToRules } from '../core/services/criteria.ts'
import { evaluateEligibility } from '../core/services/eligibility.ts'
import { now, result, type BenchResult } from './lib/util.ts'

async function rate (n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.ceil(n / 10); i++) await fn()
  const t0 = now()
  for (let i = 0; i < n; i++) await fn()
  return n / (now() - t0) * 1000
}

/** Runs the eligibility benchmark with `n` evaluations of each kind. */
export async function benchEligibility (n: number): Promise<BenchResult[]> {
  const rules = criteriaToRules([
    { fact: 'kycStatus', operator: 'equal', value: 'verified' },
    { fact: 'ageOver', operator: 'greaterThanInclusive', value: 18 },
    { fact: 'citizenship', operator: 'in', value: ['KE', 'UG', 'TZ'] },
    { fact: 'averageMonthlyIncome', operator: 'greaterThanInclusive', value: 50_000 },
    { fact: 'savingsRateBps', operator: 'greaterThanInclusive', value: 500 },
    { fact: 'creditRating', operator: 'in', value: ['A', 'B', 'C'] }
  ], 'EUR')
  // one criterion fails, so the reasons are built too
  const facts = { kycStatus: 'verified', ageOver: 21, citizenship: 'KE', averageMonthlyIncome: 80_000, incomeCurrency: 'EUR', savingsRateBps: 300, creditRating: 'B' }
  const outcome = await evaluateEligibility(rules, facts, { currency: 'EUR' })
  if (outcome.eligible || outcome.reasons.length !== 1) throw new Error(`eligibility: unexpected outcome ${JSON.stringify(outcome.reasons)}`)
  const growr = await rate(n, () => evaluateEligibility(rules, facts, { currency: 'EUR' }))
  const raw = await rate(n, async () => {
    const engine = new Engine([], { allowUndefinedFacts: true })
    for (const r of rules) engine.addRule({ conditions: r.conditions as never, event: r.event as never })
    for (const [k, v] of Object.entries(facts)) engine.addFact(k, v)
    return await engine.run()
  })
  return [result('eligibility (6 criteria)', n, growr, 'evaluations/s', raw,
    '6 criteria (KYC, age, citizenship, income in EUR, savings rate, credit rating), one failing, with reasons in words; baseline json-rules-engine run alone on the same rules and facts')]
}
