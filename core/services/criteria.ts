/**
 * The eligibility criteria builder: plain criteria (one fact, one operator, one value) to and from
 * json-rules-engine rules, their validation, and the sentences a borrower reads.
 *
 * Pure and synchronous: checkRules runs inside deterministic code (op validation), so nothing here
 * may touch the engine, the clock or I/O. Facts are those of core/credentials/catalogue.ts FACTS;
 * amounts are integer minor units, rates are basis points.
 */
import { GrowrError } from '../errors.ts'
import { FACTS } from '../credentials/catalogue.ts'
import type { FactInfo } from '../credentials/catalogue.ts'
import type { EligibilityRule } from '../../books/ops/types.ts'

export const OPERATORS = [
  'equal', 'notEqual', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive',
  'in', 'notIn', 'contains', 'doesNotContain'
] as const
/** The json-rules-engine built-in operators Growr rules may use (no decorators such as `everyFact:`). */
export type Operator = typeof OPERATORS[number]

/** One criterion of the builder: `<fact> <operator> <value>`, e.g. averageMonthlyIncome greaterThanInclusive 50000. */
export interface Criterion { fact: string; operator: Operator; value: string | number | string[] }

/** Limits on any rule set, so a hostile project cannot make verifiers do unbounded work. */
export const MAX_DEPTH = 5
export const MAX_CONDITIONS = 50

const NUMERIC_OPS: readonly string[] = ['equal', 'notEqual', 'lessThan', 'lessThanInclusive', 'greaterThan', 'greaterThanInclusive']
const TEXT_OPS: readonly string[] = ['equal', 'notEqual', 'in', 'notIn']
const LIST_OPS: readonly string[] = ['contains', 'doesNotContain']
const LEAF_KEYS = new Set(['fact', 'operator', 'value', 'name', 'priority'])
const BOOL_KEYS = new Set(['all', 'any', 'not', 'name', 'priority'])

/** ISO 4217 minor-unit exponents that are not 2, plus crypto assets counted in their smallest unit. */
const EXPONENTS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  BTC: 8, LTC: 8, BCH: 8,
  SAT: 0, SATS: 0
}

