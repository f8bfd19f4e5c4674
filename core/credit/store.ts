/**
 * One party's copy of its trustlines in the node's local Hyperbee (`node.local`): the terms, the
 * signed chain, and the proposals and rejections beside it (docs/trustline-spec.md section 8).
 *
 * Keys (utf-8, JSON values):
 *   trustline/line/<id>                     { terms, length, head, created }
 *   trustline/entry/<id>/<seq, 10 digits>   Entry (seq 1..length)
 *   trustline/prop/<id>/<proposal hash>     ProposalRecord
 *
 * Nothing read back is trusted blindly: a chain is replayed through the pure machine when first
 * loaded (a copy restored from a backup, or written by an older version, is checked), then its
 * state is kept in memory. Loads under Bare: no `node:` imports.
 */
import type Hyperbee from 'hyperbee'
import { GrowrError } from '../errors.ts'
import { replay, proposalHash } from '../../books/trustline/machine.ts'
import { stateHash } from '../../books/trustline/encoding.ts'
import type { Entry, Proposal, SignedRejection, TrustlineState, TrustlineTerms } from '../../books/trustline/types.ts'

/** Where a proposal came from, seen by this party. */
export type Direction = 'in' | 'out'

/**
 * A proposal kept beside the chain.
 * - `pending`: neither countersigned nor rejected yet (may be expired: compare `expires` with now)
 * - `accepted`: its entry is in the chain
 * - `rejected`: the other party signed a rejection (`rejection`)
 * - `superseded`: the chain moved past its seq without it
 */
export interface ProposalRecord {
  dir: Direction
  entry: Entry
  hash: string
  status: 'pending' | 'accepted' | 'rejected' | 'superseded'
  rejection?: SignedRejection
  /** this node's clock when it stored the record, ms */
  stored: number
}

interface LineRecord { terms: TrustlineTerms; length: number; head: string; created: number }

const pad = (n: number): string => String(n).padStart(10, '0')

/** The local copy of every trustline this party holds. */
export class TrustlineStore {
  private readonly bee: Hyperbee
  private readonly cache = new Map<string, { terms: TrustlineTerms; entries: Entry[]; state: TrustlineState }>()
  private readonly onchange: (id: string) => void

  /**
   * @param local the node's local Hyperbee (utf-8 keys, json values)
   * @param onchange called with the trustline id after every write (chain or proposal records)
   */
  constructor (local: Hyperbee, onchange: (id: string) => void = () => {}) {
    this.bee = local
    this.onchange = onchange
  }

  /** Ids of every trustline stored, in key order. */
  async ids (): Promise<string[]> {
    const out: string[] = []
    for await (const { key } of this.bee.createReadStream({ gte: 'trustline/line/', lt: 'trustline/line0' })) out.push(String(key).slice('trustline/line/'.length))
    return out
  }

  /** Whether a trustline is stored. */
  async has (id: string): Promise<boolean> {
    return this.cache.has(id) || (await this.bee.get(`trustline/line/${id}`)) !== null
  }

  /**
   * A trustline's terms, chain and current state, replayed and checked on first load.
   * @returns null when not stored
   * @throws GrowrError INTERNAL when the stored chain does not replay (a damaged store)
   */
  async load (id: string): Promise<{ terms: TrustlineTerms; entries: Entry[]; state: TrustlineState } | null> {
    const hit = this.cache.get(id)
    if (hit) return hit
    const node = await this.bee.get<LineRecord>(`trustline/line/${id}`)
    if (node === null) return null
    const rec = node.value
    const entries: Entry[] = []
    for await (const { value } of this.bee.createReadStream<Entry>({ gte: `trustline/entry/${id}/`, lt: `trustline/entry/${id}0` })) entries.push(value)
    const r = replay(rec.terms, entries.slice(0, rec.length))
    if (!r.ok) throw GrowrError.INTERNAL(`stored trustline ${id} does not replay: ${r.reason}`)
    const loaded = { terms: rec.terms, entries: entries.slice(0, rec.length), state: r.state }
    this.cache.set(id, loaded)
    return loaded
  }

  /**
   * Keeps a chain: entries from `keep` (the length of the prefix already stored and unchanged)
   * are written, anything stored beyond the new length is deleted. The caller has replayed
   * `entries` to `state`.
   */
  async save (terms: TrustlineTerms, entries: Entry[], state: TrustlineState, keep: number, now: number): Promise<void> {
    const id = state.id
    const old = this.cache.get(id)
    const oldLength = old ? old.entries.length : 0
    const batch = this.bee.batch()
    for (let i = keep; i < entries.length; i++) await batch.put(`trustline/entry/${id}/${pad(i + 1)}`, entries[i])
    for (let i = entries.length; i < oldLength; i++) await batch.del(`trustline/entry/${id}/${pad(i + 1)}`)
    const prev = await this.bee.get<LineRecord>(`trustline/line/${id}`)
    await batch.put(`trustline/line/${id}`, { terms, length: entries.length, head: stateHash(state), created: prev ? prev.value.created : now })
    await batch.flush()
    this.cache.set(id, { terms, entries: entries.slice(), state })
    this.onchange(id)
  }

  /** One proposal record, or null. */
  async proposal (id: string, hash: string): Promise<ProposalRecord | null> {
    const node = await this.bee.get<ProposalRecord>(`trustline/prop/${id}/${hash}`)
    return node === null ? null : node.value
  }

  /** Every proposal record of a trustline, in hash order. */
  async proposals (id: string): Promise<ProposalRecord[]> {
    const out: ProposalRecord[] = []
    for await (const { value } of this.bee.createReadStream<ProposalRecord>({ gte: `trustline/prop/${id}/`, lt: `trustline/prop/${id}0` })) out.push(value)
    return out
  }

  /** Stores (or replaces) a proposal record. */
  async putProposal (id: string, rec: ProposalRecord): Promise<void> {
    await this.bee.put(`trustline/prop/${id}/${rec.hash}`, rec)
    this.onchange(id)
  }

  /**
   * Deletes rejected and superseded proposal records stored before `before` (ms, this node's
   * clock): they never take effect, and a partner could otherwise make them pile up. Pending and
   * accepted records stay (an accepted one is in the chain).
   * @returns how many were deleted
   */
  async prune (id: string, before: number): Promise<number> {
    const old: string[] = []
    for await (const { key, value } of this.bee.createReadStream<ProposalRecord>({ gte: `trustline/prop/${id}/`, lt: `trustline/prop/${id}0` })) {
      if ((value.status === 'rejected' || value.status === 'superseded') && value.stored < before) old.push(String(key))
    }
    if (old.length === 0) return 0
    const batch = this.bee.batch()
    for (const key of old) await batch.del(key)
    await batch.flush()
    this.onchange(id)
    return old.length
  }

  /** A record for a proposal seen for the first time. */
  static record (dir: Direction, entry: Entry, now: number): ProposalRecord {
    const bare: Entry = { proposal: entry.proposal as Proposal, sig: entry.sig }
    return { dir, entry: bare, hash: proposalHash(entry.proposal), status: 'pending', stored: now }
  }
}
