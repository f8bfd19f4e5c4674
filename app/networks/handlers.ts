/**
 * The contract's `network.*` requests (app/contract.ts spreads them into its handlers): which
 * marketplace network this node is in, certifying organizations in it, revoking, verifying chains.
 *
 * The network in use is, first match: the `network` argument (the CLI's `--network FILE` sends
 * the file's definition), else the node's setting (`network.use`, in its local bee under
 * `governance/network`), else the shipped network (core/governance/network-in-use.ts).
 * Certificates are signed by this node's identity; their status entries come from its status
 * registry, which publishes its revocation list on the swarm; `network.verify` reads other
 * issuers' lists through the node's status resolver (fresh, confirmed by the issuer).
 * Runs under Bare and Node: no `node:` imports.
 */
import type Hyperbee from 'hyperbee'
import { GrowrError } from '../../core/errors.ts'
import type { GrowrNode } from '../../core/node.ts'
import type { Services } from '../../core/services/services.ts'
import type { Identity } from '../../core/identity/keyfile.ts'
import { loadNetwork, type Network, type NetworkDefinition } from '../../core/governance/network.ts'
import { parseRoles, type OrganizationCertificate, type Role } from '../../core/governance/certificate.ts'
import { verifyChain, type ChainResult } from '../../core/governance/chain.ts'
import { Certifier, ownChain, saveOwnChain, type CertificateRecord } from '../../core/governance/certifier.ts'
import { NETWORK_SETTING, networkInUse } from '../../core/governance/network-in-use.ts'

/** Where the network in use came from. */
export type NetworkSource = 'argument' | 'setting' | 'default'

/** `network` (optional everywhere): a network definition object that overrides the node's. */
type NetArg = { network?: unknown }

export interface NetworkContract {
  /** the network in use: its definition, its discovery topic (hex) and where it came from */
  'network.show': { args: NetArg; result: NetworkDefinition & { topic: string; source: NetworkSource } }
  /** select a private network for this node (a definition), or the shipped one again (`network: null`) */
  'network.use': { args: { network: unknown }; result: NetworkDefinition & { topic: string; source: NetworkSource } }
  /**
   * certify `subject` as an organization with `roles` (or, with `governance`, as a governance DID
   * that may grant `mayCertify`); signed by this node; validUntil default one year
   */
  'network.certify': { args: NetArg & { subject: string; name: string; roles?: string[] | string; governance?: boolean; mayCertify?: string[] | string; validUntil?: string }; result: OrganizationCertificate }
  /** revoke a certificate this node issued (republishes its status list) */
  'network.revoke': { args: { id: string }; result: CertificateRecord }
  /** the certificates this node issued */
  'network.issued': { args: Record<string, never>; result: CertificateRecord[] }
  /** verify a chain (root first) up to a founding DID of the network in use, revocation included */
  'network.verify': { args: NetArg & { chain: unknown }; result: ChainResult }
  /** the chain certifying this node's own DID (root first; [] when none), for its ads and hellos */
  'network.chain': { args: Record<string, never>; result: { chain: OrganizationCertificate[] } }
  /** keep the chain certifying this node: it must verify now, revocation included, and end at this node's DID */
  'network.chain.set': { args: NetArg & { chain: unknown }; result: ChainResult }
  /**
   * the peers connected now and who certified each: the chain its signed hello carried, verified
   * up to a founder of the network in use (revocation included) and ending at its DID;
   * `refresh` checks every chain again now instead of reusing a check up to 5 min old
   */
  'network.peers': { args: { refresh?: boolean }; result: PeerInfo[] }
}

/** One connected peer as `network.peers` shows it. */
export interface PeerInfo {
  did: string
  certified: boolean
  /** the certified organization's name and roles (certified only) */
  organization?: { name: string; roles: string[] }
  /** the chain's certificates, root first (certified only) */
  certifiedBy?: Array<{ issuer: string; subject: string; name: string; roles: string[] }>
  /** the chain in words, root first: `founder did:key:… -> "Governance name" -> "Organization name"`; '' when uncertified */
  chain: string
  /** why it is not certified, in plain words (uncertified only) */
  reason?: string
}

/**
 * A verified chain in words, root first. Names are JSON-quoted: they are whatever certifiers
 * wrote, and a name containing " -> " must not read as another link.
 */
export function chainWords (certifiedBy: ReadonlyArray<{ issuer: string; name: string }>): string {
  if (certifiedBy.length === 0) return ''
  return [`founder ${certifiedBy[0].issuer}`, ...certifiedBy.map((l) => JSON.stringify(l.name))].join(' -> ')
}

type NetworkHandlers = { [K in keyof NetworkContract]: (args: NetworkContract[K]['args']) => Promise<NetworkContract[K]['result']> }

