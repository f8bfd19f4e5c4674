/**
 * The self-sovereign credit record (SSCR): the holder's own W3C Verifiable Credentials
 * (VC Data Model 2.0 JSON), kept encrypted at rest in `<dir>/sscr/wallet.bin`.
 *
 * File format (version 1):
 *   `'GRSSCR' (6 ASCII bytes) || 0x01 || nonce (24) || crypto_secretbox_easy(JSON)`
 * where JSON is `{ meta: { holder, updatedAt }, credentials: [...] }` and the key is
 * BLAKE2b-256(message = 'growr/sscr/v1', key = the holder's 32-byte Ed25519 seed)
 * (crypto_generichash, see crypto.ts). Every write draws a fresh random nonce and replaces the
 * file atomically (temp file + fsync + rename, mode 0600, directory 0700). Nothing but the header
 * and the ciphertext length is readable on disk: no claim values, credential ids, issuers or types.
 *
 * Everything is held in memory after open(); each mutation rewrites the whole file (a wallet holds
 * tens to hundreds of credentials). Emits 'change' with `{ added: string[], removed: string[] }`.
 */
import ReadyResource from 'ready-resource'
import fs from '#fs'
import path from '#path'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { GrowrError } from '../errors.ts'
import {
  checkIdentity, deriveIdentityKey, seal, unseal, withHeader, stripHeader, writeFileAtomic,
  isObject, DIR_MODE, type HolderKey
} from './crypto.ts'

/** A W3C VC as the wallet stores it; only the fields the wallet itself reads are typed. */
export interface StoredCredential {
  id: string
  type: string[]
  issuer: string | { id: string }
  validFrom?: string
  validUntil?: string
  credentialSubject: Record<string, unknown>
  [k: string]: unknown
}

/** Payload of the 'change' event. */
export interface SscrChange {
  /** ids added or replaced */
  added: string[]
  /** ids removed */
  removed: string[]
}

export const WALLET_MAGIC = 'GRSSCR'
export const WALLET_VERSION = 1
export const WALLET_FILE = 'wallet.bin'
/** Domain tag of the wallet-key derivation. */
export const WALLET_KEY_TAG = 'growr/sscr/v1'

/** Types of which select() returns every valid credential rather than only the newest. */
export const CUMULATIVE_TYPES: readonly string[] = ['RepaymentHistoryCredential', 'CommunityMembershipCredential']

/**
 * Check the shape the wallet relies on and that the credential is about `holderDid`.
 *
 * @param vc candidate credential.
 * @param holderDid the wallet holder's DID; `credentialSubject.id` must equal it.
 * @returns `vc` typed as a StoredCredential.
 * @throws GrowrError BAD_ARGUMENT naming the first problem found.
 */
export function checkStoredCredential (vc: unknown, holderDid: string): StoredCredential {
  if (!isObject(vc)) throw GrowrError.BAD_ARGUMENT('credential must be a JSON object')
  if (typeof vc.id !== 'string' || vc.id.length === 0) throw GrowrError.BAD_ARGUMENT('credential id must be a non-empty string')
  if (!Array.isArray(vc.type) || vc.type.length === 0 || !vc.type.every((x) => typeof x === 'string')) {
    throw GrowrError.BAD_ARGUMENT('credential type must be a non-empty array of strings')
  }
  const issuer = vc.issuer
  if (!(typeof issuer === 'string' || (isObject(issuer) && typeof issuer.id === 'string'))) {
    throw GrowrError.BAD_ARGUMENT('credential issuer must be a string or { id }')
  }
  for (const f of ['validFrom', 'validUntil'] as const) {
    if (vc[f] !== undefined && (typeof vc[f] !== 'string' || Number.isNaN(Date.parse(vc[f] as string)))) {
      throw GrowrError.BAD_ARGUMENT(`credential ${f} must be an ISO 8601 date-time`)
    }
  }
  if (!isObject(vc.credentialSubject)) throw GrowrError.BAD_ARGUMENT('credentialSubject must be a JSON object')
  if (vc.credentialSubject.id !== holderDid) {
    throw GrowrError.BAD_ARGUMENT('credential is not about the wallet holder (credentialSubject.id differs)')
  }
  return vc as StoredCredential
}

