// A space: one Y.Doc kept durable in a Storage, with its presence (awareness),
// its members, and one sync session per connected peer.

import * as Y from 'yjs'
import { raceSignal } from 'race-signal'
import { ObservableV2 } from 'lib0/observable'
import { Awareness } from 'y-protocols/awareness'
import { COMPACT_DELAY_MS, COMPACT_LOG_BYTES, COMPACT_LOG_RECORDS, COMPACT_LOG_SNAPSHOT_FRACTION, COMPACT_ON_CLOSE_RECORDS } from './constants.ts'
import { systemTimers } from './sync/timers.ts'
import { Members } from './members.ts'
import { TrustGate, PermissionDeniedError } from './trust/gate.ts'
import { signRecord } from './trust/statement.ts'
import type { TrustRefusal } from './trust/gate.ts'
import { StoredTrustMemory } from './trust/memory.ts'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { MessageChannel } from './sync/channel.ts'
import { SessionClosedError, SyncSession } from './sync/session.ts'
import type { UpdateEncoding } from './sync/session.ts'
import type { Timers } from './sync/timers.ts'
import { checkUpdate } from './sync/limits.ts'
import type { SpaceLimits } from './sync/limits.ts'
import type { Storage } from './store/storage.ts'
import { assertSpaceName } from './store/storage.ts'
import { RetryingWriter } from './store/retrying-writer.ts'

// One space-name rule for the whole engine: the store's (safe as a file name and as a sync hello).
export { InvalidSpaceNameError, assertSpaceName } from './store/storage.ts'

/** Events of a `Space` (`space.on(name, listener)`). */
export interface SpaceEvents {
  /** A sync session with `peerId` started. */
  'peer-connected': (peerId: string) => void
  /** The session with `peerId` ended; `reason` says why when known. */
  'peer-disconnected': (peerId: string, reason: string | undefined) => void
  /** We hold everything `peerId` had when the session started. */
  synced: (peerId: string) => void
  /** `peerId` refused to sync this space with us (we are not, or no longer, a member there). */
  refused: (peerId: string, reason: string) => void
  /** A message from `peerId` was malformed and dropped. */
  'bad-message': (peerId: string, error: Error) => void
  /** Who may sync changed (a member added or revoked, `allow`/`disallow`). */
  'gate-changed': () => void
  /** An update from `peerId` broke the space's limits: refused whole, and its session closed. */
  'update-refused': (peerId: string, reason: string) => void
  /** The trust gate refused or ignored a membership statement (see core/trust/gate.ts). */
  'trust-refused': (refusal: TrustRefusal) => void
  /**
   * Writes to the storage started failing (a full disk): the updates are still in memory, are
   * retried, and `flush()` rejects until they are durable. Told once per failure, then `storage-recovered`.
   */
  'storage-error': (error: Error) => void
  /** Everything that failed to reach the storage has now reached it. */
  'storage-recovered': () => void
  /** Compacting the log into a snapshot failed; nothing is lost (the log still holds it all), it is tried again later. */
  'compaction-failed': (error: Error) => void
}

/** Options of `SyncNode.openSpace` / `openSpace`. */
export interface SpaceOptions {
  /** The document to replicate; a new one by default. */
  doc?: Y.Doc
  storage: Storage
  /** Peers allowed besides the active members of the `devices` map (e.g. before pairing exists). */
  allow?: Iterable<string>
  /** How often an idle session re-sends its state vector. */
  resyncIntervalMs?: number
  timers?: Timers
  /**
   * This device's key: it signs the admissions and revocations this device makes, and roots its
   * membership gate (`SyncNode.openSpace` passes the node's). Without one the space reads its
   * `devices` map unsigned and admits only `allow`ed peers and what that map says (tests, tools).
   */
  identity?: PrivateKey
  /** What members may send this space (sizes, top-level types); checked before anything is applied. */
  limits?: SpaceLimits
}

/** The origin of transactions that replay the store, so they are not written back. */
const STORAGE_ORIGIN = Symbol('storage')

/** How a session on one channel sends (see `SyncSessionOptions`). */
export interface AttachOptions {
  /** Largest update sent in one message; a channel with no data limit needs no pieces. */
  pieceBytes?: number
  /** Encoding of the diffs sent in reply to a state vector, asked each time. */
  diffEncoding?: () => UpdateEncoding
}

