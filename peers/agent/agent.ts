// The desktop agent: watches a space's tasks, claims the ones addressed to this desktop, runs
// up to N at once inside the granted permissions, and writes progress and results back.
//
// One rule carries the crash story: a task addressed to this desktop that is `claimed` or
// `running` but not running in this process was left by a previous run (or a kill -9), so it
// becomes `interrupted`, and is queued again while attempts remain (then failed). Claiming
// and registering a run happen in the same synchronous step, so a task never runs twice here,
// and only the target desktop ever claims, so it never runs on two desktops.

import type * as Y from 'yjs'
import { ObservableV2 } from 'lib0/observable'
import { TaskBoard } from '../tasks/task-board.ts'
import type { Task } from '../tasks/task-board.ts'
import { isFinal } from '../tasks/task-rules.ts'
import type { LogKind } from '../tasks/task-rules.ts'
import { Permissions } from './permissions.ts'
import type { Grants } from './permissions.ts'
import { AuditLog } from './audit-log.ts'
import { KeepAwake } from './keep-awake.ts'
import { ShellExecutor } from './shell-executor.ts'
import { ClaudeExecutor } from './claude-executor.ts'
import { routeTask } from './executor.ts'
import type { Executor, ExecutorMode, ExecutionResult } from './executor.ts'
import { changedFiles, snapshotFolders } from './outputs.ts'

export const DEFAULT_CONCURRENCY = 2
export const DEFAULT_HEARTBEAT_MS = 5_000
export const DEFAULT_RETRY_INTERRUPTED = 1
/** After a cancel, how long an executor gets to wind down before the task is reported cancelled anyway. */
export const CANCEL_GRACE_MS = 1_500

export interface AgentOptions {
  doc: Y.Doc
  deviceId: string
  grants: Grants
  /** Home directory: the audit log lives here. */
  home: string
  executor?: ExecutorMode
  /** Executors to use instead of the default ones (shell always; Claude when ANTHROPIC_API_KEY is set). */
  executors?: { shell?: Executor, claude?: Executor }
  concurrency?: number
  heartbeatMs?: number
  /** How many times an interrupted task is queued again before it fails. */
  retryInterrupted?: number
  /** Tasks not to claim yet (a schedule's occurrence not yet on disk); `poke()` when that changes. */
  held?: (taskId: string) => boolean
  /** An existing board over `doc` (otherwise the agent makes one). */
  board?: TaskBoard
  env?: NodeJS.ProcessEnv
  keepAwake?: boolean
  log?: (message: string) => void
}

export type AgentEvents = {
  'task-start': (taskId: string) => void
  'task-end': (taskId: string, status: string) => void
}

interface Run {
  controller: AbortController
  done: Promise<void>
}

export class Agent extends ObservableV2<AgentEvents> {
  readonly board: TaskBoard
  readonly deviceId: string
  readonly concurrency: number
  #opts: AgentOptions
  #ownBoard: boolean
  #executors: { shell: Executor, claude?: Executor | undefined }
  #runs = new Map<string, Run>()
  #audit: AuditLog | undefined
  #awake: KeepAwake
  #log: (m: string) => void
  #started = false
  #stopping = false
  #scheduled = false
  #onChange = () => this.#schedule()

  constructor (opts: AgentOptions) {
    super()
    this.#opts = opts
    this.deviceId = opts.deviceId
    this.concurrency = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY)
    this.#log = opts.log ?? ((m) => console.error(`dispatch: ${m}`))
    this.#ownBoard = opts.board === undefined
    this.board = opts.board ?? new TaskBoard({ doc: opts.doc, deviceId: opts.deviceId, log: this.#log })
    const env = opts.env ?? process.env
    this.#executors = {
      shell: opts.executors?.shell ?? new ShellExecutor(),
      claude: opts.executors?.claude ?? (env.ANTHROPIC_API_KEY ? new ClaudeExecutor({ env }) : undefined)
    }
    this.#awake = new KeepAwake(this.#log, opts.keepAwake ?? true)
  }

