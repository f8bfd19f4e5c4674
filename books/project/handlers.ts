/** Handlers for project ops (originator only; authorization is checked in apply). */
import type { Handler } from '../apply.ts'
import { createProject, transitionProject, updateProject } from './machine.ts'
import { notBefore } from '../clock.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const projectCreate: Handler = async (ctx) => {
  const op = ctx.op as Of<'project/create'>
  const r = createProject(await ctx.get('projects', op.projectId), op.projectId, op.terms, op.ts)
  if (!r.ok) return r.reason
  ctx.put('projects', op.projectId, r.value)
  return null
}

export const projectUpdate: Handler = async (ctx) => {
  const op = ctx.op as Of<'project/update'>
  const p = await ctx.get('projects', op.projectId)
  if (!p) return `no project ${op.projectId}`
  const early = notBefore(op.ts, p.statusAt, 'the project\'s last status change')
  if (early) return early
  const r = updateProject(p, op.changes, op.ts)
  if (!r.ok) return r.reason
  ctx.put('projects', op.projectId, r.value)
  return null
}

/**
 * Names how the project's money moves: BTC on Bitcoin, payments proven in the book (books/proofs/).
 * Only while draft (loans and fundings are made under the rail they saw) and only for a BTC project
 * (its minor unit is the sat).
 */
export const projectRail: Handler = async (ctx) => {
  const op = ctx.op as Of<'project/rail'>
  const p = await ctx.get('projects', op.projectId)
  if (!p) return `no project ${op.projectId}`
  if (p.status !== 'draft') return `project is ${p.status}: its rail is set only while draft`
  if (p.terms.currency !== 'BTC') return `the ${op.rail} rail moves BTC (minor unit: the sat), not ${p.terms.currency}`
  if (op.rail === 'bitcoin' && op.confirmations === undefined) return 'the bitcoin rail needs the confirmations a proof must show'
  // a header need only meet the target it names itself: on mainnet six difficulty-1 headers cost a
  // GPU minutes, so the book fixes the least work a proof's headers must carry together
  if (op.rail === 'bitcoin' && op.network === 'mainnet' && op.minWork === undefined) return 'a mainnet bitcoin rail needs minWork: the least total work (decimal, 2^256/(target+1) per header) the block and its following headers must carry, or cheap low-difficulty headers would prove anything'
  if (op.rail !== 'bitcoin' && op.minWork !== undefined) return 'minWork applies to the bitcoin rail only'
  const rail = op.rail === 'bitcoin'
    ? { rail: op.rail, network: op.network, confirmations: op.confirmations as number, ...(op.minWork !== undefined ? { minWork: op.minWork } : {}) }
    : { rail: op.rail, network: op.network }
  ctx.put('projects', p.projectId, { ...p, rail, updatedAt: op.ts })
  return null
}

/**
 * Names Rootstock as the project's rail: native RBTC (currency RBTC) or an ERC-20 token (any
 * currency code but BTC, the token's symbol), one minor unit being 10^unitExponent base units on
 * chain. Only while draft.
 */
export const projectRailRootstock: Handler = async (ctx) => {
  const op = ctx.op as Of<'project/rail-rootstock'>
  const p = await ctx.get('projects', op.projectId)
  if (!p) return `no project ${op.projectId}`
  if (p.status !== 'draft') return `project is ${p.status}: its rail is set only while draft`
  // rskj roots its transactions and receipts in its own binary trie (RSKIP-126 Unitrie), not the
  // Ethereum hexary trie books/proofs/rootstock-receipt.ts checks: no proof from those chains could hold
  if (op.chainId === 30 || op.chainId === 31) return `proofs from Rootstock ${op.chainId === 30 ? 'mainnet' : 'testnet'} are rooted in rskj's Unitrie (RSKIP-126), which this book cannot check yet: only EVM chains with Ethereum tries (a local dev chain) can be named`
  if (op.token === null && p.terms.currency !== 'RBTC') return `native Rootstock payments move RBTC, not ${p.terms.currency}`
  if (op.token !== null && (p.terms.currency === 'RBTC' || p.terms.currency === 'BTC')) return `a token project counts in the token's own code, not ${p.terms.currency}`
  ctx.put('projects', p.projectId, { ...p, rail: { rail: 'rootstock', chainId: op.chainId, token: op.token === null ? null : op.token.toLowerCase(), unitExponent: op.unitExponent, confirmations: op.confirmations }, updatedAt: op.ts })
  return null
}

export const projectTransition: Handler = async (ctx) => {
  const op = ctx.op as Of<'project/activate' | 'project/deactivate' | 'project/close'>
  const p = await ctx.get('projects', op.projectId)
  if (!p) return `no project ${op.projectId}`
  const action = op.type.slice('project/'.length) as 'activate' | 'deactivate' | 'close'
  const early = notBefore(op.ts, p.statusAt, 'the project\'s last status change')
  if (early) return early
  const r = transitionProject(p, action, op.ts)
  if (!r.ok) return r.reason
  ctx.put('projects', op.projectId, r.value)
  return null
}
