/**
 * Hostile inputs for the op decoder, the validator and apply: fast-check arbitraries of
 * realistic version-1 ops (one per op type, every field within its JSON Schema), byte-level
 * mutations of encoded envelopes, and values that break a field's schema.
 * Shared by test/fuzz.test.ts and test/hostile-writer.test.ts.
 */
import fc from 'fast-check'
import b4a from 'b4a'
import { generateKeyPair } from '../../core/identity/keys.ts'
import { publicKeyToDid, type DidKey } from '../../core/identity/did-key.ts'
import { CREDENTIAL_TYPES } from '../../core/credentials/catalogue.ts'
import { MAX_TS, OP_SCHEMAS_V1 } from '../../books/ops/schemas.ts'
import type { Op, OpType } from '../../books/ops/types.ts'

/** An identity that can sign ops: its DID and 64-byte Ed25519 secret key. */
export interface TestSigner { did: DidKey; secretKey: Uint8Array }

/** `n` signers from fixed seeds (100 + i), so a failing run replays with the same keys. */
export function signers (n: number): TestSigner[] {
  return Array.from({ length: n }, (_, i) => {
    const kp = generateKeyPair(new Uint8Array(32).fill(100 + i))
    return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey }
  })
}

export const OP_TYPES = Object.keys(OP_SCHEMAS_V1) as OpType[]

