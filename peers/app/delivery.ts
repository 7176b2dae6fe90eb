// Reaching a peer, and knowing that what this device wrote got there: a short-lived CLI process
// may exit right after a use case returns, so 'delivered' must mean the peer holds it.

import type { AppContext } from './context.ts'

export class SyncFailedError extends Error {
  name = 'SyncFailedError'
}

/** Connected to `peerId`, dialling its known addresses for at most `timeoutMs` if not. */
export async function reach (ctx: AppContext, peerId: string, timeoutMs: number): Promise<boolean> {
  const { node, space } = ctx.device
  if (space.connectedPeers().includes(peerId) || node.connectedPeers().includes(peerId)) return true
  try {
    await node.connectPeer(peerId, { signal: AbortSignal.timeout(timeoutMs) })
    return true
  } catch {
    // Unreachable now, or no address known: the caller says "not delivered yet", and the node
    // keeps redialling it for as long as this process runs.
    return false
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

/**
 * True once `peerId` holds everything this device wrote before the call: reached, through a sync,
 * and confirmed by one more state-vector round trip (`Space.confirm`), within about `timeoutMs`.
 * False when it is not reachable or does not answer in time; the change then goes out at the
 * next sync, from the disk.
 */
export async function deliver (ctx: AppContext, peerId: string, timeoutMs: number): Promise<boolean> {
  const started = ctx.device.now()
  if (!await reach(ctx, peerId, timeoutMs)) return false
  // Reached late: still a moment for the exchange itself.
  const left = Math.max(500, timeoutMs - (ctx.device.now() - started))
  const deadline = AbortSignal.timeout(left)
  try {
    await waitSynced(ctx, peerId, left, deadline)
    await ctx.device.space.confirm(peerId, deadline)
    return true
  } catch {
    return false
  }
}
