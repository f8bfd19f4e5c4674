/**
 * From an imported legacy trustline to the opening terms of a bilateral trustline
 * (books/trustline: newTerms / genesis), once each party has bound a DID to its old account.
 * The genesis state of such terms is "unconfirmed" until both parties countersign a `confirm`.
 */
import '../../runtime/text-encoding.ts'
import { newTerms } from '../../../books/trustline/machine.ts'
import type { TrustlineTerms } from '../../../books/trustline/types.ts'
import type { DidKey } from '../../identity/did-key.ts'
import { GrowrError } from '../../errors.ts'
import type { ImportedTrustline } from './types.ts'

/**
 * The opening terms of an imported trustline, in the bilateral machine's canonical order.
 *
 * The legacy service orders parties by user id (user_a_id < user_b_id); the machine orders them by
 * DID. When the DID bound to legacy user A sorts second, the sides swap: the limits trade places
 * and the balance changes sign, so "who owes whom how much" is unchanged.
 *
 * @param line - an ImportedTrustline (amounts in cents of line.asset)
 * @param dids - the DIDs bound to legacy userA and userB (each party proves it owns the old account
 *   out of band; this function trusts the binding it is given)
 * @param created - ms: when the opening is made (time enters as data; the caller's clock)
 * @returns TrustlineTerms with origin "growoperative:trustline:<legacy id>"; genesis(terms) gives
 *   the opening state, "unconfirmed" until both parties sign `confirm`
 * @throws GrowrError BAD_ARGUMENT when both DIDs are the same, or the terms are refused by the
 *   machine (its reason in the message)
 */
export function openingTerms (line: ImportedTrustline, dids: { userA: DidKey, userB: DidKey }, created: number): TrustlineTerms {
  if (line.version !== 1) throw GrowrError.UNSUPPORTED_VERSION(`imported trustline version ${String(line.version)}`)
  if (dids.userA === dids.userB) throw GrowrError.BAD_ARGUMENT('the two legacy users must bind two different DIDs')
  const swap = !(dids.userA < dids.userB)
  const opening = swap
    ? { limitAtoB: line.limitBtoA.toString(), limitBtoA: line.limitAtoB.toString(), balance: (-line.balance).toString() }
    : { limitAtoB: line.limitAtoB.toString(), limitBtoA: line.limitBtoA.toString(), balance: line.balance.toString() }
  try {
    return newTerms(dids.userA, dids.userB, line.asset, created, { ...opening, origin: `growoperative:trustline:${line.legacyId}` })
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`the imported trustline ${line.legacyId} cannot open: ${(err as Error).message}`)
  }
}
