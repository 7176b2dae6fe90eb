// Browser entry of the IndexedDB store test: the shared Storage suite over IndexedDbStore,
// bundled by indexeddb-store.test.ts and run in Chromium (Node has no IndexedDB).

import { IndexedDbStore } from './indexeddb-store.ts'
import { runStorageTests } from './storage-suite.ts'

let n = 0
runStorageTests('IndexedDbStore', async () => {
  const name = `suite-${Date.now()}-${n++}`
  return {
    storage: await IndexedDbStore.open({ name }),
    reopen: async () => await IndexedDbStore.open({ name }),
    teardown: async () => { await IndexedDbStore.destroy(name) }
  }
})
