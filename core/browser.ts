// The sync engine's public API for browsers (`dispatch-p2p/browser`, and `dispatch-p2p` under the
// "browser" condition): everything in index.ts that needs no Node module (no files, no identity
// file, no TCP), plus IndexedDB storage, the browser identity and the browser transports.

export { createBrowserSyncNode as createSyncNode, browserTransports, NotInBrowserError } from './browser-node.ts'
export { SyncNode, NotAMemberError, NodeStoppedError, UnknownPeerAddressError } from './node.ts'
export type { SyncNodeOptions, SyncNodeEvents } from './node.ts'
export { AddressBook, AddressBookFileError, ADDRESS_BOOK_MAX_ADDRS } from './net/address-book.ts'
export type { AddressBookStore, AddressBookEntries, AddressBookEntry } from './net/address-book.ts'
export { indexedDbAddressBook } from './net/address-book-idb.ts'
export { peerIdOf, isRelayedAddr, relayIdOf, withPeerId, directFirst, isLoopbackAddr, isBrowserDialable } from './net/multiaddrs.ts'
export { createBrowserProvider as createProvider, BROWSER_IDENTITY_DB, BROWSER_STORE_DB } from './browser-provider.ts'
export type { BrowserProviderOptions } from './browser-provider.ts'
export { SpaceProvider, ProviderDestroyedError, NotListeningError } from './provider.ts'
export type { ProviderOptions, ProviderEvents, ProviderStatus, ProviderPairOptions } from './provider.ts'
export { loadOrCreateBrowserIdentity } from './browser-identity.ts'
export { openSpace, Space, InvalidSpaceNameError } from './space.ts'
export type { SpaceOptions, SpaceEvents } from './space.ts'
export { Members, DEVICES_MAP } from './members.ts'
export type { Member, NewMember } from './members.ts'
export { TrustGate, TRUST_MAP, PermissionDeniedError } from './trust/gate.ts'
export type { TrustRefusal, TrustMemory, Verified, AdmissionView, RevocationView } from './trust/gate.ts'
export { ADMIN, mayAdmit, mayRevoke } from './trust/rights.ts'
export { verifyRecord } from './trust/statement.ts'
export type { SpaceLimits } from './sync/limits.ts'
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
export type { PairingPrompt, ConfirmPairing, AcceptInviteOptions, AcceptedInvite, OpenInvite, OpenInviteOptions } from './pairing/protocol.ts'
export type { BlobStore } from './blob/blob-store.ts'
export {
  blobHash, BlobHashMismatchError, BlobNotFoundError, BlobOffsetError, BlobTooLargeError, InvalidBlobHashError, DEFAULT_MAX_BLOB_BYTES
} from './blob/blob-store.ts'
export { serveBlobs, fetchBlob, BlobRefusedError, BlobTransferCutError } from './blob/blob-protocol.ts'
export type { BlobServer, BlobServerOptions, FetchBlobOptions } from './blob/blob-protocol.ts'
export { IndexedDbBlobStore } from './blob/indexeddb-blob-store.ts'
export type { IndexedDbBlobStoreOptions } from './blob/indexeddb-blob-store.ts'
export * as constants from './constants.ts'
