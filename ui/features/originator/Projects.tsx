/**
 * The originator's projects in one book: terms at a glance, criteria in words, funding progress,
 * and the lifecycle actions (activate, deactivate, close) and edits each status allows.
 */
import { useState } from 'react'
import type { Project } from '../../../books/entities.ts'
import { describeCriterion, formatBps, formatMinor, rulesToCriteria } from '../../../core/services/criteria.ts'
import { send } from '../../lib/contract-client.ts'
import { useAction, type Query } from '../../lib/hooks.ts'
import { Alert, Badge, Button, Card, Progress, Table } from '../../components/index.ts'
import { useToast } from '../../components/Toast.tsx'
import { ProjectForm } from './ProjectForm.tsx'
import { RailForm } from './RailForm.tsx'
import { railWords } from '../shared/rails.tsx'

/** The criteria of a project in words, one per line; hand-written rules by their names. */
export function CriteriaText ({ project }: { project: Project }) {
  const t = project.terms
  if (t.eligibility.length === 0) return <span className='muted'>no criteria</span>
  const criteria = rulesToCriteria(t.eligibility)
  const lines = criteria ? criteria.map((c) => describeCriterion(c, t.currency)) : t.eligibility.map((r, i) => r.name ?? `rule ${i + 1}`)
  return <ul className='small' style={{ margin: 0, paddingLeft: 18 }} data-testid='criteria-text'>{lines.map((l, i) => <li key={i}>{l}</li>)}</ul>
}

export function ProjectsCard ({ book, projects }: { book: string; projects: Query<Project[]> }) {
  const [editing, setEditing] = useState<Project | 'new' | null>(null)
  const rows = projects.data ?? []
  return (
    <>
      {editing && (
        <ProjectForm key={editing === 'new' ? 'new' : editing.projectId} book={book} project={editing === 'new' ? undefined : editing} onDone={() => setEditing(null)} />
      )}
      <Card
        title='Projects' testid='projects'
        actions={!editing && <Button variant='primary' testid='project-new' onClick={() => setEditing('new')}>New project</Button>}
      >
        <Alert error={projects.error} />
        <Table<Project>
          rows={rows}
          rowKey={(p) => p.projectId}
          rowTestid={(p) => 'project-' + p.projectId}
          empty='No projects in this book yet.'
          columns={[
            { header: 'Project', cell: (p) => <><strong data-testid='project-name'>{p.terms.name}</strong><div className='small muted'>{formatMinor(p.terms.loanMinAmount, p.terms.currency)} – {formatMinor(p.terms.loanMaxAmount, p.terms.currency)}, {p.terms.loanMinDuration}–{p.terms.loanMaxDuration} months, {formatBps(p.terms.annualRateBps)} {p.terms.interestMethod}</div></> },
            { header: 'Status', cell: (p) => <><Badge testid='project-status'>{p.status}</Badge><div className='small muted' data-testid='project-rail'>{railWords(p)}</div></> },
            { header: 'Criteria', cell: (p) => <CriteriaText project={p} /> },
            { header: 'Funding', cell: (p) => <Progress value={p.confirmedFunding} max={p.terms.amount} label={`${formatMinor(p.confirmedFunding, p.terms.currency)} of ${formatMinor(p.terms.amount, p.terms.currency)}`} /> },
            { header: '', cell: (p) => <ProjectActions book={book} project={p} onEdit={() => setEditing(p)} /> }
          ]}
        />
      </Card>
    </>
  )
}

function ProjectActions ({ book, project, onEdit }: { book: string; project: Project; onEdit: () => void }) {
  const toast = useToast()
  const act = useAction(async (action: 'activate' | 'deactivate' | 'close') => {
    await send('project.transition', { book, project: project.projectId, action })
    toast(`Project ${action === 'activate' ? 'activated' : action === 'deactivate' ? 'deactivated' : 'closed'}`)
  })
  const s = project.status
  return (
    <div className='stack' style={{ gap: 4 }}>
      <div className='row'>
        {(s === 'draft' || s === 'inactive') && <Button small variant='primary' busy={act.running} testid='project-activate' onClick={() => { act.run('activate') }}>Activate</Button>}
        {s === 'active' && <Button small busy={act.running} testid='project-deactivate' onClick={() => { act.run('deactivate') }}>Deactivate</Button>}
        {s === 'inactive' && <Button small variant='danger' busy={act.running} testid='project-close' onClick={() => { act.run('close') }}>Close</Button>}
        {(s === 'draft' || s === 'inactive') && <Button small testid='project-edit' onClick={onEdit}>Edit</Button>}
      </div>
      {s === 'draft' && project.terms.currency === 'BTC' && !project.rail && <RailForm book={book} project={project} />}
      <Alert error={act.error} />
    </div>
  )
}
