// Issues 4 and 5 across processes: two desktops running their agents and one phone, every
// device a `dispatch` process. Targets, presence, watch + --exec, cancel, the no-key story,
// kill -9 of a desktop mid-task (interrupted, retried once; the audit log survives), a
// scripted Claude session (Messages API double process) seen on the phone, and prune.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { mkdtemp, rm, readFile, writeFile, access } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ok, dispatch, freePort, DispatchProcess } from './cli-process.ts'
import { startAgentDesktop, pairPhone, startWatch, tasksOf } from './tasks-fixture.ts'

const root = await mkdtemp(join(tmpdir(), 'dagt-'))
const [deskA, deskB, phone] = [join(root, 'a'), join(root, 'b'), join(root, 'p')]
const [workA, workB] = [join(root, 'wa'), join(root, 'wb')]
const [portA, portB] = [await freePort(), await freePort()]
const hookFile = join(root, 'hook.jsonl')
const running = new Set<DispatchProcess>()
let a: { proc: DispatchProcess, ready: any }
let b: { proc: DispatchProcess, ready: any }
let watch: DispatchProcess

const startA = async (extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<void> => {
  a = await startAgentDesktop(deskA, 'alpha', portA, workA, extra, env)
  running.add(a.proc)
}
const stop = async (p: DispatchProcess): Promise<void> => { await p.stop(); running.delete(p) }
const exists = async (p: string): Promise<boolean> => await access(p).then(() => true, () => false)
const finishedLine = (id: string) => (l: any) => l.event === 'finished' && l.task.id === id
const statusLine = (id: string, status: string) => (l: any) => l.event === 'status' && l.id === id && l.status === status

test.before(async () => {
  await startA()
  b = await startAgentDesktop(deskB, 'beta', portB, workB)
  running.add(b.proc)
  await pairPhone(deskA, phone)
  await pairPhone(deskB, phone)
  watch = await startWatch(phone, ['--exec', `cat >> ${hookFile}`])
  running.add(watch)
})

test.after(async () => {
  for (const p of running) p.child.kill('SIGKILL')
  await Promise.all(Array.from(running).map(async p => await p.exited))
  await rm(root, { recursive: true, force: true })
})

test('--to A / --to B run only on their target; devices shows both online, then B offline', async () => {
  await watch.waitFor(l => l.event === 'synced' && l.name === 'beta')
  await watch.waitFor(l => l.event === 'synced' && l.name === 'alpha')
  const online = await ok(phone, ['devices', '--json'])
  assert.equal(online[0].filter((d: any) => d.online).map((d: any) => d.name).sort(), ['alpha', 'beta'])
  const [toA] = await ok(phone, ['add', '--json', '--to', 'alpha', '$ echo A > which.txt && echo on-alpha'])
  const [toB] = await ok(phone, ['add', '--json', '--to', 'beta', '$ echo B > which.txt && echo on-beta'])
  assert.is(toA.delivered, true)
  assert.is(toB.delivered, true)
  const doneA = await watch.waitFor(finishedLine(toA.id))
  const doneB = await watch.waitFor(finishedLine(toB.id))
  assert.is(doneA.task.result.trim(), 'on-alpha')
  assert.is(doneA.task.claimedBy, a.ready.peerId)
  assert.is(doneB.task.result.trim(), 'on-beta')
  assert.is(doneB.task.claimedBy, b.ready.peerId)
  assert.is((await readFile(join(workA, 'which.txt'), 'utf8')).trim(), 'A')
  assert.is((await readFile(join(workB, 'which.txt'), 'utf8')).trim(), 'B')
  // The other desktop never touched it: A's home has no audit entry of B's task and vice versa.
  assert.not.match(await readFile(join(deskA, 'audit.jsonl'), 'utf8'), toB.id)
  assert.not.match(await readFile(join(deskB, 'audit.jsonl'), 'utf8'), toA.id)

  await stop(b.proc)
  await watch.waitFor(l => l.event === 'disconnected' && l.name === 'beta')
  const after = (await ok(phone, ['devices', '--json']))[0]
  assert.is(after.find((d: any) => d.name === 'beta').online, false)
  assert.is(after.find((d: any) => d.name === 'alpha').online, true)
  // A task to an unknown device is refused before it is queued.
  const refused = await dispatch(phone, ['add', '--to', 'gamma', '$ echo no'])
  assert.is(refused.code, 1)
  assert.match(refused.stderr, /no paired device named .*gamma/)
})

test('watch prints the completion within 1 s of done; --exec receives the task as JSON', async () => {
  const [t] = await ok(phone, ['add', '--json', '--to', 'alpha', '$ echo watched'])
  const line = await watch.waitFor(finishedLine(t.id))
  const seenAt = watch.times[watch.lines.indexOf(line)]
  const endLine = await a.proc.waitFor(l => l.event === 'task-end' && l.id === t.id)
  const doneAt = a.proc.times[a.proc.lines.indexOf(endLine)]
  assert.ok(seenAt - doneAt < 1000, `completion printed ${seenAt - doneAt} ms after done`)
  assert.is(line.task.result.trim(), 'watched')
  for (let i = 0; i < 50 && !(await readFile(hookFile, 'utf8').catch(() => '')).includes(t.id); i++) await new Promise(resolve => setTimeout(resolve, 100))
  const hooked = (await readFile(hookFile, 'utf8')).trim().split('\n').map(l => JSON.parse(l)).find(x => x.id === t.id)
  assert.is(hooked.status, 'done')
  assert.is(hooked.result.trim(), 'watched')
})

test('without a key: a natural-language task fails naming ANTHROPIC_API_KEY', async () => {
  const r = await dispatch(phone, ['add', '--to', 'alpha', '--wait', 'summarise my notes'])
  assert.is(r.code, 1)
  assert.match(r.stderr, /ANTHROPIC_API_KEY/)
  assert.match(a.proc.stderr + JSON.stringify(a.proc.lines), /natural-language tasks fail until ANTHROPIC_API_KEY is set/)
})

test('cancel: a queued task never runs; a running one stops, status cancelled', async () => {
  await stop(a.proc)
  const [queued] = await ok(phone, ['add', '--json', '--to', 'alpha', `$ echo ran > ${join(workA, 'never.txt')}`])
  assert.is(queued.delivered, false)
  await ok(phone, ['cancel', queued.id.slice(0, 20)])
  await startA()
  const q = await watch.waitFor(finishedLine(queued.id))
  assert.is(q.task.status, 'cancelled')
  assert.is(await exists(join(workA, 'never.txt')), false)

  const [long] = await ok(phone, ['add', '--json', '--to', 'alpha', `$ sleep 20; echo late > ${join(workA, 'late.txt')}`])
  await watch.waitFor(statusLine(long.id, 'running'))
  await ok(phone, ['cancel', long.id])
  const c = await watch.waitFor(finishedLine(long.id), 10_000)
  assert.is(c.task.status, 'cancelled')
  assert.is(await exists(join(workA, 'late.txt')), false)
})

test('kill -9 of the desktop mid-task: interrupted, retried once (attempt 2); the audit log entry survives', async () => {
  const [t] = await ok(phone, ['add', '--json', '--to', 'alpha', '$ sleep 6 && echo survived'])
  await watch.waitFor(statusLine(t.id, 'running'))
  const auditEntries = async (): Promise<number> => (await readFile(join(deskA, 'audit.jsonl'), 'utf8').catch(() => ''))
    .trim().split('\n').filter(l => l !== '').map(l => JSON.parse(l)).filter(e => e.taskId === t.id).length
  // The executor appends (and fsyncs) the entry just before it starts the command.
  for (let i = 0; i < 200 && await auditEntries() === 0; i++) await new Promise(resolve => setTimeout(resolve, 50))
  a.proc.child.kill('SIGKILL')
  await a.proc.exited
  running.delete(a.proc)
  assert.is(await auditEntries(), 1, 'one entry per tool call, on disk before it ran, still there after kill -9')
  await startA()
  const done = await watch.waitFor(finishedLine(t.id), 60_000)
  assert.is(done.task.status, 'done', done.task.error)
  assert.is(done.task.attempt, 2)
  assert.is(done.task.result.trim(), 'survived')
  assert.ok(done.task.log.some((e: any) => /interrupted/.test(e.text)))
})

test('a scripted multi-turn Claude session runs on the desktop and is seen on the phone', async () => {
  await writeFile(join(workA, 'notes.md'), '- buy milk\n- call Ana\n')
  const summary = '2 items: buy milk, call Ana.\n'
  const script = [
    { text: 'Let me look around.', toolUses: [{ name: 'glob', input: { pattern: '*.md' } }] },
    { toolUses: [{ name: 'read', input: { file_path: 'notes.md' } }] },
    { toolUses: [{ name: 'write', input: { file_path: 'summary.txt', content: 'TODO' } }] },
    { toolUses: [{ name: 'edit', input: { file_path: 'summary.txt', old_string: 'TODO', new_string: summary } }] },
    { toolUses: [{ name: 'bash', input: { command: 'echo line >> summary.txt' } }] },
    { text: 'Wrote summary.txt: 2 items (buy milk, call Ana).' }
  ]
  await writeFile(join(root, 'script.json'), JSON.stringify(script))
  const double = spawn(process.execPath, [join(import.meta.dirname, '..', 'agent', 'anthropic-double.ts'), join(root, 'script.json')], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const { url } = JSON.parse(await new Promise<string>(resolve => createInterface({ input: double.stdout }).once('line', resolve)))
    await stop(a.proc)
    await startA([], { ANTHROPIC_API_KEY: 'sk-test-double', ANTHROPIC_BASE_URL: url })
    const [t] = await ok(phone, ['add', '--json', '--to', 'alpha', 'summarise my notes into summary.txt'])
    const done = await watch.waitFor(finishedLine(t.id), 30_000)
    assert.is(done.task.status, 'done', done.task.error)
    assert.is(done.task.result, 'Wrote summary.txt: 2 items (buy milk, call Ana).')
    const content = await readFile(join(workA, 'summary.txt'))
    assert.is(content.toString(), summary + 'line\n')
    const out = done.task.outputs.find((o: any) => o.path.endsWith('summary.txt'))
    assert.is(out.sha256, createHash('sha256').update(content).digest('hex'))
    const shown = (await ok(phone, ['show', '--json', t.id]))[0]
    const log = shown.log.map((e: any) => `${e.kind}: ${e.text}`)
    for (const step of ['tool: glob', 'tool: read', 'tool: write', 'tool: edit', 'tool: $ echo line', 'text: Let me look around.']) {
      assert.ok(log.some((l: string) => l.startsWith(step)), `log has ${step}:\n${log.join('\n')}`)
    }
  } finally {
    double.kill('SIGTERM')
  }
})

test('prune --older-than 0s: finished tasks leave the live document on both sides, stay readable from the archive', async () => {
  const before = (await tasksOf(phone)).filter(t => ['done', 'failed', 'cancelled'].includes(t.status))
  assert.ok(before.length >= 5)
  const deskSize = (await ok(deskA, ['prune', '--json', '--older-than', '9999d']))[0].docBytesAfter
  const [r] = await ok(phone, ['prune', '--json', '--older-than', '0s'])
  assert.is(r.removed, before.length)
  assert.ok(r.docBytesAfter < r.docBytesBefore / 2, `${r.docBytesBefore} -> ${r.docBytesAfter}`)
  assert.is((await tasksOf(phone)).length, 0)
  const archived = await tasksOf(phone, ['--archived'])
  assert.is(archived.length, before.length)
  const shown = (await ok(phone, ['show', '--json', before[0].id]))[0]
  assert.is(shown.archived, true)
  assert.is(shown.status, before[0].status)
  // The delete replicates: alpha drops them too, archives what it had, and its document shrinks.
  const deadline = Date.now() + 10_000
  let deskTasks = await tasksOf(deskA)
  while (deskTasks.length > 0 && Date.now() < deadline) { await new Promise(resolve => setTimeout(resolve, 300)); deskTasks = await tasksOf(deskA) }
  assert.is(deskTasks.length, 0)
  const [d] = await ok(deskA, ['prune', '--json', '--older-than', '0s'])
  assert.ok(d.docBytesAfter < deskSize / 2, `${deskSize} -> ${d.docBytesAfter}`)
  const onDesk = (await ok(deskA, ['show', '--json', before.find(t => t.targetName === 'alpha').id]))[0]
  assert.is(onDesk.archived, true)
})

test.run()
