/**
 * The borrower's side of credit-exposure consent (core/exposure/consent.ts) in words, as pure
 * functions (no React, no I/O) so tests call them directly: what the apply form asks her, the
 * purpose her consent states, and where each consent she gave stands.
 *
 * Everything about the asking organization comes from the network (its ad, its certificate): a
 * name without a certificate is the organization's own claim, and the DID is what the consent
 * actually names, so both are shown.
 */
import type { GivenConsent } from '../../../app/exposure/handlers.ts'

/** How long a consent from the apply form may last, days (the core accepts 1..90). */
export const CONSENT_DAYS = [7, 30, 90] as const
/** The form's default duration: long enough for an application to be decided, short enough to end on its own. */
export const DEFAULT_CONSENT_DAYS = 30
/** The core's limit on a purpose, characters (core/exposure/consent.ts MAX_PURPOSE_CHARS). */
export const MAX_PURPOSE_CHARS = 200

/**
 * The purpose the consent states for an application, as every answering originator logs it.
 * @param projectName the project's name (from the book: untrusted text, cut to fit)
 * @returns "loan application <name>", at most 200 characters
 */
export function consentPurpose (projectName: string): string {
  const name = typeof projectName === 'string' ? projectName.replace(/\s+/g, ' ').trim() : ''
  return (name ? `loan application ${name}` : 'loan application').slice(0, MAX_PURPOSE_CHARS)
}

/** Who the consent names, as the form and the consents list show it. */
export interface AskerWords {
  /** the organization's name, or a shortened DID when the network knows no name */
  name: string
  /** whether a certificate the directory checked vouches for the name */
  certified: boolean
  /** an uncertified name is only what the organization says of itself */
  selfDeclared: boolean
}

/**
 * The asking organization in words.
 * @param did the DID the consent names (the book's originator)
 * @param listing its node listing in this node's ads directory, when there is one (untrusted)
 */
export function askerWords (did: string, listing?: { organization?: unknown; certified?: unknown } | null): AskerWords {
  const org = typeof listing?.organization === 'string' ? listing.organization.replace(/\s+/g, ' ').trim().slice(0, 120) : ''
  // only a boolean true certifies: an ad's fields are not trusted to be what their names say
  const certified = listing?.certified === true
  if (!org) return { name: shortDid(did), certified, selfDeclared: false }
  return { name: org, certified, selfDeclared: !certified }
}

/** "did:key:z6Mk…abcd1234" for reading; the full DID stays in the element's data-value. */
export function shortDid (did: string): string {
  if (typeof did !== 'string' || did.length === 0) return 'an unknown organization'
  return did.length > 30 ? did.slice(0, 14) + '…' + did.slice(-8) : did
}

/**
 * The checkbox's sentence.
 * @param who the asking organization's name (askerWords)
 * @param days how long the consent lasts
 */
export function consentLabel (who: string, days: number): string {
  return `Let ${who} check what I owe other lenders on the network (for ${days} day${days === 1 ? '' : 's'})`
}

/** Where a consent she gave stands. */
export type ConsentState = 'in force' | 'revoked' | 'expired' | 'not yet valid'

/**
 * @param c a consent as `consent.list` returns it under `given`
 * @param now the clock, ms
 * @returns revoked wins over the dates: a revoked consent never comes back
 */
export function consentState (c: Pick<GivenConsent, 'revoked' | 'validFrom' | 'validUntil'>, now = Date.now()): ConsentState {
  if (c.revoked) return 'revoked'
  const from = Date.parse(c.validFrom)
  const until = Date.parse(c.validUntil)
  if (!Number.isFinite(until) || until <= now) return 'expired'
  if (Number.isFinite(from) && from > now) return 'not yet valid'
  return 'in force'
}

/** Consents in the order the card lists them: in force first, then newest first. */
export function sortConsents<T extends Pick<GivenConsent, 'revoked' | 'validFrom' | 'validUntil'>> (list: readonly T[], now = Date.now()): T[] {
  const rank = (c: T) => consentState(c, now) === 'in force' ? 0 : 1
  return [...list].sort((a, b) => rank(a) - rank(b) || Date.parse(b.validFrom) - Date.parse(a.validFrom))
}
