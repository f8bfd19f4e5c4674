/**
 * The one contract between a node and whatever drives it (CLI, desktop bridge, headless host):
 * request names mapped to argument and result types, and their implementation over a GrowrNode.
 * Amounts are integer minor units; ids are 32 hex characters; `book` is a topic key.
 * Handlers that act on a record first wait (up to `timeoutMs`) for it to replicate here, so a
 * command issued right after a peer's never fails only because the network is a second behind.
 */
import { GrowrError } from '../core/errors.ts'
import type { GrowrNode } from '../core/node.ts'
import { parseTopic, type Book } from '../books/book.ts'
import type { AuditEntry, Distribution, Funding, Loan, Member, Payment, PostedInvoice, Project, ReceivingAddress } from '../books/entities.ts'
import type { BookSummary, Records, Sub } from '../books/view.ts'
import { toChecksumAddress } from '../core/wallet/bip44-rootstock.ts'
import { checksumChainId } from '../books/proofs/rootstock-receipt.ts'
import type { BitcoinNetwork, BitcoinProof, LightningProof, OpInput, PaymentKind, ProjectTerms, RootstockProof } from '../books/ops/types.ts'
import { approveLoan, outstanding } from '../books/loan/machine.ts'
import { attestationAtApproval } from '../books/loan/handlers.ts'
import b4a from 'b4a'
import type { Services } from '../core/services/services.ts'
import type { EligibilityResult } from '../core/services/verification.ts'
import type { EnrollmentSummary, IssuedRecord } from '../core/services/issuing.ts'
import { verifyCredential, type VerifiableCredential, type VerificationResult } from '../core/credentials/vc.ts'
import { createPresentation, verifyPresentation, type PresentationResult, type VerifiablePresentation } from '../core/credentials/vp.ts'
import { credentialTypeOf, isCredentialType, type CredentialType } from '../core/credentials/catalogue.ts'
import { createBackup } from '../core/sscr/backup.ts'
import { receiveIndexFor } from '../core/wallet/receive-index.ts'
import { isDidKey, type DidKey } from '../core/identity/did-key.ts'
import type { Identity } from '../core/identity/keyfile.ts'
import { refFor, type BitcoinRail, type BitcoinRailStatus, type RailBalance, type TrackedTx } from '../core/rails/bitcoin/rail.ts'
import type { RootstockBalance, RootstockRail, RootstockRailStatus, RootstockTrackedTx } from '../core/rails/rootstock/rail.ts'
import type { NodeListing, ProjectListing } from '../core/network/ads/directory.ts'
import { SERVICE_NAMES, type ServiceName } from '../core/network/ads/advertisement.ts'
import { createNetworkHandlers, type NetworkContract } from './networks/handlers.ts'
import { createExposureHandlers, type ExposureContract } from './exposure/handlers.ts'
import { createNostrHandlers, type NostrContract } from './nostr/handlers.ts'
import { createTrustlineHandlers, type TrustlineContract } from './credit/handlers.ts'
import { buildReceipt, receiptHash, verifyReceipt, type ReceiptVerification } from '../core/receipts/receipt.ts'
import { validateReceipt, type ValidationResult } from '../core/receipts/validation.ts'
import type { Quorum } from '../core/network/broadcast.ts'
import { ADMIT_METHOD, admitRequest, type OpenRole } from '../core/network/admission.ts'
import type { NostrKeyRecord } from '../books/entities.ts'
import { bindingOp } from '../core/nostr/binding.ts'
import { zapOp, type ZapReceiptEvent } from '../core/nostr/zap.ts'
import { zapIds } from '../books/funding/zap-handlers.ts'
import { NostrSigner, type NostrScope } from '../core/nostr/keys.ts'

type BookArg = { book: string; timeoutMs?: number }
export interface Acted { id: string; opId: string; status: 'accepted' }

