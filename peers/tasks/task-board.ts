// The task board: typed, rule-checked access to a space's `tasks` map. Who may receive a task
// (a paired, unrevoked desktop) is read from the space's members (core `Members`).
//
// Local writes are checked before they happen: a status change the forward-only machine does
// not allow throws IllegalTransitionError; a write to a field this device is not the writer of
// (creator fields: only `createdBy`; status fields: only `target`) throws WrongWriterError.
//
// Remote writes cannot be refused (Yjs merges them), so they are *ignored* instead: the board
// keeps an accepted view of every task, its last valid state, and reads only that. After every
// transaction that touches a task (from any origin) the raw fields are compared with the
// accepted ones, field by field, and a change is taken into the view only if the rules allow
// it; otherwise the view keeps the old value and a 'rule-violation' is emitted and logged.
// Why state and not authorship: an update reaches a replica through whichever peer relayed it,
// so the transaction origin (the sync session) does not say who wrote it, and Yjs client ids
// are not bound to devices. What state can prove, the board enforces: status only moves
// forward (checked for reachability, since several steps may arrive merged; `attempt` only
// grows, which orders the interrupted -> queued retry loop), a task is claimed only by its
// target, creator fields never change after creation, a cancel request is never withdrawn,
// and a finished task is frozen. A replica that writes through the board repairs any ignored
// raw value the next time it writes the field.

import * as Y from 'yjs'
import { ObservableV2 } from 'lib0/observable'
import { Members } from '../../core/members.ts'
import type { Member } from '../../core/members.ts'
import { isTaskId, newTaskId } from './task-id.ts'
import {
  IllegalTransitionError, InvalidTaskFieldError, NothingPendingError, TaskNotFoundError, UnknownTargetError, WrongWriterError
} from './errors.ts'
import {
  canTransition, isFinal, isReachable, isWaiting, parseAnswer, parseAttachments, parseAttempt, parseLogEntry, parseOutputs, parsePending,
  parseRequest, parseStatus, parseString, parseTime, describe, ANSWER_KEY_PREFIX, MAX_NOTE_CHARS,
  MAX_ERROR_CHARS, MAX_LOG_ENTRIES, MAX_LOG_TEXT_CHARS, MAX_RESULT_CHARS, MAX_SCOPE_CHARS, MAX_TEXT_CHARS,
  MAX_ID_CHARS
} from './task-rules.ts'
import type { DeviceRole } from './roles.ts'
import { receiptProves, signReceipt } from './receipt.ts'
import type { ReceiptKeys, StoredReceipt } from './receipt.ts'
import type { Attachment, Answer, AnswerDecision, FinalStatus, LogEntry, LogKind, PendingRequest, Task, TaskOutput, TaskProgress, TaskRequest, TaskStatus } from './task-rules.ts'

export interface RuleViolation {
  taskId: string
  field: string
  reason: string
  /** The member whose sync delivered the change, when known (the writer may be another device it relayed). */
  from?: string
}

export type TaskBoardEvents = {
  /** Tasks whose accepted view changed (added, changed or removed), after a transaction. */
  'tasks-change': (taskIds: string[], local: boolean) => void
  /** A remote (or raw) change that breaks the rules; the accepted view kept the old value. */
  'rule-violation': (violation: RuleViolation) => void
}

export interface TaskBoardOptions {
  doc: Y.Doc
  /** This device's peer id: the writer identity for creator and executor fields. */
  deviceId: string
  /** The space's members (`space.members`); read from `doc` when omitted. */
  members?: Members
  now?: () => number
  /** Where ignored changes are reported (default console.warn). */
  log?: (message: string) => void
  /**
   * Sign receipts of the tasks this device finishes and check the others' (peers/tasks/receipt.ts).
   * With them, the target desktop takes its tasks' progress only from its own writes (another
   * member's status or result write is ignored and written back) and restores an unfinished task
   * another member deleted; a finished task's result is final only once a receipt proves it.
   */
  receipts?: ReceiptKeys
}

