// The Trustlines screen (issue 13) in headless Chromium, two hosts on one local testnet, driven
// through their pages only: Ann opens a trustline with Bob's DID offering him 100.00 CAD of
// credit, Bob countersigns it; Bob proposes paying Ann 25.50, Ann rejects a first one with a
// reason and accepts the second; both screens then show the same signed history (state hashes),
// the same balance from each side ("You owe ... 25.50 CAD" / "... owes you 25.50 CAD") and the
// same limits. Any console or page error fails the test.
// The words (ui/features/trustlines/words.ts) are checked directly too.
import test from 'brittle'
import type { Locator, Page } from 'playwright-core'
import { ensureUiBuilt, launchBrowser, openApp, startTestHost, startTestnet, type AppPage, onboard } from './helpers/browser.ts'
import { balanceWords, changeWords, limits } from '../ui/features/trustlines/words.ts'

async function onboardToTrustlines (app: AppPage): Promise<string> {
  const { page } = app
  const did = await onboard(app, 'credentials')
  await page.getByTestId('nav-trustlines').click()
  await page.getByTestId('screen-trustlines').waitFor()
  return did
}

/** Clicks Refresh until `target` shows (the core pushes no trustline event yet: see the screen's note). */
async function refreshUntil (page: Page, target: Locator, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await target.count() > 0 && await target.first().isVisible()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await page.getByTestId('tl-refresh').click()
    await page.waitForTimeout(250)
  }
}

async function historyStates (line: Locator): Promise<string[]> {
  return await line.locator('[data-testid="tl-h-state"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-value') ?? ''))
}

test('trustlines words - balance, limits and changes from each side, exact', (t) => {
  const terms = { asset: 'CAD' } as never
  t.is(balanceWords({ myBalance: '2550', terms }, 'Ann'), 'You owe Ann 25.50 CAD')
  t.is(balanceWords({ myBalance: '-2550', terms }, 'Bob'), 'Bob owes you 25.50 CAD')
  t.is(balanceWords({ myBalance: '-1', terms }, 'your partner'), 'Your partner owes you 0.01 CAD', 'a sentence starts with a capital')
  t.is(balanceWords({ myBalance: '0', terms }, 'Bob'), 'Settled: nobody owes anything')
  t.is(balanceWords({ myBalance: '-900719925474099312', terms }, 'Bob'), 'Bob owes you 9,007,199,254,740,993.12 CAD', 'beyond 2^53 cents: exact, no float')
  t.alike(limits({ me: 'A', state: { limitAtoB: '1', limitBtoA: '2' } }), { iMayOwe: '1', iExtend: '2' })
  t.alike(limits({ me: 'B', state: { limitAtoB: '1', limitBtoA: '2' } }), { iMayOwe: '2', iExtend: '1' })
  t.is(changeWords({ type: 'payment', from: 'B', amount: '2550' }, 'B', true, 'CAD', 'Ann'), 'You pay Ann 25.50 CAD')
  t.is(changeWords({ type: 'payment', from: 'B', amount: '2550' }, 'A', false, 'CAD', 'Bob'), 'Bob pays you 25.50 CAD')
  t.is(changeWords({ type: 'limit', side: 'AtoB', amount: '10000' }, 'B', true, 'CAD', 'Ann'), 'the credit you extend to Ann becomes 100.00 CAD')
  t.is(changeWords({ type: 'limit', side: 'AtoB', amount: '10000' }, 'A', false, 'CAD', 'Bob'), 'the credit Bob extends to you becomes 100.00 CAD')
})

