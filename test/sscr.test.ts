import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import b4a from 'b4a'
import { generateKeyPair } from '../core/identity/keys.ts'
import { publicKeyToDid } from '../core/identity/did-key.ts'
import { loadIdentity, createIdentity } from '../core/identity/keyfile.ts'
import { Sscr, type StoredCredential, type SscrChange } from '../core/sscr/wallet.ts'
import { createBackup, openBackup, restoreBackup } from '../core/sscr/backup.ts'
import { createConsent, verifyConsent, CustodialVault, type CustodyConsent } from '../core/sscr/custody.ts'
import { rejectsCode } from './helpers/assert.ts'
import { tmpDir } from './helpers/net.ts'

type T = { is: Function, ok: Function, fail: Function, teardown: Function }

const MARKER = 'ZEBRA-MARKER-7731'
const DAY = 24 * 3600 * 1000
const NOW = Date.parse('2025-06-01T00:00:00Z')


function makeIdentity () {
  const { publicKey, secretKey } = generateKeyPair()
  return { did: publicKeyToDid(publicKey), publicKey, secretKey }
}

const ISSUER = makeIdentity().did

function vc (holder: string, type: string, subject: Record<string, unknown>, opts: { id?: string, validFrom?: string, validUntil?: string } = {}): StoredCredential {
  const c: StoredCredential = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: opts.id ?? `urn:uuid:${b4a.toString(b4a.from(Math.random().toString()), 'hex').slice(0, 32)}`,
    type: ['VerifiableCredential', type],
    issuer: ISSUER,
    validFrom: opts.validFrom ?? '2025-01-01T00:00:00Z',
    credentialSubject: { id: holder, ...subject }
  }
  if (opts.validUntil !== undefined) c.validUntil = opts.validUntil
  return c
}

function allBytes (dir: string): Buffer {
  const parts: Buffer[] = []
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      parts.push(Buffer.from(e.name, 'utf8'))
      if (e.isDirectory()) walk(p)
      else parts.push(fs.readFileSync(p))
    }
  }
  walk(dir)
  return Buffer.concat(parts)
}

function assertAbsent (t: T, bytes: Buffer, needles: string[]): void {
  for (const s of needles) {
    const forms = [
      Buffer.from(s, 'utf8'),
      Buffer.from(Buffer.from(s, 'utf8').toString('hex'), 'utf8'),
      Buffer.from(Buffer.from(s, 'utf8').toString('base64').replace(/=+$/, ''), 'utf8'),
      Buffer.from(Buffer.from(s, 'utf8').toString('base64url').replace(/=+$/, ''), 'utf8')
    ]
    t.ok(forms.every((f) => bytes.indexOf(f) === -1), `${s.slice(0, 40)} appears nowhere on disk (utf-8/hex/base64)`)
  }
}


test('wallet: nothing readable on disk, reopen gives the same credentials', async (t) => {
  const dir = tmpDir(t)
  const holder = makeIdentity()
  const cred = vc(holder.did, 'CommunityMembershipCredential', { community: MARKER }, { id: 'urn:uuid:5f1c3a7e-unique-cred-id-0042' })
  const kyc = vc(holder.did, 'KycCredential', { kycStatus: 'verified' })

  const w = new Sscr({ dir, identity: holder })
  await w.ready()
  const changes: SscrChange[] = []
  w.on('change', (c: SscrChange) => changes.push(c))
  t.is(w.add(cred), true, 'new credential')
  t.is(w.add(cred), false, 'same id is deduplicated')
  t.is(w.addMany([kyc]), 1)
  t.is(w.size, 2)
  t.is(changes.length, 3, 'a change event per mutation')
  t.alike(w.get(cred.id), cred)
  t.alike(w.list({ type: 'KycCredential' }), [kyc])
  t.is(w.get('nope'), null)

  const mutable = w.get(cred.id)!
  mutable.credentialSubject.community = 'changed'
  t.is(w.get(cred.id)!.credentialSubject.community, MARKER, 'get returns a copy')

  await rejectsCode(t, () => w.add(vc(makeIdentity().did, 'KycCredential', { kycStatus: 'verified' })), 'BAD_ARGUMENT', 'someone else\'s credential refused')
  await rejectsCode(t, () => w.add({ id: 'x' } as unknown as StoredCredential), 'BAD_ARGUMENT', 'malformed credential refused')
  t.is(w.size, 2, 'refused credentials not stored')
  await w.close()
  await rejectsCode(t, () => w.list(), 'BAD_ARGUMENT', 'closed wallet refuses use')

  const file = path.join(dir, 'sscr', 'wallet.bin')
  t.is(fs.statSync(file).mode & 0o777, 0o600, 'wallet.bin is 0600')
  t.is(fs.statSync(path.join(dir, 'sscr')).mode & 0o777, 0o700, 'sscr dir is 0700')
  t.is(fs.readdirSync(path.join(dir, 'sscr')).length, 1, 'no temp files left behind')
  assertAbsent(t, allBytes(dir), [MARKER, cred.id, ISSUER, holder.did, 'CommunityMembershipCredential', 'KycCredential', 'verified'])
  // Control: the scan does see a plain file's content, so the absence above means something.
  fs.writeFileSync(path.join(dir, 'control.txt'), Buffer.from(MARKER).toString('base64'))
  t.ok(allBytes(dir).indexOf(Buffer.from(Buffer.from(MARKER).toString('base64').replace(/=+$/, ''))) !== -1, 'scan finds a planted marker')
  fs.rmSync(path.join(dir, 'control.txt'))

  const again = new Sscr({ dir, identity: holder })
  await again.ready()
  t.alike(again.list(), [cred, kyc], 'reopen gives the same credentials')
  t.ok(again.remove(kyc.id))
  t.absent(again.remove(kyc.id))
  await again.close()

  const third = new Sscr({ dir, identity: holder })
  await third.ready()
  t.alike(third.list(), [cred], 'remove persisted')
  await third.close()
})

