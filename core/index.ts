/**
 * The Dispatch sync engine: replicate any Yjs document between paired devices
 * over libp2p (Noise-encrypted, Yamux-multiplexed, TCP and WebSockets), durably.
 *
 * @example
 * ```ts
 * import * as Y from 'yjs'
 * import { createSyncNode, loadOrCreateIdentity, FileStore } from 'dispatch-p2p'
 *
 * const node = await createSyncNode({ privateKey: await loadOrCreateIdentity('./me/identity.key') })
 * const space = await node.openSpace('notes', { storage: new FileStore({ dir: './me/store' }), allow: [otherPeerId] })
 * space.doc.getText('body').insert(0, 'hello')
 * await space.flush()                       // durable on disk
 * await node.connect(otherDeviceMultiaddr)  // syncs now, and reconnects by itself
 * space.on('synced', peer => console.log('in sync with', peer))
 * await node.stop()
 * ```
 *
 * @packageDocumentation
 */

export { createSyncNode, SyncNode, NotAMemberError, NodeStoppedError } from './node.ts'
export type { SyncNodeOptions, SyncNodeEvents } from './node.ts'
export { openSpace, Space, InvalidSpaceNameError } from './space.ts'
export type { SpaceOptions, SpaceEvents } from './space.ts'
export { Members, DEVICES_MAP } from './members.ts'
export type { Member } from './members.ts'
export { loadOrCreateIdentity, IdentityFileError } from './identity.ts'
export { desktopListenAddrs, loopbackListenAddrs } from './net/libp2p.ts'
export { FrameTooLargeError, MalformedFrameError } from './net/stream-channel.ts'
export type { Storage } from './store/storage.ts'
export { FileStore } from './store/file-store.ts'
export type { FileStoreOptions } from './store/file-store.ts'
export { MemoryStore } from './store/memory-store.ts'
export { SyncSession, UnknownMessageTypeError } from './sync/session.ts'
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
export * as constants from './constants.ts'
