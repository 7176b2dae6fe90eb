// The scheduler of a desktop: runs the schedules addressed to it. Each due slot becomes an
// ordinary task on the task board (linked by `scheduleId`), so the agent claims, runs, logs and
// reports it like any other, and the phone reads it like any other.
//
// Exactly once per slot: the occurrence's task id is derived from the schedule and the slot
// (occurrence-id.ts), the task and the schedule's `lastSlot` are written in the same turn, and
// the agent is held off the task until both are on disk (`held`, then `flush`). A kill -9
// before the flush loses both, so the slot is still due at the next start and gets the same id;
// after it, the slot is handled and the task is the agent's (interrupted, retried once).
//
// Missed slots (the desktop was off or asleep): when several slots are due at once, the latest
// one runs, once, and the history says how many were missed. Never one run per missed slot: an
// hourly job after a night off runs once in the morning, not eight times. A slot that comes while
// the previous occurrence of the same schedule is still unfinished is skipped (no overlapping
// runs of one schedule), and recorded. Every skipped slot, failed run and run that could not
// start is a history entry and a 'history' event (the desktop's notice; the phone's watch
// notifies them too).

import { ObservableV2 } from 'lib0/observable'
import type { TaskBoard } from '../tasks/task-board.ts'
import { isFinal } from '../tasks/task-rules.ts'
import { taskIdTime } from '../tasks/task-id.ts'
import { MAX_COUNTED_SLOTS, dueSlots, nextSlot } from './spec.ts'
import { occurrenceId } from './occurrence-id.ts'
import type { HistoryEntry, Schedule, ScheduleBoard } from './schedule-board.ts'

/** The longest the scheduler sleeps before it looks again (a clock that jumped, a long cron gap). */
const MAX_SLEEP_MS = 60_000

export interface SchedulerOptions {
  schedules: ScheduleBoard
  board: TaskBoard
  deviceId: string
  /** Resolves once everything written so far is on disk (`space.flush`). */
  flush: () => Promise<void>
  now?: () => number
  /** Set timers for the next slot (default true); tests call `tick()` themselves with their own clock. */
  timers?: boolean
  log?: (line: string) => void
}

export type SchedulerEvents = {
  /** Something was recorded on a schedule's history (started, finished, skipped, error). */
  history: (schedule: Schedule, entry: Omit<HistoryEntry, 'at'>) => void
  /** An occurrence task is on disk and may run now. */
  released: (taskId: string) => void
}

export class Scheduler extends ObservableV2<SchedulerEvents> {
  readonly #opts: SchedulerOptions
  readonly #now: () => number
  readonly #log: (line: string) => void
  /** Occurrence tasks written but not yet on disk: the agent leaves them alone. */
  readonly #held = new Set<string>()
  #turn: Promise<void> = Promise.resolve()
  #timer: ReturnType<typeof setTimeout> | undefined
  #started = false
  #stopped = false
  #pending = false

  constructor (opts: SchedulerOptions) {
    super()
    this.#opts = opts
    this.#now = opts.now ?? Date.now
    this.#log = opts.log ?? (line => console.error(`dispatch: ${line}`))
  }

  /** Is this task an occurrence that is not on disk yet (the agent must not claim it)? */
  isHeld (taskId: string): boolean {
    return this.#held.has(taskId)
  }

  start (): Promise<void> {
    this.#started = true
    this.#opts.schedules.on('schedules-change', this.#poke)
    this.#opts.board.on('tasks-change', this.#onTasks)
    this.#recordFinished(this.#opts.board.list().map(t => t.id))
    return this.tick()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#opts.schedules.off('schedules-change', this.#poke)
    this.#opts.board.off('tasks-change', this.#onTasks)
    await this.#turn
    this.destroy()
  }

  /** One pass over this desktop's schedules at `now()`: start what is due. Passes run one at a time. */
  tick (): Promise<void> {
    const run = this.#turn.then(async () => { await this.#pass() })
    this.#turn = run.catch((err: Error) => { this.#log(`scheduler: ${err.message}`) })
    return this.#turn
  }