export interface Contract extends NetworkContract, ExposureContract, NostrContract, TrustlineContract {
  'status': { args: Record<string, never>; result: { did: string; storage: string; peers: number; books: Array<{ topic: string; name: string; role: string | null; writable: boolean }>; bitcoin?: BitcoinRailStatus | null; rootstock?: RootstockRailStatus | null } }
  'book.create': { args: { name: string }; result: { topic: string } }
  'book.join': { args: { book: string }; result: { topic: string } }
  'book.show': { args: BookArg; result: { topic: string; name: string; originator: string; hash: string; summary: BookSummary } }
  'book.audit': { args: BookArg; result: AuditEntry[] }
  'invite.create': { args: { book: string; role: 'borrower' | 'investor' }; result: { code: string; role: string; book: string; expires: number } }
  'invite.accept': { args: { code: string; timeoutMs?: number }; result: { topic: string } }
  'project.create': { args: BookArg & { terms: ProjectTerms }; result: Acted }
  'project.update': { args: BookArg & { project: string; changes: Partial<ProjectTerms> }; result: Acted }
  'project.transition': { args: BookArg & { project: string; action: 'activate' | 'deactivate' | 'close' }; result: Acted }
  'project.list': { args: BookArg; result: Project[] }
  'funding.commit': { args: BookArg & { project: string; amount: number }; result: Acted }
  'loan.apply': { args: BookArg & { project: string; amount: number; months: number; purpose?: string }; result: Acted }
  'loan.decide': { args: BookArg & { loan: string; action: 'approve' | 'reject' | 'withdraw' | 'default' | 'cancel'; reason?: string }; result: Acted }
  'funding.cancel': { args: BookArg & { funding: string; reason?: string }; result: Acted }
  'payment.dispute': { args: BookArg & { payment: string; reason: string }; result: Acted }
  'payment.cancel': { args: BookArg & { payment: string; reason?: string }; result: Acted }
  'clock.witness': { args: BookArg; result: { opId: string; status: 'accepted'; ts: number } }
  /** minWork: decimal, the least total work of a Bitcoin proof's block and following headers (required on mainnet) */
  'project.rail': { args: BookArg & { project: string; rail?: 'bitcoin' | 'lightning'; network: BitcoinNetwork; confirmations?: number; minWork?: string }; result: Acted }
  /** a draft RBTC (token null) or ERC-20 project paid on Rootstock; one minor unit = 10^unitExponent base units on chain */
  'project.rail.rootstock': { args: BookArg & { project: string; chainId: number; token?: string | null; unitExponent: number; confirmations?: number }; result: Acted }
  /** without `address`, the payee's own wallet address for this record (core/wallet receiveIndexFor) */
  'payment.address': { args: BookArg & { kind: PaymentKind; ref: string; address?: string }; result: Acted & { address: string } }
  'payment.prove': { args: BookArg & { kind: PaymentKind; ref: string; amount?: number; proof: BitcoinProof | LightningProof | RootstockProof }; result: Acted & { amount: number } }
  /** what payees posted in the book: receiving addresses (per kind and record) and BOLT 11 invoices */
  'payment.addresses': { args: BookArg; result: { addresses: ReceivingAddress[]; invoices: PostedInvoice[] } }
  /** a heavier branch without a proven payment's block (raw headers, hex): the payment is uncounted on every peer */
  'payment.reorg': { args: BookArg & { payment: string; ancestors?: string[]; branch: string[] }; result: Acted }
  'lightning.node': { args: BookArg & { nodeKey: string }; result: Acted }
  'payment.invoice': { args: BookArg & { kind: PaymentKind; ref: string; invoice: string }; result: Acted }
  'loan.show': { args: BookArg & { loan: string }; result: Loan & { outstanding: number } }
  'loan.list': { args: BookArg; result: Loan[] }
  'loan.applications': { args: BookArg; result: Application[] }
  'member.list': { args: BookArg; result: Member[] }
  'funding.list': { args: BookArg; result: Funding[] }
  'payment.list': { args: BookArg; result: Payment[] }
  'distribution.list': { args: BookArg; result: Distribution[] }
  'payment.record': { args: BookArg & { kind: PaymentKind; ref: string; amount?: number; reference?: string }; result: Acted & { amount: number } }
  'payment.confirm': { args: BookArg & { payment: string }; result: Acted }
  'loan.repay': { args: BookArg & { loan: string; reference?: string }; result: Acted & { amount: number; instalment: number } }
  'distribute': { args: BookArg; result: Array<Acted & { funding: string; amount: number }> }
  'wait': { args: BookArg & { sub: Sub; id: string; status?: string }; result: unknown }
  /** kind 'governance': `did` is a governance DID; issuers of `type` certified through it are trusted (their chains checked when used) */
  'trust.set': { args: BookArg & { kind: 'issuer' | 'verifier' | 'governance'; did: string; type?: string; trusted?: boolean }; result: { opId: string; status: 'accepted' } }
  /** governance: credential type -> governance DIDs whose certified issuers the book accepts */
  'trust.list': { args: BookArg; result: { issuers: Record<string, string[]>; verifiers: string[]; governance: Record<string, string[]> } }
  /** the Nostr keys the book records as speaking for it (op `nostr/key`), active and retired; `since` is the ts (ms) of the last change */
  'nostr.keys': { args: BookArg; result: NostrKeyRecord[] }
  /**
   * records in a book this node originates that its NIP-06 organization key (or, with `project`, that project's key) speaks
   * for it, with the key's own BIP-340 proof; `active: false` retires it (its events are unverified from then on).
   * `opId` is null when the book already says so (no op appended)
   */
  'nostr.bind': { args: BookArg & { project?: string; active?: boolean }; result: { opId: string | null; pubkey: string; scope: string; active: boolean } }
  /**
   * originator: where a BTC Lightning project's NIP-99 listing is zapped (NIP-57): its LUD-16 address, the LNURL
   * server's `nostrPubkey` (as its LNURL-pay endpoint announces it), the listing's address `30402:<pubkey>:<d>`
   * and the pubkey zaps go to (op `project/zap`)
   */
  'nostr.zap.settings': { args: BookArg & { project: string; lud16: string; serverPubkey: string; listing: string; recipient: string }; result: Acted }
  /**
   * originator: a zap receipt (kind 9735) for a project's listing becomes a funding commitment (op `funding/zap`);
   * with the invoice's preimage (hex) its payment is confirmed at once, else it waits for payment.confirm.
   * `id` is the funding id; `payment` the payment's
   */
  'nostr.zap.record': { args: BookArg & { receipt: unknown; preimage?: string }; result: Acted & { payment: string } }
  'vc.issue': { args: { type: string; subject: string; claims: Record<string, unknown>; validUntil?: string }; result: VerifiableCredential }
  'vc.enroll': { args: { type: string; subject: string; claims: Record<string, unknown>; validUntil?: string }; result: { subject: string; type: string } }
  'vc.unenroll': { args: { type: string; subject: string }; result: { subject: string; type: string; revoked: string | null } }
  'vc.enrolled': { args: Record<string, never>; result: EnrollmentSummary[] }
  'vc.request': { args: { issuer: string; type: string; timeoutMs?: number }; result: VerifiableCredential }
  'vc.import': { args: { credential: unknown }; result: CredentialSummary }
  'vc.list': { args: Record<string, never>; result: CredentialSummary[] }
  'vc.show': { args: { id: string }; result: VerifiableCredential }
  'vc.verify': { args: { credential: unknown; verificationKey?: string; book?: string }; result: VerificationResult }
  'vc.revoke': { args: { id: string }; result: IssuedRecord }
  'vc.issued': { args: Record<string, never>; result: IssuedRecord[] }
  'vp.create': { args: { challenge: string; domain: string; ids?: string[]; types?: string[] }; result: VerifiablePresentation }
  'vp.verify': { args: { presentation: unknown; challenge: string; domain: string; book?: string }; result: PresentationResult }
  'eligibility.check': { args: BookArg & { project: string }; result: EligibilityResult }
  'backup.create': { args: { passphrase: string }; result: { backup: string; credentials: number } }
  /**
   * the node's watch-only wallet, never a private key or the mnemonic: the BIP-84 account key
   * (`m/84'/coin'/0'`, xpub and SLIP-132 zpub/vpub) a watch-only device of the same organization
   * imports, and receive index 0; the Rootstock account `m/44'/137'/0'` and its index-0 address,
   * RSKIP-60 checksummed for `chainId`. Defaults: regtest, chain id 33.
   */
  'wallet.show': {
    args: { network?: BitcoinNetwork; chainId?: number }
    result: {
      bitcoin: { network: BitcoinNetwork; path: string; xpub: string; zpub: string; firstReceive: { address: string; path: string; index: number } }
      rootstock: { chainId: number; path: string; xpub: string; address: string }
    }
  }
  /** a receive address of the node's BIP-84 account: a record's own (`ref`, receive-index.ts) or index `index` (default 0) */
  'wallet.receive': { args: { network: BitcoinNetwork; ref?: string; index?: number }; result: { address: string; path: string; index: number } }
  /**
   * the Bitcoin wallet's balance from the node's backend (sats as decimal strings); needs `growr start --bitcoin-rpc`.
   * With a Rootstock backend too, `rootstock` holds that wallet's balance ({@link RootstockBalance}); a node with only
   * a Rootstock backend answers `wallet.balance.rootstock`
   */
  'wallet.balance': { args: Record<string, never>; result: RailBalance & { rootstock?: RootstockBalance } }
  /** the Rootstock wallet's balance (wei and token units as decimal strings, per address); needs `growr start --rootstock-rpc` */
  'wallet.balance.rootstock': { args: Record<string, never>; result: RootstockBalance }
  /** pays addresses from the Bitcoin wallet in one transaction; amounts in sats (decimal strings or safe integers), feeRate sat/vB */
  'wallet.send': { args: { to: Array<{ address: string; amount: string | number }>; feeRate?: number }; result: { txid: string; fee: string; vsize: number } }
  /**
   * pays the payee's posted address for a record from the wallet (the payee's node proves it);
   * `kind: 'distribution'` without `ref`: one transaction paying every investor what is owed to
   * the distribution address it posted (investors without one are listed in `skipped`).
   * On a Rootstock project: native RBTC or the project's token, minor units x 10^unitExponent
   * base units; a distribution there is one transaction per investor (EVM transactions have one
   * recipient), each output naming its own `txid`
   */
  'payment.pay': { args: BookArg & { kind: PaymentKind; ref?: string; amount?: number; feeRate?: number }; result: PayOutcome }
  /** the wallet's transactions with where each stands (mempool, confirmed N, replaced, dropped, unbroadcast; Rootstock: pending, mined N, confirmed N, reverted, dropped) */
  'payment.tracked': { args: Record<string, never>; result: Array<TrackedTx | RootstockTrackedTx> }
  /** nodes of the network (from their fresh signed ads) offering `service`, certified for `role`, issuing `credentialType` */
  'market.query': { args: { service?: ServiceName; role?: string; credentialType?: string }; result: NodeListing[] }
  /** open projects across the network, from originators' ads: the book's topic, the originator and its certification mark */
  'market.projects': { args: Record<string, never>; result: ProjectListing[] }
  /**
   * follows, read-only, a book a fresh ad lists.
   * `listedBy` is the DID whose ad listed the book (any node can list any book's topic in its own
   * ad); `originator` is what the replicated book itself says, or null when it has not arrived
   * within the timeout; `listerIsOriginator` only when both are known and equal.
   * With `role`, it also asks the book's originator (as the book names it, never the lister) to
   * admit this node as a writer of that role (core/network/admission.ts: the book needs an active
   * public project that is not invite-only) and resolves once it may write; `admitted` says so.
   */
  'market.join': { args: { topic: string; role?: OpenRole; timeoutMs?: number }; result: { topic: string; listedBy: string; originator: string | null; listerIsOriginator: boolean; organization: string; certified: boolean; admitted: boolean } }
  /** the pubsub topics this node follows (core/network/pubsub.ts), each with how many connected peers follow it too; none offline */
  'pubsub.topics': { args: Record<string, never>; result: Array<{ topic: string; peers: number }> }
  /** the receipt of a confirmed payment (core/receipts/receipt.ts): base64 bytes anyone verifies offline with the book's key */
  'receipt.export': { args: BookArg & { payment: string }; result: { receipt: string; receiptHash: string } }
  /** verifies a receipt offline; without `book`, against the book key the receipt names (say so to whoever relies on it) */
  'receipt.verify': { args: { receipt: string; book?: string }; result: ReceiptVerification & { bookKey: string } }
  /** asks the book's connected peers to confirm a receipt against their replicas; signed answers until the deadline (ms) */
  'receipt.validate': { args: { receipt: string; deadlineMs?: number; quorum?: Quorum }; result: ValidationResult }
}

