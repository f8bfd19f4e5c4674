/**
 * Confirming imported trustlines (issue 13, "each party binds its new DID to its old account and
 * countersigns the opening state"): from an ImportedTrustline (importer.ts) to a normal bilateral
 * trustline whose opening state both parties signed.
 *
 * 1. **Claim.** A party binds its DID to its legacy account with a claim
 *    `{ v: 1, type: "growr/legacy-claim", source: "growoperative", legacyUser, foafPublicKey, did }`,
 *    signed by the DID (Ed25519 over "growr/import/claim/v1" 0x00 || JCS(claim)), and proven to
 *    belong to the old account in one of two ways:
 *    - **the legacy key**, when the export holds a `foaf_public_key` that is a secp256k1 point:
 *      the central service (rheos/foaf-protocol-ruby SeedPhrase / SignatureVerifier) gave every
 *      user a secp256k1 key derived from a 12-word seed phrase the user holds, and verifies
 *      Ethereum `personal_sign` (EIP-191) signatures; the claim must carry such a signature of
 *      {@link claimMessage} by that key. A user who holds the phrase proves the account alone,
 *      and nobody (not the operator) can bind that account to another DID.
 *    - **the import operator's attestation**, when the export has no usable key (absent, or not a
 *      point: the service kept keys custodially for some users): an Ed25519 signature of the claim
 *      by an operator DID both parties were told to trust ("growr/import/attest/v1"). The
 *      operator checked the person the usual way (their login, in person).
 *    The legacy key is required whenever there is one, so an operator cannot silently rebind an
 *    account that can speak for itself.
 * 2. **Exchange.** Parties send each other their claims over peer RPC (`trustline/claim`); each
 *    side verifies the other's against its own copy of the export, never against the request.
 * 3. **Opening terms** follow from the imported record and both verified claims, the same on both
 *    sides: {@link importedTerms}. Their `origin` is `growoperative:trustline:<id>:<binding>`
 *    where binding = SHA-256 over the history, the opening values and both claims: the trustline
 *    id (hash of the terms) commits to the imported history and to who claimed it.
 * 4. **Confirm.** The genesis state of such terms is "unconfirmed" (books/trustline genesis). One
 *    party proposes `{ type: 'confirm' }`, the other countersigns: both signed the opening state,
 *    and the line is open with the imported history as its past. Before countersigning, a party
 *    checks that the terms are exactly the ones its own export and the verified claims give.
 *
 * Store (the node's local Hyperbee): `import/line/<legacyId>` (ImportedTrustline as JSON, amounts
 * as strings), `import/claim/<legacyUser>` (a verified SignedClaim; mine or a partner's).
 * Loads under Bare: no `node:` imports.
 */
import '../../runtime/text-encoding.ts' // before @noble: Bare has no TextEncoder global
import ReadyResource from 'ready-resource'
import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import type Hyperbee from 'hyperbee'
import { sha256 } from '@noble/hashes/sha2.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { canonicalBytes } from '../../../books/ops/envelope.ts'
import { genesis, newTerms } from '../../../books/trustline/machine.ts'
import { termsId } from '../../../books/trustline/encoding.ts'
import type { TrustlineTerms } from '../../../books/trustline/types.ts'
import { sign, verify } from '../../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../../identity/did-key.ts'
import { GrowrError } from '../../errors.ts'
import type { PeerRpc } from '../../network/peer-rpc.ts'
import type { TrustlineSync } from '../sync.ts'
import { importJson } from './importer.ts'
import { openingTerms } from './opening.ts'
import type { ImportedTrustline, ImportedUser } from './types.ts'

/** RPC method: `{ claims: SignedClaim[] }` -> `{ claims: SignedClaim[] }` (the callee's own). */
export const CLAIM_METHOD = 'trustline/claim'
/** Most claims one request may carry (one per legacy account the caller had). */
export const MAX_CLAIMS_PER_REQUEST = 16

/** A DID's claim to a legacy account of the central service. */
export interface LegacyClaim {
  v: 1
  type: 'growr/legacy-claim'
  source: 'growoperative'
  /** users.id, decimal text */
  legacyUser: string
  /** users.foaf_public_key as the export holds it, or null */
  foafPublicKey: string | null
  did: DidKey
}

