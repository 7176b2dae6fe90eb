// The desktop agent: watches a space's tasks, claims the ones addressed to this desktop, runs
// up to N at once inside the granted permissions, and writes progress and results back.
//
// One rule carries the crash story: a task addressed to this desktop that is `claimed` or
// `running` but not running in this process was left by a previous run (or a kill -9), so it
// becomes `interrupted`, and is queued again while attempts remain (then failed). Claiming
// and registering a run happen in the same synchronous step, so a task never runs twice here,
// and only the target desktop ever claims, so it never runs on two desktops.
//
// A run may pause on the phone (awaiting-approval / awaiting-answer): it then holds no slot of
// the concurrency, and it is not interrupted when the desktop stops. A waiting task found
// without a run (a restart, a kill -9) is resumed from its saved conversation, still waiting on
// the same request; an answer that arrived meanwhile takes effect at once.
//
// Tasks that share a folder run one after another (a per-folder queue): a task's outputs are
// the files that changed in its folder while it ran, so two tasks at once in one folder would
// each list the other's files. Tasks in separate folders still run side by side. A task paused
// on the phone steps aside: others in its folder run meanwhile, it continues once the folder is
// free again, and what changed while it waited is not counted as its output.

import type * as Y from 'yjs'
import { ObservableV2 } from 'lib0/observable'
import { TaskBoard } from '../tasks/task-board.ts'
import type { Task } from '../tasks/task-board.ts'
import { isFinal, isWaiting } from '../tasks/task-rules.ts'
import type { Answer, LogKind, PendingRequest } from '../tasks/task-rules.ts'
import { Permissions } from './permissions.ts'
import type { Grants } from './permissions.ts'
import { AuditLog, readAudit } from './audit-log.ts'
import type { AuditRecord } from './audit-log.ts'
import { RunRecords } from './run-records.ts'
import { probeNoNetwork } from './sandbox.ts'
import { writeBashHook } from './bash-hook.ts'
import type { NoNetwork } from './sandbox.ts'
import { KeepAwake } from './keep-awake.ts'
import { ShellExecutor } from './shell-executor.ts'
import { ClaudeExecutor } from './claude-executor.ts'
import { routeTask } from './executor.ts'
import type { AskRequest, Executor, ExecutorMode, ExecutionResult, PlacedAttachment } from './executor.ts'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type { BlobStore } from '../../core/index.ts'
import { ConversationStore } from './conversation-store.ts'
import { changedFiles, snapshotFolders } from './outputs.ts'
import type { FolderSnapshot } from './outputs.ts'

export const DEFAULT_CONCURRENCY = 2
export const DEFAULT_HEARTBEAT_MS = 5_000
export const DEFAULT_RETRY_INTERRUPTED = 1
/** After a cancel, how long an executor gets to wind down before the task is reported cancelled anyway. */
export const CANCEL_GRACE_MS = 1_500
/** How long a request waits for the phone before it counts as denied. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 60 * 60 * 1000
/** Who `by` names when nobody answered in time. */
export const TIMEOUT_ANSWERER = 'timeout'

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
  /** How long an approval or question waits for the phone (default 24 h); then it is a deny. 0: never ask, refuse. */
  approvalTimeoutMs?: number
  /** Where attachments come from: this desktop's blob store, and how to fetch a blob from a member into it. */
  blobs?: { store: BlobStore, fetch: (peerId: string, sha256: string) => Promise<void> }
}

/** The folder, inside the task's working folder, where a task's attachments are written. */
export const ATTACHMENTS_DIR = 'dispatch-attachments'
/** After a failed fetch of a task's attachments, wait this long before trying again. */
const ATTACHMENT_RETRY_MS = 2_000

export type AgentEvents = {
  'task-start': (taskId: string) => void
  'task-end': (taskId: string, status: string) => void
}

