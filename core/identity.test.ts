// The device identity: created once with mode 0600, the same key after a reload, a clear error for junk.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreateIdentity } from './identity.ts'

test('created with mode 0600, reloaded as the same Ed25519 identity', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-id-'))
  const path = join(dir, 'nested', 'identity.key')
  const first = await loadOrCreateIdentity(path)
  assert.is((await stat(path)).mode & 0o777, 0o600)
  assert.is(first.type, 'Ed25519')
  const again = await loadOrCreateIdentity(path)
  assert.is(peerIdFromPrivateKey(again).toString(), peerIdFromPrivateKey(first).toString())
  await rm(dir, { recursive: true })
})

test('a corrupt key file is refused with IdentityFileError, not replaced', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-id-'))
  const path = join(dir, 'identity.key')
  await writeFile(path, 'not a key')
  try {
    await loadOrCreateIdentity(path)
    assert.unreachable('should refuse')
  } catch (err) {
    assert.is((err as Error).name, 'IdentityFileError')
  }
  await rm(dir, { recursive: true })
})

test.run()
