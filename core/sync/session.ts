// One replication session between a local Y.Doc and one remote peer, speaking
// the y-protocols messages (sync step 1 / step 2 / update, awareness) over a
// MessageChannel. It heals its own gaps: whenever Yjs holds updates it cannot
// apply yet, and periodically while idle, it re-sends sync step 1. The local updates of one
// event-loop turn leave as one message (merged), so a burst costs one frame, not one per edit.

import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import * as decoding from 'lib0/decoding'
import { ObservableV2 } from 'lib0/observable'
import * as syncProtocol from 'y-protocols/sync'
import * as awarenessProtocol from 'y-protocols/awareness'
import { PENDING_RESYNC_DELAY_MS, RESYNC_INTERVAL_MS, SYNC_PIECE_BYTES } from '../constants.ts'
import { splitUpdate } from './split-update.ts'
import type { MessageChannel } from './channel.ts'
import { deferToTurnEnd, systemTimers } from './timers.ts'
import type { Timers } from './timers.ts'

/** Top-level message types on a sync channel (the numbering y-websocket uses). */
export const MESSAGE_SYNC = 0
export const MESSAGE_AWARENESS = 1
export const MESSAGE_QUERY_AWARENESS = 3

/**
 * Sync sub-types beyond y-protocols' step 1 (0), step 2 (1) and update (2), which carry Yjs v1
 * updates: the same two carrying Yjs v2 updates (15-20 % smaller on task data). Sent only where
 * both sides speak them (`/dispatch/sync/1.1.0`); every session reads them.
 */
export const MESSAGE_SYNC_STEP2_V2 = 3
export const MESSAGE_SYNC_UPDATE_V2 = 4

/** How a session encodes the diffs it sends in reply to a state vector (sync step 2). */
export type UpdateEncoding = 'v1' | 'v2'

/** A `confirm()` that cannot complete: the session closed before the remote answered. */
export class SessionClosedError extends Error {
  name = 'SessionClosedError'
}

/** A sync message of a type this version does not know; the message is dropped, the session stays up. */
export class UnknownMessageTypeError extends Error {
  name = 'UnknownMessageTypeError'
  constructor (type: number) { super(`unknown sync message type ${type}`) }
}

/** Options of `SyncSession`. */
export interface SyncSessionOptions {
  /** Presence shared with this peer; omitted for document-only sessions. */
  awareness?: awarenessProtocol.Awareness
  /** How often an idle session re-sends sync step 1. */
  resyncIntervalMs?: number
  /** Largest update sent in one message; bigger ones are split (see `splitUpdate`). */
  pieceBytes?: number
  /** Timer source; tests pass a virtual clock. */
  timers?: Timers
  /** Who is on the other side, for logs and events. */
  remote?: string
  /** Called for each message that could not be handled (it is dropped; the session goes on). */
  onBadMessage?: (error: Error) => void
  /**
   * Encoding of the diffs sent in reply to the remote's state vector; asked each time, because a
   * stream learns what the remote speaks only from its first reply. Incremental updates always
   * go as v1 (Yjs's own encoding of them: no re-encoding on the edit path). Default 'v1'.
   */
  diffEncoding?: () => UpdateEncoding
  /**
   * Asked before each incoming update is applied (`kind` 'diff' for a reply to our state vector);
   * a reason refuses it whole: nothing of it is applied and the session closes, telling the remote
   * `limit: <reason>` (see `SpaceLimits`).
   */
  accept?: (update: Uint8Array, v2: boolean, kind: 'update' | 'diff') => string | null
}

export interface SyncSessionEvents {
  /** An incoming update was refused by `accept`; the session closes next. */
  'update-refused': (reason: string, session: SyncSession) => void
  /** The remote answered our state vector: we hold everything it had then. */
  synced: (session: SyncSession) => void
  /** The channel closed; the session is finished. */
  close: (reason: string | undefined, session: SyncSession) => void
}

type MessageHandler = (session: SyncSession, decoder: decoding.Decoder) => void

