// The phone web app's camera pairing path in a real Chromium against the real CLI on loopback:
// `dispatch pair --web --png` writes the QR, the test turns it into a Y4M video that Chromium's
// fake camera plays, the page is opened without an invite, "Scan QR code" is pressed, and the
// page must pair from what the camera sees (BarcodeDetector where present, else jsQR).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, mkdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pngjs from 'pngjs'
import { chromiumUnavailable, launchChromium } from '../../core/e2e/chromium.ts'
import type { LaunchedChromium } from '../../core/e2e/chromium.ts'
import { DispatchProcess } from '../e2e/cli-process.ts'
import { MOBILE, startWebDesktop } from './web-fixture.ts'

const test = suite('web app camera pairing in Chromium')
const skipped = chromiumUnavailable()

let chromium: LaunchedChromium | undefined
let root: string
let desktop: DispatchProcess | undefined
let pair: DispatchProcess | undefined

/** A PNG as a few identical YUV4MPEG2 4:2:0 frames: white margin, even size, luma from RGB, neutral chroma. */
export function pngToY4m (png: Buffer, margin = 32, frames = 5): Buffer {
  const img = pngjs.PNG.sync.read(png)
  const even = (n: number): number => n + (n % 2)
  const w = even(img.width + 2 * margin)
  const h = even(img.height + 2 * margin)
  const y = Buffer.alloc(w * h, 255)
  for (let row = 0; row < img.height; row++) {
    for (let col = 0; col < img.width; col++) {
      const i = (row * img.width + col) * 4
      const a = img.data[i + 3] / 255
      const luma = 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2]
      y[(row + margin) * w + col + margin] = Math.round(luma * a + 255 * (1 - a))
    }
  }
  const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128)
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma])
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`), ...Array<Buffer>(frames).fill(frame)])
}

test.before(async () => {
  if (skipped !== null) return
  root = await mkdtemp(join(tmpdir(), 'dispatch-web-camera-'))
  const home = join(root, 'desktop')
  await mkdir(join(root, 'work'))
  ;({ desktop } = await startWebDesktop(home, { name: 'test-desktop', work: join(root, 'work'), flags: ['--executor', 'shell', '--listen', '/ip4/127.0.0.1/udp/0/webrtc-direct'] }))
})

test.after(async () => {
  if (skipped !== null) return
  pair?.child.kill('SIGTERM')
  await desktop?.stop()
  await chromium?.close()
  await rm(root, { recursive: true, force: true })
})

if (skipped !== null) {
  console.log(`SKIPPED web camera test: ${skipped}`)
  test.skip(`web app camera pairing in Chromium (skipped: ${skipped})`, () => {})
} else {
  test('pairs by scanning the desktop\'s QR with a (fake) camera: page opened without an invite, "Scan QR code" pressed', async () => {
    const started = Date.now()
    const png = join(root, 'invite.png')
    const video = join(root, 'invite.y4m')
    pair = new DispatchProcess(join(root, 'desktop'), ['pair', '--web', '--png', png, '--yes', '--json'])
    const { link } = await pair.waitFor(l => l.event === 'invite')
    const webUrl = String(link).slice(0, String(link).indexOf('#'))
    assert.match(webUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/)
    await writeFile(video, pngToY4m(await readFile(png)))
    chromium = await launchChromium([
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`
    ])
    const context = await chromium.context({ ...MOBILE, permissions: ['camera'] })
    try {
      const page = await context.newPage()
      page.on('pageerror', err => { console.log(`  [page error] ${err.message}`) })
      await page.goto(webUrl)
      await page.waitForSelector('body[data-ready="1"]', { timeout: 20_000 })
      assert.is(await page.locator('body').getAttribute('data-paired'), '0')
      await page.click('#scan')
      try {
        await page.waitForSelector('body[data-paired="1"]', { timeout: 30_000 })
      } catch (err) {
        throw new Error(`not paired; status: ${await page.locator('#pair-status').innerText()}`, { cause: err })
      }
      const paired = await pair.waitFor(l => l.event === 'paired')
      assert.is(paired.peerId, await page.evaluate(() => document.body.dataset.peer))
      assert.is(await pair.exited, 0)
      assert.ok(await page.locator('#camera').isHidden(), 'the camera preview is closed after the scan')
      assert.match(await page.locator('#pair-status').innerText(), /Paired with test-desktop/)
      const decoder = await page.evaluate(() => 'BarcodeDetector' in globalThis ? 'BarcodeDetector' : 'jsQR')
      console.log(`  camera pairing (${decoder}) took ${Date.now() - started} ms`)
    } finally {
      await context.close()
    }
  })
}

test.run()
