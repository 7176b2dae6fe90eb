// Schedules on two replicas synced by hand, with the clock injected: occurrences as tasks with
// derived ids, held until on disk, catch-up after missed slots, no overlap, pause / resume /
// delete, a restart that finds its occurrence, failures recorded; and the spec parser.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { TaskBoard } from '../tasks/task-board.ts'
import { isTaskId, taskIdTime } from '../tasks/task-id.ts'
import { ScheduleBoard } from './schedule-board.ts'
import type { HistoryEntry, Schedule } from './schedule-board.ts'
import { Scheduler, nextRunOf } from './scheduler.ts'
import { InvalidScheduleError, MAX_COUNTED_SLOTS, dueSlots, nextSlot, parseScheduleInput } from './spec.ts'
import { occurrenceId } from './occurrence-id.ts'

const PHONE = 'phone-1'
const DESK = 'desk-A'
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0)

function addDevice (doc: Y.Doc, id: string, role: 'phone' | 'desktop'): void {
  const m = new Y.Map<unknown>()
  m.set('name', id)
  m.set('role', role)
  m.set('pairedAt', 1)
  doc.getMap('devices').set(id, m)
}

const sync = (from: Y.Doc, to: Y.Doc): void => { Y.applyUpdate(to, Y.encodeStateAsUpdate(from, Y.encodeStateVector(to))) }

function setup () {
  const clock = { now: T0 }
  const now = (): number => clock.now
  const phoneDoc = new Y.Doc()
  addDevice(phoneDoc, PHONE, 'phone')
  addDevice(phoneDoc, DESK, 'desktop')
  const deskDoc = new Y.Doc()
  sync(phoneDoc, deskDoc)
  const logs: string[] = []
  const log = (l: string): void => { logs.push(l) }
  const phone = new ScheduleBoard({ doc: phoneDoc, deviceId: PHONE, now, log })
  const desk = new ScheduleBoard({ doc: deskDoc, deviceId: DESK, now, log })
  const board = new TaskBoard({ doc: deskDoc, deviceId: DESK, now, log })
  let flushes = 0
  const heldDuringFlush: boolean[] = []
  let scheduler: Scheduler
  const flush = async (): Promise<void> => {
    flushes++
    // The occurrence written in this pass is still held while it is not on disk.
    heldDuringFlush.push(board.list().some(t => scheduler.isHeld(t.id)))
  }
  scheduler = new Scheduler({ schedules: desk, board, deviceId: DESK, flush, now, timers: false, log })
  const events: Array<Omit<HistoryEntry, 'at'>> = []
  scheduler.on('history', (_s: Schedule, e) => { events.push(e) })
  const toDesk = (): void => sync(phoneDoc, deskDoc)
  const toPhone = (): void => sync(deskDoc, phoneDoc)
  /** Plays the agent: run the occurrence to `status`. */
  const finish = (id: string, status: 'done' | 'failed' = 'done'): void => {
    board.claimTask(id)
    board.startTask(id)
    board.finishTask(id, status, status === 'done' ? { result: `ran ${id}` } : { error: 'exit 1' })
  }
  const occurrences = (scheduleId: string) => board.list().filter(t => t.scheduleId === scheduleId)
  return { clock, phoneDoc, deskDoc, phone, desk, board, scheduler, toDesk, toPhone, finish, occurrences, events, logs, stats: { get flushes () { return flushes } }, heldDuringFlush }
}

test('every 10s: each slot becomes one task with a derived id, held until flushed; outcomes go to the history', async () => {
  const f = setup()
  const s = f.phone.add({ text: '$ echo hi', target: DESK, spec: parseScheduleInput({ every: '10s' }, T0) })
  f.toDesk()
  await f.scheduler.start()
  assert.is(f.occurrences(s.id).length, 0, 'nothing is due at creation')
  f.clock.now = T0 + 9_999
  await f.scheduler.tick()
  assert.is(f.occurrences(s.id).length, 0)
  f.clock.now = T0 + 10_000
  await f.scheduler.tick()
  const [first] = f.occurrences(s.id)
  assert.ok(first !== undefined)
  assert.is(first.id, occurrenceId(s.id, T0 + 10_000))
  assert.ok(isTaskId(first.id))
  assert.is(taskIdTime(first.id), T0 + 10_000, 'the id sorts by its slot')
  assert.is(first.text, '$ echo hi')
  assert.is(first.createdBy, DESK)
  assert.equal(f.heldDuringFlush, [true], 'the agent is kept off the occurrence until it is on disk')
  assert.not.ok(f.scheduler.isHeld(first.id), 'released after the flush')
  await f.scheduler.tick()
  assert.is(f.occurrences(s.id).length, 1, 'a second pass in the same slot adds nothing')
  f.finish(first.id)
  const after = f.desk.get(s.id)!
  assert.equal(after.history.map(h => h.kind), ['started', 'done'])
  assert.is(after.history[1].taskId, first.id)
  assert.is(after.history[1].text, `ran ${first.id}`)
  f.clock.now = T0 + 20_000
  await f.scheduler.tick()
  assert.is(f.occurrences(s.id).length, 2)
  f.toPhone()
  const seen = f.phone.get(s.id)!
  assert.is(seen.lastSlot, T0 + 20_000)
  assert.is(nextRunOf(seen), T0 + 30_000)
  await f.scheduler.stop()
})

