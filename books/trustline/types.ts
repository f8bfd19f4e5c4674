/**
 * Data model of a bilateral trustline (docs/trustline-spec.md, section 2). Plain types only.
 *
 * Wire forms (what is hashed and signed) carry amounts as decimal integer strings in minor
 * units (cents) and times as integer milliseconds since the Unix epoch; in memory the machine
 * works on bigint (see {@link TrustlineState}).
 */
import type { DidKey } from '../../core/identity/did-key.ts'

/** The two parties, by canonical order: A is the DID that sorts first (JS string order, UTF-16 code units). */
export type Side = 'A' | 'B'

/** Version of every trustline structure; another one is refused. */
export const TRUSTLINE_VERSION = 1

/**
 * What both parties agree the trustline is, fixed for its life; its hash is the trustline id.
 * `limitAtoB`, `limitBtoA` and `balance` are the opening values: zero for a new trustline, the
 * central service's values for an imported one (then the trustline is "unconfirmed" until both
 * parties countersign a `confirm`).
 */
export interface TrustlineTerms {
  v: 1
  a: DidKey
  b: DidKey
  /** asset code: 3 to 12 of A-Z 0-9 (e.g. "CAD"); amounts are its minor units */
  asset: string
  /** when the opener made the terms, ms; distinguishes two trustlines of one pair and asset */
  created: number
  /** opening limits and balance, decimal integer strings (see TrustlineState) */
  limitAtoB: string
  limitBtoA: string
  balance: string
  /** free text saying where opening values came from (e.g. "growoperative:trustline:42"), or "" */
  origin: string
}

/** A conditional payment (hash time-locked) reserved on the trustline. */
export interface Htlc {
  /** chosen by the proposer of htlc/add: 1-64 of [A-Za-z0-9._-], unique among the line's live htlcs */
  id: string
  /** sha256 of the preimage, 64 lowercase hex */
  hash: string
  /** minor units, > 0 */
  amount: bigint
  /** the paying side: its available credit is reduced while the htlc lives */
  from: Side
  /** ms: a settle proposed after this is refused; after it either side may fail it */
  expires: number
}

/** Lifecycle of a trustline. */
export type TrustlineStatus = 'unconfirmed' | 'open' | 'closed'

/**
 * The state after `seq` updates. Field meanings (the central service's, growoperative-api
 * `trustlines`):
 * - `limitAtoB`: the most A may owe B: the credit B extends to A (service: credit_limit_a_to_b,
 *   "the credit limit user A can borrow"). Only B may lower it unilaterally.
 * - `limitBtoA`: the most B may owe A: the credit A extends to B. Only A may lower it unilaterally.
 * - `balance`: positive means A owes B that much, negative means B owes A (service: current_balance).
 *   It may sit outside the limits (a limit cut below a debt, an imported forced debt).
 */
export interface TrustlineState {
  v: 1
  /** trustline id: 64 hex, hash of the terms */
  id: string
  a: DidKey
  b: DidKey
  asset: string
  limitAtoB: bigint
  limitBtoA: bigint
  balance: bigint
  /** number of updates applied; 0 for the genesis state */
  seq: number
  /** hash of the previous state, 64 hex; 64 zeros for genesis */
  prev: string
  /** hash of the proposal that made this state, 64 hex; 64 zeros for genesis */
  update: string
  /** `at` of the proposal that made this state (genesis: terms.created), ms; never decreases */
  time: number
  status: TrustlineStatus
  /** live htlcs, sorted by id */
  htlcs: Htlc[]
}

/** One change a proposal carries (docs/trustline-spec.md, section 4). Amounts: decimal strings. */
export type Change =
  | { type: 'payment'; from: Side; amount: string; memo?: string }
  | { type: 'limit'; side: 'AtoB' | 'BtoA'; amount: string }
  | { type: 'close' }
  | { type: 'confirm' }
  | { type: 'htlc/add'; id: string; hash: string; amount: string; from: Side; expires: number }
  | { type: 'htlc/settle'; id: string; preimage: string }
  | { type: 'htlc/fail'; id: string }

/** A proposed update, signed by its proposer. */
export interface Proposal {
  v: 1
  /** trustline id */
  line: string
  /** the seq of the state it makes (previous seq + 1) */
  seq: number
  /** hash of the state it applies to */
  prev: string
  change: Change
  proposer: Side
  /** proposer's clock, ms; >= the previous state's time */
  at: number
  /** ms; a countersignature stating a later time is refused; >= at */
  expires: number
  /** hash of the state it makes, as the proposer computed it */
  state: string
}

/** The other party's countersignature of a proposal: it signs the same resulting state. */
export interface Acceptance {
  v: 1
  line: string
  seq: number
  /** hash of the proposal */
  proposal: string
  /** hash of the resulting state; must equal the proposal's */
  state: string
  /** countersigner's clock, ms: at >= proposal.at and at <= proposal.expires */
  at: number
}

/** A signed refusal of a proposal; it never enters the chain, it is kept beside it. */
export interface Rejection {
  v: 1
  line: string
  seq: number
  proposal: string
  at: number
  /** plain words, at most 500 characters, may be "" */
  reason: string
}

/**
 * One link of the chain: a proposal with the proposer's signature and, for a two-party update,
 * the countersignature. A unilateral update (a creditor lowering the limit it extends) has none.
 * Signatures are 128 lowercase hex (Ed25519, 64 bytes).
 */
export interface Entry {
  proposal: Proposal
  sig: string
  accept?: { acceptance: Acceptance; sig: string }
}

/** A signed rejection as it travels and is stored. */
export interface SignedRejection { rejection: Rejection; sig: string }

/** Outcome of a transition or check: never thrown, a reason in plain words. */
export type Result<T> = ({ ok: true } & T) | { ok: false; reason: string }
