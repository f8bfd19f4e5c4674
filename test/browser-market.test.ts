// The Marketplace screen (issue 11): three headless hosts on one local testnet, driven only through
// their pages in Chromium. An originator advertises an active project; a borrower who follows no
// book of hers finds it in the Marketplace with the originator's DID and an "uncertified" mark (the
// development network has no chain for her), joins the book in one click and reads the project as
// a reader; an issuer's services show as a provider. Any console or page error fails the test.
// The pure part (ui/features/marketplace/market.ts) is also tested with hostile listings.
import test from 'brittle'
import type { Page } from 'playwright-core'
import { ensureUiBuilt, launchBrowser, openApp, startTestHost, startTestnet, fullValue, onboard } from './helpers/browser.ts'
import { formatMinorText } from '../ui/lib/money.ts'
import { certificationOf, groupByOriginator, listerMismatch, organizationWords, projectRow, serviceProviders } from '../ui/features/marketplace/market.ts'
import type { NodeListing, ProjectListing } from '../core/network/ads/directory.ts'

/** Creates a book on the Network screen; returns its topic key. */
async function createBook (page: Page, name: string): Promise<string> {
  await page.getByTestId('nav-network').click()
  await page.getByTestId('book-create-name').fill(name)
  await page.getByTestId('book-create').click()
  const row = page.locator('[data-testid="books"] tbody tr').filter({ hasText: name })
  await row.getByTestId('book-topic').waitFor()
  return (await row.getByTestId('book-topic').getAttribute('data-value')) ?? ''
}

