/**
 * Autobase apply for a lending book: decode, validate, verify, authorize, transition, write.
 *
 * Deterministic: reads only the nodes and the view, writes only the view and the writer set.
 * An op that fails any check is recorded in the audit log as rejected with its reason and
 * changes nothing else; apply never throws on bad input, so every peer's view stays identical.
 * Each op's writes are staged and committed only if the whole op is accepted.
 */
import b4a from 'b4a'
import type { ApplyHost, ApplyNode } from 'autobase'
import type Hyperbee from 'hyperbee'
import type { HyperbeeBatch } from 'hyperbee'
import { decodeOp } from './ops/envelope.ts'
import { OpValidator } from './ops/schemas.ts'
import type { Op, OpType, Role } from './ops/types.ts'
import { auditKey, BookView, type Records, type Sub } from './view.ts'
import type { AuditEntry, BookClock, BookMeta, Member } from './entities.ts'
import { HANDLERS } from './handlers.ts'
import { isScopedTo, opKey } from './ids.ts'
import { advance, EPOCH_CLOCK } from './clock.ts'
import { GrowrError } from '../core/errors.ts'

/** The state a handler sees for one op: the op, who signed it, and a staged view. */
export interface ApplyContext {
  readonly op: Op
  readonly writer: string
  readonly meta: BookMeta | null
  readonly member: Member | null
  /** the latest time each side had vouched for before this op (books/clock.ts) */
  readonly clock: BookClock
  readonly host: ApplyHost
  /** a record as the ops before this one left it; shared within the apply call, so never mutate it: put a new object */
  get<S extends Sub> (sub: S, key: string): Promise<Records[S] | null>
  put<S extends Sub> (sub: S, key: string, value: Records[S]): void
  /** writer-set changes, run only once the op is accepted */
  after (effect: () => Promise<void>): void
}

/** A handler returns null to accept the op or the rejection reason. */
export type Handler = (ctx: ApplyContext) => Promise<string | null>

/** Who may sign each op type. 'creator' is the bootstrap writer, once. */
export const AUTHORIZED: Record<OpType, Array<Role | 'creator'>> = {
  'book/create': ['creator'],
  'device/add': ['originator'],
  'member/add': ['originator'],
  'member/remove': ['originator'],
  'project/create': ['originator'],
  'project/update': ['originator'],
  'project/activate': ['originator'],
  'project/deactivate': ['originator'],
  'project/close': ['originator'],
  'funding/commit': ['investor'],
  'loan/apply': ['borrower'],
  'loan/withdraw': ['borrower'],
  'loan/approve': ['originator'],
  'loan/reject': ['originator'],
  'loan/default': ['originator'],
  'loan/cancel': ['originator'],
  'funding/cancel': ['originator', 'investor'],
  'payment/record': ['originator', 'borrower', 'investor'],
  'payment/confirm': ['originator', 'borrower', 'investor'],
  'payment/dispute': ['originator', 'borrower', 'investor'],
  'payment/cancel': ['originator', 'borrower', 'investor'],
  'clock/witness': ['borrower', 'investor'],
  'project/rail': ['originator'],
  'project/rail-rootstock': ['originator'],
  'payment/address': ['originator', 'borrower', 'investor'],
  'payment/prove': ['originator', 'borrower', 'investor'],
  'payment/reorg': ['originator', 'borrower', 'investor'],
  'lightning/node': ['originator', 'borrower', 'investor'],
  'payment/invoice': ['originator', 'borrower', 'investor'],
  'trust/issuer': ['originator'],
  'trust/verifier': ['originator'],
  'trust/governance': ['originator'],
  'nostr/key': ['originator'],
  'project/zap': ['originator'],
  'funding/zap': ['originator']
}

/**
 * The record each creating op names, whose id must be scoped to the op's signer (books/ids.ts):
 * nobody can create a record under an id another member is about to use.
 */
