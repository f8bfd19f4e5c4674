/**
 * The records a lending book's view holds, one interface per sub-database.
 * Amounts are integer minor units in the record's currency; timestamps are ms since epoch
 * taken from the op that made the change (never from a local clock).
 */
import type { DidKey } from '../core/identity/did-key.ts'
import type { Instalment } from './schedule.ts'
import type { BitcoinNetwork, PaymentKind, ProjectTerms, Role } from './ops/types.ts'

export interface BookMeta { name: string; originator: DidKey; createdAt: number; bootstrap: string }

export interface Member { did: DidKey; role: Role; writerKeys: string[]; addedAt: number; removed: boolean }

export type ProjectStatus = 'draft' | 'active' | 'inactive' | 'closed'
export interface Project {
  projectId: string
  terms: ProjectTerms
  status: ProjectStatus
  createdAt: number
  updatedAt: number
  /** when the originator last changed the project's status (its own signed time): a floor for ops on it */
  statusAt: number
  /** sum of funding commitments not yet confirmed plus confirmed ones */
  committed: number
  /** sum of confirmed fundings: the most the project may ever disburse */
  confirmedFunding: number
  /** principal of every loan whose disbursement was recorded */
  disbursed: number
  /** fundings whose payment is confirmed, in confirmation order (the pro-rata base) */
  fundingIds: string[]
  /** how money moves: null for the manual rail (payer records, payee confirms) */
  rail: ProjectRail | null
  /** where the project's listing is zapped (NIP-57), set by the originator; absent: zaps do not fund it */
  zap?: ZapSettings
}

/**
 * A project's NIP-57 settings: the LUD-16 address zaps are paid through, the LNURL server's
 * `nostrPubkey` (as its LNURL-pay endpoint announces it; the originator's node resolves it, apply
 * never does), the NIP-99 listing's address `30402:<pubkey>:<d>` and the pubkey zaps go to (hex).
 */
export interface ZapSettings { lud16: string; serverPubkey: string; listing: string; recipient: string; at: number }

/**
 * What a funding made by a zap keeps of it: the zapper's Nostr pubkey (the zapper is no member
 * and has no DID here), the receipt and its invoice's payment hash (each counts once), the
 * invoice's exact amount (msat, decimal: the funding counts the whole sats of it) and the
 * zapper's comment.
 */
export interface ZapFunding { zapper: string; receiptId: string; requestId: string; paymentHash: string; amountMsat: string; server: string; comment: string }

/**
 * A project paid in BTC: on Bitcoin (payments proven by transaction, inclusion proof and headers)
 * or on Lightning (payments proven by the preimage of an invoice the payee posted). Either way a
 * payment is confirmed by its proof, not by the payee's word.
 */
/**
 * How a BTC project's money moves. Bitcoin: proofs need `confirmations` headers and, when set
 * (always on mainnet), `minWork` (decimal): the least total work of the block and its following
 * headers.
 */
export type BitcoinRail = { rail: 'bitcoin'; network: BitcoinNetwork; confirmations: number; minWork?: string } | { rail: 'lightning'; network: BitcoinNetwork }

/**
 * How a Rootstock project's money moves: native RBTC (`token` null) or an ERC-20 token, on chain
 * `chainId` (30 mainnet, 31 testnet, 33 a local dev chain). One minor unit of the project's
 * currency is 10^unitExponent base units on chain (wei, or the token's smallest unit): RBTC with
 * exponent 10 counts in units of 10^-8 RBTC, like sats, so book amounts stay exact safe integers
 * while the chain compares exact bigints. `confirmations` is how deep the payee's node waits
 * before it confirms: Rootstock's merge-mined work is not checked in the book, so a proof alone
 * never confirms a payment there (books/payment/rail-handlers.ts).
 */
export interface RootstockRail { rail: 'rootstock'; chainId: number; token: string | null; unitExponent: number; confirmations: number }

/** A project's rail. */
export type ProjectRail = BitcoinRail | RootstockRail

/** A BOLT 11 invoice a payee posted for one payment of one funding or loan. */
export interface PostedInvoice { kind: PaymentKind; ref: string; invoice: string; paymentHash: string; amountMsat: string; payee: DidKey; nodeKey: string; at: number }

/** A payee's receiving address for one kind of payment of one funding or loan: set once, never reused. */
export interface ReceivingAddress { kind: PaymentKind; ref: string; address: string; payee: DidKey; at: number }

export type LoanStatus = 'applied' | 'withdrawn' | 'approved' | 'rejected' | 'cancelled' | 'disbursed' | 'repaid' | 'defaulted'
export interface InstalmentState extends Instalment { principalPaid: number; interestPaid: number }
export interface Loan {
  loanId: string
  projectId: string
  borrower: DidKey
  amount: number
  currency: string
  months: number
  purpose: string
  status: LoanStatus
  appliedAt: number
  updatedAt: number
  reason: string | null
  schedule: InstalmentState[]
  /** repayments recorded but not yet confirmed, so two cannot together overpay */
  pendingRepayment: number
  disbursementPaymentId: string | null
  /** the verifier's signed decision the application carried; null when the project has no criteria */
  eligibility: LoanEligibility | null
}

