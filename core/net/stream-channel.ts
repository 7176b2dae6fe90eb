// A MessageChannel over a libp2p stream. Each frame is varint-length-prefixed
// (it-length-prefixed, limit checked on the prefix before anything is
// allocated) and starts with a kind byte: a whole message, a part of a message
// too large for one frame, or a close carrying a reason.

import * as lp from 'it-length-prefixed'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Stream } from '@libp2p/interface'
import type { ChannelHandler, MessageChannel } from '../sync/channel.ts'
import { MAX_FRAME_BYTES, MAX_MESSAGE_BYTES } from '../constants.ts'

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
}

export class StreamChannel implements MessageChannel {
  readonly stream: Stream
  readonly stats = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 }
  closed = false

  private readonly maxFrameBytes: number
  private readonly maxMessageBytes: number
  private readonly onError: ((error: Error) => void) | undefined
  private handler: ChannelHandler | null = null
  /** Messages that arrived before a handler was attached. */
  private readonly early: Uint8Array[] = []
  private waiter: ((message: Uint8Array | null) => void) | null = null
  private parts: Uint8ArrayList | null = null
  private closeReason: string | undefined

  constructor (stream: Stream, options: StreamChannelOptions = {}) {
    this.stream = stream
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES
    this.maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES
    this.onError = options.onError
    void this.readLoop()
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
    this.finish(reason)
    this.stream.close().catch(() => this.stream.abort(new Error('close failed')))
  }

  /** Drop the stream at once (framing error, timeout). */
  abort (error: Error): void {
    if (this.closed) return
    this.finish(error.message)
    this.stream.abort(error)
  }

  private write (kind: number, payload: Uint8Array): void {
    const frame = lp.encode.single(new Uint8ArrayList(Uint8Array.of(kind), payload))
    this.stats.bytesSent += frame.byteLength
    try {
      // libp2p buffers what the transport cannot take yet; `false` only asks us to slow down.
      this.stream.send(frame)
    } catch (err) {
      this.finish((err as Error).message)
    }
  }

  private async readLoop (): Promise<void> {
    try {
      for await (const frame of lp.decode(this.stream, { maxDataLength: this.maxFrameBytes })) {
        this.stats.bytesReceived += frame.byteLength + varintLength(frame.byteLength)
        this.receiveFrame(frame)
        if (this.closed) return
      }
      this.finish(this.closeReason)
    } catch (err) {
      // Every error here is a framing error (the handler never throws): reset the stream.
      const error = err as Error
      const cause = error.name.startsWith('InvalidData') || error.name === 'InvalidMessageLengthError'
        ? new FrameTooLargeError(`frame refused: ${error.message}`)
        : error
      if (!this.closed) this.onError?.(cause)
      this.abort(cause)
    }
  }

  private receiveFrame (frame: Uint8ArrayList): void {
    if (frame.byteLength === 0) throw new MalformedFrameError('empty frame')
    const kind = frame.get(0)
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
