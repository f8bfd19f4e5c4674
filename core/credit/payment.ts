/**
 * Multi-hop payments over trustlines (issue 13): one payment hash, one htlc per hop with expiries
 * shrinking along the route, nothing commits until every hop has signed its htlc/add, the payee's
 * preimage commits every hop, timeouts release them.
 *
 *   invoice   the payee makes a 32-byte preimage and signs { payee, asset, amount, hash, expiry }
 *   plan      the payer takes routes from a relay (core/credit/relay.ts routesFrom), signs a plan
 *             { payee, asset, amount, hash, hops: [{ trustline, from, to, expires }], nonce } with expiries
 *             decreasing by `hopDeltaMs`, adds the htlc of hop 0 on its own line, then calls
 *             `credit/pay/forward { plan, index: 0 }` on hop 0's `to`
 *   forward   hop i's `to` checks its incoming htlc (hash, exact amount, exact expiry, from the
 *             caller), its cap, and that it keeps at least `minDeltaMs` between its incoming and
 *             outgoing expiries; adds the outgoing htlc on hop i + 1 (the machine re-checks its
 *             own available credit) and forwards; the payee, for an invoice of its own with that
 *             hash and amount, settles with the preimage
 *   back      every hop that learns the preimage (its outgoing htlc settled, or the answer) settles
 *             its incoming one (retrying until it expires); a hop fails its incoming htlc only
 *             once its outgoing one is failed, was never signed, or has expired by its own clock
 *             (after which it countersigns no settle), so a hop never pays without being paid
 *
 * Probing: every refusal, "unknown hash" at the payee or "not enough available credit" at a hop
 * alike, is the same bytes ({@link REFUSED}) sent when the hop's hold time is up:
 * `holdMs x (hops left including this one)` after the request came in, so the answer reaches
 * the payer at the same time whichever hop refused. Only an amount above a hop's cap per
 * payment (public: announced) is answered otherwise ({@link aboveCap}). No fees (FOAF phase 1:
 * capacity_imbalance_fee_divisor 0): every hop carries the same amount.
 *
 * Wire (core/network/peer-rpc.ts, authenticated by DID):
 *   credit/pay/forward       { plan, index }  -> { ok: true, preimage } | REFUSED | aboveCap(cap)
 *   credit/announce/cosign   { body }         -> { signature } | { cap } (the body's cap is above ours)
 *
 * Signatures: Ed25519 over "growr/credit/<invoice|plan>/v1" 0x00 || JCS (RFC 8785) of the value
 * without its `sig`. Amounts are decimal strings of minor units on the wire, bigint in memory.
 * Loads under Bare: no `node:` imports.
 */
import '../runtime/text-encoding.ts'
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { sha256 } from '@noble/hashes/sha2.js'
import type Hyperbee from 'hyperbee'
import { canonicalBytes } from '../../books/ops/envelope.ts'
import { sign, verify } from '../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'
import type { PeerRpc } from '../network/peer-rpc.ts'
import type { TrustlineSync, Decision } from './sync.ts'
import { sideOf, MAX_AMOUNT } from '../../books/trustline/machine.ts'
import { sha256Hex } from '../../books/trustline/encoding.ts'
import type { Change, Entry, Proposal, Side, TrustlineState } from '../../books/trustline/types.ts'
import { announcementBody, announceTo, routesFrom, signAnnouncement, checkAnnouncement, type Announcement, type AnnouncementBody, type CheckedRoute } from './relay.ts'
import { MAX_HOPS_LIMIT } from './routing.ts'

export const FORWARD_METHOD = 'credit/pay/forward'
export const COSIGN_METHOD = 'credit/announce/cosign'
/** The one answer of every refusal below a hop's cap: same bytes whoever refused and why. */
export const REFUSED = Object.freeze({ ok: false as const, reason: 'the payment cannot be carried' })
/** The answer to an amount above a hop's cap per payment (its cap is public). */
export function aboveCap (cap: bigint): { ok: false; reason: string; cap: string } {
  return { ok: false, reason: 'the amount is above the cap per payment of a hop', cap: cap.toString() }
}

const HEX64 = /^[0-9a-f]{64}$/
const HEX_SIG = /^[0-9a-f]{128}$/
const AMOUNT = /^[1-9][0-9]{0,15}$/
const ASSET = /^[A-Z0-9]{3,12}$/
const NONCE = /^[0-9a-f]{32}$/

/** A payee's request to be paid, signed by the payee. */
export interface InvoiceBody {
  v: 1
  payee: DidKey
  asset: string
  /** minor units, decimal string, > 0 */
  amount: string
  /** sha256 of the preimage, 64 hex */
  hash: string
  /** ms */
  issuedAt: number
  /** ms: the payee settles nothing for it after this */
  expiresAt: number
  memo: string
}
export interface Invoice extends InvoiceBody { sig: string }

/** One hop of a plan, in the payment's direction: `from` adds an htlc expiring at `expires` (ms). */
export interface PlanHop { trustline: string; from: DidKey; to: DidKey; expires: number }

/** The payer's signed instructions for one attempt, which every hop checks its htlcs against. */
export interface PlanBody {
  v: 1
  payer: DidKey
  /** what the payee must receive: the last hop's `to`, the asset, minor units, the payment hash */
  payee: DidKey
  asset: string
  amount: string
  hash: string
  hops: PlanHop[]
  /** 16 random bytes, hex: each attempt has its own htlc ids */
  nonce: string
  issuedAt: number
}
export interface Plan extends PlanBody { sig: string }

type Check<T> = { ok: true } & T | { ok: false; reason: string }

function framed (kind: 'invoice' | 'plan', value: Record<string, unknown>): Uint8Array {
  const { sig: _sig, ...body } = value
  return b4a.concat([b4a.from(`growr/credit/${kind}/v1\0`), canonicalBytes(body)])
}

