// The blob protocol (/dispatch/blob/1.0.0): a member asks another member for a blob by its
// sha256 and gets it chunk by chunk into its own BlobStore. Resumable: the asker starts at what
// its store already holds of the blob (a partial blob), so a transfer cut in the middle goes on
// where it stopped. Gated like sync: a peer that is not a member of an open space is refused.
// Verified: the blob becomes readable only once its bytes hash to the name asked for.
//
// Messages (first byte the type; JSON or raw bytes after it), one request in flight:
//   STAT {hash} -> SIZE {size} | ERROR {code, message}
//   READ {hash, offset, length} -> DATA <bytes> | ERROR {code, message}

import type { Connection, Stream } from '@libp2p/interface'
import { StreamChannel } from '../net/stream-channel.ts'
import { BLOB_CHUNK_BYTES, BLOB_PROTOCOL, BLOB_STEP_TIMEOUT_MS } from '../constants.ts'
import type { SyncNode } from '../node.ts'
import { BlobNotFoundError, BlobTooLargeError, DEFAULT_MAX_BLOB_BYTES, checkBlobHash } from './blob-store.ts'
import type { BlobStore } from './blob-store.ts'

const STAT = 0x01
const READ = 0x02
const SIZE = 0x11
const DATA = 0x12
const ERROR = 0x1f

/** Largest frame on a blob stream: a chunk plus its type byte (and room for a small JSON message). */
const MAX_FRAME = BLOB_CHUNK_BYTES + 1024

export type BlobErrorCode = 'not-a-member' | 'not-found' | 'bad-request'

