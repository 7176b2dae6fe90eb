// Retention policy: age and count limits, ties, unfinished tasks, bad policies.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DEFAULT_RETENTION, tasksToRetire } from './retention.ts'
import type { Task, TaskStatus } from './task-rules.ts'

const DAY = 24 * 3_600_000
const NOW = 1_800_000_000_000

function task (id: string, status: TaskStatus, finishedDaysAgo?: number): Task {
  const t: Task = { id, text: id, createdAt: NOW - 100 * DAY, createdBy: 'phone', target: 'desk', cancelRequested: false, status, attempt: 1, outputs: [] }
  if (finishedDaysAgo !== undefined) t.finishedAt = NOW - finishedDaysAgo * DAY
  return t
}

test('finished tasks older than 30 days retire; younger ones and unfinished ones stay', () => {
  const tasks = [task('a', 'done', 31), task('b', 'failed', 45), task('c', 'cancelled', 29), task('d', 'running'), task('e', 'queued'), task('f', 'interrupted')]
  assert.equal(tasksToRetire(tasks, NOW).map(t => t.id), ['b', 'a'])
})

test('beyond 500 finished tasks, the longest finished retire first', () => {
  const tasks: Task[] = []
  for (let i = 0; i < 520; i++) tasks.push(task(`t${String(i).padStart(4, '0')}`, 'done', i / 100)) // all under 6 days old
  tasks.push(task('live', 'running'))
  const retired = tasksToRetire(tasks, NOW)
  assert.is(retired.length, 20)
  assert.equal(retired.map(t => t.id), tasks.slice(500, 520).reverse().map(t => t.id))
  assert.is(tasks.length - retired.length, DEFAULT_RETENTION.maxFinished + 1)
})

test('age and count together: old ones first, then the count over what is left', () => {
  const tasks = [task('old1', 'done', 40), task('old2', 'done', 35), task('n1', 'done', 3), task('n2', 'done', 2), task('n3', 'done', 1)]
  assert.equal(tasksToRetire(tasks, NOW, { maxAgeMs: 30 * DAY, maxFinished: 2 }).map(t => t.id), ['old1', 'old2', 'n1'])
})

test('a tie in finish time is broken by id, so every device picks the same tasks', () => {
  const a = [task('x2', 'done', 1), task('x1', 'done', 1), task('x3', 'done', 1)]
  assert.equal(tasksToRetire(a, NOW, { maxAgeMs: DAY * 30, maxFinished: 1 }).map(t => t.id), ['x1', 'x2'])
  assert.equal(tasksToRetire([...a].reverse(), NOW, { maxAgeMs: DAY * 30, maxFinished: 1 }).map(t => t.id), ['x1', 'x2'])
})

test('a task finished before finishedAt existed counts from its creation', () => {
  const t = task('legacy', 'done')
  assert.equal(tasksToRetire([t], NOW).map(x => x.id), ['legacy']) // created 100 days ago
})

test('a bad policy is refused with a clear error', () => {
  assert.throws(() => tasksToRetire([], NOW, { maxAgeMs: -1, maxFinished: 5 }), /retention/)
  assert.throws(() => tasksToRetire([], NOW, { maxAgeMs: 1, maxFinished: 1.5 }), /retention/)
})

test.run()
