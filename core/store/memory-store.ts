// A `Storage` held in a Map: for tests and for peers that need no durability.
// Bytes are copied in and out, so callers can never alias what the store holds.

import { StoreClosedError, assertSpaceName } from './storage.ts'
import type { Storage } from './storage.ts'

/** What one space holds. */
export interface MemorySpace {
  snapshot: Uint8Array | null
  log: Uint8Array[]
  logSize: number
}

/** The data behind a MemoryStore; hand it to a new MemoryStore to "reopen" the same data. */
export type MemoryBacking = Map<string, MemorySpace>

/** A `Storage` in memory: nothing survives the process. For tests and throwaway peers. */
export class MemoryStore implements Storage {
  readonly backing: MemoryBacking
  private closed = false

  constructor (options: { backing?: MemoryBacking } = {}) {
    this.backing = options.backing ?? new Map()
  }

  async load (space: string): Promise<Uint8Array[]> {
    this.check(space)
    const held = this.backing.get(space)
    if (held === undefined) return []
    const out = held.log.map(update => update.slice())
    if (held.snapshot !== null) out.unshift(held.snapshot.slice())
    return out
  }

  async append (space: string, update: Uint8Array): Promise<void> {
    this.check(space)
    const held = this.held(space)
    held.log.push(update.slice())
    held.logSize += update.length
  }

  async compact (space: string, snapshot: Uint8Array): Promise<void> {
    this.check(space)
    const held = this.held(space)
    held.snapshot = snapshot.slice()
    held.log = []
    held.logSize = 0
  }

  logSize (space: string): number {
    this.check(space)
    return this.backing.get(space)?.logSize ?? 0
  }

  async remove (space: string): Promise<void> {
    this.check(space)
    this.backing.delete(space)
  }

  async close (): Promise<void> {
    this.closed = true
  }

  private check (space: string): void {
    assertSpaceName(space)
    if (this.closed) throw new StoreClosedError()
  }

  private held (space: string): MemorySpace {
    let held = this.backing.get(space)
    if (held === undefined) {
      held = { snapshot: null, log: [], logSize: 0 }
      this.backing.set(space, held)
    }
    return held
  }
}
