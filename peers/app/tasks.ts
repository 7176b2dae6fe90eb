// The task use cases: add, tasks, show, cancel, prune, watch, and the desktop a task goes to.
// `add` is where `dispatch add` and the web app's Add button meet.

import * as Y from 'yjs'
import type { Member } from '../../core/index.ts'
import type { Task } from '../tasks/task-board.ts'
import { isFinal } from '../tasks/task-rules.ts'
import { TaskNotFoundError } from '../tasks/errors.ts'
import { finishedTime } from '../tasks/retention.ts'
import type {
  AddEvent, AddInput, AddResult, CallOptions, CancelResult, PruneResult, TaskDetail, TaskSummary, TasksInput, WatchEvent
} from './api.ts'
import type { AppContext } from './context.ts'
import type { ArchivedTask } from './ports.ts'
import { presenceOf } from './presence.ts'

/** How long `add` tries to reach its target and waits for the receipt before saying "queued here". */
export const DELIVERY_WAIT_MS = 4_000
/** How long `cancel` tries to reach the target so the request leaves at once. */
const CANCEL_REACH_MS = 2_000

export class NoDesktopError extends Error {
  name = 'NoDesktopError'
}

export class AmbiguousTaskError extends Error {
  name = 'AmbiguousTaskError'
}

/** Queue a task: on disk before 'queued'; `delivered` once the target acknowledged it. */
export async function addTask (ctx: AppContext, input: AddInput, options: CallOptions<AddEvent> = {}): Promise<AddResult> {
  const { board, device } = ctx
  const emit = options.onEvent ?? (() => {})
  const signal = options.signal ?? new AbortController().signal
  const target = await resolveTarget(ctx, input.to)
  const task = board.addTask({ text: input.text, target: target.peerId, ...(input.scope !== undefined ? { scope: input.scope } : {}) })
  await device.space.flush()
  // On disk now: the caller may say "queued" whatever happens next.
  emit({ event: 'queued', id: task.id, target: target.peerId, targetName: target.name })
  const deliverMs = input.deliverMs ?? DELIVERY_WAIT_MS
  const started = device.now()
  // Not reachable: nobody can acknowledge it now, so say so at once instead of waiting.
  const delivered = await reach(ctx, target.peerId, deliverMs)
    ? await waitUntil(ctx, () => received(ctx, task.id, target.peerId), Math.max(500, deliverMs - (device.now() - started)), signal)
    : received(ctx, task.id, target.peerId)
  const out: AddResult = { id: task.id, status: 'queued', delivered, target: target.peerId, targetName: target.name }
  if (input.wait === true) {
    let last = ''
    await waitUntil(ctx, () => {
      const t = board.get(task.id)
      if (t !== undefined && t.status !== last) { last = t.status; emit({ event: 'status', id: t.id, status: t.status, attempt: t.attempt }) }
      return t === undefined || isFinal(t.status)
    }, Infinity, signal)
    const t = board.get(task.id)
    if (t !== undefined) out.task = detail(ctx, t)
  }
  return out
}

export async function listTasks (ctx: AppContext, input: TasksInput): Promise<TaskSummary[]> {
  let list: Array<Task | ArchivedTask> = input.archived === true ? await ctx.device.archive.list() : ctx.board.list().reverse()
  if (input.status !== undefined) list = list.filter(t => t.status === input.status)
  else if (input.all !== true && input.archived !== true) list = list.filter(t => !isFinal(t.status))
  return list.map(t => summary(ctx, t, input.detail === true))
}

export async function showTask (ctx: AppContext, input: { id: string }): Promise<TaskDetail> {
  const found = findTask(ctx, await ctx.device.archive.list(), input.id)
  if (found.archived !== undefined) return { ...found.archived, verified: found.archived.verified === true, targetName: ctx.device.space.members.get(found.archived.target)?.name ?? null, durationMs: duration(found.archived), archived: true }
  return detail(ctx, found.task)
}

export async function cancelTask (ctx: AppContext, input: { id: string }): Promise<CancelResult> {
  const before = findTask(ctx, [], input.id).task
  if (isFinal(before.status)) return { id: before.id, status: before.status, cancelRequested: before.cancelRequested, alreadyFinished: true }
  const t = ctx.board.requestCancel(before.id)
  await ctx.device.space.flush()
  // Saved either way; reaching the target only makes the request leave now.
  await reach(ctx, t.target, CANCEL_REACH_MS)
  return { id: t.id, status: t.status, cancelRequested: true, alreadyFinished: false }
}

export async function pruneTasks (ctx: AppContext, input: { olderThanMs: number }): Promise<PruneResult> {
  const { board, device } = ctx
  const cutoff = device.now() - input.olderThanMs
  const docBytesBefore = Y.encodeStateAsUpdate(device.space.doc).byteLength
  const old = board.list().filter(t => isFinal(t.status) && finishedTime(t) <= cutoff)
  const { archived, removed, keptForCreator } = await ctx.retire(old)
  await device.space.flush()
  const docBytesAfter = Y.encodeStateAsUpdate(device.space.doc).byteLength
  return { archived, removed, keptForCreator, docBytesBefore, docBytesAfter }
}

/** Streams status changes and completions until `signal` aborts. */
export async function watchTasks (ctx: AppContext, options: CallOptions<WatchEvent> = {}): Promise<null> {
  const { board } = ctx
  const emit = options.onEvent ?? (() => {})
  const seen = new Map<string, string>()
  for (const t of board.list()) seen.set(t.id, `${t.status}/${t.attempt}`)
  const onChange = (ids: string[]): void => {
    for (const id of ids) {
      const t = board.get(id)
      if (t === undefined) continue
      const key = `${t.status}/${t.attempt}`
      if (seen.get(id) === key) continue
      seen.set(id, key)
      emit({ event: 'status', id, text: t.text, status: t.status, attempt: t.attempt, targetName: ctx.device.space.members.get(t.target)?.name ?? null })
      if (isFinal(t.status)) emit({ event: 'finished', task: detail(ctx, t) })
    }
  }
  board.on('tasks-change', onChange)
  try {
    await aborted(options.signal)
    return null
  } finally {
    board.off('tasks-change', onChange)
  }
}

