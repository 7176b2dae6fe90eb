// Claude executor against the scripted Messages API double, through the real SDK (baseURL):
// a multi-turn session, refused calls, offered tools, cancel, API errors, and the path table
// run through the executor's own (wrapped) tools.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import * as Y from 'yjs'
import { ClaudeExecutor, confinedTools, DEFAULT_MODEL } from './claude-executor.ts'
import { startAnthropicDouble, toolResults } from './anthropic-double.ts'
import type { ScriptStep } from './anthropic-double.ts'
import { Agent } from './agent.ts'
import type { AgentOptions } from './agent.ts'
import { TaskBoard } from '../tasks/task-board.ts'
import type { Task } from '../tasks/task-board.ts'
import { Permissions } from './permissions.ts'
import type { Grants } from './permissions.ts'
import { AuditLog, readAudit } from './audit-log.ts'
import type { ExecutionContext } from './executor.ts'
import { buildPathTable, snapshotTree, SECRET } from './path-table.fixture.ts'

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

/** A phone and a desktop agent sharing one doc, the agent using Claude through the double. */
async function setup (script: ScriptStep[], grants: Partial<Grants> = {}, agentOpts: Partial<AgentOptions> = {}) {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-claude-')))
  const work = path.join(dir, 'work')
  const docs = path.join(dir, 'docs')
  const outside = path.join(dir, 'outside')
  const home = path.join(dir, 'home')
  for (const d of [work, docs, outside]) await fs.mkdir(d)
  await fs.writeFile(path.join(work, 'notes.md'), '# Notes\n- buy milk\n- call Ana\n')
  await fs.writeFile(path.join(docs, 'ref.md'), 'reference')
  await fs.writeFile(path.join(outside, 'secret.txt'), SECRET)
  const double = await startAnthropicDouble(script)
  const doc = new Y.Doc()
  for (const [id, role] of [[PHONE, 'phone'], [DESK, 'desktop']] as const) {
    const m = new Y.Map<unknown>(); m.set('name', id); m.set('role', role); doc.getMap('devices').set(id, m)
  }
  const phone = new TaskBoard({ doc, deviceId: PHONE, log: () => {} })
  const claude = new ClaudeExecutor({ apiKey: 'sk-test', baseURL: double.url, env: {} })
  const agent = new Agent({ doc, deviceId: DESK, home, env: {}, keepAwake: false, log: () => {}, executors: { claude }, grants: { readWrite: [work], readOnly: [docs], terminal: false, network: false, ...grants }, ...agentOpts })
  await agent.start()
  return {
    dir, work, docs, outside, home, double, phone, agent,
    done: async () => { await agent.stop(); await double.close(); await fs.rm(dir, { recursive: true, force: true }) }
  }
}

test('a multi-turn session (glob, read, write, edit, bash) runs to done with result, outputs and a log', async () => {
  const summary = '2 items: buy milk, call Ana.\n'
  const s = await setup([
    { text: 'Let me look around.', toolUses: [{ name: 'glob', input: { pattern: '*.md' } }] },
    { toolUses: [{ name: 'read', input: { file_path: 'notes.md' } }] },
    { toolUses: [{ name: 'write', input: { file_path: 'summary.txt', content: 'TODO' } }] },
    { toolUses: [{ name: 'edit', input: { file_path: 'summary.txt', old_string: 'TODO', new_string: summary } }] },
    { toolUses: [{ name: 'bash', input: { command: 'echo line >> summary.txt && wc -l < summary.txt' } }] },
    { text: 'Wrote summary.txt: 2 items (buy milk, call Ana).' }
  ], { terminal: true })
  try {
    const t = s.phone.addTask({ text: 'summarise my notes into summary.txt', target: DESK })
    await until(() => finished(s.phone.get(t.id)))
    const task = s.phone.get(t.id)!
    assert.is(task.status, 'done', task.error)
    assert.is(task.result, 'Wrote summary.txt: 2 items (buy milk, call Ana).')
    const reqs = s.double.requests
    assert.is(reqs.length, 6)
    assert.is(reqs[0]!.body.model, DEFAULT_MODEL)
    assert.match(reqs[0]!.body.system, new RegExp(`working directory is ${s.work}`))
    assert.match(reqs[0]!.body.system, /phone screen/)
    assert.equal(reqs[0]!.body.messages[0], { role: 'user', content: 'summarise my notes into summary.txt' })
    assert.match(toolResults(reqs[1]!)[0]!.text, /notes\.md/)
    assert.match(toolResults(reqs[2]!)[0]!.text, /buy milk/)
    assert.is(toolResults(reqs[5]!)[0]!.is_error, false)
    assert.is(toolResults(reqs[5]!)[0]!.text.trim(), '2')
    const content = await fs.readFile(path.join(s.work, 'summary.txt'))
    assert.is(content.toString(), summary + 'line\n')
    assert.equal(task.outputs, [{ path: path.join(s.work, 'summary.txt'), size: content.length, sha256: createHash('sha256').update(content).digest('hex'), text: content.toString() }])
    const log = s.phone.log(t.id).map((e) => `${e.kind}: ${e.text}`)
    for (const step of ['tool: glob "*.md"', 'tool: read "notes.md"', 'tool: write "summary.txt" (4 chars)', 'tool: edit "summary.txt"', 'tool: $ echo line >> summary.txt', 'text: Let me look around.']) {
      assert.ok(log.includes(step) || log.some((l) => l.startsWith(step)), `log has ${step}:\n${log.join('\n')}`)
    }
    const audit = await readAudit(s.home)
    assert.equal(audit.map((a) => a.tool), ['glob', 'read', 'write', 'edit', 'bash'])
    assert.ok(audit.every((a) => a.decision === 'allowed' && a.taskId === t.id))
  } finally { await s.done() }
})

