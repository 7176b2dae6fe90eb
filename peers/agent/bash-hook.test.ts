// Claude's bash hook on a real /bin/bash started the way the SDK starts it (detached, commands
// on stdin): the shell is recorded before its first command runs, without the network grant
// it runs with no network (same pid, still recorded), and a desktop starting up ends it.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { writeBashHook } from './bash-hook.ts'
import { RunRecords, processStartTime } from './run-records.ts'
import { probeNoNetwork } from './sandbox.ts'

const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-bash-hook-')))
const shells: ChildProcess[] = []

test.after(async () => {
  for (const c of shells) { try { process.kill(-c.pid!, 'SIGKILL') } catch {} }
  await fs.rm(root, { recursive: true, force: true })
})

/** A bash like the SDK's: detached, commands on stdin; resolves once it printed `ready` (its first command ran). */
async function sdkLikeBash (env: Record<string, string>, first: string): Promise<{ child: ChildProcess, out: () => string }> {
  const child = spawn('/bin/bash', ['--noprofile', '--norc'], { env: { ...process.env, ...env }, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
  shells.push(child)
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  child.stdin!.write(`${first}; echo ready\nsleep 300\n`)
  const end = Date.now() + 10_000
  while (!out.includes('ready')) {
    if (Date.now() > end || child.exitCode !== null) throw new Error(`bash did not get ready: ${out}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { child, out: () => out }
}

for (const network of [true, false]) {
  test(`the shell is recorded before its first command, then ended by start-up (network ${network ? 'granted' : 'not granted'})`, async () => {
    const home = path.join(root, network ? 'net' : 'nonet')
    const noNetwork = await probeNoNetwork()
    const env = (await writeBashHook(home, noNetwork))('task/1', network)
    const { child, out } = await sdkLikeBash(env, 'cat /proc/self/net/dev | wc -l; echo "BASH_ENV=[$BASH_ENV]"')
    const records = await new RunRecords(home).list()
    assert.equal(records.map((r) => [r.taskId, r.pgid]), [['task/1', child.pid]])
    assert.is(records[0]!.startTime, await processStartTime(child.pid!))
    assert.match(out(), 'BASH_ENV=[]', 'the hook is not inherited by the commands')
    if (process.platform === 'linux' && noNetwork.enforced) {
      // A new network namespace lists only its own loopback (2 header lines + lo).
      const lines = Number(out().trim().split('\n')[0])
      if (network) assert.ok(lines > 3, `the host's interfaces are seen: ${out()}`)
      else assert.is(lines, 3, `only a loopback is seen: ${out()}`)
    }
    const closed = once(child, 'close')
    const ended = await new RunRecords(home).endSurvivors(() => {})
    assert.is(ended.length, 1)
    await closed
    assert.equal(await new RunRecords(home).list(), [])
  })
}

test.run()
