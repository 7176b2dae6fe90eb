// An in-memory MessageChannel pair for tests and simulations, with optional
// injected faults: drop, duplicate and reorder, decided by a caller-supplied PRNG.

import type { ChannelHandler, MessageChannel } from './channel.ts'

export interface Faults {
  /** Probability that a message is lost. */
  drop?: number
  /** Probability that a message is delivered twice. */
  duplicate?: number
  /** Probability that a message overtakes the ones queued before it. */
  reorder?: number
}

export interface MemoryLinkOptions {
  faults?: Faults
  /** Returns a float in [0, 1); seeded in tests so a run can be replayed. */
  random?: () => number
  /**
   * `auto` delivers on a microtask, like a fast network. `manual` holds messages
   * until `deliver()` is called, so a simulation controls the interleaving.
   */
  delivery?: 'auto' | 'manual'
}

/** A link between two channel ends. Close it to simulate a disconnect. */
export class MemoryLink {
  readonly a: MemoryChannel
  readonly b: MemoryChannel
  closed = false

  constructor (options: MemoryLinkOptions = {}) {
    this.a = new MemoryChannel(this, options)
    this.b = new MemoryChannel(this, options)
    this.a.remote = this.b
    this.b.remote = this.a
  }

  /** Messages waiting in either direction. */
  get inFlight (): number {
    return this.a.queue.length + this.b.queue.length
  }

  /** Deliver up to `max` queued messages, alternating directions. Returns how many were delivered. */
  deliver (max = Infinity): number {
    let n = 0
    while (n < max && this.inFlight > 0 && !this.closed) {
      if (this.a.deliverOne()) n++
      if (n < max && this.b.deliverOne()) n++
    }
    return n
  }

  close (reason?: string): void {
    if (this.closed) return
    this.closed = true
    this.a.queue.length = 0
    this.b.queue.length = 0
    this.a.handler?.close(reason)
    this.b.handler?.close(reason)
  }
}

/** One end of a MemoryLink. */
export class MemoryChannel implements MessageChannel {
  readonly stats = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0 }
  /** Messages sent by the other end, waiting to be delivered here. */
  readonly queue: Uint8Array[] = []
  handler: ChannelHandler | null = null
  remote: MemoryChannel | null = null

  private readonly link: MemoryLink
  private readonly faults: Faults
  private readonly random: () => number
  private readonly auto: boolean
  private scheduled = false

  constructor (link: MemoryLink, options: MemoryLinkOptions) {
    this.link = link
    this.faults = options.faults ?? {}
    this.random = options.random ?? Math.random
    this.auto = (options.delivery ?? 'auto') === 'auto'
  }

  attach (handler: ChannelHandler): void {
    this.handler = handler
    this.scheduleDelivery()
  }

  send (message: Uint8Array): void {
    const remote = this.remote
    if (this.link.closed || remote === null) return
    this.stats.bytesSent += message.byteLength
    this.stats.messagesSent++
    const { drop = 0, duplicate = 0, reorder = 0 } = this.faults
    if (drop > 0 && this.random() < drop) return
    const copies = duplicate > 0 && this.random() < duplicate ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const copy = message.slice()
      if (reorder > 0 && remote.queue.length > 0 && this.random() < reorder) {
        remote.queue.splice(Math.floor(this.random() * remote.queue.length), 0, copy)
      } else {
        remote.queue.push(copy)
      }
    }
    remote.scheduleDelivery()
  }

  close (reason?: string): void {
    this.link.close(reason)
  }

  /** Deliver the oldest queued message, if any and if attached. */
  deliverOne (): boolean {
    if (this.handler === null || this.link.closed) return false
    const message = this.queue.shift()
    if (message === undefined) return false
    this.stats.bytesReceived += message.byteLength
    this.stats.messagesReceived++
    this.handler.message(message)
    return true
  }

  private scheduleDelivery (): void {
    if (!this.auto || this.scheduled) return
    this.scheduled = true
    queueMicrotask(() => {
      this.scheduled = false
      while (this.deliverOne());
    })
  }
}