const messageHandlers: MessageHandler[] = []
messageHandlers[MESSAGE_SYNC] = (session, decoder) => session.readSync(decoder)
messageHandlers[MESSAGE_AWARENESS] = (session, decoder) => session.readAwareness(decoder)
messageHandlers[MESSAGE_QUERY_AWARENESS] = (session) => session.sendAwareness()

/** Drives the y-protocols exchange for one doc over one channel until the channel closes. */
export class SyncSession extends ObservableV2<SyncSessionEvents> {
  readonly doc: Y.Doc
  readonly channel: MessageChannel
  readonly awareness: awarenessProtocol.Awareness | undefined
  readonly remote: string
  synced = false
  closed = false
  /** Messages dropped because they could not be decoded or applied. */
  badMessages = 0
  /** Step 2 diffs (and their pieces) received, by encoding. */
  readonly diffsReceived = { v1: 0, v2: 0 }

  private readonly timers: Timers
  private readonly resyncIntervalMs: number
  private readonly pieceBytes: number
  private readonly onBadMessage: ((error: Error) => void) | undefined
  private readonly diffEncoding: () => UpdateEncoding
  private readonly accept: SyncSessionOptions['accept']
  private readonly defer: (fn: () => void) => void
  /** Local updates of this turn, sent as one message when the turn ends. */
  private outgoing: Uint8Array[] = []
  private resyncTimer: unknown = null
  private pendingTimer: unknown = null
  private heardSinceResync = false
  /** Awareness client ids learnt through this session, removed when it closes. */
  private readonly remoteClients = new Set<number>()
  /**
   * State vectors sent and step 2 answers received. A remote answers every step 1 with exactly
   * one step 2, in order, so answer n proves it has read everything sent before step 1 n.
   */
  private step1Sent = 0
  private step2Received = 0
  private confirmations: Array<{ answer: number, resolve: () => void, reject: (error: Error) => void }> = []

  constructor (doc: Y.Doc, channel: MessageChannel, options: SyncSessionOptions = {}) {
    super()
    this.doc = doc
    this.channel = channel
    this.awareness = options.awareness
    this.remote = options.remote ?? 'peer'
    this.timers = options.timers ?? systemTimers
    this.resyncIntervalMs = options.resyncIntervalMs ?? RESYNC_INTERVAL_MS
    this.pieceBytes = options.pieceBytes ?? SYNC_PIECE_BYTES
    this.onBadMessage = options.onBadMessage
    this.diffEncoding = options.diffEncoding ?? (() => 'v1')
    this.accept = options.accept
    const timers = this.timers
    this.defer = timers.defer !== undefined ? (fn) => { timers.defer?.(fn) } : deferToTurnEnd
    doc.on('update', this.onDocUpdate)
    this.awareness?.on('update', this.onAwarenessUpdate)
    channel.attach({
      message: (message) => this.receive(message),
      close: (reason) => this.destroy(reason)
    })
    this.sendStep1()
    if (this.awareness !== undefined) this.sendAwareness()
    this.armResync()
  }

  /** Ask the remote for everything we miss (sends our state vector). */
  resync (): void {
    this.sendStep1()
    this.armResync()
  }

  /**
   * Resolves once the remote has applied everything this session sent before the call: a fresh
   * state vector goes out behind it, and the remote answers that only after reading what came
   * first on the ordered channel. 'synced' alone does not say this: it means we hold the remote's
   * state, while our own diff may still be in flight. Rejects if the session closes first.
   */
  async confirm (): Promise<void> {
    if (this.closed) throw new SessionClosedError(`the session with ${this.remote} is closed`)
    this.flush()
    this.sendStep1()
    const answer = this.step1Sent
    await new Promise<void>((resolve, reject) => { this.confirmations.push({ answer, resolve, reject }) })
  }