/**
 * The holder's encrypted credential wallet. Lifecycle: `await ready()` before use, `await close()`
 * after; methods called outside that window throw BAD_ARGUMENT.
 */
export class Sscr extends ReadyResource {
  /** The directory holding wallet.bin: `<dir>/sscr`. */
  readonly walletDir: string
  readonly file: string
  readonly holder: string
  private key: Uint8Array
  private creds = new Map<string, StoredCredential>()

  /**
   * @param opts.dir the storage directory; the wallet lives in `<dir>/sscr/`.
   * @param opts.identity the holder: `{ did, secretKey (64 bytes) }`; the key is copied.
   * @throws GrowrError BAD_ARGUMENT if dir is empty or the secret key does not match the DID.
   */
  constructor (opts: { dir: string; identity: HolderKey }) {
    super()
    if (typeof opts?.dir !== 'string' || opts.dir.length === 0) throw GrowrError.BAD_ARGUMENT('dir must be a non-empty string')
    this.holder = checkIdentity(opts.identity, 'holder')
    this.walletDir = path.join(opts.dir, 'sscr')
    this.file = path.join(this.walletDir, WALLET_FILE)
    this.key = deriveIdentityKey(opts.identity.secretKey, WALLET_KEY_TAG)
  }

  /**
   * Create the directory (0700) and read wallet.bin, or write an empty wallet if there is none.
   * @throws GrowrError UNSUPPORTED_VERSION for an unknown file version; BAD_ARGUMENT if the file is
   *   not a wallet, was tampered with, or belongs to another identity (indistinguishable by design).
   */
  protected async _open (): Promise<void> {
    try {
      this.load()
    } catch (err) {
      this.creds.clear()
      sodium.sodium_memzero(this.key)
      throw err
    }
  }

  private load (): void {
    fs.mkdirSync(this.walletDir, { recursive: true, mode: DIR_MODE })
    if (!fs.existsSync(this.file)) {
      this.persist()
      return
    }
    const body = stripHeader(fs.readFileSync(this.file), WALLET_MAGIC, WALLET_VERSION, 'SSCR wallet file')
    const plain = unseal(this.key, body)
    if (plain === null) {
      throw GrowrError.BAD_ARGUMENT('SSCR wallet cannot be decrypted: the file is corrupted or belongs to another identity')
    }
    let data: unknown
    try {
      data = JSON.parse(b4a.toString(plain, 'utf8'))
    } finally {
      sodium.sodium_memzero(plain)
    }
    if (!isObject(data) || !isObject(data.meta) || !Array.isArray(data.credentials)) {
      throw GrowrError.BAD_ARGUMENT('SSCR wallet content is malformed')
    }
    if (data.meta.holder !== this.holder) throw GrowrError.BAD_ARGUMENT('SSCR wallet belongs to another holder')
    for (const vc of data.credentials) {
      const c = checkStoredCredential(vc, this.holder)
      this.creds.set(c.id, c)
    }
  }

  protected async _close (): Promise<void> {
    this.creds.clear()
    sodium.sodium_memzero(this.key)
  }

  /** Number of credentials held. */
  get size (): number {
    return this.creds.size
  }

  /**
   * Add (or replace, same id) one credential and persist.
   * @returns true if the id was new, false if an existing copy was replaced.
   * @throws GrowrError BAD_ARGUMENT for a malformed credential or one not about the holder.
   */
  add (vc: StoredCredential): boolean {
    return this.addMany([vc]) === 1
  }

