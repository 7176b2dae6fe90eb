// A MessageChannel over a libp2p stream. Each frame is varint-length-prefixed
// (limit checked on the prefix before anything is allocated) and starts with a
// kind byte: a whole message, a part of a message too large for one frame, or a
// close carrying a reason. Frames are decoded synchronously inside the stream's
// 'message' events: an async iterator over the stream cost a promise hop per
// chunk, which showed as ~25% of the edit round trip in profiles (bench/).
// Frames sent in one synchronous run leave in one stream write (one Yamux frame, one
// Noise message). On a stream opened without negotiation (`select`), the first write
// also proposes the protocol (multistream-select, optimistically: no wait for the answer).

import { Uint8ArrayList } from 'uint8arraylist'
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import type { ChannelHandler, MessageChannel } from '../sync/channel.ts'
import { MAX_FRAME_BYTES, MAX_MESSAGE_BYTES } from '../constants.ts'
import { SelectReply, encodeProposal } from './optimistic-select.ts'

const FRAME_MESSAGE = 0
const FRAME_PART = 1
const FRAME_LAST_PART = 2
const FRAME_CLOSE = 3

/** A peer announced a frame larger than the limit; refused before allocating it. */
export class FrameTooLargeError extends Error {
  name = 'FrameTooLargeError'
}

/** A frame whose length prefix or contents cannot be read. */
export class MalformedFrameError extends Error {
  name = 'MalformedFrameError'
}

export class ChannelTimeoutError extends Error {
  name = 'ChannelTimeoutError'
}

export interface StreamChannelOptions {
  maxFrameBytes?: number
  maxMessageBytes?: number
  /** Called when the stream is dropped for a framing error. */
  onError?: (error: Error) => void
  /**
   * The stream was opened with no protocol negotiated: propose this protocol in the first write
   * and check the remote's answer before any frame is read (see optimistic-select.ts).
   */
  select?: string
  /**
   * When the remote refuses `select`: a stream to carry on with instead (negotiated some other
   * way); everything sent so far is sent again on it, so callers must only have sent messages
   * that both protocols read alike. Without it, a refusal closes the channel.
   */
  fallback?: () => Promise<Stream>
}