  /** Handle one incoming message. Never throws: a bad message is counted and dropped. */
  receive (message: Uint8Array): void {
    if (this.closed) return
    this.heardSinceResync = true
    try {
      const decoder = decoding.createDecoder(message)
      const type = decoding.readVarUint(decoder)
      const handler = messageHandlers[type]
      if (handler === undefined) throw new UnknownMessageTypeError(type)
      handler(this, decoder)
    } catch (err) {
      this.badMessages++
      this.onBadMessage?.(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** @internal dispatch target for MESSAGE_SYNC. */
  readSync (decoder: decoding.Decoder): void {
    const syncType = decoding.readVarUint(decoder)
    switch (syncType) {
      case syncProtocol.messageYjsSyncStep1: {
        // Step 2 is the diff against the remote's state vector; what this turn sent or will
        // send as updates is in it already. A diff larger than a piece goes as bounded updates
        // first, so a connection cut mid-way (a relay's data limit) keeps what arrived and the
        // next session sends only the rest; step 2 itself comes last.
        const sv = decoding.readVarUint8Array(decoder)
        const v2 = this.diffEncoding() === 'v2'
        const diff = v2 ? Y.encodeStateAsUpdateV2(this.doc, sv) : Y.encodeStateAsUpdate(this.doc, sv)
        if (diff.byteLength <= this.pieceBytes) {
          this.sendSync(v2 ? MESSAGE_SYNC_STEP2_V2 : syncProtocol.messageYjsSyncStep2, diff)
          break
        }
        const pieces = splitUpdate(v2 ? Y.convertUpdateFormatV2ToV1(diff) : diff, this.pieceBytes)
          .map(piece => v2 ? Y.convertUpdateFormatV1ToV2(piece) : piece)
        for (const piece of pieces.slice(0, -1)) this.sendSync(v2 ? MESSAGE_SYNC_UPDATE_V2 : syncProtocol.messageYjsUpdate, piece)
        this.sendSync(v2 ? MESSAGE_SYNC_STEP2_V2 : syncProtocol.messageYjsSyncStep2, pieces.at(-1) ?? diff)
        break
      }
      case syncProtocol.messageYjsSyncStep2:
      case syncProtocol.messageYjsUpdate:
      case MESSAGE_SYNC_STEP2_V2:
      case MESSAGE_SYNC_UPDATE_V2: {
        // Applied here rather than through syncProtocol.readSyncStep2, which
        // swallows errors into console.error; we count and report them instead.
        const update = decoding.readVarUint8Array(decoder)
        const v2 = syncType === MESSAGE_SYNC_STEP2_V2 || syncType === MESSAGE_SYNC_UPDATE_V2
        const isDiff = syncType === syncProtocol.messageYjsSyncStep2 || syncType === MESSAGE_SYNC_STEP2_V2
        if (isDiff) this.step2Received++
        const refusal = this.accept?.(update, v2, isDiff ? 'diff' : 'update') ?? null
        if (refusal !== null) {
          this.emit('update-refused', [refusal, this])
          this.destroy(`limit: ${refusal}`)
          return
        }
        if (v2) {
          Y.applyUpdateV2(this.doc, update, this)
          this.diffsReceived.v2++
        } else {
          Y.applyUpdate(this.doc, update, this)
          if (syncType === syncProtocol.messageYjsSyncStep2) this.diffsReceived.v1++
        }
        if (isDiff && !this.synced) {
          this.synced = true
          this.emit('synced', [this])
        }
        if (isDiff) this.settleConfirmations()
        this.healIfPending()
        break
      }
      default:
        throw new UnknownMessageTypeError(syncType)
    }
  }

  /** @internal dispatch target for MESSAGE_AWARENESS. */
  readAwareness (decoder: decoding.Decoder): void {
    const update = decoding.readVarUint8Array(decoder)
    if (this.awareness === undefined) return
    for (const clientID of readAwarenessClients(update)) {
      if (clientID !== this.awareness.clientID) this.remoteClients.add(clientID)
    }
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, this)
  }

  /** Send every awareness state we know (ours and those relayed through us). */
  sendAwareness (): void {
    if (this.awareness === undefined) return
    const clients = Array.from(this.awareness.getStates().keys())
    if (clients.length === 0) return
    this.sendAwarenessUpdate(awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients))
  }

  /** Send the updates gathered this turn now, as one message (a session does this itself when the turn ends). */
  flush (): void {
    if (this.outgoing.length === 0 || this.closed) return
    const updates = this.outgoing
    this.outgoing = []
    const update = updates.length === 1 ? updates[0] : Y.mergeUpdates(updates)
    for (const piece of splitUpdate(update, this.pieceBytes)) this.sendSync(syncProtocol.messageYjsUpdate, piece)
  }

  /** Stop the session and close its channel. Idempotent. */
  destroy (reason?: string): void {
    if (this.closed) return
    // What this turn changed still leaves, ahead of the close (a revocation, say).
    this.flush()
    this.closed = true
    this.timers.clearTimeout(this.resyncTimer)
    this.timers.clearTimeout(this.pendingTimer)
    this.doc.off('update', this.onDocUpdate)
    if (this.awareness !== undefined) {
      this.awareness.off('update', this.onAwarenessUpdate)
      const gone = Array.from(this.remoteClients).filter(id => this.awareness?.getStates().has(id))
      if (gone.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, gone, this)
    }
    this.channel.close(reason)
    const unanswered = this.confirmations
    this.confirmations = []
    for (const c of unanswered) c.reject(new SessionClosedError(`the session with ${this.remote} closed before it confirmed${reason !== undefined ? `: ${reason}` : ''}`))
    this.emit('close', [reason, this])
    super.destroy()
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this || this.closed) return
    if (this.outgoing.push(update) === 1) this.defer(this.flushLater)
  }

