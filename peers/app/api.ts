// The application API: every use case of Dispatch, with its typed input, result and events.
// The one way in for every front end: the CLI calls it in-process (application.ts) or over the
// control socket (peers/home/control.ts, which derives its protocol from this interface and
// `API_INPUTS` below), and the phone web page calls the same implementation in the page.
//
// Adding a use case: declare it in `DispatchApi`, give its input parser in `API_INPUTS` (the
// compiler insists on one per method), implement it in `Application` (application.ts), and call
// it from a verb (peers/cli/verbs/) or the page (peers/web/app.ts).

import type { Member, PairingPrompt } from '../../core/index.ts'
import type { DeviceRole } from '../tasks/roles.ts'
import type { ScheduleSpec } from '../schedules/spec.ts'
import type { HistoryEntry } from '../schedules/schedule-board.ts'

export type { ScheduleSpec } from '../schedules/spec.ts'
export type { HistoryEntry } from '../schedules/schedule-board.ts'
import type { Attachment, LogEntry, PendingRequest, Task, TaskOutput, TaskStatus } from '../tasks/task-rules.ts'
import { TASK_STATUSES, parseAttachments } from '../tasks/task-rules.ts'

/** Where a desktop listens now, signed by it: what its web server hands the page it serves. */
export type { SignedAddrs } from './published-addrs.ts'
/** Is a status final (done, failed, cancelled)? For front ends deciding what a task still allows. */
export { isFinal, TASK_STATUSES } from '../tasks/task-rules.ts'
export type { TaskStatus, TaskOutput, LogEntry, PendingRequest, Answer, Attachment } from '../tasks/task-rules.ts'
/** Is a task paused on the phone (awaiting-approval, awaiting-answer)? */
export { isWaiting } from '../tasks/task-rules.ts'

/** How a call is made: cancelled by `signal`; streamed events go to `onEvent`; `confirm` answers a pairing prompt. */
export interface CallOptions<Event = never> {
  signal?: AbortSignal
  onEvent?: (event: Event) => void
  /** Asked to compare a verification code; absent means "accept" (`--yes`). */
  confirm?: (prompt: PairingPrompt) => Promise<boolean>
}

/** One use case: an input, streamed events (none by default), a result. */
export type UseCase<Input, Result, Event = never> = (input: Input, options?: CallOptions<Event>) => Promise<Result>

export type InputOf<F> = F extends UseCase<infer I, unknown, unknown> ? I : never
export type ResultOf<F> = F extends UseCase<never, infer R, unknown> ? R : never
export type EventOf<F> = F extends (input: never, options?: CallOptions<infer E>) => Promise<unknown> ? E : never

// ---- what the use cases take and give -----------------------------------------------------

/** A task as lists show it; `log` and `outputs` only when asked for in detail. */
export interface TaskSummary {
  id: string
  text: string
  status: TaskStatus
  target: string
  targetName: string | null
  attempt: number
  createdAt: number
  createdBy: string
  scope?: string
  /** The schedule this task is an occurrence of. */
  scheduleId?: string
  /** A follow-up: the task whose conversation it continues. */
  parent?: string
  cancelRequested: boolean
  /** What the task waits for on the phone, while it is awaiting-approval or awaiting-answer. */
  pending?: PendingRequest
  startedAt: number | null
  finishedAt: number | null
  durationMs: number | null
  result: string | null
  error: string | null
  /** Finished: does the target desktop's signed receipt prove this outcome? (null while unfinished) */
  verified: boolean | null
  /** Has the target desktop acknowledged it (the receipt `add` waits for): it moved past queued, or the desktop holds it queued. */
  received: boolean
  outputs?: TaskOutput[]
  log?: LogEntry[]
}

/** One task in full: live from the document, or from this device's archive once pruned. */
export interface TaskDetail extends Task {
  targetName: string | null
  log: LogEntry[]
  durationMs: number | null
  archived: boolean
  archivedAt?: number
}

export interface DeviceView extends Member {
  online: boolean
  revoked: boolean
  /** Where `add` sends tasks without `to`. */
  default: boolean
  /** This device itself (listed only with `includeSelf`). */
  self: boolean
  /** What a desktop reports running (presence), when online. */
  running?: Array<{ id: string, text: string }>
  /** Name of the device whose signed admission admitted it here ('' when none did). */
  pairedByName: string
  /** Things this device refused from it (forged statements, updates past the limits, writes it may not make). */
  warnings: number
}

export interface RevokeInput {
  device: string
  /** Also revoke every device it admitted (see the README's trust model). */
  withAdmitted?: boolean
}

export interface RevokeResult extends DeviceRef {
  revokedAt: number | null
  /** The devices it had admitted, revoked with it (`withAdmitted`). */
  alsoRevoked: DeviceRef[]
}

export interface DeviceRef { peerId: string, name: string }

