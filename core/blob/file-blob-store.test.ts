// The shared BlobStore suite over FileBlobStore (a temporary folder per test).

import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { FileBlobStore } from './file-blob-store.ts'
import { runBlobStoreTests } from './blob-store-suite.ts'

runBlobStoreTests('FileBlobStore', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-blobs-'))
  return {
    open: async (maxBytes) => await FileBlobStore.open(dir, maxBytes !== undefined ? { maxBytes } : {}),
    teardown: async () => { await fs.rm(dir, { recursive: true, force: true }) }
  }
})
