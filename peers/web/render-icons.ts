// `node peers/web/render-icons.ts`: renders the app's PNG icons (192, 512, and the 180 px
// apple-touch-icon) from static/icon.svg with Chromium, into static/ (committed; rerun after
// changing the SVG). Full-bleed squares: Android masks them (maskable), iOS rounds the corners.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { launchChromium } from '../../core/e2e/chromium.ts'

const STATIC = join(import.meta.dirname, 'static')
export const ICONS: Array<[file: string, size: number]> = [['icon-192.png', 192], ['icon-512.png', 512], ['apple-touch-icon.png', 180]]

if (import.meta.main) {
  // The rounded corners come off: the platforms apply their own shape.
  const svg = (await readFile(join(STATIC, 'icon.svg'), 'utf8')).replace(/ rx="[^"]*"/, '')
  const chromium = await launchChromium()
  try {
    for (const [file, size] of ICONS) {
      const context = await chromium.context({ viewport: { width: size, height: size }, deviceScaleFactor: 1 })
      const page = await context.newPage()
      await page.setContent(`<body style="margin:0">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body>`)
      await page.screenshot({ path: join(STATIC, file), clip: { x: 0, y: 0, width: size, height: size } })
      await context.close()
      console.log(`wrote ${file} (${size}×${size})`)
    }
  } finally {
    await chromium.close()
  }
}
