// A Yjs provider over the sync engine: the object editor bindings expect (`doc`, `awareness`,
// `status`/`synced` events, connect/disconnect/destroy), wrapping one SyncNode and one Space.
// Addresses and redialling are the node's (its address book); the provider says when to connect.

import type * as Y from 'yjs'
import { ObservableV2 } from 'lib0/observable'
import type { Awareness } from 'y-protocols/awareness'
import type { Connection } from '@libp2p/interface'
import { createSyncNode } from './node.ts'
import type { SyncNode, SyncNodeOptions } from './node.ts'
import type { Space } from './space.ts'
import type { Storage } from './store/storage.ts'
import type { Member } from './members.ts'
import { PairingService, acceptInvite } from './pairing/protocol.ts'
import type { AcceptedInvite, ConfirmPairing, OpenInvite, OpenInviteOptions } from './pairing/protocol.ts'
import type { Invite } from './pairing/invite.ts'
import { peerIdOf } from './net/multiaddrs.ts'

/** `connecting`: trying to reach a paired device; `connected`: syncing with at least one; `disconnected`: after `disconnect()`. */
export type ProviderStatus = 'connecting' | 'connected' | 'disconnected'

/** Events of a `SpaceProvider` (`provider.on(name, listener)`), named as y-websocket names them. */
export interface ProviderEvents {
  /** The connection status changed. */
  status: (event: { status: ProviderStatus }) => void
  /** `true` once the document holds everything a connected device had; `false` when no device is connected. */
  synced: (synced: boolean) => void
  /** The same as `synced` (y-websocket emits both). */
  sync: (synced: boolean) => void
  /** The devices this one syncs with right now changed. */
  peers: (event: { added: string[], removed: string[], peers: string[] }) => void
  /** A device paired with this one through one of its invites (`openInvite`). */
  paired: (member: Member) => void
  /** `peer` refused to sync with this device (`reason`: revoked, or not a member there); it is not redialled. */
  refused: (event: { peer: string, reason: string }) => void
}

/** Options of `createProvider`. */
export interface ProviderOptions {
  /** Where the document persists: `FileStore` in Node, `IndexedDbStore` in a browser (`MemoryStore`: nothing kept). */
  storage: Storage
  /** The document to replicate; a new one by default. It is loaded from `storage` before `createProvider` returns. */
  doc?: Y.Doc
  /** Options of the node the provider creates and owns: identity (`privateKey`), transports, listen addresses, relays. */
  node?: SyncNodeOptions
  /** Addresses of devices already paired (each ending in `/p2p/<peerId>`), kept connected with backoff. */
  peers?: string[]
  /** This device's name, shown to the other side when pairing. */
  name?: string
  /** This device's role, recorded by the devices it pairs with (default `device`). */
  role?: string
  /** Connect at once (default); with `false`, call `connect()` yourself. */
  connect?: boolean
  /** Close `storage` in `destroy()` too (when the provider is its only user). */
  closeStorage?: boolean
}

/** Options of `SpaceProvider.pair`. */
export interface ProviderPairOptions {
  /** Shown to the other side (the provider's `name` by default). */
  name?: string
  /** Asked once the other side accepted the proof: compare `prompt.code` with its screen. Accepts when omitted. */
  confirm?: ConfirmPairing
  signal?: AbortSignal
}

/** The provider was destroyed; make a new one. */
export class ProviderDestroyedError extends Error {
  name = 'ProviderDestroyedError'
}

/** `openInvite` on a device that listens on no address (a browser page): no one could dial the invite. */
export class NotListeningError extends Error {
  name = 'NotListeningError'
}

/**
 * Open `space` on a new node and keep it in sync with every paired device, as a Yjs provider:
 *
 * ```ts
 * const provider = await createProvider('notes', { storage: new FileStore({ dir: './store' }) })
 * yCollab(provider.doc.getText('body'), provider.awareness)      // any binding that takes an Awareness
 * provider.on('status', ({ status }) => console.log(status))
 * await provider.pair(inviteText)                                   // or: (await provider.openInvite()).text
 * ```
 *
 * The top-level `devices` map of the document is the engine's (who belongs to the space): use other names.
 */
export async function createProvider (space: string, options: ProviderOptions): Promise<SpaceProvider> {
  // The provider decides when to be connected (`connect()` / `disconnect()`); the node then redials.
  const node = await createSyncNode({ dialMembers: false, ...options.node })
  try {
    const opened = await node.openSpace(space, { storage: options.storage, doc: options.doc })
    return new SpaceProvider(node, opened, options)
  } catch (err) {
    await node.stop()
    throw err
  }
}