test('marketplace - a project advertised by one node is found, joined and read on another', { timeout: 90_000 }, async (t) => {
  const started = Date.now()
  await ensureUiBuilt()
  const testnet = await startTestnet(t)
  const [annHost, bobHost, ivyHost] = await Promise.all([
    startTestHost(t, testnet, 'ann'),
    startTestHost(t, testnet, 'bob'),
    startTestHost(t, testnet, 'ivy', { announce: true })
  ])
  const browser = await launchBrowser(t)
  const [ann, bob, ivy] = await Promise.all([openApp(browser, annHost, 'ann'), openApp(browser, bobHost, 'bob'), openApp(browser, ivyHost, 'ivy')])
  const apps = [ann, bob, ivy]
  for (const a of apps) a.page.setDefaultTimeout(30_000)

  try {
    await ann.page.getByTestId('onboarding').waitFor()
    const [annDid, bobDid, ivyDid] = await Promise.all([onboard(ann, 'originator'), onboard(bob, 'borrower'), onboard(ivy, 'credentials')])
    t.ok([annDid, bobDid, ivyDid].every((d) => d.startsWith('did:key:z')), 'three identities')

    // ann creates a book and an active public project through her UI
    const topic = await createBook(ann.page, 'Kootenay Lending Circle')
    // bob follows a book of his own first, so the picker has a choice to make after joining
    const bobTopic = await createBook(bob.page, 'Bob savings circle')
    t.ok(topic && bobTopic && topic !== bobTopic, 'two books')
    await ann.page.getByTestId('nav-originator').click()
    await ann.page.getByTestId('project-new').click()
    await ann.page.getByTestId('project-name').fill('Greenhouses')
    await ann.page.getByTestId('project-amount').fill('12500.50')
    await ann.page.getByTestId('project-loanMin').fill('250')
    await ann.page.getByTestId('project-loanMax').fill('1500')
    await ann.page.getByTestId('project-rate').fill('9.5')
    await ann.page.getByTestId('project-save').click()
    const projectRowAnn = ann.page.locator('[data-testid="projects"] tbody tr[data-testid^="project-"]').first()
    await projectRowAnn.getByTestId('project-activate').click()
    await projectRowAnn.getByText('active', { exact: true }).waitFor()
    const projectId = (await projectRowAnn.getAttribute('data-testid'))!.slice('project-'.length)
    t.ok(/^[0-9a-f]{32}$/.test(projectId), 'the project is created and active')

    // ivy enrolls bob for a credential: her node now issues KycCredential
    await ivy.page.getByTestId('enroll-type').selectOption('KycCredential')
    await ivy.page.getByTestId('enroll-subject').fill(bobDid)
    await ivy.page.getByTestId('enroll-submit').click()
    await ivy.page.getByTestId('enroll-done').waitFor()

    // bob's Marketplace: the network, with the development warning, and ann's project from her ad
    await bob.page.getByTestId('nav-marketplace').click()
    await bob.page.getByTestId('screen-marketplace').waitFor()
    t.is((await bob.page.getByTestId('market-network-name').textContent())?.trim(), 'growr-dev', 'the network in use is named')
    t.ok(await bob.page.getByTestId('market-dev-warning').isVisible(), 'the development network is flagged')
    const offer = bob.page.getByTestId('market-project-' + projectId)
    await offer.waitFor({ timeout: 30_000 })
    const group = bob.page.getByTestId('market-originator-' + annDid)
    t.ok(await group.isVisible(), 'the project is grouped under the DID whose ad lists it')
    t.is(await fullValue(bob.page, `[data-testid="market-originator-${annDid}"] [data-testid="market-did"]`), annDid, "the originator's DID is shown")
    t.is(await group.getByTestId('market-org').getAttribute('data-value'), '', "the organization is what ann's ad says (the host sets none)")
    t.is((await group.getByTestId('market-org').textContent())?.trim(), 'no organization name given', 'an empty organization is said in words')
    t.is((await offer.getByTestId('market-project-name').textContent())?.trim(), 'Greenhouses', 'the project name')
    t.is((await offer.getByTestId('market-book-name').textContent())?.trim(), 'Kootenay Lending Circle', 'the book name')
    t.is((await offer.getByTestId('market-currency').textContent())?.trim(), 'EUR', 'the currency')
    t.is((await offer.getByTestId('market-amount').textContent())?.trim(), '12,500.50 EUR', 'the target in major units, exactly')
    t.is((await offer.getByTestId('market-loans').textContent())?.trim(), '250.00 EUR to 1,500.00 EUR, 3 to 12 months', 'the loan range')
    t.is((await offer.getByTestId('market-rate').textContent())?.trim(), '9.50% a year, declining balance', 'the rate')
    const cert = group.getByTestId('market-cert').first()
    t.is(await cert.getAttribute('data-certified'), 'false', 'no chain on the development network: uncertified')
    t.is((await cert.getByTestId('market-cert-badge').textContent())?.trim(), 'uncertified', 'the badge says uncertified')
    const reason = (await cert.getByTestId('market-cert-detail').textContent())?.trim() ?? ''
    t.ok(reason.length > 0 && reason !== 'no reason given', `the reason is the directory's: "${reason}"`)
    await bob.shot('market-01-borrower-finds')

    // one click joins: the book is followed read-only and chosen in the picker, its project readable
    await offer.getByTestId('market-join').click()
    const followed = bob.page.getByTestId('market-followed-' + topic)
    await followed.waitFor()
    t.is(await bob.page.getByTestId('market-book').inputValue(), topic, 'the picker now shows the joined book')
    t.ok((await bob.page.getByTestId('market-book').locator('option').allTextContents()).includes('Bob savings circle'), 'beside the book he already followed')
    t.is(await followed.getByTestId('market-book-role').getAttribute('data-role'), 'reader', 'he is a reader')
    const readable = followed.getByTestId('market-book-project-' + projectId)
    await readable.waitFor()
    t.is((await readable.getByTestId('market-book-project-name').textContent())?.trim(), 'Greenhouses', 'the project is read from the replicated book')
    await followed.getByTestId('market-book-originator').waitFor()
    t.is(await fullValue(bob.page, `[data-testid="market-followed-${topic}"] [data-testid="market-book-originator"]`), annDid, 'the book says ann originates it, as the ad did')
    t.is(await followed.getByTestId('market-lister-warning').count(), 0, 'no warning: the lister is the originator')
    await offer.getByTestId('market-following').waitFor()
    t.pass('the join button gave way to "following"')
    await bob.page.getByTestId('nav-network').click()
    await bob.page.getByTestId('book-' + topic).getByText('read-only', { exact: true }).waitFor()
    t.pass('the Network screen lists the book read-only')

    // the project is public and not invite-only: one more click asks ann's node to admit him as a borrower
    await bob.page.getByTestId('nav-marketplace').click()
    await followed.getByTestId('market-admit-borrower').click()
    await bob.page.locator(`[data-testid="market-followed-${topic}"] [data-testid="market-book-role"][data-role="borrower"]`).waitFor({ timeout: 30_000 })
    t.pass('admitted by the originator\'s node: he is now a borrower of the book, no invite handed over')
    t.is(await followed.getByTestId('market-admit').count(), 0, 'the join buttons are gone')

    // ivy joins too (an observer); her new ad carries the credential types she issues
    await ivy.page.getByTestId('nav-marketplace').click()
    await ivy.page.getByTestId('market-project-' + projectId).getByTestId('market-join').click()
    await ivy.page.getByTestId('market-followed-' + topic).waitFor()
    await bob.page.getByTestId('nav-marketplace').click()
    const provider = bob.page.getByTestId('provider-' + ivyDid)
    await provider.getByTestId('provider-issues').filter({ hasText: 'KycCredential' }).waitFor({ timeout: 30_000 })
    t.ok(await provider.getByTestId('provider-verifies').isVisible(), 'the issuer also verifies')
    t.is(await bob.page.getByTestId('provider-' + annDid).count(), 0, 'an originator without issuing or verification is not a provider')
    await bob.shot('market-02-borrower-joined')

    // ann sees her own project marked as hers, not as something to join
    await ann.page.getByTestId('nav-marketplace').click()
    await ann.page.getByTestId('market-project-' + projectId).getByTestId('market-mine').waitFor()
    t.is(await ann.page.getByTestId('market-project-' + projectId).getByTestId('market-join').count(), 0, 'no join button on her own book')
    await ann.shot('market-03-originator')
    await ivy.shot('market-04-issuer')

    t.alike(apps.flatMap((a) => a.errors), [], 'no console or page errors')
    t.comment(`marketplace browser test took ${Math.round((Date.now() - started) / 1000)} s`)
  } catch (err) {
    for (const [i, a] of apps.entries()) await a.shot(`market-failure-${i}`).catch(() => {})
    const errors = apps.flatMap((a) => a.errors)
    if (errors.length) t.comment(errors.join('\n'))
    throw err
  }
})

