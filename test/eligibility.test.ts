import test from 'brittle'
import fc from 'fast-check'
import { evaluateEligibility } from '../core/services/eligibility.ts'
import {
  checkCriterion,
  checkRules,
  criteriaToRules,
  describeCriterion,
  formatMinor,
  referencedFacts,
  rulesToCriteria
} from '../core/services/criteria.ts'
import type { Criterion } from '../core/services/criteria.ts'
import { factsFrom } from '../core/credentials/catalogue.ts'
import type { FactValue } from '../core/credentials/catalogue.ts'
import type { EligibilityRule } from '../books/ops/types.ts'
import { throwsCode } from './helpers/assert.ts'

const criteria: Criterion[] = [
  { fact: 'kycStatus', operator: 'equal', value: 'verified' },
  { fact: 'ageOver', operator: 'greaterThanInclusive', value: 18 },
  { fact: 'citizenship', operator: 'in', value: ['KE', 'UG', 'TZ'] },
  { fact: 'averageMonthlyIncome', operator: 'greaterThanInclusive', value: 50000 },
  { fact: 'creditRating', operator: 'in', value: ['A', 'B'] }
]

/** The six-criteria project: five builder criteria plus a hand-written "no defaults or saves 10%". */
function sixCriteria (): EligibilityRule[] {
  return [
    ...criteriaToRules(criteria, 'KES'),
    {
      name: 'no defaulted loans, or saves at least 10% of income',
      conditions: {
        all: [{
          any: [
            { fact: 'loansDefaulted', operator: 'equal', value: 0 },
            { fact: 'savingsRateBps', operator: 'greaterThanInclusive', value: 1000 }
          ]
        }]
      },
      event: { type: 'eligible' }
    }
  ]
}

const good: Record<string, FactValue> = {
  kycStatus: 'verified',
  ageOver: 21,
  citizenship: 'KE',
  averageMonthlyIncome: 65000,
  incomeCurrency: 'KES',
  creditRating: 'B',
  creditLimit: 100000,
  creditLimitCurrency: 'KES',
  loansRepaid: 2,
  loansDefaulted: 0
}


test('six criteria met: eligible, the unused alternative gives no reason', async (t) => {
  const out = await evaluateEligibility(sixCriteria(), good, { currency: 'KES' })
  t.is(out.eligible, true)
  t.alike(out.reasons, [])
  t.is(out.conditions.length, 7, 'every leaf is reported, the undisclosed savings alternative too')
  t.is(out.conditions.filter((c) => c.passed).length, 6, 'six conditions pass')
  const savings = out.conditions.find((c) => c.fact === 'savingsRateBps')
  t.is(savings?.passed, false)
  t.is(savings?.actual, undefined, 'undisclosed fact has no actual value')
  const income = out.conditions.find((c) => c.fact === 'averageMonthlyIncome')
  t.is(income?.actual, 65000)
  t.is(income?.text, 'average monthly income of at least 500.00 KES')
})

test('facts from real credential subjects feed the same verdict', async (t) => {
  const did = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'
  const vcs = [
    { type: ['VerifiableCredential', 'KycCredential'], validFrom: '2025-01-01T00:00:00Z', credentialSubject: { id: did, kycStatus: 'verified' } },
    { type: ['VerifiableCredential', 'AgeOverCredential'], validFrom: '2025-01-01T00:00:00Z', credentialSubject: { id: did, ageOver: 18 } },
    { type: ['VerifiableCredential', 'CitizenshipCredential'], validFrom: '2025-01-01T00:00:00Z', credentialSubject: { id: did, citizenship: 'UG' } },
    { type: ['VerifiableCredential', 'IncomeCredential'], validFrom: '2025-01-01T00:00:00Z', credentialSubject: { id: did, averageMonthlyIncome: 50000, currency: 'KES' } },
    { type: ['VerifiableCredential', 'CreditScoreCredential'], validFrom: '2025-01-01T00:00:00Z', credentialSubject: { id: did, creditRating: 'A', creditLimit: 1, currency: 'KES' } },
    { type: ['VerifiableCredential', 'SavingsCredential'], validFrom: '2025-01-01T00:00:00Z', credentialSubject: { id: did, savingsRateBps: 1000 } }
  ]
  const out = await evaluateEligibility(sixCriteria(), factsFrom(vcs), { currency: 'KES' })
  t.is(out.eligible, true, 'boundaries are inclusive; savings stands in for a repayment history')
  t.alike(out.reasons, [])
})

