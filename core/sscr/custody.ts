/**
 * Custodial mode: an originator's identity service holds and presents a borrower's SSCR on her
 * behalf, with a consent she signed with her own key.
 *
 * Consent document (JSON): `{ type: 'GrowrCustodyConsent', version: 1, holder, custodian,
 * scope: ['hold-credentials', 'present-credentials'], issued, validUntil?, signature }` where
 * `signature` is lowercase hex of an Ed25519 signature (RFC 8032) by the holder's did:key over
 * `'growr/custody-consent/v1\0' || JCS(document without signature)` (JCS = RFC 8785).
 *
 * Vault layout, under `<custodianStorageDir>/custody/` (directory 0700, files 0600):
 *   `<name>/holder.bin`       'GRCUST' || 0x01 || nonce || secretbox(JSON { did, secretKey hex,
 *                             consent, enrolledAt }) under the custodian's wrapping key
 *   `<name>/sscr/wallet.bin`  the holder's SSCR, encrypted exactly like a self-held one (her key)
 * `<name>` is hex BLAKE2b-256(message = holder DID, key = a key derived from the custodian's seed),
 * so file names reveal neither the DIDs nor, to someone guessing DIDs, who is enrolled.
 * Wrapping key: BLAKE2b-256('growr/custody-wrap/v1', key = custodian seed); directory-name key:
 * BLAKE2b-256('growr/custody-dir/v1', key = custodian seed) (see crypto.ts deriveIdentityKey).
 */
import ReadyResource from 'ready-resource'
import canonicalize from 'canonicalize'
import fs from '#fs'
import path from '#path'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { GrowrError } from '../errors.ts'
import { sign, verify, SIGNATURE_BYTES } from '../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../identity/did-key.ts'
import {
  checkIdentity, deriveIdentityKey, seal, unseal, withHeader, stripHeader, writeFileAtomic,
  hex, isObject, DIR_MODE, KEY_BYTES, type HolderKey
} from './crypto.ts'
import { Sscr } from './wallet.ts'
import { openBackup, createBackup } from './backup.ts'

export const CONSENT_TYPE = 'GrowrCustodyConsent'
export const CONSENT_VERSION = 1
/** Domain tag prepended (with its NUL) to the canonical consent before signing. */
export const CONSENT_DOMAIN = 'growr/custody-consent/v1\0'
export const CUSTODY_SCOPE: readonly string[] = ['hold-credentials', 'present-credentials']

const HOLDER_MAGIC = 'GRCUST'
const HOLDER_VERSION = 1
const HOLDER_FILE = 'holder.bin'
const CONSENT_KEYS = new Set(['type', 'version', 'holder', 'custodian', 'scope', 'issued', 'validUntil', 'signature'])

/** A holder's signed permission for `custodian` to hold and present her credentials. */
export interface CustodyConsent {
  type: typeof CONSENT_TYPE
  version: typeof CONSENT_VERSION
  holder: DidKey
  custodian: string
  scope: string[]
  /** ISO 8601 */
  issued: string
  /** ISO 8601; absent means until released */
  validUntil?: string
  /** hex Ed25519 signature by `holder` */
  signature: string
}

/**
 * The holder signs a custody consent.
 *
 * @param input.holder `{ did, secretKey }` of the holder (the key must belong to the DID).
 * @param input.custodian the custodian's DID (did:key).
 * @param input.now signing time, ms since the epoch; becomes `issued`.
 * @param input.validUntil optional ISO 8601 expiry, later than `now`.
 * @returns the signed consent document.
 * @throws GrowrError BAD_ARGUMENT for a mismatched key, a custodian that is not a did:key, or a
 *   bad `now`/`validUntil`.
 */
