// QR: a PNG written then read gives the same invite text; the terminal drawing is a real QR too.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pngjs from 'pngjs'
import jsqr from 'jsqr'
import { renderQrTerminal, writeQrPng, readQrPng } from './qr.ts'

const invite = 'DISPATCH1:BCCAQCN4ZIWTGT3IOEPBDD3FGDNP7UV3U5H6LTUJKZJRNDYGIHDYBZRVJIKQMUO7JGYWMTBAAEIA6XYAO2TSUMCQVC4EDBQNOW7D55T5TIOWM3XX3FAUVXQSEECEWAM3CGHMBQCQDBAAAAAAAEAAZZHTQIQ3E2VDPDDA'
const dir = await mkdtemp(join(tmpdir(), 'dispatch-qr-'))

test('PNG written then read back gives the same text', async () => {
  const file = join(dir, 'invite.png')
  await writeQrPng(file, invite)
  assert.is(await readQrPng(file), invite)
})

test('a PNG without a QR, or not a PNG, is a QrNotFoundError', async () => {
  const blank = new pngjs.PNG({ width: 64, height: 64 })
  blank.data.fill(255)
  const blankFile = join(dir, 'blank.png')
  await writeFile(blankFile, pngjs.PNG.sync.write(blank))
  const textFile = join(dir, 'text.png')
  await writeFile(textFile, 'not a png')
  for (const file of [blankFile, textFile]) {
    try {
      await readQrPng(file)
      assert.unreachable('should not decode')
    } catch (err) {
      assert.is((err as Error).name, 'QrNotFoundError')
    }
  }
})

test('the terminal drawing decodes to the same text', async () => {
  const drawing = await renderQrTerminal(invite)
  // Half blocks: each character is two modules, top and bottom. Characters are the light
  // parts (a dark terminal background shows through the spaces as dark modules).
  const light: Record<string, [boolean, boolean]> = { '█': [true, true], '▀': [true, false], '▄': [false, true], ' ': [false, false] }
  const lines = drawing.split('\n').filter(l => l.length > 0)
  const rows: boolean[][] = []
  for (const line of lines) {
    const chars = [...line]
    rows.push(chars.map(c => light[c]?.[0] ?? true), chars.map(c => light[c]?.[1] ?? true))
  }
  const scale = 4
  const quiet = 4
  const width = (rows[0].length + 2 * quiet) * scale
  const height = (rows.length + 2 * quiet) * scale
  const pixels = new Uint8ClampedArray(width * height * 4).fill(255)
  rows.forEach((row, y) => row.forEach((isLight, x) => {
    if (isLight) return
    for (let dy = 0; dy < scale; dy++) {
      for (let dx = 0; dx < scale; dx++) {
        const i = (((y + quiet) * scale + dy) * width + (x + quiet) * scale + dx) * 4
        pixels[i] = pixels[i + 1] = pixels[i + 2] = 0
      }
    }
  }))
  const code = jsqr.default(pixels, width, height, { inversionAttempts: 'attemptBoth' })
  assert.ok(code !== null, 'terminal QR should decode')
  assert.is(code.data, invite)
})

test.after(async () => { await rm(dir, { recursive: true, force: true }) })
test.run()