test('desktop off across three slots: one catch-up run, the missed slots recorded', async () => {
  const f = setup()
  const s = f.phone.add({ text: '$ date', target: DESK, spec: parseScheduleInput({ every: '10s' }, T0) })
  f.toDesk()
  f.clock.now = T0 + 10_000
  await f.scheduler.start()
  f.finish(f.occurrences(s.id)[0].id)
  // Off from 10 s to 45 s: the slots at 20, 30 and 40 s pass unseen.
  f.clock.now = T0 + 45_000
  await f.scheduler.tick()
  const runs = f.occurrences(s.id)
  assert.is(runs.length, 2, 'one run for three missed slots')
  assert.is(taskIdTime(runs[1].id), T0 + 40_000, 'the latest due slot runs')
  const started = f.desk.get(s.id)!.history.filter(h => h.kind === 'started')
  assert.is(started.at(-1)!.missed, 2)
  assert.match(started.at(-1)!.text, /missed 2 slots while the desktop was off; ran once/)
})

test('a slot while the previous run is unfinished is skipped and recorded, not overlapped', async () => {
  const f = setup()
  const s = f.phone.add({ text: '$ sleep 100', target: DESK, spec: parseScheduleInput({ every: '10s' }, T0) })
  f.toDesk()
  f.clock.now = T0 + 10_000
  await f.scheduler.start()
  f.clock.now = T0 + 20_000
  await f.scheduler.tick()
  assert.is(f.occurrences(s.id).length, 1)
  const last = f.desk.get(s.id)!.history.at(-1)!
  assert.is(last.kind, 'skipped')
  assert.match(last.text, /has not finished/)
  assert.ok(f.events.some(e => e.kind === 'skipped'), 'reported, not silent')
})

test('pause, resume and delete from the phone take effect after sync; paused slots are not caught up', async () => {
  const f = setup()
  const s = f.phone.add({ text: '$ true', target: DESK, spec: parseScheduleInput({ every: '10s' }, T0) })
  f.toDesk()
  await f.scheduler.start()
  f.phone.setPaused(s.id, true)
  f.toDesk()
  f.clock.now = T0 + 35_000
  await f.scheduler.tick()
  assert.is(f.occurrences(s.id).length, 0, 'paused: nothing runs')
  assert.is(nextRunOf(f.phone.get(s.id)!), null)
  f.phone.setPaused(s.id, false)
  f.toDesk()
  await f.scheduler.tick()
  assert.is(f.occurrences(s.id).length, 0, 'resumed: the paused slots are not a catch-up')
  f.clock.now = T0 + 40_000
  await f.scheduler.tick()
  assert.is(f.occurrences(s.id).length, 1)
  f.finish(f.occurrences(s.id)[0].id)
  f.phone.remove(s.id)
  f.toDesk()
  f.clock.now = T0 + 100_000
  await f.scheduler.tick()
  assert.is(f.desk.get(s.id), undefined)
  assert.is(f.occurrences(s.id).length, 1, 'deleted: no new run; the past one stays a task')
})

test('only the creator changes a schedule and only its target records runs', () => {
  const f = setup()
  const s = f.phone.add({ text: '$ true', target: DESK, spec: parseScheduleInput({ every: '1m' }, T0) })
  f.toDesk()
  assert.throws(() => f.desk.setPaused(s.id, true), (e: Error) => e.name === 'WrongScheduleWriterError')
  assert.throws(() => f.desk.remove(s.id), (e: Error) => e.name === 'WrongScheduleWriterError')
  assert.throws(() => f.phone.recordSlot(s.id, T0, undefined, { kind: 'skipped', text: 'x' }), (e: Error) => e.name === 'WrongScheduleWriterError')
  assert.throws(() => f.phone.find('ZZZ'), (e: Error) => e.name === 'ScheduleNotFoundError')
})

test('a restart after the occurrence was written but not recorded finds the same task, not a second one', async () => {
  const f = setup()
  const s = f.phone.add({ text: '$ true', target: DESK, spec: parseScheduleInput({ every: '10s' }, T0) })
  f.toDesk()
  // The previous process created the occurrence and died before recording the slot.
  const id = occurrenceId(s.id, T0 + 10_000)
  f.board.addTask({ id, text: '$ true', target: DESK, scheduleId: s.id })
  f.clock.now = T0 + 12_000
  await f.scheduler.start()
  assert.equal(f.occurrences(s.id).map(t => t.id), [id])
  assert.is(f.desk.get(s.id)!.lastTaskId, id)
  assert.throws(() => f.board.addTask({ id, text: '$ true', target: DESK }), (e: Error) => e.name === 'InvalidTaskFieldError')
})