export interface AddTaskInput {
  text: string
  target: string
  /** Absolute folder the task is narrowed to; must lie inside the target's grants when it runs. */
  scope?: string
  /** Defaults to this device; anything else is a WrongWriterError. */
  createdBy?: string
  /**
   * A chosen id instead of a new one (a schedule's occurrence: derived from the schedule and the
   * slot, so it is the same after a restart); a task with that id already there is an error.
   */
  id?: string
  /** The schedule this task is an occurrence of. */
  scheduleId?: string
  /** A follow-up: the finished task whose conversation it continues. */
  parent?: string
  /** Files sent with it (their bytes are in this device's blob store, served to the target). */
  attachments?: Attachment[]
}

export interface FinishInput {
  result?: string
  error?: string
  outputs?: TaskOutput[]
}

interface Accepted {
  request: TaskRequest
  malformed?: string
  progress: TaskProgress
  answers: Record<string, Answer>
  /** A receipt proves the progress (only tracked with `receipts`). */
  verified?: boolean
  /** The raw receipt this device wrote (its own tasks), to write back if another member changes it. */
  receipt?: StoredReceipt
}

/** Progress fields only the target writes, in the order they are written back. */
const PROGRESS_FIELDS = ['status', 'attempt', 'claimedBy', 'startedAt', 'heartbeatAt', 'finishedAt', 'result', 'error', 'outputs', 'pending'] as const

/** The only role a task may be addressed to. */
const DESKTOP: DeviceRole = 'desktop'

const BASE_PROGRESS: TaskProgress = { status: 'queued', attempt: 0, outputs: [] }
const TRUNCATED = '\n[truncated]'

export class TaskBoard extends ObservableV2<TaskBoardEvents> {
  readonly doc: Y.Doc
  readonly deviceId: string
  readonly tasks: Y.Map<unknown>
  readonly members: Members
  /** Transaction origin of this board's own writes. */
  readonly origin: object = { board: true }
  #now: () => number
  #log: (message: string) => void
  #accepted = new Map<string, Accepted>()
  #reported = new Set<string>()
  #receipts: ReceiptKeys | undefined
  #repairs = new Set<string>()
  #observer: (events: Array<Y.YEvent<any>>, tr: Y.Transaction) => void

