// The schedule board: typed access to a space's `schedules` map. A schedule is written by the
// device that made it (the phone: what to run, where, when, paused, deleted) and run by its
// target desktop (peers/schedules/scheduler.ts), which alone writes the run fields: the last
// slot it handled, the occurrence task of that slot, and the history.
//
// Local writes are checked for the writer (creator fields by the creator, run fields by the
// target) and throw WrongScheduleWriterError otherwise. Remote values are read through parsers: an
// entry that is not a well-formed schedule is left out of every list and reported once, and a
// malformed history entry is skipped. Unlike the task board there is no accepted view: nothing
// here moves a task forward, and the one field whose going back would matter (`lastSlot`,
// which decides what is due) is written only by the desktop that reads it.

import * as Y from 'yjs'
import { ObservableV2 } from 'lib0/observable'
import { newTaskId } from '../tasks/task-id.ts'
import { InvalidTaskFieldError } from '../tasks/errors.ts'
import { MAX_ID_CHARS, MAX_SCOPE_CHARS, MAX_TEXT_CHARS } from '../tasks/task-rules.ts'
import { readSpec } from './spec.ts'
import type { ScheduleSpec } from './spec.ts'

/** What a history entry records: an occurrence started (maybe as a catch-up), how it ended, or a slot that did not run. */
export type HistoryKind = 'started' | 'done' | 'failed' | 'cancelled' | 'skipped' | 'error'
export const HISTORY_KINDS: readonly HistoryKind[] = ['started', 'done', 'failed', 'cancelled', 'skipped', 'error']
/** Kinds that a person should hear about (notified like a failed task). */
export const ALERT_KINDS: readonly HistoryKind[] = ['failed', 'skipped', 'error']

export interface HistoryEntry {
  /** When it was recorded (the desktop's clock). */
  at: number
  /** The slot it is about. */
  slot: number
  kind: HistoryKind
  /** The occurrence task, when there is one. */
  taskId?: string
  /** Slots that were due but did not run because the desktop was off or asleep (a catch-up run). */
  missed?: number
  text: string
}

export interface Schedule {
  id: string
  text: string
  /** Peer id of the desktop that runs it. */
  target: string
  scope?: string
  spec: ScheduleSpec
  createdAt: number
  createdBy: string
  paused: boolean
  /** Last time it was resumed: slots before it were paused, not missed. */
  resumedAt?: number
  /** The last slot the desktop handled (ran, or skipped). */
  lastSlot?: number
  /** The occurrence task of `lastSlot`, when it ran. */
  lastTaskId?: string
  history: HistoryEntry[]
}

export interface AddScheduleInput {
  text: string
  target: string
  scope?: string
  spec: ScheduleSpec
}

export type ScheduleBoardEvents = {
  /** Schedules added, changed or removed, after a transaction. */
  'schedules-change': (ids: string[], local: boolean) => void
}

/** A change this device may not make: only the creator changes a schedule, only its target records runs. */
export class WrongScheduleWriterError extends Error {
  name = 'WrongScheduleWriterError'
}

export class ScheduleNotFoundError extends Error {
  name = 'ScheduleNotFoundError'
  constructor (id: string) {
    super(`no schedule ${id} (see dispatch schedules)`)
  }
}

/** History kept per schedule: the oldest entries go first. */
export const MAX_HISTORY = 100
const MAX_HISTORY_TEXT = 500

export class ScheduleBoard extends ObservableV2<ScheduleBoardEvents> {
  readonly doc: Y.Doc
  readonly deviceId: string
  readonly map: Y.Map<unknown>
  readonly origin: object = { schedules: true }
  #now: () => number
  #log: (line: string) => void
  #reported = new Set<string>()
  #observer: (events: Array<Y.YEvent<any>>, tr: Y.Transaction) => void

