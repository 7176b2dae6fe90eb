// The network grant enforced: without --network a `$` command (and Claude's bash) cannot reach a
// TCP server on 127.0.0.1 started here (a new network namespace has its own loopback, down);
// with --network it can. Skipped, with the reason, where the network cannot be cut.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import * as fs from 'node:fs/promises'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import type { AddressInfo } from 'node:net'
import { ShellExecutor } from './shell-executor.ts'
import { ClaudeExecutor } from './claude-executor.ts'
import { Permissions } from './permissions.ts'
import { AuditLog } from './audit-log.ts'
import { probeNoNetwork } from './sandbox.ts'
import { writeBashHook } from './bash-hook.ts'
import type { ExecutionContext } from './executor.ts'
import { startAnthropicDouble, toolResults } from './anthropic-double.ts'

const noNetwork = await probeNoNetwork()
const skipped = noNetwork.enforced ? null : noNetwork.reason

const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-sandbox-')))
const home = path.join(root, 'home')
const work = path.join(root, 'work')
await fs.mkdir(work, { recursive: true })
const audit = await AuditLog.open(home)
const bashEnv = await writeBashHook(home, noNetwork)
let accepted = 0
const server = net.createServer((s) => { accepted++; s.end() })
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const port = (server.address() as AddressInfo).port
// bash's /dev/tcp: a connect and nothing else (the shell is dash on many systems).
const connect = `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' && echo connected`

test.after(async () => {
  await audit.close()
  server.close()
  await fs.rm(root, { recursive: true, force: true })
})

async function context (text: string, network: boolean): Promise<ExecutionContext> {
  const taskId = `T-${network ? 'net' : 'nonet'}`
  return {
    taskId,
    text,
    signal: new AbortController().signal,
    audit,
    log: () => {},
    permissions: await Permissions.forTask({ readWrite: [work], readOnly: [], terminal: true, network }),
    noNetwork,
    bashEnv: bashEnv(taskId, network)
  }
}

if (skipped !== null) {
  console.log(`SKIPPED network grant tests: ${skipped}`)
  test.skip(`network grant enforced for commands (skipped: ${skipped})`, () => {})
} else {
  test('$ command without the network grant cannot connect to 127.0.0.1; with it, it can', async () => {
    const before = accepted
    const cut = await new ShellExecutor().run(await context(`$ ${connect}`, false))
    assert.is(cut.status, 'failed', cut.result)
    assert.match(cut.result ?? '', /unreachable|refused|not permitted/i)
    assert.is(accepted, before, 'the server saw no connection from the command without the grant')

    const open = await new ShellExecutor().run(await context(`$ ${connect}`, true))
    assert.is(open.status, 'done', open.error)
    assert.is(open.result, 'connected')
    for (const end = Date.now() + 10_000; accepted === before && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 20))
    assert.is(accepted, before + 1, 'the server saw the granted command connect')
  })

  test('Claude\'s bash without the network grant cannot connect; the system prompt says there is no network', async () => {
    const double = await startAnthropicDouble([
      { toolUses: [{ name: 'bash', input: { command: connect } }] },
      { text: 'tried' }
    ])
    try {
      const before = accepted
      const ctx = await context('connect to the local server', false)
      const r = await new ClaudeExecutor({ apiKey: 'sk-test', baseURL: double.url, maxRetries: 0 }).run(ctx)
      assert.is(r.status, 'done', r.error)
      const result = toolResults(double.requests[1]!)[0]!
      assert.match(result.text, /unreachable|refused|not permitted/i)
      assert.not.match(result.text, /connected/)
      assert.is(accepted, before)
      assert.match(String(double.requests[0]!.body.system), /You have no network access\./)
    } finally {
      await double.close()
    }
  })

  test('Claude\'s bash with the network grant connects', async () => {
    const double = await startAnthropicDouble([
      { toolUses: [{ name: 'bash', input: { command: connect } }] },
      { text: 'connected' }
    ])
    try {
      const before = accepted
      const r = await new ClaudeExecutor({ apiKey: 'sk-test', baseURL: double.url, maxRetries: 0 }).run(await context('connect to the local server', true))
      assert.is(r.status, 'done', r.error)
      assert.match(toolResults(double.requests[1]!)[0]!.text, /connected/)
      for (const end = Date.now() + 10_000; accepted === before && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 20))
      assert.is(accepted, before + 1)
      assert.match(String(double.requests[0]!.body.system), /You may use the network\./)
    } finally {
      await double.close()
    }
  })
}

test('where the network is not cut, the system prompt does not claim there is none', async () => {
  const double = await startAnthropicDouble([{ text: 'ok' }])
  try {
    const ctx = await context('say ok', false)
    const r = await new ClaudeExecutor({ apiKey: 'sk-test', baseURL: double.url, maxRetries: 0 }).run({ ...ctx, noNetwork: { enforced: false, reason: 'test' } })
    assert.is(r.status, 'done', r.error)
    const system = String(double.requests[0]!.body.system)
    assert.not.match(system, /You have no network access/)
    assert.match(system, /The network is not granted for this task: do not use it\./)
  } finally {
    await double.close()
  }
})
test.run()
