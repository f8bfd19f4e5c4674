/**
 * The credential side of a node, composed over a GrowrNode: the holder's SSCR, the node's wallet
 * keys (core/wallet/wallet.ts: one BIP-39 seed, generated on first open), the issuing and
 * verification services, revocation lists, repayment history, and the request/response protocol
 * they speak on the node's swarm connections. The node itself knows nothing of credentials.
 *
 * Lifecycle: ready() opens (after the node) the SSCR, the wallet keys, Nostr publishing
 * (core/nostr/publisher.ts), the status registry and resolver, then the RPC on the swarm; close() tears down in reverse. The node is not closed here:
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
import { PubSub } from '../network/pubsub.ts'
import { StatusRegistry, StatusResolver } from './status-registry.ts'
import { IssuingService } from './issuing.ts'
import { VerificationService } from './verification.ts'
import { RepaymentHistory } from './repayment-history.ts'
import { Holder } from './holder.ts'
import { RECEIPT_METHOD, receiptResponder } from '../receipts/validation.ts'
import { ADMIT_METHOD, admissionResponder } from '../network/admission.ts'
import type { Book } from '../../books/book.ts'
import { BitcoinRail, type BitcoinBackendConfig } from '../rails/bitcoin/rail.ts'
import { RootstockRail, type RootstockBackendConfig } from '../rails/rootstock/rail.ts'
import { AdsService, type AdServiceOptions } from '../network/ads/service.ts'
import { networkInUse } from '../governance/network-in-use.ts'
import { verifyChain } from '../governance/chain.ts'
import { ownChain } from '../governance/certifier.ts'
import { nodeChainSources } from '../governance/issuer-trust.ts'
import type { AdService as AdOffer } from '../network/ads/advertisement.ts'
import type { ExposureService } from '../exposure/service.ts'
import { createExposureService } from '../exposure/wiring.ts'
import { TrustlineSync, type TrustlineSyncOptions } from '../credit/sync.ts'
import { CreditRelay, type CreditRelayOptions } from '../credit/relay.ts'
import { CreditPayments, type CreditPaymentsOptions } from '../credit/payment.ts'
import { NostrService, type NostrServiceOptions } from '../nostr/publisher.ts'
import { NostrSigner } from '../nostr/keys.ts'
import { isDidKey } from '../identity/did-key.ts'
import type { Network } from '../governance/network.ts'
import sodium from 'sodium-universal'
import b4a from 'b4a'

/** Who certified a connected peer, as {@link Services.peerCertification} found it. */
export interface PeerCertification {
  certified: boolean
  /** the certified organization (certified only) */
  organization?: { name: string; roles: string[] }
  /** every certificate of its chain, root first: the founder certified certifiedBy[0].subject, and so on (certified only) */
  certifiedBy?: Array<{ issuer: string; subject: string; name: string; roles: string[] }>
  /** why it is not certified, in plain words (uncertified only) */
  reason?: string
  /** when this was established, ms */
  checkedAt?: number
}

