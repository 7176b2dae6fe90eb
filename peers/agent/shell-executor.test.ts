// Shell executor: `$ echo hello`, refusal without terminal, timeout, cancel, truncation; routing without a key.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { ShellExecutor } from './shell-executor.ts'
import { Permissions } from './permissions.ts'
import type { Grants } from './permissions.ts'
import { AuditLog, readAudit } from './audit-log.ts'
import { routeTask, NEEDS_KEY_MESSAGE } from './executor.ts'
import { LIVE_OUTPUT_MAX_BYTES } from './live-output.ts'
import type { ExecutionContext } from './executor.ts'

async function context (text: string, grants: Partial<Grants>, signal = new AbortController().signal) {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-shell-')))
  const home = path.join(dir, 'home')
  const work = path.join(dir, 'work')
  await fs.mkdir(work)
  const audit = await AuditLog.open(home)
  const logs: string[] = []
  const ctx: ExecutionContext = {
    taskId: 'T1', text, signal, audit,
    permissions: await Permissions.forTask({ readWrite: [work], readOnly: [], terminal: true, network: false, ...grants }),
    log: (kind, t) => logs.push(`${kind}: ${t}`)
  }
  return { ctx, logs, home, work, done: async () => { await audit.close(); await fs.rm(dir, { recursive: true, force: true }) } }
}

test('$ echo hello -> done with hello, run in the granted folder, audited first', async () => {
  const c = await context('$ echo hello && pwd', {})
  try {
    const r = await new ShellExecutor().run(c.ctx)
    assert.is(r.status, 'done')
    assert.is(r.result, `hello\n${c.work}`)
    const audit = await readAudit(c.home)
    assert.is(audit.length, 1)
    assert.is(audit[0]!.decision, 'allowed')
    assert.equal(audit[0]!.input, { command: 'echo hello && pwd', cwd: c.work })
    assert.ok(c.logs.some((l) => l.startsWith('tool: $ echo hello')))
  } finally { await c.done() }
})

test('without the terminal grant: a clear refusal, audited as denied', async () => {
  const c = await context('$ echo hello', { terminal: false })
  try {
    const r = await new ShellExecutor().run(c.ctx)
    assert.is(r.status, 'failed')
    assert.match(r.error!, /--terminal/)
    assert.is((await readAudit(c.home))[0]!.decision, 'denied')
  } finally { await c.done() }
})

test('a failing command fails with its exit code and output; stderr is captured', async () => {
  const c = await context('$ echo oops >&2; exit 3', {})
  try {
    const r = await new ShellExecutor().run(c.ctx)
    assert.is(r.status, 'failed')
    assert.is(r.error, 'exit code 3')
    assert.is(r.result, 'oops')
  } finally { await c.done() }
})

test('timeout kills the command (and its children)', async () => {
  const c = await context('$ sleep 30 | cat; echo never', {})
  try {
    const started = Date.now()
    const r = await new ShellExecutor({ timeoutMs: 300 }).run(c.ctx)
    assert.is(r.status, 'failed')
    assert.match(r.error!, /timed out/)
    assert.ok(Date.now() - started < 5000)
  } finally { await c.done() }
})

test('abort stops the command within 2 s', async () => {
  const ac = new AbortController()
  const c = await context('$ trap "" TERM; sleep 30', {}, ac.signal)
  try {
    const started = Date.now()
    setTimeout(() => ac.abort(), 100)
    const r = await new ShellExecutor().run(c.ctx)
    assert.is(r.status, 'failed')
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`)
  } finally { await c.done() }
})

test('long output keeps the head and the tail', async () => {
  const c = await context('$ seq 1 100000', {})
  try {
    const r = await new ShellExecutor().run(c.ctx)
    assert.is(r.status, 'done')
    assert.ok(r.result!.startsWith('1\n2\n3\n'))
    assert.ok(r.result!.endsWith('99999\n100000'))
    assert.match(r.result!, /bytes of output left out/)
    assert.ok(r.result!.length < 13_000)
  } finally { await c.done() }
})

test('a read-only scope cannot host a shell command', async () => {
  const c = await context('$ touch x', { readWrite: [], readOnly: [os.tmpdir()] })
  try {
    const r = await new ShellExecutor().run(c.ctx)
    assert.is(r.status, 'failed')
    assert.match(r.error!, /read-write folder/)
  } finally { await c.done() }
})

test('routing: no key -> $ tasks to the shell, other tasks refused naming ANTHROPIC_API_KEY', () => {
  const shell = new ShellExecutor()
  assert.is(routeTask('$ echo hello', 'auto', { shell }), shell)
  const r = routeTask('summarise my notes', 'auto', { shell })
  assert.ok('refused' in r && r.refused === NEEDS_KEY_MESSAGE)
  assert.match(NEEDS_KEY_MESSAGE, /ANTHROPIC_API_KEY/)
  const claude = { name: 'claude', run: async () => ({ status: 'done' as const }) }
  assert.is(routeTask('summarise', 'auto', { shell, claude }), claude)
  assert.is(routeTask('$ ls', 'claude', { shell, claude }), claude)
  assert.ok('refused' in routeTask('summarise', 'shell', { shell, claude }))
})

test('a chatty command streams in batches of lines, capped per task; the result still keeps its head and tail', async () => {
  const c = await context('$ seq 1 200000', {})
  try {
    const r = await new ShellExecutor().run(c.ctx)
    assert.is(r.status, 'done')
    const output = c.logs.filter((l) => l.startsWith('output: ')).map((l) => l.slice('output: '.length))
    const streamed = output.slice(0, -1).join('\n')
    assert.ok(streamed.startsWith('1\n2\n3\n'), 'lines in order, several per entry')
    assert.ok(streamed.length <= LIVE_OUTPUT_MAX_BYTES, `${streamed.length} bytes streamed`)
    assert.ok(output.length < 40, `${output.length} entries for 200000 lines`)
    assert.match(output.at(-1)!, /live output stops after 32 KiB/)
    assert.ok(r.result!.startsWith('1\n2\n') && r.result!.endsWith('199999\n200000'))
  } finally { await c.done() }
})

test.run()