/** The desktop `add` sends to: `to` by name or id prefix, else the default, else the first paired; checked by the board's one rule. */
export async function resolveTarget (ctx: AppContext, query: string | undefined): Promise<Member> {
  if (query !== undefined && query !== '') return ctx.board.target(ctx.findDevice(query).peerId)
  const chosen = await defaultDesktop(ctx)
  if (chosen === null) throw new NoDesktopError('no paired desktop to send tasks to (pair one first: dispatch join)')
  return chosen
}

/** The default desktop (settings), else the first paired one; null when there is none. */
export async function defaultDesktop (ctx: AppContext): Promise<Member | null> {
  const { defaultDesktop } = await ctx.device.settings.read()
  const desktops = ctx.device.space.members.list()
    // Only desktops this device's gate admits: a record another member planted is no target.
    .filter(m => m.role === 'desktop' && m.peerId !== ctx.device.peerId && m.revokedAt === undefined && m.verified !== false)
  return desktops.find(m => m.peerId === defaultDesktop) ?? desktops[0] ?? null
}

/** A task as `show` and `add --wait` give it: the whole task with its log and the target's name. */
function detail (ctx: AppContext, t: Task): TaskDetail {
  // verified: a finished task whose outcome the target's signed receipt proves (false until then).
  return { ...t, verified: t.verified === true, targetName: ctx.device.space.members.get(t.target)?.name ?? null, log: ctx.board.log(t.id), durationMs: duration(t), archived: false }
}

function summary (ctx: AppContext, t: Task | ArchivedTask, withDetail: boolean): TaskSummary {
  const out: TaskSummary = {
    id: t.id,
    text: t.text,
    status: t.status,
    target: t.target,
    targetName: ctx.device.space.members.get(t.target)?.name ?? null,
    attempt: t.attempt,
    createdAt: t.createdAt,
    createdBy: t.createdBy,
    ...(t.scope !== undefined ? { scope: t.scope } : {}),
    cancelRequested: t.cancelRequested,
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    durationMs: duration(t),
    result: t.result ?? null,
    error: t.error ?? null,
    verified: isFinal(t.status) ? t.verified === true : null
  }
  if (withDetail) {
    out.outputs = t.outputs
    out.log = 'log' in t ? t.log : ctx.board.log(t.id)
  }
  return out
}

function duration (t: Task): number | null {
  return t.startedAt !== undefined && t.finishedAt !== undefined ? t.finishedAt - t.startedAt : null
}

/** Has `target` got the task: it moved past queued, or the target lists it in its presence. */
function received (ctx: AppContext, id: string, target: string): boolean {
  const t = ctx.board.get(id)
  if (t === undefined) return false
  if (t.status !== 'queued' || t.attempt > 0) return true
  return presenceOf(ctx.device.space).get(target)?.queued?.includes(id) === true
}

/** Resolves true as soon as `test()` holds (checked on every task or presence change), else its value at the timeout or abort. */
function waitUntil (ctx: AppContext, test: () => boolean, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const { board } = ctx
  const { space } = ctx.device
  return new Promise(resolve => {
    if (test()) { resolve(true); return }
    const check = (): void => { if (test()) finish(true) }
    const finish = (value: boolean): void => {
      if (timer !== undefined) clearTimeout(timer)
      board.off('tasks-change', check)
      space.awareness.off('change', check)
      signal.removeEventListener('abort', onAbort)
      resolve(value)
    }
    const onAbort = (): void => finish(test())
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(test()), timeoutMs) : undefined
    board.on('tasks-change', check)
    space.awareness.on('change', check)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Connected to `peerId`, dialling its known addresses for at most `timeoutMs` if not. */
async function reach (ctx: AppContext, peerId: string, timeoutMs: number): Promise<boolean> {
  const { node, space } = ctx.device
  if (space.connectedPeers().includes(peerId) || node.connectedPeers().includes(peerId)) return true
  try {
    await node.connectPeer(peerId, { signal: AbortSignal.timeout(timeoutMs) })
    return true
  } catch {
    // Unreachable now, or no address known: the caller says "not delivered yet", and the node
    // keeps redialling it for as long as this process runs.
    return false
  }
}

function findTask (ctx: AppContext, archived: ArchivedTask[], query: string): { task: Task, archived?: ArchivedTask } {
  const q = query.toUpperCase()
  const live = ctx.board.list().filter(t => t.id.toUpperCase().startsWith(q))
  const old = archived.filter(t => t.id.toUpperCase().startsWith(q) && !live.some(l => l.id === t.id))
  const all = [...live.map(task => ({ task })), ...old.map(a => ({ task: a as Task, archived: a }))]
  if (all.length === 0 || q === '') throw new TaskNotFoundError(query)
  const exact = all.find(m => m.task.id.toUpperCase() === q)
  if (exact !== undefined) return exact
  if (all.length > 1) throw new AmbiguousTaskError(`"${query}" matches ${all.length} tasks; give more of the id`)
  return all[0]
}

/** Resolves when `signal` aborts (never without one). */
export function aborted (signal: AbortSignal | undefined): Promise<void> {
  return new Promise(resolve => {
    if (signal === undefined) return
    if (signal.aborted) { resolve(); return }
    signal.addEventListener('abort', () => { resolve() }, { once: true })
  })
}