  readonly #poke = (): void => {
    if (this.#pending || this.#stopped || !this.#started) return
    this.#pending = true
    queueMicrotask(() => { this.#pending = false; void this.tick() })
  }

  readonly #onTasks = (ids: string[]): void => {
    this.#recordFinished(ids)
    // An occurrence that finished may unblock the next slot of its schedule.
    if (ids.some(id => this.#opts.board.get(id)?.scheduleId !== undefined)) this.#poke()
  }

  async #pass (): Promise<void> {
    if (this.#stopped) return
    const { schedules, deviceId } = this.#opts
    const now = this.#now()
    for (const s of schedules.list()) {
      if (s.target !== deviceId || s.paused) continue
      try {
        await this.#runDue(s, now)
      } catch (err) {
        this.#log(`schedule ${s.id}: ${(err as Error).message}`)
      }
    }
    this.#arm()
  }

  async #runDue (s: Schedule, now: number): Promise<void> {
    const { board, schedules, deviceId } = this.#opts
    const due = dueSlots(s.spec, baseline(s), now)
    if (due.count === 0 || due.last === null) return
    const slot = due.last
    const missed = due.count - 1
    const previous = s.lastTaskId !== undefined ? board.get(s.lastTaskId) : undefined
    if (previous !== undefined && !isFinal(previous.status)) {
      this.#record(s, slot, undefined, { kind: 'skipped', text: `skipped ${due.count} slot${due.count === 1 ? '' : 's'}: the previous run ${previous.id} has not finished (${previous.status})` })
      return
    }
    const id = occurrenceId(s.id, slot)
    const more = due.count >= MAX_COUNTED_SLOTS ? ' or more' : ''
    const text = missed > 0 ? `missed ${missed}${more} slot${missed === 1 ? '' : 's'} while the desktop was off; ran once` : 'started'
    if (board.get(id) !== undefined) {
      // Created before a restart that came before it was recorded: the same occurrence, not a new one.
      this.#record(s, slot, id, { kind: 'started', taskId: id, text, ...(missed > 0 ? { missed } : {}) })
      return
    }
    this.#held.add(id)
    try {
      board.addTask({ id, text: s.text, target: deviceId, scheduleId: s.id, ...(s.scope !== undefined ? { scope: s.scope } : {}) })
    } catch (err) {
      this.#held.delete(id)
      this.#record(s, slot, undefined, { kind: 'error', text: `could not start: ${(err as Error).message}` })
      return
    }
    this.#record(s, slot, id, { kind: 'started', taskId: id, text, ...(missed > 0 ? { missed } : {}) })
    try {
      await this.#opts.flush()
    } finally {
      this.#held.delete(id)
    }
    this.#emit('released', id)
  }

  #record (s: Schedule, slot: number, taskId: string | undefined, entry: Omit<HistoryEntry, 'at' | 'slot'>): void {
    this.#opts.schedules.recordSlot(s.id, slot, taskId, entry)
    this.#emit('history', s, { ...entry, slot })
  }

  /** Finished occurrences get their outcome on the schedule's history, once. */
  #recordFinished (ids: string[]): void {
    const { board, schedules, deviceId } = this.#opts
    for (const id of ids) {
      const t = board.get(id)
      if (t?.scheduleId === undefined || t.target !== deviceId || !isFinal(t.status)) continue
      const s = schedules.get(t.scheduleId)
      if (s === undefined || s.target !== deviceId) continue
      const slot = taskIdTime(t.id) ?? t.createdAt
      // Already recorded, or older than the history kept.
      if (s.history.some(h => h.taskId === t.id && h.kind !== 'started')) continue
      if (s.history.length > 0 && slot < s.history[0].slot) continue
      const text = t.status === 'done' ? firstLine(t.result ?? 'done') : firstLine(t.error ?? t.status)
      const entry: Omit<HistoryEntry, 'at'> = { slot, kind: t.status as 'done' | 'failed' | 'cancelled', taskId: t.id, text }
      try {
        schedules.appendHistory(s.id, entry)
        this.#emit('history', s, entry)
      } catch (err) {
        this.#log(`schedule ${s.id}: ${(err as Error).message}`)
      }
    }
  }

  /** Wakes up at the next slot of any active schedule of this desktop (at most MAX_SLEEP_MS away). */
  #arm (): void {
    if (this.#opts.timers === false || this.#stopped) return
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    const now = this.#now()
    let next = now + MAX_SLEEP_MS
    for (const s of this.#opts.schedules.list()) {
      if (s.target !== this.#opts.deviceId || s.paused) continue
      const at = nextSlot(s.spec, Math.max(baseline(s), now))
      if (at !== null && at < next) next = at
    }
    this.#timer = setTimeout(() => { this.#timer = undefined; void this.tick() }, Math.max(0, next - now))
  }

  #emit<N extends keyof SchedulerEvents & string> (name: N, ...args: Parameters<SchedulerEvents[N]>): void {
    for (const f of [...(this._observers.get(name) ?? [])]) {
      try { f(...args) } catch (err) { this.#log(`scheduler: a ${name} listener failed: ${(err as Error).message}`) }
    }
  }
}

/** Slots after this one are due: the last handled, else since creation, and never the paused ones. */
export function baseline (s: Schedule): number {
  if (s.spec.kind === 'at') return s.lastSlot ?? Math.min(s.createdAt, s.spec.at - 1)
  return Math.max(s.lastSlot ?? 0, s.createdAt, s.resumedAt ?? 0)
}

/** When the schedule runs next as the phone shows it: null when it never will (paused, an `at` that ran). */
export function nextRunOf (s: Schedule): number | null {
  if (s.paused) return null
  // Overdue (the desktop is off): the first due slot, in the past; it runs when the desktop is on.
  return nextSlot(s.spec, baseline(s))
}

function firstLine (text: string): string {
  const line = text.split('\n').find(l => l.trim() !== '') ?? ''
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}
