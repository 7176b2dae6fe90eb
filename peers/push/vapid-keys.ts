// The desktop's VAPID key pair (RFC 8292), made once and kept in its home as `vapid.json`: a
// page subscribes to Web Push with the public key, and only this desktop can then push to it.

import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import webpush from 'web-push'

export const VAPID_FILE = 'vapid.json'

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url: the page's `applicationServerKey`. */
  publicKey: string
  privateKey: string
}

/** The home's VAPID keys, made and saved (owner-only) on first use. */
export async function loadOrCreateVapidKeys (home: string): Promise<VapidKeys> {
  const file = join(home, VAPID_FILE)
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as Partial<VapidKeys>
    if (typeof saved.publicKey === 'string' && typeof saved.privateKey === 'string') return { publicKey: saved.publicKey, privateKey: saved.privateKey }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is unreadable (${(err as Error).message}); remove it to make new keys (pages then subscribe again)`)
  }
  const keys = webpush.generateVAPIDKeys()
  await mkdir(home, { recursive: true })
  await writeFile(file, JSON.stringify(keys) + '\n', { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    // Another process of this home made them first: use theirs.
    if (err.code === 'EEXIST') return
    throw err
  })
  return JSON.parse(await readFile(file, 'utf8')) as VapidKeys
}
