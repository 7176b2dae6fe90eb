// The phone client in the browser: identity and space in IndexedDB, libp2p over WebSockets and
// WebRTC-direct, pairing from an invite, reconnection to paired desktops, and the task board.

import { ObservableV2 } from 'lib0/observable'
import {
  createSyncNode, IndexedDbStore, acceptInvite, decodeInvite, browserTransports, loadOrCreateBrowserIdentity
} from '../../core/browser.ts'
import type { SyncNode, Space, PairingPrompt } from '../../core/browser.ts'
import { TaskBoard } from '../tasks/task-board.ts'

/** The one space every device of a user shares (the same name as peers/device SPACE_NAME). */
export const SPACE_NAME = 'dispatch'
const DESKTOPS_KEY = 'dispatch.desktops'
/** Set when a desktop told this browser it was revoked, so a reopened page still says so. */
const REFUSAL_KEY = 'dispatch.refusal'
const NAME_KEY = 'dispatch.name'

/** Which browser transports to use towards desktops: both by default; `relay` (a test knob) only circuit relay addresses reached over WebSockets. */
export type TransportChoice = 'any' | 'ws' | 'webrtc' | 'relay'

export interface KnownDesktop { name: string, addrs: string[] }

export type PhoneEvents = {
  /** Something shown on screen changed (tasks, devices, connections). */
  change: () => void
  /** A desktop refused us: this browser device was revoked (or is unknown there). */
  refused: (peerId: string, reason: string) => void
}

export interface OpenPhoneOptions {
  transport?: TransportChoice
  /** Prefix of the IndexedDB databases (tests open several devices in one origin). */
  dbPrefix?: string
}

export class Phone extends ObservableV2<PhoneEvents> {
  readonly node: SyncNode
  readonly space: Space
  readonly board: TaskBoard
  readonly transport: TransportChoice
  /** Set once a desktop said this device is revoked; shown on the page. */
  refusal: string | null = null
  private closed = false

  private constructor (node: SyncNode, space: Space, board: TaskBoard, transport: TransportChoice) {
    super()
    this.node = node
    this.space = space
    this.board = board
    this.transport = transport
    const changed = (): void => { this.emit('change', []) }
    board.on('tasks-change', changed)
    space.members.map.observeDeep(changed)
    space.on('peer-connected', changed)
    space.on('peer-disconnected', changed)
    // Where the page reaches its peers, for tests: `data-via` holds the open connections and
    // `data-via-log` every one opened so far, a line "<peerId> <remote multiaddr>" each.
    const via = (c: { remotePeer: unknown, remoteAddr: unknown }): string => `${String(c.remotePeer)} ${String(c.remoteAddr)}`
    node.libp2p.addEventListener('connection:open', event => {
      document.body.dataset.viaLog = [document.body.dataset.viaLog, via(event.detail)].filter(Boolean).join('\n')
      document.body.dataset.via = node.libp2p.getConnections().map(via).join('\n')
    })
    node.libp2p.addEventListener('connection:close', () => { document.body.dataset.via = node.libp2p.getConnections().map(via).join('\n') })
    const revokedHere = (): void => {
      if (this.refusal === null && space.members.isRevoked(node.peerId)) {
        this.refusal = 'This browser was revoked by the desktop. Pair again with a new invite to use it.'
      }
    }
    this.refusal = localStorage.getItem(REFUSAL_KEY)
    revokedHere() // the revocation reached this device's own copy before the desktop cut it off
    space.members.map.observeDeep(revokedHere)
    space.on('refused', (peer, reason) => {
      this.refusal = reason.includes('revoked') ? 'This browser was revoked by the desktop. Pair again with a new invite to use it.' : `The desktop refused this browser (${reason}).`
      if (reason.includes('revoked')) localStorage.setItem(REFUSAL_KEY, this.refusal)
      this.emit('refused', [peer, reason])
      changed()
    })
  }

