// The Node runtime of one home: identity, store, the node (its address book in peers.json), the
// one 'dispatch' space all of a user's devices share, pairing, config.json and the archive.
// It is the `DeviceRuntime` the application's use cases run on (peers/app/ports.ts).

import { hostname } from 'node:os'
import { createSyncNode, loadOrCreateIdentity, loadOrCreateWebRTCCertificate, FileStore, PairingService, desktopListenAddrs, addressBookFile, FileBlobStore, serveBlobs } from '../../core/index.ts'
import type { BlobServer } from '../../core/index.ts'
import type { Invite, SyncNode, Space } from '../../core/index.ts'
import { homeLayout } from '../home/layout.ts'
import type { HomeLayout } from '../home/layout.ts'
import type { HomeLock } from '../home/lock.ts'
import type { DeviceRuntime } from '../app/ports.ts'
import { publishPresence } from '../app/presence.ts'
import { keepAddrsPublished, signedAddrsOf } from '../app/published-addrs.ts'
import type { SignedAddrs } from '../app/published-addrs.ts'
import type { DeviceRole } from '../tasks/roles.ts'
import { ConfigFile } from './config.ts'
import { ArchiveFile } from './archive.ts'
import { RefusalLogFile } from './refusal-log.ts'
import { TASK_SPACE_LIMITS } from '../tasks/space-limits.ts'

/** Every device of a user shares this one space: a phone paired with two desktops joins them. */
export const SPACE_NAME = 'dispatch'

export interface OpenDeviceOptions {
  home: string
  /** The home's lock; released by `close()`. */
  lock: HomeLock
  /** Role of a fresh home (config.json keeps it afterwards). Default 'desktop'. */
  role?: DeviceRole
  /** Rename this device (saved in config.json and in its `devices` record). */
  name?: string
  /** Listen addresses; default: a desktop listens on `desktopListenAddrs()`, a phone on none. */
  listen?: string[]
  /** Keep connected to every member (default true); a verb that only reads or writes the space once passes false. */
  dialMembers?: boolean
  reconnect?: { minMs?: number, maxMs?: number }
  /** Circuit relays to hold a slot on; added to config.json's `relays` and kept there. */
  relays?: string[]
  /** mDNS on the LAN so members find each other's new addresses (default on; DISPATCH_MDNS=0 turns it off). */
  mdns?: boolean
  /** Where problems nobody waits for are told (default: a line on stderr). */
  report?: (line: string) => void
  /** Open the store and the blob store from here instead of the home (a read-only home's copy). */
  storeDir?: string
  blobsDir?: string
}

export class Device implements DeviceRuntime {
  readonly layout: HomeLayout
  readonly lock: HomeLock
  readonly node: SyncNode
  readonly space: Space
  readonly pairing: PairingService
  readonly name: string
  readonly role: DeviceRole
  readonly settings: ConfigFile
  readonly archive: ArchiveFile
  /** Attachments and large outputs, served to members while the device is open. */
  readonly blobs: FileBlobStore
  readonly blobServer: BlobServer
  readonly refusals: RefusalLogFile
  readonly report: (line: string) => void
  /** Where `dispatch desktop --web` serves the phone web app (LAN first), once it does. */
  #webUrls: string[] = []
  #closed = false

  constructor (init: Omit<Device, 'peerId' | 'close' | 'now' | 'webUrls' | 'setWebUrls' | 'signedAddrs' | 'inviteAddrs'>) {
    this.layout = init.layout
    this.lock = init.lock
    this.node = init.node
    this.space = init.space
    this.pairing = init.pairing
    this.name = init.name
    this.role = init.role
    this.settings = init.settings
    this.archive = init.archive
    this.blobs = init.blobs
    this.blobServer = init.blobServer
    this.refusals = init.refusals
    this.report = init.report
  }

  get peerId (): string {
    return this.node.peerId
  }

  now (): number {
    return Date.now()
  }

  webUrls (): string[] {
    return this.#webUrls.slice()
  }

  setWebUrls (urls: string[]): void {
    this.#webUrls = urls.slice()
  }

  /** Where this device listens now, as it signed it in its own entry of the space (null before it published). */
  signedAddrs (): SignedAddrs | null {
    return signedAddrsOf(this.space, this.peerId)
  }

  /** A Node device dials any transport an invite names. */
  inviteAddrs (invite: Invite): Invite['addrs'] {
    return invite.addrs
  }

  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.pairing.stop()
    await this.blobServer.stop()
    await this.blobs.close()
    await this.node.stop()
    await this.lock.release()
  }
}

/** Open the home held by `lock`: start the node, open the space, record this device in it. */
export async function openDevice (options: OpenDeviceOptions): Promise<Device> {
  const layout = homeLayout(options.home)
  const report = options.report ?? ((line: string) => { process.stderr.write(`dispatch: ${line}\n`) })
  let node: SyncNode | undefined
  try {
    const settings = new ConfigFile(layout.config)
    const config = await settings.config()
    const role: DeviceRole = config.role ?? options.role ?? 'desktop'
    const name = options.name ?? config.name ?? (role === 'desktop' ? hostname() : 'phone')
    const relays = Array.from(new Set([...(config.relays ?? []), ...(options.relays ?? [])]))
    // Only the verbs that say what this device is (desktop, pair, join) write it down.
    const named = (options.role !== undefined || options.name !== undefined) && (config.role !== role || config.name !== name)
    if (named || relays.length !== (config.relays ?? []).length || config.peers !== undefined) {
      await settings.change(c => {
        c.role = role
        c.name = name
        c.relays = relays
        delete c.peers // moved into the address book below
      })
    }
    const privateKey = await loadOrCreateIdentity(layout.identityKey)
    const listen = options.listen ?? (role === 'desktop' ? desktopListenAddrs() : [])
    // Kept in the home: a page that paired checks this certificate's hash, so it must not change on restart.
    const webrtcCertificate = listen.some(a => a.includes('/webrtc-direct')) ? await loadOrCreateWebRTCCertificate(layout.webrtcCertificate) : undefined
    node = await createSyncNode({
      privateKey,
      listen,
      webrtcCertificate,
      reconnect: options.reconnect,
      relays,
      mdns: options.mdns ?? process.env.DISPATCH_MDNS !== '0',
      addressBook: addressBookFile(layout.addressBook),
      dialMembers: options.dialMembers
    })
    node.on('address-book-error', err => { report(`could not save the address book (${err.message}); members are still reached this run`) })
    for (const [peer, known] of Object.entries(config.peers ?? {})) node.addressBook.remember(peer, known.addrs ?? [])
    const space = await node.openSpace(SPACE_NAME, { storage: new FileStore({ dir: options.storeDir ?? layout.store }), limits: TASK_SPACE_LIMITS })
    const pairing = new PairingService(node, space, { name, role, peerRole: 'phone' })
    await pairing.start()
    const self = space.members.get(node.peerId)
    if (self === null || self.name !== name || self.role !== role) {
      space.members.add({ peerId: node.peerId, name, role, pairedAt: Date.now(), pairedBy: node.peerId })
    }
    publishPresence(space, { peerId: node.peerId, name, role })
    if (role === 'desktop') keepAddrsPublished(space, node)
    const blobs = await FileBlobStore.open(options.blobsDir ?? layout.blobs)
    const blobServer = await serveBlobs(node, blobs, { log: report })
    return new Device({ layout, lock: options.lock, node, space, pairing, name, role, settings, archive: new ArchiveFile(layout.dir), refusals: new RefusalLogFile(layout.dir), blobs, blobServer, report })
  } catch (err) {
    await node?.stop()
    await options.lock.release()
    throw err
  }
}
