// The LevelDB store: the shared Storage suite, and the promise that y-leveldb
// (`LeveldbPersistence`) and this store read each other's databases.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { LeveldbPersistence } from 'y-leveldb'
import { LevelStore } from './leveldb-store.ts'
import { runStorageTests } from './storage-suite.ts'

runStorageTests('LevelStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-level-'))
  return {
    storage: await LevelStore.open({ dir }),
    reopen: async () => await LevelStore.open({ dir }),
    teardown: async () => { await rm(dir, { recursive: true, force: true }) }
  }
})

runStorageTests('LevelStore opened lazily, without fsync', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-level-'))
  return {
    storage: new LevelStore({ dir, fsync: false }),
    reopen: async () => new LevelStore({ dir, fsync: false }),
    teardown: async () => { await rm(dir, { recursive: true, force: true }) }
  }
})

function docWith (text: string): Y.Doc {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  return doc
}

test('y-leveldb reads what LevelStore wrote, compacted or not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-level-'))
  try {
    const store = await LevelStore.open({ dir })
    const doc = docWith('hello')
    await store.append('notes', Y.encodeStateAsUpdate(doc))
    const before = Y.encodeStateVector(doc)
    doc.getText('t').insert(5, ' world')
    await store.append('notes', Y.encodeStateAsUpdate(doc, before))
    await store.compact('other', Y.encodeStateAsUpdate(docWith('snap')))
    await store.close()

    const persistence = new LeveldbPersistence(dir)
    assert.is((await persistence.getYDoc('notes')).getText('t').toString(), 'hello world')
    assert.is((await persistence.getYDoc('other')).getText('t').toString(), 'snap')
    assert.equal((await persistence.getAllDocNames()).sort(), ['notes', 'other'])
    await persistence.destroy()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('LevelStore opens a database written by y-leveldb and keeps appending after it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-level-'))
  try {
    const persistence = new LeveldbPersistence(dir)
    const doc = docWith('from y-leveldb')
    await persistence.storeUpdate('board', Y.encodeStateAsUpdate(doc))
    await persistence.flushDocument('board')
    await persistence.destroy()

    const store = await LevelStore.open({ dir })
    const loaded = new Y.Doc()
    for (const update of await store.load('board')) Y.applyUpdate(loaded, update)
    assert.is(loaded.getText('t').toString(), 'from y-leveldb')
    const sv = Y.encodeStateVector(loaded)
    loaded.getText('t').insert(0, '+ ')
    await store.append('board', Y.encodeStateAsUpdate(loaded, sv))
    await store.close()

    const again = new LeveldbPersistence(dir)
    assert.is((await again.getYDoc('board')).getText('t').toString(), '+ from y-leveldb')
    await again.destroy()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test('a second LevelStore on a held directory is refused when opening', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-level-'))
  try {
    const store = await LevelStore.open({ dir })
    let error: Error | null = null
    try { await LevelStore.open({ dir }) } catch (err) { error = err as Error }
    assert.ok(error !== null, 'the second open should fail')
    await store.close()
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
