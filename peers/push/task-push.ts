// Web Push from the desktop itself (no server of ours): when a task this desktop runs for a
// phone finishes, fails, or starts waiting for an answer, the phone's push service gets an
// encrypted message naming the task, and its service worker shows it, even on a locked phone.

import type { TaskBoard, Task } from '../tasks/task-board.ts'
import { isFinal, isWaiting } from '../tasks/task-rules.ts'
import { sendPush, PushRejectedError } from './push-sender.ts'
import type { PushSubscriptions } from './push-subscriptions.ts'
import type { VapidKeys } from './vapid-keys.ts'

/** What the service worker receives (JSON): enough to show the notice and open the task. */
export interface PushPayload {
  taskId: string
  status: string
  title: string
  body: string
}

export interface TaskPushOptions {
  board: TaskBoard
  /** This desktop: only its tasks are announced. */
  deviceId: string
  vapid: VapidKeys
  subscriptions: PushSubscriptions
  log: (line: string) => void
  subject?: string
}

/** What a task's status is worth a push for, or undefined. */
export function pushPayload (task: Task): PushPayload | undefined {
  const text = task.text.length > 60 ? `${task.text.slice(0, 59)}…` : task.text
  if (isFinal(task.status)) {
    return { taskId: task.id, status: task.status, title: `Task ${task.status}: ${text}`, body: (task.error ?? task.result ?? '').slice(0, 200) }
  }
  if (isWaiting(task.status) && task.pending != null) {
    const p = task.pending
    return { taskId: task.id, status: task.status, title: p.kind === 'approval' ? `Approval needed: ${text}` : `A question: ${text}`, body: (p.kind === 'approval' ? p.summary : p.question).slice(0, 200) }
  }
  return undefined
}

export class TaskPush {
  readonly #opts: TaskPushOptions
  /** `<task id> <status>` already announced (or already so when this desktop started). */
  readonly #announced = new Set<string>()
  #sending: Promise<void> = Promise.resolve()
  readonly #onChange = (): void => { this.#look() }

  constructor (opts: TaskPushOptions) {
    this.#opts = opts
    for (const t of this.#mine()) this.#announced.add(key(t))
    opts.board.on('tasks-change', this.#onChange)
  }

  /** Resolves when the pushes started so far are sent (or failed). */
  async settled (): Promise<void> {
    await this.#sending
  }

  stop (): void {
    this.#opts.board.off('tasks-change', this.#onChange)
  }

  #mine (): Task[] {
    return this.#opts.board.list().filter(t => t.target === this.#opts.deviceId)
  }

  #look (): void {
    for (const task of this.#mine()) {
      if (this.#announced.has(key(task))) continue
      const payload = pushPayload(task)
      if (payload === undefined) continue
      this.#announced.add(key(task))
      const phone = task.createdBy
      if (this.#opts.subscriptions.get(phone) === undefined) continue
      // One at a time, in order: a finish never overtakes the question before it.
      this.#sending = this.#sending.then(() => this.#send(phone, payload))
    }
  }

  async #send (phone: string, payload: PushPayload): Promise<void> {
    const sub = this.#opts.subscriptions.get(phone)
    if (sub === undefined) return
    try {
      await sendPush(sub, JSON.stringify(payload), this.#opts.vapid, this.#opts.subject !== undefined ? { subject: this.#opts.subject } : {})
    } catch (err) {
      if (err instanceof PushRejectedError && err.gone) {
        this.#opts.log(`push to ${phone}: its subscription is gone (the page subscribes again when it next connects)`)
        // Not saved: it is dropped in memory, and the push service refuses it again next time anyway.
        await this.#opts.subscriptions.delete(phone).catch(() => {})
        return
      }
      this.#opts.log(`push to ${phone} for task ${payload.taskId} not sent: ${(err as Error).message}`)
    }
  }
}

function key (t: Task): string {
  return `${t.id} ${t.status}`
}
