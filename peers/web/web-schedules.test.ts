// Schedules in the phone web app, in a real Chromium from a non-localhost origin
// (http://phone.lan:PORT, not a secure context) against `dispatch desktop --web`: add a task
// with "Every 2s", the list shows the schedule with its next run, its runs come back done,
// Pause and Delete reach the desktop (read there through `dispatch schedules`).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromiumUnavailable, launchChromium } from '../../core/e2e/chromium.ts'
import type { LaunchedChromium } from '../../core/e2e/chromium.ts'
import { DispatchProcess, ok } from '../e2e/cli-process.ts'
import { MOBILE, startWebDesktop } from './web-fixture.ts'

const test = suite('schedules in the web app')
const skipped = chromiumUnavailable()

let chromium: LaunchedChromium
let root: string
let home: string
let desktop: DispatchProcess
let webUrl: string

test.before(async () => {
  if (skipped !== null) return
  root = await mkdtemp(join(tmpdir(), 'dispatch-web-sched-'))
  home = join(root, 'desktop')
  await mkdir(join(root, 'work'))
  const launched = launchChromium(['--host-resolver-rules=MAP phone.lan 127.0.0.1'])
  ;({ desktop, webUrl } = await startWebDesktop(home, { name: 'test-desktop', work: join(root, 'work'), flags: ['--executor', 'shell', '--terminal'] }))
  chromium = await launched
})

test.after(async () => {
  if (skipped !== null) return
  await desktop?.stop()
  await chromium?.close()
  await rm(root, { recursive: true, force: true })
})

/** The desktop's own view of its schedules (over its control socket). */
async function desktopSchedules (): Promise<any[]> {
  return (await ok(home, ['schedules', '--json']))[0]
}

async function until<T> (read: () => Promise<T>, test: (v: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await read()
    if (test(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`)
    await new Promise(resolve => setTimeout(resolve, 300))
  }
}

if (skipped !== null) {
  console.log(`SKIPPED web schedule tests: ${skipped}`)
  test.skip(`schedules in the web app (skipped: ${skipped})`, () => {})
} else {
  test('add every 2s from the page: listed with its next run, runs come back done; pause and delete reach the desktop', async () => {
    const context = await chromium.context(MOBILE)
    try {
      const pair = new DispatchProcess(home, ['pair', '--web', '--yes', '--json'])
      const { link } = await pair.waitFor(l => l.event === 'invite')
      const origin = String(link).replace('://127.0.0.1:', '://phone.lan:')
      assert.match(origin, /^http:\/\/phone\.lan:\d+\/#DISPATCH1:/)
      const page = await context.newPage()
      page.on('pageerror', err => { console.log(`  [page error] ${err.message}`) })
      page.on('dialog', dialog => { void dialog.accept() })
      await page.goto(origin.replace('/#', '/?transport=ws#'))
      await page.waitForSelector('body[data-paired="1"]', { timeout: 30_000 })
      await pair.waitFor(l => l.event === 'paired')
      await pair.exited
      assert.is(await page.evaluate(() => window.isSecureContext), false, 'not a secure context')
      await page.waitForSelector('#conn.on', { timeout: 20_000 })

      await page.fill('#text', '$ echo sched-web')
      await page.selectOption('#when', 'every')
      await page.fill('#when-value', '2s')
      await page.click('#add button[type="submit"]')
      const card = page.locator('.schedule', { hasText: 'sched-web' })
      await card.waitFor({ timeout: 20_000 })
      assert.is(await card.locator('.when').innerText(), 'every 2s')
      assert.match(await card.locator('.next').innerText(), /^next \S/)
      // The desktop runs it; the runs come back to the page as tasks.
      await page.waitForFunction(() => [...document.querySelectorAll('.task[data-status="done"] .result')].filter(e => e.textContent?.includes('sched-web')).length >= 2, null, { timeout: 45_000 })
      await card.locator('.last', { hasText: /: (done|running|claimed|queued)/ }).waitFor({ timeout: 20_000 })
      if (process.env.WEB_SCREENSHOT !== undefined) await page.screenshot({ path: process.env.WEB_SCREENSHOT })

      await card.locator('button.pause').click()
      await page.locator('.schedule[data-paused="1"]', { hasText: 'sched-web' }).waitFor({ timeout: 20_000 })
      assert.is(await card.locator('.next').innerText(), 'paused')
      await until(desktopSchedules, list => list.length === 1 && list[0].paused === true, 'the pause on the desktop')

      await card.locator('button.delete').click()
      await page.waitForSelector('#schedules-box[hidden]', { state: 'attached', timeout: 20_000 })
      await until(desktopSchedules, list => list.length === 0, 'the delete on the desktop')
    } finally {
      await context.close()
    }
  })
}

test.run()
