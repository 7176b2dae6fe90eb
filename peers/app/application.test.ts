// The application's use cases on two real devices (libp2p on 127.0.0.1, memory storage), called
// as every front end calls them: pair/join with the verification code, devices, add (delivered
// only once the desktop acknowledged it), tasks/show/cancel/watch/prune, revoke. And the API's
// surface: one input parser per use case, bad inputs refused.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createSyncNode, MemoryStore, PairingService } from '../../core/index.ts'
import type { SyncNode } from '../../core/index.ts'
import { MemoryRefusalLog } from './refusals.ts'
import { Application } from './application.ts'
import { API_INPUTS, API_METHODS } from './api.ts'
import type { WatchEvent } from './api.ts'
import type { ArchivedTask, DeviceRuntime, Settings } from './ports.ts'
import type { DeviceRole } from '../tasks/roles.ts'
import { Scheduler } from '../schedules/scheduler.ts'

const nodes: SyncNode[] = []
const reports: string[] = []
test.after(async () => { await Promise.all(nodes.map(async n => await n.stop())) })

/** A device as the use cases see it: a real node and space, settings and archive in memory. */
async function device (name: string, role: DeviceRole): Promise<Application> {
  const node = await createSyncNode(role === 'desktop' ? {} : { listen: [] })
  nodes.push(node)
  const space = await node.openSpace('dispatch', { storage: new MemoryStore() })
  space.members.add({ peerId: node.peerId, name, role, pairedAt: Date.now(), pairedBy: node.peerId })
  const pairing = role === 'desktop' ? new PairingService(node, space, { name, role, peerRole: 'phone' }) : null
  await pairing?.start()
  const settings: Settings = {}
  const archived: ArchivedTask[] = []
  const runtime: DeviceRuntime = {
    node, space, name, role, pairing, peerId: node.peerId,
    settings: { read: async () => ({ ...settings }), update: async change => { change(settings) } },
    archive: { append: async tasks => { archived.push(...tasks) }, list: async () => archived.slice().reverse() },
    refusals: new MemoryRefusalLog(),
    now: () => Date.now(),
    webUrls: () => [],
    inviteAddrs: invite => invite.addrs,
    report: line => { reports.push(line) }
  }
  return new Application(runtime)
}

async function rejectsNamed (p: Promise<unknown>, name: string, message?: RegExp): Promise<void> {
  try {
    await p
  } catch (err) {
    assert.is((err as Error).name, name, (err as Error).message)
    if (message !== undefined) assert.match((err as Error).message, message)
    return
  }
  assert.unreachable(`expected ${name}`)
}

test('the API: one input parser per use case, each use case implemented; bad inputs refused before anything runs', () => {
  const implemented = Object.getOwnPropertyNames(Application.prototype).filter(n => n !== 'constructor' && n !== 'close' && n !== 'board' && n !== 'scheduleBoard')
  assert.equal([...API_METHODS].sort(), implemented.sort())
  assert.equal(API_INPUTS.add({ text: 'x', to: 'desk' }), { text: 'x', to: 'desk' })
  assert.throws(() => API_INPUTS.add({ to: 'desk' }), (err: Error) => err.name === 'BadInputError' && /text/.test(err.message))
  assert.throws(() => API_INPUTS.tasks({ status: 'bogus' }), (err: Error) => err.name === 'BadInputError')
  assert.throws(() => API_INPUTS.prune({ olderThanMs: -1 }), (err: Error) => err.name === 'BadInputError')
  assert.throws(() => API_INPUTS.show('not an object'), (err: Error) => err.name === 'BadInputError')
  assert.equal(API_INPUTS.status(undefined), {})
})

