/**
 * The requests the desktop window may send to the core: exactly the keys of `Api`
 * (app/session.ts). The list is spelled out rather than derived because the main process must
 * check names at run time; the two type checks below make `tsc` fail when a method is added to
 * or removed from the contract without this list following.
 */
import type { Api } from '../session.ts'

export const API_METHODS = [
  'session.status', 'identity.create', 'identity.restore',
  'status',
  'book.create', 'book.join', 'book.show', 'book.audit',
  'invite.create', 'invite.accept',
  'project.create', 'project.update', 'project.transition', 'project.list',
  'funding.commit', 'funding.cancel', 'funding.list',
  'loan.apply', 'loan.decide', 'loan.show', 'loan.list', 'loan.applications', 'loan.repay',
  'member.list',
  'payment.record', 'payment.confirm', 'payment.dispute', 'payment.cancel', 'payment.list',
  'clock.witness', 'project.rail', 'project.rail.rootstock', 'payment.address', 'payment.prove', 'payment.reorg', 'payment.addresses', 'lightning.node', 'payment.invoice',
  'distribute', 'distribution.list',
  'wait',
  'trust.set', 'trust.list',
  'nostr.keys', 'nostr.bind', 'nostr.zap.settings', 'nostr.zap.record',
  'vc.issue', 'vc.enroll', 'vc.unenroll', 'vc.enrolled', 'vc.request', 'vc.import', 'vc.list', 'vc.show', 'vc.verify', 'vc.revoke', 'vc.issued',
  'vp.create', 'vp.verify',
  'eligibility.check',
  'backup.create',
  'wallet.show', 'wallet.receive', 'wallet.balance', 'wallet.balance.rootstock', 'wallet.send', 'payment.pay', 'payment.tracked',
  'network.show', 'network.use', 'network.certify', 'network.revoke', 'network.issued', 'network.verify', 'network.chain', 'network.chain.set', 'network.peers',
  'receipt.export', 'receipt.verify', 'receipt.validate', 'market.query', 'market.projects', 'market.join',
  'pubsub.topics',
  'consent.grant', 'consent.revoke', 'consent.list', 'exposure.check', 'exposure.log',
  'nostr.profile', 'nostr.relays', 'nostr.publish', 'nostr.status', 'nostr.listings', 'nostr.project',
  'trustline.open', 'trustline.propose', 'trustline.accept', 'trustline.reject', 'trustline.show', 'trustline.list', 'trustline.sync',
  'trustline.import', 'trustline.claimDraft', 'trustline.claim', 'trustline.imports', 'trustline.confirmImport',
  'anchor.prepare', 'anchor.prove', 'anchor.verify', 'trustline.invoice', 'trustline.pay', 'trustline.announce', 'trustline.routes'
] as const satisfies ReadonlyArray<keyof Api>

/** Api methods missing from API_METHODS; `never` when the list is complete. */
type Missing = Exclude<keyof Api, (typeof API_METHODS)[number]>
/** Compile-time proof that API_METHODS covers Api: names the missing methods otherwise. */
export const API_METHODS_COMPLETE: [Missing] extends [never] ? true : { missing: Missing } = true

const ALLOWED: ReadonlySet<string> = new Set(API_METHODS)

/** True if `method` is a string naming one of the Api methods. */
export function isAllowedMethod (method: unknown): method is keyof Api {
  return typeof method === 'string' && ALLOWED.has(method)
}