export class StreamChannel implements MessageChannel {
  stream: Stream
  readonly stats = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 }
  closed = false
  /** The protocol the stream speaks; under `select`, the proposed one until the remote answers otherwise. */
  protocol: string

  private readonly maxFrameBytes: number
  private readonly maxMessageBytes: number
  private readonly onError: ((error: Error) => void) | undefined
  private handler: ChannelHandler | null = null
  /** Messages that arrived before a handler was attached. */
  private readonly early: Uint8Array[] = []
  private waiter: ((message: Uint8Array | null) => void) | null = null
  private parts: Uint8ArrayList | null = null
  private closeReason: string | undefined
  private decoder: FrameDecoder
  /** Frames waiting for the end of this synchronous run, to leave in one write. */
  private outgoing: Uint8Array[] = []
  private flushQueued = false
  /** Under `select`: the answer being read, and every frame sent before it came (for a fallback). */
  private reply: SelectReply | null = null
  private unconfirmed: Uint8Array[] | null = null
  private proposal: Uint8Array | null = null
  private readonly fallback: (() => Promise<Stream>) | undefined
  /** While switching to the fallback stream: nothing is written until it is there. */
  private switching = false

  constructor (stream: Stream, options: StreamChannelOptions = {}) {
    this.stream = stream
    this.protocol = options.select ?? stream.protocol
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES
    this.onError = options.onError
    this.fallback = options.fallback
    this.decoder = new FrameDecoder(this.maxFrameBytes)
    if (options.select !== undefined) {
      this.reply = new SelectReply(options.select)
      this.proposal = encodeProposal(options.select)
      this.unconfirmed = []
    }
    this.listen(stream)
  }

  private listen (stream: Stream): void {
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('end', this.onEnd)
    stream.addEventListener('close', this.onClose)
    // A stream whose remote already closed its writable end before we listened.
    if (stream.readStatus === 'closed') queueMicrotask(() => { if (this.stream === stream) this.finish(this.closeReason) })
  }

  private unlisten (stream: Stream): void {
    stream.removeEventListener('message', this.onMessage)
    stream.removeEventListener('end', this.onEnd)
    stream.removeEventListener('close', this.onClose)
  }

  send (message: Uint8Array): void {
    if (this.closed) return
    this.stats.messagesSent++
    const room = this.maxFrameBytes - 1
    if (message.byteLength <= room) {
      this.write(FRAME_MESSAGE, message)
      return
    }
    for (let offset = 0; offset < message.byteLength; offset += room) {
      const end = Math.min(offset + room, message.byteLength)
      this.write(end === message.byteLength ? FRAME_LAST_PART : FRAME_PART, message.subarray(offset, end))
    }
  }

  attach (handler: ChannelHandler): void {
    this.handler = handler
    for (const message of this.early.splice(0)) {
      if (this.closed) return
      handler.message(message)
    }
    if (this.closed) handler.close(this.closeReason)
  }

  /** The first message, before any handler is attached (the hello of a protocol). */
  async firstMessage (timeoutMs: number): Promise<Uint8Array> {
    const early = this.early.shift()
    if (early !== undefined) return early
    if (this.closed) throw new MalformedFrameError(`stream closed before its first message${this.closeReason !== undefined ? `: ${this.closeReason}` : ''}`)
    return await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null
        reject(new ChannelTimeoutError(`no first message within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiter = (message) => {
        clearTimeout(timer)
        this.waiter = null
        if (message === null) reject(new MalformedFrameError(`stream closed before its first message${this.closeReason !== undefined ? `: ${this.closeReason}` : ''}`))
        else resolve(message)
      }
    })
  }

  close (reason?: string): void {
    if (this.closed) return
    if (reason !== undefined) this.write(FRAME_CLOSE, new TextEncoder().encode(reason.slice(0, 200)))
    this.flush()
    this.finish(reason)
    const stream = this.stream
    stream.close().catch(() => stream.abort(new Error('close failed')))
  }

  /** Drop the stream at once (framing error, timeout). */
  abort (error: Error): void {
    if (this.closed) return
    this.finish(error.message)
    this.stream.abort(error)
  }

  private write (kind: number, payload: Uint8Array): void {
    // One allocation per frame: prefix, kind byte and payload in a single buffer.
    const length = payload.byteLength + 1
    const prefix = varintLength(length)
    const frame = new Uint8Array(prefix + length)
    let n = length
    let i = 0
    while (n >= 0x80) { frame[i++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128) }
    frame[i++] = n
    frame[i++] = kind
    frame.set(payload, i)
    this.stats.bytesSent += frame.byteLength
    this.unconfirmed?.push(frame)
    this.outgoing.push(frame)
    if (!this.flushQueued) {
      this.flushQueued = true
      queueMicrotask(this.flushSoon)
    }
  }

  private readonly flushSoon = (): void => { this.flush() }

  /** Hand the frames written so far to the stream, in one write. */
  private flush (): void {
    this.flushQueued = false
    if (this.outgoing.length === 0 || this.switching) return
    const frames = this.outgoing
    this.outgoing = []
    if (this.proposal !== null) { frames.unshift(this.proposal); this.proposal = null }
    try {
      // libp2p buffers what the transport cannot take yet; `false` only asks us to slow down.
      this.stream.send(frames.length === 1 ? frames[0] : new Uint8ArrayList(...frames))
    } catch (err) {
      this.finish((err as Error).message)
    }
  }

  private readonly onMessage = (event: StreamMessageEvent): void => {
    if (this.closed) return
    try {
      this.decoder.push(event.data)
      if (this.reply !== null && !this.readReply()) return
      for (let frame = this.decoder.next(); frame !== null; frame = this.decoder.next()) {
        this.stats.bytesReceived += frame.byteLength + varintLength(frame.byteLength)
        this.receiveFrame(frame)
        if (this.closed) return
      }
    } catch (err) {
      // Every error here is a framing error (the handler never throws): reset the stream.
      const error = err as Error
      if (!this.closed) this.onError?.(error)
      this.abort(error)
    }
  }

  /**
   * Read the remote's answer to our proposal: true once it accepted (frames follow), false while
   * it is incomplete or after it refused (the fallback, if any, takes over).
   */
  private readReply (): boolean {
    const reply = this.reply
    if (reply === null) return true
    for (let line = this.decoder.next(); line !== null; line = this.decoder.next()) {
      const outcome = reply.read(line)
      if (outcome === 'accepted') {
        this.reply = null
        this.unconfirmed = null
        return true
      }
      if (outcome === 'refused') {
        this.reply = null
        void this.switchToFallback(reply.protocol)
        return false
      }
    }
    return false
  }

  /** The remote does not speak the proposed protocol: carry on over the fallback stream, if any. */
  private async switchToFallback (refused: string): Promise<void> {
    const old = this.stream
    this.unlisten(old)
    old.abort(new Error(`${refused} refused`))
    if (this.fallback === undefined) { this.finish(`the remote does not speak ${refused}`); return }
    this.switching = true
    try {
      const stream = await this.fallback()
      if (this.closed) { stream.abort(new Error('channel closed meanwhile')); return }
      this.stream = stream
      this.protocol = stream.protocol
      this.decoder = new FrameDecoder(this.maxFrameBytes)
      // Every frame written so far, flushed or not, goes again on the new stream, in order.
      this.outgoing = this.unconfirmed ?? this.outgoing
      this.unconfirmed = null
      this.switching = false
      this.listen(stream)
      this.flush()
    } catch (err) {
      this.switching = false
      this.finish(`the remote does not speak ${refused}, and the fallback failed: ${(err as Error).message}`)
    }
  }

  private readonly onEnd = (): void => { this.finish(this.closeReason) }

  private readonly onClose = (event: StreamCloseEvent): void => {
    this.finish(this.closeReason ?? event.error?.message)
  }

  private receiveFrame (frame: Uint8Array): void {
    if (frame.byteLength === 0) throw new MalformedFrameError('empty frame')
    const kind = frame[0]
    const payload = frame.subarray(1)
    switch (kind) {
      case FRAME_MESSAGE:
        if (this.parts !== null) throw new MalformedFrameError('whole message inside a multi-frame message')
        this.deliver(payload)
        return
      case FRAME_PART:
      case FRAME_LAST_PART: {
        const parts = this.parts ?? new Uint8ArrayList()
        parts.append(payload)
        if (parts.byteLength > this.maxMessageBytes) throw new FrameTooLargeError(`message over ${this.maxMessageBytes} bytes`)
        if (kind === FRAME_PART) { this.parts = parts; return }
        this.parts = null
        this.deliver(parts.subarray())
        return
      }
      case FRAME_CLOSE:
        this.closeReason = new TextDecoder().decode(payload)
        this.finish(this.closeReason)
        // The other side closed first; our half-close failing only means the stream is gone already.
        this.stream.close().catch(() => {})
        return
      default:
        throw new MalformedFrameError(`unknown frame kind ${kind}`)
    }
  }

  private deliver (message: Uint8Array): void {
    this.stats.messagesReceived++
    if (this.waiter !== null) this.waiter(message)
    else if (this.handler !== null) this.handler.message(message)
    else this.early.push(message)
  }

  private finish (reason: string | undefined): void {
    if (this.closed) return
    this.closed = true
    this.unlisten(this.stream)
    this.closeReason = reason
    this.waiter?.(null)
    this.handler?.close(reason)
  }
}

function varintLength (n: number): number {
  let bytes = 1
  while (n >= 0x80) { n = Math.floor(n / 128); bytes++ }
  return bytes
}

/**
 * Splits a byte stream into varint-length-prefixed frames, synchronously. A frame
 * that lies inside one received chunk is returned as a view, without copying; only
 * frames straddling chunks are joined. The announced length is checked against
 * `maxFrameBytes` as soon as the prefix is read, before waiting for (or allocating) the body.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number
  private readonly chunks: Uint8Array[] = []
  private buffered = 0

  constructor (maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes
  }

  push (data: Uint8Array | Uint8ArrayList): void {
    if (data instanceof Uint8Array) {
      if (data.byteLength > 0) { this.chunks.push(data); this.buffered += data.byteLength }
      return
    }
    for (const chunk of data) {
      if (chunk.byteLength > 0) { this.chunks.push(chunk); this.buffered += chunk.byteLength }
    }
  }

  /** The next whole frame's body, or null until more bytes arrive. Throws on a bad or oversized prefix. */
  next (): Uint8Array | null {
    if (this.buffered === 0) return null
    // Read the varint prefix across chunk boundaries if need be.
    let length = 0
    let shift = 1
    let prefixBytes = 0
    let c = 0
    let o = 0
    for (;;) {
      if (prefixBytes >= this.buffered) return null
      const chunk = this.chunks[c]
      const byte = chunk[o]
      prefixBytes++
      if (++o === chunk.byteLength) { c++; o = 0 }
      length += (byte & 0x7f) * shift
      if (byte < 0x80) break
      shift *= 128
      if (prefixBytes >= 8) throw new MalformedFrameError('frame length prefix too long')
    }
    if (length > this.maxFrameBytes) throw new FrameTooLargeError(`frame refused: ${length} bytes announced, limit ${this.maxFrameBytes}`)
    if (this.buffered < prefixBytes + length) return null
    this.skip(prefixBytes)
    return this.take(length)
  }

  /** Every byte buffered and not yet returned as a frame, leaving the decoder empty. */
  drain (): Uint8Array[] {
    const chunks = this.chunks.splice(0)
    this.buffered = 0
    return chunks
  }

  private skip (n: number): void {
    this.buffered -= n
    while (n > 0) {
      const head = this.chunks[0]
      if (head.byteLength <= n) { n -= head.byteLength; this.chunks.shift() } else { this.chunks[0] = head.subarray(n); n = 0 }
    }
  }

  private take (n: number): Uint8Array {
    this.buffered -= n
    const head = this.chunks[0]
    if (head !== undefined && head.byteLength >= n) {
      // The common case: the frame lies in one chunk; hand out a view of it.
      if (head.byteLength === n) this.chunks.shift()
      else this.chunks[0] = head.subarray(n)
      return head.subarray(0, n)
    }
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.chunks[0]
      const want = n - filled
      if (chunk.byteLength <= want) { out.set(chunk, filled); filled += chunk.byteLength; this.chunks.shift() } else { out.set(chunk.subarray(0, want), filled); filled += want; this.chunks[0] = chunk.subarray(want) }
    }
    return out
  }
}
