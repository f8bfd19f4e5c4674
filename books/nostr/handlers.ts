/**
 * Handler of `nostr/key`: the originator records (or retires) a Nostr public key that speaks for
 * its organization or for one of the book's projects, with the key's own BIP-340 proof
 * (books/nostr/binding.ts). Several keys may be active at once (rotation: bind the new key, then
 * retire the old one). A retired key speaks for nothing from then on: every event it signed is
 * unverified, whatever date it carries, since a leaked key can sign backdated events.
 */
import type { Handler } from '../apply.ts'
import { nostrKeyKey, verifyBinding, type NostrKeyRecord } from './binding.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const nostrKey: Handler = async (ctx) => {
  const op = ctx.op as Of<'nostr/key'>
  const meta = ctx.meta
  if (!meta) return 'book not created yet'
  // AUTHORIZED admits the originator role; the DID in the proof is the book's originator, so the
  // op must be signed by that very DID
  if (op.signer !== meta.originator) return 'only the book\'s originator may record the Nostr keys that speak for it'
  if (op.scope !== 'organization' && (await ctx.get('projects', op.scope)) === null) return `project ${op.scope} is not in this book: a project key needs its project`
  const proof = verifyBinding(op.pubkey, op.proof, { book: ctx.host.key, scope: op.scope, originator: meta.originator })
  if (!proof.ok) return proof.reason
  const key = nostrKeyKey(op.pubkey, op.scope)
  const prior = (await ctx.get('nostr', key)) as NostrKeyRecord | null
  if (!op.active && prior === null) return `key ${op.pubkey.slice(0, 12)}… is not recorded for scope "${op.scope}": nothing to retire`
  // binding an active key again or retiring a retired one changes nothing: accepted, so a
  // publisher that binds before each publication never fails on a race with itself
  if (prior !== null && prior.active === op.active) return null
  ctx.put('nostr', key, { pubkey: op.pubkey, scope: op.scope, active: op.active, since: op.ts, proof: op.proof })
  return null
}