/** A replicated Y.Doc as editor bindings expect it. Make one with `createProvider`. */
export class SpaceProvider extends ObservableV2<ProviderEvents> {
  readonly doc: Y.Doc
  /** Presence (cursors, names): the y-protocols `Awareness` of the space, relayed by every device in between. */
  readonly awareness: Awareness
  readonly space: Space
  /** The provider's own node: it is stopped by `destroy()`. */
  readonly node: SyncNode
  /** This device's name, shown when pairing. */
  name: string
  /** Whether the provider wants to be connected (`connect()` / `disconnect()`). */
  shouldConnect = false
  destroyed = false

  private readonly role: string
  private readonly closeStorage: boolean
  private pairing: PairingService | null = null
  private destroying: Promise<void> | null = null
  private currentStatus: ProviderStatus = 'disconnected'
  private isSynced = false

  /** @internal use `createProvider`. */
  constructor (node: SyncNode, space: Space, options: Omit<ProviderOptions, 'storage'>) {
    super()
    this.node = node
    this.space = space
    this.doc = space.doc
    this.awareness = space.awareness
    this.name = options.name ?? 'device'
    this.role = options.role ?? 'device'
    this.closeStorage = options.closeStorage === true
    for (const addr of options.peers ?? []) {
      const peer = peerIdOf(addr)
      if (peer !== undefined) node.addressBook.remember(peer, [addr])
    }
    space.on('peer-connected', this.onPeerConnected)
    space.on('peer-disconnected', this.onPeerDisconnected)
    space.on('synced', this.onSynced)
    space.on('refused', this.onRefused)
    this.awareness.on('update', this.onAwarenessUpdate)
    node.libp2p.addEventListener('connection:open', this.onConnectionOpen)
    this.doc.on('destroy', this.onDocDestroy)
    // A browser that comes back online redials at once instead of waiting out the backoff.
    globalThis.addEventListener?.('online', this.onOnline)
    if (options.connect !== false) this.connect()
  }

  get status (): ProviderStatus { return this.currentStatus }

  /** Does the document hold everything a connected device had? */
  get synced (): boolean { return this.isSynced }

  /** Devices this one syncs with right now. */
  peers (): string[] {
    return this.space.connectedPeers()
  }

  /** Every address known for the devices of this space (from `peers`, pairing and the devices themselves), to store and pass back as `peers`. */
  knownAddrs (): string[] {
    return this.known().flatMap(([, addrs]) => addrs)
  }

  /** Connect to every known device and keep reconnecting (with backoff) until `disconnect()`. */
  connect (): void {
    this.assertLive()
    this.shouldConnect = true
    for (const [, addrs] of this.known()) this.node.connectInBackground(addrs)
    this.setStatus(this.peers().length > 0 ? 'connected' : 'connecting')
  }

  /**
   * Stop syncing: close the connections to this space's devices and stop redialling them;
   * while disconnected, their connections are refused too. Edits go on locally (and into
   * storage) and are exchanged at the next `connect()`.
   */
  disconnect (): void {
    this.shouldConnect = false
    const peers = new Set([...this.node.addressBook.entries().map(([peer]) => peer), ...this.peers(), ...this.space.members.list().map(m => m.peerId)])
    peers.delete(this.node.peerId)
    // Their addresses stay in the node's book for the next `connect()`.
    // Best effort: the peer may have no connection, or the node may be stopping.
    for (const peer of peers) this.node.hangUp(peer).catch(() => {})
    this.setSynced(false)
    this.setStatus('disconnected')
  }

  /** Pair with the device that showed `invite` (its text, or decoded), then keep connected to it. */
  async pair (invite: string | Invite, options: ProviderPairOptions = {}): Promise<AcceptedInvite> {
    this.assertLive()
    if (!this.shouldConnect) this.connect()
    const accepted = await acceptInvite(this.node, this.space, invite, {
      name: options.name ?? this.name, role: this.role, peerRole: 'device', confirm: options.confirm, signal: options.signal
    })
    this.node.addressBook.remember(accepted.peerId, accepted.addrs)
    if (this.shouldConnect) this.node.connectInBackground(accepted.addrs)
    return accepted
  }

  /**
   * Open an invite for one more device (show `invite.text`, or a QR of it); `invite.paired`
   * resolves with the new member. Needs a node that listens (a browser page does not).
   */
  async openInvite (options: OpenInviteOptions = {}): Promise<OpenInvite> {
    this.assertLive()
    if (options.addrs === undefined && this.node.addrs().length === 0) {
      throw new NotListeningError('this device listens on no address, so no other device could dial its invite; open invites on a device that listens (a Node peer)')
    }
    if (this.pairing === null) {
      this.pairing = new PairingService(this.node, this.space, { name: this.name, peerRole: 'device' })
      this.pairing.on('paired', (_id, member) => { this.emit('paired', [member]) })
      await this.pairing.start()
    }
    return this.pairing.openInvite(options)
  }