/** What `payment.pay` did: the transaction, and each payment it carries (minor units, sats on Bitcoin, as decimal strings). */
export interface PayOutcome {
  /** the transaction (on Rootstock, the first one of a distribution) */
  txid: string
  /** the (first) address paid */
  address: string
  /** minor units paid to the payees in all */
  amount: string
  /** sats; on Rootstock, the most the gas can cost in wei */
  fee: string
  /** an earlier transaction for the same payment was returned instead of paying twice */
  reused: boolean
  outputs: Array<{ kind: PaymentKind; ref: string; address: string; amount: string; txid?: string; reused?: boolean }>
  skipped: Array<{ ref: string; amount: string; reason: string }>
  /** absent: Bitcoin */
  rail?: 'rootstock'
  /** Rootstock: base units paid in all (wei, or token units with `token`) */
  baseUnits?: string
  token?: string | null
  /** in plain words, e.g. that a distribution on an EVM chain takes one transaction per investor */
  note?: string
}

/**
 * An application waiting for the originator's decision, with what `loan/approve` would do with it
 * now: `approvable` comes from the same transition apply runs (books/loan/machine.ts approveLoan)
 * against the verifiers the book trusts now; `approvalBlocker` says why not, in plain words.
 */
export type Application = Loan & { approvable: boolean; approvalBlocker: string | null }

/** One credential of the SSCR as lists show it: no claims. */
export interface CredentialSummary { id: string; type: string; issuer: string; validFrom: string; validUntil: string | null }

export type Handlers = { [K in keyof Contract]: (args: Contract[K]['args']) => Promise<Contract[K]['result']> }

const DEFAULT_WAIT_MS = 30_000

/**
 * Builds the contract's handlers over `node` and its credential services.
 * Handlers throw GrowrError (BAD_ARGUMENT, NOT_FOUND, OP_REJECTED, NOT_ELIGIBLE, TIMEOUT...).
 */
