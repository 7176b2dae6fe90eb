// Test helper: launch Debian's Chromium through playwright-core (no browser downloads),
// or say exactly why browser tests must be skipped. Network stays on loopback.

import { existsSync } from 'node:fs'
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  // WebRTC: gather host candidates on loopback only, never on other interfaces, and no mDNS-obfuscated names.
  '--force-webrtc-ip-handling-policy=default_public_and_private_interfaces',
  '--webrtc-ip-handling-policy=default_public_and_private_interfaces',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--allow-loopback-in-peer-connection'
]

export interface LaunchedChromium {
  browser: Browser
  /** A fresh context (own storage) with the given options. */
  context: (options?: BrowserContextOptions) => Promise<BrowserContext>
  close: () => Promise<void>
}

/** Why browser tests cannot run here, or null when Chromium is available. */
export function chromiumUnavailable (): string | null {
  if (!existsSync(CHROMIUM_PATH)) return `Chromium not found at ${CHROMIUM_PATH} (install the Debian package: apt-get install -y chromium, or set CHROMIUM_PATH)`
  return null
}

/**
 * Launch Chromium; `launch()` gives it a fresh temporary user-data-dir, removed on close. `args`: extra flags;
 * `executablePath`: a wrapper that runs CHROMIUM_PATH another way (in a network namespace, say).
 */
export async function launchChromium (args: string[] = [], executablePath = CHROMIUM_PATH): Promise<LaunchedChromium> {
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({ executablePath, args: [...FLAGS, ...args], timeout: 60_000 })
  return {
    browser,
    context: async (options = {}) => await browser.newContext(options),
    close: async () => {
      // Test teardown: a browser that already went away is closed enough.
      await browser.close().catch(() => {})
    }
  }
}
