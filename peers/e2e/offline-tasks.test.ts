// Issue 5, offline-first: a phone adds tasks while its desktop is down, each acknowledged on
// disk; the desktop comes up later and runs each exactly once; results come back. Then the
// same with restarts of both sides and a kill -9 of the phone right after an acknowledged add.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, DispatchProcess } from './cli-process.ts'
import { startAgentDesktop, pairPhone, startWatch, addAll, tasksOf } from './tasks-fixture.ts'

const root = await mkdtemp(join(tmpdir(), 'doff-'))
const desk = join(root, 'desk')
const phone = join(root, 'phone')
const work = join(root, 'work')
const port = await freePort()
const running = new Set<DispatchProcess>()
const track = <T extends { proc: DispatchProcess } | DispatchProcess>(p: T): T => { running.add('proc' in p ? p.proc : p); return p }
const stop = async (p: DispatchProcess): Promise<void> => { await p.stop(); running.delete(p) }

test.before(async () => {
  const d = track(await startAgentDesktop(desk, 'studio', port, work))
  await pairPhone(desk, phone)
  await stop(d.proc)
})

test.after(async () => {
  for (const p of running) p.child.kill('SIGKILL')
  await Promise.all(Array.from(running).map(async p => await p.exited))
  await rm(root, { recursive: true, force: true })
})

/** Until every task in `ids` is finished, seen through the phone's home. */
async function allFinished (home: string, ids: string[], timeoutMs = 60_000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const list = await tasksOf(home)
    const mine = list.filter(t => ids.includes(t.id))
    if (mine.length === ids.length && mine.every(t => ['done', 'failed', 'cancelled'].includes(t.status))) return mine
    if (Date.now() > deadline) throw new Error(`not finished: ${JSON.stringify(mine.filter(t => t.status !== 'done').map(t => [t.id, t.status]))}`)
    await new Promise(resolve => setTimeout(resolve, 500))
  }
}

test('50 tasks added offline run exactly once after the desktop starts; results come back', async () => {
  const watch1 = track(await startWatch(phone))
  const texts = Array.from({ length: 50 }, (_, i) => `$ echo ${i + 1} >> marker.txt && echo ran ${i + 1}`)
  const acks = await addAll(phone, texts)
  for (const a of acks) {
    assert.is(a.status, 'queued')
    assert.is(a.delivered, false, 'nobody acknowledged receipt: the desktop is down')
  }
  await stop(watch1)

  const d = track(await startAgentDesktop(desk, 'studio', port, work))
  const watch2 = track(await startWatch(phone))
  const ids = acks.map(a => a.id)
  // The watch prints a completion for each one as the results come back.
  const deadline = Date.now() + 90_000
  while (watch2.lines.filter(l => l.event === 'finished').length < 50) {
    await watch2.waitFor(() => watch2.lines.filter(l => l.event === 'finished').length >= 50, Math.max(1, deadline - Date.now()))
  }
  const finished = watch2.lines.filter(l => l.event === 'finished').map(l => l.task)
  assert.equal(new Set(finished.map(t => t.id)), new Set(ids))
  const list = await allFinished(phone, ids)
  for (const t of list) {
    assert.is(t.status, 'done', `${t.id}: ${t.error}`)
    assert.is(t.attempt, 1)
    assert.match(t.result, /^ran \d+/)
  }
  const lines = (await readFile(join(work, 'marker.txt'), 'utf8')).trim().split('\n')
  assert.is(lines.length, 50)
  assert.equal(lines.map(Number).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1))
  await stop(watch2)
  await stop(d.proc)
})

test('restarts of both sides in the middle and a kill -9 of the phone after an acknowledged add lose nothing', async () => {
  const watch1 = track(await startWatch(phone))
  const texts = Array.from({ length: 16 }, (_, i) => `$ sleep 0.2 && echo R${i + 1} >> marker2.txt && echo R${i + 1}`)
  const acks = await addAll(phone, texts)
  // Acknowledged means on disk: kill -9 right after, no clean shutdown.
  watch1.child.kill('SIGKILL')
  await watch1.exited
  running.delete(watch1)
  const ids = acks.map(a => a.id)

  let d = track(await startAgentDesktop(desk, 'studio', port, work))
  let watch2 = track(await startWatch(phone))
  await watch2.waitFor(l => l.event === 'finished', 30_000)
  // Desktop restart while tasks run (interrupted ones are retried), then a phone restart.
  await stop(d.proc)
  d = track(await startAgentDesktop(desk, 'studio', port, work))
  await stop(watch2)
  watch2 = track(await startWatch(phone))

  const list = await allFinished(phone, ids, 90_000)
  for (const t of list) {
    assert.is(t.status, 'done', `${t.id}: ${t.error}`)
    assert.ok(t.attempt === 1 || t.attempt === 2, `attempt ${t.attempt}`)
  }
  const text = await readFile(join(work, 'marker2.txt'), 'utf8')
  for (let i = 1; i <= 16; i++) assert.ok(text.split('\n').includes(`R${i}`), `R${i} ran`)
  await stop(watch2)
  await stop(d.proc)
})

test.run()
