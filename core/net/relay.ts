// A circuit relay v2 node: devices on different networks reserve a slot on it and
// reach each other through it. It forwards Noise-encrypted bytes and nothing else.
// Besides TCP and WebSockets it listens where a browser on an HTTPS page can dial it:
// WebRTC-direct (no CA certificate: the page checks the certhash in the address) and, when
// the operator has a certificate, WSS.

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
import type { WebRTCCertificate } from './webrtc-certificate.ts'
import { multiaddr } from '@multiformats/multiaddr'
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
  /** Listen multiaddrs; `DEFAULT_RELAY_LISTEN` (plus `DEFAULT_RELAY_WSS_LISTEN` with `wss`) by default. */
  listen?: string[]
  limits?: RelayLimits
  /** TLS certificate and key (PEM) for the WSS listen addresses (`/tls/ws` or `/wss`); needed for them. */
  wss?: { cert: string, key: string, dnsNames?: string[] }
  /** The WebRTC-direct certificate (see webrtc-certificate.ts), so the relay's certhash survives restarts; a new one each start when omitted. */
  webrtcCertificate?: WebRTCCertificate
}

/** A WSS listen address was given without a certificate, or a certificate without a WSS address. */
export class RelayWssConfigError extends Error {
  name = 'RelayWssConfigError'
}

export interface RelayNode {
  libp2p: RelayLibp2p
  peerId: string
  /** Listening multiaddrs, each ending in `/p2p/<relayId>`: what desktops pass to `--relay`. */
  addrs: () => string[]
  stop: () => Promise<void>
}

/** Default relay ports, next to a desktop's (4317/4318) and the web app's (4320); WebRTC-direct on UDP 4319. */
export const DEFAULT_RELAY_LISTEN = ['/ip4/0.0.0.0/tcp/4319', '/ip4/0.0.0.0/tcp/4321/ws', '/ip4/0.0.0.0/udp/4319/webrtc-direct']
/** Added to the defaults when the relay has a WSS certificate. */
export const DEFAULT_RELAY_WSS_LISTEN = '/ip4/0.0.0.0/tcp/4322/tls/ws'

/** Is it a WebSockets-over-TLS address (`/tls/ws` or `/wss`)? */
function isWss (addr: string): boolean {
  const names = multiaddr(addr).getComponents().map(c => c.name)
  return names.includes('wss') || (names.includes('tls') && names.includes('ws'))
}

/**
 * `/dns/<name>/tcp/<port>/tls/ws` for each name the certificate covers and each WSS listen
 * address with a fixed port: a browser checks the certificate against the name it dialled,
 * so the name, not the IP, is what it must be given.
 */
export function wssAnnounceAddrs (listen: string[], dnsNames: string[]): string[] {
  const ports = listen.filter(isWss).map(a => multiaddr(a).getComponents().find(c => c.name === 'tcp')?.value)
    .filter((p): p is string => p !== undefined && p !== '0')
  return Array.from(new Set(ports)).flatMap(port => dnsNames.map(name => `/dns/${name}/tcp/${port}/tls/ws`))
}

/** What a relay listens on: `listen`, or the defaults (with WSS when it has a certificate); throws `RelayWssConfigError` when the two do not fit. */
export function relayListenAddrs (listen: string[] | undefined, hasWssCertificate: boolean): string[] {
  const addrs = listen ?? (hasWssCertificate ? [...DEFAULT_RELAY_LISTEN, DEFAULT_RELAY_WSS_LISTEN] : DEFAULT_RELAY_LISTEN)
  if (!hasWssCertificate && addrs.some(isWss)) throw new RelayWssConfigError('a WSS listen address needs a certificate (--wss-cert FILE --wss-key FILE)')
  if (hasWssCertificate && !addrs.some(isWss)) throw new RelayWssConfigError(`a WSS certificate needs a WSS listen address (for example --listen ${DEFAULT_RELAY_WSS_LISTEN})`)
  return addrs
}

/** Create and start a relay node. */
export async function createRelayNode (options: RelayNodeOptions = {}): Promise<RelayNode> {
  const limits = options.limits ?? {}
  const listen = relayListenAddrs(options.listen, options.wss !== undefined)
  // Loaded only when listened on: it brings the node-datachannel native module. No ICE servers:
  // the relay is reached at the address it prints, and nothing should call out to a STUN server.
  const webrtc = listen.some(a => a.includes('/webrtc-direct'))
    ? [(await import('@libp2p/webrtc')).webRTCDirect({ rtcConfiguration: { iceServers: [] }, ...(options.webrtcCertificate !== undefined ? { certificate: options.webrtcCertificate } : {}) })]
    : []
  const wss = options.wss !== undefined ? { https: { cert: options.wss.cert, key: options.wss.key } } : {}
  const libp2p = await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen, appendAnnounce: wssAnnounceAddrs(listen, options.wss?.dnsNames ?? []) },
    transports: [tcp(), webSockets(wss), ...webrtc],
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
