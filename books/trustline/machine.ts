/**
 * The bilateral trustline state machine (docs/trustline-spec.md): pure transitions, no I/O, no
 * clock, no randomness; time enters only as signed data (`at`, `expires`).
 *
 *   genesis(terms)            -> the state at seq 0
 *   transition(state, p)      -> the state a proposal makes, or a refusal (signatures not checked)
 *   apply(state, entry)       -> checks signatures, the countersignature's time and the resulting
 *                                state hash, then transition; { ok, state } | { ok: false, reason }
 *   replay(terms, entries)    -> the state after a whole chain, or where and why it breaks
 *   reconcile(terms, x, y)    -> the one chain both parties keep when their copies differ
 *
 * Verifiers never throw: hostile input gives `{ ok: false, reason }` in plain words.
 */
import { isDidKey, type DidKey } from '../../core/identity/did-key.ts'
import { domainHash, domainSign, domainVerify, sha256Hex, stateHash, termsId, ZERO_HASH } from './encoding.ts'
import {
  TRUSTLINE_VERSION,
  type Acceptance, type Change, type Entry, type Proposal, type Rejection, type Result,
  type Side, type SignedRejection, type TrustlineState, type TrustlineTerms
} from './types.ts'

/** Largest amount, limit or |balance| accepted, minor units (10^15: ten trillion dollars in cents). */
export const MAX_AMOUNT = 10n ** 15n
/** Longest a proposal may stay open (expires - at), ms: 30 days. */
export const MAX_PROPOSAL_LIFETIME_MS = 30 * 24 * 3600_000
/** Most live htlcs on one trustline. */
export const MAX_HTLCS = 64
/** Longest payment memo, characters. */
export const MAX_MEMO_CHARS = 200
/** Longest rejection reason, characters. */
export const MAX_REASON_CHARS = 500

const HEX64 = /^[0-9a-f]{64}$/
const ASSET = /^[A-Z0-9]{3,12}$/
const UINT = /^(0|[1-9][0-9]*)$/
const INT = /^(0|-?[1-9][0-9]*)$/
const HTLC_ID = /^[A-Za-z0-9._-]{1,64}$/

type Obj = Record<string, unknown>

