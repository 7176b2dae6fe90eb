// Issue 19, schedules with real `dispatch` processes: a schedule runs on the desktop while no
// phone process runs at all and the phone later reads every run; pause, resume and delete from
// the phone take effect on the desktop after a sync; bad schedules are refused in one line.
// Assertions are on slots (the time each occurrence stands for) and counts, never on how fast.
// The restart scenarios are in schedules-restart.test.ts.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { dispatch, ok } from './cli-process.ts'
import { tasksOf } from './tasks-fixture.ts'
import { scheduleWorld, startDesk, stop, stopAll, removeWorld, schedule, scheduleLines, waitCount, syncPhone, scheduleOf, sleep } from './schedules-fixture.ts'

const w = await scheduleWorld('dsched-')

// A failed test leaves no desktop holding the home for the next one.
test.after.each(async () => { await stopAll(w) })
test.after(async () => { await removeWorld(w) })

test('a schedule every 2 s runs 3 times with no phone process running; the phone then reads 3 tasks with results; pause, resume, delete take effect on the desktop after sync', async () => {
  const d = await startDesk(w)
  const s = await schedule(w, '$ echo tick', ['--every', '2s'])
  assert.is(s.when, 'every 2s')
  assert.ok(s.nextRunAt > s.createdAt)
  // The phone's `add` has exited: no phone process runs while these happen.
  const done = await waitCount(d, s.id, 'done', 3)
  const ids = done.slice(0, 3).map(l => l.taskId)
  await syncPhone(w)
  const tasks = (await tasksOf(w.phone)).filter(t => t.scheduleId === s.id)
  for (const id of ids) {
    const t = tasks.find(x => x.id === id)
    assert.ok(t !== undefined, `the phone has occurrence ${id}`)
    assert.is(t.status, 'done')
    assert.is(t.result.trim(), 'tick')
  }
  const seen = await scheduleOf(w.phone, s.id)
  assert.ok(seen.history.filter((h: any) => h.kind === 'done').length >= 3)
  assert.ok(seen.last !== null)

  // Pause: once the phone's change is on the desktop (read there, over its control socket), no slot after that starts.
  await ok(w.phone, ['schedules', 'pause', s.id.slice(0, 20)])
  // The change command tries the desktop for 2 s only (then "the desktop follows at the next
  // sync"); a loaded machine can take longer, so the sync is made here, as the test's name says.
  await syncPhone(w)
  await onDesktop(s.id, v => v?.paused === true, 'the pause')
  const pausedAt = Date.now()
  await sleep(4_500)
  assert.equal(scheduleLines(d, s.id, 'started').filter(l => l.slot > pausedAt), [], 'no run after the pause reached the desktop')

  // Resume: runs again, from slots after the resume (the paused ones are not caught up).
  const before = scheduleLines(d, s.id, 'started').length
  const resumedAt = Date.now()
  await ok(w.phone, ['schedules', 'resume', s.id])
  await syncPhone(w)
  await waitCount(d, s.id, 'started', before + 1)
  const resumed = scheduleLines(d, s.id, 'started').slice(before)
  assert.ok(resumed.every(l => l.slot > resumedAt && l.missed === undefined), JSON.stringify(resumed))

  // Delete: gone on the desktop, and nothing starts after it reached it.
  await ok(w.phone, ['schedules', 'delete', s.id])
  await syncPhone(w)
  await onDesktop(s.id, v => v === undefined, 'the delete')
  const deletedAt = Date.now()
  await sleep(4_500)
  assert.equal(scheduleLines(d, s.id, 'started').filter(l => l.slot > deletedAt), [])
  await stop(w, d)
})

/** The desktop's view of one schedule (over its control socket), once `ready` holds: the change has reached it. */
async function onDesktop (id: string, ready: (view: any) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!ready(await scheduleOf(w.desk, id))) {
    if (Date.now() > deadline) throw new Error(`${what} never reached the desktop`)
    await sleep(200)
  }
}

test('bad schedules are refused with one line', async () => {
  // The parser's cases are in peers/schedules/scheduler.test.ts; here, that the CLI says them in one line.
  for (const args of [['--every', 'soon'], ['--cron', '* * * * *', '--tz', 'Mars/Olympus'], ['--every', '1h', '--wait']]) {
    const r = await dispatch(w.phone, ['add', '$ true', ...args])
    assert.ok(r.code !== 0 && r.code !== null, `${args.join(' ')} exits non-zero`)
    assert.is(r.stderr.trim().split('\n').length <= 2, true, r.stderr)
    assert.not.match(r.stderr, /\n\s+at /, 'no stack')
  }
  const r = await dispatch(w.phone, ['schedules', 'pause', 'NOPE'])
  assert.is(r.code, 1)
  assert.match(r.stderr, /no schedule NOPE/)
})

test.run()
