// The sync use cases: `sync` connects to every known member, waits until each reachable one and
// this device hold what the other wrote (a sync, then a confirming round trip) and reports;
// `follow` stays connected and streams what happens.

import type { CallOptions, DeviceRef, FollowEvent, SyncResult } from './api.ts'
import type { AppContext } from './context.ts'
import { aborted } from './tasks.ts'
import { SyncFailedError, waitSynced } from './delivery.ts'

export class NoKnownPeersError extends Error {
  name = 'NoKnownPeersError'
}

const NO_PEERS = 'no paired device to sync with yet (pair first: dispatch join)'

/** Nobody to sync with: never paired, or every device this one was paired with is revoked. */
function noPeers (ctx: AppContext): string {
  const self = ctx.device.node.peerId
  const revoked = ctx.device.space.members.list().filter(m => m.peerId !== self && m.revokedAt !== undefined)
  if (revoked.length === 0) return NO_PEERS
  return `every device this one was paired with is revoked (${revoked.map(m => `"${m.name}"`).join(', ')}); pair with another device: dispatch join`
}

export async function syncOnce (ctx: AppContext, input: { timeoutMs?: number }): Promise<SyncResult> {
  const { node, space } = ctx.device
  const timeoutMs = input.timeoutMs ?? 10_000
  const deadline = AbortSignal.timeout(timeoutMs)
  const peers = node.knownPeers()
  if (peers.length === 0) throw new NoKnownPeersError(noPeers(ctx))
  const results = await Promise.all(peers.map(async ({ peerId }): Promise<DeviceRef & { error?: string }> => {
    const name = ctx.nameOf(peerId)
    // Listening before dialling: the first sync may complete while the dial resolves.
    const stop = new AbortController()
    const synced = waitSynced(ctx, peerId, timeoutMs, stop.signal)
    try {
      await node.connectPeer(peerId)
    } catch (err) {
      stop.abort()
      // Ended by the abort just above: the dial failure is what is reported.
      synced.catch(() => {})
      return { peerId, name, error: describeDialFailure(name, err as Error) }
    }
    try {
      await synced
      // We hold its state; now it confirms it holds ours (the process may exit right after).
      await space.confirm(peerId, deadline)
      return { peerId, name }
    } catch (err) {
      const error = deadline.aborted ? `${name} did not confirm the sync within ${timeoutMs} ms` : (err as Error).message
      return { peerId, name, error }
    }
  }))
  await space.flush()
  const synced = results.filter(r => r.error === undefined).map(({ peerId, name }) => ({ peerId, name }))
  const failed = results.filter((r): r is DeviceRef & { error: string } => r.error !== undefined)
  if (synced.length === 0) throw new SyncFailedError(failed.map(f => f.error).join('; '))
  return { synced, failed }
}

/** Stay connected and stream sync events until `signal` aborts. */
export async function followSync (ctx: AppContext, options: CallOptions<FollowEvent> = {}): Promise<null> {
  const { node, space } = ctx.device
  const emit = options.onEvent ?? (() => {})
  const onSynced = (peer: string): void => emit({ event: 'synced', peerId: peer, name: ctx.nameOf(peer) })
  const onDisconnected = (peer: string, reason: string | undefined): void => emit({ event: 'disconnected', peerId: peer, name: ctx.nameOf(peer), reason: reason ?? null })
  const onRefused = (peer: string, reason: string): void => emit({ event: 'refused', peerId: peer, name: ctx.nameOf(peer), reason })
  space.on('synced', onSynced)
  space.on('peer-disconnected', onDisconnected)
  space.on('refused', onRefused)
  // A member the node dialled on its own may have synced before this call subscribed: say so
  // now, so a follower always learns the current state before the changes.
  for (const peer of space.connectedPeers()) if (space.session(peer)?.synced === true) onSynced(peer)
  try {
    const peers = node.knownPeers()
    if (peers.length === 0) throw new NoKnownPeersError(noPeers(ctx))
    await Promise.all(peers.map(async ({ peerId }) => {
      try {
        await node.connectPeer(peerId)
      } catch (err) {
        // Said to the caller; the node keeps redialling it meanwhile.
        emit({ event: 'unreachable', peerId, name: ctx.nameOf(peerId), reason: describeDialFailure(ctx.nameOf(peerId), err as Error) })
      }
    }))
    await aborted(options.signal)
    return null
  } finally {
    space.off('synced', onSynced)
    space.off('peer-disconnected', onDisconnected)
    space.off('refused', onRefused)
  }
}

/** A dial refused after encryption is the other side's gate: we are not (or no longer) its member. */
export function describeDialFailure (name: string, err: Error): string {
  const text = `${err.name}: ${err.message}`
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|timed out|aborted/i.test(text)) {
    return `could not reach ${name}: it is offline or unreachable from here`
  }
  return `${name} refused the connection: this device is not paired with it, or was revoked`
}
