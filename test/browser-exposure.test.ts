// Consented credit-exposure checks through the UI (issue 11): four headless hosts on one local
// testnet. A founder (no page: an operator's node) certifies two originators, Ann Lending (A) and
// Bay Credit (B), with real certificate chains. The borrower already has a disbursed loan in B's
// book, one instalment repaid (set up through the hosts' own contract, as an operator would). In
// Chromium she applies to A's project with the consent box ticked; A's Applications shows her
// exact exposure at B, certified, and the combined total; B's "Exposure queries" card logs the
// query; she revokes the consent in "My consents" and A's next check shows no consent. Any console
// or page error fails the test. The pure parts (ui/features/*/exposure.ts, consent.ts) are also
// tested with hostile values.
import test from 'brittle'
import type { Page } from 'playwright-core'
import { ensureUiBuilt, launchBrowser, openApp, startTestHost, startTestnet, fullValue, onboard } from './helpers/browser.ts'
import { terms } from './helpers/fixtures.ts'
import { formatMinorText } from '../ui/lib/money.ts'
import { checkSummary, exposureRows, figures, heldConsent, loansText, logRows } from '../ui/features/originator/exposure.ts'
import { askerWords, consentLabel, consentPurpose, consentState, sortConsents } from '../ui/features/borrower/consent.ts'
import type { Host } from '../app/host/server.ts'
import type { ExposureCheck, ReceivedConsent } from '../app/exposure/handlers.ts'
import { until as waitUntil } from './helpers/until.ts'

const DAY = 86_400_000

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 40_000): Promise<void> => await waitUntil(what, check, ms, 250)

/** The text of the first element matching `testid` under `scope`, trimmed. */
async function text (page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent()) ?? '').trim()
}

