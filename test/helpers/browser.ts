/**
 * Browser tests: Debian's Chromium driven by playwright-core (never a downloaded browser), the UI
 * bundle built once per run, headless hosts on a local HyperDHT testnet, and pages that record
 * every console error and page error so a test can fail on them. Everything started here is torn
 * down by the test's teardown: pages and browser first, then hosts, then the testnet.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { decodeQR } from '@paulmillr/qr/decode.js'
import type { Assertion } from 'brittle'
import { startHost, type Host, type HostOptions } from '../../app/host/server.ts'
import { buildUi, needsBuild } from '../../app/host/ui-build.ts'
import { tmpDir } from './net.ts'

export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const UI_DIR = path.join(REPO, 'ui')
export const UI_DIST = path.join(UI_DIR, 'dist')
export const SHOTS = path.join(REPO, 'test-output', 'screenshots')
export const CHROMIUM = process.env.GROWR_CHROMIUM ?? '/usr/bin/chromium'

/** Flags that keep Chromium off the network and working without a GPU or sandbox (shared STACK.md). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

/** Builds ui/dist when it is missing or older than a source file under ui/. */
export async function ensureUiBuilt (): Promise<string> {
  if (needsBuild(UI_DIR)) await buildUi(REPO)
  return UI_DIST
}

/** Launches Chromium; closed in teardown before anything else this file started. */
export async function launchBrowser (t: Assertion): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set GROWR_CHROMIUM)`)
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })
  t.teardown(() => browser.close(), { order: -3 })
  return browser
}

/** A local testnet on 127.0.0.1 (3 DHT nodes), destroyed after the hosts. */
export async function startTestnet (t: Assertion): Promise<Testnet> {
  const testnet = await createTestnet(3, { host: '127.0.0.1' })
  t.teardown(() => testnet.destroy(), { order: 1 })
  return testnet
}

/**
 * A headless host (app/host/server.ts) on a fresh storage directory, bootstrapped on `testnet`,
 * serving the built UI. Its worker's log lines go to `log` (printed when the test fails).
 */
export async function startTestHost (t: Assertion, testnet: Testnet, name: string, opts: Partial<HostOptions> = {}): Promise<Host> {
  const log: string[] = []
  const host = await startHost({
    storage: tmpDir(t, `growr-ui-${name}-`),
    bootstrap: testnet.bootstrap,
    uiDir: UI_DIST,
    port: 0,
    onLog: (line) => { log.push(line) },
    ...opts
  })
  t.teardown(async () => {
    await host.close()
    if (process.env.GROWR_TEST_LOGS) for (const l of log) console.error(`[${name}] ${l}`)
  }, { order: -1 }) // before its storage directory goes
  return host
}

/** Screenshot style: passing notices would cover what the screen shows. */
export const HIDE_TOASTS = '.toasts { display: none !important; }'

export interface AppPage {
  page: Page
  context: BrowserContext
  /** console errors and uncaught page errors seen so far, as text */
  errors: string[]
  /** saves a full-page screenshot as test-output/screenshots/<name>.png */
  shot (name: string): Promise<string>
}

/**
 * Opens the host's URL (with its token) in a fresh browser context of the given viewport and
 * starts recording errors.
 */
export async function openApp (browser: Browser, host: Host, name: string, viewport = { width: 1280, height: 800 }): Promise<AppPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`[${name}] console: ${msg.text()}`) })
  page.on('pageerror', (err) => { errors.push(`[${name}] page: ${err.message}`) })
  await page.goto(host.url)
  fs.mkdirSync(SHOTS, { recursive: true })
  return {
    page,
    context,
    errors,
    async shot (file: string) {
      const out = path.join(SHOTS, file + '.png')
      await page.screenshot({ path: out, fullPage: true, style: HIDE_TOASTS })
      return out
    }
  }
}

/** The `data-value` (full text) of the first element matching `testid` under `scope`. */
export async function fullValue (page: Page, selector: string): Promise<string> {
  const v = await page.locator(selector).first().getAttribute('data-value')
  if (!v) throw new Error(`no data-value on ${selector}`)
  return v
}

/**
 * Reads the QR code an `<svg>` on the page shows, as a phone would: the page rasterises the SVG
 * exactly as drawn (via an <img> onto a canvas, 4 px per module), and @paulmillr/qr's decoder reads
 * the pixels here. Throws when there is no such SVG or nothing decodes.
 * @returns the decoded text and the number of dark runs (`<rect>`s) the SVG draws
 */
export async function readQr (page: Page, selector: string): Promise<{ text: string; rects: number }> {
  // a string, not a function: the test runner's transpiler may add helpers the page does not have
  const out = await page.evaluate(`(async () => {
    const svg = document.querySelector(${JSON.stringify(selector)})
    if (!svg || svg.tagName.toLowerCase() !== 'svg') throw new Error('no QR svg at ' + ${JSON.stringify(selector)})
    const size = svg.viewBox.baseVal.width * 4
    const img = new Image()
    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(new XMLSerializer().serializeToString(svg))
    await img.decode()
    const canvas = document.createElement('canvas')
    canvas.width = size
    canvas.height = size
    const ctx = canvas.getContext('2d')
    ctx.imageSmoothingEnabled = false
    ctx.drawImage(img, 0, 0, size, size)
    return { size, rects: svg.querySelectorAll('g rect').length, data: Array.from(ctx.getImageData(0, 0, size, size).data) }
  })()`) as { size: number; rects: number; data: number[] }
  return { text: decodeQR({ width: out.size, height: out.size, data: Uint8Array.from(out.data) }), rects: out.rects }
}

/** Creates an identity on the onboarding screen and starts in `role` (its screen shown). @returns the DID shown */
export async function onboard (app: AppPage, role: 'originator' | 'borrower' | 'investor' | 'credentials'): Promise<string> {
  const { page } = app
  await page.getByTestId('onboard-create').click()
  const did = (await page.getByTestId('onboard-did').textContent())?.trim() ?? ''
  await page.getByTestId('start-' + role).click()
  await page.getByTestId('screen-' + role).waitFor()
  return did
}
