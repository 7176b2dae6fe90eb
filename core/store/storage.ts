// The small interface every store implements. A store knows nothing about Yjs
// documents: it keeps, per space, opaque update bytes in order.

/**
 * Durable storage for the updates of one or more spaces.
 *
 * `load` returns what `append` and `compact` left, in order: applying every
 * returned update to an empty `Y.Doc` rebuilds the space. Applying the same
 * update twice is harmless (Yjs updates are idempotent), so a store may return
 * an update both inside a snapshot and after it.
 */
export interface Storage {
  /** Everything stored for `space`, oldest first (a snapshot, if any, comes first). */
  load (space: string): Promise<Uint8Array[]>
  /** Append one update. Resolves only once the update is durable. */
  append (space: string, update: Uint8Array): Promise<void>
  /**
   * Atomically replace everything stored for `space` with `snapshot`, which must
   * contain every update appended so far. Appends issued before the call are
   * ordered before it.
   */
  compact (space: string, snapshot: Uint8Array): Promise<void>
  /** Bytes appended since the last compaction (lets the owner decide when to compact). */
  logSize (space: string): number
  /** Remove everything stored for `space`. */
  remove (space: string): Promise<void>
  /** Flush what is pending and release files. */
  close (): Promise<void>
}
