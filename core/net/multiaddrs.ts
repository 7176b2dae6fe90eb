// What the engine asks of a multiaddr, in one place: whose it is (`/p2p/<peerId>` at the end),
// whether it goes through a circuit relay, and in which order to try several.
// Everything takes a string or a Multiaddr and works on its parsed components, never on substrings.

import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'

const P2P = 'p2p'
const CIRCUIT = 'p2p-circuit'

type Addr = string | Multiaddr

function parse (addr: Addr): Multiaddr {
  return typeof addr === 'string' ? multiaddr(addr) : addr
}

/** The peer id an address ends in (`…/p2p/<peerId>`), or undefined. A relayed address names the destination, not the relay. */
export function peerIdOf (addr: Addr): string | undefined {
  const last = parse(addr).getComponents().at(-1)
  return last?.name === P2P ? last.value : undefined
}

/** Does the address go through a circuit relay (`/p2p-circuit`)? */
export function isRelayedAddr (addr: Addr): boolean {
  return parse(addr).getComponents().some(c => c.name === CIRCUIT)
}

/** The relay's peer id in a relayed address (`<relay>/p2p/<relayId>/p2p-circuit/…`), or undefined. */
export function relayIdOf (addr: Addr): string | undefined {
  const components = parse(addr).getComponents()
  const circuit = components.findIndex(c => c.name === CIRCUIT)
  if (circuit < 0) return undefined
  return components.slice(0, circuit).findLast(c => c.name === P2P)?.value
}

/** `addr` ending in `/p2p/<peerId>` (added when missing). */
export function withPeerId (addr: Addr, peerId: string): string {
  return peerIdOf(addr) === peerId ? addr.toString() : `${addr.toString()}/p2p/${peerId}`
}

/** Direct addresses first, relayed ones after, otherwise in the given order, each once. */
export function directFirst<T extends Addr> (addrs: T[]): T[] {
  const seen = new Set<string>()
  const unique = addrs.filter(a => { const s = a.toString(); if (seen.has(s)) return false; seen.add(s); return true })
  return [...unique.filter(a => !isRelayedAddr(a)), ...unique.filter(a => isRelayedAddr(a))]
}

/** Is this a loopback address (127.0.0.0/8 or ::1)? */
export function isLoopbackAddr (addr: Addr): boolean {
  const first = parse(addr).getComponents()[0]
  return (first?.name === 'ip4' && first.value?.startsWith('127.') === true) || (first?.name === 'ip6' && first.value === '::1')
}

/** Can a browser page dial it: WebSockets (plain or TLS) or WebRTC-direct. */
export function isBrowserDialable (addr: Addr): boolean {
  const names = parse(addr).getComponents().map(c => c.name)
  return names.includes('ws') || names.includes('wss') || names.includes('webrtc-direct')
}

/**
 * The transport part of an address, to tell kinds apart: component names before the first
 * `/p2p/`, without host and certificate hash (`tcp`, `tcp/ws`, `tcp/tls/ws`, `udp/webrtc-direct`).
 */
export function transportOf (addr: Addr): string {
  const components = parse(addr).getComponents()
  const end = components.findIndex(c => c.name === P2P)
  return components.slice(0, end < 0 ? undefined : end).map(c => c.name)
    .filter(n => !['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr', 'certhash', 'sni'].includes(n)).join('/')
}
