/**
 * Growr's reference set of credential types: what each one claims about its subject, the JSON
 * Schema its `credentialSubject` must satisfy, and the eligibility facts it yields.
 *
 * One claim per credential (credit score is the exception: its rating and limit are issued
 * together), so that a presentation built for a project's criteria carries nothing the criteria do
 * not reference. Amounts are integer minor units with an ISO 4217 code; percentages are basis
 * points; dates are ISO 8601 calendar dates.
 */
import Ajv from 'ajv'
import type { ValidateFunction } from 'ajv'

export const CREDENTIAL_TYPES = [
  'KycCredential',
  'AgeOverCredential',
  'CitizenshipCredential',
  'IncomeCredential',
  'SavingsCredential',
  'CreditScoreCredential',
  'CommunityMembershipCredential',
  'RepaymentHistoryCredential'
] as const
export type CredentialType = typeof CREDENTIAL_TYPES[number]

/** A fact the eligibility rules may reference, and how to say it to a borrower. */
export interface FactInfo {
  /** the credential type that discloses it */
  type: CredentialType
  /** plain words, e.g. "average monthly income" */
  label: string
  /**
   * money: integer minor units, its currency in fact `currencyFact`; bps: basis points;
   * integer: a count or a number of years; enum/string: text; list: several strings (one per credential)
   */
  kind: 'money' | 'bps' | 'integer' | 'enum' | 'string' | 'list'
  currencyFact?: string
  values?: readonly string[]
}

const did = { type: 'string', pattern: '^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$' }
const minor = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER }
const currency = { type: 'string', pattern: '^[A-Z][A-Z0-9]{2,4}$' }
const date = { type: 'string', pattern: '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' }
const hex32 = { type: 'string', pattern: '^[0-9a-f]{32}$' }

export const KYC_STATUSES = ['verified', 'pending', 'failed'] as const
export const CREDIT_RATINGS = ['A', 'B', 'C', 'D', 'E'] as const
export const REPAYMENT_OUTCOMES = ['repaid', 'defaulted'] as const

function subject (properties: Record<string, unknown>) {
  return { type: 'object', properties: { id: did, ...properties }, required: ['id', ...Object.keys(properties)], additionalProperties: false }
}

/** JSON Schema (Ajv, draft-07 keywords) of each type's `credentialSubject`. */
export const SUBJECT_SCHEMAS: Record<CredentialType, object> = {
  KycCredential: subject({ kycStatus: { enum: KYC_STATUSES } }),
  AgeOverCredential: subject({ ageOver: { type: 'integer', minimum: 0, maximum: 150 } }),
  CitizenshipCredential: subject({ citizenship: { type: 'string', pattern: '^[A-Z]{2}$' } }),
  IncomeCredential: subject({ averageMonthlyIncome: minor, currency }),
  SavingsCredential: subject({ savingsRateBps: { type: 'integer', minimum: 0, maximum: 10000 } }),
  CreditScoreCredential: subject({ creditRating: { enum: CREDIT_RATINGS }, creditLimit: minor, currency }),
  CommunityMembershipCredential: subject({ community: { type: 'string', minLength: 1, maxLength: 200 } }),
  RepaymentHistoryCredential: subject({
    outcome: { enum: REPAYMENT_OUTCOMES },
    principal: minor,
    currency,
    months: { type: 'integer', minimum: 1, maximum: 600 },
    closedOn: date,
    book: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    loanId: hex32
  })
}

/** Every fact a rule may reference. Names are json-rules-engine fact ids. */
export const FACTS: Record<string, FactInfo> = {
  kycStatus: { type: 'KycCredential', label: 'identity check (KYC) status', kind: 'enum', values: KYC_STATUSES },
  ageOver: { type: 'AgeOverCredential', label: 'age (years, at least)', kind: 'integer' },
  citizenship: { type: 'CitizenshipCredential', label: 'citizenship', kind: 'string' },
  averageMonthlyIncome: { type: 'IncomeCredential', label: 'average monthly income', kind: 'money', currencyFact: 'incomeCurrency' },
  incomeCurrency: { type: 'IncomeCredential', label: 'income currency', kind: 'string' },
  savingsRateBps: { type: 'SavingsCredential', label: 'savings as a share of income', kind: 'bps' },
  creditRating: { type: 'CreditScoreCredential', label: 'credit rating', kind: 'enum', values: CREDIT_RATINGS },
  creditLimit: { type: 'CreditScoreCredential', label: 'credit limit', kind: 'money', currencyFact: 'creditLimitCurrency' },
  creditLimitCurrency: { type: 'CreditScoreCredential', label: 'credit limit currency', kind: 'string' },
  communities: { type: 'CommunityMembershipCredential', label: 'community memberships', kind: 'list' },
  loansRepaid: { type: 'RepaymentHistoryCredential', label: 'loans repaid in full', kind: 'integer' },
  loansDefaulted: { type: 'RepaymentHistoryCredential', label: 'loans defaulted', kind: 'integer' }
}

export type FactValue = string | number | boolean | string[]

/** The facts each type yields, in FACTS order. */
export function factsOfType (type: CredentialType): string[] {
  return Object.keys(FACTS).filter((f) => FACTS[f].type === type)
}

export function isCredentialType (s: unknown): s is CredentialType {
  return typeof s === 'string' && (CREDENTIAL_TYPES as readonly string[]).includes(s)
}