/** A claim with its proofs: the DID's signature, and the legacy key's or an operator's. */
export interface SignedClaim {
  claim: LegacyClaim
  /** Ed25519 by `claim.did`, 128 hex */
  sig: string
  /** EIP-191 personal_sign of {@link claimMessage} by the legacy secp256k1 key: 65 bytes hex (r || s || v, v 27/28 or 0/1) */
  legacy?: string
  /** Ed25519 by an import operator's DID over the claim */
  attestation?: { operator: DidKey, sig: string }
}

type Result<T> = ({ ok: true } & T) | { ok: false, reason: string }

function framed (kind: 'claim' | 'attest' | 'binding', value: unknown): Uint8Array {
  return b4a.concat([b4a.from(`growr/import/${kind}/v1\0`), canonicalBytes(value)])
}

/**
 * The text the legacy key signs (EIP-191 personal_sign): readable, and fixed by the claim.
 * @returns UTF-8 text: a line saying what it is, then the claim's canonical JSON
 */
export function claimMessage (claim: LegacyClaim): string {
  return `Growr: I bind my GrowOperative account to this DID.\n${b4a.toString(canonicalBytes(claim))}`
}

/** EIP-191 hash of a personal message: keccak256("\x19Ethereum Signed Message:\n" + byte length + message). */
function eip191Hash (message: string): Uint8Array {
  const body = b4a.from(message)
  return keccak_256(b4a.concat([b4a.from(`\x19Ethereum Signed Message:\n${body.length}`), body]))
}

/**
 * The legacy key of an exported account, when the export holds one that is a secp256k1 point
 * (33 or 65 bytes hex, with or without 0x; the service writes `Eth::Key#public_hex`, 65 bytes).
 * @returns the uncompressed point (65 bytes), or null when absent or not a point
 */
export function legacyKeyOf (foafPublicKey: string | null): Uint8Array | null {
  if (typeof foafPublicKey !== 'string') return null
  const h = foafPublicKey.replace(/^0x/i, '').toLowerCase()
  if (!/^([0-9a-f]{66}|[0-9a-f]{130})$/.test(h)) return null
  try {
    return secp256k1.Point.fromHex(h).toBytes(false)
  } catch {
    return null
  }
}

/**
 * A claim of `did` to a legacy account, signed by the DID.
 * @param user the account as imported (its id and exported key)
 * @param did the claiming DID, with its 64-byte Ed25519 secret key
 * @param proof the legacy key's EIP-191 signature (hex) of {@link claimMessage}, when the party holds the phrase
 */
export function makeClaim (user: Pick<ImportedUser, 'legacyId' | 'foafPublicKey'>, did: DidKey, secretKey: Uint8Array, proof: { legacy?: string } = {}): SignedClaim {
  const claim: LegacyClaim = { v: 1, type: 'growr/legacy-claim', source: 'growoperative', legacyUser: user.legacyId, foafPublicKey: user.foafPublicKey, did }
  return { claim, sig: b4a.toString(sign(framed('claim', claim), secretKey), 'hex'), ...(proof.legacy !== undefined ? { legacy: proof.legacy } : {}) }
}

/**
 * The import operator's attestation of a claim (it checked the person out of band).
 * @returns the claim with `attestation` set
 */
export function attestClaim (signed: SignedClaim, operator: DidKey, operatorSecretKey: Uint8Array): SignedClaim {
  return { ...signed, attestation: { operator, sig: b4a.toString(sign(framed('attest', signed.claim), operatorSecretKey), 'hex') } }
}

/**
 * The EIP-191 signature of a claim by a legacy secp256k1 key (what a FOAF wallet's
 * personal_sign gives): for tools and tests; a party signs with its own wallet.
 * @param privateKey 32 bytes
 * @returns 65 bytes hex: r || s || v (27 or 28)
 */