function isObj (v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function hasOnly (o: Obj, keys: string[], optional: string[] = []): boolean {
  for (const k of keys) if (!(k in o)) return false
  for (const k of Object.keys(o)) if (!keys.includes(k) && !optional.includes(k)) return false
  return true
}

function isTime (v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

/** A non-negative amount string within MAX_AMOUNT, as bigint; null when malformed. */
function amountOf (v: unknown): bigint | null {
  if (typeof v !== 'string' || !UINT.test(v) || v.length > 19) return null
  const n = BigInt(v)
  return n <= MAX_AMOUNT ? n : null
}

function signedOf (v: unknown): bigint | null {
  if (typeof v !== 'string' || !INT.test(v) || v.length > 20) return null
  const n = BigInt(v)
  return n <= MAX_AMOUNT && n >= -MAX_AMOUNT ? n : null
}

function other (s: Side): Side { return s === 'A' ? 'B' : 'A' }

/** The side a DID holds on a trustline, or null for a third party. */
export function sideOf (s: { a: string; b: string }, did: string): Side | null {
  return did === s.a ? 'A' : did === s.b ? 'B' : null
}

/** The DID of a side. */
export function didOf (s: { a: DidKey; b: DidKey }, side: Side): DidKey {
  return side === 'A' ? s.a : s.b
}

/**
 * Checks terms as they arrive from anyone.
 * @returns `{ ok: true, terms }` (the same object, typed) or a refusal in plain words
 */
export function checkTerms (t: unknown): Result<{ terms: TrustlineTerms }> {
  if (!isObj(t) || !hasOnly(t, ['v', 'a', 'b', 'asset', 'created', 'limitAtoB', 'limitBtoA', 'balance', 'origin'])) return { ok: false, reason: 'terms have missing or unknown fields' }
  if (t.v !== TRUSTLINE_VERSION) return { ok: false, reason: `unknown trustline version ${String(t.v)}` }
  if (!isDidKey(t.a) || !isDidKey(t.b)) return { ok: false, reason: 'both parties must be did:key' }
  if (!(t.a < t.b)) return { ok: false, reason: 'party A must sort before party B (and differ from it)' }
  if (typeof t.asset !== 'string' || !ASSET.test(t.asset)) return { ok: false, reason: 'asset code must be 3 to 12 of A-Z and 0-9' }
  if (!isTime(t.created)) return { ok: false, reason: 'created must be a time in ms' }
  if (amountOf(t.limitAtoB) === null || amountOf(t.limitBtoA) === null) return { ok: false, reason: 'opening limits must be non-negative integer strings of minor units' }
  if (signedOf(t.balance) === null) return { ok: false, reason: 'opening balance must be an integer string of minor units' }
  if (typeof t.origin !== 'string' || t.origin.length > 200) return { ok: false, reason: 'origin must be text of at most 200 characters' }
  return { ok: true, terms: t as unknown as TrustlineTerms }
}

/**
 * Terms of a new trustline between two DIDs, in canonical order, zero limits and balance.
 * @param x one party, @param y the other
 * @param asset asset code, @param created ms
 * @throws Error (plain) when the parties are the same or not did:key, or the asset is malformed
 */
export function newTerms (x: DidKey, y: DidKey, asset: string, created: number, opening: Partial<Pick<TrustlineTerms, 'limitAtoB' | 'limitBtoA' | 'balance' | 'origin'>> = {}): TrustlineTerms {
  const [a, b] = x < y ? [x, y] : [y, x]
  const terms: TrustlineTerms = { v: 1, a, b, asset, created, limitAtoB: '0', limitBtoA: '0', balance: '0', origin: '', ...opening }
  const r = checkTerms(terms)
  if (!r.ok) throw new Error(r.reason)
  return terms
}

/**
 * The state at seq 0 of a trustline. A trustline opened with non-zero values or an `origin` (an
 * import) starts "unconfirmed": nothing but a two-party `confirm` applies until both have signed it.
 * @throws Error when the terms do not pass {@link checkTerms}
 */
export function genesis (terms: TrustlineTerms): TrustlineState {
  const r = checkTerms(terms)
  if (!r.ok) throw new Error(r.reason)
  const limitAtoB = BigInt(terms.limitAtoB)
  const limitBtoA = BigInt(terms.limitBtoA)
  const balance = BigInt(terms.balance)
  // an origin names imported history: even an import at zero waits for both parties' confirm
  const imported = terms.origin !== '' || limitAtoB !== 0n || limitBtoA !== 0n || balance !== 0n
  return {
    v: 1,
    id: termsId(terms),
    a: terms.a,
    b: terms.b,
    asset: terms.asset,
    limitAtoB,
    limitBtoA,
    balance,
    seq: 0,
    prev: ZERO_HASH,
    update: ZERO_HASH,
    time: terms.created,
    status: imported ? 'unconfirmed' : 'open',
    htlcs: []
  }
}

/** What `side` owes the other now (0 when it is owed). */
export function debtOf (s: TrustlineState, side: Side): bigint {
  const d = side === 'A' ? s.balance : -s.balance
  return d > 0n ? d : 0n
}

/** The limit on what `side` may owe: limitAtoB for A, limitBtoA for B. */
export function limitOf (s: TrustlineState, side: Side): bigint {
  return side === 'A' ? s.limitAtoB : s.limitBtoA
}

/**
 * Sum of the htlcs `side` pays that are still live at time `at` (an htlc expired by `at` reserves
 * nothing: it can no longer settle).
 */
export function reservedBy (s: TrustlineState, side: Side, at: number): bigint {
  let sum = 0n
  for (const h of s.htlcs) if (h.from === side && h.expires >= at) sum += h.amount
  return sum
}

/**
 * How much `side` can still pay at time `at`: limit - (its balance position) - reserved, never
 * below 0. Paying raises the payer's signed debt (A: balance; B: -balance) by the amount, and
 * that debt plus its live htlcs must stay within its limit (what the other owes it counts too,
 * as in the FOAF reference's capacity).
 */
export function available (s: TrustlineState, side: Side, at: number): bigint {
  const position = side === 'A' ? s.balance : -s.balance
  const room = limitOf(s, side) - position - reservedBy(s, side, at)
  return room > 0n ? room : 0n
}

/** Whether a proposal's change may take effect with the proposer's signature alone. */
export function isUnilateral (state: Pick<TrustlineState, 'limitAtoB' | 'limitBtoA'>, p: Pick<Proposal, 'change' | 'proposer'>): boolean {
  const c = p.change
  if (c.type !== 'limit') return false
  // the creditor of AtoB is B (it lends to A): lowering what you extend needs nobody's consent
  const creditor: Side = c.side === 'AtoB' ? 'B' : 'A'
  const current = c.side === 'AtoB' ? state.limitAtoB : state.limitBtoA
  const amount = amountOf(c.amount)
  return p.proposer === creditor && amount !== null && amount < current
}

/** Checks a change's shape (not its effect). */
function checkChange (c: unknown): Result<{ change: Change }> {
  if (!isObj(c) || typeof c.type !== 'string') return { ok: false, reason: 'change has no type' }
  const bad = (what: string): { ok: false; reason: string } => ({ ok: false, reason: `${c.type as string}: ${what}` })
  switch (c.type) {
    case 'payment':
      if (!hasOnly(c, ['type', 'from', 'amount'], ['memo'])) return bad('missing or unknown fields')
      if (c.from !== 'A' && c.from !== 'B') return bad('from must be A or B')
      if (amountOf(c.amount) === null || amountOf(c.amount) === 0n) return bad('amount must be a positive integer string of minor units')
      if (c.memo !== undefined && (typeof c.memo !== 'string' || c.memo.length > MAX_MEMO_CHARS)) return bad(`memo must be text of at most ${MAX_MEMO_CHARS} characters`)
      break
    case 'limit':
      if (!hasOnly(c, ['type', 'side', 'amount'])) return bad('missing or unknown fields')
      if (c.side !== 'AtoB' && c.side !== 'BtoA') return bad('side must be AtoB or BtoA')
      if (amountOf(c.amount) === null) return bad('amount must be a non-negative integer string of minor units')
      break
    case 'close':
    case 'confirm':
      if (!hasOnly(c, ['type'])) return bad('unknown fields')
      break
    case 'htlc/add':
      if (!hasOnly(c, ['type', 'id', 'hash', 'amount', 'from', 'expires'])) return bad('missing or unknown fields')
      if (typeof c.id !== 'string' || !HTLC_ID.test(c.id)) return bad('id must be 1 to 64 of A-Z a-z 0-9 . _ -')
      if (typeof c.hash !== 'string' || !HEX64.test(c.hash)) return bad('hash must be a sha256 in 64 lowercase hex')
      if (amountOf(c.amount) === null || amountOf(c.amount) === 0n) return bad('amount must be a positive integer string of minor units')
      if (c.from !== 'A' && c.from !== 'B') return bad('from must be A or B')
      if (!isTime(c.expires)) return bad('expires must be a time in ms')
      break
    case 'htlc/settle':
      if (!hasOnly(c, ['type', 'id', 'preimage'])) return bad('missing or unknown fields')
      if (typeof c.id !== 'string' || !HTLC_ID.test(c.id)) return bad('malformed id')
      if (typeof c.preimage !== 'string' || !HEX64.test(c.preimage)) return bad('preimage must be 32 bytes in 64 lowercase hex')
      break
    case 'htlc/fail':
      if (!hasOnly(c, ['type', 'id'])) return bad('missing or unknown fields')
      if (typeof c.id !== 'string' || !HTLC_ID.test(c.id)) return bad('malformed id')
      break
    default:
      return { ok: false, reason: `unknown change type ${JSON.stringify(c.type).slice(0, 40)}` }
  }
  return { ok: true, change: c as unknown as Change }
}

/** Checks a proposal's shape. */
export function checkProposal (p: unknown): Result<{ proposal: Proposal }> {
  if (!isObj(p) || !hasOnly(p, ['v', 'line', 'seq', 'prev', 'change', 'proposer', 'at', 'expires', 'state'])) return { ok: false, reason: 'proposal has missing or unknown fields' }
  if (p.v !== TRUSTLINE_VERSION) return { ok: false, reason: `unknown proposal version ${String(p.v)}` }
  if (typeof p.line !== 'string' || !HEX64.test(p.line)) return { ok: false, reason: 'proposal line must be a trustline id (64 hex)' }
  if (typeof p.seq !== 'number' || !Number.isSafeInteger(p.seq) || p.seq < 1) return { ok: false, reason: 'proposal seq must be an integer >= 1' }
  if (typeof p.prev !== 'string' || !HEX64.test(p.prev) || typeof p.state !== 'string' || !HEX64.test(p.state)) return { ok: false, reason: 'proposal prev and state must be 64 hex' }
  if (p.proposer !== 'A' && p.proposer !== 'B') return { ok: false, reason: 'proposer must be A or B' }
  if (!isTime(p.at) || !isTime(p.expires)) return { ok: false, reason: 'proposal at and expires must be times in ms' }
  if (p.expires < p.at) return { ok: false, reason: 'proposal expires before it was made' }
  if (p.expires - p.at > MAX_PROPOSAL_LIFETIME_MS) return { ok: false, reason: 'proposal stays open longer than 30 days' }
  const c = checkChange(p.change)
  if (!c.ok) return c
  return { ok: true, proposal: p as unknown as Proposal }
}

/**
 * The transition of docs/trustline-spec.md section 4: the state a proposal makes from `state`,
 * or why it cannot apply. Checks everything but signatures and the proposal's own `state` hash:
 * seq, prev, time order, status, authority and the change's rules.
 * @param state the current state (trusted: made by genesis/apply)
 * @param proposal any value (checked)
 * @returns `{ ok: true, state }` with a fresh state object, or `{ ok: false, reason }`
 */
export function transition (state: TrustlineState, proposal: unknown): Result<{ state: TrustlineState }> {
  const pc = checkProposal(proposal)
  if (!pc.ok) return pc
  const p = pc.proposal
  if (p.line !== state.id) return { ok: false, reason: 'proposal is for another trustline' }
  if (p.seq !== state.seq + 1) return { ok: false, reason: `out of order: proposal seq ${p.seq}, expected ${state.seq + 1}` }
  if (p.prev !== stateHash(state)) return { ok: false, reason: 'proposal does not build on the current state (prev hash differs)' }
  if (p.at < state.time) return { ok: false, reason: 'proposal time is earlier than the current state: a clock cannot move back' }
  if (state.status === 'closed') return { ok: false, reason: 'the trustline is closed' }
  const c = p.change
  if (state.status === 'unconfirmed' && c.type !== 'confirm') return { ok: false, reason: 'an imported trustline takes nothing but confirm until both parties confirmed it' }

  let { limitAtoB, limitBtoA, balance } = state
  let status: TrustlineState['status'] = state.status
  let htlcs = state.htlcs.slice()
  const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason: `${c.type}: ${reason}` })

  switch (c.type) {
    case 'confirm':
      if (state.status !== 'unconfirmed') return refuse('the trustline is already confirmed')
      status = 'open'
      break
    case 'payment': {
      const amount = BigInt(c.amount)
      if (amount > available(state, c.from, p.at)) return refuse(`amount exceeds the payer's available credit (${available(state, c.from, p.at)})`)
      balance = c.from === 'A' ? balance + amount : balance - amount
      break
    }
    case 'limit': {
      const amount = BigInt(c.amount)
      const current = c.side === 'AtoB' ? limitAtoB : limitBtoA
      if (amount === current) return refuse('the limit already has this value')
      if (c.side === 'AtoB') limitAtoB = amount
      else limitBtoA = amount
      break
    }
    case 'close':
      if (balance !== 0n) return refuse('a trustline closes only at zero balance')
      if (htlcs.length > 0) return refuse('a trustline with pending htlcs cannot close')
      status = 'closed'
      break
    case 'htlc/add': {
      const amount = BigInt(c.amount)
      if (htlcs.some((h) => h.id === c.id)) return refuse(`an htlc with id ${c.id} is already pending`)
      if (htlcs.length >= MAX_HTLCS) return refuse(`at most ${MAX_HTLCS} htlcs may be pending`)
      if (c.expires <= p.at) return refuse('the htlc expires before it was proposed')
      if (amount > available(state, c.from, p.at)) return refuse(`amount exceeds the payer's available credit (${available(state, c.from, p.at)})`)
      htlcs.push({ id: c.id, hash: c.hash, amount, from: c.from, expires: c.expires })
      htlcs.sort((x, y) => x.id < y.id ? -1 : x.id > y.id ? 1 : 0)
      break
    }
    case 'htlc/settle': {
      const h = htlcs.find((x) => x.id === c.id)
      if (!h) return refuse(`no pending htlc ${c.id}`)
      if (sha256Hex(c.preimage) !== h.hash) return refuse('the preimage does not hash to the htlc hash')
      if (p.at > h.expires) return refuse('the htlc expired before the settle was proposed')
      balance = h.from === 'A' ? balance + h.amount : balance - h.amount
      htlcs = htlcs.filter((x) => x !== h)
      break
    }
    case 'htlc/fail': {
      const h = htlcs.find((x) => x.id === c.id)
      if (!h) return refuse(`no pending htlc ${c.id}`)
      // the payee may give up at once; the payer only once the payee can no longer settle
      if (p.proposer === h.from && p.at <= h.expires) return refuse('the paying side may fail an htlc only after it expired')
      htlcs = htlcs.filter((x) => x !== h)
      break
    }
  }
  if (balance > MAX_AMOUNT || balance < -MAX_AMOUNT) return refuse('balance would leave the accepted range')
  // the state commits to the proposal without its `state` field (which is this state's hash)
  const update = domainHash('proposal', { ...p, state: ZERO_HASH })
  return {
    ok: true,
    state: { v: 1, id: state.id, a: state.a, b: state.b, asset: state.asset, limitAtoB, limitBtoA, balance, seq: p.seq, prev: p.prev, update, time: p.at, status, htlcs }
  }
}

