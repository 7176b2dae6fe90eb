// A `Storage` on LevelDB, in the on-disk layout of `y-leveldb` (the Yjs LevelDB
// persistence): what this store writes, `LeveldbPersistence` reads, and back.
//
// Why not call `LeveldbPersistence` itself: its writes are not synced to disk, its
// transactions log and swallow errors (a failed write would still resolve), and its
// `flushDocument` merges updates with Yjs, takes three separate writes and is not
// atomic. So this store reuses y-leveldb's key encoding and key layout and does its
// own writes: every write is a `sync: true` batch (durable when it resolves), appends
// arriving while a batch is on disk are group-committed into the next one, and a
// compaction (snapshot put + old updates deleted) is one atomic batch.
//
// Layout (y-leveldb v1): ['v1', space, 'update', clock] -> update bytes, clocks
// increasing; ['v1_sv', space] -> varUint clock · varUint8Array state vector (what
// `getAllDocNames` lists). Ours in addition: ['v1', space, 'meta', SNAPSHOT_META] ->
// the clock of the snapshot (a lib0 `encodeAny` number, as y-leveldb's `setMeta`).

import { Level } from 'level'
import { keyEncoding } from 'y-leveldb'
import * as Y from 'yjs'
import * as buffer from 'lib0/buffer'
import * as encoding from 'lib0/encoding'
import { StoreClosedError, assertSpaceName } from './storage.ts'
import type { Storage } from './storage.ts'

/** Meta key holding the clock of the latest snapshot (updates at or before it are not "log"). */
export const SNAPSHOT_META = 'dispatch-snapshot-clock'

type Key = Array<string | number>
type BatchOp = { type: 'put', key: Key, value: Uint8Array } | { type: 'del', key: Key }
type Db = Level<Key, Uint8Array>

export interface LevelStoreOptions {
  /** The LevelDB directory (created if missing). Another y-leveldb database works too. */
  dir: string
  /** Sync every batch to disk before resolving (default true). Off only for tests/benchmarks. */
  fsync?: boolean
}

/** What the store knows of one space, kept so clocks are assigned synchronously, in call order. */
interface SpaceState {
  /** The next clock to write. */
  next: number
  /** The clock of the oldest entry still stored (deletes on compaction start there). */
  first: number
  /** Clock of the snapshot, or -1. */
  snapshot: number
  logSize: number
}

interface OpenBatch {
  ops: BatchOp[]
  done: Promise<void>
}

/**
 * Durable storage in a LevelDB database with y-leveldb's layout. Node only (native
 * binding), so it is not part of the package root: import it from
 * `dispatch-p2p/leveldb`. One process at a time may hold a LevelDB directory.
 */
export class LevelStore implements Storage {
  readonly dir: string
  private readonly db: Db
  private readonly sync: boolean
  private readonly spaces = new Map<string, SpaceState>()
  /** Resolves once the database is open and every space's clocks are known. */
  private readonly ready: Promise<void>
  /** Every write and ordered read chains here, in call order. */
  private tail: Promise<void>
  /** The batch that has not started writing yet; appends join it (group commit). */
  private openBatch: OpenBatch | null = null
  private closed = false
  private closing: Promise<void> | null = null

  constructor (options: LevelStoreOptions) {
    this.dir = options.dir
    this.sync = options.fsync ?? true
    // y-leveldb's key encoding turns ['v1', name, 'update', n] into ordered bytes.
    this.db = new Level<Key, Uint8Array>(options.dir, { keyEncoding: keyEncoding as never, valueEncoding: 'view' })
    this.ready = this.scan()
    // The tail only orders writes; a failed scan is reported by every call that awaits `ready`.
    this.tail = this.ready.catch(() => {})
  }

  /** Open the database and read what it holds; throws if it cannot be opened (e.g. held by another process). */
  static async open (options: LevelStoreOptions): Promise<LevelStore> {
    const store = new LevelStore(options)
    await store.ready
    return store
  }

  async load (space: string): Promise<Uint8Array[]> {
    this.check(space)
    await this.ready
    return await this.ordered(async () => {
      const out: Uint8Array[] = []
      for await (const value of this.db.values({ gte: updateKey(space, 0), lt: updateKey(space, 0xffffffff) })) {
        out.push(new Uint8Array(value)) // a copy: the caller may write into it
      }
      return out
    })
  }

  async append (space: string, update: Uint8Array): Promise<void> {
    this.check(space)
    const copy = update.slice() // now: the caller may reuse its buffer once we yield
    await this.ready
    const state = this.state(space)
    const clock = state.next++
    const ops: BatchOp[] = [{ type: 'put', key: updateKey(space, clock), value: copy }]
    // y-leveldb lists documents by their state-vector key; it writes one with the first update.
    if (clock === 0) ops.push({ type: 'put', key: ['v1_sv', space], value: stateVectorRecord(copy, 0) })
    state.logSize += copy.length
    await this.write(ops)
  }

