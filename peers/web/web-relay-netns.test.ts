// The phone web app away from home (issue 12, item 3), across real network boundaries: three
// network namespaces, "net" (the relay and a static HTTPS host for the app), "desk" (the desktop)
// and "phone" (Chromium). desk and phone each reach only net, which does not forward between them,
// so the desktop's own addresses are unreachable from the phone. The page, opened from an HTTPS
// origin (not the desktop's), dials the relay over WebRTC-direct (no CA certificate: the page
// checks the certhash) and the desktop through `/p2p-circuit`; it pairs and `$ echo` completes.
// Needs root, `ip netns` and Chromium; otherwise the test is reported as skipped, with the reason.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CHROMIUM_PATH, chromiumUnavailable, launchChromium } from '../../core/e2e/chromium.ts'
import type { LaunchedChromium } from '../../core/e2e/chromium.ts'
import { makeTestCertificate } from '../../core/e2e/test-certificate.ts'
import { decodeInvite } from '../../core/index.ts'
import { isRelayedAddr, transportOf } from '../../core/net/multiaddrs.ts'
import { DispatchProcess } from '../e2e/cli-process.ts'
import { JsonLinesProcess } from '../e2e/json-lines-process.ts'
import { ensureWebBuilt } from './web-server.ts'
import { MOBILE } from './web-fixture.ts'

const test = suite('web app away from home: through the relay over WebRTC-direct, across namespaces')
const APP_HOST = 'app.example'

const tag = `w${process.pid % 100000}`
const ns = { net: `${tag}-net`, desk: `${tag}-desk`, phone: `${tag}-phone` }
const exec = (name: string): string[] => ['ip', 'netns', 'exec', name]
// desk <-> net on 10.79.1.0/24, phone <-> net on 10.79.2.0/24 (relay-netns.test.ts uses 10.77).
const NET = { desk: '10.79.1', phone: '10.79.2' }

let launching: Promise<LaunchedChromium> | undefined
let root = ''
const running: JsonLinesProcess[] = []
const track = <T extends JsonLinesProcess>(p: T): T => { running.push(p); return p }