export interface AddInput {
  text: string
  /** A desktop by name or peer id prefix; the default desktop when omitted. */
  to?: string
  /** Absolute folder the task is narrowed to. */
  scope?: string
  /** Resolve only once the task is finished (the result carries it). */
  wait?: boolean
  /** How long to try to reach the target and wait for its receipt (default DELIVERY_WAIT_MS). */
  deliverMs?: number
  /** A follow-up of this finished task (set by `reply`). */
  parent?: string
  /** Files sent with the task, already in this device's blob store (the desktop fetches them by sha256). */
  attachments?: Attachment[]
  /** With attachments: how long to stay reachable for the desktop to fetch them (default ATTACH_WAIT_MS). */
  attachWaitMs?: number
}

export type AddEvent =
  /** On disk here: nothing can lose it now. */
  | { event: 'queued', id: string, target: string, targetName: string }
  /** With `wait`: each status the task goes through. */
  | { event: 'status', id: string, status: TaskStatus, attempt: number }

export interface AddResult {
  id: string
  status: 'queued'
  /** The target desktop acknowledged it (holds it, or moved it past queued). */
  delivered: boolean
  target: string
  targetName: string
  /** With `wait`: the finished task. */
  task?: TaskDetail
  /** With attachments: the desktop has them (it claims a task only once it holds its attachments). */
  attachmentsDelivered?: boolean
}

export interface AddScheduleInput {
  text: string
  /** A desktop by name or peer id prefix; the default desktop when omitted. */
  to?: string
  scope?: string
  /** Once: an ISO time or HH:MM (the next one, this device's local time). */
  at?: string
  /** Recurring: a duration (10s, 5m, 1h, 2d). */
  every?: string
  /** Recurring: a cron expression (croner: five fields, or six with seconds first). */
  cron?: string
  /** The IANA time zone of `cron` (default: the desktop's). */
  tz?: string
  /** How long to try to reach the target so the schedule leaves at once (default DELIVERY_WAIT_MS). */
  deliverMs?: number
}

/** A schedule as lists show it. */
export interface ScheduleView {
  id: string
  text: string
  target: string
  targetName: string | null
  scope?: string
  spec: ScheduleSpec
  /** The spec in words: `every 5m`, `cron "0 9 * * 1-5" (Europe/Paris)`, `at 2026-…`. */
  when: string
  paused: boolean
  createdAt: number
  createdBy: string
  /** The next slot (in the past when overdue: it runs once the desktop is on); null when paused or done. */
  nextRunAt: number | null
  /** The last thing that happened to it: a run (and its task's status now), a skip, an error. */
  last: { slot: number, kind: HistoryEntry['kind'], status: string, taskId?: string, text: string } | null
  /** Ids of its occurrence tasks still in the shared document, oldest first. */
  taskIds: string[]
  history: HistoryEntry[]
}

export interface AddScheduleResult {
  schedule: ScheduleView
  /** The target desktop confirmed it holds the schedule now (else it goes out at the next sync). */
  reached: boolean
}

export interface TasksInput {
  /** Finished ones too (newest first). */
  all?: boolean
  status?: TaskStatus
  /** The archive of pruned tasks instead of the live document. */
  archived?: boolean
  /** With each task's log and outputs. */
  detail?: boolean
}

export interface CancelResult { id: string, status: TaskStatus, cancelRequested: boolean, alreadyFinished: boolean }

export interface PruneResult { archived: number, removed: number, keptForCreator: number, docBytesBefore: number, docBytesAfter: number }

export type WatchEvent =
  /** `pending`: with awaiting-approval / awaiting-answer, what the phone is asked. */
  | { event: 'status', id: string, text: string, status: TaskStatus, attempt: number, targetName: string | null, pending?: PendingRequest }
  | { event: 'finished', task: TaskDetail }
  /** A schedule's slot that did not run (skipped, could not start): no task says so, this does. */
  | { event: 'schedule', scheduleId: string, text: string, entry: HistoryEntry }
  /** Changes no longer reach this device's disk (a full disk): they are kept in memory and retried. */
  | { event: 'storage-error', message: string }
  /** Everything kept in memory is on disk again. */
  | { event: 'storage-recovered' }

export interface ApproveInput { id: string, forTask?: boolean }
export interface DenyInput { id: string, note?: string }
export interface ReplyInput { id: string, text: string }

/** An answer written here: it takes effect when it reaches the desktop (`delivered`: the desktop confirmed it holds it). */
export interface AnswerResult {
  id: string
  requestId: string
  decision: 'allow-once' | 'allow-task' | 'deny' | 'reply'
  delivered: boolean
}

/** `reply` answered the task's question, or (finished task) queued a follow-up. */
export type ReplyResult =
  | ({ kind: 'answer' } & AnswerResult)
  | ({ kind: 'follow-up', parent: string } & AddResult)

