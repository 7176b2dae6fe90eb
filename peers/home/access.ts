// How a verb reaches a home: through the running holder's control socket when there is
// one, else by locking the home itself. While another short-lived verb holds it, waits
// (saying who holds it) instead of failing: parallel `dispatch add`s take turns. The bound is
// per holder: a queue that keeps moving is waited out, one process stuck on the home is not.

import { readFile } from 'node:fs/promises'
import { lockHome, HomeBusyError } from './lock.ts'
import type { HomeLock } from './lock.ts'
import { holderRunning } from './control.ts'

export type HomeAccess =
  | { kind: 'holder' }
  | { kind: 'lock', lock: HomeLock }

/** How long a verb waits for one process holding the home (without a control socket) before giving up. */
export const HOME_WAIT_MS = 30_000

export interface OpenOrCallOptions {
  /** How long to keep trying while one process holds the home and does not (yet) answer; restarts when another takes it. */
  waitMs?: number
  /** Pause between tries. */
  pollMs?: number
  /** Told once, when the home is found busy, which process holds it. Default: one line on stderr. */
  onWait?: (line: string) => void
}

/**
 * Either `{kind: 'holder'}`: call the holder with `callControl`; or `{kind: 'lock'}`: the
 * home is yours until `lock.release()`. Throws `HomeBusyError` when neither happens in time.
 */
export async function openOrCall (home: string, opts: OpenOrCallOptions = {}): Promise<HomeAccess> {
  const waitMs = opts.waitMs ?? HOME_WAIT_MS
  const pollMs = opts.pollMs ?? 50
  const onWait = opts.onWait ?? ((line: string) => { process.stderr.write(`dispatch: ${line}\n`) })
  let holder: number | undefined
  let deadline = Infinity
  for (;;) {
    if (await holderRunning(home)) return { kind: 'holder' }
    try {
      return { kind: 'lock', lock: await lockHome(home) }
    } catch (err) {
      // Busy without a socket: a one-shot verb, or a holder still starting. Try again soon.
      if (!(err instanceof HomeBusyError)) throw err
      if (err.pid !== holder) {
        if (holder === undefined) onWait(`home ${home} is in use by process ${err.pid}${await commandOf(err.pid)}; waiting for it (up to ${Math.round(waitMs / 1000)} s)`)
        holder = err.pid
        deadline = Date.now() + waitMs
      } else if (Date.now() >= deadline) {
        throw err
      }
    }
    // A little jitter: processes started together do not all retry in the same instant.
    await new Promise(resolve => setTimeout(resolve, pollMs + Math.floor(Math.random() * pollMs)))
  }
}

/** ` (dispatch add …)`: the holder's command line where the OS shows it (Linux /proc), else nothing. */
async function commandOf (pid: number): Promise<string> {
  try {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(a => a !== '')
    // node .../bin.js --home H add TEXT: shown from the script on, as `dispatch ...`.
    const script = args.findIndex(a => /(^|\/)(bin\.js|dispatch)$/.test(a))
    const shown = script >= 0 ? ['dispatch', ...args.slice(script + 1)] : args
    const line = shown.join(' ')
    return ` (${line.length > 80 ? line.slice(0, 79) + '…' : line})`
  } catch {
    return ''
  }
}