/** The remote refused: not a member, or it sent something this side cannot read. */
export class BlobRefusedError extends Error {
  override name = 'BlobRefusedError'
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** The stream closed (or went silent) before the blob was complete; what arrived is kept for a resume. */
export class BlobTransferCutError extends Error {
  override name = 'BlobTransferCutError'
}

const text = new TextEncoder()
const untext = new TextDecoder()
const frame = (type: number, body: Uint8Array): Uint8Array => { const out = new Uint8Array(body.length + 1); out[0] = type; out.set(body, 1); return out }
const json = (type: number, value: unknown): Uint8Array => frame(type, text.encode(JSON.stringify(value)))
const parse = (message: Uint8Array): Record<string, unknown> => {
  const v: unknown = JSON.parse(untext.decode(message.subarray(1)))
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected an object')
  return v as Record<string, unknown>
}

export interface BlobServerOptions {
  /** Who may ask (default: the node's members, the sync gate). */
  admits?: (peerId: string) => boolean
  log?: (message: string) => void
}

export interface BlobServer {
  /** Chunks and bytes served so far (what a resumed transfer did not ask for again shows here). */
  readonly stats: { chunks: number, bytes: number, refused: number }
  stop: () => Promise<void>
}

/** Serves `store`'s complete blobs to members over BLOB_PROTOCOL until `stop()`. */
export async function serveBlobs (node: SyncNode, store: BlobStore, options: BlobServerOptions = {}): Promise<BlobServer> {
  const admits = options.admits ?? ((peer: string) => node.isMember(peer))
  const log = options.log ?? (() => {})
  const stats = { chunks: 0, bytes: 0, refused: 0 }
  const serve = (stream: Stream, connection: Connection): void => {
    const peer = connection.remotePeer.toString()
    const channel = new StreamChannel(stream, { maxFrameBytes: MAX_FRAME, maxMessageBytes: MAX_FRAME, onError: (err) => { log(`blob stream from ${peer}: ${err.message}`) } })
    const fail = (code: BlobErrorCode, message: string, close = false): void => {
      channel.send(json(ERROR, { code, message }))
      if (close) channel.close(code)
    }
    // Requests are answered in order, one at a time: each handler awaits the store.
    let queue: Promise<void> = Promise.resolve()
    channel.attach({
      message: (message) => {
        queue = queue.then(async () => { await answer(message) }).catch((err: Error) => {
          // A listener on the network path never throws: the asker gets the reason, the node stays up.
          log(`blob request from ${peer}: ${err.message}`)
          fail('bad-request', err.message)
        })
      },
      close: () => {}
    })
    const answer = async (message: Uint8Array): Promise<void> => {
      if (!admits(peer)) { stats.refused++; fail('not-a-member', 'not a member of any space here', true); return }
      const handlers: Record<number, () => Promise<void>> = {
        [STAT]: async () => {
          const hash = String(parse(message).hash)
          checkBlobHash(hash)
          const size = await store.size(hash)
          if (size === undefined) fail('not-found', `no blob ${hash}`)
          else channel.send(json(SIZE, { size }))
        },
        [READ]: async () => {
          const { hash, offset, length } = parse(message)
          checkBlobHash(String(hash))
          if (typeof offset !== 'number' || typeof length !== 'number' || offset < 0 || length < 0 || length > BLOB_CHUNK_BYTES) throw new Error(`bad read: offset ${String(offset)}, length ${String(length)}`)
          const size = await store.size(String(hash))
          if (size === undefined) { fail('not-found', `no blob ${String(hash)}`); return }
          const bytes = await store.read(String(hash), offset, length)
          stats.chunks++
          stats.bytes += bytes.length
          channel.send(frame(DATA, bytes))
        }
      }
      const handler = handlers[message[0] ?? -1]
      if (handler === undefined) throw new Error(`unknown blob message type ${message[0] ?? 'none'}`)
      await handler()
    }
  }
  await node.libp2p.handle(BLOB_PROTOCOL, (stream, connection) => { serve(stream, connection) }, { runOnLimitedConnection: true })
  return {
    stats,
    stop: async () => {
      // Unhandle fails only while libp2p itself is stopping, which removes every handler anyway.
      if (!node.stopped) await node.libp2p.unhandle(BLOB_PROTOCOL).catch(() => {})
    }
  }
}

export interface FetchBlobOptions {
  signal?: AbortSignal
  /** Refuse blobs larger than this (default DEFAULT_MAX_BLOB_BYTES). */
  maxBytes?: number
  /** After each stored chunk: bytes held so far and the blob's size. */
  onProgress?: (received: number, size: number) => void
}

/**
 * Gets blob `hash` from member `peerId` into `store`, starting at what the store already holds
 * of it; resolves with its size once it is complete and verified. A cut leaves the partial blob
 * (BlobTransferCutError): calling again resumes it.
 */
export async function fetchBlob (node: SyncNode, peerId: string, hash: string, store: BlobStore, options: FetchBlobOptions = {}): Promise<number> {
  checkBlobHash(hash)
  const have = await store.size(hash)
  if (have !== undefined) return have
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BLOB_BYTES
  let stream: Stream
  try {
    const connection = await connectionTo(node, peerId, options.signal)
    stream = await connection.newStream(BLOB_PROTOCOL, { runOnLimitedConnection: true, ...(options.signal !== undefined ? { signal: options.signal } : {}) })
  } catch (err) {
    if (options.signal?.aborted === true) throw err
    // The remote's gate refuses a stranger by closing the connection right after the handshake, with
    // no word on any protocol: however libp2p reports that (a reset dial, an EOF or a bare close
    // event while negotiating the stream), the asker gets the refusal by name.
    if (hungUp(err)) throw refusedByGate(peerId)
    if (err instanceof Error && err.name !== 'Error') throw err
    throw new BlobTransferCutError(`cannot open a blob stream to ${peerId}: ${err instanceof Error ? err.message : String(err)}`)
  }
  const channel = new StreamChannel(stream, { maxFrameBytes: MAX_FRAME, maxMessageBytes: MAX_FRAME })
  const inbox: Uint8Array[] = []
  let closed: string | undefined
  let wake: (() => void) | undefined
  channel.attach({
    message: (m) => { inbox.push(m); wake?.() },
    close: (reason) => { closed = reason ?? 'closed'; wake?.() }
  })
  const onAbort = (): void => { channel.close('aborted') }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  /** The next answer, or a cut (close, abort, silence). */
  const next = async (): Promise<Uint8Array> => {
    const deadline = Date.now() + BLOB_STEP_TIMEOUT_MS
    while (inbox.length === 0) {
      if (options.signal?.aborted === true) throw options.signal.reason ?? new BlobTransferCutError('aborted')
      if (closed !== undefined) throw new BlobTransferCutError(`blob ${hash.slice(0, 12)}: the stream closed (${closed}); what arrived is kept, fetch again to resume`)
      const left = deadline - Date.now()
      if (left <= 0) throw new BlobTransferCutError(`blob ${hash.slice(0, 12)}: no answer in ${BLOB_STEP_TIMEOUT_MS} ms; what arrived is kept, fetch again to resume`)
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, left); wake = () => { clearTimeout(t); resolve() } })
      wake = undefined
    }
    const m = inbox.shift()!
    if (m[0] === ERROR) {
      const e = parse(m)
      if (e.code === 'not-found') throw new BlobNotFoundError(String(e.message))
      throw new BlobRefusedError(String(e.code), String(e.message))
    }
    return m
  }
  try {
    channel.send(json(STAT, { hash }))
    const sizeMessage = await next()
    if (sizeMessage[0] !== SIZE) throw new BlobRefusedError('bad-answer', `expected a size, got message type ${sizeMessage[0] ?? 'none'}`)
    const size = Number(parse(sizeMessage).size)
    if (!Number.isInteger(size) || size < 0) throw new BlobRefusedError('bad-answer', `bad blob size ${String(size)}`)
    if (size > maxBytes) throw new BlobTooLargeError(`blob ${hash.slice(0, 12)} is ${size} bytes, more than the limit of ${maxBytes}`)
    let offset = await store.partialSize(hash)
    if (offset > size) { await store.delete(hash); offset = 0 }
    while (offset < size) {
      const length = Math.min(BLOB_CHUNK_BYTES, size - offset)
      channel.send(json(READ, { hash, offset, length }))
      const data = await next()
      if (data[0] !== DATA || data.length - 1 !== length) throw new BlobRefusedError('bad-answer', `expected ${length} bytes at ${offset}`)
      await store.append(hash, offset, data.subarray(1))
      offset += length
      options.onProgress?.(offset, size)
    }
    await store.complete(hash)
    return size
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    channel.close()
  }
}

