/**
 * Creating a project, or editing one in draft or inactive: its lending terms in the units people
 * use (major units of the currency, percent, months, days) and its eligibility criteria, turned
 * into ProjectTerms (minor units, basis points, json-rules-engine rules) on submit.
 */
import { useState } from 'react'
import type { Project } from '../../../books/entities.ts'
import type { ProjectTerms } from '../../../books/ops/types.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction } from '../../lib/hooks.ts'
import { addDays, today } from '../../lib/dates.ts'
import { bpsToPercent, parseMajor, percentToBps, toMajorText } from '../../lib/money.ts'
import { Alert, Button, Card, Field, Input, Select, TextArea } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { CriteriaBuilder, rowsToRules, rulesToRows, type CriterionRow } from './CriteriaBuilder.tsx'

interface Form {
  name: string; description: string; amount: string; currency: string; startDate: string; endDate: string
  loanMin: string; loanMax: string; minMonths: string; maxMonths: string; rate: string
  method: ProjectTerms['interestMethod']; fee: string; grace: string; isPublic: boolean; isInviteOnly: boolean
}

function blank (): Form {
  const d = today()
  return {
    name: '', description: '', amount: '10000', currency: 'EUR', startDate: d, endDate: addDays(d, 365),
    loanMin: '100', loanMax: '2000', minMonths: '3', maxMonths: '12', rate: '12', method: 'declining-balance',
    fee: '5', grace: '10', isPublic: true, isInviteOnly: false
  }
}

function fromProject (t: ProjectTerms): Form {
  const m = (n: number) => toMajorText(n, t.currency)
  return {
    name: t.name, description: t.description, amount: m(t.amount), currency: t.currency, startDate: t.startDate, endDate: t.endDate,
    loanMin: m(t.loanMinAmount), loanMax: m(t.loanMaxAmount), minMonths: String(t.loanMinDuration), maxMonths: String(t.loanMaxDuration),
    rate: bpsToPercent(t.annualRateBps), method: t.interestMethod, fee: m(t.disbursementFee), grace: String(t.gracePeriod),
    isPublic: t.isPublic, isInviteOnly: t.isInviteOnly
  }
}

/**
 * The form as ProjectTerms.
 * @throws Error naming the first field that does not parse
 */
function toTerms (f: Form, rows: CriterionRow[] | null, keepRules: ProjectTerms['eligibility']): ProjectTerms {
  const currency = f.currency.trim().toUpperCase()
  if (!/^[A-Z][A-Z0-9]{2,4}$/.test(currency)) throw new Error('Currency must be a code such as EUR, KES or BTC')
  const money = (label: string, text: string) => {
    const p = parseMajor(text, currency)
    if (!p.ok) throw new Error(`${label}: ${p.error}`)
    return p.value
  }
  const whole = (label: string, text: string) => {
    if (!/^\d+$/.test(text.trim())) throw new Error(`${label} must be a whole number`)
    return Number(text)
  }
  const rate = percentToBps(f.rate)
  if (rate === null) throw new Error('Annual rate must be a percentage with at most two decimals, e.g. 12 or 9.5')
  if (!f.name.trim()) throw new Error('A project needs a name')
  return {
    name: f.name.trim(),
    description: f.description,
    amount: money('Project amount', f.amount),
    currency,
    startDate: f.startDate,
    endDate: f.endDate,
    loanMinAmount: money('Smallest loan', f.loanMin),
    loanMaxAmount: money('Largest loan', f.loanMax),
    loanMinDuration: whole('Shortest term', f.minMonths),
    loanMaxDuration: whole('Longest term', f.maxMonths),
    annualRateBps: rate,
    interestMethod: f.method,
    disbursementFee: money('Disbursement fee', f.fee),
    gracePeriod: whole('Grace period', f.grace),
    eligibility: rows ? rowsToRules(rows, currency) : keepRules,
    isPublic: f.isPublic,
    isInviteOnly: f.isInviteOnly
  }
}