  constructor (opts: { doc: Y.Doc, deviceId: string, now?: () => number, log?: (line: string) => void }) {
    super()
    this.doc = opts.doc
    this.deviceId = opts.deviceId
    this.map = opts.doc.getMap('schedules')
    this.#now = opts.now ?? Date.now
    this.#log = opts.log ?? (line => console.warn(line))
    this.#observer = (events, tr) => {
      const ids = new Set<string>()
      for (const ev of events) {
        if (ev.target === this.map) for (const key of ev.changes.keys.keys()) ids.add(key)
        else if (typeof ev.path[0] === 'string') ids.add(ev.path[0])
      }
      if (ids.size === 0) return
      // A throwing listener must not break Yjs's transaction cleanup or the other listeners.
      for (const f of [...(this._observers.get('schedules-change') ?? [])]) {
        try { f([...ids], tr.origin === this.origin) } catch (err) { this.#log(`schedule board: a listener failed: ${(err as Error).message}`) }
      }
    }
    this.map.observeDeep(this.#observer)
  }

  override destroy (): void {
    this.map.unobserveDeep(this.#observer)
    super.destroy()
  }

  get (id: string): Schedule | undefined {
    const raw = this.map.get(id)
    if (raw === undefined) return undefined
    return this.#parse(id, raw)
  }

  /** Every well-formed schedule, oldest first. */
  list (): Schedule[] {
    return [...this.map.keys()].sort().map(id => this.get(id)).filter((s): s is Schedule => s !== undefined)
  }

  /** A schedule by id or unambiguous id prefix. */
  find (query: string): Schedule {
    const q = query.trim().toUpperCase()
    const all = this.list().filter(s => q !== '' && s.id.toUpperCase().startsWith(q))
    const exact = all.find(s => s.id.toUpperCase() === q)
    if (exact !== undefined) return exact
    if (all.length === 1) return all[0]
    if (all.length === 0) throw new ScheduleNotFoundError(query)
    throw new AmbiguousScheduleError(`"${query}" matches ${all.length} schedules; give more of the id`)
  }

  // ---- creator writes ---------------------------------------------------------------

  add (input: AddScheduleInput): Schedule {
    if (typeof input.text !== 'string' || input.text.trim() === '' || input.text.length > MAX_TEXT_CHARS) throw new InvalidTaskFieldError('text', `must be 1 to ${MAX_TEXT_CHARS} characters`)
    if (typeof input.target !== 'string' || input.target.length > MAX_ID_CHARS) throw new InvalidTaskFieldError('target', 'not a peer id')
    if (input.scope !== undefined && (input.scope.length > MAX_SCOPE_CHARS || !input.scope.startsWith('/') || input.scope.includes('\0'))) throw new InvalidTaskFieldError('scope', 'must be an absolute path without NUL bytes')
    const now = this.#now()
    const id = newTaskId(now)
    const m = new Y.Map<unknown>()
    m.set('id', id)
    m.set('text', input.text)
    m.set('target', input.target)
    if (input.scope !== undefined) m.set('scope', input.scope)
    m.set('spec', { ...input.spec })
    m.set('createdAt', now)
    m.set('createdBy', this.deviceId)
    m.set('paused', false)
    this.doc.transact(() => this.map.set(id, m), this.origin)
    return this.get(id)!
  }

  /** Pause or resume; resuming starts afresh from now (the paused slots are not caught up). */
  setPaused (id: string, paused: boolean): Schedule {
    const s = this.#creatorSchedule(id, 'paused')
    if (s.paused === paused) return s
    const raw = this.map.get(id) as Y.Map<unknown>
    this.doc.transact(() => {
      raw.set('paused', paused)
      if (!paused) raw.set('resumedAt', this.#now())
    }, this.origin)
    return this.get(id)!
  }

  /** Delete: its past occurrences stay ordinary tasks; no new one starts once the delete reaches the desktop. */
  remove (id: string): void {
    this.#creatorSchedule(id, '(schedule)')
    this.doc.transact(() => this.map.delete(id), this.origin)
  }

  // ---- target writes (the desktop that runs it) ---------------------------------------

  /** The slot is handled: it ran as `taskId` (or did not run), with `entry` in the history, in one transaction. */
  recordSlot (id: string, slot: number, taskId: string | undefined, entry: Omit<HistoryEntry, 'at' | 'slot'>): void {
    const raw = this.#targetRaw(id)
    this.doc.transact(() => {
      raw.set('lastSlot', slot)
      if (taskId !== undefined) raw.set('lastTaskId', taskId)
      this.#append(raw, { ...entry, slot })
    }, this.origin)
  }

  appendHistory (id: string, entry: Omit<HistoryEntry, 'at'>): void {
    const raw = this.#targetRaw(id)
    this.doc.transact(() => this.#append(raw, entry), this.origin)
  }

  // ---- internals --------------------------------------------------------------------

  #append (raw: Y.Map<unknown>, entry: Omit<HistoryEntry, 'at'>): void {
    let arr = raw.get('history')
    if (!(arr instanceof Y.Array)) { arr = new Y.Array(); raw.set('history', arr) }
    const history = arr as Y.Array<unknown>
    const full: HistoryEntry = { ...entry, at: this.#now(), text: entry.text.slice(0, MAX_HISTORY_TEXT) }
    history.push([full])
    if (history.length > MAX_HISTORY) history.delete(0, history.length - MAX_HISTORY)
  }

  #creatorSchedule (id: string, field: string): Schedule {
    const s = this.get(id)
    if (s === undefined) throw new ScheduleNotFoundError(id)
    if (s.createdBy !== this.deviceId) throw new WrongScheduleWriterError(`schedule ${id}: only the device that added it (${s.createdBy.slice(-8)}) may ${field === '(schedule)' ? 'delete' : 'pause or resume'} it`)
    return s
  }

  #targetRaw (id: string): Y.Map<unknown> {
    const s = this.get(id)
    if (s === undefined) throw new ScheduleNotFoundError(id)
    if (s.target !== this.deviceId) throw new WrongScheduleWriterError(`schedule ${id}: only its target desktop (${s.target.slice(-8)}) records its runs`)
    return this.map.get(id) as Y.Map<unknown>
  }

  #parse (id: string, raw: unknown): Schedule | undefined {
    if (!(raw instanceof Y.Map)) { this.#malformed(id, 'not a map'); return undefined }
    const get = (k: string): unknown => raw.get(k)
    const str = (k: string, max: number): string | undefined => { const v = get(k); return typeof v === 'string' && v.length <= max ? v : undefined }
    const time = (k: string): number | undefined => { const v = get(k); return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined }
    const text = str('text', MAX_TEXT_CHARS)
    const target = str('target', MAX_ID_CHARS)
    const createdBy = str('createdBy', MAX_ID_CHARS)
    const createdAt = time('createdAt')
    const spec = readSpec(get('spec'))
    if (get('id') !== id || text === undefined || target === undefined || createdBy === undefined || createdAt === undefined || spec === undefined) {
      this.#malformed(id, 'a field is missing or of the wrong kind')
      return undefined
    }
    const s: Schedule = { id, text, target, spec, createdAt, createdBy, paused: get('paused') === true, history: [] }
    const scope = str('scope', MAX_SCOPE_CHARS)
    if (scope !== undefined) s.scope = scope
    const resumedAt = time('resumedAt')
    if (resumedAt !== undefined) s.resumedAt = resumedAt
    const lastSlot = time('lastSlot')
    if (lastSlot !== undefined) s.lastSlot = lastSlot
    const lastTaskId = str('lastTaskId', MAX_ID_CHARS)
    if (lastTaskId !== undefined) s.lastTaskId = lastTaskId
    const history = get('history')
    if (history instanceof Y.Array) for (const e of history.toArray()) { const h = readEntry(e); if (h !== undefined) s.history.push(h) }
    return s
  }

  #malformed (id: string, reason: string): void {
    if (this.#reported.has(id)) return
    this.#reported.add(id)
    this.#log(`schedule board: ignored schedule ${id.slice(0, 40)}: ${reason}`)
  }
}

export class AmbiguousScheduleError extends Error {
  name = 'AmbiguousScheduleError'
}

function readEntry (v: unknown): HistoryEntry | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const { at, slot, kind, taskId, missed, text } = v as Record<string, unknown>
  if (typeof at !== 'number' || typeof slot !== 'number' || typeof text !== 'string') return undefined
  if (!(HISTORY_KINDS as readonly unknown[]).includes(kind)) return undefined
  const e: HistoryEntry = { at, slot, kind: kind as HistoryKind, text: text.slice(0, MAX_HISTORY_TEXT) }
  if (typeof taskId === 'string' && taskId.length <= MAX_ID_CHARS) e.taskId = taskId
  if (typeof missed === 'number' && Number.isInteger(missed) && missed > 0) e.missed = missed
  return e
}