/**
 * What a loan record keeps of its eligibility attestation: the decision and the criteria that
 * failed, never the applicant's claims. `attestation` is the signed credential itself, so any
 * peer can check it again.
 */
export interface LoanEligibility {
  verifier: DidKey
  eligible: boolean
  reasons: string[]
  presentationHash: string
  attestation: Record<string, unknown>
}

/**
 * An originator's trust decision. Kind 'issuer': `did` is trusted for `credentialType`;
 * 'verifier': its eligibility attestations count; 'governance': issuers of `credentialType`
 * certified through `did` (a governance DID of the marketplace network) count, as long as their
 * certificate chains hold when a verifier uses them.
 */
export interface TrustRecord {
  kind: 'issuer' | 'verifier' | 'governance'
  did: DidKey
  credentialType: string | null
  trusted: boolean
  updatedAt: number
}

/** A Nostr key the book records as speaking for it (defined with its checks in books/nostr/binding.ts). */
export type { NostrKeyRecord } from './nostr/binding.ts'

export type FundingStatus = 'committed' | 'confirmed' | 'cancelled'
export interface Funding {
  fundingId: string
  projectId: string
  /** the member who committed it; null for a zap, whose zapper is no member (see `zap`) */
  investor: DidKey | null
  amount: number
  currency: string
  status: FundingStatus
  committedAt: number
  paymentId: string | null
  /** sum of repayment shares owed to this investor so far */
  entitled: number
  /** sum of distribution payments recorded to this investor (confirmed or not) */
  distributed: number
  /** why it was cancelled, and by whom (investor or originator) */
  reason: string | null
  /** set when a NIP-57 zap made this funding (books/funding/zap-handlers.ts) */
  zap?: ZapFunding
}

/** recorded -> confirmed | disputed | cancelled;  disputed -> confirmed | cancelled */
export type PaymentStatus = 'recorded' | 'disputed' | 'confirmed' | 'cancelled' | 'reorged'
export interface Payment {
  paymentId: string
  kind: PaymentKind
  ref: string
  amount: number
  currency: string
  rail: 'manual' | 'bitcoin' | 'lightning' | 'rootstock'
  reference: string
  /**
   * who paid; for a zap (`proof` a ZapPaymentRecord) the originator, who received the zap and
   * answers for it in the book: the zapper is no member (the funding names its Nostr pubkey)
   */
  payer: DidKey
  payee: DidKey
  status: PaymentStatus
  recordedAt: number
  confirmedAt: number | null
  /** the payee's dispute or the payer's cancellation, in their words */
  reason: string | null
  /** when it was disputed or cancelled */
  resolvedAt: number | null
  /**
   * for a proven payment: the transaction, its outputs to the payee, its block and the block
   * before it (display-order hex), and the work of the block and its following headers (decimal)
   * that a conflicting branch must outweigh
   */
  proof?: BitcoinPaymentRecord | RootstockPaymentRecord | { paymentHash: string; invoice: string } | ZapPaymentRecord | null
}

/**
 * What the book keeps of a zap's payment: the invoice and its payment hash, the receipt and the
 * LNURL server that signed it, and whether a preimage was handed in (`preimage`: the payment was
 * confirmed by it) or the server's receipt is all there is (it waits for the payee's confirmation).
 */
export interface ZapPaymentRecord { paymentHash: string; invoice: string; receiptId: string; server: string; preimage: boolean }

/** What the book keeps of a Bitcoin payment proof. */
export interface BitcoinPaymentRecord { txid: string; vouts: number[]; blockHash: string; prevHash: string; work: string; confirmations: number }

/** What the book keeps of a Rootstock payment proof: the transaction, its block, the payer the signature names, what reached the payee (base units, decimal). */
export interface RootstockPaymentRecord { txHash: string; blockHash: string; blockNumber: number; chainId: number; from: string; token: string | null; amount: string }

/** An investor's pro-rata share of one confirmed repayment. */
export interface Distribution {
  paymentId: string; loanId: string; fundingId: string; investor: DidKey | null; amount: number; currency: string; at: number
  /** when the repayment behind this share was reorganised out of the chain: the share no longer counts */
  reversedAt?: number
}

/**
 * The latest time each side of the book has vouched for: the greatest `ts` of an accepted op
 * signed by the originator, and by any borrower or investor (books/clock.ts).
 */
export interface BookClock { originator: number; members: number }

export interface AuditEntry {
  seq: number
  opId: string | null
  type: string | null
  signer: string | null
  writer: string
  ts: number | null
  status: 'accepted' | 'rejected'
  reason: string | null
}