test('wallet: tampering, another identity and an unknown version are refused', async (t) => {
  const dir = tmpDir(t)
  const holder = makeIdentity()
  const w = new Sscr({ dir, identity: holder })
  await w.ready()
  w.add(vc(holder.did, 'KycCredential', { kycStatus: 'verified' }))
  await w.close()
  const file = path.join(dir, 'sscr', 'wallet.bin')
  const original = fs.readFileSync(file)

  const other = new Sscr({ dir, identity: makeIdentity() })
  await rejectsCode(t, () => other.ready(), 'BAD_ARGUMENT', 'another identity cannot open it')
  t.ok(other.closed || other.closing !== null, 'failed open leaves it closed')

  const tampered = Buffer.from(original)
  tampered[tampered.length - 5] ^= 0x01
  fs.writeFileSync(file, tampered)
  await rejectsCode(t, () => new Sscr({ dir, identity: holder }).ready(), 'BAD_ARGUMENT', 'one flipped ciphertext byte')

  const nonce = Buffer.from(original)
  nonce[10] ^= 0x80
  fs.writeFileSync(file, nonce)
  await rejectsCode(t, () => new Sscr({ dir, identity: holder }).ready(), 'BAD_ARGUMENT', 'one flipped nonce byte')

  const version = Buffer.from(original)
  version[6] = 2
  fs.writeFileSync(file, version)
  await rejectsCode(t, () => new Sscr({ dir, identity: holder }).ready(), 'UNSUPPORTED_VERSION', 'unknown version')

  fs.writeFileSync(file, original)
  const ok = new Sscr({ dir, identity: holder })
  await ok.ready()
  t.is(ok.size, 1, 'original bytes still open')
  await ok.close()

  const kp = generateKeyPair()
  t.exception(() => new Sscr({ dir, identity: { did: makeIdentity().did, secretKey: kp.secretKey } }), /BAD_ARGUMENT/, 'key must match the DID')
})

test('wallet: select picks the newest per type, all cumulative ones, skips expired', async (t) => {
  const dir = tmpDir(t)
  const holder = makeIdentity()
  const d = holder.did
  const oldIncome = vc(d, 'IncomeCredential', { averageMonthlyIncome: 100, currency: 'KES' }, { validFrom: '2025-01-01T00:00:00Z' })
  const newIncome = vc(d, 'IncomeCredential', { averageMonthlyIncome: 200, currency: 'KES' }, { validFrom: '2025-03-01T00:00:00Z' })
  const newestButExpired = vc(d, 'IncomeCredential', { averageMonthlyIncome: 300, currency: 'KES' }, { validFrom: '2025-04-01T00:00:00Z', validUntil: '2025-05-01T00:00:00Z' })
  const rep1 = vc(d, 'RepaymentHistoryCredential', { outcome: 'repaid' }, { validFrom: '2025-02-01T00:00:00Z' })
  const rep2 = vc(d, 'RepaymentHistoryCredential', { outcome: 'repaid' }, { validFrom: '2024-02-01T00:00:00Z' })
  const repExpired = vc(d, 'RepaymentHistoryCredential', { outcome: 'defaulted' }, { validUntil: new Date(NOW).toISOString() })
  const com = vc(d, 'CommunityMembershipCredential', { community: 'a' })
  const kyc = vc(d, 'KycCredential', { kycStatus: 'verified' })

  const w = new Sscr({ dir, identity: holder })
  await w.ready()
  t.teardown(() => w.close())
  w.addMany([oldIncome, newIncome, newestButExpired, rep1, rep2, repExpired, com, kyc])

  const picked = w.select(['IncomeCredential', 'RepaymentHistoryCredential'], NOW)
  t.alike(picked.map((c) => c.id), [newIncome.id, rep2.id, rep1.id], 'newest income, every live repayment history (oldest first)')
  t.alike(w.select(['IncomeCredential'], Date.parse('2025-04-15T00:00:00Z')).map((c) => c.id), [newestButExpired.id], 'before expiry the newest wins')
  t.alike(w.select(['CommunityMembershipCredential', 'KycCredential', 'SavingsCredential'], NOW).map((c) => c.id), [com.id, kyc.id])
  t.alike(w.select([], NOW), [])
})