  constructor (opts: TaskBoardOptions) {
    super()
    this.doc = opts.doc
    this.deviceId = opts.deviceId
    this.tasks = opts.doc.getMap('tasks')
    this.members = opts.members ?? new Members(opts.doc)
    this.#now = opts.now ?? Date.now
    this.#log = opts.log ?? ((m) => console.warn(m))
    this.#receipts = opts.receipts
    for (const id of this.tasks.keys()) this.#reconcile(id, undefined)
    this.#observer = (events, tr) => {
      const ids = new Set<string>()
      const logged = new Set<string>()
      for (const ev of events) {
        if (ev.target === this.tasks) for (const key of ev.changes.keys.keys()) ids.add(key)
        else if (typeof ev.path[0] === 'string') {
          ids.add(ev.path[0])
          if (ev.target instanceof Y.Array) logged.add(ev.path[0])
        }
      }
      // A log append leaves the accepted fields as they were but is still news for a watcher.
      const changed = [...ids].filter((id) => this.#reconcile(id, tr.origin) || (logged.has(id) && this.#accepted.has(id)))
      if (changed.length > 0) this.#emitSafely('tasks-change', [changed, tr.origin === this.origin])
    }
    this.tasks.observeDeep(this.#observer)
  }

  override destroy (): void {
    this.tasks.unobserveDeep(this.#observer)
    super.destroy()
  }

  // ---- reading -------------------------------------------------------------------

  /** The accepted view of one task. */
  get (id: string): Task | undefined {
    const a = this.#accepted.get(id)
    if (a === undefined) return undefined
    const task: Task = { ...a.request, ...a.progress, outputs: a.progress.outputs.slice(), answers: { ...a.answers } }
    if (a.malformed !== undefined) task.malformed = a.malformed
    if (this.#receipts !== undefined && isFinal(task.status)) task.verified = a.verified === true
    return task
  }

  /** All tasks, oldest first (ids sort by creation time). */
  list (): Task[] {
    return [...this.#accepted.keys()].sort().map((id) => this.get(id)!)
  }

  /** The task's progress log (well-formed entries only). */
  log (id: string): LogEntry[] {
    const arr = this.#rawTask(id)?.get('log')
    if (!(arr instanceof Y.Array)) return []
    const out: LogEntry[] = []
    for (const e of arr.toArray()) {
      const entry = parseLogEntry(e)
      if (entry !== undefined) out.push(entry)
    }
    return out
  }

  /** The member tasks may be addressed to (a paired, unrevoked desktop); `UnknownTargetError` saying why not otherwise. */
  target (peerId: string): Member {
    const m = this.members.get(peerId)
    if (m === null) throw new UnknownTargetError(peerId)
    if (m.revokedAt !== undefined) throw new UnknownTargetError(peerId, `"${m.name}" was revoked; tasks are not sent to it`)
    if (m.role !== DESKTOP) throw new UnknownTargetError(peerId, `"${m.name}" is a ${m.role}, not a desktop; only desktops run tasks`)
    if (m.verified === false) throw new UnknownTargetError(peerId, `"${m.name}" is not admitted by this device (no signed admission reaches it); tasks are sent only to desktops this device admits`)
    return m
  }

  // ---- creator writes ------------------------------------------------------------

  addTask (input: AddTaskInput): Task {
    const createdBy = input.createdBy ?? this.deviceId
    if (createdBy !== this.deviceId) throw new WrongWriterError('(new)', 'createdBy', `this device is ${this.deviceId}`)
    checkInput('text', parseString(input.text, MAX_TEXT_CHARS))
    if (input.text.trim() === '') throw new InvalidTaskFieldError('text', 'empty')
    checkInput('target', parseString(input.target, MAX_ID_CHARS))
    if (input.parent !== undefined) checkInput('parent', parseString(input.parent, MAX_ID_CHARS))
    if (input.attachments !== undefined) checkInput('attachments', parseAttachments(input.attachments))
    if (input.scope !== undefined) {
      checkInput('scope', parseString(input.scope, MAX_SCOPE_CHARS))
      if (input.scope.includes('\0') || !input.scope.startsWith('/')) throw new InvalidTaskFieldError('scope', 'must be an absolute path without NUL bytes')
    }
    if (input.scheduleId !== undefined) checkInput('scheduleId', parseString(input.scheduleId, MAX_ID_CHARS))
    this.target(input.target)
    const now = this.#now()
    if (input.id !== undefined && (!isTaskId(input.id) || this.tasks.has(input.id))) throw new InvalidTaskFieldError('id', `${input.id} is not a task id, or is taken`)
    const id = input.id ?? newTaskId(now)
    const m = new Y.Map<unknown>()
    m.set('id', id)
    m.set('text', input.text)
    m.set('createdAt', now)
    m.set('createdBy', createdBy)
    m.set('target', input.target)
    if (input.scope !== undefined) m.set('scope', input.scope)
    if (input.scheduleId !== undefined) m.set('scheduleId', input.scheduleId)
    if (input.parent !== undefined) m.set('parent', input.parent)
    if (input.attachments !== undefined && input.attachments.length > 0) m.set('attachments', input.attachments)
    m.set('cancelRequested', false)
    this.doc.transact(() => this.tasks.set(id, m), this.origin)
    return this.get(id)!
  }

  requestCancel (id: string): Task {
    const task = this.#creatorTask(id, 'cancelRequested')
    if (task.cancelRequested || isFinal(task.status)) return task
    this.#write(id, { cancelRequested: true })
    return this.get(id)!
  }

  /** Prune: only the creator removes, and only a finished task. */
  removeTask (id: string): void {
    this.removeTasks([id])
  }

  /** Remove many finished tasks in one transaction: one update, one write, one message. */
  removeTasks (ids: string[]): void {
    for (const id of ids) {
      const task = this.#creatorTask(id, 'id')
      if (!isFinal(task.status)) throw new IllegalTransitionError(id, task.status, 'removed')
    }
    this.doc.transact(() => { for (const id of ids) this.tasks.delete(id) }, this.origin)
  }

  // ---- answers (any member: the phone that answers) ---------------------------------

  /**
   * Answers the request a waiting task is paused on. Works offline: the answer waits in the
   * document and takes effect when it reaches the desktop. Throws when the task is not waiting
   * on that request (as far as this replica knows) or it was answered already.
   */
  answerRequest (id: string, requestId: string, decision: AnswerDecision, text?: string): Task {
    const task = this.get(id)
    if (task === undefined) throw new TaskNotFoundError(id)
    const pending = task.pending
    if (!isWaiting(task.status) || pending == null || pending.id !== requestId) throw new NothingPendingError(id, task.status)
    if ((decision === 'reply') !== (pending.kind === 'question')) throw new NothingPendingError(id, task.status, pending.kind === 'question' ? 'it asks a question: answer with reply' : 'it asks for approval: answer with approve or deny')
    if (task.answers?.[requestId] !== undefined) throw new NothingPendingError(id, task.status, 'this request was answered already')
    if (text !== undefined) checkInput('text', parseString(text, MAX_NOTE_CHARS))
    const answer: Answer = { decision, by: this.deviceId, at: this.#now() }
    if (text !== undefined) answer.text = text
    this.#write(id, { [ANSWER_KEY_PREFIX + requestId]: answer })
    return this.get(id)!
  }

  // ---- executor writes (the target desktop) ----------------------------------------

  claimTask (id: string): Task {
    const task = this.#executorTask(id, 'claimed')
    const raw = this.#rawTask(id)!
    this.doc.transact(() => {
      if (!(raw.get('log') instanceof Y.Array)) raw.set('log', new Y.Array())
      raw.set('status', 'claimed')
      raw.set('claimedBy', this.deviceId)
      raw.set('attempt', task.attempt + 1)
    }, this.origin)
    this.appendLog(id, 'status', `claimed by ${this.deviceId} (attempt ${task.attempt + 1})`)
    return this.get(id)!
  }

  startTask (id: string): Task {
    this.#executorTask(id, 'running')
    const now = this.#now()
    this.#write(id, { status: 'running', startedAt: now, heartbeatAt: now })
    return this.get(id)!
  }

  /** Pauses a running task on a request for the phone (status awaiting-approval / awaiting-answer). */
  awaitRequest (id: string, pending: PendingRequest): Task {
    const status = pending.kind === 'approval' ? 'awaiting-approval' : 'awaiting-answer'
    this.#executorTask(id, status)
    const p = parsePending(pending)
    if (!p.ok) throw new InvalidTaskFieldError('pending', p.reason)
    this.appendLog(id, 'status', pending.kind === 'approval' ? `waiting for approval: ${pending.summary} (${pending.reason})` : `waiting for an answer: ${pending.question}`)
    this.#write(id, { status, pending })
    return this.get(id)!
  }

  /** Back to running once the request is answered (or timed out). */
  resumeTask (id: string, line: string): Task {
    this.#executorTask(id, 'running')
    this.appendLog(id, 'status', line)
    this.#write(id, { status: 'running', pending: null, heartbeatAt: this.#now() })
    return this.get(id)!
  }

  heartbeat (id: string): void {
    const task = this.#executorTask(id, undefined)
    if (task.status !== 'running' && task.status !== 'claimed' && !isWaiting(task.status)) throw new IllegalTransitionError(id, task.status, 'heartbeat')
    this.#write(id, { heartbeatAt: this.#now() })
  }

  appendLog (id: string, kind: LogKind, text: string): void {
    const task = this.#executorTask(id, undefined)
    if (isFinal(task.status)) throw new IllegalTransitionError(id, task.status, 'log')
    const raw = this.#rawTask(id)!
    this.doc.transact(() => {
      let arr = raw.get('log')
      if (!(arr instanceof Y.Array)) { arr = new Y.Array(); raw.set('log', arr) }
      const log = arr as Y.Array<unknown>
      if (log.length > MAX_LOG_ENTRIES) return
      const entry: LogEntry = log.length === MAX_LOG_ENTRIES
        ? { at: this.#now(), kind: 'info', text: `log full (${MAX_LOG_ENTRIES} entries); later steps are not recorded` }
        : { at: this.#now(), kind, text: truncate(text, MAX_LOG_TEXT_CHARS) }
      log.push([entry])
    }, this.origin)
  }

  finishTask (id: string, status: FinalStatus, out: FinishInput = {}): Task {
    this.#executorTask(id, status)
    const fields: Record<string, unknown> = { status, finishedAt: this.#now() }
    if (this.get(id)!.pending != null) fields.pending = null
    if (out.result !== undefined) fields.result = truncate(out.result, MAX_RESULT_CHARS)
    if (out.error !== undefined) fields.error = truncate(out.error, MAX_ERROR_CHARS)
    if (out.outputs !== undefined) {
      const parsed = parseOutputs(out.outputs)
      if (!parsed.ok) throw new InvalidTaskFieldError('outputs', parsed.reason)
      fields.outputs = parsed.value
    }
    const line = status === 'done' ? 'done' : `${status}${out.error !== undefined ? `: ${out.error}` : ''}`
    this.appendLog(id, status === 'done' ? 'status' : 'error', line)
    if (this.#receipts !== undefined) {
      const task = this.get(id)!
      fields.receipt = signReceipt(this.#receipts, {
        task: id,
        attempt: task.attempt,
        status,
        result: fields.result as string | undefined ?? task.result,
        error: fields.error as string | undefined ?? task.error,
        outputs: fields.outputs as TaskOutput[] | undefined ?? task.outputs,
        finishedAt: fields.finishedAt as number
      })
    }
    this.#write(id, fields)
    return this.get(id)!
  }

  markInterrupted (id: string): Task {
    this.#executorTask(id, 'interrupted')
    this.appendLog(id, 'status', 'interrupted (the desktop stopped while it ran)')
    this.#write(id, { status: 'interrupted' })
    return this.get(id)!
  }

  requeue (id: string): Task {
    this.#executorTask(id, 'queued')
    this.appendLog(id, 'status', 'queued again for a retry')
    this.#write(id, { status: 'queued' })
    return this.get(id)!
  }

  // ---- internals -----------------------------------------------------------------

  #rawTask (id: string): Y.Map<unknown> | undefined {
    const m = this.tasks.get(id)
    return m instanceof Y.Map ? m : undefined
  }

  #creatorTask (id: string, field: string): Task {
    const task = this.get(id)
    if (task === undefined) throw new TaskNotFoundError(id)
    if (task.createdBy !== this.deviceId) throw new WrongWriterError(id, field, `only its creator ${task.createdBy} writes it`)
    return task
  }

  /** The task, checked for this device being its executor and (when `to` is given) for a legal step. */
  #executorTask (id: string, to: TaskStatus | undefined): Task {
    const task = this.get(id)
    if (task === undefined) throw new TaskNotFoundError(id)
    if (task.target !== this.deviceId) throw new WrongWriterError(id, 'status', `only its target desktop ${task.target} writes it`)
    if (to !== undefined && !canTransition(task.status, to)) throw new IllegalTransitionError(id, task.status, to)
    return task
  }

  #write (id: string, fields: Record<string, unknown>): void {
    const raw = this.#rawTask(id)!
    this.doc.transact(() => {
      for (const [k, v] of Object.entries(fields)) raw.set(k, v)
    }, this.origin)
  }

  #emitSafely<N extends keyof TaskBoardEvents & string> (name: N, args: Parameters<TaskBoardEvents[N]>): void {
    // A throwing listener must not break the Yjs transaction cleanup or the other listeners.
    for (const f of [...(this._observers.get(name) ?? [])]) {
      try { f(...args) } catch (err) { this.#log(`task board: a ${name} listener failed: ${(err as Error).message}`) }
    }
  }

  #violation (taskId: string, field: string, raw: unknown, reason: string, from?: string): void {
    const key = `${taskId}\0${field}\0${describe(raw)}\0${reason}`
    if (this.#reported.has(key)) return
    if (this.#reported.size > 10_000) this.#reported.clear()
    this.#reported.add(key)
    this.#log(`task board: ignored change to ${taskId}.${field}${from !== undefined ? ` from ${from}` : ''}: ${reason}`)
    this.#emitSafely('rule-violation', [{ taskId, field, reason, ...(from !== undefined ? { from } : {}) }])
  }

  /** Is this device the target of a task whose progress it takes only from its own writes? */
  #guards (request: TaskRequest): boolean {
    return this.#receipts !== undefined && request.target === this.deviceId
  }

  /**
   * Write this device's accepted state of task `id` back over what another member wrote (or
   * deleted), once the current transaction is over.
   */
  #repair (id: string): void {
    if (this.#repairs.has(id)) return
    this.#repairs.add(id)
    queueMicrotask(() => {
      this.#repairs.delete(id)
      const a = this.#accepted.get(id)
      if (a === undefined) return
      this.doc.transact(() => {
        let raw = this.#rawTask(id)
        if (raw === undefined) {
          raw = new Y.Map<unknown>()
          this.tasks.set(id, raw)
          for (const [k, v] of Object.entries(a.request)) if (v !== undefined) raw.set(k, v)
          const log = new Y.Array<unknown>()
          raw.set('log', log)
          log.push([{ at: this.#now(), kind: 'info', text: 'restored by its desktop after another member deleted it (earlier log lines are lost)' }])
        }
        for (const f of PROGRESS_FIELDS) {
          const v = a.progress[f]
          if (v === undefined) { if (raw.has(f)) raw.delete(f) } else if (JSON.stringify(rawProgress(k => raw.get(k), f)) !== JSON.stringify(v)) raw.set(f, v)
        }
        if (a.receipt !== undefined && JSON.stringify(raw.get('receipt')) !== JSON.stringify(a.receipt)) raw.set('receipt', a.receipt)
        else if (a.receipt === undefined && raw.has('receipt')) raw.delete('receipt')
      }, this.origin)
    })
  }

  /** Brings the accepted view of one task up to date with the raw doc; true when the view changed. */
  #reconcile (id: string, origin: unknown): boolean {
    const raw = this.tasks.get(id)
    const local = origin === this.origin || origin === undefined
    const from = deliveredBy(origin)
    const prev = this.#accepted.get(id)
    if (!(raw instanceof Y.Map)) {
      if (raw !== undefined) this.#violation(id, '(task)', raw, 'a task must be a map', from)
      // Only a finished task is ever removed (prune): an unfinished one this desktop runs is kept and written back.
      if (!local && prev !== undefined && this.#guards(prev.request) && !isFinal(prev.progress.status)) {
        this.#violation(id, '(task)', undefined, `a delete of an unfinished task (${prev.progress.status}) this desktop runs: kept, and written back`, from)
        this.#repair(id)
        return false
      }
      return this.#accepted.delete(id)
    }
    const get = (f: string): unknown => raw.get(f)
    const parsed = parseRequest(id, get)
    let next: Accepted
    // A malformed task nobody acted on yet may still be completed by its creator (a buggy peer
    // writing fields one transaction at a time): it is read afresh until it is well-formed.
    if (prev === undefined || (prev.malformed !== undefined && prev.progress.status === 'queued' && prev.progress.attempt === 0)) {
      next = { request: parsed.request, progress: { ...BASE_PROGRESS }, answers: {} }
      if (parsed.malformed !== undefined) next.malformed = parsed.malformed
    } else {
      next = { request: { ...prev.request }, progress: { ...prev.progress }, answers: { ...prev.answers } }
      if (prev.malformed !== undefined) next.malformed = prev.malformed
      for (const f of ['text', 'createdAt', 'createdBy', 'target', 'scope', 'scheduleId', 'parent', 'attachments'] as const) {
        if (JSON.stringify(parsed.request[f]) !== JSON.stringify(prev.request[f])) this.#violation(id, f, get(f), 'creator fields do not change after creation')
      }
      if (parsed.request.cancelRequested !== prev.request.cancelRequested) {
        if (parsed.request.cancelRequested) next.request.cancelRequested = true
        else this.#violation(id, 'cancelRequested', get('cancelRequested'), 'a cancel request cannot be withdrawn')
      }
    }
    if (!local && this.#guards(next.request)) {
      // This desktop's own task: its progress is what this desktop wrote (nothing yet for a new
      // task: it is queued), whoever writes over it.
      const mine = prev?.progress ?? BASE_PROGRESS
      next.progress = { ...mine, outputs: mine.outputs.slice() }
      if (prev?.receipt !== undefined) next.receipt = prev.receipt
      if (prev?.verified !== undefined) next.verified = prev.verified
      const changed = PROGRESS_FIELDS.filter(f => JSON.stringify(rawProgress(get, f) ?? null) !== JSON.stringify(mine[f] ?? null))
      if (changed.length > 0 || JSON.stringify(get('receipt') ?? null) !== JSON.stringify(prev?.receipt ?? null)) {
        this.#violation(id, changed[0] ?? 'receipt', get(changed[0] ?? 'receipt'), 'only this desktop writes the progress of the tasks it runs: ignored, and written back', from)
        this.#repair(id)
      }
    } else {
      this.#reconcileProgress(id, get, next, from)
      if (this.#guards(next.request)) {
        // Written here (or loaded from this device's store): the receipt is this device's own.
        const receipt = get('receipt')
        if (isStoredReceipt(receipt)) next.receipt = receipt
      }
    }
    this.#reconcileAnswers(id, raw, next)
    this.#accepted.set(id, next)
    return prev === undefined || !sameAccepted(prev, next)
  }

  /** True when the raw task carries the target's valid receipt for exactly the fields it shows. */
  #proven (id: string, get: (f: string) => unknown, target: string): boolean {
    if (this.#receipts === undefined) return false
    const status = parseStatus(get('status'))
    const attempt = parseAttempt(get('attempt'))
    const result = parseString(get('result'), MAX_RESULT_CHARS + TRUNCATED.length, true)
    const error = parseString(get('error'), MAX_ERROR_CHARS + TRUNCATED.length, true)
    const outputs = get('outputs') === undefined ? { ok: true as const, value: [] } : parseOutputs(get('outputs'))
    const finishedAt = parseTime(get('finishedAt'), true)
    if (!status.ok || !attempt.ok || !result.ok || !error.ok || !outputs.ok || !finishedAt.ok || !isFinal(status.value)) return false
    return receiptProves(this.#receipts, get('receipt'), target, {
      task: id, attempt: attempt.value, status: status.value, result: result.value, error: error.value, outputs: outputs.value, finishedAt: finishedAt.value
    })
  }

  #reconcileProgress (id: string, get: (f: string) => unknown, next: Accepted, from?: string): void {
    const p = next.progress
    if (this.#receipts !== undefined) {
      if (this.#proven(id, get, next.request.target)) {
        // The target's signature: this is how the task ended, whatever was shown before.
        const status = parseStatus(get('status'))
        const attempt = parseAttempt(get('attempt'))
        if (status.ok) p.status = status.value
        if (attempt.ok) p.attempt = attempt.value
        for (const [f, v] of [['result', get('result')], ['error', get('error')], ['finishedAt', get('finishedAt')]] as const) {
          if (v === undefined) delete p[f]; else (p as unknown as Record<string, unknown>)[f] = v
        }
        const outputs = get('outputs') === undefined ? { ok: true as const, value: [] } : parseOutputs(get('outputs'))
        if (outputs.ok) p.outputs = outputs.value
        next.verified = true
        return
      }
      if (isFinal(p.status) && next.verified !== true) {
        // Shown as unverified until a receipt proves it: the target's real outcome may still come.
        const status = parseStatus(get('status'))
        const attempt = parseAttempt(get('attempt'))
        if (status.ok && attempt.ok && attempt.value >= p.attempt) { p.status = status.value; p.attempt = attempt.value }
        for (const f of ['result', 'error', 'finishedAt', 'startedAt', 'heartbeatAt'] as const) {
          const v = get(f)
          if (v === undefined) delete p[f]; else if (typeof v === (f === 'result' || f === 'error' ? 'string' : 'number')) (p as unknown as Record<string, unknown>)[f] = v
        }
        next.verified = isFinal(p.status) ? false : undefined
        if (next.verified === undefined) delete next.verified
        return
      }
    }
    const frozen = isFinal(p.status)
    const status = parseStatus(get('status'))
    const attempt = parseAttempt(get('attempt'))
    if (!status.ok) this.#violation(id, 'status', get('status'), status.reason)
    else if (!attempt.ok) this.#violation(id, 'attempt', get('attempt'), attempt.reason)
    else if (status.value !== p.status || attempt.value !== p.attempt) {
      if (isReachable(p, { status: status.value, attempt: attempt.value })) {
        p.status = status.value
        p.attempt = attempt.value
      } else {
        this.#violation(id, 'status', get('status'), `${p.status} (attempt ${p.attempt}) cannot become ${status.value} (attempt ${attempt.value})`)
      }
    }
    const take = <K extends keyof TaskProgress>(field: K, parsedValue: { ok: true, value: TaskProgress[K] } | { ok: false, reason: string }, same: (a: TaskProgress[K], b: TaskProgress[K]) => boolean = Object.is): void => {
      if (!parsedValue.ok) { this.#violation(id, field, get(field), parsedValue.reason); return }
      if (same(parsedValue.value, p[field])) return
      if (frozen) { this.#violation(id, field, get(field), `the task is ${p.status}; a finished task does not change`); return }
      if (parsedValue.value === undefined) { this.#violation(id, field, undefined, 'a field of a task is never removed'); return }
      p[field] = parsedValue.value
    }
    const claimedBy = get('claimedBy')
    if (claimedBy !== p.claimedBy) {
      if (claimedBy !== undefined && claimedBy !== next.request.target) this.#violation(id, 'claimedBy', claimedBy, `only the target desktop ${next.request.target} may claim the task`)
      else take('claimedBy', { ok: true, value: claimedBy as string | undefined })
    }
    take('startedAt', parseTime(get('startedAt'), true))
    take('heartbeatAt', parseTime(get('heartbeatAt'), true))
    take('finishedAt', parseTime(get('finishedAt'), true))
    take('result', parseString(get('result'), MAX_RESULT_CHARS + TRUNCATED.length, true))
    take('error', parseString(get('error'), MAX_ERROR_CHARS + TRUNCATED.length, true))
    if (get('outputs') !== undefined) take('outputs', parseOutputs(get('outputs')), (a, b) => JSON.stringify(a) === JSON.stringify(b))
    if (get('pending') !== undefined) take('pending', parsePending(get('pending')), (a, b) => JSON.stringify(a) === JSON.stringify(b))
    if (this.#receipts !== undefined && isFinal(p.status)) next.verified = next.request.target === this.deviceId && !frozen
    void from
  }

  /** An answer is taken once, while the task is not finished; a later different value is ignored. */
  #reconcileAnswers (id: string, raw: Y.Map<unknown>, next: Accepted): void {
    for (const [key, value] of raw.entries()) {
      if (!key.startsWith(ANSWER_KEY_PREFIX)) continue
      const requestId = key.slice(ANSWER_KEY_PREFIX.length)
      const parsed = parseAnswer(value)
      if (!parsed.ok) { this.#violation(id, key, value, parsed.reason); continue }
      const had = next.answers[requestId]
      if (had !== undefined) {
        if (JSON.stringify(had) !== JSON.stringify(parsed.value)) this.#violation(id, key, value, 'an answer does not change once given')
        continue
      }
      if (isFinal(next.progress.status)) { this.#violation(id, key, value, `the task is ${next.progress.status}; a finished task does not change`); continue }
      next.answers[requestId] = parsed.value
    }
  }
}

/** The member whose sync session applied a transaction (sessions are their updates' origin). */
function deliveredBy (origin: unknown): string | undefined {
  if (typeof origin !== 'object' || origin === null || !('remote' in origin)) return undefined
  const remote = (origin as { remote: unknown }).remote
  return typeof remote === 'string' ? remote : undefined
}

/** A progress field as stored, with the defaults an unwritten one means (queued, attempt 0, no outputs). */
function rawProgress (get: (f: string) => unknown, f: string): unknown {
  const v = get(f)
  if (v !== undefined) return v
  return f === 'status' ? 'queued' : f === 'attempt' ? 0 : f === 'outputs' ? [] : undefined
}

function isStoredReceipt (v: unknown): v is StoredReceipt {
  return typeof v === 'object' && v !== null && typeof (v as StoredReceipt).body === 'string' && typeof (v as StoredReceipt).sig === 'string'
}

function checkInput (field: string, p: { ok: true } | { ok: false, reason: string }): void {
  if (!p.ok) throw new InvalidTaskFieldError(field, p.reason)
}

function truncate (s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max) + TRUNCATED
}

function sameAccepted (a: Accepted, b: Accepted): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

export type { Task, TaskStatus, FinalStatus, TaskOutput, LogEntry, LogKind } from './task-rules.ts'
