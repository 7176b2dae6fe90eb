// The blob protocol between real libp2p nodes on 127.0.0.1: a member fetches a 5 MB blob
// byte-identical into a FileBlobStore; a transfer cut in the middle (the connection closed)
// resumes where it stopped without asking again for what arrived; a stranger is refused; the
// size cap and an unknown hash give named errors.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { createSyncNode } from '../node.ts'
import type { SyncNode } from '../node.ts'
import { MemoryStore } from '../store/memory-store.ts'
import { FileBlobStore } from './file-blob-store.ts'
import { fetchBlob, serveBlobs } from './blob-protocol.ts'
import type { BlobServer } from './blob-protocol.ts'
import { patternBytes } from './blob-store-suite.ts'
import { blobHash } from './blob-store.ts'
import { BLOB_CHUNK_BYTES } from '../constants.ts'

const LISTEN = ['/ip4/127.0.0.1/tcp/0']
let dir: string
let owner: SyncNode
let asker: SyncNode
let stranger: SyncNode
let ownerStore: FileBlobStore
let server: BlobServer

test.before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-blob-proto-'))
  ;[owner, asker, stranger] = await Promise.all([0, 1, 2].map(async () => await createSyncNode({ listen: LISTEN })))
  const [a, b] = await Promise.all([owner.openSpace('blobs', { storage: new MemoryStore() }), asker.openSpace('blobs', { storage: new MemoryStore() })])
  await stranger.openSpace('blobs', { storage: new MemoryStore() })
  a.allow(asker.peerId)
  b.allow(owner.peerId)
  ownerStore = await FileBlobStore.open(path.join(dir, 'owner'))
  server = await serveBlobs(owner, ownerStore)
  await asker.connect(owner.addrs())
})

test.after(async () => {
  await server.stop()
  await Promise.all([owner, asker, stranger].map(async (n) => await n.stop()))
  await fs.rm(dir, { recursive: true, force: true })
})

test('a member fetches a 5 MB blob, byte-identical, verified by sha256', async () => {
  const bytes = patternBytes(5 * 1024 * 1024, 11)
  const hash = await ownerStore.put(bytes)
  const mine = await FileBlobStore.open(path.join(dir, 'asker-1'))
  const seen: number[] = []
  const size = await fetchBlob(asker, owner.peerId, hash, mine, { onProgress: (n) => seen.push(n) })
  assert.is(size, bytes.length)
  const got = await fs.readFile(mine.pathOf(hash))
  assert.is(blobHash(got), hash)
  assert.ok(Buffer.compare(got, Buffer.from(bytes)) === 0)
  assert.is(seen.at(-1), bytes.length)
  assert.is(seen.length, Math.ceil(bytes.length / BLOB_CHUNK_BYTES))
})

test('a transfer cut in the middle resumes where it stopped (no chunk asked for twice)', async () => {
  const bytes = patternBytes(3 * 1024 * 1024, 12)
  const hash = await ownerStore.put(bytes)
  const mine = await FileBlobStore.open(path.join(dir, 'asker-2'))
  const before = { ...server.stats }
  let cut = false
  const first = await fetchBlob(asker, owner.peerId, hash, mine, {
    onProgress: (n) => {
      // Cut the connection itself after 4 chunks, as a phone walking out of Wi-Fi would.
      if (!cut && n >= 4 * BLOB_CHUNK_BYTES) { cut = true; for (const c of asker.libp2p.getConnections()) void c.close() }
    }
  }).then(() => 'completed', (err: Error) => err.name)
  assert.is(first, 'BlobTransferCutError')
  const held = await mine.partialSize(hash)
  assert.ok(held >= 4 * BLOB_CHUNK_BYTES && held < bytes.length, `held ${held}`)
  await asker.connect(owner.addrs())
  assert.is(await fetchBlob(asker, owner.peerId, hash, mine), bytes.length)
  assert.ok(Buffer.compare(await fs.readFile(mine.pathOf(hash)), Buffer.from(bytes)) === 0)
  const chunks = Math.ceil(bytes.length / BLOB_CHUNK_BYTES)
  // At most the one chunk in flight when the connection closed is served twice.
  assert.ok(server.stats.chunks - before.chunks <= chunks + 1, `served ${server.stats.chunks - before.chunks} chunks for ${chunks}`)
})

test('a stranger is refused; an unknown hash and a blob over the cap give named errors', async () => {
  const hash = await ownerStore.put(patternBytes(600_000, 13))
  const theirs = await FileBlobStore.open(path.join(dir, 'stranger'))
  // The owner's gate closes the stranger's connection right after the handshake: the stranger's
  // dial may fail (a reset) or succeed and its blob stream then fail (an EOF, a close). Whichever
  // it meets, the refusal has one name; asked again (a fresh dial, or the reconnection's) likewise.
  await stranger.connect(owner.addrs()).catch(() => {}) // the gate may drop the connection at once
  for (let attempt = 0; attempt < 3; attempt++) {
    const refused = await fetchBlob(stranger, owner.peerId, hash, theirs).then(() => 'fetched', (err: Error & { code?: string }) => `${err.name} (${err.code ?? ''}): ${err.message}`)
    assert.match(refused, /^BlobRefusedError \(not-a-member\): /, refused)
  }
  assert.is(await theirs.partialSize(hash), 0)
  const mine = await FileBlobStore.open(path.join(dir, 'asker-3'))
  const unknown = await fetchBlob(asker, owner.peerId, blobHash(new Uint8Array([9])), mine).then(() => 'fetched', (err: Error) => err.name)
  assert.is(unknown, 'BlobNotFoundError')
  const tooBig = await fetchBlob(asker, owner.peerId, hash, mine, { maxBytes: 100_000 }).then(() => 'fetched', (err: Error) => err.name)
  assert.is(tooBig, 'BlobTooLargeError')
})

test.run()
