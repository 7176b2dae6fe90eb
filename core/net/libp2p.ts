// The libp2p node every device runs: TCP and WebSockets plus the circuit relay
// transport, Noise, Yamux, identify, ping, DCUtR, and optionally mDNS and relay slots.

import { createLibp2p } from 'libp2p'
import type { Libp2p, Libp2pOptions } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import type { ConnectionGater, PeerDiscovery, PrivateKey } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { ADDRESS_DIAL_TIMEOUT_MS, DEFAULT_TCP_PORT, DEFAULT_WS_PORT, DIAL_TIMEOUT_MS, MDNS_INTERVAL_MS } from '../constants.ts'
import { relaySlots } from './relay-slots.ts'
import { tunedTransport } from './tuned-transport.ts'
import { markNativeWebRTCLoaded } from './native-transports.ts'
import type { RelaySlots } from './relay-slots.ts'
import type { WebRTCCertificate } from './webrtc-certificate.ts'

export type DispatchLibp2p = Libp2p<{ identify: Identify, ping: Ping, dcutr: unknown, relaySlots: RelaySlots, mdns?: PeerDiscovery }>

export interface Libp2pNodeOptions {
  privateKey?: PrivateKey
  /** Multiaddrs to listen on. Defaults to `desktopListenAddrs()`. */
  listen?: string[]
  connectionGater?: ConnectionGater
  /** Transports instead of TCP + WebSockets (a browser passes its own); the relay transport is always added. */
  transports?: Libp2pOptions['transports']
  /** Relay multiaddrs (ending in `/p2p/<relayId>`) to hold a reservation on, kept alive across relay restarts. */
  relays?: string[]
  /** mDNS discovery on the LAN: off unless asked for; `interval` is the query period in ms. */
  mdns?: boolean | { interval?: number }
  /**
   * Run identify on every new connection as soon as it opens (libp2p's default). Off, the owner
   * calls `services.identify.identify(connection)` itself when it suits it (SyncNode: after the
   * first sync).
   */
  identifyOnOpen?: boolean
  /** The WebRTC-direct certificate to listen with (see webrtc-certificate.ts), so the certhash survives restarts; a new one each start when omitted. */
  webrtcCertificate?: WebRTCCertificate
}

/** All interfaces on stable ports, so paired devices find a desktop again after a restart. */
export function desktopListenAddrs (): string[] {
  return [`/ip4/0.0.0.0/tcp/${DEFAULT_TCP_PORT}`, `/ip4/0.0.0.0/tcp/${DEFAULT_WS_PORT}/ws`]
}

/** A WebRTC-direct listen address (UDP; ephemeral port unless given), for browser pages. */
export function webRTCDirectListenAddr (host = '127.0.0.1', port = 0): string {
  return `/ip4/${host}/udp/${port}/webrtc-direct`
}

/** Loopback on ephemeral ports: what tests and benchmarks use. */
export function loopbackListenAddrs (): string[] {
  return ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws']
}

/** A listen address that is not a multiaddr, or that this machine cannot listen on (the message names it and why). */
export class ListenError extends Error {
  override name = 'ListenError'
}

/** Create and start a libp2p node. Throws `ListenError` for a listen address it cannot use. */
export async function createLibp2pNode (options: Libp2pNodeOptions = {}): Promise<DispatchLibp2p> {
  const mdnsOptions = options.mdns === true ? {} : options.mdns === false ? undefined : options.mdns
  const listen = options.listen ?? desktopListenAddrs()
  for (const addr of listen) {
    try { multiaddr(addr) } catch (err) { throw new ListenError(`cannot listen on ${addr}: not a valid multiaddr (${(err as Error).message.split('\n')[0]})`) }
  }
  // WebRTC-direct lets a phone's browser page, served from any HTTPS origin, reach a desktop that has
  // no TLS certificate. Loaded only when listened on (it brings the node-datachannel native module);
  // no ICE servers: a LAN desktop needs no STUN, and nothing should call out to one.
  const webrtc = listen.some(a => a.includes('/webrtc-direct'))
    ? [(await import('@libp2p/webrtc')).webRTCDirect({ rtcConfiguration: { iceServers: [] }, ...(options.webrtcCertificate !== undefined ? { certificate: options.webrtcCertificate } : {}) })]
    : []
  if (webrtc.length > 0) markNativeWebRTCLoaded()
  // Imported only when wanted: it needs node:dgram, which browsers do not have.
  const mdns = mdnsOptions !== undefined ? (await import('@libp2p/mdns')).mdns : undefined
  try {
    return await startLibp2p(options, listen, webrtc, mdns, mdnsOptions)
  } catch (err) {
    if ((err as Error).name === 'UnsupportedListenAddressesError') throw new ListenError(describeListenFailure((err as Error).message))
    throw err
  }
}

/**
 * libp2p lists each failed address with its error's whole stack: keep the address and the
 * error's first line (`listen EADDRNOTAVAIL: address not available 192.0.2.1`).
 */
function describeListenFailure (message: string): string {
  const failed = Array.from(message.matchAll(/^\s*(\/\S+): (?:\w*Error: )?(.*)$/gm), m => `${m[1]} (${m[2].trim()})`)
  return failed.length > 0 ? `cannot listen on ${failed.join(', ')}` : 'cannot listen on the configured addresses'
}

async function startLibp2p (options: Libp2pNodeOptions, listen: string[], webrtc: NonNullable<Libp2pOptions['transports']>, mdns: typeof import('@libp2p/mdns').mdns | undefined, mdnsOptions: { interval?: number } | undefined): Promise<DispatchLibp2p> {
  return await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen },
    // The relay transport is always present so `/p2p-circuit` addresses can be dialled.
    transports: [...(options.transports ?? [tunedTransport(tcp()), tunedTransport(webSockets()), ...webrtc]), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: options.connectionGater,
    connectionManager: { dialTimeout: DIAL_TIMEOUT_MS, addressDialTimeout: ADDRESS_DIAL_TIMEOUT_MS },
    services: {
      identify: identify({ runOnConnectionOpen: options.identifyOnOpen ?? true }),
      ping: ping(),
      dcutr: dcutr(),
      relaySlots: relaySlots({ relays: options.relays ?? [] }),
      ...(mdns !== undefined ? { mdns: mdns({ interval: mdnsOptions?.interval ?? MDNS_INTERVAL_MS }) } : {})
    }
  }) as DispatchLibp2p
}
