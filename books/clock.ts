/**
 * The book's time. An op's `ts` is its signer's claim; apply has no clock of its own. What a
 * claim is worth depends on who would gain by lying, so time enters each rule in one of four ways:
 *
 * - Floors: an op may not be dated before what it acts on. A record's times were vouched for by
 *   whoever made it (a loan's application date by the borrower, a project's last status change by
 *   the originator, an attestation's validFrom by the verifier), and referring to a record means
 *   having seen it: its ids are unguessable. MAX_SKEW_MS of clock skew between honest devices is
 *   allowed.
 * - The originator's acts against a member (default after grace, expiring an unpaid funding) are
 *   judged at the originator's claim but never later than the latest time a borrower or investor
 *   has vouched for in the book (`clock.members`): dating a default 60 days ahead does nothing
 *   until someone else's signed op, or a `clock/witness`, says that day has come.
 * - A member's acts (an application's window and its attestation's validity) are judged at the
 *   member's claim but never earlier than the latest time the originator has vouched for
 *   (`clock.originator`), and an attestation must still be valid when the originator approves.
 * - The clock itself only moves forward; a future-dated op moves its own side's clock, and only
 *   the other side's acts are judged by it.
 *
 * What each party still trusts is written in README "Trust model".
 */
import type { BookClock } from './entities.ts'
import type { Role } from './ops/types.ts'

/** Clock skew tolerated between honest devices, ms. */
export const MAX_SKEW_MS = 10 * 60_000

/** A clock before any op: nobody has vouched for any time yet. */
export const EPOCH_CLOCK: BookClock = { originator: 0, members: 0 }

/** @returns the clock after an accepted op by a signer of `role` dated `ts` (ms) */
export function advance (clock: BookClock, role: Role, ts: number): BookClock {
  if (role === 'originator') return ts > clock.originator ? { ...clock, originator: ts } : clock
  return ts > clock.members ? { ...clock, members: ts } : clock
}

/**
 * The time an originator's act against a member is judged at: its own claim, capped by the
 * latest time a borrower or investor has vouched for. ms.
 */
export function originatorTime (clock: BookClock, ts: number): number { return Math.min(ts, clock.members) }

/** The time a member's act is judged at: its own claim, raised to the originator's latest. ms. */
export function memberTime (clock: BookClock, ts: number): number { return Math.max(ts, clock.originator) }

/**
 * Refuses an op dated before what it acts on.
 * @param ts the op's timestamp, ms
 * @param floor the time vouched for by the record it acts on, ms
 * @param what names that record in the reason ("the loan's application")
 * @returns the rejection reason, or null when `ts` is no earlier than `floor` less MAX_SKEW_MS
 */
export function notBefore (ts: number, floor: number, what: string): string | null {
  if (ts >= floor - MAX_SKEW_MS) return null
  return `op is dated ${new Date(ts).toISOString()}, before ${what} (${new Date(floor).toISOString()}): backdating is refused`
}