export function createConsent (input: { holder: HolderKey; custodian: string; now: number; validUntil?: string }): CustodyConsent {
  const holder = checkIdentity(input.holder, 'holder')
  if (!isDidKey(input.custodian)) throw GrowrError.BAD_ARGUMENT('custodian must be a did:key')
  if (!Number.isFinite(input.now)) throw GrowrError.BAD_ARGUMENT('now must be a number of ms')
  const doc: Omit<CustodyConsent, 'signature'> = {
    type: CONSENT_TYPE,
    version: CONSENT_VERSION,
    holder,
    custodian: input.custodian,
    scope: [...CUSTODY_SCOPE],
    issued: new Date(input.now).toISOString()
  }
  if (input.validUntil !== undefined) {
    const until = typeof input.validUntil === 'string' ? Date.parse(input.validUntil) : NaN
    if (Number.isNaN(until)) throw GrowrError.BAD_ARGUMENT('validUntil must be an ISO 8601 date-time')
    if (until <= input.now) throw GrowrError.BAD_ARGUMENT('validUntil must be later than now')
    doc.validUntil = input.validUntil
  }
  return { ...doc, signature: hex(sign(signingInput(doc), input.holder.secretKey)) }
}

/**
 * Check a custody consent.
 *
 * @param consent the document, as received (untrusted).
 * @param opts.custodian the DID that must be named as custodian.
 * @param opts.now ms since the epoch.
 * @returns null when valid, else the reason: 'malformed: …', 'bad signature',
 *   'names another custodian', 'not yet valid' or 'expired'. Never throws.
 */
export function verifyConsent (consent: unknown, opts: { custodian: string; now: number }): string | null {
  const bad = malformed(consent)
  if (bad !== null) return `malformed: ${bad}`
  const c = consent as CustodyConsent
  const { signature, ...doc } = c
  if (!verify(signingInput(doc), b4a.from(signature, 'hex'), didToPublicKey(c.holder))) return 'bad signature'
  if (c.custodian !== opts.custodian) return 'names another custodian'
  if (Date.parse(c.issued) > opts.now) return 'not yet valid'
  if (c.validUntil !== undefined && Date.parse(c.validUntil) <= opts.now) return 'expired'
  return null
}

function malformed (c: unknown): string | null {
  if (!isObject(c)) return 'not a JSON object'
  for (const k of Object.keys(c)) if (!CONSENT_KEYS.has(k)) return `unknown field ${k}`
  if (c.type !== CONSENT_TYPE) return 'wrong type'
  if (c.version !== CONSENT_VERSION) return `unsupported version ${String(c.version)}`
  if (!isDidKey(c.holder)) return 'holder must be a did:key'
  if (typeof c.custodian !== 'string') return 'custodian must be a DID'
  if (!Array.isArray(c.scope) || c.scope.length !== CUSTODY_SCOPE.length || !CUSTODY_SCOPE.every((s) => (c.scope as unknown[]).includes(s))) {
    return 'scope must be exactly ' + CUSTODY_SCOPE.join(', ')
  }
  if (typeof c.issued !== 'string' || Number.isNaN(Date.parse(c.issued))) return 'issued must be an ISO 8601 date-time'
  if (c.validUntil !== undefined && (typeof c.validUntil !== 'string' || Number.isNaN(Date.parse(c.validUntil)))) {
    return 'validUntil must be an ISO 8601 date-time'
  }
  if (typeof c.signature !== 'string' || c.signature.length !== SIGNATURE_BYTES * 2 || !/^[0-9a-f]*$/.test(c.signature)) {
    return 'signature must be 64 bytes of lowercase hex'
  }
  return null
}

function signingInput (doc: Omit<CustodyConsent, 'signature'>): Uint8Array {
  const json = canonicalize(doc)
  if (json === undefined) throw GrowrError.BAD_ARGUMENT('consent cannot be canonicalised')
  return b4a.from(CONSENT_DOMAIN + json, 'utf8')
}

interface HolderRecord {
  did: DidKey
  secretKey: string
  consent: CustodyConsent
  enrolledAt: string
}

/** A custodial holder's identity and SSCR, as returned by {@link CustodialVault.open}. */
export interface CustodialHolder {
  identity: { did: DidKey; publicKey: Uint8Array; secretKey: Uint8Array }
  /** opened; close it when done (the vault also closes it on release() and close()) */
  wallet: Sscr
  consent: CustodyConsent
}

/**
 * The custodian's store of borrowers' SSCRs. Lifecycle: `await ready()` first, `await close()`
 * after (closes every wallet handed out by open()).
 */
