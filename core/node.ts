// A device on the network: one libp2p node, the spaces it has open, the gate
// that keeps strangers out, and the one owner of members' addresses (the address book)
// and of reconnection to them.

import { ObservableV2 } from 'lib0/observable'
import type { Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, PeerId, PeerUpdate, PrivateKey, Stream } from '@libp2p/interface'
import { HELLO_TIMEOUT_MS, IDENTIFY_DEFER_MS, SYNC_PIECE_BYTES, SYNC_PROTOCOL, SYNC_PROTOCOLS } from './constants.ts'
import { createLibp2pNode, loopbackListenAddrs } from './net/libp2p.ts'
import type { DispatchLibp2p, Libp2pNodeOptions } from './net/libp2p.ts'
import { StreamChannel } from './net/stream-channel.ts'
import { rawStream } from './net/optimistic-select.ts'
import { decodeHello, encodeHello } from './net/hello.ts'
import { backoffDelay } from './net/reconnect.ts'
import { dialDirectFirst } from './net/direct-first-dial.ts'
import { AddressBook } from './net/address-book.ts'
import type { AddressBookStore } from './net/address-book.ts'
import { isRelayedAddr, peerIdOf, relayIdOf, withPeerId } from './net/multiaddrs.ts'
import { unrefTimer } from './sync/timers.ts'
import { openSpace } from './space.ts'
import type { AttachOptions, Space, SpaceOptions } from './space.ts'

/** A peer tried to sync a space it is not a member of. */
export class NotAMemberError extends Error {
  name = 'NotAMemberError'
}

/** `connectPeer` was asked for a peer whose address is not in the address book. */
export class UnknownPeerAddressError extends Error {
  name = 'UnknownPeerAddressError'
}

/** The node is not started, or was stopped. */
export class NodeStoppedError extends Error {
  name = 'NodeStoppedError'
}

/** Events of a `SyncNode` (`node.on(name, listener)`). */
export interface SyncNodeEvents {
  /** A peer was turned away before any application protocol ran. */
  'gate-refused': (peerId: string, where: 'connection' | 'sync') => void
  /** A reconnection attempt to a known peer failed; another is scheduled in `delayMs`. */
  'reconnect-failed': (peerId: string, error: Error, delayMs: number) => void
  /** A frame on a stream from `peerId` broke the framing rules; that stream was reset. */
  'frame-error': (peerId: string, error: Error) => void
  /** Saving the address book failed; it is still right in memory and the next change saves it again. */
  'address-book-error': (error: Error) => void
}

/** Options of `createSyncNode`. */
export interface SyncNodeOptions {
  /** The device identity (see `loadOrCreateIdentity`); a fresh one when omitted. */
  privateKey?: PrivateKey
  /** Listen multiaddrs; loopback on ephemeral ports by default. */
  listen?: string[]
  /** Bounds for reconnection backoff. */
  reconnect?: { minMs?: number, maxMs?: number }
  /** libp2p transports instead of the Node set (a browser passes WebSockets and WebRTC-direct). */
  transports?: Libp2pNodeOptions['transports']
  /** Circuit relays (multiaddrs ending in `/p2p/<relayId>`) to hold a slot on, so peers elsewhere can reach us. */
  relays?: string[]
  /** mDNS on the LAN: members it finds are dialled; strangers are still refused at the gate. Off by default. */
  mdns?: Libp2pNodeOptions['mdns']
  /** Where members' last known addresses are kept across restarts (`addressBookFile`, `indexedDbAddressBook`); in memory when omitted. */
  addressBook?: AddressBookStore
  /**
   * Keep connected to every member of an open space whose address is known (default true):
   * dial them on start and whenever one is admitted, redial with backoff when a connection drops.
   * A short-lived process that only reads its space passes false and dials with `connectPeer`.
   */
  dialMembers?: boolean
  /**
   * Revisions of the sync protocol this node speaks, preferred first (default `constants.SYNC_PROTOCOLS`:
   * 1.1.0, then 1.0.0). Narrow it only to act as an older peer would (mixed-version tests).
   */
  syncProtocols?: readonly string[]
  /** The WebRTC-direct certificate to listen with (`loadOrCreateWebRTCCertificate`), so the certhash in this node's addresses survives restarts. */
  webrtcCertificate?: Libp2pNodeOptions['webrtcCertificate']
}

/** Reconnection state of a peer this node keeps connected; its addresses are in the address book. */
interface Kept {
  attempt: number
  timer: ReturnType<typeof setTimeout> | null
}