/** Every output of a task is now in this device's blob store (or inline): the caller reads them there. */
export interface FetchOutputsResult {
  id: string
  outputs: TaskOutput[]
}

export interface PairInput { ttlMs?: number }
export type PairEvent = { event: 'invite', invite: string, expiresAt: string, webUrls: string[] }

export interface JoinResult { peerId: string, name: string, code: string }

export interface SyncResult {
  synced: DeviceRef[]
  failed: Array<DeviceRef & { error: string }>
}

export type FollowEvent =
  | { event: 'synced', peerId: string, name: string }
  | { event: 'disconnected', peerId: string, name: string, reason: string | null }
  | { event: 'refused', peerId: string, name: string, reason: string }
  | { event: 'unreachable', peerId: string, name: string, reason: string }

export interface StatusResult {
  peerId: string
  name: string
  role: DeviceRole
  addrs: string[]
  connected: string[]
  refusals: { connection: number, sync: number }
}

// ---- the use cases -----------------------------------------------------------------------

export interface DispatchApi {
  /** This device: who it is, where it listens, whom it is connected to. */
  status: UseCase<Record<string, never>, StatusResult>
  /** Every other paired device (and this one with `includeSelf`), online or not, what desktops run. */
  devices: UseCase<{ includeSelf?: boolean }, DeviceView[]>
  /** Pick the desktop `add` sends to without `to`. */
  setDefault: UseCase<{ device: string }, DeviceRef>
  /** Revoke a device in the space (spreads to every member) and cut it off here at once. */
  revoke: UseCase<RevokeInput, RevokeResult>
  /** Desktop side of pairing: open an invite (streamed), confirm, resolve with the new member. */
  pair: UseCase<PairInput, DeviceRef, PairEvent>
  /** Phone side of pairing: join the desktop of an invite, then sync once. */
  join: UseCase<{ invite: string }, JoinResult>
  /** Queue a task for a desktop: on disk before 'queued', `delivered` once the desktop acknowledged it. */
  add: UseCase<AddInput, AddResult, AddEvent>
  /** Schedule a task for a desktop (once later, every DURATION, or by cron): on disk before it resolves. */
  addSchedule: UseCase<AddScheduleInput, AddScheduleResult>
  /** Every schedule: next run, last run and its status, history. */
  schedules: UseCase<Record<string, never>, ScheduleView[]>
  /** Stop starting occurrences (the one running finishes) until resumed. */
  pauseSchedule: UseCase<{ id: string }, ScheduleView>
  /** Start occurrences again from now on (slots while paused are not caught up). */
  resumeSchedule: UseCase<{ id: string }, ScheduleView>
  /** Delete a schedule; its past occurrences stay tasks. */
  deleteSchedule: UseCase<{ id: string }, { id: string, deleted: true }>
  /** The task list: active ones, all, one status, or the archive. */
  tasks: UseCase<TasksInput, TaskSummary[]>
  /** One task by id or unambiguous id prefix, live or archived. */
  show: UseCase<{ id: string }, TaskDetail>
  /** Ask the target desktop to stop a task (a queued one then never runs). */
  cancel: UseCase<{ id: string }, CancelResult>
  /** Allow the tool call a task waits on: once, or (`forTask`) such calls for the rest of the task. */
  approve: UseCase<ApproveInput, AnswerResult>
  /** Refuse the tool call a task waits on; Claude reads the note. */
  deny: UseCase<DenyInput, AnswerResult>
  /** Answer the question a task asks; on a finished task, a follow-up continuing its conversation. */
  reply: UseCase<ReplyInput, ReplyResult, AddEvent>
  /** Fetch a task's outputs that are not inline from its desktop into this device's blob store, verified by sha256. */
  fetchOutputs: UseCase<{ id: string }, FetchOutputsResult>
  /** Archive finished tasks older than `olderThanMs` and drop the ones this device created from the document. */
  prune: UseCase<{ olderThanMs: number }, PruneResult>
  /** Stream task status changes and completions until cancelled. */
  watch: UseCase<Record<string, never>, null, WatchEvent>
  /** Connect to every known member, exchange, report. */
  sync: UseCase<{ timeoutMs?: number }, SyncResult>
  /** Stay connected and stream sync events until cancelled. */
  follow: UseCase<Record<string, never>, null, FollowEvent>
}

export type Method = keyof DispatchApi

// ---- input validation (the control socket's trust boundary) --------------------------------

/** An input that does not fit the use case: answered with this error, nothing runs. */
export class BadInputError extends Error {
  name = 'BadInputError'
}

/** For each method of `Api`, the function that checks a raw (JSON) input and returns it typed. */
export type InputParsers<Api> = { [M in keyof Api]: (raw: unknown) => InputOf<Api[M]> }

