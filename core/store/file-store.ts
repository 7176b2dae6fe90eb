// The durable store: per space an append-only log of checksummed records,
// group-committed with one fdatasync per batch, compacted into an atomically replaced snapshot.

import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { statSync } from 'node:fs'
import { dirname, join, relative, sep } from 'node:path'
import { crc32 } from 'node:zlib'
import { StoreClosedError, assertSpaceName } from './storage.ts'
import type { Storage } from './storage.ts'

/**
 * A record is `[u32 length][u32 crc32][payload]`, little-endian. The checksum
 * covers the length bytes as well as the payload, so a zero-filled tail (which
 * some filesystems leave after a crash) never reads as a valid empty record.
 */
export const RECORD_HEADER_BYTES = 8
const MAX_RECORD_PAYLOAD = 0xffff_ffff

/** Why the tail of a log was dropped on load. */
export type TailDropReason = 'truncated' | 'checksum'

export interface TailDropped {
  space: string
  /** Offset of the first bad byte: the log is cut back to here. */
  offset: number
  droppedBytes: number
  reason: TailDropReason
}

/** Options of `FileStore`. */
export interface FileStoreOptions {
  /** Directory holding `<space>.log` and `<space>.snapshot`; created if missing. */
  dir: string
  /** Default true. False skips every fsync: only for measuring what fsync costs. */
  fsync?: boolean
  /** Told whenever a torn or corrupt tail is dropped. Default: one line on stderr. */
  onTailDropped?: (event: TailDropped) => void
}

/** The snapshot file exists but does not hold one whole, intact record. */
export class CorruptSnapshotError extends Error {
  name = 'CorruptSnapshotError'
  space: string
  constructor (space: string, detail: string) {
    super(`snapshot of space ${JSON.stringify(space)} is corrupt: ${detail}`)
    this.space = space
  }
}

/**
 * A write or fsync of this space failed earlier and the log could not yet be cut back to its
 * last durable record; the next operation tries again (a full disk frees up, a truncate succeeds).
 */
export class SpaceFailedError extends Error {
  name = 'SpaceFailedError'
  space: string
  constructor (space: string, cause: unknown) {
    super(`space ${JSON.stringify(space)}: the log could not be repaired after a failed write: ${String((cause as Error)?.message ?? cause)}`, { cause })
    this.space = space
  }
}

/** An update too large for a record's u32 length. */
export class RecordTooLargeError extends Error {
  name = 'RecordTooLargeError'
  constructor (bytes: number) {
    super(`an update of ${bytes} bytes does not fit in one record (max ${MAX_RECORD_PAYLOAD})`)
  }
}

/** Frames one payload as a record. Copies, so the caller may reuse its buffer at once. */
export function encodeRecord (payload: Uint8Array): Buffer {
  if (payload.length > MAX_RECORD_PAYLOAD) throw new RecordTooLargeError(payload.length)
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length)
  record.writeUInt32LE(payload.length, 0)
  record.writeUInt32LE(recordChecksum(record.subarray(0, 4), payload), 4)
  record.set(payload, RECORD_HEADER_BYTES)
  return record
}

export interface DecodedRecords {
  /** Each payload in its own buffer. */
  records: Uint8Array[]
  /** Bytes of `bytes` taken by whole, intact records. */
  end: number
  /** Set when bytes after `end` were not a whole, intact record. */
  problem?: TailDropReason
}

/** Reads records from the start of `bytes` up to the first one that is torn or corrupt. */
export function decodeRecords (bytes: Uint8Array): DecodedRecords {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const records: Uint8Array[] = []
  let at = 0
  while (at < bytes.length) {
    if (bytes.length - at < RECORD_HEADER_BYTES) return { records, end: at, problem: 'truncated' }
    const length = view.getUint32(at, true)
    const checksum = view.getUint32(at + 4, true)
    // A corrupt length usually points past the end; that reads as a torn record too.
    if (length > bytes.length - at - RECORD_HEADER_BYTES) return { records, end: at, problem: 'truncated' }
    const payload = bytes.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + length)
    if (recordChecksum(bytes.subarray(at, at + 4), payload) !== checksum) return { records, end: at, problem: 'checksum' }
    // A plain copy: Buffer#slice would share the file's memory.
    records.push(new Uint8Array(payload))
    at += RECORD_HEADER_BYTES + length
  }
  return { records, end: at }
}