export function legacySign (claim: LegacyClaim, privateKey: Uint8Array): string {
  const sig = secp256k1.sign(eip191Hash(claimMessage(claim)), privateKey, { prehash: false, format: 'recovered' })
  // noble's recovered format puts the recovery byte first; Ethereum puts v = 27 + recovery last
  return b4a.toString(b4a.concat([sig.subarray(1), b4a.from([27 + sig[0]])]), 'hex')
}

function ed25519Holds (message: Uint8Array, sig: unknown, did: string): boolean {
  if (typeof sig !== 'string' || !/^[0-9a-f]{128}$/.test(sig)) return false
  try {
    return verify(message, b4a.from(sig, 'hex'), didToPublicKey(did))
  } catch {
    return false
  }
}

function legacyHolds (claim: LegacyClaim, sigHex: unknown, key: Uint8Array): boolean {
  if (typeof sigHex !== 'string' || !/^(0x)?[0-9a-fA-F]{130}$/.test(sigHex)) return false
  try {
    const b = b4a.from(sigHex.replace(/^0x/, ''), 'hex')
    const v = b[64]
    const rec = v >= 27 ? v - 27 : v
    if (rec !== 0 && rec !== 1) return false
    const recovered = secp256k1.Signature.fromBytes(b.subarray(0, 64), 'compact').addRecoveryBit(rec).recoverPublicKey(eip191Hash(claimMessage(claim)))
    return b4a.equals(recovered.toBytes(false), key)
  } catch {
    return false
  }
}

/**
 * Verifies a signed claim against the account as this party's own export holds it.
 * @param signed any value (judged)
 * @param user the account from this party's import
 * @param operators the import operators' DIDs this party trusts (for accounts without a usable legacy key)
 * @returns `{ ok: true, claim, by: 'legacy-key' | 'operator' }` or `{ ok: false, reason }`; never throws
 */
export function verifyClaim (signed: unknown, user: Pick<ImportedUser, 'legacyId' | 'foafPublicKey'>, operators: readonly string[]): Result<{ claim: LegacyClaim, by: 'legacy-key' | 'operator' }> {
  try {
    const s = signed as SignedClaim
    if (typeof s !== 'object' || s === null || typeof s.claim !== 'object' || s.claim === null) return { ok: false, reason: 'a claim is { claim, sig, legacy? | attestation? }' }
    const c = s.claim
    const keys = Object.keys(c).sort().join(',')
    if (keys !== 'did,foafPublicKey,legacyUser,source,type,v' || c.v !== 1 || c.type !== 'growr/legacy-claim' || c.source !== 'growoperative') return { ok: false, reason: 'the claim has missing or unknown fields, or another version' }
    if (!isDidKey(c.did)) return { ok: false, reason: 'the claim names no did:key' }
    if (c.legacyUser !== user.legacyId) return { ok: false, reason: `the claim is for legacy account ${String(c.legacyUser)}, not ${user.legacyId}` }
    if (c.foafPublicKey !== user.foafPublicKey) return { ok: false, reason: 'the claim names another legacy key than the export holds' }
    if (!ed25519Holds(framed('claim', c), s.sig, c.did)) return { ok: false, reason: 'the claim is not signed by the DID it names' }
    const key = legacyKeyOf(user.foafPublicKey)
    if (key !== null) {
      if (!legacyHolds(c, s.legacy, key)) return { ok: false, reason: 'the account has a legacy key and the claim carries no valid signature by it (EIP-191 personal_sign of the claim message)' }
      return { ok: true, claim: c, by: 'legacy-key' }
    }
    const a = s.attestation
    if (typeof a !== 'object' || a === null) return { ok: false, reason: 'the account has no usable legacy key: the claim needs an import operator\'s attestation' }
    if (!operators.includes(a.operator)) return { ok: false, reason: 'the claim is attested by a DID that is not a trusted import operator' }
    if (!ed25519Holds(framed('attest', c), a.sig, a.operator)) return { ok: false, reason: 'the operator\'s attestation does not hold' }
    return { ok: true, claim: c, by: 'operator' }
  } catch (err) {
    return { ok: false, reason: `malformed claim (${(err as Error).message})` }
  }
}

