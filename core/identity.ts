// The device's persistent libp2p identity: an Ed25519 key kept in one file,
// readable by its owner only (mode 0600), created on first use.

import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from './store/atomic-file.ts'

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
  // Atomically, so a crash never leaves half a key; owner-only.
  await writeFileAtomic(path, privateKeyToProtobuf(key), 0o600)
  return key
}
