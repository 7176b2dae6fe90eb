// A Claude task interrupted mid-run is retried with a new conversation whose first message
// names the tool calls the interrupted attempt already made (from the audit log). The Messages
// API is the scripted double; the agent, executor, audit log and files are real.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import * as Y from 'yjs'
import { Agent } from './agent.ts'
import { ClaudeExecutor } from './claude-executor.ts'
import { TaskBoard } from '../tasks/task-board.ts'
import { RunRecords } from './run-records.ts'
import { startAnthropicDouble } from './anthropic-double.ts'
import type { AnthropicDouble } from './anthropic-double.ts'

const PHONE = 'phone-1'
const DESK = 'desk-A'

const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-retry-')))
const home = path.join(root, 'home')
const work = path.join(root, 'work')
await fs.mkdir(work, { recursive: true })
const doubles: AnthropicDouble[] = []
const agents: Agent[] = []

test.after(async () => {
  for (const a of agents) await a.stop()
  for (const d of doubles) await d.close()
  await fs.rm(root, { recursive: true, force: true })
})

function addDevice (doc: Y.Doc, id: string, role: 'phone' | 'desktop'): void {
  const m = new Y.Map<unknown>()
  m.set('name', id)
  m.set('role', role)
  doc.getMap('devices').set(id, m)
}

async function until (cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function startAgent (doc: Y.Doc, double: AnthropicDouble): Promise<Agent> {
  const agent = new Agent({
    doc,
    deviceId: DESK,
    grants: { readWrite: [work], readOnly: [], terminal: true, network: false },
    home,
    env: {},
    keepAwake: false,
    log: () => {},
    executors: { claude: new ClaudeExecutor({ apiKey: 'sk-test', baseURL: double.url, maxRetries: 0 }) }
  })
  agents.push(agent)
  await agent.start()
  return agent
}

const firstText = (body: any): string => {
  const c = body.messages[0].content
  return typeof c === 'string' ? c : c.filter((b: any) => b.type === 'text').map((b: any) => b.text).join('\n')
}

test('the retry of an interrupted Claude task is told which tool calls the interrupted attempt made', async () => {
  const doc = new Y.Doc()
  addDevice(doc, PHONE, 'phone')
  addDevice(doc, DESK, 'desktop')
  const phone = new TaskBoard({ doc, deviceId: PHONE, log: () => {} })
  // The first attempt: two calls, then the API never answers (the desktop stops meanwhile).
  const first = await startAnthropicDouble([
    { toolUses: [{ name: 'write', input: { file_path: 'draft.txt', content: 'half done\n' } }] },
    { toolUses: [{ name: 'bash', input: { command: 'echo step-two >> draft.txt' } }] },
    { hang: true }
  ])
  doubles.push(first)
  const a = await startAgent(doc, first)
  const task = phone.addTask({ text: 'write the report into draft.txt', target: DESK })
  await until(() => first.requests.length === 3, 'the third request of the first attempt')
  assert.is(firstText(first.requests[0]!.body), 'write the report into draft.txt', 'a first attempt gets the task text only')
  // Claude's bash shell is recorded while the run lives (a restart would end it first).
  const records = new RunRecords(home)
  assert.equal((await records.list()).map((r) => r.taskId), [task.id])
  await a.stop()
  assert.is(phone.get(task.id)!.status, 'interrupted')
  assert.equal(await records.list(), [], 'the record goes with the shell when the run ends')

  const second = await startAnthropicDouble([{ text: 'Checked draft.txt; the report is complete.' }])
  doubles.push(second)
  await startAgent(doc, second)
  await until(() => ['done', 'failed'].includes(phone.get(task.id)?.status ?? ''), 'the retry to finish')
  assert.is(phone.get(task.id)!.status, 'done', phone.get(task.id)!.error)
  assert.is(phone.get(task.id)!.attempt, 2)
  const prompt = firstText(second.requests[0]!.body)
  assert.match(prompt, /^write the report into draft\.txt/)
  assert.match(prompt, /interrupted/)
  assert.match(prompt, /write "draft\.txt" \(10 chars\) \(ran\)/)
  assert.match(prompt, /\$ echo step-two >> draft\.txt \(ran\)/)
  assert.is(await fs.readFile(path.join(work, 'draft.txt'), 'utf8'), 'half done\nstep-two\n')
})

test.run()