function isPlainObject (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** FACTS lookup that ignores inherited names (`constructor`, `__proto__`). */
export function factInfo (fact: unknown): FactInfo | null {
  return typeof fact === 'string' && Object.hasOwn(FACTS, fact) ? FACTS[fact] : null
}

export function isOperator (op: unknown): op is Operator {
  return typeof op === 'string' && (OPERATORS as readonly string[]).includes(op)
}

function group (digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * Formats an amount of minor units in major units with its code, without floats or Intl (Bare
 * may lack it): 50000 KES -> "500.00 KES", 1500 JPY -> "1,500 JPY", 50000 BTC -> "0.00050000 BTC".
 * Exponents follow ISO 4217 (2 unless listed); BTC-like assets use 8, `SAT` (satoshis) 0.
 * @param amount integer minor units (a non-integer is shown as given)
 * @param currency ISO 4217 or asset code; when absent the amount is shown as "<n> minor units"
 */
export function formatMinor (amount: number, currency?: string): string {
  if (!Number.isSafeInteger(amount)) return String(amount) + (currency ? ` ${currency}` : '')
  if (!currency) return `${amount < 0 ? '-' : ''}${group(String(Math.abs(amount)))} minor units`
  const exp = Object.hasOwn(EXPONENTS, currency) ? EXPONENTS[currency] : 2
  const digits = String(Math.abs(amount)).padStart(exp + 1, '0')
  const major = group(digits.slice(0, digits.length - exp))
  const minor = exp > 0 ? '.' + digits.slice(digits.length - exp) : ''
  return `${amount < 0 ? '-' : ''}${major}${minor} ${currency}`
}

/** Basis points as a percentage with two decimals: 1000 -> "10.00%". */
export function formatBps (bps: number): string {
  if (!Number.isSafeInteger(bps)) return `${String(bps)} bps`
  const digits = String(Math.abs(bps)).padStart(3, '0')
  return `${bps < 0 ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}%`
}

/**
 * A fact value in words for its kind: money with `currency`, bps as a percentage, lists joined.
 * @param fact a FACTS name (unknown names are shown as plain text)
 */
export function formatValue (fact: string, value: unknown, currency?: string): string {
  const info = factInfo(fact)
  if (Array.isArray(value)) return value.length ? value.map((v) => formatValue(fact, v, currency)).join(', ') : 'none'
  if (typeof value === 'number' && info?.kind === 'money') return formatMinor(value, currency)
  if (typeof value === 'number' && info?.kind === 'bps') return formatBps(value)
  return String(value)
}

function orList (xs: string[]): string {
  return xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`
}

/**
 * Whether a criterion is well formed: the fact is in FACTS, the operator suits the fact's kind
 * (money/bps/integer: comparisons and (not)equal; enum/string: (not)equal and (not)in; list:
 * contains/doesNotContain) and the value suits both (numbers: safe integers; enum: one of its
 * values; in/notIn: a non-empty array; list: a string).
 * @returns null when valid, else a one-line reason
 */
export function checkCriterion (c: Criterion): string | null {
  if (!isPlainObject(c)) return 'a criterion must be an object { fact, operator, value }'
  const info = factInfo(c.fact)
  if (!info) return `unknown fact ${JSON.stringify(c.fact)}`
  if (!isOperator(c.operator)) return `unknown operator ${JSON.stringify(c.operator)}`
  const op: string = c.operator
  const v: unknown = c.value
  switch (info.kind) {
    case 'money': case 'bps': case 'integer':
      if (!NUMERIC_OPS.includes(op)) return `${info.label} is a number: operator ${op} does not apply`
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return `${info.label} must be compared with a whole number${info.kind === 'money' ? ' of minor units' : info.kind === 'bps' ? ' of basis points' : ''}`
      return null
    case 'enum': case 'string': {
      if (!TEXT_OPS.includes(op)) return `${info.label} is text: operator ${op} does not apply`
      const values = op === 'in' || op === 'notIn' ? v : [v]
      if (op === 'in' || op === 'notIn') {
        if (!Array.isArray(v) || v.length === 0) return `${op} needs a non-empty list of values for ${info.label}`
      }
      for (const x of values as unknown[]) {
        if (typeof x !== 'string') return `${info.label} must be compared with text`
        if (info.values && !info.values.includes(x)) return `${JSON.stringify(x)} is not a possible ${info.label} (${info.values.join(', ')})`
      }
      return null
    }
    case 'list':
      if (!LIST_OPS.includes(op)) return `${info.label} is a list: use contains or doesNotContain, not ${op}`
      if (typeof v !== 'string' || v.length === 0) return `${info.label} must be compared with a non-empty text value`
      return null
  }
}

/**
 * Validates any rule set, including hand-written all/any/not nesting: every leaf passes
 * checkCriterion (known fact, known operator suited to it, value of the right type); no `path`,
 * `params` or `condition` references, since a fact must never fetch or derive anything; boolean
 * nodes hold a non-empty `all`/`any` array or one `not`; depth (root = 1, leaves included) at most
 * MAX_DEPTH; at most MAX_CONDITIONS leaves over all rules. Pure and synchronous.
 * @returns null when valid, else a reason naming the rule and the condition's path
 */
export function checkRules (rules: EligibilityRule[]): string | null {
  if (!Array.isArray(rules)) return 'eligibility must be an array of rules'
  let leaves = 0
  const walk = (node: unknown, where: string, depth: number): string | null => {
    if (depth > MAX_DEPTH) return `${where}: conditions nest deeper than ${MAX_DEPTH} levels`
    if (!isPlainObject(node)) return `${where}: a condition must be an object`
    const bool = ['all', 'any', 'not'].filter((k) => Object.hasOwn(node, k))
    if (bool.length > 1) return `${where}: use one of all, any, not per condition`
    if (bool.length === 1) {
      for (const k of Object.keys(node)) if (!BOOL_KEYS.has(k)) return `${where}: unexpected ${JSON.stringify(k)}`
      const k = bool[0]
      if (k === 'not') return walk(node.not, `${where}.not`, depth + 1)
      const children = node[k]
      if (!Array.isArray(children) || children.length === 0) return `${where}.${k} must be a non-empty array`
      for (let i = 0; i < children.length; i++) {
        const problem = walk(children[i], `${where}.${k}[${i}]`, depth + 1)
        if (problem) return problem
      }
      return null
    }
    if (Object.hasOwn(node, 'condition')) return `${where}: condition references are not allowed`
    if (Object.hasOwn(node, 'path')) return `${where}: "path" is not allowed (facts are plain values)`
    if (Object.hasOwn(node, 'params')) return `${where}: "params" is not allowed (facts never fetch anything)`
    for (const k of Object.keys(node)) if (!LEAF_KEYS.has(k)) return `${where}: unexpected ${JSON.stringify(k)}`
    if (depth === 1) return `${where}: the top level must be all, any or not`
    if (++leaves > MAX_CONDITIONS) return `more than ${MAX_CONDITIONS} conditions`
    const problem = checkCriterion({ fact: node.fact as string, operator: node.operator as Operator, value: node.value as string })
    return problem ? `${where}: ${problem}` : null
  }
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i] as unknown
    if (!isPlainObject(r)) return `rule ${i}: must be an object`
    if (!isPlainObject(r.event) || typeof r.event.type !== 'string') return `rule ${i}: event must be an object with a string type`
    const problem = walk(r.conditions, `rule ${i}: conditions`, 1)
    if (problem) return problem
  }
  return null
}

/**
 * One rule per criterion: `{ name: describeCriterion(c, currency), conditions: { all: [{ fact,
 * operator, value }] }, event: { type: 'criterion', params: { index } } }`.
 * @param currency the project's currency, used only in the rule names
 * @throws GrowrError BAD_ARGUMENT with checkCriterion's reason when a criterion is invalid
 */
export function criteriaToRules (criteria: Criterion[], currency?: string): EligibilityRule[] {
  if (!Array.isArray(criteria)) throw GrowrError.BAD_ARGUMENT('criteria must be an array')
  if (criteria.length > MAX_CONDITIONS) throw GrowrError.BAD_ARGUMENT(`at most ${MAX_CONDITIONS} criteria`)
  return criteria.map((c, index) => {
    const problem = checkCriterion(c)
    if (problem) throw GrowrError.BAD_ARGUMENT(`criterion ${index}: ${problem}`)
    const value = Array.isArray(c.value) ? [...c.value] : c.value
    return {
      name: describeCriterion(c, currency),
      conditions: { all: [{ fact: c.fact, operator: c.operator, value }] },
      event: { type: 'criterion', params: { index } }
    }
  })
}

/**
 * The inverse of criteriaToRules, so the UI can edit a project: each rule must be
 * `{ all: [one plain leaf] }` whose leaf passes checkCriterion (names, events and priorities are
 * ignored).
 * @returns the criteria in rule order, or null when any rule is not representable
 */
export function rulesToCriteria (rules: EligibilityRule[]): Criterion[] | null {
  if (!Array.isArray(rules)) return null
  const out: Criterion[] = []
  for (const r of rules) {
    const all = isPlainObject(r) && isPlainObject(r.conditions) && Object.keys(r.conditions).length === 1 ? r.conditions.all : null
    if (!Array.isArray(all) || all.length !== 1 || !isPlainObject(all[0])) return null
    const leaf = all[0]
    if (Object.keys(leaf).some((k) => k !== 'fact' && k !== 'operator' && k !== 'value')) return null
    const c = { fact: leaf.fact, operator: leaf.operator, value: Array.isArray(leaf.value) ? [...leaf.value] : leaf.value } as Criterion
    if (checkCriterion(c)) return null
    out.push(c)
  }
  return out
}

/**
 * The pieces of a borrower-facing sentence about a condition: `subject` ("average monthly
 * income"), `noun` for "No credential disclosed your <noun>", `pronoun` and `must`, the verb phrase
 * after "must" ("be at least 500.00 USD").
 * @param currency the currency money thresholds are stated in
 */
export function requirementParts (c: { fact: string; operator: string; value: unknown }, currency?: string): { subject: string; noun: string; pronoun: string; must: string } {
  const info = factInfo(c.fact)
  const label = info?.label ?? String(c.fact)
  const v = (x: unknown): string => formatValue(c.fact, x, currency)
  const list = Array.isArray(c.value) ? c.value.map(v) : [v(c.value)]
  if (c.fact === 'ageOver' && (c.operator === 'greaterThanInclusive' || c.operator === 'greaterThan')) {
    return { subject: 'you', noun: 'age', pronoun: 'you', must: c.operator === 'greaterThan' ? `be aged over ${v(c.value)}` : `be aged ${v(c.value)} or over` }
  }
  const must = ({
    equal: `be ${v(c.value)}`,
    notEqual: `not be ${v(c.value)}`,
    lessThan: `be less than ${v(c.value)}`,
    lessThanInclusive: `be at most ${v(c.value)}`,
    greaterThan: `be more than ${v(c.value)}`,
    greaterThanInclusive: `be at least ${v(c.value)}`,
    in: `be ${orList(list)}`,
    notIn: `not be any of ${list.join(', ')}`,
    contains: `include ${v(c.value)}`,
    doesNotContain: `not include ${v(c.value)}`
  } as Record<string, string>)[c.operator] ?? `satisfy ${String(c.operator)} ${list.join(', ')}`
  return { subject: label, noun: label, pronoun: info?.kind === 'list' ? 'them' : 'it', must }
}

/**
 * A criterion in plain words, for lists of criteria and rule names: "average monthly income of at
 * least 500.00 USD", "credit rating is one of A, B", "member of community Kibera Traders",
 * "identity check (KYC) status is verified", "savings as a share of income of at least 10.00%",
 * "aged 18 or over", "loans defaulted is 0".
 * @param currency the project's currency for money amounts (without it: "<n> minor units")
 * @throws nothing (unknown facts and operators are described literally)
 */
export function describeCriterion (c: Criterion, currency?: string): string {
  const info = factInfo(c.fact)
  const label = info?.label ?? String(c.fact)
  const v = (x: unknown): string => formatValue(c.fact, x, currency)
  const list = Array.isArray(c.value) ? c.value.map(v).join(', ') : v(c.value)
  if (c.fact === 'ageOver' && c.operator === 'greaterThanInclusive') return `aged ${v(c.value)} or over`
  if (c.fact === 'ageOver' && c.operator === 'greaterThan') return `aged over ${v(c.value)}`
  if (c.fact === 'communities' && c.operator === 'contains') return `member of community ${v(c.value)}`
  if (c.fact === 'communities' && c.operator === 'doesNotContain') return `not a member of community ${v(c.value)}`
  if (info?.kind === 'money' || info?.kind === 'bps') {
    const phrase = ({
      equal: 'of exactly', lessThan: 'of less than', lessThanInclusive: 'of at most', greaterThan: 'of more than', greaterThanInclusive: 'of at least'
    } as Record<string, string>)[c.operator]
    if (phrase) return `${label} ${phrase} ${list}`
    if (c.operator === 'notEqual') return `${label} other than ${list}`
  }
  const phrase = ({
    equal: 'is', notEqual: 'is not', lessThan: 'is less than', lessThanInclusive: 'is at most', greaterThan: 'is more than',
    greaterThanInclusive: 'is at least', in: 'is one of', notIn: 'is none of', contains: 'include', doesNotContain: 'do not include'
  } as Record<string, string>)[c.operator] ?? String(c.operator)
  return `${label} ${phrase} ${list}`
}

/**
 * Every fact any condition mentions (walking all/any/not, tolerating malformed rules), followed
 * where relevant by money facts' currency facts, each once, in first-mention order. Use it to pick
 * the credentials a presentation must carry.
 */
export function referencedFacts (rules: EligibilityRule[]): string[] {
  const seen = new Set<string>()
  const walk = (node: unknown, depth: number): void => {
    if (!isPlainObject(node) || depth > MAX_DEPTH + 1) return
    for (const k of ['all', 'any']) if (Array.isArray(node[k])) for (const c of node[k] as unknown[]) walk(c, depth + 1)
    if (node.not !== undefined) walk(node.not, depth + 1)
    if (typeof node.fact === 'string') {
      seen.add(node.fact)
      const cf = factInfo(node.fact)?.currencyFact
      if (cf) seen.add(cf)
    }
  }
  if (Array.isArray(rules)) for (const r of rules) walk((r as { conditions?: unknown })?.conditions, 1)
  return [...seen]
}