export const CREATES: Partial<Record<OpType, 'projectId' | 'fundingId' | 'loanId' | 'paymentId'>> = {
  'project/create': 'projectId',
  'funding/commit': 'fundingId',
  'loan/apply': 'loanId',
  'payment/record': 'paymentId',
  'payment/prove': 'paymentId'
}

/**
 * The view as one apply call sees it, in three layers over the Hyperbee batch: the current op's
 * writes (`op`), the writes of the ops already accepted in this call (`accepted`) and the values
 * read from the batch in this call (`reads`). A value is read from the batch at most once per
 * call, and each key is written to the batch once, at the end of the call, in key order: an op's
 * records (meta/seq, the project a disbursement draws on...) are often rewritten by the next op,
 * and each Hyperbee put is a block in the view core. The records the view holds after the call
 * are exactly those the ops wrote, in op order.
 */
class StagedView {
  private readonly op = new Map<string, Staged>()
  private readonly accepted = new Map<string, Staged>()
  private readonly reads = new Map<string, unknown>()
  private readonly view: BookView
  private readonly batch: HyperbeeBatch

  constructor (view: BookView, batch: HyperbeeBatch) {
    this.view = view
    this.batch = batch
  }

  async get<S extends Sub> (sub: S, key: string): Promise<Records[S] | null> {
    const k = sub + '\0' + key
    const hit = this.op.get(k) ?? this.accepted.get(k)
    if (hit) return hit.value as Records[S]
    if (this.reads.has(k)) return this.reads.get(k) as Records[S] | null
    const node = await this.batch.get<Records[S]>(key, { keyEncoding: this.view.subs[sub].keyEncoding })
    const value = node ? node.value : null
    this.reads.set(k, value)
    return value
  }

  put<S extends Sub> (sub: S, key: string, value: Records[S]): void {
    this.op.set(sub + '\0' + key, { sub, key, value })
  }

  /** The current op is accepted: its writes stand. */
  commit (): void {
    for (const [k, w] of this.op) this.accepted.set(k, w)
    this.op.clear()
  }

  /** The current op is rejected: its writes are dropped. */
  discard (): void { this.op.clear() }

  /** Writes every accepted op's records to the batch, once per key, in key order. */
  async flush (): Promise<void> {
    const keys = [...this.accepted.keys()].sort()
    for (const k of keys) {
      const { sub, key, value } = this.accepted.get(k) as Staged
      await this.batch.put(key, value, { keyEncoding: this.view.subs[sub].keyEncoding })
    }
    this.accepted.clear()
    await this.batch.flush()
  }
}

interface Staged { sub: Sub; key: string; value: unknown }

/**
 * Builds the apply function for a book whose view is `view`.
 * Op schemas are compiled once per process, on first use (books/ops/schemas.ts).
 */
export function createApply () {
  const validator = new OpValidator()
  const views = new WeakMap<Hyperbee, BookView>()

  return async function apply (nodes: ApplyNode[], bee: Hyperbee, host: ApplyHost): Promise<void> {
    let view = views.get(bee)
    if (!view) views.set(bee, view = new BookView(bee))
    const batch = view.bee.batch({ update: false })
    const staged = new StagedView(view, batch)
    let seq = ((await staged.get('meta', 'seq')) as number | null) ?? 0

    for (const node of nodes) {
      if (node.value === null) continue // an ack
      const writer = b4a.toString(node.from.key, 'hex')
      const entry: AuditEntry = { seq, opId: null, type: null, signer: null, writer, ts: null, status: 'rejected', reason: null }
      const effects: Array<() => Promise<void>> = []
      const signed: Signed = { key: null, role: null }
      const reason = await applyOne(node, writer, host, staged, validator, entry, effects, signed)
      if (reason === null) {
        entry.status = 'accepted'
        const clock = ((await staged.get('meta', 'clock')) as BookClock | null) ?? EPOCH_CLOCK
        const next = advance(clock, signed.role as Role, entry.ts as number)
        if (next !== clock) staged.put('meta', 'clock', next)
      } else {
        staged.discard()
        entry.reason = reason
      }
      // the replay index is keyed by signer and opId, so only the signer's own ops compete for an
      // entry; it points at the op accepted under that key, else at the first one seen, so that a
      // rejected duplicate never takes over the accepted op's entry
      if (signed.key !== null && (reason === null || await staged.get('ops', signed.key) === null)) staged.put('ops', signed.key, seq)
      staged.put('audit', auditKey(seq), entry)
      staged.put('meta', 'seq', ++seq)
      staged.commit()
      if (reason === null) for (const effect of effects) await effect()
    }
    await staged.flush()
  }
}

