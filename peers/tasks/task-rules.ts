// The rules of a task: field types and limits, who writes which field, and the
// forward-only status machine. Pure functions over plain values; TaskBoard applies them.

export type TaskStatus = 'queued' | 'claimed' | 'running' | 'awaiting-approval' | 'awaiting-answer' | 'done' | 'failed' | 'cancelled' | 'interrupted'
export type FinalStatus = 'done' | 'failed' | 'cancelled'

export const TASK_STATUSES: readonly TaskStatus[] = ['queued', 'claimed', 'running', 'awaiting-approval', 'awaiting-answer', 'done', 'failed', 'cancelled', 'interrupted']
/** A run paused on the phone: a tool call waiting for approval, or a question waiting for its answer. */
export const WAITING_STATUSES: readonly TaskStatus[] = ['awaiting-approval', 'awaiting-answer']
export const FINAL_STATUSES: readonly TaskStatus[] = ['done', 'failed', 'cancelled']

/** Fields written only by the device that created the task. */
export const CREATOR_FIELDS = ['id', 'text', 'createdAt', 'createdBy', 'target', 'scope', 'scheduleId', 'cancelRequested', 'parent', 'attachments'] as const
/** Fields written only by the task's target desktop. */
export const EXECUTOR_FIELDS = ['status', 'claimedBy', 'attempt', 'startedAt', 'heartbeatAt', 'finishedAt', 'result', 'error', 'outputs', 'log', 'pending'] as const
/**
 * Answers to a pending request are written by any member (the phone that answers), each under
 * its own key `answer:<requestId>` on the task map: flat keys, so two answers to two requests
 * never overwrite each other, and no nested map has to be created concurrently.
 */
export const ANSWER_KEY_PREFIX = 'answer:'
export type CreatorField = typeof CREATOR_FIELDS[number]
export type ExecutorField = typeof EXECUTOR_FIELDS[number]

// Limits keep one buggy or hostile peer from bloating every replica.
export const MAX_TEXT_CHARS = 32 * 1024
export const MAX_ID_CHARS = 200
export const MAX_SCOPE_CHARS = 4096
export const MAX_RESULT_CHARS = 16 * 1024
export const MAX_ERROR_CHARS = 4 * 1024
export const MAX_LOG_TEXT_CHARS = 2 * 1024
export const MAX_LOG_ENTRIES = 2000
export const MAX_OUTPUTS = 200
export const MAX_INLINE_OUTPUT_BYTES = 64 * 1024
export const MAX_SUMMARY_CHARS = 2 * 1024
export const MAX_ATTACHMENTS = 20
const MAX_ATTACHMENT_NAME_CHARS = 255
export const MAX_NOTE_CHARS = 4 * 1024
/** A retry loop can't climb attempts forever; past this a peer is misbehaving. */
export const MAX_ATTEMPT = 100

export interface TaskOutput {
  path: string
  size: number
  sha256: string
  /** The file's text when it is UTF-8 and at most MAX_INLINE_OUTPUT_BYTES. */
  text?: string
}

/**
 * A file sent with a task: only these facts are in the document; the bytes travel by the blob
 * protocol (core/blob), fetched from the task's creator by sha256 and verified.
 */
export interface Attachment {
  /** A plain file name (no folders). */
  name: string
  size: number
  /** Media type (image/png, text/plain, application/octet-stream...). */
  type: string
  sha256: string
}

/**
 * What a paused run waits for: approval of one tool call the grants do not cover, or the answer
 * to Claude's question. `id` is the tool call's id, stable across restarts of the desktop.
 */
export type PendingRequest =
  | { id: string, kind: 'approval', tool: string, summary: string, reason: string, askedAt: number, expiresAt: number }
  | { id: string, kind: 'question', question: string, askedAt: number, expiresAt: number }

export type AnswerDecision = 'allow-once' | 'allow-task' | 'deny' | 'reply'
export const ANSWER_DECISIONS: readonly AnswerDecision[] = ['allow-once', 'allow-task', 'deny', 'reply']

/** The phone's answer to a pending request; `by` is the answering device. */
export interface Answer {
  decision: AnswerDecision
  /** With deny: why (Claude reads it). With reply: the answer text. */
  text?: string
  by: string
  at: number
}

