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
import type { AuditEntry, BookMeta, Member } from './entities.ts'
import { HANDLERS } from './handlers.ts'

/** The state a handler sees for one op: the op, who signed it, and a staged view. */
export interface ApplyContext {
  readonly op: Op
  readonly writer: string
  readonly meta: BookMeta | null
  readonly member: Member | null
  readonly host: ApplyHost
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
  'payment/record': ['originator', 'borrower', 'investor'],
  'payment/confirm': ['originator', 'borrower', 'investor'],
  'trust/issuer': ['originator'],
  'trust/verifier': ['originator']
}

class StagedView {
  private readonly staged = new Map<string, { sub: Sub; key: string; value: unknown }>()
  private readonly view: BookView
  private readonly batch: HyperbeeBatch

  constructor (view: BookView, batch: HyperbeeBatch) {
    this.view = view
    this.batch = batch
  }

  async get<S extends Sub> (sub: S, key: string): Promise<Records[S] | null> {
    const hit = this.staged.get(sub + '\0' + key)
    if (hit) return hit.value as Records[S]
    const node = await this.batch.get<Records[S]>(key, { keyEncoding: this.view.subs[sub].keyEncoding })
    return node ? node.value : null
  }

  put<S extends Sub> (sub: S, key: string, value: Records[S]): void {
    this.staged.set(sub + '\0' + key, { sub, key, value })
  }

  async commit (): Promise<void> {
    for (const { sub, key, value } of this.staged.values()) await this.batch.put(key, value, { keyEncoding: this.view.subs[sub].keyEncoding })
    this.staged.clear()
  }

  discard (): void { this.staged.clear() }
}

/**
 * Builds the apply function for a book whose view is `view`.
 * One OpValidator per book: Ajv compiles the schemas once, not per op.
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
      const reason = await applyOne(node, writer, host, staged, validator, entry, effects)
      if (reason === null) {
        entry.status = 'accepted'
      } else {
        staged.discard()
        entry.reason = reason
      }
      if (entry.opId !== null && reason !== 'duplicate op: already applied') staged.put('ops', entry.opId, seq)
      staged.put('audit', auditKey(seq), entry)
      staged.put('meta', 'seq', ++seq)
      await staged.commit()
      if (reason === null) for (const effect of effects) await effect()
    }
    await batch.flush()
  }
}

async function applyOne (node: ApplyNode, writer: string, host: ApplyHost, staged: StagedView, validator: OpValidator, entry: AuditEntry, effects: Array<() => Promise<void>>): Promise<string | null> {
  const decoded = decodeOp(node.value, host.key)
  if (!decoded.ok) return decoded.reason
  const raw = decoded.op as Record<string, unknown>
  if (typeof raw.opId === 'string' && /^[0-9a-f]{32}$/.test(raw.opId)) entry.opId = raw.opId
  if (typeof raw.type === 'string') entry.type = raw.type.slice(0, 64)
  entry.signer = String(raw.signer)
  const invalid = validator.check(raw)
  if (invalid) return invalid
  const op = raw as unknown as Op
  entry.ts = op.ts

  if (await staged.get('ops', op.opId) !== null) return 'duplicate op: already applied'

  const meta = (await staged.get('meta', 'book')) as BookMeta | null
  const allowed = AUTHORIZED[op.type]
  let member: Member | null = null
  if (op.type === 'book/create') {
    if (meta) return 'book already created'
    if (!b4a.equals(node.from.key, host.key)) return 'only the book\'s bootstrap writer may create it'
  } else {
    if (!meta) return 'book not created yet'
    const bound = await staged.get('writers', writer)
    if (bound === null) return 'writer is not a member of this book'
    if (bound !== op.signer) return 'signer is not the identity bound to this writer'
    member = await staged.get('members', op.signer)
    if (!member || member.removed) return 'signer is not a member of this book'
    if (!allowed.includes(member.role)) return `${member.role === 'investor' || member.role === 'originator' ? 'an' : 'a'} ${member.role} may not ${op.type}`
  }

  const ctx: ApplyContext = {
    op,
    writer,
    meta,
    member,
    host,
    get: (sub, key) => staged.get(sub, key),
    put: (sub, key, value) => staged.put(sub, key, value),
    after: (effect) => { effects.push(effect) }
  }
  return await HANDLERS[op.type](ctx)
}
