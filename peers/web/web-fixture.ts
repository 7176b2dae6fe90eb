// What the browser tests of the phone web app share: a phone-sized Chromium context, a real
// `dispatch desktop --web` on loopback, and a page paired with it from the link `dispatch pair
// --web` prints, exactly as a person would open it.

import type { BrowserContext, Page } from 'playwright-core'
import { DispatchProcess } from '../e2e/cli-process.ts'

/** A phone: 390×844 CSS pixels at 2×, touch. */
export const MOBILE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }

export interface WebDesktopOptions {
  name: string
  /** Folder the desktop may work in (`--allow`). */
  work: string
  /** Extra flags (`--executor shell`, `--terminal`, more `--listen`…). */
  flags?: string[]
  env?: Record<string, string>
}

/** `dispatch desktop --web` in `home` on a free web port, WebSockets on loopback, no mDNS; resolves at its ready line. */
export async function startWebDesktop (home: string, options: WebDesktopOptions): Promise<{ desktop: DispatchProcess, ready: any, webUrl: string }> {
  const desktop = new DispatchProcess(home, [
    'desktop', '--web', '--web-port', '0', '--name', options.name,
    '--listen', '/ip4/127.0.0.1/tcp/0/ws', ...(options.flags ?? []), '--allow', options.work, '--json'
  ], { DISPATCH_MDNS: '0', ...options.env })
  const ready = await desktop.waitFor(l => l.event === 'ready', 90_000)
  return { desktop, ready, webUrl: String(ready.web[0]) }
}

/**
 * A new page of `context` paired with the desktop of `home`: it opens the link of `dispatch pair
 * --web` (with `?transport=` to pick WebSockets or WebRTC-direct) and waits until the desktop
 * says paired and the page is connected.
 */
export async function openPairedPage (context: BrowserContext, home: string, transport = 'ws'): Promise<{ page: Page, link: string, invite: string }> {
  const pair = new DispatchProcess(home, ['pair', '--web', '--yes', '--json'])
  const { link, invite } = await pair.waitFor(l => l.event === 'invite')
  const page = await context.newPage()
  page.on('pageerror', err => { console.log(`  [page error] ${err.message}`) })
  await page.goto(String(link).replace('/#', `/?transport=${transport}#`))
  await page.waitForSelector('body[data-paired="1"]', { timeout: 30_000 })
  await pair.waitFor(l => l.event === 'paired')
  const code = await pair.exited
  if (code !== 0) throw new Error(`dispatch pair exited with ${String(code)}`)
  await page.waitForSelector('#conn.on', { timeout: 20_000 })
  return { page, link: String(link), invite: String(invite) }
}

/** Type `text` into the add form and submit it, as a tap on Add does. */
export async function addTask (page: Page, text: string): Promise<void> {
  await page.fill('#text', text)
  await page.click('#add button[type="submit"]')
}