  static async open (options: OpenPhoneOptions = {}): Promise<Phone> {
    const prefix = options.dbPrefix ?? 'dispatch'
    const privateKey = await loadOrCreateBrowserIdentity(`${prefix}-device`)
    const storage = await IndexedDbStore.open({ name: `${prefix}-space` })
    const node = await createSyncNode({ privateKey, listen: [], transports: browserTransports(), reconnect: { maxMs: 5_000 } })
    const space = await node.openSpace(SPACE_NAME, { storage })
    const board = new TaskBoard({ doc: space.doc, deviceId: node.peerId })
    const phone = new Phone(node, space, board, options.transport ?? 'any')
    phone.connectKnown()
    return phone
  }

  get peerId (): string { return this.node.peerId }

  get name (): string { return localStorage.getItem(NAME_KEY) ?? 'phone' }
  set name (name: string) { localStorage.setItem(NAME_KEY, name) }

  /** Paired desktops, with where we last reached them. */
  desktops (): Record<string, KnownDesktop> {
    try {
      return JSON.parse(localStorage.getItem(DESKTOPS_KEY) ?? '{}') as Record<string, KnownDesktop>
    } catch {
      return {}
    }
  }

  isPaired (): boolean {
    return Object.keys(this.desktops()).length > 0 || this.board.devices().some(d => d.role === 'desktop' && d.id !== this.peerId)
  }

  /** Is `peerId` syncing with us right now? */
  online (peerId: string): boolean {
    return this.space.connectedPeers().includes(peerId)
  }

  /** Addresses a browser can dial, filtered by the transport choice. */
  dialable (addrs: string[]): string[] {
    const ws = addrs.filter(a => /\/wss?(\/|$)/.test(a) || a.includes('/tls/ws'))
    const webrtc = addrs.filter(a => a.includes('/webrtc-direct/'))
    if (this.transport === 'relay') return ws.filter(a => a.includes('/p2p-circuit'))
    if (this.transport === 'ws') return ws
    if (this.transport === 'webrtc') return webrtc
    return [...ws, ...webrtc]
  }

  /** Pair with the desktop of `inviteText`; `confirm` shows the verification code to the person. */
  async pair (inviteText: string, confirm?: (prompt: PairingPrompt) => Promise<boolean>): Promise<{ peerId: string, name: string, code: string }> {
    const invite = decodeInvite(inviteText.trim())
    const addrs = this.dialable(invite.addrs.map(a => a.toString()))
    if (addrs.length === 0) throw new Error(`the invite of "${invite.name}" has no address a browser can reach (WebSockets or WebRTC-direct): start the desktop with --web`)
    const accepted = await acceptInvite(this.node, this.space, { ...invite, addrs: invite.addrs.filter(a => addrs.includes(a.toString())) }, {
      name: this.name, role: 'phone', peerRole: 'desktop', confirm
    })
    this.refusal = null
    localStorage.removeItem(REFUSAL_KEY)
    const desktops = this.desktops()
    desktops[accepted.peerId] = { name: accepted.name, addrs }
    localStorage.setItem(DESKTOPS_KEY, JSON.stringify(desktops))
    this.keepConnecting(accepted.peerId, addrs)
    this.emit('change', [])
    return accepted
  }

  /** Keep connected to every paired desktop (the node retries with backoff). */
  connectKnown (): void {
    for (const [peerId, desktop] of Object.entries(this.desktops())) {
      const addrs = this.dialable(desktop.addrs)
      if (addrs.length > 0 && !this.space.members.isRevoked(peerId)) this.keepConnecting(peerId, addrs)
    }
  }

  /**
   * Dial until connected; after that the node reconnects by itself. A page often starts
   * offline, so a failed first dial is retried (sooner when the browser says it is online).
   */
  private keepConnecting (peerId: string, addrs: string[], attempt = 0): void {
    if (this.closed || this.space.members.isRevoked(peerId) || this.refusal !== null) return
    this.node.connect(addrs).catch(() => {
      if (this.closed) return
      const delay = Math.min(10_000, 1_000 * 2 ** attempt)
      const retry = (): void => {
        clearTimeout(timer)
        removeEventListener('online', retry)
        this.keepConnecting(peerId, addrs, attempt + 1)
      }
      const timer = setTimeout(retry, delay)
      addEventListener('online', retry)
    })
  }

  async close (): Promise<void> {
    this.closed = true
    this.board.destroy()
    await this.node.stop()
    await this.space.storage.close()
  }
}
