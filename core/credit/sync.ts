/**
 * Two-party sync of trustlines over the node's peer RPC (docs/trustline-spec.md section 8).
 *
 * Each party keeps its copy (core/credit/store.ts). A proposal is signed locally and sent to the
 * partner (`trustline/propose`) when it is connected, else when it comes back; the partner's user
 * (or its policy) countersigns or rejects, and the answer travels back (`trustline/sign`). After
 * every change a party tells the other (`trustline/announce`), which then pulls
 * (`trustline/sync`, paged) and keeps `reconcile(mine, theirs)`: the one behind catches up from
 * the other's signed copy, every entry replayed through the pure machine. When a partner
 * connects, both pull and pending proposals are sent again.
 *
 * Events: 'update' (id) after any change to a trustline's chain or proposals (re-read with show).
 * Programmatic users (multi-hop payments) pass a `policy` to countersign or reject incoming
 * proposals without a user, and call propose/accept/reject/pull directly.
 *
 * Every request is answered only for a party of the trustline; every body is hostile until the
 * machine has checked it. Time: `now()` is this party's clock and goes into what it signs.
 * Lifecycle: ready() registers the rpc methods and the connect hook; close() removes the hook and
 * waits for work in flight. Loads under Bare: no `node:` imports.
 */
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import type Hyperbee from 'hyperbee'
import { GrowrError } from '../errors.ts'
import { isDidKey, type DidKey } from '../identity/did-key.ts'
import type { PeerRpc } from '../network/peer-rpc.ts'
import { TrustlineStore, type ProposalRecord } from './store.ts'
import {
  accept as acceptProposal, apply, checkRejection, checkTerms, didOf, genesis, isUnilateral, newTerms,
  propose as buildProposal, proposalHash, reconcile, reject as buildRejection, sideOf, transition, available
} from '../../books/trustline/machine.ts'
import { stateHash, stateJson } from '../../books/trustline/encoding.ts'
import type { Change, Entry, Proposal, Side, SignedRejection, TrustlineState, TrustlineTerms } from '../../books/trustline/types.ts'

/** RPC method names. */
export const METHODS = { propose: 'trustline/propose', sign: 'trustline/sign', sync: 'trustline/sync', announce: 'trustline/announce' } as const
/** Entries per `trustline/sync` page (an entry is about 1 KB of JSON; answers stay under 1 MiB). */
export const SYNC_PAGE = 400
/** Default life of a proposal, ms (1 day). */
export const DEFAULT_EXPIRY_MS = 24 * 3600_000
/** Most pending incoming proposals kept per trustline; more are refused (flooding). */
export const MAX_PENDING_IN = 100
/** Most trustlines a partner may open with this node by proposing (flooding). */
export const MAX_REMOTE_LINES_PER_PEER = 50
/**
 * Furthest a partner's proposal may be dated ahead of this party's clock, ms (5 s). A proposal's
 * `at` becomes the line's time, and an htlc settles only while the line's time is at most its
 * expiry: a partner dating ahead could make an htlc it owes unsettleable. This node countersigns
 * only once its own clock has reached `at`, so the line's time never runs ahead of it by more
 * than this; hops keep more than this between their expiries (payment.ts minDeltaMs).
 */
export const MAX_CLOCK_SKEW_MS = 5_000
/** Most proposals a partner may have refused or superseded here per trustline and hour (flooding). */
export const MAX_UNTAKEN_IN_PER_HOUR = 500
/** Age after which rejected and superseded proposal records are deleted, ms (1 day). */
export const UNTAKEN_KEEP_MS = 24 * 3600_000
/**
 * Most unilateral entries (limit cuts, which need no countersignature of ours) a pull takes
 * beyond our own chain's length: every two-party entry carries our signature, so only these can
 * make a partner's copy grow without our consent.
 */
export const MAX_UNILATERAL_AHEAD = 1000

/** What a policy says about an incoming proposal: countersign at once, reject, or ask the user. */
export type Decision = 'accept' | 'reject' | 'ask'

export interface TrustlineSyncOptions {
  local: Hyperbee
  identity: { did: DidKey; secretKey: Uint8Array }
  /** null when the node runs offline: everything is kept and sent on a later start */
  rpc: PeerRpc | null
  /** this party's clock, ms (default Date.now) */
  now?: () => number
  /** decides incoming proposals (default: ask the user for every one) */
  policy?: (state: TrustlineState, proposal: Proposal) => Decision
  /** how long to wait for a partner to connect when sending, ms (default 5000) */
  connectTimeoutMs?: number
}

/** A trustline as this party shows it. */
export interface TrustlineView {
  id: string
  terms: TrustlineTerms
  me: Side
  partner: DidKey
  /** the state's JSON form (amounts as strings) and its hash */
  state: Record<string, unknown>
  head: string
  /** from this party's side: positive = I owe the partner (minor units, string) */
  myBalance: string
  /** what I can still pay the partner now / what the partner can still pay me */
  myAvailable: string
  partnerAvailable: string
  /** proposals beside the chain, with `expired` judged by this party's clock */
  proposals: Array<{ hash: string; dir: 'in' | 'out'; status: string; expired: boolean; seq: number; change: Change; proposer: Side; at: number; expires: number; rejection?: { at: number; reason: string } }>
  /** the chain (full history), oldest first */
  history?: Entry[]
}