/**
 * Applies one chain entry to a state: the proposer's signature, then either the countersignature
 * (same resulting state, stated time within [proposal.at, proposal.expires]) or the proposal's
 * right to take effect alone (a creditor lowering its own limit), then the transition, whose
 * result must hash to what both signed.
 * @param state current state
 * @param entry any value (checked)
 * @returns `{ ok: true, state, hash }` or `{ ok: false, reason }`; never throws
 */
export function apply (state: TrustlineState, entry: unknown): Result<{ state: TrustlineState; hash: string }> {
  try {
    if (!isObj(entry) || !hasOnly(entry, ['proposal', 'sig'], ['accept'])) return { ok: false, reason: 'entry has missing or unknown fields' }
    const pc = checkProposal(entry.proposal)
    if (!pc.ok) return pc
    const p = pc.proposal
    if (!domainVerify('proposal', p, entry.sig, didOf(state, p.proposer))) return { ok: false, reason: 'the proposer\'s signature does not hold' }
    const next = transition(state, p)
    if (!next.ok) return next
    const hash = stateHash(next.state)
    if (hash !== p.state) return { ok: false, reason: 'the proposal\'s resulting state hash does not match the transition' }
    if (entry.accept === undefined) {
      if (!isUnilateral(state, p)) return { ok: false, reason: 'this change takes effect only when the other party countersigns it' }
      return { ok: true, state: next.state, hash }
    }
    const acc = entry.accept
    if (!isObj(acc) || !hasOnly(acc, ['acceptance', 'sig'])) return { ok: false, reason: 'countersignature has missing or unknown fields' }
    const a = acc.acceptance
    if (!isObj(a) || !hasOnly(a, ['v', 'line', 'seq', 'proposal', 'state', 'at'])) return { ok: false, reason: 'acceptance has missing or unknown fields' }
    if (a.v !== TRUSTLINE_VERSION || a.line !== p.line || a.seq !== p.seq) return { ok: false, reason: 'the countersignature is for another trustline or seq (replayed)' }
    if (a.proposal !== domainHash('proposal', p)) return { ok: false, reason: 'the countersignature is for another proposal (replayed)' }
    if (a.state !== hash) return { ok: false, reason: 'the countersignature signs another resulting state' }
    if (!isTime(a.at)) return { ok: false, reason: 'countersignature time must be ms' }
    if (a.at < p.at) return { ok: false, reason: 'the countersignature is dated before the proposal' }
    if (a.at > p.expires) return { ok: false, reason: 'the countersignature came after the proposal expired: the proposal is void' }
    if (!domainVerify('accept', a, acc.sig, didOf(state, other(p.proposer)))) return { ok: false, reason: 'the countersignature does not hold (not signed by the other party)' }
    return { ok: true, state: next.state, hash }
  } catch (err) {
    return { ok: false, reason: `malformed entry (${(err as Error).message})` }
  }
}