export function createHandlers (node: GrowrNode, services: Services): Handlers {
  const bookOf = (a: BookArg): Book => {
    if (typeof a.book !== 'string' || !a.book) throw GrowrError.BAD_ARGUMENT('--book <topic key> is required')
    return node.book(a.book)
  }

  async function waitFor<S extends Sub> (book: Book, sub: S, id: string, timeoutMs = DEFAULT_WAIT_MS, status?: string): Promise<Records[S]> {
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) throw GrowrError.BAD_ARGUMENT(`${sub} id must be 32 hex characters`)
    let rec: Records[S] | null = null
    await book.until(async () => {
      rec = await book.view.get(sub, id)
      return rec !== null && (status === undefined || (rec as { status?: string }).status === status)
    }, timeoutMs, `${sub.replace(/s$/, '')} ${id}${status ? ' ' + status : ''} not seen here`)
    return rec as unknown as Records[S]
  }

  async function act (book: Book, input: OpInput, id: string): Promise<Acted> {
    const [{ op, audit }] = await book.act([input])
    if (audit.status !== 'accepted') throw GrowrError.OP_REJECTED(`${op.type} rejected: ${audit.reason}`)
    return { id, opId: op.opId, status: 'accepted' }
  }

  // derives the node's Nostr keys from its wallet seed on each use (core/nostr/keys.ts); made on first use
  let nostrSigner: NostrSigner | null = null

  function amount (n: unknown, what = 'amount'): number {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw GrowrError.BAD_ARGUMENT(`${what} must be a positive whole number of minor units (cents, sats), got ${String(n)}`)
    return n
  }

  return {
    async status () {
      const books = await Promise.all(node.list().map(async (b) => {
        const meta = await b.view.meta()
        const me = await b.view.get('members', node.did)
        return { topic: b.topic, name: meta?.name ?? '(not replicated yet)', role: me && !me.removed ? me.role : null, writable: b.writable }
      }))
      return { did: node.did, storage: node.storage, peers: node.peerCount, books, bitcoin: services.bitcoin?.status() ?? null, rootstock: services.rootstock?.status() ?? null }
    },
    async 'book.create' ({ name }) {
      if (typeof name !== 'string' || !name.trim()) throw GrowrError.BAD_ARGUMENT('a book needs a --name')
      return { topic: (await node.createBook(name.trim())).topic }
    },
    async 'book.join' ({ book }) {
      return { topic: (await node.joinBook(book)).topic }
    },
    async 'book.show' (a) {
      const book = bookOf(a)
      await book.until(async () => (await book.view.meta()) !== null, a.timeoutMs ?? DEFAULT_WAIT_MS, 'book not replicated yet')
      await book.base.update()
      const meta = await book.view.meta()
      return { topic: book.topic, name: meta!.name, originator: meta!.originator, hash: await book.view.hash(), summary: await book.view.summary() }
    },
    async 'book.audit' (a) { return await bookOf(a).view.list('audit') },
    async 'invite.create' ({ book, role }) { return await node.createInvite(book, role) },
    async 'invite.accept' ({ code, timeoutMs }) {
      if (typeof code !== 'string') throw GrowrError.BAD_ARGUMENT('an invite code is required')
      return { topic: (await node.acceptInvite(code, timeoutMs)).topic }
    },
    async 'project.create' (a) {
      const book = bookOf(a)
      const projectId = book.newId()
      return await act(book, { type: 'project/create', projectId, terms: a.terms }, projectId)
    },
    async 'project.update' (a) {
      const book = bookOf(a)
      await waitFor(book, 'projects', a.project, a.timeoutMs)
      return await act(book, { type: 'project/update', projectId: a.project, changes: a.changes }, a.project)
    },
    async 'project.transition' (a) {
      const book = bookOf(a)
      await waitFor(book, 'projects', a.project, a.timeoutMs)
      if (!['activate', 'deactivate', 'close'].includes(a.action)) throw GrowrError.BAD_ARGUMENT(`unknown project action ${a.action}`)
      return await act(book, { type: `project/${a.action}`, projectId: a.project } as OpInput, a.project)
    },
    async 'project.list' (a) { return await bookOf(a).view.list('projects') },
    async 'funding.commit' (a) {
      const book = bookOf(a)
      const project = await waitFor(book, 'projects', a.project, a.timeoutMs, 'active')
      const fundingId = book.newId()
      return await act(book, { type: 'funding/commit', fundingId, projectId: a.project, amount: amount(a.amount), currency: project.terms.currency }, fundingId)
    },
    async 'loan.apply' (a) {
      const book = bookOf(a)
      const project = await waitFor(book, 'projects', a.project, a.timeoutMs, 'active')
      const loanId = book.newId()
      if (!Number.isInteger(a.months)) throw GrowrError.BAD_ARGUMENT('--months must be a whole number of months')
      const input = { type: 'loan/apply' as const, loanId, projectId: a.project, amount: amount(a.amount), currency: project.terms.currency, months: a.months, purpose: a.purpose ?? '' }
      if (project.terms.eligibility.length === 0) return await act(book, input, loanId)
      const decision = await services.holder.prove(book, a.project, a.timeoutMs)
      if (!decision.eligible || !decision.attestation) throw GrowrError.NOT_ELIGIBLE(decision.reasons.join(' '))
      return await act(book, { ...input, attestation: decision.attestation as unknown as Record<string, unknown> }, loanId)
    },
    async 'loan.decide' (a) {
      const book = bookOf(a)
      await waitFor(book, 'loans', a.loan, a.timeoutMs)
      const input = a.action === 'reject' || a.action === 'cancel'
        ? { type: `loan/${a.action}` as const, loanId: a.loan, reason: a.reason ?? '' }
        : { type: `loan/${a.action}`, loanId: a.loan } as OpInput
      if (!['approve', 'reject', 'withdraw', 'default', 'cancel'].includes(a.action)) throw GrowrError.BAD_ARGUMENT(`unknown loan action ${a.action}`)
      return await act(book, input, a.loan)
    },
    async 'funding.cancel' (a) {
      const book = bookOf(a)
      await waitFor(book, 'fundings', a.funding, a.timeoutMs)
      return await act(book, { type: 'funding/cancel', fundingId: a.funding, reason: a.reason ?? '' }, a.funding)
    },
    async 'payment.dispute' (a) {
      const book = bookOf(a)
      if (typeof a.reason !== 'string' || !a.reason.trim()) throw GrowrError.BAD_ARGUMENT('a dispute needs a --reason the payer will read')
      await waitFor(book, 'payments', a.payment, a.timeoutMs)
      return await act(book, { type: 'payment/dispute', paymentId: a.payment, reason: a.reason }, a.payment)
    },
    async 'payment.cancel' (a) {
      const book = bookOf(a)
      await waitFor(book, 'payments', a.payment, a.timeoutMs)
      return await act(book, { type: 'payment/cancel', paymentId: a.payment, reason: a.reason ?? '' }, a.payment)
    },
    async 'project.rail' (a) {
      const book = bookOf(a)
      await waitFor(book, 'projects', a.project, a.timeoutMs)
      return await act(book, { type: 'project/rail', projectId: a.project, rail: a.rail ?? 'bitcoin', network: a.network, confirmations: a.confirmations, minWork: a.minWork }, a.project)
    },
    async 'project.rail.rootstock' (a) {
      const book = bookOf(a)
      await waitFor(book, 'projects', a.project, a.timeoutMs)
      return await act(book, { type: 'project/rail-rootstock', projectId: a.project, chainId: a.chainId, token: a.token ?? null, unitExponent: a.unitExponent, confirmations: a.confirmations ?? 12 }, a.project)
    },
    async 'payment.address' (a) {
      const book = bookOf(a)
      const target = await waitFor(book, paidFor(a.kind), a.ref, a.timeoutMs) as { projectId: string }
      let address = a.address
      if (address === undefined) {
        const rail = (await book.view.get('projects', target.projectId))?.rail
        if (rail?.rail !== 'bitcoin' && rail?.rail !== 'rootstock') throw GrowrError.BAD_ARGUMENT('this project is not paid on Bitcoin or Rootstock: there is no address to post')
        await services.ready()
        // this record's own index: the same address on every device that holds the seed, never another record's
        address = rail.rail === 'bitcoin'
          ? keys().bitcoin(rail.network).receive(receiveIndexFor(a.ref)).address
          // RSKIP-60 checksums carry the chain id on Rootstock mainnet and testnet only; dev chains use EIP-55, as the book checks
          : toChecksumAddress(keys().rootstock(rail.chainId).address(receiveIndexFor(a.ref)).address, checksumChainId(rail.chainId))
      }
      return { ...await act(book, { type: 'payment/address', kind: a.kind, ref: a.ref, address }, a.ref), address }
    },
    async 'payment.prove' (a) {
      const book = bookOf(a)
      const target = await waitFor(book, paidFor(a.kind), a.ref, a.timeoutMs) as { amount: number; projectId: string; entitled?: number; distributed?: number }
      const rail = (await book.view.get('projects', target.projectId))?.rail
      if (!rail) throw GrowrError.BAD_ARGUMENT('this project\'s payments are manual: record them (payment record) and the payee confirms')
      const value = a.amount ?? await expectedAmount(book, a.kind, target)
      const paymentId = book.newId()
      const currency = (await book.view.get('projects', target.projectId))?.terms.currency ?? 'BTC'
      const acted = await act(book, { type: 'payment/prove', paymentId, kind: a.kind, ref: a.ref, amount: amount(value), currency, rail: rail.rail, proof: a.proof } as OpInput, paymentId)
      return { ...acted, amount: value as number }
    },
    async 'payment.addresses' (a) {
      // the sub also holds indexes (used/<address>, lightning/<did>): only records are listed
      const objects = (await bookOf(a).view.list('addresses')).filter((r): r is ReceivingAddress | PostedInvoice => typeof r === 'object' && r !== null)
      return { addresses: objects.filter((r): r is ReceivingAddress => 'address' in r), invoices: objects.filter((r): r is PostedInvoice => 'invoice' in r) }
    },
    async 'payment.reorg' (a) {
      const book = bookOf(a)
      await waitFor(book, 'payments', a.payment, a.timeoutMs)
      return await act(book, { type: 'payment/reorg', paymentId: a.payment, ancestors: a.ancestors ?? [], branch: a.branch }, a.payment)
    },
    async 'nostr.zap.settings' (a) {
      const book = bookOf(a)
      await waitFor(book, 'projects', a.project, a.timeoutMs)
      return await act(book, { type: 'project/zap', projectId: a.project, lud16: a.lud16, serverPubkey: a.serverPubkey, listing: a.listing, recipient: a.recipient }, a.project)
    },
    async 'nostr.zap.record' (a) {
      const book = bookOf(a)
      const meta = await book.view.meta()
      if (!meta || meta.originator !== book.signerDid) throw GrowrError.BAD_ARGUMENT('only the book\'s originator hands in zap receipts')
      const r = a.receipt as { id?: unknown } | null
      if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || !/^[0-9a-f]{64}$/.test(r.id)) throw GrowrError.BAD_ARGUMENT('receipt must be a Nostr event (kind 9735) with its id')
      if (a.preimage !== undefined && (typeof a.preimage !== 'string' || !/^[0-9a-fA-F]{64}$/.test(a.preimage))) throw GrowrError.BAD_ARGUMENT('preimage must be 32 bytes as 64 hex characters')
      const { fundingId, paymentId } = zapIds(meta.originator, r.id)
      const acted = await act(book, zapOp(a.receipt as ZapReceiptEvent, a.preimage), fundingId)
      return { ...acted, payment: paymentId }
    },
    async 'lightning.node' (a) {
      return await act(bookOf(a), { type: 'lightning/node', nodeKey: a.nodeKey }, '')
    },
    async 'payment.invoice' (a) {
      const book = bookOf(a)
      await waitFor(book, paidFor(a.kind), a.ref, a.timeoutMs)
      return await act(book, { type: 'payment/invoice', kind: a.kind, ref: a.ref, invoice: a.invoice }, a.ref)
    },
    async 'clock.witness' (a) {
      const book = bookOf(a)
      const [{ op, audit }] = await book.act([{ type: 'clock/witness' }])
      if (audit.status !== 'accepted') throw GrowrError.OP_REJECTED(`clock/witness rejected: ${audit.reason}`)
      return { opId: op.opId, status: 'accepted' as const, ts: op.ts }
    },
    async 'loan.show' (a) {
      const loan = await waitFor(bookOf(a), 'loans', a.loan, a.timeoutMs)
      return { ...loan, outstanding: outstanding(loan) }
    },
    async 'loan.list' (a) { return await bookOf(a).view.list('loans') },
    async 'loan.applications' (a) {
      const book = bookOf(a)
      const trusted = await book.view.trustedVerifiers()
      const out: Application[] = []
      for (const loan of await book.view.list('loans')) {
        if (loan.status !== 'applied') continue
        const project = await book.view.get('projects', loan.projectId)
        const now = Date.now()
        const stale = project ? await attestationAtApproval(loan, project, b4a.toString(book.key, 'hex'), now) : null
        const judged = !project
          ? { ok: false as const, reason: `no project ${loan.projectId}` }
          : stale ? { ok: false as const, reason: stale } : approveLoan(loan, project, trusted, now)
        const e = loan.eligibility
        const blocker = judged.ok
          ? null
          : e && !trusted.includes(e.verifier)
            ? `attestation from an untrusted verifier ${e.verifier}: approval will be refused`
            : judged.reason
        out.push({ ...loan, approvable: judged.ok, approvalBlocker: blocker })
      }
      return out
    },
    async 'member.list' (a) { return await bookOf(a).view.list('members') },
    async 'funding.list' (a) { return await bookOf(a).view.list('fundings') },
    async 'payment.list' (a) { return await bookOf(a).view.list('payments') },
    async 'distribution.list' (a) { return await bookOf(a).view.list('distributions') },
    async 'payment.record' (a) {
      const book = bookOf(a)
      const target = await waitFor(book, paidFor(a.kind), a.ref, a.timeoutMs) as { amount: number; currency: string; projectId: string; entitled?: number; distributed?: number }
      const value = a.amount ?? await expectedAmount(book, a.kind, target)
      const paymentId = book.newId()
      const acted = await act(book, { type: 'payment/record', paymentId, kind: a.kind, ref: a.ref, amount: amount(value), currency: target.currency, rail: 'manual', reference: a.reference ?? '' }, paymentId)
      return { ...acted, amount: value as number }
    },
    async 'payment.confirm' (a) {
      const book = bookOf(a)
      await waitFor(book, 'payments', a.payment, a.timeoutMs)
      return await act(book, { type: 'payment/confirm', paymentId: a.payment }, a.payment)
    },
    async 'loan.repay' (a) {
      const book = bookOf(a)
      const loan = await waitFor(book, 'loans', a.loan, a.timeoutMs, 'disbursed')
      const next = loan.schedule.find((i) => i.principalPaid + i.interestPaid < i.total)
      if (!next) throw GrowrError.BAD_ARGUMENT('nothing is owed on this loan')
      const due = next.total - next.principalPaid - next.interestPaid
      const value = Math.min(due, outstanding(loan) - loan.pendingRepayment)
      const paymentId = book.newId()
      const acted = await act(book, { type: 'payment/record', paymentId, kind: 'repayment', ref: a.loan, amount: amount(value, 'repayment'), currency: loan.currency, rail: 'manual', reference: a.reference ?? `instalment ${next.n}` }, paymentId)
      return { ...acted, amount: value, instalment: next.n }
    },
    async distribute (a) {
      const book = bookOf(a)
      const owed = (await book.view.list('fundings')).filter((f) => f.entitled > f.distributed)
      if (owed.length === 0) return []
      const inputs: OpInput[] = owed.map((f) => ({ type: 'payment/record', paymentId: book.newId(), kind: 'distribution', ref: f.fundingId, amount: f.entitled - f.distributed, currency: f.currency, rail: 'manual', reference: 'repayment distribution' }))
      const results = await book.act(inputs)
      return results.map((r, i) => {
        if (r.audit.status !== 'accepted') throw GrowrError.OP_REJECTED(`distribution rejected: ${r.audit.reason}`)
        const op = r.op as Extract<typeof r.op, { type: 'payment/record' }>
        return { id: op.paymentId, opId: op.opId, status: 'accepted' as const, funding: owed[i].fundingId, amount: op.amount }
      })
    },
    async wait (a) { return await waitFor(bookOf(a), a.sub, a.id, a.timeoutMs, a.status) },
    async 'trust.set' (a) {
      const book = bookOf(a)
      if (!isDidKey(a.did)) throw GrowrError.BAD_ARGUMENT(`--did must be a did:key, not ${String(a.did).slice(0, 60)}`)
      const trusted = a.trusted ?? true
      let input: OpInput
      if (a.kind === 'issuer') {
        if (!isCredentialType(a.type)) throw GrowrError.BAD_ARGUMENT(`--type must be a credential type: ${String(a.type)}`)
        input = { type: 'trust/issuer', credentialType: a.type, issuer: a.did, trusted }
      } else if (a.kind === 'verifier') {
        input = { type: 'trust/verifier', verifier: a.did, trusted }
      } else if (a.kind === 'governance') {
        if (!isCredentialType(a.type)) throw GrowrError.BAD_ARGUMENT(`--type must be a credential type: ${String(a.type)}`)
        input = { type: 'trust/governance', credentialType: a.type, governance: a.did, trusted }
      } else {
        throw GrowrError.BAD_ARGUMENT('--kind must be issuer, verifier or governance')
      }
      const { opId } = await act(book, input, '')
      return { opId, status: 'accepted' as const }
    },
    async 'trust.list' (a) {
      const book = bookOf(a)
      return { issuers: await book.view.trustedIssuers(), verifiers: await book.view.trustedVerifiers(), governance: await book.view.trustedGovernance() }
    },
    async 'nostr.keys' (a) { return await bookOf(a).view.nostrKeys() },
    async 'nostr.bind' (a) {
      const book = bookOf(a)
      const meta = await book.view.meta()
      if (!meta || meta.originator !== book.signerDid) throw GrowrError.BAD_ARGUMENT('only the book\'s originator records the Nostr keys that speak for it')
      const active = a.active ?? true
      if (typeof active !== 'boolean') throw GrowrError.BAD_ARGUMENT('active must be true or false')
      let scope: NostrScope = { kind: 'organization' }
      if (a.project !== undefined) {
        await waitFor(book, 'projects', a.project, a.timeoutMs)
        scope = { kind: 'project', book: b4a.toString(book.key, 'hex'), project: a.project }
      }
      await services.ready()
      if (!services.keys) throw GrowrError.NOT_FOUND('this node has no wallet keys to derive its Nostr keys from')
      nostrSigner ??= new NostrSigner(services.keys)
      const pubkey = await nostrSigner.publicKey(scope)
      const scopeName = scope.kind === 'organization' ? 'organization' : scope.project
      // a publisher binds before it publishes: an op only when the book does not say so already
      if ((await book.view.nostrKeys()).some((r) => r.pubkey === pubkey && r.scope === scopeName && r.active === active)) return { opId: null, pubkey, scope: scopeName, active }
      const input = await bindingOp(nostrSigner, { key: book.key, originator: meta.originator }, scope, active)
      const { opId } = await act(book, input, '')
      return { opId, pubkey, scope: scopeName, active }
    },
    async 'vc.issue' (a) {
      await services.ready()
      return await issuing().issue(a)
    },
    async 'vc.enroll' (a) {
      await services.ready()
      await issuing().enroll(a.subject, a.type, a.claims, a.validUntil)
      // a new credential type changes what this node's ad offers
      services.ads?.publish().catch(() => {})
      return { subject: a.subject, type: a.type }
    },
    async 'vc.unenroll' (a) {
      await services.ready()
      return await issuing().unenroll(a.subject, a.type)
    },
    async 'vc.enrolled' () {
      await services.ready()
      return await issuing().enrolled()
    },
    async 'vc.request' (a) {
      await services.ready()
      if (!isDidKey(a.issuer)) throw GrowrError.BAD_ARGUMENT(`--issuer must be the issuer's did:key, not ${String(a.issuer).slice(0, 60)}`)
      if (!isCredentialType(a.type)) throw GrowrError.BAD_ARGUMENT(`--type must be a credential type: ${String(a.type)}`)
      return await services.holder.request(a.issuer, a.type as CredentialType, a.timeoutMs)
    },
    async 'vc.import' ({ credential }) {
      await services.ready()
      const me = (node.identity as Identity).did
      const r = await verifyCredential(credential, { now: Date.now(), expectedSubject: me })
      if (!r.verified) throw GrowrError.BAD_ARGUMENT(`not imported: ${r.problems.map((p) => p.message).join('; ')}`)
      await wallet().add(credential as VerifiableCredential)
      return summarize(credential as VerifiableCredential)
    },
    async 'vc.list' () {
      await services.ready()
      return wallet().list().map((vc) => summarize(vc as VerifiableCredential))
    },
    async 'vc.show' ({ id }) {
      await services.ready()
      const vc = wallet().get(id)
      if (!vc) throw GrowrError.NOT_FOUND(`no credential ${id} in this SSCR`)
      return vc as VerifiableCredential
    },
    async 'vc.verify' (a) {
      await services.ready()
      return await verifyCredential(a.credential, {
        now: Date.now(),
        verificationKey: a.verificationKey,
        trustedIssuers: await trustedIssuersOf(a.book),
        checkStatus: services.resolver?.check
      })
    },
    async 'vc.revoke' ({ id }) {
      await services.ready()
      return await issuing().revoke(id)
    },
    async 'vc.issued' () {
      await services.ready()
      return await issuing().issued()
    },
    async 'vp.create' (a) {
      await services.ready()
      const all = wallet().list() as VerifiableCredential[]
      const credentials = a.ids ? a.ids.map((id) => all.find((vc) => vc.id === id) ?? notFound(id)) : wallet().select(a.types ?? [], Date.now()) as VerifiableCredential[]
      if (typeof a.challenge !== 'string' || typeof a.domain !== 'string' || !a.challenge || !a.domain) throw GrowrError.BAD_ARGUMENT('a presentation needs the verifier\'s --challenge and --domain')
      return createPresentation({ holder: node.identity as Identity, credentials, challenge: a.challenge, domain: a.domain, now: Date.now() })
    },
    async 'vp.verify' (a) {
      await services.ready()
      return await verifyPresentation(a.presentation, {
        challenge: a.challenge,
        domain: a.domain,
        now: Date.now(),
        trustedIssuers: await trustedIssuersOf(a.book),
        checkStatus: services.resolver?.check
      })
    },
    async 'eligibility.check' (a) {
      const book = bookOf(a)
      await waitFor(book, 'projects', a.project, a.timeoutMs)
      return await services.holder.prove(book, a.project, a.timeoutMs)
    },
    async 'backup.create' ({ passphrase }) {
      await services.ready()
      if (typeof passphrase !== 'string' || passphrase.length < 8) throw GrowrError.BAD_ARGUMENT('a backup needs a passphrase of at least 8 characters')
      const credentials = wallet().list()
      const bytes = createBackup({ identity: node.identity as Identity, credentials, mnemonic: keys().exportMnemonic(), passphrase })
      return { backup: b4a.toString(bytes, 'base64'), credentials: credentials.length }
    },
    async 'wallet.show' (a) {
      await services.ready()
      const network = a.network ?? 'regtest'
      const chainId = a.chainId ?? 33
      const btc = keys().bitcoin(network)
      const first = btc.receive(0)
      const rsk = keys().rootstock(chainId)
      return {
        bitcoin: { network: btc.network.name, path: btc.path, xpub: btc.xpub, zpub: btc.zpub, firstReceive: { address: first.address, path: first.path, index: first.index } },
        rootstock: { chainId: rsk.chainId, path: rsk.path, xpub: rsk.xpub, address: rsk.address(0).address }
      }
    },
    async 'wallet.receive' (a) {
      await services.ready()
      if (typeof a.network !== 'string') throw GrowrError.BAD_ARGUMENT('--network is required (mainnet, testnet, signet or regtest)')
      if (a.ref !== undefined && a.index !== undefined) throw GrowrError.BAD_ARGUMENT('give --ref or --index, not both')
      const index = a.ref !== undefined ? receiveIndexFor(a.ref) : (a.index ?? 0)
      const r = keys().bitcoin(a.network).receive(index)
      return { address: r.address, path: r.path, index: r.index }
    },
    async 'wallet.balance' () {
      await services.ready()
      if (services.bitcoin === null && services.rootstock !== null) throw GrowrError.BAD_ARGUMENT('this node has no Bitcoin backend, only a Rootstock one: ask wallet.balance.rootstock (`growr wallet balance` shows it)')
      const btc = (await bitcoin()).balance()
      return services.rootstock === null ? btc : { ...btc, rootstock: await (await rootstock()).balance() }
    },
    async 'wallet.balance.rootstock' () {
      return await (await rootstock()).balance()
    },
    async 'wallet.send' (a) {
      const rail = await bitcoin()
      if (!Array.isArray(a.to) || a.to.length === 0) throw GrowrError.BAD_ARGUMENT('give at least one --to address and --amount')
      const outputs = a.to.map((o) => ({ address: rail.normalize(o?.address), amount: sats(o?.amount) }))
      const r = await rail.pay(outputs, { feeRate: a.feeRate === undefined ? undefined : BigInt(amount(a.feeRate, 'feeRate')) })
      return { txid: r.txid, fee: r.fee.toString(), vsize: r.vsize }
    },
    async 'payment.pay' (a) {
      await services.ready()
      const book = bookOf(a)
      if (a.kind === 'distribution' && a.ref === undefined) {
        if (services.rootstock !== null && await owedOnRootstock(book, services.rootstock.chainId)) return await distributeOnRootstock(await rootstock(), book)
        return await distributeOnChain(await bitcoin(), book, a.feeRate)
      }
      if (typeof a.ref !== 'string') throw GrowrError.BAD_ARGUMENT('--ref <funding or loan id> is required (only a distribution to every investor goes without)')
      const target = await waitFor(book, paidFor(a.kind), a.ref, a.timeoutMs) as Funding | Loan
      const project = await book.view.get('projects', target.projectId)
      if (project?.rail?.rail === 'rootstock') return await payOnRootstock(book, a.kind, a.ref, target, project as Project & { rail: Extract<Project['rail'], { rail: 'rootstock' }> }, a.amount)
      const rail = await bitcoin()
      if (project?.rail?.rail !== 'bitcoin') throw GrowrError.BAD_ARGUMENT(`this project is paid ${project?.rail ? 'on ' + project.rail.rail : 'by hand (manual rail)'}, not on Bitcoin: nothing to pay from the wallet`)
      if (project.rail.network !== rail.network) throw GrowrError.BAD_ARGUMENT(`this project pays on ${project.rail.network}; this node's Bitcoin backend follows ${rail.network}`)
      const meta = await book.view.meta()
      const payer = a.kind === 'funding' ? (target as Funding).investor : a.kind === 'repayment' ? (target as Loan).borrower : meta?.originator
      if (payer !== node.did) throw GrowrError.BAD_ARGUMENT(`a ${a.kind} is paid by ${a.kind === 'funding' ? 'the investor who committed it' : a.kind === 'repayment' ? 'the borrower' : 'the originator'} (${String(payer)}), not by this node`)
      const posted = await book.view.get('addresses', `${a.kind}/${a.ref}`)
      if (posted === null || typeof posted !== 'object' || !('address' in posted)) throw GrowrError.NOT_FOUND(`the payee has not posted a ${a.kind} address for ${a.ref} yet: nothing to pay to (they run \`growr payment address --kind ${a.kind} --ref ${a.ref}\`)`)
      const due = await dueOnChain(book, a.kind, target, project.terms.disbursementFee)
      const value = a.amount === undefined ? due.amount : amount(a.amount)
      if (value > due.amount) throw GrowrError.BAD_ARGUMENT(`${value} sats is more than the ${due.amount} owed: the book would not count it`)
      const r = await rail.pay([{ address: posted.address, amount: BigInt(value) }], { ref: `${book.topic}:${a.kind}:${a.ref}:${due.key}:${value}` })
      return { txid: r.txid, address: posted.address, amount: String(value), fee: r.fee.toString(), reused: r.reused, outputs: [{ kind: a.kind, ref: a.ref, address: posted.address, amount: String(value) }], skipped: [] }
    },
    async 'market.query' (a) {
      const q = a ?? {}
      if (q.service !== undefined && !SERVICE_NAMES.includes(q.service)) throw GrowrError.BAD_ARGUMENT(`service must be one of ${SERVICE_NAMES.join(', ')}, not ${String(q.service).slice(0, 40)}`)
      return (await market()).directory.query({ service: q.service, role: q.role, credentialType: q.credentialType })
    },
    async 'market.projects' () { return (await market()).directory.projects() },
    async 'pubsub.topics' () { return services.pubsub?.topics() ?? [] },
    async 'market.join' (a) {
      const { topic, timeoutMs } = a
      if (typeof topic !== 'string' || !topic) throw GrowrError.BAD_ARGUMENT('a book topic key is required')
      const ads = await market()
      const hex = b4a.toString(parseTopic(topic), 'hex')
      const listed = ads.directory.fresh().find((e) => e.ad.books.some((b) => b4a.toString(parseTopic(b.topic), 'hex') === hex))
      if (!listed) throw GrowrError.NOT_FOUND(`no fresh ad lists book ${topic}: follow it by its key with book.join`)
      const book = await node.joinBook(topic)
      // the ad's word for who runs the book is checked against the book itself once it replicates
      const originator = await book.until(async () => (await book.view.meta()) !== null, timeoutMs ?? 10_000, 'the book\'s record')
        .then(async () => (await book.view.meta())?.originator ?? null, () => null)
      const shown = { topic: book.topic, listedBy: listed.ad.did, originator, listerIsOriginator: originator === listed.ad.did, organization: listed.organization, certified: listed.certified }
      if (a.role === undefined || book.writable) return { ...shown, admitted: book.writable }
      if (a.role !== 'borrower' && a.role !== 'investor') throw GrowrError.BAD_ARGUMENT('role must be borrower or investor')
      if (originator === null) throw GrowrError.TIMEOUT('the book has not arrived yet: its originator is unknown, so there is nobody to ask for admission')
      const rpc = services.rpc
      if (!rpc) throw GrowrError.BAD_ARGUMENT('this node has no peer connection service')
      const wait = timeoutMs ?? 30_000
      if (!rpc.peers().includes(originator as DidKey)) await rpc.connect(originator as DidKey, { timeoutMs: wait })
      await rpc.request(originator as DidKey, ADMIT_METHOD, admitRequest(node.identity as Identity, book, a.role), { timeoutMs: wait })
      await book.until(async () => book.writable, wait, 'the originator admitted this node but the book has not made it a writer yet')
      return { ...shown, admitted: true }
    },
    async 'payment.tracked' () {
      await services.ready()
      if (services.bitcoin === null && services.rootstock !== null) return (await rootstock()).tracked()
      const btc: Array<TrackedTx | RootstockTrackedTx> = (await bitcoin()).tracked()
      return services.rootstock === null ? btc : [...btc, ...(await rootstock()).tracked()]
    },
    async 'receipt.export' (a) {
      const book = bookOf(a)
      await waitFor(book, 'payments', a.payment, a.timeoutMs)
      const bytes = await buildReceipt(book, a.payment)
      return { receipt: b4a.toString(bytes, 'base64'), receiptHash: receiptHash(bytes) }
    },
    async 'receipt.verify' (a) {
      const bytes = receiptBytes(a.receipt)
      // a receipt names its book after its version byte; a caller who knows the book says which
      const bookKey = a.book !== undefined ? parseTopic(a.book) : bytes.subarray(1, 33)
      return { ...verifyReceipt(bytes, bookKey), bookKey: b4a.toString(bookKey, 'hex') }
    },
    async 'receipt.validate' (a) {
      await services.ready()
      if (!services.rpc) throw GrowrError.BAD_ARGUMENT('this node has no peer connection service')
      const bytes = receiptBytes(a.receipt)
      // the peers that replicate the book are its members: asked whether connected now or not;
      // a receipt of a book this node does not follow goes to every connected peer
      const book = node.findBook(b4a.toString(bytes.subarray(1, 33), 'hex'))
      const members = book ? (await book.view.list('members')).filter((m) => !m.removed).map((m) => m.did) : undefined
      return await validateReceipt(services.rpc, bytes, { peers: members, deadlineMs: a.deadlineMs, quorum: a.quorum, self: node.did as DidKey })
    },
    ...createNetworkHandlers(node, services),
    ...createExposureHandlers(node, services),
    ...createNostrHandlers(node, services),
    ...createTrustlineHandlers(node, services)
  }

  /** A receipt's bytes from base64, bounded. */
  function receiptBytes (receipt: unknown): Uint8Array {
    if (typeof receipt !== 'string' || receipt.length === 0 || receipt.length > 1_000_000 || !/^[A-Za-z0-9+/]+=*$/.test(receipt)) throw GrowrError.BAD_ARGUMENT('a receipt is base64 bytes (growr receipt export)')
    return b4a.from(receipt, 'base64')
  }

  /** The node's ad service, or why there is none. */
  async function market (): Promise<NonNullable<Services['ads']>> {
    await services.ready()
    if (!services.ads) throw GrowrError.BAD_ARGUMENT('this node runs without the marketplace (ads are off)')
    return services.ads
  }

  /** The node's Rootstock rail, or why there is none. */
  async function rootstock (): Promise<RootstockRail> {
    await services.ready()
    if (services.rootstock === null) throw GrowrError.BAD_ARGUMENT('this node has no Rootstock backend: start it with `growr start --rootstock-rpc URL --rootstock-chain-id N`')
    await services.rootstock.ready()
    return services.rootstock
  }

  /** Who pays a payment of `kind` for `target`: the investor (funding), the borrower (repayment), the originator (the rest). */
  async function payerFor (book: Book, kind: PaymentKind, target: Funding | Loan): Promise<string | undefined> {
    // a zap's funding has no investor in the book (null): nobody pays it from a wallet
    return kind === 'funding' ? (target as Funding).investor ?? undefined : kind === 'repayment' ? (target as Loan).borrower : (await book.view.meta())?.originator
  }

  /**
   * Pays one record's posted Rootstock address from the wallet: minor units x 10^unitExponent of
   * RBTC or the project's token; never twice for the same amount due (the reference changes
   * only once the book counts the payment).
   */
  async function payOnRootstock (book: Book, kind: PaymentKind, ref: string, target: Funding | Loan, project: Project & { rail: Extract<Project['rail'], { rail: 'rootstock' }> }, asked?: number): Promise<PayOutcome> {
    const rail = await rootstock()
    if (project.rail.chainId !== rail.chainId) throw GrowrError.BAD_ARGUMENT(`this project pays on Rootstock chain id ${project.rail.chainId}; this node's Rootstock backend is configured for chain id ${rail.chainId}`)
    const payer = await payerFor(book, kind, target)
    if (payer !== node.did) throw GrowrError.BAD_ARGUMENT(`a ${kind} is paid by ${kind === 'funding' ? 'the investor who committed it' : kind === 'repayment' ? 'the borrower' : 'the originator'} (${String(payer)}), not by this node`)
    const posted = await book.view.get('addresses', `${kind}/${ref}`)
    if (posted === null || typeof posted !== 'object' || !('address' in posted)) throw GrowrError.NOT_FOUND(`the payee has not posted a ${kind} address for ${ref} yet: nothing to pay to (they run \`growr payment address --kind ${kind} --ref ${ref}\`)`)
    const due = await dueOnChain(book, kind, target, project.terms.disbursementFee)
    const value = asked === undefined ? due.amount : amount(asked)
    if (value > due.amount) throw GrowrError.BAD_ARGUMENT(`${value} ${project.terms.currency} minor units is more than the ${due.amount} owed: the book would not count it`)
    const unit = 10n ** BigInt(project.rail.unitExponent)
    const r = await rail.pay({ to: posted.address, amount: BigInt(value) * unit, token: project.rail.token, ref: `${book.topic}:${kind}:${ref}:${due.key}:${value}`, required: project.rail.confirmations })
    return {
      txid: r.txHash, address: posted.address, amount: String(value), fee: r.fee.toString(), reused: r.reused,
      outputs: [{ kind, ref, address: posted.address, amount: String(value), txid: r.txHash }], skipped: [],
      rail: 'rootstock', baseUnits: r.amount.toString(), token: project.rail.token
    }
  }

  /** Whether `book` owes an investor of a Rootstock project on `chainId` anything. */
  async function owedOnRootstock (book: Book, chainId: number): Promise<boolean> {
    for (const f of await book.view.list('fundings')) {
      if (f.entitled <= f.distributed) continue
      const rail = (await book.view.get('projects', f.projectId))?.rail
      if (rail?.rail === 'rootstock' && rail.chainId === chainId) return true
    }
    return false
  }

  /** Pays every investor of the book's Rootstock projects on this chain what is owed, one transaction each. */
  async function distributeOnRootstock (rail: RootstockRail, book: Book): Promise<PayOutcome> {
    const meta = await book.view.meta()
    if (meta?.originator !== node.did) throw GrowrError.BAD_ARGUMENT('only the originator distributes to investors')
    const outputs: PayOutcome['outputs'] = []
    const skipped: PayOutcome['skipped'] = []
    let fee = 0n
    let base = 0n
    let total = 0
    const tokens = new Set<string | null>()
    for (const f of await book.view.list('fundings')) {
      const owed = f.entitled - f.distributed
      if (owed <= 0) continue
      const project = await book.view.get('projects', f.projectId)
      if (project?.rail?.rail !== 'rootstock' || project.rail.chainId !== rail.chainId) continue
      const posted = await book.view.get('addresses', `distribution/${f.fundingId}`)
      if (posted === null || typeof posted !== 'object' || !('address' in posted)) { skipped.push({ ref: f.fundingId, amount: String(owed), reason: 'the investor has not posted a distribution address' }); continue }
      // the reference holds what was distributed so far: a retry before the watcher proves it returns the same transaction
      const r = await rail.pay({ to: posted.address, amount: BigInt(owed) * 10n ** BigInt(project.rail.unitExponent), token: project.rail.token, ref: `${book.topic}:distribution:${f.fundingId}:${f.distributed}:${owed}`, required: project.rail.confirmations })
      outputs.push({ kind: 'distribution', ref: f.fundingId, address: posted.address, amount: String(owed), txid: r.txHash, reused: r.reused })
      fee += r.fee
      base += r.amount
      tokens.add(project.rail.token)
      total += owed
    }
    if (outputs.length === 0) throw GrowrError.BAD_ARGUMENT(skipped.length === 0 ? 'nothing is owed to investors on Rootstock' : `nothing to pay: ${skipped.length} investor(s) owed have not posted a distribution address`)
    return {
      txid: outputs[0].txid as string, address: outputs[0].address, amount: String(total), fee: fee.toString(), reused: outputs.every((o) => o.reused === true), outputs, skipped,
      // base units of different tokens do not add up: then baseUnits is left out
      rail: 'rootstock', ...(tokens.size === 1 ? { baseUnits: base.toString(), token: [...tokens][0] } : {}),
      note: `${outputs.length} transaction${outputs.length === 1 ? '' : 's'}: an EVM transaction pays one recipient, so each investor gets its own`
    }
  }

  /** The node's Bitcoin rail, or why there is none. */
  async function bitcoin (): Promise<BitcoinRail> {
    await services.ready()
    if (services.bitcoin === null) throw GrowrError.BAD_ARGUMENT('this node has no Bitcoin backend: start it with `growr start --bitcoin-rpc URL --bitcoin-network NAME` (password in GROWR_BITCOIN_RPC_PASSWORD)')
    await services.bitcoin.ready()
    return services.bitcoin
  }

  /** Sats from a decimal string or a safe integer, positive. */
  function sats (v: unknown): bigint {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return BigInt(v)
    if (typeof v === 'string' && /^[1-9][0-9]{0,15}$/.test(v)) return BigInt(v)
    throw GrowrError.BAD_ARGUMENT(`an amount is a positive whole number of sats, not ${String(v).slice(0, 40)}`)
  }

  /**
   * What this payment owes now, by the book's rules (books/payment/handlers.ts reservePayment),
   * and a key that changes once it is paid (so the payer's "never twice" holds per instalment).
   */
  async function dueOnChain (book: Book, kind: PaymentKind, target: Funding | Loan, fee: number): Promise<{ amount: number; key: string }> {
    if (kind === 'funding') {
      const f = target as Funding
      if (f.status !== 'committed' || f.paymentId !== null) throw GrowrError.BAD_ARGUMENT(`funding ${f.fundingId} is ${f.status === 'committed' ? 'already paid' : f.status}: nothing to pay`)
      return { amount: f.amount, key: 'all' }
    }
    if (kind === 'distribution') {
      const f = target as Funding
      const owed = f.entitled - f.distributed
      if (owed <= 0) throw GrowrError.BAD_ARGUMENT(`nothing is owed to the investor of funding ${f.fundingId}`)
      return { amount: owed, key: String(f.distributed) }
    }
    const loan = target as Loan
    if (kind === 'disbursement') {
      if (loan.status !== 'approved' || loan.disbursementPaymentId !== null) throw GrowrError.BAD_ARGUMENT(`loan ${loan.loanId} is ${loan.status}${loan.disbursementPaymentId !== null ? ', its disbursement recorded' : ''}: nothing to disburse`)
      return { amount: loan.amount - fee, key: 'all' }
    }
    if (loan.status !== 'disbursed') throw GrowrError.BAD_ARGUMENT(`loan ${loan.loanId} is ${loan.status}: nothing to repay`)
    const next = loan.schedule.find((i) => i.principalPaid + i.interestPaid < i.total)
    const owed = outstanding(loan) - loan.pendingRepayment
    if (!next || owed <= 0) throw GrowrError.BAD_ARGUMENT('nothing is owed on this loan')
    return { amount: Math.min(next.total - next.principalPaid - next.interestPaid, owed), key: `instalment-${next.n}-${outstanding(loan)}` }
  }

  /** Addresses (normalized) this wallet paid in transactions that may still confirm and that no payment in `book` counts yet, with the txid. */
  async function unprovenPayments (rail: BitcoinRail, book: Book): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for (const tx of rail.tracked()) {
      const st = tx.status.state
      if (st === 'abandoned' || st === 'dropped' || st === 'replaced') continue
      const counted = (await book.view.list('outpoints', { gte: `${tx.txid}:`, lt: `${tx.txid}:~` })).length > 0
      if (counted) continue
      for (const o of tx.outputs) out.set(rail.normalize(o.address), tx.txid)
    }
    return out
  }

  /** One transaction paying every investor of the book's Bitcoin projects on this network what is owed to it. */
  async function distributeOnChain (rail: BitcoinRail, book: Book, feeRate?: number): Promise<PayOutcome> {
    const meta = await book.view.meta()
    if (meta?.originator !== node.did) throw GrowrError.BAD_ARGUMENT('only the originator distributes to investors')
    const outputs: PayOutcome['outputs'] = []
    const skipped: PayOutcome['skipped'] = []
    const onTheirWay = await unprovenPayments(rail, book)
    for (const f of await book.view.list('fundings')) {
      const owed = f.entitled - f.distributed
      if (owed <= 0) continue
      const project = await book.view.get('projects', f.projectId)
      if (project?.rail?.rail !== 'bitcoin' || project.rail.network !== rail.network) continue
      const posted = await book.view.get('addresses', `distribution/${f.fundingId}`)
      if (posted === null || typeof posted !== 'object' || !('address' in posted)) { skipped.push({ ref: f.fundingId, amount: String(owed), reason: 'the investor has not posted a distribution address' }); continue }
      const earlier = onTheirWay.get(rail.normalize(posted.address))
      // a payment this wallet made to that address is not counted yet: paying the owed sum again would pay twice
      if (earlier !== undefined) { skipped.push({ ref: f.fundingId, amount: String(owed), reason: `transaction ${earlier} already pays its address and is not proven yet` }); continue }
      outputs.push({ kind: 'distribution', ref: f.fundingId, address: posted.address, amount: String(owed) })
    }
    if (outputs.length === 0) throw GrowrError.BAD_ARGUMENT(skipped.length === 0 ? 'nothing is owed to investors on Bitcoin' : `nothing to pay: ${skipped.length} investor(s) owed have not posted a distribution address`)
    const ref = refFor([book.topic, ...outputs.map((o) => `${o.ref}:${o.amount}`)])
    const r = await rail.pay(outputs.map((o) => ({ address: o.address, amount: BigInt(o.amount) })), { ref, feeRate: feeRate === undefined ? undefined : BigInt(amount(feeRate, 'feeRate')) })
    const total = outputs.reduce((n, o) => n + BigInt(o.amount), 0n)
    return { txid: r.txid, address: outputs[0].address, amount: total.toString(), fee: r.fee.toString(), reused: r.reused, outputs, skipped }
  }

  /**
   * @returns the sub holding what a payment of `kind` pays for: a funding (funding, distribution) or a loan
   * @throws BAD_ARGUMENT for an unknown kind
   */
  function paidFor (kind: PaymentKind): 'fundings' | 'loans' {
    if (kind === 'funding' || kind === 'distribution') return 'fundings'
    if (kind === 'disbursement' || kind === 'repayment') return 'loans'
    throw GrowrError.BAD_ARGUMENT(`--kind must be one of funding, disbursement, repayment, distribution, not ${String(kind)}`)
  }

  /**
   * The amount the book expects for a payment when the caller does not say: the whole funding,
   * the net disbursement, what is owed to the investor; undefined for a repayment (the caller says).
   */
  async function expectedAmount (book: Book, kind: PaymentKind, target: { amount: number; projectId: string; entitled?: number; distributed?: number }): Promise<number | undefined> {
    if (kind === 'funding') return target.amount
    if (kind === 'disbursement') return target.amount - ((await book.view.get('projects', target.projectId))?.terms.disbursementFee ?? 0)
    if (kind === 'distribution') return (target.entitled ?? 0) - (target.distributed ?? 0)
    return undefined
  }

  /** The issuers a book accepts per credential type, as a verifier option; undefined without a book. */
  async function trustedIssuersOf (book?: string): Promise<((type: string, issuer: string) => boolean) | undefined> {
    return book ? await bookOf({ book }).view.issuerTrust() : undefined
  }

  function wallet () { return services.wallet as NonNullable<Services['wallet']> }
  function keys () { return services.keys as NonNullable<Services['keys']> }
  function issuing () { return services.issuing as NonNullable<Services['issuing']> }
}

function notFound (id: string): never { throw GrowrError.NOT_FOUND(`no credential ${id} in this SSCR`) }

function summarize (vc: VerifiableCredential): CredentialSummary {
  const issuer = typeof vc.issuer === 'string' ? vc.issuer : String((vc.issuer as { id?: unknown }).id)
  return { id: vc.id, type: credentialTypeOf(vc) ?? vc.type.filter((t) => t !== 'VerifiableCredential').join(','), issuer, validFrom: vc.validFrom, validUntil: vc.validUntil ?? null }
}