export class TrustlineSync extends ReadyResource {
  readonly store: TrustlineStore
  private readonly rpc: PeerRpc | null
  private readonly identity: { did: DidKey; secretKey: Uint8Array }
  private readonly now: () => number
  private readonly policy: (state: TrustlineState, proposal: Proposal) => Decision
  private readonly policies: Array<(state: TrustlineState, proposal: Proposal) => Decision> = []
  private readonly connectTimeoutMs: number
  private readonly locks = new Map<string, Promise<unknown>>()
  // one pull per line at a time, at most one more waiting (announces coalesce into it)
  private readonly pullRunning = new Map<string, Promise<{ changed: boolean; length: number; head: string }>>()
  private readonly pullWaiting = new Map<string, Promise<{ changed: boolean; length: number; head: string }>>()
  private readonly inflight = new Set<Promise<unknown>>()
  private readonly onpeer = (did: string) => { this.background(this.meet(did as DidKey)) }

  constructor (opts: TrustlineSyncOptions) {
    super()
    // 'update' (id): the chain or the proposals of a trustline changed; listeners re-read it
    this.store = new TrustlineStore(opts.local, (id) => { this.emit('update', id) })
    this.rpc = opts.rpc
    this.identity = opts.identity
    this.now = opts.now ?? Date.now
    this.policy = opts.policy ?? (() => 'ask')
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000
  }

  protected async _open (): Promise<void> {
    const rpc = this.rpc
    if (!rpc) return
    rpc.respond(METHODS.propose, async (req, from) => await this.onPropose(req, from))
    rpc.respond(METHODS.sign, async (req, from) => await this.onSign(req, from))
    rpc.respond(METHODS.sync, async (req, from) => await this.onSync(req, from))
    rpc.respond(METHODS.announce, async (req, from) => await this.onAnnounce(req, from))
    rpc.on('peer', this.onpeer)
    for (const did of rpc.peers()) this.onpeer(did)
    // whoever comes back looks for its partners: they may have changed things while it was away
    this.background(this.reachPartners())
  }

  /**
   * Adds a policy consulted before the one given at construction (multi-hop payments decide their
   * htlc changes this way); the first answer other than 'ask' wins, else the constructor's policy.
   * @param fn decides one incoming proposal on the state it applies to; must not throw
   * @returns a function that removes it
   */
  addPolicy (fn: (state: TrustlineState, proposal: Proposal) => Decision): () => void {
    this.policies.push(fn)
    return () => {
      const i = this.policies.indexOf(fn)
      if (i !== -1) this.policies.splice(i, 1)
    }
  }

  private decideOne (state: TrustlineState, proposal: Proposal): Decision {
    for (const fn of this.policies) {
      const d = fn(state, proposal)
      if (d !== 'ask') return d
    }
    return this.policy(state, proposal)
  }

  /** Connects to every partner not connected now (they announce their DID); meeting follows on 'peer'. */
  private async reachPartners (): Promise<void> {
    const rpc = this.rpc
    if (!rpc) return
    const partners = new Set<DidKey>()
    for (const id of await this.store.ids()) {
      const line = await this.store.load(id).catch(() => null)
      if (line && sideOf(line.terms, this.identity.did) !== null) partners.add(this.partnerOf(line.terms))
    }
    await Promise.allSettled([...partners].filter((did) => !rpc.peers().includes(did)).map(async (did) => {
      if (!this.closing) await rpc.connect(did, { timeoutMs: this.connectTimeoutMs * 4 })
    }))
  }

  protected async _close (): Promise<void> {
    if (this.rpc) this.rpc.off('peer', this.onpeer)
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
  }

  private background (p: Promise<unknown>): void {
    const q = p.catch(safetyCatch).finally(() => this.inflight.delete(q))
    this.inflight.add(q)
  }

