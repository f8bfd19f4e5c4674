/** Handlers for funding ops. Confirmation arrives as a confirmed funding payment. */
import type { Handler } from '../apply.ts'
import { cancelFunding, commitFunding } from './machine.ts'
import { notBefore, originatorTime } from '../clock.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const fundingCommit: Handler = async (ctx) => {
  const op = ctx.op as Of<'funding/commit'>
  const project = await ctx.get('projects', op.projectId)
  if (!project) return `no project ${op.projectId}`
  const early = notBefore(op.ts, project.statusAt, 'the project\'s last status change')
  if (early) return early
  const r = commitFunding(await ctx.get('fundings', op.fundingId), project, op.signer, op, op.ts)
  if (!r.ok) return r.reason
  ctx.put('fundings', op.fundingId, r.value.funding)
  ctx.put('projects', project.projectId, r.value.project)
  return null
}

/** The investor takes back an unpaid commitment, or the originator expires one left unpaid. */
export const fundingCancel: Handler = async (ctx) => {
  const op = ctx.op as Of<'funding/cancel'>
  const f = await ctx.get('fundings', op.fundingId)
  if (!f) return `no funding ${op.fundingId}`
  const project = await ctx.get('projects', f.projectId)
  if (!project) return `no project ${f.projectId}`
  // a zap funding has no investor DID: the originator, who answers for the zap, takes it back as its committer
  const byInvestor = op.signer === f.investor || (f.investor === null && f.zap !== undefined && op.signer === ctx.meta?.originator)
  if (!byInvestor && ctx.member?.role !== 'originator') return 'only the investor or the originator may cancel a funding commitment'
  const r = cancelFunding(f, project, { byInvestor, reason: op.reason, ts: op.ts, judgedAt: byInvestor ? op.ts : originatorTime(ctx.clock, op.ts) })
  if (!r.ok) return r.reason
  ctx.put('fundings', f.fundingId, r.value.funding)
  ctx.put('projects', project.projectId, r.value.project)
  return null
}