const ANN = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' as ProjectListing['originator']
const MALLORY = 'did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG' as ProjectListing['originator']

function listing (over: Partial<ProjectListing> = {}): ProjectListing {
  return {
    projectId: 'a'.repeat(32), name: 'Greenhouses', currency: 'EUR', amount: '1250050', loanMin: '25000', loanMax: '150000',
    minMonths: 3, maxMonths: 12, rateBps: 950, interestMethod: 'declining-balance',
    book: 'y'.repeat(52), bookName: 'Kootenay', originator: ANN, organization: '', certified: false, certifiedBy: null, ...over
  }
}

test('marketplace - hostile listings are shown as claims, amounts exactly or not at all', async (t) => {
  // amounts past 2^53 stay exact (an ad carries them as text); a float would round the last digits
  t.is(formatMinorText('123456789012345678901', 'EUR'), '1,234,567,890,123,456,789.01 EUR', 'exact past 2^53')
  t.is(formatMinorText('5', 'BTC'), '0.00000005 BTC', 'BTC has 8 decimals')
  t.is(formatMinorText('1500', 'JPY'), '1,500 JPY', 'JPY has none')
  for (const bad of ['-5', '1e9', '0x10', '12.5', '', ' 1', '9'.repeat(41)]) t.is(formatMinorText(bad, 'EUR'), null, `"${bad.slice(0, 12)}" is unreadable, not guessed`)
  t.is(formatMinorText(7 as unknown as string, 'EUR'), null, 'a number where text belongs is unreadable')
  const row = projectRow(listing({ amount: '1e99', loanMax: 'lots' }))
  t.is(row.amount, 'unreadable amount', 'a listing whose amount is not an integer says so')
  t.ok(row.loans.includes('unreadable amount'), 'so does its loan range')
  t.is(projectRow(listing({ interestMethod: '<img src=x onerror=alert(1)>' })).rate, '9.50% a year, <img src=x onerror=alert(1)>', 'odd text stays text (React escapes it)')

  // a name is only a claim until a certificate backs it
  t.alike(organizationWords('Kootenay Credit Union', false), { name: 'Kootenay Credit Union', selfDeclared: true }, 'an uncertified name is self-declared')
  t.alike(organizationWords('Kootenay Credit Union', true), { name: 'Kootenay Credit Union', selfDeclared: false }, 'a certified one is not')
  t.is(organizationWords('   ', false).name, 'no organization name given', 'blank is no name')

  t.alike(certificationOf({ certified: true, certifiedBy: 'did:key:zF -> did:key:zG' }), { certified: true, label: 'certified', detail: 'by did:key:zF -> did:key:zG' }, 'certified by whom')
  t.is(certificationOf({ certified: false, certifiedBy: 'did:key:zF' }, { certificationNote: 'the chain is empty' }).detail, 'the chain is empty', 'uncertified with the reason, certifiedBy ignored')
  t.is(certificationOf({ certified: false, certifiedBy: null }, null).detail, 'no reason given', 'no node listing: says so')
  t.is(certificationOf({ certified: 'true' as unknown as boolean, certifiedBy: 'x' }).label, 'uncertified', 'only a boolean true certifies')

  // anyone may list anyone's book: the replicated book's originator decides
  const squat = listing({ originator: MALLORY, organization: 'Kootenay Lending Circle', projectId: 'b'.repeat(32) })
  const warning = listerMismatch([listing(), squat], 'y'.repeat(52), ANN)
  t.ok(warning?.includes(MALLORY) && warning.includes(ANN), 'a listing by another DID than the book\'s originator is named')
  t.is(listerMismatch([listing()], 'y'.repeat(52), ANN), null, 'the originator\'s own listing is fine')
  t.is(listerMismatch([squat], 'y'.repeat(52), null), null, 'nothing is said before the book replicates')
  t.is(listerMismatch([squat], 'z'.repeat(52), ANN), null, 'listings of other books do not count')

  const CAROL = 'did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf' as ProjectListing['originator']
  const groups = groupByOriginator([squat, listing(), listing({ projectId: 'c'.repeat(32), originator: MALLORY, organization: 'Kootenay Lending Circle' }), listing({ originator: CAROL, certified: true, certifiedBy: 'did:key:zF', organization: 'Zed' })])
  t.alike(groups.map((g) => g.did), [CAROL, ANN, MALLORY], 'one group per listing DID: certified first, then by organization')
  t.is(groups[2].projects.length, 2, 'a DID\'s projects together')

  const nodes = [
    { did: ANN, services: [{ type: 'originating' }] },
    { did: MALLORY, services: [{ type: 'issuing', credentialTypes: ['KycCredential', 'KycCredential', 'IncomeCredential'] }, { type: 'verification' }] },
    { did: 'did:key:zX', services: 'not a list' }
  ] as unknown as NodeListing[]
  const providers = serviceProviders(nodes)
  t.is(providers.length, 1, 'only issuers and verifiers; malformed services are skipped')
  t.alike(providers[0].issues, ['KycCredential', 'IncomeCredential'], 'credential types once each')
  t.ok(providers[0].verifies, 'and verification')
})

