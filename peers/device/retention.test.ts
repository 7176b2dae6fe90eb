// Automatic retention on a device: finished tasks past the policy (over 30 days, or beyond the
// newest 500) are archived and leave the document, without any verb; live ones stay.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lockHome } from '../home/lock.ts'
import { ensureHomeDir } from '../home/layout.ts'
import { openDevice } from './device.ts'
import { Application } from '../app/application.ts'
import { TaskBoard } from '../tasks/task-board.ts'
import { DEFAULT_RETENTION } from '../tasks/retention.ts'

const DESK = '12D3KooWRetentionTestDeskRetentionTestDeskRetention1'
const DAY = 24 * 3_600_000
const WAIT_MS = 20_000

async function until (what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + WAIT_MS
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} within ${WAIT_MS} ms`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

test('a phone retires finished tasks past 30 days and beyond 500 on its own, archived first', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-retention-'))
  const layout = await ensureHomeDir(dir)
  const device = await openDevice({ home: dir, lock: await lockHome(layout.dir), role: 'phone', listen: [], dialMembers: false, mdns: false })
  const app = new Application(device)
  try {
    device.space.members.add({ peerId: DESK, name: 'desk', role: 'desktop', pairedAt: Date.now(), pairedBy: device.peerId })
    const { board } = app
    const { archive } = device
    // The desktop's writes, made here through a board with its identity (and a clock 40 days back for the first ten).
    let deskNow = Date.now() - 40 * DAY
    const desk = new TaskBoard({ doc: device.space.doc, deviceId: DESK, now: () => deskNow, log: () => {} })
    const finish = (id: string): void => { desk.claimTask(id); desk.startTask(id); desk.finishTask(id, 'done', { result: 'ok' }) }
    const ids: string[] = []
    for (let i = 0; i < 10; i++) { const t = board.addTask({ text: `old ${i}`, target: DESK }); finish(t.id); ids.push(t.id) }
    deskNow = Date.now()
    for (let i = 0; i < DEFAULT_RETENTION.maxFinished + 5; i++) { const t = board.addTask({ text: `recent ${i}`, target: DESK }); finish(t.id); ids.push(t.id) }
    const live = board.addTask({ text: 'still running', target: DESK })
    desk.claimTask(live.id)

    await until('the document keeps 500 finished tasks and the live one', () => board.list().length === DEFAULT_RETENTION.maxFinished + 1)
    const left = new Set(board.list().map(t => t.id))
    assert.ok(left.has(live.id), 'an unfinished task stays')
    for (const id of ids.slice(0, 15)) assert.not.ok(left.has(id), `${id} (old, or beyond the newest 500) left`)
    for (const id of ids.slice(15)) assert.ok(left.has(id), `${id} (among the newest 500) stays`)
    const archived = new Set((await archive.list()).map(t => t.id))
    for (const id of ids.slice(0, 15)) assert.ok(archived.has(id), `${id} is in the archive`)
    await device.space.flush()
  } finally {
    app.close()
    await device.close()
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
