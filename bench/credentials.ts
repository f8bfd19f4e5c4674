/**
 * Benchmark 4, credential verification: a verifier checks a borrower's presentation holding two
 * credentials (KYC and income, eddsa-jcs-2022), with challenge, domain and trusted issuers, as
 * the verification service does; the figure is presentations verified per second. Baseline:
 * raw Ed25519 verifications per second with sodium-universal over a 64-byte message (what
 * eddsa-jcs-2022 signs). A presentation carries three signatures, so 1/3 is the ceiling.
 */
import sodium from 'sodium-universal'
import b4a from 'b4a'
import { generateKeyPair, sign } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { issueCredential } from '../core/credentials/vc.ts'
import { createPresentation, verifyPresentation } from '../core/credentials/vp.ts'
import { now, result, type BenchResult } from './lib/util.ts'

function party (n: number) {
  const seed = new Uint8Array(32)
  seed[0] = 50 + n
  const kp = generateKeyPair(seed)
  return { did: publicKeyToDid(kp.publicKey), secretKey: kp.secretKey, publicKey: kp.publicKey }
}

/** Runs `fn` `n` times after `n / 10` warm-up calls. @returns calls per second */
async function rate (n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < Math.ceil(n / 10); i++) await fn()
  const t0 = now()
  for (let i = 0; i < n; i++) await fn()
  return n / (now() - t0) * 1000
}

/** Runs the credential benchmark with `n` presentations and `n * 3` raw verifications. */
export async function benchCredentials (n: number): Promise<BenchResult[]> {
  const issuer = party(1)
  const holder = party(2)
  const at = Date.now()
  const credentials = [
    issueCredential({ issuer, type: 'KycCredential', subject: holder.did, claims: { kycStatus: 'verified' }, now: at }),
    issueCredential({ issuer, type: 'IncomeCredential', subject: holder.did, claims: { averageMonthlyIncome: 80_000, currency: 'EUR' }, now: at })
  ]
  const challenge = 'bench-challenge-0123456789abcdef'
  const domain = 'a'.repeat(64)
  const vp = JSON.parse(JSON.stringify(createPresentation({ holder, credentials, challenge, domain, now: at })))
  const opts = { challenge, domain, now: at + 1000, trustedIssuers: (_type: string, iss: string) => iss === issuer.did }
  const check = await verifyPresentation(vp, opts)
  if (!check.verified) throw new Error(`credentials: the bench presentation does not verify: ${JSON.stringify(check.problems)}`)
  const vps = await rate(n, () => verifyPresentation(vp, opts))

  const message = b4a.alloc(64, 7)
  const signature = sign(message, issuer.secretKey)
  const raw = await rate(n * 3, () => { if (!sodium.crypto_sign_verify_detached(signature, message, issuer.publicKey)) throw new Error('raw verify failed') })
  return [result('credential verification', n, vps, 'presentations/s', raw,
    'presentation with 2 credentials (3 Ed25519 signatures, JCS, SHA-256, schema and trust checks); baseline raw Ed25519 verifications/s (sodium-universal, 64-byte message), so 0.33 is the ceiling', 'verifications/s')]
}
