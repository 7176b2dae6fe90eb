// What every use case works with: the device, its one task board, the archive follower, and
// automatic retention. Finished tasks that another member prunes (a replicated delete) are
// archived here too, from the last view this device had of them.

import type { Member } from '../../core/index.ts'
import { TaskBoard } from '../tasks/task-board.ts'
import { ScheduleBoard } from '../schedules/schedule-board.ts'
import type { RuleViolation } from '../tasks/task-board.ts'
import { RECEIPT_DOMAIN } from '../tasks/receipt.ts'
import { verifyRecord } from '../../core/trust/statement.ts'
import type { Task } from '../tasks/task-board.ts'
import { isFinal } from '../tasks/task-rules.ts'
import { tasksToRetire } from '../tasks/retention.ts'
import type { ArchivedTask, DeviceRuntime } from './ports.ts'
import type { TrustRefusal } from '../../core/index.ts'
import { refusalLine } from './refusals.ts'
import type { Refusal } from './refusals.ts'

/** No device by that name or peer id prefix. */
export class UnknownDeviceError extends Error {
  name = 'UnknownDeviceError'
}

/** A name or prefix that fits several devices. */
export class AmbiguousDeviceError extends Error {
  name = 'AmbiguousDeviceError'
}

/** Automatic retention runs this long after a task finishes (a burst is one pass), and hourly. */
const RETENTION_DEBOUNCE_MS = 1_000
const RETENTION_PERIOD_MS = 3_600_000
/** A peer the gate keeps refusing is logged at most this often. */
const GATE_LOG_INTERVAL_MS = 60_000

export interface Retired { archived: number, removed: number, keptForCreator: number }

export class AppContext {
  readonly device: DeviceRuntime
  readonly board: TaskBoard
  readonly schedules: ScheduleBoard
  readonly #finished = new Map<string, ArchivedTask>()
  #turn: Promise<unknown> = Promise.resolve()
  #retention: ReturnType<typeof setTimeout> | undefined
  #closed = false
  readonly #refusalListeners = new Set<(refusal: Refusal) => void>()
  readonly #gateLogged = new Map<string, number>()