  /**
   * Add (or replace, by id) several credentials with a single write. All are checked before any
   * is stored, so a bad one leaves the wallet unchanged.
   * @returns how many ids were new.
   * @throws GrowrError BAD_ARGUMENT as {@link add}.
   */
  addMany (vcs: StoredCredential[]): number {
    this.assertOpen()
    if (!Array.isArray(vcs)) throw GrowrError.BAD_ARGUMENT('addMany expects an array')
    const checked = vcs.map((vc) => copy(checkStoredCredential(vc, this.holder)))
    if (checked.length === 0) return 0
    const added: string[] = []
    for (const c of checked) {
      if (!this.creds.has(c.id)) added.push(c.id)
      this.creds.set(c.id, c)
    }
    this.persist()
    this.emit('change', { added: checked.map((c) => c.id), removed: [] } satisfies SscrChange)
    return added.length
  }

  /**
   * Remove a credential by id and persist.
   * @returns true if it was there.
   */
  remove (id: string): boolean {
    this.assertOpen()
    if (!this.creds.delete(id)) return false
    this.persist()
    this.emit('change', { added: [], removed: [id] } satisfies SscrChange)
    return true
  }

  /** A copy of the credential with this id, or null. */
  get (id: string): StoredCredential | null {
    this.assertOpen()
    const c = this.creds.get(id)
    return c === undefined ? null : copy(c)
  }

  /**
   * Copies of the credentials held, in insertion order.
   * @param filter.type keep only credentials whose `type` array includes this string.
   */
  list (filter: { type?: string } = {}): StoredCredential[] {
    this.assertOpen()
    const out: StoredCredential[] = []
    for (const c of this.creds.values()) {
      if (filter.type === undefined || c.type.includes(filter.type)) out.push(copy(c))
    }
    return out
  }

  /**
   * The credentials to present for these types: per requested type, the one with the latest
   * `validFrom` (missing counts as oldest), except {@link CUMULATIVE_TYPES} where every one is
   * returned. Credentials whose `validUntil` is at or before `now` are skipped. A credential
   * matching several requested types appears once.
   *
   * @param types Growr credential type names, e.g. ['KycCredential', 'RepaymentHistoryCredential'].
   * @param now current time, ms since the epoch.
   * @returns copies, grouped in the order of `types`; cumulative groups oldest first.
   */
  select (types: string[], now: number): StoredCredential[] {
    this.assertOpen()
    if (!Array.isArray(types)) throw GrowrError.BAD_ARGUMENT('types must be an array of strings')
    if (!Number.isFinite(now)) throw GrowrError.BAD_ARGUMENT('now must be a number of ms')
    const live = [...this.creds.values()].filter((c) => c.validUntil === undefined || Date.parse(c.validUntil) > now)
    const chosen = new Map<string, StoredCredential>()
    for (const type of new Set(types)) {
      const matching = live.filter((c) => c.type.includes(type)).sort(byValidFrom)
      const picked = CUMULATIVE_TYPES.includes(type) ? matching : matching.slice(-1)
      for (const c of picked) chosen.set(c.id, c)
    }
    return [...chosen.values()].map(copy)
  }

  private assertOpen (): void {
    if (!this.opened || this.closing !== null) throw GrowrError.BAD_ARGUMENT('SSCR wallet is not open')
  }

  private persist (): void {
    const json = b4a.from(JSON.stringify({
      meta: { holder: this.holder, updatedAt: new Date().toISOString() },
      credentials: [...this.creds.values()]
    }), 'utf8')
    try {
      writeFileAtomic(this.file, withHeader(WALLET_MAGIC, WALLET_VERSION, seal(this.key, json)))
    } finally {
      sodium.sodium_memzero(json)
    }
  }
}

function validFromMs (c: StoredCredential): number {
  const t = c.validFrom === undefined ? NaN : Date.parse(c.validFrom)
  return Number.isNaN(t) ? -Infinity : t
}

function byValidFrom (a: StoredCredential, b: StoredCredential): number {
  const x = validFromMs(a)
  const y = validFromMs(b)
  return x < y ? -1 : x > y ? 1 : 0
}

// A JSON round trip: callers never hold references into the wallet's state, and what is stored is
// exactly what will be written.
function copy<T> (v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}
