/**
 * The eligibility-criteria builder: rows of `<fact> <operator> <value>`. Facts come from the
 * credential catalogue (FACTS), operators are those that suit the fact's kind, and values are
 * typed the way people think (money in major units of the project's currency, rates in percent);
 * `rowsToRules` turns the rows into json-rules-engine rules with criteriaToRules.
 */
import { FACTS } from '../../../core/credentials/catalogue.ts'
import { checkCriterion, criteriaToRules, describeCriterion, rulesToCriteria, type Criterion, type Operator } from '../../../core/services/criteria.ts'
import type { EligibilityRule } from '../../../books/ops/types.ts'
import { bpsToPercent, parseMajor, percentToBps, toMajorText } from '../../lib/money.ts'
import { Button, Input, Select } from '../../components/index.ts'

export interface CriterionRow { fact: string; operator: Operator; value: string }

const OPS_BY_KIND: Record<string, Operator[]> = {
  money: ['greaterThanInclusive', 'greaterThan', 'lessThanInclusive', 'lessThan', 'equal', 'notEqual'],
  bps: ['greaterThanInclusive', 'greaterThan', 'lessThanInclusive', 'lessThan', 'equal', 'notEqual'],
  integer: ['greaterThanInclusive', 'greaterThan', 'lessThanInclusive', 'lessThan', 'equal', 'notEqual'],
  enum: ['equal', 'notEqual', 'in', 'notIn'],
  string: ['equal', 'notEqual', 'in', 'notIn'],
  list: ['contains', 'doesNotContain']
}

const OP_WORDS: Record<Operator, string> = {
  equal: 'is', notEqual: 'is not', lessThan: 'less than', lessThanInclusive: 'at most', greaterThan: 'more than',
  greaterThanInclusive: 'at least', in: 'is one of', notIn: 'is none of', contains: 'includes', doesNotContain: 'does not include'
}

/** Operators that suit a fact, in the order offered. */
export function operatorsFor (fact: string): Operator[] {
  return OPS_BY_KIND[FACTS[fact]?.kind ?? 'string']
}

/** A fresh row for `fact` with its first operator and a sensible empty value. */
export function newRow (fact = 'kycStatus'): CriterionRow {
  const info = FACTS[fact]
  return { fact, operator: operatorsFor(fact)[0], value: info?.values?.[0] ?? '' }
}

/**
 * One row as a Criterion in the core's units.
 * @returns the criterion, or a sentence saying what is wrong with the row
 */
export function rowToCriterion (row: CriterionRow, currency: string): Criterion | string {
  const info = FACTS[row.fact]
  if (!info) return `unknown fact ${row.fact}`
  const text = row.value.trim()
  let value: Criterion['value']
  switch (info.kind) {
    case 'money': {
      const p = parseMajor(text, currency)
      if (!p.ok) return `${info.label}: ${p.error}`
      value = p.value
      break
    }
    case 'bps': {
      const bps = percentToBps(text)
      if (bps === null) return `${info.label}: "${text}" is not a percentage (e.g. 10 or 12.5)`
      value = bps
      break
    }
    case 'integer':
      if (!/^\d+$/.test(text)) return `${info.label}: "${text}" is not a whole number`
      value = Number(text)
      break
    default:
      value = row.operator === 'in' || row.operator === 'notIn' ? text.split(',').map((s) => s.trim()).filter(Boolean) : text
  }
  const c: Criterion = { fact: row.fact, operator: row.operator, value }
  return checkCriterion(c) ?? c
}

/**
 * All rows as json-rules-engine rules.
 * @throws Error with the first row's problem, in words
 */
export function rowsToRules (rows: CriterionRow[], currency: string): EligibilityRule[] {
  const criteria = rows.map((r, i) => {
    const c = rowToCriterion(r, currency)
    if (typeof c === 'string') throw new Error(`Criterion ${i + 1}: ${c}`)
    return c
  })
  return criteriaToRules(criteria, currency)
}

/** A project's rules back as rows (money in major units of `currency`); null when they were written by hand beyond what rows express. */
export function rulesToRows (rules: EligibilityRule[], currency: string): CriterionRow[] | null {
  const criteria = rulesToCriteria(rules)
  if (!criteria) return null
  return criteria.map((c) => {
    const kind = FACTS[c.fact]?.kind
    const v = c.value
    const value = Array.isArray(v) ? v.join(', ') : kind === 'money' ? toMajorText(v as number, currency) : kind === 'bps' ? bpsToPercent(v as number) : String(v)
    return { fact: c.fact, operator: c.operator, value }
  })
}

const FACT_GROUPS = Object.entries(FACTS).reduce<Record<string, string[]>>((acc, [name, info]) => {
  (acc[info.type] ??= []).push(name)
  return acc
}, {})

export function CriteriaBuilder ({ rows, onChange, currency }: { rows: CriterionRow[]; onChange: (rows: CriterionRow[]) => void; currency: string }) {
  const set = (i: number, row: CriterionRow) => onChange(rows.map((r, j) => j === i ? row : r))
  return (
    <div className='stack' style={{ gap: 8 }} data-testid='criteria'>
      {rows.length === 0 && <p className='muted small'>No criteria: anyone the book admits may apply.</p>}
      {rows.map((row, i) => {
        const info = FACTS[row.fact]
        const multi = row.operator === 'in' || row.operator === 'notIn'
        const c = rowToCriterion(row, currency)
        return (
          <div key={i} className='stack' style={{ gap: 2 }} data-testid={'criterion-' + i}>
            <div className='criteria-row'>
              <Select aria-label='Fact' value={row.fact} testid={'criterion-fact-' + i} onChange={(e) => set(i, newRow(e.target.value))}>
                {Object.entries(FACT_GROUPS).map(([type, facts]) => (
                  <optgroup key={type} label={type.replace(/Credential$/, '')}>
                    {facts.map((f) => <option key={f} value={f}>{FACTS[f].label}</option>)}
                  </optgroup>
                ))}
              </Select>
              <Select aria-label='Operator' value={row.operator} testid={'criterion-op-' + i} onChange={(e) => set(i, { ...row, operator: e.target.value as Operator })}>
                {operatorsFor(row.fact).map((op) => <option key={op} value={op}>{OP_WORDS[op]}</option>)}
              </Select>
              {info?.kind === 'enum' && !multi
                ? (
                  <Select aria-label='Value' value={row.value} testid={'criterion-value-' + i} onChange={(e) => set(i, { ...row, value: e.target.value })}>
                    {info.values?.map((v) => <option key={v} value={v}>{v}</option>)}
                  </Select>
                  )
                : (
                  <Input
                    aria-label='Value' value={row.value} testid={'criterion-value-' + i}
                    placeholder={info?.kind === 'money' ? `amount in ${currency}` : info?.kind === 'bps' ? 'percent, e.g. 10' : multi ? (info?.values?.join(', ') ?? 'values, comma separated') : ''}
                    onChange={(e) => set(i, { ...row, value: e.target.value })}
                  />
                  )}
              <Button small variant='danger' testid={'criterion-remove-' + i} onClick={() => onChange(rows.filter((_, j) => j !== i))}>Remove</Button>
            </div>
            <span className={'small ' + (typeof c === 'string' ? 'field-error' : 'muted')}>
              {typeof c === 'string' ? c : 'Reads: ' + describeCriterion(c, currency)}
            </span>
          </div>
        )
      })}
      <div className='row'><Button small testid='criterion-add' onClick={() => onChange([...rows, newRow()])}>Add criterion</Button></div>
    </div>
  )
}