interface Attached {
  session: SyncSession
  /** Who opened the underlying stream; decides which of two racing streams survives. */
  initiator: string
}

/** Open a space: load it from `storage` into the doc, then persist every later update. */
export async function openSpace (name: string, options: SpaceOptions): Promise<Space> {
  assertSpaceName(name)
  const doc = options.doc ?? new Y.Doc()
  const updates = await options.storage.load(name)
  if (updates.length > 0) {
    doc.transact(() => {
      for (const update of updates) Y.applyUpdate(doc, update, STORAGE_ORIGIN)
    }, STORAGE_ORIGIN)
  }
  let memory: StoredTrustMemory | undefined
  if (options.identity !== undefined) {
    memory = await StoredTrustMemory.load(options.storage, name, options.timers)
  }
  return new Space(name, doc, options, { records: updates.length, bytes: updates.reduce((sum, u) => sum + u.byteLength, 0) }, memory)
}

/** One replicated Y.Doc: durable in its `storage`, with presence (`awareness`), `members`, events, and a sync session per connected member. */
export class Space extends ObservableV2<SpaceEvents> {
  readonly name: string
  readonly doc: Y.Doc
  readonly awareness: Awareness
  readonly members: Members
  readonly storage: Storage
  closed = false

  private readonly allowed: Set<string>
  private readonly sessions = new Map<string, Attached>()
  private readonly writer: RetryingWriter
  private storageErrorNow: Error | null = null
  private readonly limits: SpaceLimits | undefined
  private readonly identity: PrivateKey | undefined
  private readonly resyncIntervalMs: number | undefined
  private readonly timers: Timers | undefined
  private readonly clock: Timers
  private compacting: Promise<void> | null = null
  /** A compaction due once the log was found long (see COMPACT_DELAY_MS). */
  private compactTimer: unknown = null
  /** Updates in the store's log since its last snapshot, and that snapshot's size (both estimated at load). */
  private logRecords: number
  private snapshotBytes: number

  /** The signed-membership gate; null for a space opened without an identity. */
  readonly trust: TrustGate | null
  private readonly trustMemory: StoredTrustMemory | undefined

  constructor (name: string, doc: Y.Doc, options: SpaceOptions, loaded: { records: number, bytes: number } = { records: 0, bytes: 0 }, memory?: StoredTrustMemory) {
    super()
    this.name = name
    this.doc = doc
    this.storage = options.storage
    this.allowed = new Set(options.allow ?? [])
    this.resyncIntervalMs = options.resyncIntervalMs
    this.limits = options.limits
    this.identity = options.identity
    this.timers = options.timers
    this.clock = options.timers ?? systemTimers
    this.logRecords = loaded.records
    this.snapshotBytes = loaded.bytes
    this.awareness = new Awareness(doc)
    this.trustMemory = memory
    this.writer = new RetryingWriter(this.storage, name, { timers: options.timers, onFailed: this.onStorageFailed, onRecovered: this.onStorageRecovered })
    if (memory !== undefined) {
      memory.onError = this.onStorageFailed
      memory.onRecovered = this.onStorageRecovered
    }
    this.trust = options.identity !== undefined
      ? new TrustGate(doc, name, { key: options.identity, self: peerIdFromPrivateKey(options.identity).toString(), memory })
      : null
    this.members = new Members(doc, this.trust)
    if (this.trust !== null && memory !== undefined && memory.remembered.length === 0) this.signPairingsOfOlderVersions(this.trust)
    doc.on('update', this.persist)
    if (this.trust !== null) {
      this.trust.on('change', this.onMembersChanged)
      this.trust.on('refused', this.onTrustRefused)
    } else {
      this.members.map.observeDeep(this.onMembersChanged)
    }
  }

  /** May `peerId` sync this space? Revocation wins over everything. */
  allows (peerId: string): boolean {
    if (this.members.isRevoked(peerId)) return false
    return this.allowed.has(peerId) || this.members.isActive(peerId)
  }

  /** Allow a peer outside the members map (until `disallow`). */
  allow (peerId: string): void {
    this.allowed.add(peerId)
    this.emit('gate-changed', [])
  }