/** The remote closed the connection before any blob stream opened on it: its gate refused this device. */
const refusedByGate = (peerId: string): BlobRefusedError =>
  new BlobRefusedError('not-a-member', `${peerId} closed the connection before a blob stream opened: this device is not a member there (or the connection dropped)`)

/** Errors by which libp2p reports that the remote closed or reset the connection or stream. */
const HANG_UP_NAMES = new Set(['UnexpectedEOFError', 'StreamResetError', 'ConnectionClosedError', 'ConnectionClosingError', 'MuxerClosedError', 'MuxerUnavailableError', 'StreamStateError'])
const HANG_UP_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'])

/**
 * Did opening a stream fail because the remote hung up on us (what its connection gate does to a
 * stranger), rather than because it could not be reached (refused, unreachable, timed out)?
 */
function hungUp (err: unknown, depth = 0): boolean {
  // libp2p rejects a stream being negotiated with the connection's bare close event when the remote closes it.
  if (!(err instanceof Error)) return typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'close'
  if (HANG_UP_NAMES.has(err.name)) return true
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && HANG_UP_CODES.has(code)) return true
  if (depth > 3) return false
  const inner = [err.cause, ...(err instanceof AggregateError ? err.errors : [])]
  return inner.some((e) => e !== undefined && hungUp(e, depth + 1))
}

/** An open connection to `peerId`, dialling its known addresses when there is none. */
async function connectionTo (node: SyncNode, peerId: string, signal: AbortSignal | undefined): Promise<Connection> {
  const open = (): Connection | undefined => node.libp2p.getConnections().find((c) => c.remotePeer.toString() === peerId && c.status === 'open')
  const existing = open()
  if (existing !== undefined) return existing
  await node.connectPeer(peerId, signal !== undefined ? { signal } : {})
  const dialled = open()
  // The dial succeeded, yet the connection is gone already: the remote closed it as soon as it opened.
  if (dialled === undefined) throw refusedByGate(peerId)
  return dialled
}