export class CustodialVault extends ReadyResource {
  readonly root: string
  readonly custodian: DidKey
  private wrapKey: Uint8Array
  private nameKey: Uint8Array
  private wallets = new Set<Sscr>()

  /**
   * @param opts.dir the custodian's storage directory; the vault lives in `<dir>/custody/`.
   * @param opts.identity the custodian: `{ did, secretKey }`.
   * @throws GrowrError BAD_ARGUMENT if dir is empty or the key does not match the DID.
   */
  constructor (opts: { dir: string; identity: HolderKey }) {
    super()
    if (typeof opts?.dir !== 'string' || opts.dir.length === 0) throw GrowrError.BAD_ARGUMENT('dir must be a non-empty string')
    this.custodian = checkIdentity(opts.identity, 'custodian')
    this.root = path.join(opts.dir, 'custody')
    this.wrapKey = deriveIdentityKey(opts.identity.secretKey, 'growr/custody-wrap/v1')
    this.nameKey = deriveIdentityKey(opts.identity.secretKey, 'growr/custody-dir/v1')
  }

  protected async _open (): Promise<void> {
    fs.mkdirSync(this.root, { recursive: true, mode: DIR_MODE })
  }

  protected async _close (): Promise<void> {
    await Promise.all([...this.wallets].map((w) => w.close()))
    this.wallets.clear()
    sodium.sodium_memzero(this.wrapKey)
    sodium.sodium_memzero(this.nameKey)
  }

