/**
 * The contract's `trustline.*` requests (app/contract.ts spreads them into its handlers):
 * bilateral trustlines (docs/trustline-spec.md) between this node's DID and another.
 *
 * Money: amounts are decimal strings of whole minor units (JSON has no bigint) in the
 * trustline's asset. Sides: the party whose DID sorts first is A; `limitAtoB` is the most A may
 * owe B (the credit B extends); a positive balance means A owes B. Views also give `myBalance`
 * (positive: this node owes its partner).
 * Other helpers add their requests (relay, routing, payments, import) to this contract part.
 * Imports (`trustline.import|claim|imports|confirmImport`: core/credit/migration/confirm.ts) and
 * anchors (`anchor.*`: core/credit/anchor.ts) are here too.
 * Runs under Bare and Node: no `node:` imports.
 */
import { GrowrError } from '../../core/errors.ts'
import type { GrowrNode } from '../../core/node.ts'
import type { Services } from '../../core/services/services.ts'
import type { TrustlineSync, TrustlineView } from '../../core/credit/sync.ts'
import type { Change, Entry } from '../../books/trustline/types.ts'
import safetyCatch from 'safety-catch'
import b4a from 'b4a'
import type Hyperbee from 'hyperbee'
import { isDidKey, type DidKey } from '../../core/identity/did-key.ts'
import type { CreditPayments, Invoice } from '../../core/credit/payment.ts'
import { routesFrom } from '../../core/credit/relay.ts'
import { replay } from '../../books/trustline/machine.ts'
import { stateHash } from '../../books/trustline/encoding.ts'
import { anchorBatch, anchorProof, anchorScript, verifyAnchor, type AnchorBatch, type AnchorTxProof, type TrustlineAnchorProof } from '../../core/credit/anchor.ts'
import { ImportConfirmation, type ImportStatus, type LegacyClaim, type SignedClaim } from '../../core/credit/migration/confirm.ts'
import { importExport } from '../../core/credit/migration/importer.ts'
import type { ImportReport } from '../../core/credit/migration/types.ts'
import type { BitcoinNetwork } from '../../books/proofs/bitcoin-spv.ts'

export type { TrustlineView } from '../../core/credit/sync.ts'
export type { ImportStatus } from '../../core/credit/migration/confirm.ts'
export type { TrustlineAnchorProof } from '../../core/credit/anchor.ts'
export type { Change as TrustlineChange } from '../../books/trustline/types.ts'