  constructor (device: DeviceRuntime) {
    this.device = device
    device.space.on('trust-refused', this.#onTrustRefused)
    device.space.on('update-refused', this.#onUpdateRefused)
    device.node.on('gate-refused', this.#onGateRefused)
    const space = device.space
    // Receipts need this device's key: a space opened without one (no trust gate) has none.
    const receipts = space.trust === null
      ? undefined
      : { sign: (body: string) => space.sign(RECEIPT_DOMAIN, body), verify: (peer: string, body: string, sig: string) => verifyRecord(peer, RECEIPT_DOMAIN, body, sig) }
    this.board = new TaskBoard({ doc: space.doc, deviceId: device.peerId, members: space.members, receipts, log: line => { device.report(line) } })
    this.board.on('rule-violation', this.#onRuleViolation)
    this.schedules = new ScheduleBoard({ doc: device.space.doc, deviceId: device.peerId, now: () => device.now(), log: line => { device.report(line) } })
    for (const t of this.board.list()) if (isFinal(t.status)) this.#remember(t)
    this.board.on('tasks-change', this.#onChange)
    this.board.on('tasks-change', this.#onFinished)
    this.#scheduleRetention(0)
  }

  /** Archive `tasks` and remove from the document those this device created; one call at a time. */
  retire (tasks: Task[]): Promise<Retired> {
    const run = this.#turn.then(async () => {
      const now = this.device.now()
      // Still live and finished: another turn or member may have removed some meanwhile.
      const live = tasks.filter(t => { const c = this.board.get(t.id); return c !== undefined && isFinal(c.status) })
      await this.device.archive.append(live.map(t => ({ ...t, log: this.board.log(t.id), archivedAt: now })))
      // Only the creator removes a task; the others leave when their creator's device retires them.
      const mine = live.filter(t => t.createdBy === this.device.peerId)
      for (const t of mine) this.forgetFinished(t.id)
      if (mine.length > 0 && !this.device.space.closed) this.board.removeTasks(mine.map(t => t.id))
      return { archived: live.length, removed: mine.length, keptForCreator: live.length - mine.length }
    })
    // The turn only orders calls: each caller gets its own outcome from `run`.
    this.#turn = run.catch(() => {})
    return run
  }

  /** This device archives `id` itself (prune): its delete is not archived a second time. */
  forgetFinished (id: string): void {
    this.#finished.delete(id)
  }

  /** Name of a member for messages: its recorded name, else the end of its peer id. */
  nameOf (peerId: string): string {
    return this.device.space.members.get(peerId)?.name ?? peerId.slice(-8)
  }

  /** A device by exact name (case-insensitive) or peer id prefix (4 characters or more), never this one. */
  findDevice (query: string): Member {
    const all = this.device.space.members.list().filter(m => m.peerId !== this.device.peerId)
    const byId = all.filter(m => query.length >= 4 && m.peerId.startsWith(query))
    const matches = byId.length > 0 ? byId : all.filter(m => m.name.toLowerCase() === query.toLowerCase())
    if (matches.length === 0) throw new UnknownDeviceError(`no paired device named or with a peer id starting with "${query}" (see dispatch devices)`)
    if (matches.length > 1) throw new AmbiguousDeviceError(`"${query}" matches ${matches.length} devices (${matches.map(m => m.peerId.slice(-8)).join(', ')}); give more of the peer id`)
    return matches[0]
  }

  /**
   * Something from `peer` was refused: told to the person, kept for the member's warning count,
   * and given to the listeners (`desktop --json` prints it as a `refused` event).
   */
  refuse (peer: string | undefined, reason: string, told = false): void {
    const refusal: Refusal = { at: this.device.now(), peer: peer ?? '', name: peer === undefined ? '' : this.nameOf(peer), reason }
    if (!told) this.device.report(refusalLine(refusal))
    this.device.refusals.append(refusal).catch((err: Error) => { this.device.report(`could not keep that refusal: ${err.message}`) })
    for (const listener of this.#refusalListeners) listener(refusal)
  }

  /** Listen to refusals; returns the function that stops listening. */
  onRefusal (listener: (refusal: Refusal) => void): () => void {
    this.#refusalListeners.add(listener)
    return () => { this.#refusalListeners.delete(listener) }
  }

  readonly #onTrustRefused = (r: TrustRefusal): void => {
    const about = r.peer !== undefined ? ` (about ${this.nameOf(r.peer)}${r.author !== undefined && r.author !== r.peer ? `, signed by ${this.nameOf(r.author)}` : ''})` : ''
    if (r.severity === 'note') { this.device.report(`note from ${r.from === undefined ? 'this device' : this.nameOf(r.from)}: ${r.reason}${about}`); return }
    this.refuse(r.from ?? r.author, `${r.reason}${about}`)
  }

  /** The board already told the person (its log); this keeps the count and tells the listeners. */
  readonly #onRuleViolation = (v: RuleViolation): void => {
    this.refuse(v.from, `ignored change to task ${v.taskId} (${v.field}): ${v.reason}`, true)
  }

  readonly #onUpdateRefused = (peer: string, reason: string): void => {
    this.refuse(peer, `${reason}: the whole update was refused and the session closed`)
  }

  readonly #onGateRefused = (peer: string, where: 'connection' | 'sync'): void => {
    // A peer that keeps dialling is logged once a minute, not once per attempt (the node counts them all).
    const now = this.device.now()
    if (now - (this.#gateLogged.get(peer) ?? -Infinity) < GATE_LOG_INTERVAL_MS) return
    if (this.#gateLogged.size > 1000) this.#gateLogged.clear()
    this.#gateLogged.set(peer, now)
    const revoked = this.device.space.members.isRevoked(peer)
    this.refuse(peer, `${where === 'connection' ? 'a connection' : 'a sync'} from a ${revoked ? 'revoked device' : 'peer that is not a member'}`)
  }

  close (): void {
    this.device.space.off('trust-refused', this.#onTrustRefused)
    this.device.space.off('update-refused', this.#onUpdateRefused)
    this.device.node.off('gate-refused', this.#onGateRefused)
    this.#closed = true
    if (this.#retention !== undefined) clearTimeout(this.#retention)
    this.board.off('rule-violation', this.#onRuleViolation)
    this.board.off('tasks-change', this.#onChange)
    this.board.off('tasks-change', this.#onFinished)
    this.board.destroy()
    this.schedules.destroy()
  }

  /**
   * Automatic retention (peers/tasks/retention.ts): on open, shortly after tasks finish, and
   * hourly, the tasks the policy retires are archived and this device removes those it created.
   */
  #scheduleRetention (ms: number): void {
    if (this.#closed) return
    if (this.#retention !== undefined) clearTimeout(this.#retention)
    this.#retention = setTimeout(this.#retain, ms)
    // Node: a pending pass does not keep a short-lived verb alive.
    ;(this.#retention as { unref?: () => void }).unref?.()
  }

  readonly #retain = (): void => {
    this.#retention = undefined
    if (this.#closed || this.device.space.closed) return
    const due = tasksToRetire(this.board.list(), this.device.now()).filter(t => t.createdBy === this.device.peerId)
    if (due.length > 0) {
      this.retire(due).catch((err: Error) => {
        // The tasks stay live and the next pass tries again.
        this.device.report(`could not retire ${due.length} finished task(s): ${err.message}`)
      })
    }
    this.#scheduleRetention(RETENTION_PERIOD_MS)
  }

  readonly #onFinished = (ids: string[]): void => {
    if (ids.some(id => { const t = this.board.get(id); return t !== undefined && isFinal(t.status) })) this.#scheduleRetention(RETENTION_DEBOUNCE_MS)
  }

  #remember (t: Task): void {
    this.#finished.set(t.id, { ...t, log: this.board.log(t.id), archivedAt: 0 })
  }

  readonly #onChange = (ids: string[]): void => {
    const gone: ArchivedTask[] = []
    for (const id of ids) {
      const t = this.board.get(id)
      if (t !== undefined) { if (isFinal(t.status)) this.#remember(t); continue }
      const last = this.#finished.get(id)
      if (last !== undefined) { this.#finished.delete(id); gone.push({ ...last, archivedAt: this.device.now() }) }
    }
    if (gone.length === 0) return
    // Nobody waits on this write: a failure is reported, and the tasks stay readable nowhere but in
    // the other devices' archives; nothing else of this device depends on it.
    this.device.archive.append(gone).catch((err: Error) => {
      this.device.report(`could not archive ${gone.length} task(s) another device pruned: ${err.message}`)
    })
  }
}
