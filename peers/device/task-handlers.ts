// What a device does for the task verbs: add, tasks, show, cancel, prune, watch, and the
// default desktop. Served on the control socket by a holder, or run on a home a verb opened.

import { TaskBoard } from '../tasks/task-board.ts'
import type { Task } from '../tasks/task-board.ts'
import { isFinal } from '../tasks/task-rules.ts'
import { TaskNotFoundError } from '../tasks/errors.ts'
import type { Member } from '../../core/index.ts'
import * as Y from 'yjs'
import type { ControlHandlers } from '../home/control.ts'
import type { Device } from './device.ts'
import { TaskArchive } from './archive.ts'
import type { ArchivedTask } from './archive.ts'
import { presenceOf } from './presence.ts'
import { finishedTime, tasksToRetire } from '../tasks/retention.ts'
import { readConfig, updateConfig } from './config.ts'

/** How long `add` tries to reach its target and waits for the receipt before saying "queued here". */
export const DELIVERY_WAIT_MS = 4_000

export class NoDesktopError extends Error {
  name = 'NoDesktopError'
}

export class TargetRefusedError extends Error {
  name = 'TargetRefusedError'
}

export class AmbiguousTaskError extends Error {
  name = 'AmbiguousTaskError'
}

export interface DeviceTasks {
  board: TaskBoard
  archive: TaskArchive
  /** This device archives `id` itself (prune): its delete is not archived a second time. */
  forgetFinished: (id: string) => void
  /** Archive `tasks` and remove from the document those this device created; one at a time. */
  retire: (tasks: Task[]) => Promise<{ archived: number, removed: number, keptForCreator: number }>
}

/** Automatic retention runs this long after a task finishes (a burst is one pass), and hourly. */
const RETENTION_DEBOUNCE_MS = 1_000
const RETENTION_PERIOD_MS = 3_600_000

const contexts = new WeakMap<Device, DeviceTasks>()

/**
 * The one board and archive of a device. Finished tasks that another member prunes (a
 * replicated delete) are archived here too, from the last view this device had of them.
 */
export function deviceTasks (device: Device): DeviceTasks {
  let ctx = contexts.get(device)
  if (ctx !== undefined) return ctx
  const board = new TaskBoard({ doc: device.space.doc, deviceId: device.peerId, log: () => {} })
  const archive = new TaskArchive(device.layout.dir)
  const finished = new Map<string, ArchivedTask>()
  const remember = (t: Task): void => { finished.set(t.id, { ...t, log: board.log(t.id), archivedAt: 0 }) }
  for (const t of board.list()) if (isFinal(t.status)) remember(t)
  board.on('tasks-change', ids => {
    const gone: ArchivedTask[] = []
    for (const id of ids) {
      const t = board.get(id)
      if (t !== undefined) { if (isFinal(t.status)) remember(t); continue }
      const last = finished.get(id)
      if (last !== undefined) { finished.delete(id); gone.push({ ...last, archivedAt: Date.now() }) }
    }
    archive.append(gone).catch(() => {})
  })
  let turn: Promise<unknown> = Promise.resolve()
  const retire = (tasks: Task[]): Promise<{ archived: number, removed: number, keptForCreator: number }> => {
    const run = turn.then(async () => {
      const now = Date.now()
      // Still live and finished: another turn or member may have removed some meanwhile.
      const live = tasks.filter(t => { const c = board.get(t.id); return c !== undefined && isFinal(c.status) })
      await archive.append(live.map(t => ({ ...t, log: board.log(t.id), archivedAt: now })))
      // Only the creator removes a task; the others leave when their creator's device retires them.
      const mine = live.filter(t => t.createdBy === device.peerId)
      for (const t of mine) finished.delete(t.id)
      if (mine.length > 0 && !device.space.closed) board.removeTasks(mine.map(t => t.id))
      return { archived: live.length, removed: mine.length, keptForCreator: live.length - mine.length }
    })
    turn = run.catch(() => {})
    return run
  }
  ctx = { board, archive, forgetFinished: id => { finished.delete(id) }, retire }
  contexts.set(device, ctx)
  keepRetention(device, ctx)
  return ctx
}

/**
 * Automatic retention (peers/tasks/retention.ts): on open, shortly after tasks finish, and
 * hourly, the tasks the policy retires are archived and this device removes those it created.
 */
function keepRetention (device: Device, { board, retire }: DeviceTasks): void {
  let timer: ReturnType<typeof setTimeout> | undefined
  const run = (): void => {
    timer = undefined
    if (device.space.closed) return
    const due = tasksToRetire(board.list(), Date.now()).filter(t => t.createdBy === device.peerId)
    // A failed archive write leaves the tasks live: the next pass tries again.
    if (due.length > 0) retire(due).catch(() => {})
    schedule(RETENTION_PERIOD_MS)
  }
  const schedule = (ms: number): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(run, ms)
    timer.unref()
  }
  board.on('tasks-change', ids => { if (ids.some(id => { const t = board.get(id); return t !== undefined && isFinal(t.status) })) schedule(RETENTION_DEBOUNCE_MS) })
  schedule(0)
}

