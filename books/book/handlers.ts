/** Handlers for book and membership ops: who may write to the book, and with which role. */
import b4a from 'b4a'
import type { Handler } from '../apply.ts'
import type { Member } from '../entities.ts'

type Of<T extends string> = Extract<Parameters<Handler>[0]['op'], { type: T }>

export const bookCreate: Handler = async (ctx) => {
  const op = ctx.op as Of<'book/create'>
  ctx.put('meta', 'book', { name: op.name, originator: op.signer, createdAt: op.ts, bootstrap: ctx.writer })
  ctx.put('members', op.signer, { did: op.signer, role: 'originator', writerKeys: [ctx.writer], addedAt: op.ts, removed: false })
  ctx.put('writers', ctx.writer, op.signer)
  return null
}

/** Another device of the originator: an indexer, acting as the originator. */
export const deviceAdd: Handler = async (ctx) => {
  const op = ctx.op as Of<'device/add'>
  if (await ctx.get('writers', op.writerKey) !== null) return 'writer key is already in this book'
  const me = ctx.member as Member
  ctx.put('members', me.did, { ...me, writerKeys: [...me.writerKeys, op.writerKey] })
  ctx.put('writers', op.writerKey, me.did)
  ctx.after(() => ctx.host.addWriter(b4a.from(op.writerKey, 'hex'), { indexer: true }))
  return null
}

/** A borrower or investor, invited by the originator: a non-indexer writer bound to one DID. */
export const memberAdd: Handler = async (ctx) => {
  const op = ctx.op as Of<'member/add'>
  if (await ctx.get('writers', op.writerKey) !== null) return 'writer key is already in this book'
  const existing = await ctx.get('members', op.member)
  if (existing && !existing.removed && existing.role !== op.role) return `${op.member} is already a ${existing.role} here`
  if (existing && existing.role === 'originator') return 'the originator cannot be added as a member'
  const writerKeys = existing && !existing.removed ? [...existing.writerKeys, op.writerKey] : [op.writerKey]
  ctx.put('members', op.member, { did: op.member, role: op.role, writerKeys, addedAt: existing?.addedAt ?? op.ts, removed: false })
  ctx.put('writers', op.writerKey, op.member)
  ctx.after(() => ctx.host.addWriter(b4a.from(op.writerKey, 'hex'), { indexer: false }))
  return null
}

/** Removes a member and all its writers; ops it appends after this is ordered never apply. */
export const memberRemove: Handler = async (ctx) => {
  const op = ctx.op as Of<'member/remove'>
  const m = await ctx.get('members', op.member)
  if (!m || m.removed) return 'not a member of this book'
  if (m.role === 'originator') return 'the originator cannot be removed'
  ctx.put('members', op.member, { ...m, removed: true })
  ctx.after(async () => {
    for (const key of m.writerKeys) {
      const buf = b4a.from(key, 'hex')
      if (ctx.host.removeable(buf)) await ctx.host.removeWriter(buf)
    }
  })
  return null
}

/**
 * A borrower or investor vouches that it is at least the op's time (books/clock.ts): what lets
 * the originator act on dates (a default after grace) when the members have been silent.
 * Accepting it is all it does; apply moves the members' clock.
 */
export const clockWitness: Handler = async () => null