export interface TrustlineContract {
  /**
   * open a trustline with `with` (a did:key) in `asset` (e.g. "CAD"); with `limit` (minor units,
   * default "0") also propose extending that much credit to the partner (it must accept)
   */
  'trustline.open': { args: { with: string; asset: string; limit?: string; expiresInMs?: number }; result: { id: string; proposal: string | null } }
  /**
   * propose a change (docs/trustline-spec.md section 4) on trustline `id`; lowering the credit this
   * node extends applies at once (`status: 'applied'`), anything else waits for the partner
   */
  'trustline.propose': { args: { id: string; change: Change; expiresInMs?: number }; result: { proposal: string; status: 'applied' | 'pending'; sent: boolean } }
  /** countersign the partner's pending proposal `proposal` (its hash) on trustline `id` */
  'trustline.accept': { args: { id: string; proposal: string }; result: { seq: number; head: string } }
  /** reject the partner's pending proposal, signed, with an optional reason */
  'trustline.reject': { args: { id: string; proposal: string; reason?: string }; result: { rejected: true } }
  /** one trustline: state, balances from this node's side, proposals, and its full signed history */
  'trustline.show': { args: { id: string }; result: TrustlineView }
  /** every trustline of this node, history included unless `history: false` */
  'trustline.list': { args: { history?: boolean }; result: TrustlineView[] }
  /** ask the partner for its copy now and keep the reconciled chain */
  'trustline.sync': { args: { id: string }; result: { changed: boolean; length: number; head: string } }
  /** make an invoice to be paid `amount` (minor units) of `asset`: hand it to the payer (`hash` is what it pays for) */
  'trustline.invoice': { args: { amount: string; asset: string; expiresInMs?: number; memo?: string }; result: Invoice }
  /**
   * pay an invoice over the network (core/credit/payment.ts): routes from `relay` (default: a
   * relay from the ads), one attempt per route; `preimage` is the proof of payment
   */
  'trustline.pay': { args: { invoice: Invoice; relay?: string; maxHops?: number }; result: { status: 'settled' | 'refused'; preimage?: string; hops?: number; attempts: number } }
  /** announce trustline `id` to `relay` (default: a relay from the ads), signed by both parties; no balance leaves the node */
  'trustline.announce': { args: { id: string; relay?: string }; result: { stored: boolean; relay: string; cap: string | null } }
  /** routes a relay proposes to `to` for `amount` of `asset`, each hop checked against its two-party announcement */
  'trustline.routes': { args: { to: string; asset: string; amount: string; relay?: string; maxHops?: number }; result: { relay: string; routes: Array<{ hops: Array<{ trustline: string; from: string; to: string; cap: string | null }> }> } }
  /**
   * read the central service's export in `dir` (core/credit/migration) and keep its trustlines for
   * confirmation; `operator`: a DID trusted to attest claims of accounts without a legacy key.
   * Returns the reconciliation report
   */
  'trustline.import': { args: { dir: string; asset?: string; dialect?: 'auto' | 'mysql' | 'postgres'; operator?: string }; result: { imported: number; report: ImportReport } }
  /** the claim this node's DID makes to legacy account `user` and the text its legacy key signs (EIP-191 personal_sign) */
  'trustline.claimDraft': { args: { user: string }; result: { claim: LegacyClaim; message: string } }
  /**
   * bind this node's DID to legacy account `user` (with `legacySignature` when the export holds its
   * key, else an operator's `attestation`); with `with` (the partner's DID) exchange claims with it
   * at once, which opens every imported trustline whose two accounts are then claimed
   */
  'trustline.claim': { args: { user: string; legacySignature?: string; attestation?: { operator: string; sig: string }; with?: string }; result: { claim: SignedClaim; opened: string[]; refused: string[] } }
  /** imported trustlines this node has an account on, and where each stands ("imported-unconfirmed" until both confirmed) */
  'trustline.imports': { args: Record<string, never>; result: ImportStatus[] }
  /** countersign the partner's `confirm` of imported trustline `legacyId` (or propose it first), after checking the terms against this node's export */
  'trustline.confirmImport': { args: { legacyId: string }; result: { id: string; status: 'proposed' | 'confirmed' } }
  /** the Merkle root over the heads of trustlines `ids` (default: all), and the OP_RETURN script (hex) that anchors it */
  'anchor.prepare': { args: { ids?: string[] }; result: { batch: AnchorBatch; script: string } }
  /** the anchor proof of trustline `id` at the head anchored in `batch`, given the anchor transaction's SPV proof */
  'anchor.prove': { args: { batch: AnchorBatch; id: string; network: BitcoinNetwork; tx: AnchorTxProof }; result: TrustlineAnchorProof }
  /** check an anchor proof offline; `work` as a decimal string */
  'anchor.verify': { args: { proof: unknown; network: BitcoinNetwork; minConfirmations: number }; result: { ok: true; line: string; seq: number; state: string; signers: string[]; txid: string; blockHash: string; blockTime: number; confirmations: number; work: string } | { ok: false; reason: string } }
}

type TrustlineHandlers = { [K in keyof TrustlineContract]: (args: TrustlineContract[K]['args']) => Promise<TrustlineContract[K]['result']> }

/**
 * Builds the `trustline.*` handlers over a node's services.
 * Handlers throw GrowrError: BAD_ARGUMENT (malformed arguments), NOT_FOUND (no such trustline or
 * pending proposal; partner unreachable for sync), OP_REJECTED (the state machine's reason).
 */
