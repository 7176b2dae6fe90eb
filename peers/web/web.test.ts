// The phone web app in a real Chromium (390×844, mobile) against the real CLI on loopback:
// `dispatch desktop --web` serves the app and runs `$ ` tasks, `dispatch pair --web` gives the
// link. Pair from the link, add `$ echo hi` ("sent" once the desktop acknowledged it), see it
// done with its result; over WebSockets and over WebRTC-direct; offline adds ("queued", not
// "sent") survive a reopen and sync later (the page finds the desktop again from its IndexedDB
// address book); notification; revocation.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { chromiumUnavailable, launchChromium } from '../../core/e2e/chromium.ts'
import type { LaunchedChromium } from '../../core/e2e/chromium.ts'
import { DispatchProcess, dispatch, ok } from '../e2e/cli-process.ts'
import { listenHosts, webListenAddrs } from './web-server.ts'
import { MOBILE, addTask, openPairedPage, startWebDesktop } from './web-fixture.ts'

const test = suite('web app in Chromium')
const skipped = chromiumUnavailable()

let chromium: LaunchedChromium
let root: string
let home: string
let desktop: DispatchProcess
let webUrl: string

test.before(async () => {
  if (skipped !== null) return
  root = await mkdtemp(join(tmpdir(), 'dispatch-web-'))
  home = join(root, 'desktop')
  await mkdir(join(root, 'work'))
  const launched = launchChromium()
  // Builds peers/web/dist first when it is missing or older than its sources.
  ;({ desktop, webUrl } = await startWebDesktop(home, { name: 'test-desktop', work: join(root, 'work'), flags: ['--executor', 'shell', '--listen', '/ip4/127.0.0.1/udp/0/webrtc-direct', '--terminal'] }))
  assert.match(webUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  chromium = await launched
})

test.after(async () => {
  if (skipped !== null) return
  desktop?.child.kill('SIGCONT')
  await desktop?.stop()
  await chromium?.close()
  await rm(root, { recursive: true, force: true })
})

async function pairedPage (context: BrowserContext, transport: string): Promise<Page> {
  const { page, link, invite } = await openPairedPage(context, home, transport)
  assert.is(link, `${webUrl}#${invite}`)
  assert.not.ok(page.url().includes('DISPATCH1'), 'the invite is dropped from the address bar')
  return page
}

async function runsEcho (transport: string, screenshot?: string): Promise<void> {
  const context = await chromium.context(MOBILE)
  try {
    const page = await pairedPage(context, transport)
    await addTask(page, `$ echo hi-${transport}`)
    // "Sent" means the desktop acknowledged it (the receipt `dispatch add` waits for), as on the CLI.
    await page.locator('.notice', { hasText: 'Task sent: test-desktop has it' }).waitFor({ timeout: 20_000 })
    const done = page.locator('.task[data-status="done"]', { hasText: `hi-${transport}` })
    await done.waitFor({ timeout: 30_000 })
    assert.match(await done.locator('.result').innerText(), `hi-${transport}`)
    if (screenshot !== undefined) await page.screenshot({ path: screenshot })
  } finally {
    await context.close()
  }
}

if (skipped !== null) {
  console.log(`SKIPPED web app tests: ${skipped}`)
  test.skip(`web app in Chromium (skipped: ${skipped})`, () => {})
} else {
  test('pairs from an invite link over WebSockets, adds `$ echo hi`, shows it done with the result (390×844 screenshot)', async () => {
    await runsEcho('ws', process.env.WEB_SCREENSHOT ?? join(root, 'screenshot.png'))
  })

  test('the same over WebRTC-direct (loopback ICE, no ICE servers)', async () => {
    await runsEcho('webrtc')
  })

  test('offline: two tasks added offline survive closing the page, then sync and run when back online; a notification is raised', async () => {
    const context = await chromium.context({ ...MOBILE, permissions: ['notifications'] })
    try {
      let page = await pairedPage(context, 'ws')
      const url = page.url()
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready.then(() => true), null, { timeout: 15_000 })
      await page.evaluate(async () => { await navigator.serviceWorker.ready })
      await page.reload() // controlled by the service worker from now on
      await page.waitForSelector('body[data-ready="1"]')
      desktop.child.kill('SIGSTOP') // the desktop is unreachable as far as the page is concerned
      await context.setOffline(true)
      await addTask(page, '$ echo offline-one')
      // Saved on the page, not sent: nobody acknowledged it.
      await page.locator('.notice', { hasText: 'Task queued: it will be sent when the desktop is reachable' }).waitFor({ timeout: 20_000 })
      assert.is(await page.locator('.notice', { hasText: 'Task sent' }).count(), 0)
      await addTask(page, '$ echo offline-two')
      await page.locator('.task', { hasText: 'offline-two' }).waitFor()
      await page.close()
      page = await context.newPage()
      await page.goto(url)
      await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 })
      assert.is(await page.locator('.task[data-status="queued"]', { hasText: 'offline-' }).count(), 2)
      // The page is in the background when the results come back.
      await page.evaluate(() => {
        Object.defineProperty(document, 'hidden', { value: true, configurable: true })
        document.dispatchEvent(new Event('visibilitychange'))
      })
      desktop.child.kill('SIGCONT')
      await context.setOffline(false)
      for (const text of ['offline-one', 'offline-two']) {
        await page.locator('.task[data-status="done"]', { hasText: text }).locator('.result', { hasText: text }).waitFor({ timeout: 45_000 })
      }
      // Shown by the service worker (registration.showNotification), as Chrome on Android requires.
      await page.waitForFunction(async () => (await (await navigator.serviceWorker.ready).getNotifications()).some(n => n.title.includes('done') && n.title.includes('offline-')), null, { timeout: 15_000, polling: 200 })
    } finally {
      desktop.child.kill('SIGCONT')
      await context.close()
    }
  })

  test('pair --web needs a desktop serving the app; --web adds the browser transports on the --listen host', async () => {
    const r = await dispatch(join(root, 'no-web'), ['pair', '--web', '--yes', '--listen', '/ip4/127.0.0.1/tcp/0'])
    assert.is.not(r.code, 0)
    assert.match(r.stderr, 'dispatch desktop --web')
    assert.equal(webListenAddrs(['/ip4/127.0.0.1/tcp/0']), ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/udp/0/webrtc-direct'])
    assert.equal(listenHosts(['/ip4/0.0.0.0/tcp/4317', '/ip4/127.0.0.1/tcp/0/ws']), ['0.0.0.0'])
  })

  test('a revoked browser device is refused and the page says so', async () => {
    const context = await chromium.context(MOBILE)
    try {
      const page = await pairedPage(context, 'ws')
      const peer = await page.evaluate(() => document.body.dataset.peer)
      await ok(home, ['revoke', String(peer), '--json'])
      await page.waitForSelector('#refusal:not([hidden])', { timeout: 30_000 })
      assert.match(await page.locator('#refusal').innerText(), /revoked/)
      await page.reload() // a reopened page still knows, although the desktop now refuses it at the gate
      await page.waitForSelector('#refusal:not([hidden])', { timeout: 30_000 })
      assert.match(await page.locator('#refusal').innerText(), /revoked/)
    } finally {
      await context.close()
    }
  })
}

test.run()