test('two criteria failed: exactly those two reasons, in plain words with the amounts', async (t) => {
  const out = await evaluateEligibility(sixCriteria(), { ...good, averageMonthlyIncome: 32000, creditRating: 'C' }, { currency: 'KES' })
  t.is(out.eligible, false)
  t.alike(out.reasons, [
    'Average monthly income must be at least 500.00 KES; your credential says 320.00 KES.',
    'Credit rating must be A or B; your credential says C.'
  ])
  t.alike(out.conditions.filter((c) => !c.passed).map((c) => c.fact), ['averageMonthlyIncome', 'creditRating', 'savingsRateBps'])
})

test('missing credential: the reason says no credential disclosed it', async (t) => {
  const facts = { ...good }
  delete facts.creditRating
  const out = await evaluateEligibility(sixCriteria(), facts, { currency: 'KES' })
  t.is(out.eligible, false)
  t.alike(out.reasons, ['No credential disclosed your credit rating: the project requires it to be A or B.'])
  t.is(out.conditions.find((c) => c.fact === 'creditRating')?.actual, undefined)

  const noAge = { ...good }
  delete noAge.ageOver
  const out2 = await evaluateEligibility(sixCriteria(), noAge, { currency: 'KES' })
  t.alike(out2.reasons, ['No credential disclosed your age: the project requires you to be aged 18 or over.'])
})

test('both alternatives of an any fail: one reason naming both', async (t) => {
  const out = await evaluateEligibility(sixCriteria(), { ...good, loansDefaulted: 2, savingsRateBps: 500 }, { currency: 'KES' })
  t.is(out.eligible, false)
  t.is(out.reasons.length, 1)
  t.is(out.reasons[0],
    'At least one of these is required: loans defaulted is 0; or savings as a share of income of at least 10.00%. ' +
    'Loans defaulted must be 0; your credentials show 2. ' +
    'Savings as a share of income must be at least 10.00%; your credential says 5.00%.')
})

test('currency mismatch fails with the currency reason, never compares the numbers', async (t) => {
  const out = await evaluateEligibility(sixCriteria(), { ...good, averageMonthlyIncome: 9_000_000, incomeCurrency: 'EUR' }, { currency: 'KES' })
  t.is(out.eligible, false)
  t.alike(out.reasons, ['Your average monthly income is stated in EUR; this project lends in KES.'])
  t.is(out.conditions.find((c) => c.fact === 'averageMonthlyIncome')?.passed, false)

  const noCurrency = { ...good }
  delete noCurrency.incomeCurrency
  const out2 = await evaluateEligibility(sixCriteria(), noCurrency, { currency: 'KES' })
  t.alike(out2.reasons, ['Your average monthly income does not state its currency; this project lends in KES.'])

  // a not() around an incomparable amount must not turn into a pass
  const rules: EligibilityRule[] = [{ conditions: { not: { fact: 'averageMonthlyIncome', operator: 'lessThan', value: 50000 } }, event: { type: 'x' } }]
  const out3 = await evaluateEligibility(rules, { averageMonthlyIncome: 10, incomeCurrency: 'EUR' }, { currency: 'KES' })
  t.is(out3.eligible, false)
  t.alike(out3.reasons, ['Your average monthly income is stated in EUR; this project lends in KES.'])
})