function isObj (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function hasOnly (o: Record<string, unknown>, keys: string[]): boolean {
  const ks = Object.keys(o)
  return ks.length === keys.length && keys.every((k) => k in o)
}

function isTime (v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

/**
 * Signs an invoice. Pure.
 * @param body the invoice fields (amount: positive decimal string of minor units)
 * @param secretKey the payee's 64-byte Ed25519 secret key
 * @throws GrowrError BAD_ARGUMENT when the body does not pass {@link checkInvoice}'s shape rules
 */
export function signInvoice (body: InvoiceBody, secretKey: Uint8Array): Invoice {
  const bad = invoiceProblem(body as unknown as Record<string, unknown>)
  if (bad) throw GrowrError.BAD_ARGUMENT(bad)
  return { ...body, sig: b4a.toString(sign(framed('invoice', body as unknown as Record<string, unknown>), secretKey), 'hex') }
}

function invoiceProblem (m: Record<string, unknown>): string | null {
  if (!hasOnly(m, ['v', 'payee', 'asset', 'amount', 'hash', 'issuedAt', 'expiresAt', 'memo']) && !hasOnly(m, ['v', 'payee', 'asset', 'amount', 'hash', 'issuedAt', 'expiresAt', 'memo', 'sig'])) return 'an invoice has exactly v, payee, asset, amount, hash, issuedAt, expiresAt, memo and sig'
  if (m.v !== 1) return `unknown invoice version ${String(m.v).slice(0, 20)}`
  if (!isDidKey(m.payee)) return 'the payee is a did:key'
  if (typeof m.asset !== 'string' || !ASSET.test(m.asset)) return 'the asset is 3..12 of A-Z 0-9'
  if (typeof m.amount !== 'string' || !AMOUNT.test(m.amount) || BigInt(m.amount) > MAX_AMOUNT) return 'the amount is a positive whole number of minor units'
  if (typeof m.hash !== 'string' || !HEX64.test(m.hash)) return 'the hash is a sha256 in 64 lowercase hex'
  if (!isTime(m.issuedAt) || !isTime(m.expiresAt) || m.expiresAt <= m.issuedAt) return 'issuedAt and expiresAt are times in ms, expiresAt later'
  if (typeof m.memo !== 'string' || m.memo.length > 200) return 'the memo is text of at most 200 characters'
  return null
}

/**
 * Checks an invoice as received. Pure; never throws.
 * @param opts.now the checker's clock, ms: an expired invoice is refused
 * @returns a copy holding only the invoice's fields, or why it is refused in plain words
 */
export function checkInvoice (value: unknown, opts: { now: number }): Check<{ invoice: Invoice }> {
  try {
    if (!isObj(value)) return { ok: false, reason: 'an invoice is an object' }
    const bad = invoiceProblem(value)
    if (bad) return { ok: false, reason: bad }
    if (typeof value.sig !== 'string' || !HEX_SIG.test(value.sig)) return { ok: false, reason: 'the invoice is not signed' }
    if (!verify(framed('invoice', value), b4a.from(value.sig, 'hex'), didToPublicKey(value.payee as string))) return { ok: false, reason: 'the payee\'s signature does not hold for this invoice' }
    if ((value.expiresAt as number) <= opts.now) return { ok: false, reason: 'the invoice expired' }
    const v = value as unknown as Invoice
    return { ok: true, invoice: { v: 1, payee: v.payee, asset: v.asset, amount: v.amount, hash: v.hash, issuedAt: v.issuedAt, expiresAt: v.expiresAt, memo: v.memo, sig: v.sig } }
  } catch {
    return { ok: false, reason: 'the invoice cannot be read' }
  }
}

/** What a plan pays: from an invoice, or any payee, amount and hash (a probe's random one). */
export type Target = Pick<InvoiceBody, 'payee' | 'asset' | 'amount' | 'hash'>

/**
 * Builds and signs a plan over a checked route. Pure.
 * @param route hops from the payer to the invoice's payee (openRoutes / routesFrom)
 * @param opts.now ms; opts.hopDeltaMs between two hops' expiries; opts.finalMs the last hop's
 *   time to settle; opts.nonce 32 hex (random per attempt)
 * @returns the plan: hop i expires at now + finalMs + (hops - 1 - i) x hopDeltaMs
 * @throws GrowrError BAD_ARGUMENT when the route does not go from the payer to the payee
 */
export function buildPlan (invoice: Target, route: Pick<CheckedRoute, 'hops'>, payer: { did: DidKey; secretKey: Uint8Array }, opts: { now: number; hopDeltaMs: number; finalMs: number; nonce: string }): Plan {
  const n = route.hops.length
  if (n < 1 || route.hops[0].from !== payer.did || route.hops[n - 1].to !== invoice.payee) throw GrowrError.BAD_ARGUMENT('the route must go from the payer to the invoice\'s payee')
  const hops = route.hops.map((h, i) => ({ trustline: h.trustline, from: h.from, to: h.to, expires: opts.now + opts.finalMs + (n - 1 - i) * opts.hopDeltaMs }))
  const body: PlanBody = { v: 1, payer: payer.did, payee: invoice.payee, asset: invoice.asset, amount: invoice.amount, hash: invoice.hash, hops, nonce: opts.nonce, issuedAt: opts.now }
  return { ...body, sig: b4a.toString(sign(framed('plan', body as unknown as Record<string, unknown>), payer.secretKey), 'hex') }
}

/** A plan's id, 64 hex: the hash of what the payer signed. */
export function planId (plan: Plan): string {
  return b4a.toString(sha256(framed('plan', plan as unknown as Record<string, unknown>)), 'hex')
}

/** The id of hop i's htlc in a plan (unique per attempt and hop). */
export function htlcIdOf (id: string, index: number): string {
  return `p${id.slice(0, 40)}.${index}`
}

/**
 * Checks a plan as received: shape, the payer's signature, a contiguous loopless route from the payer to the payee of at most MAX_HOPS_LIMIT hops whose
 * expiries strictly decrease. Pure; never throws. Whether a hop keeps enough time between its
 * two expiries is its own judgement (CreditPayments minDeltaMs).
 */
export function checkPlan (value: unknown, _opts: { now: number } = { now: 0 }): Check<{ plan: Plan; id: string }> {
  try {
    if (!isObj(value) || !hasOnly(value, ['v', 'payer', 'payee', 'asset', 'amount', 'hash', 'hops', 'nonce', 'issuedAt', 'sig'])) return { ok: false, reason: 'a plan has exactly v, payer, payee, asset, amount, hash, hops, nonce, issuedAt and sig' }
    if (value.v !== 1) return { ok: false, reason: 'unknown plan version' }
    if (!isDidKey(value.payer)) return { ok: false, reason: 'the payer is a did:key' }
    if (typeof value.nonce !== 'string' || !NONCE.test(value.nonce) || !isTime(value.issuedAt)) return { ok: false, reason: 'malformed nonce or issuedAt' }
    if (typeof value.sig !== 'string' || !HEX_SIG.test(value.sig)) return { ok: false, reason: 'the plan is not signed' }
    if (!isDidKey(value.payee) || typeof value.asset !== 'string' || !ASSET.test(value.asset)) return { ok: false, reason: 'malformed payee or asset' }
    if (typeof value.amount !== 'string' || !AMOUNT.test(value.amount) || BigInt(value.amount) > MAX_AMOUNT) return { ok: false, reason: 'the amount is a positive whole number of minor units' }
    if (typeof value.hash !== 'string' || !HEX64.test(value.hash)) return { ok: false, reason: 'the hash is a sha256 in 64 lowercase hex' }
    const hops = value.hops
    if (!Array.isArray(hops) || hops.length < 1 || hops.length > MAX_HOPS_LIMIT) return { ok: false, reason: `a plan has 1..${MAX_HOPS_LIMIT} hops` }
    const seen = new Set<string>([value.payer])
    let at: string = value.payer
    let last = Infinity
    const clean: PlanHop[] = []
    for (const h of hops) {
      if (!isObj(h) || !hasOnly(h, ['trustline', 'from', 'to', 'expires'])) return { ok: false, reason: 'a hop has exactly trustline, from, to and expires' }
      if (typeof h.trustline !== 'string' || !HEX64.test(h.trustline)) return { ok: false, reason: 'a hop names a trustline id (64 hex)' }
      if (h.from !== at || !isDidKey(h.to) || seen.has(h.to)) return { ok: false, reason: 'the hops are not a loopless chain from the payer' }
      if (!isTime(h.expires) || h.expires >= last) return { ok: false, reason: 'expiries must decrease along the route' }
      seen.add(h.to)
      at = h.to
      last = h.expires
      clean.push({ trustline: h.trustline, from: h.from as DidKey, to: h.to, expires: h.expires })
    }
    if (at !== value.payee) return { ok: false, reason: 'the route does not end at the payee' }
    if (!verify(framed('plan', value), b4a.from(value.sig, 'hex'), didToPublicKey(value.payer))) return { ok: false, reason: 'the payer\'s signature does not hold for this plan' }
    const plan: Plan = { v: 1, payer: value.payer, payee: value.payee, asset: value.asset, amount: value.amount, hash: value.hash, hops: clean, nonce: value.nonce, issuedAt: value.issuedAt, sig: value.sig }
    return { ok: true, plan, id: planId(plan) }
  } catch {
    return { ok: false, reason: 'the plan cannot be read' }
  }
}

export interface CreditPaymentsOptions {
  sync: TrustlineSync
  rpc: PeerRpc | null
  /** the node's local Hyperbee: invoices and their preimages (key credit/invoice/<hash>) */
  local: Hyperbee
  identity: { did: DidKey; secretKey: Uint8Array }
  /** clock, ms (default Date.now) */
  now?: () => number
  /** padding of a refusal per hop left, this one included, ms (default 1500) */
  holdMs?: number
  /** least time this hop keeps between its incoming and outgoing htlc expiries, ms (default 30 000) */
  minDeltaMs?: number
  /** least time left on an incoming htlc for this node, as payee, to settle it, ms (default 20 000) */
  minFinalMs?: number
  /** as payer: time between two hops' expiries (default 60 000) and the last hop's (default 60 000), ms */
  hopDeltaMs?: number
  finalMs?: number
  /** how long the next hop has to countersign an htlc/add or settle, ms (default 10 000) */
  signTimeoutMs?: number
  /** most this node carries in one payment, either way, minor units; null for none (default) */
  cap?: bigint | null
  /** longest this node lets an htlc hold its credit, ms from now: a later expiry is refused, as hop
   *  (incoming and outgoing) and as payee (default 3 600 000: 1 h) */
  maxHoldMs?: number
}

/** What one attempt over one route gave: the first hop's answer and how long it took to come. */
export interface Attempt {
  plan: Plan
  id: string
  /** 'settled': the payee took it (preimage checked); 'refused': a hop or the payee refused;
   *  'failed': this node could not add its own htlc (its own line cannot carry it) */
  outcome: 'settled' | 'refused' | 'failed'
  preimage?: string
  /** the first hop's answer exactly as it came (null when none came) */
  answer: unknown
  /** ms from sending the forward request to its answer (0 when none was sent) */
  elapsedMs: number
  reason?: string
  /** whether this node signed the htlc/add of hop 0: it may then still take effect until its expiry */
  signed?: boolean
}

/** An invoice this node issued, as kept beside its preimage. */
interface InvoiceRecord { invoice: Invoice; preimage: string; status: 'open' | 'paid'; paidAt?: number }

/**
 * The payer, hop and payee sides of multi-hop payments on one node, over its TrustlineSync and
 * PeerRpc. ready() registers the wire methods and a sync policy for htlc changes; close() removes
 * the policy and waits for the releases in flight (htlcs left live expire on their own).
 */
export class CreditPayments extends ReadyResource {
  private readonly sync: TrustlineSync
  private readonly rpc: PeerRpc | null
  private readonly local: Hyperbee
  private readonly identity: { did: DidKey; secretKey: Uint8Array }
  private readonly now: () => number
  readonly holdMs: number
  readonly minDeltaMs: number
  readonly minFinalMs: number
  readonly hopDeltaMs: number
  readonly finalMs: number
  readonly signTimeoutMs: number
  readonly cap: bigint | null
  readonly maxHoldMs: number
  private removePolicy: (() => void) | null = null
  private readonly inflight = new Set<Promise<unknown>>()
  private readonly waiters = new Map<string, Set<() => void>>()
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private readonly queues = new Map<string, Promise<void>>()
  private readonly onupdate = (id: string) => {
    const set = this.waiters.get(id)
    if (set) for (const fn of [...set]) fn()
  }

  constructor (opts: CreditPaymentsOptions) {
    super()
    this.sync = opts.sync
    this.rpc = opts.rpc
    this.local = opts.local
    this.identity = opts.identity
    this.now = opts.now ?? Date.now
    this.holdMs = opts.holdMs ?? 1500
    this.minDeltaMs = opts.minDeltaMs ?? 30_000
    this.minFinalMs = opts.minFinalMs ?? 20_000
    this.hopDeltaMs = opts.hopDeltaMs ?? 60_000
    this.finalMs = opts.finalMs ?? 60_000
    this.signTimeoutMs = opts.signTimeoutMs ?? 10_000
    this.cap = opts.cap ?? null
    this.maxHoldMs = opts.maxHoldMs ?? 3600_000
  }

  protected async _open (): Promise<void> {
    await this.sync.ready()
    this.sync.on('update', this.onupdate)
    this.removePolicy = this.sync.addPolicy((state, p) => this.policy(state, p))
    const rpc = this.rpc
    if (rpc) {
      rpc.respond(FORWARD_METHOD, async (req, from) => await this.onForward(req, from))
      rpc.respond(COSIGN_METHOD, async (req, from) => await this.onCosign(req, from))
    }
  }

  protected async _close (): Promise<void> {
    if (this.removePolicy) this.removePolicy()
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    // wake every waiter: they see `closing` and give up
    for (const set of this.waiters.values()) for (const fn of [...set]) fn()
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    this.sync.off('update', this.onupdate)
  }

  private background (p: Promise<unknown>): void {
    const q = p.catch(safetyCatch).finally(() => this.inflight.delete(q))
    this.inflight.add(q)
  }

  private sleep (ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (ms <= 0 || this.closing) { resolve(); return }
      const t = setTimeout(() => { this.timers.delete(t); resolve() }, ms)
      this.timers.add(t)
    })
  }

  /**
   * Waits until `check` gives a value, re-checking on every change of trustline `id`, or until
   * this node's clock passes `deadline`.
   * @returns the value, or null at the deadline or on close
   */
  private async waitFor<T> (id: string, check: () => Promise<T | null>, deadline: number): Promise<T | null> {
    for (;;) {
      const v = await check()
      if (v !== null || this.closing) return v
      const left = deadline - this.now()
      if (left <= 0) return null
      await new Promise<void>((resolve) => {
        let set = this.waiters.get(id)
        if (!set) this.waiters.set(id, set = new Set())
        const done = (): void => {
          clearTimeout(t)
          this.timers.delete(t)
          set?.delete(done)
          if (set?.size === 0) this.waiters.delete(id)
          resolve()
        }
        const t = setTimeout(done, Math.min(left, 2_147_000_000))
        this.timers.add(t)
        set.add(done)
      })
    }
  }

  // ---------------- the policy for htlc changes the partner proposes ----------------

  private policy (state: TrustlineState, p: Proposal): Decision {
    const me = sideOf(state, this.identity.did)
    const c = p.change
    if (me === null || p.proposer === me) return 'ask'
    const now = this.now()
    switch (c.type) {
      // the partner pays me, conditionally: it costs me nothing
      case 'htlc/add': return c.from === p.proposer ? 'accept' : 'ask'
      case 'htlc/settle': {
        const h = state.htlcs.find((x) => x.id === c.id)
        if (!h || h.from !== me) return 'ask'
        // after expiry by my clock I may already have failed what pays me for it
        return now <= h.expires && sha256Hex(c.preimage) === h.hash ? 'accept' : 'reject'
      }
      case 'htlc/fail': {
        const h = state.htlcs.find((x) => x.id === c.id)
        if (!h) return 'ask'
        if (h.from === me) return 'accept'
        return now > h.expires ? 'accept' : 'reject'
      }
      default: return 'ask'
    }
  }

  // ---------------- trustline helpers ----------------

  /**
   * Proposes a change and waits for the partner's countersignature; proposes again when the
   * chain moved past it (both parties proposed at once).
   * @returns accepted, or why not ('rejected', 'void' when no answer came in time, or the
   *   machine's reason when it cannot apply)
   */
  private async commit (line: string, change: Change): Promise<{ ok: true } | { ok: false; reason: string; signed: boolean }> {
    // one proposal of ours at a time per line: two would build on the same seq and all but one lose
    const prev = this.queues.get(line) ?? Promise.resolve()
    const run = prev.then(async () => await this.commitNow(line, change))
    const tail = run.then(() => {}, () => {})
    this.queues.set(line, tail)
    try {
      return await run
    } finally {
      if (this.queues.get(line) === tail) this.queues.delete(line)
    }
  }

  private async commitNow (line: string, change: Change): Promise<{ ok: true } | { ok: false; reason: string; signed: boolean }> {
    let signed = false
    for (let round = 0; round < 8 && !this.closing; round++) {
      let r: { proposal: string }
      try {
        r = await this.sync.propose(line, change, { expiresInMs: this.signTimeoutMs })
      } catch (err) {
        return { ok: false, reason: (err as Error).message, signed }
      }
      signed = true
      const rec = await this.sync.store.proposal(line, r.proposal)
      const expires = rec ? rec.entry.proposal.expires : this.now()
      const status = await this.waitFor(line, async () => {
        const x = await this.sync.store.proposal(line, r.proposal)
        return x && x.status !== 'pending' ? x.status : null
      }, expires + 1)
      if (status === 'accepted') return { ok: true }
      if (status === 'superseded') continue
      return { ok: false, reason: status ?? 'void: the partner did not countersign in time', signed }
    }
    return { ok: false, reason: 'the partner did not countersign', signed }
  }

  /** Where an htlc stands on this node's copy of a line. */
  private async htlcState (line: string, id: string): Promise<{ at: 'live'; expires: number; amount: bigint; hash: string; from: Side } | { at: 'settled'; preimage: string } | { at: 'failed' } | { at: 'none' }> {
    const l = await this.sync.store.load(line)
    if (!l) return { at: 'none' }
    const h = l.state.htlcs.find((x) => x.id === id)
    if (h) return { at: 'live', expires: h.expires, amount: h.amount, hash: h.hash, from: h.from }
    for (let i = l.entries.length - 1; i >= 0; i--) {
      const c = (l.entries[i] as Entry).proposal.change
      if (c.type === 'htlc/settle' && c.id === id) return { at: 'settled', preimage: c.preimage }
      if (c.type === 'htlc/fail' && c.id === id) return { at: 'failed' }
    }
    return { at: 'none' }
  }

  /**
   * Resolves an incoming htlc by what became of the outgoing one: settles it with the preimage
   * as soon as it is known (learned from the outgoing settle or given), fails it once the
   * outgoing htlc is failed, never signed, or expired by this node's clock (then this node
   * countersigns no settle of it). Never before `notBefore` (a refusal's hold time).
   */
  private async release (incoming: { line: string; id: string; expires: number }, outgoing: { line: string; id: string; expires: number } | null, learned: { preimage: string | null }, notBefore: number): Promise<'settled' | 'failed' | 'left'> {
    const outcome = outgoing === null
      ? 'failed'
      : await this.waitFor(outgoing.line, async () => await this.outgoingOutcome(outgoing, learned), outgoing.expires + 1) ??
        (await this.outgoingOutcome(outgoing, learned) ?? 'failed')
    if (outcome !== 'failed') {
      // an outgoing htlc settled (we paid): take what pays us, as long as it lives (a partner
      // that answers with proposals of its own cannot make us give up: ours goes first)
      while (!this.closing && this.now() <= incoming.expires) {
        const s = await this.htlcState(incoming.line, incoming.id)
        if (s.at !== 'live') return s.at === 'settled' ? 'settled' : 'left'
        const r = await this.commit(incoming.line, { type: 'htlc/settle', id: incoming.id, preimage: outcome })
        if (r.ok) return 'settled'
        await this.sleep(250)
      }
      return 'left'
    }
    await this.sleep(notBefore - this.now())
    const s = await this.htlcState(incoming.line, incoming.id)
    if (s.at !== 'live') return 'left'
    const r = await this.commit(incoming.line, { type: 'htlc/fail', id: incoming.id })
    return r.ok ? 'failed' : 'left'
  }

  /**
   * What became of an outgoing htlc, read under the line's sync lock (so no countersignature of
   * its settle can land between this read and our decision): the preimage once settled,
   * 'failed' once failed or past its expiry by our clock (the sync then countersigns no settle of
   * it), else null. An add we signed that is not in the chain counts as live until the htlc's own
   * expiry: the partner may still countersign it (back-dated) and settle.
   */
  private async outgoingOutcome (outgoing: { line: string; id: string; expires: number }, learned: { preimage: string | null }): Promise<string | null> {
    if (learned.preimage) return learned.preimage
    return await this.sync.underLock(outgoing.line, async () => {
      const s = await this.htlcState(outgoing.line, outgoing.id)
      if (s.at === 'settled') return s.preimage
      if (s.at === 'failed') return 'failed'
      return this.now() > outgoing.expires ? 'failed' : null
    })
  }

  // ---------------- payee ----------------

  /**
   * Makes an invoice: a fresh 32-byte preimage, kept in the node's local store, and its hash
   * signed with the amount.
   * @param q.amount minor units (> 0), q.asset the code (e.g. CAD), q.expiresInMs (default 1 h)
   * @returns the signed invoice to hand to the payer
   * @throws GrowrError BAD_ARGUMENT for a malformed amount or asset
   */
  async invoice (q: { amount: bigint | string; asset: string; expiresInMs?: number; memo?: string }): Promise<Invoice> {
    await this.ready()
    const amount = typeof q.amount === 'bigint' ? q.amount.toString() : String(q.amount)
    const preimage = b4a.alloc(32)
    sodium.randombytes_buf(preimage)
    const now = this.now()
    const life = q.expiresInMs ?? 3600_000
    if (!Number.isSafeInteger(life) || life <= 0) throw GrowrError.BAD_ARGUMENT('expiresInMs is a positive number of ms')
    const invoice = signInvoice({ v: 1, payee: this.identity.did, asset: String(q.asset), amount, hash: b4a.toString(sha256(preimage), 'hex'), issuedAt: now, expiresAt: now + life, memo: q.memo ?? '' }, this.identity.secretKey)
    const rec: InvoiceRecord = { invoice, preimage: b4a.toString(preimage, 'hex'), status: 'open' }
    await this.local.put(`credit/invoice/${invoice.hash}`, rec)
    return invoice
  }

  /** An invoice this node issued, by hash, with its status (never its preimage); null when unknown. */
  async invoiceStatus (hash: string): Promise<{ invoice: Invoice; status: 'open' | 'paid'; paidAt?: number } | null> {
    if (typeof hash !== 'string' || !HEX64.test(hash)) return null
    const node = await this.local.get(`credit/invoice/${hash}`)
    if (!node) return null
    const r = node.value as InvoiceRecord
    return { invoice: r.invoice, status: r.status, ...(r.paidAt === undefined ? {} : { paidAt: r.paidAt }) }
  }

  // ---------------- payer ----------------

  /**
   * Pays an invoice over the network: routes from `relay` (or the routes given), one attempt per
   * route until one settles.
   * @param q.invoice the payee's signed invoice; q.relay a relay's DID, or q.routes checked routes
   * @param q.maxAttempts routes tried at most (default 3)
   * @returns `{ status: 'settled', preimage, attempts }` (the preimage hashes to the invoice's
   *   hash: proof of payment) or `{ status: 'refused', attempts }`
   * @throws GrowrError BAD_ARGUMENT for an invoice that does not hold, NOT_FOUND when no route exists
   */
  async pay (q: { invoice: unknown; relay?: DidKey; routes?: CheckedRoute[]; maxAttempts?: number; maxHops?: number }): Promise<{ status: 'settled' | 'refused'; preimage?: string; attempts: Attempt[] }> {
    await this.ready()
    const c = checkInvoice(q.invoice, { now: this.now() })
    if (!c.ok) throw GrowrError.BAD_ARGUMENT(c.reason)
    const inv = c.invoice
    if (inv.payee === this.identity.did) throw GrowrError.BAD_ARGUMENT('this is your own invoice')
    let routes = q.routes
    if (!routes) {
      if (!q.relay || !this.rpc) throw GrowrError.BAD_ARGUMENT('a relay (or routes) is needed to pay over the network')
      routes = await routesFrom(this.rpc, q.relay, { from: this.identity.did, to: inv.payee, asset: inv.asset, amount: BigInt(inv.amount), maxHops: q.maxHops, now: this.now(), timeoutMs: 20_000 })
    }
    if (routes.length === 0) throw GrowrError.NOT_FOUND('no route to the payee for that amount')
    const attempts: Attempt[] = []
    const tries = routes.slice(0, q.maxAttempts ?? 3)
    for (let i = 0; i < tries.length; i++) {
      const a = await this.attempt(inv, tries[i])
      attempts.push(a)
      if (a.outcome === 'settled') return { status: 'settled', preimage: a.preimage, attempts }
      if (i === tries.length - 1 || a.signed !== true) continue
      // the same hash again while this attempt's htlc lives would let a hostile payee (or hop)
      // refuse and settle both: go on only once it is failed or expired, stop if it settled
      const end = await this.resolved(a)
      if (end.at === 'settled') return { status: 'settled', preimage: end.preimage, attempts }
    }
    return { status: 'refused', attempts }
  }

  /**
   * Waits until the htlc of an attempt's hop 0 is settled or can no longer settle (failed, or
   * past its expiry by this node's clock: a settle dated after it is refused by the machine).
   */
  private async resolved (a: Attempt): Promise<{ at: 'settled'; preimage: string } | { at: 'failed' }> {
    const line = a.plan.hops[0].trustline
    const out = { line, id: htlcIdOf(a.id, 0), expires: a.plan.hops[0].expires }
    const learned = { preimage: null }
    const r = await this.waitFor(line, async () => await this.outgoingOutcome(out, learned), out.expires + 1) ?? await this.outgoingOutcome(out, learned)
    return r !== null && r !== 'failed' ? { at: 'settled', preimage: r } : { at: 'failed' }
  }

  /**
   * One attempt over one route: signs a plan, adds the htlc of hop 0 on this node's own line,
   * forwards, and resolves this node's htlc by the outcome (failed only when released).
   * @returns the attempt, with the first hop's answer as it came and its timing
   */
  async attempt (invoice: Target, route: Pick<CheckedRoute, 'hops'>): Promise<Attempt> {
    await this.ready()
    const nonce = b4a.alloc(16)
    sodium.randombytes_buf(nonce)
    const plan = buildPlan(invoice, route, this.identity, { now: this.now(), hopDeltaMs: this.hopDeltaMs, finalMs: this.finalMs, nonce: b4a.toString(nonce, 'hex') })
    return await this.attemptPlan(plan)
  }

  /** {@link attempt} for a plan already signed (a payer building its own expiries). */
  async attemptPlan (plan: Plan): Promise<Attempt> {
    await this.ready()
    const id = planId(plan)
    const hop = plan.hops[0]
    const line = await this.sync.store.load(hop.trustline)
    const me = line ? sideOf(line.terms, this.identity.did) : null
    if (!line || me === null || sideOf(line.terms, hop.to) === null) return { plan, id, outcome: 'failed', answer: null, elapsedMs: 0, reason: 'the first hop is not a trustline of yours with the next party' }
    const amount = BigInt(plan.amount)
    if (this.cap !== null && amount > this.cap) return { plan, id, outcome: 'failed', answer: null, elapsedMs: 0, reason: `above your own cap per payment (${this.cap})` }
    const out = { line: hop.trustline, id: htlcIdOf(id, 0), expires: hop.expires }
    const added = await this.commit(hop.trustline, { type: 'htlc/add', id: out.id, hash: plan.hash, amount: plan.amount, from: me, expires: hop.expires })
    if (!added.ok) return { plan, id, outcome: 'failed', answer: null, elapsedMs: 0, reason: added.reason, signed: added.signed }
    const started = Date.now()
    let answer: unknown = null
    try {
      const rpc = this.rpc
      if (!rpc) throw GrowrError.NOT_FOUND('offline')
      if (!rpc.peers().includes(hop.to)) await rpc.connect(hop.to, { timeoutMs: this.signTimeoutMs })
      answer = await rpc.request(hop.to, FORWARD_METHOD, { plan, index: 0 }, { timeoutMs: Math.max(60_000, hop.expires - this.now()) })
    } catch (err) {
      answer = null
      safetyCatch(err)
    }
    const elapsedMs = Date.now() - started
    const a = answer as { ok?: unknown; preimage?: unknown } | null
    if (a && a.ok === true && typeof a.preimage === 'string' && HEX64.test(a.preimage) && sha256Hex(a.preimage) === plan.hash) {
      // the next hop settles our htlc before it answers: wait for it (bounded by its expiry)
      await this.waitFor(out.line, async () => { const s = await this.htlcState(out.line, out.id); return s.at === 'live' ? null : s.at }, Math.min(out.expires, this.now() + this.signTimeoutMs))
      return { plan, id, outcome: 'settled', preimage: a.preimage, answer, elapsedMs, signed: true }
    }
    const s = await this.htlcState(out.line, out.id)
    if (s.at === 'settled') return { plan, id, outcome: 'settled', preimage: s.preimage, answer, elapsedMs, signed: true }
    return { plan, id, outcome: 'refused', answer, elapsedMs, signed: true }
  }

  // ---------------- hop and payee: credit/pay/forward ----------------

  private async onForward (req: unknown, from: DidKey): Promise<unknown> {
    const received = this.now()
    if (this.closing) throw GrowrError.NOT_FOUND('closing')
    const r = isObj(req) ? checkPlan(req.plan, { now: received }) : { ok: false as const, reason: 'malformed' }
    const index = isObj(req) ? req.index : undefined
    if (!r.ok || typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= r.plan.hops.length) {
      // nothing of ours is at stake; padded all the same, so no refusal comes sooner than another
      await this.sleep(received + this.holdMs - this.now())
      return REFUSED
    }
    const { plan, id } = r
    const n = plan.hops.length
    const hold = received + this.holdMs * (n - index)
    const refuse = async (answer: unknown = REFUSED): Promise<unknown> => { await this.sleep(hold - this.now()); return answer }
    const hop = plan.hops[index]
    if (hop.from !== from || hop.to !== this.identity.did) return await refuse()
    const inId = htlcIdOf(id, index)
    const incoming = { line: hop.trustline, id: inId, expires: hop.expires }
    const got = await this.htlcState(hop.trustline, inId)
    const line = await this.sync.store.load(hop.trustline)
    const them = line ? sideOf(line.terms, from) : null
    // an htlc we pay is not ours to release here: only one the caller pays us
    if (got.at !== 'live' || !line || them === null || got.from !== them || sideOf(line.terms, this.identity.did) === null) return await refuse()
    const amount = BigInt(plan.amount)
    // the htlc must be exactly what the payer signed for this hop: a lower amount or a later
    // expiry (which would hold our credit longer than the payer allowed) is refused and released
    const exact = got.hash === plan.hash && got.amount === amount && got.from === them && got.expires === hop.expires
    if (!exact) {
      this.background(this.release(incoming, null, { preimage: null }, hold))
      return await refuse()
    }
    if (this.cap !== null && amount > this.cap) {
      this.background(this.release(incoming, null, { preimage: null }, hold))
      return await refuse(aboveCap(this.cap))
    }
    // payer and payee together could otherwise hold our credit (both ways) for as long as they like
    if (hop.expires > received + this.maxHoldMs) {
      this.background(this.release(incoming, null, { preimage: null }, hold))
      return await refuse()
    }
    if (index === n - 1) return await this.receiveAsPayee(plan, incoming, hold, refuse)

    // a hop: keep our margin, add the outgoing htlc (the machine checks our available credit)
    const next = plan.hops[index + 1]
    const outLine = await this.sync.store.load(next.trustline)
    const me = outLine ? sideOf(outLine.terms, this.identity.did) : null
    const outgoing = { line: next.trustline, id: htlcIdOf(id, index + 1), expires: next.expires }
    const learned = { preimage: null as string | null }
    if (!outLine || me === null || next.from !== this.identity.did || sideOf(outLine.terms, next.to) === null ||
        hop.expires < next.expires + this.minDeltaMs || next.expires <= this.now() + this.minFinalMs / 2 || next.expires > this.now() + this.maxHoldMs) {
      this.background(this.release(incoming, null, learned, hold))
      return await refuse()
    }
    const added = await this.commit(next.trustline, { type: 'htlc/add', id: outgoing.id, hash: plan.hash, amount: plan.amount, from: me, expires: next.expires })
    if (!added.ok) {
      this.background(this.release(incoming, added.signed ? outgoing : null, learned, hold))
      return await refuse()
    }
    const releasing = this.release(incoming, outgoing, learned, hold)
    this.background(releasing)
    let answer: unknown = null
    try {
      const rpc = this.rpc as PeerRpc
      if (!rpc.peers().includes(next.to)) await rpc.connect(next.to, { timeoutMs: this.signTimeoutMs })
      answer = await rpc.request(next.to, FORWARD_METHOD, { plan, index: index + 1 }, { timeoutMs: Math.max(1000, next.expires - this.now()) })
    } catch (err) {
      safetyCatch(err)
    }
    const a = answer as { ok?: unknown; preimage?: unknown } | null
    if (a && a.ok === true && typeof a.preimage === 'string' && HEX64.test(a.preimage) && sha256Hex(a.preimage) === plan.hash) {
      learned.preimage = a.preimage
      this.onupdate(outgoing.line)
      if (await releasing === 'settled') return { ok: true, preimage: a.preimage }
    }
    // whatever the next hop said: the same refusal, at the hold time (above-cap answers pass on)
    const passOn = a && a.ok === false && typeof (a as { cap?: unknown }).cap === 'string' && /^[0-9]{1,16}$/.test((a as { cap: string }).cap) ? aboveCap(BigInt((a as { cap: string }).cap)) : REFUSED
    return await refuse(passOn)
  }

  private async receiveAsPayee (plan: Plan, incoming: { line: string; id: string; expires: number }, hold: number, refuse: (answer?: unknown) => Promise<unknown>): Promise<unknown> {
    const key = `credit/invoice/${plan.hash}`
    const node = await this.local.get(key)
    const rec = node ? (node.value as InvoiceRecord) : null
    const now = this.now()
    const fits = rec !== null && rec.status === 'open' && rec.invoice.amount === plan.amount && rec.invoice.asset === plan.asset &&
      now <= rec.invoice.expiresAt && incoming.expires >= now + this.minFinalMs / 2
    if (!fits) {
      this.background(this.release(incoming, null, { preimage: null }, hold))
      return await refuse()
    }
    const settled = await this.commit(incoming.line, { type: 'htlc/settle', id: incoming.id, preimage: rec.preimage })
    if (!settled.ok) {
      // the preimage is out in our signed proposal: keep trying while the htlc lives
      this.background(this.release(incoming, { line: incoming.line, id: '', expires: incoming.expires }, { preimage: rec.preimage }, hold))
      return await refuse()
    }
    await this.local.put(key, { ...rec, status: 'paid', paidAt: this.now() })
    return { ok: true, preimage: rec.preimage }
  }

  // ---------------- announcements both parties sign ----------------

  /**
   * Announces one of this node's trustlines to a relay, signed by both parties: asks the partner
   * to countersign the announcement of the limits both hold now, with a cap per payment of the
   * lower of both parties' caps.
   * @param q.relay the relay's DID; q.ttlMs lifetime (default 1 day)
   * @returns the announcement and whether the relay stored it
   * @throws GrowrError NOT_FOUND (no such trustline; partner or relay unreachable), OP_REJECTED
   *   (the partner or the relay refused, with its reason)
   */
  async announce (line: string, q: { relay: DidKey; ttlMs?: number }): Promise<{ announcement: Announcement; stored: boolean }> {
    await this.ready()
    const rpc = this.rpc
    if (!rpc) throw GrowrError.NOT_FOUND('this node runs offline')
    const l = await this.sync.store.load(line)
    if (!l || sideOf(l.terms, this.identity.did) === null) throw GrowrError.NOT_FOUND(`no trustline ${line}`)
    const partner = l.terms.a === this.identity.did ? l.terms.b : l.terms.a
    const now = this.now()
    const s = l.state
    const make = (cap: bigint | null): AnnouncementBody => announcementBody({ trustline: s.id, a: s.a, b: s.b, asset: s.asset, limitAtoB: s.limitAtoB, limitBtoA: s.limitBtoA, cap, seq: now, issuedAt: now, expiresAt: now + (q.ttlMs ?? 24 * 3600_000) })
    let body = make(this.cap)
    if (!rpc.peers().includes(partner)) await rpc.connect(partner, { timeoutMs: this.signTimeoutMs })
    let answer = await rpc.request(partner, COSIGN_METHOD, { body }, { timeoutMs: 20_000 }) as { signature?: unknown; cap?: unknown } | null
    if (answer && typeof answer.cap === 'string' && /^[0-9]{1,16}$/.test(answer.cap)) {
      const theirs = BigInt(answer.cap)
      body = make(this.cap === null || theirs < this.cap ? theirs : this.cap)
      answer = await rpc.request(partner, COSIGN_METHOD, { body }, { timeoutMs: 20_000 }) as typeof answer
    }
    if (!answer || typeof answer.signature !== 'string') throw GrowrError.OP_REJECTED('the partner did not countersign the announcement')
    const mine = signAnnouncement(body, this.identity)
    const announcement: Announcement = { ...body, signatures: body.a === this.identity.did ? [mine, answer.signature] : [answer.signature, mine] }
    const c = checkAnnouncement(announcement, { now: this.now() })
    if (!c.ok) throw GrowrError.OP_REJECTED(`the partner's countersignature does not hold: ${c.reason}`)
    const r = await announceTo(rpc, q.relay, announcement, { timeoutMs: 20_000 })
    return { announcement, stored: r.stored }
  }

  private async onCosign (req: unknown, from: DidKey): Promise<unknown> {
    if (this.closing) throw GrowrError.NOT_FOUND('closing')
    const body = isObj(req) ? (req.body as AnnouncementBody) : null
    if (!isObj(body) || typeof body.trustline !== 'string' || !HEX64.test(body.trustline)) throw GrowrError.BAD_ARGUMENT('expected { body } of an announcement')
    const l = await this.sync.store.load(body.trustline).catch(() => null)
    if (!l || sideOf(l.terms, from) === null || sideOf(l.terms, this.identity.did) === null || from === this.identity.did) throw GrowrError.NOT_FOUND('no such trustline with you')
    const s = l.state
    let fresh: AnnouncementBody
    try {
      fresh = announcementBody({ trustline: s.id, a: s.a, b: s.b, asset: s.asset, limitAtoB: s.limitAtoB, limitBtoA: s.limitBtoA, cap: body.cap === null ? null : BigInt(String(body.cap)), seq: body.seq, issuedAt: body.issuedAt, expiresAt: body.expiresAt })
    } catch (err) {
      throw GrowrError.BAD_ARGUMENT((err as Error).message)
    }
    // only what both hold now, and never a cap above ours: every other field is rebuilt by us
    if (JSON.stringify(fresh) !== JSON.stringify(body)) throw GrowrError.OP_REJECTED('the announcement does not state the limits we hold')
    if (Math.abs(body.issuedAt - this.now()) > 60_000) throw GrowrError.OP_REJECTED('the announcement is not dated now')
    if (this.cap !== null && (body.cap === null || BigInt(body.cap) > this.cap)) return { cap: this.cap.toString() }
    return { signature: signAnnouncement(fresh, this.identity) }
  }
}
