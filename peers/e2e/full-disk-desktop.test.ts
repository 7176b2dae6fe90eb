// Issue 13: a desktop whose home's disk fills up keeps running: it says so (a --json event), keeps
// taking tasks in memory (a command that cannot be recorded before it starts is not started, and
// says so), says when the disk takes writes again, and after a restart
// holds every task it received. Needs root to mount the tmpfs; otherwise reported as skipped.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { join } from 'node:path'
import { dispatch, freePort } from './cli-process.ts'
import { startAgentDesktop, pairPhone, tasksOf } from './tasks-fixture.ts'
import { fullDiskScene } from './tmpfs-fixture.ts'

const scene = await fullDiskScene('dfulldesk-')
const { root, running, skipped } = scene

if (skipped !== null) {
  console.log(`SKIPPED: full-disk desktop test: ${skipped}`)
  test.skip(`a desktop on a full disk keeps running and recovers (skipped: ${skipped})`, () => {})
} else {
  const disk = scene.disk!
  const desk = join(disk.dir, 'desk')
  const phone = join(root, 'phone')
  const work = join(root, 'work')

  test('a desktop on a full disk reports it, keeps running tasks, reports recovery, and keeps every task across a restart', async () => {
    const port = await freePort()
    const first = await startAgentDesktop(desk, 'studio', port, work)
    running.add(first.proc)
    await pairPhone(desk, phone)
    await disk.fill(8 * 1024)
    const texts: string[] = []
    // Each task (and its run) is written by the desktop: a few of them fill what is left, bounded.
    for (let i = 0; i < 10 && !first.proc.lines.some(l => l.event === 'storage-error'); i++) {
      const text = `$ echo run ${i} # ${'x'.repeat(3000)}`
      const r = await dispatch(phone, ['add', '--json', text], { timeoutMs: 120_000 })
      assert.is(r.code, 0, r.stderr)
      texts.push(text)
      await first.proc.waitFor(l => l.event === 'task-end' && l.id === r.json[0].id, 60_000)
    }
    const error = await first.proc.waitFor(l => l.event === 'storage-error', 60_000)
    assert.match(error.message, /ENOSPC/)
    await disk.free()
    await first.proc.waitFor(l => l.event === 'storage-recovered', 60_000)
    assert.is(first.proc.child.exitCode, null, 'the desktop kept running')
    // One more after the recovery, run and saved like any other.
    const after = `$ echo after`
    const r = await dispatch(phone, ['add', '--json', after], { timeoutMs: 120_000 })
    assert.is(r.code, 0, r.stderr)
    texts.push(after)
    await first.proc.waitFor(l => l.event === 'task-end' && l.id === r.json[0].id, 60_000)
    assert.is(await first.proc.stop(), 0)
    running.delete(first.proc)
    assert.not.match(first.proc.stderr, /dropped/)
    // After the restart the desktop's own home holds every task, finished: run, or (while no run
    // record could be written) not started, saying why; the one added after the recovery ran.
    const list = await tasksOf(desk)
    for (const text of texts) {
      const t = list.find((task: { text: string }) => task.text === text)
      assert.ok(t !== undefined, `task ${text.slice(0, 12)} is on the desktop's disk`)
      if (t.status !== 'done') {
        assert.is(t.status, 'failed')
        assert.match(t.error, /^not started: the desktop's disk is full/)
        assert.is.not(text, after, 'the task added after the recovery ran')
      }
    }
  })
}

test.after(async () => { await scene.close() })

test.run()