test('nested any/not rules', async (t) => {
  const rules: EligibilityRule[] = [{
    conditions: {
      any: [
        { all: [{ fact: 'loansRepaid', operator: 'greaterThanInclusive', value: 3 }, { not: { fact: 'creditRating', operator: 'in', value: ['D', 'E'] } }] },
        { all: [{ fact: 'communities', operator: 'contains', value: 'Kibera Traders' }, { not: { any: [{ fact: 'loansDefaulted', operator: 'greaterThan', value: 0 }, { fact: 'kycStatus', operator: 'equal', value: 'failed' }] } }] }
      ]
    },
    event: { type: 'eligible' }
  }]
  const ok1 = await evaluateEligibility(rules, { loansRepaid: 4, loansDefaulted: 1, creditRating: 'C' })
  t.is(ok1.eligible, true, 'first branch: experienced borrower with a fair rating')
  const bad1 = await evaluateEligibility(rules, { loansRepaid: 4, loansDefaulted: 0, creditRating: 'D' })
  t.is(bad1.eligible, false, 'rating D excluded by the not')
  t.ok(bad1.reasons[0].includes('The project excludes borrowers for whom this holds, and your credentials show it does: credit rating is one of D, E.'), bad1.reasons[0])
  t.ok(bad1.reasons[0].includes('No credential disclosed your community memberships: the project requires them to include Kibera Traders.'))
  const ok2 = await evaluateEligibility(rules, { communities: ['Kibera Traders', 'Gikomba'], loansDefaulted: 0, kycStatus: 'verified' })
  t.is(ok2.eligible, true, 'second branch: community member with a clean record')
  const bad2 = await evaluateEligibility(rules, { communities: ['Kibera Traders'], loansDefaulted: 0, kycStatus: 'failed' })
  t.is(bad2.eligible, false, 'failed KYC excluded')
  const bad3 = await evaluateEligibility(rules, { communities: ['Kibera Traders'], kycStatus: 'verified' })
  t.is(bad3.eligible, false, 'not() around an undisclosed fact does not pass')
  t.ok(bad3.reasons.join(' ').includes('No credential disclosed your loans defaulted'))
  const bad4 = await evaluateEligibility(rules, { communities: ['Gikomba'], loansDefaulted: 0, kycStatus: 'verified' })
  t.is(bad4.eligible, false)
  t.ok(bad4.reasons[0].includes('Community memberships must include Kibera Traders; your credentials show Gikomba.'))
})

test('no rules: eligible; malformed rules: not eligible with a reason, no throw', async (t) => {
  t.alike(await evaluateEligibility([], {}), { eligible: true, conditions: [], reasons: [] })
  const bad = await evaluateEligibility([{ conditions: { all: [{ fact: 'creditScore', operator: 'greaterThan', value: 600 }] }, event: { type: 'x' } }], { creditRating: 'A' })
  t.is(bad.eligible, false)
  t.is(bad.reasons.length, 1)
  t.ok(bad.reasons[0].includes('unknown fact "creditScore"'), bad.reasons[0])
  const worse = await evaluateEligibility(null as unknown as EligibilityRule[], null as unknown as Record<string, FactValue>)
  t.is(worse.eligible, false)
  const wrongType = await evaluateEligibility(criteriaToRules([criteria[1]]), { ageOver: '21' as unknown as number })
  t.is(wrongType.eligible, false, 'a string where a number belongs is not compared')
  t.ok(wrongType.reasons[0].startsWith('Your age could not be checked'), wrongType.reasons[0])
})

test('property: eligible iff income >= threshold', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    async (threshold, income) => {
      const rules = criteriaToRules([{ fact: 'averageMonthlyIncome', operator: 'greaterThanInclusive', value: threshold }])
      const out = await evaluateEligibility(rules, { averageMonthlyIncome: income, incomeCurrency: 'USD' }, { currency: 'USD' })
      return out.eligible === (income >= threshold) && out.reasons.length === (out.eligible ? 0 : 1)
    }
  ), { numRuns: 200 })
  t.pass('200 random thresholds and incomes agree')
})

