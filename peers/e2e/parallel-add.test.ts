// Issue 13: twenty `dispatch add` started at once on one phone home, with nothing holding it:
// they take turns on the home (each waits while another holds it) and every one is saved.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dispatch, freePort } from './cli-process.ts'
import type { DispatchProcess } from './cli-process.ts'
import { startAgentDesktop, pairPhone, tasksOf } from './tasks-fixture.ts'

const root = await mkdtemp(join(tmpdir(), 'dpar-'))
const desk = join(root, 'desk')
const phone = join(root, 'phone')
const running = new Set<DispatchProcess>()

test.before(async () => {
  const d = await startAgentDesktop(desk, 'studio', await freePort(), join(root, 'work'))
  running.add(d.proc)
  await pairPhone(desk, phone)
  // Offline: each add saves the task and finds its desktop unreachable at once.
  await d.proc.stop()
  running.delete(d.proc)
})

test.after(async () => {
  for (const p of running) p.child.kill('SIGKILL')
  await Promise.all(Array.from(running).map(async p => await p.exited))
  await rm(root, { recursive: true, force: true })
})

test('20 parallel adds on one home all succeed, and all 20 tasks exist', async () => {
  const texts = Array.from({ length: 20 }, (_, i) => `$ echo parallel ${i}`)
  const results = await Promise.all(texts.map(async text => await dispatch(phone, ['add', '--json', text], { timeoutMs: 600_000 })))
  for (const r of results) {
    assert.is(r.code, 0, r.stderr)
    assert.is(r.json[0]?.status, 'queued')
    // Waiting is said on stderr, naming the holder; nothing else.
    for (const line of r.stderr.split('\n').filter(l => l !== '')) assert.match(line, /^dispatch: home .* is in use by process \d+.*; waiting for it/)
  }
  const ids = new Set(results.map(r => r.json[0].id as string))
  assert.is(ids.size, 20)
  const tasks = await tasksOf(phone)
  assert.equal(texts.filter(t => !tasks.some((task: { text: string }) => task.text === t)), [])
  assert.ok(Array.from(ids).every(id => tasks.some((task: { id: string }) => task.id === id)))
})

test.run()