test('trustlines screen - two hosts open a trustline, one pays, the other rejects then accepts: both show the same balance and history', { timeout: 120_000 }, async (t) => {
  await ensureUiBuilt()
  const testnet = await startTestnet(t)
  const [annHost, bobHost] = await Promise.all([startTestHost(t, testnet, 'ann'), startTestHost(t, testnet, 'bob')])
  const browser = await launchBrowser(t)
  const [ann, bob] = await Promise.all([openApp(browser, annHost, 'ann'), openApp(browser, bobHost, 'bob')])
  const apps = [ann, bob]
  for (const a of apps) a.page.setDefaultTimeout(30_000)
  try {
    await ann.page.getByTestId('onboarding').waitFor()
    const [annDid, bobDid] = await Promise.all([onboardToTrustlines(ann), onboardToTrustlines(bob)])
    t.ok(annDid.startsWith('did:key:z') && bobDid.startsWith('did:key:z') && annDid !== bobDid, 'two identities')

    // Ann opens the line and offers Bob 100.00 CAD of credit: a raise, Bob must countersign
    await ann.page.getByTestId('tl-open-partner').fill(bobDid)
    await ann.page.getByTestId('tl-open-limit').fill('100')
    await ann.page.getByTestId('tl-open-submit').click()
    const annLine = ann.page.locator('[data-testid^="tl-line-"]').first()
    await annLine.getByTestId('tl-outgoing').waitFor()
    t.ok(/the credit you extend to your partner becomes 100\.00 CAD: waiting for your partner/.test(await annLine.getByTestId('tl-outgoing').innerText()), 'ann sees her offer waiting for bob')

    const bobLine = bob.page.locator('[data-testid^="tl-line-"]').first()
    await refreshUntil(bob.page, bobLine.getByTestId('tl-accept'), 'bob to receive the offer')
    t.is(await bobLine.getByTestId('tl-in-words').innerText(), 'the credit your partner extends to you becomes 100.00 CAD', 'bob reads the offer in words')
    t.is(await bobLine.getByTestId('tl-partner').getAttribute('data-value'), annDid, 'the partner is ann\'s DID')
    await bobLine.getByTestId('tl-accept').click()
    await bobLine.getByTestId('tl-h-1').waitFor()
    t.is(await bobLine.getByTestId('tl-i-may-owe').getAttribute('data-value'), '10000', 'bob may owe up to 100.00')

    // Bob proposes paying Ann 25.50; she rejects it with a reason; he proposes again, she accepts
    const pay = async (): Promise<void> => {
      await bobLine.getByTestId('tl-propose-kind').selectOption('pay')
      await bobLine.getByTestId('tl-propose-amount').fill('25.50')
      await bobLine.getByTestId('tl-propose-memo').fill('firewood')
      await bobLine.getByTestId('tl-propose-submit').click()
    }
    await pay()
    await bobLine.getByTestId('tl-outgoing').waitFor()
    await refreshUntil(ann.page, annLine.getByTestId('tl-accept'), 'ann to receive the payment')
    t.is(await annLine.getByTestId('tl-in-words').innerText(), 'your partner pays you 25.50 CAD (“firewood”)', 'ann reads the payment in words')
    await annLine.getByTestId('tl-reject').click()
    await annLine.getByTestId('tl-reject-reason').fill('wrong week')
    await annLine.getByTestId('tl-reject-send').click()
    await refreshUntil(bob.page, bobLine.locator('[data-status="rejected"]'), 'bob to see the rejection')
    t.ok((await bobLine.getByTestId('tl-outgoing').innerText()).includes('rejected (“wrong week”)'), 'bob sees the signed rejection and its reason')

    await pay()
    await refreshUntil(ann.page, annLine.getByTestId('tl-accept'), 'ann to receive the second payment')
    await annLine.getByTestId('tl-accept').click()
    await annLine.getByTestId('tl-h-2').waitFor()
    await refreshUntil(bob.page, bobLine.getByTestId('tl-h-2'), 'bob to see the accepted payment')

    // both screens: the same signed history and state, the balance from each side
    const [annStates, bobStates] = [await historyStates(annLine), await historyStates(bobLine)]
    t.is(annStates.length, 2, 'two signed updates')
    t.alike(annStates, bobStates, 'identical history: the same state hashes, in the same order')
    t.is(await annLine.getByTestId('tl-head').getAttribute('data-value'), await bobLine.getByTestId('tl-head').getAttribute('data-value'), 'the same head state')
    t.is(await annLine.getByTestId('tl-balance').getAttribute('data-value'), '-2550', 'ann\'s side: she is owed 25.50')
    t.is(await bobLine.getByTestId('tl-balance').getAttribute('data-value'), '2550', 'bob\'s side: he owes 25.50')
    t.is(await annLine.getByTestId('tl-balance').innerText(), 'Your partner owes you 25.50 CAD', 'ann reads who owes whom')
    t.is(await bobLine.getByTestId('tl-balance').innerText(), 'You owe your partner 25.50 CAD', 'bob reads the same balance from his side')
    t.is(await annLine.getByTestId('tl-i-extend').getAttribute('data-value'), await bobLine.getByTestId('tl-i-may-owe').getAttribute('data-value'), 'what ann extends is what bob may owe')
    const words = async (line: Locator): Promise<string[]> => await line.locator('[data-testid="tl-h-words"]').allInnerTexts()
    t.alike(await words(annLine), ['your partner pays you 25.50 CAD (“firewood”)', 'the credit you extend to your partner becomes 100.00 CAD'], 'ann\'s history in words')
    t.alike(await words(bobLine), ['You pay your partner 25.50 CAD (“firewood”)', 'the credit your partner extends to you becomes 100.00 CAD'], 'bob\'s history, the same updates from his side')
    await ann.shot('trustlines-ann')
    t.alike(apps.flatMap((a) => a.errors), [], 'no console or page errors')
  } catch (err) {
    const errors = apps.flatMap((a) => a.errors)
    if (errors.length) t.comment(errors.join('\n'))
    await ann.shot('trustlines-ann-failed').catch(() => {})
    await bob.shot('trustlines-bob-failed').catch(() => {})
    throw err
  }
})
