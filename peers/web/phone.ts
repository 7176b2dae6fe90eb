// The phone's device runtime in the browser: identity, space and address book in IndexedDB,
// libp2p over WebSockets and WebRTC-direct, and the application (`phone.app`) the page calls
// for every use case, the same implementation the CLI runs. The node keeps paired desktops
// connected; the page only says when the browser is back online.

import { ObservableV2 } from 'lib0/observable'
import {
  createSyncNode, IndexedDbStore, browserTransports, indexedDbAddressBook, isBrowserDialable, isRelayedAddr, loadOrCreateBrowserIdentity,
  IndexedDbBlobStore, serveBlobs
} from '../../core/browser.ts'
import type { Invite, Member, SyncNode, Space } from '../../core/browser.ts'
import { Application } from '../app/application.ts'
import type { DeviceRuntime } from '../app/ports.ts'
import type { DeviceRole } from '../tasks/roles.ts'
import { BrowserStores } from './browser-stores.ts'
import { MemoryRefusalLog } from '../app/refusals.ts'
import { TASK_SPACE_LIMITS } from '../tasks/space-limits.ts'
import { readPublishedAddrs, verifySignedAddrs } from '../app/published-addrs.ts'
import { browserDeviceName } from './device-name.ts'
import { presenceOf, publishPresence } from '../app/presence.ts'

/** The one space every device of a user shares (the same name as peers/device SPACE_NAME). */
export const SPACE_NAME = 'dispatch'
/** Set when a desktop told this browser it was revoked, so a reopened page still says so. */
const REFUSAL_KEY = 'dispatch.refusal'
const NAME_KEY = 'dispatch.name'
/** Where pages before the address book kept their desktops' addresses; moved into it on open. */
const OLD_DESKTOPS_KEY = 'dispatch.desktops'
const REVOKED = 'This browser was revoked by the desktop. Pair again with a new invite to use it.'

/** Which browser transports to use towards desktops: both by default; `relay` (a test knob) only circuit relay addresses reached over WebSockets. */
export type TransportChoice = 'any' | 'ws' | 'webrtc' | 'relay'

/** The invite names no address this browser can dial. */
export class NoBrowserAddressError extends Error {
  name = 'NoBrowserAddressError'
}

export type PhoneEvents = {
  /** Something shown on screen changed (tasks, devices, connections). */
  change: () => void
}

export interface OpenPhoneOptions {
  transport?: TransportChoice
  /** Prefix of the IndexedDB databases (tests open several devices in one origin). */
  dbPrefix?: string
}

export class Phone extends ObservableV2<PhoneEvents> implements DeviceRuntime {
  readonly node: SyncNode
  readonly space: Space
  readonly transport: TransportChoice
  readonly role: DeviceRole = 'phone'
  readonly pairing = null
  readonly settings: BrowserStores
  readonly archive: BrowserStores
  /** Attachments sent from this page and outputs fetched to it; served to members while the page is open. */
  readonly blobs: IndexedDbBlobStore
  readonly refusals = new MemoryRefusalLog()
  /** Every use case, run in this page. */
  readonly app: Application
  /** Set once a desktop said this device is revoked; shown on the page. */
  refusal: string | null = null

  /** Prefix of this device's IndexedDB databases (`reset` deletes them). */
  readonly dbPrefix: string

  private constructor (node: SyncNode, space: Space, stores: BrowserStores, blobs: IndexedDbBlobStore, transport: TransportChoice, dbPrefix: string) {
    super()
    this.dbPrefix = dbPrefix
    this.node = node
    this.blobs = blobs
    this.space = space
    this.settings = stores
    this.archive = stores
    this.transport = transport
    this.app = new Application(this)
    const changed = (): void => { this.emit('change', []) }
    this.app.board.on('tasks-change', changed)
    this.app.scheduleBoard.on('schedules-change', changed)
    space.members.map.observeDeep(changed)
    space.on('peer-connected', changed)
    space.on('peer-disconnected', changed)
    space.awareness.on('change', changed)
    // Where the page reaches its peers, for tests: `data-via` holds the open connections and
    // `data-via-log` every one opened so far, a line "<peerId> <remote multiaddr>" each.
    const via = (c: { remotePeer: unknown, remoteAddr: unknown }): string => `${String(c.remotePeer)} ${String(c.remoteAddr)}`
    node.libp2p.addEventListener('connection:open', event => {
      document.body.dataset.viaLog = [document.body.dataset.viaLog, via(event.detail)].filter(Boolean).join('\n')
      document.body.dataset.via = node.libp2p.getConnections().map(via).join('\n')
    })
    node.libp2p.addEventListener('connection:close', () => { document.body.dataset.via = node.libp2p.getConnections().map(via).join('\n') })
    const revokedHere = (): void => {
      if (this.refusal === null && space.members.isRevoked(node.peerId)) this.refusal = REVOKED
    }
    this.refusal = localStorage.getItem(REFUSAL_KEY)
    revokedHere() // the revocation reached this device's own copy before the desktop cut it off
    space.members.map.observeDeep(revokedHere)
    space.on('refused', (peer, reason) => {
      this.refusal = reason.includes('revoked') ? REVOKED : `The desktop refused this browser (${reason}).`
      if (reason.includes('revoked')) {
        localStorage.setItem(REFUSAL_KEY, this.refusal)
        // It will refuse every dial from now on: stop trying (a new invite brings its addresses back).
        node.forget(peer).catch((err: Error) => { this.report(`could not stop dialling ${peer}: ${err.message}`) })
      }
      changed()
    })
    // Desktops publish where they listen now (signed, in their own device entry): addresses a desktop
    // gained that this page never saw (a relay slot, another interface) are remembered and dialled.
    const learnAddrs = (): void => { this.learnPublishedAddrs() }
    space.members.map.observeDeep(learnAddrs)
    this.learnPublishedAddrs()
    // A page often starts offline: when the browser says it is back, redial at once instead of after the backoff.
    addEventListener('online', () => { node.redialNow() })
  }

