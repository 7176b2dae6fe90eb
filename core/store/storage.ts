// The small interface every store implements. A store knows nothing about Yjs
// documents: it keeps, per space, opaque update bytes in order.

import { MAX_SPACE_NAME_BYTES } from '../constants.ts'

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

// The errors and the space-name rule are part of the contract: every store
// throws the same classes, so callers and the shared suite can match them by name.

/** An operation was issued after `close()`. */
export class StoreClosedError extends Error {
  name = 'StoreClosedError'
  constructor () {
    super('the store is closed')
  }
}

/** A space name that is not safe as a file name (and as a sync-stream hello). */
export class InvalidSpaceNameError extends Error {
  name = 'InvalidSpaceNameError'
  space: string
  constructor (space: string) {
    super(`invalid space name ${JSON.stringify(space.length > 140 ? space.slice(0, 140) + '…' : space)}: use 1 to ${MAX_SPACE_NAME_BYTES} characters from A-Z a-z 0-9 . _ -, not starting with '.'`)
    this.space = space
  }
}

// No leading '.': that rules out '.', '..' and hidden files in one stroke.
const SPACE_NAME = new RegExp(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,${MAX_SPACE_NAME_BYTES - 1}}$`)

/** Throws `InvalidSpaceNameError` unless `space` is a valid space name. */
export function assertSpaceName (space: string): void {
  if (typeof space !== 'string' || !SPACE_NAME.test(space)) throw new InvalidSpaceNameError(String(space))
}

/**
 * Something written did not reach the storage (a full disk, an I/O error). What was written
 * is still in memory and is retried; `cause` is the storage's own error.
 */
export class StorageFailedError extends Error {
  name = 'StorageFailedError'
  constructor (cause: unknown) {
    super(String((cause as Error)?.message ?? cause), { cause })
  }
}
