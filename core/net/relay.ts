// A circuit relay v2 node: devices on different networks reserve a slot on it and
// reach each other through it. It forwards Noise-encrypted bytes and nothing else.

import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import type { PrivateKey } from '@libp2p/interface'
import {
  RELAY_DATA_LIMIT_BYTES, RELAY_DURATION_LIMIT_MS, RELAY_MAX_RESERVATIONS, RELAY_RESERVATION_TTL_MS
} from '../constants.ts'

export type RelayLibp2p = Libp2p<{ identify: Identify, ping: Ping, relay: CircuitRelayService }>

export interface RelayLimits {
  /** Most devices holding a slot at once. */
  maxReservations?: number
  /** Lifetime of a reservation; devices refresh before it ends. */
  reservationTtlMs?: number
  /** Longest a relayed connection stays open before the relay cuts it. */
  durationLimitMs?: number
  /** Most bytes a relayed connection carries before the relay cuts it. */
  dataLimitBytes?: number
}

export interface RelayNodeOptions {
  privateKey?: PrivateKey
  /** Listen multiaddrs; all interfaces on TCP 4319 and WebSockets 4321 by default. */
  listen?: string[]
  limits?: RelayLimits
}

export interface RelayNode {
  libp2p: RelayLibp2p
  peerId: string
  /** Listening multiaddrs, each ending in `/p2p/<relayId>`: what desktops pass to `--relay`. */
  addrs: () => string[]
  stop: () => Promise<void>
}

/** Default relay ports, next to a desktop's (4317/4318) and the web app's (4320). */
export const DEFAULT_RELAY_LISTEN = ['/ip4/0.0.0.0/tcp/4319', '/ip4/0.0.0.0/tcp/4321/ws']

/** Create and start a relay node. */
export async function createRelayNode (options: RelayNodeOptions = {}): Promise<RelayNode> {
  const limits = options.limits ?? {}
  const libp2p = await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: options.listen ?? DEFAULT_RELAY_LISTEN },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: limits.maxReservations ?? RELAY_MAX_RESERVATIONS,
          reservationTtl: limits.reservationTtlMs ?? RELAY_RESERVATION_TTL_MS,
          applyDefaultLimit: true,
          defaultDurationLimit: limits.durationLimitMs ?? RELAY_DURATION_LIMIT_MS,
          defaultDataLimit: BigInt(limits.dataLimitBytes ?? RELAY_DATA_LIMIT_BYTES)
        }
      })
    }
  }) as RelayLibp2p
  return {
    libp2p,
    peerId: libp2p.peerId.toString(),
    addrs: () => libp2p.getMultiaddrs().map(a => a.toString()),
    stop: async () => { await libp2p.stop() }
  }
}