/**
 * Replays a whole chain from the terms.
 * @returns `{ ok: true, state, states }` (states[i] is the state after entries[i-1]; states[0]
 *   genesis) or `{ ok: false, reason, at, state, states }` with the valid prefix up to `at`
 *   (the index of the first entry that does not apply)
 */
export function replay (terms: TrustlineTerms, entries: readonly unknown[]): { ok: true; state: TrustlineState; states: TrustlineState[] } | { ok: false; reason: string; at: number; state: TrustlineState; states: TrustlineState[] } {
  let state = genesis(terms)
  const states = [state]
  for (let i = 0; i < entries.length; i++) {
    const r = apply(state, entries[i])
    if (!r.ok) return { ok: false, reason: `entry ${i + 1}: ${r.reason}`, at: i, state, states }
    state = r.state
    states.push(state)
  }
  return { ok: true, state, states }
}

/** When an entry took effect: the countersignature's time, or the proposal's for a unilateral one. */
export function commitTime (e: Entry): number {
  return e.accept ? e.accept.acceptance.at : e.proposal.at
}

/** Whether both parties signed an entry. */
export function isTwoParty (e: Entry): boolean {
  return e.accept !== undefined
}

/** Hash of a proposal (64 hex): its identity in stores and on the wire. */
export function proposalHash (p: Proposal): string {
  return domainHash('proposal', p)
}

