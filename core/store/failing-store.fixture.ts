// A real `Storage` (a MemoryStore underneath) whose appends and compactions fail while told to,
// the way a full disk fails them: for tests of what the engine does when writes do not land.

import { MemoryStore } from './memory-store.ts'
import type { MemoryBacking } from './memory-store.ts'

export class FailingStore extends MemoryStore {
  /** While true, `append` and `compact` reject with an ENOSPC error and store nothing. */
  failing = false
  /** While true, `compact` alone rejects (a snapshot needs more room than an update). */
  compactFails = false
  /** Appends refused so far. */
  refused = 0

  constructor (options: { backing?: MemoryBacking } = {}) {
    super(options)
  }

  async append (space: string, update: Uint8Array): Promise<void> {
    if (this.failing) { this.refused++; throw noSpace('write') }
    await super.append(space, update)
  }

  async compact (space: string, snapshot: Uint8Array): Promise<void> {
    if (this.failing || this.compactFails) throw noSpace('write')
    await super.compact(space, snapshot)
  }
}

function noSpace (syscall: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ENOSPC: no space left on device, ${syscall}`)
  err.code = 'ENOSPC'
  err.syscall = syscall
  return err
}
