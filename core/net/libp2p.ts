// The libp2p node every device runs: TCP and WebSockets, Noise encryption,
// Yamux multiplexing, identify and ping. Callers add protocols and a gater.

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
import type { ConnectionGater, PrivateKey } from '@libp2p/interface'
import { DEFAULT_TCP_PORT, DEFAULT_WS_PORT } from '../constants.ts'

export type DispatchLibp2p = Libp2p<{ identify: Identify, ping: Ping }>

export interface Libp2pNodeOptions {
  privateKey?: PrivateKey
  /** Multiaddrs to listen on. Defaults to `desktopListenAddrs()`. */
  listen?: string[]
  connectionGater?: ConnectionGater
}

/** All interfaces on stable ports, so paired devices find a desktop again after a restart. */
export function desktopListenAddrs (): string[] {
  return [`/ip4/0.0.0.0/tcp/${DEFAULT_TCP_PORT}`, `/ip4/0.0.0.0/tcp/${DEFAULT_WS_PORT}/ws`]
}

/** Loopback on ephemeral ports: what tests and benchmarks use. */
export function loopbackListenAddrs (): string[] {
  return ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws']
}

/** Create and start a libp2p node. */
export async function createLibp2pNode (options: Libp2pNodeOptions = {}): Promise<DispatchLibp2p> {
  return await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: options.listen ?? desktopListenAddrs() },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: options.connectionGater,
    services: { identify: identify(), ping: ping() }
  })
}
