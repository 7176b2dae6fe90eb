// The phone web app as a person holds it (Chromium at 390×844 against a real `dispatch desktop
// --web`): tap targets of at least 44 px, every field labelled, tab semantics, Ctrl+Enter adds,
// "sent" only once the desktop acknowledged the task, live output while a command runs, device
// names in the log, dark mode from the system, a finished task's notification through the
// service worker, screenshots light and dark (WEB_SCREENSHOT_DIR=peers/web writes the README's).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { chromiumUnavailable, launchChromium } from '../../core/e2e/chromium.ts'
import type { LaunchedChromium } from '../../core/e2e/chromium.ts'
import type { DispatchProcess } from '../e2e/cli-process.ts'
import { MOBILE, addTask, openPairedPage, startWebDesktop } from './web-fixture.ts'

const test = suite('web app UX in Chromium')
const skipped = chromiumUnavailable()

let chromium: LaunchedChromium
let root: string
let home: string
let desktop: DispatchProcess
let context: BrowserContext
let page: Page

test.before(async () => {
  if (skipped !== null) return
  root = await mkdtemp(join(tmpdir(), 'dispatch-web-ux-'))
  home = join(root, 'desktop')
  await mkdir(join(root, 'work'))
  const launched = launchChromium()
  ;({ desktop } = await startWebDesktop(home, { name: 'studio', work: join(root, 'work'), flags: ['--executor', 'shell', '--terminal'] }))
  chromium = await launched
  context = await chromium.context({ ...MOBILE, permissions: ['notifications'] })
  ;({ page } = await openPairedPage(context, home))
})

test.after(async () => {
  if (skipped !== null) return
  desktop?.child.kill('SIGCONT')
  await context?.close()
  await desktop?.stop()
  await chromium?.close()
  await rm(root, { recursive: true, force: true })
})

const card = (text: string) => page.locator('.task', { has: page.locator('.text', { hasText: text }) })

/** Every visible control smaller than 44×44 CSS px, as "what: w×h". */
async function smallTargets (): Promise<string[]> {
  return await page.evaluate(() => {
    const small: string[] = []
    for (const el of document.querySelectorAll<HTMLElement>('button, input, select, textarea, summary, [role="tab"], a[href]')) {
      const r = el.getBoundingClientRect()
      if (r.width === 0 || r.height === 0) continue // not shown
      if (r.width < 44 || r.height < 44) small.push(`${el.tagName.toLowerCase()}${el.id !== '' ? '#' + el.id : ''}.${el.className} "${(el.textContent ?? '').trim().slice(0, 20)}": ${Math.round(r.width)}×${Math.round(r.height)}`)
    }
    return small
  })
}

