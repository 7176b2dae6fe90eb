// When a schedule fires: the three kinds of spec (`at` once, `every` a fixed interval, `cron`
// an expression in a time zone, evaluated by croner), how they are read from what a person
// types, and the slots (the instants a schedule is due) between two times.

import { Cron } from 'croner'

export type ScheduleSpec =
  | { kind: 'at', at: number }
  /** Slots are `anchor + k * everyMs` for k >= 1. */
  | { kind: 'every', everyMs: number, anchor: number }
  | { kind: 'cron', cron: string, tz?: string }

/** A time, duration, expression or zone that cannot be a schedule. */
export class InvalidScheduleError extends Error {
  name = 'InvalidScheduleError'
}

/** `every` below this would make a busy loop of tasks (and of the shared document). */
export const MIN_EVERY_MS = 1_000
/**
 * Slots counted at most when a desktop wakes up (a cron every second, off for a year): counting a
 * cron's slots walks them one by one, 10,000 take croner about 0.2 s.
 */
export const MAX_COUNTED_SLOTS = 10_000

export interface ScheduleInput {
  /** ISO time (`2026-12-24T09:00`, with or without a zone) or `HH:MM` (the next one, local time). */
  at?: string
  /** `10s`, `5m`, `1h`, `2d`, `1w` (a bare number is seconds). */
  every?: string
  /** Five or six fields (seconds first when six); croner's syntax. */
  cron?: string
  /** IANA zone the cron expression is read in (default: the zone of the device running it). */
  tz?: string
}

/** The spec of what a person typed; exactly one of at / every / cron. `now` anchors `every` and `HH:MM`. */
export function parseScheduleInput (input: ScheduleInput, now: number): ScheduleSpec {
  const given = (['at', 'every', 'cron'] as const).filter(k => input[k] !== undefined)
  if (given.length !== 1) throw new InvalidScheduleError(given.length === 0 ? 'a schedule needs one of at, every or cron' : `give only one of ${given.join(', ')}`)
  if (input.tz !== undefined && input.cron === undefined) throw new InvalidScheduleError('a time zone goes with a cron expression (--cron EXPR --tz ZONE)')
  if (input.at !== undefined) return { kind: 'at', at: parseAt(input.at, now) }
  if (input.every !== undefined) {
    const everyMs = parseDuration(input.every)
    if (!Number.isFinite(everyMs) || everyMs < MIN_EVERY_MS) throw new InvalidScheduleError(`every takes a duration of at least 1s such as 10s, 5m, 1h or 2d, not "${input.every}"`)
    return { kind: 'every', everyMs, anchor: now }
  }
  const spec: ScheduleSpec = { kind: 'cron', cron: input.cron!.trim(), ...(input.tz !== undefined ? { tz: input.tz } : {}) }
  checkSpec(spec)
  return spec
}

/** Throws InvalidScheduleError when `spec` cannot fire (a bad expression or zone, a stored spec that is malformed). */
export function checkSpec (spec: ScheduleSpec): void {
  if (spec.kind === 'cron') {
    try {
      cronOf(spec).nextRun(new Date(0))
    } catch (err) {
      throw new InvalidScheduleError(`cron "${spec.cron}"${spec.tz !== undefined ? ` in ${spec.tz}` : ''}: ${(err as Error).message}`)
    }
  }
}

/** Reads a stored spec (a value from the shared document); undefined when it is not one. */
export function readSpec (v: unknown): ScheduleSpec | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  const time = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0
  if (o.kind === 'at' && time(o.at)) return { kind: 'at', at: o.at }
  if (o.kind === 'every' && time(o.everyMs) && o.everyMs >= MIN_EVERY_MS && time(o.anchor)) return { kind: 'every', everyMs: o.everyMs, anchor: o.anchor }
  if (o.kind === 'cron' && typeof o.cron === 'string' && o.cron.length <= 200 && (o.tz === undefined || (typeof o.tz === 'string' && o.tz.length <= 100))) {
    const spec: ScheduleSpec = { kind: 'cron', cron: o.cron, ...(typeof o.tz === 'string' ? { tz: o.tz } : {}) }
    try { checkSpec(spec) } catch { return undefined }
    return spec
  }
  return undefined
}

