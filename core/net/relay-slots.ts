// Keeps a reservation on each configured circuit relay: listens on `<relay>/p2p-circuit`
// once the relay is reachable, and again whenever the relay restarts or drops us.

import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { ComponentLogger, Libp2pEvents, Logger, PeerId, Startable, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager, TransportManager } from '@libp2p/interface-internal'
import { RELAY_SLOT_CHECK_MS } from '../constants.ts'
import { backoffDelay } from './reconnect.ts'
import { isRelayedAddr, peerIdOf, relayIdOf } from './multiaddrs.ts'

export interface RelaySlotsInit {
  /** Relay multiaddrs, each ending in `/p2p/<relayId>`. */
  relays: string[]
}

export interface RelaySlotsComponents {
  transportManager: TransportManager
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

interface Slot {
  relay: Multiaddr
  relayId: string
  attempt: number
  timer: ReturnType<typeof setTimeout> | null
  busy: boolean
}

export class RelaySlots implements Startable {
  private readonly components: RelaySlotsComponents
  private readonly slots: Slot[]
  private readonly log: Logger
  private started = false

  constructor (components: RelaySlotsComponents, init: RelaySlotsInit) {
    this.components = components
    this.log = components.logger.forComponent('dispatch:relay-slots')
    this.slots = init.relays.map(r => {
      const relay = multiaddr(r)
      const relayId = peerIdOf(relay)
      if (relayId === undefined) throw new TypeError(`a relay multiaddr must end in /p2p/<peerId>: ${r}`)
      return { relay, relayId, attempt: 0, timer: null, busy: false }
    })
  }

  readonly [Symbol.toStringTag] = 'dispatch:relay-slots'

  start (): void {
    this.started = true
    this.components.events.addEventListener('peer:disconnect', this.onDisconnect)
  }

  afterStart (): void {
    for (const slot of this.slots) this.schedule(slot, 0)
  }

  stop (): void {
    this.started = false
    this.components.events.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const slot of this.slots) if (slot.timer !== null) clearTimeout(slot.timer)
  }

  /** Circuit addresses currently held, one per relay address the relay reported. */
  circuitAddrs (): string[] {
    return this.components.transportManager.getAddrs().filter(a => isRelayedAddr(a)).map(a => a.toString())
  }

  /** Does this node hold a reservation on `relayId` right now? */
  holds (relayId: string): boolean {
    return this.circuitAddrs().some(a => relayIdOf(a) === relayId)
  }

  private readonly onDisconnect = (event: CustomEvent<PeerId>): void => {
    const id = event.detail.toString()
    for (const slot of this.slots) if (slot.relayId === id) this.schedule(slot, backoffDelay(0))
  }

  private schedule (slot: Slot, delayMs: number): void {
    if (!this.started) return
    if (slot.timer !== null) clearTimeout(slot.timer)
    slot.timer = setTimeout(() => { slot.timer = null; void this.ensure(slot) }, delayMs)
    slot.timer.unref()
  }

  /** Reserve a slot if we hold none; retry with backoff; re-check now and then regardless. */
  private async ensure (slot: Slot): Promise<void> {
    if (!this.started || slot.busy) return
    slot.busy = true
    try {
      if (!this.holds(slot.relayId)) {
        // Dial first so that an unreachable relay does not leave a dead listener behind.
        await this.components.connectionManager.openConnection(slot.relay)
        await this.components.transportManager.listen([slot.relay.encapsulate('/p2p-circuit')])
        this.log('reserved a slot on %s', slot.relayId)
      }
      slot.attempt = 0
      this.schedule(slot, RELAY_SLOT_CHECK_MS)
    } catch (err) {
      this.log('could not reserve a slot on %s - %e', slot.relayId, err)
      this.schedule(slot, backoffDelay(slot.attempt++))
    } finally {
      slot.busy = false
    }
  }
}

/** libp2p service factory. */
export function relaySlots (init: RelaySlotsInit): (components: RelaySlotsComponents) => RelaySlots {
  return (components) => new RelaySlots(components, init)
}
