/**
 * Open admission: how a borrower or investor who found a public project on the network (its ad,
 * core/network/ads/) becomes a writer of its book without being handed an invite. The candidate
 * asks the book's originator over peer-rpc (method `book/admit`); the originator's node admits
 * it with a signed `member/add` when the book has an active project that is public and not
 * invite-only, so authorization is still decided in apply.
 *
 * Request: { book: book key hex, role: 'borrower' | 'investor', claim: base64 }, where the claim is
 * core/network/pairing.ts's signed "DID writes to this book with writerKey" for the book's
 * discovery key; its DID must be the one the connection's hello proved.
 * Answer: { admitted: true, writerKey } once the book binds the writer key to the DID.
 *
 * A DID costs nothing to make, so an open book could be flooded with writers: admissions are
 * capped per book in a sliding hour (default 60), and a member the originator removed is never
 * re-admitted this way (it needs an invite again).
 */
import b4a from 'b4a'
import type { Book } from '../../books/book.ts'
import type { DidKey } from '../identity/did-key.ts'
import { GrowrError } from '../errors.ts'
import { makeClaim, openClaim } from './pairing.ts'

/** The peer-rpc method an originator's node answers. */
export const ADMIT_METHOD = 'book/admit'
/** Default cap on open admissions per book per hour. */
export const DEFAULT_ADMISSIONS_PER_HOUR = 60
const HOUR_MS = 3600_000

export type OpenRole = 'borrower' | 'investor'

export interface AdmitRequest { book: string; role: OpenRole; claim: string }
export interface AdmitAnswer { admitted: true; writerKey: string }

/** What the responder needs of the node: its DID and the books it follows. */
export interface AdmissionHost { did: string; findBook (keyHex: string): Book | null }

/**
 * @param book the book (its view read as replicated here)
 * @returns the first active project that is public and not invite-only, or null
 */
export async function openProject (book: Book): Promise<string | null> {
  for (const p of await book.view.list('projects')) {
    if (p.status === 'active' && p.terms.isPublic && !p.terms.isInviteOnly) return p.projectId
  }
  return null
}

/**
 * The originator's side: a handler for PeerRpc.respond(ADMIT_METHOD, ...).
 * @param opts.host this node
 * @param opts.maxPerHour open admissions per book in any hour (default 60)
 * @param opts.now clock, ms (default Date.now)
 * @returns the handler; it throws BAD_ARGUMENT for a malformed request or a claim by another DID
 *   than the caller, NOT_FOUND for a book this node does not originate, OP_REJECTED when the
 *   book has no open public project, the caller was removed, the cap is reached, or apply
 *   rejects the member/add (with apply's reason)
 */
export function admissionResponder (opts: { host: AdmissionHost; maxPerHour?: number; now?: () => number }) {
  const now = opts.now ?? Date.now
  const maxPerHour = opts.maxPerHour ?? DEFAULT_ADMISSIONS_PER_HOUR
  const recent = new Map<string, number[]>()
  const underway = new Map<string, Promise<AdmitAnswer>>()

  return async (req: unknown, from: DidKey): Promise<AdmitAnswer> => {
    const r = req as Partial<AdmitRequest> | null
    if (r === null || typeof r !== 'object' || typeof r.book !== 'string' || !/^[0-9a-f]{64}$/.test(r.book) ||
      (r.role !== 'borrower' && r.role !== 'investor') || typeof r.claim !== 'string' || r.claim.length > 400) {
      throw GrowrError.BAD_ARGUMENT('book/admit needs { book: key hex, role: borrower | investor, claim: base64 }')
    }
    const book = opts.host.findBook(r.book)
    const meta = book ? await book.view.meta() : null
    if (!book || !meta || meta.originator !== opts.host.did) throw GrowrError.NOT_FOUND('this node does not originate that book')
    const claim = openClaim(b4a.from(r.claim, 'base64'), book.discoveryKey)
    if (claim.did !== from) throw GrowrError.BAD_ARGUMENT('the claim is signed for another DID than the one asking')
    const writerKey = b4a.toString(claim.writerKey, 'hex')
    const key = r.book + '/' + writerKey + '/' + from
    // the same writer asking twice at once gets the one admission
    const held = underway.get(key)
    if (held) return await held
    const run = admit(book, r.book, from, r.role, writerKey)
    underway.set(key, run)
    try {
      return await run
    } finally {
      underway.delete(key)
    }
  }

  async function admit (book: Book, bookHex: string, did: DidKey, role: OpenRole, writerKey: string): Promise<AdmitAnswer> {
    const member = await book.view.get('members', did)
    if (member?.removed) throw GrowrError.OP_REJECTED('the originator removed this member: it needs an invite to return')
    const bound = await book.view.get('writers', writerKey)
    if (bound === did) return { admitted: true, writerKey }
    if (bound !== null) throw GrowrError.OP_REJECTED('that writer key belongs to another member')
    if (await openProject(book) === null) throw GrowrError.OP_REJECTED('this book has no open public project: joining needs an invite')
    const t = now()
    const times = (recent.get(bookHex) ?? []).filter((at) => at > t - HOUR_MS)
    if (times.length >= maxPerHour) throw GrowrError.OP_REJECTED(`this book admits at most ${maxPerHour} members an hour without an invite: try later`)
    times.push(t)
    recent.set(bookHex, times)
    const [{ audit }] = await book.act([{ type: 'member/add', member: did, role: member && !member.removed ? (member.role as OpenRole) : role, writerKey }])
    if (audit.status !== 'accepted') throw GrowrError.OP_REJECTED(`not admitted: ${audit.reason ?? 'rejected'}`)
    return { admitted: true, writerKey }
  }
}

/**
 * The candidate's request body for `book`, signed by `identity`.
 * @param book the followed book (its own writer key is the one admitted)
 * @returns the AdmitRequest to send to the book's originator
 */
export function admitRequest (identity: { did: DidKey; secretKey: Uint8Array }, book: Book, role: OpenRole): AdmitRequest {
  const writerKey = (book.base as unknown as { local: { key: Uint8Array } }).local.key
  return { book: b4a.toString(book.key, 'hex'), role, claim: b4a.toString(makeClaim(identity.did, identity.secretKey, book.discoveryKey, writerKey), 'base64') }
}