  /** Resolves once every edit so far is durable in the storage. */
  async flush (): Promise<void> {
    await this.space.flush()
  }

  /** Disconnect, persist what is pending and stop the node; the document stays usable locally. Calls after the first return the same promise. */
  async destroy (): Promise<void> {
    this.destroying ??= this.teardown()
    await this.destroying
  }

  private async teardown (): Promise<void> {
    this.destroyed = true
    this.shouldConnect = false
    this.space.off('peer-connected', this.onPeerConnected)
    this.space.off('peer-disconnected', this.onPeerDisconnected)
    this.space.off('synced', this.onSynced)
    this.space.off('refused', this.onRefused)
    this.awareness.off('update', this.onAwarenessUpdate)
    this.doc.off('destroy', this.onDocDestroy)
    globalThis.removeEventListener?.('online', this.onOnline)
    this.node.libp2p.removeEventListener('connection:open', this.onConnectionOpen)
    await this.pairing?.stop()
    await this.node.stop()
    if (this.closeStorage) await this.space.storage.close()
    this.setSynced(false)
    this.setStatus('disconnected')
    super.destroy()
  }

  /** Devices with a known address in the node's book, revoked ones left out. */
  private known (): Array<[string, string[]]> {
    return this.node.addressBook.entries().filter(([peer, addrs]) => addrs.length > 0 && peer !== this.node.peerId && !this.space.members.isRevoked(peer))
  }

  private assertLive (): void {
    if (this.destroyed) throw new ProviderDestroyedError('the provider was destroyed')
  }

  private setStatus (status: ProviderStatus): void {
    if (status === this.currentStatus) return
    this.currentStatus = status
    this.emit('status', [{ status }])
  }

  private setSynced (synced: boolean): void {
    if (synced === this.isSynced) return
    this.isSynced = synced
    this.emit('synced', [synced])
    this.emit('sync', [synced])
  }

  private readonly onPeerConnected = (peer: string): void => {
    // A device that dropped our presence while we were away ignores it at the same clock:
    // announce it again with a new one (y-protocols bumps the clock on every setLocalState).
    const local = this.awareness.getLocalState()
    if (local !== null) this.awareness.setLocalState(local)
    this.setStatus('connected')
    this.emit('peers', [{ added: [peer], removed: [], peers: this.peers() }])
  }

  private readonly onPeerDisconnected = (peer: string): void => {
    const peers = this.peers()
    if (peers.length === 0) {
      this.setSynced(false)
      if (this.shouldConnect) this.setStatus('connecting')
    }
    this.emit('peers', [{ added: [], removed: [peer], peers }])
  }

  /**
   * A remote presence dropped (its session closed, or it timed out) is forgotten with its clock,
   * so the same state relayed again after a reconnection is accepted: y-protocols keeps the
   * clock of a removed remote client and ignores a state at that clock, which hid the other
   * devices' cursors for up to 15 s (until they renew their state) after every reconnection.
   */
  private readonly onAwarenessUpdate = ({ removed }: { removed: number[] }): void => {
    if (removed.length === 0) return
    // After the other listeners: the sessions still read the clock to relay the removal.
    queueMicrotask(() => {
      for (const client of removed) {
        if (client !== this.awareness.clientID && !this.awareness.states.has(client)) this.awareness.meta.delete(client)
      }
    })
  }

  private readonly onRefused = (peer: string, reason: string): void => {
    // Redialling would be refused again, forever: stop, forget where it was, say why.
    this.node.forget(peer).catch(() => {}) // best effort: the connection may be gone already
    this.emit('refused', [{ peer, reason }])
  }

  private readonly onSynced = (): void => {
    if (this.peers().length > 0) this.setSynced(true)
  }

  /** While disconnected, a device of this space that dials in is turned away before any sync starts. */
  private readonly onConnectionOpen = (event: CustomEvent<Connection>): void => {
    if (this.shouldConnect || this.destroyed) return
    const peer = event.detail.remotePeer.toString()
    if (this.space.allows(peer)) event.detail.abort(new Error('the provider is disconnected'))
  }

  private readonly onOnline = (): void => {
    if (!this.shouldConnect || this.destroyed) return
    this.node.redialNow()
  }

  private readonly onDocDestroy = (): void => { void this.destroy() }
}