  async compact (space: string, snapshot: Uint8Array): Promise<void> {
    this.check(space)
    const copy = snapshot.slice()
    await this.ready
    const state = this.state(space)
    const clock = state.next++
    const ops: BatchOp[] = []
    for (let c = state.first; c < clock; c++) ops.push({ type: 'del', key: updateKey(space, c) })
    ops.push({ type: 'put', key: updateKey(space, clock), value: copy })
    ops.push({ type: 'put', key: ['v1', space, 'meta', SNAPSHOT_META], value: buffer.encodeAny(clock) })
    ops.push({ type: 'put', key: ['v1_sv', space], value: stateVectorRecord(copy, clock) })
    state.first = clock
    state.snapshot = clock
    state.logSize = 0
    await this.write(ops)
  }

  logSize (space: string): number {
    this.check(space)
    return this.spaces.get(space)?.logSize ?? 0
  }

  async remove (space: string): Promise<void> {
    this.check(space)
    await this.ready
    this.spaces.delete(space)
    await this.ordered(async () => {
      await this.db.batch([{ type: 'del', key: ['v1_sv', space] }], { sync: this.sync })
      // Every key of the space sorts between these two (y-leveldb's own bounds).
      await this.db.clear({ gte: ['v1', space], lt: ['v1', space, 'zzzzzzz'] })
    })
  }

  async close (): Promise<void> {
    if (this.closing !== null) return await this.closing
    this.closed = true
    this.closing = (async () => {
      // Closing after a failed scan: the failure was reported to whoever awaited `ready`; close anyway.
      await this.ready.catch(() => {})
      await this.tail
      await this.db.close()
    })()
    await this.closing
  }

  private check (space: string): void {
    assertSpaceName(space)
    if (this.closed) throw new StoreClosedError()
  }

  private state (space: string): SpaceState {
    let state = this.spaces.get(space)
    if (state === undefined) {
      state = { next: 0, first: 0, snapshot: -1, logSize: 0 }
      this.spaces.set(space, state)
    }
    return state
  }

  /** Queue `ops` into the batch that has not started yet; resolves once that batch is durable. */
  private async write (ops: BatchOp[]): Promise<void> {
    if (this.openBatch === null) {
      const batch: OpenBatch = { ops: [], done: Promise.resolve() }
      batch.done = this.tail.then(async () => {
        if (this.openBatch === batch) this.openBatch = null
        await this.db.batch(batch.ops, { sync: this.sync })
      })
      // The tail only orders batches: each caller gets its own batch's outcome from `batch.done`.
      this.tail = batch.done.catch(() => {})
      this.openBatch = batch
    }
    this.openBatch.ops.push(...ops)
    await this.openBatch.done
  }

  /** Run `fn` after every write issued so far, and before any issued later. */
  private async ordered<T> (fn: () => Promise<T>): Promise<T> {
    this.openBatch = null
    const run = this.tail.then(fn)
    this.tail = run.then(() => {}, () => {})
    return await run
  }

  /** Open the database and learn, per space, its clocks and the bytes logged since its snapshot. */
  private async scan (): Promise<void> {
    await this.db.open()
    const sizes = new Map<string, Array<[number, number]>>()
    // Keys ['v1', …] sort before ['v2'] and after everything else y-leveldb writes.
    for await (const [key, value] of this.db.iterator({ gte: ['v1'], lt: ['v2'] })) {
      const [, space, kind, sub] = key
      if (typeof space !== 'string') continue
      const state = this.state(space)
      if (kind === 'update' && typeof sub === 'number') {
        if (!sizes.has(space)) { sizes.set(space, []); state.first = sub }
        sizes.get(space)?.push([sub, value.length])
        state.next = Math.max(state.next, sub + 1)
      } else if (kind === 'meta' && sub === SNAPSHOT_META) {
        const clock = buffer.decodeAny(value)
        if (typeof clock === 'number') state.snapshot = clock
      }
    }
    for (const [space, entries] of sizes) {
      const state = this.state(space)
      state.logSize = entries.reduce((sum, [clock, size]) => clock > state.snapshot ? sum + size : sum, 0)
    }
    for (const [space, state] of this.spaces) if (state.next === 0) this.spaces.delete(space)
  }
}

function updateKey (space: string, clock: number): Key {
  return ['v1', space, 'update', clock]
}

/** y-leveldb's state-vector record. Bytes that are not a Yjs update get an empty vector. */
function stateVectorRecord (update: Uint8Array, clock: number): Uint8Array {
  let sv: Uint8Array
  try {
    sv = Y.encodeStateVectorFromUpdate(update)
  } catch {
    sv = Y.encodeStateVector(new Y.Doc())
  }
  return encoding.encode(enc => {
    encoding.writeVarUint(enc, clock)
    encoding.writeVarUint8Array(enc, sv)
  })
}