  private readonly flushLater = (): void => { this.flush() }

  /** One y-protocols sync message (step 2 or update) carrying `update`. */
  private sendSync (syncType: number, update: Uint8Array): void {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, MESSAGE_SYNC)
    encoding.writeVarUint(encoder, syncType)
    encoding.writeVarUint8Array(encoder, update)
    this.channel.send(encoding.toUint8Array(encoder))
  }

  private readonly onAwarenessUpdate = (
    { added, updated, removed }: { added: number[], updated: number[], removed: number[] },
    origin: unknown
  ): void => {
    if (origin === this || this.closed || this.awareness === undefined) return
    const changed = added.concat(updated, removed)
    this.sendAwarenessUpdate(awarenessProtocol.encodeAwarenessUpdate(this.awareness, changed))
  }

  private sendAwarenessUpdate (update: Uint8Array): void {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, MESSAGE_AWARENESS)
    encoding.writeVarUint8Array(encoder, update)
    this.channel.send(encoding.toUint8Array(encoder))
  }

  private sendStep1 (): void {
    const encoder = encoding.createEncoder()
    encoding.writeVarUint(encoder, MESSAGE_SYNC)
    syncProtocol.writeSyncStep1(encoder, this.doc)
    this.channel.send(encoding.toUint8Array(encoder))
    this.step1Sent++
  }

  private settleConfirmations (): void {
    const answered = this.confirmations.filter(c => c.answer <= this.step2Received)
    if (answered.length === 0) return
    this.confirmations = this.confirmations.filter(c => c.answer > this.step2Received)
    for (const c of answered) c.resolve()
  }

  /** Yjs parks updates whose dependencies are missing; ask for them soon. */
  private healIfPending (): void {
    const store = this.doc.store
    if ((store.pendingStructs === null && store.pendingDs === null) || this.pendingTimer !== null) return
    this.pendingTimer = this.timers.setTimeout(() => {
      this.pendingTimer = null
      if (!this.closed) this.sendStep1()
    }, PENDING_RESYNC_DELAY_MS)
  }

  private armResync (): void {
    this.timers.clearTimeout(this.resyncTimer)
    this.resyncTimer = this.timers.setTimeout(() => {
      if (this.closed) return
      // Only an idle link needs healing: while messages arrive (a long step 2 over a slow
      // relay, say), a state vector now would make the remote send the same diff again.
      if (!this.heardSinceResync) this.sendStep1()
      this.heardSinceResync = false
      this.armResync()
    }, this.resyncIntervalMs)
  }
}

/** The client ids an encoded awareness update speaks about. */
function readAwarenessClients (update: Uint8Array): number[] {
  const decoder = decoding.createDecoder(update)
  const count = decoding.readVarUint(decoder)
  const clients: number[] = []
  for (let i = 0; i < count; i++) {
    clients.push(decoding.readVarUint(decoder))
    decoding.readVarUint(decoder) // clock
    decoding.readVarString(decoder) // state as JSON
  }
  return clients
}
