// What a device does for the verbs: pair, join, confirm, devices, revoke, sync, status (and the
// task verbs, from task-handlers.ts).
// The same handlers serve the control socket (a holder runs) and a verb that opened the home.

import { acceptInvite, decodeInvite } from '../../core/index.ts'
import type { PairingPrompt } from '../../core/index.ts'
import type { ControlHandlers } from '../home/control.ts'
import type { Device } from './device.ts'
import { taskHandlers } from './task-handlers.ts'

export class SyncFailedError extends Error {
  name = 'SyncFailedError'
}

export class NoKnownPeersError extends Error {
  name = 'NoKnownPeersError'
}

/** Time `join` waits for the first sync with the desktop after pairing. */
const JOIN_SYNC_TIMEOUT_MS = 10_000

export function deviceHandlers (device: Device): ControlHandlers {
  const confirms = new Map<string, (ok: boolean) => void>()
  let nextConfirm = 1
  /** Ask the caller (who has the terminal) to confirm, through a 'confirm' event and a `confirm` call. */
  const askCaller = (emit: (event: unknown) => void, signal: AbortSignal) => async (prompt: PairingPrompt): Promise<boolean> => {
    const id = String(nextConfirm++)
    return await new Promise<boolean>(resolve => {
      confirms.set(id, resolve)
      signal.addEventListener('abort', () => resolve(false), { once: true })
      emit({ event: 'confirm', id, peerId: prompt.peerId, name: prompt.name, code: prompt.code })
    }).finally(() => confirms.delete(id))
  }

  return {
    ...taskHandlers(device),

    status: async () => ({
      peerId: device.peerId,
      name: device.name,
      role: device.role,
      addrs: device.node.addrs(),
      connected: device.node.connectedPeers(),
      refusals: device.node.refusals
    }),

    devices: async () => device.devices(),

    revoke: async (args: { device: string }) => {
      const member = await device.revoke(String(args.device))
      return { peerId: member.peerId, name: member.name, revokedAt: member.revokedAt }
    },

    confirm: async (args: { id: string, ok: boolean }) => {
      const resolve = confirms.get(String(args.id))
      if (resolve === undefined) return false
      resolve(args.ok === true)
      return true
    },

    pair: async (args: { ttlMs?: number, yes?: boolean }, emit, signal) => {
      const open = device.pairing.openInvite({
        ttlMs: args.ttlMs,
        confirm: args.yes === true ? undefined : askCaller(emit, signal)
      })
      const onAbort = (): void => { open.cancel() }
      signal.addEventListener('abort', onAbort, { once: true })
      try {
        // The only place the secret leaves: the invite line itself.
        emit({ event: 'invite', invite: open.text, expiresAt: new Date(open.expiresAt).toISOString(), webUrls: device.webUrls })
        const member = await open.paired
        await device.rememberPeer(member.peerId, [], member.name)
        return { event: 'paired', peerId: member.peerId, name: member.name }
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    },

    join: async (args: { invite: string, name?: string, yes?: boolean }, emit, signal) => {
      const invite = decodeInvite(String(args.invite))
      const accepted = await acceptInvite(device.node, device.space, invite, {
        name: device.name,
        role: device.role,
        confirm: args.yes === true ? undefined : askCaller(emit, signal),
        signal
      })
      await device.rememberPeer(accepted.peerId, accepted.addrs, accepted.name)
      // Already connected by pairing; `connect` makes the node keep reconnecting to it.
      const synced = waitSynced(device, accepted.peerId, JOIN_SYNC_TIMEOUT_MS)
      await device.node.connect(accepted.addrs).catch(() => {})
      await synced.catch(() => {})
      await device.space.flush()
      return { event: 'paired', peerId: accepted.peerId, name: accepted.name, code: accepted.code }
    },

    sync: async (args: { timeoutMs?: number }) => await syncOnce(device, args.timeoutMs ?? 10_000),

    /** Stay connected and stream sync events until the caller goes away. */
    follow: async (_args, emit, signal) => {
      const { space } = device
      const name = (peer: string): string => space.members.get(peer)?.name ?? peer.slice(-8)
      const onSynced = (peer: string): void => emit({ event: 'synced', peerId: peer, name: name(peer) })
      const onDisconnected = (peer: string, reason: string | undefined): void => emit({ event: 'disconnected', peerId: peer, name: name(peer), reason: reason ?? null })
      const onRefused = (peer: string, reason: string): void => emit({ event: 'refused', peerId: peer, name: name(peer), reason })
      space.on('synced', onSynced)
      space.on('peer-disconnected', onDisconnected)
      space.on('refused', onRefused)
      try {
        const peers = await device.knownPeers()
        if (peers.length === 0) throw new NoKnownPeersError('no paired device to sync with yet (pair first: dispatch join)')
        for (const result of await device.connectKnown()) {
          if (result.error !== undefined) emit({ event: 'unreachable', peerId: result.peerId, name: result.name, reason: describeDialFailure(result.name, result.error) })
        }
        await new Promise<void>(resolve => {
          if (signal.aborted) resolve()
          signal.addEventListener('abort', () => resolve(), { once: true })
        })
        return null
      } finally {
        space.off('synced', onSynced)
        space.off('peer-disconnected', onDisconnected)
        space.off('refused', onRefused)
      }
    }
  }
}

/** Connect to every known member, wait until in sync with each reachable one, report. */
export async function syncOnce (device: Device, timeoutMs: number): Promise<{ synced: Array<{ peerId: string, name: string }>, failed: Array<{ peerId: string, name: string, error: string }> }> {
  const peers = await device.knownPeers()
  if (peers.length === 0) throw new NoKnownPeersError('no paired device to sync with yet (pair first: dispatch join)')
  const results = await Promise.all(peers.map(async p => {
    try {
      const synced = waitSynced(device, p.peerId, timeoutMs)
      synced.catch(() => {})
      await device.node.connect(p.addrs).catch((err: Error) => { throw new SyncFailedError(describeDialFailure(p.name, err)) })
      await synced
      return { peerId: p.peerId, name: p.name }
    } catch (err) {
      return { peerId: p.peerId, name: p.name, error: (err as Error).message }
    }
  }))
  await device.space.flush()
  const synced = results.filter(r => r.error === undefined).map(({ peerId, name }) => ({ peerId, name }))
  const failed = results.filter((r): r is { peerId: string, name: string, error: string } => r.error !== undefined)
  if (synced.length === 0) throw new SyncFailedError(failed.map(f => f.error).join('; '))
  return { synced, failed }
}

/** Resolves on the first 'synced' with `peer`; rejects on its refusal or after `timeoutMs`. */
export function waitSynced (device: Device, peer: string, timeoutMs: number): Promise<void> {
  const { space } = device
  const name = (): string => space.members.get(peer)?.name ?? peer.slice(-8)
  return new Promise<void>((resolve, reject) => {
    // Pairing often completes the first sync before anyone asks.
    if (space.session(peer)?.synced === true) { resolve(); return }
    const done = (): void => {
      clearTimeout(timer)
      space.off('synced', onSynced)
      space.off('refused', onRefused)
      device.node.libp2p.removeEventListener('peer:disconnect', onGone)
    }
    // A gate closes the connection right after the handshake: the dial "succeeds", then drops.
    const onGone = (event: CustomEvent<{ toString: () => string }>): void => {
      if (event.detail.toString() !== peer) return
      done()
      reject(new SyncFailedError(`${name()} refused the connection: this device is not paired with it, or was revoked`))
    }
    device.node.libp2p.addEventListener('peer:disconnect', onGone)
    const onSynced = (p: string): void => { if (p === peer) { done(); resolve() } }
    const onRefused = (p: string, reason: string): void => {
      if (p !== peer) return
      done()
      reject(new SyncFailedError(reason.includes('revoked')
        ? `${name()} refused to sync: this device was revoked there`
        : `${name()} refused to sync: this device is not a member there`))
    }
    const timer = setTimeout(() => { done(); reject(new SyncFailedError(`no sync with ${name()} within ${timeoutMs} ms`)) }, timeoutMs)
    space.on('synced', onSynced)
    space.on('refused', onRefused)
  })
}

/** A dial refused after encryption is the other side's gate: we are not (or no longer) its member. */
export function describeDialFailure (name: string, err: Error): string {
  const text = `${err.name}: ${err.message}`
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|timed out|aborted/i.test(text)) {
    return `could not reach ${name}: it is offline or unreachable from here`
  }
  return `${name} refused the connection: this device is not paired with it, or was revoked`
}
