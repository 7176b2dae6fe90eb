// The one test suite every `Storage` implementation must pass: the file store,
// the memory store, and any adapter added later. Call it from a `*.test.ts` file.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Storage } from './storage.ts'

export interface StorageFixture {
  storage: Storage
  /** A new store over the same data. The suite closes the old store before calling it. */
  reopen: () => Promise<Storage>
  /** Releases what setup made (temp dirs). The suite has closed every store it got by then. */
  teardown: () => Promise<void>
}

/** Queues one uvu suite named `name`; uvu runs it when the test file ends. */
export function runStorageTests (name: string, setup: () => Promise<StorageFixture>): void {
  const test = suite(`Storage: ${name}`)

  /** Runs `body` with a fresh fixture; `current()` follows reopens so the right store gets closed. */
  async function withStore (body: (s: { current: () => Storage, reopen: () => Promise<Storage> }) => Promise<void>): Promise<void> {
    const fixture = await setup()
    let storage = fixture.storage
    try {
      await body({
        current: () => storage,
        reopen: async () => {
          await storage.close()
          storage = await fixture.reopen()
          return storage
        }
      })
    } finally {
      await storage.close()
      await fixture.teardown()
    }
  }

  test('an unknown space loads as empty, with a log size of 0', () => withStore(async ({ current }) => {
    const storage = current()
    assert.equal(await storage.load('nothing-here'), [])
    assert.is(storage.logSize('nothing-here'), 0)
  }))

  test('load returns appended updates in order, byte for byte', () => withStore(async ({ current }) => {
    const storage = current()
    const updates = [bytes(1, 1), bytes(2, 300), bytes(3, 70_000), bytes(4, 5)]
    for (const update of updates) await storage.append('s', update)
    assert.equal(await storage.load('s'), updates)
  }))

  test('the store keeps its own copies: later changes to buffers, in or out, do not leak', () => withStore(async ({ current }) => {
    const storage = current()
    const update = bytes(7, 16)
    const pending = storage.append('s', update)
    update.fill(0)
    await pending
    assert.equal(await storage.load('s'), [bytes(7, 16)])
    const [loaded] = await storage.load('s')
    loaded.fill(1)
    assert.equal(await storage.load('s'), [bytes(7, 16)])
  }))

  test('spaces are isolated from each other', () => withStore(async ({ current }) => {
    const storage = current()
    await storage.append('a', bytes(1, 10))
    await storage.append('b', bytes(2, 20))
    await storage.append('a', bytes(3, 30))
    await storage.compact('b', bytes(4, 40))
    assert.equal(await storage.load('a'), [bytes(1, 10), bytes(3, 30)])
    assert.equal(await storage.load('b'), [bytes(4, 40)])
    await storage.remove('a')
    assert.equal(await storage.load('a'), [])
    assert.equal(await storage.load('b'), [bytes(4, 40)])
  }))

  test('compact replaces everything; later appends follow the snapshot', () => withStore(async ({ current }) => {
    const storage = current()
    await storage.append('s', bytes(1, 10))
    await storage.append('s', bytes(2, 10))
    await storage.compact('s', bytes(9, 50))
    await storage.append('s', bytes(3, 10))
    assert.equal(await storage.load('s'), [bytes(9, 50), bytes(3, 10)])
    await storage.compact('s', bytes(8, 60))
    assert.equal(await storage.load('s'), [bytes(8, 60)])
  }))

  test('appends issued before compact are ordered before it, even when not awaited', () => withStore(async ({ current }) => {
    const storage = current()
    const calls = [
      storage.append('s', bytes(1, 10)),
      storage.append('s', bytes(2, 10)),
      storage.compact('s', bytes(9, 20)),
      storage.append('s', bytes(3, 10)),
      storage.load('s')
    ]
    const results = await Promise.all(calls)
    assert.equal(results[4], [bytes(9, 20), bytes(3, 10)])
    assert.equal(await storage.load('s'), [bytes(9, 20), bytes(3, 10)])
  }))

  test('remove forgets a space, which can then be used again', () => withStore(async ({ current, reopen }) => {
    const storage = current()
    await storage.append('s', bytes(1, 10))
    await storage.compact('s', bytes(2, 10))
    await storage.append('s', bytes(3, 10))
    await storage.remove('s')
    assert.equal(await storage.load('s'), [])
    assert.is(storage.logSize('s'), 0)
    await storage.remove('never-used')
    await storage.append('s', bytes(4, 10))
    assert.equal(await storage.load('s'), [bytes(4, 10)])
    const reopened = await reopen()
    assert.equal(await reopened.load('s'), [bytes(4, 10)])
  }))

  test('reopening keeps snapshot and log', () => withStore(async ({ current, reopen }) => {
    const storage = current()
    await storage.append('s', bytes(1, 10))
    await storage.compact('s', bytes(2, 20))
    await storage.append('s', bytes(3, 30))
    await storage.append('t', bytes(4, 40))
    const reopened = await reopen()
    assert.equal(await reopened.load('s'), [bytes(2, 20), bytes(3, 30)])
    assert.equal(await reopened.load('t'), [bytes(4, 40)])
    await reopened.append('s', bytes(5, 50))
    assert.equal(await reopened.load('s'), [bytes(2, 20), bytes(3, 30), bytes(5, 50)])
  }))

  test('concurrent appends all resolve, and all of them survive a reopen, in order', () => withStore(async ({ current, reopen }) => {
    const storage = current()
    const updates = Array.from({ length: 300 }, (_, i) => bytes(i, 1 + (i * 37) % 500))
    await Promise.all(updates.map(update => storage.append('s', update)))
    assert.equal(await storage.load('s'), updates)
    const reopened = await reopen()
    assert.equal(await reopened.load('s'), updates)
  }))

  test('appends still pending when close() is called complete before it resolves', () => withStore(async ({ current, reopen }) => {
    const storage = current()
    const updates = Array.from({ length: 20 }, (_, i) => bytes(i, 100))
    const appended = updates.map(update => storage.append('s', update))
    await storage.close()
    await Promise.all(appended)
    const reopened = await reopen()
    assert.equal(await reopened.load('s'), updates)
  }))

  test('logSize grows with appends, survives a reopen, and is 0 after compact', () => withStore(async ({ current, reopen }) => {
    const storage = current()
    assert.is(storage.logSize('s'), 0)
    await storage.append('s', bytes(1, 100))
    const one = storage.logSize('s')
    assert.ok(one >= 100, `logSize ${one} after 100 bytes`)
    await storage.append('s', bytes(2, 200))
    const two = storage.logSize('s')
    assert.ok(two >= one + 200, `logSize ${two} after 300 bytes`)
    assert.is(storage.logSize('other'), 0)
    const reopened = await reopen()
    await reopened.load('s')
    assert.is(reopened.logSize('s'), two)
    await reopened.compact('s', bytes(3, 1000))
    assert.is(reopened.logSize('s'), 0)
    await reopened.append('s', bytes(4, 10))
    assert.ok(reopened.logSize('s') >= 10)
  }))

  test('invalid space names are refused with InvalidSpaceNameError', () => withStore(async ({ current }) => {
    const storage = current()
    const bad = ['', '.', '..', '.hidden', '../escape', 'a/b', 'a\\b', 'a b', 'a\0b', 'é', 'x'.repeat(129)]
    for (const space of bad) {
      await rejectsWith(storage.load(space), 'InvalidSpaceNameError', `load ${JSON.stringify(space)}`)
      await rejectsWith(storage.append(space, bytes(1, 1)), 'InvalidSpaceNameError', `append ${JSON.stringify(space)}`)
      await rejectsWith(storage.compact(space, bytes(1, 1)), 'InvalidSpaceNameError', `compact ${JSON.stringify(space)}`)
      await rejectsWith(storage.remove(space), 'InvalidSpaceNameError', `remove ${JSON.stringify(space)}`)
      assert.throws(() => storage.logSize(space), (err: Error) => err.name === 'InvalidSpaceNameError')
    }
    for (const space of ['a', 'A-b_c.d', '0', 'x'.repeat(128), 'a..b']) {
      await storage.append(space, bytes(1, 1))
      assert.equal(await storage.load(space), [bytes(1, 1)], space)
    }
  }))

  test('a closed store refuses every operation with StoreClosedError', () => withStore(async ({ current }) => {
    const storage = current()
    await storage.append('s', bytes(1, 10))
    await storage.close()
    await storage.close()
    await rejectsWith(storage.load('s'), 'StoreClosedError', 'load')
    await rejectsWith(storage.append('s', bytes(1, 1)), 'StoreClosedError', 'append')
    await rejectsWith(storage.compact('s', bytes(1, 1)), 'StoreClosedError', 'compact')
    await rejectsWith(storage.remove('s'), 'StoreClosedError', 'remove')
    assert.throws(() => storage.logSize('s'), (err: Error) => err.name === 'StoreClosedError')
  }))

  test.run()
}

/** Deterministic, distinguishable content: byte i is (seed * 31 + i) mod 251. */
function bytes (seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (seed * 31 + i) % 251
  return out
}

async function rejectsWith (promise: Promise<unknown>, name: string, what: string): Promise<void> {
  try {
    await promise
  } catch (err) {
    assert.is((err as Error).name, name, `${what}: ${String(err)}`)
    return
  }
  assert.unreachable(`${what} should have been refused with ${name}`)
}