export function createTrustlineHandlers (node: GrowrNode, services: Services): TrustlineHandlers {
  async function sync (): Promise<TrustlineSync> {
    await services.ready()
    if (!services.trustlines) throw GrowrError.BAD_ARGUMENT('this node runs without trustlines')
    return services.trustlines
  }
  // the import confirmation answers partners' claims (trustline/claim) as soon as the services
  // run, not only after this node's user asked something
  let confirmation: Promise<ImportConfirmation> | null = null
  function imports (): Promise<ImportConfirmation> {
    confirmation ??= (async () => {
      const s = await sync()
      const identity = node.identity as { did: DidKey; secretKey: Uint8Array }
      const c = new ImportConfirmation({ local: node.local as Hyperbee, identity, rpc: services.rpc, sync: s })
      await c.ready()
      return c
    })()
    return confirmation
  }
  services.ready().then(async () => { if (services.trustlines && !services.closing) await imports() }).catch(safetyCatch)
  async function headOf (id: string, seq: number): Promise<{ state: ReturnType<typeof replay>['state']; prev?: ReturnType<typeof replay>['state']; head?: Entry; terms: Awaited<ReturnType<TrustlineSync['show']>>['terms'] }> {
    const v = await (await sync()).show(id, { history: true })
    const entries = v.history ?? []
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > entries.length) throw GrowrError.NOT_FOUND(`trustline ${id} has no state at seq ${seq}`)
    const r = replay(v.terms, entries.slice(0, seq))
    return { state: r.state, prev: seq > 0 ? r.states[seq - 1] : undefined, head: seq > 0 ? entries[seq - 1] : undefined, terms: v.terms }
  }
  const str = (v: unknown, what: string): string => {
    if (typeof v !== 'string' || v.length === 0) throw GrowrError.BAD_ARGUMENT(`${what} is required`)
    return v
  }
  const life = (v: unknown): number | undefined => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isSafeInteger(n) || n < 0) throw GrowrError.BAD_ARGUMENT('expiresInMs must be a non-negative integer of ms')
    return n
  }
  async function payments (): Promise<CreditPayments> {
    await services.ready()
    if (!services.payments) throw GrowrError.BAD_ARGUMENT('this node runs without multi-hop payments')
    return services.payments
  }
  const relayOf = (v: unknown): DidKey => {
    if (v !== undefined && v !== null && v !== '') {
      if (!isDidKey(v)) throw GrowrError.BAD_ARGUMENT('relay is a did:key')
      return v
    }
    const found = services.ads?.directory.query({ service: 'relay' })[0]
    if (!found) throw GrowrError.NOT_FOUND('no relay known: name one with relay, or wait for the ads')
    return found.did
  }
  const amountOf = (v: unknown): string => {
    const s = String(v)
    if (!/^[1-9][0-9]{0,15}$/.test(s)) throw GrowrError.BAD_ARGUMENT('amount is a positive whole number of minor units')
    return s
  }
  return {
    'trustline.invoice': async (a) => await (await payments()).invoice({ amount: amountOf(a.amount), asset: str(a.asset, 'asset'), expiresInMs: life(a.expiresInMs), memo: a.memo === undefined ? undefined : String(a.memo) }),
    'trustline.pay': async (a) => {
      const r = await (await payments()).pay({ invoice: a.invoice, relay: relayOf(a.relay), maxHops: a.maxHops })
      const last = r.attempts[r.attempts.length - 1]
      return { status: r.status, ...(r.preimage ? { preimage: r.preimage, hops: last.plan.hops.length } : {}), attempts: r.attempts.length }
    },
    'trustline.announce': async (a) => {
      const relay = relayOf(a.relay)
      const r = await (await payments()).announce(str(a.id, 'id'), { relay })
      return { stored: r.stored, relay, cap: r.announcement.cap }
    },
    'trustline.routes': async (a) => {
      await services.ready()
      const rpc = services.rpc
      if (!rpc) throw GrowrError.BAD_ARGUMENT('this needs the network: start the node')
      if (!isDidKey(a.to)) throw GrowrError.BAD_ARGUMENT('to is a did:key')
      const relay = relayOf(a.relay)
      const routes = await routesFrom(rpc, relay, { from: node.identity?.did as DidKey, to: a.to, asset: str(a.asset, 'asset'), amount: BigInt(amountOf(a.amount)), maxHops: a.maxHops, now: Date.now(), timeoutMs: 20_000 })
      return { relay, routes: routes.map((r) => ({ hops: r.hops.map((h) => ({ trustline: h.trustline, from: h.from, to: h.to, cap: h.cap === null ? null : h.cap.toString() })) })) }
    },
    'trustline.open': async (a) => await (await sync()).open(str(a.with, 'with'), str(a.asset, 'asset'), a.limit === undefined ? '0' : String(a.limit), { expiresInMs: life(a.expiresInMs) }),
    'trustline.propose': async (a) => {
      if (typeof a.change !== 'object' || a.change === null) throw GrowrError.BAD_ARGUMENT('change is required')
      return await (await sync()).propose(str(a.id, 'id'), a.change, { expiresInMs: life(a.expiresInMs) })
    },
    'trustline.accept': async (a) => await (await sync()).accept(str(a.id, 'id'), str(a.proposal, 'proposal')),
    'trustline.reject': async (a) => await (await sync()).reject(str(a.id, 'id'), str(a.proposal, 'proposal'), a.reason === undefined ? '' : String(a.reason)),
    'trustline.show': async (a) => await (await sync()).show(str(a.id, 'id'), { history: true }),
    'trustline.list': async (a) => await (await sync()).list({ history: a?.history !== false }),
    'trustline.sync': async (a) => await (await sync()).pull(str(a.id, 'id')),
    'trustline.import': async (a) => {
      const c = await imports()
      if (a.operator !== undefined) c.addOperator(String(a.operator))
      const { trustlines, report } = importExport(str(a.dir, 'dir'), { asset: a.asset, dialect: a.dialect })
      return { imported: await c.load(trustlines), report }
    },
    'trustline.claimDraft': async (a) => await (await imports()).draft(str(a.user, 'user')),
    'trustline.claim': async (a) => {
      const c = await imports()
      const attestation = a.attestation ? { operator: str(a.attestation.operator, 'attestation.operator') as DidKey, sig: str(a.attestation.sig, 'attestation.sig') } : undefined
      const claim = await c.claim(str(a.user, 'user'), { legacy: a.legacySignature, attestation })
      if (a.with === undefined) return { claim, opened: [], refused: [] }
      const ex = await c.exchange(str(a.with, 'with') as DidKey)
      return { claim, ...ex }
    },
    'trustline.imports': async () => await (await imports()).status(),
    'trustline.confirmImport': async (a) => await (await imports()).confirm(str(a.legacyId, 'legacyId')),
    'anchor.prepare': async (a) => {
      const s = await sync()
      const ids = Array.isArray(a?.ids) ? a.ids.map((x) => str(x, 'id')) : (await s.list({ history: false })).map((v) => v.id)
      const leaves = []
      for (const id of ids) {
        const v = await s.show(id)
        leaves.push({ line: id, seq: Number(v.state.seq), state: v.head })
      }
      const batch = anchorBatch(leaves)
      return { batch, script: b4a.toString(anchorScript(batch.root), 'hex') }
    },
    'anchor.prove': async (a) => {
      const leaf = a.batch?.leaves?.find((l) => l.line === a.id)
      if (!leaf) throw GrowrError.NOT_FOUND(`the anchor has no head of trustline ${String(a.id)}`)
      const h = await headOf(str(a.id, 'id'), leaf.seq)
      if (stateHash(h.state) !== leaf.state) throw GrowrError.NOT_FOUND('this node\'s chain has another state at the anchored seq')
      return anchorProof(a.batch, { state: h.state, head: h.head, terms: h.terms, prev: h.prev }, a.network, a.tx)
    },
    'anchor.verify': async (a) => {
      const r = verifyAnchor(a.proof, { network: a.network, minConfirmations: Number(a.minConfirmations) })
      return r.ok ? { ...r, work: r.work.toString() } : r
    }
  }
}
