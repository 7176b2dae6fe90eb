// Issue 19, schedules with real `dispatch` processes: a schedule runs on the desktop while no
// phone process runs at all and the phone later reads every run; a desktop off across three
// slots makes one catch-up run, recorded; a kill -9 during an occurrence still completes it
// once; pause, resume and delete from the phone take effect on the desktop after a sync.
// Assertions are on slots (the time each occurrence stands for) and counts, never on how fast.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, ok, dispatch, DispatchProcess } from './cli-process.ts'
import { startAgentDesktop, pairPhone, tasksOf } from './tasks-fixture.ts'

const root = await mkdtemp(join(tmpdir(), 'dsched-'))
const desk = join(root, 'desk')
const phone = join(root, 'phone')
const work = join(root, 'work')
const port = await freePort()
const running = new Set<DispatchProcess>()
const track = <T extends { proc: DispatchProcess }>(p: T): T => { running.add(p.proc); return p }
const stop = async (p: DispatchProcess): Promise<void> => { await p.stop(); running.delete(p) }
const kill9 = async (p: DispatchProcess): Promise<void> => { p.child.kill('SIGKILL'); await p.exited; running.delete(p) }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

test.before(async () => {
  const d = track(await startAgentDesktop(desk, 'studio', port, work))
  await pairPhone(desk, phone)
  await stop(d.proc)
})

// A failed test leaves no desktop holding the home for the next one.
test.after.each(async () => {
  for (const p of [...running]) await stop(p)
})

test.after(async () => {
  for (const p of running) p.child.kill('SIGKILL')
  await Promise.all(Array.from(running).map(async p => await p.exited))
  await rm(root, { recursive: true, force: true })
})

/** `dispatch add --json TEXT ...when` from the phone: the schedule's view. */
async function schedule (text: string, when: string[]): Promise<any> {
  const [r] = await ok(phone, ['add', '--json', text, ...when])
  assert.ok(r.reached, 'the desktop was reached when the schedule was added')
  return r.schedule
}

const scheduleLines = (d: DispatchProcess, id: string, kind?: string): any[] => d.lines.filter(l => l.event === 'schedule' && l.id === id && (kind === undefined || l.kind === kind))

async function waitCount (d: DispatchProcess, id: string, kind: string, n: number, timeoutMs = 60_000): Promise<any[]> {
  await d.waitFor(() => scheduleLines(d, id, kind).length >= n, timeoutMs)
  return scheduleLines(d, id, kind)
}

/** One exchange between the phone and the desktop: after it, each holds what the other wrote. */
async function syncPhone (): Promise<void> {
  await ok(phone, ['sync', '--json', '--timeout', '20'])
}

async function scheduleOf (home: string, id: string): Promise<any> {
  const [list] = await ok(home, ['schedules', '--json'])
  return list.find((s: any) => s.id === id)
}

test('a schedule every 2 s runs 3 times with no phone process running; the phone then reads 3 tasks with results; pause, resume, delete take effect after sync', async () => {
  const d = track(await startAgentDesktop(desk, 'studio', port, work))
  const s = await schedule('$ echo tick', ['--every', '2s'])
  assert.is(s.when, 'every 2s')
  assert.ok(s.nextRunAt > s.createdAt)
  // The phone's `add` has exited: no phone process runs while these happen.
  const done = await waitCount(d.proc, s.id, 'done', 3)
  const ids = done.slice(0, 3).map(l => l.taskId)
  await syncPhone()
  const tasks = (await tasksOf(phone)).filter(t => t.scheduleId === s.id)
  for (const id of ids) {
    const t = tasks.find(x => x.id === id)
    assert.ok(t !== undefined, `the phone has occurrence ${id}`)
    assert.is(t.status, 'done')
    assert.is(t.result.trim(), 'tick')
  }
  const seen = await scheduleOf(phone, s.id)
  assert.ok(seen.history.filter((h: any) => h.kind === 'done').length >= 3)
  assert.ok(seen.last !== null)

  // Pause: once the phone's change is on the desktop, no slot after that starts.
  await ok(phone, ['schedules', 'pause', s.id.slice(0, 20)])
  await syncPhone()
  const pausedAt = Date.now()
  await sleep(6_500)
  assert.equal(scheduleLines(d.proc, s.id, 'started').filter(l => l.slot > pausedAt), [], 'no run after the pause reached the desktop')
  assert.is((await scheduleOf(phone, s.id)).nextRunAt, null)

  // Resume: runs again, from slots after the resume (the paused ones are not caught up).
  const before = scheduleLines(d.proc, s.id, 'started').length
  const resumedAt = Date.now()
  await ok(phone, ['schedules', 'resume', s.id])
  await syncPhone()
  await waitCount(d.proc, s.id, 'started', before + 1)
  const resumed = scheduleLines(d.proc, s.id, 'started').slice(before)
  assert.ok(resumed.every(l => l.slot > resumedAt && l.missed === undefined), JSON.stringify(resumed))

  // Delete: gone from the list, and nothing starts after it reached the desktop.
  await ok(phone, ['schedules', 'delete', s.id])
  await syncPhone()
  const deletedAt = Date.now()
  await sleep(4_500)
  assert.equal(scheduleLines(d.proc, s.id, 'started').filter(l => l.slot > deletedAt), [])
  assert.is(await scheduleOf(phone, s.id), undefined)
  assert.is(await scheduleOf(desk, s.id), undefined)
  await stop(d.proc)
})