function recordChecksum (lengthBytes: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(lengthBytes))
}

type SpaceOp =
  | { kind: 'append', record: Buffer, resolve: () => void, reject: (err: unknown) => void }
  | { kind: 'task', run: () => Promise<unknown>, resolve: (value: any) => void, reject: (err: unknown) => void }

interface SpaceState {
  name: string
  /** Every operation on a space runs in issue order; consecutive appends form one batch. */
  queue: SpaceOp[]
  draining: boolean
  /** The open log (O_APPEND), or null until the space is first used (or after remove). */
  log: FileHandle | null
  /** Bytes of intact records in the log: after a failed write, the durable ones. */
  size: number
  /**
   * Set by a failed write or fsync: the log may hold part of a record (or, after a failed fsync,
   * bytes the page cache shows but the disk may not have) past `size`. Cleared by `repair`,
   * which cuts the log back to `size` before anything else is written or read.
   */
  failure: unknown
}

/** Counters for benchmarks and for tests that check group commit. */
export interface FileStoreStats {
  appends: number
  /** Write batches, each one write and (with fsync on) one fdatasync. */
  batches: number
}

/** The file-backed `Storage`. One process at a time may hold a directory (the home lock sees to that). */
export class FileStore implements Storage {
  readonly dir: string
  readonly fsync: boolean
  private readonly onTailDropped: (event: TailDropped) => void
  private readonly spaces = new Map<string, SpaceState>()
  private dirReady: Promise<void> | null = null
  private closed = false
  private closing: Promise<void> | null = null
  private readonly counters: FileStoreStats = { appends: 0, batches: 0 }

  constructor (options: FileStoreOptions) {
    this.dir = options.dir
    this.fsync = options.fsync ?? true
    this.onTailDropped = options.onTailDropped ?? (event => {
      console.warn(`dispatch store: dropped ${event.droppedBytes} ${event.reason} bytes at offset ${event.offset} of the log of space ${JSON.stringify(event.space)}`)
    })
  }

  /** Creates the directory if needed, so a bad `dir` fails here rather than on first use. */
  static async open (options: FileStoreOptions): Promise<FileStore> {
    const store = new FileStore(options)
    await store.ensureDir()
    return store
  }

  stats (): FileStoreStats {
    return { ...this.counters }
  }

  load (space: string): Promise<Uint8Array[]> {
    return this.enqueueTask(space, async state => {
      const fromLog = await this.openSpace(state)
      const snapshot = await this.readSnapshot(state.name)
      // The space was just opened: its log was read and checked a moment ago.
      const log = fromLog ?? await this.readLog(state)
      return snapshot === null ? log : [snapshot, ...log]
    })
  }

