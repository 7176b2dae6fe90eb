// A space whose storage stops taking writes (a full disk) and starts again: `flush` rejects
// while anything is unsaved, the space says so once and says when it recovered, and everything
// written before, during and after the failure is in the storage afterwards.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileStore, openSpace, StorageFailedError } from './index.ts'
import type { Space } from './index.ts'
import { FailingStore } from './store/failing-store.fixture.ts'
import { VirtualTimers } from './sync/timers.ts'
import { COMPACT_DELAY_MS, COMPACT_LOG_RECORDS, COMPACT_ON_CLOSE_RECORDS, STORAGE_RETRY_MS } from './constants.ts'

function add (space: Space, key: string): void {
  space.doc.getMap('tasks').set(key, key)
}

async function keysAfterReopen (store: FailingStore): Promise<string[]> {
  const again = await openSpace('s', { storage: new FailingStore({ backing: store.backing }) })
  const keys = Array.from(again.doc.getMap('tasks').keys()).sort()
  await again.close()
  return keys
}

async function rejection (p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

test('flush rejects with StorageFailedError while a write failed, and resolves once it is retried', async () => {
  const store = new FailingStore()
  const timers = new VirtualTimers()
  const space = await openSpace('s', { storage: store, timers })
  const events: string[] = []
  space.on('storage-error', err => events.push(`error ${err.message}`))
  space.on('storage-recovered', () => events.push('recovered'))

  add(space, 'before')
  await space.flush()

  store.failing = true
  add(space, 'during-1')
  const err = await rejection(space.flush())
  assert.instance(err, StorageFailedError)
  assert.is(err.name, 'StorageFailedError')
  assert.match(err.message, /ENOSPC/)
  assert.is((err.cause as NodeJS.ErrnoException).code, 'ENOSPC')
  assert.ok(space.storageError !== null)
  // A later update is covered too, though it was never sent to the store on its own.
  add(space, 'during-2')
  await rejection(space.flush())
  assert.equal(events, ['error ENOSPC: no space left on device, write'], 'told once per failure')

  store.failing = false
  add(space, 'after')
  await space.flush()
  assert.equal(events, ['error ENOSPC: no space left on device, write', 'recovered'])
  assert.is(space.storageError, null)
  await space.close()
  assert.equal(await keysAfterReopen(store), ['after', 'before', 'during-1', 'during-2'])
})

test('the space retries on its own and says it recovered, with nobody calling flush', async () => {
  const store = new FailingStore()
  const timers = new VirtualTimers()
  const space = await openSpace('s', { storage: store, timers })
  store.failing = true
  const failed = new Promise<Error>(resolve => space.once('storage-error', resolve))
  add(space, 'a')
  await failed
  const refusedBefore = store.refused
  // Still failing: a retry falls due, is refused, and another is scheduled.
  timers.advance(STORAGE_RETRY_MS)
  await waitFor(() => store.refused > refusedBefore)
  store.failing = false
  const recovered = new Promise<void>(resolve => space.once('storage-recovered', () => resolve()))
  // Each retry is scheduled once the previous one settled: keep the virtual clock moving until one lands.
  let done = false
  void recovered.then(() => { done = true })
  while (!done) {
    timers.advance(STORAGE_RETRY_MS)
    await new Promise(resolve => setImmediate(resolve))
  }
  await space.flush()
  await space.close()
  assert.equal(await keysAfterReopen(store), ['a'])
})

test('a space closed while its storage fails closes (what is unsaved is lost, as it said)', async () => {
  const store = new FailingStore()
  const space = await openSpace('s', { storage: store, timers: new VirtualTimers() })
  add(space, 'kept')
  await space.flush()
  store.failing = true
  add(space, 'lost')
  await rejection(space.flush())
  await space.close()
  store.failing = false
  assert.equal(await keysAfterReopen(store), ['kept'])
})

test('a failed compaction loses nothing, is no storage error, and is tried again', async () => {
  const store = new FailingStore()
  store.compactFails = true
  const timers = new VirtualTimers()
  const space = await openSpace('s', { storage: store, timers })
  const compactionErrors: Error[] = []
  let storageErrors = 0
  space.on('compaction-failed', err => compactionErrors.push(err))
  space.on('storage-error', () => { storageErrors++ })
  // Updates big enough to pass the log-size threshold (COMPACT_LOG_BYTES) in a few writes.
  const big = 'x'.repeat(1024 * 1024)
  for (let i = 0; i < 10; i++) {
    space.doc.getMap('tasks').set(`k${i}`, big)
    await space.flush()
  }
  timers.advance(COMPACT_DELAY_MS)
  await waitFor(() => compactionErrors.length > 0)
  assert.is(storageErrors, 0)
  assert.is(store.backing.get('s')?.snapshot ?? null, null)
  store.compactFails = false
  space.doc.getMap('tasks').set('k10', big)
  await space.flush()
  timers.advance(COMPACT_DELAY_MS)
  await waitFor(() => store.backing.get('s')?.snapshot != null)
  await space.close()
  assert.is((await keysAfterReopen(store)).length, 11)
  assert.ok(Y.decodeUpdate(store.backing.get('s')!.snapshot!).structs.length > 0)
})

/** A FileStore in a fresh directory, removed after `body`. */
async function withFileStore (body: (storage: FileStore) => Promise<void>, options: { fsync?: boolean } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-close-compact-'))
  const storage = new FileStore({ dir, ...options })
  try {
    await body(storage)
  } finally {
    await storage.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** A space in `storage` given `n` updates, each flushed on its own (one log record each). */
async function spaceWithUpdates (storage: FileStore, n: number): Promise<Space> {
  const space = await openSpace('s', { storage })
  for (let i = 0; i < n; i++) { add(space, `k${i}`); await space.flush() }
  return space
}

test('a space closed with a long log compacts it: the next open loads one snapshot holding everything', () => withFileStore(async storage => {
  const written = COMPACT_ON_CLOSE_RECORDS + 20
  const space = await spaceWithUpdates(storage, written)
  assert.is((await storage.load('s')).length, written, 'one record per update before the close')
  await space.close()
  assert.is((await storage.load('s')).length, 1, 'one snapshot, no log')
  const again = await openSpace('s', { storage })
  assert.is(again.doc.getMap('tasks').size, written)
  await again.close()
}))

test('a space closed with a short log leaves it as it is (no snapshot rewritten at every stop)', () => withFileStore(async storage => {
  const space = await spaceWithUpdates(storage, 3)
  await space.close()
  assert.is((await storage.load('s')).length, 3)
}))

test('a compaction at close that fails still closes, and loses nothing', async () => {
  const store = new FailingStore()
  store.compactFails = true
  const space = await openSpace('s', { storage: store, timers: new VirtualTimers() })
  const failures: Error[] = []
  space.on('compaction-failed', err => failures.push(err))
  for (let i = 0; i < COMPACT_ON_CLOSE_RECORDS; i++) add(space, `k${i}`)
  await space.flush()
  await space.close()
  assert.is(failures.length, 1, 'the close tried to compact')
  store.compactFails = false
  assert.is((await keysAfterReopen(store)).length, COMPACT_ON_CLOSE_RECORDS)
})

test('a log grown long is compacted a moment later, not inside the update that made it long', () => withFileStore(async storage => {
  const timers = new VirtualTimers()
  const space = await openSpace('s', { storage, timers })
  const n = COMPACT_LOG_RECORDS + 5
  // Each on its own, as a device's writes come: the log's size on disk is what makes it long.
  for (let i = 0; i < n; i++) { add(space, `k${i}`); await space.flush() }
  assert.is((await storage.load('s')).length, n, 'no snapshot yet: one record per update')
  timers.advance(COMPACT_DELAY_MS - 1)
  assert.is((await storage.load('s')).length, n)
  timers.advance(1)
  await space.flush()
  await waitFor(() => storage.logSize('s') === 0)
  assert.is((await storage.load('s')).length, 1, 'one snapshot holding everything')
  await space.close()
  const again = await openSpace('s', { storage })
  assert.is(again.doc.getMap('tasks').size, n)
  await again.close()
}, { fsync: false }))

async function waitFor (condition: () => boolean): Promise<void> {
  // Polled: a FileStore compaction waits on the disk (fsync), which takes its time on a busy machine.
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  assert.ok(condition(), 'condition never held')
}

test.run()