test('checkRules refuses unknown facts, path, params, unknown operators, nesting too deep, too many', (t) => {
  const rule = (conditions: Record<string, unknown>): EligibilityRule[] => [{ conditions, event: { type: 'x' } }]
  const leaf = { fact: 'ageOver', operator: 'greaterThanInclusive', value: 18 }
  t.is(checkRules(sixCriteria()), null)
  t.is(checkRules(rule({ not: { any: [leaf, { all: [leaf] }] } })), null)
  t.ok(checkRules(rule({ all: [{ ...leaf, fact: 'salary' }] }))?.includes('unknown fact'))
  t.ok(checkRules(rule({ all: [{ ...leaf, fact: 'constructor' }] }))?.includes('unknown fact'), 'inherited names are not facts')
  t.ok(checkRules(rule({ all: [{ ...leaf, path: '$.a' }] }))?.includes('path'))
  t.ok(checkRules(rule({ all: [{ ...leaf, params: { url: 'http://x' } }] }))?.includes('params'))
  t.ok(checkRules(rule({ all: [{ ...leaf, operator: 'regex' }] }))?.includes('unknown operator'))
  t.ok(checkRules(rule({ all: [{ ...leaf, operator: 'everyFact:equal' }] }))?.includes('unknown operator'))
  t.ok(checkRules(rule({ all: [{ ...leaf, value: { fact: 'loansRepaid' } }] })), 'value fact references refused')
  t.ok(checkRules(rule({ all: [{ condition: 'shared' }] }))?.includes('condition references'))
  t.ok(checkRules(rule(leaf)), 'a bare leaf at the top is refused')
  t.ok(checkRules(rule({ all: [] })), 'empty all refused')
  t.ok(checkRules([{ conditions: { all: [leaf] } } as unknown as EligibilityRule]), 'missing event refused')
  t.ok(checkRules(rule({ all: [{ fact: 'communities', operator: 'greaterThan', value: 2 }] }))?.includes('list'), 'operator must suit the kind')
  let deep: Record<string, unknown> = { all: [leaf] } // depth 2
  for (let d = 2; d < 5; d++) deep = { not: deep }
  t.is(checkRules(rule(deep)), null, 'depth 5 accepted')
  t.ok(checkRules(rule({ not: deep }))?.includes('deeper'), 'depth 6 refused')
  t.is(checkRules(rule({ all: Array(50).fill(leaf) })), null, '50 conditions accepted')
  t.ok(checkRules([...rule({ all: Array(30).fill(leaf) }), ...rule({ any: Array(21).fill(leaf) })])?.includes('more than 50'), '51 over two rules refused')
})

test('criteriaToRules / rulesToCriteria round trip; invalid criteria throw BAD_ARGUMENT', (t) => {
  const all: Criterion[] = [
    ...criteria,
    { fact: 'communities', operator: 'contains', value: 'Kibera Traders' },
    { fact: 'savingsRateBps', operator: 'greaterThan', value: 999 },
    { fact: 'loansDefaulted', operator: 'lessThanInclusive', value: 0 },
    { fact: 'creditLimit', operator: 'notEqual', value: 0 }
  ]
  const rules = criteriaToRules(all, 'USD')
  t.is(rules.length, all.length)
  t.alike(rules[3], {
    name: 'average monthly income of at least 500.00 USD',
    conditions: { all: [{ fact: 'averageMonthlyIncome', operator: 'greaterThanInclusive', value: 50000 }] },
    event: { type: 'criterion', params: { index: 3 } }
  })
  t.is(checkRules(rules), null)
  t.alike(rulesToCriteria(rules), all)
  t.alike(rulesToCriteria(JSON.parse(JSON.stringify(rules))), all, 'survives storage as JSON')
  t.is(rulesToCriteria(sixCriteria()), null, 'an any rule is not a criterion')
  t.is(rulesToCriteria([{ conditions: { all: [{ fact: 'x', operator: 'equal', value: 1 }] }, event: { type: 'y' } }]), null)
  t.alike(rulesToCriteria([]), [])

  throwsCode(t, () => criteriaToRules([{ fact: 'creditRating', operator: 'in', value: ['A', 'Z'] }]), 'BAD_ARGUMENT', 'enum value outside its values')
  throwsCode(t, () => criteriaToRules([{ fact: 'averageMonthlyIncome', operator: 'greaterThan', value: 12.5 }]), 'BAD_ARGUMENT', 'fractional money')
  throwsCode(t, () => criteriaToRules([{ fact: 'citizenship', operator: 'in', value: 'KE' }]), 'BAD_ARGUMENT', 'in needs an array')
  throwsCode(t, () => criteriaToRules([{ fact: 'nope', operator: 'equal', value: 1 }]), 'BAD_ARGUMENT', 'unknown fact')
  t.ok(checkCriterion({ fact: 'kycStatus', operator: 'contains', value: 'verified' })?.includes('does not apply'))
  t.is(checkCriterion({ fact: 'kycStatus', operator: 'notIn', value: ['failed', 'pending'] }), null)
})

