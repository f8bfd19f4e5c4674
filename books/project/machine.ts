/**
 * The project state machine: draft -> active <-> inactive -> closed.
 * Pure functions: (state, op) -> next state | rejection. Authorization (only the book's
 * originator acts on projects) is decided by the caller before these run.
 */
import { accept, reject, type Result } from '../result.ts'
import type { Project, ProjectStatus } from '../entities.ts'
import type { ProjectTerms } from '../ops/types.ts'
import { isValidDate } from '../dates.ts'
import { checkRules } from '../../core/services/criteria.ts'
import { exactSchedule } from '../schedule.ts'

const TRANSITIONS: Record<'activate' | 'deactivate' | 'close', { from: ProjectStatus[]; to: ProjectStatus }> = {
  activate: { from: ['draft', 'inactive'], to: 'active' },
  deactivate: { from: ['active'], to: 'inactive' },
  close: { from: ['inactive'], to: 'closed' }
}

/**
 * Checks that terms are coherent with one another (the schema checked each field alone).
 * @returns the reason they are not, or null
 */
export function checkTerms (t: ProjectTerms): string | null {
  if (!isValidDate(t.startDate) || !isValidDate(t.endDate)) return 'startDate and endDate must be real calendar dates'
  if (t.startDate > t.endDate) return 'startDate is after endDate'
  if (t.loanMinAmount > t.loanMaxAmount) return 'loanMinAmount is above loanMaxAmount'
  if (t.loanMaxAmount > t.amount) return 'loanMaxAmount is above the project amount'
  if (t.loanMinDuration > t.loanMaxDuration) return 'loanMinDuration is above loanMaxDuration'
  if (t.disbursementFee >= t.loanMinAmount) return 'disbursementFee would take the whole of the smallest loan'
  const rules = checkRules(t.eligibility)
  if (rules) return `eligibility: ${rules}`
  // the largest, longest loan the terms allow must have a schedule whose amounts stay exact
  const worst = exactSchedule({ principal: t.loanMaxAmount, annualRateBps: t.annualRateBps, months: t.loanMaxDuration, method: t.interestMethod, startDate: t.endDate })
  if (!worst.ok) return `the largest loan these terms allow has no exact schedule: ${worst.reason}`
  return null
}

/**
 * A new project, in draft.
 * @param projectId 32 hex chars, chosen by the originator
 * @param terms the lending terms (amounts in minor units of terms.currency)
 * @param ts op timestamp, ms
 */
export function createProject (existing: Project | null, projectId: string, terms: ProjectTerms, ts: number): Result<Project> {
  if (existing) return reject(`project ${projectId} already exists`)
  const bad = checkTerms(terms)
  if (bad) return reject(bad)
  return accept({ projectId, terms, status: 'draft', createdAt: ts, updatedAt: ts, statusAt: ts, committed: 0, confirmedFunding: 0, disbursed: 0, fundingIds: [], rail: null })
}

/** Changes terms of a draft or inactive project (never of an active one: borrowers apply against what they see). */
export function updateProject (p: Project, changes: Partial<ProjectTerms>, ts: number): Result<Project> {
  if (p.status !== 'draft' && p.status !== 'inactive') return reject(`project is ${p.status}: terms change only while draft or inactive`)
  const terms = { ...p.terms, ...changes }
  const bad = checkTerms(terms)
  if (bad) return reject(bad)
  // loans and fundings are made in the currency the project showed when they were made
  if (changes.currency !== undefined && changes.currency !== p.terms.currency && p.status !== 'draft') return reject('currency is fixed once a project has been activated')
  if (terms.amount < p.committed) return reject('amount is below the funding already committed')
  return accept({ ...p, terms, updatedAt: ts })
}

/** Moves a project along its lifecycle. */
export function transitionProject (p: Project, action: keyof typeof TRANSITIONS, ts: number): Result<Project> {
  const t = TRANSITIONS[action]
  if (!t.from.includes(p.status)) return reject(`cannot ${action} a ${p.status} project`)
  return accept({ ...p, status: t.to, updatedAt: ts, statusAt: ts })
}
