// The task use cases: add, tasks, show, cancel, prune, watch, and the desktop a task goes to.
// `add` is where `dispatch add` and the web app's Add button meet.

import * as Y from 'yjs'
// The protocol module itself, not the Node entry: the page loads this file too.
import { fetchBlob } from '../../core/blob/blob-protocol.ts'
import type { Member } from '../../core/index.ts'
import type { Task } from '../tasks/task-board.ts'
import { isFinal, isWaiting } from '../tasks/task-rules.ts'
import type { AnswerDecision } from '../tasks/task-rules.ts'
import { NothingPendingError, TaskNotFoundError } from '../tasks/errors.ts'
import { finishedTime } from '../tasks/retention.ts'
import type {
  AddEvent, AddInput, AddResult, AnswerResult, FetchOutputsResult, ApproveInput, CallOptions, CancelResult, DenyInput, PruneResult, ReplyInput, ReplyResult,
  TaskDetail, TaskSummary, TasksInput, WatchEvent
} from './api.ts'
import type { AppContext } from './context.ts'
import type { ArchivedTask } from './ports.ts'
import type { HistoryEntry } from '../schedules/schedule-board.ts'
import { presenceOf } from './presence.ts'
import { deliver, reach } from './delivery.ts'

/** How long `add` tries to reach its target and waits for the receipt before saying "queued here". */
export const DELIVERY_WAIT_MS = 4_000
/** With attachments, how long `add` stays reachable for the desktop to fetch them. */
export const ATTACH_WAIT_MS = 60_000
/** How long `cancel` and the answers try to hand the change to the target at once. */
const CANCEL_REACH_MS = 2_000

export class NoDesktopError extends Error {
  name = 'NoDesktopError'
}

export class AmbiguousTaskError extends Error {
  name = 'AmbiguousTaskError'
}

/** An attachment named in `add` whose bytes are not in this device's blob store. */
export class MissingAttachmentError extends Error {
  name = 'MissingAttachmentError'
}

/** Queue a task: on disk before 'queued'; `delivered` once the target acknowledged it. */
export async function addTask (ctx: AppContext, input: AddInput, options: CallOptions<AddEvent> = {}): Promise<AddResult> {
  const { board, device } = ctx
  const emit = options.onEvent ?? (() => {})
  const signal = options.signal ?? new AbortController().signal
  const target = await resolveTarget(ctx, input.to)
  const files = input.attachments ?? []
  for (const a of files) {
    // The desktop fetches the bytes from here: refuse a task naming bytes nobody can serve.
    const size = await device.blobs?.size(a.sha256)
    if (size !== a.size) throw new MissingAttachmentError(`attachment ${a.name}: its bytes (sha256 ${a.sha256.slice(0, 12)}…, ${a.size} bytes) are not in this device's blob store`)
  }
  const task = board.addTask({ text: input.text, target: target.peerId, ...(input.scope !== undefined ? { scope: input.scope } : {}), ...(input.parent !== undefined ? { parent: input.parent } : {}), ...(files.length > 0 ? { attachments: files } : {}) })
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
  if (files.length > 0) {
    // The desktop claims it only once it holds the attachments, fetched from here: stay up until then.
    out.attachmentsDelivered = delivered && await waitUntil(ctx, () => { const t = board.get(task.id); return t === undefined || t.status !== 'queued' || t.attempt > 0 }, input.attachWaitMs ?? ATTACH_WAIT_MS, signal)
  }
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
  // Saved either way; delivering it now only spares waiting for the next sync.
  await deliver(ctx, t.target, CANCEL_REACH_MS)
  return { id: t.id, status: t.status, cancelRequested: true, alreadyFinished: false }
}

export async function approveTask (ctx: AppContext, input: ApproveInput): Promise<AnswerResult> {
  return await answerTask(ctx, input.id, input.forTask === true ? 'allow-task' : 'allow-once')
}

export async function denyTask (ctx: AppContext, input: DenyInput): Promise<AnswerResult> {
  return await answerTask(ctx, input.id, 'deny', input.note)
}

/**
 * Answers a task's question; on a finished task, queues a follow-up: a new task linked to it
 * (its desktop continues the same conversation; a `$` task's follow-up is another command in
 * the same folder). A finished task itself never changes, so retention and the rules hold.
 */