/** `output`: a running command's stdout/stderr lines (a batch per entry). */
export type LogKind = 'status' | 'tool' | 'text' | 'error' | 'info' | 'output'
export interface LogEntry { at: number, kind: LogKind, text: string }

/** Creator half of a task as accepted by the rules. */
export interface TaskRequest {
  id: string
  text: string
  createdAt: number
  createdBy: string
  target: string
  scope?: string
  /** The schedule this task is an occurrence of (peers/schedules/), when it is one. */
  scheduleId?: string
  cancelRequested: boolean
  /** A follow-up: the finished task whose conversation this one continues. */
  parent?: string
  attachments?: Attachment[]
}

/** Executor half of a task as accepted by the rules. Status absent in the doc means queued. */
export interface TaskProgress {
  status: TaskStatus
  attempt: number
  claimedBy?: string
  startedAt?: number
  heartbeatAt?: number
  finishedAt?: number
  result?: string
  error?: string
  outputs: TaskOutput[]
  /** The request a waiting run is paused on; null once answered. */
  pending?: PendingRequest | null
}

export interface Task extends TaskRequest, TaskProgress {
  /** Accepted answers, by request id. */
  answers?: Record<string, Answer>
  /** Set when the creator's fields are malformed: the target desktop fails the task with this message. */
  malformed?: string
  /**
   * For a finished task on a board that checks receipts: true when the target desktop's signed
   * receipt proves the status, result, error and outputs shown; false when nothing does (another
   * member wrote them, or the receipt does not match).
   */
  verified?: boolean
}

/** Direct transitions. Attempt goes up by one on claim; everything else keeps it. */
const NEXT: Record<TaskStatus, readonly TaskStatus[]> = {
  queued: ['claimed', 'cancelled'],
  claimed: ['running', 'interrupted'],
  running: ['awaiting-approval', 'awaiting-answer', 'done', 'failed', 'cancelled', 'interrupted'],
  'awaiting-approval': ['running', 'failed', 'cancelled', 'interrupted'],
  'awaiting-answer': ['running', 'failed', 'cancelled', 'interrupted'],
  interrupted: ['queued', 'failed'],
  done: [],
  failed: [],
  cancelled: []
}

export function isFinal (status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status)
}

export function isWaiting (status: TaskStatus): boolean {
  return WAITING_STATUSES.includes(status)
}

/** Whether `to` follows `from` in one step (what a local write may do). */
export function canTransition (from: TaskStatus, to: TaskStatus): boolean {
  return NEXT[from].includes(to)
}

/**
 * Whether state `to` can be reached from `from` in any number of legal steps. A replica may
 * see several steps merged into one update (offline for a while), so remote changes are
 * checked for reachability, not for a single step. `attempt` only grows (on claim), which
 * keeps the interrupted -> queued loop from letting anything go backwards.
 */
export function isReachable (from: { status: TaskStatus, attempt: number }, to: { status: TaskStatus, attempt: number }): boolean {
  if (from.status === to.status && from.attempt === to.attempt) return true
  if (to.attempt < from.attempt || to.attempt > MAX_ATTEMPT) return false
  const seen = new Set<string>()
  const queue = [from]
  while (queue.length > 0) {
    const s = queue.shift()!
    for (const status of NEXT[s.status]) {
      const attempt = status === 'claimed' ? s.attempt + 1 : s.attempt
      if (attempt > to.attempt) continue
      if (status === to.status && attempt === to.attempt) return true
      const key = `${status}/${attempt}`
      if (!seen.has(key)) { seen.add(key); queue.push({ status, attempt }) }
    }
  }
  return false
}

// ---- field parsing: each returns the value or a reason it is malformed ----------

export type Parsed<T> = { ok: true, value: T } | { ok: false, reason: string }
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })
const bad = (reason: string): Parsed<never> => ({ ok: false, reason })

export function parseString (v: unknown, max: number, optional = false): Parsed<string | undefined> {
  if (v === undefined && optional) return ok(undefined)
  if (typeof v !== 'string') return bad(`expected text, got ${describe(v)}`)
  if (v.length > max) return bad(`${v.length} characters, more than the limit of ${max}`)
  return ok(v)
}

