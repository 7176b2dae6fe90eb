/**
 * The Dispatch sync engine: replicate any Yjs document between paired devices
 * over libp2p (Noise-encrypted, Yamux-multiplexed, TCP and WebSockets), durably.
 *
 * @example
 * ```ts
 * import { createSyncNode, loadOrCreateIdentity, FileStore, PairingService, acceptInvite } from 'dispatch-p2p'
 *
 * // Device A: open a space, and an invite for a new device (strangers may only pair, only while it is open).
 * const node = await createSyncNode({ privateKey: await loadOrCreateIdentity('./me/identity.key') })
 * const space = await node.openSpace('notes', { storage: new FileStore({ dir: './me/store' }) })
 * const pairing = new PairingService(node, space, { name: 'desk' })
 * await pairing.start()
 * const invite = pairing.openInvite()          // show invite.text (one line, or a QR)
 * space.doc.getText('body').insert(0, 'hello')  // any Yjs type; syncs to every member
 * await space.flush()                           // durable on disk
 * console.log('paired with', (await invite.paired).name)
 *
 * // Device B: accept the invite into its own space; from then on the two sync and reconnect.
 * const desk = await acceptInvite(nodeB, spaceB, inviteText, { name: 'laptop' })
 * await nodeB.connect(desk.addrs)
 *
 * space.members.list()                          // who belongs, revoked ones included
 * space.members.revoke(peerId, node.peerId)     // a signed revocation; spreads to every member, the gate refuses it at once
 * await node.stop()
 * ```
 *
 * For editors and apps that expect a Yjs provider (`doc`, `awareness`, `status`/`synced` events,
 * `connect`/`disconnect`/`destroy`): `createProvider`. In browsers: `dispatch-p2p/browser`.
 *
 * Storage is pluggable (`Storage`): `FileStore` (Node), `MemoryStore`, and `LevelStore`
 * (y-leveldb's layout, native LevelDB) from `dispatch-p2p/leveldb`, kept out of this entry
 * so that bundles never load a native module.
 *
 * @packageDocumentation
 */

export { createSyncNode, SyncNode, NotAMemberError, NodeStoppedError, UnknownPeerAddressError } from './node.ts'
export type { SyncNodeOptions, SyncNodeEvents } from './node.ts'
export { AddressBook, AddressBookFileError, ADDRESS_BOOK_MAX_ADDRS } from './net/address-book.ts'
export type { AddressBookStore, AddressBookEntries, AddressBookEntry } from './net/address-book.ts'
export { addressBookFile } from './net/address-book-file.ts'
export { peerIdOf, isRelayedAddr, relayIdOf, withPeerId, directFirst, isLoopbackAddr, isBrowserDialable } from './net/multiaddrs.ts'
export { writeFileAtomic, writeJsonFile, readJsonFile, JsonFileError } from './store/atomic-file.ts'
export { createProvider, SpaceProvider, ProviderDestroyedError, NotListeningError } from './provider.ts'
export type { ProviderOptions, ProviderEvents, ProviderStatus, ProviderPairOptions } from './provider.ts'
export { openSpace, Space, InvalidSpaceNameError } from './space.ts'
export type { SpaceOptions, SpaceEvents } from './space.ts'
export { Members, DEVICES_MAP } from './members.ts'
export type { Member, NewMember } from './members.ts'
export { TrustGate, TRUST_MAP, PermissionDeniedError } from './trust/gate.ts'
export type { TrustRefusal, TrustMemory, Verified, AdmissionView, RevocationView } from './trust/gate.ts'
export { ADMIN, mayAdmit, mayRevoke } from './trust/rights.ts'
export { signStatement, verifyStatement, signRecord, verifyRecord, UnsupportedKeyError } from './trust/statement.ts'
export type { Statement, Admission, Revocation, SignedStatement } from './trust/statement.ts'
export { loadOrCreateIdentity, IdentityFileError } from './identity.ts'
export { desktopListenAddrs, loopbackListenAddrs, ListenError } from './net/libp2p.ts'
export { releaseNativeTransports } from './net/native-transports.ts'
export { loadOrCreateWebRTCCertificate, createWebRTCCertificate, WebRTCCertificateFileError } from './net/webrtc-certificate.ts'
export type { WebRTCCertificate } from './net/webrtc-certificate.ts'
export { FrameTooLargeError, MalformedFrameError } from './net/stream-channel.ts'
export type { Storage } from './store/storage.ts'
export { StorageFailedError } from './store/storage.ts'
export { FileStore } from './store/file-store.ts'
export type { FileStoreOptions } from './store/file-store.ts'
export { MemoryStore } from './store/memory-store.ts'
export { SessionClosedError, SyncSession, UnknownMessageTypeError } from './sync/session.ts'
export { checkUpdate } from './sync/limits.ts'
export type { SpaceLimits } from './sync/limits.ts'
export type { SyncSessionOptions } from './sync/session.ts'
export type { MessageChannel, ChannelHandler } from './sync/channel.ts'
export { MemoryLink } from './sync/memory-channel.ts'
export {
  mintInvite, encodeInvite, decodeInvite, assertInviteUsable, inviteProof, verifyInviteProof, verificationCode,
  InvalidInviteError, InviteMissingSecretError, InviteExpiredError
} from './pairing/invite.ts'
export type { Invite } from './pairing/invite.ts'
export {
  PairingService, acceptInvite, inviteAddrs, InviteReusedError, WrongSecretError, ProofForAnotherDeviceError, NoOpenInviteError,
  PairingRateLimitedError, PairingDeclinedError, PairingUnreachableError, PairingProtocolError
} from './pairing/protocol.ts'
export type { OpenInvite, OpenInviteOptions, PairingPrompt, ConfirmPairing, AcceptInviteOptions, AcceptedInvite, PairingServiceOptions } from './pairing/protocol.ts'
export type { BlobStore } from './blob/blob-store.ts'
export {
  blobHash, BlobHashMismatchError, BlobNotFoundError, BlobOffsetError, BlobTooLargeError, InvalidBlobHashError, DEFAULT_MAX_BLOB_BYTES
} from './blob/blob-store.ts'
export { serveBlobs, fetchBlob, BlobRefusedError, BlobTransferCutError } from './blob/blob-protocol.ts'
export type { BlobServer, BlobServerOptions, FetchBlobOptions } from './blob/blob-protocol.ts'
export { FileBlobStore } from './blob/file-blob-store.ts'
export type { FileBlobStoreOptions } from './blob/file-blob-store.ts'
export * as constants from './constants.ts'
