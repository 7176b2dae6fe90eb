// Runs the shared BlobStore suite over IndexedDbBlobStore inside Chromium: the suite and the store
// are bundled with esbuild and served to a real page; uvu's report comes back on the console.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { build } from 'esbuild'
import { join } from 'node:path'
import { chromiumUnavailable, launchChromium } from '../e2e/chromium.ts'

const ORIGIN = 'http://dispatch.test'
const skipped = chromiumUnavailable()

if (skipped !== null) {
  console.log(`SKIPPED: IndexedDbBlobStore browser suite: ${skipped}`)
  test.skip(`IndexedDbBlobStore passes the shared BlobStore suite in Chromium (skipped: ${skipped})`, () => {})
} else {
  test('IndexedDbBlobStore passes the shared BlobStore suite in Chromium', async () => {
    const bundle = await build({
      entryPoints: [join(import.meta.dirname, 'indexeddb-blob-store.browser.ts')],
      bundle: true, write: false, format: 'esm', platform: 'browser', target: 'es2022',
      define: { 'process.env.NODE_ENV': '"test"' }
    })
    const chromium = await launchChromium()
    try {
      const page = await (await chromium.context()).newPage()
      // A real origin (IndexedDB needs one), served from memory: no server, no network.
      await page.route(`${ORIGIN}/**`, async route => {
        const path = new URL(route.request().url()).pathname
        if (path === '/suite.js') await route.fulfill({ contentType: 'text/javascript', body: bundle.outputFiles[0].text })
        else await route.fulfill({ contentType: 'text/html', body: '<!doctype html><script type="module" src="/suite.js"></script>' })
      })
      let out = ''
      const finished = new Promise<void>((resolve, reject) => {
        page.on('console', message => { out += message.text(); if (/Duration:/.test(out)) resolve() })
        page.on('pageerror', reject)
      })
      await page.goto(`${ORIGIN}/`)
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no report in 60 s:\n${out}`)), 60_000) })
      await Promise.race([finished, deadline]).finally(() => clearTimeout(timer))
      const text = out.replace(/\x1b\[[0-9;]*m/g, '')
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1])
      const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1])
      console.log(`  in Chromium: ${passed} / ${total} blob store suite tests passed`)
      assert.ok(total >= 6, `the suite ran ${total} tests:\n${text}`)
      assert.is(passed, total, text)
    } finally {
      await chromium.close()
    }
  })
}

test.run()
