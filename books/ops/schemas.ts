/**
 * JSON Schemas (draft 2020-12 subset, validated with Ajv) for version 1 of every op.
 * A schema, once shipped, never changes: a new field or meaning is a new op version.
 */
import Ajv from 'ajv'
import type { ValidateFunction } from 'ajv'
import { CREDENTIAL_TYPES } from '../../core/credentials/catalogue.ts'

const MAX_MINOR = Number.MAX_SAFE_INTEGER

const id = { type: 'string', pattern: '^[0-9a-f]{32}$' }
const did = { type: 'string', pattern: '^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$' }
const hexKey = { type: 'string', pattern: '^[0-9a-f]{64}$' }
const minor = { type: 'integer', minimum: 0, maximum: MAX_MINOR }
const positiveMinor = { type: 'integer', minimum: 1, maximum: MAX_MINOR }
const currency = { type: 'string', pattern: '^[A-Z][A-Z0-9]{2,4}$' }
const date = { type: 'string', pattern: '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' }
const text = (max: number) => ({ type: 'string', maxLength: max })

const terms = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  description: text(5000),
  amount: positiveMinor,
  currency,
  startDate: date,
  endDate: date,
  loanMinAmount: positiveMinor,
  loanMaxAmount: positiveMinor,
  loanMinDuration: { type: 'integer', minimum: 1, maximum: 600 },
  loanMaxDuration: { type: 'integer', minimum: 1, maximum: 600 },
  annualRateBps: { type: 'integer', minimum: 0, maximum: 100000 },
  interestMethod: { enum: ['flat', 'declining-balance'] },
  disbursementFee: minor,
  gracePeriod: { type: 'integer', minimum: 0, maximum: 3650 },
  eligibility: {
    type: 'array',
    maxItems: 50,
    items: {
      type: 'object',
      required: ['conditions', 'event'],
      properties: {
        conditions: { type: 'object' },
        event: { type: 'object' },
        name: text(200),
        priority: { type: 'integer', minimum: 1 }
      },
      additionalProperties: false
    }
  },
  isPublic: { type: 'boolean' },
  isInviteOnly: { type: 'boolean' }
}

// 9999-12-31T23:59:59.999Z: calendar dates stay four-digit years, so date arithmetic in apply
// (schedules, grace periods) cannot leave the range it is defined on
export const MAX_TS = 253402300799999

const base = {
  opId: id,
  ts: { type: 'integer', minimum: 0, maximum: MAX_TS },
  signer: did
}

function op (type: string, fields: Record<string, unknown>, required: string[]) {
  return {
    type: 'object',
    properties: { type: { const: type }, ...base, ...fields },
    required: ['type', 'opId', 'ts', 'signer', ...required],
    additionalProperties: false
  }
}

const withProject = { projectId: id }
const paymentKind = { enum: ['funding', 'disbursement', 'repayment', 'distribution'] }