/** SHA-256 hex over framed JSON. */
function hashOf (kind: 'claim' | 'binding', value: unknown): string {
  return b4a.toString(sha256(framed(kind, value)), 'hex')
}

/** JSON form of an imported trustline (bigint amounts as decimal strings). */
function jsonOf (line: ImportedTrustline): Record<string, unknown> {
  return JSON.parse(importJson(line, 0))
}

/**
 * The opening terms of an imported trustline once both accounts are claimed: the same on both
 * sides, from the shared export and the two claims alone (time enters as data: `created` is the
 * export's last activity, or its establishment date, or 0, so neither party's clock decides it).
 * @param line the imported trustline
 * @param claimA the verified claim of legacy user A, @param claimB of legacy user B
 * @returns terms whose origin binds history, opening values and both claims
 * @throws GrowrError BAD_ARGUMENT when the claims are not of the line's two users or bind one DID twice
 */
export function importedTerms (line: ImportedTrustline, claimA: SignedClaim, claimB: SignedClaim): TrustlineTerms {
  if (claimA.claim.legacyUser !== line.userA.legacyId || claimB.claim.legacyUser !== line.userB.legacyId) throw GrowrError.BAD_ARGUMENT('the claims are not of this trustline\'s two accounts')
  const j = jsonOf(line)
  const binding = hashOf('binding', {
    legacy: line.legacyId,
    history: j.history,
    opening: { limitAtoB: j.limitAtoB, limitBtoA: j.limitBtoA, balance: j.balance, asset: line.asset },
    claims: [hashOf('claim', claimA.claim), hashOf('claim', claimB.claim)]
  })
  const when = Date.parse(line.lastActivityAt ?? line.establishedAt ?? '')
  const created = Number.isSafeInteger(when) && when >= 0 ? when : 0
  const base = openingTerms(line, { userA: claimA.claim.did, userB: claimB.claim.did }, created)
  try {
    return newTerms(base.a, base.b, base.asset, base.created, { limitAtoB: base.limitAtoB, limitBtoA: base.limitBtoA, balance: base.balance, origin: `growoperative:trustline:${line.legacyId}:${binding}` })
  } catch (err) {
    throw GrowrError.BAD_ARGUMENT(`the imported trustline ${line.legacyId} cannot open: ${(err as Error).message}`)
  }
}

/** Where an imported trustline stands for this party. */
export interface ImportStatus {
  legacyId: string
  asset: string
  /** the two legacy accounts: id, user name, display name, and the DID bound to it once claimed */
  userA: { legacyId: string, userName: string, displayName: string | null, did: DidKey | null }
  userB: { legacyId: string, userName: string, displayName: string | null, did: DidKey | null }
  /** the service's values, minor units as decimal strings (positive balance: legacy A owes B) */
  limitAtoB: string
  limitBtoA: string
  balance: string
  historyRows: number
  reconciled: boolean
  /** the bilateral trustline id once both claims are in, else null */
  trustline: string | null
  /** 'unclaimed': nobody here claimed an account of it; 'awaiting-partner': the partner's claim is missing; 'imported-unconfirmed': both claimed, the opening state not signed by both; 'confirmed' */
  status: 'unclaimed' | 'awaiting-partner' | 'imported-unconfirmed' | 'confirmed'
}

export interface ImportConfirmationOptions {
  local: Hyperbee
  identity: { did: DidKey, secretKey: Uint8Array }
  rpc: PeerRpc | null
  sync: TrustlineSync
  /** import operators' DIDs trusted to attest claims of accounts without a usable legacy key */
  operators?: readonly string[]
  /** how long to wait for a partner to connect, ms (default 5000) */
  connectTimeoutMs?: number
}

const pad = (id: string): string => id.padStart(12, '0')

/**
 * This party's imported trustlines and the claims around them; answers `trustline/claim`.
 * Lifecycle: ready() registers the rpc method; close() waits for work in flight.
 */
export class ImportConfirmation extends ReadyResource {
  private readonly bee: Hyperbee
  private readonly identity: { did: DidKey, secretKey: Uint8Array }
  private readonly rpc: PeerRpc | null
  private readonly sync: TrustlineSync
  readonly operators: string[]
  private readonly connectTimeoutMs: number