  /** Opens the audit log, turns tasks left running by a previous process into interrupted ones, and starts serving. */
  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#audit = await AuditLog.open(this.#opts.home)
    this.board.on('tasks-change', this.#onChange)
    this.#tick()
  }

  /** Stops serving: running tasks are aborted and left `interrupted`, so the next start retries them. */
  async stop (): Promise<void> {
    if (this.#stopping) return
    this.#stopping = true
    this.board.off('tasks-change', this.#onChange)
    const runs = [...this.#runs.values()]
    for (const r of runs) r.controller.abort(new Error('the agent is stopping'))
    await Promise.all(runs.map((r) => r.done))
    this.#awake.stop()
    await this.#audit?.close()
    if (this.#ownBoard) this.board.destroy()
    this.destroy()
  }

  /** Look at the board again (a held task was released). */
  poke (): void {
    this.#schedule()
  }

  /** Ids of the tasks running in this process. */
  running (): string[] {
    return [...this.#runs.keys()]
  }

  #schedule (): void {
    if (this.#scheduled || this.#stopping) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      this.#tick()
    })
  }

  /** One pass over this desktop's tasks: recover, cancel, claim. Never throws. */
  #tick (): void {
    if (this.#stopping) return
    const mine = this.board.list().filter((t) => t.target === this.deviceId)
    for (const t of mine) {
      try {
        this.#settle(t)
      } catch (err) {
        this.#log(`task ${t.id}: ${(err as Error).message}`)
      }
    }
    for (const t of this.board.list()) {
      if (this.#runs.size >= this.concurrency) break
      if (t.target !== this.deviceId || t.status !== 'queued' || t.cancelRequested || this.#runs.has(t.id)) continue
      if (this.#opts.held?.(t.id) === true) continue
      try {
        this.#launch(t)
      } catch (err) {
        this.#log(`task ${t.id}: cannot claim: ${(err as Error).message}`)
      }
    }
  }

  /** Everything about one task short of launching it. */
  #settle (t: Task): void {
    const run = this.#runs.get(t.id)
    if (run !== undefined) {
      if (t.cancelRequested && !run.controller.signal.aborted) run.controller.abort(new Error('cancelled from the phone'))
      return
    }
    if (t.status === 'claimed' || t.status === 'running') {
      this.board.markInterrupted(t.id)
      t = this.board.get(t.id)!
    }
    if (t.status === 'interrupted') {
      const retries = this.#opts.retryInterrupted ?? DEFAULT_RETRY_INTERRUPTED
      if (t.cancelRequested) this.board.finishTask(t.id, 'failed', { error: 'interrupted, and cancelled before a retry' })
      else if (t.attempt <= retries) this.board.requeue(t.id)
      else this.board.finishTask(t.id, 'failed', { error: `interrupted ${t.attempt} time${t.attempt === 1 ? '' : 's'} (the desktop stopped while it ran); not retried again` })
      return
    }
    if (t.status === 'queued' && t.cancelRequested) this.board.finishTask(t.id, 'cancelled')
  }

  #launch (t: Task): void {
    // Claim and register in one synchronous step: no other pass can see it claimed but not ours.
    this.board.claimTask(t.id)
    const controller = new AbortController()
    const run: Run = { controller, done: Promise.resolve() }
    this.#runs.set(t.id, run)
    run.done = this.#execute(t.id, controller).finally(() => {
      this.#runs.delete(t.id)
      this.#schedule()
    })
  }

  async #execute (id: string, controller: AbortController): Promise<void> {
    const board = this.board
    const signal = controller.signal
    let heartbeat: NodeJS.Timeout | undefined
    let awake = false
    const write = (fn: () => void) => {
      try { fn() } catch (err) { this.#log(`task ${id}: ${(err as Error).message}`) }
    }
    const log = (kind: LogKind, text: string) => { if (!signal.aborted || kind === 'status') write(() => board.appendLog(id, kind, text)) }
    this.#emitSafely('task-start', id)
    let final = 'failed'
    try {
      board.startTask(id)
      const task = board.get(id)!
      if (task.malformed !== undefined) {
        board.finishTask(id, 'failed', { error: task.malformed })
        return
      }
      heartbeat = setInterval(() => write(() => board.heartbeat(id)), this.#opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS)
      this.#awake.acquire()
      awake = true
      const outcome = await this.#runExecutor(task, signal, log)
      const after = board.get(id)
      if (after === undefined || isFinal(after.status)) return
      if (this.#stopping && signal.aborted) {
        write(() => board.markInterrupted(id))
        final = 'interrupted'
        return
      }
      if (signal.aborted || after.cancelRequested) {
        board.finishTask(id, 'cancelled', { result: 'cancelled' })
        final = 'cancelled'
        return
      }
      final = outcome.result.status
      const out = { ...outcome.result, outputs: outcome.outputs }
      if (out.status === 'done') board.finishTask(id, 'done', { result: out.result ?? 'done', outputs: out.outputs })
      else board.finishTask(id, 'failed', withDefined({ error: out.error ?? 'failed', result: out.result, outputs: out.outputs }))
    } catch (err) {
      write(() => board.finishTask(id, 'failed', { error: `internal error: ${(err as Error).message}` }))
    } finally {
      if (heartbeat !== undefined) clearInterval(heartbeat)
      if (awake) this.#awake.release()
      this.#emitSafely('task-end', id, board.get(id)?.status ?? final)
    }
  }

  async #runExecutor (task: Task, signal: AbortSignal, log: (kind: LogKind, text: string) => void): Promise<{ result: ExecutionResult, outputs: import('../tasks/task-rules.ts').TaskOutput[] }> {
    const failed = (error: string) => ({ result: { status: 'failed' as const, error }, outputs: [] })
    const executor = routeTask(task.text, this.#opts.executor ?? 'auto', this.#executors)
    if ('refused' in executor) return failed(executor.refused)
    let permissions: Permissions
    try {
      permissions = await Permissions.forTask(this.#opts.grants, task.scope)
    } catch (err) {
      return failed((err as Error).message)
    }
    const roots = this.#opts.grants.readWrite.length > 0 || task.scope !== undefined ? (task.scope !== undefined ? [task.scope] : this.#opts.grants.readWrite) : []
    const before = await snapshotFolders(roots)
    log('status', `running with ${executor.name}`)
    const running = executor.run({ taskId: task.id, text: task.text, permissions, signal, log, audit: this.#audit! })
      .catch((err: unknown): ExecutionResult => ({ status: 'failed', error: (err as Error).message }))
    // A cancel must end the task within 2 s even if an executor is slow to notice.
    const result = await Promise.race([running, abortedAfterGrace(signal)])
    const outputs = await changedFiles(before, await snapshotFolders(roots))
    return { result, outputs }
  }

  #emitSafely<N extends keyof AgentEvents & string> (name: N, ...args: Parameters<AgentEvents[N]>): void {
    for (const f of [...(this._observers.get(name) ?? [])]) {
      try { f(...args) } catch (err) { this.#log(`a ${name} listener failed: ${(err as Error).message}`) }
    }
  }
}

function abortedAfterGrace (signal: AbortSignal): Promise<ExecutionResult> {
  return new Promise((resolve) => {
    const fire = () => {
      const t = setTimeout(() => resolve({ status: 'failed', error: 'cancelled' }), CANCEL_GRACE_MS)
      t.unref()
    }
    if (signal.aborted) fire()
    else signal.addEventListener('abort', fire, { once: true })
  })
}

function withDefined<T extends Record<string, unknown>> (o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