test('network peers - the peers panel shows a certified peer, who certified it, and an uncertified one with the reason', { timeout: 120_000 }, async (t) => {
  const started = Date.now()
  await ensureUiBuilt()
  const testnet = await startTestnet(t)
  // the governance node is announced: verifiers reach it by DID for its revocation list's head
  const [fenHost, govHost, annHost] = await Promise.all([
    startTestHost(t, testnet, 'fen'),
    startTestHost(t, testnet, 'gov', { announce: true }),
    startTestHost(t, testnet, 'ann2')
  ])
  const browser = await launchBrowser(t)
  const [fen, gov, ann] = await Promise.all([openApp(browser, fenHost, 'fen'), openApp(browser, govHost, 'gov'), openApp(browser, annHost, 'ann2')])
  const apps = [fen, gov, ann]
  for (const a of apps) a.page.setDefaultTimeout(30_000)
  try {
    await fen.page.getByTestId('onboarding').waitFor()
    const [fenDid, govDid, annDid] = await Promise.all([onboard(fen, 'originator'), onboard(gov, 'credentials'), onboard(ann, 'originator')])
    // certifying is an operator's act (growr network certify); the hosts' own workers do it here
    const network = { version: 1, name: 'peers-panel-test', founders: [fenDid] }
    for (const h of [fenHost, govHost, annHost]) await h.worker.request('network.use', { network })
    const govCert = await fenHost.worker.request('network.certify', { subject: govDid, name: 'Kootenay Governance', governance: true })
    const annCert = await govHost.worker.request('network.certify', { subject: annDid, name: 'Ann Lending', roles: ['originator'] })
    const kept = await annHost.worker.request('network.chain.set', { chain: [govCert, annCert] })
    t.ok(kept.ok, 'ann keeps her chain')

    await fen.page.getByTestId('nav-network').click()
    const row = fen.page.getByTestId('peer-' + annDid)
    // the panel re-reads on peer and market events; "Check again" covers a hello that lands between them
    const deadline = Date.now() + 45_000
    while ((await row.count()) === 0 || (await row.getAttribute('data-certified')) !== 'true') {
      if (Date.now() > deadline) throw new Error('ann never showed certified in the peers panel')
      await fen.page.getByTestId('peers-recheck').click()
      await fen.page.waitForTimeout(1000)
    }
    t.is((await row.getByTestId('peer-cert-badge').textContent())?.trim(), 'certified', 'ann\'s badge says certified')
    t.is(await row.getByTestId('peer-org').getAttribute('data-value'), 'Ann Lending', 'with the organization her certificate names')
    await row.getByTestId('peer-expand').click()
    const certifier = row.getByTestId('peer-certifier')
    await certifier.waitFor()
    t.is((await certifier.getByTestId('peer-certifier-name').textContent())?.trim(), 'Kootenay Governance', 'certified by the governance DID, by name')
    t.is(await certifier.getAttribute('data-value'), govDid, 'and its DID')
    t.ok(/certified by Kootenay Governance \(governance\)/.test((await certifier.textContent()) ?? ''), 'in words')
    t.is(await row.getByTestId('peer-founder').getAttribute('data-value'), fenDid, 'which the founder certified')
    t.ok(/certified by founder/.test((await row.getByTestId('peer-founder').textContent()) ?? ''), 'said as such')

    // the governance node presents no chain of its own: uncertified, with the reason
    const govRow = fen.page.getByTestId('peer-' + govDid)
    await govRow.waitFor()
    t.is(await govRow.getAttribute('data-certified'), 'false', 'the governance node is shown uncertified')
    await govRow.getByTestId('peer-expand').click()
    t.ok(/nobody certified this DID/.test((await govRow.getByTestId('peer-reason').textContent()) ?? ''), 'with the reason in words')
    await fen.shot('network-01-peers')
    t.alike(apps.flatMap((a) => a.errors), [], 'no console or page errors')
    t.comment(`peers panel browser test took ${Math.round((Date.now() - started) / 1000)} s`)
  } catch (err) {
    for (const [i, a] of apps.entries()) await a.shot(`peers-failure-${i}`).catch(() => {})
    const errors = apps.flatMap((a) => a.errors)
    if (errors.length) t.comment(errors.join('\n'))
    throw err
  }
})
