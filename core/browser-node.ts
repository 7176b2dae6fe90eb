// What a browser page runs: a SyncNode with the transports a page can dial (WebSockets,
// WebRTC-direct), listening nowhere, and refusing the options only Node can honour.

import { webSockets } from '@libp2p/websockets'
import { webRTCDirect } from '@libp2p/webrtc'
import { createSyncNode } from './node.ts'
import type { SyncNode, SyncNodeOptions } from './node.ts'

/** An option that needs Node (a file, UDP multicast) was given to the browser entry. */
export class NotInBrowserError extends Error {
  name = 'NotInBrowserError'
}

/**
 * What a browser can dial: WebSockets (any `ws://`/`wss://` address, including plain ws on a
 * LAN, since the page chose to talk to it and Noise secures it) and WebRTC-direct (reaches a
 * desktop without a TLS certificate from a page on any HTTPS origin). Browsers never listen.
 */
export function browserTransports (): NonNullable<SyncNodeOptions['transports']> {
  return [webSockets(), webRTCDirect({ rtcConfiguration: { iceServers: [] } })]
}

/** `options` with the browser's defaults (no listen address, `browserTransports()`); throws `NotInBrowserError` for Node-only options. */
export function browserNodeOptions (options: SyncNodeOptions = {}): SyncNodeOptions {
  if (options.mdns !== undefined && options.mdns !== false) {
    throw new NotInBrowserError('mDNS needs UDP multicast, which browsers do not have: a page reaches devices by the addresses it paired with')
  }
  return { ...options, listen: options.listen ?? [], transports: options.transports ?? browserTransports() }
}

/** `createSyncNode` for a page: dials over WebSockets and WebRTC-direct, listens nowhere. */
export async function createBrowserSyncNode (options: SyncNodeOptions = {}): Promise<SyncNode> {
  return await createSyncNode(browserNodeOptions(options))
}
