// The sync engine's public API for browsers: everything in index.ts that needs no Node
// module (no files, no identity file), plus IndexedDB storage and the browser transports.

import { webSockets } from '@libp2p/websockets'
import { webRTCDirect } from '@libp2p/webrtc'
import type { SyncNodeOptions } from './node.ts'

export { createSyncNode, SyncNode, NotAMemberError, NodeStoppedError, UnknownPeerAddressError } from './node.ts'
export type { SyncNodeOptions, SyncNodeEvents } from './node.ts'
export { AddressBook, AddressBookFileError, ADDRESS_BOOK_MAX_ADDRS } from './net/address-book.ts'
export type { AddressBookStore, AddressBookEntries, AddressBookEntry } from './net/address-book.ts'
export { indexedDbAddressBook } from './net/address-book-idb.ts'
export { peerIdOf, isRelayedAddr, relayIdOf, withPeerId, directFirst, isLoopbackAddr, isBrowserDialable } from './net/multiaddrs.ts'
export { openSpace, Space, InvalidSpaceNameError } from './space.ts'
export type { SpaceOptions, SpaceEvents } from './space.ts'
export { Members, DEVICES_MAP } from './members.ts'
export type { Member } from './members.ts'
export type { Storage } from './store/storage.ts'
export { MemoryStore } from './store/memory-store.ts'
export { IndexedDbStore } from './store/indexeddb-store.ts'
export { idbRequest, idbTransaction } from './store/idb.ts'
export type { IndexedDbStoreOptions } from './store/indexeddb-store.ts'
export {
  mintInvite, encodeInvite, decodeInvite, assertInviteUsable, InvalidInviteError, InviteMissingSecretError, InviteExpiredError
} from './pairing/invite.ts'
export type { Invite } from './pairing/invite.ts'
export {
  acceptInvite, InviteReusedError, WrongSecretError, ProofForAnotherDeviceError, NoOpenInviteError,
  PairingRateLimitedError, PairingDeclinedError, PairingUnreachableError, PairingProtocolError
} from './pairing/protocol.ts'
export type { PairingPrompt, AcceptInviteOptions, AcceptedInvite } from './pairing/protocol.ts'
export * as constants from './constants.ts'

/**
 * What a browser can dial: WebSockets (any `ws://`/`wss://` address, including plain ws on a
 * LAN, since the page chose to talk to it and Noise secures it) and WebRTC-direct (reaches a
 * desktop without a TLS certificate from a page on any HTTPS origin). Browsers never listen.
 */
export function browserTransports (): NonNullable<SyncNodeOptions['transports']> {
  return [webSockets(), webRTCDirect({ rtcConfiguration: { iceServers: [] } })]
}
