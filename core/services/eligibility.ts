/**
 * Evaluates a project's eligibility rules (json-rules-engine 7.3.1) against the facts a borrower's
 * verified credentials disclose, and says why in sentences a borrower understands.
 *
 * Three-valued (Kleene) logic on top of the engine's per-condition results: a condition is true,
 * false, or unknown when its fact was not disclosed or cannot be compared (money in another
 * currency than the project's, a value of the wrong type). all/any/not combine these the Kleene
 * way (not(unknown) stays unknown) and a rule only holds when it is true, so neither a missing
 * credential nor a `not` around one can make a borrower eligible.
 */
import { Engine } from 'json-rules-engine'
import type { EligibilityRule } from '../../books/ops/types.ts'
import type { FactValue } from '../credentials/catalogue.ts'
import { checkRules, describeCriterion, factInfo, formatValue, requirementParts } from './criteria.ts'
import type { Criterion } from './criteria.ts'

/** One leaf condition of a rule, as evaluated. */
export interface ConditionOutcome {
  fact: string
  operator: string
  value: unknown
  /** the disclosed value; undefined when no credential disclosed the fact */
  actual: unknown
  /** whether this condition itself holds (false also when undisclosed or not comparable) */
  passed: boolean
  /** the condition in plain words, as describeCriterion says it */
  text: string
}

/** The verdict on a borrower's facts. */
export interface EligibilityOutcome {
  eligible: boolean
  /** every leaf condition of every rule, depth first in rule order */
  conditions: ConditionOutcome[]
  /** one plain sentence per failed requirement (an `any` whose alternatives all fail counts once) */
  reasons: string[]
}

type Status = boolean | null

interface LeafNode { kind: 'leaf'; status: Status; outcome: ConditionOutcome; reason: string }
interface BoolNode { kind: 'all' | 'any' | 'not'; status: Status; children: EvalNode[] }
type EvalNode = LeafNode | BoolNode

/** The engine's evaluated condition tree: Condition objects carrying `result` and `factResult`. */
interface ResultCondition {
  all?: ResultCondition[]
  any?: ResultCondition[]
  not?: ResultCondition
  fact?: string
  operator?: string
  value?: unknown
  factResult?: unknown
  result?: boolean
}