/** A task as verbs show it: the whole task with its log and the target's name. */
export function taskView (device: Device, board: TaskBoard, t: Task): Record<string, unknown> {
  return {
    ...t,
    targetName: device.space.members.get(t.target)?.name ?? null,
    log: board.log(t.id),
    durationMs: t.startedAt !== undefined && t.finishedAt !== undefined ? t.finishedAt - t.startedAt : null
  }
}

function summary (device: Device, t: Task | ArchivedTask): Record<string, unknown> {
  return {
    id: t.id,
    text: t.text,
    status: t.status,
    target: t.target,
    targetName: device.space.members.get(t.target)?.name ?? null,
    attempt: t.attempt,
    createdAt: t.createdAt,
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    durationMs: t.startedAt !== undefined && t.finishedAt !== undefined ? t.finishedAt - t.startedAt : null,
    result: t.result ?? null,
    error: t.error ?? null
  }
}

/** The desktop `add` sends to: `--to` by name or id prefix, else the default, else the first paired. */
export async function resolveTarget (device: Device, query: string | undefined): Promise<Member> {
  let member: Member
  if (query !== undefined && query !== '') {
    member = device.findDevice(query)
  } else {
    const config = await readConfig(device.layout.config)
    const desktops = device.space.members.list()
      .filter(m => m.role === 'desktop' && m.peerId !== device.peerId && m.revokedAt === undefined)
      .sort((a, b) => a.pairedAt - b.pairedAt)
    const chosen = desktops.find(m => m.peerId === config.defaultDesktop) ?? desktops[0]
    if (chosen === undefined) throw new NoDesktopError('no paired desktop to send tasks to (pair one first: dispatch join)')
    member = chosen
  }
  if (member.revokedAt !== undefined) throw new TargetRefusedError(`"${member.name}" was revoked; tasks are not sent to it`)
  if (member.role !== 'desktop') throw new TargetRefusedError(`"${member.name}" is a ${member.role}, not a desktop; only desktops run tasks`)
  return member
}

/** Has `target` got the task: it moved past queued, or the target lists it in its presence. */
function received (device: Device, board: TaskBoard, id: string, target: string): boolean {
  const t = board.get(id)
  if (t === undefined) return false
  if (t.status !== 'queued' || t.attempt > 0) return true
  return presenceOf(device.space).get(target)?.queued?.includes(id) === true
}