test('backup: round trip into a fresh dir; wrong passphrase; tampering; version', async (t) => {
  const src = tmpDir(t)
  const holder = makeIdentity()
  const creds = [
    vc(holder.did, 'CommunityMembershipCredential', { community: MARKER }),
    vc(holder.did, 'KycCredential', { kycStatus: 'verified' })
  ]
  const w = new Sscr({ dir: src, identity: holder })
  await w.ready()
  w.addMany(creds)
  const backup = createBackup({ identity: holder, credentials: w.list(), passphrase: 'correct horse' })
  await w.close()

  assertAbsent(t, Buffer.from(backup), [MARKER, holder.did, b4a.toString(holder.secretKey, 'hex')])

  await rejectsCode(t, () => openBackup(backup, 'wrong horse'), 'BAD_PASSPHRASE', 'wrong passphrase')
  await rejectsCode(t, () => openBackup(backup, ''), 'BAD_PASSPHRASE', 'empty passphrase')
  const flipped = b4a.from(backup)
  flipped[flipped.length - 1] ^= 1
  await rejectsCode(t, () => openBackup(flipped, 'correct horse'), 'BAD_PASSPHRASE', 'tampered ciphertext')
  const v2 = b4a.from(backup)
  v2[6] = 9
  await rejectsCode(t, () => openBackup(v2, 'correct horse'), 'UNSUPPORTED_VERSION', 'unknown version')
  await rejectsCode(t, () => openBackup(b4a.from('not a backup at all'), 'x'), 'BAD_ARGUMENT', 'not a backup')

  const opened = openBackup(backup, 'correct horse')
  t.is(opened.identity.did, holder.did)
  t.alike(opened.identity.secretKey, holder.secretKey)
  t.alike(opened.credentials, creds)

  const dest = path.join(tmpDir(t), 'fresh')
  await rejectsCode(t, () => restoreBackup(dest, backup, 'wrong horse'), 'BAD_PASSPHRASE', 'restore with wrong passphrase')
  t.absent(fs.existsSync(path.join(dest, 'identity.json')), 'nothing written on a wrong passphrase')

  const did = await restoreBackup(dest, backup, 'correct horse', { identityPassphrase: 'device pin' })
  t.is(did, holder.did)
  const loaded = loadIdentity(dest, { passphrase: 'device pin' })
  t.is(loaded.did, holder.did, 'identity restored')
  t.ok(loaded.encrypted)
  const restored = new Sscr({ dir: dest, identity: loaded })
  await restored.ready()
  t.alike(restored.list(), creds, 'wallet restored')
  await restored.close()

  await rejectsCode(t, () => restoreBackup(dest, backup, 'correct horse'), 'IDENTITY_EXISTS', 'refuses a dir with an identity')
  const other = tmpDir(t)
  createIdentity(other)
  await rejectsCode(t, () => restoreBackup(other, backup, 'correct horse'), 'IDENTITY_EXISTS', 'refuses another identity\'s dir')
})