test('pair, add (delivered only when acknowledged), list, show, watch, cancel, prune, revoke', async () => {
  const desk = await device('desk', 'desktop')
  const phone = await device('pocket', 'phone')
  await rejectsNamed(phone.pair({}), 'NotInvitableError')

  // Pairing: the desktop streams its invite, both sides are asked to compare the same code.
  const codes: string[] = []
  let invite!: (text: string) => void
  const inviteText = new Promise<string>(resolve => { invite = resolve })
  const paired = desk.pair({ ttlMs: 60_000 }, { onEvent: e => invite(e.invite), confirm: async p => { codes.push(p.code); return p.name === 'pocket' } })
  const joined = await phone.join({ invite: await inviteText }, { confirm: async p => { codes.push(p.code); return p.name === 'desk' } })
  assert.equal(await paired, { peerId: phone.device.peerId, name: 'pocket' })
  assert.is(joined.name, 'desk')
  assert.equal(codes, [joined.code, joined.code])
  const devices = await phone.devices({})
  assert.equal(devices.map(d => [d.name, d.role, d.default, d.self]), [['desk', 'desktop', true, false]])
  assert.ok(devices[0].online)

  // Connected, but nobody on the desktop acknowledges: queued here, not delivered.
  const events: string[] = []
  const unacknowledged = await phone.add({ text: '$ echo one', deliverMs: 600 }, { onEvent: e => events.push(e.event) })
  assert.equal(events, ['queued'])
  assert.is(unacknowledged.delivered, false)
  assert.is(unacknowledged.targetName, 'desk')

  // The desktop claims what reaches it (as its agent would): that claim is the receipt.
  desk.board.on('tasks-change', ids => {
    for (const id of ids) if (desk.board.get(id)?.status === 'queued' && desk.board.get(id)?.target === desk.device.peerId) desk.board.claimTask(id)
  })
  const seen: WatchEvent[] = []
  const stopWatch = new AbortController()
  const watching = phone.watch({}, { signal: stopWatch.signal, onEvent: e => seen.push(e) })
  const acknowledged = await phone.add({ text: '$ echo two' })
  assert.is(acknowledged.delivered, true)

  const active = await phone.tasks({})
  assert.equal(active.map(t => t.text).sort(), ['$ echo one', '$ echo two'])
  assert.is((await phone.show({ id: acknowledged.id.slice(0, 20) })).id, acknowledged.id)
  await rejectsNamed(phone.show({ id: 'ZZZZ' }), 'TaskNotFoundError')
  await rejectsNamed(phone.add({ text: 'x', to: 'pocket' }), 'UnknownDeviceError')

  // Cancel reaches the desktop; the desktop finishes the task; watch sees it finish.
  const cancelled = await phone.cancel({ id: acknowledged.id })
  assert.equal([cancelled.cancelRequested, cancelled.alreadyFinished], [true, false])
  const finished = new Promise<void>(resolve => {
    const check = (): void => { if (seen.some(e => e.event === 'finished' && e.task.id === acknowledged.id)) resolve() }
    phone.board.on('tasks-change', check)
  })
  await new Promise<void>(resolve => {
    const finish = (): void => {
        if (desk.board.get(acknowledged.id)?.cancelRequested !== true) return
      desk.board.off('tasks-change', finish)
      // Outside the listener: inside it, the board's view still has the state before this change.
      queueMicrotask(() => {
        desk.board.startTask(acknowledged.id)
        desk.board.finishTask(acknowledged.id, 'cancelled')
        resolve()
      })
    }
    desk.board.on('tasks-change', finish)
    finish()
  })
  await finished
  stopWatch.abort()
  assert.is(await watching, null)

  const pruned = await phone.prune({ olderThanMs: 0 })
  assert.equal([pruned.archived, pruned.removed], [1, 1])
  assert.is((await phone.show({ id: acknowledged.id })).archived, true)
  assert.equal((await phone.tasks({ archived: true })).map(t => t.id), [acknowledged.id])

  const revoked = await phone.revoke({ device: 'desk' })
  assert.type(revoked.revokedAt, 'number')
  assert.equal(phone.device.node.knownPeers(), [])
  await rejectsNamed(phone.add({ text: 'x', to: 'desk' }), 'UnknownTargetError', /revoked/)
  assert.equal(reports, [], 'nothing went wrong unseen')
})

/** Until `ready()` holds: waiting for replication between two real nodes, not a speed assertion. */
async function eventually (ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000
  while (!ready()) {
    if (Date.now() > deadline) assert.unreachable(`never happened: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

test('schedules: add from the phone, the desktop runs and skips (the phone\'s watch hears of the skip), pause, delete', async () => {
  const desk = await device('desk2', 'desktop')
  const phone = await device('pocket2', 'phone')
  let invite!: (text: string) => void
  const inviteText = new Promise<string>(resolve => { invite = resolve })
  const paired = desk.pair({ ttlMs: 60_000 }, { onEvent: e => invite(e.invite) })
  await phone.join({ invite: await inviteText })
  await paired

  assert.equal(API_INPUTS.addSchedule({ text: 'x', every: '1m', tz: undefined }), { text: 'x', every: '1m' })
  assert.throws(() => API_INPUTS.addSchedule({ text: 'x', every: 60 }), (err: Error) => err.name === 'BadInputError')
  await rejectsNamed(phone.addSchedule({ text: 'x', every: 'soon' }), 'InvalidScheduleError')
  await rejectsNamed(phone.addSchedule({ text: 'x', every: '1m', cron: '* * * * *' }), 'InvalidScheduleError', /only one/)

  const added = await phone.addSchedule({ text: '$ sleep 1000', every: '1m' })
  assert.is(added.reached, true)
  assert.is(added.schedule.when, 'every 1m')
  assert.is(added.schedule.nextRunAt, added.schedule.spec.kind === 'every' ? added.schedule.spec.anchor + 60_000 : -1)
  const id = added.schedule.id
  // 'reached' means the desktop confirmed it holds the schedule: no waiting for it here.
  assert.ok(desk.scheduleBoard.get(id) !== undefined, 'the schedule on the desktop once reached')

  // The desktop's scheduler on its own clock; nothing plays the agent, so the first run stays queued.
  let now = added.schedule.createdAt + 60_000
  const scheduler = new Scheduler({ schedules: desk.scheduleBoard, board: desk.board, deviceId: desk.device.peerId, flush: async () => { await desk.device.space.flush() }, now: () => now, timers: false })
  const seen: WatchEvent[] = []
  const stopWatch = new AbortController()
  const watching = phone.watch({}, { signal: stopWatch.signal, onEvent: e => seen.push(e) })
  await scheduler.start()
  now += 60_000
  await scheduler.tick()
  await eventually(() => seen.some(e => e.event === 'schedule' && e.scheduleId === id && e.entry.kind === 'skipped'), 'the skip reported to the phone')
  const [view] = await phone.schedules({})
  assert.is(view.last?.kind, 'skipped')
  assert.is(view.taskIds.length, 1)
  assert.is((await phone.tasks({})).find(t => t.id === view.taskIds[0])?.scheduleId, id)

  const paused = await phone.pauseSchedule({ id: id.slice(0, 20) })
  assert.is(paused.paused, true)
  assert.is(paused.nextRunAt, null)
  await eventually(() => desk.scheduleBoard.get(id)?.paused === true, 'the pause on the desktop')
  await rejectsNamed(desk.pauseSchedule({ id }), 'WrongScheduleWriterError')
  assert.equal(await phone.deleteSchedule({ id }), { id, deleted: true })
  await eventually(() => desk.scheduleBoard.get(id) === undefined, 'the delete on the desktop')
  await rejectsNamed(phone.resumeSchedule({ id }), 'ScheduleNotFoundError')
  stopWatch.abort()
  await watching
  await scheduler.stop()
})

test.run()
