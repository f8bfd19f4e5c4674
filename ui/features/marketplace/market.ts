/**
 * What the Marketplace screen makes of the network's ads, as pure functions (no React, no I/O) so
 * tests call them with hostile listings directly. Everything here comes from other nodes' signed
 * ads: a signature proves who said it, not that it is true. An uncertified node's organization
 * name is its own claim, and any node may list any book's topic in its ad; only the book itself,
 * once replicated, says who its originator is.
 */
import type { NodeListing, ProjectListing } from '../../../core/network/ads/directory.ts'
import type { AdService } from '../../../core/network/ads/advertisement.ts'
import { formatBps } from '../../../core/services/criteria.ts'
import { formatMinorText } from '../../lib/money.ts'

/** A certification mark in words: who certified, or why not. */
export interface CertificationWords {
  certified: boolean
  /** "certified" or "uncertified", for the badge */
  label: 'certified' | 'uncertified'
  /** certified: "by <chain of DIDs>"; uncertified: the directory's reason, or that none was given */
  detail: string
}

/**
 * The certification of a node as its ad was judged by this node's directory.
 * @param mark a listing's own mark (`certified`, `certifiedBy`)
 * @param node the same DID's node listing, which carries the reason an ad did not certify
 */
export function certificationOf (mark: { certified: boolean; certifiedBy: string | null }, node?: Pick<NodeListing, 'certificationNote'> | null): CertificationWords {
  if (mark.certified === true) return { certified: true, label: 'certified', detail: mark.certifiedBy ? `by ${mark.certifiedBy}` : 'by the network (no certifier named)' }
  const note = node?.certificationNote
  return { certified: false, label: 'uncertified', detail: typeof note === 'string' && note.trim() ? note : 'no reason given' }
}

/**
 * The name to show for a node: its organization when it gave one, marked as self-declared when no
 * certificate vouches for it (anyone can call themselves "Kootenay Credit Union").
 */
export function organizationWords (organization: string, certified: boolean): { name: string; selfDeclared: boolean } {
  const name = typeof organization === 'string' ? organization.trim() : ''
  if (!name) return { name: 'no organization name given', selfDeclared: false }
  return { name, selfDeclared: !certified }
}

/** A project as one row of the Marketplace shows it: money in major units, exactly. */
export interface ProjectRow {
  key: string
  listing: ProjectListing
  /** the target amount, or "unreadable amount" */
  amount: string
  /** "500.00 EUR to 1,500.00 EUR, 3 to 12 months" */
  loans: string
  /** "12.00% a year, declining balance" */
  rate: string
}

const UNREADABLE = 'unreadable amount'

/** A listing's numbers in words; text an ad could not have passed the schema with shows as unreadable, never as a guess. */
export function projectRow (p: ProjectListing): ProjectRow {
  const money = (v: string) => formatMinorText(v, p.currency) ?? UNREADABLE
  const months = Number.isSafeInteger(p.minMonths) && Number.isSafeInteger(p.maxMonths) ? `, ${p.minMonths} to ${p.maxMonths} months` : ''
  const method = p.interestMethod === 'flat' ? 'flat' : p.interestMethod === 'declining-balance' ? 'declining balance' : String(p.interestMethod)
  return {
    key: p.book + '/' + p.projectId,
    listing: p,
    amount: money(p.amount),
    loans: `${money(p.loanMin)} to ${money(p.loanMax)}${months}`,
    rate: `${formatBps(p.rateBps)} a year, ${method}`
  }
}

/** One originator and its open projects. */
export interface OriginatorGroup {
  did: string
  organization: string
  certified: boolean
  certifiedBy: string | null
  projects: ProjectRow[]
}

/** Projects grouped by the DID whose ad lists them, certified originators first, then by name. */
export function groupByOriginator (listings: ProjectListing[]): OriginatorGroup[] {
  const groups = new Map<string, OriginatorGroup>()
  for (const p of listings) {
    let g = groups.get(p.originator)
    if (!g) {
      g = { did: p.originator, organization: p.organization, certified: p.certified, certifiedBy: p.certifiedBy, projects: [] }
      groups.set(p.originator, g)
    }
    g.projects.push(projectRow(p))
  }
  return [...groups.values()].sort((a, b) => Number(b.certified) - Number(a.certified) || a.organization.localeCompare(b.organization) || a.did.localeCompare(b.did))
}

/** A node that offers issuing or verification, with its services in words. */
export interface ProviderRow { node: NodeListing; issues: string[]; verifies: boolean }

/** Nodes offering issuing or verification, as the providers table lists them. */
export function serviceProviders (nodes: NodeListing[]): ProviderRow[] {
  const out: ProviderRow[] = []
  for (const node of nodes) {
    const services: AdService[] = Array.isArray(node.services) ? node.services : []
    const issues = services.flatMap((s) => s.type === 'issuing' && Array.isArray(s.credentialTypes) ? s.credentialTypes : [])
    const verifies = services.some((s) => s.type === 'verification')
    if (issues.length > 0 || verifies || services.some((s) => s.type === 'issuing')) out.push({ node, issues: [...new Set(issues)], verifies })
  }
  return out
}

/**
 * Whether the ads listing `topic` were signed by someone other than the book's originator (as the
 * replicated book says): such a listing borrows another book's name and projects for its own DID.
 * @returns a warning in plain words, or null when every listing agrees or the book is not known yet
 */
export function listerMismatch (listings: ProjectListing[], topic: string, bookOriginator: string | null | undefined): string | null {
  if (!bookOriginator) return null
  const others = [...new Set(listings.filter((l) => l.book === topic && l.originator !== bookOriginator).map((l) => l.originator))]
  if (others.length === 0) return null
  return `This book was listed in the marketplace by ${others.join(', ')}, but the book itself says its originator is ${bookOriginator}: the listing's organization and certification are not the originator's.`
}
