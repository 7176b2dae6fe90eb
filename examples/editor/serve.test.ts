// examples/editor (`npm run editor`) as documented: the always-on device prints an invite link,
// a Chromium page on a non-localhost plain-HTTP origin opens it, pairs and types; a second device
// paired by the next printed invite (a Node provider here; pack.test.ts runs two pages) gets the
// text and the page's cursor through it; on SIGTERM the document is on disk.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { chromiumUnavailable, launchChromium } from '../../core/e2e/chromium.ts'
import { createProvider } from '../../core/provider.ts'
import { FileStore } from '../../core/store/file-store.ts'
import { MemoryStore } from '../../core/store/memory-store.ts'
import { freeLoopbackPort } from '../../peers/cli/free-port.ts'
import { JsonLinesProcess } from '../../peers/e2e/json-lines-process.ts'

const skipped = chromiumUnavailable()

if (skipped !== null) {
  console.log(`SKIPPED: the editor example in Chromium: ${skipped}`)
  test.skip(`the editor example pairs a page and another device, and keeps the document (skipped: ${skipped})`, () => {})
} else {
  test('the editor example pairs a page and another device, relays text and cursor, and keeps the document', async () => {
    const home = await mkdtemp(join(tmpdir(), 'dispatch-editor-'))
    const [port, wsPort] = [await freeLoopbackPort(), await freeLoopbackPort()]
    const serve = new JsonLinesProcess([join(import.meta.dirname, 'serve.ts'), '--home', home, '--host', '127.0.0.1', '--port', String(port), '--ws-port', String(wsPort), '--json'])
    const launched = launchChromium(['--host-resolver-rules=MAP editor.lan 127.0.0.1'])
    const other = await createProvider('editor', { storage: new MemoryStore(), node: { listen: [] }, name: 'laptop' })
    const chromium = await launched
    try {
      const ready = await serve.take(l => l.event === 'ready', 60_000)
      assert.equal(ready.urls, [`http://127.0.0.1:${port}/`])
      const first = await serve.take(l => l.event === 'invite')
      const page = await (await chromium.context()).newPage()
      page.on('pageerror', err => { console.log(`  [page error] ${err.message}`) })
      await page.goto(first.links[0].replace('127.0.0.1', 'editor.lan').replace('/#', '/?name=ada#'))
      await page.waitForSelector('body[data-paired="1"][data-status="connected"]', { timeout: 30_000 })
      assert.match(await page.textContent('#message') ?? '', /Paired with "always-on" \(verification code \d{6}\)/)
      assert.not.ok(page.url().includes('DISPATCH1'), 'the invite is dropped from the address bar')
      assert.is((await serve.take(l => l.event === 'paired')).name, 'ada')
      await page.click('.cm-content')
      await page.keyboard.type('hello from the page')

      const second = await serve.take(l => l.event === 'invite')
      await other.pair(second.links[0].split('#')[1])
      const text = other.doc.getText('codemirror')
      await new Promise<void>(resolve => { const check = (): void => { if (text.toString() === 'hello from the page') resolve() }; text.observe(check); check() })
      const cursorOf = (): unknown => Array.from(other.awareness.getStates().values()).find(s => s.user?.name === 'ada')?.cursor
      await new Promise<void>(resolve => { const check = (): void => { if (cursorOf() != null) resolve() }; other.awareness.on('change', check); check() })
      text.insert(0, '> ')
      await page.waitForFunction(() => (globalThis as any).view.state.doc.toString() === '> hello from the page', undefined, { timeout: 30_000 })

      assert.is(await serve.stop(), 0)
      const store = new FileStore({ dir: join(home, 'store') })
      const doc = new Y.Doc()
      for (const update of await store.load('editor')) Y.applyUpdate(doc, update)
      await store.close()
      assert.is(doc.getText('codemirror').toString(), '> hello from the page')
    } finally {
      await serve.stop()
      await other.destroy()
      await chromium.close()
      await rm(home, { recursive: true, force: true })
    }
  })
}

test.run()