test('desktop off across three slots, then on: one catch-up run, recorded in the history', async () => {
  let d = track(await startAgentDesktop(desk, 'studio', port, work))
  const s = await schedule('$ echo catch-up', ['--every', '3s'])
  await waitCount(d.proc, s.id, 'done', 1)
  await stop(d.proc)
  const before = await scheduleOf(desk, s.id)
  // Three slots pass (3 s apart) while no desktop runs.
  await sleep(10_000)
  d = track(await startAgentDesktop(desk, 'studio', port, work))
  const [catchUp] = await waitCount(d.proc, s.id, 'started', 1)
  assert.ok(catchUp.missed >= 2, `missed ${catchUp.missed}`)
  assert.match(catchUp.text, /missed \d+ slots while the desktop was off; ran once/)
  await waitCount(d.proc, s.id, 'done', 1)
  await stop(d.proc)
  const after = await scheduleOf(desk, s.id)
  // Between the last run before the stop and the catch-up, exactly one occurrence: the catch-up.
  const between = after.taskIds.filter((id: string) => decodeTime(id) > before.history.at(-1).slot && decodeTime(id) <= catchUp.slot)
  assert.equal(between, [catchUp.taskId])
  const entry = after.history.find((h: any) => h.taskId === catchUp.taskId && h.kind === 'started')
  assert.is(entry.missed, catchUp.missed, 'the catch-up is in the shared history')
  await ok(phone, ['schedules', 'delete', s.id])
})

test('kill -9 during an occurrence, restart: that occurrence completes once', async () => {
  let d = track(await startAgentDesktop(desk, 'studio', port, work))
  const s = await schedule('$ sleep 2 && echo once', ['--at', new Date(Date.now() + 12_000).toISOString()])
  // Far enough ahead for a slow start of the phone's `add` on a loaded machine.
  const [started] = await waitCount(d.proc, s.id, 'started', 1)
  await d.proc.waitFor(l => l.event === 'task-start' && l.id === started.taskId)
  await kill9(d.proc)
  d = track(await startAgentDesktop(desk, 'studio', port, work))
  await waitCount(d.proc, s.id, 'done', 1)
  const after = await scheduleOf(desk, s.id)
  assert.equal(after.taskIds, [started.taskId], 'one task for the occurrence')
  assert.is(after.history.filter((h: any) => h.kind === 'started').length, 1)
  assert.is(after.history.filter((h: any) => h.kind === 'done').length, 1)
  const t = (await tasksOf(desk)).find(x => x.id === started.taskId)
  assert.is(t.status, 'done')
  // 2 when the claim reached the disk before the kill (interrupted, retried once), 1 when it had not
  // (the task was still queued on disk): the task rules' exactly-once, either way one task, done once.
  assert.ok(t.attempt === 1 || t.attempt === 2, `attempt ${t.attempt}`)
  assert.is(t.result.trim(), 'once')
  assert.is(after.nextRunAt, null, 'an --at schedule runs once')
  await stop(d.proc)
})

test('bad schedules are refused with one line', async () => {
  for (const args of [['--every', 'soon'], ['--cron', 'every day'], ['--at', '2020-01-01T00:00:00Z'], ['--cron', '* * * * *', '--tz', 'Mars/Olympus'], ['--every', '1h', '--wait']]) {
    const r = await dispatch(phone, ['add', '$ true', ...args])
    assert.ok(r.code !== 0 && r.code !== null, `${args.join(' ')} exits non-zero`)
    assert.is(r.stderr.trim().split('\n').length <= 2, true, r.stderr)
    assert.not.match(r.stderr, /\n\s+at /, 'no stack')
  }
  const r = await dispatch(phone, ['schedules', 'pause', 'NOPE'])
  assert.is(r.code, 1)
  assert.match(r.stderr, /no schedule NOPE/)
})

/** The slot time in an occurrence id (task ids start with the time, Crockford base32). */
function decodeTime (id: string): number {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
  let ms = 0
  for (const c of id.slice(0, 10)) ms = ms * 32 + alphabet.indexOf(c)
  return ms
}

test.run()
