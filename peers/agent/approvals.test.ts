// A conversation with the desktop, in one process (the real SDK against the Messages API
// double, a phone board and a desktop agent sharing one doc): approvals (once, for the task,
// deny with a note, timeout), a waiting task not holding a slot, a restart while waiting,
// ask_user and its reply, and a follow-up continuing a finished task's conversation.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as Y from 'yjs'
import { ClaudeExecutor } from './claude-executor.ts'
import { startAnthropicDouble, toolResults } from './anthropic-double.ts'
import type { RecordedRequest, ScriptStep } from './anthropic-double.ts'
import { Agent, TIMEOUT_ANSWERER } from './agent.ts'
import type { AgentOptions } from './agent.ts'
import { TaskBoard } from '../tasks/task-board.ts'
import type { Task } from '../tasks/task-board.ts'
import { readAudit } from './audit-log.ts'
import { NothingPendingError } from '../tasks/errors.ts'

const PHONE = 'phone-1'
const DESK = 'desk-A'

async function until (cond: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
const finished = (t: Task | undefined) => t !== undefined && ['done', 'failed', 'cancelled'].includes(t.status)

/** Script by the task text in the first user message, so several tasks can share one double. */
type Scripts = Record<string, ScriptStep[]>
function byTask (scripts: Scripts): (req: RecordedRequest) => ScriptStep {
  return (req) => {
    const first = req.body.messages[0]?.content
    const key = Object.keys(scripts).find((k) => typeof first === 'string' && first.startsWith(k))
    if (key === undefined) return { text: 'done' }
    const turn = req.body.messages.filter((m: any) => m.role === 'assistant').length
    return scripts[key]![turn] ?? { text: 'done' }
  }
}

/** `askIn`: a folder inside the work folder granted with --ask. */
async function setup (scripts: Scripts, opts: Partial<AgentOptions> = {}, askIn?: string) {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-approvals-')))
  const work = path.join(dir, 'work')
  const home = path.join(dir, 'home')
  await fs.mkdir(work)
  if (askIn !== undefined) await fs.mkdir(path.join(work, askIn))
  const double = await startAnthropicDouble(byTask(scripts))
  const doc = new Y.Doc()
  for (const [id, role] of [[PHONE, 'phone'], [DESK, 'desktop']] as const) {
    const m = new Y.Map<unknown>(); m.set('name', id); m.set('role', role); doc.getMap('devices').set(id, m)
  }
  const phone = new TaskBoard({ doc, deviceId: PHONE, log: () => {} })
  const agents: Agent[] = []
  /** `on`: the document the desktop finds at start (default: the one shared with the phone). */
  const start = async (on: Y.Doc = doc): Promise<Agent> => {
    const claude = new ClaudeExecutor({ apiKey: 'sk-test', baseURL: double.url, env: {} })
    const agent = new Agent({ doc: on, deviceId: DESK, home, env: {}, keepAwake: false, log: () => {}, executors: { claude }, grants: { readWrite: [work], readOnly: [], terminal: false, network: false, ...(askIn !== undefined ? { ask: [path.join(work, askIn)] } : {}) }, ...opts })
    agents.push(agent)
    await agent.start()
    return agent
  }
  const agent = await start()
  return {
    dir, work, home, double, doc, phone, agent, start,
    requestsOf: (text: string) => double.requests.filter((r) => r.body?.messages?.[0]?.content?.startsWith?.(text)),
    done: async () => { for (const a of agents) await a.stop(); await double.close(); await fs.rm(dir, { recursive: true, force: true }) }
  }
}

test('bash without the terminal waits for approval; approved once it runs; the audit has request and answer', async () => {
  const s = await setup({
    'make a file': [{ toolUses: [{ name: 'bash', input: { command: 'echo hi > ran.txt' } }] }, { text: 'Made ran.txt.' }]
  })
  try {
    const t = s.phone.addTask({ text: 'make a file', target: DESK })
    await until(() => s.phone.get(t.id)?.status === 'awaiting-approval', 8000, 'awaiting-approval')
    const pending = s.phone.get(t.id)!.pending!
    assert.is(pending.kind, 'approval')
    if (pending.kind !== 'approval') return
    assert.is(pending.tool, 'bash')
    assert.is(pending.summary, '$ echo hi > ran.txt')
    assert.match(pending.reason, /terminal is not granted/)
    assert.ok(pending.expiresAt - pending.askedAt === 24 * 3600 * 1000, 'default timeout 24 h')
    assert.not.ok(await fs.stat(path.join(s.work, 'ran.txt')).catch(() => false), 'nothing ran before the answer')
    s.phone.answerRequest(t.id, pending.id, 'allow-once')
    await until(() => finished(s.phone.get(t.id)))
    assert.is(s.phone.get(t.id)!.status, 'done')
    assert.is(s.phone.get(t.id)!.result, 'Made ran.txt.')
    assert.is(await fs.readFile(path.join(s.work, 'ran.txt'), 'utf8'), 'hi\n')
    const last = s.requestsOf('make a file').at(-1)!
    assert.is(toolResults(last)[0]!.is_error, false)
    const audit = (await readAudit(s.home)).filter((a) => a.requestId === pending.id)
    assert.equal(audit.map((a) => a.decision), ['asked', 'allowed'])
    assert.is(audit[1]!.by, PHONE)
    assert.match(audit[1]!.reason, /approved once by phone-1/)
    const log = s.phone.log(t.id).map((e) => e.text)
    assert.ok(log.some((l) => l.startsWith('waiting for approval: $ echo hi')), log.join('\n'))
    assert.ok(log.some((l) => l.startsWith('approved (once) by phone-1')), log.join('\n'))
    assert.throws(() => s.phone.answerRequest(t.id, pending.id, 'deny'), (e: Error) => e instanceof NothingPendingError)
  } finally { await s.done() }
})

test('deny with a note: Claude gets an error tool result carrying the note; the task finishes', async () => {
  const s = await setup({
    'clean up': [{ toolUses: [{ name: 'bash', input: { command: 'rm -rf build' } }] }, { text: 'Left build alone.' }]
  })
  try {
    const t = s.phone.addTask({ text: 'clean up', target: DESK })
    await until(() => s.phone.get(t.id)?.status === 'awaiting-approval')
    s.phone.answerRequest(t.id, s.phone.get(t.id)!.pending!.id, 'deny', 'not today, keep build')
    await until(() => finished(s.phone.get(t.id)))
    assert.is(s.phone.get(t.id)!.status, 'done')
    const r = toolResults(s.requestsOf('clean up').at(-1)!)[0]!
    assert.is(r.is_error, true)
    assert.match(r.text, /denied by the user: not today, keep build/)
    const audit = await readAudit(s.home)
    assert.equal(audit.filter((a) => a.tool === 'bash').map((a) => a.decision), ['asked', 'denied'])
  } finally { await s.done() }
})

test('allow for this task: later calls of the same kind run without asking; a waiting task holds no slot', async () => {
  const s = await setup({
    'two commands': [
      { toolUses: [{ name: 'bash', input: { command: 'echo 1 >> n.txt' } }] },
      { toolUses: [{ name: 'bash', input: { command: 'echo 2 >> n.txt' } }] },
      { text: 'Both ran.' }
    ],
    'meanwhile': [{ toolUses: [{ name: 'write', input: { file_path: 'other.txt', content: 'x' } }] }, { text: 'Wrote other.txt.' }]
  }, { concurrency: 1 })
  try {
    const t = s.phone.addTask({ text: 'two commands', target: DESK })
    await until(() => s.phone.get(t.id)?.status === 'awaiting-approval')
    const other = s.phone.addTask({ text: 'meanwhile', target: DESK })
    await until(() => finished(s.phone.get(other.id)), 8000, 'the other task, with the only slot free while the first waits')
    assert.is(s.phone.get(other.id)!.status, 'done')
    assert.is(s.phone.get(t.id)!.status, 'awaiting-approval')
    s.phone.answerRequest(t.id, s.phone.get(t.id)!.pending!.id, 'allow-task')
    await until(() => finished(s.phone.get(t.id)))
    assert.is(await fs.readFile(path.join(s.work, 'n.txt'), 'utf8'), '1\n2\n')
    // It stepped aside while it waited: what the other task wrote meanwhile is not its output.
    assert.equal(s.phone.get(t.id)!.outputs.map((o) => path.basename(o.path)), ['n.txt'])
    assert.equal(s.phone.get(other.id)!.outputs.map((o) => path.basename(o.path)), ['other.txt'])
    const bash = (await readAudit(s.home)).filter((a) => a.tool === 'bash').map((a) => `${a.decision}: ${a.reason.split(' (')[0]}`)
    assert.equal(bash, ['asked: the terminal is not granted', 'allowed: approved for this task by phone-1', 'allowed: approved for this task from the phone'])
  } finally { await s.done() }
})

test('an unanswered request ends as a denial after the approval timeout', async () => {
  const s = await setup({
    'wait forever': [{ toolUses: [{ name: 'bash', input: { command: 'true' } }] }, { text: 'Gave up.' }]
  }, { approvalTimeoutMs: 300 })
  try {
    const t = s.phone.addTask({ text: 'wait forever', target: DESK })
    await until(() => finished(s.phone.get(t.id)))
    assert.is(s.phone.get(t.id)!.status, 'done')
    const r = toolResults(s.requestsOf('wait forever').at(-1)!)[0]!
    assert.is(r.is_error, true)
    assert.match(r.text, /no answer within/)
    const answer = (await readAudit(s.home)).filter((a) => a.tool === 'bash').at(-1)!
    assert.is(answer.decision, 'denied')
    assert.is(answer.by, TIMEOUT_ANSWERER)
  } finally { await s.done() }
})

test('stopped while waiting: still waiting with the same request; the answer given meanwhile resumes it', async () => {
  const s = await setup({
    'write outside': [
      { toolUses: [{ name: 'write', input: { file_path: 'inside.txt', content: 'in' } }, { name: 'bash', input: { command: 'echo ok > resumed.txt' } }] },
      { text: 'Resumed and done.' }
    ]
  })
  try {
    const t = s.phone.addTask({ text: 'write outside', target: DESK })
    await until(() => s.phone.get(t.id)?.status === 'awaiting-approval')
    const before = s.phone.get(t.id)!.pending!
    // The write (allowed) runs alongside the bash call that waits: stop once its result is saved in the home.
    const saved = async () => JSON.parse(await fs.readFile(path.join(s.home, 'conversations', `${t.id}.json`), 'utf8').catch(() => '{}'))
    for (let i = 0; i < 400 && Object.keys((await saved()).results ?? {}).length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    await s.agent.stop()
    assert.is(s.phone.get(t.id)!.status, 'awaiting-approval')
    assert.equal(s.phone.get(t.id)!.pending, before)
    // Answered while the desktop is down: it takes effect when it starts again.
    s.phone.answerRequest(t.id, before.id, 'allow-once')
    await fs.writeFile(path.join(s.work, 'inside.txt'), 'changed by the user meanwhile')
    await s.start()
    await until(() => finished(s.phone.get(t.id)))
    assert.is(s.phone.get(t.id)!.status, 'done')
    assert.is(await fs.readFile(path.join(s.work, 'resumed.txt'), 'utf8'), 'ok\n')
    assert.is(await fs.readFile(path.join(s.work, 'inside.txt'), 'utf8'), 'changed by the user meanwhile', 'the write that ran before the stop did not run twice')
    const reqs = s.requestsOf('write outside')
    assert.is(reqs.length, 2, 'the first reply was not asked for again')
    assert.equal(toolResults(reqs[1]!).map((r) => r.is_error), [false, false])
  } finally { await s.done() }
})

test('killed after asking, before the waiting state reached its disk: the restarted desktop waits on the same request', async () => {
  const s = await setup({
    'make a file': [{ toolUses: [{ name: 'bash', input: { command: 'echo made > made.txt' } }] }, { text: 'Made it.' }]
  })
  try {
    // What the desktop's disk holds when it dies: the task running, the request not yet in it.
    let onDisk: Uint8Array | undefined
    const t = s.phone.addTask({ text: 'make a file', target: DESK })
    const keep = (): void => { if (onDisk === undefined && s.phone.get(t.id)?.status === 'running') onDisk = Y.encodeStateAsUpdate(s.doc) }
    s.doc.on('update', keep)
    await until(() => s.phone.get(t.id)?.status === 'awaiting-approval')
    s.doc.off('update', keep)
    const asked = s.phone.get(t.id)!.pending!
    await s.agent.stop()
    const restarted = new Y.Doc()
    Y.applyUpdate(restarted, onDisk!)
    const phone = new TaskBoard({ doc: restarted, deviceId: PHONE, log: () => {} })
    assert.is(phone.get(t.id)!.status, 'running')
    await s.start(restarted)
    await until(() => phone.get(t.id)?.status === 'awaiting-approval')
    assert.equal(phone.get(t.id)!.pending, asked, 'the request the phone was shown, not a new one')
    assert.is(phone.get(t.id)!.attempt, 1, 'not retried')
    // The phone's copy (which had the request) merges in: one request, and its answer resumes the run.
    Y.applyUpdate(restarted, Y.encodeStateAsUpdate(s.doc))
    phone.answerRequest(t.id, asked.id, 'allow-once')
    await until(() => finished(phone.get(t.id)))
    assert.is(phone.get(t.id)!.status, 'done')
    assert.is(await fs.readFile(path.join(s.work, 'made.txt'), 'utf8'), 'made\n')
    assert.is(s.requestsOf('make a file').length, 2, 'the first turn was not sent again')
  } finally { await s.done() }
})

test('--ask DIR: a call inside it waits for approval even though the grants cover it; others do not', async () => {
  const s = await setup({
    'read both': [
      { toolUses: [{ name: 'read', input: { file_path: 'open.txt' } }] },
      { toolUses: [{ name: 'read', input: { file_path: 'private/diary.txt' } }] },
      { text: 'Read both.' }
    ]
  }, {}, 'private')
  try {
    await fs.writeFile(path.join(s.work, 'open.txt'), 'open text')
    await fs.writeFile(path.join(s.work, 'private', 'diary.txt'), 'dear diary')
    const t = s.phone.addTask({ text: 'read both', target: DESK })
    await until(() => s.phone.get(t.id)?.status === 'awaiting-approval')
    const p = s.phone.get(t.id)!.pending!
    assert.is(p.kind === 'approval' && p.tool, 'read')
    assert.match(p.kind === 'approval' ? p.reason : '', /where every call asks first \(--ask\)/)
    assert.is(s.requestsOf('read both').length, 2, 'the first read went through without asking')
    s.phone.answerRequest(t.id, p.id, 'allow-once')
    await until(() => finished(s.phone.get(t.id)))
    assert.match(toolResults(s.requestsOf('read both').at(-1)!)[0]!.text, /dear diary/)
  } finally { await s.done() }
})

test('ask_user: awaiting-answer, the reply reaches Claude in the next request', async () => {
  const s = await setup({
    'plan dinner': [{ toolUses: [{ name: 'ask_user', input: { question: 'Fish or pasta?' } }] }, { text: 'Pasta it is.' }]
  })
  try {
    const t = s.phone.addTask({ text: 'plan dinner', target: DESK })
    await until(() => s.phone.get(t.id)?.status === 'awaiting-answer')
    const pending = s.phone.get(t.id)!.pending!
    assert.is(pending.kind, 'question')
    if (pending.kind === 'question') assert.is(pending.question, 'Fish or pasta?')
    assert.throws(() => s.phone.answerRequest(t.id, pending.id, 'allow-once'), /answer with reply/)
    s.phone.answerRequest(t.id, pending.id, 'reply', 'pasta, please')
    await until(() => finished(s.phone.get(t.id)))
    assert.is(s.phone.get(t.id)!.result, 'Pasta it is.')
    const r = toolResults(s.requestsOf('plan dinner').at(-1)!)[0]!
    assert.equal([r.is_error, r.text], [false, 'pasta, please'])
    assert.ok(s.requestsOf('plan dinner')[0]!.body.tools.some((x: any) => x.name === 'ask_user'))
  } finally { await s.done() }
})

test('a follow-up continues the finished task\'s conversation: the next request carries the earlier messages', async () => {
  const s = await setup({
    'name the cat': [{ text: 'Call her Miso.' }, { text: 'Then Tofu.' }]
  })
  try {
    const t = s.phone.addTask({ text: 'name the cat', target: DESK })
    await until(() => finished(s.phone.get(t.id)))
    const f = s.phone.addTask({ text: 'something less foody?', target: DESK, parent: t.id })
    await until(() => finished(s.phone.get(f.id)))
    assert.is(s.phone.get(f.id)!.result, 'Then Tofu.')
    const last = s.requestsOf('name the cat').at(-1)!
    assert.equal(last.body.messages.map((m: any) => [m.role, typeof m.content === 'string' ? m.content : m.content.map((b: any) => b.text).join('')]), [
      ['user', 'name the cat'], ['assistant', 'Call her Miso.'], ['user', 'something less foody?']
    ])
  } finally { await s.done() }
})

test.run()
