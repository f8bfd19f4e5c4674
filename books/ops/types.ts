/**
 * The lending book's ops, version 1: one discriminated union keyed by `type`.
 * Every op carries its own id, timestamp (ms since epoch, chosen by the signer) and
 * signer DID, so apply needs no clock and no randomness. An op is identified by (signer, opId);
 * the record ids an op creates are scoped to its signer (books/ids.ts). How far a timestamp is
 * believed is books/clock.ts's business.
 * Money fields are integer minor units (cents, sats) with a currency or asset code.
 */
import type { DidKey } from '../../core/identity/did-key.ts'
import type { InterestMethod } from '../schedule.ts'
import type { CredentialType } from '../../core/credentials/catalogue.ts'

export type Role = 'originator' | 'borrower' | 'investor'

/** The Bitcoin networks a book's rail can name (books/proofs/bitcoin-header.ts). */
export type BitcoinNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest'

/** What a payer hands in to prove a Bitcoin payment: raw tx, Bitcoin Core `gettxoutproof`, the headers after its block; all hex. */
export interface BitcoinProof { rawTx: string; txoutproof: string; headers: string[] }

/**
 * What a payer or payee hands in to prove a Rootstock payment (books/proofs/rootstock-receipt.ts):
 * the raw signed transaction, its receipt (RLP), the block header (RLP), the transaction's index
 * and the transactions- and receipts-trie proof nodes at rlp(index); all hex.
 */
export interface RootstockProof { rawTx: string; receipt: string; header: string; txIndex: number; txProof: string[]; receiptProof: string[] }

/** A NIP-57 zap receipt (kind 9735) as it travels in a `funding/zap` op: a NIP-01 event. */
export interface ZapReceiptEvent { id: string; pubkey: string; created_at: number; kind: number; tags: string[][]; content: string; sig: string }

/** What a payer hands in to prove a Lightning payment: the invoice the payee posted and the preimage its wallet returned (hex). */
export interface LightningProof { invoice: string; preimage: string }
export type PaymentKind = 'funding' | 'disbursement' | 'repayment' | 'distribution'

/** Lending terms of a project (Growr reference fields). Durations in months, gracePeriod in days. */
export interface ProjectTerms {
  name: string
  description: string
  amount: number
  currency: string
  startDate: string
  endDate: string
  loanMinAmount: number
  loanMaxAmount: number
  loanMinDuration: number
  loanMaxDuration: number
  annualRateBps: number
  interestMethod: InterestMethod
  disbursementFee: number
  gracePeriod: number
  eligibility: EligibilityRule[]
  isPublic: boolean
  isInviteOnly: boolean
}

/** A json-rules-engine rule, stored as given; evaluated by the verification service. */
export interface EligibilityRule { conditions: Record<string, unknown>; event: Record<string, unknown>; name?: string; priority?: number }

interface OpBase { opId: string; ts: number; signer: DidKey }

export type Op = OpBase & (
  | { type: 'book/create'; name: string }
  | { type: 'device/add'; writerKey: string }
  | { type: 'member/add'; member: DidKey; role: Exclude<Role, 'originator'>; writerKey: string }
  | { type: 'member/remove'; member: DidKey }
  | { type: 'project/create'; projectId: string; terms: ProjectTerms }
  | { type: 'project/update'; projectId: string; changes: Partial<ProjectTerms> }
  | { type: 'project/activate' | 'project/deactivate' | 'project/close'; projectId: string }
  | { type: 'funding/commit'; fundingId: string; projectId: string; amount: number; currency: string }
  | { type: 'loan/apply'; loanId: string; projectId: string; amount: number; currency: string; months: number; purpose: string; attestation?: Record<string, unknown> }
  | { type: 'loan/withdraw'; loanId: string }
  | { type: 'loan/approve'; loanId: string }
  | { type: 'loan/reject'; loanId: string; reason: string }
  | { type: 'loan/default'; loanId: string }
  | { type: 'loan/cancel'; loanId: string; reason: string }
  | { type: 'funding/cancel'; fundingId: string; reason: string }
  | { type: 'payment/record'; paymentId: string; kind: PaymentKind; ref: string; amount: number; currency: string; rail: 'manual'; reference: string }
  | { type: 'payment/confirm'; paymentId: string }
  | { type: 'payment/dispute'; paymentId: string; reason: string }
  | { type: 'payment/cancel'; paymentId: string; reason: string }
  | { type: 'clock/witness' }
  | { type: 'project/rail'; projectId: string; rail: 'bitcoin' | 'lightning'; network: BitcoinNetwork; confirmations?: number; minWork?: string }
  | { type: 'project/rail-rootstock'; projectId: string; chainId: number; token: string | null; unitExponent: number; confirmations: number }
  | { type: 'payment/address'; kind: PaymentKind; ref: string; address: string }
  | { type: 'payment/prove'; paymentId: string; kind: PaymentKind; ref: string; amount: number; currency: string; rail: 'bitcoin'; proof: BitcoinProof }
  | { type: 'payment/prove'; paymentId: string; kind: PaymentKind; ref: string; amount: number; currency: string; rail: 'lightning'; proof: LightningProof }
  | { type: 'payment/prove'; paymentId: string; kind: PaymentKind; ref: string; amount: number; currency: string; rail: 'rootstock'; proof: RootstockProof }
  | { type: 'payment/reorg'; paymentId: string; ancestors: string[]; branch: string[] }
  | { type: 'lightning/node'; nodeKey: string }
  | { type: 'payment/invoice'; kind: PaymentKind; ref: string; invoice: string }
  | { type: 'trust/issuer'; credentialType: CredentialType; issuer: DidKey; trusted: boolean }
  | { type: 'trust/verifier'; verifier: DidKey; trusted: boolean }
  | { type: 'trust/governance'; credentialType: CredentialType; governance: DidKey; trusted: boolean }
  // scope: 'organization' or a project id; proof: BIP-340 by `pubkey` (books/nostr/binding.ts)
  | { type: 'nostr/key'; pubkey: string; scope: string; proof: string; active: boolean }
  // NIP-57 zaps for a project's NIP-99 listing (books/funding/zap-handlers.ts, core/nostr/zap.ts)
  | { type: 'project/zap'; projectId: string; lud16: string; serverPubkey: string; listing: string; recipient: string }
  | { type: 'funding/zap'; receipt: ZapReceiptEvent; preimage?: string }
)

export type OpType = Op['type']
/** An op before it is stamped and signed: what callers of Book.act supply. */
export type OpInput = Op extends infer O ? O extends Op ? Omit<O, 'opId' | 'ts' | 'signer'> & { opId?: string; ts?: number } : never : never