test('with --approval-timeout 0, refused calls return error tool results and the task still finishes', async () => {
  const s = await setup([
    { toolUses: [{ name: 'read', input: { file_path: '../outside/secret.txt' } }, { name: 'write', input: { file_path: '../docs/ref.md', content: 'overwritten' } }] },
    { toolUses: [{ name: 'bash', input: { command: 'cat ../outside/secret.txt' } }] },
    { text: 'I could not reach those files.' }
  ], {}, { approvalTimeoutMs: 0 })
  try {
    const t = s.phone.addTask({ text: 'try to escape', target: DESK })
    await until(() => finished(s.phone.get(t.id)))
    assert.is(s.phone.get(t.id)!.status, 'done')
    const r1 = toolResults(s.double.requests[1]!)
    assert.is(r1.length, 2)
    assert.ok(r1.every((r) => r.is_error), JSON.stringify(r1))
    assert.match(r1[0]!.text, /permission denied/)
    assert.not.match(JSON.stringify(s.double.requests.map((r) => r.body)), SECRET)
    const r2 = toolResults(s.double.requests[2]!)
    assert.ok(r2[0]!.is_error, 'bash is not offered without the terminal, so the runner refuses the call')
    assert.is(await fs.readFile(path.join(s.docs, 'ref.md'), 'utf8'), 'reference')
    const audit = await readAudit(s.home)
    // The SDK runs the two calls of one turn in parallel: which is audited first is not part of the contract.
    assert.equal(audit.map((a) => `${a.tool} ${a.decision}`).sort(), ['read denied', 'write denied'])
    assert.ok(s.phone.log(t.id).some((e) => e.text.startsWith('refused: read')))
  } finally { await s.done() }
})

test('tools offered: no bash without the terminal, no network tool without the network', async () => {
  for (const [grants, expectBash, expectNet] of [[{}, false, false], [{ terminal: true }, true, false], [{ terminal: true, network: true }, true, true]] as const) {
    const s = await setup([{ text: 'ok' }], grants, { approvalTimeoutMs: 0 })
    try {
      const t = s.phone.addTask({ text: 'hi', target: DESK })
      await until(() => finished(s.phone.get(t.id)))
      const names = (s.double.requests[0]!.body.tools as Array<{ name: string }>).map((x) => x.name)
      assert.is(names.includes('bash'), expectBash, names.join(','))
      assert.is(names.includes('web_search'), expectNet, names.join(','))
      assert.ok(['read', 'write', 'edit', 'glob', 'grep'].every((n) => names.includes(n)))
      assert.not.ok(names.some((n) => /fetch|http|curl/.test(n)))
    } finally { await s.done() }
  }
})

test('cancel mid-run aborts the hanging request, status cancelled, nothing runs after', async () => {
  const s = await setup([
    { toolUses: [{ name: 'read', input: { file_path: 'notes.md' } }] },
    { hang: true },
    { toolUses: [{ name: 'write', input: { file_path: 'after.txt', content: 'too late' } }] }
  ])
  try {
    const t = s.phone.addTask({ text: 'slow', target: DESK })
    await until(() => s.double.requests.length === 2, 8000, 'the second turn')
    s.phone.requestCancel(t.id)
    // The double never answers that turn: finishing at all means the request was aborted.
    await until(() => finished(s.phone.get(t.id)), 60_000, 'cancelled')
    assert.is(s.phone.get(t.id)!.status, 'cancelled')
    await new Promise((r) => setTimeout(r, 300))
    assert.is(s.double.requests.length, 2)
    assert.not.ok(await fs.stat(path.join(s.work, 'after.txt')).catch(() => false))
  } finally { await s.done() }
})