  /** Runs `fn` alone for one trustline (local actions and network answers never interleave). */
  private async locked<T> (id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve()
    const run = prev.catch(() => {}).then(fn)
    const tail = run.catch(() => {})
    this.locks.set(id, tail)
    try {
      return await run
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id)
    }
  }

  /**
   * Runs `fn` under the same per-trustline lock as countersigning and merging, so that what it
   * reads cannot change under it (multi-hop payments decide to fail an htlc this way).
   * `fn` must not call this object's methods that take the lock (propose, accept, reject, pull).
   */
  async underLock<T> (id: string, fn: () => Promise<T>): Promise<T> {
    return await this.locked(id, fn)
  }

  private myside (terms: { a: string; b: string }): Side {
    const s = sideOf(terms, this.identity.did)
    if (s === null) throw GrowrError.BAD_ARGUMENT('this node is not a party of that trustline')
    return s
  }

  private partnerOf (terms: { a: DidKey; b: DidKey }): DidKey {
    return terms.a === this.identity.did ? terms.b : terms.a
  }

  private async must (id: string): Promise<{ terms: TrustlineTerms; entries: Entry[]; state: TrustlineState }> {
    await this.ready()
    if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) throw GrowrError.BAD_ARGUMENT('a trustline id is 64 hex')
    const line = await this.store.load(id)
    if (!line) throw GrowrError.NOT_FOUND(`no trustline ${id}`)
    return line
  }

  // ---------------- local actions ----------------

  /**
   * Opens a trustline with `partner` in `asset`; with `limit` > 0 also proposes extending that
   * much credit to the partner (a raise: the partner must accept).
   * @param limit minor units (bigint or decimal string), default 0
   * @returns the trustline id and the proposal's hash (null without a limit)
   * @throws GrowrError BAD_ARGUMENT for a malformed DID, asset or limit, or our own DID
   */
  async open (partner: string, asset: string, limit: bigint | string = 0n, opts: { expiresInMs?: number } = {}): Promise<{ id: string; proposal: string | null }> {
    await this.ready()
    if (!isDidKey(partner) || partner === this.identity.did) throw GrowrError.BAD_ARGUMENT('the partner must be another did:key')
    let terms: TrustlineTerms
    try {
      terms = newTerms(this.identity.did, partner, String(asset), this.now())
    } catch (err) {
      throw GrowrError.BAD_ARGUMENT((err as Error).message)
    }
    const state = genesis(terms)
    await this.locked(state.id, async () => { await this.store.save(terms, [], state, 0, this.now()) })
    const amount = toAmount(limit)
    if (amount === 0n) return { id: state.id, proposal: null }
    const me = this.myside(terms)
    const r = await this.propose(state.id, { type: 'limit', side: me === 'A' ? 'BtoA' : 'AtoB', amount: amount.toString() }, opts)
    return { id: state.id, proposal: r.proposal }
  }

  /**
   * Proposes a change on a trustline. A unilateral change (lowering the credit this party
   * extends) takes effect at once; any other waits for the partner's countersignature.
   * @returns `{ proposal: hash, status: 'applied' | 'pending', sent }` (`sent`: the partner got it now)
   * @throws GrowrError OP_REJECTED with the machine's reason when the change cannot apply
   */
  async propose (id: string, change: Change, opts: { expiresInMs?: number } = {}): Promise<{ proposal: string; status: 'applied' | 'pending'; sent: boolean }> {
    const res = await this.locked(id, async () => {
      const line = await this.must(id)
      const me = this.myside(line.terms)
      const at = Math.max(this.now(), line.state.time)
      const life = opts.expiresInMs ?? DEFAULT_EXPIRY_MS
      if (!Number.isSafeInteger(life) || life < 0) throw GrowrError.BAD_ARGUMENT('expiresInMs must be a non-negative integer')
      const p = buildProposal(line.state, { change, proposer: me, at, expires: at + life }, this.identity.secretKey)
      if (!p.ok) throw GrowrError.OP_REJECTED(p.reason)
      const rec = TrustlineStore.record('out', p.entry, this.now())
      if (isUnilateral(line.state, p.entry.proposal)) {
        await this.store.save(line.terms, [...line.entries, p.entry], p.state, line.entries.length, this.now())
        await this.store.putProposal(id, { ...rec, status: 'accepted' })
        return { rec, unilateral: true, terms: line.terms }
      }
      await this.store.putProposal(id, rec)
      return { rec, unilateral: false, terms: line.terms }
    })
    const partner = this.partnerOf(res.terms)
    if (res.unilateral) {
      this.background(this.announce(id, partner))
      return { proposal: res.rec.hash, status: 'applied', sent: false }
    }
    const sent = await this.send(partner, METHODS.propose, { terms: res.terms, entry: res.rec.entry })
    return { proposal: res.rec.hash, status: 'pending', sent: sent !== null }
  }

  /**
   * Countersigns a proposal the partner made.
   * @returns the new seq and state hash
   * @throws GrowrError NOT_FOUND (no such pending proposal), OP_REJECTED (expired by this
   *   party's clock, superseded, or refused by the machine; the reason says which)
   */
  async accept (id: string, hash: string): Promise<{ seq: number; head: string }> {
    // a proposal dated slightly ahead of our clock (within MAX_CLOCK_SKEW_MS) waits until our
    // clock reaches it: we countersign at our own time, never at the partner's
    const first = await this.store.proposal(id, hash)
    if (first && first.dir === 'in' && first.status === 'pending') {
      const ahead = first.entry.proposal.at - this.now()
      if (ahead > MAX_CLOCK_SKEW_MS) throw GrowrError.OP_REJECTED(`the proposal is dated ${ahead} ms ahead of our clock (more than ${MAX_CLOCK_SKEW_MS} ms)`)
      if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead))
    }
    const out = await this.locked(id, async () => {
      const line = await this.must(id)
      const rec = await this.store.proposal(id, hash)
      if (!rec || rec.dir !== 'in') throw GrowrError.NOT_FOUND('no proposal from the partner with that hash')
      if (rec.status !== 'pending') throw GrowrError.OP_REJECTED(`the proposal is ${rec.status}`)
      const now = this.now()
      const p = rec.entry.proposal
      if (now > p.expires) throw GrowrError.OP_REJECTED('the proposal expired: it is void')
      if (p.at > now) throw GrowrError.OP_REJECTED('the proposal is dated ahead of our clock: we countersign only at our own time')
      // both proposed at once: a settle goes first, then the smaller proposal hash (spec section 7)
      for (const mine of await this.store.proposals(id)) {
        const q = mine.entry.proposal
        if (mine.dir === 'out' && mine.status === 'pending' && q.seq === p.seq && q.prev === p.prev && now <= q.expires && goesFirst(mine, rec)) {
          throw GrowrError.OP_REJECTED('our own proposal for this seq goes first (a settle, or the smaller hash): the partner countersigns it, then propose again')
        }
      }
      // an htlc we pay, settled after its expiry by our clock: we may already have failed what
      // pays us for it upstream (decided here, under the lock, not when the policy looked)
      if (p.change.type === 'htlc/settle') {
        const hid = p.change.id
        const h = line.state.htlcs.find((x) => x.id === hid)
        if (h && h.from === this.myside(line.terms) && now > h.expires) throw GrowrError.OP_REJECTED('htlc/settle: the htlc expired by our clock; we no longer countersign its settle')
      }
      const r = acceptProposal(line.state, rec.entry, now, this.identity.secretKey)
      if (!r.ok) {
        if (rec.entry.proposal.seq <= line.state.seq) await this.store.putProposal(id, { ...rec, status: 'superseded' })
        throw GrowrError.OP_REJECTED(r.reason)
      }
      await this.store.save(line.terms, [...line.entries, r.entry], r.state, line.entries.length, now)
      await this.store.putProposal(id, { ...rec, status: 'accepted' })
      await this.supersede(id, r.state.seq)
      return { entry: r.entry, state: r.state, partner: this.partnerOf(line.terms) }
    })
    await this.send(out.partner, METHODS.sign, { line: id, entry: out.entry })
    return { seq: out.state.seq, head: stateHash(out.state) }
  }

  /**
   * Rejects a proposal the partner made (signed; the partner keeps the rejection too).
   * @throws GrowrError NOT_FOUND / OP_REJECTED when it is not a pending proposal from the partner
   */
  async reject (id: string, hash: string, reason = ''): Promise<{ rejected: true }> {
    const out = await this.locked(id, async () => {
      const line = await this.must(id)
      const rec = await this.store.proposal(id, hash)
      if (!rec || rec.dir !== 'in') throw GrowrError.NOT_FOUND('no proposal from the partner with that hash')
      if (rec.status !== 'pending') throw GrowrError.OP_REJECTED(`the proposal is ${rec.status}`)
      const rejection = buildRejection(rec.entry.proposal, Math.max(this.now(), rec.entry.proposal.at), String(reason), this.identity.secretKey)
      await this.store.putProposal(id, { ...rec, status: 'rejected', rejection })
      return { rejection, proposal: rec.entry.proposal, partner: this.partnerOf(line.terms) }
    })
    await this.send(out.partner, METHODS.sign, { line: id, proposal: out.proposal, rejection: out.rejection })
    return { rejected: true }
  }

  /** One trustline as this party sees it, with its history when `history` is true. */
  async show (id: string, opts: { history?: boolean } = {}): Promise<TrustlineView> {
    const line = await this.must(id)
    const me = this.myside(line.terms)
    const now = this.now()
    const s = line.state
    const recs = await this.store.proposals(id)
    const view: TrustlineView = {
      id,
      terms: line.terms,
      me,
      partner: this.partnerOf(line.terms),
      state: stateJson(s),
      head: stateHash(s),
      myBalance: (me === 'A' ? s.balance : -s.balance).toString(),
      myAvailable: available(s, me, now).toString(),
      partnerAvailable: available(s, me === 'A' ? 'B' : 'A', now).toString(),
      proposals: recs.map((r) => ({
        hash: r.hash,
        dir: r.dir,
        status: r.status,
        expired: r.status === 'pending' && now > r.entry.proposal.expires,
        seq: r.entry.proposal.seq,
        change: r.entry.proposal.change,
        proposer: r.entry.proposal.proposer,
        at: r.entry.proposal.at,
        expires: r.entry.proposal.expires,
        ...(r.rejection ? { rejection: { at: r.rejection.rejection.at, reason: r.rejection.rejection.reason } } : {})
      })).sort((x, y) => x.at - y.at || (x.hash < y.hash ? -1 : 1))
    }
    if (opts.history) view.history = line.entries
    return view
  }

  /** Every trustline of this party. */
  async list (opts: { history?: boolean } = {}): Promise<TrustlineView[]> {
    await this.ready()
    const out: TrustlineView[] = []
    for (const id of await this.store.ids()) out.push(await this.show(id, opts))
    return out
  }

  /**
   * Pulls the partner's copy and keeps the reconciled chain (spec section 6), plus the
   * rejections and pending proposals it holds. Needs the partner connected (or reachable).
   * @returns `{ changed, length, head }`
   * @throws GrowrError NOT_FOUND when the partner cannot be reached
   */
  async pull (id: string): Promise<{ changed: boolean; length: number; head: string }> {
    const waiting = this.pullWaiting.get(id)
    if (waiting) return await waiting
    const running = this.pullRunning.get(id)
    const self: { p?: Promise<{ changed: boolean; length: number; head: string }> } = {}
    const p = (async () => {
      // the first await lets `self.p` and the maps below be set before the body reads them
      await (running ? running.catch(() => {}) : null)
      if (this.pullWaiting.get(id) === self.p) this.pullWaiting.delete(id)
      this.pullRunning.set(id, self.p as Promise<{ changed: boolean; length: number; head: string }>)
      try {
        return await this.pullOnce(id)
      } finally {
        if (this.pullRunning.get(id) === self.p) this.pullRunning.delete(id)
      }
    })()
    self.p = p
    if (running) this.pullWaiting.set(id, p)
    else this.pullRunning.set(id, p)
    return await p
  }

  /**
   * One pull. Pages are replayed as they arrive: the first entry that does not apply ends it, and
   * so does the MAX_UNILATERAL_AHEAD-th unilateral entry beyond our length; the `length` a
   * partner claims is never trusted (memory stays bounded by what we signed).
   */
  private async pullOnce (id: string): Promise<{ changed: boolean; length: number; head: string }> {
    const line = await this.must(id)
    const partner = this.partnerOf(line.terms)
    const rpc = this.rpc
    if (!rpc) throw GrowrError.NOT_FOUND('this node runs offline')
    if (!rpc.peers().includes(partner)) await rpc.connect(partner, { timeoutMs: this.connectTimeoutMs })
    const theirs: unknown[] = []
    let rejections: unknown[] = []
    let pending: unknown[] = []
    let state = genesis(line.terms)
    let unilateralAhead = 0
    let stop = false
    for (let from = 0; !stop && !this.closing; from += SYNC_PAGE) {
      const page = await rpc.request(partner, METHODS.sync, { line: id, from, limit: SYNC_PAGE }, { timeoutMs: 20_000 }) as Record<string, unknown>
      if (page === null || typeof page !== 'object' || !Array.isArray(page.entries) || typeof page.length !== 'number') throw GrowrError.OP_REJECTED('the partner answered a malformed sync page')
      if (from === 0) {
        rejections = Array.isArray(page.rejections) ? page.rejections.slice(0, 1000) : []
        pending = Array.isArray(page.pending) ? page.pending.slice(0, MAX_PENDING_IN) : []
      }
      const entries = page.entries.slice(0, SYNC_PAGE)
      for (const e of entries) {
        const r = apply(state, e)
        if (!r.ok) { stop = true; break }
        if (theirs.length >= line.entries.length && !isObj((e as Record<string, unknown>).accept) && ++unilateralAhead > MAX_UNILATERAL_AHEAD) { stop = true; break }
        state = r.state
        theirs.push(e)
      }
      if (entries.length < SYNC_PAGE) break
    }
    return await this.locked(id, async () => await this.merge(id, theirs, rejections, pending))
  }

  // ---------------- merging what the partner sent ----------------

  private async merge (id: string, theirs: unknown[], rejections: unknown[], pending: unknown[]): Promise<{ changed: boolean; length: number; head: string }> {
    const line = await this.must(id)
    const me = this.myside(line.terms)
    const r = reconcile(line.terms, line.entries, theirs)
    const before = stateHash(line.state)
    const after = stateHash(r.state)
    let changed = false
    if (after !== before || r.entries.length !== line.entries.length) {
      let keep = 0
      while (keep < line.entries.length && keep < r.entries.length && sameEntry(line.entries[keep], r.entries[keep])) keep++
      await this.store.save(line.terms, r.entries, r.state, keep, this.now())
      changed = true
      // entries now in the chain: their proposals are accepted; ours that lost are superseded
      for (const e of r.entries.slice(keep)) {
        const hash = proposalHash(e.proposal)
        const rec = await this.store.proposal(id, hash)
        const dir = e.proposal.proposer === me ? 'out' : 'in'
        await this.store.putProposal(id, { ...(rec ?? TrustlineStore.record(dir, e, this.now())), status: 'accepted' })
      }
      await this.supersede(id, r.state.seq)
      // a unilateral cut of ours that lost a race is made again on the kept chain (spec section 6)
      for (const e of r.superseded) {
        if (e.accept || e.proposal.proposer !== me || e.proposal.change.type !== 'limit') continue
        const cur = await this.must(id)
        const again = buildProposal(cur.state, { change: e.proposal.change, proposer: me, at: Math.max(this.now(), cur.state.time), expires: Math.max(this.now(), cur.state.time) }, this.identity.secretKey)
        if (again.ok && isUnilateral(cur.state, again.entry.proposal)) {
          await this.store.save(cur.terms, [...cur.entries, again.entry], again.state, cur.entries.length, this.now())
          await this.store.putProposal(id, { ...TrustlineStore.record('out', again.entry, this.now()), status: 'accepted' })
        }
      }
    }
    // signed rejections of our proposals
    for (const j of rejections) {
      if (!isObj(j) || !isObj(j.rejection) || typeof j.rejection.proposal !== 'string') continue
      const rec = await this.store.proposal(id, j.rejection.proposal)
      if (!rec || rec.dir !== 'out' || rec.status !== 'pending') continue
      const ok = checkRejection(line.state, rec.entry.proposal, j)
      if (ok.ok) { await this.store.putProposal(id, { ...rec, status: 'rejected', rejection: j as unknown as SignedRejection }); changed = true }
    }
    // the partner's pending proposals we never received (we were offline, or restored)
    for (const e of pending) await this.receive(id, e, this.partnerOf(line.terms)).catch(safetyCatch)
    const cur = await this.must(id)
    return { changed, length: cur.entries.length, head: stateHash(cur.state) }
  }

  /** Marks pending proposals whose seq the chain has passed as superseded. */
  private async supersede (id: string, seq: number): Promise<void> {
    for (const rec of await this.store.proposals(id)) {
      if (rec.status === 'pending' && rec.entry.proposal.seq <= seq) await this.store.putProposal(id, { ...rec, status: 'superseded' })
    }
  }

  /**
   * Stores a proposal the partner sent, after checking it is signed by the partner as proposer
   * and applies to our head; then asks the policy.
   */
  private async receive (id: string, entry: unknown, from: DidKey): Promise<{ status: string }> {
    const line = await this.must(id)
    if (!isObj(entry) || !isObj(entry.proposal)) throw GrowrError.BAD_ARGUMENT('malformed proposal')
    const p = entry.proposal as unknown as Proposal
    const them = sideOf(line.terms, from)
    if (them === null || them === this.myside(line.terms)) throw GrowrError.OP_REJECTED('only the partner may propose on this trustline')
    if (p.proposer !== them) throw GrowrError.OP_REJECTED('the proposer named in the proposal is not the caller')
    if ('accept' in entry) throw GrowrError.BAD_ARGUMENT('a proposal travels without countersignature')
    const hash = proposalHash(p)
    const known = await this.store.proposal(id, hash)
    if (known) return { status: known.status }
    // checks the signature and the transition on our head, without a countersignature
    const probe = apply(line.state, { proposal: p, sig: entry.sig, accept: { acceptance: { v: 1, line: p.line, seq: p.seq, proposal: hash, state: p.state, at: p.at }, sig: '00'.repeat(64) } })
    if (!probe.ok && !/countersignature does not hold/.test(probe.reason)) throw GrowrError.OP_REJECTED(probe.reason)
    const now = this.now()
    if (p.at > now + MAX_CLOCK_SKEW_MS) throw GrowrError.OP_REJECTED(`the proposal is dated more than ${MAX_CLOCK_SKEW_MS} ms ahead of our clock`)
    await this.store.prune(id, now - UNTAKEN_KEEP_MS)
    const recs = await this.store.proposals(id)
    const pendingIn = recs.filter((r) => r.dir === 'in' && r.status === 'pending').length
    if (pendingIn >= MAX_PENDING_IN) throw GrowrError.OP_REJECTED('too many pending proposals on this trustline')
    // refused ones count too: a partner cannot fill our store by having each one refused
    const untaken = recs.filter((r) => r.dir === 'in' && (r.status === 'rejected' || r.status === 'superseded') && r.stored > now - 3600_000).length
    if (untaken >= MAX_UNTAKEN_IN_PER_HOUR) throw GrowrError.OP_REJECTED('too many proposals refused on this trustline in the last hour')
    const rec: ProposalRecord = TrustlineStore.record('in', { proposal: p, sig: entry.sig as string }, this.now())
    await this.store.putProposal(id, rec)
    return { status: 'pending' }
  }

  // ---------------- rpc handlers (the caller is authenticated by DID) ----------------

  private async onPropose (req: unknown, from: DidKey): Promise<unknown> {
    if (!isObj(req) || !isObj(req.entry) || !isObj(req.entry.proposal)) throw GrowrError.BAD_ARGUMENT('expected { terms, entry }')
    const t = checkTerms(req.terms)
    if (!t.ok) throw GrowrError.BAD_ARGUMENT(t.reason)
    const terms = t.terms
    const id = genesis(terms).id
    if (req.entry.proposal.line !== id) throw GrowrError.BAD_ARGUMENT('the proposal is for another trustline than these terms')
    if (sideOf(terms, this.identity.did) === null || sideOf(terms, from) === null || from === this.identity.did) throw GrowrError.OP_REJECTED('only the two parties of a trustline may propose on it')
    if (!(await this.store.has(id))) {
      // a first proposal opens the trustline here too; capped per partner against flooding
      let fromPeer = 0
      for (const other of await this.store.ids()) {
        const l = await this.store.load(other)
        if (l && (l.terms.a === from || l.terms.b === from)) fromPeer++
      }
      if (fromPeer >= MAX_REMOTE_LINES_PER_PEER) throw GrowrError.OP_REJECTED('too many trustlines opened by this peer')
      await this.locked(id, async () => { if (!(await this.store.has(id))) await this.store.save(terms, [], genesis(terms), 0, this.now()) })
    }
    const entry = req.entry
    const out = await this.locked(id, async () => {
      try {
        return await this.receive(id, entry, from)
      } catch (err) {
        return { error: err as GrowrError }
      }
    })
    if ('error' in out) {
      // maybe we are behind (restored from a backup, or offline): catch up from the caller, then try again
      await this.pull(id).catch(safetyCatch)
      const again = await this.locked(id, async () => await this.receive(id, entry, from))
      return await this.decide(id, again)
    }
    return await this.decide(id, out)
  }

  /** Applies the policy to a newly received proposal (outside the lock: accept takes it). */
  private async decide (id: string, received: { status: string }): Promise<{ status: string }> {
    if (received.status !== 'pending') return received
    const line = await this.must(id)
    for (const rec of await this.store.proposals(id)) {
      if (rec.dir !== 'in' || rec.status !== 'pending' || rec.entry.proposal.seq !== line.state.seq + 1) continue
      const d = this.decideOne(line.state, rec.entry.proposal)
      if (d === 'accept') this.background(this.accept(id, rec.hash))
      else if (d === 'reject') this.background(this.reject(id, rec.hash, 'refused by policy'))
    }
    return received
  }

  private async onSign (req: unknown, from: DidKey): Promise<unknown> {
    if (!isObj(req) || typeof req.line !== 'string') throw GrowrError.BAD_ARGUMENT('expected { line, entry } or { line, proposal, rejection }')
    const id = req.line
    const line = await this.must(id)
    const them = sideOf(line.terms, from)
    if (them === null || from === this.identity.did) throw GrowrError.OP_REJECTED('only the partner may countersign on this trustline')
    if (isObj(req.rejection)) {
      const p = req.proposal as Proposal
      if (!isObj(p)) throw GrowrError.BAD_ARGUMENT('a rejection names its proposal')
      return await this.locked(id, async () => {
        const rec = await this.store.proposal(id, proposalHash(p))
        if (!rec || rec.dir !== 'out') throw GrowrError.NOT_FOUND('no proposal of ours with that hash')
        const ok = checkRejection(line.state, rec.entry.proposal, req.rejection)
        if (!ok.ok) throw GrowrError.OP_REJECTED(ok.reason)
        if (rec.status === 'pending') await this.store.putProposal(id, { ...rec, status: 'rejected', rejection: req.rejection as unknown as SignedRejection })
        return { rejected: true }
      })
    }
    const entry = req.entry
    if (!isObj(entry) || !isObj(entry.proposal) || !isObj(entry.accept)) throw GrowrError.BAD_ARGUMENT('expected a countersigned entry')
    if ((entry.proposal as unknown as Proposal).proposer === them) throw GrowrError.OP_REJECTED('the countersignature must come from the party that did not propose')
    const res = await this.locked(id, async () => {
      const cur = await this.must(id)
      if (cur.entries.some((e) => sameEntry(e, entry as unknown as Entry))) throw GrowrError.OP_REJECTED('replayed: this countersigned update is already in the chain')
      // a countersignature may be back-dated: what counts is when it reaches us. Past our
      // proposal's expiry we may already have acted on it being void (failed what it depended on)
      const mine = await this.store.proposal(id, proposalHash(entry.proposal as unknown as Proposal))
      if (mine && mine.dir === 'out' && mine.status === 'pending' && this.now() > mine.entry.proposal.expires) throw GrowrError.OP_REJECTED('the countersignature came after our proposal expired by our clock: the proposal is void')
      const r = apply(cur.state, entry)
      if (!r.ok) return { reason: r.reason, seq: undefined }
      await this.store.save(cur.terms, [...cur.entries, entry as unknown as Entry], r.state, cur.entries.length, this.now())
      const hash = proposalHash(entry.proposal as unknown as Proposal)
      const rec = await this.store.proposal(id, hash)
      await this.store.putProposal(id, { ...(rec ?? TrustlineStore.record('out', entry as unknown as Entry, this.now())), status: 'accepted' })
      await this.supersede(id, r.state.seq)
      return { seq: r.state.seq, reason: undefined }
    })
    if (res.reason !== undefined) {
      const why = res.reason
      // not on our head: maybe we are behind; the signed copy decides, never the request
      const pulled = await this.pull(id).catch(() => null)
      const cur = await this.must(id)
      if (pulled && cur.entries.some((e) => sameEntry(e, entry as unknown as Entry))) return { seq: cur.state.seq }
      throw GrowrError.OP_REJECTED(why)
    }
    return { seq: res.seq }
  }

  private async onSync (req: unknown, from: DidKey): Promise<unknown> {
    if (!isObj(req) || typeof req.line !== 'string') throw GrowrError.BAD_ARGUMENT('expected { line, from, limit }')
    const line = await this.store.load(req.line).catch(() => null)
    // a third party learns nothing, not even whether the trustline exists
    if (!line || sideOf(line.terms, from) === null || from === this.identity.did) throw GrowrError.NOT_FOUND('no such trustline with you')
    const start = typeof req.from === 'number' && Number.isSafeInteger(req.from) && req.from >= 0 ? req.from : 0
    const limit = typeof req.limit === 'number' && Number.isSafeInteger(req.limit) && req.limit > 0 ? Math.min(req.limit, SYNC_PAGE) : SYNC_PAGE
    const recs = start === 0 ? await this.store.proposals(req.line) : []
    const now = this.now()
    return {
      terms: line.terms,
      length: line.entries.length,
      entries: line.entries.slice(start, start + limit),
      rejections: recs.filter((r) => r.status === 'rejected' && r.dir === 'in' && r.rejection).map((r) => r.rejection),
      pending: recs.filter((r) => r.status === 'pending' && r.dir === 'out' && now <= r.entry.proposal.expires).map((r) => r.entry)
    }
  }

  private async onAnnounce (req: unknown, from: DidKey): Promise<unknown> {
    if (!isObj(req) || typeof req.line !== 'string') throw GrowrError.BAD_ARGUMENT('expected { line }')
    const line = await this.store.load(req.line).catch(() => null)
    if (!line || sideOf(line.terms, from) === null || from === this.identity.did) throw GrowrError.NOT_FOUND('no such trustline with you')
    if (req.head !== stateHash(line.state)) this.background(this.pull(req.line))
    return { ok: true }
  }

  // ---------------- network helpers ----------------

  /** Sends best effort: null when the partner cannot be reached (the proposal waits). */
  private async send (partner: DidKey, method: string, body: unknown): Promise<unknown> {
    const rpc = this.rpc
    if (!rpc || this.closing) return null
    try {
      if (!rpc.peers().includes(partner)) await rpc.connect(partner, { timeoutMs: this.connectTimeoutMs })
      return await rpc.request(partner, method, body, { timeoutMs: 20_000 })
    } catch {
      return null
    }
  }

  private async announce (id: string, partner: DidKey): Promise<void> {
    const line = await this.must(id)
    await this.send(partner, METHODS.announce, { line: id, seq: line.state.seq, head: stateHash(line.state) })
  }

  /** A partner connected: pull every trustline with it, then send our pending proposals again. */
  private async meet (did: DidKey): Promise<void> {
    if (this.closing) return
    for (const id of await this.store.ids()) {
      if (this.closing) return
      const line = await this.store.load(id).catch(() => null)
      if (!line || this.partnerOf(line.terms) !== did || sideOf(line.terms, this.identity.did) === null) continue
      await this.pull(id).catch(safetyCatch)
      const now = this.now()
      for (const rec of await this.store.proposals(id)) {
        if (rec.dir === 'out' && rec.status === 'pending' && now <= rec.entry.proposal.expires) {
          await this.send(did, METHODS.propose, { terms: line.terms, entry: rec.entry })
        }
      }
      await this.announce(id, did).catch(safetyCatch)
    }
  }
}

function isObj (v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Section 7 order of two proposals for one seq: an htlc/settle first, then the smaller hash. */
function goesFirst (x: ProposalRecord, y: ProposalRecord): boolean {
  const sx = x.entry.proposal.change.type === 'htlc/settle'
  const sy = y.entry.proposal.change.type === 'htlc/settle'
  if (sx !== sy) return sx
  return x.hash < y.hash
}

function sameEntry (x: Entry, y: Entry): boolean {
  return proposalHash(x.proposal) === proposalHash(y.proposal) && (x.accept?.sig ?? '') === (y.accept?.sig ?? '')
}

function toAmount (v: bigint | string | number): bigint {
  if (typeof v === 'bigint') { if (v < 0n) throw GrowrError.BAD_ARGUMENT('a limit is not negative'); return v }
  const s = String(v)
  if (!/^(0|[1-9][0-9]{0,15})$/.test(s)) throw GrowrError.BAD_ARGUMENT('a limit is a non-negative integer of minor units')
  return BigInt(s)
}

export { didOf, transition }
