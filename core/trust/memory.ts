// What a trust gate verified, kept in the space's own storage under `<space>.trust` as a small
// local Y.Doc (never synced), so every store, including y-leveldb's layout, can hold it.

import * as Y from 'yjs'
import type { Storage } from '../store/storage.ts'
import { RetryingWriter } from '../store/retrying-writer.ts'
import type { Timers } from '../sync/timers.ts'
import { MAX_SPACE_NAME_BYTES } from '../constants.ts'
import type { TrustMemory, Verified } from './gate.ts'

/** The storage key of a space's trust memory (a valid space name: it is stored like one). */
export function trustMemoryKey (space: string): string {
  return `${space.slice(0, MAX_SPACE_NAME_BYTES - 6)}.trust`
}

/** A `TrustMemory` persisted in `storage`; `flush` resolves once what was remembered is durable. */
export class StoredTrustMemory implements TrustMemory {
  private readonly doc = new Y.Doc()
  private readonly map = this.doc.getMap<string>('verified')
  /** Told when writes start failing (the space reports it as a 'storage-error'); the entries are still in memory and retried. */
  onError: (error: Error) => void = () => {}
  /** Told when what failed has been written. */
  onRecovered: () => void = () => {}

  private readonly key: string
  private readonly writer: RetryingWriter

  private constructor (storage: Storage, key: string, timers?: Timers) {
    this.key = key
    this.writer = new RetryingWriter(storage, key, { timers, onFailed: err => { this.onError(err) }, onRecovered: () => { this.onRecovered() } })
  }

  static async load (storage: Storage, space: string, timers?: Timers): Promise<StoredTrustMemory> {
    const memory = new StoredTrustMemory(storage, trustMemoryKey(space), timers)
    for (const update of await storage.load(memory.key)) Y.applyUpdate(memory.doc, update)
    memory.doc.on('update', memory.persist)
    return memory
  }

  get remembered (): Verified[] {
    const out: Verified[] = []
    for (const [sig, value] of this.map) {
      try {
        const v = JSON.parse(value) as { body: unknown, seenAt: unknown }
        if (typeof v.body === 'string' && typeof v.seenAt === 'number') out.push({ sig, body: v.body, seenAt: v.seenAt })
      } catch { /* a damaged entry is re-learnt from the document */ }
    }
    return out
  }

  remember (v: Verified): void {
    if (this.map.has(v.sig)) return
    this.map.set(v.sig, JSON.stringify({ body: v.body, seenAt: v.seenAt }))
  }

  get failing (): boolean {
    return this.writer.failing
  }

  /** Rejects with `StorageFailedError` while something remembered is not durable. */
  async flush (): Promise<void> {
    await this.writer.flush()
  }

  close (): void {
    this.doc.off('update', this.persist)
    this.writer.close()
  }

  private readonly persist = (update: Uint8Array): void => {
    this.writer.write(update)
  }
}