/** What apply learns of an op's signer: its replay key once the signature holds, its role once authorized. */
interface Signed { key: string | null; role: Role | null }

async function applyOne (node: ApplyNode, writer: string, host: ApplyHost, staged: StagedView, validator: OpValidator, entry: AuditEntry, effects: Array<() => Promise<void>>, signed: Signed): Promise<string | null> {
  const decoded = decodeOp(node.value, host.key)
  if (!decoded.ok) return decoded.reason
  const raw = decoded.op as Record<string, unknown>
  // decodeOp verified the signature by the DID in `signer`: from here the signer is authenticated
  entry.signer = String(raw.signer)
  if (typeof raw.opId === 'string' && /^[0-9a-f]{32}$/.test(raw.opId)) {
    entry.opId = raw.opId
    signed.key = opKey(entry.signer, raw.opId)
  }
  if (typeof raw.type === 'string') entry.type = raw.type.slice(0, 64)
  const invalid = validator.check(raw)
  if (invalid) return invalid
  const op = raw as unknown as Op
  entry.ts = op.ts

  const prior = await staged.get('ops', signed.key as string)
  if (prior !== null && (await staged.get('audit', auditKey(prior)))?.status === 'accepted') return 'duplicate op: already applied'

  const meta = (await staged.get('meta', 'book')) as BookMeta | null
  const allowed = AUTHORIZED[op.type]
  let member: Member | null = null
  if (op.type === 'book/create') {
    if (meta) return 'book already created'
    if (!b4a.equals(node.from.key, host.key)) return 'only the book\'s bootstrap writer may create it'
    signed.role = 'originator'
  } else {
    if (!meta) return 'book not created yet'
    const bound = await staged.get('writers', writer)
    if (bound === null) return 'writer is not a member of this book'
    if (bound !== op.signer) return 'signer is not the identity bound to this writer'
    member = await staged.get('members', op.signer)
    if (!member || member.removed) return 'signer is not a member of this book'
    if (!allowed.includes(member.role)) return `${member.role === 'investor' || member.role === 'originator' ? 'an' : 'a'} ${member.role} may not ${op.type}`
    signed.role = member.role
  }
  const created = CREATES[op.type]
  if (created && !isScopedTo(raw[created] as string, op.signer)) return `${created} is not scoped to the signer: a record's id starts with its creator's scope (books/ids.ts)`

  const ctx: ApplyContext = {
    op,
    writer,
    meta,
    member,
    clock: ((await staged.get('meta', 'clock')) as BookClock | null) ?? EPOCH_CLOCK,
    host,
    get: (sub, key) => staged.get(sub, key),
    put: (sub, key, value) => staged.put(sub, key, value),
    after: (effect) => { effects.push(effect) }
  }
  try {
    return await HANDLERS[op.type](ctx)
  } catch (err) {
    // Handlers are pure but for the view reads. An error of the pure arithmetic (a bound the
    // schemas missed) is deterministic, so every peer rejects the op alike; the book must not
    // close over it. Anything else (the view's storage failing) is not the op's fault: rethrow,
    // and Autobase retries the apply.
    if (err instanceof GrowrError || err instanceof RangeError || err instanceof TypeError) return `op could not be applied: ${(err as Error).message.slice(0, 200)}`
    throw err
  }
}