test('browser exposure - consent on applying, the exact exposure at another originator, its log, and revocation', { timeout: 150_000 }, async (t) => {
  const started = Date.now()
  await ensureUiBuilt()
  const testnet = await startTestnet(t)
  // the founder is announced: verifiers reach it by DID for its revocation list's head
  const [fenHost, annHost, bayHost, bobHost] = await Promise.all([
    startTestHost(t, testnet, 'fen', { announce: true }),
    startTestHost(t, testnet, 'annx'),
    startTestHost(t, testnet, 'bay'),
    startTestHost(t, testnet, 'bobx')
  ])
  const browser = await launchBrowser(t)
  const [ann, bay, bob] = await Promise.all([openApp(browser, annHost, 'annx'), openApp(browser, bayHost, 'bay'), openApp(browser, bobHost, 'bobx')])
  const apps = [ann, bay, bob]
  for (const a of apps) a.page.setDefaultTimeout(30_000)

  try {
    await ann.page.getByTestId('onboarding').waitFor()
    const [annDid, bayDid, bobDid] = await Promise.all([onboard(ann, 'originator'), onboard(bay, 'originator'), onboard(bob, 'borrower')])
    const fenDid = (await fenHost.worker.request('identity.create', {})).did
    t.ok([annDid, bayDid, bobDid, fenDid].every((d) => d.startsWith('did:key:z')), 'four identities')

    // governance: the founder certifies both originators (an operator's act: growr network certify)
    const network = { version: 1, name: 'exposure-ui-test', founders: [fenDid] }
    const hosts: Host[] = [fenHost, annHost, bayHost, bobHost]
    for (const h of hosts) await h.worker.request('network.use', { network })
    const validUntil = new Date(Date.now() + 60 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z')
    for (const [h, did, name] of [[annHost, annDid, 'Ann Lending'], [bayHost, bayDid, 'Bay Credit']] as const) {
      const cert = await fenHost.worker.request('network.certify', { subject: did, name, roles: ['originator'], validUntil })
      t.ok((await h.worker.request('network.chain.set', { chain: [cert] })).ok, `${name} holds a chain to the founder`)
    }

    // B's book: the borrower's loan, funded by the founder, disbursed, first instalment repaid
    const bayW = bayHost.worker
    const bobW = bobHost.worker
    const fenW = fenHost.worker
    const bayBook = (await bayW.request('book.create', { name: 'Bay circle' })).topic
    const bayProject = (await bayW.request('project.create', { book: bayBook, terms: terms(Date.now(), { name: 'Bay greenhouses' }) })).id
    await bayW.request('project.transition', { book: bayBook, project: bayProject, action: 'activate' })
    await bobW.request('invite.accept', { code: (await bayW.request('invite.create', { book: bayBook, role: 'borrower' })).code })
    await fenW.request('invite.accept', { code: (await bayW.request('invite.create', { book: bayBook, role: 'investor' })).code })
    const funding = (await fenW.request('funding.commit', { book: bayBook, project: bayProject, amount: 300_000 })).id
    const fundPay = (await fenW.request('payment.record', { book: bayBook, kind: 'funding', ref: funding })).id
    await bayW.request('payment.confirm', { book: bayBook, payment: fundPay })
    const loanAtBay = (await bobW.request('loan.apply', { book: bayBook, project: bayProject, amount: 100_000, months: 6, purpose: 'greenhouse' })).id
    await bayW.request('loan.decide', { book: bayBook, loan: loanAtBay, action: 'approve' })
    const disb = (await bayW.request('payment.record', { book: bayBook, kind: 'disbursement', ref: loanAtBay })).id
    await bobW.request('payment.confirm', { book: bayBook, payment: disb })
    const repay = (await bobW.request('loan.repay', { book: bayBook, loan: loanAtBay })).id
    await bayW.request('payment.confirm', { book: bayBook, payment: repay })
    let atBay = await bayW.request('loan.show', { book: bayBook, loan: loanAtBay })
    await until('the repayment is applied at B', async () => {
      atBay = await bayW.request('loan.show', { book: bayBook, loan: loanAtBay })
      return atBay.schedule[0].principalPaid > 0
    })
    const outstanding = String(100_000 - atBay.schedule[0].principal)
    t.is(atBay.status, 'disbursed', `her loan at B is disbursed, ${outstanding} EUR cents of principal outstanding`)

    // A's book and project; the borrower is invited to it
    const annW = annHost.worker
    const annBook = (await annW.request('book.create', { name: 'Ann circle' })).topic
    const annProject = (await annW.request('project.create', { book: annBook, terms: terms(Date.now(), { name: 'Greenhouses' }) })).id
    await annW.request('project.transition', { book: annBook, project: annProject, action: 'activate' })
    await bobW.request('invite.accept', { code: (await annW.request('invite.create', { book: annBook, role: 'borrower' })).code })

    // each originator's directory sees the other certified, the borrower's sees A's name
    const certifiedIn = async (h: Host, did: string) => (await h.worker.request('market.query', {})).find((l) => l.did === did)?.certified === true
    await until('A and B see each other certified, the borrower sees A', async () => await certifiedIn(annHost, bayDid) && await certifiedIn(bayHost, annDid) && await certifiedIn(bobHost, annDid), 60_000).catch(async (err) => {
      for (const [name, h] of [['ann', annHost], ['bay', bayHost], ['bob', bobHost]] as const) t.comment(`${name} sees ${JSON.stringify((await h.worker.request('market.query', {})).map((l) => [l.did.slice(-6), l.organization, l.certified, l.certificationNote]))}`)
      t.comment(`ann ${annDid.slice(-6)} bay ${bayDid.slice(-6)} bob ${bobDid.slice(-6)} fen ${fenDid.slice(-6)}`)
      throw err
    })
    t.comment(`set up in ${Math.round((Date.now() - started) / 1000)} s`)

    // ---- the borrower applies at A through her page, the consent box ticked
    await bob.page.getByTestId('nav-borrower').click()
    const offer = bob.page.getByTestId('offer-' + annProject)
    await offer.waitFor()
    const box = offer.getByTestId('apply-consent')
    await offer.getByTestId('apply-consent-label').filter({ hasText: 'Ann Lending' }).waitFor()
    t.is(await box.isChecked(), false, 'the consent box is off until she ticks it')
    t.is(await text(bob.page, `[data-testid="offer-${annProject}"] [data-testid="apply-consent-label"]`), 'Let Ann Lending check what I owe other lenders on the network (for 30 days)', 'the box names the originator and the duration')
    t.is(await text(bob.page, `[data-testid="offer-${annProject}"] [data-testid="apply-consent-cert"]`), 'certified', 'A is shown certified')
    t.is(await fullValue(bob.page, `[data-testid="offer-${annProject}"] [data-testid="apply-consent-did"]`), annDid, 'the consent names A by the DID the book gives as its originator')
    await box.check()
    await offer.getByTestId('apply-amount').fill('500')
    await offer.getByTestId('apply-months').fill('6')
    await offer.getByTestId('apply-purpose').fill('drip irrigation')
    await bob.shot('exposure-01-borrower-consents')
    await offer.getByTestId('apply-submit').click()
    await offer.getByTestId('apply-done').waitFor()
    const delivered = offer.getByTestId('apply-consent-result').locator('[data-delivered]')
    t.is(await delivered.getAttribute('data-delivered'), 'true', `the consent reached A: ${await text(bob.page, `[data-testid="offer-${annProject}"] [data-testid="apply-consent-result"]`)}`)
    const consentRow = bob.page.locator('[data-testid="my-consents"] tbody tr').first()
    await consentRow.getByTestId('consent-status').filter({ hasText: 'in force' }).waitFor()
    t.is(await text(bob.page, '[data-testid="my-consents"] [data-testid="consent-purpose"]'), 'loan application Greenhouses', 'My consents lists it with its purpose')
    t.is(await fullValue(bob.page, '[data-testid="my-consents"] [data-testid="consent-to"]'), annDid, 'given to A')
    t.is(await text(bob.page, '[data-testid="my-consents"] [data-testid="consent-to-name"]'), 'Ann Lending', 'named as its certificate names it')

    // ---- A's Applications: the check, with her exact exposure at B
    await ann.page.getByTestId('nav-originator').click()
    const application = ann.page.locator('[data-testid="applications"] tbody tr[data-testid^="application-"]').first()
    await application.getByTestId('exposure-consent-held').waitFor()
    await application.getByTestId('exposure-check').click()
    const result = ann.page.getByTestId('exposure-result')
    await result.waitFor({ timeout: 40_000 })
    t.is(await result.getAttribute('data-subject'), bobDid, 'the check is about the applicant')
    const rowB = result.getByTestId('exposure-row-' + bayDid)
    t.is(await text(ann.page, `[data-testid="exposure-row-${bayDid}"] [data-testid="exposure-org"]`), 'Bay Credit', 'B by its certified name')
    t.is(await text(ann.page, `[data-testid="exposure-row-${bayDid}"] [data-testid="exposure-cert"]`), 'certified', 'with its certified badge')
    t.is(await text(ann.page, `[data-testid="exposure-row-${bayDid}"] [data-testid="exposure-status"]`), 'answered', 'B answered with figures')
    const outB = rowB.getByTestId('exposure-outstanding')
    t.is(await outB.getAttribute('data-value'), outstanding, 'the exact outstanding principal, in minor units')
    t.is(await outB.getAttribute('data-currency'), 'EUR', 'in EUR')
    t.is((await outB.textContent())?.trim(), formatMinorText(outstanding, 'EUR'), `shown in major units exactly: ${formatMinorText(outstanding, 'EUR')}`)
    t.is(await text(ann.page, `[data-testid="exposure-row-${bayDid}"] [data-testid="exposure-arrears"]`), 'none', 'nothing in arrears (instalment 2 is not due yet)')
    t.is(await text(ann.page, `[data-testid="exposure-row-${bayDid}"] [data-testid="exposure-loans"]`), '1 loan in EUR', 'one loan')
    t.is(await text(ann.page, '[data-testid="exposure-row-own"] [data-testid="exposure-outstanding-none"]'), 'owes nothing here', 'her application at A is not a loan yet')
    const combined = ann.page.getByTestId('exposure-combined-EUR').getByTestId('exposure-combined-outstanding')
    t.is(await combined.getAttribute('data-value'), outstanding, 'the combined total per currency')
    t.is((await combined.textContent())?.trim(), formatMinorText(outstanding, 'EUR'), 'in major units')
    t.ok(/1 of 1 certified originator answered/.test(await text(ann.page, '[data-testid="exposure-summary"]')), 'one originator asked, one answered')
    await ann.page.getByTestId('exposure-panel').scrollIntoViewIfNeeded()
    await ann.shot('exposure-02-originator-check')

    // ---- B's log of the query
    await bay.page.getByTestId('nav-originator').click()
    const log = bay.page.getByTestId('exposure-log')
    await log.waitFor()
    await log.getByTestId('exposure-log-refresh').click()
    const entry = log.getByTestId('exposure-log-entry').first()
    await entry.waitFor()
    t.is(await fullValue(bay.page, '[data-testid="exposure-log"] [data-testid="exposure-log-asker"]'), annDid, 'B logged A as the asker')
    t.is(await fullValue(bay.page, '[data-testid="exposure-log"] [data-testid="exposure-log-subject"]'), bobDid, 'about the borrower')
    t.is(await text(bay.page, '[data-testid="exposure-log"] [data-testid="exposure-log-purpose"]'), 'loan application Greenhouses', 'for the purpose her consent states')
    t.is(await text(bay.page, '[data-testid="exposure-log"] [data-testid="exposure-log-outcome"]'), 'answered', 'answered')
    await log.scrollIntoViewIfNeeded()
    await bay.shot('exposure-03-answering-log')

    // ---- she revokes; A's next check shows no consent
    await consentRow.getByTestId('consent-revoke').click()
    await consentRow.getByTestId('consent-status').filter({ hasText: 'revoked' }).waitFor()
    t.is(await consentRow.getByTestId('consent-revoke').count(), 0, 'a revoked consent stays listed, without a Revoke button')
    await bob.page.getByTestId('my-consents').scrollIntoViewIfNeeded()
    await bob.shot('exposure-04-borrower-revoked')

    await application.getByTestId('exposure-check').click()
    const noConsent = ann.page.getByTestId('exposure-no-consent')
    const bNoConsent = ann.page.locator(`[data-testid="exposure-result"] [data-testid="exposure-row-${bayDid}"] [data-testid="exposure-status"]`, { hasText: 'no consent' })
    await noConsent.or(bNoConsent).waitFor({ timeout: 40_000 })
    if (await noConsent.count() > 0) {
      t.pass('A heard the revocation: it holds no consent in force and asks nothing')
      t.ok(/no consent in force/.test(await text(ann.page, '[data-testid="exposure-no-consent"]')), 'said in words')
      await application.getByTestId('exposure-consent-refused').waitFor()
      t.pass('the application\'s cell no longer offers her consent as in force')
    } else {
      t.pass('B refused the revoked consent: the row says no consent')
    }
    t.is(await ann.page.locator(`[data-testid="exposure-row-${bayDid}"] [data-testid="exposure-outstanding"]`).count(), 0, 'no figure from B is shown')
    t.is(await ann.page.getByTestId('exposure-combined-outstanding').count(), 0, 'no combined figure either')
    await ann.shot('exposure-05-originator-no-consent')

    t.alike(apps.flatMap((a) => a.errors), [], 'no console or page errors')
    t.comment(`exposure browser test took ${Math.round((Date.now() - started) / 1000)} s`)
  } catch (err) {
    for (const [i, a] of apps.entries()) await a.shot(`exposure-failure-${i}`).catch(() => {})
    const errors = apps.flatMap((a) => a.errors)
    if (errors.length) t.comment(errors.join('\n'))
    throw err
  }
})

const A = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' as ExposureCheck['subject']
const B = 'did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG' as ExposureCheck['subject']
const C = 'did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf' as ExposureCheck['subject']

function checkOf (over: Partial<ExposureCheck> = {}): ExposureCheck {
  return {
    subject: C,
    grant: { id: 'urn:uuid:1', purpose: 'loan application X', validUntil: '2099-01-01T00:00:00Z' },
    own: { did: A, asOf: '2025-01-01', books: [], totals: [] },
    originators: [],
    combined: [],
    asked: 0,
    answered: 0,
    quorum: { needed: 1, met: false },
    elapsedMs: 1,
    ...over
  }
}

test('exposure ui - amounts exact past 2^53, no figures without consent, hostile text unreadable', async (t) => {
  const huge = { currency: 'EUR', loans: 2, outstandingPrincipal: '123456789012345678901', arrearsInstalments: 3, arrearsAmount: '9007199254740993', defaultedLoans: 1 }
  const f = figures(huge)
  t.is(f.outstanding, '1,234,567,890,123,456,789.01 EUR', 'outstanding exact past 2^53')
  t.is(f.arrears, '3 instalments, 90,071,992,547,409.93 EUR', '2^53 + 1 cents stays exact (a float would print ...92)')
  t.is(f.raw.outstandingPrincipal, '123456789012345678901', 'the digits kept as they came')
  t.is(figures({ ...huge, currency: 'BTC', outstandingPrincipal: '5', arrearsInstalments: 0, arrearsAmount: '0' }).outstanding, '0.00000005 BTC', 'BTC has 8 decimals')
  t.is(figures({ ...huge, arrearsInstalments: 0, arrearsAmount: '0' }).arrears, 'none', 'nothing late says none')
  t.is(figures({ ...huge, arrearsInstalments: 1, arrearsAmount: '250' }).arrears, '1 instalment, 2.50 EUR', 'one instalment, singular')
  const hostile = figures({ ...huge, outstandingPrincipal: '1e21', arrearsAmount: '-5', arrearsInstalments: 1.5 as unknown as number })
  t.is(hostile.outstanding, 'unreadable amount', 'an amount that is not whole digits is unreadable, not guessed')
  t.is(hostile.arrearsInstalments, 0, 'a count that is not whole reads as 0')
  t.ok(hostile.arrears.includes('unreadable amount'), 'and its amount unreadable')
  t.is(figures({ ...huge, outstandingPrincipal: 7 as unknown as string }).outstanding, 'unreadable amount', 'a number where text belongs is unreadable')
  t.is(loansText([f, figures({ ...huge, currency: 'BTC', loans: 1, defaultedLoans: 0 })]), '2 loans in EUR, 1 defaulted; 1 loan in BTC', 'loans per currency, defaults said')
  t.is(loansText([]), 'none', 'no loans')

  // a no-consent answer shows no figures even if a hostile answer carried some
  const totals = [{ currency: 'EUR', loans: 1, outstandingPrincipal: '100', arrearsInstalments: 0, arrearsAmount: '0', defaultedLoans: 0 }]
  const base = { at: 1, asOf: null, books: [], reason: null, answer: null }
  const check = checkOf({
    originators: [
      { ...base, did: B, organization: ' Bay   Credit ', certified: true, status: 'no-consent', totals },
      { ...base, did: C, organization: '', certified: 'true' as unknown as boolean, status: 'failed', totals: [], reason: 'the answer is not signed by the peer it came from' },
      { ...base, did: A, organization: 'Zed', certified: true, status: 'exposure', asOf: '2025-01-01', totals }
    ],
    asked: 3,
    answered: 1,
    quorum: { needed: 1, met: true }
  })
  const rows = exposureRows(check)
  t.alike(rows.map((r) => r.status), ['own', 'exposure', 'no-consent', 'failed'], 'own books first, then answers with figures, then the others')
  const noConsent = rows.find((r) => r.status === 'no-consent')!
  t.is(noConsent.figures, null, 'a no-consent row has no figures, whatever the answer carried')
  t.ok(/No consent/.test(noConsent.note ?? ''), 'and says so in words')
  t.is(noConsent.organization, 'Bay Credit', 'whitespace in a name is folded')
  const failed = rows.find((r) => r.status === 'failed')!
  t.is(failed.certified, false, 'only a boolean true is certified')
  t.is(failed.organization, 'no organization name given', 'a blank name is said in words')
  t.ok(failed.note?.includes('not signed'), 'a failure carries its reason')
  t.is(rows[0].certified, null, 'own row: no certification badge')
  t.is(checkSummary(check), '1 of 3 certified originators answered with figures; quorum met (1 needed).', 'the summary')
  t.is(checkSummary(checkOf()), 'No other certified originator is known on the network: only your own books were counted.', 'nobody to ask is said')

  // which consent the originator may ask with
  const now = Date.parse('2025-06-01T00:00:00Z')
  const r = (over: Partial<ReceivedConsent>) => ({ id: 'x', from: C, purpose: 'p', scope: null, validFrom: '2025-05-01T00:00:00Z', validUntil: '2025-07-01T00:00:00Z', receivedAt: 0, credential: {} as ReceivedConsent['credential'], ...over })
  t.is(heldConsent([r({ validUntil: '2025-05-31T00:00:00Z' })], C, now), null, 'an expired consent is not held')
  t.is(heldConsent([r({ from: B })], C, now), null, 'another borrower\'s consent does not count')
  t.is(heldConsent([r({ validFrom: '2025-06-02T00:00:00Z' })], C, now), null, 'a consent not yet valid is not held')
  t.is(heldConsent([r({ id: 'a' }), r({ id: 'b', validUntil: '2025-08-01T00:00:00Z' })], C, now)?.id, 'b', 'the longest-lasting one')
  t.is(heldConsent(undefined, C, now), null, 'nothing read yet: none held')

  const log = logRows([{ at: 1, asker: A, subject: null, purpose: null, grant: null, outcome: 'refused', reason: 'only certified originators' }, { at: 2, asker: B, subject: C, purpose: 'p', grant: 'g', outcome: 'no-consent', reason: 'the borrower revoked this consent' }])
  t.alike(log.map((l) => [l.outcomeLabel, l.tone, l.purpose]), [['refused', 'bad', 'no purpose given'], ['no consent', 'warn', 'p']], 'log outcomes in words')
})

test('consent ui - the box\'s words, the purpose, and where a consent stands', async (t) => {
  t.is(consentPurpose('Greenhouses'), 'loan application Greenhouses', 'the purpose names the project')
  t.is(consentPurpose('  a\n\tb  '), 'loan application a b', 'whitespace folded')
  t.is(consentPurpose(''), 'loan application', 'no name: still a purpose')
  t.is(consentPurpose('x'.repeat(500)).length, 200, 'cut to the core\'s 200 characters')
  t.is(consentLabel('Ann Lending', 30), 'Let Ann Lending check what I owe other lenders on the network (for 30 days)', 'the sentence')
  t.is(consentLabel('Ann Lending', 1), 'Let Ann Lending check what I owe other lenders on the network (for 1 day)', 'singular')
  t.alike(askerWords(A, { organization: 'Ann Lending', certified: true }), { name: 'Ann Lending', certified: true, selfDeclared: false }, 'a certified name')
  t.alike(askerWords(A, { organization: 'Kootenay Credit Union', certified: 'yes' }), { name: 'Kootenay Credit Union', certified: false, selfDeclared: true }, 'an uncertified name is self-declared')
  t.ok(askerWords(A, null).name.startsWith('did:key:z6Mk') && askerWords(A, null).name.includes('…'), 'no listing: the shortened DID')
  t.is(askerWords(A, { organization: 42 }).name, askerWords(A).name, 'a name that is not text is ignored')
  const now = Date.parse('2025-06-01T00:00:00Z')
  const c = { revoked: false, validFrom: '2025-05-01T00:00:00Z', validUntil: '2025-07-01T00:00:00Z' }
  t.is(consentState(c, now), 'in force', 'in force')
  t.is(consentState({ ...c, revoked: true }, now), 'revoked', 'revoked')
  t.is(consentState({ ...c, revoked: true, validUntil: '2025-05-02T00:00:00Z' }, now), 'revoked', 'revoked wins over expired')
  t.is(consentState({ ...c, validUntil: '2025-05-02T00:00:00Z' }, now), 'expired', 'expired')
  t.is(consentState({ ...c, validUntil: 'never' }, now), 'expired', 'an unreadable end is not in force')
  t.is(consentState({ ...c, validFrom: '2025-06-02T00:00:00Z' }, now), 'not yet valid', 'not yet valid')
  const sorted = sortConsents([{ ...c, revoked: true, validFrom: '2025-05-20T00:00:00Z' }, c, { ...c, validFrom: '2025-05-10T00:00:00Z' }], now)
  t.alike(sorted.map((x) => [x.revoked, x.validFrom.slice(5, 10)]), [[false, '05-10'], [false, '05-01'], [true, '05-20']], 'in force first, newest first')
})