test('describeCriterion sentences for each kind', (t) => {
  t.is(describeCriterion({ fact: 'averageMonthlyIncome', operator: 'greaterThanInclusive', value: 50000 }, 'USD'), 'average monthly income of at least 500.00 USD')
  t.is(describeCriterion({ fact: 'creditLimit', operator: 'lessThan', value: 150000 }, 'JPY'), 'credit limit of less than 150,000 JPY')
  t.is(describeCriterion({ fact: 'averageMonthlyIncome', operator: 'greaterThanInclusive', value: 50000 }), 'average monthly income of at least 50,000 minor units')
  t.is(describeCriterion({ fact: 'creditRating', operator: 'in', value: ['A', 'B'] }), 'credit rating is one of A, B')
  t.is(describeCriterion({ fact: 'communities', operator: 'contains', value: 'Kibera Traders' }), 'member of community Kibera Traders')
  t.is(describeCriterion({ fact: 'kycStatus', operator: 'equal', value: 'verified' }), 'identity check (KYC) status is verified')
  t.is(describeCriterion({ fact: 'savingsRateBps', operator: 'greaterThanInclusive', value: 1000 }), 'savings as a share of income of at least 10.00%')
  t.is(describeCriterion({ fact: 'ageOver', operator: 'greaterThanInclusive', value: 18 }), 'aged 18 or over')
  t.is(describeCriterion({ fact: 'citizenship', operator: 'notIn', value: ['XX'] }), 'citizenship is none of XX')
  t.is(describeCriterion({ fact: 'loansRepaid', operator: 'greaterThan', value: 2 }), 'loans repaid in full is more than 2')

  t.is(formatMinor(50000, 'KES'), '500.00 KES')
  t.is(formatMinor(123456789, 'EUR'), '1,234,567.89 EUR')
  t.is(formatMinor(5, 'USD'), '0.05 USD')
  t.is(formatMinor(1500, 'JPY'), '1,500 JPY')
  t.is(formatMinor(50000, 'BTC'), '0.00050000 BTC')
  t.is(formatMinor(50000, 'SAT'), '50,000 SAT')
})

test('referencedFacts lists every mentioned fact and money facts\' currencies', (t) => {
  t.alike(referencedFacts(sixCriteria()), [
    'kycStatus', 'ageOver', 'citizenship', 'averageMonthlyIncome', 'incomeCurrency', 'creditRating', 'loansDefaulted', 'savingsRateBps'
  ])
  t.alike(referencedFacts([{ conditions: { not: { all: [{ fact: 'creditLimit', operator: 'greaterThan', value: 1 }] } }, event: { type: 'x' } }]), ['creditLimit', 'creditLimitCurrency'])
  t.alike(referencedFacts([]), [])
})