const SETTING = NETWORK_SETTING

/**
 * Builds the `network.*` handlers over a node and its services.
 * Handlers throw GrowrError (BAD_ARGUMENT, NOT_FOUND, UNSUPPORTED_VERSION).
 */
export function createNetworkHandlers (node: GrowrNode, services: Services): NetworkHandlers {
  const local = (): Hyperbee => node.local as Hyperbee

  async function networkOf (arg: unknown): Promise<{ network: Network; source: NetworkSource }> {
    if (arg !== undefined && arg !== null) return { network: loadNetwork(arg), source: 'argument' }
    await node.ready()
    return await networkInUse(local())
  }

  function shown (n: { network: Network; source: NetworkSource }) {
    return { ...n.network.definition, topic: n.network.topicHex, source: n.source }
  }

  async function certifier (): Promise<Certifier> {
    await services.ready()
    if (!services.registry) throw GrowrError.BAD_ARGUMENT('this node has no status registry: certificates could not be revoked')
    return new Certifier({ local: local(), registry: services.registry, identity: node.identity as Identity })
  }

  return {
    async 'network.show' (a) { return shown(await networkOf(a?.network)) },
    async 'network.use' (a) {
      await node.ready()
      if (a?.network === null || a?.network === undefined) await local().del(SETTING)
      else await local().put(SETTING, loadNetwork(a.network).definition)
      // the running node moves to the network now, not at its next start
      await services.switchNetwork()
      return shown(await networkOf(undefined))
    },
    async 'network.certify' (a) {
      const { network } = await networkOf(a.network)
      const roles: Role[] = a.governance ? ['governance'] : parseRoles(Array.isArray(a.roles) ? a.roles.join(',') : String(a.roles ?? ''))
      if (a.governance && a.roles !== undefined && !(Array.isArray(a.roles) ? a.roles : [a.roles]).every((r) => r === 'governance')) {
        throw GrowrError.BAD_ARGUMENT('a governance certificate names no organization role: say what it may certify with --may-certify')
      }
      if (!a.governance && a.mayCertify !== undefined) throw GrowrError.BAD_ARGUMENT('--may-certify is for governance certificates (--governance)')
      const mayCertify = a.mayCertify === undefined ? undefined : parseRoles(Array.isArray(a.mayCertify) ? a.mayCertify.join(',') : String(a.mayCertify))
      return await (await certifier()).certify(network, { subject: a.subject, name: a.name, roles, mayCertify, validUntil: a.validUntil })
    },
    async 'network.revoke' (a) { return await (await certifier()).revoke(a?.id) },
    async 'network.issued' () { return await (await certifier()).issued() },
    async 'network.verify' (a) {
      const { network } = await networkOf(a.network)
      await services.ready()
      const resolver = services.resolver
      if (!resolver) throw GrowrError.BAD_ARGUMENT('this node cannot read status lists: revocation cannot be checked')
      return await verifyChain(network, a.chain, { now: Date.now(), checkStatus: resolver.check })
    },
    async 'network.chain' () {
      await node.ready()
      return { chain: await ownChain(local()) }
    },
    async 'network.chain.set' (a) {
      const { network } = await networkOf(a.network)
      await services.ready()
      const resolver = services.resolver
      if (!resolver) throw GrowrError.BAD_ARGUMENT('this node cannot read status lists: revocation cannot be checked')
      const r = await verifyChain(network, a.chain, { now: Date.now(), checkStatus: resolver.check })
      if (!r.ok) throw GrowrError.BAD_ARGUMENT(`not kept: ${r.reason}`)
      if (r.organization.did !== node.did) throw GrowrError.BAD_ARGUMENT(`not kept: the chain certifies ${r.organization.did}, not this node (${node.did})`)
      await saveOwnChain(local(), a.chain as OrganizationCertificate[])
      // and in the hellos of its next connections
      await services.refreshOwnChain()
      // peers see the new chain in this node's ad now, not at its next scheduled announce
      await services.ads?.publish({ force: true })
      return r
    },
    async 'network.peers' (a) {
      await services.ready()
      const rpc = services.rpc
      if (!rpc) throw GrowrError.BAD_ARGUMENT('this needs the network: start the node (`growr start`) and run the command again')
      return await Promise.all(rpc.peers().map(async (did): Promise<PeerInfo> => {
        const c = await services.peerCertification(did, { refresh: a?.refresh === true })
        return c.certified
          ? { did, certified: true, organization: c.organization, certifiedBy: c.certifiedBy, chain: chainWords(c.certifiedBy ?? []) }
          : { did, certified: false, chain: '', reason: c.reason ?? 'not certified' }
      }))
    }
  }
}
