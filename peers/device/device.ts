// The app runtime of one home: identity, store, the node, the one 'dispatch' space all of a
// user's devices share, pairing, and config.json (name, role, members' last addresses).

import { hostname } from 'node:os'
import { createSyncNode, loadOrCreateIdentity, FileStore, PairingService, desktopListenAddrs } from '../../core/index.ts'
import type { SyncNode, Space, Member } from '../../core/index.ts'
import { homeLayout } from '../home/layout.ts'
import type { HomeLayout } from '../home/layout.ts'
import type { HomeLock } from '../home/lock.ts'
import { readConfig, updateConfig } from './config.ts'
import { presenceOf, publishPresence } from './presence.ts'
import type { DeviceConfig, DeviceRole } from './config.ts'

/** Every device of a user shares this one space: a phone paired with two desktops joins them. */
export const SPACE_NAME = 'dispatch'

export class UnknownDeviceError extends Error {
  name = 'UnknownDeviceError'
}

export class AmbiguousDeviceError extends Error {
  name = 'AmbiguousDeviceError'
}

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
  /** Dial every known member on start (default true). */
  connect?: boolean
  reconnect?: { minMs?: number, maxMs?: number }
  /** Circuit relays to hold a slot on; added to config.json's `relays` and kept there. */
  relays?: string[]
  /** mDNS on the LAN so members find each other's new addresses (default on; DISPATCH_MDNS=0 turns it off). */
  mdns?: boolean
}

export interface DeviceEntry extends Member {
  online: boolean
  revoked: boolean
  /** What a desktop reports running (presence), when online. */
  running?: Array<{ id: string, text: string }>
}

export class Device {
  readonly layout: HomeLayout
  readonly lock: HomeLock
  readonly node: SyncNode
  readonly space: Space
  readonly pairing: PairingService
  readonly name: string
  readonly role: DeviceRole
  /** Where `dispatch desktop --web` serves the phone web app (LAN first), once it does. */
  webUrls: string[] = []
  private configWrites: Promise<unknown> = Promise.resolve()
  private closed = false

  constructor (layout: HomeLayout, lock: HomeLock, node: SyncNode, space: Space, pairing: PairingService, name: string, role: DeviceRole) {
    this.layout = layout
    this.lock = lock
    this.node = node
    this.space = space
    this.pairing = pairing
    this.name = name
    this.role = role
  }

  get peerId (): string {
    return this.node.peerId
  }

  /** Every other device in the space, revoked ones included, with online state (connected, or present through another member). */
  devices (): DeviceEntry[] {
    const presence = presenceOf(this.space)
    const online = new Set([...this.space.connectedPeers(), ...this.node.connectedPeers(), ...presence.keys()])
    return this.space.members.list()
      .filter(m => m.peerId !== this.peerId)
      .map(m => {
        const entry: DeviceEntry = { ...m, revoked: m.revokedAt !== undefined, online: m.revokedAt === undefined && online.has(m.peerId) }
        const running = presence.get(m.peerId)?.running
        if (entry.online && running !== undefined) entry.running = running
        return entry
      })
  }

  /** A device by exact name (case-insensitive) or peer id prefix. */
  findDevice (query: string): Member {
    const all = this.space.members.list().filter(m => m.peerId !== this.peerId)
    const byId = all.filter(m => query.length >= 4 && m.peerId.startsWith(query))
    const matches = byId.length > 0 ? byId : all.filter(m => m.name.toLowerCase() === query.toLowerCase())
    if (matches.length === 0) throw new UnknownDeviceError(`no paired device named or with a peer id starting with "${query}" (see dispatch devices)`)
    if (matches.length > 1) throw new AmbiguousDeviceError(`"${query}" matches ${matches.length} devices (${matches.map(m => m.peerId.slice(-8)).join(', ')}); give more of the peer id`)
    return matches[0]
  }

  /** Revoke in the space (spreads to every member) and cut it off here at once. */
  async revoke (query: string): Promise<Member> {
    const member = this.findDevice(query)
    this.space.members.revoke(member.peerId, this.peerId)
    await this.space.flush()
    await this.node.forget(member.peerId)
    await this.saveConfig(config => { delete config.peers?.[member.peerId] })
    return this.space.members.get(member.peerId) as Member
  }

