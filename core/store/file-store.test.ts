// What only the file store has: group commit, the on-disk layout, and how it
// treats a damaged snapshot or a compaction cut short by a crash.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileStore, decodeRecords, encodeRecord } from './file-store.ts'

const test = suite('FileStore')

async function withDir (body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-file-store-'))
  try {
    await body(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const update = (n: number): Uint8Array => new Uint8Array([n, n + 1, n + 2])

test('appends issued together share one write and one fsync', () => withDir(async dir => {
  const store = await FileStore.open({ dir })
  await Promise.all(Array.from({ length: 100 }, (_, i) => store.append('s', update(i))))
  assert.equal(store.stats(), { appends: 100, batches: 1 })
  for (let i = 0; i < 5; i++) await store.append('s', update(i))
  assert.equal(store.stats(), { appends: 105, batches: 6 })
  await store.close()
}))

test('records on disk are [u32 length][u32 crc32][payload], the snapshot one such record', () => withDir(async dir => {
  const store = await FileStore.open({ dir })
  await store.append('s', update(1))
  await store.append('s', update(2))
  const log = await readFile(join(dir, 's.log'))
  assert.equal(log, Buffer.concat([encodeRecord(update(1)), encodeRecord(update(2))]))
  assert.is(log.readUInt32LE(0), 3)
  await store.compact('s', update(9))
  assert.equal(await readFile(join(dir, 's.snapshot')), encodeRecord(update(9)))
  assert.is((await stat(join(dir, 's.log'))).size, 0)
  await store.close()
  // Owner-only: the document is private to its devices.
  assert.is((await stat(join(dir, 's.snapshot'))).mode & 0o777, 0o600)
  assert.is((await stat(join(dir, 's.log'))).mode & 0o777, 0o600)
}))

test('decodeRecords stops at the first bad record and says why', () => {
  const a = encodeRecord(update(1))
  const b = encodeRecord(update(2))
  assert.equal(decodeRecords(Buffer.concat([a, b])), { records: [update(1), update(2)], end: a.length + b.length })
  assert.equal(decodeRecords(Buffer.concat([a, b.subarray(0, 5)])), { records: [update(1)], end: a.length, problem: 'truncated' })
  const flipped = Buffer.concat([a, b])
  flipped[a.length + 9] ^= 0x10
  assert.equal(decodeRecords(flipped), { records: [update(1)], end: a.length, problem: 'checksum' })
  assert.equal(decodeRecords(new Uint8Array(0)), { records: [], end: 0 })
})

test('a crash between snapshot rename and log truncation loads the snapshot, then the old records', () => withDir(async dir => {
  const store = await FileStore.open({ dir })
  await store.append('s', update(1))
  await store.append('s', update(2))
  await store.close()
  // What the disk holds if the process died right after the rename.
  await writeFile(join(dir, 's.snapshot'), encodeRecord(update(9)))
  const reopened = await FileStore.open({ dir })
  assert.equal(await reopened.load('s'), [update(9), update(1), update(2)])
  await reopened.close()
}))

test('a temporary snapshot left by a crash is ignored and cleaned up', () => withDir(async dir => {
  const store = await FileStore.open({ dir })
  await store.compact('s', update(1))
  await store.close()
  await writeFile(join(dir, 's.snapshot.tmp'), Buffer.from('half a snapshot'))
  const reopened = await FileStore.open({ dir })
  assert.equal(await reopened.load('s'), [update(1)])
  assert.not.ok(await exists(join(dir, 's.snapshot.tmp')))
  await reopened.close()
}))

test('a damaged snapshot is an error, not a silently empty space', () => withDir(async dir => {
  const store = await FileStore.open({ dir })
  await store.compact('s', update(1))
  await store.close()
  const snapshot = await readFile(join(dir, 's.snapshot'))
  snapshot[snapshot.length - 1] ^= 1
  await writeFile(join(dir, 's.snapshot'), snapshot)
  const reopened = await FileStore.open({ dir })
  try {
    await reopened.load('s')
    assert.unreachable('load should have failed')
  } catch (err) {
    assert.is((err as Error).name, 'CorruptSnapshotError')
  }
  await reopened.close()
}))

test('remove deletes the space\'s files and nothing else', () => withDir(async dir => {
  const store = await FileStore.open({ dir })
  await store.append('a', update(1))
  await store.compact('a', update(2))
  await store.append('b', update(3))
  await store.remove('a')
  assert.not.ok(await exists(join(dir, 'a.log')))
  assert.not.ok(await exists(join(dir, 'a.snapshot')))
  assert.ok(await exists(join(dir, 'b.log')))
  await store.close()
}))

test('a directory that cannot be created fails at open', () => withDir(async dir => {
  await writeFile(join(dir, 'file'), '')
  try {
    await FileStore.open({ dir: join(dir, 'file', 'store') })
    assert.unreachable('open should have failed')
  } catch (err) {
    assert.is((err as NodeJS.ErrnoException).code, 'ENOTDIR')
  }
}))

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

test.run()