  constructor (opts: ImportConfirmationOptions) {
    super()
    this.bee = opts.local
    this.identity = opts.identity
    this.rpc = opts.rpc
    this.sync = opts.sync
    this.operators = [...(opts.operators ?? [])]
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000
  }

  protected async _open (): Promise<void> {
    await this.sync.ready()
    if (this.rpc) this.rpc.respond(CLAIM_METHOD, async (req, from) => await this.onClaims(req, from as DidKey))
  }

  protected async _close (): Promise<void> {}

  /** Trusts one more import operator DID. @throws GrowrError BAD_ARGUMENT for a non-did:key */
  addOperator (did: string): void {
    if (!isDidKey(did)) throw GrowrError.BAD_ARGUMENT('an operator is a did:key')
    if (!this.operators.includes(did)) this.operators.push(did)
  }

  /**
   * Keeps imported trustlines (from importExport / importTables) for confirmation.
   * @returns how many were stored
   */
  async load (lines: readonly ImportedTrustline[]): Promise<number> {
    await this.ready()
    const batch = this.bee.batch()
    for (const l of lines) {
      if (l.version !== 1) throw GrowrError.UNSUPPORTED_VERSION(`imported trustline version ${String(l.version)}`)
      await batch.put(`import/line/${pad(l.legacyId)}`, jsonOf(l))
    }
    await batch.flush()
    return lines.length
  }

  /** One imported trustline, or null. */
  async line (legacyId: string): Promise<ImportedTrustline | null> {
    const node = await this.bee.get(`import/line/${pad(String(legacyId))}`)
    return node === null ? null : revive(node.value)
  }

  /** Every imported trustline kept. */
  async lines (): Promise<ImportedTrustline[]> {
    const out: ImportedTrustline[] = []
    for await (const { value } of this.bee.createReadStream({ gte: 'import/line/', lt: 'import/line0' })) out.push(revive(value))
    return out
  }

  private async user (legacyUser: string): Promise<ImportedUser | null> {
    for (const l of await this.lines()) {
      if (l.userA.legacyId === legacyUser) return l.userA
      if (l.userB.legacyId === legacyUser) return l.userB
    }
    return null
  }

  /** The verified claim kept for a legacy account, or null. */
  async claimOf (legacyUser: string): Promise<SignedClaim | null> {
    const node = await this.bee.get(`import/claim/${pad(legacyUser)}`)
    return node === null ? null : node.value as SignedClaim
  }

  /**
   * Binds this node's DID to a legacy account of the import.
   * @param legacyUser users.id
   * @param proof `legacy`: the EIP-191 signature by the account's legacy key of
   *   claimMessage (required when the export holds a usable key); `attestation`: an operator's
   *   (for an account without one)
   * @returns the signed claim (kept)
   * @throws GrowrError NOT_FOUND (no such account in the import), OP_REJECTED (the proof does not hold: the reason says why)
   */
  async claim (legacyUser: string, proof: { legacy?: string, attestation?: { operator: DidKey, sig: string } } = {}): Promise<SignedClaim> {
    await this.ready()
    const user = await this.user(String(legacyUser))
    if (!user) throw GrowrError.NOT_FOUND(`the import has no account ${String(legacyUser)}`)
    let signed = makeClaim(user, this.identity.did, this.identity.secretKey, { legacy: proof.legacy })
    if (proof.attestation) signed = { ...signed, attestation: proof.attestation }
    const ok = verifyClaim(signed, user, this.operators)
    if (!ok.ok) throw GrowrError.OP_REJECTED(ok.reason)
    await this.keep(signed)
    return signed
  }

  /** The claim this node's DID would sign for an account (what the legacy key or the operator signs). */
  async draft (legacyUser: string): Promise<{ claim: LegacyClaim, message: string }> {
    const user = await this.user(String(legacyUser))
    if (!user) throw GrowrError.NOT_FOUND(`the import has no account ${String(legacyUser)}`)
    const { claim } = makeClaim(user, this.identity.did, this.identity.secretKey)
    return { claim, message: claimMessage(claim) }
  }

