// Where a Dispatch home lives and what is inside it. One place names every path,
// so verbs, the agent and tests agree on the layout.

import { mkdir, chmod } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export interface HomeLayout {
  dir: string
  /** The device's libp2p private key (mode 0600). */
  identityKey: string
  /** The durable store (update logs and snapshots) of every space. */
  store: string
  /** Device name, role, relays and settings (config.json). */
  config: string
  /** Members' last known addresses (the node's address book). */
  addressBook: string
  /** The blob store: attachments and large outputs, by sha256. */
  blobs: string
  /** The WebRTC-direct certificate (mode 0600), so the certhash in this device's addresses survives restarts. */
  webrtcCertificate: string
  /** Append-only record of tool calls and permission decisions. */
  auditLog: string
  /** Holds the pid of the process holding the home. */
  lock: string
  /** Unix socket on which the holding process answers other verbs. */
  controlSocket: string
}

/** Unix socket paths are limited (108 bytes on Linux, 104 on macOS), including the final NUL. */
export const MAX_SOCKET_PATH_BYTES = 103

export class HomePathTooLongError extends Error {
  name = 'HomePathTooLongError'
}

/** `--home DIR`, else `DISPATCH_HOME`, else `~/.dispatch`; always absolute. */
export function resolveHomeDir (flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const dir = flag ?? (env.DISPATCH_HOME !== undefined && env.DISPATCH_HOME !== '' ? env.DISPATCH_HOME : join(homedir(), '.dispatch'))
  return resolve(dir)
}

export function homeLayout (dir: string): HomeLayout {
  const abs = resolve(dir)
  return {
    dir: abs,
    identityKey: join(abs, 'identity.key'),
    store: join(abs, 'store'),
    config: join(abs, 'config.json'),
    addressBook: join(abs, 'peers.json'),
    blobs: join(abs, 'blobs'),
    webrtcCertificate: join(abs, 'webrtc-direct.json'),
    auditLog: join(abs, 'audit.log'),
    lock: join(abs, 'lock'),
    controlSocket: join(abs, 'control.sock')
  }
}

/**
 * Creates the home if needed and makes it owner-only (0700): the control socket and
 * the key inside are then out of other users' reach whatever their own modes.
 */
export async function ensureHomeDir (dir: string): Promise<HomeLayout> {
  const layout = homeLayout(dir)
  if (Buffer.byteLength(layout.controlSocket) > MAX_SOCKET_PATH_BYTES) {
    throw new HomePathTooLongError(`home path is too long for its control socket (${layout.controlSocket}); choose a shorter --home`)
  }
  await mkdir(layout.dir, { recursive: true, mode: 0o700 })
  await chmod(layout.dir, 0o700)
  return layout
}