const HEX = [...'0123456789abcdef']
const hex = (chars: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: chars, maxLength: chars })
const idArb = hex(32)
const didArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((pk) => publicKeyToDid(pk))
const minorArb = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
const currencyArb = fc.stringMatching(/^[A-Z][A-Z0-9]{2,4}$/)
const dateArb = fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }))
  .map(([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`)
// any Unicode code point (no lone surrogates: those have no UTF-8 form); short, to keep runs fast
const textArb = (max: number) => fc.string({ unit: 'binary', maxLength: Math.min(max, 60) })
const jsonObject = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })

const termFields = {
  name: textArb(200).filter((s) => s.length > 0),
  description: textArb(5000),
  amount: minorArb,
  currency: currencyArb,
  startDate: dateArb,
  endDate: dateArb,
  loanMinAmount: minorArb,
  loanMaxAmount: minorArb,
  loanMinDuration: fc.integer({ min: 1, max: 600 }),
  loanMaxDuration: fc.integer({ min: 1, max: 600 }),
  annualRateBps: fc.integer({ min: 0, max: 100000 }),
  interestMethod: fc.constantFrom('flat', 'declining-balance'),
  disbursementFee: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  gracePeriod: fc.integer({ min: 0, max: 3650 }),
  eligibility: fc.array(fc.record({ conditions: jsonObject, event: jsonObject, name: textArb(200), priority: fc.integer({ min: 1, max: 1000 }) }, { requiredKeys: ['conditions', 'event'] }), { maxLength: 3 }),
  isPublic: fc.boolean(),
  isInviteOnly: fc.boolean()
}

/** The fields of each op type beyond type, opId, ts and signer, each within its schema. */
const FIELDS: Record<OpType, Record<string, fc.Arbitrary<unknown>>> = {
  'book/create': { name: textArb(200).filter((s) => s.length > 0) },
  'device/add': { writerKey: hex(64) },
  'member/add': { member: didArb, role: fc.constantFrom('borrower', 'investor'), writerKey: hex(64) },
  'member/remove': { member: didArb },
  'project/create': { projectId: idArb, terms: fc.record(termFields) },
  'project/update': { projectId: idArb, changes: fc.record(termFields, { requiredKeys: [] }).filter((c) => Object.keys(c).length > 0) },
  'project/activate': { projectId: idArb },
  'project/deactivate': { projectId: idArb },
  'project/close': { projectId: idArb },
  'funding/commit': { fundingId: idArb, projectId: idArb, amount: minorArb, currency: currencyArb },
  'loan/apply': {
    loanId: idArb,
    projectId: idArb,
    amount: minorArb,
    currency: currencyArb,
    months: fc.integer({ min: 1, max: 600 }),
    purpose: textArb(1000),
    attestation: fc.option(jsonObject, { nil: undefined })
  },
  'loan/withdraw': { loanId: idArb },
  'loan/approve': { loanId: idArb },
  'loan/reject': { loanId: idArb, reason: textArb(1000) },
  'loan/default': { loanId: idArb },
  'loan/cancel': { loanId: idArb, reason: textArb(1000) },
  'funding/cancel': { fundingId: idArb, reason: textArb(1000) },
  'payment/record': {
    paymentId: idArb,
    kind: fc.constantFrom('funding', 'disbursement', 'repayment', 'distribution'),
    ref: idArb,
    amount: minorArb,
    currency: currencyArb,
    rail: fc.constant('manual'),
    reference: textArb(500)
  },
  'payment/confirm': { paymentId: idArb },
  'payment/dispute': { paymentId: idArb, reason: textArb(1000) },
  'payment/cancel': { paymentId: idArb, reason: textArb(1000) },
  'clock/witness': {},
  'project/rail': { projectId: idArb, rail: fc.constant('bitcoin'), network: fc.constantFrom('mainnet', 'testnet', 'signet', 'regtest'), confirmations: fc.integer({ min: 1, max: 1000 }) },
  'payment/address': { kind: fc.constantFrom('funding', 'disbursement', 'repayment', 'distribution'), ref: idArb, address: fc.stringMatching(/^[a-zA-Z0-9]{14,90}$/) },
  'lightning/node': { nodeKey: fc.tuple(fc.constantFrom('02', '03'), hex(64)).map(([p, k]) => p + k) },
  'payment/invoice': { kind: fc.constantFrom('funding', 'disbursement', 'repayment', 'distribution'), ref: idArb, invoice: fc.stringMatching(/^lnbcrt[a-z0-9]{20,200}$/) },
  'payment/prove': {
    paymentId: idArb,
    kind: fc.constantFrom('funding', 'disbursement', 'repayment', 'distribution'),
    ref: idArb,
    amount: minorArb,
    currency: fc.constant('BTC'),
    rail: fc.constant('bitcoin'),
    proof: fc.record({ rawTx: hex(2 * 60), txoutproof: hex(2 * 100), headers: fc.array(hex(160), { maxLength: 3 }) })
  },
  'project/rail-rootstock': { projectId: idArb, chainId: fc.constantFrom(30, 31, 33), token: fc.option(hex(40).map((h) => '0x' + h), { nil: null }), unitExponent: fc.integer({ min: 0, max: 36 }), confirmations: fc.integer({ min: 1, max: 12 }) },
  'payment/reorg': { paymentId: idArb, ancestors: fc.array(hex(160), { maxLength: 2 }), branch: fc.array(hex(160), { minLength: 1, maxLength: 3 }) },
  'trust/issuer': { credentialType: fc.constantFrom(...CREDENTIAL_TYPES), issuer: didArb, trusted: fc.boolean() },
  'trust/verifier': { verifier: didArb, trusted: fc.boolean() },
  'trust/governance': { credentialType: fc.constantFrom(...CREDENTIAL_TYPES), governance: didArb, trusted: fc.boolean() },
  'nostr/key': { pubkey: hex(64), scope: fc.oneof(fc.constant('organization'), idArb), proof: hex(128), active: fc.boolean() },
  'project/zap': { projectId: idArb, lud16: fc.constantFrom('fund@wallet.example', 'a.b+c@pay.example.org:8443'), serverPubkey: hex(64), listing: fc.tuple(hex(64), fc.stringMatching(/^[a-z0-9-]{1,40}$/)).map(([pk, d]) => `30402:${pk}:${d}`), recipient: hex(64) },
  'funding/zap': {
    receipt: fc.record({ id: hex(64), pubkey: hex(64), created_at: fc.integer({ min: 0, max: 253402300799 }), kind: fc.constant(9735), tags: fc.array(fc.array(textArb(200), { minLength: 1, maxLength: 3 }), { maxLength: 6 }), content: textArb(2000), sig: hex(128) }),
    preimage: fc.option(hex(64), { nil: undefined })
  }
}

/** A signed-to-be op and which of `pool` signs it. */
export interface SignedOpCase { op: Op; signer: TestSigner }

/**
 * Arbitrary valid version-1 op of `type` (or of any type), signed by one of `pool`.
 * Every generated op passes OpValidator.check; apply may still reject it on book state.
 */
export function opArb (pool: TestSigner[], type?: OpType): fc.Arbitrary<SignedOpCase> {
  const typeArb = type ? fc.constant(type) : fc.constantFrom(...OP_TYPES)
  return typeArb.chain((t) => fc.record({
    fields: fc.record(FIELDS[t]),
    opId: idArb,
    ts: fc.integer({ min: 0, max: MAX_TS }),
    signer: fc.constantFrom(...pool)
  }).map(({ fields, opId, ts, signer }) => {
    const op: Record<string, unknown> = { type: t, opId, ts, signer: signer.did }
    // an optional field left undefined is absent from the op, as JSON would have it
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) op[k] = v
    return { op: op as unknown as Op, signer }
  }))
}

/** One byte-level change to an encoded envelope; positions are taken modulo its length. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 80 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) })
)

/** Applies mutations in order to a copy of `bytes`. */
export function mutate (bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = b4a.from(bytes)
  for (const m of mutations) {
    const at = out.byteLength === 0 ? 0 : ('at' in m ? m.at % out.byteLength : 0)
    switch (m.kind) {
      case 'flip': if (out.byteLength) out[at] ^= 1 << m.bit; break
      case 'set': if (out.byteLength) out[at] = m.byte; break
      case 'truncate': out = out.subarray(0, at); break
      case 'extend': out = b4a.concat([out, m.bytes]); break
      case 'insert': out = b4a.concat([out.subarray(0, at), m.bytes, out.subarray(at)]); break
      case 'delete': out = b4a.concat([out.subarray(0, at), out.subarray(at + m.length)]); break
    }
  }
  return out
}

/** A JSON Schema node, as far as these tests read it. */
interface SchemaNode { type?: string; anyOf?: SchemaNode[]; properties?: Record<string, SchemaNode>; required?: string[]; pattern?: string; enum?: string[]; const?: unknown; minLength?: number; maxLength?: number; minimum?: number; maximum?: number; items?: SchemaNode }

/** Nested to `depth` levels: `{"a":{"a":...}}` or `[[...]]`. Built iteratively, like an attacker would. */
export function deep (depth: number, kind: 'object' | 'array'): unknown {
  let v: unknown = 0
  for (let i = 0; i < depth; i++) v = kind === 'object' ? { a: v } : [v]
  return v
}

const HUGE = 'x'.repeat(70_000)

/** Values that no field of any op schema accepts (except free objects, for deep objects). */
const anywhereInvalid = fc.constantFrom<unknown>(null, 0.5, -1.5, 10.25, -1, 2 ** 53, 1e21, NaN, Infinity, -Infinity, HUGE, deep(2_000, 'array'))

/**
 * Arbitrary values that break the property schema `s`: the wrong JSON type, floats where an
 * integer (money) belongs, numbers past a bound, strings past a length or outside a pattern,
 * deep nesting, NaN and Infinity.
 */
export function wrongFor (s: SchemaNode): fc.Arbitrary<unknown> {
  const arbs: Array<fc.Arbitrary<unknown>> = [anywhereInvalid]
  const freeObject = s.type === 'object' && !s.properties
  if (!freeObject) arbs.push(fc.constant(deep(2_000, 'object')))
  if (s.type === 'integer') {
    arbs.push(fc.double({ noInteger: true }), fc.string({ maxLength: 12 }), fc.boolean(), fc.constant([]), fc.constant({}))
    if (s.minimum !== undefined) arbs.push(fc.constant(s.minimum - 1), fc.constant(s.minimum - 0.5))
    if (s.maximum !== undefined) arbs.push(fc.constant(s.maximum + 1), fc.constant(s.maximum * 2))
  } else if (s.type === 'string') {
    arbs.push(fc.integer(), fc.boolean(), fc.constant({}), fc.constant(['a']))
    if (s.pattern) arbs.push(fc.string({ maxLength: 40 }).map((x) => x + '!')) // '!' matches no pattern's alphabet
    if (s.maxLength !== undefined) arbs.push(fc.constant('y'.repeat(s.maxLength + 1)))
    if (s.minLength) arbs.push(fc.constant(''))
  } else if (s.type === 'boolean') {
    arbs.push(fc.integer({ min: 0, max: 1 }), fc.constantFrom('true', 'false'), fc.constant({}))
  } else if (s.type === 'object') {
    arbs.push(fc.string({ maxLength: 8 }), fc.integer(), fc.array(fc.integer(), { maxLength: 3 }), fc.boolean())
  } else if (s.type === 'array') {
    arbs.push(fc.string({ maxLength: 8 }), fc.constant({}), fc.array(fc.oneof(fc.integer(), fc.string()), { minLength: 1, maxLength: 3 }))
  } else if (s.enum || s.const !== undefined) {
    const allowed = s.enum ?? [s.const]
    arbs.push(fc.string({ maxLength: 20 }).filter((x) => !allowed.includes(x)), fc.integer(), fc.boolean())
  }
  // a nullable field (anyOf with null, e.g. a rail's token) takes null: that is no corruption
  const nullable = s.anyOf?.some((x) => x.type === 'null') === true
  return nullable ? fc.oneof(...arbs).filter((v) => v !== null) : fc.oneof(...arbs)
}

/** How a valid op is broken for the validator. */
export type Corruption =
  | { kind: 'wrong-value'; path: string[]; value: unknown }
  | { kind: 'extra-field'; path: string[]; key: string; value: unknown }
  | { kind: 'missing-field'; path: string[] }
  | { kind: 'unknown-type'; value: unknown }

const schemaOf = (type: OpType) => OP_SCHEMAS_V1[type] as SchemaNode

/** The object schemas inside an op that the corruptions reach: the op itself, and terms/changes. */
function targets (op: Record<string, unknown>): Array<{ path: string[]; schema: SchemaNode; value: Record<string, unknown> }> {
  const top = schemaOf(op.type as OpType)
  const out = [{ path: [] as string[], schema: top, value: op }]
  for (const k of ['terms', 'changes']) {
    const v = op[k]
    if (v && typeof v === 'object' && top.properties?.[k]) out.push({ path: [k], schema: top.properties[k], value: v as Record<string, unknown> })
  }
  return out
}

/**
 * Arbitrary schema-breaking variant of a valid op: one field given a value of the wrong type or
 * out of bounds, an unknown field, a required field removed, or an unknown op type.
 * @returns the broken op (a fresh object) and what was done, for the failure message
 */
export function corruptArb (valid: Op): fc.Arbitrary<{ op: Record<string, unknown>; corruption: Corruption }> {
  const op = valid as unknown as Record<string, unknown>
  const ts = targets(op)
  const wrongValue = fc.constantFrom(...ts).chain((target) => {
    // not `type`: project/activate, /deactivate and /close share their fields, so swapping is no corruption
    const keys = Object.keys(target.schema.properties ?? {}).filter((k) => k !== 'type')
    return fc.constantFrom(...keys).chain((key) => wrongFor((target.schema.properties ?? {})[key]).map((value): Corruption => ({ kind: 'wrong-value', path: [...target.path, key], value })))
  })
  const extra = fc.tuple(fc.constantFrom(...ts), fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }))
    .filter(([target, key]) => key !== '__proto__' && !Object.hasOwn(target.schema.properties ?? {}, key))
    .map(([target, key, value]): Corruption => ({ kind: 'extra-field', path: target.path, key, value }))
  const missing = fc.constantFrom(...ts.flatMap((t) => (t.schema.required ?? []).map((k) => [...t.path, k])))
    .map((path): Corruption => ({ kind: 'missing-field', path }))
  const unknownType = fc.oneof(fc.string({ maxLength: 30 }).filter((s) => !OP_TYPES.includes(s as OpType)), fc.integer(), fc.constant(null))
    .map((value): Corruption => ({ kind: 'unknown-type', value }))
  return fc.oneof(wrongValue, extra, missing, unknownType).map((corruption) => ({ op: applyCorruption(op, corruption), corruption }))
}

function applyCorruption (op: Record<string, unknown>, c: Corruption): Record<string, unknown> {
  const out = structuredClone(op)
  if (c.kind === 'unknown-type') { out.type = c.value; return out }
  const path = c.kind === 'extra-field' ? c.path : c.path.slice(0, -1)
  let target = out
  for (const k of path) target = target[k] as Record<string, unknown>
  if (c.kind === 'extra-field') target[c.key] = c.value
  else if (c.kind === 'missing-field') delete target[c.path[c.path.length - 1]]
  else target[c.path[c.path.length - 1]] = c.value
  return out
}