  private async keep (signed: SignedClaim): Promise<void> {
    const prior = await this.claimOf(signed.claim.legacyUser)
    // first verified binding wins: a second DID for one account is refused, not swapped in
    if (prior && prior.claim.did !== signed.claim.did) throw GrowrError.OP_REJECTED(`account ${signed.claim.legacyUser} is already bound to ${prior.claim.did}`)
    await this.bee.put(`import/claim/${pad(signed.claim.legacyUser)}`, signed)
  }

  private async mine (): Promise<SignedClaim[]> {
    const out: SignedClaim[] = []
    for await (const { value } of this.bee.createReadStream({ gte: 'import/claim/', lt: 'import/claim0' })) {
      if ((value as SignedClaim).claim.did === this.identity.did) out.push(value as SignedClaim)
    }
    return out
  }

  /**
   * Sends this node's claims to a partner and keeps the partner's verified ones; then opens
   * (unconfirmed) every imported trustline both accounts of which are now claimed.
   * @param partner the partner's did:key
   * @returns the legacy ids of the trustlines opened or already open, and why claims were refused
   * @throws GrowrError NOT_FOUND when the partner cannot be reached
   */
  async exchange (partner: DidKey): Promise<{ opened: string[], refused: string[] }> {
    await this.ready()
    const rpc = this.rpc
    if (!rpc) throw GrowrError.NOT_FOUND('this node runs offline')
    if (!isDidKey(partner) || partner === this.identity.did) throw GrowrError.BAD_ARGUMENT('the partner must be another did:key')
    if (!rpc.peers().includes(partner)) await rpc.connect(partner, { timeoutMs: this.connectTimeoutMs })
    const answer = await rpc.request(partner, CLAIM_METHOD, { claims: await this.mine() }, { timeoutMs: 20_000 }) as { claims?: unknown }
    const refused = await this.accept(answer?.claims, partner)
    return { opened: await this.openReady(), refused }
  }

  private async onClaims (req: unknown, from: DidKey): Promise<unknown> {
    const claims = (req as { claims?: unknown })?.claims
    const refused = await this.accept(claims, from)
    this.openReady().catch(safetyCatch)
    return { claims: await this.mine(), refused }
  }

  /** Verifies and keeps claims a peer sent: only claims of that peer's own DID. */
  private async accept (claims: unknown, from: DidKey): Promise<string[]> {
    if (!Array.isArray(claims)) return ['no claims']
    const refused: string[] = []
    for (const c of claims.slice(0, MAX_CLAIMS_PER_REQUEST)) {
      const who = (c as SignedClaim)?.claim?.legacyUser
      if ((c as SignedClaim)?.claim?.did !== from) { refused.push(`a claim for another DID than the sender's (account ${String(who)})`); continue }
      const user = typeof who === 'string' ? await this.user(who) : null
      if (!user) { refused.push(`account ${String(who)} is not in this party's import`); continue }
      const ok = verifyClaim(c, user, this.operators)
      if (!ok.ok) { refused.push(`account ${who}: ${ok.reason}`); continue }
      try { await this.keep(c as SignedClaim) } catch (err) { refused.push((err as Error).message) }
    }
    return refused
  }

  /** Opens (unconfirmed, in the trustline store) every imported line with both accounts claimed, one of them by this node. */
  private async openReady (): Promise<string[]> {
    const opened: string[] = []
    for (const l of await this.lines()) {
      const t = await this.termsFor(l)
      if (!t) continue
      if (!(await this.sync.store.has(termsId(t)))) await this.sync.store.save(t, [], genesis(t), 0, Date.now())
      opened.push(l.legacyId)
    }
    return opened
  }

  private async termsFor (l: ImportedTrustline): Promise<TrustlineTerms | null> {
    const ca = await this.claimOf(l.userA.legacyId)
    const cb = await this.claimOf(l.userB.legacyId)
    if (!ca || !cb || (ca.claim.did !== this.identity.did && cb.claim.did !== this.identity.did)) return null
    return importedTerms(l, ca, cb)
  }