export const OP_SCHEMAS_V1: Record<string, object> = {
  'book/create': op('book/create', { name: { type: 'string', minLength: 1, maxLength: 200 } }, ['name']),
  'device/add': op('device/add', { writerKey: hexKey }, ['writerKey']),
  'member/add': op('member/add', { member: did, role: { enum: ['borrower', 'investor'] }, writerKey: hexKey }, ['member', 'role', 'writerKey']),
  'member/remove': op('member/remove', { member: did }, ['member']),
  'project/create': op('project/create', {
    ...withProject,
    terms: { type: 'object', properties: terms, required: Object.keys(terms), additionalProperties: false }
  }, ['projectId', 'terms']),
  'project/update': op('project/update', {
    ...withProject,
    changes: { type: 'object', properties: terms, minProperties: 1, additionalProperties: false }
  }, ['projectId', 'changes']),
  'project/activate': op('project/activate', withProject, ['projectId']),
  'project/deactivate': op('project/deactivate', withProject, ['projectId']),
  'project/close': op('project/close', withProject, ['projectId']),
  'funding/commit': op('funding/commit', { fundingId: id, projectId: id, amount: positiveMinor, currency }, ['fundingId', 'projectId', 'amount', 'currency']),
  'loan/apply': op('loan/apply', {
    loanId: id,
    projectId: id,
    amount: positiveMinor,
    currency,
    months: { type: 'integer', minimum: 1, maximum: 600 },
    purpose: text(1000),
    // a signed EligibilityAttestation (W3C VC 2.0); its content is checked by the handler
    attestation: { type: 'object', maxProperties: 16 }
  }, ['loanId', 'projectId', 'amount', 'currency', 'months', 'purpose']),
  'loan/withdraw': op('loan/withdraw', { loanId: id }, ['loanId']),
  'loan/approve': op('loan/approve', { loanId: id }, ['loanId']),
  'loan/reject': op('loan/reject', { loanId: id, reason: text(1000) }, ['loanId', 'reason']),
  'loan/default': op('loan/default', { loanId: id }, ['loanId']),
  'loan/cancel': op('loan/cancel', { loanId: id, reason: text(1000) }, ['loanId', 'reason']),
  'funding/cancel': op('funding/cancel', { fundingId: id, reason: text(1000) }, ['fundingId', 'reason']),
  'payment/record': op('payment/record', {
    paymentId: id,
    kind: { enum: ['funding', 'disbursement', 'repayment', 'distribution'] },
    ref: id,
    amount: positiveMinor,
    currency,
    rail: { const: 'manual' },
    reference: text(500)
  }, ['paymentId', 'kind', 'ref', 'amount', 'currency', 'rail', 'reference']),
  'payment/confirm': op('payment/confirm', { paymentId: id }, ['paymentId']),
  'payment/dispute': op('payment/dispute', { paymentId: id, reason: text(1000) }, ['paymentId', 'reason']),
  'payment/cancel': op('payment/cancel', { paymentId: id, reason: text(1000) }, ['paymentId', 'reason']),
  'clock/witness': op('clock/witness', {}, []),
  'project/rail': op('project/rail', { ...withProject, rail: { enum: ['bitcoin', 'lightning'] }, network: { enum: ['mainnet', 'testnet', 'signet', 'regtest'] }, confirmations: { type: 'integer', minimum: 1, maximum: 1000 }, minWork: { type: 'string', pattern: '^[1-9][0-9]{0,77}$' } }, ['projectId', 'rail', 'network']),
  // token: the ERC-20 contract, or null for native RBTC; one unit of the project's currency is 10^unitExponent wei or token base units
  'project/rail-rootstock': op('project/rail-rootstock', {
    ...withProject,
    chainId: { type: 'integer', minimum: 1, maximum: 4294967295 },
    token: { anyOf: [{ type: 'null' }, { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' }] },
    unitExponent: { type: 'integer', minimum: 0, maximum: 36 },
    confirmations: { type: 'integer', minimum: 1, maximum: 1000 }
  }, ['projectId', 'chainId', 'token', 'unitExponent', 'confirmations']),
  'lightning/node': op('lightning/node', { nodeKey: { type: 'string', pattern: '^0[23][0-9a-f]{64}$' } }, ['nodeKey']),
  'payment/invoice': op('payment/invoice', { kind: paymentKind, ref: id, invoice: { type: 'string', minLength: 20, maxLength: 4000, pattern: '^[a-zA-Z0-9]+$' } }, ['kind', 'ref', 'invoice']),
  'payment/address': op('payment/address', { kind: paymentKind, ref: id, address: { type: 'string', minLength: 14, maxLength: 90, pattern: '^[a-zA-Z0-9]+$' } }, ['kind', 'ref', 'address']),
  'payment/prove': op('payment/prove', {
    paymentId: id,
    kind: paymentKind,
    ref: id,
    amount: positiveMinor,
    currency,
    rail: { enum: ['bitcoin', 'lightning', 'rootstock'] },
    // which fields a proof needs depends on the rail; the handler checks that
    proof: {
      type: 'object',
      properties: {
        rawTx: { type: 'string', pattern: '^([0-9a-f]{2})+$', maxLength: 40000 },
        txoutproof: { type: 'string', pattern: '^([0-9a-f]{2})+$', maxLength: 8000 },
        // apply's work is bounded: a proof carries at most 100 headers (an op is at most 64 KiB anyway)
        headers: { type: 'array', maxItems: 100, items: { type: 'string', pattern: '^[0-9a-f]{160}$' } },
        invoice: { type: 'string', minLength: 20, maxLength: 4000, pattern: '^[a-zA-Z0-9]+$' },
        preimage: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        // rootstock (rawTx above): receipt and header RLP, the index, and the two trie proofs (at most 16 nodes of 4 KiB)
        receipt: { type: 'string', pattern: '^([0-9a-f]{2})+$', maxLength: 16000 },
        header: { type: 'string', pattern: '^([0-9a-f]{2})+$', maxLength: 4000 },
        txIndex: { type: 'integer', minimum: 0, maximum: 100000 },
        txProof: { type: 'array', maxItems: 16, items: { type: 'string', pattern: '^([0-9a-f]{2})+$', maxLength: 8192 } },
        receiptProof: { type: 'array', maxItems: 16, items: { type: 'string', pattern: '^([0-9a-f]{2})+$', maxLength: 8192 } }
      },
      additionalProperties: false
    }
  }, ['paymentId', 'kind', 'ref', 'amount', 'currency', 'rail', 'proof']),
  // a conflicting branch: headers from the fork point to the proven block's parent, and the branch (books/proofs/bitcoin-spv.ts checkReorganisation)
  'payment/reorg': op('payment/reorg', {
    paymentId: id,
    ancestors: { type: 'array', maxItems: 50, items: { type: 'string', pattern: '^[0-9a-f]{160}$' } },
    branch: { type: 'array', minItems: 1, maxItems: 150, items: { type: 'string', pattern: '^[0-9a-f]{160}$' } }
  }, ['paymentId', 'ancestors', 'branch']),
  'trust/issuer': op('trust/issuer', { credentialType: { enum: CREDENTIAL_TYPES }, issuer: did, trusted: { type: 'boolean' } }, ['credentialType', 'issuer', 'trusted']),
  'trust/verifier': op('trust/verifier', { verifier: did, trusted: { type: 'boolean' } }, ['verifier', 'trusted']),
  // a rule, not a list: issuers of this type whose certificate chain runs through `governance` (checked by the verifier when it is used, never here)
  'trust/governance': op('trust/governance', { credentialType: { enum: CREDENTIAL_TYPES }, governance: did, trusted: { type: 'boolean' } }, ['credentialType', 'governance', 'trusted']),
  // a Nostr key speaking for the organization or one project, with the key's own BIP-340 proof (books/nostr/binding.ts)
  'nostr/key': op('nostr/key', { pubkey: hexKey, scope: { type: 'string', pattern: '^(organization|[0-9a-f]{32})$' }, proof: { type: 'string', pattern: '^[0-9a-f]{128}$' }, active: { type: 'boolean' } }, ['pubkey', 'scope', 'proof', 'active']),
  // NIP-57: where a project's listing is zapped (LUD-16 address, the LNURL server's nostrPubkey), which listing (30402:<pubkey>:<d>) and recipient
  'project/zap': op('project/zap', {
    ...withProject,
    lud16: { type: 'string', minLength: 3, maxLength: 320, pattern: '^[a-zA-Z0-9._+-]+@[a-zA-Z0-9.:-]+$' },
    serverPubkey: hexKey,
    listing: { type: 'string', maxLength: 300, pattern: '^30402:[0-9a-f]{64}:[^\\n]{1,200}$' },
    recipient: hexKey
  }, ['projectId', 'lud16', 'serverPubkey', 'listing', 'recipient']),
  // a zap receipt (kind 9735, NIP-01 fields only) and, when the wallet gave it, its invoice's preimage; checked by core/nostr/zap.ts
  'funding/zap': op('funding/zap', {
    receipt: {
      type: 'object',
      properties: {
        id: hexKey,
        pubkey: hexKey,
        created_at: { type: 'integer', minimum: 0, maximum: 253402300799 },
        kind: { const: 9735 },
        tags: { type: 'array', maxItems: 40, items: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', maxLength: 16000 } } },
        content: text(2000),
        sig: { type: 'string', pattern: '^[0-9a-f]{128}$' }
      },
      required: ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig'],
      additionalProperties: false
    },
    preimage: hexKey
  }, ['receipt'])
}

// Compiled validators by op type, shared by every OpValidator and compiled on first use: a
// compiled schema is pure, and compiling all of them (about 0.3 s) would delay every node's
// start even when no op needs validating.
let ajv: InstanceType<typeof Ajv.default> | null = null
const compiled = new Map<string, ValidateFunction>()

function validatorFor (type: string): ValidateFunction | null {
  const known = compiled.get(type)
  if (known) return known
  if (!Object.hasOwn(OP_SCHEMAS_V1, type)) return null
  ajv ??= new (Ajv as unknown as typeof Ajv.default)({ allErrors: false, strict: true })
  const validate = ajv.compile(OP_SCHEMAS_V1[type])
  compiled.set(type, validate)
  return validate
}

/** Validates ops against their version-1 schemas (compiled once per process, on first use). */
export class OpValidator {
  /**
   * Validates a decoded op body against its version-1 schema.
   * @param value any JSON value
   * @returns null when valid, else a one-line reason naming the failing field
   */
  check (value: unknown): string | null {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'op is not an object'
    const type = (value as { type?: unknown }).type
    if (typeof type !== 'string') return 'op has no type'
    const validate = validatorFor(type)
    if (!validate) return `unknown op type ${JSON.stringify(type).slice(0, 64)}`
    if (validate(value)) return null
    const err = validate.errors?.[0]
    if (!err) return 'invalid op'
    const where = err.instancePath || '/'
    const extra = err.keyword === 'additionalProperties' ? ` (${String((err.params as { additionalProperty?: string }).additionalProperty)})` : ''
    return `invalid ${type}: ${where} ${err.message ?? 'is invalid'}${extra}`
  }
}
