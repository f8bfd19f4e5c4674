/**
 * What a node keeps about consents, in its private local Hyperbee (JSON values):
 *   exposure/given/<id>                  consents this node (a borrower) gave, with their status index
 *   exposure/received/<borrower>/<id>    consents given to this node (an originator that may ask)
 *   exposure/revoked/<borrower>/<id>     revocations heard (signed notices), refused at once
 * Keys are built from DIDs and consent ids; ids are URI-encoded so that no id can reach into
 * another borrower's range.
 */
import type Hyperbee from 'hyperbee'
import type { DidKey } from '../identity/did-key.ts'
import type { ConsentCredential } from './consent.ts'

/** A consent this node gave, as the borrower. */
export interface GivenConsent {
  id: string
  /** the organization allowed to ask */
  to: DidKey
  purpose: string
  scope: DidKey[] | null
  validFrom: string
  validUntil: string
  /** its bit on this node's status list */
  statusIndex: number
  revoked: boolean
  /** this node's clock when revoked, ms */
  revokedAt: number | null
  credential: ConsentCredential
}

/** A consent given to this node, as the asker. */
export interface ReceivedConsent {
  id: string
  /** the borrower who gave it */
  from: DidKey
  purpose: string
  scope: DidKey[] | null
  validFrom: string
  validUntil: string
  /** this node's clock when it arrived, ms */
  receivedAt: number
  credential: ConsentCredential
}

/** Most consents this node keeps as an asker: more are refused, so a flood of self-made grants cannot fill the disk. */
export const MAX_RECEIVED = 10_000
/** Most revocations heard kept; notices older than HEARD_KEPT_MS make room first (a flood of self-made notices ages out). */
export const MAX_HEARD = 100_000
/** How long a heard revocation matters: a consent lasts at most 90 days, plus a day of clock skew, ms. */
export const HEARD_KEPT_MS = 91 * 86_400_000

const GIVEN = 'exposure/given/'
const RECEIVED = 'exposure/received/'
const REVOKED = 'exposure/revoked/'

const enc = (id: string) => encodeURIComponent(id)

/** Consents given, received and revocations heard, over the node's local bee. */
export class ConsentStore {
  private readonly local: Hyperbee
  private receivedCount: number | null = null
  private heardCount: number | null = null

  /** @param local the node's private local bee (utf-8 keys, JSON values) */
  constructor (local: Hyperbee) {
    this.local = local
  }

  /** Records a consent this node gave (or its new state). */
  async putGiven (g: GivenConsent): Promise<void> { await this.local.put(GIVEN + enc(g.id), g) }

  /** @returns the consent this node gave with `id`, or null */
  async given (id: string): Promise<GivenConsent | null> {
    if (typeof id !== 'string' || id.length === 0) return null
    return ((await this.local.get(GIVEN + enc(id)))?.value as GivenConsent | undefined) ?? null
  }

  /** @returns every consent this node gave, by id */
  async listGiven (): Promise<GivenConsent[]> { return await this.range<GivenConsent>(GIVEN) }

  /**
   * Keeps a consent given to this node (replaces one with the same borrower and id).
   * @returns false when MAX_RECEIVED are kept already and this one is new
   */
  async putReceived (r: ReceivedConsent, now: number = r.receivedAt): Promise<boolean> {
    const key = RECEIVED + r.from + '/' + enc(r.id)
    const known = await this.local.get(key)
    if (!known) {
      if (this.receivedCount === null) this.receivedCount = (await this.range(RECEIVED)).length
      // every consent ends within 90 days: the expired make room before a new one is refused
      if (this.receivedCount >= MAX_RECEIVED) this.receivedCount -= await this.dropWhere<ReceivedConsent>(RECEIVED, (c) => Date.parse(c.validUntil) < now)
      if (this.receivedCount >= MAX_RECEIVED) return false
      this.receivedCount++
    }
    await this.local.put(key, r)
    return true
  }

  /** @returns the consents `borrower` gave this node (all, any state) */
  async received (borrower: string): Promise<ReceivedConsent[]> { return await this.range<ReceivedConsent>(RECEIVED + borrower + '/') }

  /** @returns every consent given to this node */
  async listReceived (): Promise<ReceivedConsent[]> { return await this.range<ReceivedConsent>(RECEIVED) }

  /**
   * Remembers that `borrower` revoked consent `id` (a checked notice, or our own revocation).
   * @returns false when it was known already or MAX_HEARD are kept
   */
  async hear (borrower: string, id: string, at: number, now: number = at): Promise<boolean> {
    const key = REVOKED + borrower + '/' + enc(id)
    if (await this.local.get(key)) return false
    if (this.heardCount === null) this.heardCount = (await this.range(REVOKED)).length
    // a notice outlives the consent it revokes by nothing: past 91 days (90 + skew) it revokes nothing
    if (this.heardCount >= MAX_HEARD) this.heardCount -= await this.dropWhere<{ at: number }>(REVOKED, (h) => !(h.at > now - HEARD_KEPT_MS))
    if (this.heardCount >= MAX_HEARD) return false
    this.heardCount++
    await this.local.put(key, { at })
    return true
  }

  /** @returns whether a revocation of `borrower`'s consent `id` was heard */
  async heard (borrower: string, id: string): Promise<boolean> {
    return (await this.local.get(REVOKED + borrower + '/' + enc(id))) !== null
  }

  /** Deletes the records under `prefix` that `drop` picks. @returns how many */
  private async dropWhere<T> (prefix: string, drop: (v: T) => boolean): Promise<number> {
    const keys: string[] = []
    for await (const { key, value } of this.local.createReadStream<T>({ gte: prefix, lt: prefix + '\xff' })) if (drop(value)) keys.push(key as unknown as string)
    if (keys.length === 0) return 0
    const batch = this.local.batch()
    for (const k of keys) await batch.del(k)
    await batch.flush()
    return keys.length
  }

  private async range<T> (prefix: string): Promise<T[]> {
    const out: T[] = []
    for await (const { value } of this.local.createReadStream<T>({ gte: prefix, lt: prefix + '\xff' })) out.push(value)
    return out
  }
}
