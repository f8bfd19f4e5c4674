// Runs under Bare (brittle-bare) and Node alike: the NIP-57 receipt check apply uses, with no node: imports.
import test from 'brittle'
import { makeZap, resign, zapWorld } from './zaps.ts'
import { checkZapReceipt, type ZapExpectation } from '../../core/nostr/zap.ts'

test('bare - a zap receipt holds; an altered zap request and another server key are refused', (t) => {
  const w = zapWorld()
  const expect: ZapExpectation = { serverPubkey: w.server.pk, recipient: w.recipient, listing: w.listing, lud16: w.lud16, network: 'regtest', receivedAt: Date.now() }
  const zap = makeZap(w)
  const good = checkZapReceipt(zap.receipt, { ...expect, preimage: zap.preimage })
  t.ok(good.ok && good.zap.proven && good.zap.amountMsat === 21_000_000n, 'an honest zap with its preimage holds')
  const altered = resign(zap.request, w.zapper.sk, (e) => { e.content = 'altered' })
  const r1 = checkZapReceipt(resign(zap.receipt, w.server.sk, (e) => { e.tags = e.tags.map((x) => x[0] === 'description' ? ['description', JSON.stringify(altered)] : x) }), expect)
  t.ok(!r1.ok && /altered/.test(r1.reason), 'an altered zap request')
  const r2 = checkZapReceipt(zap.receipt, { ...expect, serverPubkey: w.zapper.pk })
  t.ok(!r2.ok && /LNURL server's key/.test(r2.reason), 'another server key')
})
