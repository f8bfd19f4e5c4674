/**
 * Book: one lending book, an Autobase whose Hyperbee view holds projects, loans, fundings,
 * payments and the audit log. Public methods stamp, sign and append ops; apply
 * (books/apply.ts) decides what they do. Lifecycle: ready() opens the base, close() closes it.
 */
import Autobase from 'autobase'
import Hyperbee from 'hyperbee'
import ReadyResource from 'ready-resource'
import b4a from 'b4a'
import * as id from 'hypercore-id-encoding'
import type Corestore from 'corestore'
import { createApply } from './apply.ts'
import { encodeOp } from './ops/envelope.ts'
import type { Op, OpInput } from './ops/types.ts'
import { BookView } from './view.ts'
import { newId, scopedId } from './ids.ts'
import type { AuditEntry } from './entities.ts'
import { GrowrError } from '../core/errors.ts'
import type { DidKey } from '../core/identity/did-key.ts'

/** The identity that signs this book's ops (not the hypercore writer key). */
export interface Signer { did: DidKey; secretKey: Uint8Array }

export interface BookOptions {
  /** the book's key to open or join; null or absent creates a new book (this store's writer bootstraps it) */
  key?: Uint8Array | null
  signer: Signer
  /** ms between background acks; indexers ack so that members' ops get indexed */
  ackInterval?: number
  /** clock for op timestamps (ms); injected so tests can act at chosen dates */
  now?: () => number
}

export { newId }

/** Parses a topic key given as z-base-32 (52 chars) or hex (64 chars). @throws BAD_ARGUMENT */
export function parseTopic (topic: string): Uint8Array {
  try {
    return id.decode(topic.trim())
  } catch {
    throw GrowrError.BAD_ARGUMENT(`not a book topic key: ${JSON.stringify(topic.slice(0, 80))} (want 52 z-base-32 or 64 hex characters)`)
  }
}

export class Book extends ReadyResource {
  readonly base: Autobase<Hyperbee>
  readonly view: BookView
  private readonly signer: Signer
  private readonly now: () => number

  constructor (store: Corestore, opts: BookOptions) {
    super()
    this.signer = opts.signer
    this.now = opts.now ?? Date.now
    this.base = new Autobase<Hyperbee>(store, opts.key ?? null, {
      open: (viewStore) => new Hyperbee(viewStore.get({ name: 'view' }), { keyEncoding: 'utf-8', valueEncoding: 'json', extension: false }),
      apply: createApply(),
      close: (bee) => bee.close(),
      valueEncoding: 'binary',
      ackInterval: opts.ackInterval ?? 1000
    })
    this.view = new BookView(this.base.view)
    this.base.on('error', () => {}) // surfaced through append/update rejections
  }

  protected async _open (): Promise<void> {
    await this.base.ready()
  }

  protected async _close (): Promise<void> {
    await this.base.close()
  }

  get key (): Uint8Array { return this.base.key }
  get discoveryKey (): Uint8Array { return this.base.discoveryKey }
  /** The key peers share to join: z-base-32 of the book's Autobase key. */
  get topic (): string { return id.encode(this.base.key) }
  get writable (): boolean { return this.base.writable }
  /** This device's writer key, hex: what an originator adds to let this node write. */
  get writerKey (): string { return b4a.toString(this.base.local.key, 'hex') }

  /** The DID that signs this node's ops in the book. */
  get signerDid (): DidKey { return this.signer.did }

  /** @returns a fresh id for a record this node's signer creates (a project, funding, loan or payment) */
  newId (): string { return scopedId(this.signer.did) }

  /** Completes an op input with id, timestamp and signer. */
  stamp (input: OpInput): Op {
    return { ...input, opId: input.opId ?? newId(), ts: input.ts ?? this.now(), signer: this.signer.did } as Op
  }

  /**
   * Signs and appends ops in one Autobase append (one batch, however many ops).
   * @returns the stamped ops, in order
   * @throws NOT_WRITABLE when this node is not (yet) a writer of the book
   */
  async append (inputs: OpInput[]): Promise<Op[]> {
    await this.ready()
    if (!this.base.writable) throw GrowrError.NOT_WRITABLE('this node is not a writer of the book yet (ask the originator for an invite)')
    const ops = inputs.map((i) => this.stamp(i))
    await this.base.append(ops.map((op) => encodeOp(op, this.key, this.signer.secretKey)))
    return ops
  }

  /** Appends raw, already-encoded values; how tests and fuzzers reach apply with hostile bytes. */
  async appendRaw (values: Uint8Array[]): Promise<void> {
    await this.ready()
    await this.base.append(values)
  }

  /**
   * Appends ops and waits until each is applied in this node's view.
   * @returns their audit entries (status accepted or rejected, with the reason)
   */
  async act (inputs: OpInput[], timeoutMs = 30_000): Promise<Array<{ op: Op; audit: AuditEntry }>> {
    const ops = await this.append(inputs)
    const audits = await this.waitForOps(ops.map((o) => o.opId), timeoutMs)
    return ops.map((op, i) => ({ op, audit: audits[i] }))
  }

  /**
   * Waits until each of this node's signer's ops has an audit entry here (accepted or rejected).
   * Only ops signed by this node's signer are reported: another DID's op under the same id is not ours.
   * @throws TIMEOUT after `timeoutMs`
   */
  async waitForOps (opIds: string[], timeoutMs = 30_000): Promise<AuditEntry[]> {
    let out: Array<AuditEntry | null> = []
    await this.until(async () => {
      out = await Promise.all(opIds.map((o) => this.view.auditOf(this.signer.did, o)))
      return out.every((a) => a !== null)
    }, timeoutMs, `ops ${opIds.join(', ').slice(0, 80)} not applied`)
    return out as AuditEntry[]
  }

  /**
   * Resolves once `check` holds, re-checking after each view update.
   * @throws TIMEOUT with `what` after `timeoutMs`
   */
  async until (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    await this.ready()
    const deadline = Date.now() + timeoutMs
    while (true) {
      await this.base.update()
      if (await check()) return
      const left = deadline - Date.now()
      if (left <= 0 || this.closing) throw GrowrError.TIMEOUT(`${what} within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const done = () => { clearTimeout(timer); this.base.off('update', done); resolve() }
        const timer = setTimeout(done, Math.min(left, 500))
        this.base.on('update', done)
      })
    }
  }
}