/** Visible fields without a label (a <label>, aria-label or aria-labelledby). */
async function unlabelled (): Promise<string[]> {
  return await page.evaluate(() => {
    const out: string[] = []
    for (const el of document.querySelectorAll<HTMLInputElement>('input, select, textarea')) {
      if (el.getBoundingClientRect().width === 0) continue
      const labelled = (el.labels?.length ?? 0) > 0 || (el.getAttribute('aria-label') ?? '') !== '' || el.hasAttribute('aria-labelledby')
      if (!labelled) out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className}`)
    }
    return out
  })
}

if (skipped !== null) {
  console.log(`SKIPPED web app UX tests: ${skipped}`)
  test.skip(`web app UX in Chromium (skipped: ${skipped})`, () => {})
} else {
  test('Ctrl+Enter adds; "sent" appears only once the desktop acknowledged the task', async () => {
    desktop.child.kill('SIGSTOP') // connected, but nobody acknowledges
    try {
      await page.fill('#text', '$ echo receipt-check')
      await page.press('#text', 'Control+Enter')
      await page.locator('.notice', { hasText: 'Task queued for studio; sending…' }).waitFor({ timeout: 20_000 })
      await page.locator('.notice', { hasText: 'Task queued: it will be sent when the desktop is reachable' }).waitFor({ timeout: 20_000 })
      assert.is(await page.locator('.notice', { hasText: 'Task sent' }).count(), 0, 'not "sent" before the receipt')
      assert.match(await card('receipt-check').locator('.receipt').innerText(), 'not yet received')
    } finally {
      desktop.child.kill('SIGCONT')
    }
    await page.locator('.notice', { hasText: 'Task sent: studio has it' }).waitFor({ timeout: 30_000 })
    await page.locator('.task[data-status="done"]', { hasText: 'receipt-check' }).waitFor({ timeout: 30_000 })
    assert.is(await card('receipt-check').locator('.receipt').count(), 0)
    assert.is(await page.inputValue('#text'), '', 'the text went once the task was saved')
  })

  test('live output while a command runs (it waits on a file the test makes after seeing its first line); names, not peer ids, in the log', async () => {
    const gate = join(root, 'gate')
    await addTask(page, `$ echo live-first; while [ ! -f '${gate}' ]; do sleep 0.1; done; echo live-last`)
    const running = card('live-first').and(page.locator('.task[data-status="running"]'))
    await running.locator('.live', { hasText: 'live-first' }).waitFor({ timeout: 30_000 })
    await writeFile(gate, '')
    const done = page.locator('.task[data-status="done"]', { hasText: 'live-last' })
    await done.waitFor({ timeout: 30_000 })
    await done.locator('summary.open-detail').click()
    const log = await done.locator('pre.log').innerText()
    assert.match(log, 'output: live-first')
    assert.match(log, 'claimed by "studio"')
    const desktopId = await page.evaluate(() => [...document.querySelectorAll('#devices li')].map(li => li.getAttribute('data-id')).find(id => id !== document.body.dataset.peer))
    assert.ok(desktopId !== undefined && desktopId !== null)
    assert.not.match(log, desktopId!, 'no peer id where the name is known')
  })

  test('tap targets are at least 44 px, fields are labelled, tabs have tab semantics (both tabs)', async () => {
    await addTask(page, '$ printf "a long line of output %.0s" $(seq 1 40)')
    await page.locator('.task[data-status="done"]', { hasText: 'a long line' }).first().waitFor({ timeout: 30_000 })
    assert.equal(await smallTargets(), [], 'tasks tab')
    assert.equal(await unlabelled(), [], 'tasks tab')
    assert.is(await page.locator('nav[role="tablist"] [role="tab"]').count(), 2)
    assert.is(await page.getAttribute('#tab-tasks', 'aria-selected'), 'true')
    assert.is(await page.getAttribute('#tasks-tab', 'role'), 'tabpanel')
    await page.click('#tab-devices')
    assert.is(await page.getAttribute('#tab-devices', 'aria-selected'), 'true')
    assert.is(await page.getAttribute('#tab-tasks', 'aria-selected'), 'false')
    assert.ok(await page.locator('#devices-tab').isVisible())
    assert.not.ok(await page.locator('#tasks-tab').isVisible())
    assert.equal(await smallTargets(), [], 'devices tab')
    await page.press('#tab-devices', 'ArrowLeft')
    assert.is(await page.getAttribute('#tab-tasks', 'aria-selected'), 'true')
    // A long result is clamped on the card and shown whole in its detail.
    const long = page.locator('.task[data-status="done"]', { hasText: 'a long line' }).first()
    // Waited for, not read once: the card can be drawn before its result has its full height.
    const clamped = await page.waitForFunction(() => {
      const result = [...document.querySelectorAll('.task[data-status="done"]')].find(t => t.textContent?.includes('a long line'))?.querySelector('.result')
      return result !== null && result !== undefined && result.scrollHeight > result.clientHeight
    }, null, { timeout: 15_000 }).then(() => true, () => false)
    assert.ok(clamped, 'the long result is clamped')
    await long.locator('summary.open-detail').click()
    await page.locator('.task.open', { hasText: 'a long line' }).waitFor()
    const whole = await page.locator('.task.open', { hasText: 'a long line' }).locator('.result').evaluate(el => el.scrollHeight <= el.clientHeight + 1 || getComputedStyle(el).overflowY === 'auto')
    assert.ok(whole, 'open: the clamp is off')
    assert.equal(await smallTargets(), [], 'an open card')
  })

  test('dark mode follows the system; screenshots at 390×844 light and dark', async () => {
    const dir = process.env.WEB_SCREENSHOT_DIR ?? root
    // The list as it usually looks: cards compact, notices gone.
    for (let open = await page.locator('.task.open').count(); open > 0; open = await page.locator('.task.open').count()) {
      await page.locator('.task.open summary.open-detail').first().click()
      await page.waitForFunction(n => document.querySelectorAll('.task.open').length < n, open, { timeout: 10_000 })
    }
    await page.waitForSelector('#notices:empty', { state: 'attached', timeout: 20_000 })
    await page.emulateMedia({ colorScheme: 'light' })
    await page.evaluate(() => { window.scrollTo(0, 0) })
    const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    await page.screenshot({ path: join(dir, 'screenshot-light.png') })
    await page.emulateMedia({ colorScheme: 'dark' })
    const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    const card = await page.evaluate(() => getComputedStyle(document.querySelector('.task')!).backgroundColor)
    await page.screenshot({ path: join(dir, 'screenshot-dark.png') })
    assert.is(light, 'rgb(244, 245, 248)')
    assert.is(dark, 'rgb(16, 19, 25)')
    assert.is(card, 'rgb(27, 32, 41)')
    await page.emulateMedia({ colorScheme: 'light' })
  })

  test('a task that finishes while the page is in the background raises a notification through the service worker', async () => {
    await page.evaluate(async () => { await navigator.serviceWorker.ready })
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { value: true, configurable: true })
      document.dispatchEvent(new Event('visibilitychange'))
    })
    await addTask(page, '$ echo notify-me')
    await page.locator('.task[data-status="done"]', { hasText: 'notify-me' }).waitFor({ timeout: 30_000 })
    const shownNow = async () => await page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map(n => ({ title: n.title, body: n.body, tag: n.tag })))
    const deadline = Date.now() + 20_000
    let shown = await shownNow()
    while (!shown.some(n => n.title.includes('notify-me'))) {
      if (Date.now() > deadline) throw new Error(`no notification for the task; shown: ${JSON.stringify(shown)}`)
      await page.waitForTimeout(200)
      shown = await shownNow()
    }
    const note = shown.find(n => n.title.includes('notify-me'))!
    assert.match(note.title, /^Task done: \$ echo notify-me/)
    assert.is(note.body, 'notify-me')
    assert.match(note.tag, /^[0-9A-Z]{26}$/, 'tagged with the task id')
    await page.evaluate(() => { Object.defineProperty(document, 'hidden', { value: false, configurable: true }) })
  })
}

test.run()
