// QR codes for invites: drawn in the terminal, written to a PNG, and read back from a PNG
// (a saved photo works if the code is sharp and reasonably square in the frame).

// The QR libraries are loaded by the calls that use them: every other verb starts without them.

import { readFile } from 'node:fs/promises'
import type pngjs from 'pngjs'

export class QrNotFoundError extends Error {
  name = 'QrNotFoundError'
}

/** The QR as text, two modules per character row (half blocks), for a dark or light terminal. */
export async function renderQrTerminal (text: string): Promise<string> {
  const { default: qrcodeTerminal } = await import('qrcode-terminal')
  return await new Promise(resolve => qrcodeTerminal.generate(text, { small: true }, resolve))
}

/** Writes the QR as a PNG; a 4-module quiet zone and 8 px modules so a phone camera reads it easily. */
export async function writeQrPng (file: string, text: string): Promise<void> {
  const { default: QRCode } = await import('qrcode')
  await QRCode.toFile(file, text, { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 8 })
}

/** Reads the first QR code found in a PNG file. */
export async function readQrPng (file: string): Promise<string> {
  const bytes = await readFile(file)
  const [{ default: pngLib }, { default: jsqr }] = await Promise.all([import('pngjs'), import('jsqr')])
  let png: pngjs.PNGWithMetadata
  try {
    png = pngLib.PNG.sync.read(bytes)
  } catch (err) {
    throw new QrNotFoundError(`${file} is not a readable PNG: ${(err as Error).message}`)
  }
  const data = new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length)
  // jsqr is CommonJS typed as an ES default export; its module.exports carries `.default` too.
  const code = jsqr.default(data, png.width, png.height, { inversionAttempts: 'attemptBoth' })
  if (code === null) throw new QrNotFoundError(`no QR code found in ${file}`)
  return code.data
}
