// Reading a home that cannot be written (a read-only mount, a folder this user may only read):
// `tasks`, `show` and `devices` open a private copy of its store instead of locking the home.
// Nothing can change a read-only home meanwhile, so the copy is what the home says.

import { access, constants, cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { homeLayout } from './layout.ts'
import type { HomeLock } from './lock.ts'

/** True when `dir` exists and this process may not write in it. */
export async function homeIsReadOnly (dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK)
    return false
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
  }
}

export interface ReadingCopy {
  /** Where the copied store is: open the space from here. */
  store: string
  /** Where the blob store may be opened (empty: outputs are read from the home's blobs only with --save). */
  blobs: string
  /** Stands in for the home's lock (nothing to lock on a read-only home); removes the copy. */
  lock: HomeLock
}

/** A temporary copy of the home's store, removed by `lock.release()`. */
export async function copyForReading (home: string): Promise<ReadingCopy> {
  const layout = homeLayout(home)
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-read-'))
  try {
    const store = join(dir, 'store')
    await cp(layout.store, store, { recursive: true, force: true, errorOnExist: false }).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
    let released = false
    return {
      store,
      blobs: join(dir, 'blobs'),
      lock: { dir: layout.dir, release: async () => { if (!released) { released = true; await rm(dir, { recursive: true, force: true }) } } }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}