interface Run {
  controller: AbortController
  done: Promise<void>
  /** Paused on the phone: holds no concurrency slot and not its folder. */
  waiting: boolean
  /** The folders whose changes are this task's outputs (resolved). */
  folders: string[]
  /** Answered, waiting for its folder to be free to continue: called when it is. */
  returning?: (() => void) | undefined
  /** Snapshots of its folders: at the start, then at each pause and each return; the end closes the last span. */
  marks: FolderSnapshot[]
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
  #conversations: ConversationStore
  #runRecords: RunRecords
  #noNetwork: NoNetwork | undefined
  /** Requests the audit log shows asked and never answered, by task, as found at start. */
  #unanswered = new Map<string, PendingRequest>()
  #bashEnv: ((taskId: string, network: boolean) => Record<string, string>) | undefined
  /** Tasks whose attachments are being fetched (or wait for a retry): not launched until they are here. */
  #fetching = new Set<string>()
  #awake: KeepAwake
  #log: (m: string) => void
  #started = false
  /** Set once start() has opened the audit log and ended survivors: nothing runs before that. */
  #serving = false
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
    this.#conversations = new ConversationStore(opts.home)
    this.#runRecords = new RunRecords(opts.home)
  }

  /** How commands without the network grant are cut from it here (known once started). */
  get noNetwork (): NoNetwork | undefined {
    return this.#noNetwork
  }

  /**
   * Opens the audit log, ends the commands a previous process left running (a kill -9 leaves
   * them), then turns that process's tasks into interrupted ones, and starts serving.
   */
  async start (): Promise<void> {
    if (this.#started) return
    this.#started = true
    this.#audit = await AuditLog.open(this.#opts.home)
    this.#unanswered = unansweredRequests(await readAudit(this.#opts.home))
    this.#noNetwork = await probeNoNetwork()
    this.#bashEnv = await writeBashHook(this.#opts.home, this.#noNetwork)
    // Before the first pass: a retry must never run beside the attempt it replaces.
    await this.#runRecords.endSurvivors(this.#log)
    this.#serving = true
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

  /** Look at the board again (a held task was released); before start() is done, start's own first look covers it. */
  poke (): void {
    this.#schedule()
  }

  /** Ids of the tasks running in this process. */
  running (): string[] {
    return [...this.#runs.keys()]
  }

  #schedule (): void {
    // Before start() is done (a scheduler releasing a catch-up occurrence at start-up), nothing
    // may run yet: start's own first pass takes the task then.
    if (this.#scheduled || this.#stopping || !this.#serving) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      this.#tick()
    })
  }

  /** One pass over this desktop's tasks: recover, cancel, claim. Never throws. */
  #tick (): void {
    if (this.#stopping) return
    this.#handTurns()
    const mine = this.board.list().filter((t) => t.target === this.deviceId)
    for (const t of mine) {
      try {
        this.#settle(t)
      } catch (err) {
        this.#log(`task ${t.id}: ${(err as Error).message}`)
      }
    }
    for (const t of this.board.list()) {
      if (this.#busy() >= this.concurrency) break
      if (t.target !== this.deviceId || t.status !== 'queued' || t.cancelRequested || this.#runs.has(t.id)) continue
      if (this.#opts.held?.(t.id) === true) continue
      if (!this.#folderFree(t)) continue
      if ((t.attachments ?? []).length > 0 && this.#fetching.has(t.id)) continue
      if ((t.attachments ?? []).length > 0 && t.attempt === 0 && !this.#attachmentsHere.has(t.id)) { this.#fetchAttachments(t); continue }
      try {
        this.#launch(t)
      } catch (err) {
        this.#log(`task ${t.id}: cannot claim: ${(err as Error).message}`)
      }
    }
  }

  /** Tasks whose attachments are all in the blob store (checked once fetched). */
  #attachmentsHere = new Set<string>()

  /**
   * Fetches a queued task's attachments from its creator into the blob store; the task is
   * claimed only once they are all here (so a claim tells the phone they arrived). A failure
   * (the phone is unreachable) is retried a little later, for as long as the task is queued.
   */
  #fetchAttachments (t: Task): void {
    const blobs = this.#opts.blobs
    if (blobs === undefined) { this.#attachmentsHere.add(t.id); this.#schedule(); return }
    this.#fetching.add(t.id)
    void (async () => {
      for (const a of t.attachments ?? []) {
        if (await blobs.store.size(a.sha256) === undefined) await blobs.fetch(t.createdBy, a.sha256)
      }
    })().then(() => {
      this.#attachmentsHere.add(t.id)
      this.#fetching.delete(t.id)
      this.#schedule()
    }, (err: Error) => {
      this.#log(`task ${t.id}: attachments not fetched yet (${err.message}); trying again`)
      const timer = setTimeout(() => { this.#fetching.delete(t.id); this.#schedule() }, ATTACHMENT_RETRY_MS)
      timer.unref()
    })
  }

  /** Writes the task's attachments into `<workdir>/dispatch-attachments/<task id>/`, checked against the grants. */
  async #placeAttachments (task: Task, permissions: Permissions): Promise<PlacedAttachment[]> {
    const files = task.attachments ?? []
    if (files.length === 0) return []
    const store = this.#opts.blobs?.store
    if (store === undefined) throw new Error('this desktop keeps no blob store; attachments cannot be placed')
    const dir = path.join(permissions.workdir(), ATTACHMENTS_DIR, task.id)
    await permissions.check(path.join(dir, files[0]!.name), 'write')
    await fs.mkdir(dir, { recursive: true })
    const out: PlacedAttachment[] = []
    for (const a of files) {
      const bytes = await store.read(a.sha256, 0, a.size)
      const file = path.join(dir, a.name)
      await fs.writeFile(file, bytes)
      out.push({ name: a.name, type: a.type, size: a.size, path: file })
    }
    return out
  }

  /**
   * Outputs not inlined in the document (too big, or binary) go into the blob store, where the
   * phone fetches them on demand (`dispatch show --save`). One that changed again since it was
   * hashed, or is over the cap, is left out (the phone is told it cannot be fetched).
   */
  async #keepOutputs (id: string, outputs: import('../tasks/task-rules.ts').TaskOutput[]): Promise<void> {
    const store = this.#opts.blobs?.store
    if (store === undefined) return
    for (const o of outputs) {
      if (o.text !== undefined || await store.size(o.sha256) !== undefined) continue
      try {
        const bytes = await fs.readFile(o.path)
        if (await store.put(bytes) !== o.sha256) this.#log(`task ${id}: ${o.path} changed after the task; not kept for the phone`)
      } catch (err) {
        this.#log(`task ${id}: ${o.path} not kept for the phone: ${(err as Error).message}`)
      }
    }
  }

  /** The folders a task's outputs are looked for in: its `--in` folder, else every read-write grant. */
  #foldersOf (t: Task): string[] {
    return (t.scope !== undefined ? [t.scope] : this.#opts.grants.readWrite).map(f => path.resolve(f))
  }

  /** No run in this process, other than one paused on the phone, works in (or above, or below) one of the task's folders. */
  #folderFree (t: Task): boolean {
    const mine = this.#foldersOf(t)
    for (const run of this.#runs.values()) if (!run.waiting && sharesFolder(run.folders, mine)) return false
    return true
  }

  /**
   * Answered runs continue once no running task shares their folder; one at a time per folder
   * (the first to get its turn is running when the next is looked at). Synchronous.
   */
  #handTurns (): void {
    for (const run of this.#runs.values()) {
      if (run.returning === undefined) continue
      const blocked = [...this.#runs.values()].some(r => r !== run && !r.waiting && r.returning === undefined && sharesFolder(r.folders, run.folders))
      if (blocked) continue
      const go = run.returning
      run.returning = undefined
      go()
    }
  }

  /** Runs holding a slot (not paused on the phone). */
  #busy (): number {
    let n = 0
    for (const r of this.#runs.values()) if (!r.waiting) n++
    return n
  }

  /** Everything about one task short of launching it. */
  #settle (t: Task): void {
    const run = this.#runs.get(t.id)
    if (run !== undefined) {
      if (t.cancelRequested && !run.controller.signal.aborted) run.controller.abort(new Error('cancelled from the phone'))
      return
    }
    if (isWaiting(t.status)) {
      if (t.cancelRequested) this.board.finishTask(t.id, 'cancelled', { result: 'cancelled' })
      else this.#launch(t, true)
      return
    }
    const asked = this.#unanswered.get(t.id)
    this.#unanswered.delete(t.id)
    if (t.status === 'running' && asked !== undefined && !t.cancelRequested) {
      // Killed after the request was logged and sent, before the waiting state reached this
      // desktop's disk (the phone may already show it): wait on the same request again.
      let restored = true
      // A logged request the board refuses (clipped, or from an older version) is not waited on: the task is retried instead.
      try { this.board.awaitRequest(t.id, asked) } catch { restored = false }
      if (restored) { this.#launch(this.board.get(t.id)!, true); return }
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

  /** `resume`: a task left waiting on the phone by an earlier process, continued from its saved conversation. */
  #launch (t: Task, resume = false): void {
    // Claim and register in one synchronous step: no other pass can see it claimed but not ours.
    if (!resume) this.board.claimTask(t.id)
    const controller = new AbortController()
    const run: Run = { controller, done: Promise.resolve(), waiting: resume, folders: this.#foldersOf(t), marks: [] }
    this.#runs.set(t.id, run)
    run.done = this.#execute(t.id, controller, run, resume).finally(() => {
      this.#runs.delete(t.id)
      this.#schedule()
    })
  }

  async #execute (id: string, controller: AbortController, run: Run, resume: boolean): Promise<void> {
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
      if (!resume) board.startTask(id)
      const task = board.get(id)!
      if (task.malformed !== undefined) {
        board.finishTask(id, 'failed', { error: task.malformed })
        return
      }
      heartbeat = setInterval(() => write(() => board.heartbeat(id)), this.#opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS)
      this.#awake.acquire()
      awake = true
      const outcome = await this.#runExecutor(task, signal, log, run, resume)
      const after = board.get(id)
      if (after === undefined || isFinal(after.status)) return
      // Stopped while the phone is asked: it stays waiting, and the next start resumes it.
      if (this.#stopping && signal.aborted && isWaiting(after.status)) { final = after.status; return }
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

  async #runExecutor (task: Task, signal: AbortSignal, log: (kind: LogKind, text: string) => void, run: Run, resume: boolean): Promise<{ result: ExecutionResult, outputs: import('../tasks/task-rules.ts').TaskOutput[] }> {
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
    let attachments: PlacedAttachment[] = []
    try {
      // Before the snapshot: attachments are inputs, not outputs.
      if (!resume) attachments = await this.#placeAttachments(task, permissions)
      else attachments = (task.attachments ?? []).map(a => ({ name: a.name, type: a.type, size: a.size, path: path.join(permissions.workdir(), ATTACHMENTS_DIR, task.id, a.name) }))
    } catch (err) {
      return failed(`attachments: ${(err as Error).message}`)
    }
    // A retry after an interruption is told what the interrupted attempts already did.
    const interruptedCalls = !resume && task.attempt > 1 ? await this.#callsOf(task.id) : []
    run.marks = [await snapshotFolders(roots)]
    log('status', resume ? `resumed with ${executor.name}, still waiting on the phone` : `running with ${executor.name}`)
    // A timeout of 0: the phone is never asked, calls outside the grants are refused outright.
    const ask = this.#opts.approvalTimeoutMs === 0 ? undefined : (request: AskRequest): Promise<Answer> => this.#ask(task.id, request, run, signal)
    // Stopped or cancelled while it was being prepared (attachments, the folder snapshot): the
    // command never starts, so nothing can outlive the stop or run beside the retry.
    const running = signal.aborted ? Promise.resolve<ExecutionResult>({ status: 'failed', error: 'stopped before it started' }) : executor.run({
      taskId: task.id,
      text: task.text,
      permissions,
      signal,
      log,
      audit: this.#audit!,
      ...(ask !== undefined ? { ask } : {}),
      conversations: this.#conversations,
      ...(resume ? { resume: true } : {}),
      ...(task.parent !== undefined ? { parent: task.parent } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
      ...(interruptedCalls.length > 0 ? { interruptedCalls } : {}),
      runs: this.#runRecords,
      ...(this.#noNetwork !== undefined ? { noNetwork: this.#noNetwork } : {}),
      ...(this.#bashEnv !== undefined ? { bashEnv: this.#bashEnv(task.id, permissions.network) } : {})
    })
      .catch((err: unknown): ExecutionResult => ({ status: 'failed', error: (err as Error).message }))
    // A cancel must end the task within 2 s even if an executor is slow to notice.
    const result = await Promise.race([running, abortedAfterGrace(signal)])
    // Claude's bash shells were killed when the run closed its tools: their records go too. A record
    // that cannot be removed is harmless: the next start finds its group gone and drops it.
    await this.#runRecords.removeEnded(task.id).catch(() => {})
    run.marks.push(await snapshotFolders(roots))
    const outputs = await changedFiles(run.marks)
    await this.#keepOutputs(task.id, outputs)
    return { result, outputs }
  }

  /** The tool calls of `id` in the audit log (what was run or refused; not the questions to the phone). */
  async #callsOf (id: string): Promise<AuditRecord[]> {
    return (await readAudit(this.#opts.home)).filter((e) => e.taskId === id && e.decision !== 'asked')
  }

  /**
   * Puts a request to the phone and waits for its answer (or the timeout: a deny). Idempotent
   * on the request id: a resumed run asking the same call again finds it pending, or answered.
   */
  async #ask (id: string, request: AskRequest, run: Run, signal: AbortSignal): Promise<Answer> {
    const board = this.board
    const audit = this.#audit!
    const tool = request.kind === 'approval' ? request.tool : 'ask_user'
    let task = board.get(id)
    if (task === undefined) throw new Error('the task is gone')
    let pending = task.pending
    if (!isWaiting(task.status) || pending == null || pending.id !== request.id) {
      const now = Date.now()
      const timeout = this.#opts.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS
      pending = { ...request, askedAt: now, expiresAt: now + timeout } as PendingRequest
      // The whole request as the phone sees it: a restart before the waiting state is on disk puts it back from here.
      await audit.append({ taskId: id, tool, input: pending, decision: 'asked', reason: request.kind === 'approval' ? request.reason : 'a question for the user', requestId: request.id })
      board.awaitRequest(id, pending)
    }
    // Step aside: others may use the folder meanwhile; their changes are not this task's.
    run.marks.push(await snapshotFolders(run.folders))
    run.waiting = true
    this.#schedule()
    let answer: Answer
    try {
      answer = await this.#answerOf(id, pending, signal)
    } finally {
      run.waiting = false
    }
    await this.#turn(run, signal)
    run.marks.push(await snapshotFolders(run.folders))
    const who = answer.by === TIMEOUT_ANSWERER ? 'nobody answered in time' : `${this.board.members.get(answer.by)?.name ?? answer.by}`
    const granted = answer.decision === 'allow-once' || answer.decision === 'allow-task'
    await audit.append({
      taskId: id,
      tool,
      input: request,
      decision: answer.decision === 'reply' || granted ? 'allowed' : 'denied',
      reason: answer.decision === 'reply' ? `answered by ${who}` : granted ? `approved ${answer.decision === 'allow-task' ? 'for this task' : 'once'} by ${who}` : `denied: ${who}${answer.text !== undefined ? ` (${answer.text})` : ''}`,
      requestId: request.id,
      by: answer.by
    })
    task = board.get(id)
    if (task !== undefined && isWaiting(task.status)) {
      board.resumeTask(id, answer.decision === 'reply' ? `answered by ${who}` : granted ? `approved (${answer.decision === 'allow-task' ? 'for this task' : 'once'}) by ${who}` : `denied (${who})`)
    }
    return answer
  }

  /** Resolves once no running task shares the run's folder (it then holds it again); rejects on abort. */
  #turn (run: Run, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { run.returning = undefined; reject(signal.reason ?? new Error('aborted')) }
      run.returning = () => { signal.removeEventListener('abort', onAbort); resolve() }
      signal.addEventListener('abort', onAbort, { once: true })
      if (signal.aborted) onAbort()
      else this.#handTurns()
    })
  }

  /** The answer to `pending` once it is in the document, a deny at its expiry; rejects on abort. */
  #answerOf (id: string, pending: PendingRequest, signal: AbortSignal): Promise<Answer> {
    const board = this.board
    return new Promise<Answer>((resolve, reject) => {
      const check = (): void => {
        const a = board.get(id)?.answers?.[pending.id]
        if (a !== undefined) finish(() => resolve(a))
      }
      const onAbort = (): void => finish(() => reject(signal.reason ?? new Error('aborted')))
      const expire = (): void => finish(() => resolve({ decision: 'deny', text: `no answer within ${formatMs(pending.expiresAt - pending.askedAt)}`, by: TIMEOUT_ANSWERER, at: Date.now() }))
      const finish = (fn: () => void): void => {
        clearTimeout(timer)
        board.off('tasks-change', check)
        signal.removeEventListener('abort', onAbort)
        fn()
      }
      // setTimeout holds at most ~24.8 days; a longer timeout re-arms at that point.
      const arm = (): NodeJS.Timeout => setTimeout(() => { if (Date.now() >= pending.expiresAt) expire(); else timer = arm() }, Math.min(2 ** 31 - 1, Math.max(0, pending.expiresAt - Date.now())))
      let timer = arm()
      board.on('tasks-change', check)
      signal.addEventListener('abort', onAbort, { once: true })
      if (signal.aborted) onAbort()
      else check()
    })
  }

  #emitSafely<N extends keyof AgentEvents & string> (name: N, ...args: Parameters<AgentEvents[N]>): void {
    for (const f of [...(this._observers.get(name) ?? [])]) {
      try { f(...args) } catch (err) { this.#log(`a ${name} listener failed: ${(err as Error).message}`) }
    }
  }
}

/** Whether two sets of folders overlap: one is, or is inside, the other. */
function sharesFolder (a: string[], b: string[]): boolean {
  const inside = (x: string, y: string): boolean => x === y || x.startsWith(y.endsWith(path.sep) ? y : y + path.sep)
  return a.some(x => b.some(y => inside(x, y) || inside(y, x)))
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

function formatMs (ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0) return `${ms / 60_000} min`
  return `${Math.round(ms / 1000)} s`
}

function withDefined<T extends Record<string, unknown>> (o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}

/** The requests each task asked and got no answer to, from the audit log (its last 'asked' entry wins). */
function unansweredRequests (records: AuditRecord[]): Map<string, PendingRequest> {
  const open = new Map<string, PendingRequest>()
  for (const r of records) {
    if (r.decision === 'asked' && r.requestId !== undefined) open.set(r.taskId, r.input as PendingRequest)
    else if (r.requestId !== undefined && (open.get(r.taskId) as PendingRequest | undefined)?.id === r.requestId) open.delete(r.taskId)
  }
  return open
}