/** Default reuse of a peer's verified certification, ms (5 min). */
export const PEER_CERTIFICATION_MAX_AGE_MS = 5 * 60_000
// a status list that could not be read is not a verdict: ask again sooner
const UNCHECKABLE_MAX_AGE_MS = 30_000

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
  /** how long a connected peer's verified certification is reused before it is checked again, ms (default 5 min) */
  peerCertificationMaxAgeMs?: number
  /** bilateral trustlines (core/credit/sync.ts): options such as a policy for incoming proposals; false: none */
  trustlines?: Pick<TrustlineSyncOptions, 'policy' | 'connectTimeoutMs'> | false
  /** multi-hop payments over the trustlines (core/credit/payment.ts): hold time, margins, cap; false: none */
  payments?: Omit<CreditPaymentsOptions, 'sync' | 'rpc' | 'local' | 'identity' | 'now'> | false
  /** run a credit relay (core/credit/relay.ts) and offer it in the ads; false or absent: none */
  relay?: Omit<CreditRelayOptions, 'store' | 'rpc' | 'pubsub' | 'swarm'> | boolean
  /** publishing on Nostr (core/nostr/publisher.ts): options, e.g. the WebSocket client; false: none */
  nostr?: NostrServiceOptions | false
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
  /** publish/subscribe on topics over every swarm connection (core/network/pubsub.ts); opened after the rpc */
  pubsub: PubSub | null = null
  /** the Bitcoin rail, when the node is configured with a backend; opened after the wallet keys */
  bitcoin: BitcoinRail | null = null
  /** the Rootstock rail, when the node is configured with an EVM backend; opened after the wallet keys */
  rootstock: RootstockRail | null = null
  /** the node's capability ad and its directory of the network's ads; opened last */
  ads: AdsService | null = null
  /** credit-exposure queries by the borrower's consent (core/exposure/); opened after the ads */
  exposure: ExposureService | null = null
  /** this node's trustlines and their two-party sync (core/credit/sync.ts); opened after the rpc, offline too */
  trustlines: TrustlineSync | null = null
  /** multi-hop payments over the trustlines (core/credit/payment.ts); opened after the trustlines */
  payments: CreditPayments | null = null
  /** the credit relay, when the node runs one; opened after the pubsub */
  relay: CreditRelay | null = null
  /** publishing on Nostr and listings read back (core/nostr/publisher.ts); opened after the wallet keys */
  nostr: NostrService | null = null
  private holderAgent: Holder | null = null
  /** this node's own certificate chain as its hellos carry it: read from the local bee, refreshed by refreshOwnChain() */
  private ownChainCache: unknown[] = []
  /** per connected DID: the chain (hash) and network it was verified for, and the outcome */
  private readonly certifications = new Map<string, { key: string; at: number; ttl: number; result: Promise<PeerCertification> }>()
  private readonly opts: ServicesOptions
  private readonly onbook = (book: Book) => this.history?.watch(book)
  private readonly onpubsubconn = (conn: unknown) => this.pubsub?.attach(conn)
  private readonly onconnection = (conn: unknown) => {
    this.rpc?.attach(conn as never)
    // the hello is built once the handshake is done: a chain saved since is usually in by then
    this.refreshOwnChain().catch(safetyCatch)
  }

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
    if (this.opts.nostr !== false) {
      this.nostr = new NostrService({ host: node, signer: new NostrSigner(this.keys), ...(this.opts.nostr ?? {}) })
      await this.nostr.ready()
      if (this.closing) return
    }
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
    this.verification = new VerificationService({
      identity,
      findBook: (hex) => node.findBook(hex),
      status: (url, issuer, timeoutMs) => resolver.current(url, issuer, { timeoutMs }),
      statusTimeoutMs: this.opts.statusTimeoutMs,
      // books trusting "issuers certified through governance G": chains from the issuers' ads or hellos, verified when used
      governance: {
        network: async () => (await networkInUse(node.local as Hyperbee)).network,
        sources: nodeChainSources({ directory: () => this.ads?.directory, rpc: () => this.rpc }),
        checkStatus: resolver.check
      },
      now
    })
    this.history = new RepaymentHistory({ local: node.local as Hyperbee, issuing: this.issuing, did: identity.did })
    for (const book of node.list()) this.history.watch(book)
    node.on('book', this.onbook)

    const swarm = node.swarm
    if (swarm && !this.closing) {
      await this.refreshOwnChain()
      this.rpc = new PeerRpc({ identity, swarm, chain: () => this.ownChainCache })
      // a peer's certification is checked when it says hello, so the UI finds it ready
      this.rpc.on('peer', (did: string) => { this.peerCertification(did).catch(safetyCatch) })
      this.rpc.on('peer-close', (did: string) => { this.certifications.delete(did) })
      this.issuing.serve(this.rpc)
      this.verification.serve(this.rpc)
      const registry = this.registry
      this.rpc.respond('status/head', async (req) => await registry.head(req))
      // anyone connected may ask whether a receipt holds against this node's replica of its book
      this.rpc.respond(RECEIPT_METHOD, receiptResponder({ identity, findBook: (hex) => node.findBook(hex), now }))
      // whoever found an open public project may ask to become a writer of the book (capped per hour)
      this.rpc.respond(ADMIT_METHOD, admissionResponder({ host: node, now }))
      this.holderAgent = new Holder({ identity, wallet: this.wallet, rpc: this.rpc, now })
      // credentials an issuer queued for us (repayment history) are collected when we meet it or it offers
      this.rpc.on('peer', (did: string) => { this.holderAgent?.collect(did as never).catch(safetyCatch) })
      this.rpc.respond('vc/offer', async (_req, from) => ({ collected: await (this.holderAgent as Holder).collect(from) }))
      swarm.on('connection', this.onconnection)
      for (const conn of swarm.connections) this.rpc.attach(conn as never)
      // verifiers find this issuer's revocation list by its discovery key
      swarm.join(this.registry.discoveryKey, { server: true, client: false })
      if (this.opts.announce) await this.rpc.announce()
      this.pubsub = new PubSub({ identity, now })
      await this.pubsub.ready()
      swarm.on('connection', this.onpubsubconn)
      for (const conn of swarm.connections) this.pubsub.attach(conn)
    }
    if (this.opts.trustlines !== false && !this.closing) {
      this.trustlines = new TrustlineSync({ local: node.local as Hyperbee, identity, rpc: this.rpc, now, ...(this.opts.trustlines ?? {}) })
      await this.trustlines.ready()
      if (this.opts.payments !== false && !this.closing) {
        this.payments = new CreditPayments({ sync: this.trustlines, rpc: this.rpc, local: node.local as Hyperbee, identity, now, ...(this.opts.payments ?? {}) })
        await this.payments.ready()
      }
    }
    if (this.opts.relay && !this.closing) {
      this.relay = new CreditRelay({ store: node.store as Corestore, rpc: this.rpc, pubsub: this.pubsub, swarm, now, ...(this.opts.relay === true ? {} : this.opts.relay) })
      await this.relay.ready()
    }
    if (this.opts.ads !== false && !this.closing) await this.openAds()
    if (!this.closing) {
      this.exposure = createExposureService(this, { now })
      await this.exposure.ready()
    }
  }

  /**
   * Opens the ad service on the network this node uses now (its setting, else the shipped one):
   * the network's topic, this node's chain in its ad, peers' ads marked by their chains.
   */
  private async openAds (): Promise<void> {
    const node = this.node
    const now = this.opts.now
    const issuing = this.issuing as IssuingService
    const announce = this.opts.announce === true
    // a service node (announced on its DID topic) offers verification, and issuing of the types it has enrolled
    const offers = async (): Promise<AdOffer[]> => {
      const relay: AdOffer[] = this.opts.relay ? [{ type: 'relay' }] : []
      if (!announce) return relay
      const types = [...new Set((await issuing.enrolled()).map((e) => e.type))].sort()
      const services: AdOffer[] = types.length > 0 ? [{ type: 'verification' }, { type: 'issuing', credentialTypes: types }] : [{ type: 'verification' }]
      return [...relay, ...services]
    }
    // the ads travel on the network this node is in, carry its certificate chain, and mark each
    // peer by whether its chain reaches the network's founders (core/governance/chain.ts)
    const { network } = await networkInUse(node.local as Hyperbee)
    const resolver = this.resolver as StatusResolver
    const certify = async (ad: { chain: unknown }) => {
      const r = await verifyChain(network, ad.chain, { now: (now ?? Date.now)(), checkStatus: resolver.check })
      return r.ok ? { certified: true, by: r.certifiedBy.map((c) => c.issuer).join(' -> '), roles: r.organization.roles, name: r.organization.name } : { certified: false, reason: r.reason }
    }
    // (a caller naming another network by name, as tests of a private network do, gets that network's topic)
    const given = this.opts.ads || {}
    const topic = given.network === undefined ? network.topic : undefined
    const ads = new AdsService(node, { now, offers, topic, pubsub: this.pubsub ?? undefined, chain: async () => await ownChain(node.local as Hyperbee) as never, certify, ...given })
    this.ads = ads
    await ads.ready()
  }

  /**
   * Moves the node to the network its setting names now (after `network.use`): leaves the old
   * network's topic and directory, forgets peers' certifications (they were judged against the old
   * founders), re-reads its own chain for its hellos and joins the new network's topic.
   * Nothing happens for a node running without ads. Emits 'network' once the new ads run.
   */
  async switchNetwork (): Promise<void> {
    await this.ready()
    if (this.closing || this.opts.ads === false) return
    const old = this.ads
    this.ads = null
    if (old) await old.close().catch(safetyCatch)
    this.certifications.clear()
    await this.refreshOwnChain().catch(safetyCatch)
    if (!this.closing) await this.openAds()
    this.emit('network')
  }

  protected async _close (): Promise<void> {
    if (this.exposure) await this.exposure.close().catch(safetyCatch)
    if (this.ads) await this.ads.close().catch(safetyCatch)
    if (this.relay) await this.relay.close().catch(safetyCatch)
    if (this.payments) await this.payments.close().catch(safetyCatch)
    if (this.trustlines) await this.trustlines.close().catch(safetyCatch)
    this.certifications.clear()
    this.node.off('book', this.onbook)
    if (this.node.swarm) this.node.swarm.off('connection', this.onpubsubconn)
    if (this.pubsub) await this.pubsub.close().catch(safetyCatch)
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
    if (this.nostr) await this.nostr.close().catch(safetyCatch)
    if (this.keys) await this.keys.close().catch(safetyCatch)
    if (this.wallet) await this.wallet.close().catch(safetyCatch)
  }

  /**
   * Re-reads this node's own certificate chain (core/governance/certifier.ts ownChain) for its
   * hellos; when it changed, says hello again to every connected peer (PeerRpc.rehello). Call it
   * after saving a new chain; each new connection also does.
   */
  async refreshOwnChain (): Promise<void> {
    if (!this.node.local) return
    const chain = await ownChain(this.node.local as Hyperbee)
    const changed = JSON.stringify(chain) !== JSON.stringify(this.ownChainCache)
    this.ownChainCache = chain
    // peers already connected hold our old hello: say it again with the new chain
    if (changed) this.rpc?.rehello()
  }

  /**
   * Who certified a connected peer: the chain its signed hello carried, verified up to a founder
   * of the network in use, revocation included, and required to end at the peer's DID.
   * Reused for `peerCertificationMaxAgeMs` (default 5 min) while the peer presents the same chain.
   * @param did the peer's DID
   * @param opts.refresh check again now (e.g. to see a revocation at once)
   * @returns `{ certified: true, organization, certifiedBy, founder }` or `{ certified: false, reason }`
   *   in plain words (also when this node runs offline or `did` is not connected). Never throws.
   */
  async peerCertification (did: string, opts: { refresh?: boolean } = {}): Promise<PeerCertification> {
    const rpc = this.rpc
    const resolver = this.resolver
    if (!rpc || !resolver) return { certified: false, reason: 'this node runs offline: it has no peers' }
    if (!isDidKey(did)) return { certified: false, reason: 'not a did:key' }
    const chain = rpc.peerChain(did)
    if (chain === null) return { certified: false, reason: 'not connected to this peer' }
    try {
      const { network } = await networkInUse(this.node.local as Hyperbee)
      const now = (this.opts.now ?? Date.now)()
      const hash = b4a.alloc(32)
      sodium.crypto_generichash(hash, b4a.from(JSON.stringify(chain)))
      const key = network.topicHex + b4a.toString(hash, 'hex')
      const hit = this.certifications.get(did)
      if (hit && hit.key === key && !opts.refresh && now - hit.at < hit.ttl) return await hit.result
      const maxAge = this.opts.peerCertificationMaxAgeMs ?? PEER_CERTIFICATION_MAX_AGE_MS
      const entry = { key, at: now, ttl: maxAge, result: checkPeerChain(did, chain, network, now, resolver.check) }
      this.certifications.set(did, entry)
      const result = await entry.result
      if (!result.certified && /status cannot be checked/.test(result.reason ?? '')) entry.ttl = Math.min(maxAge, UNCHECKABLE_MAX_AGE_MS)
      return result
    } catch (err) {
      return { certified: false, reason: `the certification cannot be checked: ${(err as Error)?.message ?? String(err)}` }
    }
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

/**
 * Verifies the chain `did` presented in its hello: up to a founder of `network`, revocation
 * included (chain.ts verifyChain), and ending at `did` itself: a genuine chain copied from another
 * node certifies that node, not whoever replays it. Never throws.
 */
async function checkPeerChain (did: string, chain: unknown[], network: Network, now: number, checkStatus: StatusResolver['check']): Promise<PeerCertification> {
  // a chain ending elsewhere is refused before any status list is fetched for it
  const last = chain[chain.length - 1] as { credentialSubject?: { id?: unknown } } | undefined
  const claimed = last?.credentialSubject?.id
  if (typeof claimed === 'string' && claimed !== did) return { certified: false, reason: `the chain it presents was issued to ${claimed.slice(0, 100)}, not to this peer`, checkedAt: now }
  const r = await verifyChain(network, chain, { now, checkStatus })
  if (!r.ok) return { certified: false, reason: r.reason, checkedAt: now }
  if (r.organization.did !== did) return { certified: false, reason: `the chain it presents certifies ${r.organization.did}, not this peer`, checkedAt: now }
  return {
    certified: true,
    organization: { name: r.organization.name, roles: [...r.organization.roles] },
    certifiedBy: r.certifiedBy.map((l) => ({ issuer: l.issuer, subject: l.subject, name: l.name, roles: [...l.roles] })),
    checkedAt: now
  }
}