test('custody: consent, enroll, open, release', async (t) => {
  const custodianDir = tmpDir(t)
  const custodian = makeIdentity()
  const holder = makeIdentity()
  const cred = vc(holder.did, 'CommunityMembershipCredential', { community: MARKER }, { id: 'urn:uuid:custody-cred-9931' })
  const backup = createBackup({ identity: holder, credentials: [cred], passphrase: 'hand-over' })
  const until = new Date(NOW + 30 * DAY).toISOString()
  const consent = createConsent({ holder, custodian: custodian.did, now: NOW, validUntil: until })

  t.is(verifyConsent(consent, { custodian: custodian.did, now: NOW + DAY }), null, 'valid consent')
  t.is(verifyConsent(consent, { custodian: makeIdentity().did, now: NOW }), 'names another custodian')
  t.is(verifyConsent(consent, { custodian: custodian.did, now: NOW + 31 * DAY }), 'expired')
  t.is(verifyConsent(consent, { custodian: custodian.did, now: NOW - DAY }), 'not yet valid')
  t.is(verifyConsent({ ...consent, validUntil: new Date(NOW + 365 * DAY).toISOString() }, { custodian: custodian.did, now: NOW }), 'bad signature', 'extended expiry breaks the signature')
  t.ok(String(verifyConsent({ ...consent, extra: 1 }, { custodian: custodian.did, now: NOW })).startsWith('malformed'))
  t.ok(String(verifyConsent(null, { custodian: custodian.did, now: NOW })).startsWith('malformed'))

  const vault = new CustodialVault({ dir: custodianDir, identity: custodian })
  await vault.ready()
  t.teardown(() => vault.close())

  const mallory = makeIdentity()
  const forged: CustodyConsent = { ...createConsent({ holder: mallory, custodian: custodian.did, now: NOW }), holder: holder.did }
  await rejectsCode(t, () => vault.enroll({ backup, passphrase: 'hand-over', consent: forged, now: NOW }), 'BAD_ARGUMENT', 'forged consent refused')
  const malloryOwn = createConsent({ holder: mallory, custodian: custodian.did, now: NOW })
  await rejectsCode(t, () => vault.enroll({ backup, passphrase: 'hand-over', consent: malloryOwn, now: NOW }), 'BAD_ARGUMENT', 'consent of someone else than the backup\'s identity refused')
  const elsewhere = createConsent({ holder, custodian: makeIdentity().did, now: NOW })
  await rejectsCode(t, () => vault.enroll({ backup, passphrase: 'hand-over', consent: elsewhere, now: NOW }), 'BAD_ARGUMENT', 'consent for another custodian refused')
  await rejectsCode(t, () => vault.enroll({ backup, passphrase: 'hand-over', consent, now: NOW + 60 * DAY }), 'BAD_ARGUMENT', 'expired consent refused')
  await rejectsCode(t, () => vault.enroll({ backup, passphrase: 'nope', consent, now: NOW }), 'BAD_PASSPHRASE', 'wrong backup passphrase')
  t.alike(vault.list(), [], 'nothing enrolled by refused attempts')
  t.alike(fs.readdirSync(path.join(custodianDir, 'custody')), [], 'no leftovers from refused attempts')

  t.is(await vault.enroll({ backup, passphrase: 'hand-over', consent, now: NOW }), holder.did)
  await rejectsCode(t, () => vault.enroll({ backup, passphrase: 'hand-over', consent, now: NOW }), 'IDENTITY_EXISTS', 'enrolling twice refused')
  t.alike(vault.list(), [holder.did])

  const session = await vault.open(holder.did, NOW + DAY)
  t.is(session.identity.did, holder.did)
  t.alike(session.identity.secretKey, holder.secretKey)
  t.alike(session.wallet.list(), [cred])
  const extra = vc(holder.did, 'KycCredential', { kycStatus: 'verified' })
  session.wallet.add(extra)
  await session.wallet.close()

  await rejectsCode(t, () => vault.open(holder.did, NOW + 31 * DAY), 'OP_REJECTED', 'open refused once the consent expired')
  await rejectsCode(t, () => vault.open(makeIdentity().did, NOW), 'NOT_FOUND', 'unknown holder')

  assertAbsent(t, allBytes(custodianDir), [MARKER, cred.id, ISSUER, holder.did, b4a.toString(holder.secretKey, 'hex'), b4a.toString(holder.secretKey.subarray(0, 32), 'hex')])

  const other = new CustodialVault({ dir: custodianDir, identity: makeIdentity() })
  await other.ready()
  await rejectsCode(t, () => other.list(), 'BAD_ARGUMENT', 'another custodian cannot read the records')
  await other.close()

  const open2 = await vault.open(holder.did, NOW + 2 * DAY)
  const returned = await vault.release(holder.did, 'take it back')
  t.ok(open2.wallet.closed, 'release closed the handed-out wallet')
  t.alike(vault.list(), [], 'custodial copy gone')
  t.alike(fs.readdirSync(path.join(custodianDir, 'custody')), [], 'custody dir emptied')
  await rejectsCode(t, () => vault.open(holder.did, NOW), 'NOT_FOUND', 'released holder is gone')

  const home = path.join(tmpDir(t), 'home')
  t.is(await restoreBackup(home, returned, 'take it back'), holder.did)
  const mine = new Sscr({ dir: home, identity: loadIdentity(home) })
  await mine.ready()
  t.alike(mine.list(), [cred, extra], 'her SSCR, including what the custodian added, comes back')
  await mine.close()
})
