/**
 * A Growr marketplace network: who founded it, and where its nodes meet.
 *
 * A network is defined by a small JSON document (version 1):
 *   { "version": 1, "name": "growr-dev", "founders": ["did:key:z6Mk..."], "description": "..." }
 * Its founding DIDs are the roots of trust: every organization certificate chain must start at
 * one of them (chain.ts). Its discovery topic is BLAKE2b-256 over a domain tag and the RFC 8785
 * (JCS) canonical form of { version, name, founders (sorted) }, so every node that loads the same
 * definition meets on the same topic, and a network with other founders can never share it.
 * `description` is for people and is not part of the network's identity.
 *
 * Loading is strict (JSON Schema via Ajv, no unknown fields) and an unknown version is refused
 * loudly: a definition written by a newer app must not be half-understood by an older one.
 * Pure functions, except readNetworkFile (which reads one file through `#fs`).
 */
import '../runtime/text-encoding.ts'
import Ajv from 'ajv'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import fs from '#fs'
import { GrowrError } from '../errors.ts'
import { isDidKey, type DidKey } from '../identity/did-key.ts'
import { jcs } from '../credentials/eddsa-jcs-2022.ts'

/** The only network definition version this code understands. */
export const NETWORK_VERSION = 1
/** How many founding DIDs a network may name: enough for a board, few enough to read. */
export const MAX_FOUNDERS = 16
/** A network file larger than this is refused unread (a definition is a few hundred bytes). */
export const MAX_NETWORK_FILE_BYTES = 64 * 1024

const TOPIC_DOMAIN = b4a.from('growr/network-topic/v1\0')

/** A validated network definition (version 1). */
export interface NetworkDefinition {
  version: 1
  /** lowercase letters, digits and dashes, 3-64 characters, e.g. `growr-dev` */
  name: string
  /** the founding DIDs (did:key), each listed once */
  founders: DidKey[]
  description?: string
}

/** A loaded network: its definition and its topic (32 bytes; hex for people and JSON). */
export interface Network { definition: NetworkDefinition; topic: Uint8Array; topicHex: string }

const did = { type: 'string', pattern: '^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$' }
const schemaV1 = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'name', 'founders'],
  properties: {
    version: { const: 1 },
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$' },
    founders: { type: 'array', minItems: 1, maxItems: MAX_FOUNDERS, uniqueItems: true, items: did },
    description: { type: 'string', maxLength: 1000 }
  }
}
const ajv = new (Ajv as unknown as typeof Ajv.default)({ allErrors: false, strict: true })
const validateV1 = ajv.compile<NetworkDefinition>(schemaV1)

/**
 * Validate a network definition (JSON Schema, then that every founder is a well-formed did:key).
 *
 * @param value any value, typically parsed JSON.
 * @returns `{ ok: true, network }` with its topic, or `{ ok: false, code, reason }`: code
 *   UNSUPPORTED_VERSION for a version other than {@link NETWORK_VERSION}, BAD_ARGUMENT otherwise,
 *   reason in plain words. Never throws.
 */
export function parseNetwork (value: unknown): { ok: true; network: Network } | { ok: false; code: 'BAD_ARGUMENT' | 'UNSUPPORTED_VERSION'; reason: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, code: 'BAD_ARGUMENT', reason: 'a network definition is a JSON object' }
  const version = (value as { version?: unknown }).version
  if (version !== NETWORK_VERSION) {
    return { ok: false, code: 'UNSUPPORTED_VERSION', reason: `network definition version ${JSON.stringify(version)?.slice(0, 20) ?? 'missing'} is not supported (this app reads version ${NETWORK_VERSION})` }
  }
  if (!validateV1(value)) {
    const e = validateV1.errors?.[0]
    const where = e?.instancePath ? `${e.instancePath.slice(1).replace(/\//g, '.')} ` : ''
    const extra = e?.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''
    return { ok: false, code: 'BAD_ARGUMENT', reason: `the network definition is invalid: ${where}${e?.message ?? 'does not match the schema'}${extra}` }
  }
  for (const f of value.founders) {
    if (!isDidKey(f)) return { ok: false, code: 'BAD_ARGUMENT', reason: `founder ${f} is not a valid Ed25519 did:key` }
  }
  const definition: NetworkDefinition = { version: 1, name: value.name, founders: [...value.founders] }
  if (value.description !== undefined) definition.description = value.description
  const topic = networkTopic(definition)
  return { ok: true, network: { definition, topic, topicHex: b4a.toString(topic, 'hex') } }
}

/**
 * Like {@link parseNetwork}, throwing.
 * @param value any value.
 * @returns the loaded network.
 * @throws GrowrError UNSUPPORTED_VERSION for an unknown version, BAD_ARGUMENT for anything else invalid.
 */
export function loadNetwork (value: unknown): Network {
  const r = parseNetwork(value)
  if (!r.ok) throw new GrowrError(r.code, r.reason)
  return r.network
}

/**
 * Read and load a network file.
 * @param file path of a JSON network definition.
 * @returns the loaded network.
 * @throws GrowrError NOT_FOUND when the file cannot be read, BAD_ARGUMENT when it is too large,
 *   not JSON or invalid, UNSUPPORTED_VERSION for an unknown version.
 */
export function readNetworkFile (file: string): Network {
  let text: string
  try {
    if (fs.statSync(file).size > MAX_NETWORK_FILE_BYTES) throw GrowrError.BAD_ARGUMENT(`network file ${file} is larger than ${MAX_NETWORK_FILE_BYTES} bytes`)
    text = b4a.toString(fs.readFileSync(file), 'utf8')
  } catch (err) {
    if (err instanceof GrowrError) throw err
    throw GrowrError.NOT_FOUND(`cannot read network file ${file}: ${(err as Error)?.message ?? String(err)}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw GrowrError.BAD_ARGUMENT(`network file ${file} is not JSON`)
  }
  return loadNetwork(json)
}

/**
 * The network's well-known discovery topic: BLAKE2b-256("growr/network-topic/v1" 0x00 ||
 * JCS({ version, name, founders sorted })). Founders are sorted so the order they are listed in
 * does not split a network in two; `description` is left out so rewording it does not either.
 *
 * @param def a network definition (validated by the caller, e.g. from {@link parseNetwork}).
 * @returns the 32-byte topic.
 * @throws GrowrError BAD_ARGUMENT if `def` lacks a name or founders.
 */
export function networkTopic (def: Pick<NetworkDefinition, 'version' | 'name' | 'founders'>): Uint8Array {
  if (!def || typeof def.name !== 'string' || !Array.isArray(def.founders)) throw GrowrError.BAD_ARGUMENT('a network definition needs a name and founders')
  const canonical = jcs({ version: def.version, name: def.name, founders: [...def.founders].sort() })
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, b4a.concat([TOPIC_DOMAIN, canonical]))
  return out
}

/**
 * True if `did` is one of the network's founding DIDs.
 * @param network a loaded network.
 * @param did any value.
 */
export function isFounder (network: Network, did: unknown): boolean {
  return typeof did === 'string' && (network.definition.founders as string[]).includes(did)
}
