// A `Storage` in the browser's IndexedDB: the phone web app's durable store.
// One database, a `log` of appended updates (auto-increment keys keep them in order) and one `snapshot` per space.

import { StoreClosedError, assertSpaceName } from './storage.ts'
import type { Storage } from './storage.ts'
import { idbRequest as done, idbTransaction as complete } from './idb.ts'

const LOG = 'log'
const SNAPSHOTS = 'snapshots'
const BY_SPACE = 'space'
const VERSION = 1

export interface IndexedDbStoreOptions {
  /** Database name; one database can hold many spaces. */
  name: string
  /** The IndexedDB factory (the global `indexedDB` by default). */
  factory?: IDBFactory
}

interface LogRecord { space: string, update: Uint8Array }

export class IndexedDbStore implements Storage {
  readonly name: string
  private readonly db: IDBDatabase
  private readonly sizes: Map<string, number>
  private readonly pending = new Set<Promise<unknown>>()
  private closed = false

  private constructor (name: string, db: IDBDatabase, sizes: Map<string, number>) {
    this.name = name
    this.db = db
    this.sizes = sizes
  }

  /** Open (creating if needed) the database and learn each space's log size. */
  static async open (options: IndexedDbStoreOptions): Promise<IndexedDbStore> {
    const factory = options.factory ?? indexedDB
    const request = factory.open(options.name, VERSION)
    request.onupgradeneeded = () => {
      const db = request.result
      const log = db.createObjectStore(LOG, { autoIncrement: true })
      log.createIndex(BY_SPACE, 'space')
      db.createObjectStore(SNAPSHOTS)
    }
    const db = await done(request)
    // Another tab upgrading the schema must not be blocked by us forever.
    db.onversionchange = () => { db.close() }
    const sizes = new Map<string, number>()
    const tx = db.transaction(LOG, 'readonly')
    const cursor = tx.objectStore(LOG).openCursor()
    await new Promise<void>((resolve, reject) => {
      cursor.onsuccess = () => {
        const at = cursor.result
        if (at === null) { resolve(); return }
        const record = at.value as LogRecord
        sizes.set(record.space, (sizes.get(record.space) ?? 0) + record.update.byteLength)
        at.continue()
      }
      cursor.onerror = () => { reject(cursor.error) }
    })
    return new IndexedDbStore(options.name, db, sizes)
  }

  /** Delete a whole database (tests, "forget this device"). */
  static async destroy (name: string, factory: IDBFactory = indexedDB): Promise<void> {
    await done(factory.deleteDatabase(name))
  }

  // Every method opens its transaction synchronously, before any await: IndexedDB runs
  // read-write transactions over the same stores in creation order, which gives the
  // ordering the Storage contract asks for (appends before a compact stay before it).

  async load (space: string): Promise<Uint8Array[]> {
    this.check(space)
    const tx = this.db.transaction([SNAPSHOTS, LOG], 'readonly')
    const snapshot = tx.objectStore(SNAPSHOTS).get(space)
    const log = tx.objectStore(LOG).index(BY_SPACE).getAll(space)
    await this.track(complete(tx))
    const out = (log.result as LogRecord[]).map(r => r.update)
    if (snapshot.result instanceof Uint8Array) out.unshift(snapshot.result)
    return out
  }

  async append (space: string, update: Uint8Array): Promise<void> {
    this.check(space)
    const tx = this.db.transaction(LOG, 'readwrite', { durability: 'strict' })
    // slice(): structured clone would copy a view's whole underlying buffer, and the caller may reuse it.
    const record: LogRecord = { space, update: update.slice() }
    tx.objectStore(LOG).add(record)
    await this.track(complete(tx))
    this.sizes.set(space, (this.sizes.get(space) ?? 0) + update.byteLength)
  }

  async compact (space: string, snapshot: Uint8Array): Promise<void> {
    this.check(space)
    const tx = this.db.transaction([SNAPSHOTS, LOG], 'readwrite', { durability: 'strict' })
    deleteLog(tx, space)
    tx.objectStore(SNAPSHOTS).put(snapshot.slice(), space)
    await this.track(complete(tx))
    this.sizes.delete(space)
  }

  logSize (space: string): number {
    this.check(space)
    return this.sizes.get(space) ?? 0
  }

  async remove (space: string): Promise<void> {
    this.check(space)
    const tx = this.db.transaction([SNAPSHOTS, LOG], 'readwrite', { durability: 'strict' })
    deleteLog(tx, space)
    tx.objectStore(SNAPSHOTS).delete(space)
    await this.track(complete(tx))
    this.sizes.delete(space)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    while (this.pending.size > 0) await Promise.allSettled(Array.from(this.pending))
    this.db.close()
  }

  private check (space: string): void {
    assertSpaceName(space)
    if (this.closed) throw new StoreClosedError()
  }

  private async track<T> (work: Promise<T>): Promise<T> {
    this.pending.add(work)
    try {
      return await work
    } finally {
      this.pending.delete(work)
    }
  }
}

function deleteLog (tx: IDBTransaction, space: string): void {
  const log = tx.objectStore(LOG)
  const keys = log.index(BY_SPACE).getAllKeys(space)
  keys.onsuccess = () => { for (const key of keys.result) log.delete(key) }
}
