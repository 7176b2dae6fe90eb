// How a verb reaches a home: through the running holder's control socket when there is
// one, else by locking the home itself. Retries briefly when another short-lived verb holds it.

import { lockHome, HomeBusyError } from './lock.ts'
import type { HomeLock } from './lock.ts'
import { holderRunning } from './control.ts'

export type HomeAccess =
  | { kind: 'holder' }
  | { kind: 'lock', lock: HomeLock }

export interface OpenOrCallOptions {
  /** How long to keep trying while the home is locked by a process that does not (yet) answer. */
  waitMs?: number
  /** Pause between tries. */
  pollMs?: number
}

/**
 * Either `{kind: 'holder'}`: call the holder with `callControl`; or `{kind: 'lock'}`: the
 * home is yours until `lock.release()`. Throws `HomeBusyError` when neither happens in time.
 */
export async function openOrCall (home: string, opts: OpenOrCallOptions = {}): Promise<HomeAccess> {
  const deadline = Date.now() + (opts.waitMs ?? 3_000)
  const pollMs = opts.pollMs ?? 50
  for (;;) {
    if (await holderRunning(home)) return { kind: 'holder' }
    try {
      return { kind: 'lock', lock: await lockHome(home) }
    } catch (err) {
      // Busy without a socket: a one-shot verb, or a holder still starting. Try again soon.
      if (!(err instanceof HomeBusyError) || Date.now() >= deadline) throw err
    }
    await new Promise(resolve => setTimeout(resolve, pollMs))
  }
}