function waitUntil (device: Device, board: TaskBoard, test: () => boolean, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise(resolve => {
    if (test()) { resolve(true); return }
    const check = (): void => { if (test()) finish(true) }
    const finish = (value: boolean): void => {
      clearTimeout(timer)
      board.off('tasks-change', check)
      device.space.awareness.off('change', check)
      signal.removeEventListener('abort', onAbort)
      resolve(value)
    }
    const onAbort = (): void => finish(test())
    const timer = setTimeout(() => finish(test()), timeoutMs)
    board.on('tasks-change', check)
    device.space.awareness.on('change', check)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Dial `peerId` if we know where it is and are not connected; bounded, never throws. */
async function reach (device: Device, peerId: string, timeoutMs: number): Promise<void> {
  if (device.space.connectedPeers().includes(peerId)) return
  const known = (await device.knownPeers()).find(p => p.peerId === peerId)
  if (known === undefined) return
  await Promise.race([
    device.node.connect(known.addrs).catch(() => {}),
    new Promise(resolve => setTimeout(resolve, timeoutMs).unref())
  ])
}

function findTask (board: TaskBoard, archived: ArchivedTask[], query: string): { task: Task, archived?: ArchivedTask } {
  const q = query.toUpperCase()
  const live = board.list().filter(t => t.id.toUpperCase().startsWith(q))
  const old = archived.filter(t => t.id.toUpperCase().startsWith(q) && !live.some(l => l.id === t.id))
  const all = [...live.map(task => ({ task })), ...old.map(a => ({ task: a as Task, archived: a }))]
  if (all.length === 0 || q === '') throw new TaskNotFoundError(query)
  const exact = all.find(m => m.task.id.toUpperCase() === q)
  if (exact !== undefined) return exact
  if (all.length > 1) throw new AmbiguousTaskError(`"${query}" matches ${all.length} tasks; give more of the id`)
  return all[0]
}

export function taskHandlers (device: Device): ControlHandlers {
  const { board, archive, retire } = deviceTasks(device)

  return {
    add: async (args: { text: string, to?: string, scope?: string, wait?: boolean, deliverMs?: number }, emit, signal) => {
      const target = await resolveTarget(device, args.to)
      const task = board.addTask({ text: String(args.text), target: target.peerId, ...(args.scope !== undefined ? { scope: String(args.scope) } : {}) })
      await device.space.flush()
      // On disk now: the caller may say "queued" whatever happens next.
      emit({ event: 'queued', id: task.id, target: target.peerId, targetName: target.name })
      const deliverMs = args.deliverMs ?? DELIVERY_WAIT_MS
      const start = Date.now()
      await reach(device, target.peerId, deliverMs)
      const connected = device.node.connectedPeers().includes(target.peerId) || device.space.connectedPeers().includes(target.peerId)
      // Not connected: nobody can acknowledge it now, so say so at once instead of waiting.
      const delivered = connected
        ? await waitUntil(device, board, () => received(device, board, task.id, target.peerId), Math.max(500, deliverMs - (Date.now() - start)), signal)
        : received(device, board, task.id, target.peerId)
      const out: Record<string, unknown> = { id: task.id, status: 'queued', delivered, target: target.peerId, targetName: target.name }
      if (args.wait === true) {
        let last = ''
        await waitUntil(device, board, () => {
          const t = board.get(task.id)
          if (t !== undefined && t.status !== last) { last = t.status; emit({ event: 'status', id: t.id, status: t.status, attempt: t.attempt }) }
          return t === undefined || isFinal(t.status)
        }, 2 ** 31 - 1, signal)
        const t = board.get(task.id)
        if (t !== undefined) out.task = taskView(device, board, t)
      }
      return out
    },

    tasks: async (args: { all?: boolean, status?: string, archived?: boolean }) => {
      let list: Array<Task | ArchivedTask> = args.archived === true ? await archive.list() : board.list().reverse()
      if (args.status !== undefined) list = list.filter(t => t.status === args.status)
      else if (args.all !== true && args.archived !== true) list = list.filter(t => !isFinal(t.status))
      return list.map(t => summary(device, t))
    },

    show: async (args: { id: string }) => {
      const found = findTask(board, await archive.list(), String(args.id))
      if (found.archived !== undefined) return { ...summary(device, found.archived), ...found.archived, archived: true }
      return { ...taskView(device, board, found.task), archived: false }
    },

    cancel: async (args: { id: string }) => {
      const found = findTask(board, [], String(args.id))
      const before = found.task
      if (isFinal(before.status)) return { id: before.id, status: before.status, cancelRequested: before.cancelRequested, alreadyFinished: true }
      const t = board.requestCancel(before.id)
      await device.space.flush()
      await reach(device, t.target, 2_000)
      return { id: t.id, status: t.status, cancelRequested: true, alreadyFinished: false }
    },

    prune: async (args: { olderThanMs: number }) => {
      const cutoff = Date.now() - Number(args.olderThanMs)
      const docBytesBefore = Y.encodeStateAsUpdate(device.space.doc).byteLength
      const old = board.list().filter(t => isFinal(t.status) && finishedTime(t) <= cutoff)
      const { archived, removed, keptForCreator } = await retire(old)
      await device.space.flush()
      const docBytesAfter = Y.encodeStateAsUpdate(device.space.doc).byteLength
      return { archived, removed, keptForCreator, docBytesBefore, docBytesAfter }
    },

    /** Streams status changes and completions until the caller goes away. */
    watch: async (_args, emit, signal) => {
      const seen = new Map<string, string>()
      for (const t of board.list()) seen.set(t.id, `${t.status}/${t.attempt}`)
      const onChange = (ids: string[]): void => {
        for (const id of ids) {
          const t = board.get(id)
          if (t === undefined) continue
          const key = `${t.status}/${t.attempt}`
          if (seen.get(id) === key) continue
          seen.set(id, key)
          emit({ event: 'status', id, text: t.text, status: t.status, attempt: t.attempt, targetName: device.space.members.get(t.target)?.name ?? null })
          if (isFinal(t.status)) emit({ event: 'finished', task: taskView(device, board, t) })
        }
      }
      board.on('tasks-change', onChange)
      try {
        await new Promise<void>(resolve => {
          if (signal.aborted) resolve()
          signal.addEventListener('abort', () => resolve(), { once: true })
        })
        return null
      } finally {
        board.off('tasks-change', onChange)
      }
    },

    setDefault: async (args: { device: string }) => {
      const member = await resolveTarget(device, String(args.device))
      await updateConfig(device.layout.config, c => { c.defaultDesktop = member.peerId })
      return { peerId: member.peerId, name: member.name }
    },

    defaultDesktop: async () => {
      try {
        const m = await resolveTarget(device, undefined)
        return { peerId: m.peerId, name: m.name }
      } catch {
        return null
      }
    }
  }
}
