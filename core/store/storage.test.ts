// Runs the shared Storage suite over every implementation in this folder.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileStore } from './file-store.ts'
import { MemoryStore } from './memory-store.ts'
import { runStorageTests } from './storage-suite.ts'

runStorageTests('FileStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-store-'))
  return {
    storage: await FileStore.open({ dir }),
    reopen: async () => await FileStore.open({ dir }),
    teardown: async () => { await rm(dir, { recursive: true, force: true }) }
  }
})

runStorageTests('FileStore without fsync', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-store-'))
  return {
    storage: await FileStore.open({ dir, fsync: false }),
    reopen: async () => await FileStore.open({ dir, fsync: false }),
    teardown: async () => { await rm(dir, { recursive: true, force: true }) }
  }
})

runStorageTests('FileStore in a directory it creates', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'dispatch-store-'))
  const dir = join(parent, 'home', 'spaces')
  return {
    storage: new FileStore({ dir }),
    reopen: async () => new FileStore({ dir }),
    teardown: async () => { await rm(parent, { recursive: true, force: true }) }
  }
})

runStorageTests('MemoryStore', async () => {
  const storage = new MemoryStore()
  return {
    storage,
    reopen: async () => new MemoryStore({ backing: storage.backing }),
    teardown: async () => {}
  }
})
