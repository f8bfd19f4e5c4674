/**
 * The credential side of a node, composed over a GrowrNode: the holder's SSCR, the node's wallet
 * keys (core/wallet/wallet.ts: one BIP-39 seed, generated on first open), the issuing and
 * verification services, revocation lists, repayment history, and the request/response protocol
 * they speak on the node's swarm connections. The node itself knows nothing of credentials.
 *
 * Lifecycle: ready() opens (after the node) the SSCR, the wallet keys, the status registry and
 * resolver, then the RPC on the swarm; close() tears down in reverse. The node is not closed here:
 * its owner does.
 */
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import type Corestore from 'corestore'
import type Hyperbee from 'hyperbee'
import type { GrowrNode } from '../node.ts'
import type { Identity } from '../identity/keyfile.ts'
import { GrowrError } from '../errors.ts'
import { Sscr } from '../sscr/wallet.ts'
import { Wallet } from '../wallet/wallet.ts'
import { PeerRpc } from '../network/peer-rpc.ts'
import { StatusRegistry, StatusResolver } from './status-registry.ts'
import { IssuingService } from './issuing.ts'
import { VerificationService } from './verification.ts'
import { RepaymentHistory } from './repayment-history.ts'
import { Holder } from './holder.ts'
import { RECEIPT_METHOD, receiptResponder } from '../receipts/validation.ts'
import type { Book } from '../../books/book.ts'
import { BitcoinRail, type BitcoinBackendConfig } from '../rails/bitcoin/rail.ts'
import { RootstockRail, type RootstockBackendConfig } from '../rails/rootstock/rail.ts'
import { AdsService, type AdServiceOptions } from '../network/ads/service.ts'
import { networkInUse } from '../governance/network-in-use.ts'
import { verifyChain } from '../governance/chain.ts'
import { ownChain } from '../governance/certifier.ts'
import type { AdService as AdOffer } from '../network/ads/advertisement.ts'

export interface ServicesOptions {
  /** announce this node's DID on the DHT so holders find its issuing/verification services by DID */
  announce?: boolean
  /** clock for credential dates, ms */
  now?: () => number
  /** how long a verifier may take to establish an issuer's current status list, ms */
  statusTimeoutMs?: number
  /** how old an issuer's confirmation of its status list may be when the issuer cannot be asked, ms */
  statusMaxAgeMs?: number
  /** a Bitcoin backend: the node then runs its Bitcoin rail (wallet balance and payments, the payee's prover) */
  bitcoin?: BitcoinBackendConfig
  /** a Rootstock backend: the node then runs its Rootstock rail (balance and payments, the payee's prover) */
  rootstock?: RootstockBackendConfig
  /** capability ads and discovery on the network topic (core/network/ads/); false: none */
  ads?: AdServiceOptions | false
}

export class Services extends ReadyResource {
  readonly node: GrowrNode
  wallet: Sscr | null = null
  /** the node's wallet keys (BIP-39 seed, BIP-84 / BIP-44 accounts); opened after the SSCR */
  keys: Wallet | null = null
  registry: StatusRegistry | null = null
  resolver: StatusResolver | null = null
  issuing: IssuingService | null = null
  verification: VerificationService | null = null
  history: RepaymentHistory | null = null
  rpc: PeerRpc | null = null
  /** the Bitcoin rail, when the node is configured with a backend; opened after the wallet keys */
  bitcoin: BitcoinRail | null = null
  /** the Rootstock rail, when the node is configured with an EVM backend; opened after the wallet keys */
  rootstock: RootstockRail | null = null
  /** the node's capability ad and its directory of the network's ads; opened last */
  ads: AdsService | null = null
  private holderAgent: Holder | null = null
  private readonly opts: ServicesOptions
  private readonly onbook = (book: Book) => this.history?.watch(book)
  private readonly onconnection = (conn: unknown) => this.rpc?.attach(conn as never)

  constructor (node: GrowrNode, opts: ServicesOptions = {}) {
    super()
    this.node = node
    this.opts = opts
  }