/** The first slot strictly after `after`, or null when there is none (an `at` that passed). */
export function nextSlot (spec: ScheduleSpec, after: number): number | null {
  switch (spec.kind) {
    case 'at': return spec.at > after ? spec.at : null
    case 'every': {
      const k = Math.max(1, Math.floor((after - spec.anchor) / spec.everyMs) + 1)
      return spec.anchor + k * spec.everyMs
    }
    case 'cron': return cronOf(spec).nextRun(new Date(after))?.getTime() ?? null
  }
}

/** The slots in (after, until]: how many (at most MAX_COUNTED_SLOTS) and the last one. */
export function dueSlots (spec: ScheduleSpec, after: number, until: number): { count: number, last: number | null } {
  if (until <= after) return { count: 0, last: null }
  switch (spec.kind) {
    case 'at': return spec.at > after && spec.at <= until ? { count: 1, last: spec.at } : { count: 0, last: null }
    case 'every': {
      const first = nextSlot(spec, after)!
      if (first > until) return { count: 0, last: null }
      const count = Math.floor((until - first) / spec.everyMs) + 1
      return { count: Math.min(count, MAX_COUNTED_SLOTS), last: first + (count - 1) * spec.everyMs }
    }
    case 'cron': {
      const cron = cronOf(spec)
      let count = 0
      let last: number | null = null
      let at = cron.nextRun(new Date(after))
      while (at !== null && at.getTime() <= until && count < MAX_COUNTED_SLOTS) {
        count++
        last = at.getTime()
        at = cron.nextRun(at)
      }
      // Counting stopped early: the last slot is still the latest one before `until`.
      if (count === MAX_COUNTED_SLOTS) last = latestSlotBefore(cron, until) ?? last
      return { count, last }
    }
  }
}

/** One line for lists: `at 2026-12-24 09:00`, `every 5m`, `cron "0 9 * * 1-5" (Europe/Paris)`. */
export function describeSpec (spec: ScheduleSpec): string {
  switch (spec.kind) {
    case 'at': return `at ${new Date(spec.at).toISOString()}`
    case 'every': return `every ${formatEvery(spec.everyMs)}`
    case 'cron': return `cron "${spec.cron}"${spec.tz !== undefined ? ` (${spec.tz})` : ''}`
  }
}

/** `30d`, `12h`, `15m`, `10s`, `500ms` (a bare number is seconds) in milliseconds; NaN otherwise. */
export function parseDuration (text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim())
  if (m === null) return NaN
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[(m[2] ?? 's') as 'ms']
  return Math.round(Number(m[1]) * unit)
}

function formatEvery (ms: number): string {
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

function parseAt (text: string, now: number): number {
  const hm = /^(\d{1,2}):(\d{2})$/.exec(text.trim())
  if (hm !== null) {
    const [h, m] = [Number(hm[1]), Number(hm[2])]
    if (h > 23 || m > 59) throw new InvalidScheduleError(`at takes HH:MM (00:00 to 23:59) or an ISO time, not "${text}"`)
    const d = new Date(now)
    d.setHours(h, m, 0, 0)
    // HH:MM means the next such time: tomorrow when it has passed today.
    if (d.getTime() <= now) d.setDate(d.getDate() + 1)
    return d.getTime()
  }
  // Only ISO-like text: Date.parse also reads forms like "1" that nobody means as a time.
  const at = /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : NaN
  if (!Number.isFinite(at)) throw new InvalidScheduleError(`at takes an ISO time (2026-12-24T09:00) or HH:MM, not "${text}"`)
  if (at <= now) throw new InvalidScheduleError(`${text} has already passed`)
  return at
}

function cronOf (spec: { cron: string, tz?: string }): Cron {
  // No callback: croner only evaluates the expression; the Scheduler owns the timers.
  return new Cron(spec.cron, { paused: true, ...(spec.tz !== undefined ? { timezone: spec.tz } : {}) })
}

function latestSlotBefore (cron: Cron, until: number): number | null {
  const prev = cron.previousRuns(1, new Date(until + 1))
  return prev[0]?.getTime() ?? null
}
