// A malicious but paired member (adversary-fixture.ts: written only against the public engine API)
// attacks the tasks of a real `dispatch desktop` that a real phone uses: a forged `done` before
// and during a run, deleting every task, 20 MB in a new top-level type. Each is refused or
// harmless, with the desktop's `refused` event naming the member; the real, signed results arrive.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as Y from 'yjs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ok } from './cli-process.ts'
import { startScene, until, refusedBy, taskMap } from './adversary-fixture.ts'
import type { Scene } from './adversary-fixture.ts'

let scene: Scene
let d: Scene['d']
let mallory: Scene['mallory']
let desk: string, tablet: string
test.before(async () => {
  scene = await startScene('dadvt-', ['tablet'])
  ;({ d, mallory, desk } = scene)
  ;({ tablet } = scene.phones)
})
test.after(async () => { await scene.cleanup() })

test('forged done before the run: a task created already "done" still runs, and its signed result arrives', async () => {
  // Mallory creates the task itself (a paired phone may send tasks) with a forged outcome in the same update.
  const id = taskId(Date.now())
  mallory.space.doc.transact(() => {
    const t = new Y.Map<unknown>()
    mallory.space.doc.getMap('tasks').set(id, t)
    for (const [k, v] of Object.entries({ id, text: '$ echo real-before', createdAt: Date.now(), createdBy: mallory.node.peerId, target: d.ready.peerId, cancelRequested: false, status: 'done', attempt: 1, result: 'forged', finishedAt: Date.now() })) t.set(k, v)
  })
  await refusedBy(scene, mallory.node.peerId, /only this desktop writes the progress/)
  await d.proc.waitFor(l => l.event === 'task-end' && l.id === id, 60_000)
  const done = (await ok(desk, ['show', id, '--json']))[0]
  assert.is(done.result.trim(), 'real-before')
  assert.is(done.verified, true)
  await until(() => String(taskMap(mallory, id)?.get('result')).trim() === 'real-before', 'the real result reached mallory too')
  await ok(tablet, ['sync'])
  const onTablet = (await ok(tablet, ['show', id, '--json']))[0]
  assert.is(onTablet.result.trim(), 'real-before')
  assert.is(onTablet.verified, true)
})

/** A task id as the app mints them (10 characters of time, 16 random, Crockford base 32). */
function taskId (now: number): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
  let time = ''
  for (let i = 0, ms = now; i < 10; i++, ms = Math.floor(ms / 32)) time = alphabet[ms % 32] + time
  return time + Array.from(crypto.getRandomValues(new Uint8Array(16)), b => alphabet[b & 31]).join('')
}

test('forged done during the run: ignored by the desktop; the real result wins on every device', async () => {
  const [added] = await ok(tablet, ['add', '--json', '--to', 'desk', '$ sleep 3; echo real-during'])
  await until(() => taskMap(mallory, added.id)?.get('status') === 'running', 'mallory sees it running')
  mallory.space.doc.transact(() => { const t = taskMap(mallory, added.id); t.set('status', 'done'); t.set('result', 'forged-during') })
  await refusedBy(scene, mallory.node.peerId, /only this desktop writes the progress/)
  await until(() => taskMap(mallory, added.id)?.get('result') === 'real-during\n' || String(taskMap(mallory, added.id)?.get('result')).trim() === 'real-during', 'the real result reached mallory too', 30_000)
  await ok(tablet, ['sync'])
  const onTablet = (await ok(tablet, ['show', added.id, '--json']))[0]
  assert.is(onTablet.result.trim(), 'real-during')
  assert.is(onTablet.verified, true)
})

test('delete every task: unfinished ones are kept and written back by the desktop; the running one finishes', async () => {
  const [added] = await ok(tablet, ['add', '--json', '--to', 'desk', '$ sleep 3; echo survived'])
  await until(() => taskMap(mallory, added.id)?.get('status') === 'running', 'mallory sees it running')
  mallory.space.doc.transact(() => { for (const id of [...mallory.space.doc.getMap('tasks').keys()]) mallory.space.doc.getMap('tasks').delete(id) })
  await refusedBy(scene, mallory.node.peerId, /delete of an unfinished task/)
  await d.proc.waitFor(l => l.event === 'task-end' && l.id === added.id, 60_000)
  await ok(tablet, ['sync'])
  const onTablet = (await ok(tablet, ['show', added.id, '--json']))[0]
  assert.is(onTablet.result.trim(), 'survived')
  assert.is(onTablet.verified, true)
})

test('20 MB in a new top-level type: refused whole, the session closed, the desktop store stays small', async () => {
  const before = await dirBytes(join(desk, 'store'))
  mallory.space.doc.getText('junk').insert(0, 'x'.repeat(20 * 1024 * 1024 + 1))
  // 20 MB cross the loopback in well under a second on an idle machine; a loaded one gets time.
  await refusedBy(scene, mallory.node.peerId, /top-level type "junk"/, 120_000)
  const after = await dirBytes(join(desk, 'store'))
  assert.ok(after - before < 1024 * 1024, `the store grew by ${after - before} bytes`)
  // The desktop works on: the tablet's next task runs.
  const [added] = await ok(tablet, ['add', '--json', '--wait', '--to', 'desk', '$ echo still-here'])
  assert.is(added.task.result.trim(), 'still-here')
  assert.is(added.task.verified, true)
})

async function dirBytes (dir: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    total += entry.isDirectory() ? await dirBytes(p) : (await stat(p)).size
  }
  return total
}

test.run()
