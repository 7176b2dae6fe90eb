// The sync use cases: `sync` connects to every known member, waits until in sync with each
// reachable one and reports; `follow` stays connected and streams what happens.

import type { CallOptions, DeviceRef, FollowEvent, SyncResult } from './api.ts'
import type { AppContext } from './context.ts'
import { aborted } from './tasks.ts'

export class SyncFailedError extends Error {
  name = 'SyncFailedError'
}

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
      return { peerId, name }
    } catch (err) {
      return { peerId, name, error: (err as Error).message }
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

/** Resolves on the first 'synced' with `peer`; rejects on its refusal, after `timeoutMs`, or when `signal` aborts. */
export function waitSynced (ctx: AppContext, peer: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const { node, space } = ctx.device
  const name = (): string => ctx.nameOf(peer)
  return new Promise<void>((resolve, reject) => {
    // Pairing often completes the first sync before anyone asks.
    if (space.session(peer)?.synced === true) { resolve(); return }
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      space.off('synced', onSynced)
      space.off('refused', onRefused)
      node.libp2p.removeEventListener('peer:disconnect', onGone)
    }
    // A gate closes the connection right after the handshake: the dial "succeeds", then drops.
    const onGone = (event: CustomEvent<{ toString: () => string }>): void => {
      if (event.detail.toString() !== peer) return
      done()
      reject(new SyncFailedError(`${name()} refused the connection: this device is not paired with it, or was revoked`))
    }
    node.libp2p.addEventListener('peer:disconnect', onGone)
    const onSynced = (p: string): void => { if (p === peer) { done(); resolve() } }
    const onRefused = (p: string, reason: string): void => {
      if (p !== peer) return
      done()
      reject(new SyncFailedError(reason.includes('revoked')
        ? `${name()} refused to sync: this device was revoked there`
        : `${name()} refused to sync: this device is not a member there`))
    }
    const onAbort = (): void => { done(); reject(new SyncFailedError(`stopped waiting for a sync with ${name()}`)) }
    signal?.addEventListener('abort', onAbort, { once: true })
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