  disallow (peerId: string): void {
    this.allowed.delete(peerId)
    this.emit('gate-changed', [])
  }

  /** Peers with a live sync session. */
  connectedPeers (): string[] {
    return Array.from(this.sessions.keys())
  }

  /** The live session with `peerId`, if any (for statistics). */
  session (peerId: string): SyncSession | undefined {
    return this.sessions.get(peerId)?.session
  }

  /**
   * Run a sync session with `peerId` over `channel`. `initiator` is the peer that
   * opened the channel: when two channels race for the same peer, both sides keep
   * the one opened by the smaller peer id and close the other.
   */
  attach (channel: MessageChannel, peerId: string, initiator: string, options: AttachOptions = {}): SyncSession | null {
    if (this.closed) { channel.close('space closed'); return null }
    const existing = this.sessions.get(peerId)
    if (existing !== undefined && existing.initiator !== initiator && existing.initiator < initiator) {
      channel.close()
      return null
    }
    const session = new SyncSession(this.doc, channel, {
      awareness: this.awareness,
      remote: peerId,
      resyncIntervalMs: this.resyncIntervalMs,
      timers: this.timers,
      onBadMessage: (error) => this.emit('bad-message', [peerId, error]),
      pieceBytes: options.pieceBytes,
      diffEncoding: options.diffEncoding,
      accept: this.limits === undefined ? undefined : this.acceptUpdate
    })
    session.on('update-refused', (reason) => this.emit('update-refused', [peerId, reason]))
    this.sessions.set(peerId, { session, initiator })
    if (existing !== undefined) existing.session.destroy()
    session.on('synced', () => this.emit('synced', [peerId]))
    session.on('close', (reason) => {
      if (this.sessions.get(peerId)?.session !== session) return // replaced by a newer channel
      this.sessions.delete(peerId)
      if (reason?.startsWith('refused') === true) this.emit('refused', [peerId, reason])
      this.emit('peer-disconnected', [peerId, reason])
    })
    if (existing === undefined) this.emit('peer-connected', [peerId])
    return session
  }

  /** End the session with `peerId`, telling it why. */
  disconnect (peerId: string, reason?: string): void {
    this.sessions.get(peerId)?.session.destroy(reason)
  }