/**
 * Which of two chains of one trustline both parties keep (docs/trustline-spec.md section 6).
 * Each chain is first cut to its longest valid prefix (a hostile copy cannot poison the other).
 * When one is a prefix of the other (by state hashes), the longer wins. Otherwise, on the first
 * seq where they differ, the branch whose last two-party entry has the higher seq wins (history
 * both signed on top of is final); then a two-party entry beats a unilateral one; then the
 * earlier commit time; then the smaller state hash (hex order).
 * @returns the winning chain (entries), its states, and the entries of the loser after the fork
 *   (`superseded`), plus `reasons` for any invalid suffix dropped
 */
export function reconcile (terms: TrustlineTerms, x: readonly unknown[], y: readonly unknown[]): { entries: Entry[]; state: TrustlineState; superseded: Entry[]; dropped: string[] } {
  const rx = replay(terms, x)
  const ry = replay(terms, y)
  const dropped: string[] = []
  if (!rx.ok) dropped.push(`first copy: ${rx.reason}`)
  if (!ry.ok) dropped.push(`second copy: ${ry.reason}`)
  const ex = (rx.ok ? x : x.slice(0, rx.at)) as Entry[]
  const ey = (ry.ok ? y : y.slice(0, ry.at)) as Entry[]
  const sx = rx.states
  const sy = ry.states
  let k = 0
  while (k < ex.length && k < ey.length && stateHash(sx[k + 1]) === stateHash(sy[k + 1])) k++
  const pick = (winX: boolean): { entries: Entry[]; state: TrustlineState; superseded: Entry[]; dropped: string[] } => winX
    ? { entries: ex.slice(), state: sx[sx.length - 1], superseded: ey.slice(k), dropped }
    : { entries: ey.slice(), state: sy[sy.length - 1], superseded: ex.slice(k), dropped }
  if (k === ey.length) return pick(true)
  if (k === ex.length) return pick(false)
  const lastTwoParty = (es: Entry[]): number => {
    for (let i = es.length - 1; i >= k; i--) if (isTwoParty(es[i])) return es[i].proposal.seq
    return -1
  }
  const tx = lastTwoParty(ex)
  const ty = lastTwoParty(ey)
  if (tx !== ty) return pick(tx > ty)
  const fx = ex[k]
  const fy = ey[k]
  if (isTwoParty(fx) !== isTwoParty(fy)) return pick(isTwoParty(fx))
  if (commitTime(fx) !== commitTime(fy)) return pick(commitTime(fx) < commitTime(fy))
  return pick(stateHash(sx[k + 1]) < stateHash(sy[k + 1]))
}

