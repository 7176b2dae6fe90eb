// The one test suite every BlobStore must pass: FileBlobStore in Node (file-blob-store.test.ts)
// and IndexedDbBlobStore in Chromium (indexeddb-blob-store.test.ts). Runs in both, so it uses
// no Node module.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { blobHash } from './blob-store.ts'
import type { BlobStore } from './blob-store.ts'

export interface BlobStoreFixture {
  /** A store capped at `maxBytes`. */
  open: (maxBytes?: number) => Promise<BlobStore>
  teardown: () => Promise<void>
}

/** Deterministic bytes (a seeded xorshift), so a failure is reproducible. */
export function patternBytes (length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let x = seed >>> 0 || 1
  for (let i = 0; i < length; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; out[i] = x & 0xff }
  return out
}

/** Asserts that `fn` rejects with an error named `name` (uvu has no async throws). */
async function rejects (fn: () => Promise<unknown>, match: (e: Error) => boolean): Promise<void> {
  let error: Error | undefined
  try { await fn() } catch (e) { error = e as Error }
  assert.ok(error !== undefined, 'expected a rejection')
  assert.ok(match(error!), `unexpected error: ${error!.name}: ${error!.message}`)
}

export function runBlobStoreTests (name: string, setup: () => Promise<BlobStoreFixture>): void {
  const test = suite(`BlobStore: ${name}`)

  async function withStore (body: (f: BlobStoreFixture, s: BlobStore) => Promise<void>, maxBytes?: number): Promise<void> {
    const f = await setup()
    const s = await f.open(maxBytes)
    // Closing twice is harmless for both stores (the reopen test closes the first one itself).
    try { await body(f, s) } finally { await s.close().catch(() => {}); await f.teardown() }
  }

  test('put then read back by hash, in any slice; size; unknown is undefined', () => withStore(async (_f, s) => {
    const bytes = patternBytes(700_000)
    const hash = await s.put(bytes)
    assert.is(hash, blobHash(bytes))
    assert.is(await s.size(hash), bytes.length)
    assert.equal(await s.read(hash, 0, bytes.length), bytes)
    assert.equal(await s.read(hash, 250_000, 300_000), bytes.subarray(250_000, 550_000))
    assert.equal(await s.read(hash, 699_990, 100), bytes.subarray(699_990))
    assert.is(await s.size(blobHash(new Uint8Array([1]))), undefined)
    assert.is(await s.put(bytes), hash, 'putting the same bytes again is a no-op')
  }))

  test('appends build a partial blob that is not readable until complete checks its hash', () => withStore(async (_f, s) => {
    const bytes = patternBytes(300_000, 7)
    const hash = blobHash(bytes)
    assert.is(await s.partialSize(hash), 0)
    await s.append(hash, 0, bytes.subarray(0, 100_000))
    await s.append(hash, 100_000, bytes.subarray(100_000, 200_000))
    assert.is(await s.partialSize(hash), 200_000)
    assert.is(await s.size(hash), undefined)
    await rejects(() => s.read(hash, 0, 10), (e: Error) => e.name === 'BlobNotFoundError')
    await rejects(() => s.append(hash, 100_000, bytes.subarray(100_000, 200_000)), (e: Error) => e.name === 'BlobOffsetError')
    await s.append(hash, 200_000, bytes.subarray(200_000))
    await s.complete(hash)
    assert.is(await s.size(hash), bytes.length)
    assert.is(await s.partialSize(hash), 0)
    assert.equal(await s.read(hash, 0, bytes.length), bytes)
  }))

  test('a partial blob survives reopening the store (resume after a restart)', () => withStore(async (f, first) => {
    let s = first
    const bytes = patternBytes(120_000, 3)
    const hash = blobHash(bytes)
    await s.append(hash, 0, bytes.subarray(0, 50_000))
    await s.close()
    const again = await f.open()
    try {
      assert.is(await again.partialSize(hash), 50_000)
      await again.append(hash, 50_000, bytes.subarray(50_000))
      await again.complete(hash)
      assert.equal(await again.read(hash, 0, bytes.length), bytes)
    } finally { await again.close() }
  }))

  test('wrong bytes: complete refuses them and drops the partial blob', () => withStore(async (_f, s) => {
    const bytes = patternBytes(10_000, 5)
    const hash = blobHash(bytes)
    const wrong = bytes.slice()
    wrong[5000] ^= 1
    await s.append(hash, 0, wrong)
    await rejects(() => s.complete(hash), (e: Error) => e.name === 'BlobHashMismatchError')
    assert.is(await s.partialSize(hash), 0)
    assert.is(await s.size(hash), undefined)
  }))

  test('the size cap: put and append past it are refused', () => withStore(async (_f, s) => {
    await rejects(() => s.put(new Uint8Array(2000)), (e: Error) => e.name === 'BlobTooLargeError')
    const hash = blobHash(new Uint8Array(2000))
    await s.append(hash, 0, new Uint8Array(1000))
    await rejects(() => s.append(hash, 1000, new Uint8Array(1000)), (e: Error) => e.name === 'BlobTooLargeError')
  }, 1500))

  test('delete removes complete and partial blobs; a malformed hash is refused', () => withStore(async (_f, s) => {
    const hash = await s.put(patternBytes(1000))
    await s.delete(hash)
    assert.is(await s.size(hash), undefined)
    const other = blobHash(patternBytes(10, 9))
    await s.append(other, 0, new Uint8Array(5))
    await s.delete(other)
    assert.is(await s.partialSize(other), 0)
    await rejects(() => s.size('../../etc/passwd'), (e: Error) => e.name === 'InvalidBlobHashError')
  }))

  test.run()
}
