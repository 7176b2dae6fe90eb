// The task id of a schedule's occurrence: the slot's time, then 80 bits of
// sha256(scheduleId, slot). Derived, never drawn, so a desktop that restarts (or is killed)
// between creating an occurrence and recording it finds the same task instead of a second one,
// and ids still sort by time like every other task's.

import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { taskIdFrom } from '../tasks/task-id.ts'

export function occurrenceId (scheduleId: string, slot: number): string {
  return taskIdFrom(slot, sha256(utf8ToBytes(`dispatch-occurrence\0${scheduleId}\0${slot}`)))
}