  append (space: string, update: Uint8Array): Promise<void> {
    let record: Buffer
    try {
      assertSpaceName(space)
      if (this.closed) throw new StoreClosedError()
      record = encodeRecord(update)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      this.enqueue(this.space(space), { kind: 'append', record, resolve, reject })
    })
  }

  compact (space: string, snapshot: Uint8Array): Promise<void> {
    let record: Buffer
    try {
      record = encodeRecord(snapshot)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.enqueueTask(space, async state => {
      await this.openSpace(state)
      const log = state.log as FileHandle
      const tmp = this.path(state.name, '.snapshot.tmp')
      try {
        const file = await open(tmp, 'w', 0o600)
        try {
          await writeAll(file, record)
          if (this.fsync) await file.sync()
        } finally {
          await file.close()
        }
        await rename(tmp, this.path(state.name, '.snapshot'))
      } catch (err) {
        // A half-written snapshot (a full disk) would hold on to the room the log needs.
        await rm(tmp, { force: true }).catch(() => {})
        throw err
      }
      await this.syncDir()
      // A crash before this truncation leaves old records after the snapshot: harmless,
      // since applying an update twice changes nothing.
      await this.guard(state, async () => {
        await log.truncate(0)
        if (this.fsync) await log.datasync()
        state.size = 0
      })
    })
  }

  logSize (space: string): number {
    assertSpaceName(space)
    if (this.closed) throw new StoreClosedError()
    const state = this.spaces.get(space)
    if (state !== undefined && state.log !== null) return state.size
    // Not opened yet in this process: the file's size is close enough to decide on compaction.
    try {
      return statSync(this.path(space, '.log')).size
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw err
    }
  }

  remove (space: string): Promise<void> {
    return this.enqueueTask(space, async state => {
      await this.ensureDir()
      if (state.log !== null) {
        await state.log.close()
        state.log = null
      }
      await rm(this.path(state.name, '.log'), { force: true })
      await rm(this.path(state.name, '.snapshot'), { force: true })
      await rm(this.path(state.name, '.snapshot.tmp'), { force: true })
      await this.syncDir()
      state.size = 0
      // Whatever went wrong with the old files went with them.
      state.failure = undefined
    }, { evenIfFailed: true })
  }

  close (): Promise<void> {
    if (this.closing !== null) return this.closing
    this.closed = true
    // Appends and other work issued before close() still complete; then the logs are closed.
    this.closing = Promise.all([...this.spaces.values()].map(state => new Promise<void>(resolve => {
      this.enqueue(state, {
        kind: 'task',
        run: async () => {
          if (state.log !== null) await state.log.close()
          state.log = null
        },
        resolve,
        // A log that will not close cleanly is still released; nothing more to wait for.
        reject: () => resolve()
      })
    }))).then(() => {})
    return this.closing
  }

  private path (space: string, suffix: string): string {
    return join(this.dir, space + suffix)
  }

  private space (name: string): SpaceState {
    let state = this.spaces.get(name)
    if (state === undefined) {
      state = { name, queue: [], draining: false, log: null, size: 0, failure: undefined }
      this.spaces.set(name, state)
    }
    return state
  }

  private enqueueTask<T> (space: string, run: (state: SpaceState) => Promise<T>, { evenIfFailed = false } = {}): Promise<T> {
    try {
      assertSpaceName(space)
      if (this.closed) throw new StoreClosedError()
    } catch (err) {
      return Promise.reject(err)
    }
    const state = this.space(space)
    return new Promise<T>((resolve, reject) => {
      this.enqueue(state, {
        kind: 'task',
        run: async () => {
          if (!evenIfFailed) await this.repair(state)
          return await run(state)
        },
        resolve,
        reject
      })
    })
  }

  private enqueue (state: SpaceState, op: SpaceOp): void {
    state.queue.push(op)
    if (state.draining) return
    state.draining = true
    // Starting on a microtask lets a burst of appends issued in one tick share the first batch.
    queueMicrotask(() => { void this.drain(state) })
  }

  private async drain (state: SpaceState): Promise<void> {
    while (state.queue.length > 0) {
      const head = state.queue[0]
      if (head.kind === 'append') {
        let n = 1
        while (n < state.queue.length && state.queue[n].kind === 'append') n++
        const batch = state.queue.splice(0, n) as Array<Extract<SpaceOp, { kind: 'append' }>>
        try {
          await this.writeBatch(state, batch.map(op => op.record))
          for (const op of batch) op.resolve()
        } catch (err) {
          for (const op of batch) op.reject(err)
        }
      } else {
        state.queue.shift()
        try {
          head.resolve(await head.run())
        } catch (err) {
          head.reject(err)
        }
      }
    }
    state.draining = false
  }

  private async writeBatch (state: SpaceState, records: Buffer[]): Promise<void> {
    await this.repair(state)
    await this.openSpace(state)
    const log = state.log as FileHandle
    const bytes = records.length === 1 ? records[0] : Buffer.concat(records)
    try {
      await this.guard(state, async () => {
        await writeAll(log, bytes)
        if (this.fsync) await log.datasync()
      })
    } catch (err) {
      // Cut the torn record off now, so the log on disk ends clean even if this process ends next.
      await this.repair(state).catch(() => {})
      throw err
    }
    state.size += bytes.length
    this.counters.appends += records.length
    this.counters.batches++
  }

  /**
   * After a failed write, cuts the log back to its last durable record (a truncate needs no free
   * space), so later records follow a clean boundary and a torn one never hides them at load.
   */
  private async repair (state: SpaceState): Promise<void> {
    if (state.failure === undefined || state.log === null) return
    try {
      await state.log.truncate(state.size)
      if (this.fsync) await state.log.datasync()
    } catch (err) {
      throw new SpaceFailedError(state.name, err)
    }
    state.failure = undefined
  }

  /** Runs log I/O whose failure leaves the log in an unknown state past `size`: see `repair`. */
  private async guard (state: SpaceState, io: () => Promise<void>): Promise<void> {
    try {
      await io()
    } catch (err) {
      state.failure = err
      throw err
    }
  }

  /**
   * Opens the log on first use: reads it, cuts a torn or corrupt tail back to the
   * last intact record (so later appends follow good data), and keeps the handle.
   * Returns the records it read, or null if the space was already open.
   */
  private async openSpace (state: SpaceState): Promise<Uint8Array[] | null> {
    if (state.log !== null) return null
    await this.ensureDir()
    await rm(this.path(state.name, '.snapshot.tmp'), { force: true })
    const log = await open(this.path(state.name, '.log'), 'a', 0o600)
    try {
      const records = await this.checkLog(state, log)
      // The log may have just been created: its directory entry must be durable too.
      await this.syncDir()
      state.log = log
      return records
    } catch (err) {
      await log.close()
      throw err
    }
  }

  private async readLog (state: SpaceState): Promise<Uint8Array[]> {
    return await this.checkLog(state, state.log as FileHandle)
  }

  private async checkLog (state: SpaceState, log: FileHandle): Promise<Uint8Array[]> {
    const bytes = await readFile(this.path(state.name, '.log'))
    const { records, end, problem } = decodeRecords(bytes)
    if (problem !== undefined) {
      await this.guard(state, async () => {
        await log.truncate(end)
        if (this.fsync) await log.datasync()
      })
      this.onTailDropped({ space: state.name, offset: end, droppedBytes: bytes.length - end, reason: problem })
    }
    state.size = end
    return records
  }

  private async readSnapshot (space: string): Promise<Uint8Array | null> {
    let bytes: Buffer
    try {
      bytes = await readFile(this.path(space, '.snapshot'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
    // The snapshot is only ever replaced whole by rename, so damage here is not a
    // torn write but a damaged disk: say so rather than silently lose the space.
    const { records, end, problem } = decodeRecords(bytes)
    if (problem !== undefined) throw new CorruptSnapshotError(space, `${problem} record at offset ${end}`)
    if (records.length !== 1) throw new CorruptSnapshotError(space, `${records.length} records, expected 1`)
    return records[0]
  }

  private ensureDir (): Promise<void> {
    if (this.dirReady === null) {
      this.dirReady = (async () => {
        const created = await mkdir(this.dir, { recursive: true, mode: 0o700 })
        if (created === undefined || !this.fsync) return
        // Every directory mkdir created needs its entry in its parent made durable.
        const parts = relative(dirname(created), this.dir).split(sep)
        let at = dirname(created)
        await syncDirectory(at)
        for (const part of parts.slice(0, -1)) {
          at = join(at, part)
          await syncDirectory(at)
        }
      })()
      this.dirReady.catch(() => { this.dirReady = null })
    }
    return this.dirReady
  }

  private async syncDir (): Promise<void> {
    if (this.fsync) await syncDirectory(this.dir)
  }
}

async function syncDirectory (path: string): Promise<void> {
  // Windows cannot open a directory for fsync; its rename is durable without it.
  if (process.platform === 'win32') return
  const dir = await open(path, 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

/** `write` may write less than asked (a full disk, a signal); keep going or fail. */
async function writeAll (file: FileHandle, bytes: Uint8Array): Promise<void> {
  let at = 0
  while (at < bytes.length) {
    const { bytesWritten } = await file.write(bytes, at, bytes.length - at)
    if (bytesWritten === 0) throw new Error('write made no progress')
    at += bytesWritten
  }
}