  /** Remember where a member was reached, so the next start dials it without a QR. */
  async rememberPeer (peerId: string, addrs: string[], name?: string): Promise<void> {
    await this.saveConfig(config => {
      const peers = config.peers ?? (config.peers = {})
      const known = peers[peerId] ?? { name: name ?? '', addrs: [] }
      if (name !== undefined) known.name = name
      known.addrs = Array.from(new Set([...addrs, ...known.addrs])).slice(0, 8)
      peers[peerId] = known
    })
  }

  /** Members we know an address for, not revoked. */
  async knownPeers (): Promise<Array<{ peerId: string, name: string, addrs: string[] }>> {
    const config = await readConfig(this.layout.config)
    return Object.entries(config.peers ?? {})
      .filter(([peerId, p]) => p.addrs.length > 0 && this.space.members.isActive(peerId))
      .map(([peerId, p]) => ({ peerId, name: this.space.members.get(peerId)?.name ?? p.name, addrs: p.addrs }))
  }

  /** Dial every known member; the node keeps reconnecting to those it reached. */
  async connectKnown (): Promise<Array<{ peerId: string, name: string, error?: Error }>> {
    const peers = await this.knownPeers()
    return await Promise.all(peers.map(async p => {
      try {
        await this.node.connect(p.addrs)
        return { peerId: p.peerId, name: p.name }
      } catch (err) {
        return { peerId: p.peerId, name: p.name, error: err as Error }
      }
    }))
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pairing.stop()
    await this.node.stop()
    await this.configWrites
    await this.lock.release()
  }

  private async saveConfig (change: (config: DeviceConfig) => void): Promise<void> {
    const write = this.configWrites.then(async () => await updateConfig(this.layout.config, change))
    this.configWrites = write.catch(() => {})
    await write
  }
}

/** Open the home held by `lock`: start the node, open the space, record this device in it. */
export async function openDevice (options: OpenDeviceOptions): Promise<Device> {
  const layout = homeLayout(options.home)
  try {
    const config = await readConfig(layout.config)
    const role: DeviceRole = config.role ?? options.role ?? 'desktop'
    const name = options.name ?? config.name ?? (role === 'desktop' ? hostname() : 'phone')
    // Only the verbs that say what this device is (desktop, pair, join) write it down.
    if ((options.role !== undefined || options.name !== undefined) && (config.role !== role || config.name !== name)) {
      await updateConfig(layout.config, c => { c.role = role; c.name = name })
    }
    const relays = Array.from(new Set([...(config.relays ?? []), ...(options.relays ?? [])]))
    if (relays.length !== (config.relays ?? []).length) await updateConfig(layout.config, c => { c.relays = relays })
    const privateKey = await loadOrCreateIdentity(layout.identityKey)
    const node = await createSyncNode({
      privateKey,
      listen: options.listen ?? (role === 'desktop' ? desktopListenAddrs() : []),
      reconnect: options.reconnect,
      relays,
      mdns: options.mdns ?? process.env.DISPATCH_MDNS !== '0'
    })
    const space = await node.openSpace(SPACE_NAME, { storage: new FileStore({ dir: layout.store }) })
    const pairing = new PairingService(node, space, { name })
    await pairing.start()
    const self = space.members.get(node.peerId)
    if (self === null || self.name !== name || self.role !== role) {
      space.members.add({ peerId: node.peerId, name, role, pairedAt: Date.now(), pairedBy: node.peerId })
    }
    const device = new Device(layout, options.lock, node, space, pairing, name, role)
    publishPresence(space, { peerId: node.peerId, name, role })
    // Members' listen addresses, learnt on every connection, are where we dial them next time.
    node.libp2p.addEventListener('peer:identify', event => {
      const peer = event.detail.peerId.toString()
      const addrs = event.detail.listenAddrs.map(a => `${a.toString()}/p2p/${peer}`)
      if (addrs.length > 0 && space.members.isActive(peer)) device.rememberPeer(peer, addrs).catch(() => {})
    })
    if (options.connect !== false) void device.connectKnown()
    return device
  } catch (err) {
    await options.lock.release()
    throw err
  }
}