export async function replyTask (ctx: AppContext, input: ReplyInput, options: CallOptions<AddEvent> = {}): Promise<ReplyResult> {
  if (input.text.trim() === '') throw new NothingPendingError(input.id, 'given', 'the reply is empty')
  const task = findTask(ctx, [], input.id).task
  if (task.status === 'awaiting-answer') return { kind: 'answer', ...await answerTask(ctx, task.id, 'reply', input.text) }
  if (!isFinal(task.status)) throw new NothingPendingError(task.id, task.status, task.status === 'awaiting-approval' ? 'it waits for approval: answer with approve or deny' : 'it asks nothing now; reply once it asks or has finished')
  const command = /^\$[ \t]/.test(task.text)
  const text = command && !/^\$[ \t]/.test(input.text) ? `$ ${input.text}` : input.text
  const added = await addTask(ctx, { text, to: task.target, parent: task.id, ...(task.scope !== undefined ? { scope: task.scope } : {}) }, options)
  return { kind: 'follow-up', parent: task.id, ...added }
}

/** Writes the answer to the request the task waits on; saved before it returns, sent as soon as the desktop is reachable. */
async function answerTask (ctx: AppContext, query: string, decision: AnswerDecision, text?: string): Promise<AnswerResult> {
  const task = findTask(ctx, [], query).task
  const pending = task.pending
  if (!isWaiting(task.status) || pending == null) throw new NothingPendingError(task.id, task.status)
  ctx.board.answerRequest(task.id, pending.id, decision, text)
  await ctx.device.space.flush()
  const delivered = await deliver(ctx, task.target, CANCEL_REACH_MS)
  return { id: task.id, requestId: pending.id, decision, delivered }
}

/** Brings every non-inline output of a task into this device's blob store, from its desktop. */
export async function fetchTaskOutputs (ctx: AppContext, input: { id: string }, options: CallOptions = {}): Promise<FetchOutputsResult> {
  const found = findTask(ctx, await ctx.device.archive.list(), input.id)
  const task = found.archived ?? found.task
  const blobs = ctx.device.blobs
  if (blobs === undefined) throw new MissingAttachmentError('this device keeps no blob store')
  const needed = task.outputs.filter(o => o.text === undefined)
  if (needed.length > 0) await reach(ctx, task.target, DELIVERY_WAIT_MS)
  for (const o of needed) await fetchBlob(ctx.device.node, task.target, o.sha256, blobs, options.signal !== undefined ? { signal: options.signal } : {})
  return { id: task.id, outputs: task.outputs }
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
      emit({ event: 'status', id, text: t.text, status: t.status, attempt: t.attempt, targetName: ctx.device.space.members.get(t.target)?.name ?? null, ...(isWaiting(t.status) && t.pending != null ? { pending: t.pending } : {}) })
      if (isFinal(t.status)) emit({ event: 'finished', task: detail(ctx, t) })
    }
  }
  // A failed run is a failed task (the 'finished' above); a slot that did not run has no task.
  const alerts = new Set<string>()
  const alertKey = (id: string, e: HistoryEntry): string => `${id}/${e.slot}/${e.kind}/${e.at}`
  for (const s of ctx.schedules.list()) for (const e of s.history) alerts.add(alertKey(s.id, e))
  const onSchedules = (ids: string[]): void => {
    for (const id of ids) {
      const s = ctx.schedules.get(id)
      for (const e of s?.history ?? []) {
        const key = alertKey(id, e)
        if (alerts.has(key)) continue
        alerts.add(key)
        if (e.kind === 'skipped' || e.kind === 'error') emit({ event: 'schedule', scheduleId: id, text: s!.text, entry: e })
      }
    }
  }
  const space = ctx.device.space
  const onStorageError = (err: Error): void => { emit({ event: 'storage-error', message: err.message }) }
  const onStorageRecovered = (): void => { emit({ event: 'storage-recovered' }) }
  // A watcher that starts while the disk is full learns it at once.
  if (space.storageError !== null) onStorageError(space.storageError)
  board.on('tasks-change', onChange)
  ctx.schedules.on('schedules-change', onSchedules)
  space.on('storage-error', onStorageError)
  space.on('storage-recovered', onStorageRecovered)
  try {
    await aborted(options.signal)
    return null
  } finally {
    board.off('tasks-change', onChange)
    ctx.schedules.off('schedules-change', onSchedules)
    space.off('storage-error', onStorageError)
    space.off('storage-recovered', onStorageRecovered)
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
    ...(t.scheduleId !== undefined ? { scheduleId: t.scheduleId } : {}),
    ...(t.parent !== undefined ? { parent: t.parent } : {}),
    cancelRequested: t.cancelRequested,
    ...(isWaiting(t.status) && t.pending != null ? { pending: t.pending } : {}),
    startedAt: t.startedAt ?? null,
    finishedAt: t.finishedAt ?? null,
    durationMs: duration(t),
    result: t.result ?? null,
    error: t.error ?? null,
    verified: isFinal(t.status) ? t.verified === true : null,
    received: t.status !== 'queued' || t.attempt > 0 || presenceOf(ctx.device.space).get(t.target)?.queued?.includes(t.id) === true
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
