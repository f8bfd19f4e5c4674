/**
 * Broadcast requests (FinP2P's "broadcast request"): one request to many peers, signed answers
 * collected until a deadline, success decided by a quorum rule the asker chooses.
 *
 * Answers travel over peer-rpc (authenticated by the connection's hello), but a connection
 * proves only who answered *now*: an answer the asker wants to show someone later must be
 * signed. `signAnswer`/`openAnswer` give any method such a signed answer, version 1:
 *   { v: 1, method, request, peer, at, body }   + signature
 * where `request` is the BLAKE2b-256 (hex) of the request's canonical JSON (RFC 8785), `at` the
 * peer's clock (ms) and the signature Ed25519 by the peer's DID over
 *   "growr/answer/v1" 0x00 || JCS(answer without signature)
 * so an answer cannot be replayed for another method or another request.
 *
 * Pure functions except `broadcast`, which talks to the network through the injected rpc.
 */
import '../runtime/text-encoding.ts'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { canonicalBytes } from '../../books/ops/envelope.ts'
import { sign, verify } from '../identity/keys.ts'
import { didToPublicKey, isDidKey, type DidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'

const ANSWER_DOMAIN = b4a.from('growr/answer/v1\0')
/** Longest deadline a broadcast accepts, ms (5 min). */
export const MAX_DEADLINE_MS = 300_000
const GRACE_MS = 250
/** Most peers one broadcast asks. */
export const MAX_PEERS = 1024

/** The part of a PeerRpc a broadcast uses. */
export interface BroadcastRpc {
  peers (): DidKey[]
  connect (did: DidKey, opts?: { timeoutMs?: number }): Promise<void>
  request (did: DidKey, method: string, value: unknown, opts?: { timeoutMs?: number }): Promise<unknown>
}

/**
 * How many agreeing answers make a broadcast succeed: a count, more than half of the peers
 * asked ('majority'), or every one of them ('all').
 */
export type Quorum = number | 'majority' | 'all'

/** What the asker makes of one raw answer: its checked value, or why it does not count. */
export type OpenAnswer<T> = (did: DidKey, answer: unknown) => { ok: true; value: T } | { ok: false; reason: string }

export interface BroadcastOptions<T> {
  /** the DIDs to ask (deduplicated; our own is skipped); those not connected are looked up on the DHT */
  peers: DidKey[]
  /** how long the whole broadcast may take, ms, 1..MAX_DEADLINE_MS */
  deadlineMs: number
  /** default 1 */
  quorum?: Quorum
  /** checks an answer (e.g. openAnswer with the request's hash); one that does not hold counts as failed */
  open: OpenAnswer<T>
  /** whether a checked answer agrees (counts toward the quorum); default every checked answer */
  agrees?: (value: T) => boolean
  /** resolve as soon as the quorum is met or can no longer be met, instead of at the deadline or the last answer */
  early?: boolean
  /** our own DID, never asked */
  self?: DidKey
  /** clock, ms (default Date.now) */
  now?: () => number
}

export interface BroadcastResult<T> {
  asked: DidKey[]
  /** checked answers in arrival order */
  answers: Array<{ did: DidKey; value: T; agrees: boolean }>
  /** peers that answered with an error, an answer that did not check, or could not be reached, with why */
  failed: Array<{ did: DidKey; reason: string }>
  /** peers with no outcome when the broadcast ended (the deadline, or an early end) */
  pending: DidKey[]
  agreeing: number
  /** how many agreeing answers the quorum needs */
  needed: number
  /** whether agreeing >= needed */
  quorum: boolean
  /** time taken, ms */
  elapsedMs: number
}

/**
 * The number of agreeing answers `quorum` needs out of `asked` peers.
 * @throws BAD_ARGUMENT for a count that is not a positive safe integer or exceeds `asked`, or an unknown rule
 */
export function quorumNeeded (quorum: Quorum, asked: number): number {
  if (quorum === 'all') return asked
  if (quorum === 'majority') return Math.floor(asked / 2) + 1
  if (!Number.isSafeInteger(quorum) || quorum < 1) throw GrowrError.BAD_ARGUMENT('a quorum is a positive whole number, "majority" or "all"')
  if (quorum > asked) throw GrowrError.BAD_ARGUMENT(`a quorum of ${quorum} cannot be met by ${asked} peer${asked === 1 ? '' : 's'}`)
  return quorum
}

/**
 * Sends `method(value)` to every peer in `opts.peers` and collects their answers until the
 * deadline. Never asks a peer twice; a peer not connected is looked up (rpc.connect) within the
 * deadline. Does not throw for a peer's failure: it is in `failed`.
 *
 * @returns who answered what, who failed and why, who is still pending, and whether the quorum holds
 * @throws BAD_ARGUMENT for a deadline out of range, more than MAX_PEERS peers, or a quorum that
 *   cannot be met by the peers asked (see quorumNeeded)
 */
export async function broadcast<T> (rpc: BroadcastRpc, method: string, value: unknown, opts: BroadcastOptions<T>): Promise<BroadcastResult<T>> {
  const now = opts.now ?? Date.now
  if (!Number.isSafeInteger(opts.deadlineMs) || opts.deadlineMs < 1 || opts.deadlineMs > MAX_DEADLINE_MS) {
    throw GrowrError.BAD_ARGUMENT(`a broadcast deadline is 1..${MAX_DEADLINE_MS} ms`)
  }
  const asked = [...new Set(opts.peers)].filter((d) => d !== opts.self && isDidKey(d))
  if (asked.length > MAX_PEERS) throw GrowrError.BAD_ARGUMENT(`a broadcast asks at most ${MAX_PEERS} peers`)
  const needed = quorumNeeded(opts.quorum ?? 1, Math.max(asked.length, opts.quorum === 'all' || opts.quorum === 'majority' ? 0 : 1))
  const agrees = opts.agrees ?? (() => true)
  const started = now()
  const deadline = started + opts.deadlineMs
  const result: BroadcastResult<T> = { asked, answers: [], failed: [], pending: [], agreeing: 0, needed, quorum: false, elapsedMs: 0 }
  const outstanding = new Set(asked)
  let ended = false

  await new Promise<void>((resolve) => {
    const finish = () => {
      if (ended) return
      ended = true
      clearTimeout(timer)
      resolve()
    }
    const settle = () => {
      if (outstanding.size === 0) return finish()
      if (opts.early && (result.agreeing >= needed || result.agreeing + outstanding.size < needed)) finish()
    }
    const timer = setTimeout(finish, opts.deadlineMs)
    for (const did of asked) {
      ask(did).then((outcome) => {
        if (ended) return
        outstanding.delete(did)
        let agreed = false
        if (outcome.ok) {
          // the asker's own check may throw on a hostile body: that peer fails, the broadcast goes on
          try {
            agreed = agrees(outcome.value) === true
          } catch (err) {
            outcome = { ok: false, reason: `the answer could not be judged: ${String((err as Error)?.message ?? err).slice(0, 160)}` }
          }
        }
        if (outcome.ok) {
          result.answers.push({ did, value: outcome.value, agrees: agreed })
          if (agreed) result.agreeing++
        } else {
          result.failed.push({ did, reason: outcome.reason })
        }
        settle()
      }, () => {})
    }
    settle()
  })

  result.pending = asked.filter((d) => outstanding.has(d))
  result.quorum = result.agreeing >= needed && asked.length > 0
  result.elapsedMs = now() - started
  return result

  async function ask (did: DidKey): Promise<{ ok: true; value: T } | { ok: false; reason: string }> {
    try {
      // the lookup and the request run a little past the deadline, so that a peer silent until the
      // deadline is reported pending by it, not failed by a timer racing it
      const left = () => Math.max(1, deadline - now()) + GRACE_MS
      if (!rpc.peers().includes(did)) await rpc.connect(did, { timeoutMs: left() })
      const answer = await rpc.request(did, method, value, { timeoutMs: left() })
      return opts.open(did, answer)
    } catch (err) {
      return { ok: false, reason: String((err as Error)?.message ?? err).slice(0, 200) }
    }
  }
}

/** A signed answer's body, before its signature. */
export interface AnswerBody<B = unknown> {
  v: 1
  method: string
  /** BLAKE2b-256 of the request's canonical JSON, hex */
  request: string
  peer: DidKey
  /** the answering peer's clock, ms */
  at: number
  body: B
}
export interface SignedAnswer<B = unknown> extends AnswerBody<B> { signature: string }

/** @returns BLAKE2b-256 (hex) of `value`'s RFC 8785 canonical JSON: what a signed answer names */
export function requestHash (value: unknown): string {
  const out = b4a.alloc(32)
  sodium.crypto_generichash(out, canonicalBytes(value))
  return b4a.toString(out, 'hex')
}

function answerMessage (a: AnswerBody): Uint8Array {
  return b4a.concat([ANSWER_DOMAIN, canonicalBytes(a)])
}

/**
 * Signs an answer to `request` for `method`.
 * @param opts.identity the answering peer's DID and 64-byte secret key
 * @param opts.at the peer's clock, ms
 * @returns the signed answer (JSON)
 */
export function signAnswer<B> (opts: { identity: { did: DidKey; secretKey: Uint8Array }; method: string; request: unknown; body: B; at: number }): SignedAnswer<B> {
  const a: AnswerBody<B> = { v: 1, method: opts.method, request: requestHash(opts.request), peer: opts.identity.did, at: opts.at, body: opts.body }
  return { ...a, signature: b4a.toString(sign(answerMessage(a), opts.identity.secretKey), 'hex') }
}

/**
 * Checks a signed answer. Pure; never throws.
 * @param answer as received (untrusted)
 * @param expect the peer asked, the method and the request sent
 * @returns the answer (its body still untrusted in shape: check it) when its signature by
 *   `expect.peer` holds for this method and request, else why not
 */
export function openAnswer (answer: unknown, expect: { peer: DidKey; method: string; request: unknown }): { ok: true; answer: SignedAnswer } | { ok: false; reason: string } {
  try {
    const a = answer as Partial<SignedAnswer> | null
    if (a === null || typeof a !== 'object' || Array.isArray(a)) return { ok: false, reason: 'the answer is not an object' }
    if (a.v !== 1) return { ok: false, reason: 'unknown answer version' }
    if (a.peer !== expect.peer || !isDidKey(a.peer)) return { ok: false, reason: 'the answer is signed for another peer than the one asked' }
    if (a.method !== expect.method) return { ok: false, reason: `the answer is for ${String(a.method).slice(0, 60)}, not ${expect.method}` }
    if (a.request !== requestHash(expect.request)) return { ok: false, reason: 'the answer is about another request' }
    if (!Number.isSafeInteger(a.at) || typeof a.signature !== 'string' || !/^[0-9a-f]{128}$/.test(a.signature) || !('body' in a)) {
      return { ok: false, reason: 'the answer is malformed' }
    }
    const body: AnswerBody = { v: 1, method: a.method, request: a.request, peer: a.peer, at: a.at as number, body: a.body }
    if (!verify(answerMessage(body), b4a.from(a.signature, 'hex'), didToPublicKey(a.peer))) return { ok: false, reason: 'the answer\'s signature does not hold' }
    return { ok: true, answer: { ...body, signature: a.signature } }
  } catch {
    return { ok: false, reason: 'the answer could not be checked' }
  }
}