/**
 * Which of two proposals for the same seq and prev a party countersigns when both parties
 * proposed at once: an `htlc/settle` first (a party owed an htlc must be able to settle it
 * before it expires; a partner answering with proposals of its own cannot starve it), then the
 * smaller proposal hash (hex order). Both compute the same.
 */
export function proposalTieBreak (p: Proposal, q: Proposal): Proposal {
  const sp = p.change.type === 'htlc/settle'
  const sq = q.change.type === 'htlc/settle'
  if (sp !== sq) return sp ? p : q
  return proposalHash(p) <= proposalHash(q) ? p : q
}

// ---- building signed structures (pure: the key is an argument) ----

/**
 * Builds and signs a proposal on `state`.
 * @param state current state
 * @param input change, proposer side, its clock `at` (ms) and `expires` (ms)
 * @param secretKey the proposer's 64-byte Ed25519 secret key
 * @returns `{ ok: true, entry, state }`: the entry without countersignature and the state it
 *   would make, or `{ ok: false, reason }` when the transition refuses it
 */
export function propose (state: TrustlineState, input: { change: Change; proposer: Side; at: number; expires: number }, secretKey: Uint8Array): Result<{ entry: Entry; state: TrustlineState }> {
  const draft = { v: 1 as const, line: state.id, seq: state.seq + 1, prev: stateHash(state), change: input.change, proposer: input.proposer, at: input.at, expires: input.expires, state: ZERO_HASH }
  const next = transition(state, draft)
  if (!next.ok) return next
  const proposal: Proposal = { ...draft, state: stateHash(next.state) }
  return { ok: true, entry: { proposal, sig: domainSign('proposal', proposal, secretKey) }, state: next.state }
}

