// Presence through the space's awareness: each device publishes who it is and, for a desktop,
// what it is running and which of its tasks it holds queued (the receipt `add` waits for).

import type { Space } from '../../core/index.ts'

export interface PresenceState {
  peerId: string
  name: string
  role: string
  /** Tasks running on this desktop now. */
  running?: Array<{ id: string, text: string }>
  /** Ids of tasks addressed to this desktop it holds but has not started (capped). */
  queued?: string[]
  /** A desktop's VAPID public key (base64url): what a page subscribes to Web Push with. */
  vapidKey?: string
  /** A page's push subscription, made with the VAPID key of desktop `to`, which pushes to it. */
  push?: { to: string, subscription: unknown }
}

/** How many queued ids a desktop advertises; more only delays the receipt of the newest. */
export const MAX_ADVERTISED_QUEUED = 500

export function publishPresence (space: Space, state: PresenceState): void {
  space.awareness.setLocalState({ dispatch: state })
}

/** The presence of every other device whose awareness state reaches us (directly or relayed). */
export function presenceOf (space: Space): Map<string, PresenceState> {
  const out = new Map<string, PresenceState>()
  for (const [clientId, raw] of space.awareness.getStates()) {
    if (clientId === space.awareness.clientID) continue
    const s = (raw as { dispatch?: unknown })?.dispatch
    if (typeof s !== 'object' || s === null) continue
    const p = s as Record<string, unknown>
    if (typeof p.peerId !== 'string' || typeof p.name !== 'string') continue
    const state: PresenceState = { peerId: p.peerId, name: p.name, role: typeof p.role === 'string' ? p.role : 'unknown' }
    if (Array.isArray(p.running)) state.running = p.running.filter((r): r is { id: string, text: string } => typeof r?.id === 'string' && typeof r?.text === 'string').slice(0, 50)
    if (Array.isArray(p.queued)) state.queued = p.queued.filter((q): q is string => typeof q === 'string').slice(0, MAX_ADVERTISED_QUEUED)
    if (typeof p.vapidKey === 'string' && p.vapidKey.length <= 200) state.vapidKey = p.vapidKey
    // The subscription is checked by the desktop it is for (peers/push/subscription.ts).
    const push = p.push as { to?: unknown, subscription?: unknown } | undefined
    if (typeof push?.to === 'string' && push.subscription !== undefined) state.push = { to: push.to, subscription: push.subscription }
    out.set(p.peerId, state)
  }
  return out
}
