// Named errors of the task board, matched by name by the CLI and the agent.

/** A status change the forward-only machine does not allow (e.g. done -> running). */
export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError'
  readonly taskId: string
  readonly from: string
  readonly to: string
  constructor (taskId: string, from: string, to: string) {
    super(`task ${taskId}: status cannot go from ${from} to ${to}`)
    this.taskId = taskId
    this.from = from
    this.to = to
  }
}

/** A write to a field this device is not the writer of (only the creator writes creator fields, only the target desktop writes status fields). */
export class WrongWriterError extends Error {
  override name = 'WrongWriterError'
  readonly taskId: string
  readonly field: string
  constructor (taskId: string, field: string, reason: string) {
    super(`task ${taskId}: ${field} may not be written by this device (${reason})`)
    this.taskId = taskId
    this.field = field
  }
}

export class TaskNotFoundError extends Error {
  override name = 'TaskNotFoundError'
  constructor (taskId: string) {
    super(`no task ${taskId}`)
  }
}

/** A value that does not fit a field (wrong type, too long, a scope that widens instead of narrowing). */
export class InvalidTaskFieldError extends Error {
  override name = 'InvalidTaskFieldError'
  readonly field: string
  constructor (field: string, reason: string) {
    super(`${field}: ${reason}`)
    this.field = field
  }
}

/** addTask to a device that is not a paired, unrevoked desktop of the space; the message says which it is. */
export class UnknownTargetError extends Error {
  override name = 'UnknownTargetError'
  readonly target: string
  constructor (target: string, message = `no paired desktop ${target} in this space`) {
    super(message)
    this.target = target
  }
}

/** An approve, deny or reply for a task that is not waiting on such a request. */
export class NothingPendingError extends Error {
  override name = 'NothingPendingError'
  readonly taskId: string
  constructor (taskId: string, status: string, why?: string) {
    super(`task ${taskId} is ${status}${why !== undefined ? `: ${why}` : ': nothing is waiting for an answer'}`)
    this.taskId = taskId
  }
}