/**
 * Countersigns a proposal: checks it applies to `state` and that `at` is within its time window.
 * @param at the countersigner's clock, ms
 * @returns `{ ok: true, entry, state }` (the complete entry) or `{ ok: false, reason }`
 */
export function accept (state: TrustlineState, entry: Entry, at: number, secretKey: Uint8Array): Result<{ entry: Entry; state: TrustlineState }> {
  const p = entry.proposal
  const acceptance: Acceptance = { v: 1, line: p.line, seq: p.seq, proposal: proposalHash(p), state: p.state, at }
  const full: Entry = { proposal: p, sig: entry.sig, accept: { acceptance, sig: domainSign('accept', acceptance, secretKey) } }
  const r = apply(state, full)
  if (!r.ok) return r
  return { ok: true, entry: full, state: r.state }
}

/**
 * Signs a rejection of a proposal.
 * @returns the signed rejection (not checked against any state: a rejection changes nothing)
 */
export function reject (p: Proposal, at: number, reason: string, secretKey: Uint8Array): SignedRejection {
  const rejection: Rejection = { v: 1, line: p.line, seq: p.seq, proposal: proposalHash(p), at, reason: reason.slice(0, MAX_REASON_CHARS) }
  return { rejection, sig: domainSign('reject', rejection, secretKey) }
}

/**
 * Checks a signed rejection of `p` by the party that did not propose it.
 * @returns `{ ok: true }` or a refusal; never throws
 */
export function checkRejection (state: Pick<TrustlineState, 'a' | 'b' | 'id'>, p: Proposal, r: unknown): Result<{ rejection: Rejection }> {
  if (!isObj(r) || !hasOnly(r, ['rejection', 'sig'])) return { ok: false, reason: 'rejection has missing or unknown fields' }
  const j = r.rejection
  if (!isObj(j) || !hasOnly(j, ['v', 'line', 'seq', 'proposal', 'at', 'reason'])) return { ok: false, reason: 'rejection has missing or unknown fields' }
  if (j.v !== TRUSTLINE_VERSION || j.line !== state.id || j.seq !== p.seq || j.proposal !== proposalHash(p)) return { ok: false, reason: 'the rejection is for another proposal' }
  if (!isTime(j.at) || typeof j.reason !== 'string' || j.reason.length > MAX_REASON_CHARS) return { ok: false, reason: 'malformed rejection' }
  if (!domainVerify('reject', j, r.sig, didOf(state as { a: DidKey; b: DidKey }, other(p.proposer)))) return { ok: false, reason: 'the rejection is not signed by the other party' }
  return { ok: true, rejection: j as unknown as Rejection }
}

/** The JSON (wire) view of a state; see encoding.ts stateJson. */
export { stateJson, stateHash, termsId } from './encoding.ts'