test('API errors fail with a human message after the SDK retries', async () => {
  const cases: Array<[number, string, RegExp, number]> = [
    [401, 'authentication_error', /rejected the key: check ANTHROPIC_API_KEY/, 1],
    [429, 'rate_limit_error', /rate limited/, 3],
    [529, 'overloaded_error', /overloaded/, 3]
  ]
  for (const [status, errorType, message, requests] of cases) {
    const err: ScriptStep = { status, errorType, headers: { 'retry-after-ms': '5' } }
    const s = await setup([err, err, err])
    try {
      const t = s.phone.addTask({ text: 'hi', target: DESK })
      await until(() => finished(s.phone.get(t.id)))
      assert.is(s.phone.get(t.id)!.status, 'failed')
      assert.match(s.phone.get(t.id)!.error!, message)
      assert.is(s.double.requests.length, requests, `${status}: SDK retries`)
    } finally { await s.done() }
  }
  // no network: nothing listens there
  const closed = await startAnthropicDouble([])
  const url = closed.url
  await closed.close()
  const ex = new ClaudeExecutor({ apiKey: 'k', baseURL: url, maxRetries: 0, env: {} })
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-claude-')))
  const audit = await AuditLog.open(dir)
  try {
    const r = await ex.run({ taskId: 'T', text: 'hi', permissions: await Permissions.forTask({ readWrite: [dir], readOnly: [], terminal: false, network: false }), signal: new AbortController().signal, log: () => {}, audit })
    assert.is(r.status, 'failed')
    assert.match(r.error!, /cannot reach the Anthropic API/)
  } finally { await audit.close(); await fs.rm(dir, { recursive: true, force: true }) }
})

test('turn limit: a run that keeps calling tools stops with a clear message', async () => {
  const s = await setup([])
  await s.agent.stop()
  const double = await startAnthropicDouble(() => ({ toolUses: [{ name: 'glob', input: { pattern: '*' } }] }))
  const ex = new ClaudeExecutor({ apiKey: 'k', baseURL: double.url, maxTurns: 3, env: {} })
  const audit = await AuditLog.open(s.home)
  try {
    const r = await ex.run({ taskId: 'T', text: 'loop', permissions: await Permissions.forTask({ readWrite: [s.work], readOnly: [], terminal: false, network: false }), signal: new AbortController().signal, log: () => {}, audit })
    assert.is(r.status, 'failed')
    assert.match(r.error!, /after 3 turns/)
    assert.is(double.requests.length, 3)
  } finally { await audit.close(); await double.close(); await s.double.close(); await fs.rm(s.dir, { recursive: true, force: true }) }
})

test('path table through the executor\'s tools: 0 escapes', async () => {
  const table = await buildPathTable()
  const audit = await AuditLog.open(path.join(table.root, 'home'))
  try {
    const before = await Promise.all(table.guarded.map(snapshotTree))
    const permissions = await Permissions.forTask(table.grants)
    const ctx: ExecutionContext = { taskId: 'T', text: '', permissions, signal: new AbortController().signal, log: () => {}, audit }
    const tools = confinedTools(ctx, permissions.workdir()) as Array<{ name: string, run: (input: any, c?: any) => Promise<unknown> }>
    const tool = (n: string) => tools.find((t) => t.name === n)!
    const escapes: string[] = []
    for (const c of table.cases) {
      let ok = true
      let out = ''
      try {
        out = String(c.access === 'read' ? await tool('read').run({ file_path: c.path }) : await tool('write').run({ file_path: c.path, content: 'written by the table' }))
      } catch (err) { ok = false; out = (err as Error).message }
      if (!c.allowed && ok) escapes.push(`${c.name}: ${JSON.stringify(c.path)} ${c.access} succeeded: ${out.slice(0, 80)}`)
      if (out.includes(SECRET)) escapes.push(`${c.name}: the secret leaked`)
      if (c.allowed && c.exists && !ok) escapes.push(`${c.name}: a legitimate read failed: ${out}`)
      if (c.allowed && c.access === 'write' && !ok) escapes.push(`${c.name}: a legitimate write failed: ${out}`)
    }
    for (const p of ['../outside', '/etc', '.', 'link-out']) {
      try { const out = String(await tool('glob').run({ pattern: '**/*', path: p })); if (out.includes('secret')) escapes.push(`glob in ${p} listed the secret`) } catch { /* refused */ }
    }
    for (const pattern of ['../outside/*', '/tmp/*', '{..,x}/outside/*']) {
      try { await tool('glob').run({ pattern }); escapes.push(`glob ${pattern} was not refused`) } catch { /* refused */ }
    }
    assert.equal(escapes, [], escapes.join('\n'))
    assert.equal(await Promise.all(table.guarded.map(snapshotTree)), before, 'nothing outside the writable grants changed')
    const entries = await readAudit(path.join(table.root, 'home'))
    assert.ok(entries.length >= table.cases.length, 'every call audited')
  } finally { await audit.close(); await table.cleanup() }
})

test.run()
