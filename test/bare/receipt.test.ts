import test from 'brittle'
import b4a from 'b4a'
import { verifyReceipt, encodeReceipt, RECEIPT_VERSION } from '../../core/receipts/receipt.ts'

test('receipt - loads under Bare; malformed and unsigned receipts refused without throwing', (t) => {
  const key = b4a.alloc(32, 1)
  t.is(verifyReceipt(b4a.alloc(0), key).ok, false, 'empty')
  t.is(verifyReceipt(b4a.from([2]), key).ok, false, 'unknown version')
  const unsigned = encodeReceipt({ version: RECEIPT_VERSION, bookKey: key, cores: [{ publicKey: b4a.alloc(32, 2), fork: 0, length: 1, roots: [{ size: 3, hash: b4a.alloc(32, 3) }], signature: b4a.alloc(64) }], entries: [{ core: 0, index: 0, block: b4a.from('abc'), path: [] }] })
  const r = verifyReceipt(unsigned, key)
  t.is(r.ok, false)
  t.ok(!r.ok && /not signed/.test(r.reason), r.ok ? '' : r.reason)
})
