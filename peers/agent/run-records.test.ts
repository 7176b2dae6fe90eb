// Run records on real processes: a command runs only once recorded, and its record goes when
// it ends; start-up ends a recorded group still alive, but never a process that merely reuses
// the pid (another start time); a command whose record cannot be written never starts.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { RunRecords, RUNS_DIR, groupAlive, processStartTime } from './run-records.ts'

const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dispatch-runs-')))
const strays: ChildProcess[] = []

test.after(async () => {
  for (const c of strays) { try { process.kill(-c.pid!, 'SIGKILL') } catch {} }
  await fs.rm(root, { recursive: true, force: true })
})

async function home (name: string): Promise<string> {
  const dir = path.join(root, name)
  await fs.mkdir(dir, { recursive: true })
  return dir
}

const exists = async (p: string): Promise<boolean> => await fs.access(p).then(() => true, () => false)

async function until (cond: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test('a command is recorded (group, start time) while it runs, and the record goes when it ends', async () => {
  const h = await home('a')
  const runs = new RunRecords(h)
  const child = await runs.spawn('T/1', ['/bin/sh', '-c', 'sleep 300'], { cwd: h, env: process.env })
  const [record] = await runs.list()
  assert.is(record!.taskId, 'T/1')
  assert.is(record!.pgid, child.pid)
  assert.is(record!.startTime, await processStartTime(child.pid!))
  process.kill(-child.pid!, 'SIGTERM')
  await once(child, 'close')
  await until(async () => (await runs.list()).length === 0, 'the record to be removed')
})

test('start-up ends a recorded group still alive (its other processes too) and removes the record', async () => {
  const h = await home('b')
  const runs = new RunRecords(h)
  const child = await runs.spawn('T2', ['/bin/sh', '-c', 'sleep 300 & sleep 300; wait'], { cwd: h, env: process.env })
  strays.push(child)
  const closed = once(child, 'close')
  const lines: string[] = []
  const ended = await new RunRecords(h).endSurvivors((l) => lines.push(l))
  assert.equal(ended.map((r) => r.taskId), ['T2'])
  assert.match(lines.join('\n'), /task T2: its command from before the restart is still running/)
  await closed
  assert.is(await groupAlive(child.pid!), false, 'no live process of the group is left')
  assert.equal(await fs.readdir(path.join(h, RUNS_DIR)).then((n) => n.filter((f) => f.endsWith('.json'))), [])
})

test('a record whose pid now belongs to another process (another start time) ends nothing', async () => {
  const h = await home('c')
  const other = spawn('/bin/sh', ['-c', 'sleep 300'], { detached: true, stdio: 'ignore' })
  strays.push(other)
  await fs.mkdir(path.join(h, RUNS_DIR))
  await fs.writeFile(path.join(h, RUNS_DIR, `T3-${other.pid}.json`), JSON.stringify({ taskId: 'T3', pgid: other.pid, startTime: 'not-its-start-time', recordedAt: new Date().toISOString() }))
  const ended = await new RunRecords(h).endSurvivors(() => {})
  assert.equal(ended, [])
  assert.ok(await processStartTime(other.pid!) !== undefined, 'the unrelated process still runs')
  assert.is((await new RunRecords(h).list()).length, 0, 'the stale record is removed')
})

test('a command whose record cannot be written never starts', async () => {
  const h = await home('d')
  await fs.writeFile(path.join(h, RUNS_DIR), 'not a folder')
  const marker = path.join(h, 'ran.txt')
  try {
    await new RunRecords(h).spawn('T4', ['/bin/sh', '-c', `echo ran > ${marker}`], { cwd: h, env: process.env })
    assert.unreachable('spawn should have failed')
  } catch (err) {
    assert.match((err as Error).message, /cannot record the command before it starts/)
  }
  // spawn returns (throws) only once the gated shell has exited.
  assert.is(await exists(marker), false)
})

test.run()
