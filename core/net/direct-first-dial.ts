// Dial a device at its direct addresses first and at its relayed ones only after RELAY_FALLBACK_MS.
// libp2p tries a peer's addresses one after another, relayed ones last, each for up to
// ADDRESS_DIAL_TIMEOUT_MS: a phone away from home would wait 5 s on every unreachable LAN address
// of the desktop (four of them: 20 s) before trying the relay that reaches it. Used for members
// (SyncNode) and for the pairing dial, where the invite lists both kinds.

import { multiaddr } from '@multiformats/multiaddr'
import type { Connection } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import { RELAY_FALLBACK_MS } from '../constants.ts'
import { isRelayedAddr } from './multiaddrs.ts'

/**
 * Dial `addrs` (all of one peer, at least one): the direct ones, then, when those fail or take
 * RELAY_FALLBACK_MS, the relayed ones. `signal` ends the whole dial; without one, libp2p's own
 * DIAL_TIMEOUT_MS applies.
 */
export async function dialDirectFirst (libp2p: Pick<Libp2p, 'dial'>, addrs: string[], signal?: AbortSignal): Promise<Connection> {
  if (addrs.length === 0) throw new RangeError('no address to dial')
  const direct = addrs.filter(a => !isRelayedAddr(a))
  const relayed = addrs.filter(a => isRelayedAddr(a))
  if (direct.length > 0) {
    const cut = relayed.length > 0 ? AbortSignal.timeout(RELAY_FALLBACK_MS) : undefined
    const limit = cut !== undefined && signal !== undefined ? AbortSignal.any([cut, signal]) : cut ?? signal
    try {
      return await libp2p.dial(direct.map(a => multiaddr(a)), { signal: limit })
    } catch (err) {
      if (relayed.length === 0 || signal?.aborted === true) throw err
    }
    // Let the cut dial leave libp2p's queue first: a dial to the same peer still queued there
    // would take the relayed addresses in after its own, instead of dialling them now.
    await new Promise(resolve => setTimeout(resolve, 0))
  }
  return await libp2p.dial(relayed.map(a => multiaddr(a)), { signal })
}
