// Runs under Bare (brittle-bare) and Node alike: the credential stack the worker needs.
import test from 'brittle'
import { generateKeyPair } from '../../core/identity/keys.ts'
import { publicKeyToDid } from '../../core/identity/did-key.ts'
import { issueCredential } from '../../core/credentials/vc.ts'
import { createPresentation, verifyPresentation } from '../../core/credentials/vp.ts'
import { factsFrom } from '../../core/credentials/catalogue.ts'
import { evaluateEligibility } from '../../core/services/eligibility.ts'
import { criteriaToRules } from '../../core/services/criteria.ts'

test('bare - issue, present, verify and evaluate eligibility (json-rules-engine)', async (t) => {
  const issuerKp = generateKeyPair(new Uint8Array(32).fill(1))
  const holderKp = generateKeyPair(new Uint8Array(32).fill(2))
  const issuer = { did: publicKeyToDid(issuerKp.publicKey), secretKey: issuerKp.secretKey }
  const holder = { did: publicKeyToDid(holderKp.publicKey), secretKey: holderKp.secretKey }
  const now = Date.UTC(2026, 10, 21)
  const vc = issueCredential({ issuer, type: 'IncomeCredential', subject: holder.did, claims: { averageMonthlyIncome: 90_000, currency: 'EUR' }, now })
  const vp = createPresentation({ holder, credentials: [vc], challenge: 'c1', domain: 'd1', now })
  const r = await verifyPresentation(vp, { challenge: 'c1', domain: 'd1', now })
  t.ok(r.verified, 'the presentation verifies under this runtime')
  const rules = criteriaToRules([{ fact: 'averageMonthlyIncome', operator: 'greaterThanInclusive', value: 100_000 }], 'EUR')
  const outcome = await evaluateEligibility(rules, factsFrom([vc]), { currency: 'EUR' })
  t.is(outcome.eligible, false)
  t.ok(/1,000.00 EUR/.test(outcome.reasons[0]) || /1000.00 EUR/.test(outcome.reasons[0]), outcome.reasons[0])
})
