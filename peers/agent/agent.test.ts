// Agent loop on a plain Y.Doc: claims only its own tasks, concurrency, interrupted -> retried
// once, cancel within 2 s, malformed tasks, no-key behaviour, outputs, audit.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as fs from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import * as Y from 'yjs'
import { Agent } from './agent.ts'
import type { AgentOptions } from './agent.ts'
import { TaskBoard } from '../tasks/task-board.ts'
import type { Task } from '../tasks/task-board.ts'
import type { Executor, ExecutionContext, ExecutionResult } from './executor.ts'
import { newTaskId } from '../tasks/task-id.ts'

const PHONE = 'phone-1'
const DESK = 'desk-A'
const OTHER = 'desk-B'

function addDevice (doc: Y.Doc, id: string, role: 'phone' | 'desktop'): void {
  const m = new Y.Map<unknown>()
  m.set('name', id)
  m.set('role', role)
  doc.getMap('devices').set(id, m)
}

/** Live two-way replication between two docs (what a sync session does); returns a disconnect. */
function connect (a: Y.Doc, b: Y.Doc): () => void {
  const origin = { from: a }
  const back = { from: b }
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a), origin)
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b), back)
  const ab = (u: Uint8Array, o: unknown) => { if (o !== back) Y.applyUpdate(b, u, origin) }
  const ba = (u: Uint8Array, o: unknown) => { if (o !== origin) Y.applyUpdate(a, u, back) }
  a.on('update', ab)
  b.on('update', ba)
  return () => { a.off('update', ab); b.off('update', ba) }
}

/** A phone doc and a desktop doc kept in sync both ways, like a live sync session would. */
async function world () {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-agent-')))
  const work = path.join(dir, 'work')
  const home = path.join(dir, 'home')
  await fs.mkdir(work)
  const phoneDoc = new Y.Doc()
  const deskDoc = new Y.Doc()
  connect(phoneDoc, deskDoc)
  addDevice(phoneDoc, PHONE, 'phone')
  addDevice(phoneDoc, DESK, 'desktop')
  addDevice(phoneDoc, OTHER, 'desktop')
  const phone = new TaskBoard({ doc: phoneDoc, deviceId: PHONE, log: () => {} })
  const agents: Agent[] = []
  const mkAgent = async (opts: Partial<AgentOptions> = {}) => {
    const a = new Agent({ doc: deskDoc, deviceId: DESK, grants: { readWrite: [work], readOnly: [], terminal: true, network: false }, home, env: {}, keepAwake: false, log: () => {}, heartbeatMs: 50, ...opts })
    agents.push(a)
    await a.start()
    return a
  }
  const done = async () => {
    for (const a of agents) await a.stop()
    await fs.rm(dir, { recursive: true, force: true })
  }
  return { dir, work, home, phoneDoc, deskDoc, phone, mkAgent, done }
}