  /**
   * Confirms an imported trustline: countersigns the partner's pending `confirm`, or proposes one.
   * Before either, checks that the stored terms are exactly what this party's export and the
   * verified claims give (a partner cannot slip in other values or history).
   * @param legacyId the legacy trustline id
   * @returns `{ id, status: 'proposed' | 'confirmed' }`
   * @throws GrowrError NOT_FOUND (not imported, or not both claimed), OP_REJECTED (already
   *   confirmed; terms differ; the machine's reason)
   */
  async confirm (legacyId: string): Promise<{ id: string, status: 'proposed' | 'confirmed' }> {
    await this.ready()
    const l = await this.line(legacyId)
    if (!l) throw GrowrError.NOT_FOUND(`no imported trustline ${legacyId}`)
    const terms = await this.termsFor(l)
    if (!terms) throw GrowrError.NOT_FOUND('both accounts of this trustline must be claimed first (your claim, then exchange with the partner)')
    const id = termsId(terms)
    await this.openReady()
    const view = await this.sync.show(id)
    if (view.state.status !== 'unconfirmed') throw GrowrError.OP_REJECTED(`the trustline is ${String(view.state.status)}, not waiting for confirmation`)
    const incoming = view.proposals.find((p) => p.dir === 'in' && p.status === 'pending' && !p.expired && p.change.type === 'confirm')
    if (incoming) {
      await this.sync.accept(id, incoming.hash)
      return { id, status: 'confirmed' }
    }
    const outgoing = view.proposals.find((p) => p.dir === 'out' && p.status === 'pending' && !p.expired && p.change.type === 'confirm')
    if (!outgoing) await this.sync.propose(id, { type: 'confirm' })
    return { id, status: 'proposed' }
  }

  /**
   * Whether a trustline's terms are an import this party can vouch for: the terms its own
   * export and verified claims give. For the UI, before a partner's `confirm` is countersigned.
   * @returns the legacy id, or null when the terms are no import this party knows
   */
  async legacyIdOf (terms: TrustlineTerms): Promise<string | null> {
    const m = /^growoperative:trustline:([0-9]+):[0-9a-f]{64}$/.exec(terms.origin)
    if (!m) return null
    const l = await this.line(m[1])
    if (!l) return null
    const t = await this.termsFor(l).catch(() => null)
    return t !== null && termsId(t) === termsId(terms) ? l.legacyId : null
  }

  /** Where every imported trustline this node has a claimed account on stands. */
  async status (): Promise<ImportStatus[]> {
    await this.ready()
    const out: ImportStatus[] = []
    for (const l of await this.lines()) {
      const ca = await this.claimOf(l.userA.legacyId)
      const cb = await this.claimOf(l.userB.legacyId)
      const mineHere = ca?.claim.did === this.identity.did || cb?.claim.did === this.identity.did
      let status: ImportStatus['status'] = mineHere ? 'awaiting-partner' : 'unclaimed'
      let trustline: string | null = null
      if (mineHere && ca && cb) {
        const t = importedTerms(l, ca, cb)
        trustline = termsId(t)
        const v = await this.sync.store.load(trustline)
        status = v && v.state.status !== 'unconfirmed' ? 'confirmed' : 'imported-unconfirmed'
      }
      if (!mineHere) continue
      const u = (x: ImportedUser, c: SignedClaim | null): ImportStatus['userA'] => ({ legacyId: x.legacyId, userName: x.userName, displayName: x.displayName, did: c ? c.claim.did : null })
      out.push({
        legacyId: l.legacyId, asset: l.asset, userA: u(l.userA, ca), userB: u(l.userB, cb),
        limitAtoB: l.limitAtoB.toString(), limitBtoA: l.limitBtoA.toString(), balance: l.balance.toString(),
        historyRows: l.history.length, reconciled: l.reconciled, trustline, status
      })
    }
    return out
  }
}

function revive (v: any): ImportedTrustline {
  return { ...v, limitAtoB: BigInt(v.limitAtoB), limitBtoA: BigInt(v.limitBtoA), balance: BigInt(v.balance) }
}
