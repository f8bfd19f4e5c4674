/** Handlers for funding ops. Confirmation arrives as a confirmed funding payment. */
import type { Handler } from '../apply.ts'
import { commitFunding } from './machine.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const fundingCommit: Handler = async (ctx) => {
  const op = ctx.op as Of<'funding/commit'>
  const project = await ctx.get('projects', op.projectId)
  if (!project) return `no project ${op.projectId}`
  const r = commitFunding(await ctx.get('fundings', op.fundingId), project, op.signer, op, op.ts)
  if (!r.ok) return r.reason
  ctx.put('fundings', op.fundingId, r.value.funding)
  ctx.put('projects', project.projectId, r.value.project)
  return null
}