  static async open (options: OpenPhoneOptions = {}): Promise<Phone> {
    const prefix = options.dbPrefix ?? 'dispatch'
    const privateKey = await loadOrCreateBrowserIdentity(`${prefix}-device`)
    const storage = await IndexedDbStore.open({ name: `${prefix}-space` })
    const stores = await BrowserStores.open(`${prefix}-app`)
    const node = await createSyncNode({
      privateKey,
      listen: [],
      transports: browserTransports(),
      reconnect: { maxMs: 5_000 },
      addressBook: indexedDbAddressBook(`${prefix}-peers`)
    })
    moveOldDesktops(node)
    const space = await node.openSpace(SPACE_NAME, { storage, limits: TASK_SPACE_LIMITS })
    const blobs = await IndexedDbBlobStore.open({ name: `${prefix}-blobs` })
    // The desktop fetches a task's attachments from here, over the connection this page opened.
    await serveBlobs(node, blobs, { log: (line) => { console.warn(`dispatch: ${line}`) } })
    return new Phone(node, space, stores, blobs, options.transport ?? 'any', prefix)
  }

  get peerId (): string { return this.node.peerId }

  /** This browser's name among the devices: chosen by the user, else from the user agent ("Chrome on Android 3f9a"). */
  get name (): string { return localStorage.getItem(NAME_KEY) ?? browserDeviceName(navigator.userAgent, this.peerId) }

  /** Rename this browser: kept here and written into its own entry of the space (names are labels anyone may edit). */
  rename (name: string): void {
    const clean = name.trim().replace(/\s+/g, ' ').slice(0, 60)
    if (clean === '') throw new RangeError('a device name cannot be empty')
    localStorage.setItem(NAME_KEY, clean)
    const self = this.space.members.get(this.peerId)
    if (self !== null) this.space.members.add({ peerId: this.peerId, name: clean, role: this.role, pairedAt: self.pairedAt, pairedBy: this.peerId })
    this.emit('change', [])
  }

  /** Revoked for good: forget this browser's identity and data, so it pairs again as a new device. */
  async reset (): Promise<void> {
    await this.close()
    for (const db of ['device', 'space', 'app', 'peers', 'blobs']) {
      await new Promise<void>(resolve => {
        const request = indexedDB.deleteDatabase(`${this.dbPrefix}-${db}`)
        // Blocked or failed: the next open still finds the old data; nothing else to do here.
        request.onsuccess = request.onerror = request.onblocked = () => { resolve() }
      })
    }
    localStorage.removeItem(REFUSAL_KEY)
  }

  /** Desktops' signed published addresses this page can dial: remembered, and dialled when not connected. */
  private learnPublishedAddrs (): void {
    for (const member of this.space.members.list()) {
      if (!this.isPairedDesktop(member)) continue
      const published = readPublishedAddrs(this.space, member.peerId)
      if (published !== null) this.learnAddrs(member.peerId, published.addrs)
    }
  }

  /** A desktop this page is paired with and that is not revoked (not this page itself). */
  private isPairedDesktop (member: Member | null): member is Member {
    return member !== null && member.peerId !== this.peerId && member.role === 'desktop' && member.revokedAt === undefined
  }

