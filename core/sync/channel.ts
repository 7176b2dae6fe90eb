// The message channel a sync session speaks over: whole messages in, whole
// messages out, and a close. A libp2p stream is one binding, memory another.

/** What a channel delivers to the session attached to it. */
export interface ChannelHandler {
  /** One whole message from the remote side. */
  message (message: Uint8Array): void
  /** The channel is gone; `reason` is set when the remote (or the transport) said why. */
  close (reason?: string): void
}

/**
 * A bidirectional, message-oriented link to one remote peer.
 * Messages may be lost, duplicated or reordered by a faulty channel; the sync
 * session tolerates all three.
 */
export interface MessageChannel {
  /** Send one message. Never throws: a closed channel drops it. */
  send (message: Uint8Array): void
  /** Close the channel; both ends' handlers see `close`. */
  close (reason?: string): void
  /** Start delivering to `handler`. Called once, by the session that owns the channel. */
  attach (handler: ChannelHandler): void
  /** Bytes handed to `send` and bytes delivered, for accounting and tests. */
  readonly stats: { bytesSent: number, bytesReceived: number, messagesSent: number, messagesReceived: number }
}
