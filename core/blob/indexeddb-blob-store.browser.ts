// Browser entry of the IndexedDB blob store test: the shared BlobStore suite over
// IndexedDbBlobStore, bundled by indexeddb-blob-store.test.ts and run in Chromium.

import { IndexedDbBlobStore } from './indexeddb-blob-store.ts'
import { runBlobStoreTests } from './blob-store-suite.ts'

let n = 0
runBlobStoreTests('IndexedDbBlobStore', async () => {
  const name = `blob-suite-${Date.now()}-${n++}`
  return {
    open: async (maxBytes) => await IndexedDbBlobStore.open({ name, ...(maxBytes !== undefined ? { maxBytes } : {}) }),
    teardown: async () => { await IndexedDbBlobStore.destroy(name) }
  }
})
