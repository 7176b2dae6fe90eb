// The phone web app in a real Chromium reaching the desktop through `dispatch relay` (issue 9,
// scope 2): a relay on loopback WebSockets, `dispatch desktop --web --relay <relay ws addr>`, a
// page paired from `pair --web` told to use only `/p2p-circuit` addresses (`?transport=relay`).
// Pairing crosses the relay (the page's first connection to the desktop is `/p2p-circuit`); the
// page then learns the desktop's direct addresses by identify and moves to a direct WebSocket,
// so `$ echo via-relay` runs over whichever of the two is open at that moment. Not shown here: a page that can
// reach the desktop only through the relay for the whole session (core/node.ts now opens sync
// streams on the connection it already has, relayed ones included, because libp2p 3's
// dialProtocol never reuses a limited connection; the core relay tests cover relay-only sync).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromiumUnavailable, launchChromium } from '../../core/e2e/chromium.ts'
import type { LaunchedChromium } from '../../core/e2e/chromium.ts'
import { decodeInvite } from '../../core/index.ts'
import { DispatchProcess } from '../e2e/cli-process.ts'
import { MOBILE } from './web-fixture.ts'

const test = suite('web app through a circuit relay')
const skipped = chromiumUnavailable()

let launching: Promise<LaunchedChromium> | undefined
let root: string
const running: DispatchProcess[] = []
const track = (p: DispatchProcess): DispatchProcess => { running.push(p); return p }

test.after(async () => {
  for (const p of running) await p.stop()
  await (await launching?.catch(() => undefined))?.close()
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

/** `data-via` / `data-via-log` lines ("<peerId> <remote multiaddr>") for `peer`. */
function addrsOf (lines: string | null, peer: string): string[] {
  return (lines ?? '').split('\n').filter(l => l.startsWith(`${peer} `)).map(l => l.slice(peer.length + 1))
}

if (skipped !== null) {
  console.log(`SKIPPED web relay test: ${skipped}`)
  test.skip(`web app through a relay (skipped: ${skipped})`, () => {})
} else {
  test('pairs from `pair --web` through `dispatch relay` (first connection relayed), then runs `$ echo via-relay`', async () => {
    const started = Date.now()
    root = await mkdtemp(join(tmpdir(), 'dispatch-web-relay-'))
    const home = join(root, 'desktop')
    await mkdir(join(root, 'work'))
    launching = launchChromium()
    const relay = track(new DispatchProcess(join(root, 'relay'), ['relay', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--json']))
    const relayReady = await relay.waitFor(l => l.event === 'ready')
    const relayAddr = (relayReady.addrs as string[]).find(a => a.includes('/ws/'))
    assert.ok(relayAddr?.startsWith('/ip4/127.0.0.1/tcp/'), JSON.stringify(relayReady.addrs))
    const desktop = track(new DispatchProcess(home, [
      'desktop', '--web', '--web-port', '0', '--name', 'relayed-desktop', '--executor', 'shell',
      '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--listen', '/ip4/127.0.0.1/udp/0/webrtc-direct',
      '--relay', String(relayAddr), '--terminal', '--allow', join(root, 'work'), '--json'
    ], { DISPATCH_MDNS: '0' }))
    const ready = await desktop.waitFor(l => l.event === 'ready', 90_000)
    const desktopId = String(ready.peerId)
    const wsPort = (ready.addrs as string[]).map(a => /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)\/ws\//.exec(a)?.[1]).find(p => p !== undefined)
    assert.ok(wsPort !== undefined, JSON.stringify(ready.addrs))
    const chromium = await launching

    const context = await chromium.context(MOBILE)
    try {
      // The desktop lists its relayed address a moment after its reservation: until then an invite has none.
      let pair: DispatchProcess | undefined
      let link = ''
      for (let i = 0; i < 40 && link === ''; i++) {
        const p = track(new DispatchProcess(home, ['pair', '--web', '--yes', '--json']))
        const shown = await p.waitFor(l => l.event === 'invite')
        if (decodeInvite(String(shown.invite)).addrs.some(a => a.toString().includes('/p2p-circuit'))) {
          pair = p
          link = String(shown.link)
        } else {
          await p.stop()
          await new Promise(resolve => setTimeout(resolve, 250))
        }
      }
      assert.ok(pair !== undefined, 'the desktop never listed a relayed address in its invite')
      const page = await context.newPage()
      page.on('pageerror', err => { console.log(`  [page error] ${err.message}`) })
      const t0 = Date.now()
      await page.goto(link.replace('/#', '/?transport=relay#'))
      await page.waitForSelector('body[data-paired="1"]', { timeout: 30_000 })
      await pair.waitFor(l => l.event === 'paired')
      assert.is(await pair.exited, 0)
      await page.waitForSelector('#conn.on', { timeout: 20_000 })
      const paired = Date.now()

      await page.fill('#text', '$ echo via-relay')
      await page.click('#add button[type="submit"]')
      const done = page.locator('.task[data-status="done"]', { hasText: 'via-relay' })
      await done.waitFor({ timeout: 30_000 })
      assert.match(await done.locator('.result').innerText(), 'via-relay')
      const ran = Date.now()

      const body = page.locator('body')
      const ever = addrsOf(await body.getAttribute('data-via-log'), desktopId)
      const open = addrsOf(await body.getAttribute('data-via'), desktopId)
      const relayed = (a: string): boolean => a.includes(`/ws/p2p/${String(relayReady.peerId)}/p2p-circuit`)
      // Pairing crossed the relay: the page's first connection to the desktop is the relayed one.
      assert.ok(ever.length > 0 && relayed(ever[0]), `connections the page opened to the desktop: ${JSON.stringify(ever)}`)
      // The task crossed on whichever connection was open: the relayed one (sync streams now open
      // on the connection already there), or the direct WebSocket the page dials once identify
      // tells it the desktop's addresses (core/node.ts then lets the relayed one go).
      assert.ok(open.length > 0 && open.every(a => relayed(a) || a.startsWith(`/ip4/127.0.0.1/tcp/${String(wsPort)}/ws`)), `open connections to the desktop when the task was done: ${JSON.stringify(open)}`)
      const via = open.every(relayed) ? 'the relay' : 'the direct WebSocket'
      console.log(`  first connection relayed; task done over ${via}: ${JSON.stringify(ever)}; paired in ${paired - t0} ms, task done in ${ran - paired} ms, ${Date.now() - started} ms in all`)
    } finally {
      await context.close()
    }
  })
}

test.run()
