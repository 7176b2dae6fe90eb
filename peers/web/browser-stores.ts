// The phone page's settings and task archive, in one IndexedDB database: what config.json and
// archive.jsonl are to a home. Every write is a strict-durability transaction.

import { idbRequest as done, idbTransaction as complete } from '../../core/browser.ts'
import type { ArchivedTask, Settings, SettingsStore, TaskArchive } from '../app/ports.ts'

const SETTINGS = 'settings'
const ARCHIVE = 'archive'
const SETTINGS_KEY = 'settings'

export class BrowserStores implements SettingsStore, TaskArchive {
  readonly #db: IDBDatabase
  #writes: Promise<unknown> = Promise.resolve()

  private constructor (db: IDBDatabase) {
    this.#db = db
  }

  static async open (name: string): Promise<BrowserStores> {
    const request = indexedDB.open(name, 1)
    request.onupgradeneeded = () => {
      request.result.createObjectStore(SETTINGS)
      request.result.createObjectStore(ARCHIVE, { keyPath: 'id' })
    }
    const db = await done(request)
    // Another tab upgrading the schema must not be blocked by us forever.
    db.onversionchange = () => { db.close() }
    return new BrowserStores(db)
  }

  async read (): Promise<Settings> {
    const value = await done(this.#db.transaction(SETTINGS, 'readonly').objectStore(SETTINGS).get(SETTINGS_KEY))
    return typeof value === 'object' && value !== null ? value as Settings : {}
  }

  async update (change: (settings: Settings) => void): Promise<void> {
    // One read-modify-write at a time, so two updates never overwrite each other.
    const write = this.#writes.then(async () => {
      const settings = await this.read()
      change(settings)
      await this.#put(SETTINGS, settings, SETTINGS_KEY)
    })
    // The queue only orders writes: each caller gets its own write's outcome from `write`.
    this.#writes = write.catch(() => {})
    await write
  }

  async append (tasks: ArchivedTask[]): Promise<void> {
    if (tasks.length === 0) return
    const tx = this.#db.transaction(ARCHIVE, 'readwrite', { durability: 'strict' })
    for (const t of tasks) tx.objectStore(ARCHIVE).put(t)
    await complete(tx)
  }

  async list (): Promise<ArchivedTask[]> {
    const all = await done(this.#db.transaction(ARCHIVE, 'readonly').objectStore(ARCHIVE).getAll()) as ArchivedTask[]
    return all.sort((a, b) => a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  }

  close (): void {
    this.#db.close()
  }

  async #put (store: string, value: unknown, key?: string): Promise<void> {
    const tx = this.#db.transaction(store, 'readwrite', { durability: 'strict' })
    tx.objectStore(store).put(value, key)
    await complete(tx)
  }
}