  /**
   * Where paired desktop `peerId` listens now (verified by the caller: its signed record): new
   * addresses are remembered, and dialled at once when the page is not directly connected to it.
   * Ignored for anyone who is not a paired, unrevoked desktop. `current`: the list is where it
   * listens now (the desktop's own answer, not a copy that may be old), so its direct addresses
   * missing from it are dropped: every reconnect would otherwise try them first, seconds each.
   */
  private learnAddrs (peerId: string, addrs: string[], current = false): void {
    if (!this.isPairedDesktop(this.space.members.get(peerId))) return
    if (current) this.node.addressBook.retainDirect(peerId, addrs)
    const known = new Set(this.node.knownAddrs(peerId))
    const fresh = addrs.filter(a => !known.has(a) && this.dialable(a))
    if (fresh.length === 0) return
    // Reached only through a relay (the desktop came back on new ports): its new direct addresses are dialled too.
    const direct = this.node.libp2p.getConnections().some(c => c.remotePeer.toString() === peerId && c.limits === undefined && !isRelayedAddr(c.remoteAddr.toString()))
    if (direct) this.node.addressBook.remember(peerId, fresh)
    else this.node.connectInBackground(fresh)
  }

  /** A desktop's signed record of where it listens now, as its web server hands it out: learnt when the signature holds. */
  learnSignedAddrs (record: unknown): void {
    const { peerId, body, sig } = (record ?? {}) as { peerId?: unknown, body?: unknown, sig?: unknown }
    if (typeof peerId !== 'string' || typeof body !== 'string' || typeof sig !== 'string') return
    const published = verifySignedAddrs({ peerId, body, sig })
    if (published !== null) this.learnAddrs(peerId, published.addrs, true)
  }

  /** Is a paired, unrevoked desktop out of reach right now (no open connection to it)? */
  missesADesktop (): boolean {
    if (this.revoked) return false
    const connected = new Set(this.node.connectedPeers())
    return this.space.members.list().some(m => this.isPairedDesktop(m) && !connected.has(m.peerId))
  }

  private dialable (a: string): boolean {
    if (!isBrowserDialable(a)) return false
    const webrtc = a.includes('/webrtc-direct')
    if (this.transport === 'relay') return !webrtc && isRelayedAddr(a)
    if (this.transport === 'ws') return !webrtc
    if (this.transport === 'webrtc') return webrtc
    return true
  }

  now (): number { return Date.now() }

  webUrls (): string[] { return [] }

  report (line: string): void { console.warn(`dispatch: ${line}`) }

  /** The invite's addresses a browser can dial, filtered by the transport choice. */
  inviteAddrs (invite: Invite): Invite['addrs'] {
    const addrs = invite.addrs.filter(a => this.dialable(a.toString()))
    if (addrs.length === 0) throw new NoBrowserAddressError(`the invite of "${invite.name}" has no address a browser can reach (WebSockets or WebRTC-direct): start the desktop with --web`)
    return addrs
  }

  /** Revoked in the space: desktops refuse it for good; it can only pair again as a new device (`reset`). */
  get revoked (): boolean { return this.refusal === REVOKED }

  /** The Web Push keys (VAPID) of the desktops online now, from their presence. */
  vapidKeys (): Map<string, string> {
    const out = new Map<string, string>()
    for (const [peer, p] of presenceOf(this.space)) if (p.vapidKey !== undefined) out.set(peer, p.vapidKey)
    return out
  }

  /** Gives desktop `to` this page's push subscription (in this device's presence; the desktop keeps it). */
  publishPushSubscription (to: string, subscription: unknown): void {
    publishPresence(this.space, { peerId: this.peerId, name: this.name, role: this.role, push: { to, subscription } })
  }

  /** Paired again: forget an old refusal. */
  clearRefusal (): void {
    this.refusal = null
    localStorage.removeItem(REFUSAL_KEY)
  }

  async close (): Promise<void> {
    this.app.close()
    await this.node.stop()
    await this.space.storage.close()
    this.settings.close()
  }
}

/** Pages before the address book kept desktops' addresses in localStorage: hand them to the node once. */
function moveOldDesktops (node: SyncNode): void {
  const old = localStorage.getItem(OLD_DESKTOPS_KEY)
  if (old === null) return
  try {
    for (const [peer, desktop] of Object.entries(JSON.parse(old) as Record<string, { addrs?: unknown }>)) {
      if (Array.isArray(desktop.addrs)) node.addressBook.remember(peer, desktop.addrs.filter((a): a is string => typeof a === 'string'))
    }
  } catch (err) {
    // Unreadable: those desktops are found again through the next invite or identify.
    console.warn(`dispatch: could not read the old list of desktops (${(err as Error).message})`)
  }
  localStorage.removeItem(OLD_DESKTOPS_KEY)
}
