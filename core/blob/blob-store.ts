// What a blob store is: content-addressed bytes (named by their sha256, hex), complete or
// partial. A partial blob grows by appends at its end, so a transfer cut in the middle resumes
// where it stopped; `complete` checks the hash before the blob can be read. Knows nothing of
// tasks or of the network. Implementations: FileBlobStore (Node), IndexedDbBlobStore (browsers);
// both pass the one shared suite (blob-store-suite.ts).

import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'

export interface BlobStore {
  /** Size of the complete blob, undefined when it is not (completely) here. */
  size (hash: string): Promise<number | undefined>
  /** `length` bytes from `offset` of a complete blob (fewer at its end). */
  read (hash: string, offset: number, length: number): Promise<Uint8Array>
  /** Bytes held so far of a blob being received (0 when none). */
  partialSize (hash: string): Promise<number>
  /** Adds `bytes` to a partial blob; `offset` must be its partialSize (a stale offset is refused). */
  append (hash: string, offset: number, bytes: Uint8Array): Promise<void>
  /** Checks the partial blob against its hash and makes it readable; a mismatch drops it (BlobHashMismatchError). */
  complete (hash: string): Promise<void>
  /** Stores whole bytes; returns their hash. */
  put (bytes: Uint8Array): Promise<string>
  /** Removes the blob, complete or partial. */
  delete (hash: string): Promise<void>
  close (): Promise<void>
}

/** Blobs larger than this are refused by default (stores and the protocol). */
export const DEFAULT_MAX_BLOB_BYTES = 64 * 1024 * 1024

export class BlobHashMismatchError extends Error {
  override name = 'BlobHashMismatchError'
}

export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError'
}

export class BlobTooLargeError extends Error {
  override name = 'BlobTooLargeError'
}

/** An append at an offset other than the partial blob's end (two writers, or a stale resume). */
export class BlobOffsetError extends Error {
  override name = 'BlobOffsetError'
}

export class InvalidBlobHashError extends Error {
  override name = 'InvalidBlobHashError'
}

/** Lowercase hex sha256 of `bytes`. */
export function blobHash (bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes))
}

/** An incremental sha256 (the stores hash a partial blob chunk by chunk). */
export function blobHasher (): { update: (bytes: Uint8Array) => void, digest: () => string } {
  const h = sha256.create()
  return { update: (b) => { h.update(b) }, digest: () => bytesToHex(h.digest()) }
}

/** Throws InvalidBlobHashError unless `hash` is 64 lowercase hex characters (it names files and keys). */
export function checkBlobHash (hash: string): void {
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new InvalidBlobHashError(`not a sha256 hash: ${JSON.stringify(String(hash).slice(0, 80))}`)
}