function ip (...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Build the three namespaces and two links; the reason it cannot, or null. */
function setUp (): string | null {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`
  if (process.getuid?.() !== 0) return 'not root'
  try {
    for (const name of Object.values(ns)) { ip('netns', 'add', name); ip('-n', name, 'link', 'set', 'lo', 'up') }
    for (const side of ['desk', 'phone'] as const) {
      const a = `${tag}${side[0]}0`
      const b = `${tag}${side[0]}1`
      ip('link', 'add', a, 'netns', ns[side], 'type', 'veth', 'peer', 'name', b, 'netns', ns.net)
      ip('-n', ns[side], 'addr', 'add', `${NET[side]}.2/24`, 'dev', a)
      ip('-n', ns.net, 'addr', 'add', `${NET[side]}.1/24`, 'dev', b)
      ip('-n', ns[side], 'link', 'set', a, 'up')
      ip('-n', ns.net, 'link', 'set', b, 'up')
      ip('-n', ns[side], 'route', 'add', 'default', 'via', `${NET[side]}.1`)
    }
    return null
  } catch (err) {
    tearDown()
    return `ip netns unusable: ${((err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message).trim()}`
  }
}

function tearDown (): void {
  for (const name of Object.values(ns)) { try { ip('netns', 'del', name) } catch {} }
}

const skipped = chromiumUnavailable() ?? setUp()

test.after(async () => {
  for (const p of running) await p.stop()
  await (await launching?.catch(() => undefined))?.close()
  if (skipped === null) tearDown()
  if (root !== '') await rm(root, { recursive: true, force: true })
})

/** `data-via` / `data-via-log` lines ("<peerId> <remote multiaddr>") for `peer`. */
function addrsOf (lines: string | null, peer: string): string[] {
  return (lines ?? '').split('\n').filter(l => l.startsWith(`${peer} `)).map(l => l.slice(peer.length + 1))
}

const name = 'a page on an HTTPS origin, in a namespace that reaches only the relay, pairs with a desktop in another through the relay over WebRTC-direct and runs `$ echo`'
if (skipped !== null) {
  console.log(`SKIPPED web relay across namespaces: ${skipped}`)
  test.skip(`${name} (skipped: ${skipped})`, () => {})
} else {
  test(name, async () => {
    const started = Date.now()
    root = await mkdtemp(join(tmpdir(), 'dispatch-web-away-'))
    await mkdir(join(root, 'work'))
    const built = ensureWebBuilt()
    // Chromium runs in the phone namespace (playwright drives it over a pipe, not the network).
    const chromiumInPhone = join(root, 'chromium-in-phone')
    await writeFile(chromiumInPhone, `#!/bin/sh\nexec ip netns exec ${ns.phone} ${CHROMIUM_PATH} "$@"\n`)
    await chmod(chromiumInPhone, 0o755)
    launching = launchChromium([`--host-resolver-rules=MAP ${APP_HOST} ${NET.phone}.1`, '--ignore-certificate-errors'], chromiumInPhone)

    // The relay: TCP on the desk side for desktops, WebRTC-direct on the phone side for pages (as a
    // relay with one public address would have both on it).
    const relay = track(new DispatchProcess(join(root, 'relay'), [
      'relay', '--listen', `/ip4/${NET.desk}.1/tcp/4319`, '--listen', `/ip4/${NET.phone}.1/udp/4319/webrtc-direct`, '--json'
    ], {}, exec(ns.net)))
    const relayReady = await relay.waitFor(l => l.event === 'ready', 60_000)
    const relayId = String(relayReady.peerId)
    assert.ok((relayReady.browser as string[]).some(a => a.startsWith(`/ip4/${NET.phone}.1/udp/4319/webrtc-direct/certhash/`)), `the relay prints its WebRTC-direct address: ${JSON.stringify(relayReady)}`)

    // The app on its own HTTPS origin beside the relay, as any static host would serve it.
    await built
    const cert = await makeTestCertificate([APP_HOST])
    await writeFile(join(root, 'app.pem'), cert.cert)
    await writeFile(join(root, 'app.key'), cert.key, { mode: 0o600 })
    const app = track(new JsonLinesProcess([join(import.meta.dirname, '..', 'e2e', 'https-app.fixture.ts'), `${NET.phone}.1`, join(root, 'app.pem'), join(root, 'app.key')], { prefix: exec(ns.net) }))
    const appPort = Number((await app.waitFor(l => l.event === 'ready')).port)

    const home = join(root, 'desktop')
    const desktop = track(new DispatchProcess(home, [
      'desktop', '--name', 'away-desktop', '--executor', 'shell',
      '--listen', `/ip4/${NET.desk}.2/tcp/0`, '--listen', `/ip4/${NET.desk}.2/tcp/0/ws`, '--listen', `/ip4/${NET.desk}.2/udp/0/webrtc-direct`,
      '--relay', `/ip4/${NET.desk}.1/tcp/4319/p2p/${relayId}`, '--terminal', '--allow', join(root, 'work'), '--json'
    ], { DISPATCH_MDNS: '0' }, exec(ns.desk)))
    const ready = await desktop.waitFor(l => l.event === 'ready', 90_000)
    const desktopId = String(ready.peerId)
    // Its own addresses are all on the desk link, which the phone namespace has no route to
    // (net does not forward: checked here, not assumed).
    assert.ok((ready.addrs as string[]).filter(a => !a.includes('/p2p-circuit')).every(a => a.startsWith(`/ip4/${NET.desk}.2/`)), JSON.stringify(ready.addrs))
    assert.is(execFileSync('ip', [...exec(ns.net).slice(1), 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }).trim(), '0', 'the net namespace does not forward')

    const chromium = await launching
    const context = await chromium.context(MOBILE)
    try {
      // The desktop lists its relayed addresses a moment after its reservation: until then an invite has none.
      const throughRelay = (a: string): boolean => a.startsWith(`/ip4/${NET.phone}.1/udp/4319/webrtc-direct/`) && a.includes(`/p2p/${relayId}/p2p-circuit`)
      let pair: DispatchProcess | undefined
      let invite = ''
      for (let i = 0; i < 40 && invite === ''; i++) {
        const p = track(new DispatchProcess(home, ['pair', '--yes', '--json']))
        const shown = await p.waitFor(l => l.event === 'invite')
        if (decodeInvite(String(shown.invite)).addrs.some(a => throughRelay(a.toString()))) {
          pair = p
          invite = String(shown.invite)
        } else {
          await p.stop()
          await new Promise(resolve => setTimeout(resolve, 250))
        }
      }
      assert.ok(pair !== undefined, 'the desktop never listed an address through the relay\'s WebRTC-direct listener in its invite')

      const page = await context.newPage()
      page.on('pageerror', err => { console.log(`  [page error] ${err.message}`) })
      // DEBUG_PAGE=1 shows what the page logs (its own lines, not Chromium's mixed-content warnings).
      page.on('console', m => { if (process.env.DEBUG_PAGE === '1' && !m.text().includes('WebSocket')) console.log(`  [page ${m.type()}] ${m.text()}`) })
      const t0 = Date.now()
      await page.goto(`https://${APP_HOST}:${appPort}/#${invite}`)
      assert.equal(await page.evaluate(() => [location.protocol, isSecureContext]), ['https:', true], 'an HTTPS page')
      await page.waitForSelector('body[data-paired="1"]', { timeout: 60_000 }).catch(async (err: Error) => {
        throw new Error(`${err.message.split('\n')[0]}; the page says: ${await page.locator('#pair-status').innerText()}; it dialled: ${await page.locator('body').getAttribute('data-via-log')}`)
      })
      await pair.waitFor(l => l.event === 'paired', 30_000)
      assert.is(await pair.exited, 0)
      await page.waitForSelector('#conn.on', { timeout: 30_000 })
      // Joining ends at the first sync (the move from the relay to a direct address goes on after it).
      await page.locator('#pair-status', { hasText: 'Paired with away-desktop' }).waitFor({ state: 'attached', timeout: 60_000 })
      const paired = Date.now()

      await page.fill('#text', '$ echo away-from-home')
      await page.click('#add button[type="submit"]')
      const done = page.locator('.task[data-status="done"]', { hasText: 'away-from-home' })
      await done.waitFor({ timeout: 60_000 }).catch(async (err: Error) => {
        const card = await page.locator('.task', { hasText: 'away-from-home' }).first().getAttribute('data-status').catch(() => 'none')
        throw new Error(`${err.message.split('\n')[0]}; the task on the page: ${card}; the desktop printed: ${JSON.stringify(desktop.lines.slice(-5))}; open connections: ${await page.locator('body').getAttribute('data-via')}`)
      })
      assert.match(await done.locator('.result').innerText(), 'away-from-home')
      const ran = Date.now()

      // Every connection the page had with the desktop was relayed (there was no other way), the
      // first through the relay's WebRTC-direct listener; and the page reached the relay only over WebRTC-direct.
      const body = page.locator('body')
      const log = await body.getAttribute('data-via-log')
      const ever = addrsOf(log, desktopId)
      const open = addrsOf(await body.getAttribute('data-via'), desktopId)
      const toRelay = addrsOf(log, relayId)
      assert.ok(ever.length > 0 && throughRelay(ever[0]) && ever.every(a => isRelayedAddr(a)), `connections the page had with the desktop: ${JSON.stringify(ever)}`)
      assert.ok(open.length > 0 && open.every(a => isRelayedAddr(a)), `open connections to the desktop: ${JSON.stringify(open)}`)
      assert.ok(toRelay.length > 0 && toRelay.every(a => transportOf(a) === 'udp/webrtc-direct'), `connections the page had with the relay: ${JSON.stringify(toRelay)}`)
      console.log(`  via ${ever[0]}; paired in ${paired - t0} ms, task done in ${ran - paired} ms, ${Date.now() - started} ms in all`)
    } finally {
      await context.close()
    }
  })
}

test.run()
