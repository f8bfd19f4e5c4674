/**
 * The contract's `consent.*` and `exposure.*` requests (app/contract.ts spreads them into its
 * handlers): a borrower gives and revokes consent to credit-exposure queries; an originator holding
 * her consent asks every certified originator what she owes them and reads its own query log.
 *
 * Money: amounts are decimal strings of whole minor units (JSON has no bigint), each with its
 * currency; totals are per currency, never across currencies.
 * Runs under Bare and Node: no `node:` imports.
 */
import { GrowrError } from '../../core/errors.ts'
import type { GrowrNode } from '../../core/node.ts'
import type { Services } from '../../core/services/services.ts'
import type { Quorum } from '../../core/network/broadcast.ts'
import type { ExposureCheck, ExposureService, GrantResult } from '../../core/exposure/service.ts'
import type { GivenConsent, ReceivedConsent } from '../../core/exposure/store.ts'
import type { QueryLogEntry } from '../../core/exposure/query-log.ts'

export type { ExposureCheck, OriginatorExposure } from '../../core/exposure/service.ts'
export type { GivenConsent, ReceivedConsent } from '../../core/exposure/store.ts'
export type { QueryLogEntry } from '../../core/exposure/query-log.ts'
export type { CurrencyExposureJson } from '../../core/exposure/exposure.ts'

export interface ExposureContract {
  /**
   * (borrower) consent that organization `to` (a did:key) asks certified originators what this node's
   * DID owes them, for `purpose` (1..200 characters), for `days` (1..90, default 30), optionally
   * only of the organizations in `scope`; delivered to `to` over the network (kept even when it
   * cannot be delivered now: `delivered: false` and why)
   */
  'consent.grant': { args: { to: string; purpose: string; days?: number; scope?: string[]; timeoutMs?: number }; result: GrantResult }
  /** (borrower) revoke a consent this node gave: its status bit is set, and the revocation announced on pubsub */
  'consent.revoke': { args: { id: string }; result: { consent: GivenConsent; announced: boolean } }
  /** consents this node gave (as a borrower) and received (as an asking organization) */
  'consent.list': { args: Record<string, never>; result: { given: GivenConsent[]; received: ReceivedConsent[] } }
  /**
   * (originator) the borrower `subject`'s exposure at every certified originator, under the consent
   * she gave this node (or `grant`); answers collected for `deadlineMs` (default 15 000), `quorum`
   * originators answering with their exposure (default 1); this node's own books included
   */
  'exposure.check': { args: { subject: string; grant?: string; deadlineMs?: number; quorum?: Quorum }; result: ExposureCheck }
  /** (originator) the credit-exposure queries this node was asked, newest first (default 100), optionally about one borrower */
  'exposure.log': { args: { limit?: number; subject?: string }; result: QueryLogEntry[] }
}

type ExposureHandlers = { [K in keyof ExposureContract]: (args: ExposureContract[K]['args']) => Promise<ExposureContract[K]['result']> }

/**
 * Builds the `consent.*` and `exposure.*` handlers over a node's services.
 * Handlers throw GrowrError: BAD_ARGUMENT (malformed arguments, or no status registry),
 * NOT_FOUND (no such consent, no consent in force for `subject`).
 */
export function createExposureHandlers (_node: GrowrNode, services: Services): ExposureHandlers {
  async function service (): Promise<ExposureService> {
    await services.ready()
    if (!services.exposure) throw GrowrError.BAD_ARGUMENT('this node runs no credit-exposure service')
    return services.exposure
  }
  const str = (v: unknown, what: string): string => {
    if (typeof v !== 'string' || v.length === 0) throw GrowrError.BAD_ARGUMENT(`${what} is required`)
    return v
  }
  return {
    async 'consent.grant' (a) {
      const scope = a?.scope === undefined ? undefined : Array.isArray(a.scope) ? a.scope : String(a.scope).split(',').map((s) => s.trim()).filter(Boolean)
      return await (await service()).grant({ to: str(a?.to, 'to (the asking organization\'s DID)'), purpose: str(a?.purpose, 'purpose'), days: a?.days === undefined ? undefined : Number(a.days), scope, timeoutMs: a?.timeoutMs })
    },
    async 'consent.revoke' (a) { return await (await service()).revoke(str(a?.id, 'id')) },
    async 'consent.list' () { return await (await service()).list() },
    async 'exposure.check' (a) {
      const quorum = a?.quorum === undefined ? undefined : a.quorum === 'all' || a.quorum === 'majority' ? a.quorum : Number(a.quorum)
      return await (await service()).check({ subject: str(a?.subject, 'subject (the borrower\'s DID)'), grant: a?.grant, deadlineMs: a?.deadlineMs === undefined ? undefined : Number(a.deadlineMs), quorum })
    },
    async 'exposure.log' (a) { return await (await service()).log.list({ limit: a?.limit === undefined ? undefined : Number(a.limit), subject: a?.subject }) }
  }
}