  /**
   * Resolves once `peerId` has applied everything this space held at the call: one state-vector
   * round trip on the live session (the channel is ordered). 'synced' says we hold the peer's
   * state; this says the peer holds ours, so a short-lived process may stop right after. A session
   * replaced meanwhile by a newer channel to the same peer is asked again. Rejects when there is
   * no session with `peerId`, it closes first, or `signal` aborts.
   */
  async confirm (peerId: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted()
      const session = this.session(peerId)
      if (session === undefined) throw new SessionClosedError(`no sync session with ${peerId}`)
      try {
        await raceSignal(session.confirm(), signal)
        return
      } catch (err) {
        const next = this.session(peerId)
        if (signal?.aborted === true || next === undefined || next === session) throw err
      }
    }
  }

  /**
   * Resolves once every update made so far is durable in the storage. Rejects with
   * `StorageFailedError` when one is not (after trying the unsaved ones once more).
   */
  async flush (): Promise<void> {
    await this.writer.flush()
    await this.trustMemory?.flush()
  }

  /** While some update has not reached the storage (between 'storage-error' and 'storage-recovered'), the error; else null. */
  get storageError (): Error | null {
    return this.storageErrorNow
  }

  /** Stop syncing, persist what is pending, release the storage's hold on nothing else. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.clock.clearTimeout(this.compactTimer)
    for (const { session } of Array.from(this.sessions.values())) session.destroy('space closed')
    this.doc.off('update', this.persist)
    if (this.trust === null) this.members.map.unobserveDeep(this.onMembersChanged)
    this.trust?.destroy()
    this.awareness.destroy()
    // What still cannot be written is lost with the process; 'storage-error' said so already.
    await this.flush().catch(() => {})
    this.writer.close()
    this.trustMemory?.close()
    await this.compacting
    if (this.logRecords >= COMPACT_ON_CLOSE_RECORDS && !this.writer.failing) this.compact()
    await this.compacting
    super.destroy()
  }

  /**
   * A home from before signed membership: its unsigned `devices` records that name this device as
   * the one that paired them become its signed admissions (no rights) and revocations, once, on the
   * first open with no trust memory. Records other devices wrote are not trusted.
   */
  private signPairingsOfOlderVersions (trust: TrustGate): void {
    for (const [peer, record] of this.members.map) {
      if (peer === trust.self || !(record instanceof Y.Map) || record.get('pairedBy') !== trust.self) continue
      const role = record.get('role')
      const pairedAt = record.get('pairedAt')
      if (record.get('revokedAt') !== undefined) {
        if (record.get('revokedBy') === trust.self) trust.revoke(peer, typeof record.get('revokedAt') === 'number' ? record.get('revokedAt') as number : Date.now())
      } else if (!trust.admits(peer)) {
        trust.admit(peer, typeof role === 'string' ? role : 'member', [], typeof pairedAt === 'number' ? pairedAt : Date.now())
      }
    }
  }

  private readonly onStorageFailed = (error: Error): void => {
    if (this.storageErrorNow !== null) return
    this.storageErrorNow = error
    this.emit('storage-error', [error])
  }

  private readonly onStorageRecovered = (): void => {
    if (this.storageErrorNow === null || this.writer.failing || this.trustMemory?.failing === true) return
    this.storageErrorNow = null
    this.emit('storage-recovered', [])
  }

  private readonly onMembersChanged = (): void => { this.emit('gate-changed', []) }
  private readonly onTrustRefused = (refusal: TrustRefusal): void => { this.emit('trust-refused', [refusal]) }

  /** Sign `body` as this device under `domain` (`verifyRecord` checks it); throws without an identity. */
  sign (domain: string, body: string): string {
    if (this.identity === undefined) throw new PermissionDeniedError('this space was opened without a device key: it cannot sign')
    return signRecord(this.identity, domain, body)
  }

  private readonly acceptUpdate = (update: Uint8Array, v2: boolean, kind: 'update' | 'diff'): string | null => {
    if (this.limits === undefined) return null
    return checkUpdate(this.doc, update, v2, kind, this.limits, this.sizeBytes())
  }

  /** Bytes the space takes in its store (its last snapshot plus the log since), estimated without reading it. */
  sizeBytes (): number {
    return this.snapshotBytes + this.storage.logSize(this.name)
  }

  /** Past 8 MiB, or past a thousand updates that weigh 1/16 of the snapshot (see COMPACT_LOG_RECORDS). */
  private logIsLong (): boolean {
    const bytes = this.storage.logSize(this.name)
    return bytes > COMPACT_LOG_BYTES || (this.logRecords > COMPACT_LOG_RECORDS && bytes > this.snapshotBytes / COMPACT_LOG_SNAPSHOT_FRACTION)
  }

  private readonly persist = (update: Uint8Array, origin: unknown): void => {
    if (origin === STORAGE_ORIGIN) return
    this.writer.write(update)
    this.logRecords++
    if (this.compactTimer === null && this.compacting === null && this.logIsLong()) {
      this.compactTimer = this.clock.setTimeout(this.compactLater, COMPACT_DELAY_MS)
    }
  }

  private readonly compactLater = (): void => {
    this.compactTimer = null
    // Not while writes fail: a snapshot needs more room than the updates it would replace.
    if (this.closed || this.compacting !== null || this.writer.failing || !this.logIsLong()) return
    this.compact()
  }

  /** Replace the log by one snapshot of the doc, in the background (`compacting`); a failure loses nothing. */
  private compact (): void {
    // The snapshot holds everything in the doc, which includes every append issued so far.
    const snapshot = Y.encodeStateAsUpdate(this.doc)
    const before = { records: this.logRecords, bytes: this.snapshotBytes }
    this.logRecords = 0
    this.snapshotBytes = snapshot.byteLength
    this.compacting = this.storage.compact(this.name, snapshot)
      .catch((err: Error) => {
        // The log still holds everything; compact again at a later update.
        this.logRecords += before.records
        this.snapshotBytes = before.bytes
        this.emit('compaction-failed', [err])
      })
      .finally(() => { this.compacting = null })
  }
}
