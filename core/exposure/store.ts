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
/** Most revocations heard kept (oldest forgotten first is not needed: a revoked grant also fails its status check). */
export const MAX_HEARD = 100_000

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
  async putReceived (r: ReceivedConsent): Promise<boolean> {
    const key = RECEIVED + r.from + '/' + enc(r.id)
    const known = await this.local.get(key)
    if (!known) {
      if (this.receivedCount === null) this.receivedCount = (await this.range(RECEIVED)).length
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
  async hear (borrower: string, id: string, at: number): Promise<boolean> {
    const key = REVOKED + borrower + '/' + enc(id)
    if (await this.local.get(key)) return false
    if (this.heardCount === null) this.heardCount = (await this.range(REVOKED)).length
    if (this.heardCount >= MAX_HEARD) return false
    this.heardCount++
    await this.local.put(key, { at })
    return true
  }

  /** @returns whether a revocation of `borrower`'s consent `id` was heard */
  async heard (borrower: string, id: string): Promise<boolean> {
    return (await this.local.get(REVOKED + borrower + '/' + enc(id))) !== null
  }

  private async range<T> (prefix: string): Promise<T[]> {
    const out: T[] = []
    for await (const { value } of this.local.createReadStream<T>({ gte: prefix, lt: prefix + '\xff' })) out.push(value)
    return out
  }
}