  protected async _open (): Promise<void> {
    const node = this.node
    await node.ready()
    const identity = node.identity as Identity
    const now = this.opts.now
    this.wallet = new Sscr({ dir: node.storage, identity })
    await this.wallet.ready()
    if (this.closing) return
    this.keys = new Wallet({ dir: node.storage, identity })
    await this.keys.ready()
    if (this.closing) return
    if (this.opts.bitcoin) {
      this.bitcoin = new BitcoinRail({ host: node, keys: this.keys, config: this.opts.bitcoin })
      await this.bitcoin.ready()
    }
    if (this.opts.rootstock && !this.closing) {
      this.rootstock = new RootstockRail({ host: node, keys: this.keys, config: this.opts.rootstock })
      await this.rootstock.ready()
    }
    this.registry = new StatusRegistry({ store: node.store as Corestore, local: node.local as Hyperbee, issuer: identity, now })
    await this.registry.ready()
    this.resolver = new StatusResolver({
      store: node.store as Corestore,
      swarm: node.swarm,
      timeoutMs: this.opts.statusTimeoutMs,
      maxAgeMs: this.opts.statusMaxAgeMs,
      now,
      // the issuer itself says how long its list is: a peer replaying an old copy cannot
      askHead: async (issuer, list, nonce, timeoutMs) => {
        const rpc = this.rpc
        if (!rpc) throw GrowrError.NOT_FOUND('this node runs offline')
        const started = Date.now()
        // a connection made through the list's own topic counts too: connect() waits for the DID on any
        if (!rpc.peers().includes(issuer)) await rpc.connect(issuer, { timeoutMs })
        return await rpc.request(issuer, 'status/head', { list, nonce }, { timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) })
      }
    })
    await this.resolver.ready()
    this.issuing = new IssuingService({
      local: node.local as Hyperbee,
      identity,
      registry: this.registry,
      now,
      // offer, don't push: the holder collects over its own authenticated request
      notify: (did) => { this.rpc?.request(did as never, 'vc/offer', {}, { timeoutMs: 10_000 }).catch(safetyCatch) }
    })
    const resolver = this.resolver
    this.verification = new VerificationService({ identity, findBook: (hex) => node.findBook(hex), status: (url, issuer, timeoutMs) => resolver.current(url, issuer, { timeoutMs }), statusTimeoutMs: this.opts.statusTimeoutMs, now })
    this.history = new RepaymentHistory({ local: node.local as Hyperbee, issuing: this.issuing, did: identity.did })
    for (const book of node.list()) this.history.watch(book)
    node.on('book', this.onbook)

    const swarm = node.swarm
    if (swarm && !this.closing) {
      this.rpc = new PeerRpc({ identity, swarm })
      this.issuing.serve(this.rpc)
      this.verification.serve(this.rpc)
      const registry = this.registry
      this.rpc.respond('status/head', async (req) => await registry.head(req))
      // anyone connected may ask whether a receipt holds against this node's replica of its book
      this.rpc.respond(RECEIPT_METHOD, receiptResponder({ identity, findBook: (hex) => node.findBook(hex), now }))
      this.holderAgent = new Holder({ identity, wallet: this.wallet, rpc: this.rpc, now })
      // credentials an issuer queued for us (repayment history) are collected when we meet it or it offers
      this.rpc.on('peer', (did: string) => { this.holderAgent?.collect(did as never).catch(safetyCatch) })
      this.rpc.respond('vc/offer', async (_req, from) => ({ collected: await (this.holderAgent as Holder).collect(from) }))
      swarm.on('connection', this.onconnection)
      for (const conn of swarm.connections) this.rpc.attach(conn as never)
      // verifiers find this issuer's revocation list by its discovery key
      swarm.join(this.registry.discoveryKey, { server: true, client: false })
      if (this.opts.announce) await this.rpc.announce()
    }
    if (this.opts.ads !== false && !this.closing) {
      const issuing = this.issuing
      const announce = this.opts.announce === true
      // a service node (announced on its DID topic) offers verification, and issuing of the types it has enrolled
      const offers = async (): Promise<AdOffer[]> => {
        if (!announce) return []
        const types = [...new Set((await issuing.enrolled()).map((e) => e.type))].sort()
        return types.length > 0 ? [{ type: 'verification' }, { type: 'issuing', credentialTypes: types }] : [{ type: 'verification' }]
      }
      // the ads travel on the network this node is in, carry its certificate chain, and mark each
      // peer by whether its chain reaches the network's founders (core/governance/chain.ts)
      const { network } = await networkInUse(node.local as Hyperbee)
      const resolver = this.resolver as StatusResolver
      const certify = async (ad: { chain: unknown }) => {
        const r = await verifyChain(network, ad.chain, { now: (now ?? Date.now)(), checkStatus: resolver.check })
        return r.ok ? { certified: true, by: r.certifiedBy.map((c) => c.issuer).join(' -> '), roles: r.organization.roles } : { certified: false, reason: r.reason }
      }
      // (a caller naming another network by name, as tests of a private network do, gets that network's topic)
      const topic = this.opts.ads?.network === undefined ? network.topic : undefined
      this.ads = new AdsService(node, { now, offers, topic, chain: async () => await ownChain(node.local as Hyperbee) as never, certify, ...this.opts.ads })
      await this.ads.ready()
    }
  }

  protected async _close (): Promise<void> {
    if (this.ads) await this.ads.close().catch(safetyCatch)
    this.node.off('book', this.onbook)
    if (this.node.swarm) this.node.swarm.off('connection', this.onconnection)
    if (this.rpc) await this.rpc.close().catch(safetyCatch)
    if (this.history) {
      this.history.close()
      await this.history.flushed()
    }
    if (this.resolver) await this.resolver.close().catch(safetyCatch)
    if (this.registry) await this.registry.close().catch(safetyCatch)
    if (this.rootstock) await this.rootstock.close().catch(safetyCatch)
    if (this.bitcoin) await this.bitcoin.close().catch(safetyCatch)
    if (this.keys) await this.keys.close().catch(safetyCatch)
    if (this.wallet) await this.wallet.close().catch(safetyCatch)
  }

  /**
   * The holder's flows (request a credential, prove eligibility), which need peers.
   * @throws BAD_ARGUMENT when this node runs offline
   */
  get holder (): Holder {
    if (!this.holderAgent) throw GrowrError.BAD_ARGUMENT('this needs the network: start the node (`growr start`) and run the command again')
    return this.holderAgent
  }
}
