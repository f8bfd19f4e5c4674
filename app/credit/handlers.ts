/**
 * The contract's `trustline.*` requests (app/contract.ts spreads them into its handlers):
 * bilateral trustlines (docs/trustline-spec.md) between this node's DID and another.
 *
 * Money: amounts are decimal strings of whole minor units (JSON has no bigint) in the
 * trustline's asset. Sides: the party whose DID sorts first is A; `limitAtoB` is the most A may
 * owe B (the credit B extends); a positive balance means A owes B. Views also give `myBalance`
 * (positive: this node owes its partner).
 * Other helpers add their requests (relay, routing, payments, import) to this contract part.
 * Runs under Bare and Node: no `node:` imports.
 */
import { GrowrError } from '../../core/errors.ts'
import type { GrowrNode } from '../../core/node.ts'
import type { Services } from '../../core/services/services.ts'
import type { TrustlineSync, TrustlineView } from '../../core/credit/sync.ts'
import type { Change } from '../../books/trustline/types.ts'

export type { TrustlineView } from '../../core/credit/sync.ts'
export type { Change as TrustlineChange } from '../../books/trustline/types.ts'

export interface TrustlineContract {
  /**
   * open a trustline with `with` (a did:key) in `asset` (e.g. "CAD"); with `limit` (minor units,
   * default "0") also propose extending that much credit to the partner (it must accept)
   */
  'trustline.open': { args: { with: string; asset: string; limit?: string; expiresInMs?: number }; result: { id: string; proposal: string | null } }
  /**
   * propose a change (docs/trustline-spec.md section 4) on trustline `id`; lowering the credit this
   * node extends applies at once (`status: 'applied'`), anything else waits for the partner
   */
  'trustline.propose': { args: { id: string; change: Change; expiresInMs?: number }; result: { proposal: string; status: 'applied' | 'pending'; sent: boolean } }
  /** countersign the partner's pending proposal `proposal` (its hash) on trustline `id` */
  'trustline.accept': { args: { id: string; proposal: string }; result: { seq: number; head: string } }
  /** reject the partner's pending proposal, signed, with an optional reason */
  'trustline.reject': { args: { id: string; proposal: string; reason?: string }; result: { rejected: true } }
  /** one trustline: state, balances from this node's side, proposals, and its full signed history */
  'trustline.show': { args: { id: string }; result: TrustlineView }
  /** every trustline of this node, history included unless `history: false` */
  'trustline.list': { args: { history?: boolean }; result: TrustlineView[] }
  /** ask the partner for its copy now and keep the reconciled chain */
  'trustline.sync': { args: { id: string }; result: { changed: boolean; length: number; head: string } }
}

type TrustlineHandlers = { [K in keyof TrustlineContract]: (args: TrustlineContract[K]['args']) => Promise<TrustlineContract[K]['result']> }

/**
 * Builds the `trustline.*` handlers over a node's services.
 * Handlers throw GrowrError: BAD_ARGUMENT (malformed arguments), NOT_FOUND (no such trustline or
 * pending proposal; partner unreachable for sync), OP_REJECTED (the state machine's reason).
 */
export function createTrustlineHandlers (_node: GrowrNode, services: Services): TrustlineHandlers {
  async function sync (): Promise<TrustlineSync> {
    await services.ready()
    if (!services.trustlines) throw GrowrError.BAD_ARGUMENT('this node runs without trustlines')
    return services.trustlines
  }
  const str = (v: unknown, what: string): string => {
    if (typeof v !== 'string' || v.length === 0) throw GrowrError.BAD_ARGUMENT(`${what} is required`)
    return v
  }
  const life = (v: unknown): number | undefined => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isSafeInteger(n) || n < 0) throw GrowrError.BAD_ARGUMENT('expiresInMs must be a non-negative integer of ms')
    return n
  }
  return {
    'trustline.open': async (a) => await (await sync()).open(str(a.with, 'with'), str(a.asset, 'asset'), a.limit === undefined ? '0' : String(a.limit), { expiresInMs: life(a.expiresInMs) }),
    'trustline.propose': async (a) => {
      if (typeof a.change !== 'object' || a.change === null) throw GrowrError.BAD_ARGUMENT('change is required')
      return await (await sync()).propose(str(a.id, 'id'), a.change, { expiresInMs: life(a.expiresInMs) })
    },
    'trustline.accept': async (a) => await (await sync()).accept(str(a.id, 'id'), str(a.proposal, 'proposal')),
    'trustline.reject': async (a) => await (await sync()).reject(str(a.id, 'id'), str(a.proposal, 'proposal'), a.reason === undefined ? '' : String(a.reason)),
    'trustline.show': async (a) => await (await sync()).show(str(a.id, 'id'), { history: true }),
    'trustline.list': async (a) => await (await sync()).list({ history: a?.history !== false }),
    'trustline.sync': async (a) => await (await sync()).pull(str(a.id, 'id'))
  }
}
