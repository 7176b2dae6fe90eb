// Issue 15 across processes: a desktop (Claude through the real SDK against the Messages API
// double, no terminal granted) and a phone, each a `dispatch` process. Approve from the phone;
// kill -9 while waiting (still waiting after restart, the answer resumes it); deny given while
// the desktop is down (Claude reads the note); ask_user + reply; a follow-up whose request
// carries the earlier messages; a `$` follow-up; answers to a task that asks nothing refused.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, readFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ok, dispatch, freePort, DispatchProcess } from './cli-process.ts'
import { pairPhone, startWatch } from './tasks-fixture.ts'
import { startAnthropicDouble, toolResults } from '../agent/anthropic-double.ts'
import type { AnthropicDouble, RecordedRequest, ScriptStep } from '../agent/anthropic-double.ts'

const root = await mkdtemp(join(tmpdir(), 'dconv-'))
const [desk, phone, work] = [join(root, 'd'), join(root, 'p'), join(root, 'work')]
const port = await freePort()
const running = new Set<DispatchProcess>()
let desktop: DispatchProcess
let watch: DispatchProcess
let double: AnthropicDouble

/** Each task's script by its first user message; the step is the number of assistant turns so far. */
const scripts: Record<string, ScriptStep[]> = {
  'make a file': [{ toolUses: [{ name: 'bash', input: { command: 'echo approved > made.txt' } }] }, { text: 'Made made.txt.' }],
  'clean up': [{ toolUses: [{ name: 'bash', input: { command: 'rm -rf build' } }] }, { text: 'Left build alone.' }],
  'plan dinner': [
    { toolUses: [{ name: 'ask_user', input: { question: 'Fish or pasta?' } }] },
    { text: 'Pasta it is.' },
    { text: 'Then risotto.' }
  ]
}
const byTask = (req: RecordedRequest): ScriptStep => {
  const first = req.body?.messages?.[0]?.content
  const key = Object.keys(scripts).find(k => typeof first === 'string' && first.startsWith(k))
  const turn = (req.body?.messages ?? []).filter((m: any) => m.role === 'assistant').length
  return key === undefined ? { text: 'done' } : scripts[key]![turn] ?? { text: 'done' }
}
const requestsOf = (text: string): RecordedRequest[] => double.requests.filter(r => r.body?.messages?.[0]?.content === text)

const startDesk = async (): Promise<void> => {
  desktop = new DispatchProcess(desk, ['desktop', '--json', '--name', 'studio', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--allow', work],
    { ANTHROPIC_API_KEY: 'sk-test-double', ANTHROPIC_BASE_URL: double.url })
  running.add(desktop)
  await desktop.waitFor(l => l.event === 'ready')
}
const statusLine = (id: string, status: string) => (l: any) => l.event === 'status' && l.id === id && l.status === status
const finishedLine = (id: string) => (l: any) => l.event === 'finished' && l.task.id === id
const audit = async (): Promise<any[]> => (await readFile(join(desk, 'audit.jsonl'), 'utf8')).trim().split('\n').map(l => JSON.parse(l))

test.before(async () => {
  await mkdir(work, { recursive: true })
  double = await startAnthropicDouble(byTask)
  await startDesk()
  await pairPhone(desk, phone)
  watch = await startWatch(phone)
  running.add(watch)
  await watch.waitFor(l => l.event === 'synced' && l.name === 'studio')
})

test.after(async () => {
  for (const p of running) p.child.kill('SIGKILL')
  await Promise.all(Array.from(running).map(async p => await p.exited))
  await double.close()
  await rm(root, { recursive: true, force: true })
})

test('bash without the terminal waits for approval; kill -9 while waiting; after restart still waiting; approve from the phone resumes it', async () => {
  const [t] = await ok(phone, ['add', '--json', 'make a file'])
  const asked = await watch.take(statusLine(t.id, 'awaiting-approval'))
  assert.is(asked.pending.tool, 'bash')
  assert.is(asked.pending.summary, '$ echo approved > made.txt')
  assert.match(asked.pending.reason, /terminal is not granted/)
  desktop.child.kill('SIGKILL')
  await desktop.exited
  running.delete(desktop)
  await startDesk()
  const shown = (await ok(desk, ['show', '--json', t.id]))[0]
  assert.is(shown.status, 'awaiting-approval')
  assert.equal(shown.pending, asked.pending, 'the same request after the restart')
  const [answer] = await ok(phone, ['approve', '--json', t.id])
  assert.is(answer.decision, 'allow-once')
  assert.is(answer.requestId, asked.pending.id)
  const done = await watch.waitFor(finishedLine(t.id), 30_000)
  assert.is(done.task.status, 'done', done.task.error)
  assert.is(done.task.result, 'Made made.txt.')
  assert.is(await readFile(join(work, 'made.txt'), 'utf8'), 'approved\n')
  const reqs = requestsOf('make a file')
  assert.is(reqs.length, 2, 'the first turn was not sent again after the restart')
  assert.is(toolResults(reqs[1]!)[0]!.is_error, false)
  const entries = (await audit()).filter(e => e.requestId === asked.pending.id)
  assert.equal(entries.map(e => e.decision), ['asked', 'allowed'])
  const pocket = (await ok(desk, ['devices', '--json']))[0].find((d: any) => d.name === 'pocket')
  assert.is(entries[1].by, pocket.peerId, 'the audit names the device that answered')
  assert.match(entries[1].reason, /approved once by pocket/)
})

test('deny given while the desktop is down takes effect when it starts: Claude gets the note, the task finishes', async () => {
  const [t] = await ok(phone, ['add', '--json', 'clean up'])
  await watch.take(statusLine(t.id, 'awaiting-approval'))
  await desktop.stop()
  running.delete(desktop)
  const r = await dispatch(phone, ['deny', t.id, '--note', 'keep build for now'])
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stdout, /saved on this device/)
  await startDesk()
  const done = await watch.waitFor(finishedLine(t.id), 30_000)
  assert.is(done.task.status, 'done', done.task.error)
  const result = toolResults(requestsOf('clean up').at(-1)!)[0]!
  assert.is(result.is_error, true)
  assert.match(result.text, /denied by the user: keep build for now/)
})