const object = (raw: unknown): Record<string, unknown> => {
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BadInputError('input must be an object')
  return raw as Record<string, unknown>
}
const string = (o: Record<string, unknown>, key: string, max = 64 * 1024): string => {
  const v = o[key]
  if (typeof v !== 'string' || v.length > max) throw new BadInputError(`${key} must be a string of at most ${max} characters`)
  return v
}
const optional = <T>(o: Record<string, unknown>, key: string, read: (o: Record<string, unknown>, key: string) => T): T | undefined =>
  o[key] === undefined ? undefined : read(o, key)
const boolean = (o: Record<string, unknown>, key: string): boolean => {
  if (typeof o[key] !== 'boolean') throw new BadInputError(`${key} must be true or false`)
  return o[key] as boolean
}
const count = (o: Record<string, unknown>, key: string): number => {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new BadInputError(`${key} must be a number of at least 0`)
  return v
}
const status = (o: Record<string, unknown>, key: string): TaskStatus => {
  const v = o[key]
  if (!(TASK_STATUSES as readonly unknown[]).includes(v)) throw new BadInputError(`${key} must be one of ${TASK_STATUSES.join(', ')}`)
  return v as TaskStatus
}
const attachments = (o: Record<string, unknown>, key: string): Attachment[] => {
  const parsed = parseAttachments(o[key])
  if (!parsed.ok) throw new BadInputError(parsed.reason)
  return parsed.value ?? []
}
/** Drops keys whose value is undefined, so inputs compare and print as they were given. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
const none = (raw: unknown): Record<string, never> => { object(raw); return {} }

/** How the control socket checks each method's input. */
export const API_INPUTS: InputParsers<DispatchApi> = {
  status: none,
  devices: raw => defined({ includeSelf: optional(object(raw), 'includeSelf', boolean) }),
  setDefault: raw => ({ device: string(object(raw), 'device', 200) }),
  revoke: raw => { const o = object(raw); return defined({ device: string(o, 'device', 200), withAdmitted: optional(o, 'withAdmitted', boolean) }) },
  pair: raw => defined({ ttlMs: optional(object(raw), 'ttlMs', count) }),
  join: raw => ({ invite: string(object(raw), 'invite', 4096) }),
  add: raw => {
    const o = object(raw)
    return defined({ text: string(o, 'text'), to: optional(o, 'to', (x, k) => string(x, k, 200)), scope: optional(o, 'scope', (x, k) => string(x, k, 4096)), wait: optional(o, 'wait', boolean), deliverMs: optional(o, 'deliverMs', count), parent: optional(o, 'parent', (x, k) => string(x, k, 200)), attachments: optional(o, 'attachments', attachments), attachWaitMs: optional(o, 'attachWaitMs', count) })
  },
  addSchedule: raw => {
    const o = object(raw)
    const short = (x: Record<string, unknown>, k: string): string => string(x, k, 200)
    return defined({
      text: string(o, 'text'),
      to: optional(o, 'to', short),
      scope: optional(o, 'scope', (x, k) => string(x, k, 4096)),
      at: optional(o, 'at', short),
      every: optional(o, 'every', short),
      cron: optional(o, 'cron', short),
      tz: optional(o, 'tz', short),
      deliverMs: optional(o, 'deliverMs', count)
    })
  },
  schedules: none,
  pauseSchedule: raw => ({ id: string(object(raw), 'id', 200) }),
  resumeSchedule: raw => ({ id: string(object(raw), 'id', 200) }),
  deleteSchedule: raw => ({ id: string(object(raw), 'id', 200) }),
  tasks: raw => {
    const o = object(raw)
    return defined({ all: optional(o, 'all', boolean), status: optional(o, 'status', status), archived: optional(o, 'archived', boolean), detail: optional(o, 'detail', boolean) })
  },
  show: raw => ({ id: string(object(raw), 'id', 200) }),
  cancel: raw => ({ id: string(object(raw), 'id', 200) }),
  approve: raw => { const o = object(raw); return defined({ id: string(o, 'id', 200), forTask: optional(o, 'forTask', boolean) }) },
  deny: raw => { const o = object(raw); return defined({ id: string(o, 'id', 200), note: optional(o, 'note', (x, k) => string(x, k, 4096)) }) },
  reply: raw => { const o = object(raw); return { id: string(o, 'id', 200), text: string(o, 'text') } },
  fetchOutputs: raw => ({ id: string(object(raw), 'id', 200) }),
  prune: raw => ({ olderThanMs: count(object(raw), 'olderThanMs') }),
  watch: none,
  sync: raw => defined({ timeoutMs: optional(object(raw), 'timeoutMs', count) }),
  follow: none
}

/** Every method name, from the parsers (which the compiler checks against `DispatchApi`). */
export const API_METHODS = Object.keys(API_INPUTS) as Method[]
