// The timer source sessions use: the system clock in production, a virtual
// clock in simulations that must run thousands of "seconds" in milliseconds.

export interface Timers {
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
  /**
   * Run `fn` once the current event-loop turn's work is done (a session gathers the updates of
   * one turn into one message). Optional: without it, `setImmediate` where there is one, else a microtask.
   */
  defer?: (fn: () => void) => void
}

/** The end of this event-loop turn: after the I/O callbacks of the turn (Node), or after the current task. */
export function deferToTurnEnd (fn: () => void): void {
  if (typeof setImmediate === 'function') setImmediate(fn)
  else queueMicrotask(fn)
}

/** Let a timer not keep a Node process alive; a no-op in browsers, whose timers are numbers. */
export function unrefTimer (handle: unknown): void {
  (handle as { unref?: () => void } | null)?.unref?.()
}

/** Real timers that never keep the process alive on their own. */
export const systemTimers: Timers = {
  setTimeout (fn, ms) {
    const handle = setTimeout(fn, ms)
    unrefTimer(handle)
    return handle
  },
  clearTimeout (handle) {
    if (handle !== null && handle !== undefined) clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
  defer: deferToTurnEnd
}

/**
 * A clock that only moves when told to; `advance` runs what falls due, in order. Deferred work
 * (the end of a turn) runs at `endTurn()`, and at the start of every `advance`.
 */
export class VirtualTimers implements Timers {
  now = 0
  private nextId = 1
  private readonly pending = new Map<number, { at: number, fn: () => void }>()
  private deferred: Array<() => void> = []

  defer (fn: () => void): void {
    this.deferred.push(fn)
  }

  /** End the current turn: run everything deferred so far (and what that defers in turn). */
  endTurn (): void {
    while (this.deferred.length > 0) {
      const batch = this.deferred
      this.deferred = []
      for (const fn of batch) fn()
    }
  }

  setTimeout (fn: () => void, ms: number): unknown {
    const id = this.nextId++
    this.pending.set(id, { at: this.now + Math.max(0, ms), fn })
    return id
  }

  clearTimeout (handle: unknown): void {
    if (typeof handle === 'number') this.pending.delete(handle)
  }

  /** Move the clock forward by `ms`, running every timer that falls due (including ones they set). */
  advance (ms: number): void {
    this.endTurn()
    const until = this.now + ms
    for (;;) {
      let nextId = -1
      let nextAt = Infinity
      for (const [id, t] of this.pending) {
        if (t.at < nextAt || (t.at === nextAt && id < nextId)) { nextAt = t.at; nextId = id }
      }
      if (nextId === -1 || nextAt > until) break
      const timer = this.pending.get(nextId)
      this.pending.delete(nextId)
      this.now = nextAt
      timer?.fn()
      this.endTurn()
    }
    this.now = until
  }
}
