// Reconnection delays: exponential backoff with full jitter, so that many
// devices that lost the same peer do not all come back at the same instant.

import { RECONNECT_MAX_MS, RECONNECT_MIN_MS } from '../constants.ts'

export interface BackoffOptions {
  minMs?: number
  maxMs?: number
  random?: () => number
}

/** Delay before reconnection attempt number `attempt` (0-based). */
export function backoffDelay (attempt: number, options: BackoffOptions = {}): number {
  const min = options.minMs ?? RECONNECT_MIN_MS
  const max = options.maxMs ?? RECONNECT_MAX_MS
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30))
  return Math.round(min / 2 + (options.random ?? Math.random)() * (ceiling - min / 2))
}
