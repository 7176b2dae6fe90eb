// The device's persistent libp2p identity: an Ed25519 key kept in one file,
// readable by its owner only (mode 0600), created on first use.

import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'

/** The identity file exists but does not hold a valid libp2p private key. */
export class IdentityFileError extends Error {
  name = 'IdentityFileError'
}

/** Load the key stored at `path`, or create, store (0600) and return a new Ed25519 key. */
export async function loadOrCreateIdentity (path: string): Promise<PrivateKey> {
  let bytes: Uint8Array | null = null
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (bytes !== null) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch {
      throw new IdentityFileError(`identity key ${path} is not a valid libp2p private key`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  // Written to a temporary file and renamed, so a crash never leaves half a key.
  const tmp = `${path}.${process.pid}.tmp`
  const file = await open(tmp, 'w', 0o600)
  try {
    await file.writeFile(privateKeyToProtobuf(key))
    await file.sync()
  } finally {
    await file.close()
  }
  await chmod(tmp, 0o600)
  await rename(tmp, path)
  return key
}
