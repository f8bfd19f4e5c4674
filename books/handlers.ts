/** Every op type and the one handler that applies it. Adding an op means adding a line here. */
import type { Handler } from './apply.ts'
import type { OpType } from './ops/types.ts'
import { bookCreate, deviceAdd, memberAdd, memberRemove } from './book/handlers.ts'
import { projectCreate, projectRail, projectRailRootstock, projectTransition, projectUpdate } from './project/handlers.ts'
import { fundingCancel, fundingCommit } from './funding/handlers.ts'
import { loanApply, loanDecide, loanWithdraw } from './loan/handlers.ts'
import { paymentCancel, paymentConfirm, paymentDispute, paymentRecord } from './payment/handlers.ts'
import { lightningNode, paymentAddress, paymentInvoice, paymentProve, paymentReorg } from './payment/rail-handlers.ts'
import { clockWitness } from './book/handlers.ts'
import { trustGovernance, trustIssuer, trustVerifier } from './trust/handlers.ts'
import { nostrKey } from './nostr/handlers.ts'
import { fundingZap, projectZap } from './funding/zap-handlers.ts'

export const HANDLERS: Record<OpType, Handler> = {
  'book/create': bookCreate,
  'device/add': deviceAdd,
  'member/add': memberAdd,
  'member/remove': memberRemove,
  'project/create': projectCreate,
  'project/update': projectUpdate,
  'project/activate': projectTransition,
  'project/deactivate': projectTransition,
  'project/close': projectTransition,
  'funding/commit': fundingCommit,
  'loan/apply': loanApply,
  'loan/withdraw': loanWithdraw,
  'loan/approve': loanDecide,
  'loan/reject': loanDecide,
  'loan/default': loanDecide,
  'loan/cancel': loanDecide,
  'funding/cancel': fundingCancel,
  'payment/record': paymentRecord,
  'payment/confirm': paymentConfirm,
  'payment/dispute': paymentDispute,
  'payment/cancel': paymentCancel,
  'clock/witness': clockWitness,
  'project/rail': projectRail,
  'project/rail-rootstock': projectRailRootstock,
  'payment/address': paymentAddress,
  'payment/prove': paymentProve,
  'payment/reorg': paymentReorg,
  'lightning/node': lightningNode,
  'payment/invoice': paymentInvoice,
  'trust/issuer': trustIssuer,
  'trust/verifier': trustVerifier,
  'trust/governance': trustGovernance,
  'nostr/key': nostrKey,
  'project/zap': projectZap,
  'funding/zap': fundingZap
}
