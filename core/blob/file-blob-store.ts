// The blob store of a Node home: one file per complete blob (`<dir>/<sha256>`), partial blobs
// under `<dir>/partial/`, each append fsynced before it is acknowledged, so a resumed transfer
// never re-asks for bytes it was told are stored. A blob becomes readable only by a rename after
// its hash was checked.

import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { writeFileAtomic } from '../store/atomic-file.ts'
import {
  BlobHashMismatchError, BlobNotFoundError, BlobOffsetError, BlobTooLargeError, DEFAULT_MAX_BLOB_BYTES,
  blobHash, blobHasher, checkBlobHash
} from './blob-store.ts'
import type { BlobStore } from './blob-store.ts'

export interface FileBlobStoreOptions {
  maxBytes?: number
}

export class FileBlobStore implements BlobStore {
  readonly dir: string
  readonly maxBytes: number

  private constructor (dir: string, maxBytes: number) {
    this.dir = dir
    this.maxBytes = maxBytes
  }

  static async open (dir: string, options: FileBlobStoreOptions = {}): Promise<FileBlobStore> {
    await fs.mkdir(path.join(dir, 'partial'), { recursive: true, mode: 0o700 })
    return new FileBlobStore(dir, options.maxBytes ?? DEFAULT_MAX_BLOB_BYTES)
  }

  #complete (hash: string): string { checkBlobHash(hash); return path.join(this.dir, hash) }
  #partial (hash: string): string { checkBlobHash(hash); return path.join(this.dir, 'partial', hash) }

  /** Where a complete blob is on disk (for handing it to a program by path). */
  pathOf (hash: string): string { return this.#complete(hash) }

  async size (hash: string): Promise<number | undefined> {
    try { return (await fs.stat(this.#complete(hash))).size } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  async read (hash: string, offset: number, length: number): Promise<Uint8Array> {
    let handle: fs.FileHandle
    try { handle = await fs.open(this.#complete(hash), 'r') } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(`no blob ${hash}`)
      throw err
    }
    try {
      const buf = Buffer.alloc(Math.max(0, length))
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset)
      return new Uint8Array(buf.buffer, buf.byteOffset, bytesRead)
    } finally { await handle.close() }
  }

  async partialSize (hash: string): Promise<number> {
    try { return (await fs.stat(this.#partial(hash))).size } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw err
    }
  }

  async append (hash: string, offset: number, bytes: Uint8Array): Promise<void> {
    const at = await this.partialSize(hash)
    if (offset !== at) throw new BlobOffsetError(`blob ${hash.slice(0, 12)}: append at ${offset}, but ${at} bytes are held`)
    if (at + bytes.length > this.maxBytes) throw new BlobTooLargeError(`blob ${hash.slice(0, 12)} would exceed ${this.maxBytes} bytes`)
    const handle = await fs.open(this.#partial(hash), 'a', 0o600)
    try {
      await handle.write(bytes)
      await handle.sync()
    } finally { await handle.close() }
  }

  async complete (hash: string): Promise<void> {
    const partial = this.#partial(hash)
    const hasher = blobHasher()
    const handle = await fs.open(partial, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new BlobNotFoundError(`no partial blob ${hash}`)
      throw err
    })
    try {
      for await (const chunk of handle.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false })) hasher.update(chunk as Uint8Array)
    } finally { await handle.close() }
    const got = hasher.digest()
    if (got !== hash) {
      await fs.rm(partial, { force: true })
      throw new BlobHashMismatchError(`blob ${hash.slice(0, 12)}: received bytes hash to ${got.slice(0, 12)}; dropped`)
    }
    await fs.rename(partial, this.#complete(hash))
  }

  async put (bytes: Uint8Array): Promise<string> {
    if (bytes.length > this.maxBytes) throw new BlobTooLargeError(`${bytes.length} bytes, more than ${this.maxBytes}`)
    const hash = blobHash(bytes)
    if (await this.size(hash) === undefined) await writeFileAtomic(this.#complete(hash), bytes)
    return hash
  }

  async delete (hash: string): Promise<void> {
    await fs.rm(this.#complete(hash), { force: true })
    await fs.rm(this.#partial(hash), { force: true })
  }

  async close (): Promise<void> {}
}