/** The Growr type of a credential (its `type` array holds VerifiableCredential plus one of ours), or null. */
export function credentialTypeOf (vc: { type?: unknown }): CredentialType | null {
  const types = Array.isArray(vc.type) ? vc.type : [vc.type]
  for (const t of types) if (isCredentialType(t)) return t
  return null
}

let validators: Map<CredentialType, ValidateFunction> | null = null

/**
 * Checks a `credentialSubject` against its type's schema.
 * @returns null when valid, else a one-line reason naming the field
 */
export function checkSubject (type: CredentialType, credentialSubject: unknown): string | null {
  if (!validators) {
    const ajv = new (Ajv as unknown as typeof Ajv.default)({ allErrors: false, strict: true })
    validators = new Map(CREDENTIAL_TYPES.map((t) => [t, ajv.compile(SUBJECT_SCHEMAS[t])]))
  }
  const validate = validators.get(type) as ValidateFunction
  if (validate(credentialSubject)) return null
  const err = validate.errors?.[0]
  const extra = err?.keyword === 'additionalProperties' ? ` (${String((err.params as { additionalProperty?: string }).additionalProperty)})` : ''
  return `${type} credentialSubject${err?.instancePath || ''} ${err?.message ?? 'is invalid'}${extra}`
}

/** What identifies one record: a credential by its id, a repayment record also by the loan it closes. */
function recordKeys (vc: { id?: unknown; type?: unknown; credentialSubject?: unknown }): string[] {
  const keys = typeof vc.id === 'string' ? [`id ${vc.id}`] : []
  const s = vc.credentialSubject as Record<string, unknown> | undefined
  if (credentialTypeOf(vc) === 'RepaymentHistoryCredential' && s && typeof s.book === 'string' && typeof s.loanId === 'string') {
    keys.push(`loan ${s.book}/${s.loanId}`)
  }
  return keys
}

/**
 * Why a set of credentials counts some record twice: the same credential (by id) presented more
 * than once, or two repayment records for the same loan (book + loanId). Counted facts (loans
 * repaid, loans defaulted) would otherwise grow with every copy.
 * @param credentials objects with `id`, `type` and `credentialSubject`
 * @returns one plain sentence per duplicate found; empty when every record is distinct
 */
export function duplicateRecords (credentials: Array<{ id?: unknown; type?: unknown; credentialSubject?: unknown }>): string[] {
  const seen = new Set<string>()
  const reasons: string[] = []
  for (const vc of credentials) {
    const keys = recordKeys(vc)
    // one reason per repeated credential: its id when that repeats, else the loan it shares
    const key = keys.find((k) => seen.has(k))
    for (const k of keys) seen.add(k)
    if (key === undefined) continue
    reasons.push(key.startsWith('id ')
      ? `the credential ${key.slice(3, 123)} is presented more than once`
      : `two repayment records are presented for the same loan ${key.slice(5, 5 + 64 + 1 + 32)}`)
  }
  return reasons
}

/**
 * The facts disclosed by a set of (already verified) credentials. Repayment history is counted
 * over distinct records (a credential id, or a book + loan, counts once however often it is
 * presented: callers should refuse duplicates with {@link duplicateRecords} first); community
 * memberships collect into a list; for any other type the most recent credential (by validFrom) wins.
 * @param credentials objects with `id`, `type`, `validFrom` and `credentialSubject`
 */
export function factsFrom (credentials: Array<{ id?: unknown; type?: unknown; validFrom?: unknown; credentialSubject?: unknown }>): Record<string, FactValue> {
  const facts: Record<string, FactValue> = {}
  const ordered = [...credentials].sort((a, b) => String(a.validFrom ?? '').localeCompare(String(b.validFrom ?? '')))
  const counted = new Set<string>()
  for (const vc of ordered) {
    const keys = recordKeys(vc)
    if (keys.some((k) => counted.has(k))) continue
    for (const k of keys) counted.add(k)
    const type = credentialTypeOf(vc)
    const s = vc.credentialSubject as Record<string, unknown> | undefined
    if (!type || !s) continue
    switch (type) {
      case 'KycCredential': facts.kycStatus = s.kycStatus as string; break
      case 'AgeOverCredential': facts.ageOver = s.ageOver as number; break
      case 'CitizenshipCredential': facts.citizenship = s.citizenship as string; break
      case 'IncomeCredential': facts.averageMonthlyIncome = s.averageMonthlyIncome as number; facts.incomeCurrency = s.currency as string; break
      case 'SavingsCredential': facts.savingsRateBps = s.savingsRateBps as number; break
      case 'CreditScoreCredential': facts.creditRating = s.creditRating as string; facts.creditLimit = s.creditLimit as number; facts.creditLimitCurrency = s.currency as string; break
      case 'CommunityMembershipCredential': facts.communities = [...((facts.communities as string[] | undefined) ?? []), s.community as string]; break
      case 'RepaymentHistoryCredential': {
        facts.loansRepaid = ((facts.loansRepaid as number | undefined) ?? 0) + (s.outcome === 'repaid' ? 1 : 0)
        facts.loansDefaulted = ((facts.loansDefaulted as number | undefined) ?? 0) + (s.outcome === 'defaulted' ? 1 : 0)
        break
      }
    }
  }
  return facts
}