function capitalise (s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/** A copy holding only what decides the outcome: priorities would let the engine skip conditions. */
function strip (node: Record<string, unknown>): Record<string, unknown> {
  if (Array.isArray(node.all)) return { all: node.all.map((c) => strip(c as Record<string, unknown>)) }
  if (Array.isArray(node.any)) return { any: node.any.map((c) => strip(c as Record<string, unknown>)) }
  if (node.not !== undefined) return { not: strip(node.not as Record<string, unknown>) }
  return { fact: node.fact, operator: node.operator, value: Array.isArray(node.value) ? [...node.value] : node.value }
}

function kindMatches (kind: string, v: unknown): boolean {
  if (kind === 'money' || kind === 'bps' || kind === 'integer') return typeof v === 'number' && Number.isSafeInteger(v)
  if (kind === 'list') return Array.isArray(v) && v.every((x) => typeof x === 'string')
  return typeof v === 'string'
}

function combine (kind: 'all' | 'any' | 'not', statuses: Status[]): Status {
  if (kind === 'not') return statuses[0] === null ? null : !statuses[0]
  const decisive = kind === 'any'
  if (statuses.includes(decisive)) return decisive
  return statuses.includes(null) ? null : !decisive
}

function describeNode (n: EvalNode, nested = false): string {
  if (n.kind === 'leaf') return n.outcome.text
  if (n.kind === 'not') return `not (${describeNode(n.children[0])})`
  const s = n.children.map((c) => describeNode(c, true)).join(n.kind === 'all' ? ' and ' : ' or ')
  return nested && n.children.length > 1 ? `(${s})` : s
}

function unknownReasons (n: EvalNode): string[] {
  if (n.kind === 'leaf') return n.status === null ? [n.reason] : []
  return n.children.flatMap(unknownReasons)
}

/** Sentences saying why a node that is not true is not. */
function explain (n: EvalNode): string[] {
  if (n.status === true) return []
  if (n.kind === 'leaf') return [n.reason]
  if (n.kind === 'not') {
    return n.status === null
      ? unknownReasons(n.children[0])
      : [`The project excludes borrowers for whom this holds, and your credentials show it does: ${describeNode(n.children[0])}.`]
  }
  const failing = n.children.filter((c) => c.status !== true)
  if (n.kind === 'all' || n.children.length === 1) return failing.flatMap(explain)
  return [`At least one of these is required: ${n.children.map((c) => describeNode(c, true)).join('; or ')}. ${failing.flatMap(explain).join(' ')}`]
}

function leaf (c: ResultCondition, facts: Record<string, FactValue>, projectCurrency: string | undefined): LeafNode {
  const fact = String(c.fact)
  const info = factInfo(fact)
  const currencyFact = info?.currencyFact
  const stated = currencyFact === undefined ? undefined : facts[currencyFact]
  const factCurrency = typeof stated === 'string' ? stated : undefined
  const thresholdCurrency = projectCurrency ?? factCurrency
  const criterion = { fact, operator: String(c.operator), value: c.value } as Criterion
  const actual = c.factResult
  const outcome: ConditionOutcome = { fact, operator: criterion.operator, value: c.value, actual, passed: false, text: describeCriterion(criterion, thresholdCurrency) }
  const p = requirementParts(criterion, thresholdCurrency)
  const requirement = `the project requires ${p.pronoun} to ${p.must}`
  let status: Status
  let reason: string
  if (actual === undefined || !info) {
    status = null
    reason = `No credential disclosed your ${p.noun}: ${requirement}.`
  } else if (!kindMatches(info.kind, actual)) {
    status = null
    reason = `Your ${p.noun} could not be checked: the credential's value ${JSON.stringify(actual)} is not a ${info.kind === 'list' ? 'list of text values' : info.kind === 'enum' || info.kind === 'string' ? 'text value' : 'whole number'}; ${requirement}.`
  } else if (info.kind === 'money' && projectCurrency !== undefined && factCurrency !== projectCurrency) {
    // Amounts in different currencies are not comparable: never let the numbers decide.
    status = null
    reason = factCurrency === undefined
      ? `Your ${p.noun} does not state its currency; this project lends in ${projectCurrency}.`
      : `Your ${p.noun} is stated in ${factCurrency}; this project lends in ${projectCurrency}.`
  } else {
    status = c.result === true
    const shown = formatValue(fact, actual, factCurrency)
    const aggregated = info.kind === 'list' || info.type === 'RepaymentHistoryCredential'
    reason = fact === 'ageOver' && p.subject === 'you'
      ? `You must ${p.must}; your credential shows you are at least ${shown}.`
      : `${capitalise(p.subject)} must ${p.must}; your ${aggregated ? 'credentials show' : 'credential says'} ${shown}.`
  }
  outcome.passed = status === true
  return { kind: 'leaf', status, outcome, reason }
}

function build (c: ResultCondition, facts: Record<string, FactValue>, currency: string | undefined, out: ConditionOutcome[]): EvalNode {
  const kind = Array.isArray(c.all) ? 'all' : Array.isArray(c.any) ? 'any' : c.not !== undefined ? 'not' : null
  if (kind === null) {
    const l = leaf(c, facts, currency)
    out.push(l.outcome)
    return l
  }
  const subs = kind === 'not' ? [c.not as ResultCondition] : c[kind] as ResultCondition[]
  const children = subs.map((s) => build(s, facts, currency, out))
  return { kind, status: combine(kind, children.map((ch) => ch.status)), children }
}

function refused (reason: string): EligibilityOutcome {
  return { eligible: false, conditions: [], reasons: [reason] }
}

/**
 * Decides whether a borrower's facts meet a project's rules. A fresh json-rules-engine Engine
 * (allowUndefinedFacts) is built per call with each disclosed FACTS fact as a constant; the
 * outcome is read from the evaluated condition trees of `results` and `failureResults`.
 * Eligible iff every rule holds (no rules: eligible). A money condition whose currency fact is not
 * `opts.currency` fails with a currency reason instead of comparing numbers across currencies.
 * @param rules the project's terms.eligibility (validated with checkRules first)
 * @param facts from factsFrom() over the borrower's verified credentials; names outside FACTS are ignored
 * @param opts.currency the project's currency (ISO 4217 or asset code)
 * @returns the verdict, every leaf condition's outcome and one reason per failed requirement
 * @throws nothing for rule or fact content: malformed rules give eligible false with the reason
 */
export async function evaluateEligibility (rules: EligibilityRule[], facts: Record<string, FactValue>, opts: { currency?: string } = {}): Promise<EligibilityOutcome> {
  const problem = checkRules(rules)
  if (problem) return refused(`This project's eligibility rules cannot be evaluated: ${problem}.`)
  if (rules.length === 0) return { eligible: true, conditions: [], reasons: [] }

  const known: Record<string, FactValue> = {}
  if (typeof facts === 'object' && facts !== null) {
    for (const [name, v] of Object.entries(facts)) {
      if (factInfo(name) && v !== undefined && v !== null && typeof v !== 'function') known[name] = Array.isArray(v) ? [...v] : v
    }
  }

  const engine = new Engine([], { allowUndefinedFacts: true })
  rules.forEach((r, index) => {
    engine.addRule({ conditions: strip(r.conditions) as never, event: { type: 'growr/rule', params: { index } } })
  })
  for (const [name, v] of Object.entries(known)) engine.addFact(name, v)

  let run
  try {
    run = await engine.run()
  } catch (err) {
    return refused(`This project's eligibility rules could not be evaluated: ${(err as Error)?.message ?? String(err)}.`)
  }

  const byIndex = new Map<number, ResultCondition>()
  for (const rr of [...run.results, ...run.failureResults]) {
    byIndex.set(Number(rr.event?.params?.index), rr.conditions as unknown as ResultCondition)
  }
  const conditions: ConditionOutcome[] = []
  const reasons: string[] = []
  let eligible = true
  for (let i = 0; i < rules.length; i++) {
    const tree = byIndex.get(i)
    if (!tree) {
      eligible = false
      reasons.push(`Eligibility rule ${i + 1} was not evaluated.`)
      continue
    }
    const node = build(tree, known, opts.currency, conditions)
    if (node.status !== true) {
      eligible = false
      reasons.push(...explain(node))
    }
  }
  return { eligible, conditions, reasons }
}