test('ask_user waits for an answer; reply continues the run; a follow-up carries the earlier messages', async () => {
  const [t] = await ok(phone, ['add', '--json', 'plan dinner'])
  const asked = await watch.take(statusLine(t.id, 'awaiting-answer'))
  assert.is(asked.pending.question, 'Fish or pasta?')
  const notApproval = await dispatch(phone, ['approve', t.id])
  assert.is(notApproval.code, 1)
  assert.match(notApproval.stderr, /answer with reply/)
  assert.is(notApproval.stderr.trim().split('\n').length, 1, 'one line, no stack')
  await ok(phone, ['reply', t.id, 'pasta,', 'please'])
  const done = await watch.waitFor(finishedLine(t.id), 30_000)
  assert.is(done.task.result, 'Pasta it is.')
  assert.equal(toolResults(requestsOf('plan dinner').at(-1)!).map(r => r.text), ['pasta, please'])

  const [follow] = await ok(phone, ['reply', '--json', t.id, 'something', 'lighter?'])
  assert.is(follow.kind, 'follow-up')
  assert.is(follow.parent, t.id)
  const fdone = await watch.waitFor(finishedLine(follow.id), 30_000)
  assert.is(fdone.task.result, 'Then risotto.')
  assert.is(fdone.task.parent, t.id)
  const last = requestsOf('plan dinner').at(-1)!
  const roles = last.body.messages.map((m: any) => m.role)
  assert.equal(roles, ['user', 'assistant', 'user', 'assistant', 'user'])
  assert.equal(last.body.messages.at(-1), { role: 'user', content: 'something lighter?' })
  assert.equal(last.body.messages[1].content[0].input, { question: 'Fish or pasta?' })
  assert.is(last.body.messages[3].content[0].text, 'Pasta it is.')
})

test('a `$` task\'s follow-up is a new command in the same folder; answering a task that asks nothing is refused', async () => {
  const [t] = await ok(phone, ['add', '--json', '--in', work, '$ ls'])
  await watch.waitFor(finishedLine(t.id), 30_000)
  const [follow] = await ok(phone, ['reply', '--json', t.id, 'pwd'])
  const f = await watch.waitFor(finishedLine(follow.id), 30_000)
  assert.is(f.task.text, '$ pwd')
  assert.is(f.task.scope, work)
  assert.is(f.task.parent, t.id)
  const r = await dispatch(phone, ['deny', t.id])
  assert.is(r.code, 1)
  assert.match(r.stderr, /nothing is waiting for an answer/)
  assert.is(r.stderr.trim().split('\n').length, 1)
})

test.run()