async function until (cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const finished = (t: Task | undefined) => t !== undefined && ['done', 'failed', 'cancelled'].includes(t.status)

/** An executor that blocks until released (or aborted), recording how many run at once. */
function gatedExecutor () {
  let active = 0
  let maxActive = 0
  const releases: Array<() => void> = []
  const started: string[] = []
  const ex: Executor = {
    name: 'gated',
    run: (ctx: ExecutionContext) => new Promise<ExecutionResult>((resolve) => {
      active++; maxActive = Math.max(maxActive, active); started.push(ctx.taskId)
      const finish = (r: ExecutionResult) => { active--; resolve(r) }
      releases.push(() => finish({ status: 'done', result: `ran ${ctx.text}` }))
      ctx.signal.addEventListener('abort', () => finish({ status: 'failed', error: 'aborted' }), { once: true })
    })
  }
  return { ex, releaseAll: () => { for (const r of releases.splice(0)) r() }, stats: () => ({ active, maxActive, started }) }
}

test('without a key: $ echo hello completes with hello; a sentence fails naming ANTHROPIC_API_KEY', async () => {
  const w = await world()
  try {
    await w.mkAgent()
    const a = w.phone.addTask({ text: '$ echo hello', target: DESK })
    const b = w.phone.addTask({ text: 'tidy my desktop', target: DESK })
    await until(() => finished(w.phone.get(a.id)) && finished(w.phone.get(b.id)))
    assert.is(w.phone.get(a.id)!.status, 'done')
    assert.is(w.phone.get(a.id)!.result, 'hello')
    assert.is(w.phone.get(a.id)!.claimedBy, DESK)
    assert.is(w.phone.get(b.id)!.status, 'failed')
    assert.match(w.phone.get(b.id)!.error!, /ANTHROPIC_API_KEY/)
    assert.ok(w.phone.log(a.id).some((e) => e.text.startsWith('$ echo hello')))
  } finally { await w.done() }
})

test('a poke before start() is done runs nothing (no audit log yet); start runs the task (a scheduler releasing a catch-up at start-up)', async () => {
  const w = await world()
  const agent = new Agent({ doc: w.deskDoc, deviceId: DESK, grants: { readWrite: [w.work], readOnly: [], terminal: true, network: false }, home: w.home, env: {}, keepAwake: false, log: () => {}, heartbeatMs: 50 })
  try {
    const t = w.phone.addTask({ text: '$ echo early', target: DESK })
    agent.poke()
    for (let i = 0; i < 10; i++) await Promise.resolve()
    assert.is(w.phone.get(t.id)!.status, 'queued', 'not claimed before the agent is ready')
    await agent.start()
    await until(() => finished(w.phone.get(t.id)))
    assert.is(w.phone.get(t.id)!.status, 'done')
    assert.is(w.phone.get(t.id)!.result, 'early')
  } finally {
    await agent.stop()
    await w.done()
  }
})

test('claims only tasks addressed to this desktop', async () => {
  const w = await world()
  try {
    await w.mkAgent()
    const other = w.phone.addTask({ text: '$ echo other', target: OTHER })
    const mine = w.phone.addTask({ text: '$ echo mine', target: DESK })
    await until(() => finished(w.phone.get(mine.id)))
    await new Promise((r) => setTimeout(r, 100))
    const t = w.phone.get(other.id)!
    assert.is(t.status, 'queued')
    assert.is(t.claimedBy, undefined)
    assert.equal(w.phone.log(other.id), [])
  } finally { await w.done() }
})

test('runs at most `concurrency` tasks at once, oldest first; heartbeats while running', async () => {
  const w = await world()
  const g = gatedExecutor()
  try {
    await w.mkAgent({ concurrency: 2, executor: 'claude', executors: { claude: g.ex } })
    // Each in its own folder: tasks that share one run one after another (see the per-folder test).
    for (const n of [1, 2, 3, 4, 5]) await fs.mkdir(path.join(w.work, `f${n}`))
    const ids = [1, 2, 3, 4, 5].map((n) => w.phone.addTask({ text: `t${n}`, target: DESK, scope: path.join(w.work, `f${n}`) }).id)
    await until(() => g.stats().started.length === 2)
    const hb = w.phone.get(ids[0]!)!.heartbeatAt!
    await until(() => (w.phone.get(ids[0]!)!.heartbeatAt ?? 0) > hb, 5000, 'a heartbeat')
    assert.equal(g.stats().started.slice().sort(), ids.slice(0, 2), 'the two oldest (they may reach the executor in either order)')
    assert.equal(ids.slice(2).map((id) => w.phone.get(id)!.status), ['queued', 'queued', 'queued'])
    while (ids.some((id) => !finished(w.phone.get(id)))) {
      g.releaseAll()
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.is(g.stats().maxActive, 2)
    assert.equal(ids.map((id) => w.phone.get(id)!.status), ['done', 'done', 'done', 'done', 'done'])
    assert.is(w.phone.get(ids[4]!)!.result, 'ran t5')
  } finally { g.releaseAll(); await w.done() }
})

test('cancel from the phone: the command is ended (its whole process group), status cancelled', async () => {
  const w = await world()
  try {
    await w.mkAgent()
    // Left alone it would run for five minutes: finishing at all means it was stopped.
    const t = w.phone.addTask({ text: '$ echo $$ > pid.txt; sleep 300; echo after > after.txt', target: DESK })
    await until(() => existsSync(path.join(w.work, 'pid.txt')), 30_000, 'the command started')
    const pid = Number(await fs.readFile(path.join(w.work, 'pid.txt'), 'utf8'))
    w.phone.requestCancel(t.id)
    await until(() => finished(w.phone.get(t.id)), 60_000, 'cancelled')
    assert.is(w.phone.get(t.id)!.status, 'cancelled')
    // Gone, or a zombie (ended; whoever it was left to may not reap it): nothing of it runs.
    const running = (): boolean => {
      let stat: string
      try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return false }
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
    }
    await until(() => !running(), 30_000, 'the command\'s shell ended')
    assert.not.ok(await fs.stat(path.join(w.work, 'after.txt')).catch(() => false), 'nothing ran after')
  } finally { await w.done() }
})

test('a cancel before it runs: queued -> cancelled without running', async () => {
  const w = await world()
  const g = gatedExecutor()
  try {
    const t = w.phone.addTask({ text: 'x', target: DESK })
    w.phone.requestCancel(t.id)
    await w.mkAgent({ executor: 'claude', executors: { claude: g.ex } })
    await until(() => finished(w.phone.get(t.id)))
    assert.is(w.phone.get(t.id)!.status, 'cancelled')
    assert.equal(g.stats().started, [])
  } finally { await w.done() }
})

test('a task left running by a dead agent (kill -9) is interrupted, retried once (attempt 2), then failed', async () => {
  const w = await world()
  try {
    // each desktop process has its own replica; a kill -9 cuts it off mid-run and its state is what was persisted
    const deadDoc1 = new Y.Doc()
    const cut1 = connect(w.phoneDoc, deadDoc1)
    const g1 = gatedExecutor()
    const first = new Agent({ doc: deadDoc1, deviceId: DESK, grants: { readWrite: [w.work], readOnly: [], terminal: false, network: false }, home: w.home, env: {}, keepAwake: false, log: () => {}, executor: 'claude', executors: { claude: g1.ex } })
    await first.start()
    const t = w.phone.addTask({ text: 'long job', target: DESK })
    await until(() => w.phone.get(t.id)!.status === 'running')
    cut1()
    const restarted = new Y.Doc()
    Y.applyUpdate(restarted, Y.encodeStateAsUpdate(deadDoc1))
    const cut2 = connect(w.phoneDoc, restarted)
    const g2 = gatedExecutor()
    const second = new Agent({ doc: restarted, deviceId: DESK, grants: { readWrite: [w.work], readOnly: [], terminal: false, network: false }, home: w.home, env: {}, keepAwake: false, log: () => {}, executor: 'claude', executors: { claude: g2.ex } })
    await second.start()
    await until(() => g2.stats().started.length === 1, 2000, 'the retry')
    const retried = w.phone.get(t.id)!
    assert.is(retried.status, 'running')
    assert.is(retried.attempt, 2)
    assert.ok(w.phone.log(t.id).some((e) => e.text.startsWith('interrupted')))
    // the second one dies too: this time no retry
    cut2()
    const again = new Y.Doc()
    Y.applyUpdate(again, Y.encodeStateAsUpdate(restarted))
    connect(w.phoneDoc, again)
    const g3 = gatedExecutor()
    const third = new Agent({ doc: again, deviceId: DESK, grants: { readWrite: [w.work], readOnly: [], terminal: false, network: false }, home: w.home, env: {}, keepAwake: false, log: () => {}, executor: 'claude', executors: { claude: g3.ex } })
    await third.start()
    await until(() => finished(w.phone.get(t.id)))
    assert.is(w.phone.get(t.id)!.status, 'failed')
    assert.match(w.phone.get(t.id)!.error!, /interrupted 2 times/)
    assert.equal(g3.stats().started, [])
    await third.stop()
    // the dead processes' leftovers, released only to close their files
    await first.stop()
    await second.stop()
  } finally { await w.done() }
})

test('malformed task fields fail that task; the agent keeps serving others', async () => {
  const w = await world()
  try {
    await w.mkAgent()
    const id = newTaskId()
    const m = new Y.Map<unknown>()
    w.phoneDoc.getMap('tasks').set(id, m)
    m.set('id', id); m.set('text', 'x'.repeat(3 * 1024 * 1024)); m.set('createdAt', Date.now()); m.set('createdBy', PHONE); m.set('target', DESK)
    const id2 = newTaskId()
    const m2 = new Y.Map<unknown>()
    w.phoneDoc.getMap('tasks').set(id2, m2)
    m2.set('id', id2); m2.set('text', { evil: true }); m2.set('createdAt', Date.now()); m2.set('createdBy', PHONE); m2.set('target', DESK)
    const ok = w.phone.addTask({ text: '$ echo fine', target: DESK })
    await until(() => finished(w.phone.get(id)) && finished(w.phone.get(id2)) && finished(w.phone.get(ok.id)))
    assert.is(w.phone.get(id)!.status, 'failed')
    assert.match(w.phone.get(id)!.error!, /malformed task: text: 3145728 characters/)
    assert.match(w.phone.get(id2)!.error!, /text: expected text, got an object/)
    assert.is(w.phone.get(ok.id)!.result, 'fine')
  } finally { await w.done() }
})

test('outputs: files created or changed list path, size, sha256 and small text inline', async () => {
  const w = await world()
  try {
    await fs.writeFile(path.join(w.work, 'untouched.txt'), 'same')
    await fs.writeFile(path.join(w.work, 'changed.txt'), 'before')
    await w.mkAgent()
    const t = w.phone.addTask({ text: '$ printf "hello out" > new.txt && printf after > changed.txt && head -c 100000 /dev/zero > big.bin', target: DESK })
    await until(() => finished(w.phone.get(t.id)))
    const outs = w.phone.get(t.id)!.outputs
    assert.equal(outs.map((o) => path.basename(o.path)), ['big.bin', 'changed.txt', 'new.txt'])
    const newTxt = outs.find((o) => o.path.endsWith('new.txt'))!
    assert.is(newTxt.sha256, createHash('sha256').update('hello out').digest('hex'))
    assert.is(newTxt.text, 'hello out')
    assert.is(newTxt.size, 9)
    const big = outs.find((o) => o.path.endsWith('big.bin'))!
    assert.is(big.size, 100000)
    assert.is(big.text, undefined)
    assert.is(big.sha256, createHash('sha256').update(Buffer.alloc(100000)).digest('hex'))
  } finally { await w.done() }
})

test('shell output streams into the log while the command runs (it waits on a file the test makes after seeing its first line)', async () => {
  const w = await world()
  const gate = path.join(w.dir, 'go')
  try {
    await w.mkAgent()
    const t = w.phone.addTask({ text: `$ echo first-line; echo to-stderr >&2; while [ ! -f '${gate}' ]; do sleep 0.05; done; echo last-line`, target: DESK })
    const output = () => w.phone.log(t.id).filter((e) => e.kind === 'output').map((e) => e.text).join('\n')
    await until(() => output().includes('first-line') && output().includes('to-stderr'), 10_000, 'the first lines in the log')
    assert.is(w.phone.get(t.id)!.status, 'running', 'seen while it runs, not at the end')
    await fs.writeFile(gate, '')
    await until(() => finished(w.phone.get(t.id)), 10_000)
    assert.is(w.phone.get(t.id)!.status, 'done')
    assert.ok(output().includes('last-line'))
    assert.is(w.phone.get(t.id)!.result, 'first-line\nto-stderr\nlast-line')
  } finally { await fs.writeFile(gate, ''); await w.done() }
})

test('two tasks in the same folder run one after another, each listing only the file it wrote; other folders run alongside', async () => {
  const w = await world()
  const gate = path.join(w.dir, 'gate')
  try {
    const shared = path.join(w.work, 'site')
    await fs.mkdir(shared)
    await fs.mkdir(path.join(w.work, 'elsewhere'))
    await w.mkAgent({ concurrency: 3 })
    const a = w.phone.addTask({ text: `$ printf a > a.txt && echo wrote-a && while [ ! -f '${gate}' ]; do sleep 0.05; done`, target: DESK, scope: shared })
    await until(() => w.phone.log(a.id).some((e) => e.kind === 'output' && e.text.includes('wrote-a')), 10_000, 'a.txt written')
    const b = w.phone.addTask({ text: '$ printf b > b.txt', target: DESK, scope: shared })
    const other = w.phone.addTask({ text: '$ printf c > c.txt', target: DESK, scope: path.join(w.work, 'elsewhere') })
    // A task elsewhere is not held up; the same folder's waits its turn (it runs once `a` is done).
    await until(() => finished(w.phone.get(other.id)), 10_000, 'the task in another folder')
    assert.equal(w.phone.get(other.id)!.outputs.map((o) => path.basename(o.path)), ['c.txt'])
    assert.is(w.phone.get(b.id)!.status, 'queued')
    await fs.writeFile(gate, '')
    await until(() => finished(w.phone.get(a.id)) && finished(w.phone.get(b.id)), 10_000)
    assert.equal(w.phone.get(a.id)!.outputs.map((o) => path.basename(o.path)), ['a.txt'])
    assert.equal(w.phone.get(b.id)!.outputs.map((o) => path.basename(o.path)), ['b.txt'])
  } finally { await fs.writeFile(gate, '').catch(() => {}); await w.done() }
})

test('a task narrowed outside the grants fails with a clear message', async () => {
  const w = await world()
  try {
    await w.mkAgent()
    const t = w.phone.addTask({ text: '$ ls', target: DESK, scope: '/etc' })
    await until(() => finished(w.phone.get(t.id)))
    assert.is(w.phone.get(t.id)!.status, 'failed')
    assert.match(w.phone.get(t.id)!.error!, /not inside a folder this desktop granted/)
  } finally { await w.done() }
})

test('stop() leaves running tasks interrupted; the next start retries them', async () => {
  const w = await world()
  const g = gatedExecutor()
  try {
    const a = await w.mkAgent({ executor: 'claude', executors: { claude: g.ex } })
    const t = w.phone.addTask({ text: 'job', target: DESK })
    // Running in the executor, not only marked running (the agent prepares the run in between).
    await until(() => w.phone.get(t.id)!.status === 'running' && g.stats().started.length === 1)
    await a.stop()
    assert.is(w.phone.get(t.id)!.status, 'interrupted')
    const g2 = gatedExecutor()
    await w.mkAgent({ executor: 'claude', executors: { claude: g2.ex } })
    await until(() => g2.stats().started.length === 1)
    g2.releaseAll()
    await until(() => finished(w.phone.get(t.id)))
    assert.is(w.phone.get(t.id)!.status, 'done')
    assert.is(w.phone.get(t.id)!.attempt, 2)
    // The first attempt was ended by stop() (not left running beside the retry), and each
    // executor started this task exactly once.
    assert.is(g.stats().active, 0)
    assert.equal(g.stats().started, [t.id])
    assert.equal(g2.stats().started, [t.id])
  } finally { await w.done() }
})

test.run()