export function parseTime (v: unknown, optional = false): Parsed<number | undefined> {
  if (v === undefined && optional) return ok(undefined)
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return bad(`expected a time in ms, got ${describe(v)}`)
  return ok(v)
}

export function parseStatus (v: unknown): Parsed<TaskStatus> {
  if (v === undefined) return ok('queued')
  if (typeof v === 'string' && (TASK_STATUSES as readonly string[]).includes(v)) return ok(v as TaskStatus)
  return bad(`unknown status ${describe(v)}`)
}

export function parseAttempt (v: unknown): Parsed<number> {
  if (v === undefined) return ok(0)
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_ATTEMPT) return bad(`attempt must be an integer 0..${MAX_ATTEMPT}, got ${describe(v)}`)
  return ok(v)
}

export function parseOutputs (v: unknown): Parsed<TaskOutput[]> {
  if (v === undefined) return ok([])
  if (!Array.isArray(v)) return bad(`outputs must be a list, got ${describe(v)}`)
  if (v.length > MAX_OUTPUTS) return bad(`${v.length} outputs, more than ${MAX_OUTPUTS}`)
  const out: TaskOutput[] = []
  for (const o of v) {
    if (typeof o !== 'object' || o === null) return bad('an output is not an object')
    const { path, size, sha256, text } = o as Record<string, unknown>
    if (typeof path !== 'string' || path.length > MAX_SCOPE_CHARS) return bad('an output has no valid path')
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) return bad(`output ${path} has no valid size`)
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return bad(`output ${path} has no valid sha256`)
    if (text !== undefined && (typeof text !== 'string' || text.length > MAX_INLINE_OUTPUT_BYTES)) return bad(`output ${path} has invalid inline text`)
    out.push(text === undefined ? { path, size, sha256 } : { path, size, sha256, text })
  }
  return ok(out)
}

export function parseAttachments (v: unknown): Parsed<Attachment[] | undefined> {
  if (v === undefined) return ok(undefined)
  if (!Array.isArray(v)) return bad(`attachments must be a list, got ${describe(v)}`)
  if (v.length > MAX_ATTACHMENTS) return bad(`${v.length} attachments, more than ${MAX_ATTACHMENTS}`)
  const out: Attachment[] = []
  for (const a of v) {
    if (typeof a !== 'object' || a === null) return bad('an attachment is not an object')
    const { name, size, type, sha256 } = a as Record<string, unknown>
    if (typeof name !== 'string' || name === '' || name.length > MAX_ATTACHMENT_NAME_CHARS || /[/\\\0]/.test(name) || name === '.' || name === '..') return bad(`attachment name ${describe(name)} is not a plain file name`)
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) return bad(`attachment ${name} has no valid size`)
    if (typeof type !== 'string' || type.length > 200) return bad(`attachment ${name} has no valid type`)
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return bad(`attachment ${name} has no valid sha256`)
    out.push({ name, size, type, sha256 })
  }
  return ok(out)
}

export function parsePending (v: unknown): Parsed<PendingRequest | null | undefined> {
  if (v === undefined || v === null) return ok(v)
  if (typeof v !== 'object' || Array.isArray(v)) return bad(`pending must be an object, got ${describe(v)}`)
  const o = v as Record<string, unknown>
  const str = (k: string, max: number) => typeof o[k] === 'string' && (o[k] as string).length <= max
  const time = (k: string) => typeof o[k] === 'number' && Number.isFinite(o[k]) && (o[k] as number) >= 0
  if (!str('id', MAX_ID_CHARS) || (o.id as string) === '' || !time('askedAt') || !time('expiresAt')) return bad('pending needs an id, askedAt and expiresAt')
  if (o.kind === 'approval' && str('tool', MAX_ID_CHARS) && str('summary', MAX_SUMMARY_CHARS) && str('reason', MAX_SUMMARY_CHARS)) {
    return ok({ id: o.id as string, kind: 'approval', tool: o.tool as string, summary: o.summary as string, reason: o.reason as string, askedAt: o.askedAt as number, expiresAt: o.expiresAt as number })
  }
  if (o.kind === 'question' && str('question', MAX_SUMMARY_CHARS)) {
    return ok({ id: o.id as string, kind: 'question', question: o.question as string, askedAt: o.askedAt as number, expiresAt: o.expiresAt as number })
  }
  return bad('pending is neither a well-formed approval nor a question')
}