test('an occurrence that cannot start is recorded as an error and notified', async () => {
  const f = setup()
  const s = f.phone.add({ text: '$ true', target: DESK, spec: parseScheduleInput({ every: '10s' }, T0) })
  // A scope the task board refuses (a buggy peer wrote it raw).
  ;(f.phoneDoc.getMap('schedules').get(s.id) as Y.Map<unknown>).set('scope', 'relative/dir')
  f.toDesk()
  f.clock.now = T0 + 10_000
  await f.scheduler.start()
  assert.is(f.occurrences(s.id).length, 0)
  const last = f.desk.get(s.id)!.history.at(-1)!
  assert.is(last.kind, 'error')
  assert.match(last.text, /could not start: .*scope/)
  assert.ok(f.events.some(e => e.kind === 'error'))
  f.clock.now = T0 + 11_000
  await f.scheduler.tick()
  assert.is(f.desk.get(s.id)!.history.length, 1, 'the slot is handled: no error loop')
})

test('a failed run is recorded as failed', async () => {
  const f = setup()
  const s = f.phone.add({ text: '$ false', target: DESK, spec: parseScheduleInput({ every: '10s' }, T0) })
  f.toDesk()
  f.clock.now = T0 + 10_000
  await f.scheduler.start()
  f.finish(f.occurrences(s.id)[0].id, 'failed')
  const last = f.desk.get(s.id)!.history.at(-1)!
  assert.is(last.kind, 'failed')
  assert.is(last.text, 'exit 1')
})

test('at: runs once, also when the desktop wakes after the time', async () => {
  const f = setup()
  const s = f.phone.add({ text: '$ true', target: DESK, spec: parseScheduleInput({ at: new Date(T0 + 60_000).toISOString() }, T0) })
  f.toDesk()
  f.clock.now = T0 + 3_600_000
  await f.scheduler.start()
  assert.is(f.occurrences(s.id).length, 1)
  f.clock.now = T0 + 7_200_000
  await f.scheduler.tick()
  assert.is(f.occurrences(s.id).length, 1)
  f.toPhone()
  assert.is(nextRunOf(f.phone.get(s.id)!), null)
})

test('cron in a time zone, and the spec parser', () => {
  const spec = parseScheduleInput({ cron: '0 9 * * 1-5', tz: 'America/New_York' }, T0)
  assert.is(nextSlot(spec, T0), Date.UTC(2026, 11, 1, 14, 0, 0), '09:00 in New York is 14:00 UTC in December')
  const week = dueSlots(spec, T0, T0 + 7 * 86_400_000)
  assert.is(week.count, 5, 'weekdays only')
  const secs = parseScheduleInput({ cron: '*/5 * * * * *' }, T0)
  assert.equal(dueSlots(secs, T0, T0 + 60_000), { count: 12, last: T0 + 60_000 })
  assert.equal(dueSlots(parseScheduleInput({ every: '5m' }, T0), T0, T0 + 3_600_000), { count: 12, last: T0 + 3_600_000 })
  const hm = parseScheduleInput({ at: '07:30' }, T0)
  assert.ok(hm.kind === 'at' && hm.at > T0 && hm.at <= T0 + 86_400_000)
  for (const bad of [{}, { every: '0s' }, { every: 'soon' }, { at: 'tomorrow' }, { at: '2020-01-01T00:00:00Z' }, { cron: 'every day' }, { cron: '* * * * *', tz: 'Mars/Olympus' }, { every: '1h', cron: '* * * * *' }, { every: '1h', tz: 'UTC' }]) {
    assert.throws(() => parseScheduleInput(bad, T0), (e: Error) => e instanceof InvalidScheduleError, JSON.stringify(bad))
  }
})

test('a desktop off for long counts at most MAX_COUNTED_SLOTS and still runs the latest slot', () => {
  const everySecond = parseScheduleInput({ cron: '* * * * * *' }, T0)
  const off = dueSlots(everySecond, T0, T0 + 2 * 86_400_000 + 500)
  assert.is(off.count, MAX_COUNTED_SLOTS)
  assert.is(off.last, T0 + 2 * 86_400_000)
  const every = dueSlots(parseScheduleInput({ every: '1s' }, T0), T0, T0 + 365 * 86_400_000)
  assert.equal(every, { count: MAX_COUNTED_SLOTS, last: T0 + 365 * 86_400_000 })
})

test('malformed schedules from a peer are left out and reported once', () => {
  const f = setup()
  const raw = new Y.Map<unknown>()
  raw.set('id', 'X')
  raw.set('spec', { kind: 'every', everyMs: 1 })
  f.deskDoc.getMap('schedules').set('X', raw)
  assert.equal(f.desk.list(), [])
  f.desk.list()
  assert.is(f.logs.filter(l => l.includes('ignored schedule X')).length, 1)
})

test.run()
