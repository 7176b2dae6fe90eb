// The blob store of a browser: IndexedDB, one record per received chunk keyed [hash, offset]
// and one per blob ({size, complete}). An append is one transaction (chunk + new size), so a
// page closed mid-transfer resumes from the last chunk it stored.

import { idbRequest, idbTransaction } from '../store/idb.ts'
import {
  BlobHashMismatchError, BlobNotFoundError, BlobOffsetError, BlobTooLargeError, DEFAULT_MAX_BLOB_BYTES,
  blobHash, blobHasher, checkBlobHash
} from './blob-store.ts'
import type { BlobStore } from './blob-store.ts'

const BLOBS = 'blobs'
const CHUNKS = 'chunks'
/** Chunks stored by `put`: the size a transfer uses, so reads cost the same either way. */
const PUT_CHUNK_BYTES = 256 * 1024

interface BlobRecord { size: number, complete: boolean }

export interface IndexedDbBlobStoreOptions {
  name?: string
  maxBytes?: number
  factory?: IDBFactory
}

export class IndexedDbBlobStore implements BlobStore {
  readonly maxBytes: number
  readonly #db: IDBDatabase

  private constructor (db: IDBDatabase, maxBytes: number) {
    this.#db = db
    this.maxBytes = maxBytes
  }

  static async open (options: IndexedDbBlobStoreOptions = {}): Promise<IndexedDbBlobStore> {
    const factory = options.factory ?? indexedDB
    const request = factory.open(options.name ?? 'dispatch-blobs', 1)
    request.onupgradeneeded = () => {
      const db = request.result
      if (!db.objectStoreNames.contains(BLOBS)) db.createObjectStore(BLOBS)
      if (!db.objectStoreNames.contains(CHUNKS)) db.createObjectStore(CHUNKS)
    }
    return new IndexedDbBlobStore(await idbRequest(request), options.maxBytes ?? DEFAULT_MAX_BLOB_BYTES)
  }

  static async destroy (name: string, factory: IDBFactory = indexedDB): Promise<void> {
    await idbRequest(factory.deleteDatabase(name))
  }

  async #record (hash: string): Promise<BlobRecord | undefined> {
    checkBlobHash(hash)
    const tx = this.#db.transaction(BLOBS, 'readonly')
    return await idbRequest(tx.objectStore(BLOBS).get(hash)) as BlobRecord | undefined
  }

  /** The chunks of a blob in offset order, with their offsets. */
  async #chunks (hash: string): Promise<Array<{ offset: number, bytes: Uint8Array }>> {
    const tx = this.#db.transaction(CHUNKS, 'readonly')
    const range = IDBKeyRange.bound([hash, 0], [hash, Number.MAX_SAFE_INTEGER])
    const store = tx.objectStore(CHUNKS)
    const [keys, values] = await Promise.all([idbRequest(store.getAllKeys(range)), idbRequest(store.getAll(range))])
    return keys.map((k, i) => ({ offset: (k as [string, number])[1], bytes: new Uint8Array(values[i] as ArrayBuffer) }))
  }

  async size (hash: string): Promise<number | undefined> {
    const r = await this.#record(hash)
    return r?.complete === true ? r.size : undefined
  }

  async read (hash: string, offset: number, length: number): Promise<Uint8Array> {
    const r = await this.#record(hash)
    if (r?.complete !== true) throw new BlobNotFoundError(`no blob ${hash}`)
    const end = Math.min(r.size, offset + Math.max(0, length))
    const out = new Uint8Array(Math.max(0, end - offset))
    for (const c of await this.#chunks(hash)) {
      const from = Math.max(offset, c.offset)
      const to = Math.min(end, c.offset + c.bytes.length)
      if (from < to) out.set(c.bytes.subarray(from - c.offset, to - c.offset), from - offset)
    }
    return out
  }

  async partialSize (hash: string): Promise<number> {
    const r = await this.#record(hash)
    return r === undefined || r.complete ? 0 : r.size
  }

  async append (hash: string, offset: number, bytes: Uint8Array): Promise<void> {
    checkBlobHash(hash)
    const tx = this.#db.transaction([BLOBS, CHUNKS], 'readwrite')
    const blobs = tx.objectStore(BLOBS)
    const done = idbTransaction(tx)
    const r = await idbRequest(blobs.get(hash)) as BlobRecord | undefined
    const at = r === undefined || r.complete ? 0 : r.size
    const refuse = async (error: Error): Promise<never> => {
      tx.abort()
      // The abort we just asked for rejects `done`; the error the caller gets is `error`.
      await done.catch(() => {})
      throw error
    }
    if (offset !== at || (r?.complete ?? false)) await refuse(new BlobOffsetError(`blob ${hash.slice(0, 12)}: append at ${offset}, but ${at} bytes are held`))
    if (at + bytes.length > this.maxBytes) await refuse(new BlobTooLargeError(`blob ${hash.slice(0, 12)} would exceed ${this.maxBytes} bytes`))
    // Stored as an ArrayBuffer of exactly these bytes (a view's buffer may be larger).
    tx.objectStore(CHUNKS).put(bytes.slice().buffer, [hash, offset])
    blobs.put({ size: at + bytes.length, complete: false } satisfies BlobRecord, hash)
    await done
  }

  async complete (hash: string): Promise<void> {
    const r = await this.#record(hash)
    if (r === undefined || r.complete) throw new BlobNotFoundError(`no partial blob ${hash}`)
    const hasher = blobHasher()
    for (const c of await this.#chunks(hash)) hasher.update(c.bytes)
    const got = hasher.digest()
    if (got !== hash) {
      await this.delete(hash)
      throw new BlobHashMismatchError(`blob ${hash.slice(0, 12)}: received bytes hash to ${got.slice(0, 12)}; dropped`)
    }
    const tx = this.#db.transaction(BLOBS, 'readwrite')
    tx.objectStore(BLOBS).put({ size: r.size, complete: true } satisfies BlobRecord, hash)
    await idbTransaction(tx)
  }

  async put (bytes: Uint8Array): Promise<string> {
    if (bytes.length > this.maxBytes) throw new BlobTooLargeError(`${bytes.length} bytes, more than ${this.maxBytes}`)
    const hash = blobHash(bytes)
    if (await this.size(hash) !== undefined) return hash
    await this.delete(hash)
    const tx = this.#db.transaction([BLOBS, CHUNKS], 'readwrite')
    const chunks = tx.objectStore(CHUNKS)
    for (let at = 0; at < bytes.length; at += PUT_CHUNK_BYTES) chunks.put(bytes.slice(at, at + PUT_CHUNK_BYTES).buffer, [hash, at])
    tx.objectStore(BLOBS).put({ size: bytes.length, complete: true } satisfies BlobRecord, hash)
    await idbTransaction(tx)
    return hash
  }

  async delete (hash: string): Promise<void> {
    checkBlobHash(hash)
    const tx = this.#db.transaction([BLOBS, CHUNKS], 'readwrite')
    tx.objectStore(CHUNKS).delete(IDBKeyRange.bound([hash, 0], [hash, Number.MAX_SAFE_INTEGER]))
    tx.objectStore(BLOBS).delete(hash)
    await idbTransaction(tx)
  }

  async close (): Promise<void> {
    this.#db.close()
  }
}