  /**
   * Take custody of a borrower's SSCR.
   *
   * @param input.backup her backup file (backup.ts), input.passphrase its passphrase.
   * @param input.consent her consent naming this custodian, signed by the backup's identity.
   * @param input.now ms since the epoch (default Date.now()).
   * @returns her DID.
   * @throws GrowrError BAD_PASSPHRASE / UNSUPPORTED_VERSION / BAD_ARGUMENT from openBackup;
   *   BAD_ARGUMENT if the consent is invalid now (the reason is in the message) or signed by someone
   *   other than the backup's identity; IDENTITY_EXISTS if she is already enrolled here.
   */
  async enroll (input: { backup: Uint8Array; passphrase: string; consent: CustodyConsent; now?: number }): Promise<DidKey> {
    this.assertOpen()
    const now = input.now ?? Date.now()
    const reason = verifyConsent(input.consent, { custodian: this.custodian, now })
    if (reason !== null) throw GrowrError.BAD_ARGUMENT(`custody consent refused: ${reason}`)
    const { identity, credentials } = openBackup(input.backup, input.passphrase)
    if (input.consent.holder !== identity.did) {
      sodium.sodium_memzero(identity.secretKey)
      throw GrowrError.BAD_ARGUMENT('custody consent refused: not signed by the backup\'s identity')
    }
    const dir = this.holderDir(identity.did)
    if (fs.existsSync(path.join(dir, HOLDER_FILE))) {
      sodium.sodium_memzero(identity.secretKey)
      throw GrowrError.IDENTITY_EXISTS(`${identity.did} is already in custody here`)
    }
    const record: HolderRecord = { did: identity.did, secretKey: hex(identity.secretKey), consent: input.consent, enrolledAt: new Date(now).toISOString() }
    try {
      fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE })
      const wallet = new Sscr({ dir, identity })
      await wallet.ready()
      try {
        wallet.addMany(credentials)
      } finally {
        await wallet.close()
      }
      // holder.bin last: its presence is what marks the enrolment complete.
      this.writeRecord(dir, record)
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true })
      throw err
    } finally {
      sodium.sodium_memzero(identity.secretKey)
    }
    return identity.did
  }

  /** DIDs of every holder in custody here, sorted. */
  list (): DidKey[] {
    this.assertOpen()
    const out: DidKey[] = []
    for (const name of fs.readdirSync(this.root)) {
      const file = path.join(this.root, name, HOLDER_FILE)
      if (fs.existsSync(file)) out.push(this.readRecord(path.join(this.root, name)).did)
    }
    return out.sort()
  }

  /**
   * Open a holder's identity and SSCR for use on her behalf.
   *
   * @param holderDid her DID; now: ms since the epoch (default Date.now()).
   * @returns her key pair, her opened wallet (caller closes it) and her consent.
   * @throws GrowrError NOT_FOUND if she is not in custody here; OP_REJECTED if her consent is no
   *   longer valid (the reason is in the message).
   */
  async open (holderDid: string, now: number = Date.now()): Promise<CustodialHolder> {
    this.assertOpen()
    const dir = this.holderDir(holderDid)
    const rec = this.readRecord(dir)
    const reason = verifyConsent(rec.consent, { custodian: this.custodian, now })
    if (reason !== null) throw GrowrError.OP_REJECTED(`custody consent of ${holderDid} is not valid: ${reason}`)
    const identity = recordIdentity(rec)
    const wallet = new Sscr({ dir, identity })
    await wallet.ready()
    this.wallets.add(wallet)
    wallet.once('close', () => this.wallets.delete(wallet))
    return { identity, wallet, consent: rec.consent }
  }

  /**
   * Give a holder her SSCR back and forget it: returns a backup (backup.ts) under `passphrase`
   * and deletes the custodial copy. Allowed whether or not her consent is still valid: ending
   * custody must always be possible.
   *
   * @param holderDid her DID; passphrase: for the backup (non-empty).
   * @returns the backup file's bytes.
   * @throws GrowrError NOT_FOUND if she is not in custody here; BAD_ARGUMENT for an empty passphrase.
   */
  async release (holderDid: string, passphrase: string): Promise<Uint8Array> {
    this.assertOpen()
    const dir = this.holderDir(holderDid)
    const rec = this.readRecord(dir)
    const identity = recordIdentity(rec)
    for (const w of [...this.wallets]) {
      if (w.holder === holderDid) await w.close()
    }
    let backup: Uint8Array
    try {
      const wallet = new Sscr({ dir, identity })
      await wallet.ready()
      try {
        backup = createBackup({ identity, credentials: wallet.list(), passphrase })
      } finally {
        await wallet.close()
      }
    } finally {
      sodium.sodium_memzero(identity.secretKey)
    }
    fs.rmSync(dir, { recursive: true, force: true })
    return backup
  }

  private holderDir (did: string): string {
    const out = b4a.alloc(KEY_BYTES)
    sodium.crypto_generichash(out, b4a.from(String(did), 'utf8'), this.nameKey)
    return path.join(this.root, hex(out))
  }

  private writeRecord (dir: string, rec: HolderRecord): void {
    const json = b4a.from(JSON.stringify(rec), 'utf8')
    try {
      writeFileAtomic(path.join(dir, HOLDER_FILE), withHeader(HOLDER_MAGIC, HOLDER_VERSION, seal(this.wrapKey, json)))
    } finally {
      sodium.sodium_memzero(json)
    }
  }

  private readRecord (dir: string): HolderRecord {
    const file = path.join(dir, HOLDER_FILE)
    if (!fs.existsSync(file)) throw GrowrError.NOT_FOUND('no such holder in custody here')
    const plain = unseal(this.wrapKey, stripHeader(fs.readFileSync(file), HOLDER_MAGIC, HOLDER_VERSION, 'custody record'))
    if (plain === null) throw GrowrError.BAD_ARGUMENT('custody record cannot be decrypted: corrupted or another custodian\'s')
    try {
      const rec = JSON.parse(b4a.toString(plain, 'utf8')) as HolderRecord
      if (!isObject(rec) || !isDidKey(rec.did) || typeof rec.secretKey !== 'string' || !isObject(rec.consent)) throw new Error('bad')
      return rec
    } catch {
      throw GrowrError.BAD_ARGUMENT('custody record is malformed')
    } finally {
      sodium.sodium_memzero(plain)
    }
  }

  private assertOpen (): void {
    if (!this.opened || this.closing !== null) throw GrowrError.BAD_ARGUMENT('custodial vault is not open')
  }
}

function recordIdentity (rec: HolderRecord): CustodialHolder['identity'] {
  const secretKey = b4a.from(rec.secretKey, 'hex')
  checkIdentity({ did: rec.did, secretKey }, 'custodial holder')
  return { did: rec.did, publicKey: secretKey.slice(32), secretKey }
}
