/**
 * Builds a node's ExposureService from its Services: the rpc, the status registry and resolver,
 * the ads directory (who is a certified originator), the hello chains of connected peers, the
 * node's books and its pubsub. Kept here so that services.ts only opens and closes it.
 */
import type Hyperbee from 'hyperbee'
import type { Services } from '../services/services.ts'
import type { Identity } from '../identity/keyfile.ts'
import type { DidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'
import { ExposureService, type CertifiedAs, type PubSubLike } from './service.ts'

/**
 * @param services opened up to its registry and resolver (its rpc, ads and pubsub when online)
 * @param opts.now clock, ms; opts.maxPerMinute queries per asker per minute
 * @throws BAD_ARGUMENT when the services have no status registry or resolver
 */
export function createExposureService (services: Services, opts: { now?: () => number; maxPerMinute?: number } = {}): ExposureService {
  const node = services.node
  const registry = services.registry
  const resolver = services.resolver
  if (!registry || !resolver) throw GrowrError.BAD_ARGUMENT('credit-exposure consent needs the node\'s status registry and resolver')
  // the asker's certification: its ad's chain as the directory checked it, else the chain of its
  // hello on this very connection (checked up to a founder, revocation included)
  const certifiedAs: CertifiedAs = async (did: DidKey) => {
    const entry = services.ads?.directory.get(did)
    if (entry?.certified) return { certified: true, roles: entry.roles, organization: entry.organization }
    const peer = (services as unknown as { peerCertification?: (d: string) => Promise<{ certified: boolean; organization?: { name: string; roles: string[] }; reason?: string }> }).peerCertification
    if (typeof peer === 'function') {
      const p = await peer.call(services, did)
      if (p.certified && p.organization) return { certified: true, roles: p.organization.roles, organization: p.organization.name }
      return { certified: false, roles: [], organization: null, reason: entry?.certificationNote ?? p.reason }
    }
    return { certified: false, roles: [], organization: null, reason: entry?.certificationNote ?? 'no certified ad of this organization is known here' }
  }
  return new ExposureService({
    identity: node.identity as Identity,
    local: node.local as Hyperbee,
    rpc: services.rpc,
    registry,
    checkStatus: resolver.check,
    certifiedAs,
    originators: () => (services.ads?.directory.query({ service: 'originating' }) ?? [])
      .filter((l) => l.certified && l.roles.includes('originator'))
      .map((l) => ({ did: l.did, organization: l.organization, certified: l.certified })),
    books: () => node.list(),
    pubsub: () => (services as unknown as { pubsub?: PubSubLike | null }).pubsub ?? null,
    now: opts.now,
    maxPerMinute: opts.maxPerMinute
  })
}