export function parseAnswer (v: unknown): Parsed<Answer> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(`an answer must be an object, got ${describe(v)}`)
  const o = v as Record<string, unknown>
  if (!(ANSWER_DECISIONS as readonly unknown[]).includes(o.decision)) return bad(`unknown decision ${describe(o.decision)}`)
  if (typeof o.by !== 'string' || o.by.length > MAX_ID_CHARS) return bad('an answer names the device that gave it')
  if (typeof o.at !== 'number' || !Number.isFinite(o.at)) return bad('an answer has a time')
  if (o.text !== undefined && (typeof o.text !== 'string' || o.text.length > MAX_NOTE_CHARS)) return bad(`an answer's text is at most ${MAX_NOTE_CHARS} characters`)
  const a: Answer = { decision: o.decision as AnswerDecision, by: o.by, at: o.at }
  if (o.text !== undefined) a.text = o.text as string
  return ok(a)
}

export function parseLogEntry (v: unknown): LogEntry | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const { at, kind, text } = v as Record<string, unknown>
  if (typeof at !== 'number' || typeof kind !== 'string' || typeof text !== 'string') return undefined
  if (!['status', 'tool', 'text', 'error', 'info', 'output'].includes(kind)) return undefined
  return { at, kind: kind as LogKind, text: text.slice(0, MAX_LOG_TEXT_CHARS) }
}

/**
 * Reads the creator half of a raw task. A malformed field does not drop the task: it gets a
 * safe placeholder and `malformed` names the problem, so the target desktop can fail the task
 * with a clear error instead of ignoring it forever.
 */
export function parseRequest (key: string, raw: (field: string) => unknown): { request: TaskRequest, malformed?: string } {
  const problems: string[] = []
  const field = <T>(name: string, p: Parsed<T>, fallback: T): T => {
    if (p.ok) return p.value
    problems.push(`${name}: ${p.reason}`)
    return fallback
  }
  const id = raw('id')
  if (id !== key) problems.push(`id: ${describe(id)} does not match the task's key`)
  const text = field('text', parseString(raw('text'), MAX_TEXT_CHARS), undefined) ?? ''
  const createdAt = field('createdAt', parseTime(raw('createdAt')), undefined) ?? 0
  const createdBy = field('createdBy', parseString(raw('createdBy'), MAX_ID_CHARS), undefined) ?? ''
  const target = field('target', parseString(raw('target'), MAX_ID_CHARS), undefined) ?? ''
  const scope = field('scope', parseString(raw('scope'), MAX_SCOPE_CHARS, true), undefined)
  const scheduleId = field('scheduleId', parseString(raw('scheduleId'), MAX_ID_CHARS, true), undefined)
  const parent = field('parent', parseString(raw('parent'), MAX_ID_CHARS, true), undefined)
  const attachments = field('attachments', parseAttachments(raw('attachments')), undefined)
  const cancel = raw('cancelRequested')
  if (cancel !== undefined && typeof cancel !== 'boolean') problems.push(`cancelRequested: expected true/false, got ${describe(cancel)}`)
  if (scope !== undefined && (scope.includes('\0') || !scope.startsWith('/'))) problems.push('scope: must be an absolute path without NUL bytes')
  const request: TaskRequest = { id: key, text, createdAt, createdBy, target, cancelRequested: cancel === true }
  if (scope !== undefined) request.scope = scope
  if (scheduleId !== undefined) request.scheduleId = scheduleId
  if (parent !== undefined) request.parent = parent
  if (attachments !== undefined) request.attachments = attachments
  return problems.length > 0 ? { request, malformed: `malformed task: ${problems.join('; ')}` } : { request }
}

/** A short description of a value for error messages (never the megabytes themselves). */
export function describe (v: unknown): string {
  if (typeof v === 'string') return v.length > 40 ? `text of ${v.length} characters` : JSON.stringify(v)
  if (Array.isArray(v)) return `a list of ${v.length}`
  if (v === null) return 'null'
  if (typeof v === 'object') return 'an object'
  return String(v)
}
