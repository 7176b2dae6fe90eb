// What the use cases need from the device they run on, as interfaces: the Node runtime of a
// home (peers/device/) and the browser page (peers/web/phone.ts) each provide them their way.
// Settings are config.json or the browser's storage, the archive a file or IndexedDB; addresses
// and reconnection belong to the SyncNode (its address book is a file or IndexedDB too).

import type { BlobStore, Invite, PairingService, Space, SyncNode } from '../../core/index.ts'
import type { DeviceRole } from '../tasks/roles.ts'
import type { LogEntry, Task } from '../tasks/task-rules.ts'
import type { RefusalLog } from './refusals.ts'

/** This device's own settings the use cases read and write. */
export interface Settings {
  /** Peer id of the desktop `add` sends to without `to`. */
  defaultDesktop?: string
}

export interface SettingsStore {
  read (): Promise<Settings>
  /** Applies `change` to the stored settings (keys it does not know are kept) and saves them durably. */
  update (change: (settings: Settings) => void): Promise<void>
}

/** A finished task as this device last saw it, kept after it left the shared document. */
export interface ArchivedTask extends Task {
  log: LogEntry[]
  archivedAt: number
}

export interface TaskArchive {
  /** Resolves once `tasks` are durable; appends keep their call order. */
  append (tasks: ArchivedTask[]): Promise<void>
  /** Every archived task, one per id (the last record wins), newest first. */
  list (): Promise<ArchivedTask[]>
}

/** The device a use case acts on. */
export interface DeviceRuntime {
  readonly node: SyncNode
  /** The one space all of a user's devices share. */
  readonly space: Space
  readonly peerId: string
  readonly name: string
  readonly role: DeviceRole
  /** Opens invites (a desktop); null where this device cannot be invited to (a browser page). */
  readonly pairing: PairingService | null
  readonly settings: SettingsStore
  readonly archive: TaskArchive
  /** What this device refused from other members, kept for their warning counts. */
  readonly refusals: RefusalLog
  now (): number
  /** Where this device serves the phone web app, LAN first (empty when it does not). */
  webUrls (): string[]
  /** The invite's addresses this device can dial, in order; throws a named error saying why when none. */
  inviteAddrs (invite: Invite): Invite['addrs']
  /** Content-addressed bytes (attachments, large outputs), served to members over the blob protocol; absent: none here. */
  readonly blobs?: BlobStore
  /** Something went wrong that nobody is waiting for (an archive write of another member's prune). */
  report (line: string): void
}