export function ProjectForm ({ book, project, onDone }: { book: string; project?: Project; onDone: () => void }) {
  const toast = useToast()
  const [form, setForm] = useState<Form>(() => project ? fromProject(project.terms) : blank())
  // null: the project's rules were written by hand (CLI) and are kept as they are
  const [rows, setRows] = useState<CriterionRow[] | null>(() => project ? rulesToRows(project.terms.eligibility, project.terms.currency) : [])
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm((f) => ({ ...f, [k]: v }))
  const save = useAction(async () => {
    const terms = toTerms(form, rows, project?.terms.eligibility ?? [])
    if (project) {
      const changes: Partial<ProjectTerms> = {}
      for (const k of Object.keys(terms) as Array<keyof ProjectTerms>) {
        if (JSON.stringify(terms[k]) !== JSON.stringify(project.terms[k])) (changes as Record<string, unknown>)[k] = terms[k]
      }
      if (Object.keys(changes).length === 0) throw new Error('Nothing changed')
      await send('project.update', { book, project: project.projectId, changes })
      toast('Project updated')
    } else {
      await send('project.create', { book, terms })
      toast('Project created as a draft: activate it to take applications')
    }
    onDone()
  })
  const cur = form.currency.trim().toUpperCase() || 'EUR'
  const text = (k: keyof Form, label: string, hint?: string, type = 'text') => (
    <Field label={label} hint={hint}>
      {(id) => <Input id={id} type={type} value={form[k] as string} onChange={(e) => set(k, e.target.value as never)} testid={'project-' + k} />}
    </Field>
  )

  return (
    <Card title={project ? `Edit ${project.terms.name}` : 'New project'} testid='project-form'>
      <form className='stack' onSubmit={(e) => { e.preventDefault(); save.run() }}>
        <div className='form'>
          {text('name', 'Name')}
          {text('amount', `Project amount (${cur})`, 'The most all its loans may add up to')}
          {text('currency', 'Currency')}
          {text('startDate', 'Applications from', undefined, 'date')}
          {text('endDate', 'Applications until', undefined, 'date')}
          {text('loanMin', `Smallest loan (${cur})`)}
          {text('loanMax', `Largest loan (${cur})`)}
          {text('minMonths', 'Shortest term (months)')}
          {text('maxMonths', 'Longest term (months)')}
          {text('rate', 'Annual rate (%)')}
          <Field label='Interest method'>
            {(id) => (
              <Select id={id} value={form.method} onChange={(e) => set('method', e.target.value as Form['method'])} testid='project-method'>
                <option value='declining-balance'>Declining balance (equal instalments)</option>
                <option value='flat'>Flat</option>
              </Select>
            )}
          </Field>
          {text('fee', `Disbursement fee (${cur})`, 'Kept from each disbursement')}
          {text('grace', 'Grace period (days)', 'How late an instalment may be before a default')}
          <Field label='Description' wide>
            {(id) => <TextArea id={id} value={form.description} onChange={(e) => set('description', e.target.value)} testid='project-description' />}
          </Field>
          <label className='check'><input type='checkbox' checked={form.isPublic} onChange={(e) => set('isPublic', e.target.checked)} /> Public</label>
          <label className='check'><input type='checkbox' checked={form.isInviteOnly} onChange={(e) => set('isInviteOnly', e.target.checked)} /> Invite only</label>
        </div>
        <h3>Eligibility criteria</h3>
        {rows
          ? <CriteriaBuilder rows={rows} onChange={setRows} currency={cur} />
          : <p className='muted small'>This project's rules were written by hand and are kept as they are.</p>}
        <Alert error={save.error} testid='project-form-error' />
        <div className='row'>
          <Button type='submit' variant='primary' busy={save.running} testid='project-save'>{project ? 'Save changes' : 'Create project'}</Button>
          <Button onClick={onDone} testid='project-cancel'>Cancel</Button>
        </div>
      </form>
    </Card>
  )
}