/** Create and start a node. */
export async function createSyncNode (options: SyncNodeOptions = {}): Promise<SyncNode> {
  const node = new SyncNode(options)
  await node.start()
  return node
}

/** A device on the network: one libp2p node, its open spaces, the gate and reconnection. Make one with `createSyncNode`. */
export class SyncNode extends ObservableV2<SyncNodeEvents> {
  readonly spaces = new Map<string, Space>()
  /** Gate counters, for tests and diagnostics. */
  readonly refusals = { connection: 0, sync: 0 }
  stopped = false

  private libp2pNode: DispatchLibp2p | null = null
  private privateKey: PrivateKey | undefined
  private readonly options: SyncNodeOptions
  private readonly strangerGates = new Set<(peerId: string) => boolean>()
  private readonly kept = new Map<string, Kept>()
  /** Members' last known addresses, persisted: the node keeps connected to the ones it admits. */
  private readonly syncProtocols: readonly string[]
  readonly addressBook: AddressBook

  constructor (options: SyncNodeOptions = {}) {
    super()
    this.options = options
    this.addressBook = new AddressBook(options.addressBook, error => { this.emit('address-book-error', [error]) })
    this.syncProtocols = options.syncProtocols ?? SYNC_PROTOCOLS
  }

  get libp2p (): DispatchLibp2p {
    if (this.libp2pNode === null) throw new NodeStoppedError('node is not started')
    return this.libp2pNode
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  /** Listening multiaddrs, each ending in `/p2p/<peerId>`. */
  addrs (): string[] {
    return this.libp2p.getMultiaddrs().map(a => a.toString())
  }

  async start (): Promise<void> {
    await this.addressBook.load()
    // Ours even when none was given: it signs this device's membership statements in every space.
    this.privateKey = this.options.privateKey ?? await generateKeyPair('Ed25519')
    this.libp2pNode = await createLibp2pNode({
      identifyOnOpen: false,
      relays: this.options.relays,
      mdns: this.options.mdns,
      privateKey: this.privateKey,
      listen: this.options.listen ?? loopbackListenAddrs(),
      transports: this.options.transports,
      webrtcCertificate: this.options.webrtcCertificate,
      connectionGater: {
        // Dial what the caller asks for: browsers' default gater refuses LAN and plain-ws
        // addresses, which is exactly where a paired desktop lives. Inbound is gated below.
        denyDialMultiaddr: () => false,
        denyInboundEncryptedConnection: (peerId) => {
          const id = peerId.toString()
          if (this.admits(id)) return false
          this.refusals.connection++
          this.emit('gate-refused', [id, 'connection'])
          return true
        }
      }
    })
    await this.libp2p.handle([...this.syncProtocols], (stream, connection) => this.acceptSync(stream, connection), {
      runOnLimitedConnection: true
    })
    this.libp2p.addEventListener('connection:open', this.onConnectionOpen)
    this.libp2p.addEventListener('peer:disconnect', this.onPeerDisconnect)
    this.libp2p.addEventListener('peer:update', this.onPeerUpdate)
    this.libp2p.addEventListener('peer:identify', this.onPeerIdentify)
  }

  /** Is `peerId` a member of an open space, or admitted as a stranger for pairing? */
  admits (peerId: string): boolean {
    for (const space of this.spaces.values()) if (space.allows(peerId)) return true
    for (const gate of this.strangerGates) if (gate(peerId)) return true
    return false
  }

  /**
   * Let `gate` admit peers that are not members (pairing registers itself here while it
   * runs). Returns the function that removes it again.
   */
  addStrangerGate (gate: (peerId: string) => boolean): () => void {
    this.strangerGates.add(gate)
    return () => { this.strangerGates.delete(gate) }
  }

  /** Open (or return the already open) space `name` and sync it with every connected member. */
  async openSpace (name: string, options: SpaceOptions): Promise<Space> {
    const open = this.spaces.get(name)
    if (open !== undefined) return open
    const space = await openSpace(name, { identity: this.privateKey, ...options })
    this.spaces.set(name, space)
    // After the transaction that changed the gate: its update (a revocation, say) still goes
    // out to the peer being cut off, so that device learns why before its session closes.
    space.on('gate-changed', () => queueMicrotask(() => { if (!this.stopped) { this.enforceGate(space); this.syncAdmitted(space); this.keepMembers(space) } }))
    for (const connection of this.libp2p.getConnections()) {
      const peer = connection.remotePeer.toString()
      if (space.allows(peer)) void this.openSync(space, peer)
    }
    this.keepMembers(space)
    return space
  }

  /**
   * Dial a peer by multiaddr (ending in `/p2p/<peerId>`), remember it, and keep
   * reconnecting with backoff whenever the connection drops. Resolves with the
   * peer id once connected; sync streams open for every space the peer belongs to.
   */
  async connect (addr: string | Multiaddr | Array<string | Multiaddr>): Promise<string> {
    const addrs = (Array.isArray(addr) ? addr : [addr]).map(a => a.toString())
    const peerId = addrs.length > 0 ? peerIdOf(addrs[0]) : undefined
    if (peerId === undefined) throw new TypeError('a multiaddr to connect to must end in /p2p/<peerId>')
    this.addressBook.remember(peerId, addrs)
    this.keep(peerId)
    return await this.connectPeer(peerId)
  }

  /**
   * Dial `peerId` now at its known addresses (it stays kept: redialled whenever it drops).
   * Rejects when it cannot be reached; reconnection then goes on in the background.
   */
  async connectPeer (peerId: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const addrs = this.addressBook.get(peerId)
    if (addrs.length === 0) throw new UnknownPeerAddressError(`no known address for ${peerId}`)
    const kept = this.keep(peerId)
    try {
      await this.dialMember(peerId, addrs, options.signal)
    } catch (err) {
      this.scheduleReconnect(peerId)
      throw err
    }
    kept.attempt = 0
    return peerId
  }

  /** `connect`, and when the first dial fails keep trying with backoff instead of throwing. */
  connectInBackground (addr: string | Multiaddr | Array<string | Multiaddr>): void {
    // Safe to drop: a failed first dial has already scheduled the next attempt (see `connectPeer`),
    // and each later failure is reported as 'reconnect-failed'.
    this.connect(addr).catch(() => {})
  }

  /** Peers with a known address that an open space admits (where this node keeps connecting). */
  knownPeers (): Array<{ peerId: string, addrs: string[] }> {
    return this.addressBook.entries().filter(([peer, addrs]) => addrs.length > 0 && this.isMember(peer)).map(([peerId, addrs]) => ({ peerId, addrs }))
  }

  /** Try every kept peer that is not connected now, from the shortest delay (a browser came back online). */
  redialNow (): void {
    for (const [peer, kept] of this.kept) {
      if (this.libp2p.getConnections(peerIdFromString(peer)).length > 0) continue
      if (kept.timer !== null) { clearTimeout(kept.timer); kept.timer = null }
      kept.attempt = 0
      this.scheduleReconnect(peer, 0)
    }
  }

  /** Is `peerId` a member of an open space (not merely a stranger admitted for pairing)? */
  isMember (peerId: string): boolean {
    for (const space of this.spaces.values()) if (space.allows(peerId)) return true
    return false
  }

  /** Stop reconnecting to `peerId` and close its connections; its addresses stay in the book (for a later `connectPeer`). */
  async hangUp (peerId: string): Promise<void> {
    this.unkeep(peerId)
    // hangUp closes gracefully and aborts what does not close; it fails only once the node is stopping.
    await this.libp2p.hangUp(peerIdFromString(peerId)).catch((err: Error) => { if (!this.stopped) throw err })
  }

  /** Stop reconnecting to `peerId`, drop its addresses and close its connections. */
  async forget (peerId: string): Promise<void> {
    this.addressBook.forget(peerId)
    await this.hangUp(peerId)
  }

  /** Addresses remembered for a peer. */
  knownAddrs (peerId: string): string[] {
    return this.addressBook.get(peerId)
  }

  /** Peers with an open libp2p connection. */
  connectedPeers (): string[] {
    return this.libp2p.getPeers().map(p => p.toString())
  }

  /** Close every space (persisting what is pending) and stop the libp2p node. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const kept of this.kept.values()) if (kept.timer !== null) clearTimeout(kept.timer)
    this.kept.clear()
    this.libp2pNode?.removeEventListener('connection:open', this.onConnectionOpen)
    this.libp2pNode?.removeEventListener('peer:disconnect', this.onPeerDisconnect)
    this.libp2pNode?.removeEventListener('peer:update', this.onPeerUpdate)
    this.libp2pNode?.removeEventListener('peer:identify', this.onPeerIdentify)
    await this.addressBook.flush()
    await Promise.all(Array.from(this.spaces.values()).map(async s => await s.close()))
    this.spaces.clear()
    await this.libp2pNode?.stop()
    super.destroy()
  }

  /** Close sessions and connections of peers the gate no longer admits (revocation). */
  private enforceGate (space: Space): void {
    for (const peer of space.connectedPeers()) {
      if (!space.allows(peer)) space.disconnect(peer, space.members.isRevoked(peer) ? 'refused: device revoked' : 'refused: not a member')
    }
    const relays = this.relaysInUse()
    for (const connection of this.libp2pNode?.getConnections() ?? []) {
      const peer = connection.remotePeer.toString()
      // A relay is not a member, but closing our connection to it would cut every circuit through it.
      if (!this.admits(peer) && !relays.has(peer)) {
        this.unkeep(peer)
        if (space.members.isRevoked(peer)) this.addressBook.forget(peer)
        // A graceful close: the muxer flushes every stream first, so the refusal frame written
        // just above (space.disconnect) still reaches the peer; what cannot close is aborted.
        connection.close().catch((err: Error) => { connection.abort(err) })
      }
    }
  }

  /** Relays we hold a slot on or reach members through. */
  private relaysInUse (): Set<string> {
    const ids = new Set<string>()
    for (const r of this.options.relays ?? []) { const id = peerIdOf(r); if (id !== undefined) ids.add(id) }
    for (const c of this.libp2pNode?.getConnections() ?? []) {
      const id = relayIdOf(c.remoteAddr)
      if (id !== undefined) ids.add(id)
    }
    return ids
  }

  /**
   * A peer admitted while already connected (just paired): the side that dialed opens the
   * sync stream, as it would have on connecting.
   */
  private syncAdmitted (space: Space): void {
    for (const connection of this.libp2pNode?.getConnections() ?? []) {
      if (connection.direction !== 'outbound') continue
      const peer = connection.remotePeer.toString()
      if (space.allows(peer) && space.session(peer) === undefined) void this.openSync(space, peer)
    }
  }

  private readonly onConnectionOpen = (event: CustomEvent<Connection>): void => {
    const connection = event.detail
    this.identifyInTurn(connection)
    if (!isRelayed(connection)) void this.dropRelayed(connection.remotePeer.toString())
    // The side that dialed opens the sync streams; `openSpace` covers spaces opened later.
    if (connection.direction !== 'outbound') return
    const peer = connection.remotePeer.toString()
    const kept = this.kept.get(peer)
    if (kept !== undefined) kept.attempt = 0
    for (const space of this.spaces.values()) {
      if (space.allows(peer) && space.session(peer) === undefined) void this.openSync(space, peer)
    }
  }

  /**
   * libp2p's identify (listen addresses, protocols, observed address) on a new connection. Both
   * sides run it, and its messages, signature check and peer-store writes shared the event loop
   * with the first sync: on a member's direct connection it now waits for that sync (or
   * IDENTIFY_DEFER_MS). Relayed connections (DCUtR acts on them at once) and other peers (relays,
   * a stranger pairing) are identified as soon as they open, as libp2p does.
   */
  private identifyInTurn (connection: Connection): void {
    const peer = connection.remotePeer.toString()
    const identify = (): void => {
      if (this.stopped || connection.status !== 'open') return
      // A connection closed during identify, or a peer that does not answer it: nothing to learn.
      this.libp2p.services.identify.identify(connection).catch(() => {})
    }
    const spaces = [...this.spaces.values()].filter(space => space.allows(peer))
    if (isRelayed(connection) || spaces.length === 0) { identify(); return }
    const done = (): void => {
      clearTimeout(timer)
      for (const space of spaces) space.off('synced', onSynced)
      identify()
    }
    const onSynced = (synced: string): void => { if (synced === peer) done() }
    for (const space of spaces) space.on('synced', onSynced)
    const timer = setTimeout(done, IDENTIFY_DEFER_MS)
    unrefTimer(timer)
  }

  private readonly onPeerDisconnect = (event: CustomEvent<{ toString: () => string }>): void => {
    const peer = event.detail.toString()
    if (this.kept.has(peer) && !this.stopped) this.scheduleReconnect(peer)
  }

  /**
   * A direct connection to `peer` exists: close the relayed ones (they are metered and
   * slower) and make sure every shared space syncs over the direct one.
   */
  private async dropRelayed (peer: string): Promise<void> {
    if (this.stopped) return
    const relayed = this.libp2p.getConnections(peerIdFromString(peer)).filter(isRelayed)
    if (relayed.length === 0) return
    // A session that rode on a relayed connection ends with it: as soon as it has, sync again
    // over the direct one (both sides do; the space keeps one of the two channels).
    for (const space of this.spaces.values()) {
      if (!space.allows(peer) || space.session(peer) === undefined) continue
      const onGone = (gone: string): void => {
        if (gone !== peer) return
        space.off('peer-disconnected', onGone)
        if (!this.stopped && space.allows(peer) && space.session(peer) === undefined) void this.openSync(space, peer)
      }
      space.on('peer-disconnected', onGone)
    }
    // close() ends the streams gracefully; a connection that cannot is aborted instead.
    await Promise.all(relayed.map(async c => await c.close().catch((err: Error) => { c.abort(err) })))
    for (const space of this.spaces.values()) {
      if (space.allows(peer) && space.session(peer) === undefined && !this.stopped) void this.openSync(space, peer)
    }
  }

  /**
   * The peer store learnt addresses (mDNS, identify): for a member we are not directly
   * connected to, new addresses are remembered and dialled; anyone else is ignored.
   * (`peer:discovery` fires only for peers never seen before, not for a desktop on a new port.)
   */
  private readonly onPeerUpdate = (event: CustomEvent<PeerUpdate>): void => {
    const peer = event.detail.peer.id.toString()
    if (this.stopped || !this.isMember(peer)) return
    const known = new Set(this.knownAddrs(peer))
    const fresh = event.detail.peer.addresses.map(a => withPeerId(a.multiaddr, peer)).filter(a => !known.has(a))
    if (fresh.length === 0) return
    const direct = this.libp2p.getConnections(event.detail.peer.id).some(c => !isRelayed(c))
    this.addressBook.remember(peer, fresh)
    // Not directly connected (a desktop back on a new port, found by mDNS): try the new addresses now.
    if (!direct && this.wantsConnected(peer)) this.connectInBackground(fresh)
  }

  /** Identify told us where a member listens (LAN and relay addresses): remember them. */
  private readonly onPeerIdentify = (event: CustomEvent<{ peerId: { toString: () => string }, listenAddrs: Multiaddr[] }>): void => {
    const peer = event.detail.peerId.toString()
    if (!this.isMember(peer)) return
    this.addressBook.remember(peer, event.detail.listenAddrs.map(a => withPeerId(a, peer)))
  }

  /** Does this node keep `peer` connected: asked to (`connect`), or a member while `dialMembers` is on? */
  private wantsConnected (peer: string): boolean {
    return this.kept.has(peer) || (this.options.dialMembers !== false && this.isMember(peer))
  }

  /** Start keeping every admitted member with a known address connected (unless `dialMembers` is off). */
  private keepMembers (space: Space): void {
    if (this.options.dialMembers === false || this.stopped) return
    for (const [peer, addrs] of this.addressBook.entries()) {
      if (addrs.length === 0 || !space.allows(peer) || peer === this.peerId || this.kept.has(peer)) continue
      this.keep(peer)
      if (this.libp2p.getConnections(peerIdFromString(peer)).length === 0) this.scheduleReconnect(peer, 0)
    }
  }

  private keep (peer: string): Kept {
    let kept = this.kept.get(peer)
    if (kept === undefined) {
      kept = { attempt: 0, timer: null }
      this.kept.set(peer, kept)
    }
    return kept
  }

  private unkeep (peer: string): void {
    const kept = this.kept.get(peer)
    if (kept?.timer != null) clearTimeout(kept.timer)
    this.kept.delete(peer)
  }

  /** Dial `peer` again after a backoff delay (or `delayMs`), until connected, forgotten or stopped. */
  private scheduleReconnect (peer: string, delayMs?: number): void {
    const kept = this.kept.get(peer)
    if (kept === undefined || kept.timer !== null || this.stopped) return
    kept.timer = setTimeout(() => {
      kept.timer = null
      if (this.stopped || this.kept.get(peer) !== kept) return
      if (this.libp2p.getConnections(peerIdFromString(peer)).length > 0) { kept.attempt = 0; return }
      const addrs = this.addressBook.get(peer)
      if (addrs.length === 0) return
      kept.attempt++
      this.dialMember(peer, addrs).then(() => { kept.attempt = 0 }, (err: Error) => {
        if (this.stopped) return
        this.emit('reconnect-failed', [peer, err, backoffDelay(kept.attempt, this.options.reconnect)])
        this.scheduleReconnect(peer)
      })
    }, delayMs ?? backoffDelay(kept.attempt, this.options.reconnect))
    unrefTimer(kept.timer)
  }

  /**
   * Dial `peer` at `addrs`: the direct ones first (for at most RELAY_FALLBACK_MS when it also has
   * relayed ones), then the relayed ones. libp2p would try the relayed ones last of all, after up
   * to 5 s on each dead direct address, and give up at DIAL_TIMEOUT_MS: a desktop that came back
   * on new ports several times would never be reached through the relay that still reaches it.
   */
  private async dialMember (peer: string, addrs: string[], signal?: AbortSignal): Promise<void> {
    // Already reached through a relay: this dial is the move to a direct address, with all the time it needs.
    const throughRelay = this.libp2p.getConnections(peerIdFromString(peer)).some(c => c.status === 'open' && isRelayed(c))
    const dialable = throughRelay ? addrs.filter(a => !isRelayedAddr(a)) : addrs
    if (dialable.length === 0) return
    await dialDirectFirst(this.libp2p, dialable, signal)
  }

  /**
   * Open the sync stream for `space` to `peer`. The protocol is proposed optimistically: the
   * proposal, the hello and the session's first messages (state vector, presence) leave in one
   * write, and the peer's answer, its own state vector and its diff come back in one: the first
   * sync completes one round trip after the stream opens. A peer that does not speak the
   * proposed revision refuses it; the channel then negotiates an older one and sends again.
   */
  private async openSync (space: Space, peer: string): Promise<void> {
    try {
      const id = peerIdFromString(peer)
      // On a connection we already have, preferring a direct one: libp2p's dialProtocol never
      // reuses a relayed (limited) connection, so it would dial again and fail where the relay
      // is the only way to reach the peer.
      const open = this.libp2p.getConnections(id).filter(c => c.status === 'open')
      const connection = open.find(c => c.limits === undefined) ?? open[0]
      const onError = (err: Error): void => { this.emit('frame-error', [peer, err]) }
      let channel: StreamChannel
      const raw = connection !== undefined ? rawStream(connection) : undefined
      if (connection !== undefined && raw !== undefined) {
        const proposed = await this.syncProtocolFor(id)
        const rest = this.syncProtocols.filter(p => p !== proposed)
        channel = new StreamChannel(await raw, {
          select: proposed,
          onError,
          fallback: rest.length > 0 ? async () => await connection.newStream([...rest], { runOnLimitedConnection: true }) : undefined
        })
      } else {
        const stream = connection !== undefined
          ? await connection.newStream([...this.syncProtocols], { runOnLimitedConnection: true })
          : await this.libp2p.dialProtocol(id, [...this.syncProtocols], { runOnLimitedConnection: true })
        channel = new StreamChannel(stream, { onError })
      }
      channel.send(encodeHello(space.name))
      space.attach(channel, peer, this.peerId, this.attachOptions(channel, connection))
    } catch {
      // The connection went away while opening; reconnection will try again.
    }
  }

  /** The revision to propose to `peer`: our preferred one, unless identify told us the peer lacks it. */
  private async syncProtocolFor (peer: PeerId): Promise<string> {
    const theirs = (await this.libp2p.peerStore.get(peer).catch(() => undefined))?.protocols ?? []
    return this.syncProtocols.find(p => theirs.includes(p)) ?? this.syncProtocols[0]
  }

  /** Pieces only where a relay meters the connection; the diff's encoding follows the protocol spoken. */
  private attachOptions (channel: StreamChannel, connection: Connection | undefined): AttachOptions {
    return {
      pieceBytes: connection === undefined || connection.limits !== undefined ? SYNC_PIECE_BYTES : Infinity,
      diffEncoding: () => channel.protocol === SYNC_PROTOCOL ? 'v2' : 'v1'
    }
  }

  private async acceptSync (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const channel = new StreamChannel(stream, { onError: (err) => this.emit('frame-error', [peer, err]) })
    try {
      const { space: name } = decodeHello(await channel.firstMessage(HELLO_TIMEOUT_MS))
      const space = this.spaces.get(name)
      if (space === undefined || !space.allows(peer)) {
        this.refusals.sync++
        this.emit('gate-refused', [peer, 'sync'])
        channel.close(space !== undefined && space.members.isRevoked(peer) ? 'refused: device revoked' : 'refused: not a member')
        return
      }
      space.attach(channel, peer, peer, this.attachOptions(channel, connection))
    } catch (err) {
      channel.abort(err as Error)
    }
  }
}

/** A connection through a circuit relay: metered by the relay, and second choice. */
function isRelayed (connection: Connection): boolean {
  return connection.limits !== undefined || isRelayedAddr(connection.remoteAddr)
}
