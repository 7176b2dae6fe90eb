// The engine in a page that is not a secure context (plain HTTP, not localhost: a phone on a LAN),
// where browsers give no `crypto.subtle`: the device key (Ed25519) is made, kept in IndexedDB and
// signs; Noise runs; pairing proves the invite; and the page syncs with a Node device over
// WebSockets and over WebRTC-direct. Chromium, origin http://insecure.lan:PORT.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { build } from 'esbuild'
import { join } from 'node:path'
import { createServer } from 'node:http'
import { chromiumUnavailable, launchChromium } from './chromium.ts'
import { createProvider } from '../provider.ts'
import { MemoryStore } from '../store/memory-store.ts'

const skipped = chromiumUnavailable()

if (skipped !== null) {
  console.log(`SKIPPED: the engine on an insecure origin: ${skipped}`)
  test.skip(`pairing and sync from a page without Web Crypto, over WebSockets and WebRTC-direct (skipped: ${skipped})`, () => {})
} else {
  test('pairing and sync from a page without Web Crypto, over WebSockets and WebRTC-direct', async () => {
    const bundle = await build({
      entryPoints: [join(import.meta.dirname, 'insecure-origin.browser.ts')],
      bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'warning'
    })
    // A real server behind a LAN-like name: Chromium's Private Network Access treats a page
    // whose address it does not know (a routed one) as public and blocks its dials to 127.0.0.1.
    const server = createServer((req, res) => {
      if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle.outputFiles[0].text)
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>')
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const origin = `http://insecure.lan:${(server.address() as { port: number }).port}`
    const launched = launchChromium(['--host-resolver-rules=MAP insecure.lan 127.0.0.1'])
    const desk = await createProvider('doc', {
      storage: new MemoryStore(),
      node: { listen: ['/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/udp/0/webrtc-direct'] },
      name: 'desk'
    })
    desk.doc.getText('t').insert(0, 'from node')
    const chromium = await launched
    try {
      for (const transport of ['ws', 'webrtc-direct']) {
        const page = await (await chromium.context()).newPage()
        page.on('pageerror', err => { console.log(`  [page error] ${err.message}`) })
        await page.goto(`${origin}/`)
        await page.waitForFunction(() => typeof (globalThis as any).run === 'function')
        // An invite that carries only this transport's address: the pairing connection is that transport.
        const addr = desk.node.addrs().find(a => a.includes(`/${transport}/`))
        assert.ok(addr !== undefined, `the desk listens on ${transport}`)
        const invite = await desk.openInvite({ addrs: [addr] })
        const result = await page.evaluate(async ([text, t]) => await (globalThis as any).run(text, t), [invite.text, transport])
        assert.is(result.secure, false, 'not a secure context')
        assert.is(result.subtle, 'undefined', 'no Web Crypto')
        assert.ok(result.sameKey, 'the device key is kept in IndexedDB')
        assert.ok(result.verified, 'an Ed25519 signature verifies')
        assert.not.ok(result.forged, 'and does not verify another message')
        assert.match(result.code, /^\d{6}$/)
        assert.ok(result.via.some((a: string) => a.includes(`/${transport}/`)), `connected over ${transport}: ${result.via.join(', ')}`)
        assert.is((await invite.paired).name, `page-${transport}`)
        await new Promise<void>(resolve => {
          const text = desk.doc.getText('t')
          const check = (): void => { if (text.toString().includes(`from ${transport} page`)) resolve() }
          text.observe(check); check()
        })
        await page.close()
      }
    } finally {
      await chromium.close()
      await desk.destroy()
      server.close()
    }
  })
}

test.run()
