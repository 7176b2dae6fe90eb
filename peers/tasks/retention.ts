// Retention: which finished tasks leave the live document (for the archive). Pure: given the
// tasks and the time, the same answer on every device, so each removes its share of one set.

import { isFinal } from './task-rules.ts'
import type { Task } from './task-rules.ts'

export interface RetentionPolicy {
  /** A finished task older than this (since it finished) leaves the document. */
  maxAgeMs: number
  /** At most this many finished tasks stay; the longest finished leave first. */
  maxFinished: number
}

export const DEFAULT_RETENTION: RetentionPolicy = { maxAgeMs: 30 * 24 * 3_600_000, maxFinished: 500 }

/** When a finished task counts as finished (a task from before `finishedAt` existed: its creation). */
export function finishedTime (task: Task): number {
  return task.finishedAt ?? task.createdAt
}

/**
 * The finished tasks to retire at `now`: every one finished longer ago than `maxAgeMs`, and of
 * the rest the oldest beyond `maxFinished`. Oldest first. Unfinished tasks always stay.
 */
export function tasksToRetire (tasks: readonly Task[], now: number, policy: RetentionPolicy = DEFAULT_RETENTION): Task[] {
  if (!(policy.maxAgeMs >= 0) || !Number.isInteger(policy.maxFinished) || policy.maxFinished < 0) {
    throw new RangeError('retention: maxAgeMs must be >= 0 and maxFinished a whole number >= 0')
  }
  // Ties broken by id (ids sort by creation), so every device picks the same tasks.
  const finished = tasks.filter(t => isFinal(t.status))
    .sort((a, b) => finishedTime(a) - finishedTime(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const cutoff = now - policy.maxAgeMs
  let old = 0
  while (old < finished.length && finishedTime(finished[old]) < cutoff) old++
  const overLimit = Math.max(0, finished.length - old - policy.maxFinished)
  return finished.slice(0, old + overLimit)
}
